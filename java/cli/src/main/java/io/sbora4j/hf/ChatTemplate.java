package io.sbora4j.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code chat_template} of a Hugging Face {@code tokenizer_config.json}, rendered with Jinjava as transformers'
 * {@code apply_chat_template(messages, tokenize=False)} renders it with Jinja2: blocks trimmed and left-stripped
 * ({@code trim_blocks}, {@code lstrip_blocks}), the variables {@code messages}, {@code add_generation_prompt},
 * {@code bos_token} and {@code eos_token} (and the other special tokens the config names), {@code tools} and
 * {@code documents} left undefined, {@code raise_exception(message)} failing the render with that message, and
 * {@code strftime_now(format)} giving the local date and time.
 *
 * <p>Where Jinjava and Jinja2 differ on what these templates use, this class makes Jinjava behave as Jinja2:
 * {@code tojson} writes JSON as Python's {@code json.dumps} does ({@code ", "} and {@code ": "} separators,
 * non-ASCII kept, {@code indent} honoured), and {@code raise_exception} is a function. A template whose render
 * reports an error (an unknown filter, a syntax error, a raised exception) is refused with that error rather than
 * rendered partially.
 */
public final class ChatTemplate {

    /** The largest tokenizer_config.json read. */
    private static final long MAX_CONFIG_BYTES = 16L << 20;

    private final String template;
    private final Map<String, String> specialTokens;
    private final Jinjava jinjava;

