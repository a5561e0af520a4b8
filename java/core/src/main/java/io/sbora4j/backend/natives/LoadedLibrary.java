package io.sbora4j.backend.natives;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A native library opened for the life of the process, or the reason it could not be. Backend providers keep one
 * per library in a holder class, so that a library that cannot be loaded fails fast, with the same message, every
 * time it is asked for, and {@code sbora info} can report it.
 *
 * @param lookup  the library's symbols, when it was opened
 * @param path    the file opened or tried (null when no file was found)
 * @param problem why it could not be opened (null when it was)
 */
public record LoadedLibrary(Optional<SymbolLookup> lookup, Path path, String problem) {

    /** A library that could not be opened, for {@code why}. */
    public static LoadedLibrary unavailable(Path path, String why) {
        return new LoadedLibrary(Optional.empty(), path, why);
    }

    /** Opens {@code file} in the global arena, or records why it could not be opened. */
    public static LoadedLibrary open(Path file) {
        return open(() -> file);
    }

    /**
     * Opens the file {@code locate} returns (it may extract it first), or records why it could not be found or
     * opened.
     */
    public static LoadedLibrary open(Supplier<Path> locate) {
        Path path = null;
        try {
            path = locate.get();
            return new LoadedLibrary(Optional.of(SymbolLookup.libraryLookup(path, Arena.global())), path, null);
        } catch (NativeLibraryException e) {
            return unavailable(path, e.getMessage());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            String why = e instanceof IllegalCallerException
                    ? "native access is not enabled (run java with --enable-native-access=ALL-UNNAMED, or name the"
                            + " sbora4j modules)"
                    : "cannot open " + path + ": " + e.getMessage();
            return unavailable(path, why);
        }
    }

    /** Whether the library was opened. */
    public boolean isLoaded() {
        return lookup.isPresent();
    }

    /** The symbols; throws {@link NativeLibraryException} naming {@code what} and the reason when unavailable. */
    public SymbolLookup orThrow(String what) {
        return lookup.orElseThrow(() -> new NativeLibraryException(what + " unavailable: " + problem));
    }

    /** Where the library was loaded from, or why it was not: one line for {@code sbora info}. */
    public String describe() {
        return isLoaded() ? path.toString() : "unavailable (" + problem + ")";
    }
}
