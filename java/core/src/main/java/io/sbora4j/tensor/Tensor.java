package io.sbora4j.tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Objects;

/**
 * A dense row-major tensor: a shape, an element type, a device and a block of memory, plus the autograd fields
 * (whether it needs a gradient, its gradient, the node that produced it).
 *
 * <p>Memory belongs to an {@link Arena}: the innermost open {@link MemoryScope} of the creating thread by default,
 * or an explicit one for long-lived tensors. Views ({@link #view}, {@link #detach}) share memory with their base.
 * Host tensors ({@link Device#isHost()}) can be read and written element by element from Java; the differentiable
 * math lives in {@code io.sbora4j.ops}.
 *
 * <p>Not thread-safe: a tensor is used by one thread at a time.
 */
public final class Tensor {

    /** Alignment of tensor memory: one cache line, and a whole AVX-512 vector. */
    public static final long ALIGNMENT = 64;

    private final Shape shape;
    private final DType dtype;
    private final Device device;
    private final MemorySegment data;
    private final Arena arena;

    private boolean requiresGrad;
    private Tensor grad;
    private GradFn gradFn;
    private String name;

    private Tensor(Shape shape, DType dtype, Device device, MemorySegment data, Arena arena) {
        this.shape = shape;
        this.dtype = dtype;
        this.device = device;
        this.data = data;
        this.arena = arena;
    }

    // ---------------------------------------------------------------- creation

    /**
     * Whether new host tensors of {@link #empty} are filled with NaN (0xFF bytes: NaN in f32 and bf16, -1 in i32),
     * so that code reading memory nothing wrote fails loudly: {@code -Dsbora.memory.poison=true}, on in the tests.
     */
    private static final boolean POISON = Boolean.getBoolean("sbora.memory.poison");

    /**
     * A tensor with unspecified contents in the current {@link MemoryScope}: scopes reuse memory, so it may hold
     * anything. Write every element before reading it, or take {@link #zeros}.
     */
    public static Tensor empty(Device device, DType dtype, int... dims) {
        return empty(MemoryScope.arenaFor(device), device, dtype, dims);
    }

