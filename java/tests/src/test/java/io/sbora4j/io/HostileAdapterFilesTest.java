package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Adapter directories that break one rule each, read by every reader: {@link AdapterFiles#load} onto a model, and
 * {@link AdapterFiles#exportPeft} with and without the model's shape. Each refuses with a one-line error naming what
 * is wrong, and the export writes nothing. Before, the export wrote a PEFT adapter from several of these and exited
 * 0.
 */
class HostileAdapterFilesTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final String Q = "model.layers.0.self_attn.q_proj";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A config text that starts with this is written in ISO-8859-1 (not UTF-8). */
    private static final String LATIN1 = "latin1:";

    @TempDir
    Path dir;

    /** One change to a valid adapter: its tensors, its metadata, its config (as a JSON tree or as text). */
    private interface Edit {
        String apply(Map<String, Tensor> tensors, Map<String, String> meta, ObjectNode config, Arena arena)
                throws IOException;
    }

    private record Case(String name, AdapterMethod method, Edit edit, String expected) {}

    private static Tensor ints(int... v) {
        return Tensor.ofInts(Device.CPU, v, v.length);
    }

    private static Tensor floats(int rows, int cols, float value) {
        float[] v = new float[rows * cols];
        Arrays.fill(v, value);
        return Tensor.of(Device.CPU, v, rows, cols);
    }

    static List<Case> cases() {
        AdapterMethod fa = AdapterMethods.SBORA_FA, fb = AdapterMethods.SBORA_FB, lora = AdapterMethods.LORA;
        return List.of(
                new Case("duplicate index", fa, (t, m, c, a) -> put(t, Q + ".idx", ints(3, 3)), "duplicate index 3"),
                new Case("negative index", fa, (t, m, c, a) -> put(t, Q + ".idx", ints(-1, 3)), "index -1"),
                new Case("index past the layer", fa, (t, m, c, a) -> put(t, Q + ".idx", ints(0, 32)), "index 32"),
                new Case(
                        "index past the rows (fb)",
                        fb,
                        (t, m, c, a) -> put(t, Q + ".idx", ints(Integer.MAX_VALUE, 1)),
                        "index 2147483647"),
                new Case("r + 1 indices", fa, (t, m, c, a) -> put(t, Q + ".idx", ints(0, 1, 2)), Q + ".idx"),
                new Case("factor of another rank", fa, (t, m, c, a) -> put(t, Q + ".lora_B", floats(32, 3, 0)), Q),
                new Case("metadata shape disagrees with the factors", fa, (t, m, c, a) -> shapes(m, Q, "[64, 32]"), Q),
                new Case(
                        "metadata dimension past an int",
                        fa,
                        (t, m, c, a) -> shapes(m, Q, "[4294967328, 32]"),
                        "[4294967328,32]"),
                new Case("metadata dimension too large", fa, (t, m, c, a) -> shapes(m, Q, "[32, 2000000]"), Q),
                new Case("metadata of another method", fa, (t, m, c, a) -> meta(m, "sbora4j.method", "lora"), "lora"),
                new Case("rank 2.5", fa, (t, m, c, a) -> config(c, "r", 2.5), "2.5"),
                new Case("rank as a string", fa, (t, m, c, a) -> configText(c, "\"r\" : 2", "\"r\" : \"2\""), "String"),
                new Case(
                        "duplicated key",
                        fa,
                        (t, m, c, a) -> configText(c, "\"r\" : 2", "\"r\" : 2, \"r\" : 3"),
                        "Duplicate field"),
                new Case("NaN in a factor", fa, (t, m, c, a) -> put(t, Q + ".lora_B", floats(32, 2, Float.NaN)), "NaN"),
                new Case(
                        "infinity in a factor",
                        lora,
                        (t, m, c, a) -> put(t, Q + ".lora_A", floats(2, 32, Float.NEGATIVE_INFINITY)),
                        "Infinity"),
                new Case("a stray tensor", fa, (t, m, c, a) -> put(t, "stray", floats(1, 1, 0)), "stray"),
                new Case(
                        "float indices",
                        fa,
                        (t, m, c, a) -> put(t, Q + ".idx", Tensor.of(Device.CPU, new float[] {0, 1}, 2)),
                        Q + ".idx"),
                new Case(
                        "integer factor",
                        fa,
                        (t, m, c, a) -> put(t, Q + ".lora_B", Tensor.ofInts(Device.CPU, new int[64], 32, 2)),
                        Q + ".lora_B"),
                new Case(
                        "untargeted layer",
                        fa,
                        (t, m, c, a) -> configTargets(c, "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"),
                        "q_proj"),
                new Case("no layer at all", fa, HostileAdapterFilesTest::empty, "no layer"),
                new Case("rank above the layer (lora)", lora, HostileAdapterFilesTest::rank40, "r=40"),
                new Case(
                        "not UTF-8",
                        fa,
                        (t, m, c, a) -> LATIN1 + "{\"method\": \"sbora-fa\", \"r\": 2, \"alpha\": \"\u00ff\"}",
                        "UTF-8"));
    }

    static Stream<Arguments> namedCases() {
        return cases().stream().map(c -> Arguments.of(c.name(), c));
    }

    private static String put(Map<String, Tensor> t, String name, Tensor v) {
        t.put(name, v);
        return null;
    }

    private static String meta(Map<String, String> m, String key, String value) {
        m.put(key, value);
        return null;
    }

    private static String shapes(Map<String, String> m, String layer, String shape) throws IOException {
        ObjectNode s = (ObjectNode) JSON.readTree(m.get("sbora4j.layer_shapes"));
        s.set(layer, JSON.readTree(shape));
        m.put("sbora4j.layer_shapes", s.toString());
        return null;
    }

    private static String config(ObjectNode c, String key, double value) {
        c.put(key, value);
        return null;
    }

    private static String configText(ObjectNode c, String from, String to) throws IOException {
        String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        assertTrue(text.contains(from), text);
        return text.replace(from, to);
    }

    private static String configTargets(ObjectNode c, String... targets) {
        var a = c.putArray("target_modules");
        for (String t : targets) {
            a.add(t);
        }
        return null;
    }

    private static String empty(Map<String, Tensor> t, Map<String, String> m, ObjectNode c, Arena a) {
        t.clear();
        m.put("sbora4j.layer_shapes", "{}");
        return null;
    }

    /** Every LoRA layer at r = 40, consistently stored: above k_proj's 16 outputs. */
    private static String rank40(Map<String, Tensor> t, Map<String, String> m, ObjectNode c, Arena a)
            throws IOException {
        c.put("r", 40);
        ObjectNode shapes = (ObjectNode) JSON.readTree(m.get("sbora4j.layer_shapes"));
        t.clear();
        shapes.properties().forEach(e -> {
            int out = e.getValue().get(0).intValue(), in = e.getValue().get(1).intValue();
            t.put(e.getKey() + ".lora_A", floats(40, in, 0));
            t.put(e.getKey() + ".lora_B", floats(out, 40, 0));
        });
        return null;
    }

    /** A valid adapter of {@code method} in {@code adapter}, then changed by {@code edit}. */
    private void write(Path adapter, AdapterMethod method, Edit edit) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            PeftModel<LlamaModel> peft = PeftModel.inject(
                    LlamaModel.random(CFG, 1, Device.CPU, arena), AdapterConfig.of(method, 2, 4), arena);
            AdapterFiles.save(peft, adapter);
        }
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(adapter.resolve(AdapterFiles.WEIGHTS), arena);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : f.names()) {
                tensors.put(n, f.tensor(n, arena, Device.CPU).copyInto(arena, Device.CPU));
            }
            Map<String, String> meta = new LinkedHashMap<>(f.metadata());
            ObjectNode config = (ObjectNode)
                    JSON.readTree(adapter.resolve(AdapterFiles.CONFIG).toFile());
            String configText = edit.apply(tensors, meta, config, arena);
            SafetensorsWriter.write(adapter.resolve(AdapterFiles.WEIGHTS), tensors, meta);
            if (configText != null && configText.startsWith(LATIN1)) {
                Files.write(
                        adapter.resolve(AdapterFiles.CONFIG),
                        configText.substring(LATIN1.length()).getBytes(StandardCharsets.ISO_8859_1));
            } else {
                Files.writeString(
                        adapter.resolve(AdapterFiles.CONFIG),
                        configText != null
                                ? configText
                                : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("namedCases")
    void everyReaderRefusesIt(String name, Case c) throws IOException {
        Path adapter = dir.resolve("adapter");
        write(adapter, c.method(), c.edit());
        Path out = dir.resolve("peft");
        refused(name + ", export", c.expected(), () -> AdapterFiles.exportPeft(adapter, out));
        refused(name + ", export against the model", c.expected(), () -> AdapterFiles.exportPeft(adapter, out, CFG));
        assertFalse(Files.exists(out.resolve(AdapterFiles.WEIGHTS)), "nothing exported");
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.random(CFG, 1, Device.CPU, arena);
            refused(name + ", load", c.expected(), () -> AdapterFiles.load(adapter, m, arena));
        }
    }

    private interface Read {
        void run() throws IOException;
    }

    private static void refused(String what, String expected, Read read) {
        try {
            read.run();
        } catch (IllegalArgumentException | IOException e) {
            String msg = e.getMessage();
            assertEquals(1, msg.lines().count(), what + ": one line: " + msg);
            assertTrue(msg.contains(expected), what + ": '" + expected + "' in: " + msg);
            return;
        }
        fail(what + ": accepted");
    }

    @Test
    void exportAgainstTheModelRefusesALayerOfAnotherShape() throws IOException {
        Path adapter = dir.resolve("adapter");
        write(adapter, AdapterMethods.SBORA_FA, (t, m, c, a) -> null);
        LlamaConfig wider = new LlamaConfig(259, 64, 64, 2, 4, 2, 1e-6, 10000, 64, false);
        refused("another model", Q + " is 64x64 in the model", () -> AdapterFiles.exportPeft(adapter, dir, wider));
        AdapterFiles.exportPeft(adapter, dir.resolve("ok"), CFG); // its own model's shape: fine
        assertTrue(Files.isRegularFile(dir.resolve("ok").resolve(AdapterFiles.WEIGHTS)));
    }
}
