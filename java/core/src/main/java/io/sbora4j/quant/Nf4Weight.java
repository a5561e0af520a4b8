package io.sbora4j.quant;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.backend.Nf4Code;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;

/**
 * A weight in QLoRA's storage format: NF4 codes in blocks of {@value #BLOCK} elements (row-major order), each
 * block's absolute maximum double-quantised as bitsandbytes does it: the mean is subtracted ({@link #offset()}),
 * then the absmaxes are encoded with the 8-bit {@link DynamicMap8} in blocks of {@value #SCALE_BLOCK}, each with
 * an f32 scale. That is 4 + 8/64 + 32/(64·256) ≈ 4.127 bits per parameter.
 */
public final class Nf4Weight {

    public static final int BLOCK = 64;
    public static final int SCALE_BLOCK = 256;

    private final int rows;
    private final int cols;
    private final Device device;
    private final Tensor packed; // u8, two codes per byte
    private final byte[] absmaxCodes; // one 8-bit code per block
    private final float[] scaleOfCodes; // one f32 per SCALE_BLOCK blocks
    private final float offset;
    private Tensor decodedAbsmax; // f32 per block, in the weight's arena, refilled when codes change
    private boolean absmaxStale = true;

    private Nf4Weight(
            int rows, int cols, Device device, Tensor packed, byte[] absmaxCodes, float[] scaleOfCodes, float offset) {
        this.rows = rows;
        this.cols = cols;
        this.device = device;
        this.packed = packed;
        this.absmaxCodes = absmaxCodes;
        this.scaleOfCodes = scaleOfCodes;
        this.offset = offset;
    }

