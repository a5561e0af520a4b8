package io.sbora4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sbora4j.tensor.Tensor;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.module.ModuleDescriptor;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The module exports its public packages and keeps the bindings, backend implementations and CLI inside. */
class ModuleDescriptorTest {

    @Test
    void exportsOnlyThePublicPackages() throws Exception {
        Path classes = Path.of(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor d;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            d = ModuleDescriptor.read(in);
        }
        assertEquals("io.sbora4j", d.name());
        Set<String> exported = d.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(Set.of("io.sbora4j.tensor", "io.sbora4j.autograd", "io.sbora4j.ops",
                "io.sbora4j.backend", "io.sbora4j.nn", "io.sbora4j.peft", "io.sbora4j.optim", "io.sbora4j.train", "io.sbora4j.io", "io.sbora4j.data", "io.sbora4j.quant")),
                exported);
    }
}
