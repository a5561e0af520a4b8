package io.sbora4j.cli;

import io.sbora4j.train.Trainer;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The live training line: step/total, loss, learning rate, tokens/s, ETA (and in data-parallel training the time
 * the step spent in collectives), rewritten in place on a terminal
 * and printed every tenth of the run otherwise (logs and pipes).
 */
final class Progress {

    private final PrintWriter out;
    private final boolean terminal = System.console() != null;

    Progress(PrintWriter out) {
        this.out = out;
    }

    void show(Trainer.Progress p) {
        String line = String.format(
                Locale.ROOT,
                "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %s",
                p.step(),
                p.totalSteps(),
                p.loss(),
                p.lr(),
                p.gradNorm(),
                p.tokensPerSecond(),
                eta(p.etaSeconds()));
        if (p.allReduceMillis() > 0) { // data-parallel: the step's time in collectives, waiting included
            line += String.format(Locale.ROOT, "  all-reduce %.1f ms", p.allReduceMillis());
        }
        if (terminal) {
            out.print("\r" + line + "   ");
        } else if (p.step() % Math.max(1, p.totalSteps() / 10) == 0 || p.step() == p.totalSteps()) {
            out.println(line);
        }
        out.flush();
    }

    void finish() {
        if (terminal) {
            out.println();
        }
    }

    private static String eta(double s) {
        long t = Math.round(s);
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    }
}
