package io.sbora4j.ffi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds cuBLAS at run time, in this order: {@code SBORA_CUDA_LIB_DIR}, the folders of {@code LD_LIBRARY_PATH},
 * {@code /usr/local/cuda/lib64}, and the {@code nvidia/cublas/lib} folders of Python wheels (where PyTorch's
 * CUDA libraries live on most GPU machines). When none has it, the reason lists every folder looked in.
 */
final class CudaLibraries {

    private static final List<String> NAMES = List.of("libcublas.so", "libcublas.so.13", "libcublas.so.12");

    private CudaLibraries() {}

    static NativeLibraries.Loaded openCublas() {
        Set<Path> dirs = searchFolders();
        for (Path d : dirs) {
            for (String n : NAMES) {
                Path f = d.resolve(n);
                if (Files.isRegularFile(f)) {
                    NativeLibraries.Loaded l = NativeLibraries.openAt(f);
                    if (l.lookup().isPresent()) {
                        return l;
                    }
                }
            }
        }
        return new NativeLibraries.Loaded(Optional.empty(), null, "cuBLAS (" + String.join(", ", NAMES)
                + ") not found in " + dirs + "; set SBORA_CUDA_LIB_DIR to the folder that holds it");
    }

    static Set<Path> searchFolders() {
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
            dirs.add(root.resolve("nvidia/cublas/lib"));
        }
        return dirs;
    }

    /** site-packages and dist-packages folders of the usual Python installations. */
    private static List<Path> pythonRoots() {
        List<Path> bases = new ArrayList<>(List.of(Path.of("/usr/lib"), Path.of("/usr/local/lib"),
                Path.of("/opt/conda/lib"), Path.of(System.getProperty("user.home"), ".local/lib")));
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
