package io.sbora4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.io.AtomicFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.io.SafetensorsWriter;
import io.sbora4j.optim.AdamW;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Training checkpoints in a directory: {@code checkpoint-<step>/} folders and a {@code latest} file naming the newest.
 *
 * <p>A checkpoint holds {@code model/} as the {@link Trainable} saves it (an adapter folder for an adapter), the
 * optimizer's moments keyed by parameter name (each checked against its parameter's shape on restore), and
 * {@code trainer_state.json}: the step, the losses so far, the {@link RunIdentity} of the run, the size and CRC-32C of
 * every other file, and a CRC-32C of itself. A folder is written under a temporary name ({@code checkpoint-<step>.tmp-*}), every file and
 * directory forced to disk, and renamed when complete; {@code latest} is replaced atomically after that. The two
 * newest are kept.
 *
 * <p>Resuming takes the newest checkpoint whose files all check out against the state's sizes and checksums: a
 * damaged newest one (truncated, emptied or corrupted files, a damaged {@code latest}) is skipped with a one-line
 * warning for the one before it. Leftovers of a crash (temporary folders and files) are deleted first.
 */
public final class Checkpoints {

    private static final String LATEST = "latest";
    private static final String MODEL = "model";
    private static final String OPTIMIZER = "optimizer.safetensors";
    private static final String STATE = "trainer_state.json";
    private static final String CHECKSUM = "crc32c_of_the_rest";
    private static final int KEEP = 2;
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,18})");
    private static final Pattern LEFTOVER = Pattern.compile("checkpoint-\\d+\\.(tmp|old).*");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    /** The checkpoints in {@code dir} (which need not exist yet). */
    public Checkpoints(Path dir) {
        this.dir = dir;
    }

    /** The folder the checkpoints are in. */
    public Path dir() {
        return dir;
    }

    /**
     * What a checkpoint restores besides tensors.
     *
     * @param step   optimizer steps completed
     * @param run    what defines the run that wrote it
     * @param losses the loss of every step so far
     */
    public record State(long step, RunIdentity run, List<Double> losses) {

        public State {
            losses = List.copyOf(losses);
        }
    }

    /** A checkpoint whose files checked out, and its state. */
    public record Found(Path path, State state) {}

    /** Saves the state after {@code state.step()} completed steps; returns the checkpoint's folder. */
    public Path save(Trainable model, AdamW opt, State state) throws IOException {
        AtomicFiles.createDirectories(dir);
        String name = "checkpoint-" + state.step();
        Path tmp = dir.resolve(
                name + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createDirectory(tmp);
        try {
            model.save(tmp.resolve(MODEL));
            SafetensorsWriter.write(
                    tmp.resolve(OPTIMIZER), moments(model, opt), Map.of("step", Long.toString(opt.stepCount())));
            AtomicFiles.writeString(tmp.resolve(STATE), stateJson(state, manifest(tmp)));
            AtomicFiles.syncTree(tmp);
        } catch (IOException | RuntimeException | Error e) {
            try {
                AtomicFiles.deleteTree(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        Path target = dir.resolve(name);
        if (Files.exists(target)) { // a damaged one the run resumed before; a folder cannot be renamed over
            Path aside = dir.resolve(name + ".old-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            AtomicFiles.move(target, aside);
            AtomicFiles.move(tmp, target);
            AtomicFiles.deleteTree(aside);
        } else {
            AtomicFiles.move(tmp, target);
        }
        AtomicFiles.writeString(dir.resolve(LATEST), name + "\n");
        prune(state.step(), true);
        return target;
    }

    /** The parameters' moments by {@code <parameter>.exp_avg} and {@code .exp_avg_sq}. */
    private static Map<String, Tensor> moments(Trainable model, AdamW opt) {
        Map<String, Tensor> moments = new LinkedHashMap<>();
        List<String> names = List.copyOf(model.parameters().keySet());
        for (int i = 0; i < names.size(); i++) {
            moments.put(names.get(i) + ".exp_avg", opt.firstMoment(i));
            moments.put(names.get(i) + ".exp_avg_sq", opt.secondMoment(i));
        }
        return moments;
    }

    /**
     * The newest checkpoint whose files check out, if there is any checkpoint; leftovers of an interrupted save are
     * deleted first. Each one skipped (and a damaged {@code latest}) is one line to {@code warnings}.
     *
     * @throws IOException when there are checkpoints but none of them checks out, naming what is wrong with each
     */
    public Optional<Found> findLatest(Consumer<String> warnings) throws IOException {
        clean();
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        String pointerProblem = pointerProblem();
        List<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(Checkpoints::stepOf).reversed())
                    .toList();
        }
        if (candidates.isEmpty()) {
            if (pointerProblem != null) {
                warnings.accept(dir + ": " + pointerProblem + ", and no checkpoint is left: starting from step 0");
            }
            return Optional.empty();
        }
        List<String> rejected = new ArrayList<>();
        for (Path c : candidates) {
            State s;
            try {
                s = verify(c);
            } catch (IOException e) {
                rejected.add(c.getFileName() + ": " + e.getMessage());
                continue;
            }
            if (!rejected.isEmpty()) {
                warnings.accept("skipping damaged checkpoint " + String.join("; ", rejected) + "; resuming from "
                        + c.getFileName() + " in " + dir);
            } else if (pointerProblem != null) {
                warnings.accept(dir + ": " + pointerProblem + "; resuming from " + c.getFileName()
                        + ", the newest checkpoint whose files check out");
            }
            prune(s.step(), false); // finishes a prune a crash interrupted
            return Optional.of(new Found(c, s));
        }
        throw new IOException("no usable checkpoint in " + dir + ": " + String.join("; ", rejected)
                + " (delete the folder, or restart, to start over)");
    }

    /** What is wrong with {@code latest}, or null when it is absent or names an existing checkpoint. */
    private String pointerProblem() throws IOException {
        Path l = dir.resolve(LATEST);
        if (!Files.exists(l)) {
            return null;
        }
        if (!Files.isRegularFile(l) || Files.size(l) > 64) {
            return LATEST + " is damaged (not a short file)";
        }
        String named = new String(Files.readAllBytes(l), StandardCharsets.UTF_8).strip();
        if (!NAME.matcher(named).matches()) {
            return LATEST + " is damaged (it holds '" + printable(named) + "', not a checkpoint name)";
        }
        if (!Files.isDirectory(dir.resolve(named))) {
            return LATEST + " names " + named + ", which does not exist";
        }
        return null;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(32).forEach(c -> b.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : "?"));
        return b.toString();
    }

    private static long stepOf(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Reads the state of {@code checkpoint} and checks every file it lists against its size and CRC-32C; throws an
     * IOException naming the first problem.
     */
    public static State verify(Path checkpoint) throws IOException {
        Path stateFile = checkpoint.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new IOException(STATE + " is missing");
        }
        if (Files.size(stateFile) == 0) {
            throw new IOException(STATE + " is empty");
        }
        JsonNode node;
        try {
            node = JSON.readTree(Files.readString(stateFile, StandardCharsets.UTF_8));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new IOException(STATE + " is unreadable (" + firstLine(e) + ")", e);
        }
        if (node instanceof ObjectNode o && o.get(CHECKSUM) != null) {
            String stored = o.remove(CHECKSUM).asText();
            if (!stored.equals(crc32c(JSON.writeValueAsString(o)))) {
                throw new IOException(STATE + " is corrupted (its checksum does not match)");
            }
        } else {
            throw new IOException(STATE + " is damaged (no checksum)");
        }
        State state;
        JsonNode files;
        try {
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            JsonNode step = node.get("step"), losses = node.get("losses");
            files = node.get("files");
            if (step == null || !step.canConvertToExactIntegral() || losses == null || !losses.isArray()) {
                throw new IllegalArgumentException("no step or losses");
            }
            if (files == null || !files.isObject() || files.get(OPTIMIZER) == null) {
                throw new IllegalArgumentException("no list of files");
            }
            List<Double> l = new ArrayList<>();
            losses.forEach(n -> {
                if (!n.isNumber()) {
                    throw new IllegalArgumentException("a loss is not a number");
                }
                l.add(n.doubleValue());
            });
            state = new State(step.longValue(), RunIdentity.fromJsonNode(node.get("run")), l);
        } catch (RuntimeException e) {
            throw new IOException(STATE + " is damaged (" + e.getMessage() + ")", e);
        }
        if (state.step() != stepOf(checkpoint) || state.losses().size() != state.step()) {
            throw new IOException(STATE + " is damaged (step " + state.step() + " with "
                    + state.losses().size() + " losses in " + checkpoint.getFileName() + ")");
        }
        for (var e : files.properties()) {
            checkFile(checkpoint, e.getKey(), e.getValue());
        }
        return state;
    }

    private static void checkFile(Path checkpoint, String name, JsonNode want) throws IOException {
        Path f = checkpoint.resolve(name).normalize();
        if (!f.startsWith(checkpoint) || want == null || !want.path("bytes").canConvertToExactIntegral()) {
            throw new IOException(STATE + " is damaged (file entry " + printable(name) + ")");
        }
        if (!Files.isRegularFile(f)) {
            throw new IOException(name + " is missing");
        }
        long size = Files.size(f), expected = want.path("bytes").longValue();
        if (size != expected) {
            throw new IOException(name + " has " + size + " bytes, " + expected + " were written");
        }
        String crc = crc32c(f);
        if (!crc.equals(want.path("crc32c").asText())) {
            throw new IOException(name + " is corrupted (CRC-32C " + crc + ", "
                    + want.path("crc32c").asText() + " was written)");
        }
    }

    private static String firstLine(Exception e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    /**
     * Restores parameters, optimizer moments (by parameter name; each must be there with its parameter's shape, and no
     * other) and step count from {@code checkpoint}; returns its state. Call {@link #verify} or {@link #findLatest}
     * first: this reads the files as they are.
     */
    public static State restore(Path checkpoint, Trainable model, AdamW opt) throws IOException {
        State state = verify(checkpoint);
        Path optimizer = checkpoint.resolve(OPTIMIZER);
        Map<String, Tensor> moments = moments(model, opt);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(optimizer, arena);
            Set<String> extra = new LinkedHashSet<>(f.names());
            extra.removeAll(moments.keySet());
            if (!extra.isEmpty()) {
                throw new IllegalArgumentException(
                        optimizer + " holds moments of " + extra.iterator().next()
                                + (extra.size() > 1 ? " and " + (extra.size() - 1) + " more" : "")
                                + ", which the model does not train (a checkpoint of another configuration?)");
            }
            String step = f.metadata().get("step");
            if (step == null || !step.equals(Long.toString(state.step()))) {
                throw new IOException(optimizer + ": step count " + step + ", the checkpoint is at " + state.step());
            }
        }
        model.restore(checkpoint.resolve(MODEL));
        Trainable.restoreTensors(optimizer, moments);
        opt.restoreStepCount(state.step());
        return state;
    }

    /** Sizes and CRC-32C of every regular file under {@code root}, by path relative to it with '/'. */
    private static Map<String, String[]> manifest(Path root) throws IOException {
        Map<String, String[]> m = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                if (!rel.equals(STATE)
                        && !AtomicFiles.isLeftoverTemporary(f.getFileName().toString())) {
                    m.put(rel, new String[] {Long.toString(Files.size(f)), crc32c(f)});
                }
            }
        }
        return m;
    }

    private static String crc32c(String text) {
        CRC32C crc = new CRC32C();
        crc.update(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static String crc32c(Path f) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            while (ch.read(buf.clear()) > 0) {
                crc.update(buf.flip());
            }
        }
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static String stateJson(State s, Map<String, String[]> files) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", s.step());
        var losses = o.putArray("losses");
        s.losses().forEach(losses::add);
        o.set("run", s.run().toJsonNode());
        ObjectNode f = o.putObject("files");
        files.forEach((name, v) ->
                f.putObject(name).put("bytes", Long.parseLong(v[0])).put("crc32c", v[1]));
        o.put(CHECKSUM, crc32c(JSON.writeValueAsString(o))); // of the rest, as this mapper writes it
        return JSON.writeValueAsString(o) + "\n";
    }

    /** Deletes the leftovers of interrupted saves: temporary checkpoint folders, half-written files. */
    public void clean() throws IOException {
        AtomicFiles.recoverDirectory(dir, name -> true);
        if (!Files.isDirectory(dir)) {
            return;
        }
        boolean removed = false;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (LEFTOVER.matcher(n).matches() || AtomicFiles.isLeftoverTemporary(n)) {
                    AtomicFiles.deleteTree(p);
                    removed = true;
                }
            }
        }
        if (removed) {
            AtomicFiles.syncDirectory(dir);
        }
    }

    /** Whether the folder holds any checkpoint (or a {@code latest} pointer), usable or not. */
    public boolean any() throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().equals(LATEST)
                    || NAME.matcher(p.getFileName().toString()).matches());
        }
    }

    /** Deletes every checkpoint, to start a run over: the folder is renamed aside in one step, then removed. */
    public void deleteAll() throws IOException {
        AtomicFiles.deleteDirectory(dir);
    }

    /**
     * Keeps the checkpoint of {@code step} and the newest one before it; deletes the older ones, and the newer ones
     * (damaged: a resumed run skipped them) when {@code newerToo}.
     */
    private void prune(long step, boolean newerToo) throws IOException {
        List<Path> cps;
        try (Stream<Path> s = Files.list(dir)) {
            cps = s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingLong(Checkpoints::stepOf).reversed())
                    .toList();
        }
        int kept = 0;
        for (Path p : cps) {
            boolean keep = stepOf(p) > step ? !newerToo : kept++ < KEEP;
            if (!keep) { // renamed aside first, so a crash never leaves half a checkpoint under its own name
                Path aside = dir.resolve(p.getFileName() + ".old-"
                        + Long.toHexString(ThreadLocalRandom.current().nextLong()));
                AtomicFiles.move(p, aside);
                AtomicFiles.deleteTree(aside);
            }
        }
    }
}
