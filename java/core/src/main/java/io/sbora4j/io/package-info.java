/**
 * Model files: reading and writing safetensors (single and sharded, memory-mapped, validated) and the Hugging Face
 * LLaMA {@code config.json}.
 *
 * <p>Readers trust nothing in a file: every header is checked (sizes, offsets, coverage of the data, duplicate keys)
 * before a tensor is handed out, and problems surface as {@link io.sbora4j.io.SafetensorsFormatException} naming the
 * file. Writers replace their target atomically (temporary file, fsync, rename).
 */
package io.sbora4j.io;
