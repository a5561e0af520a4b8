package io.sbora4j.mpi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The few functions of the C library the MPI binding needs: {@code dlopen} with {@code RTLD_GLOBAL} (which
 * {@link java.lang.foreign.SymbolLookup#libraryLookup} does not offer: it opens libraries {@code RTLD_LOCAL}, and
 * Open MPI's plugins then cannot find the symbols of {@code libmpi}), {@code dlsym}, {@code dlerror} and
 * {@code setenv} (for the parameters MPI reads from the environment of the process, which Java cannot change).
 */
@SuppressWarnings("restricted") // every downcall here is restricted: the module needs native access
final class Libc {

    /** {@code RTLD_NOW | RTLD_GLOBAL} on Linux (glibc and musl alike). */
    static final int RTLD_NOW_GLOBAL = 0x2 | 0x100;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle DLOPEN = downcall("dlopen", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle DLSYM = downcall("dlsym", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DLERROR = downcall("dlerror", FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle SETENV =
            downcall("setenv", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    private Libc() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment f = LINKER.defaultLookup()
                .find(name)
                .orElseThrow(() -> new MpiUnavailableException("the C library has no " + name + "()"));
        return LINKER.downcallHandle(f, fd);
    }

    /**
     * {@code dlopen(name, RTLD_NOW | RTLD_GLOBAL)}: the handle, or empty with {@link #lastError()} saying why. A
     * name without a slash is looked for where the dynamic linker looks ({@code LD_LIBRARY_PATH}, the cache).
     */
    static Optional<MemorySegment> dlopenGlobal(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = (MemorySegment) DLOPEN.invokeExact(a.allocateFrom(name), RTLD_NOW_GLOBAL);
            return h.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(h);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The address of {@code symbol} in the library of {@code handle}, or empty. */
    static Optional<MemorySegment> dlsym(MemorySegment handle, String symbol) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = (MemorySegment) DLSYM.invokeExact(handle, a.allocateFrom(symbol));
            return s.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** What the last failed {@code dlopen} or {@code dlsym} of this thread said, on one line. */
    static String lastError() {
        try {
            MemorySegment s = (MemorySegment) DLERROR.invokeExact();
            if (s.equals(MemorySegment.NULL)) {
                return "unknown error";
            }
            return s.reinterpret(Integer.MAX_VALUE)
                    .getString(0)
                    .replaceAll("\\s+", " ")
                    .trim();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code setenv(name, value, 0)}: sets a variable of the process's C environment unless it is already set, so
     * that what the user exported wins. Java's {@link System#getenv} does not see the change; C code does.
     */
    static void setenvIfUnset(String name, String value) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) SETENV.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
