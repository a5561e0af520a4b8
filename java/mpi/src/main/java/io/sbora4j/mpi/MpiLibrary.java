package io.sbora4j.mpi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sbora4j.mpi.MpiAbi.Handle;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The raw MPI functions of one loaded library, as downcalls whose handle arguments ({@code MPI_COMM_WORLD}, the
 * datatype, {@code MPI_SUM}) are already bound for its {@link MpiAbi}: what is left are buffers, counts and ints, the
 * same for every ABI. Every function returns the MPI error code ({@code MPI_SUCCESS} is 0); checking it is the
 * caller's job ({@link MpiCommunicator}).
 *
 * <p>The library is opened with {@code dlopen(RTLD_NOW | RTLD_GLOBAL)}: Open MPI opens its components
 * ({@code mca_*.so}) with {@code dlopen} later, and they resolve symbols of {@code libmpi} and {@code libopen-pal}
 * through the global namespace.
 */
@SuppressWarnings("restricted") // every downcall here is restricted: the module needs native access
final class MpiLibrary {

    /** The system property naming the MPI library to load (a path), instead of looking for the usual names. */
    static final String LIBRARY_PROPERTY = "sbora.mpi.library";

    /** The names looked for: Open MPI 3 to 5, MPICH 3 and 4 (and Intel MPI, MVAPICH), then the unversioned one. */
    static final List<String> NAMES = List.of("libmpi.so.40", "libmpi.so.12", "libmpi.so");

    private static final Linker LINKER = Linker.nativeLinker();

    private final String source;
    private final MemorySegment dl;
    private final MpiAbi abi;
    private final String version;

    private final MethodHandle initThread;
    private final MethodHandle initialized;
    private final MethodHandle finalized;
    private final MethodHandle queryThread;
    private final MethodHandle commRank;
    private final MethodHandle commSize;
    private final MethodHandle allreduceFloat;
    private final MethodHandle allreduceDouble;
    private final MethodHandle bcastBytes;
    private final MethodHandle barrier;
    private final MethodHandle abort;
    private final MethodHandle finalizeMpi;
    private final MethodHandle errorString;
    private final MethodHandle setErrorsReturn;
    private final MethodHandle wtime;

