package io.sbora4j.train;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.AtomicFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.io.SafetensorsWriter;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@link Trainer} trains: named parameters, and the hooks the loop calls around them. {@link #of(PeftModel)}
 * trains an adapter (its checkpoints are adapter folders); {@link #of(Map)} trains any tensors (a model's own
 * weights, in pre-training).
 */
public interface Trainable {

    /** The tensors to train, by unique name: their keys in checkpoints and optimizer state. In a fixed order. */
    Map<String, Tensor> parameters();

    /**
     * Before each micro-batch, with a counter that depends only on (seed, step, micro) and, in data-parallel
     * training, on the rank and the number of ranks (so that ranks draw different masks): restarts dropout masks.
     */
    default void startMicroBatch(long counter) {}

    /** Training mode on or off (dropout). */
    default void train(boolean training) {}

    /** Writes the parameters (and whatever makes them usable on their own) into {@code dir}, a folder of its own. */
    void save(Path dir) throws IOException;

    /** Restores the parameters from a folder {@link #save} wrote; throws naming what differs when it does not fit. */
    void restore(Path dir) throws IOException;

    /**
     * What defines these parameters for a {@link RunIdentity} (an adapter's method, rank, alpha, targets, dropout,
     * seed); none by default.
     */
    default Map<String, String> identity() {
        return Map.of();
    }

    /** The active adapter of {@code peft}: its trainable tensors, its dropout, and adapter folders as checkpoints. */
    static Trainable of(PeftModel<?> peft) {
        return new Trainable() {
            @Override
            public Map<String, Tensor> parameters() {
                return peft.trainableByName();
            }

            @Override
            public void startMicroBatch(long counter) {
                peft.reseedDropout(counter);
            }

            @Override
            public void train(boolean training) {
                peft.train(training);
            }

            @Override
            public void save(Path dir) throws IOException {
                AdapterFiles.save(peft, dir);
            }

            @Override
            public Map<String, String> identity() {
                AdapterConfig c = peft.config();
                Map<String, String> m = new LinkedHashMap<>();
                m.put("method", c.method().id());
                m.put("r", Integer.toString(c.r()));
                m.put("alpha", Double.toString(c.alpha()));
                m.put("targets", String.join(",", c.targetModules()));
                m.put("dropout", Double.toString(c.dropout()));
                m.put("init", c.init().name().toLowerCase(Locale.ROOT));
                m.put("adapter_seed", Long.toString(c.seed()));
                if (!c.indices().isEmpty()) {
                    StringBuilder b = new StringBuilder();
                    new TreeMap<>(c.indices()).forEach((k, v) -> b.append(k).append(Arrays.toString(v)));
                    m.put("indices", Integer.toHexString(b.toString().hashCode()));
                }
                return m;
            }

            /** The trained tensors by name; the fixed ones (SBoRA's indices) must equal the model's. */
            @Override
            public void restore(Path dir) throws IOException {
                Map<String, Tensor> all = new LinkedHashMap<>();
                peft.adapted()
                        .forEach((path, a) -> a.adapter().tensors().forEach((n, t) -> all.put(path + "." + n, t)));
                restoreTensors(dir.resolve(AdapterFiles.WEIGHTS), all);
            }
        };
    }

    /** Any trainable tensors by name (e.g. a model's weights), checkpointed as {@code parameters.safetensors}. */
    static Trainable of(Map<String, Tensor> parameters) {
        Map<String, Tensor> params = new LinkedHashMap<>(parameters);
        return new Trainable() {
            @Override
            public Map<String, Tensor> parameters() {
                return params;
            }

            @Override
            public void save(Path dir) throws IOException {
                AtomicFiles.createDirectories(dir);
                SafetensorsWriter.write(dir.resolve("parameters.safetensors"), params, Map.of("format", "pt"));
            }

            @Override
            public void restore(Path dir) throws IOException {
                restoreTensors(dir.resolve("parameters.safetensors"), params);
            }
        };
    }

    /**
     * Copies every tensor of {@code targets} from {@code file} by name: each must be there with its shape and type.
     * Index lists (i32) are not trained: they must be equal, or the checkpoint belongs to another configuration.
     */
    static void restoreTensors(Path file, Map<String, Tensor> targets) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(file, arena);
            for (var e : targets.entrySet()) {
                String name = e.getKey();
                Tensor want = e.getValue();
                if (!f.contains(name)) {
                    throw new IllegalArgumentException(
                            file + " has no tensor " + name + " (a checkpoint of another" + " configuration?)");
                }
                Tensor stored = f.tensor(name, arena, Device.CPU);
                if (!stored.shape().equals(want.shape()) || stored.dtype() != want.dtype()) {
                    throw new IllegalArgumentException(file + ": " + name + " is " + stored.describe() + ", the model's"
                            + " is " + want.describe());
                }
                if (want.dtype() == DType.I32) {
                    if (!Arrays.equals(stored.toIntArray(), want.toIntArray())) {
                        throw new IllegalArgumentException(file + ": the indices " + name + " differ from the model's"
                                + " (another seed or config?)");
                    }
                } else {
                    want.copyFrom(stored);
                }
            }
        }
    }
}
