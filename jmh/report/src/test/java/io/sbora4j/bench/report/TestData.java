package io.sbora4j.bench.report;

import java.nio.file.Path;

/** Where the tests find the repository's data files: the tests run in jmh/report. */
final class TestData {

    /** The repository's docs/bench: targets.json and machines.json as committed. */
    static final Path DOCS = Path.of("..", "..", "docs", "bench");

    private TestData() {}
}
