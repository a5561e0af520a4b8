package io.sbora4j.mpi;

import io.sbora4j.dist.Communicator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * MPI in this process: whether it was started as a rank of an MPI job, the library found at run time, and the world
 * communicator. The library is looked for once per process: the file named by the system property
 * {@code sbora.mpi.library}, else {@code libmpi.so.40} (Open MPI), {@code libmpi.so.12} (MPICH, Intel MPI, MVAPICH)
 * and {@code libmpi.so}, where the dynamic linker finds them ({@code LD_LIBRARY_PATH}, the system's folders).
 *
 * <p>A run ends with {@link Communicator#close()} on success and {@link Communicator#abort} on failure; MPI is not
 * finalised at exit by itself (see {@link MpiCommunicator}).
 *
 * <p>The binding calls native code: the JVM needs {@code --enable-native-access=io.sbora4j.mpi} (on the module path)
 * or {@code --enable-native-access=ALL-UNNAMED} (on the class path).
 */
public final class Mpi {

    /**
     * Variables the launchers set in each rank's environment: Open MPI's {@code mpirun}, PMIx launchers (Open MPI 5,
     * {@code srun --mpi=pmix}), MPICH's Hydra and Intel MPI ({@code PMI_*}, also {@code srun --mpi=pmi2}), MVAPICH.
     */
    static final List<String> LAUNCHER_VARIABLES = List.of(
            "OMPI_COMM_WORLD_SIZE",
            "OMPI_COMM_WORLD_RANK",
            "PMIX_RANK",
            "PMI_RANK",
            "PMI_SIZE",
            "MV2_COMM_WORLD_SIZE",
            "MV2_COMM_WORLD_RANK");

    private static Communicator world;
    private static MpiUnavailableException initFailure;

    private Mpi() {}

    /** The library, opened on first use. */
    private static final class Library {
        static final MpiLibrary LIB;
        static final MpiUnavailableException FAILURE;

        static {
            MpiLibrary lib = null;
            MpiUnavailableException failure = null;
            try {
                lib = MpiLibrary.open();
            } catch (MpiUnavailableException e) {
                failure = e;
            } catch (ExceptionInInitializerError e) { // Libc: the C library lacks dlopen or setenv
                Throwable cause = e.getCause() == null ? e : e.getCause();
                failure = cause instanceof MpiUnavailableException m
                        ? m
                        : new MpiUnavailableException(
                                "the MPI library cannot be loaded: " + MpiCommunicator.oneLine(cause.toString()), e);
            } catch (RuntimeException | LinkageError e) { // e.g. native access denied to this module
                failure = new MpiUnavailableException(
                        "the MPI library cannot be loaded: " + MpiCommunicator.oneLine(e.toString()), e);
            }
            LIB = lib;
            FAILURE = failure;
        }

        static MpiLibrary get() {
            if (LIB == null) {
                throw new MpiUnavailableException(FAILURE.getMessage(), FAILURE);
            }
            return LIB;
        }
    }

    /**
     * True when this process was started by {@code mpirun}, {@code mpiexec} or {@code srun} as a rank of an MPI job
     * (its environment has {@code OMPI_COMM_WORLD_SIZE}, {@code PMIX_RANK}, {@code PMI_RANK}, {@code PMI_SIZE} or
     * {@code MV2_COMM_WORLD_SIZE}). Loads nothing.
     */
    public static boolean launched() {
        return launched(System.getenv());
    }

    static boolean launched(Map<String, String> env) {
        return LAUNCHER_VARIABLES.stream().anyMatch(v -> env.get(v) != null);
    }

    /**
     * Loads the library and initialises MPI ({@code MPI_Init_thread}), once per process, and returns the world
     * communicator: the same instance on later calls. A process not started by a launcher is a job of one rank
     * (MPI's singleton initialisation).
     *
     * @throws MpiUnavailableException with a one-line reason when there is no usable MPI library or it cannot be
     *     initialised
     */
    public static synchronized Communicator world() {
        if (world != null) {
            return world;
        }
        if (initFailure != null) {
            throw new MpiUnavailableException(initFailure.getMessage(), initFailure);
        }
        try {
            world = MpiCommunicator.init(Library.get());
        } catch (MpiUnavailableException e) {
            initFailure = e;
            throw e;
        }
        return world;
    }

    /**
     * Why MPI cannot be used in this process, in one line, or empty when it can: the library is loaded (not
     * initialised) to find out. After a failed {@link #world()}, the reason it failed.
     */
    public static Optional<String> unavailableReason() {
        synchronized (Mpi.class) {
            if (initFailure != null) {
                return Optional.of(initFailure.getMessage());
            }
        }
        return Library.LIB == null ? Optional.of(Library.FAILURE.getMessage()) : Optional.empty();
    }

    /** The library's version string ({@code MPI_Get_library_version}, which needs no initialisation), or empty. */
    public static Optional<String> libraryVersion() {
        return Library.LIB == null ? Optional.empty() : Optional.of(Library.LIB.version());
    }
}
