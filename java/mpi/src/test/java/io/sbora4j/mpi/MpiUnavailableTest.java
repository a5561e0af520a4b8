package io.sbora4j.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without a usable MPI library the module says why in one line, and crashes nothing; with one, it loads it and tells
 * its ABI without initialising MPI.
 */
class MpiUnavailableTest {

    @TempDir
    Path tmp;

    private static String reason(String override, List<String> names) {
        MpiUnavailableException e = assertThrows(MpiUnavailableException.class, () -> MpiLibrary.open(override, names));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aMissingFileNamedByThePropertyIsTheReason() {
        assertEquals(
                "no MPI library found: sbora.mpi.library=/nonexistent/libmpi.so is not a file",
                reason("/nonexistent/libmpi.so", MpiLibrary.NAMES));
    }

    @Test
    void namesNoneOfWhichIsFoundAreListed() {
        assertEquals(
                "no MPI library found: tried libsbora-no-such-mpi.so.99, libsbora-no-such-mpi.so; install Open MPI or"
                        + " MPICH, or set -Dsbora.mpi.library to the path of libmpi.so",
                reason(null, List.of("libsbora-no-such-mpi.so.99", "libsbora-no-such-mpi.so")));
    }

    @Test
    void aFileThatIsNoLibraryCannotBeOpened() throws Exception {
        Path junk = Files.writeString(tmp.resolve("libmpi.so"), "not an ELF file\n");
        String why = reason(junk.toString(), MpiLibrary.NAMES);
        assertTrue(why.startsWith("no MPI library found: sbora.mpi.library=" + junk + " cannot be opened: "), why);
    }

    @Test
    void aLibraryThatIsNotMpiIsRefused() {
        Optional<Path> libm = Stream.of(
                        "/lib/x86_64-linux-gnu/libm.so.6",
                        "/usr/lib/x86_64-linux-gnu/libm.so.6",
                        "/lib64/libm.so.6",
                        "/usr/lib64/libm.so.6")
                .map(Path::of)
                .filter(Files::isRegularFile)
                .findFirst();
        assumeTrue(libm.isPresent(), "no libm.so.6 in the usual folders");
        assertEquals(
                libm.get() + " is not an MPI 3 library: it has no MPI_Get_library_version",
                reason(libm.get().toString(), MpiLibrary.NAMES));
    }

    @Test
    void theLibraryOfThisMachineIsEitherUsableOrExplained() {
        Optional<String> reason = Mpi.unavailableReason();
        assertNotEquals(reason.isPresent(), Mpi.libraryVersion().isPresent(), "a version or a reason: " + reason);
        reason.ifPresent(r -> assertFalse(r.contains("\n"), r));
        Mpi.libraryVersion().ifPresent(v -> assertTrue(MpiAbi.detect(v).isPresent(), v));
    }

    @Test
    void openMpiWhereInstalledIsLoadedWithItsAbiAndNotInitialised() {
        MpiLibrary lib;
        try {
            lib = MpiLibrary.open(null, List.of("libmpi.so.40"));
        } catch (MpiUnavailableException e) {
            assumeTrue(false, "no Open MPI here: " + e.getMessage());
            return;
        }
        assertEquals(MpiAbi.OPEN_MPI, lib.abi());
        assertTrue(lib.version().startsWith("Open MPI v"), lib.version());
        assertFalse(lib.initialized());
        assertFalse(lib.finalized());
    }

    @Test
    void launchedIsToldByTheLaunchersVariables() {
        assertFalse(Mpi.launched(Map.of("HOME", "/root", "SLURM_PROCID", "0")));
        assertTrue(Mpi.launched(Map.of("OMPI_COMM_WORLD_SIZE", "4")));
        assertTrue(Mpi.launched(Map.of("PMIX_RANK", "0")));
        assertTrue(Mpi.launched(Map.of("PMI_RANK", "1", "PMI_SIZE", "2")));
        assertTrue(Mpi.launched(Map.of("MV2_COMM_WORLD_SIZE", "2")));
    }

    @Test
    void anAbortReasonIsOneLine() {
        assertEquals("the step failed on purpose", MpiCommunicator.oneLine("the step failed\n  on purpose\n"));
        assertEquals("aborted", MpiCommunicator.oneLine(null));
    }
}
