package io.sbora4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Built-in generated data, for demos and tests: a pre-training corpus of simple patterned text (counting, copying,
 * spelling, word sentences) that contains no arithmetic, and a downstream task such a model has never seen: adding
 * two numbers.
 */
public final class SyntheticTasks {

    private static final String[] NOUNS = {"cat", "dog", "fox", "bird", "fish", "tree", "sun", "moon", "car", "ship"};
    private static final String[] ADJ = {"red", "big", "small", "quick", "lazy", "green", "old", "new", "dark", "bright"
    };
    private static final String[] VERBS = {"sees", "likes", "follows", "jumps over", "finds", "watches"};

    private SyntheticTasks() {}

    /** {@code lines} lines of pre-training text, seeded. */
    public static List<String> corpus(long seed, int lines) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(lines);
        for (int i = 0; i < lines; i++) {
            out.add(
                    switch (rng.nextInt(5)) {
                        case 0 -> {
                            int start = rng.nextInt(90), n = 3 + rng.nextInt(5);
                            StringBuilder sb = new StringBuilder("count:");
                            for (int k = 0; k < n; k++) {
                                sb.append(' ').append(start + k);
                            }
                            yield sb.toString();
                        }
                        case 1 ->
                            "the " + pick(rng, ADJ) + " " + pick(rng, NOUNS) + " " + pick(rng, VERBS) + " the "
                                    + pick(rng, ADJ) + " " + pick(rng, NOUNS) + ".";
                        case 2 -> {
                            String w = pick(rng, NOUNS);
                            yield "Q: Spell " + w + ".\nA: " + String.join(" ", w.split(""));
                        }
                        case 3 -> {
                            String w = pick(rng, NOUNS) + rng.nextInt(100);
                            yield "Q: Repeat " + w + ".\nA: " + w;
                        }
                        default -> {
                            int a = rng.nextInt(100);
                            yield "Q: Write the number " + a + ".\nA: " + a;
                        }
                    });
        }
        return out;
    }

    /** Every "What is a + b?" with a, b in [0, maxOperand], shuffled with the seed. */
    public static List<Example> addition(long seed, int maxOperand) {
        List<Example> all = new ArrayList<>();
        for (int a = 0; a <= maxOperand; a++) {
            for (int b = 0; b <= maxOperand; b++) {
                all.add(Example.of("What is " + a + " + " + b + "?", Integer.toString(a + b)));
            }
        }
        Collections.shuffle(all, new Random(seed));
        return all;
    }

    private static String pick(SplittableRandom rng, String[] words) {
        return words[rng.nextInt(words.length)];
    }
}
