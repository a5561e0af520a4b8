package io.sbora4j.bench.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A subcommand's arguments: positional ones and {@code --name value} options from a known set. */
final class Args {

    /** A command line that does not parse: the tool prints its usage and exits with status 2. */
    static final class UsageError extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    private final List<String> positional;
    private final Map<String, String> options;

    private Args(List<String> positional, Map<String, String> options) {
        this.positional = List.copyOf(positional);
        this.options = Map.copyOf(options);
    }

    /** Parses {@code args}, each of {@code known} options taking one value. */
    static Args parse(String[] args, Set<String> known) {
        List<String> positional = new ArrayList<>();
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                positional.add(a);
            } else if (!known.contains(a)) {
                throw new UsageError("unknown option " + a);
            } else if (i + 1 >= args.length) {
                throw new UsageError(a + " needs a value");
            } else {
                options.put(a, args[++i]);
            }
        }
        return new Args(positional, options);
    }

    /** The one positional argument, {@code what} naming it in the error when there is not exactly one. */
    String single(String what) {
        if (positional.size() != 1) {
            throw new UsageError("expected " + what + ", got " + positional);
        }
        return positional.getFirst();
    }

    /** The option's value, or {@code dflt} when it was not given. */
    String get(String option, String dflt) {
        return options.getOrDefault(option, dflt);
    }

    /** The option's value as a path, or {@code dflt} (which may be null). */
    Path path(String option, Path dflt) {
        String v = options.get(option);
        return v == null ? dflt : Path.of(v);
    }

    /** Comma-separated paths; blanks between commas are ignored. */
    static List<Path> paths(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(Path::of)
                .toList();
    }
}
