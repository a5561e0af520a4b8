package io.sbora4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Memory of a device Java cannot address directly (a GPU): allocation owned by an arena and copies to and from the
 * host. A backend provider gives one to the devices it creates ({@link Device#of}), so this package depends on no
 * backend.
 */
public interface DeviceMemory {

    /**
     * Zeroed memory of {@code bytes}, freed when {@code arena} closes. The segment carries the device address and
     * size; it must never be dereferenced from Java.
     *
     * @throws UnsupportedOperationException saying why when the device cannot be used here
     */
    MemorySegment allocate(Arena arena, long bytes);

    /** Copies {@code bytes} from device memory to host memory. */
    void toHost(MemorySegment device, long deviceOffset, MemorySegment host, long hostOffset, long bytes);

    /** Copies {@code bytes} from host memory to device memory. */
    void fromHost(MemorySegment host, long hostOffset, MemorySegment device, long deviceOffset, long bytes);

    /** Copies {@code bytes} within the device. */
    void onDevice(MemorySegment src, MemorySegment dst, long bytes);
}
