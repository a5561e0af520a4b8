package io.sbora4j.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sbora4j.cli.serve.BatchScheduler.Event;
import io.sbora4j.cli.serve.BatchScheduler.Job;
import io.sbora4j.data.Generator;
import io.sbora4j.data.Sampler;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.hf.ChatTemplate;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.serve.AdapterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * An OpenAI-compatible HTTP server over a base model and the adapters of an {@link AdapterRegistry}:
 * {@code GET /v1/models}, {@code POST /v1/completions} and {@code POST /v1/chat/completions} (the latter through the
 * model's chat template), answered in OpenAI's JSON shapes or streamed as server-sent events, one event per piece of
 * text as it is generated. A request's {@code model} names an adapter, or the base model (its name, or
 * {@code "base"}).
 *
 * <p>Requests are parsed and checked on the HTTP threads (virtual threads: a request waits for its text without
 * holding a platform thread) and queued; one {@link BatchScheduler} thread runs the queued sequences as mixed
 * batches, each sequence with its own adapter, sampling and stops. A full queue answers 429, so that a burst never
 * grows memory without bound; bodies, {@code max_tokens} and prompt lengths have bounds too (413 and 400).
 *
 * <p>{@link #close()} shuts down gracefully: no new request is taken, those still waiting are answered 503, and the
 * batch running is given up to the settings' grace period to finish.
 */
public final class OpenAiServer implements AutoCloseable {

    /**
     * How the server listens and what it accepts.
     *
     * @param host           the address to bind (loopback by default: the server has no authentication)
     * @param port           the port (0: an ephemeral one, see {@link #port()})
     * @param maxBatch       the most sequences generated together
     * @param queue          the most sequences waiting for a batch; beyond it requests are answered 429
     * @param maxTokens      the largest {@code max_tokens} a request may ask for
     * @param maxBodyBytes   the largest request body (413 beyond)
     * @param shutdownGrace  how long {@link #close()} lets running requests finish
     */
    public record Settings(
            String host, int port, int maxBatch, int queue, int maxTokens, int maxBodyBytes, Duration shutdownGrace) {

        /** Checks the ranges. */
        public Settings {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(shutdownGrace, "shutdownGrace");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must lie in [0, 65535], got " + port);
            }
            if (maxBatch < 1) {
                throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
            }
            if (queue < 1) {
                throw new IllegalArgumentException("--queue must be >= 1, got " + queue);
            }
            if (maxTokens < 1) {
                throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
            }
            if (maxBodyBytes < 1024) {
                throw new IllegalArgumentException("--max-body-bytes must be >= 1024, got " + maxBodyBytes);
            }
        }

        /** Loopback port 8000, batches of 8, a queue of 64, max_tokens up to 2048, bodies up to 1 MiB, 30 s grace. */
        public static Settings defaults() {
            return new Settings("127.0.0.1", 8000, 8, 64, 2048, 1 << 20, Duration.ofSeconds(30));
        }

        /** These settings on {@code port}. */
        public Settings withPort(int p) {
            return new Settings(host, p, maxBatch, queue, maxTokens, maxBodyBytes, shutdownGrace);
        }

        /** These settings with batches of up to {@code n} and a queue of {@code q}. */
        public Settings withBatching(int n, int q) {
            return new Settings(host, port, n, q, maxTokens, maxBodyBytes, shutdownGrace);
        }
    }

    /** The name that always means the base model, whatever its own name. */
    public static final String BASE_ALIAS = "base";

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final Set<String> COMMON = Set.of(
            "model",
            "max_tokens",
            "temperature",
            "top_p",
            "top_k",
            "seed",
            "stop",
            "stream",
            "stream_options",
            "n",
            "user",
            "presence_penalty",
            "frequency_penalty",
            "logit_bias",
            "logprobs");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt", "echo", "best_of", "suffix");
    private static final Set<String> CHAT_ONLY =
            Set.of("messages", "max_completion_tokens", "response_format", "tools", "tool_choice", "top_logprobs");

    private final Settings settings;
    private final AdapterRegistry<LlamaModel> registry;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final String baseName;
    private final PrintStream log;
    private final int maxPositions;
    private final long created = System.currentTimeMillis() / 1000;
    private final BatchScheduler scheduler;
    private final ExecutorService executor;
    private final HttpServer http;
    private volatile boolean closing;

    private OpenAiServer(
            Settings settings,
            AdapterRegistry<LlamaModel> registry,
            Tokenizer tokenizer,
            ChatTemplate template,
            String baseName,
            PrintStream log)
            throws IOException {
        this.settings = settings;
        this.registry = registry;
        this.tokenizer = new LockedTokenizer(tokenizer);
        this.template = template;
        this.baseName = baseName;
        this.log = log;
        LlamaModel model = registry.peft().model();
        this.maxPositions = model.config().maxPositions();
        for (String n : registry.names()) {
            if (n.equals(baseName) || n.equals(BASE_ALIAS)) {
                throw new IllegalArgumentException(
                        "adapter name '" + n + "' is the base model's name; give the adapter another name");
            }
        }
        // bound first: a taken port fails before the batch thread starts
        this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 0);
        this.scheduler = new BatchScheduler(
                registry, new Generator(model, this.tokenizer), settings.maxBatch(), settings.queue());
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        http.createContext("/", this::handle);
        http.setExecutor(executor);
        http.start();
    }

    /**
     * Starts a server over {@code registry}'s model and adapters.
     *
     * @param tokenizer the model's tokenizer
     * @param template  the model's chat template, or null (then chat completions are refused with 400)
     * @param baseName  the name of the base model in requests and in {@code /v1/models}
     * @param log       where one line per request goes
     * @throws IOException              if the address cannot be bound
     * @throws IllegalArgumentException if an adapter's name is the base model's
     */
    public static OpenAiServer start(
            Settings settings,
            AdapterRegistry<LlamaModel> registry,
            Tokenizer tokenizer,
            ChatTemplate template,
            String baseName,
            PrintStream log)
            throws IOException {
        return new OpenAiServer(settings, registry, tokenizer, template, baseName, log);
    }

    /** The port it listens on (the one chosen when the settings asked for 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port}. */
    public URI uri() {
        String h = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return URI.create("http://" + h + ":" + port());
    }

    /**
     * Stops taking requests, answers those still waiting 503, lets the batch running finish for up to the grace
     * period and closes the listener.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        scheduler.close();
        // closes the listener at once, then waits for the exchanges in progress (the running batch's requests)
        http.stop((int) Math.max(1, settings.shutdownGrace().toSeconds()));
        try {
            scheduler.awaitIdle(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }

    /** The sequences waiting for a batch and those running, for tests and monitoring. */
    int[] load() {
        return scheduler.load();
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** What the log line of a request says. */
    private static final class Outcome {
        int status;
        String model = "-";
        int promptTokens;
        int completionTokens;
        boolean headersSent;
        String note = "";
    }

    private void handle(HttpExchange ex) {
        long t0 = System.nanoTime();
        Outcome o = new Outcome();
        try (ex) {
            try {
                route(ex, o);
            } catch (ApiError e) {
                sendError(ex, o, e);
            } catch (IOException e) {
                o.note = " (client gone: " + e.getMessage() + ")";
                if (o.status == 0) {
                    o.status = 499;
                }
            } catch (RuntimeException e) {
                sendError(ex, o, new ApiError(500, "server_error", null, null, "internal error: " + e));
            }
        } catch (RuntimeException e) {
            o.note = " (" + e + ")";
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        log.println(String.format(
                Locale.ROOT,
                "%s %s %s %d model=%s prompt_tokens=%d completion_tokens=%d %dms%s",
                ex.getRemoteAddress() == null
                        ? "-"
                        : ex.getRemoteAddress().getAddress().getHostAddress(),
                ex.getRequestMethod(),
                ex.getRequestURI().getRawPath(),
                o.status,
                o.model,
                o.promptTokens,
                o.completionTokens,
                ms,
                o.note));
    }

    private void route(HttpExchange ex, Outcome o) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        switch (path) {
            case "/v1/models" -> {
                requireMethod(ex, "GET");
                sendJson(ex, o, 200, models());
            }
            case "/v1/completions" -> {
                requireMethod(ex, "POST");
                generate(ex, o, false);
            }
            case "/v1/chat/completions" -> {
                requireMethod(ex, "POST");
                generate(ex, o, true);
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    requireMethod(ex, "GET");
                    String id = path.substring("/v1/models/".length());
                    resolveModel(id);
                    for (JsonNode m : models().get("data")) {
                        if (m.get("id").asText().equals(id)) {
                            sendJson(ex, o, 200, (ObjectNode) m);
                            return;
                        }
                    }
                    sendJson(ex, o, 200, model(id, id.equals(BASE_ALIAS) ? null : baseName));
                    return;
                }
                throw new ApiError(
                        404,
                        "invalid_request_error",
                        null,
                        "unknown_url",
                        "no endpoint " + method + " " + path
                                + " (endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions)");
            }
        }
    }

    private static void requireMethod(HttpExchange ex, String method) {
        if (!ex.getRequestMethod().equals(method)) {
            ex.getResponseHeaders().set("Allow", method);
            throw new ApiError(
                    405,
                    "invalid_request_error",
                    null,
                    "method_not_allowed",
                    ex.getRequestURI().getPath() + " takes " + method + ", not " + ex.getRequestMethod());
        }
    }

    private ObjectNode models() {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        data.add(model(baseName, null));
        for (String n : registry.names()) {
            data.add(model(n, baseName));
        }
        return root;
    }

    private ObjectNode model(String id, String parent) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "sbora4j");
        if (parent != null) {
            m.put("parent", parent);
        }
        return m;
    }

    /** The adapter {@code name} means: null for the base model. */
    private String resolveModel(String name) {
        if (name.equals(baseName) || name.equals(BASE_ALIAS)) {
            return null;
        }
        if (registry.contains(name)) {
            return name;
        }
        throw new ApiError(
                404,
                "invalid_request_error",
                "model",
                "model_not_found",
                "The model '" + name + "' does not exist (served: " + baseName + ", " + BASE_ALIAS
                        + (registry.names().isEmpty() ? "" : ", " + String.join(", ", registry.names())) + ")");
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** A parsed request: its sequences and how to answer. */
    private record Request(
            String model,
            String adapter,
            List<int[]> prompts,
            Generator.Options options,
            boolean stream,
            boolean includeUsage) {}

    private void generate(HttpExchange ex, Outcome o, boolean chat) throws IOException {
        if (closing) {
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
        JsonNode body = readBody(ex);
        Request r = parse(body, chat);
        o.model = r.model();
        for (int[] p : r.prompts()) {
            o.promptTokens += p.length;
        }
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < r.prompts().size(); i++) {
            jobs.add(new Job(i, r.prompts().get(i), r.options(), r.adapter(), events));
        }
        BatchScheduler.Refusal refusal = scheduler.submit(jobs);
        if (refusal == BatchScheduler.Refusal.FULL) {
            ex.getResponseHeaders().set("Retry-After", "1");
            int[] load = scheduler.load();
            throw new ApiError(
                    429,
                    "rate_limit_exceeded",
                    null,
                    "rate_limit_exceeded",
                    "the server is busy: " + load[0] + " sequences wait (at most " + settings.queue() + ") and "
                            + load[1] + " are running; retry later");
        }
        if (refusal == BatchScheduler.Refusal.CLOSED) {
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
        String id =
                (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis() / 1000;
        if (r.stream()) {
            stream(ex, o, r, chat, id, now, events, jobs.size());
        } else {
            whole(ex, o, r, chat, id, now, events, jobs.size());
        }
    }

    private void whole(
            HttpExchange ex,
            Outcome o,
            Request r,
            boolean chat,
            String id,
            long now,
            BlockingQueue<Event> events,
            int n)
            throws IOException {
        StringBuilder[] texts = new StringBuilder[n];
        String[] reasons = new String[n];
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
        }
        for (int left = n; left > 0; ) {
            Event e = take(events);
            switch (e) {
                case Event.Text t -> texts[t.index()].append(t.text());
                case Event.End end -> {
                    reasons[end.index()] = finishReason(end.reason());
                    o.completionTokens += end.tokens();
                    left--;
                }
                case Event.Failed f -> throw new ApiError(f.status(), f.type(), null, null, f.message());
            }
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("object", chat ? "chat.completion" : "text_completion");
        root.put("created", now);
        root.put("model", r.model());
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < n; i++) {
            ObjectNode c = choices.addObject();
            c.put("index", i);
            if (chat) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", texts[i].toString());
            } else {
                c.put("text", texts[i].toString());
            }
            c.putNull("logprobs");
            c.put("finish_reason", reasons[i]);
        }
        root.set("usage", usage(o));
        sendJson(ex, o, 200, root);
    }

    private void stream(
            HttpExchange ex,
            Outcome o,
            Request r,
            boolean chat,
            String id,
            long now,
            BlockingQueue<Event> events,
            int n)
            throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0); // chunked: each flush sends what was written
        o.status = 200;
        o.headersSent = true;
        OutputStream out = ex.getResponseBody();
        if (chat) {
            for (int i = 0; i < n; i++) {
                ObjectNode delta = JSON.createObjectNode();
                delta.put("role", "assistant");
                delta.put("content", "");
                sendEvent(out, chunk(r, chat, id, now, i, delta, null));
            }
        }
        for (int left = n; left > 0; ) {
            Event e = take(events);
            switch (e) {
                case Event.Text t -> sendEvent(out, chunk(r, chat, id, now, t.index(), content(chat, t.text()), null));
                case Event.End end -> {
                    o.completionTokens += end.tokens();
                    left--;
                    ObjectNode delta = chat ? JSON.createObjectNode() : content(false, "");
                    sendEvent(out, chunk(r, chat, id, now, end.index(), delta, finishReason(end.reason())));
                }
                case Event.Failed f -> {
                    left--;
                    o.note = " (" + f.message() + ")";
                    sendEvent(out, errorBody(new ApiError(f.status(), f.type(), null, null, f.message())));
                }
            }
        }
        if (r.includeUsage()) {
            ObjectNode u = chunkHead(chat, id, now, r.model());
            u.putArray("choices");
            u.set("usage", usage(o));
            sendEvent(out, u);
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static ObjectNode content(boolean chat, String text) {
        ObjectNode n = JSON.createObjectNode();
        n.put(chat ? "content" : "text", text);
        return n;
    }

    private ObjectNode chunkHead(boolean chat, String id, long now, String model) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", id);
        c.put("object", chat ? "chat.completion.chunk" : "text_completion");
        c.put("created", now);
        c.put("model", model);
        return c;
    }

    /** A chunk of choice {@code index}: for chat the delta, for completions the text fields. */
    private ObjectNode chunk(Request r, boolean chat, String id, long now, int index, ObjectNode delta, String finish) {
        ObjectNode c = chunkHead(chat, id, now, r.model());
        ObjectNode choice = c.putArray("choices").addObject();
        choice.put("index", index);
        if (chat) {
            choice.set("delta", delta);
        } else {
            choice.put("text", delta.get("text").asText());
        }
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return c;
    }

    private static void sendEvent(OutputStream out, ObjectNode data) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Event take(BlockingQueue<Event> events) {
        try {
            return events.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", null, null, "the server is shutting down");
        }
    }

    private static String finishReason(Generator.StopReason r) {
        return switch (r) {
            case STOP_TOKEN, STOP_STRING -> "stop";
            case MAX_NEW_TOKENS, MAX_POSITIONS -> "length";
        };
    }

    private static ObjectNode usage(Outcome o) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", o.promptTokens);
        u.put("completion_tokens", o.completionTokens);
        u.put("total_tokens", o.promptTokens + o.completionTokens);
        return u;
    }

    // ---------------------------------------------------------------------------------------------------------------

    private JsonNode readBody(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > settings.maxBodyBytes()) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "bad Content-Length: " + length);
            }
        }
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(settings.maxBodyBytes() + 1);
        }
        if (bytes.length > settings.maxBodyBytes()) {
            throw tooLarge();
        }
        // the body is read as JSON whatever its Content-Type: curl -d sends a form type by default
        JsonNode body;
        try {
            body = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(
                    null,
                    "the body is not valid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (body == null || !body.isObject()) {
            throw ApiError.invalid(null, "the body must be a JSON object");
        }
        return body;
    }

    private ApiError tooLarge() {
        return new ApiError(
                413,
                "invalid_request_error",
                null,
                "request_too_large",
                "the body is larger than " + settings.maxBodyBytes() + " bytes");
    }

    private Request parse(JsonNode body, boolean chat) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!COMMON.contains(f) && !(chat ? CHAT_ONLY : COMPLETION_ONLY).contains(f)) {
                throw ApiError.invalid(f, "Unrecognized request argument supplied: " + f);
            }
        }
        JsonNode model = body.get("model");
        if (model == null || model.isNull()) {
            throw ApiError.invalid("model", "you must provide a model parameter");
        }
        if (!model.isTextual()) {
            throw ApiError.invalid("model", "model must be a string");
        }
        String adapter = resolveModel(model.asText());

        // parameters that would change the output in ways not implemented: refused unless they ask for nothing
        requireNeutral(body, "n", v -> v.isIntegralNumber() && v.asLong() == 1, "only n=1 is supported");
        requireNeutral(body, "best_of", v -> v.isIntegralNumber() && v.asLong() == 1, "only best_of=1 is supported");
        requireNeutral(body, "echo", v -> v.isBoolean() && !v.asBoolean(), "echo is not supported");
        requireNeutral(body, "suffix", v -> false, "suffix is not supported");
        requireNeutral(body, "logprobs", v -> v.isBoolean() && !v.asBoolean(), "logprobs are not supported");
        requireNeutral(body, "top_logprobs", v -> false, "logprobs are not supported");
        requireNeutral(body, "presence_penalty", v -> v.isNumber() && v.asDouble() == 0, "penalties are not supported");
        requireNeutral(
                body, "frequency_penalty", v -> v.isNumber() && v.asDouble() == 0, "penalties are not supported");
        requireNeutral(body, "logit_bias", v -> v.isObject() && v.isEmpty(), "logit_bias is not supported");
        requireNeutral(body, "tools", v -> v.isArray() && v.isEmpty(), "tools are not supported");
        requireNeutral(body, "tool_choice", v -> v.isTextual() && v.asText().equals("none"), "tools are not supported");
        requireNeutral(
                body,
                "response_format",
                v -> v.isObject() && v.path("type").asText().equals("text") && v.size() == 1,
                "only response_format {\"type\": \"text\"} is supported");
        JsonNode user = body.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) {
            throw ApiError.invalid("user", "user must be a string");
        }

        List<int[]> prompts = chat ? List.of(chatPrompt(body.get("messages"))) : completionPrompts(body.get("prompt"));
        int longest = 0;
        for (int[] p : prompts) {
            longest = Math.max(longest, p.length);
        }
        if (longest > maxPositions) {
            throw new ApiError(
                    400,
                    "invalid_request_error",
                    chat ? "messages" : "prompt",
                    "context_length_exceeded",
                    "the prompt is " + longest + " tokens long; the model takes at most " + maxPositions);
        }

        String maxName = chat && has(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (chat && has(body, "max_completion_tokens") && has(body, "max_tokens")) {
            throw ApiError.invalid("max_tokens", "give max_tokens or max_completion_tokens, not both");
        }
        // OpenAI's defaults: 16 tokens for a completion, as many as fit for a chat
        long maxTokens = integer(body, maxName, chat ? Math.min(settings.maxTokens(), maxPositions) : 16);
        if (maxTokens < 0 || maxTokens > settings.maxTokens()) {
            throw ApiError.invalid(
                    maxName, maxName + " must lie in [0, " + settings.maxTokens() + "], got " + maxTokens);
        }
        double temperature = number(body, "temperature", 1.0);
        if (!(temperature >= 0 && temperature <= 2)) {
            throw ApiError.invalid("temperature", "temperature must lie in [0, 2], got " + temperature);
        }
        double topP = number(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiError.invalid("top_p", "top_p must lie in (0, 1], got " + topP);
        }
        long topK = integer(body, "top_k", 0);
        if (topK < -1 || topK > Integer.MAX_VALUE) {
            throw ApiError.invalid("top_k", "top_k must be >= 0 (0 or -1: all tokens), got " + topK);
        }
        long seed = integer(body, "seed", ThreadLocalRandom.current().nextLong());
        List<String> stops = stops(body.get("stop"));
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!stream) {
                throw ApiError.invalid("stream_options", "stream_options is only allowed with stream: true");
            }
            if (!so.isObject()) {
                throw ApiError.invalid("stream_options", "stream_options must be an object");
            }
            for (Iterator<String> it = so.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("include_usage")) {
                    throw ApiError.invalid("stream_options", "unknown stream option " + f);
                }
            }
            includeUsage = bool(so, "include_usage", false);
        }
        int[] stopIds = tokenizer.eosId() >= 0 ? new int[] {tokenizer.eosId()} : new int[0];
        Sampler.Options sampling =
                new Sampler.Options((float) temperature, (int) Math.max(0, topK), (float) topP, seed);
        Generator.Options options = new Generator.Options((int) maxTokens, sampling, stopIds, stops);
        return new Request(model.asText(), adapter, prompts, options, stream, includeUsage);
    }

    private static boolean has(JsonNode body, String f) {
        return body.has(f) && !body.get(f).isNull();
    }

    private static void requireNeutral(JsonNode body, String field, Predicate<JsonNode> neutral, String message) {
        JsonNode v = body.get(field);
        if (v != null && !v.isNull() && !neutral.test(v)) {
            throw ApiError.invalid(field, message + " (got " + field + "=" + v + ")");
        }
    }

    private static long integer(JsonNode body, String field, long dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.invalid(field, field + " must be an integer, got " + v);
        }
        return v.asLong();
    }

    private static double number(JsonNode body, String field, double dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw ApiError.invalid(field, field + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static boolean bool(JsonNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(field, field + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static List<String> stops(JsonNode v) {
        if (v == null || v.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode s : v) {
                if (!s.isTextual()) {
                    throw ApiError.invalid("stop", "stop must be a string or a list of strings, got " + v);
                }
                out.add(s.asText());
            }
        } else {
            throw ApiError.invalid("stop", "stop must be a string or a list of strings, got " + v);
        }
        if (out.size() > 16) {
            throw ApiError.invalid("stop", "at most 16 stop strings, got " + out.size());
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiError.invalid("stop", "a stop string must not be empty");
            }
        }
        return out;
    }

    private List<int[]> completionPrompts(JsonNode v) {
        if (v == null || v.isNull()) {
            throw ApiError.invalid("prompt", "you must provide a prompt");
        }
        List<String> texts = new ArrayList<>();
        if (v.isTextual()) {
            texts.add(v.asText());
        } else if (v.isArray() && !v.isEmpty()) {
            for (JsonNode p : v) {
                if (!p.isTextual()) {
                    throw ApiError.invalid(
                            "prompt", "prompt must be a string or a list of strings (token ids are not supported)");
                }
                texts.add(p.asText());
            }
        } else {
            throw ApiError.invalid("prompt", "prompt must be a string or a non-empty list of strings");
        }
        if (texts.size() > settings.queue()) {
            throw ApiError.invalid(
                    "prompt", texts.size() + " prompts in one request; the server queues at most " + settings.queue());
        }
        List<int[]> out = new ArrayList<>();
        for (String t : texts) {
            out.add(tokenizer.withBos(tokenizer.encode(t)));
        }
        for (int[] p : out) {
            if (p.length == 0) {
                throw ApiError.invalid("prompt", "the prompt is empty and the tokenizer has no BOS token to start it");
            }
        }
        return out;
    }

    private int[] chatPrompt(JsonNode v) {
        if (template == null) {
            throw ApiError.invalid(
                    null,
                    "the model '" + baseName + "' has no chat template (no chat_template in its tokenizer_config.json):"
                            + " use /v1/completions");
        }
        if (v == null || !v.isArray() || v.isEmpty()) {
            throw ApiError.invalid("messages", "messages must be a non-empty list of {role, content} objects");
        }
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (JsonNode m : v) {
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw ApiError.invalid("messages", "each message must be an object with a string role, got " + m);
            }
            for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("role") && !f.equals("content") && !f.equals("name")) {
                    throw ApiError.invalid("messages", "unsupported message field " + f);
                }
            }
            messages.add(new ChatTemplate.Message(m.get("role").asText(), messageText(m.get("content"))));
        }
        String rendered;
        try {
            synchronized (template) { // one Jinjava interpreter
                rendered = template.renderMessages(messages, true);
            }
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("messages", e.getMessage());
        }
        // the template writes the BOS token itself where the model wants one (as apply_chat_template)
        int[] ids = tokenizer.encode(rendered);
        ids = ids.length == 0 ? tokenizer.withBos(ids) : ids;
        if (ids.length == 0) {
            throw ApiError.invalid("messages", "the rendered conversation is empty");
        }
        return ids;
    }

    /** A message's content: a string, or a list of text parts joined. */
    private static String messageText(JsonNode c) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.path("type").asText().equals("text")
                        || !part.path("text").isTextual()) {
                    throw ApiError.invalid("messages", "only text content parts are supported, got " + part);
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid("messages", "a message's content must be a string or a list of text parts, got " + c);
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static void sendJson(HttpExchange ex, Outcome o, int status, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        o.status = status;
        o.headersSent = true;
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static ObjectNode errorBody(ApiError e) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        if (e.code == null) {
            err.putNull("code");
        } else {
            err.put("code", e.code);
        }
        return root;
    }

    private static void sendError(HttpExchange ex, Outcome o, ApiError e) {
        o.note = " (" + e.getMessage() + ")";
        try {
            if (o.headersSent) { // a stream already under way: the error as its last event
                OutputStream out = ex.getResponseBody();
                sendEvent(out, errorBody(e));
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                return;
            }
            sendJson(ex, o, e.status, errorBody(e));
        } catch (IOException io) {
            o.note += " (client gone)";
        }
    }

    /** The tokenizer behind a lock: the HTTP threads encode while the batch thread decodes. */
    private record LockedTokenizer(Tokenizer t) implements Tokenizer {
        @Override
        public int[] encode(String text) {
            synchronized (t) {
                return t.encode(text);
            }
        }

        @Override
        public String decode(int[] ids) {
            synchronized (t) {
                return t.decode(ids);
            }
        }

        @Override
        public int vocabSize() {
            return t.vocabSize();
        }

        @Override
        public int bosId() {
            return t.bosId();
        }

        @Override
        public int eosId() {
            return t.eosId();
        }

        @Override
        public int padId() {
            return t.padId();
        }
    }
}
