package io.sbora4j.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sbora4j.data.Tokenizer;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.serve.AdapterRegistry;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OpenAiServer} in this JVM on an ephemeral port, over a tiny model and two adapters: each answer equals
 * {@link io.sbora4j.data.Generator} alone with that adapter, whether requests come one by one, concurrently (mixed
 * batches) or streamed, and bad requests get OpenAI's error shape with the right status.
 */
class ServeServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    static Path tmp;

    static ServeFixture fixture;
    static Arena arena;
    static OpenAiServer server;
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();

    @BeforeAll
    static void setUp() throws IOException {
        fixture = new ServeFixture(tmp);
        arena = Arena.ofShared();
        server = fixture.start(
                arena,
                OpenAiServer.Settings.defaults().withPort(0).withBatching(4, 32),
                ServeFixture.TOK,
                ServeFixture.TEMPLATE,
                new PrintStream(LOG, true, StandardCharsets.UTF_8));
    }

    @AfterAll
    static void tearDown() {
        if (server != null) {
            server.close();
        }
        if (arena != null) {
            arena.close();
        }
    }

    record Reply(int status, String body, HttpResponse<String> response) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    static Reply send(OpenAiServer s, String method, String path, String body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.uri() + path))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json");
        b = body == null
                ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    static Reply post(String path, String body) throws IOException {
        return send(server, "POST", path, body);
    }

    static String completion(String model, String prompt, int maxTokens, boolean stream) throws IOException {
        return JSON.writeValueAsString(
                Map.of("model", model, "prompt", prompt, "max_tokens", maxTokens, "temperature", 0, "stream", stream));
    }

    @Test
    void modelsListsTheBaseAndEachAdapter() throws IOException {
        Reply r = send(server, "GET", "/v1/models", null);
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        assertEquals("list", j.get("object").asText());
        List<String> ids = new ArrayList<>();
        j.get("data").forEach(m -> ids.add(m.get("id").asText()));
        assertEquals(List.of("tiny", "fa", "lora"), ids);
        assertEquals("model", j.get("data").get(1).get("object").asText());
        assertEquals("tiny", j.get("data").get(1).get("parent").asText());
    }

    @Test
    void aCompletionPerAdapterEqualsTheGeneratorAlone() throws IOException {
        List<String> texts = new ArrayList<>();
        for (String model : List.of("tiny", "base", "fa", "lora")) {
            String prompt = "Q: 2 + 3 =";
            Reply r = post("/v1/completions", completion(model, prompt, 12, false));
            assertEquals(200, r.status(), r.body());
            JsonNode j = r.json();
            String adapter = model.equals("tiny") || model.equals("base") ? null : model;
            String want = fixture.greedy(adapter, ServeFixture.completionPrompt(prompt), 12);
            JsonNode choice = j.get("choices").get(0);
            assertEquals(want, choice.get("text").asText(), model);
            assertEquals("text_completion", j.get("object").asText());
            assertEquals(model, j.get("model").asText());
            assertTrue(j.get("id").asText().startsWith("cmpl-"));
            assertEquals(0, choice.get("index").asInt());
            int completionTokens = j.get("usage").get("completion_tokens").asInt();
            assertEquals(
                    completionTokens == 12 ? "length" : "stop",
                    choice.get("finish_reason").asText());
            assertEquals(
                    prompt.length() + 1, j.get("usage").get("prompt_tokens").asInt());
            assertEquals(
                    j.get("usage").get("total_tokens").asInt(),
                    j.get("usage").get("prompt_tokens").asInt() + completionTokens);
            texts.add(want);
        }
        // the adapters must change the text, or the comparison proves little
        assertNotEquals(texts.get(0), texts.get(2));
        assertNotEquals(texts.get(0), texts.get(3));
        assertNotEquals(texts.get(2), texts.get(3));
    }

    @Test
    void aListOfPromptsGivesOneChoiceEach() throws IOException {
        Reply r = post(
                "/v1/completions",
                "{\"model\": \"fa\", \"prompt\": [\"one\", \"a longer two\"], \"max_tokens\": 5, \"temperature\": 0}");
        assertEquals(200, r.status(), r.body());
        JsonNode c = r.json().get("choices");
        assertEquals(2, c.size());
        assertEquals(
                fixture.greedy("fa", ServeFixture.completionPrompt("one"), 5),
                c.get(0).get("text").asText());
        assertEquals(
                fixture.greedy("fa", ServeFixture.completionPrompt("a longer two"), 5),
                c.get(1).get("text").asText());
    }

    @Test
    void concurrentRequestsForDifferentAdaptersGiveTheSequentialTexts() throws Exception {
        List<String> models = List.of("fa", "lora", "base", "fa", "lora", "tiny", "lora", "fa");
        List<String> prompts = new ArrayList<>();
        List<String> sequential = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            String p = "prompt number " + i + (i % 2 == 0 ? " and some more" : "");
            prompts.add(p);
            sequential.add(post("/v1/completions", completion(models.get(i), p, 10, false))
                    .json()
                    .get("choices")
                    .get(0)
                    .get("text")
                    .asText());
        }
        ExecutorService pool = Executors.newFixedThreadPool(models.size());
        try {
            for (int round = 0; round < 2; round++) {
                List<Future<String>> fs = new ArrayList<>();
                for (int i = 0; i < models.size(); i++) {
                    int k = i;
                    fs.add(pool.submit(() -> {
                        Reply r = post("/v1/completions", completion(models.get(k), prompts.get(k), 10, false));
                        assertEquals(200, r.status(), r.body());
                        return r.json().get("choices").get(0).get("text").asText();
                    }));
                }
                for (int i = 0; i < models.size(); i++) {
                    assertEquals(sequential.get(i), fs.get(i).get(), "request " + i + " (" + models.get(i) + ")");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        String adapter = models.get(1);
        assertEquals(fixture.greedy(adapter, ServeFixture.completionPrompt(prompts.get(1)), 10), sequential.get(1));
    }

    /** The data lines of a server-sent event stream, [DONE] last. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (!block.isBlank()) {
                assertTrue(block.startsWith("data: "), block);
                out.add(block.substring("data: ".length()));
            }
        }
        return out;
    }

    @Test
    void streamingGivesTheSameTextAndEndsWithDone() throws IOException {
        for (String model : List.of("lora", "fa", "base")) {
            Reply whole = post("/v1/completions", completion(model, "stream me", 20, false));
            Reply stream = post("/v1/completions", completion(model, "stream me", 20, true));
            assertEquals(200, stream.status(), stream.body());
            assertTrue(stream.response()
                    .headers()
                    .firstValue("Content-Type")
                    .orElse("")
                    .startsWith("text/event-stream"));
            List<String> ev = events(stream.body());
            assertEquals("[DONE]", ev.getLast());
            StringBuilder text = new StringBuilder();
            String finish = null;
            for (String e : ev.subList(0, ev.size() - 1)) {
                JsonNode c = JSON.readTree(e);
                assertEquals("text_completion", c.get("object").asText());
                JsonNode ch = c.get("choices").get(0);
                text.append(ch.get("text").asText());
                if (!ch.get("finish_reason").isNull()) {
                    finish = ch.get("finish_reason").asText();
                }
            }
            JsonNode w = whole.json().get("choices").get(0);
            assertEquals(w.get("text").asText(), text.toString(), model);
            assertEquals(w.get("finish_reason").asText(), finish);
            assertTrue(ev.size() > 3, "one event per piece of text: " + ev);
        }
    }

    @Test
    void chatRendersTheTemplateAndStreamsDeltas() throws IOException {
        String body = "{\"model\": \"lora\", \"max_tokens\": 9, \"temperature\": 0, \"messages\": ["
                + "{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi\"}]";
        Reply r = post("/v1/chat/completions", body + "}");
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        assertEquals("chat.completion", j.get("object").asText());
        JsonNode msg = j.get("choices").get(0).get("message");
        assertEquals("assistant", msg.get("role").asText());
        int[] prompt = ServeFixture.TOK.encode("system: [be brief]\nuser: [hi]\nA:");
        assertEquals(fixture.greedy("lora", prompt, 9), msg.get("content").asText());
        assertEquals(prompt.length, j.get("usage").get("prompt_tokens").asInt());

        Reply s = post(
                "/v1/chat/completions", body + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        List<String> ev = events(s.body());
        assertEquals("[DONE]", ev.getLast());
        StringBuilder text = new StringBuilder();
        JsonNode first = JSON.readTree(ev.getFirst());
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals(
                "assistant",
                first.get("choices").get(0).get("delta").get("role").asText());
        JsonNode usage = JSON.readTree(ev.get(ev.size() - 2));
        assertEquals(0, usage.get("choices").size());
        assertEquals(
                j.get("usage").get("total_tokens").asInt(),
                usage.get("usage").get("total_tokens").asInt());
        for (String e : ev.subList(0, ev.size() - 2)) {
            JsonNode d = JSON.readTree(e).get("choices").get(0).get("delta");
            if (d.has("content")) {
                text.append(d.get("content").asText());
            }
        }
        assertEquals(msg.get("content").asText(), text.toString());
    }

    @Test
    void stopStringsEndTheText() throws IOException {
        String all = post("/v1/completions", completion("fa", "abc", 16, false))
                .json()
                .get("choices")
                .get(0)
                .get("text")
                .asText();
        if (all.length() < 4) {
            return; // the model stopped early: nothing to cut
        }
        String stop = all.substring(2, 4);
        Reply r = post(
                "/v1/completions",
                JSON.writeValueAsString(Map.of(
                        "model", "fa", "prompt", "abc", "max_tokens", 16, "temperature", 0, "stop", List.of(stop))));
        JsonNode c = r.json().get("choices").get(0);
        assertEquals(all.substring(0, all.indexOf(stop)), c.get("text").asText());
        assertEquals("stop", c.get("finish_reason").asText());
    }

    /**
     * One layer that adds nothing, one-hot embeddings and a head mapping each byte to its successor in a cycle (a,
     * the two bytes of é, b, c): greedy text after "a" is "ébcaébc...", é made of two tokens.
     */
    private static LlamaModel cycle(Arena arena) {
        int[] cycle = {'a', 0xC3, 0xA9, 'b', 'c'};
        int vocab = 259, hidden = 264;
        LlamaConfig cfg = new LlamaConfig(vocab, hidden, 8, 1, 4, 4, 1e-6, 10000, 64, false);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : LlamaModel.expectedShapes(cfg).entrySet()) {
            int[] d = e.getValue();
            float[] v = new float[Arrays.stream(d).reduce(1, (x, y) -> x * y)];
            if (e.getKey().endsWith("norm.weight")) {
                Arrays.fill(v, 1f);
            } else if (e.getKey().equals("model.embed_tokens.weight")) {
                for (int i = 0; i < vocab; i++) {
                    v[i * hidden + i] = 1f;
                }
            } else if (e.getKey().equals("lm_head.weight")) {
                for (int i = 0; i < vocab; i++) {
                    int next = 'a';
                    for (int c = 0; c < cycle.length; c++) {
                        if (cycle[c] == i) {
                            next = cycle[(c + 1) % cycle.length];
                        }
                    }
                    v[next * hidden + i] = 1f;
                }
            }
            w.put(e.getKey(), Tensor.of(arena, Device.CPU, v, d));
        }
        return LlamaModel.of(cfg, w, Device.CPU, arena);
    }

    @Test
    void aStreamNeverSplitsACharacter() throws IOException {
        try (Arena a = Arena.ofShared();
                OpenAiServer s = OpenAiServer.start(
                        OpenAiServer.Settings.defaults().withPort(0),
                        AdapterRegistry.over(cycle(a)),
                        ServeFixture.TOK,
                        null,
                        "cycle",
                        new PrintStream(OutputStreamNull.INSTANCE))) {
            Reply r = send(s, "POST", "/v1/completions", completion("cycle", "a", 9, true));
            List<String> ev = events(r.body());
            StringBuilder text = new StringBuilder();
            for (String e : ev.subList(0, ev.size() - 1)) {
                String piece =
                        JSON.readTree(e).get("choices").get(0).get("text").asText();
                assertTrue(piece.indexOf('\uFFFD') < 0, "a piece ends inside a character: " + ev);
                text.append(piece);
            }
            assertEquals("ébcaébc", text.toString());
            assertTrue(ev.contains("[DONE]"));
        }
    }

    static void assertError(Reply r, int status, String param, String code) throws IOException {
        assertEquals(status, r.status(), r.body());
        JsonNode e = r.json().get("error");
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isBlank(), r.body());
        assertTrue(e.get("type").isTextual(), r.body());
        assertTrue(e.has("param") && e.has("code"), r.body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.body());
        }
        if (code != null) {
            assertEquals(code, e.get("code").asText(), r.body());
        }
    }

    @Test
    void badRequestsGetOpenAisErrorShape() throws IOException {
        assertError(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": "), 400, null, null);
        assertError(post("/v1/completions", "[1, 2]"), 400, null, null);
        assertError(post("/v1/completions", completion("nope", "x", 4, false)), 404, "model", "model_not_found");
        assertError(post("/v1/completions", "{\"model\": \"tiny\"}"), 400, "prompt", null);
        assertError(post("/v1/completions", "{\"prompt\": \"x\"}"), 400, "model", null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": \"4\"}"),
                400,
                "max_tokens",
                null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": 100000}"),
                400,
                "max_tokens",
                null);
        assertError(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": 7}"), 400, "prompt", null);
        assertError(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"n\": 2}"), 400, "n", null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"logprobs\": 3}"),
                400,
                "logprobs",
                null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"frobnicate\": true}"),
                400,
                "frobnicate",
                null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"temperature\": 5}"),
                400,
                "temperature",
                null);
        assertError(
                post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"stop\": [\"\"]}"),
                400,
                "stop",
                null);
        assertError(
                post("/v1/completions", completion("tiny", "x".repeat(200), 4, false)),
                400,
                "prompt",
                "context_length_exceeded");
        assertError(post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": \"hi\"}"), 400, "messages", null);
        // a body over the limit: 413, whether or not the length is announced
        String big = "{\"model\": \"tiny\", \"prompt\": \"" + "y".repeat(2 << 20) + "\"}";
        assertError(post("/v1/completions", big), 413, null, "request_too_large");
        // wrong methods and paths
        Reply get = send(server, "GET", "/v1/completions", null);
        assertError(get, 405, null, "method_not_allowed");
        assertEquals("POST", get.response().headers().firstValue("Allow").orElse(""));
        assertError(post("/v1/models", "{}"), 405, null, "method_not_allowed");
        assertError(send(server, "GET", "/v2/nothing", null), 404, null, null);
        // one log line per request, with the status
        String log = LOG.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("POST /v1/completions 404 model=-"), log);
        assertTrue(log.contains("GET /v1/completions 405"), log);
    }

    /** The byte tokenizer, slowed down so that a request stays in its batch long enough to fill the queue. */
    record Slow(Tokenizer t) implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return t.encode(text);
        }

        @Override
        public String decode(int[] ids) {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return t.decode(ids);
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
            return -1; // never stop early: the slow request must last
        }

        @Override
        public int padId() {
            return t.padId();
        }
    }

    @Test
    void aFullQueueAnswers429AndChatWithoutATemplate400() throws Exception {
        try (Arena a = Arena.ofShared();
                OpenAiServer s = fixture.start(
                        a,
                        OpenAiServer.Settings.defaults().withPort(0).withBatching(1, 1),
                        new Slow(ServeFixture.TOK),
                        null,
                        new PrintStream(OutputStreamNull.INSTANCE))) {
            String slow = completion("fa", "slow", 60, false);
            CompletableFuture<Reply> running = CompletableFuture.supplyAsync(() -> sendUnchecked(s, slow));
            awaitLoad(s, 0, 1);
            CompletableFuture<Reply> waiting = CompletableFuture.supplyAsync(() -> sendUnchecked(s, slow));
            awaitLoad(s, 1, 1);
            Reply refused = send(s, "POST", "/v1/completions", completion("lora", "x", 2, false));
            assertError(refused, 429, null, "rate_limit_exceeded");
            assertTrue(refused.response().headers().firstValue("Retry-After").isPresent());
            assertEquals(200, running.get().status(), running.get().body());
            assertEquals(200, waiting.get().status(), waiting.get().body());
            assertEquals(
                    60,
                    running.get().json().get("usage").get("completion_tokens").asInt());
            // a stream's events come as the text is made, not when the request ends
            HttpRequest req = HttpRequest.newBuilder(URI.create(s.uri() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(completion("fa", "slow", 40, true)))
                    .build();
            HttpResponse<InputStream> streamed = CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(streamed.body(), StandardCharsets.UTF_8))) {
                assertTrue(in.readLine().startsWith("data: {"));
                assertEquals(1, s.load()[1], "the first event came while the request was still running");
                String last = "";
                for (String l; (l = in.readLine()) != null; ) {
                    last = l.isEmpty() ? last : l;
                }
                assertEquals("data: [DONE]", last);
            }
            assertError(
                    send(
                            s,
                            "POST",
                            "/v1/chat/completions",
                            "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\"," + " \"content\": \"hi\"}]}"),
                    400,
                    null,
                    null);
        }
    }

    static Reply sendUnchecked(OpenAiServer s, String body) {
        try {
            return send(s, "POST", "/v1/completions", body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void awaitLoad(OpenAiServer s, int waiting, int running) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            int[] l = s.load();
            if (l[0] == waiting && l[1] == running) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the server never had " + waiting + " waiting and " + running + " running");
    }

    /** Discards what is written. */
    static final class OutputStreamNull extends OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {}
    }
}
