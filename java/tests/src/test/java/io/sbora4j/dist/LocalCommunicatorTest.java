package io.sbora4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Threads as ranks: the collectives, and that no rank waits forever for one that failed. */
class LocalCommunicatorTest {

    /** What a rank does with its communicator. */
    interface RankBody {
        Object run(Communicator c) throws Exception;
    }

    /** Runs {@code body} on one thread per rank; each slot holds the rank's result or the Throwable it ended with. */
    static List<Object> onRanks(List<Communicator> comms, RankBody body) throws InterruptedException {
        int n = comms.size();
        Object[] out = new Object[n];
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            threads.add(Thread.ofPlatform().name("rank-" + r).start(() -> {
                try {
                    out[rank] = body.run(comms.get(rank));
                } catch (Throwable t) {
                    out[rank] = t;
                }
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(10));
            assertTrue(!t.isAlive(), t.getName() + " still runs after 10 s: a collective hangs");
        }
        return Arrays.asList(out);
    }

    @Test
    void sumsAddTheRanksInOrderAndAreBitIdenticalEverywhere() throws Exception {
        // in f32, (1e8 + 1) - 1e8 is 0 but (1e8 - 1e8) + 1 is 1: the order of the sum shows
        float[][] parts = {{1e8f, 0.1f, 3}, {1f, 0.2f, -7}, {-1e8f, 0.3f, 0.5f}};
        float[] expected = parts[0].clone();
        for (int r = 1; r < 3; r++) {
            for (int i = 0; i < 3; i++) {
                expected[i] += parts[r][i];
            }
        }
        List<Object> got = onRanks(LocalCommunicator.group(3), c -> {
            try (Arena arena = Arena.ofConfined()) { // memory only this rank's thread may touch
                Tensor t = Tensor.of(arena, Device.CPU, parts[c.rank()], 3);
                c.allReduceSum(t);
                double[] d = {c.rank(), 0.25};
                c.allReduceSum(d);
                assertArrayEquals(new double[] {3, 0.75}, d);
                return t.toFloatArray();
            }
        });
        for (Object o : got) {
            float[] f = assertInstanceOf(float[].class, o);
            for (int i = 0; i < 3; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(f[i]), "element " + i);
            }
        }
        assertEquals(0f, expected[0], "the rank order 0, 1, 2");
    }

    @Test
    void broadcastsAnyLengthFromAnyRoot() throws Exception {
        byte[] mib = new byte[1 << 20];
        for (int i = 0; i < mib.length; i++) {
            mib[i] = (byte) (i * 31 + 7);
        }
        List<Object> got = onRanks(LocalCommunicator.group(3), c -> {
            List<byte[]> seen = new ArrayList<>();
            seen.add(c.broadcast(c.rank() == 0 ? new byte[0] : null, 0));
            seen.add(c.broadcast(c.rank() == 2 ? new byte[] {42} : null, 2));
            byte[] big = c.broadcast(c.rank() == 1 ? mib.clone() : null, 1);
            big[0] ^= 1; // each rank has its own copy: this changes nobody else's
            c.barrier();
            big[0] ^= 1;
            seen.add(big);
            return seen;
        });
        for (Object o : got) {
            @SuppressWarnings("unchecked")
            List<byte[]> seen = (List<byte[]>) assertInstanceOf(List.class, o);
            assertArrayEquals(new byte[0], seen.get(0));
            assertArrayEquals(new byte[] {42}, seen.get(1));
            assertArrayEquals(mib, seen.get(2));
        }
    }

