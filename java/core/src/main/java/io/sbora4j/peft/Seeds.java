package io.sbora4j.peft;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Reproducible randomness per layer: the stream for a layer depends only on the config's seed, the layer's path and
 * what the numbers are for, never on the order in which layers are built or on the JVM.
 */
public final class Seeds {

    private Seeds() {}

    /** A generator for {@code purpose} ("indices", "init", "dropout") of the layer at {@code path}. */
    public static SplittableRandom forLayer(long seed, String path, String purpose) {
        return new SplittableRandom(mix(seed ^ mix(fnv1a(path)) ^ mix(fnv1a(purpose) + 0x9E3779B97F4A7C15L)));
    }

    /** FNV-1a over the UTF-8 bytes: stable across JVMs, unlike nothing else that is this short. */
    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: spreads nearby inputs over the whole 64-bit range. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
