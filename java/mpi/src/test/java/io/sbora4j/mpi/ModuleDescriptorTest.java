package io.sbora4j.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The mpi module exports its one package and needs nothing but the JDK and the library's core. */
class ModuleDescriptorTest {

    @Test
    void exportsItsPackageAndRequiresOnlyTheCore() throws Exception {
        Path classes = Path.of(
                Mpi.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor d;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            d = ModuleDescriptor.read(in);
        }
        assertEquals("io.sbora4j.mpi", d.name());
        assertEquals(
                Set.of("io.sbora4j.mpi"),
                d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
        assertEquals(
                Set.of("io.sbora4j"),
                d.requires().stream()
                        .map(ModuleDescriptor.Requires::name)
                        .filter(n -> !n.startsWith("java."))
                        .collect(Collectors.toSet()));
    }
}