    @Test
    void noRankLeavesABarrierBeforeAllHaveReachedIt() throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        List<Object> got = onRanks(LocalCommunicator.group(4), c -> {
            for (int round = 1; round <= 20; round++) {
                if (c.rank() == round % 4) {
                    Thread.sleep(2); // one late rank per round
                }
                arrived.incrementAndGet();
                c.barrier();
                assertTrue(arrived.get() >= 4 * round, "left round " + round + " early");
                c.barrier(); // nobody starts the next round before all have checked this one
            }
            return "done";
        });
        assertEquals(List.of("done", "done", "done", "done"), got);
    }

    @Test
    void anAbortWakesTheWaitingRanksAndFailsLaterCollectives() throws Exception {
        CountDownLatch waiting = new CountDownLatch(2);
        List<Communicator> comms = LocalCommunicator.group(3);
        long t0 = System.nanoTime();
        List<Object> got = onRanks(comms, c -> {
            if (c.rank() == 1) {
                waiting.await();
                Thread.sleep(50); // let the others block in the collective
                c.abort(3, "disk full\nsecond line");
                return "returned";
            }
            waiting.countDown();
            try {
                c.barrier();
                return "passed";
            } catch (AbortedException e) {
                AbortedException later = assertThrows(AbortedException.class, () -> c.allReduceSum(new double[1]));
                assertEquals(e.getMessage(), later.getMessage());
                return e;
            }
        });
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        for (Object o : got) {
            AbortedException e = assertInstanceOf(AbortedException.class, o, String.valueOf(o));
            assertEquals(1, e.abortingRank());
            assertEquals(3, e.code());
            assertEquals("rank 1 aborted the group (status 3): disk full second line", e.getMessage());
        }
    }

    @Test
    void aRankThatWaitsPastTheTimeoutAbortsNamingTheMissingRanks() throws Exception {
        List<Object> got = onRanks(LocalCommunicator.group(3, Duration.ofMillis(200)), c -> {
            if (c.rank() == 2) {
                Thread.sleep(600); // too late for the others
            }
            c.barrier();
            return "passed";
        });
        for (Object o : got) {
            AbortedException e = assertInstanceOf(AbortedException.class, o, String.valueOf(o));
            assertTrue(e.getMessage().contains("for rank(s) 2"), e.getMessage());
        }
    }

    @Test
    void differentCollectivesOrLengthsAbortInsteadOfMixing() throws Exception {
        List<Object> kinds = onRanks(LocalCommunicator.group(2), c -> {
            if (c.rank() == 0) {
                c.barrier();
            } else {
                c.broadcast(null, 0);
            }
            return "passed";
        });
        for (Object o : kinds) {
            AbortedException e = assertInstanceOf(AbortedException.class, o, String.valueOf(o));
            assertTrue(e.getMessage().contains("different collectives"), e.getMessage());
        }
        List<Object> lengths = onRanks(LocalCommunicator.group(2), c -> {
            c.allReduceSum(new double[1 + c.rank()]);
            return "passed";
        });
        for (Object o : lengths) {
            AbortedException e = assertInstanceOf(AbortedException.class, o, String.valueOf(o));
            assertTrue(e.getMessage().contains("different lengths"), e.getMessage());
        }
    }

    @Test
    void closingARankThatOthersWaitForAbortsThem() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        List<Object> got = onRanks(LocalCommunicator.group(2), c -> {
            if (c.rank() == 1) {
                waiting.await();
                Thread.sleep(50);
                c.close();
                c.close(); // idempotent
                assertThrows(IllegalStateException.class, c::barrier);
                return null;
            }
            waiting.countDown();
            c.barrier();
            return "passed";
        });
        AbortedException e = assertInstanceOf(AbortedException.class, got.get(0), String.valueOf(got.get(0)));
        assertTrue(e.getMessage().contains("closed its communicator"), e.getMessage());
        assertNull(got.get(1));
    }

    @Test
    void oneRankIsAGroupToo() {
        Communicator c = LocalCommunicator.group(1).getFirst();
        double[] d = {1.5};
        c.allReduceSum(d);
        assertArrayEquals(new double[] {1.5}, d);
        assertArrayEquals(new byte[] {1, 2}, c.broadcast(new byte[] {1, 2}, 0));
        c.barrier();
        assertEquals("threads of one process, rank 0 of 1", c.describe());
        assertThrows(IllegalArgumentException.class, () -> c.broadcast(new byte[0], 1));
        assertThrows(IllegalArgumentException.class, () -> LocalCommunicator.group(0));
    }
}
