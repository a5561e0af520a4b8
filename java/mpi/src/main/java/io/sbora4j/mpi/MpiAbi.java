package io.sbora4j.mpi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The two binary interfaces of MPI libraries in use, which differ in what a handle ({@code MPI_Comm},
 * {@code MPI_Datatype}, {@code MPI_Op}, {@code MPI_Errhandler}) is: Open MPI's is a pointer, the address of a global
 * object of {@code libmpi} ({@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world}); MPICH's, shared by Intel MPI,
 * MVAPICH and Cray MPICH, is a 32-bit int whose constants are fixed in {@code mpi.h}. The values here are those of
 * {@code ompi/include/mpi.h.in} (Open MPI) and {@code src/include/mpi.h.in} (MPICH); the function signatures are
 * the same in both, apart from the handle types. Thread levels and {@code MPI_SUCCESS} are equal in both.
 */
enum MpiAbi {
    /** Open MPI (and the vendor MPIs built on it): handles are addresses of symbols of {@code libmpi}. */
    OPEN_MPI(
            "Open MPI",
            ValueLayout.ADDRESS,
            MemorySegment.ofAddress(1),
            Map.of(
                    Handle.COMM_WORLD, "ompi_mpi_comm_world",
                    Handle.FLOAT, "ompi_mpi_float",
                    Handle.DOUBLE, "ompi_mpi_double",
                    Handle.BYTE, "ompi_mpi_byte",
                    Handle.SUM, "ompi_mpi_op_sum",
                    Handle.ERRORS_RETURN, "ompi_mpi_errors_return")),
    /** MPICH, Intel MPI, MVAPICH, Cray MPICH: handles are ints. */
    MPICH(
            "MPICH",
            ValueLayout.JAVA_INT,
            MemorySegment.ofAddress(-1L),
            Map.of(
                    Handle.COMM_WORLD, 0x44000000,
                    Handle.FLOAT, 0x4c00040a,
                    Handle.DOUBLE, 0x4c00080b,
                    Handle.BYTE, 0x4c00010d,
                    Handle.SUM, 0x58000003,
                    Handle.ERRORS_RETURN, 0x54000001));

    /** The predefined handles the binding uses. */
    enum Handle {
        COMM_WORLD,
        FLOAT,
        DOUBLE,
        BYTE,
        SUM,
        ERRORS_RETURN
    }

    /** {@code MPI_THREAD_FUNNELED}: only the thread that initialised MPI calls it. */
    static final int THREAD_FUNNELED = 1;
    /** {@code MPI_THREAD_SERIALIZED}: any thread calls MPI, one at a time. */
    static final int THREAD_SERIALIZED = 2;
    /**
     * The largest {@code MPI_MAX_LIBRARY_VERSION_STRING} and {@code MPI_MAX_ERROR_STRING} of the libraries (MPICH:
     * 8192 and 512; Open MPI: 256 and 256): the size of the buffers those functions write.
     */
    static final int MAX_STRING = 8192;

    private final String family;
    private final MemoryLayout handleLayout;
    private final MemorySegment inPlace;
    private final Map<Handle, Object> handles;

    MpiAbi(String family, MemoryLayout handleLayout, MemorySegment inPlace, Map<Handle, Object> handles) {
        this.family = family;
        this.handleLayout = handleLayout;
        this.inPlace = inPlace;
        this.handles = handles;
    }

    /** "Open MPI" or "MPICH". */
    String family() {
        return family;
    }

    /** The layout of a handle argument: {@code ADDRESS} (Open MPI) or {@code JAVA_INT} (MPICH). */
    MemoryLayout handleLayout() {
        return handleLayout;
    }

    /** {@code MPI_IN_PLACE}: {@code (void *) 1} in Open MPI, {@code (void *) -1} in MPICH. */
    MemorySegment inPlace() {
        return inPlace;
    }

    /**
     * The value of a predefined handle, as the downcalls of this ABI take it: a {@link MemorySegment} (the address of
     * the symbol, looked up with {@code symbols}) for Open MPI, an {@link Integer} for MPICH.
     *
     * @throws MpiUnavailableException when the library lacks the symbol
     */
    Object handle(Handle h, Function<String, Optional<MemorySegment>> symbols) {
        Object v = handles.get(h);
        if (v instanceof String symbol) {
            return symbols.apply(symbol)
                    .orElseThrow(() -> new MpiUnavailableException(
                            "the MPI library says it is " + family + " but has no symbol " + symbol));
        }
        return v;
    }

    /** The symbol the handle is the address of (Open MPI), or empty (MPICH). */
    Optional<String> symbolOf(Handle h) {
        return handles.get(h) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    /**
     * The ABI of the library whose {@code MPI_Get_library_version} says {@code version}: "Open MPI v4.1.4, ..." is
     * {@link #OPEN_MPI}; "MPICH Version: 4.0.2", "Intel(R) MPI Library 2021.6", "MVAPICH2 Version: 2.3.7" and "CRAY
     * MPICH version 8.1" are {@link #MPICH}; anything else is empty.
     */
    static Optional<MpiAbi> detect(String version) {
        if (version == null) {
            return Optional.empty();
        }
        String v = version.toLowerCase(Locale.ROOT);
        if (v.contains("open mpi")) {
            return Optional.of(OPEN_MPI);
        }
        if (v.contains("mpich") || v.contains("mvapich") || v.contains("intel(r) mpi") || v.contains("intel mpi")) {
            return Optional.of(MPICH);
        }
        return Optional.empty();
    }

    /**
     * The first line of a library version string, its runs of white space as one space, up to its first comma:
     * "Open MPI v4.1.4" for "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, ...".
     */
    static String shortVersion(String version) {
        if (version == null) {
            return "unknown version";
        }
        for (String line : version.split("\\R")) {
            String l = line.replaceAll("\\s+", " ").trim();
            if (!l.isEmpty()) {
                int comma = l.indexOf(',');
                return comma > 0 ? l.substring(0, comma).trim() : l;
            }
        }
        return "unknown version";
    }
}
