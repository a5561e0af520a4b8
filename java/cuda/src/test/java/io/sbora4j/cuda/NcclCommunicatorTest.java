package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.backend.Backends;
import io.sbora4j.cuda.ffi.CudaLibraries;
import io.sbora4j.dist.Communicator;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.CudaAvailability;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The NCCL communicator: which GPU a rank drives, NCCL's absence said in one line, and (with a real GPU and NCCL) a
 * one-rank group whose all-reduce leaves a GPU tensor as it was. Several ranks need several GPUs or processes; the
 * data-parallel logic above it is tested with threads as ranks in the core module.
 */
class NcclCommunicatorTest {

    @Test
    void theDevicePropertyWinsThenTheLocalRankThenGpuZero() {
        Map<String, String> env = Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "5");
        assertEquals(2, CudaRuntime.chosenDevice(4, env::get, "2"));
        assertEquals(1, CudaRuntime.chosenDevice(4, env::get, null), "local rank 5 of a node with 4 GPUs");
        assertEquals(3, CudaRuntime.chosenDevice(4, Map.of("SLURM_LOCALID", "3")::get, " "));
        assertEquals(0, CudaRuntime.chosenDevice(4, Map.<String, String>of()::get, null));
        assertEquals(0, CudaRuntime.chosenDevice(4, Map.of("LOCAL_RANK", "x")::get, null), "not a number: ignored");
        var e = assertThrows(IllegalArgumentException.class, () -> CudaRuntime.chosenDevice(2, env::get, "2"));
        assertTrue(e.getMessage().contains("2 GPU(s)"), e.getMessage());
    }

    @Test
    void withoutNcclTheVersionSaysWhereItWasLookedFor() {
        assumeTrue(!CudaLibraries.ncclStatus().isLoaded(), "NCCL is installed here");
        String v = NcclCommunicator.version();
        assertTrue(v.startsWith("unavailable: ") && v.contains("NCCL") && !v.contains("\n"), v);
    }

    @Test
    @Tag("cuda")
    void oneRankAllReduceLeavesAGpuTensorAsItWas() {
        CudaAvailability.assumeUsable();
        assumeTrue(System.getProperty(CudaLibraries.CUDA_LIBRARY_PROPERTY) == null, "NCCL needs a real GPU");
        assumeTrue(
                CudaLibraries.ncclStatus().isLoaded(),
                () -> CudaLibraries.ncclStatus().describe());
        Device gpu = Backends.device("cuda");
        float[] v = {1f, -2.5f, 3e-7f, 1e30f, 0f};
        try (NcclCommunicator c = NcclCommunicator.over(Communicator.single())) {
            Tensor t = Tensor.of(gpu, v, v.length);
            c.allReduceSum(t);
            assertArrayEquals(v, t.toFloatArray());
            double[] d = {4.5};
            c.allReduceSum(d);
            assertEquals(4.5, d[0]);
            assertEquals(1, c.size());
            assertTrue(c.describe().startsWith("NCCL 2."), c.describe());
        }
    }
}
