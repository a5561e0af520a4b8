package io.sbora4j.cli.serve;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.Generator;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.hf.ChatTemplate;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.serve.AdapterRegistry;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny random model on disk, two adapters for it (SBoRA-FA and LoRA, with random non-zero factors so that each
 * visibly changes the text), a byte tokenizer and a chat template, and what {@link Generator} alone makes of them.
 */
final class ServeFixture {

    static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 128, false);
    static final ByteTokenizer TOK = new ByteTokenizer();
    /** Each message in brackets, then "A:" for the answer. */
    static final ChatTemplate TEMPLATE = ChatTemplate.of(
            "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: [{{ m['content'] }}]\n{% endfor %}"
                    + "{% if add_generation_prompt %}A:{% endif %}",
            Map.of("bos_token", ""));

    final Path base;
    final Map<String, Path> adapters;

    ServeFixture(Path dir) throws IOException {
        base = dir.resolve("tiny");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 3, Device.CPU, arena), base);
        }
        adapters = Map.of(
                "fa", adapter(dir.resolve("fa"), AdapterMethods.SBORA_FA, 11),
                "lora", adapter(dir.resolve("lora"), AdapterMethods.LORA, 12));
    }

    private Path adapter(Path dir, AdapterMethod method, long seed) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(base, LoadOptions.on(Device.CPU), arena);
            PeftModel<LlamaModel> peft =
                    PeftModel.inject(m, AdapterConfig.of(method, 2, 4).withSeed(seed), arena);
            SplittableRandom rng = new SplittableRandom(seed);
            for (Tensor t : peft.trainable()) {
                float[] v = new float[(int) t.shape().numel()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (0.5 * (rng.nextDouble() * 2 - 1));
                }
                t.copyFrom(v);
            }
            AdapterFiles.save(peft, dir);
        }
        return dir;
    }

    /** A server over the model and both adapters, on an ephemeral loopback port. */
    OpenAiServer start(
            Arena arena, OpenAiServer.Settings settings, Tokenizer tok, ChatTemplate template, PrintStream log)
            throws IOException {
        LlamaModel m = ModelFiles.load(base, LoadOptions.on(Device.CPU), arena);
        AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(m);
        for (String n : List.of("fa", "lora")) {
            reg.load(n, adapters.get(n));
        }
        return OpenAiServer.start(settings, reg, tok, template, "tiny", log);
    }

    /** The prompt as the server encodes a completion's: BOS, then the bytes. */
    static int[] completionPrompt(String text) {
        int[] t = TOK.encode(text);
        int[] p = new int[t.length + 1];
        p[0] = TOK.bosId();
        System.arraycopy(t, 0, p, 1, t.length);
        return p;
    }

    /** Greedy text of {@link Generator} alone on a fresh model with {@code adapter} (null: the base) active. */
    String greedy(String adapter, int[] prompt, int maxTokens) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(base, LoadOptions.on(Device.CPU), arena);
            if (adapter != null) {
                AdapterFiles.load(adapters.get(adapter), m, arena).train(false);
            }
            return new Generator(m, TOK)
                    .generate(prompt, Generator.Options.greedy(maxTokens, TOK.eosId()), null)
                    .text();
        }
    }
}
