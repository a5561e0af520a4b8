package io.sbora4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sbora4j.tensor.Tensor;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The core module exports its public packages and needs nothing but the JDK and Jackson. */
class ModuleDescriptorTest {

    private static ModuleDescriptor descriptor() throws Exception {
        Path classes = Path.of(
                Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void exportsThePublicPackages() throws Exception {
        ModuleDescriptor d = descriptor();
        assertEquals("io.sbora4j", d.name());
        Set<String> exported = d.exports().stream()
                .map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(
                new TreeSet<>(Set.of(
                        "io.sbora4j.tensor",
                        "io.sbora4j.autograd",
                        "io.sbora4j.ops",
                        "io.sbora4j.backend",
                        "io.sbora4j.backend.reference",
                        "io.sbora4j.backend.natives",
                        "io.sbora4j.nn",
                        "io.sbora4j.peft",
                        "io.sbora4j.serve",
                        "io.sbora4j.optim",
                        "io.sbora4j.train",
                        "io.sbora4j.io",
                        "io.sbora4j.data",
                        "io.sbora4j.dist",
                        "io.sbora4j.quant")),
                exported);
    }

    @Test
    void requiresOnlyTheJdkAndJackson() throws Exception {
        Set<String> required = descriptor().requires().stream()
                .map(ModuleDescriptor.Requires::name)
                .filter(n -> !n.startsWith("java.") || n.equals("java.desktop"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of("com.fasterxml.jackson.databind"), required);
    }
}
