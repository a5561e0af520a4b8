/**
 * The {@code cuda} backend of sbora4j: our CUDA kernels ({@code libsbora_cuda.so}, carried in this module's jar) and
 * cuBLAS (found at run time), bound through the Foreign Function &amp; Memory API. Found by {@code Backends} through
 * {@link java.util.ServiceLoader}; unavailable, with the reason, where no GPU or cuBLAS is present.
 */
module io.sbora4j.cuda {
    requires io.sbora4j;

    exports io.sbora4j.cuda;

    provides io.sbora4j.backend.BackendProvider with
            io.sbora4j.cuda.CudaBackendProvider;
}
