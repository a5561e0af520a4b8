package io.sbora4j.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.CudaAvailability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The GPU benchmarks' setup, body and teardown on {@code device=cuda}, directly and at tiny sizes, with every
 * parameter the GPU run uses (bf16, both routes, each kernel), so that the one GPU session does not find a broken
 * benchmark. Skipped without a usable cuda backend (a GPU, or the emulated device of the build), except in the
 * build's run on the emulated device ({@link CudaAvailability}).
 */
@Tag("cuda")
class CudaBenchmarkBodiesTest {

    private MemoryScope scope;

    @BeforeEach
    void gpu() {
        CudaAvailability.assumeUsable();
        scope = MemoryScope.open(); // device tensors live in a scope (or an arena of their own)
    }

    @AfterEach
    void closeScope() {
        if (scope != null) {
            scope.close();
            scope = null;
        }
    }

    @ParameterizedTest
    @CsvSource({
        "base,bf16,fused",
        "lora,bf16,fused",
        "lora-fa,bf16,fused",
        "sbora-fa,bf16,fused",
        "sbora-fb,bf16,fused",
        "sbora-fa,bf16,unfused",
        "sbora-fb,bf16,unfused",
        "dora,f32,fused",
        "sbora-fa,f32,fused"
    })
    void adapterLayerOnCuda(String method, String dtype, String route) {
        AdapterLayerBench b = new AdapterLayerBench();
        b.method = method;
        b.d = 48;
        b.dout = 40;
        b.tokens = 24;
        b.r = 4;
        b.device = "cuda";
        b.dtype = dtype;
        b.route = route;
        b.setup();
        try {
            b.forwardBackward();
            b.adapterPathOnly();
            for (Tensor t : b.trainable()) {
                assertNotNull(t.grad(), t.name() + " received no gradient");
            }
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @CsvSource({
        "gather,bf16",
        "scatter,bf16",
        "gather-gemm,bf16",
        "gemm-scatter,bf16",
        "gather-gemm,f32",
        "gemm-scatter,f32"
    })
    void gatherScatterOnCuda(String kernel, String dtype) {
        GatherScatterBench b = new GatherScatterBench();
        b.kernel = kernel;
        b.dtype = dtype;
        b.device = "cuda";
        b.tokens = 40;
        b.d = 32;
        b.r = 4;
        b.setup();
        try {
            b.launch();
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @CsvSource({"lora,bf16", "sbora-fa,bf16", "sbora-fb,bf16", "dora,f32"})
    void mergeOnCuda(String method, String dtype) {
        MergeBench b = new MergeBench();
        b.method = method;
        b.dtype = dtype;
        b.device = "cuda";
        b.d = 40;
        b.r = 4;
        b.setup();
        try {
            b.mergeUnmerge();
        } finally {
            b.tearDown();
        }
    }
}
