package io.sbora4j.cuda.ffi;

import io.sbora4j.backend.natives.BuildInfo;
import io.sbora4j.backend.natives.LibraryExtractor;
import io.sbora4j.backend.natives.LoadedLibrary;
import io.sbora4j.backend.natives.NativeLibraryException;
import java.io.IOException;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds and opens the cuda backend's libraries, once per process: our CUDA kernels ({@code libsbora_cuda.so}, built
 * by CMake where nvcc is found and carried in this module's jar under {@code native/linux-x86_64/}, or the file named
 * by the system property {@value #CUDA_LIBRARY_PROPERTY}, e.g. the CPU-emulated build the Java tests run on) and
 * cuBLAS and NCCL (for
 * {@code NcclCommunicator}), looked for at run time in this order: {@code SBORA_CUDA_LIB_DIR}, the folders of {@code LD_LIBRARY_PATH},
 * {@code /usr/local/cuda/lib64}, and the {@code nvidia/cublas/lib} (or {@code nvidia/nccl/lib}) folders of Python wheels (where PyTorch's CUDA
 * libraries live on most GPU machines). When none has it, the reason lists every folder looked in.
 */
public final class CudaLibraries {

    /** A {@code libsbora_cuda.so} to load instead of the one carried in the jar. */
    public static final String CUDA_LIBRARY_PROPERTY = "sbora.cuda.library";

    private static final String RESOURCE_DIR = "native/linux-x86_64";
    private static final List<String> NAMES = List.of("libcublas.so", "libcublas.so.13", "libcublas.so.12");

    private CudaLibraries() {}

    private static final class KernelsHolder {
        static final LoadedLibrary LIB = openKernels();
    }

    private static final class CublasHolder {
        static final LoadedLibrary LIB = openCublas();
    }

    private static final class NcclHolder {
        static final LoadedLibrary LIB = openNccl();
    }

    /** Symbols of {@code libsbora_cuda.so}; throws {@link NativeLibraryException} with the reason when unavailable. */
    public static SymbolLookup sboraCuda() {
        return KernelsHolder.LIB.orThrow("libsbora_cuda.so");
    }

    /** Symbols of cuBLAS; throws {@link NativeLibraryException} saying where it was looked for. */
    public static SymbolLookup cublas() {
        return CublasHolder.LIB.orThrow("cuBLAS");
    }

    /** Symbols of NCCL ({@code libnccl.so.2}); throws {@link NativeLibraryException} saying where it was looked for. */
    public static SymbolLookup nccl() {
        return NcclHolder.LIB.orThrow("NCCL");
    }

    /** The state of NCCL. */
    public static LoadedLibrary ncclStatus() {
        return NcclHolder.LIB;
    }

    /** The state of the CUDA kernel library. */
    public static LoadedLibrary sboraCudaStatus() {
        return KernelsHolder.LIB;
    }

    /** The state of cuBLAS. */
    public static LoadedLibrary cublasStatus() {
        return CublasHolder.LIB;
    }

    /** One line per library: where it was loaded from, or why it was not. */
    public static String describe() {
        String from = override() != null && KernelsHolder.LIB.isLoaded() ? " (-D" + CUDA_LIBRARY_PROPERTY + ")" : "";
        return "sbora_cuda: " + KernelsHolder.LIB.describe() + from + System.lineSeparator() + "cublas: "
                + CublasHolder.LIB.describe() + System.lineSeparator() + "nccl: " + NcclHolder.LIB.describe();
    }

    private static String override() {
        String p = System.getProperty(CUDA_LIBRARY_PROPERTY);
        return p == null || p.isBlank() ? null : p;
    }

    /** The file named by {@value #CUDA_LIBRARY_PROPERTY} when it is set, else the jar's copy. */
    private static LoadedLibrary openKernels() {
        String override = override();
        if (override != null) {
            Path p = Path.of(override).toAbsolutePath();
            if (!Files.isRegularFile(p)) {
                return LoadedLibrary.unavailable(p, CUDA_LIBRARY_PROPERTY + "=" + override + " is not a file");
            }
            return LoadedLibrary.open(p);
        }
        if (CudaLibraries.class.getClassLoader().getResource(RESOURCE_DIR + "/libsbora_cuda.so") == null) {
            return LoadedLibrary.unavailable(
                    null, "libsbora_cuda.so was not built (nvcc was not found when this jar was built)");
        }
        return LoadedLibrary.open(() -> LibraryExtractor.folderOf(
                        CudaLibraries.class,
                        RESOURCE_DIR,
                        List.of("libsbora_cuda.so"),
                        List.of(),
                        "cuda-" + BuildInfo.version(),
                        true)
                .resolve("libsbora_cuda.so"));
    }

    private static LoadedLibrary openCublas() {
        return openFirst("cuBLAS", NAMES, searchFolders("cublas"));
    }

    private static LoadedLibrary openNccl() {
        Set<Path> dirs = searchFolders("nccl");
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu")); // Debian's and NVIDIA's apt packages put it here
        return openFirst("NCCL", List.of("libnccl.so.2", "libnccl.so"), dirs);
    }

    private static LoadedLibrary openFirst(String what, List<String> names, Set<Path> dirs) {
        for (Path d : dirs) {
            for (String n : names) {
                Path f = d.resolve(n);
                if (Files.isRegularFile(f)) {
                    LoadedLibrary l = LoadedLibrary.open(f);
                    if (l.isLoaded()) {
                        return l;
                    }
                }
            }
        }
        return LoadedLibrary.unavailable(
                null,
                what + " (" + String.join(", ", names) + ") not found in " + dirs
                        + "; set SBORA_CUDA_LIB_DIR to the folder that holds it");
    }

    /** Where cuBLAS or NCCL may be, in order; {@code wheel} names the library's folder in NVIDIA's Python wheels. */
    static Set<Path> searchFolders(String wheel) {
        Set<Path> dirs = new LinkedHashSet<>();
        String explicit = System.getenv("SBORA_CUDA_LIB_DIR");
        if (explicit != null && !explicit.isBlank()) {
            dirs.add(Path.of(explicit));
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String p : ld.split(":")) {
                if (!p.isBlank()) {
                    dirs.add(Path.of(p));
                }
            }
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        for (Path root : pythonRoots()) {
            dirs.add(root.resolve("nvidia/" + wheel + "/lib"));
        }
        return dirs;
    }

    /** site-packages and dist-packages folders of the usual Python installations. */
    private static List<Path> pythonRoots() {
        List<Path> bases = new ArrayList<>(List.of(
                Path.of("/usr/lib"),
                Path.of("/usr/local/lib"),
                Path.of("/opt/conda/lib"),
                Path.of(System.getProperty("user.home"), ".local/lib")));
        String venv = System.getenv("VIRTUAL_ENV");
        if (venv != null) {
            bases.add(Path.of(venv, "lib"));
        }
        List<Path> roots = new ArrayList<>();
        for (Path b : bases) {
            if (!Files.isDirectory(b)) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(b, "python3*")) {
                for (Path py : ds) {
                    roots.add(py.resolve("site-packages"));
                    roots.add(py.resolve("dist-packages"));
                }
            } catch (IOException ignored) {
                // an unreadable folder is one place fewer to look
            }
        }
        return roots;
    }
}
