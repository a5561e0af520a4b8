package io.sbora4j.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sbora4j.cli.CliRun;
import io.sbora4j.cli.SboraCli;
import io.sbora4j.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sbora serve} in a child JVM, as a user runs it: answered by curl and by OpenAI's own Node client, and
 * shut down by SIGTERM with exit code 0 after finishing the request under way.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final String PROMPT = "Q: 2 + 3 =";

    @TempDir
    static Path tmp;

    static ServeFixture fixture;
    static Process server;
    static URI uri;
    static Path out, err;

    @BeforeAll
    static void start() throws Exception {
        fixture = new ServeFixture(tmp);
        // a chat template in the model's tokenizer_config.json, as HF ships one
        Files.writeString(
                fixture.base.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}{{ m['role'] }}: [{{ m['content'] }}]\\n{% endfor %}"
                        + "{% if add_generation_prompt %}A:{% endif %}\"}");
        out = tmp.resolve("serve.out");
        err = tmp.resolve("serve.err");
        server = new ProcessBuilder(sbora(
                        "serve",
                        "--model",
                        fixture.base.toString(),
                        "--adapter",
                        "fa=" + fixture.adapters.get("fa"),
                        "--adapter",
                        "lora=" + fixture.adapters.get("lora"),
                        "--tokenizer",
                        "byte",
                        "--port",
                        "0",
                        "--threads",
                        "1"))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        Pattern p = Pattern.compile("on (http://\\S+)/v1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(Files.readString(out));
            if (m.find()) {
                uri = URI.create(m.group(1));
                return;
            }
            if (!server.isAlive()) {
                fail("sbora serve exited " + server.exitValue() + ":\n" + Files.readString(err));
            }
            Thread.sleep(50);
        }
        fail("sbora serve did not start:\n" + Files.readString(out) + Files.readString(err));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor();
        }
    }

    /** {@code sbora args...} in a new JVM like this one: same java, class path and flags. */
    static List<String> sbora(String... args) {
        return ChildJvm.command(
                List.of("-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                SboraCli.class.getName(),
                List.of(args));
    }

    static String completionBody(String model, boolean stream) {
        return "{\"model\": \"" + model + "\", \"prompt\": \"" + PROMPT
                + "\", \"max_tokens\": 8, \"temperature\": 0, \"stream\": " + stream + "}";
    }

    /** Runs a command; its stdout, or null when it cannot run. */
    static String exec(List<String> cmd, Path dir, int timeoutS) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd)
                    .directory(dir == null ? null : dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            return null;
        }
        p.getOutputStream().close();
        byte[] bytes;
        try (InputStream in = p.getInputStream()) {
            bytes = in.readAllBytes();
        }
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed:\n" + new String(bytes, StandardCharsets.UTF_8));
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    @Order(0)
    void badOptionsFailWithOneLine() {
        String base = fixture.base.toString();
        String fa = fixture.adapters.get("fa").toString();
        assertFails(CliRun.run("serve", "--model", base, "--tokenizer", "byte", "--max-batch", "0"), "--max-batch");
        assertFails(
                CliRun.run("serve", "--model", base, "--tokenizer", "byte", "--adapter", "x=" + tmp.resolve("none")),
                "not a directory");
        assertFails(
                CliRun.run("serve", "--model", base, "--tokenizer", "byte", "--port", "0", "--adapter", "tiny=" + fa),
                "the base model's name");
    }

    private static void assertFails(CliRun.Result r, String part) {
        assertTrue(r.code() != 0, r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(part), r.err());
    }

    @Test
    @Order(1)
    void curlGetsTheModelsACompletionAndAStream() throws Exception {
        Assumptions.assumeTrue(exec(List.of("curl", "--version"), null, 10) != null, "curl is not installed");
        JsonNode models = JSON.readTree(exec(List.of("curl", "-sS", uri + "/v1/models"), null, 30));
        assertEquals("tiny", models.get("data").get(0).get("id").asText());
        String want = fixture.greedy("fa", ServeFixture.completionPrompt(PROMPT), 8);
        JsonNode c = JSON.readTree(exec(
                List.of(
                        "curl",
                        "-sS",
                        uri + "/v1/completions",
                        "-H",
                        "Content-Type: application/json",
                        "-d",
                        completionBody("fa", false)),
                null,
                30));
        assertEquals(want, c.get("choices").get(0).get("text").asText());
        String stream = exec(
                List.of(
                        "curl",
                        "-sSN",
                        uri + "/v1/completions",
                        "-H",
                        "Content-Type: application/json",
                        "-d",
                        completionBody("fa", true)),
                null,
                30);
        StringBuilder text = new StringBuilder();
        List<String> events = ServeServerTest.events(stream);
        assertEquals("[DONE]", events.getLast());
        for (String e : events.subList(0, events.size() - 1)) {
            text.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        assertEquals(want, text.toString());
        String notFound = exec(
                List.of(
                        "curl",
                        "-sS",
                        "-w",
                        "\n%{http_code}",
                        uri + "/v1/completions",
                        "-d",
                        completionBody("nope", false)),
                null,
                30);
        assertTrue(notFound.endsWith("\n404"), notFound);
    }

    private static final String SCRIPT = """
            import OpenAI from 'openai';
            const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'unused', maxRetries: 0 });
            const out = {};
            const ask = { model: 'fa', prompt: process.argv[3], max_tokens: 8, temperature: 0 };
            const c = await client.completions.create(ask);
            out.completion = c.choices[0].text;
            out.usage = c.usage;
            let s = '';
            for await (const ch of await client.completions.create({ ...ask, stream: true })) {
              s += ch.choices[0]?.text ?? '';
            }
            out.completionStream = s;
            const chat = { model: 'lora', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, temperature: 0 };
            const r = await client.chat.completions.create(chat);
            out.chat = r.choices[0].message.content;
            out.chatRole = r.choices[0].message.role;
            let t = '';
            for await (const ch of await client.chat.completions.create({ ...chat, stream: true })) {
              t += ch.choices[0]?.delta?.content ?? '';
            }
            out.chatStream = t;
            out.models = (await client.models.list()).data.map(m => m.id);
            try {
              await client.completions.create({ ...ask, model: 'nope' });
            } catch (e) {
              out.errorStatus = e.status;
              out.errorCode = e.code;
            }
            console.log(JSON.stringify(out));
            """;

    @Test
    @Order(2)
    void openAisNodeClientTalksToIt() throws Exception {
        Path dir = Path.of("target", "npm-openai").toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("node_modules/openai/package.json"))) {
            Files.createDirectories(dir);
            try {
                String log = exec(
                        List.of(
                                "npm",
                                "install",
                                "--prefix",
                                dir.toString(),
                                "--no-audit",
                                "--no-fund",
                                "--loglevel=error",
                                "openai@4"),
                        dir,
                        180);
                Assumptions.assumeTrue(log != null, "npm is not installed: skipping the openai client test");
            } catch (IOException e) {
                Assumptions.abort("npm install openai@4 failed, skipping the openai client test: " + e.getMessage());
            }
        }
        Files.writeString(dir.resolve("serve-client.mjs"), SCRIPT);
        String printed =
                exec(List.of("node", dir.resolve("serve-client.mjs").toString(), uri + "/v1", PROMPT), dir, 60);
        Assumptions.assumeTrue(printed != null, "node is not installed: skipping the openai client test");
        JsonNode r = JSON.readTree(printed.strip().lines().reduce((a, b) -> b).orElseThrow());
        String want = fixture.greedy("fa", ServeFixture.completionPrompt(PROMPT), 8);
        assertEquals(want, r.get("completion").asText(), printed);
        assertEquals(want, r.get("completionStream").asText(), printed);
        assertEquals(PROMPT.length() + 1, r.get("usage").get("prompt_tokens").asInt());
        String chatWant = fixture.greedy("lora", ServeFixture.TOK.encode("user: [hi]\nA:"), 8);
        assertEquals(chatWant, r.get("chat").asText(), printed);
        assertEquals("assistant", r.get("chatRole").asText());
        assertEquals(chatWant, r.get("chatStream").asText(), printed);
        assertEquals("[\"tiny\",\"fa\",\"lora\"]", r.get("models").toString());
        assertEquals(404, r.get("errorStatus").asInt(), printed);
        assertEquals("model_not_found", r.get("errorCode").asText(), printed);
    }

    @Test
    @Order(3)
    void sigtermFinishesTheRunningRequestAndExitsZero() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(uri + "/v1/completions"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\": \"lora\", \"prompt\": \"x\", \"max_tokens\": 100, \"temperature\": 0, \"stream\":"
                                + " true}"))
                .build();
        HttpResponse<InputStream> r = CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            lines.add(in.readLine()); // the first event: the request is running
            server.destroy(); // SIGTERM
            for (String l; (l = in.readLine()) != null; ) {
                lines.add(l);
            }
        }
        assertTrue(server.waitFor(60, TimeUnit.SECONDS), "sbora serve did not exit after SIGTERM");
        assertEquals(0, server.exitValue(), Files.readString(err));
        assertEquals(
                "data: [DONE]",
                lines.stream().filter(l -> !l.isEmpty()).reduce((a, b) -> b).orElse(""));
        String log = Files.readString(err);
        assertTrue(log.contains("shutting down"), log);
        assertTrue(log.contains("POST /v1/completions 200 model=lora"), log);
    }
}