    private MpiLibrary(String source, MemorySegment dl, MpiAbi abi, String version) {
        this.source = source;
        this.dl = dl;
        this.abi = abi;
        this.version = version;
        MemoryLayout h = abi.handleLayout();
        Object world = handle(Handle.COMM_WORLD);
        initThread = fn("MPI_Init_thread", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        initialized = fn("MPI_Initialized", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        finalized = fn("MPI_Finalized", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        queryThread = fn("MPI_Query_thread", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commRank = bind(fn("MPI_Comm_rank", FunctionDescriptor.of(JAVA_INT, h, ADDRESS)), 0, world);
        commSize = bind(fn("MPI_Comm_size", FunctionDescriptor.of(JAVA_INT, h, ADDRESS)), 0, world);
        // int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm)
        MethodHandle allreduce =
                fn("MPI_Allreduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, h, h, h));
        MethodHandle sumInWorld = MethodHandles.insertArguments(allreduce, 4, handle(Handle.SUM), world);
        allreduceFloat = bind(sumInWorld, 3, handle(Handle.FLOAT));
        allreduceDouble = bind(sumInWorld, 3, handle(Handle.DOUBLE));
        // int MPI_Bcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm)
        MethodHandle bcast = fn("MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, h, JAVA_INT, h));
        bcastBytes = bind(bind(bcast, 4, world), 2, handle(Handle.BYTE));
        barrier = bind(fn("MPI_Barrier", FunctionDescriptor.of(JAVA_INT, h)), 0, world);
        abort = bind(fn("MPI_Abort", FunctionDescriptor.of(JAVA_INT, h, JAVA_INT)), 0, world);
        finalizeMpi = fn("MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        errorString = fn("MPI_Error_string", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle setErrhandler = fn("MPI_Comm_set_errhandler", FunctionDescriptor.of(JAVA_INT, h, h));
        setErrorsReturn = MethodHandles.insertArguments(setErrhandler, 0, world, handle(Handle.ERRORS_RETURN));
        wtime = fn("MPI_Wtime", FunctionDescriptor.of(JAVA_DOUBLE));
    }

    // ---------------------------------------------------------------- finding the library

    /**
     * Opens the MPI library: the file {@value #LIBRARY_PROPERTY} names when it is set, else the first of
     * {@link #NAMES} the dynamic linker finds.
     *
     * @throws MpiUnavailableException with a one-line reason when there is none or it is not a usable MPI
     */
    static MpiLibrary open() {
        String override = System.getProperty(LIBRARY_PROPERTY);
        return open(override == null || override.isBlank() ? null : override.strip(), NAMES);
    }

    /** {@link #open()} with the property's value ({@code null}: not set) and the names to try given. */
    static MpiLibrary open(String override, List<String> names) {
        if (override != null) {
            Path p = Path.of(override).toAbsolutePath();
            if (!Files.isRegularFile(p)) {
                throw new MpiUnavailableException(
                        "no MPI library found: " + LIBRARY_PROPERTY + "=" + override + " is not a file");
            }
            MemorySegment dl = Libc.dlopenGlobal(p.toString())
                    .orElseThrow(() -> new MpiUnavailableException("no MPI library found: " + LIBRARY_PROPERTY + "="
                            + override + " cannot be opened: " + Libc.lastError()));
            return of(p.toString(), dl);
        }
        List<String> failures = new ArrayList<>();
        for (String name : names) {
            Optional<MemorySegment> dl = Libc.dlopenGlobal(name);
            if (dl.isPresent()) {
                return of(name, dl.get());
            }
            String why = Libc.lastError();
            // "cannot open shared object file: No such file or directory" only says it is not there
            if (!why.contains("No such file")) {
                failures.add(why);
            }
        }
        throw new MpiUnavailableException("no MPI library found: tried " + String.join(", ", names)
                + (failures.isEmpty() ? "" : " (" + String.join("; ", failures) + ")")
                + "; install Open MPI or MPICH, or set -D" + LIBRARY_PROPERTY + " to the path of libmpi.so");
    }

    /** The library behind an open {@code dlopen} handle, once its version string has told its ABI. */
    private static MpiLibrary of(String source, MemorySegment dl) {
        MemorySegment getVersion = Libc.dlsym(dl, "MPI_Get_library_version")
                .orElseThrow(() -> new MpiUnavailableException(
                        source + " is not an MPI 3 library: it has no MPI_Get_library_version"));
        String version = libraryVersion(getVersion);
        MpiAbi abi = MpiAbi.detect(version)
                .or(() -> Libc.dlsym(dl, "ompi_mpi_comm_world").map(s -> MpiAbi.OPEN_MPI))
                .orElseThrow(() -> new MpiUnavailableException(source + " is an MPI library of unknown ABI ("
                        + MpiAbi.shortVersion(version) + "): neither Open MPI nor MPICH"));
        for (Handle h : Handle.values()) {
            Optional<String> symbol = abi.symbolOf(h);
            if (symbol.isPresent() && Libc.dlsym(dl, symbol.get()).isEmpty()) {
                throw new MpiUnavailableException(source + " says it is " + abi.family() + " ("
                        + MpiAbi.shortVersion(version) + ") but has no symbol " + symbol.get());
            }
        }
        try {
            return new MpiLibrary(source, dl, abi, version);
        } catch (MpiUnavailableException e) {
            throw new MpiUnavailableException(source + ": " + e.getMessage());
        }
    }

    private static String libraryVersion(MemorySegment getVersion) {
        MethodHandle mh = LINKER.downcallHandle(getVersion, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MpiAbi.MAX_STRING + 1);
            MemorySegment len = a.allocate(JAVA_INT);
            int rc = (int) mh.invokeExact(buf, len);
            if (rc != 0) {
                throw new MpiUnavailableException("MPI_Get_library_version failed with error code " + rc);
            }
            // the buffer is zeroed and one byte longer than any library writes: the string ends with a NUL
            return buf.getString(0).strip();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private Object handle(Handle h) {
        return abi.handle(h, s -> Libc.dlsym(dl, s));
    }

    private MethodHandle fn(String name, FunctionDescriptor fd) {
        MemorySegment f = Libc.dlsym(dl, name)
                .orElseThrow(() -> new MpiUnavailableException("the MPI library has no function " + name));
        return LINKER.downcallHandle(f, fd);
    }

    private static MethodHandle bind(MethodHandle mh, int pos, Object value) {
        return MethodHandles.insertArguments(mh, pos, value);
    }

    // ---------------------------------------------------------------- what it is

    /** Where it was loaded from: the name given to {@code dlopen}. */
    String source() {
        return source;
    }

    MpiAbi abi() {
        return abi;
    }

    /** {@code MPI_Get_library_version}, which MPI allows before {@code MPI_Init}. */
    String version() {
        return version;
    }

    // ---------------------------------------------------------------- the raw calls (each returns the error code)

    /** {@code MPI_Init_thread(NULL, NULL, required, &provided)}; {@code provided} is one int. */
    int initThread(int required, MemorySegment provided) {
        try {
            return (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, required, provided);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Initialized}, as a boolean (it cannot fail in practice; a failure reads as not initialised). */
    boolean initialized() {
        return flag(initialized);
    }

    /** {@code MPI_Finalized}, as a boolean. */
    boolean finalized() {
        return flag(finalized);
    }

    private static boolean flag(MethodHandle mh) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            int rc = (int) mh.invokeExact(out);
            return rc == 0 && out.get(JAVA_INT, 0) != 0;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Query_thread(out)}: the thread level of an MPI someone else initialised. */
    int queryThread(MemorySegment out) {
        try {
            return (int) queryThread.invokeExact(out);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Comm_rank(MPI_COMM_WORLD, out)}. */
    int commRank(MemorySegment out) {
        try {
            return (int) commRank.invokeExact(out);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Comm_size(MPI_COMM_WORLD, out)}. */
    int commSize(MemorySegment out) {
        try {
            return (int) commSize.invokeExact(out);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)}. */
    int allreduceFloatInPlace(MemorySegment buf, int count) {
        try {
            return (int) allreduceFloat.invokeExact(abi.inPlace(), buf, count);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD)}. */
    int allreduceDoubleInPlace(MemorySegment buf, int count) {
        try {
            return (int) allreduceDouble.invokeExact(abi.inPlace(), buf, count);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Bcast(buf, count, MPI_BYTE, root, MPI_COMM_WORLD)}. */
    int bcastBytes(MemorySegment buf, int count, int root) {
        try {
            return (int) bcastBytes.invokeExact(buf, count, root);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Barrier(MPI_COMM_WORLD)}. */
    int barrier() {
        try {
            return (int) barrier.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Abort(MPI_COMM_WORLD, code)}: normally does not return. */
    int abort(int code) {
        try {
            return (int) abort.invokeExact(code);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Finalize()}. */
    int finalizeMpi() {
        try {
            return (int) finalizeMpi.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)}: errors come back as codes. */
    int setErrorsReturn() {
        try {
            return (int) setErrorsReturn.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Wtime()}: seconds since some time in the past. */
    double wtime() {
        try {
            return (double) wtime.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code MPI_Error_string(code)}, on one line; "error code N" when the library cannot say. */
    String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MpiAbi.MAX_STRING + 1);
            MemorySegment len = a.allocate(JAVA_INT);
            int rc = (int) errorString.invokeExact(code, buf, len);
            String s = rc == 0 ? buf.getString(0).replaceAll("\\s+", " ").strip() : "";
            return s.isEmpty() ? "error code " + code : s + " (error code " + code + ")";
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