    private ChatTemplate(String template, Map<String, String> specialTokens) {
        this.template = template;
        this.specialTokens = Map.copyOf(specialTokens);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // every behaviour Jinjava keeps only for its own older templates set to Jinja2's: {{- and {#- trim,
                // Python's operator precedence, iteration over a mapping's keys, None kept in loops
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withKeepNullableLoopValues(true)
                        .withUsePyishObjectMapper(true)
                        .build())
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext()
                .registerFunction(new ELFunctionDefinition(
                        "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFilter(new PythonJson());
        jinjava.getGlobalContext()
                .registerFunction(
                        new ELFunctionDefinition("", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
    }

    /**
     * A template with its special tokens: {@code bos_token}, {@code eos_token} and any others by their config names.
     */
    public static ChatTemplate of(String template, Map<String, String> specialTokens) {
        if (template == null || template.isEmpty()) {
            throw new IllegalArgumentException("the chat template is empty");
        }
        return new ChatTemplate(template, specialTokens);
    }

    /**
     * The chat template of the {@code tokenizer_config.json} in {@code path} (the file, or a directory holding it):
     * its {@code chat_template} string, or the entry named "default" of a list of named templates.
     *
     * @throws IOException              if the file is missing or cannot be read
     * @throws IllegalArgumentException naming the file, if it has no chat template or is not a JSON object
     */
    public static ChatTemplate load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer_config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer_config.json at " + path);
        }
        JsonNode c;
        try {
            c = TokenizerJson.parse(TokenizerJson.readText(file, MAX_CONFIG_BYTES));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    e.getMessage().startsWith(file.toString()) ? e.getMessage() : file + ": " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException(file + ": not a JSON object");
        }
        String template = templateOf(c.get("chat_template"));
        if (template == null) {
            throw new IllegalArgumentException(file + ": no chat_template");
        }
        Map<String, String> special = new LinkedHashMap<>();
        c.properties().forEach(e -> {
            String k = e.getKey();
            JsonNode v = e.getValue();
            if (k.endsWith("_token") && v != null) {
                if (v.isTextual()) {
                    special.put(k, v.asText());
                } else if (v.isObject() && v.path("content").isTextual()) {
                    special.put(k, v.path("content").asText()); // an AddedToken written out
                }
            }
        });
        return new ChatTemplate(template, special);
    }

    /** A template string, or the "default" one of a list of {"name", "template"} objects; null if none. */
    private static String templateOf(JsonNode t) {
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText(null))
                        && named.path("template").isTextual()) {
                    return named.path("template").asText();
                }
            }
        }
        return null;
    }

    /** The template text. */
    public String template() {
        return template;
    }

    /** The special tokens the template sees, by their config names (bos_token, eos_token, ...). */
    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /** One message of a conversation: a role (system, user, assistant) and its text. */
    public record Message(String role, String content) {

        /** Checks that neither is null. */
        public Message {
            if (role == null || content == null) {
                throw new IllegalArgumentException("a message needs a role and a content");
            }
        }

        /** The message as the template sees it: a mapping with "role" and "content". */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", role);
            m.put("content", content);
            return m;
        }
    }

    /** {@link #render(List, boolean)} of plain messages. */
    public String renderMessages(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> maps = new ArrayList<>();
        messages.forEach(m -> maps.add(m.toMap()));
        return render(maps, addGenerationPrompt);
    }

    /**
     * The text of {@code messages} (each a mapping with "role" and "content", and whatever else the template reads)
     * as the template renders it.
     *
     * @throws IllegalArgumentException with the template's message, if it raises an exception or fails to render
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        // transformers defines strftime_now as a global function; templates test it with "is defined" (Llama 3.2
        // dates its system prompt with it), which Jinjava answers from variables, not functions
        vars.put("strftime_now", "strftime_now");
        RenderResult r = jinjava.renderForResult(template, vars);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("chat template: " + describe(e));
            }
        }
        return r.getOutput();
    }

    /** A raised exception's own message; otherwise Jinjava's, with the line. */
    private static String describe(TemplateError e) {
        Throwable t = e.getException();
        while (t != null) {
            if (t instanceof TemplateException raised) {
                return raised.getMessage();
            }
            t = t.getCause();
        }
        String m = e.getMessage();
        if (m != null && m.contains(TemplateException.PREFIX)) {
            return m.substring(m.indexOf(TemplateException.PREFIX) + TemplateException.PREFIX.length())
                    .strip();
        }
        return m + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
    }

    /** What {@code raise_exception(message)} throws: the render fails with the template's message. */
    static final class TemplateException extends RuntimeException {
        static final String PREFIX = "raise_exception:";

        TemplateException(String message) {
            super(PREFIX + " " + message);
        }

        @Override
        public String getMessage() {
            return super.getMessage().substring(PREFIX.length() + 1);
        }
    }

    /**
     * {@code raise_exception(message)}, as transformers defines it for chat templates.
     *
     * @throws TemplateException always
     */
    public static String raiseException(String message) {
        throw new TemplateException(message);
    }

    /**
     * {@code strftime_now(format)}, as transformers defines it for chat templates: the local date and time now in
     * Python's strftime {@code format} (the directives %a %A %b %B %d %H %I %j %m %M %p %S %y %Y and %%).
     */
    public static String strftimeNow(String format) {
        return strftime(LocalDateTime.now(), format);
    }

    /** {@code time.strftime(format)} of {@code t}, in English as Python's C locale writes it. */
    static String strftime(LocalDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'd' -> "dd";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'j' -> "DDD";
                case 'm' -> "MM";
                case 'M' -> "mm";
                case 'p' -> "a";
                case 'S' -> "ss";
                case 'y' -> "yy";
                case 'Y' -> "yyyy";
                default -> null;
            };
            if (pattern != null) {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(t));
            } else if (d == '%') {
                out.append('%');
            } else {
                throw new TemplateException("strftime_now: unsupported directive %" + d);
            }
        }
        return out.toString();
    }

    /** {@code tojson} as transformers' Jinja environment has it: {@code json.dumps(x, ensure_ascii=False)}. */
    static final class PythonJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.get("indent");
            if (indent == null && args.length > 0) {
                indent = args[0];
            }
            int n = indent == null ? -1 : Integer.parseInt(indent.toString().strip());
            StringBuilder out = new StringBuilder();
            PythonJsonWriter.write(var, n, 0, out);
            return out.toString();
        }
    }
}
