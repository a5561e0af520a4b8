package io.sbora4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pool on its own (a private instance, not the process's): size classes, reuse, the bound, release. */
class HostMemoryPoolTest {

    private static HostMemoryPool pool() {
        HostMemoryPool p = HostMemoryPool.create(true);
        assertNotNull(p, "the tests run with native access, so the pool is on");
        return p;
    }

    @Test
    void sizeClassesLoseAtMostAnEighth() {
        assertEquals(HostMemoryPool.SLAB, HostMemoryPool.classSize(1));
        assertEquals(HostMemoryPool.SLAB, HostMemoryPool.classSize(HostMemoryPool.SMALL_MAX));
        for (long n = HostMemoryPool.SMALL_MAX + 1; n < 1L << 32; n = n * 3 / 2 + 4097) {
            long c = HostMemoryPool.classSize(n);
            assertTrue(c >= n && c - n <= n / 8 + 4096, n + " -> " + c);
            assertEquals(c, HostMemoryPool.classSize(c), "a class size is its own class");
        }
        assertEquals(1L << 20, HostMemoryPool.classSize(1L << 20));
        assertEquals(9L << 17, HostMemoryPool.classSize((1L << 20) + 1));
    }

    @Test
    void aBlockGivenBackIsTheNextOneTakenOfItsClass() {
        HostMemoryPool p = pool();
        HostMemoryPool.Block a = p.take(300_000);
        assertEquals(0, a.address() % Tensor.ALIGNMENT);
        assertEquals(HostMemoryPool.classSize(300_000), a.size());
        p.give(List.of(a));
        HostMemoryPool.Block b = p.take(299_000); // same class
        assertEquals(a, b);
        MemoryScope.PoolStats s = p.stats();
        assertEquals(1, s.blocksFromSystem());
        assertEquals(a.size(), s.inUse());
        assertEquals(0, s.pooled());
        p.give(List.of(b));
        assertEquals(a.size(), p.releaseFree());
        assertEquals(0, p.stats().held());
    }

    @Test
    void freeMemoryIsBoundedByThePeakInUseClassesNotTakenRecentlyFirst() {
        HostMemoryPool p = pool();
        List<HostMemoryPool.Block> small = takeAll(p, 4, 200_000); // 4 x 200 KiB-class blocks
        long peak = p.stats().inUse();
        p.give(small);
        p.endEpoch(); // two steps that take no block of that class
        p.endEpoch();
        List<HostMemoryPool.Block> large = takeAll(p, 2, 400_000); // other sizes, about as many bytes
        p.give(large);
        MemoryScope.PoolStats s = p.stats();
        assertEquals(Math.max(peak, 2 * HostMemoryPool.classSize(400_000)), s.peakInUse());
        assertTrue(s.pooled() <= s.peakInUse(), "free bytes never exceed the peak in use: " + s);
        assertTrue(s.blocksReleased() > 0, "the surplus went back to the C heap");
        List<HostMemoryPool.Block> again = takeAll(p, 2, 400_000);
        assertEquals(6, p.stats().blocksFromSystem(), "the class taken last was kept, the older one released");
        p.give(again);
        p.releaseFree();
        assertEquals(0, p.stats().held());
    }

    @Test
    void aFreeBlockOfOneOfTheNextTwoClassesServesARequest() {
        HostMemoryPool p = pool();
        long c = HostMemoryPool.classSize(300_000);
        HostMemoryPool.Block a = p.take(c);
        p.give(List.of(a));
        long twoBelow = c;
        for (int k = 0; k < 2; k++) { // the class two below c's
            twoBelow = HostMemoryPool.classSize(twoBelow * 7 / 8 - 1);
        }
        assertTrue(HostMemoryPool.nextClass(HostMemoryPool.nextClass(twoBelow)) == c, "two classes apart");
        HostMemoryPool.Block b = p.take(twoBelow);
        assertEquals(a, b, "a free block at most two classes larger is taken");
        p.give(List.of(b));
        long threeBelow = HostMemoryPool.classSize(twoBelow * 7 / 8 - 1);
        HostMemoryPool.Block d = p.take(threeBelow);
        assertEquals(threeBelow, d.size(), "three classes apart: a new block of the request's own class");
        p.give(List.of(d));
        p.releaseFree();
        assertEquals(0, p.stats().held());
    }

    @Test
    void thePoolNeverHoldsMoreThanTwiceThePeakInUse() {
        HostMemoryPool p = pool();
        SplittableRandom rng = new SplittableRandom(9);
        List<HostMemoryPool.Block> held = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            if (held.isEmpty() || rng.nextInt(3) > 0 && held.size() < 40) {
                held.add(p.take(HostMemoryPool.SMALL_MAX + 1 + rng.nextLong(8L << 20)));
            } else {
                p.give(List.of(held.remove(rng.nextInt(held.size()))));
            }
            if (i % 50 == 49) {
                p.endEpoch();
            }
            MemoryScope.PoolStats s = p.stats();
            assertTrue(s.held() <= 2 * s.peakInUse(), "step " + i + ": " + s);
        }
        p.give(held);
        p.releaseFree();
        assertEquals(0, p.stats().held());
    }

    /** One step's pattern: blocks of several classes, some given back mid-step and others taken after them. */
    private static void step(HostMemoryPool p, long unit) {
        List<HostMemoryPool.Block> forward = takeAll(p, 4, unit);
        HostMemoryPool.Block big = p.take(3 * unit);
        p.give(forward.subList(0, 2));
        List<HostMemoryPool.Block> backward = takeAll(p, 3, 2 * unit); // other classes than what went back
        p.give(List.of(big));
        p.give(forward.subList(2, 4));
        p.give(backward);
        p.endEpoch();
    }

    @Test
    void aStepThatRepeatsThePreviousOnesShapesTakesNothingFromTheSystem() {
        HostMemoryPool p = pool();
        step(p, 300_000);
        step(p, 300_000);
        long taken = p.stats().blocksFromSystem();
        for (int i = 0; i < 5; i++) {
            step(p, 300_000);
        }
        assertEquals(taken, p.stats().blocksFromSystem(), "steady state: " + p.stats());
        p.releaseFree();
    }

    @Test
    void theBlocksOfShapesNoLongerUsedLeaveWithinTwoSteps() {
        HostMemoryPool p = pool();
        step(p, 4_000_000);
        step(p, 4_000_000);
        long peak = p.stats().peakInUse();
        for (int i = 0; i < 3; i++) { // another length: other classes, about as many bytes
            step(p, 3_000_000);
        }
        MemoryScope.PoolStats s = p.stats();
        assertTrue(s.held() <= peak, "the pool holds " + s.held() + ", the peak in use was " + peak + ": " + s);
        p.releaseFree();
        assertEquals(0, p.stats().held());
    }

    private static List<HostMemoryPool.Block> takeAll(HostMemoryPool p, int n, long bytes) {
        List<HostMemoryPool.Block> blocks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            blocks.add(p.take(bytes));
        }
        return blocks;
    }
}
