package io.sbora4j.cli;

import io.sbora4j.cli.serve.OpenAiServer;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.hf.ChatTemplate;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.serve.AdapterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sbora serve}: an OpenAI-compatible HTTP server ({@link OpenAiServer}) over a model and any number of
 * adapters, until SIGTERM or Ctrl-C, after which it finishes the running requests (up to {@code --shutdown-timeout})
 * and exits 0.
 */
@Command(
        name = "serve",
        description = "Serve a model and its adapters over HTTP with OpenAI's API (/v1/models, /v1/completions,"
                + " /v1/chat/completions; streaming), concurrent requests batched together, each with its adapter.")
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    TokenizerOptions tokenizerOptions;

    @Mixin
    QuantizeOptions quantizeOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    Path model;

    @Option(
            names = "--adapter",
            paramLabel = "NAME=DIR",
            description = "an adapter directory served as model NAME; repeatable")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(
            names = "--name",
            paramLabel = "NAME",
            description =
                    "the base model's name in requests (default: the model directory's name; 'base' always" + " works)")
    String name;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "port; 0 picks a free one (${DEFAULT-VALUE})")
    int port;

    @Option(
            names = "--max-batch",
            defaultValue = "8",
            description = "the most sequences generated together (${DEFAULT-VALUE})")
    int maxBatch;

    @Option(
            names = "--queue",
            defaultValue = "64",
            description = "the most sequences waiting; beyond it requests get 429 (${DEFAULT-VALUE})")
    int queue;

    @Option(
            names = "--max-tokens",
            defaultValue = "2048",
            description = "the largest max_tokens a request may ask for (${DEFAULT-VALUE})")
    int maxTokens;

    @Option(
            names = "--max-body-bytes",
            defaultValue = "1048576",
            description = "the largest request body; 413 beyond (${DEFAULT-VALUE})")
    int maxBodyBytes;

    @Option(
            names = "--shutdown-timeout",
            defaultValue = "30",
            paramLabel = "SECONDS",
            description = "on SIGTERM/Ctrl-C, how long running requests may finish (${DEFAULT-VALUE})")
    int shutdownSeconds;

    @Override
    public Integer call() throws Exception {
        if (shutdownSeconds < 0) {
            throw new IllegalArgumentException("--shutdown-timeout must be >= 0, got " + shutdownSeconds);
        }
        OpenAiServer.Settings settings = new OpenAiServer.Settings(
                host, port, maxBatch, queue, maxTokens, maxBodyBytes, Duration.ofSeconds(shutdownSeconds));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String baseName = name != null ? name : baseName(model);
        // Shared: the batch thread runs the model, which this thread loads. Not closed: the process ends right after,
        // and a batch that outlived the shutdown grace period may still be reading the weights.
        Arena arena = Arena.ofShared();
        LlamaModel m =
                ModelFiles.load(model, quantizeOptions.loadOptions(LoadOptions.on(deviceOptions.resolve())), arena);
        quantizeOptions.report(m, err);
        Tokenizer tok = tokenizerOptions.resolve(model, m.config().vocabSize());
        AdapterRegistry<LlamaModel> registry = AdapterRegistry.over(m);
        for (var e : adapters.entrySet()) {
            if (!Files.isDirectory(e.getValue())) {
                throw new IllegalArgumentException(
                        "--adapter " + e.getKey() + "=" + e.getValue() + ": not a directory");
            }
            registry.load(e.getKey(), e.getValue());
        }
        ChatTemplate template = chatTemplate(err);
        CountDownLatch stop = new CountDownLatch(1);
        try (OpenAiServer server = OpenAiServer.start(settings, registry, tok, template, baseName, System.err)) {
            boolean signals = onSignals(() -> {
                if (stop.getCount() == 0) {
                    Runtime.getRuntime().halt(130); // a second Ctrl-C: do not wait for the running requests
                }
                stop.countDown();
            });
            if (!signals) {
                // without signal handlers the JVM exits with 143 on SIGTERM; the requests still finish
                Runtime.getRuntime().addShutdownHook(new Thread(server::close, "sbora-serve-shutdown"));
            }
            if (!InetAddress.getByName(host).isLoopbackAddress()) {
                err.println("warning: listening on " + host + ", beyond this machine; the server has no"
                        + " authentication");
            }
            out.println("serving " + baseName + (adapters.isEmpty() ? "" : " and adapters " + adapters.keySet())
                    + " on " + server.uri() + "/v1 (Ctrl-C to stop)");
            out.flush();
            stop.await();
            err.println("shutting down: finishing running requests (up to " + shutdownSeconds
                    + " s; Ctrl-C again to stop now)");
            err.flush();
        }
        return 0;
    }

    private static String baseName(Path model) {
        Path abs = model.toAbsolutePath().normalize();
        return abs.getFileName() == null ? "base" : abs.getFileName().toString();
    }

    private ChatTemplate chatTemplate(PrintWriter err) {
        if (!Files.isRegularFile(model.resolve("tokenizer_config.json"))) {
            return null;
        }
        try {
            return ChatTemplate.load(model);
        } catch (IOException | IllegalArgumentException e) {
            err.println("no chat template: /v1/chat/completions answers 400 ("
                    + e.getMessage().replace('\n', ' ') + ")");
            return null;
        }
    }

    /**
     * Runs {@code action} on SIGTERM and SIGINT instead of the JVM's exit, so that the command can shut down
     * gracefully and return 0; false where the signals cannot be handled (then the JVM's default stays).
     */
    @SuppressWarnings("restriction")
    private static boolean onSignals(Runnable action) {
        try {
            for (String s : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(s), sig -> action.run());
            }
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return false;
        }
    }
}
