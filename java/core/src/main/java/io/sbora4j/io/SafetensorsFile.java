package io.sbora4j.io;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@code .safetensors} file, memory-mapped and validated.
 *
 * <pre>{@code
 * try (Arena weights = Arena.ofShared()) {
 *     SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"), weights);
 *     Tensor w = f.tensor("model.embed_tokens.weight", weights, Device.CPU);  // F32: a view, no copy
 * }                                                                           // unmapped here
 * }</pre>
 *
 * <p>The whole header is checked when the file is opened (see {@link SafetensorsFormatException}); the mapping
 * belongs to the arena given to {@link #open} and is released when it closes, which also ends every tensor viewing it.
 *
 * <p>Types: F32 and I32 tensors are views of the mapping when their bytes are aligned to 4 on a little-endian
 * machine, copies in {@code target} otherwise. BF16 and F16 are widened to new F32 tensors exactly, I64 narrowed to
 * I32 with a range check. Other types are refused by {@link #tensor} but do not prevent opening the file.
 *
 * <p>With {@link Access#READ_ONLY} views are read-only: Java writes throw, and so must nothing else write them, since
 * a native kernel writing into read-only pages faults and takes the JVM down. Views that will be modified in place
 * (merging an adapter into a base weight, full fine-tuning) need {@link Access#COPY_ON_WRITE} or a copy
 * ({@link Tensor#copyInto}).
 *
 * <p>A view is only as stable as the file: whichever the access, the pages come from the file until written, so
 * another process that truncates the file makes a native kernel reading a view fault with SIGBUS, which takes the
 * JVM down, and one that rewrites it in place changes the values under the job. Java code reading a truncated
 * mapping fails cleanly instead, which is what {@link #read} relies on: it gives a tensor in memory of its own,
 * copied from the mapping by Java code, so that whatever happens to the file afterwards cannot reach it; a
 * truncation while it copies is a {@link SafetensorsFormatException}, and {@link #requireUnchanged} tells whether
 * the file was written in place meanwhile. {@link ModelFiles#load} keeps nothing but such copies.
 *
 * <p>Immutable; usable from several threads when the arena is shared.
 */
public final class SafetensorsFile {

    /** How the file is mapped. */
    public enum Access {
        /** Shared read-only pages; tensor views reject writes. The file needs only read permission. */
        READ_ONLY,
        /**
         * Private pages: tensor views are writable, and a written page becomes a private copy, so the file never
         * changes. Opening needs write permission on the file (the OS requires it for such a mapping).
         */
        COPY_ON_WRITE
    }

    /** Bytes {@link #read} copies before it releases their mapped pages. */
    private static final long READ_CHUNK = 4L << 20;

    private final Path path;
    private final Arena arena;
    private final Access access;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private final Stamp stamp;

    private SafetensorsFile(
            Path path, Arena arena, Access access, MemorySegment data, SafetensorsHeader header, Stamp stamp) {
        this.path = path;
        this.arena = arena;
        this.access = access;
        this.data = data;
        this.header = header;
        this.stamp = stamp;
    }

    /**
     * What tells one state of a file from another without reading it: its identity (device and inode) and size, and
     * the times of its last write and of its last change of any kind, which every write, truncation or
     * {@code touch} moves on.
     */
    private record Stamp(Object fileKey, long size, FileTime modified, Object changed) {

        static Stamp of(Path file) throws IOException {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            Object changed;
            try {
                changed = Files.getAttribute(file, "unix:ctime");
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                changed = null; // not a unix file system: the write time alone
            }
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime(), changed);
        }

        boolean sameFile(Stamp other) {
            return fileKey == null || fileKey.equals(other.fileKey);
        }
    }

    /** Opens {@code file} read-only; the mapping lives as long as {@code arena}. */
    public static SafetensorsFile open(Path file, Arena arena) throws IOException {
        return open(file, arena, Access.READ_ONLY);
    }

    /**
     * Opens {@code file} with the given access; the mapping lives as long as {@code arena}.
     *
     * @throws SafetensorsFormatException if the file is not a valid safetensors file
     * @throws IOException                if it cannot be read or mapped
     */
    public static SafetensorsFile open(Path file, Arena arena, Access access) throws IOException {
        Objects.requireNonNull(arena, "arena");
        boolean cow = Objects.requireNonNull(access, "access") == Access.COPY_ON_WRITE;
        try (FileChannel ch = cow
                ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ)) {
            Stamp stamp = Stamp.of(file); // before anything is read: a write from here on shows
            long size = ch.size();
            // The header is validated before mapping, so a bad file leaves no mapping behind in the caller's arena.
            SafetensorsHeader header = SafetensorsHeader.read(file, ch, size);
            MemorySegment whole;
            try {
                whole = ch.map(cow ? FileChannel.MapMode.PRIVATE : FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                long now = ch.size();
                if (now < size) { // the JDK's message would be about extending the file
                    throw new SafetensorsFormatException(
                            file,
                            "shrank from " + size + " to " + now
                                    + " bytes while being opened: truncated or rewritten while in use",
                            e);
                }
                throw e;
            }
            // The mapping outlives the channel, so closing it here is fine.
            MemorySegment data = whole.asSlice(header.dataOffset(), header.dataSize());
            return new SafetensorsFile(file, arena, access, data, header, stamp);
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** How the file is mapped. */
    public Access access() {
        return access;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return header.tensors().keySet();
    }

    /** Whether the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /**
     * Where {@code name} lies and what it holds.
     *
     * @throws IllegalArgumentException if there is no such tensor
     */
    public TensorInfo info(String name) {
        TensorInfo info = header.tensors().get(name);
        if (info == null) {
            throw new IllegalArgumentException(path + ": no tensor '" + name + "' (the file holds "
                    + header.tensors().size() + " tensors)");
        }
        return info;
    }

    /** The {@code __metadata__} strings, in header order; empty when the file has none. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /**
     * Tensor {@code name} as an F32 or I32 tensor on {@code device}: on a host device a view of the mapping where
     * possible (owned by the arena the file was opened in), otherwise a new tensor in {@code target}; on a GPU a
     * new tensor in {@code target}, copied from the host form. Named {@code name}.
     *
     * @throws SafetensorsFormatException    for a type sbora4j cannot load, or an I64 value outside the I32 range
     * @throws IllegalArgumentException      if there is no such tensor
     */
    public Tensor tensor(String name, Arena target, Device device) throws SafetensorsFormatException {
        Objects.requireNonNull(target, "target");
        try {
            return load(name, target, device);
        } catch (InternalError | UncheckedIOException e) {
            // Java code read a page of the mapping that the file no longer has: the JVM raises InternalError
            // (Tensor's copies wrap it), where a native read would have been a SIGBUS
            throw changed(name, e);
        }
    }

    /**
     * Tensor {@code name} as {@link #tensor} loads it, but always in memory of its own owned by {@code target},
     * never a view of the mapping: what a job should keep, since no later truncation or rewrite of the file can
     * reach it. The pages of a read-only mapping are released from memory as they are copied (as
     * {@link Tensor#releaseMappedPages} does), so reading a whole file this way holds one copy of it, not two.
     *
     * @throws SafetensorsFormatException also when the file was truncated while being read
     * @throws IllegalArgumentException   if there is no such tensor
     */
    public Tensor read(String name, Arena target, Device device) throws SafetensorsFormatException {
        Tensor t = tensor(name, target, device);
        if (!t.isMapped()) {
            return t; // widened, or copied to a device: memory of its own already
        }
        Tensor copy = Tensor.empty(target, device, t.dtype(), t.shape().dims()).named(name);
        MemorySegment from = t.data(), to = copy.data();
        try {
            for (long off = 0; off < from.byteSize(); off += READ_CHUNK) {
                MemorySegment chunk = from.asSlice(off, Math.min(READ_CHUNK, from.byteSize() - off));
                MemorySegment.copy(chunk, 0, to, off, chunk.byteSize());
                if (chunk.isReadOnly()) { // never a private mapping's: that would drop what was written into it
                    chunk.unload(); // so that the mapped pages of a large tensor and its copy are not all resident
                }
            }
        } catch (InternalError e) {
            throw changed(name, e);
        }
        return copy;
    }

    /**
     * Checks that the file has not been written or truncated in place since it was opened, so that what was read
     * from it is one version of it. A file replaced by another (renamed over it) or deleted passes: the mapping still
     * holds the one that was opened, whole. The check compares the identity, size and modification times the file
     * system keeps, so a write within the same tick of its clock as the previous one can go unseen.
     *
     * @throws IOException naming the file, if it changed
     */
    public void requireUnchanged() throws IOException {
        Stamp now;
        try {
            now = Stamp.of(path);
        } catch (NoSuchFileException e) {
            return;
        }
        if (now.sameFile(stamp) && !now.equals(stamp)) {
            throw new IOException(path + " changed while it was being read (written or truncated in place: "
                    + (now.size() == stamp.size()
                            ? "same size, new modification time"
                            : stamp.size() + " bytes then, " + now.size() + " now")
                    + "); load it again once it is complete");
        }
    }

    private SafetensorsFormatException changed(String name, Throwable cause) {
        return new SafetensorsFormatException(
                path,
                "tensor '" + name + "' could not be read: the file was truncated or rewritten while in use",
                cause);
    }

    private Tensor load(String name, Arena target, Device device) throws SafetensorsFormatException {
        if (!device.isHost()) {
            try (Arena host = Arena.ofConfined()) { // the widened or mapped host form, only until it is copied
                return load(name, host, Device.CPU).copyInto(target, device).named(name);
            }
        }
        TensorInfo info = info(name);
        MemorySegment src = data.asSlice(info.begin(), info.byteSize());
        int[] dims = info.shape();
        long n = info.numel();
        Tensor t = switch (header.dtypes().get(name)) {
            case F32 ->
                viewOrCopy(src, target, device, DType.F32, ElementCodecs.LE_FLOAT, ValueLayout.JAVA_FLOAT, dims);
            case I32 -> viewOrCopy(src, target, device, DType.I32, ElementCodecs.LE_INT, ValueLayout.JAVA_INT, dims);
            case BF16 -> {
                Tensor out = Tensor.empty(target, device, DType.F32, dims);
                ElementCodecs.bf16ToF32(src, out.data(), n);
                yield out;
            }
            case F16 -> {
                Tensor out = Tensor.empty(target, device, DType.F32, dims);
                ElementCodecs.f16ToF32(src, out.data(), n);
                yield out;
            }
            case I64 -> {
                Tensor out = Tensor.empty(target, device, DType.I32, dims);
                long bad = ElementCodecs.i64ToI32(src, out.data(), n);
                if (bad >= 0) {
                    throw new SafetensorsFormatException(
                            path,
                            "tensor '" + name + "': I64 value "
                                    + src.getAtIndex(ElementCodecs.LE_LONG, bad) + " at element " + bad
                                    + " does not fit in I32");
                }
                yield out;
            }
            default ->
                throw new SafetensorsFormatException(
                        path,
                        "tensor '" + name + "' has dtype " + info.dtype()
                                + ", which sbora4j cannot load (supported: F32, BF16, F16, I32, I64)");
        };
        return t.named(name);
    }

    /** A view when the bytes can be used in place (native little-endian order, element-aligned), else a copy. */
    private Tensor viewOrCopy(
            MemorySegment src,
            Arena target,
            Device device,
            DType dtype,
            ValueLayout fileLayout,
            ValueLayout tensorLayout,
            int[] dims) {
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN && src.address() % dtype.bytes() == 0) {
            return Tensor.wrap(src, arena, device, dtype, dims);
        }
        Tensor out = Tensor.empty(target, device, dtype, dims);
        MemorySegment.copy(src, fileLayout, 0, out.data(), tensorLayout, 0, out.numel());
        return out;
    }

    @Override
    public String toString() {
        return "SafetensorsFile(" + path + ", " + header.tensors().size() + " tensors)";
    }
}
