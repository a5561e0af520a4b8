package io.sbora4j.testing;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.DeviceMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A non-host device whose memory cannot be allocated, as a GPU device is on a machine without one. */
public final class UnusableDevice {

    private UnusableDevice() {}

    /** A device named {@code gpu} whose every allocation throws {@link UnsupportedOperationException}. */
    public static Device create() {
        return Device.of("gpu", new DeviceMemory() {
            @Override
            public MemorySegment allocate(Arena arena, long bytes) {
                throw new UnsupportedOperationException("no GPU here");
            }

            @Override
            public void toHost(
                    MemorySegment device, long deviceOffset, MemorySegment host, long hostOffset, long bytes) {
                throw new UnsupportedOperationException("no GPU here");
            }

            @Override
            public void fromHost(
                    MemorySegment host, long hostOffset, MemorySegment device, long deviceOffset, long bytes) {
                throw new UnsupportedOperationException("no GPU here");
            }

            @Override
            public void onDevice(MemorySegment src, MemorySegment dst, long bytes) {
                throw new UnsupportedOperationException("no GPU here");
            }
        });
    }
}
