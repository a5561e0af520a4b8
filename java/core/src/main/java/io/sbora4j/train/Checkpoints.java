package io.sbora4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.io.SafetensorsWriter;
import io.sbora4j.optim.AdamW;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Training checkpoints in a directory: {@code checkpoint-<step>/} folders ({@code model/} as the {@link Trainable}
 * saves it, an adapter folder for an adapter; the optimizer's moments keyed by parameter name, with the shapes they
 * must fit; the step count and the trainer's state), and a {@code latest} file naming the newest complete one. A folder is written
 * under a temporary name and renamed when complete, and {@code latest} is replaced atomically after that, so a
 * crash at any point leaves the previous checkpoint intact and named. The two newest are kept.
 */
public final class Checkpoints {

    private static final String LATEST = "latest";
    private static final String MODEL = "model";
    private static final String OPTIMIZER = "optimizer.safetensors";
    private static final String STATE = "trainer_state.json";
    private static final int KEEP = 2;

    private final Path dir;

    public Checkpoints(Path dir) {
        this.dir = dir;
    }

    /** What a checkpoint restores besides tensors. */
    public record State(long step, long seed, List<Double> losses) {}

    /** Saves the state after {@code state.step()} completed steps; returns the checkpoint's folder. */
    public Path save(Trainable model, AdamW opt, State state) throws IOException {
        Files.createDirectories(dir);
        String name = "checkpoint-" + state.step();
        Path tmp = Files.createTempDirectory(dir, name + ".tmp");
        model.save(tmp.resolve(MODEL));
        Map<String, Tensor> moments = new LinkedHashMap<>();
        List<String> names = List.copyOf(model.parameters().keySet());
        for (int i = 0; i < names.size(); i++) {
            moments.put(names.get(i) + ".exp_avg", opt.firstMoment(i));
            moments.put(names.get(i) + ".exp_avg_sq", opt.secondMoment(i));
        }
        SafetensorsWriter.write(tmp.resolve(OPTIMIZER), moments, Map.of("step", Long.toString(opt.stepCount())));
        Files.writeString(tmp.resolve(STATE), stateJson(state), StandardCharsets.UTF_8);
        Path target = dir.resolve(name);
        if (Files.exists(target)) {
            deleteTree(target);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        Path latestTmp = Files.createTempFile(dir, LATEST, ".tmp");
        Files.writeString(latestTmp, name, StandardCharsets.UTF_8);
        Files.move(latestTmp, dir.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        prune(name);
        return target;
    }

    /** The newest complete checkpoint, if any. */
    public Optional<Path> latest() throws IOException {
        Path l = dir.resolve(LATEST);
        if (!Files.isRegularFile(l)) {
            return Optional.empty();
        }
        Path cp = dir.resolve(Files.readString(l, StandardCharsets.UTF_8).strip());
        if (!Files.isDirectory(cp)) {
            throw new IOException(l + " names " + cp + ", which does not exist");
        }
        return Optional.of(cp);
    }

    /**
     * Restores parameters, optimizer moments (by parameter name; each must be there with its parameter's shape) and
     * step count from {@code checkpoint}; returns the state.
     */
    public static State restore(Path checkpoint, Trainable model, AdamW opt) throws IOException {
        model.restore(checkpoint.resolve(MODEL));
        List<String> names = List.copyOf(model.parameters().keySet());
        Map<String, Tensor> moments = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            moments.put(names.get(i) + ".exp_avg", opt.firstMoment(i));
            moments.put(names.get(i) + ".exp_avg_sq", opt.secondMoment(i));
        }
        Trainable.restoreTensors(checkpoint.resolve(OPTIMIZER), moments);
        try (Arena arena = Arena.ofConfined()) {
            String step = SafetensorsFile.open(checkpoint.resolve(OPTIMIZER), arena)
                    .metadata()
                    .get("step");
            try {
                opt.restoreStepCount(Long.parseLong(step));
            } catch (RuntimeException e) {
                throw new IOException(checkpoint.resolve(OPTIMIZER) + ": no valid step count (" + step + ")", e);
            }
        }
        return parseState(Files.readString(checkpoint.resolve(STATE), StandardCharsets.UTF_8));
    }

    private static String stateJson(State s) {
        StringBuilder sb = new StringBuilder("{\"step\": ")
                .append(s.step())
                .append(", \"seed\": ")
                .append(s.seed())
                .append(", \"losses\": [");
        for (int i = 0; i < s.losses().size(); i++) {
            sb.append(i > 0 ? ", " : "").append(s.losses().get(i));
        }
        return sb.append("]}\n").toString();
    }

    private static State parseState(String json) throws IOException {
        try {
            JsonNode node = new ObjectMapper().readTree(json);
            List<Double> losses = new ArrayList<>();
            node.get("losses").forEach(n -> losses.add(n.doubleValue()));
            return new State(node.get("step").longValue(), node.get("seed").longValue(), losses);
        } catch (RuntimeException e) {
            throw new IOException("unreadable " + STATE + ": " + e.getMessage(), e);
        }
    }

    private void prune(String keep) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> cps = s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(Comparator.comparingLong(
                            p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
            for (int i = 0; i < cps.size() - KEEP; i++) {
                if (!cps.get(i).getFileName().toString().equals(keep)) {
                    deleteTree(cps.get(i));
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
