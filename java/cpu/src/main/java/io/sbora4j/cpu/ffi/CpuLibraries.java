package io.sbora4j.cpu.ffi;

import io.sbora4j.backend.natives.BuildInfo;
import io.sbora4j.backend.natives.LibraryExtractor;
import io.sbora4j.backend.natives.LoadedLibrary;
import io.sbora4j.backend.natives.NativeLibraryException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Finds and opens the cpu backend's libraries, once per process: our C kernels ({@code libsbora_native.so}, built by
 * CMake and carried in this module's jar under {@code native/linux-x86_64/} with the {@code libgomp.so.1} it links)
 * and a CBLAS library (OpenBLAS from the {@code org.bytedeco:openblas} jar, or the file named by
 * {@code SBORA_BLAS_LIB}), and connects them ({@link #connect}): GEMMs run on the kernels' threads.
 */
public final class CpuLibraries {

    /** Where our libraries sit inside the jar. */
    public static final String RESOURCE_DIR = "native/linux-x86_64";

    private static final String OPENBLAS_DIR = "org/bytedeco/openblas/linux-x86_64";
    private static final List<String> OPENBLAS_FILES =
            List.of("libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1");

    private CpuLibraries() {}

    private static final class SboraHolder {
        static final LoadedLibrary LIB = openSbora();

        private static LoadedLibrary openSbora() {
            passiveOpenMpWaiting();
            return LoadedLibrary.open(() -> LibraryExtractor.folderOf(
                            CpuLibraries.class,
                            RESOURCE_DIR,
                            List.of("libsbora_native.so", "libgomp.so.1"),
                            List.of(),
                            "native-" + BuildInfo.version(),
                            true)
                    .resolve("libsbora_native.so"));
        }
    }

    private static final class BlasHolder {
        static final LoadedLibrary LIB = openBlas();
    }

    private static final class GemmHolder {
        static final boolean CONNECTED = connectGemm();
    }

    /** Symbols of {@code libsbora_native.so}; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup sboraNative() {
        return SboraHolder.LIB.orThrow("libsbora_native.so");
    }

    /** Symbols of the CBLAS library; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup blas() {
        return BlasHolder.LIB.orThrow("BLAS");
    }

    /**
     * Opens both libraries and hands the BLAS's {@code cblas_sgemm} to our kernels' {@code sb_sgemm}, once; throws
     * {@link NativeLibraryException} with the reason when a library is unavailable.
     */
    public static void connect() {
        sboraNative();
        blas();
        boolean connected = GemmHolder.CONNECTED;
        assert connected;
    }

    /**
     * One pool of threads for GEMMs and kernels: OpenBLAS runs single-threaded, and {@code sb_sgemm} calls it on
     * tiles of C from the kernels' OpenMP team (docs/ARCHITECTURE.md, "Native boundary"). A CBLAS named by
     * {@code SBORA_BLAS_LIB} that is not OpenBLAS has no {@code openblas_set_num_threads}; it must then run
     * single-threaded by its own settings.
     */
    private static boolean connectGemm() {
        int status = sbora_native_h.sb_set_blas_sgemm(blas().findOrThrow("cblas_sgemm"));
        if (status != sbora_native_h.SB_OK) {
            throw new IllegalStateException("sb_set_blas_sgemm failed with status " + status);
        }
        if (blas().find("openblas_set_num_threads").isPresent()) {
            cblas_h.openblas_set_num_threads(1);
        }
        return true;
    }

    /** The state of our kernel library (opened or why not). */
    public static LoadedLibrary sboraNativeStatus() {
        return SboraHolder.LIB;
    }

    /** The state of the BLAS library (opened or why not). */
    public static LoadedLibrary blasStatus() {
        return BlasHolder.LIB;
    }

    /** The version of OpenBLAS this module was built against. */
    public static String openBlasVersion() {
        Properties p = new Properties();
        try (InputStream in = CpuLibraries.class.getResourceAsStream("native.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // informative only: the cache folder is then named "unknown"
        }
        return p.getProperty("openblas.version", "unknown");
    }

    /** One line per library: where it was loaded from, or why it was not. */
    public static String describe() {
        return "sbora_native: " + SboraHolder.LIB.describe() + System.lineSeparator() + "blas: "
                + BlasHolder.LIB.describe();
    }

    /**
     * Sets {@code OMP_WAIT_POLICY=PASSIVE} in the process environment before libgomp starts, unless the user chose
     * a policy: a worker sleeps as soon as its region ends instead of spinning, so the team's idle threads take no
     * core while the JVM, or another process, has work for it (with libgomp's default spinning a training step on a
     * shared 2-core machine ran up to three times slower). libgomp reads the variable once, when it is loaded, so it must
     * be set through the C library here.
     */
    private static void passiveOpenMpWaiting() {
        setenvUnlessSet("OMP_WAIT_POLICY", "PASSIVE");
    }

    /** Sets an environment variable of the process (the C library's, which native libraries read) unless set. */
    private static void setenvUnlessSet(String name, String value) {
        if (System.getenv(name) != null) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(
                    linker.defaultLookup().findOrThrow("setenv"),
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
            assert rc == 0;
        } catch (Throwable e) {
            // only a performance setting: the kernels are correct without it
        }
    }

    private static LoadedLibrary openBlas() {
        // OpenBLAS runs single-threaded (connectGemm); with this it does not even start its pool when it loads.
        setenvUnlessSet("OPENBLAS_NUM_THREADS", "1");
        String explicit = System.getenv("SBORA_BLAS_LIB");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                return LoadedLibrary.unavailable(p, "SBORA_BLAS_LIB=" + explicit + " is not a file");
            }
            return LoadedLibrary.open(p);
        }
        return LoadedLibrary.open(() -> LibraryExtractor.folderOf(
                        CpuLibraries.class,
                        OPENBLAS_DIR,
                        OPENBLAS_FILES,
                        List.of(),
                        "openblas-" + openBlasVersion(),
                        false)
                .resolve("libopenblas.so.0"));
    }
}
