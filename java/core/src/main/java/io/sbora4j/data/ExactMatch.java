package io.sbora4j.data;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exact-match scoring as the LLM-Adapters evaluation scripts do it: for a numeric answer, the last number in the
 * generated text must equal it (within 1e-3); for a multiple-choice answer (an option word such as {@code answer2},
 * {@code option1}, {@code solution2}, {@code ending3}, {@code true}/{@code false}, or a letter A-E), the first
 * option word of its kind in the text must be it (each LLM-Adapters script searches only its data set's kind);
 * any other answer must equal the trimmed text.
 */
public final class ExactMatch {

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:\\.\\d+)?");
    private static final Pattern OPTION =
            Pattern.compile("\\b(true|false|answer[1-5]|option[1-5]|solution[12]|ending[1-4]|[A-E])\\b");
    private static final Pattern[] KINDS = {
        Pattern.compile("\\b(true|false)\\b"),
        Pattern.compile("\\b(answer[1-5])\\b"),
        Pattern.compile("\\b(option[1-5])\\b"),
        Pattern.compile("\\b(solution[12])\\b"),
        Pattern.compile("\\b(ending[1-4])\\b"),
        Pattern.compile("\\b([A-E])\\b")
    };

    private ExactMatch() {}

    public static boolean correct(String generated, String answer) {
        String gold = answer.strip();
        if (NUMBER.matcher(gold.replace(",", "")).matches()) {
            String last = lastNumber(generated);
            return last != null
                    && Math.abs(Double.parseDouble(last) - Double.parseDouble(gold.replace(",", ""))) < 1e-3;
        }
        if (OPTION.matcher(gold).matches()) {
            for (Pattern kind : KINDS) {
                if (kind.matcher(gold).matches()) {
                    Matcher m = kind.matcher(generated);
                    return m.find() && m.group(1).equalsIgnoreCase(gold);
                }
            }
        }
        return generated.strip().equalsIgnoreCase(gold);
    }

    /** The last number in {@code text} (thousands separators removed), or null. */
    public static String lastNumber(String text) {
        Matcher m = NUMBER.matcher(text.replace(",", ""));
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return last;
    }

    /** "12/50 = 24.0%". */
    public static String describe(int right, int total) {
        return String.format(Locale.ROOT, "%d/%d = %.1f%%", right, total, total == 0 ? 0 : 100.0 * right / total);
    }
}
