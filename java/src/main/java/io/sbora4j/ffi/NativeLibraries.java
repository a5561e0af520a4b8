package io.sbora4j.ffi;

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
import java.util.Optional;
import java.util.Properties;

/**
 * Finds and opens the native libraries, once per process: our CPU kernels ({@code libsbora_native.so}, built by
 * CMake and carried in the jar under {@code native/linux-x86_64/}) and a CBLAS library (OpenBLAS from the
 * {@code org.bytedeco:openblas} jar, or the file named by {@code SBORA_BLAS_LIB}), and, where present, the CUDA
 * kernels ({@code libsbora_cuda.so}, beside {@code libsbora_native.so}, or the file named by the system property
 * {@value #CUDA_LIBRARY_PROPERTY}, e.g. the CPU-emulated build of cuda-kernels/emu that the Java tests of the cuda
 * backend run on) and cuBLAS ({@link CudaLibraries}).
 *
 * <p>A library that cannot be loaded is remembered with its reason; every later request fails fast with the same
 * message, and {@link #describe()} reports it for {@code sbora info}.
 */
public final class NativeLibraries {

    /** Where our libraries sit inside the jar. */
    public static final String RESOURCE_DIR = "native/linux-x86_64";
    /** A {@code libsbora_cuda.so} to load instead of the one carried in the jar. */
    public static final String CUDA_LIBRARY_PROPERTY = "sbora.cuda.library";
    private static final String OPENBLAS_DIR = "org/bytedeco/openblas/linux-x86_64";
    private static final List<String> OPENBLAS_FILES =
            List.of("libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1");

    private NativeLibraries() {}

    /** A library opened for the life of the process, or the reason it could not be. */
    public record Loaded(Optional<SymbolLookup> lookup, Path path, String problem) {
        SymbolLookup orThrow(String what) {
            return lookup.orElseThrow(() -> new NativeLibraryException(what + " unavailable: " + problem));
        }
    }

    private static final class SboraHolder {
        static final Loaded LIB = openSbora();

        private static Loaded openSbora() {
            passiveOpenMpWaiting();
            return open("libsbora_native.so", () -> LibraryExtractor.folderOf(
                RESOURCE_DIR, List.of("libsbora_native.so", "libgomp.so.1"), List.of("libsbora_cuda.so"),
                "native-" + properties().getProperty("sbora4j.version", "dev"), true));
        }
    }

    private static final class BlasHolder {
        static final Loaded LIB = openBlas();
    }

    private static final class CudaHolder {
        static final Loaded LIB = openCudaKernels();
    }

    private static final class CublasHolder {
        static final Loaded LIB = CudaLibraries.openCublas();
    }

    /** Symbols of {@code libsbora_native.so}; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup sboraNative() {
        return SboraHolder.LIB.orThrow("libsbora_native.so");
    }

    /** Symbols of the CBLAS library; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup blas() {
        return BlasHolder.LIB.orThrow("BLAS");
    }

    /** Symbols of {@code libsbora_cuda.so}; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup sboraCuda() {
        return CudaHolder.LIB.orThrow("libsbora_cuda.so");
    }

    /** Symbols of cuBLAS; throws {@link NativeLibraryException} saying where it was looked for. */
    public static SymbolLookup cublas() {
        return CublasHolder.LIB.orThrow("cuBLAS");
    }

    /** The state of the CUDA kernel library. */
    public static Loaded sboraCudaStatus() {
        return CudaHolder.LIB;
    }

    /** The state of cuBLAS. */
    public static Loaded cublasStatus() {
        return CublasHolder.LIB;
    }

    /** The state of our kernel library (opened or why not). */
    public static Loaded sboraNativeStatus() {
        return SboraHolder.LIB;
    }

    /** The state of the BLAS library (opened or why not). */
    public static Loaded blasStatus() {
        return BlasHolder.LIB;
    }

    /** The folder our native libraries were loaded from, if they were. */
    public static Optional<Path> nativeFolder() {
        Loaded l = SboraHolder.LIB;
        return l.lookup().isPresent() ? Optional.of(l.path().getParent()) : Optional.empty();
    }

