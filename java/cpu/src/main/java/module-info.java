/**
 * The {@code cpu} backend of sbora4j: OpenBLAS and the C kernels of {@code libsbora_native.so} (carried in this
 * module's jar), bound through the Foreign Function &amp; Memory API. Found by {@code Backends} through
 * {@link java.util.ServiceLoader}; nothing here is needed at compile time by a user of the library.
 */
module io.sbora4j.cpu {
    requires io.sbora4j;

    exports io.sbora4j.cpu;

    provides io.sbora4j.backend.BackendProvider with
            io.sbora4j.cpu.CpuBackendProvider;
}
