/**
 * For backend providers that carry native libraries in their jar: extraction into a per-version cache folder
 * ({@link io.sbora4j.backend.natives.LibraryExtractor}), opening with the reason kept when it fails
 * ({@link io.sbora4j.backend.natives.LoadedLibrary}), and the build's version.
 */
package io.sbora4j.backend.natives;
