package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.cpu.ffi.CpuLibraries;
import io.sbora4j.cpu.ffi.cblas_h;
import io.sbora4j.cpu.ffi.sbora_native_h;
import io.sbora4j.tensor.Device;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeLibrariesTest {

    @Test
    void loadsOurKernelsAndOpenBlas() {
        assertTrue(CpuLibraries.sboraNativeStatus().isLoaded(), CpuLibraries.describe());
        assertTrue(CpuLibraries.blasStatus().isLoaded(), CpuLibraries.describe());
        String d = Backends.of(Device.CPU).describe();
        assertTrue(d.contains("OpenBLAS"), d);
    }

    @Test
    void aBackendOpenedWithAThreadCountKeepsItAndTheDefaultDeviceKeepsItsOwn() {
        var one = Backends.open("cpu", BackendOptions.DEFAULTS.withThreads(1));
        assertTrue(one.device() != Device.CPU, "a device of its own");
        assertEquals("cpu", one.device().name());
        assertTrue(one.describe().contains(" 1 thread "), one.describe());
        assertTrue(Backends.open("cpu", BackendOptions.DEFAULTS) == Backends.of(Device.CPU));
        var all = Backends.open(
                "cpu", BackendOptions.DEFAULTS.withThreads(Runtime.getRuntime().availableProcessors()));
        assertTrue(
                all.describe().contains(" " + Runtime.getRuntime().availableProcessors() + " thread"), all.describe());
        assertTrue(one.describe().contains(" 1 thread "), "opening another backend changes nothing of the first");
        assertEquals(1, cblas_h.openblas_get_num_threads(), "OpenBLAS runs single-threaded, on our threads");
    }

    @Test
    void kernelsRejectBadArgumentsWithAStatusInsteadOfCrashing() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = a.allocate(16 * 4), out = a.allocate(16 * 4);
            MemorySegment idx = a.allocateFrom(ValueLayout.JAVA_INT, 1, 7);
            assertEquals(sbora_native_h.SB_ERR_INDEX, sbora_native_h.sb_gather_cols(x, 4, 4, 4, idx, 2, out, 2));
            assertEquals(sbora_native_h.SB_ERR_ARG, sbora_native_h.sb_gather_cols(x, -1, 4, 4, idx, 2, out, 2));
            assertEquals(
                    sbora_native_h.SB_ERR_ARG,
                    sbora_native_h.sb_gather_cols(MemorySegment.NULL, 4, 4, 4, idx, 2, out, 2));
            assertEquals(sbora_native_h.SB_ERR_ARG, sbora_native_h.sb_index_add_rows(x, 4, 4, 2, idx, 2, out, 4, 1f));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> {
            throw new IndexOutOfBoundsException("placeholder: CpuBackend maps SB_ERR_INDEX to this type");
        });
    }
}
