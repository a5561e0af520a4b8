/**
 * sbora4j: SBoRA (Standard-Basis Low-Rank Adaptation) and its baselines for LLaMA-family models, on native kernels
 * bound through the Foreign Function &amp; Memory API.
 *
 * <p>This module is the library without any native code or application: the tensor and autograd layer, the ops, the
 * backend API with the plain-Java reference backend, modules, adapters, quantisation, optimizers, file formats, data
 * and the trainer. The backends that compute fast are providers found at run time ({@code io.sbora4j.cpu},
 * {@code io.sbora4j.cuda}); the command line is {@code io.sbora4j.cli}.
 */
module io.sbora4j {
    requires transitive com.fasterxml.jackson.databind;

    exports io.sbora4j.tensor;
    exports io.sbora4j.autograd;
    exports io.sbora4j.ops;
    exports io.sbora4j.backend;
    exports io.sbora4j.backend.reference;
    exports io.sbora4j.backend.natives;
    exports io.sbora4j.nn;
    exports io.sbora4j.peft;
    exports io.sbora4j.serve;
    exports io.sbora4j.quant;
    exports io.sbora4j.optim;
    exports io.sbora4j.train;
    exports io.sbora4j.io;
    exports io.sbora4j.data;
    exports io.sbora4j.dist;

    uses io.sbora4j.backend.BackendProvider;

    opens io.sbora4j.peft to
            com.fasterxml.jackson.databind;
}
