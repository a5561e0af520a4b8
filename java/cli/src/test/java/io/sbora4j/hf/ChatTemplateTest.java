package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.hf.ChatTemplate.Message;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chat templates of Llama 3.1 Instruct, Mistral 7B Instruct v0.3 and Qwen2.5 Instruct (copied from their
 * tokenizer_config.json into test resources) render what transformers' {@code apply_chat_template(messages,
 * tokenize=False)} gives. The expected strings are worked out by hand from the templates under Jinja2's rules as
 * transformers configures it (trim_blocks, lstrip_blocks, a filter binding tighter than {@code +}), following each
 * template statement by statement.
 */
class ChatTemplateTest {

    @TempDir
    Path dir;

    private static final List<Message> CHAT = List.of(
            new Message("system", "You are a helpful assistant."),
            new Message("user", "Hello!"),
            new Message("assistant", "Hi there. How can I help?"),
            new Message("user", "What is 2 + 2?"));

    private static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/chat-templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ChatTemplate template(String name, String bos, String eos) throws IOException {
        return ChatTemplate.of(resource(name), Map.of("bos_token", bos, "eos_token", eos));
    }

    @Test
    void llama31Instruct() throws IOException {
        ChatTemplate t = template("llama-3.1-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");
        String header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
        assertEquals(
                header
                        + "You are a helpful assistant.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there. How can I help?<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                t.renderMessages(CHAT, true));
        // no system message: an empty one; contents trimmed (| binds tighter than +); no generation prompt
        assertEquals(
                header + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi  there<|eot_id|>",
                t.renderMessages(List.of(new Message("user", "  Hi  there\n")), false));
    }

    @Test
    void qwen25Instruct() throws IOException {
        ChatTemplate t = template("qwen2.5-instruct.jinja", "", "<|im_end|>");
        assertEquals(
                "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHello!<|im_end|>\n"
                        + "<|im_start|>assistant\nHi there. How can I help?<|im_end|>\n"
                        + "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                t.renderMessages(CHAT, true));
        // no system message: Qwen's default one; contents as they are (this template does not trim)
        assertEquals(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\n Hi <|im_end|>\n",
                t.renderMessages(List.of(new Message("user", " Hi ")), false));
    }

    @Test
    void mistral7bInstructV03() throws IOException {
        ChatTemplate t = template("mistral-7b-instruct-v0.3.jinja", "<s>", "</s>");
        // the system message goes before the last user message; add_generation_prompt changes nothing
        String expected = "<s>[INST] Hello![/INST] Hi there. How can I help?</s>"
                + "[INST] You are a helpful assistant.\n\nWhat is 2 + 2?[/INST]";
        assertEquals(expected, t.renderMessages(CHAT, true));
        assertEquals(expected, t.renderMessages(CHAT, false));
        assertEquals(
                "<s>[INST] Hi[/INST] Hello</s>",
                t.renderMessages(List.of(new Message("user", "Hi"), new Message("assistant", "  Hello \n")), false));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> t.renderMessages(List.of(new Message("user", "a"), new Message("user", "b")), false));
        assertEquals(
                "chat template: After the optional system message, conversation roles must alternate "
                        + "user/assistant/user/assistant/...",
                e.getMessage());
    }

    @Test
    void pythonStyleFeaturesRenderAsJinja2Does() {
        Map<String, String> none = Map.of();
        assertEquals(
                "a b|c",
                ChatTemplate.of("{{ '  a b '.strip() }}|{{ ' c\n' | trim }}", none)
                        .render(List.of(), false));
        assertEquals(
                "0,1,",
                ChatTemplate.of(
                                "{% for i in [0, 1, 2, 3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }},{% endfor %}",
                                none)
                        .render(List.of(), false));
        assertEquals(
                "1,3,",
                ChatTemplate.of(
                                "{% for i in [0, 1, 2, 3] %}{% if i is even %}{% continue %}{% endif %}{{ i }},{% endfor %}",
                                none)
                        .render(List.of(), false));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "get_weather");
        tool.put("arguments", new LinkedHashMap<>(Map.of("city", "Zürich")));
        tool.put("n", List.of(1, 2.5, true));
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("role", "user");
        msg.put("content", tool);
        // json.dumps(x, ensure_ascii=False) and json.dumps(x, ensure_ascii=False, indent=2)
        assertEquals(
                "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}, \"n\": [1, 2.5, true]}",
                ChatTemplate.of("{{ messages[0].content | tojson }}", none).render(List.of(msg), false));
        assertEquals(
                "{\n  \"name\": \"get_weather\",\n  \"arguments\": {\n    \"city\": \"Zürich\"\n  },\n"
                        + "  \"n\": [\n    1,\n    2.5,\n    true\n  ]\n}",
                ChatTemplate.of("{{ messages[0].content | tojson(indent=2) }}", none)
                        .render(List.of(msg), false));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ChatTemplate.of("x{{ raise_exception('no: ' + 'way') }}", none)
                        .render(List.of(), false));
        assertEquals("chat template: no: way", e.getMessage());
    }

    @Test
    void strftimeNowIsDefinedAndDatesAsPython() {
        String t = "{%- if strftime_now is defined %}{{ strftime_now(\"%d %b %Y\") }}{% else %}none{% endif %}";
        String before = ChatTemplate.strftime(LocalDateTime.now(), "%d %b %Y");
        String got = ChatTemplate.of(t, Map.of()).render(List.of(), false);
        String after = ChatTemplate.strftime(LocalDateTime.now(), "%d %b %Y");
        assertTrue(got.equals(before) || got.equals(after), got);
        // time.strftime of 2024-07-05 09:03:01
        assertEquals(
                "05 Jul 2024|2024-07-05|Friday 09:03:01 AM|187|100%",
                ChatTemplate.strftime(
                        LocalDateTime.of(2024, 7, 5, 9, 3, 1), "%d %b %Y|%Y-%m-%d|%A %H:%M:%S %p|%j|100%%"));
    }

    @Test
    void loadReadsTheTemplateAndTheSpecialTokensOfTokenizerConfig() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = json.createObjectNode();
        cfg.put("chat_template", resource("llama-3.1-instruct.jinja"));
        cfg.put("bos_token", "<|begin_of_text|>");
        cfg.putObject("eos_token").put("content", "<|eot_id|>").put("lstrip", false);
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
        ChatTemplate t = ChatTemplate.load(dir);
        assertEquals("<|eot_id|>", t.specialTokens().get("eos_token"));
        assertTrue(t.renderMessages(CHAT, true).startsWith("<|begin_of_text|><|start_header_id|>system"));

        cfg.remove("chat_template");
        cfg.putArray("chat_template")
                .add(json.createObjectNode().put("name", "tool_use").put("template", "tools"))
                .add(json.createObjectNode().put("name", "default").put("template", "{{ bos_token }}plain"));
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
        assertEquals("<|begin_of_text|>plain", ChatTemplate.load(dir).render(List.of(), false));

        cfg.remove("chat_template");
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.load(dir));
        assertTrue(e.getMessage().endsWith("no chat_template"), e.getMessage());
    }
}
