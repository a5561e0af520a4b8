package io.sbora4j.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sbora4j.mpi.MpiAbi.Handle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The ABI is told from the version string; its handles and MPI_IN_PLACE are those of the libraries' mpi.h. */
class MpiAbiTest {

    @Test
    void openMpiIsToldFromItsVersionString() {
        assertEquals(
                Optional.of(MpiAbi.OPEN_MPI),
                MpiAbi.detect(
                        "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022"));
        assertEquals(
                Optional.of(MpiAbi.OPEN_MPI),
                MpiAbi.detect("Open MPI v5.0.3, package: Open MPI user@host Distribution, ident: 5.0.3, Apr 08, 2024"));
    }

    @Test
    void theMpichFamilyIsToldFromItsVersionStrings() {
        for (String v : new String[] {
            "MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 12:34:45 CDT 2022\nMPICH ABI:\t14:2:2\n",
            "Intel(R) MPI Library 2021.6 for Linux* OS\n",
            "MVAPICH2 Version     :\t2.3.7\nMVAPICH2 Release date :\tWed March 02 22:00:00 EST 2022\n",
            "MPI VERSION    : CRAY MPICH version 8.1.25.17 (ANL base 3.4a2)\nMPI BUILD INFO : Sun Feb 26 15:15 2023"
        }) {
            assertEquals(Optional.of(MpiAbi.MPICH), MpiAbi.detect(v), v);
        }
    }

    @Test
    void anythingElseIsUnknown() {
        assertEquals(Optional.empty(), MpiAbi.detect("Microsoft MPI 10.1"));
        assertEquals(Optional.empty(), MpiAbi.detect(""));
        assertEquals(Optional.empty(), MpiAbi.detect(null));
    }

    @Test
    void handlesArePointersInOpenMpiAndIntsInMpich() {
        assertEquals(ValueLayout.ADDRESS, MpiAbi.OPEN_MPI.handleLayout());
        assertEquals(ValueLayout.JAVA_INT, MpiAbi.MPICH.handleLayout());
        assertEquals(1L, MpiAbi.OPEN_MPI.inPlace().address());
        assertEquals(-1L, MpiAbi.MPICH.inPlace().address());

        assertEquals(0x44000000, MpiAbi.MPICH.handle(Handle.COMM_WORLD, s -> Optional.empty()));
        assertEquals(0x4c00040a, MpiAbi.MPICH.handle(Handle.FLOAT, s -> Optional.empty()));
        assertEquals(0x4c00080b, MpiAbi.MPICH.handle(Handle.DOUBLE, s -> Optional.empty()));
        assertEquals(0x4c00010d, MpiAbi.MPICH.handle(Handle.BYTE, s -> Optional.empty()));
        assertEquals(0x58000003, MpiAbi.MPICH.handle(Handle.SUM, s -> Optional.empty()));
        assertEquals(0x54000001, MpiAbi.MPICH.handle(Handle.ERRORS_RETURN, s -> Optional.empty()));

        MemorySegment world = MemorySegment.ofAddress(0x1000);
        assertEquals(
                world,
                MpiAbi.OPEN_MPI.handle(
                        Handle.COMM_WORLD,
                        s -> s.equals("ompi_mpi_comm_world") ? Optional.of(world) : Optional.empty()));
        assertEquals(Optional.of("ompi_mpi_op_sum"), MpiAbi.OPEN_MPI.symbolOf(Handle.SUM));
        assertEquals(Optional.empty(), MpiAbi.MPICH.symbolOf(Handle.SUM));
        MpiUnavailableException e = assertThrows(
                MpiUnavailableException.class, () -> MpiAbi.OPEN_MPI.handle(Handle.FLOAT, s -> Optional.empty()));
        assertEquals("the MPI library says it is Open MPI but has no symbol ompi_mpi_float", e.getMessage());
    }

    @Test
    void theShortVersionIsTheFirstLineUpToItsFirstComma() {
        assertEquals(
                "Open MPI v4.1.4",
                MpiAbi.shortVersion("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4"));
        assertEquals("MPICH Version: 4.0.2", MpiAbi.shortVersion("\nMPICH Version:\t4.0.2\nMPICH Release date: x"));
        assertEquals(
                "Intel(R) MPI Library 2021.6 for Linux* OS",
                MpiAbi.shortVersion("Intel(R) MPI Library 2021.6 for Linux* OS\n"));
        assertEquals("unknown version", MpiAbi.shortVersion(" \n"));
    }
}
