package io.sbora4j.mpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MPICH ABI (int handles, {@code MPI_IN_PLACE} = -1) end to end, on a one-rank stand-in for libmpi compiled
 * from {@code fake_mpich.c} with the C compiler (skips without one): it refuses any handle that is not MPICH's
 * constant, so every collective passing here passed the right ones. Also the error path: an error code is an
 * {@link MpiException} with the library's text, on one line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MpichAbiTest {

    @TempDir
    static Path tmp;

    private static MpiLibrary lib;
    private static MpiCommunicator comm;
    private static MethodHandle failNext;

    @BeforeAll
    @SuppressWarnings("restricted") // the fake's own switch, called directly
    static void buildTheFakeLibrary() throws Exception {
        Path src = tmp.resolve("fake_mpich.c"), so = tmp.resolve("libfake_mpich.so");
        try (InputStream in = MpichAbiTest.class.getResourceAsStream("fake_mpich.c")) {
            Files.copy(in, src);
        }
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-o", so.toString(), src.toString())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler (cc) to build the fake MPICH library: " + e.getMessage());
            return;
        }
        String out = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS), "cc hangs");
        assertEquals(0, cc.exitValue(), out);
        lib = MpiLibrary.open(so.toString(), MpiLibrary.NAMES);
        comm = MpiCommunicator.init(lib);
        failNext = Linker.nativeLinker()
                .downcallHandle(
                        SymbolLookup.libraryLookup(so, Arena.global())
                                .find("fake_fail_next")
                                .orElseThrow(),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
    }

    @Test
    @Order(1)
    void theVersionStringMakesItMpich() {
        assertEquals(MpiAbi.MPICH, lib.abi());
        assertEquals("MPI (MPICH Version: 4.0.2), rank 0 of 1", comm.describe());
        assertEquals(MpiAbi.THREAD_SERIALIZED, comm.threadLevel());
        assertEquals(42.5, comm.wtime());
    }

    @Test
    @Order(2)
    void allReducesPassInPlaceTheDatatypeSumAndTheWorld() {
        Tensor t = Tensor.of(Device.CPU, new float[] {1, 2, 3}, 3);
        comm.allReduceSum(t);
        assertArrayEquals(new float[] {2, 4, 6}, t.toFloatArray()); // the fake doubles: MPI_FLOAT was passed
        double[] d = {0.25, -1};
        comm.allReduceSum(d);
        assertArrayEquals(new double[] {0.5, -2}, d); // MPI_DOUBLE
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
            comm.allReduceFloats(s, 10, 3);
            assertArrayEquals(
                    new float[] {2, 4, 6, 8, 10, 12, 14, 16, 18, 20},
                    s.toArray(ValueLayout.JAVA_FLOAT),
                    "in chunks of 3");
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> comm.allReduceSum(Tensor.ofInts(Device.CPU, new int[] {1}, 1)));
        assertTrue(e.getMessage().startsWith("MPI sums f32 tensors; "), e.getMessage());
    }

    @Test
    @Order(3)
    void broadcastsAndBarriersPassTheirHandles() {
        for (int n : new int[] {0, 1, 1000}) {
            byte[] data = new byte[n];
            for (int i = 0; i < n; i++) {
                data[i] = (byte) (i * 7);
            }
            assertArrayEquals(data, comm.broadcast(data, 0));
        }
        assertNull(comm.broadcast(null, 0));
        assertThrows(IllegalArgumentException.class, () -> comm.broadcast(new byte[1], 1));
        comm.barrier();
    }

    @Test
    @Order(4)
    void anErrorCodeIsAnExceptionWithTheLibrarysTextOnOneLine() throws Throwable {
        failNext.invokeExact(17);
        MpiException e = assertThrows(MpiException.class, comm::barrier);
        assertEquals("MPI_Barrier failed on rank 0: fake MPICH error number 17 (error code 17)", e.getMessage());
        assertEquals(17, e.errorCode());
        assertEquals(0, e.rank());
        comm.barrier(); // the communicator goes on
    }

    @Test
    @Order(5)
    void closeFinalizesOnceAndEndsTheCollectives() {
        comm.close();
        assertTrue(lib.finalized());
        comm.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, comm::barrier);
        assertEquals("MPI was finalized on rank 0; no more collectives", e.getMessage());
        MpiUnavailableException again = assertThrows(MpiUnavailableException.class, () -> MpiCommunicator.init(lib));
        assertEquals("MPI was finalized in this process; it cannot be initialised again", again.getMessage());
    }
}