    /** Versions the build recorded: {@code sbora4j.version}, {@code openblas.version}. */
    public static Properties properties() {
        Properties p = new Properties();
        try (InputStream in = NativeLibraries.class.getResourceAsStream("native.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // versions are informative only; extraction keys fall back to content hashes
        }
        return p;
    }

    /** One line per library: where it was loaded from, or why it was not. */
    public static String describe() {
        String nl = System.lineSeparator();
        String cudaFrom = cudaLibraryOverride() != null && CudaHolder.LIB.lookup().isPresent()
                ? " (-D" + CUDA_LIBRARY_PROPERTY + ")" : "";
        return "sbora_native: " + line(SboraHolder.LIB) + nl + "blas: " + line(BlasHolder.LIB) + nl + "sbora_cuda: "
                + line(CudaHolder.LIB) + cudaFrom + nl + "cublas: " + line(CublasHolder.LIB);
    }

    private static String line(Loaded l) {
        return l.lookup().isPresent() ? l.path().toString() : "unavailable (" + l.problem() + ")";
    }

    /**
     * Sets {@code OMP_WAIT_POLICY=PASSIVE} in the process environment before libgomp starts, unless the user chose
     * a policy. By default OpenMP threads spin after each parallel region, and on a machine with few cores they take
     * the cores OpenBLAS's threads need for the next GEMM: a training step ran ten times slower that way. libgomp
     * reads the variable once, when it is loaded, so it must be set through the C library here.
     */
    private static void passiveOpenMpWaiting() {
        if (System.getenv("OMP_WAIT_POLICY") != null) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().findOrThrow("setenv"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT));
            int rc = (int) setenv.invokeExact(arena.allocateFrom("OMP_WAIT_POLICY"), arena.allocateFrom("PASSIVE"), 0);
            assert rc == 0;
        } catch (Throwable e) {
            // only a performance setting: the kernels are correct without it
        }
    }

    private interface FolderSource {
        Path folder();
    }

    private static Loaded open(String file, FolderSource source) {
        Path path = null;
        try {
            path = source.folder().resolve(file);
            return new Loaded(Optional.of(SymbolLookup.libraryLookup(path, Arena.global())), path, null);
        } catch (NativeLibraryException e) {
            return new Loaded(Optional.empty(), path, e.getMessage());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            String why = e instanceof IllegalCallerException
                    ? "native access is not enabled (run java with --enable-native-access=ALL-UNNAMED"
                      + " or =io.sbora4j)"
                    : "cannot open " + path + ": " + e.getMessage();
            return new Loaded(Optional.empty(), path, why);
        }
    }

    private static String cudaLibraryOverride() {
        String p = System.getProperty(CUDA_LIBRARY_PROPERTY);
        return p == null || p.isBlank() ? null : p;
    }

    /**
     * The file named by {@value #CUDA_LIBRARY_PROPERTY} when it is set, else libsbora_cuda.so beside
     * libsbora_native.so, where it is when CMake found nvcc at build time.
     */
    private static Loaded openCudaKernels() {
        String override = cudaLibraryOverride();
        if (override != null) {
            Path p = Path.of(override).toAbsolutePath();
            if (!Files.isRegularFile(p)) {
                return new Loaded(Optional.empty(), p, CUDA_LIBRARY_PROPERTY + "=" + override + " is not a file");
            }
            return openAt(p);
        }
        Loaded base = SboraHolder.LIB;
        if (base.lookup().isEmpty()) {
            return new Loaded(Optional.empty(), null, "the native library folder is unavailable: " + base.problem());
        }
        Path p = base.path().getParent().resolve("libsbora_cuda.so");
        if (!Files.isRegularFile(p)) {
            return new Loaded(Optional.empty(), p, "libsbora_cuda.so was not built (nvcc was not found when this"
                    + " jar was built)");
        }
        return open("libsbora_cuda.so", p::getParent);
    }

    static Loaded openAt(Path file) {
        return open(file.getFileName().toString(), file::getParent);
    }

    private static Loaded openBlas() {
        String explicit = System.getenv("SBORA_BLAS_LIB");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                return new Loaded(Optional.empty(), p, "SBORA_BLAS_LIB=" + explicit + " is not a file");
            }
            return open(p.getFileName().toString(), p::getParent);
        }
        return open("libopenblas.so.0", () -> LibraryExtractor.folderOf(OPENBLAS_DIR, OPENBLAS_FILES, List.of(),
                "openblas-" + properties().getProperty("openblas.version", "unknown"), false));
    }
}
