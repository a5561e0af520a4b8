package io.sbora4j.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeLibrariesTest {

    @Test
    void loadsOurKernelsAndOpenBlas() {
        assertTrue(NativeLibraries.sboraNativeStatus().lookup().isPresent(), NativeLibraries.describe());
        assertTrue(NativeLibraries.blasStatus().lookup().isPresent(), NativeLibraries.describe());
        assertTrue(CpuBackend.instance().describe().contains("OpenBLAS"), CpuBackend.instance().describe());
    }

    @Test
    void threadCountIsSettable() {
        CpuBackend cpu = CpuBackend.instance();
        try {
            cpu.setThreads(1);
            assertEquals(1, cpu.threads());
            assertEquals(1, cblas_h.openblas_get_num_threads());
        } finally {
            cpu.setThreads(0);
        }
        assertEquals(Runtime.getRuntime().availableProcessors(), cpu.threads());
    }

    @Test
    void kernelsRejectBadArgumentsWithAStatusInsteadOfCrashing() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = a.allocate(16 * 4), out = a.allocate(16 * 4);
            MemorySegment idx = a.allocateFrom(ValueLayout.JAVA_INT, 1, 7);
            assertEquals(sbora_native_h.SB_ERR_INDEX, sbora_native_h.sb_gather_cols(x, 4, 4, 4, idx, 2, out, 2));
            assertEquals(sbora_native_h.SB_ERR_ARG, sbora_native_h.sb_gather_cols(x, -1, 4, 4, idx, 2, out, 2));
            assertEquals(sbora_native_h.SB_ERR_ARG, sbora_native_h.sb_gather_cols(MemorySegment.NULL, 4, 4, 4, idx, 2,
                    out, 2));
            assertEquals(sbora_native_h.SB_ERR_ARG, sbora_native_h.sb_index_add_rows(x, 4, 4, 2, idx, 2, out, 4, 1f));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> {
            throw new IndexOutOfBoundsException("placeholder: CpuBackend maps SB_ERR_INDEX to this type");
        });
    }
}
