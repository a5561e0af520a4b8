/**
 * sbora4j: SBoRA (Standard-Basis Low-Rank Adaptation) and its baselines for LLaMA-family models, on native kernels
 * bound through the Foreign Function &amp; Memory API.
 *
 * <p>Exported: the tensor and autograd layer, the ops, the backend SPI, modules, adapters, optimizers and file formats. The
 * native bindings ({@code ffi}), the backend implementations and the command line stay inside.
 */
module io.sbora4j {
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires ai.djl.tokenizers;
    requires java.desktop;
    requires org.jfree.jfreechart;

    exports io.sbora4j.tensor;
    exports io.sbora4j.autograd;
    exports io.sbora4j.ops;
    exports io.sbora4j.backend;
    exports io.sbora4j.nn;
    exports io.sbora4j.peft;
    exports io.sbora4j.quant;
    exports io.sbora4j.optim;
    exports io.sbora4j.train;
    exports io.sbora4j.io;
    exports io.sbora4j.data;

    uses io.sbora4j.tensor.DeviceMemory;
    provides io.sbora4j.tensor.DeviceMemory with io.sbora4j.backend.cuda.CudaMemory;

    opens io.sbora4j.peft to com.fasterxml.jackson.databind;
    opens io.sbora4j.cli to info.picocli;
}