    /** A tensor with unspecified contents owned by {@code arena} (see {@link #empty(Device, DType, int...)}). */
    public static Tensor empty(Arena arena, Device device, DType dtype, int... dims) {
        Objects.requireNonNull(arena, "arena");
        Shape shape = Shape.of(dims);
        long bytes = shape.numel() * dtype.bytes();
        MemorySegment seg;
        if (device.isHost()) {
            seg = arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes);
            if (POISON) {
                seg.fill((byte) 0xFF);
            }
        } else {
            seg = device.memory().allocate(arena, bytes);
        }
        MemoryScope.recordAllocation(arena, bytes);
        return new Tensor(shape, dtype, device, seg, arena);
    }

    /**
     * A tensor over existing native host memory, without copying (e.g. a slice of a memory-mapped file).
     *
     * <p>{@code data} must be native, exactly {@code numel * dtype.bytes()} long, aligned to the element size (the
     * accessors use aligned layouts; 64-byte alignment is not required), and belong to {@code owner}, whose closing
     * ends the tensor's life. A read-only segment gives a read-only tensor: writes from Java throw, but a native kernel
     * writing into it would fault, so never use one as the output of an op.
     *
     * @throws IllegalArgumentException if the size, alignment, kind or owner of {@code data} does not fit
     * @throws UnsupportedOperationException if {@code device} is not a host device
     */
    public static Tensor wrap(MemorySegment data, Arena owner, Device device, DType dtype, int... dims) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(dtype, "dtype");
        if (!device.isHost()) {
            throw new UnsupportedOperationException("cannot wrap host memory as a tensor on device '" + device + "'");
        }
        Shape shape = Shape.of(dims);
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.bytes());
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes for shape " + shape + " "
                    + dtype + " (" + bytes + " bytes)");
        }
        // Kernels receive the address, so heap memory (which the GC moves) cannot back a tensor.
        if (!data.isNative()) {
            throw new IllegalArgumentException("only native memory can back a tensor, not " + data);
        }
        if (data.address() % dtype.bytes() != 0) {
            throw new IllegalArgumentException("address 0x" + Long.toHexString(data.address()) + " is not aligned to "
                    + dtype.bytes() + " bytes for " + dtype);
        }
        if (!data.scope().equals(owner.scope())) {
            throw new IllegalArgumentException("the segment does not belong to the given owner arena");
        }
        return new Tensor(shape, dtype, device, data, owner);
    }

    /** An f32 tensor of zeros in the current scope. */
    public static Tensor zeros(Device device, int... dims) {
        return zeros(MemoryScope.arenaFor(device), device, dims);
    }

    /** An f32 tensor of zeros owned by {@code arena}. */
    public static Tensor zeros(Arena arena, Device device, int... dims) {
        Tensor t = empty(arena, device, DType.F32, dims);
        if (device.isHost()) {
            t.data.fill((byte) 0); // device memory comes zeroed (DeviceMemory.allocate); host memory may be reused
        }
        return t;
    }

    /** An f32 tensor holding {@code values} (row-major) in the current scope. */
    public static Tensor of(Device device, float[] values, int... dims) {
        return of(MemoryScope.arenaFor(device), device, values, dims);
    }

    /** An f32 tensor holding {@code values} (row-major) owned by {@code arena}. */
    public static Tensor of(Arena arena, Device device, float[] values, int... dims) {
        Tensor t = empty(arena, device, DType.F32, dims);
        if (values.length != t.numel()) {
            throw new IllegalArgumentException(
                    values.length + " values do not fill shape " + t.shape + " (" + t.numel() + " elements)");
        }
        t.copyFrom(values);
        return t;
    }

    /**
     * A tensor of type {@code dtype} (f32 or bf16) holding {@code values} (rounded to nearest for bf16), in the
     * current scope.
     */
    public static Tensor of(Device device, DType dtype, float[] values, int... dims) {
        return of(MemoryScope.arenaFor(device), device, dtype, values, dims);
    }

    /** As {@link #of(Device, DType, float[], int...)}, owned by {@code arena}. */
    public static Tensor of(Arena arena, Device device, DType dtype, float[] values, int... dims) {
        if (dtype == DType.F32) {
            return of(arena, device, values, dims);
        }
        requireFloating(dtype);
        Tensor t = empty(arena, device, dtype, dims);
        if (values.length != t.numel()) {
            throw new IllegalArgumentException(
                    values.length + " values do not fill shape " + t.shape + " (" + t.numel() + " elements)");
        }
        t.copyFrom(values);
        return t;
    }

    private static void requireFloating(DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("expected a floating-point type (f32 or bf16), got " + dtype);
        }
    }

    /** An i32 tensor holding {@code values} in the current scope. */
    public static Tensor ofInts(Device device, int[] values, int... dims) {
        return ofInts(MemoryScope.arenaFor(device), device, values, dims);
    }

    /** An i32 tensor holding {@code values} owned by {@code arena}. */
    public static Tensor ofInts(Arena arena, Device device, int[] values, int... dims) {
        Tensor t = empty(arena, device, DType.I32, dims);
        if (values.length != t.numel()) {
            throw new IllegalArgumentException(
                    values.length + " values do not fill shape " + t.shape + " (" + t.numel() + " elements)");
        }
        if (device.isHost()) {
            MemorySegment.copy(values, 0, t.data, ValueLayout.JAVA_INT, 0, values.length);
        } else {
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment host = tmp.allocateFrom(ValueLayout.JAVA_INT, values);
                device.memory().fromHost(host, 0, t.data, 0, t.bytes());
            }
        }
        return t;
    }

    /** A one-element f32 tensor of rank 0. */
    public static Tensor scalar(Device device, float value) {
        return of(device, new float[] {value});
    }

    /** A new tensor of the same shape, type and device, in the current scope. */
    public Tensor emptyLike() {
        return empty(device, dtype, shape.dims());
    }

    /** A copy in the current scope (see {@link MemoryScope}), on {@code target}. */
    public Tensor to(Device target) {
        return copyInto(MemoryScope.arenaFor(target), target);
    }

    /**
     * A copy owned by {@code arena}, on {@code target}: host and device memory in any direction.
     *
     * @throws UncheckedIOException if this is a view of a memory-mapped file that was truncated under it
     */
    public Tensor copyInto(Arena target, Device targetDevice) {
        Tensor t = empty(target, targetDevice, dtype, shape.dims());
        copyBytes(this, t);
        return t;
    }

    private static void copyBytes(Tensor src, Tensor dst) {
        long n = src.data.byteSize();
        if (src.isMapped()) {
            copyFromMapping(src, dst, n);
        } else if (src.device.isHost() && dst.device.isHost()) {
            MemorySegment.copy(src.data, 0, dst.data, 0, n);
        } else if (src.device.isHost()) {
            dst.device.memory().fromHost(src.data, 0, dst.data, 0, n);
        } else if (dst.device.isHost()) {
            src.device.memory().toHost(src.data, 0, dst.data, 0, n);
        } else if (src.device.memory() == dst.device.memory()) {
            src.device.memory().onDevice(src.data, dst.data, n);
        } else {
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment host = tmp.allocate(Math.max(n, 1));
                src.device.memory().toHost(src.data, 0, host, 0, n);
                dst.device.memory().fromHost(host, 0, dst.data, 0, n);
            }
        }
    }

    /** Bytes of a mapped tensor staged at a time on their way to a device. */
    private static final long STAGING_BYTES = 16L << 20;

    /**
     * Copies a view of a memory-mapped file with Java code only: a read of a page the file no longer has (truncated
     * under the mapping) is an {@link InternalError} there, where the same read by a native kernel or driver is a
     * SIGBUS that takes the JVM down. Bytes bound for a device go through a host buffer, a slice at a time.
     */
    private static void copyFromMapping(Tensor src, Tensor dst, long n) {
        try {
            if (dst.device.isHost()) {
                MemorySegment.copy(src.data, 0, dst.data, 0, n);
                return;
            }
            try (Arena staging = Arena.ofConfined()) {
                MemorySegment host = staging.allocate(Math.max(Math.min(n, STAGING_BYTES), 1), ALIGNMENT);
                for (long off = 0; off < n; off += host.byteSize()) {
                    long len = Math.min(host.byteSize(), n - off);
                    MemorySegment.copy(src.data, off, host, 0, len);
                    dst.device.memory().fromHost(host, 0, dst.data, off, len);
                }
            }
        } catch (InternalError e) {
            String msg = src.describe() + " could not be read: the file it is mapped from changed under it"
                    + " (truncated or rewritten while in use)";
            throw new UncheckedIOException(msg, new IOException(msg, e));
        }
    }

    // ---------------------------------------------------------------- views

    /** The same memory seen with another shape of equal size. Not recorded by autograd; see {@code Shapes.reshape}. */
    public Tensor view(int... dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != numel()) {
            throw new IllegalArgumentException("cannot view " + shape + " as " + s + ": sizes differ");
        }
        return new Tensor(s, dtype, device, data, arena);
    }

    /** The same memory, cut off from autograd: no gradient, no producer. */
    public Tensor detach() {
        return new Tensor(shape, dtype, device, data, arena);
    }

    /**
     * The entries {@code [start, start + length)} along the first dimension (rows of a matrix, elements of a
     * vector): a view of that contiguous part of the memory, on any device, not recorded by autograd. Kernels take
     * it like any tensor (its memory is aligned to the element, not to {@link #ALIGNMENT}).
     */
    public Tensor slice(int start, int length) {
        if (rank() == 0) {
            throw new IllegalArgumentException("cannot slice a tensor of rank 0");
        }
        Objects.checkFromIndexSize(start, length, shape.dim(0));
        int[] dims = shape.dims();
        long stride = numel() / Math.max(1, dims[0]) * dtype.bytes();
        dims[0] = length;
        return new Tensor(Shape.of(dims), dtype, device, data.asSlice(start * stride, length * stride), arena);
    }

    // ---------------------------------------------------------------- properties

    public Shape shape() {
        return shape;
    }

    public int dim(int i) {
        return shape.dim(i);
    }

    public int rank() {
        return shape.rank();
    }

    public long numel() {
        return shape.numel();
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return device;
    }

    /** The tensor's memory: readable from Java on host devices, an address to pass to kernels on others. */
    public MemorySegment data() {
        return data;
    }

    /** The arena that owns this tensor's memory. */
    public Arena arena() {
        return arena;
    }

    /** Whether the memory is read-only (a view of a file mapped read-only): no op may write into it. */
    public boolean isReadOnly() {
        return data.isReadOnly();
    }

    /** Throws when this tensor cannot be written in place, naming it and {@code why} the write was wanted. */
    public void requireWritable(String why) {
        if (data.isReadOnly()) {
            throw new IllegalStateException(describe() + " is a read-only view (of a memory-mapped file); " + why
                    + " needs a writable copy (load the file copy-on-write or copy the tensor)");
        }
    }

    /**
     * Whether the memory is a view of a memory-mapped file. Such a tensor is only as stable as the file: a native
     * kernel reading a page the file no longer has (truncated under the mapping) takes the JVM down with SIGBUS.
     * {@link #copyInto} and {@link #copyFrom(Tensor)} read it with Java code, which fails with an
     * {@link UncheckedIOException} instead, so a copy is the safe way to hand its values to native code.
     */
    public boolean isMapped() {
        return data.isMapped();
    }

    /**
     * Drops the pages of a tensor that is a read-only view of a memory-mapped file from memory (the file stays; a
     * later read maps them in again): what a model does with the f32 weights it has converted or quantised, so that
     * the resident memory is the new form's, not both. Does nothing for any other tensor.
     */
    public void releaseMappedPages() {
        if (data.isMapped() && data.isReadOnly() && data.byteSize() > 0) {
            data.unload();
        }
    }

    /** Bytes of memory held. */
    public long bytes() {
        return data.byteSize();
    }

    /** An optional name (a parameter's path), used in messages. */
    public String name() {
        return name;
    }

    public Tensor named(String n) {
        this.name = n;
        return this;
    }

    // ---------------------------------------------------------------- host access

    /** Element {@code i} of a host f32 or bf16 tensor, as an f32. */
    public float getFloat(long i) {
        requireHost();
        return dtype == DType.BF16
                ? BFloat16.toFloat(data.getAtIndex(ValueLayout.JAVA_SHORT, i))
                : data.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    /** Sets element {@code i} of a host f32 or bf16 tensor (rounded to nearest for bf16). */
    public void setFloat(long i, float v) {
        requireHost();
        if (dtype == DType.BF16) {
            data.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.fromFloat(v));
        } else {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        }
    }

    public int getInt(long i) {
        requireHost();
        return data.getAtIndex(ValueLayout.JAVA_INT, i);
    }

    /** The element at a multi-index (f32). */
    public float get(int... index) {
        if (index.length != rank()) {
            throw new IllegalArgumentException("index of rank " + index.length + " for a tensor of shape " + shape);
        }
        long flat = 0;
        for (int i = 0; i < index.length; i++) {
            Objects.checkIndex(index[i], shape.dim(i));
            flat = flat * shape.dim(i) + index[i];
        }
        return getFloat(flat);
    }

    /** The value of a one-element f32 tensor (copied from the device where it lives elsewhere). */
    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() of a tensor with " + numel() + " elements");
        }
        return toFloatArray()[0];
    }

    /** The values of an f32 or bf16 tensor as f32, copied to a Java array (from its device if need be). */
    public float[] toFloatArray() {
        if (dtype == DType.BF16) {
            short[] h = hostView().toArray(ValueLayout.JAVA_SHORT);
            float[] f = new float[h.length];
            for (int i = 0; i < h.length; i++) {
                f[i] = BFloat16.toFloat(h[i]);
            }
            return f;
        }
        requireType(DType.F32);
        return hostView().toArray(ValueLayout.JAVA_FLOAT);
    }

    /** The values of an i32 tensor, copied to a Java array. */
    public int[] toIntArray() {
        requireType(DType.I32);
        return hostView().toArray(ValueLayout.JAVA_INT);
    }

    /** The memory itself on host devices; a host copy of it otherwise. */
    private MemorySegment hostView() {
        if (device.isHost()) {
            return data;
        }
        MemorySegment host =
                Arena.ofAuto().allocate(Math.max(data.byteSize(), 1)).asSlice(0, data.byteSize());
        device.memory().toHost(data, 0, host, 0, data.byteSize());
        return host;
    }

    /**
     * Copies {@code values} into this f32 or bf16 tensor (rounded to nearest for bf16; to the device where it
     * lives elsewhere).
     */
    public void copyFrom(float[] values) {
        if (dtype != DType.BF16) {
            requireType(DType.F32);
        }
        if (values.length != numel()) {
            throw new IllegalArgumentException(values.length + " values for a tensor of shape " + shape);
        }
        if (dtype == DType.BF16) {
            short[] h = new short[values.length];
            for (int i = 0; i < h.length; i++) {
                h[i] = BFloat16.fromFloat(values[i]);
            }
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment host = tmp.allocateFrom(ValueLayout.JAVA_SHORT, h);
                if (device.isHost()) {
                    MemorySegment.copy(host, 0, data, 0, data.byteSize());
                } else {
                    device.memory().fromHost(host, 0, data, 0, data.byteSize());
                }
            }
            return;
        }
        if (device.isHost()) {
            MemorySegment.copy(values, 0, data, ValueLayout.JAVA_FLOAT, 0, values.length);
            return;
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment host = tmp.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            device.memory().fromHost(host, 0, data, 0, data.byteSize());
        }
    }

    /**
     * Copies the contents of {@code src} (same shape and type, any device) into this tensor.
     *
     * @throws UncheckedIOException if {@code src} is a view of a memory-mapped file that was truncated under it
     */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape) || src.dtype != dtype) {
            throw new IllegalArgumentException("cannot copy " + src.describe() + " into " + describe());
        }
        copyBytes(src, this);
    }

    private void requireHost() {
        if (!device.isHost()) {
            throw new IllegalStateException("tensor on device '" + device + "' cannot be accessed from Java");
        }
    }

    private void requireType(DType t) {
        if (dtype != t) {
            throw new IllegalStateException("tensor is " + dtype + ", not " + t);
        }
    }

    // ---------------------------------------------------------------- autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor (a parameter) as needing a gradient. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null && !value) {
            throw new IllegalStateException(
                    "cannot clear requiresGrad of a tensor computed by " + gradFn.name() + "; use detach()");
        }
        if (value && !dtype.isFloating()) {
            throw new IllegalArgumentException("only f32 and bf16 tensors can require gradients, not " + dtype);
        }
        this.requiresGrad = value;
        return this;
    }

    /** The accumulated gradient of a leaf, or null before the first backward pass. */
    public Tensor grad() {
        return grad;
    }

    /**
     * Sets (or clears, with null) the gradient; used by autograd and optimizers. A leaf's gradient buffer lives in
     * the leaf's own arena, so clearing it each step would leave one buffer per step there until the arena
     * closes: between steps, zero it instead ({@code AdamW.zeroGrad()}).
     */
    public void setGrad(Tensor g) {
        if (g != null && !g.shape.equals(shape)) {
            throw new IllegalArgumentException("gradient of shape " + g.shape + " for a tensor of shape " + shape);
        }
        this.grad = g;
    }

    /** The node that computed this tensor, or null for a leaf. */
    public GradFn gradFn() {
        return gradFn;
    }

    /** Whether no recorded op produced this tensor. */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Attaches the producing node; for op implementations (see {@code io.sbora4j.autograd.Autograd}). */
    public void attachGradFn(GradFn fn) {
        this.gradFn = Objects.requireNonNull(fn);
        this.requiresGrad = true;
    }

    /** Shape, type and device, e.g. {@code [2, 3] f32 cpu}. */
    public String describe() {
        return (name != null ? name + " " : "") + shape + " " + dtype.name().toLowerCase(Locale.ROOT) + " " + device;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(describe());
        if (device.isHost() && numel() > 0) {
            sb.append(", [");
            long n = Math.min(numel(), 8);
            for (long i = 0; i < n; i++) {
                sb.append(i > 0 ? ", " : "").append(dtype.isFloating() ? Float.toString(getFloat(i)) : getInt(i));
            }
            sb.append(numel() > n ? ", ...]" : "]");
        }
        return sb.append(')').toString();
    }
}