    /**
     * Quantises f32 {@code w} (rows x cols, finite) into memory owned by {@code arena}. A view of a memory-mapped
     * file is quantised from a copy (its mapped pages released once copied): the kernels never read the mapping,
     * where a file truncated meanwhile would crash the JVM, and the copy fails with an
     * {@link java.io.UncheckedIOException} instead.
     */
    public static Nf4Weight quantize(Tensor w, Arena arena) {
        if (w.rank() != 2 || w.dtype() != DType.F32) {
            throw new IllegalArgumentException("NF4 quantises f32 matrices, got " + w.describe());
        }
        if (w.isMapped()) {
            try (Arena staging = Arena.ofConfined()) {
                Tensor copy = w.copyInto(staging, w.device()).named(w.name());
                w.releaseMappedPages();
                return quantize(copy, arena);
            }
        }
        Backend be = Backends.of(w.device());
        long bad = be.countNonFinite(w);
        if (bad > 0) {
            throw new IllegalArgumentException("cannot quantise " + w.describe() + ": " + bad + " non-finite values");
        }
        long n = w.numel();
        int blocks = Math.toIntExact((n + BLOCK - 1) / BLOCK);
        Tensor packed = Tensor.empty(arena, w.device(), DType.U8, Math.toIntExact((n + 1) / 2));
        float[] a;
        try (MemoryScope tmp = MemoryScope.open()) {
            Tensor absmax = Tensor.empty(w.device(), DType.F32, blocks);
            be.nf4Quantize(w, BLOCK, packed, absmax);
            a = absmax.toFloatArray();
        }
        double sum = 0;
        for (float v : a) {
            sum += v;
        }
        float offset = (float) (sum / blocks);
        int groups = (blocks + SCALE_BLOCK - 1) / SCALE_BLOCK;
        byte[] codes = new byte[blocks];
        float[] scales = new float[groups];
        for (int g = 0; g < groups; g++) {
            int lo = g * SCALE_BLOCK, hi = Math.min(blocks, lo + SCALE_BLOCK);
            float m = 0;
            for (int b = lo; b < hi; b++) {
                m = Math.max(m, Math.abs(a[b] - offset));
            }
            scales[g] = m;
            for (int b = lo; b < hi; b++) {
                codes[b] = (byte) DynamicMap8.nearest(m > 0 ? (a[b] - offset) / m : 0f);
            }
        }
        return new Nf4Weight(w.dim(0), w.dim(1), w.device(), packed, codes, scales, offset);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public long numel() {
        return (long) rows * cols;
    }

    public int blocks() {
        return absmaxCodes.length;
    }

    public float offset() {
        return offset;
    }

    /** The absmax of block {@code b} as stored: map[code]·scale + offset. */
    public float absmax(int b) {
        return DynamicMap8.value(absmaxCodes[b] & 0xff) * scaleOfCodes[b / SCALE_BLOCK] + offset;
    }

    /** All decoded absmaxes (f32, one per block), cached until a block changes. */
    public Tensor decodedAbsmax() {
        if (absmaxStale) {
            float[] a = new float[blocks()];
            for (int b = 0; b < a.length; b++) {
                a[b] = absmax(b);
            }
            if (decodedAbsmax == null) {
                decodedAbsmax = Tensor.of(packed.arena(), device, a, a.length);
            } else {
                decodedAbsmax.copyFrom(a);
            }
            absmaxStale = false;
        }
        return decodedAbsmax;
    }

    /** Dequantises elements [start, start + out.numel()) (row-major) into {@code out}. */
    public void dequantize(long start, Tensor out) {
        Backends.of(device).nf4Dequantize(packed, decodedAbsmax(), start, BLOCK, out);
    }

    /** The whole weight in f32, a new tensor in the current scope. */
    public Tensor dequantize() {
        Tensor out = Tensor.empty(device, DType.F32, rows, cols);
        dequantize(0, out);
        return out;
    }

    /** Bytes of the compressed form: codes, absmax codes, their scales and the offset. */
    public long storageBytes() {
        return packed.bytes() + absmaxCodes.length + 4L * scaleOfCodes.length + 4;
    }

    /** Storage bits per weight element (≈ 4.127 for large matrices). */
    public double bitsPerParameter() {
        return storageBytes() * 8.0 / numel();
    }

    // ---------------------------------------------------------------- regional re-encoding (merges)

    /** The bytes of some blocks, to put back later. */
    public record Snapshot(BitSet blocks, byte[] data, byte[] codes) {}

    /** Copies the packed codes and absmax codes of {@code blocks}. */
    public Snapshot snapshot(BitSet blocks) {
        byte[] data = new byte[blocks.cardinality() * BLOCK / 2];
        byte[] codes = new byte[blocks.cardinality()];
        Tensor host = hostPacked();
        MemorySegment seg = host.data();
        int k = 0;
        for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1), k++) {
            long from = (long) b * BLOCK / 2, len = Math.min(BLOCK / 2, packed.bytes() - from);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, from, data, k * BLOCK / 2, (int) len);
            codes[k] = absmaxCodes[b];
        }
        return new Snapshot((BitSet) blocks.clone(), data, codes);
    }

    /** Puts back the bytes of a {@link #snapshot}, exactly. */
    public void restore(Snapshot s) {
        packed.requireWritable("restoring NF4 blocks");
        Tensor host = hostPacked();
        MemorySegment seg = host.data();
        int k = 0;
        for (int b = s.blocks().nextSetBit(0); b >= 0; b = s.blocks().nextSetBit(b + 1), k++) {
            long from = (long) b * BLOCK / 2, len = Math.min(BLOCK / 2, packed.bytes() - from);
            MemorySegment.copy(s.data(), k * BLOCK / 2, seg, ValueLayout.JAVA_BYTE, from, (int) len);
            absmaxCodes[b] = s.codes()[k];
        }
        storeHostPacked(host);
        absmaxStale = true;
    }

    /**
     * Re-encodes {@code blocks} from the f32 values of {@code dense} (rows x cols); every other block keeps its
     * bytes. A block's new absmax is encoded under its group's existing scale and the existing offset (so no other
     * block's scale moves), clamped to what that scale can represent; its values are then encoded against the
     * decoded absmax. Returns the largest |dequantised − dense| over the re-encoded blocks.
     */
    public double requantize(Tensor merged, BitSet blocks) {
        packed.requireWritable("re-encoding NF4 blocks");
        Tensor dense = merged.device().isHost() ? merged : merged.copyInto(Arena.ofAuto(), Device.CPU);
        long n = numel();
        Tensor host = hostPacked();
        MemorySegment seg = host.data();
        double maxErr = 0;
        for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
            long lo = (long) b * BLOCK, hi = Math.min(n, lo + BLOCK);
            float m = 0;
            for (long i = lo; i < hi; i++) {
                m = Math.max(m, Math.abs(dense.getFloat(i)));
            }
            float scale = scaleOfCodes[b / SCALE_BLOCK];
            float target = scale > 0 ? Math.clamp((m - offset) / scale, -1f, 1f) : 0f;
            int code = DynamicMap8.nearest(target);
            // never encode below the block's true maximum when a larger code exists: values beyond ±absmax clip
            while (code < 255 && DynamicMap8.value(code) * scale + offset < m) {
                code++;
            }
            absmaxCodes[b] = (byte) code;
            float am = DynamicMap8.value(code) * scale + offset;
            float inv = am > 0 ? 1f / am : 0f;
            for (long i = lo; i < hi; i += 2) {
                int high = Nf4Code.nearest(dense.getFloat(i) * inv);
                int low = i + 1 < hi ? Nf4Code.nearest(dense.getFloat(i + 1) * inv) : 7;
                seg.set(ValueLayout.JAVA_BYTE, i / 2, (byte) (high << 4 | low));
                maxErr = Math.max(maxErr, Math.abs(Nf4Code.value(high) * am - dense.getFloat(i)));
                if (i + 1 < hi) {
                    maxErr = Math.max(maxErr, Math.abs(Nf4Code.value(low) * am - dense.getFloat(i + 1)));
                }
            }
        }
        storeHostPacked(host);
        absmaxStale = true;
        return maxErr;
    }

    /**
     * The packed codes in host memory: the tensor itself on a host device, else a copy. Merges re-encode a few
     * blocks with the same Java code on every device (the double-quantised absmax codes live on the host anyway),
     * so a GPU weight makes one round trip of its packed bytes (n/2 bytes) per merge or unmerge.
     */
    private Tensor hostPacked() {
        return device.isHost() ? packed : packed.copyInto(Arena.ofAuto(), Device.CPU);
    }

    /** Puts a {@link #hostPacked()} copy back where the codes live (nothing to do on a host device). */
    private void storeHostPacked(Tensor host) {
        if (host != packed) {
            packed.copyFrom(host);
        }
    }

    /** The packed codes (u8), for inspection and tests. */
    public Tensor packed() {
        return packed;
    }

    /** The 8-bit absmax codes, a copy. */
    public byte[] absmaxCodes() {
        return absmaxCodes.clone();
    }
}
