package io.sbora4j.io;

import java.util.Optional;

/**
 * The element types the safetensors format defines, with their width in bits. Knowing every type (not only the ones
 * sbora4j loads) lets a header be validated completely, so a file with, say, an F64 tensor still opens and its other
 * tensors load.
 */
enum FileDType {
    BOOL(8),
    F4(4),
    F6_E2M3(6),
    F6_E3M2(6),
    U8(8),
    I8(8),
    F8_E5M2(8),
    F8_E4M3(8),
    F8_E8M0(8),
    I16(16),
    U16(16),
    F16(16),
    BF16(16),
    I32(32),
    U32(32),
    F32(32),
    C64(64),
    F64(64),
    I64(64),
    U64(64);

    private final int bits;

    FileDType(int bits) {
        this.bits = bits;
    }

    /** Bits per element (4 and 6 for the packed sub-byte float formats). */
    int bits() {
        return bits;
    }

    /** The type spelled exactly {@code name} in a header (the format is case-sensitive). */
    static Optional<FileDType> parse(String name) {
        for (FileDType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
