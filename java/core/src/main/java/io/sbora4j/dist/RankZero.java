package io.sbora4j.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Work that rank 0 does for the whole group (writing a checkpoint or the adapter, finding the checkpoint to resume
 * from), with its outcome on every rank: the other ranks wait for it, and when it fails, every rank fails with the
 * same one-line message instead of going on (or waiting) without it.
 */
public final class RankZero {

    private static final byte OK = 0, IO = 1, ARGUMENT = 2, OTHER = 3;

    private RankZero() {}

    /** What rank 0 does: returns a text for every rank (may be empty), or throws. */
    @FunctionalInterface
    public interface Action {
        String run() throws IOException;
    }

    /**
     * Runs {@code action} on rank 0 and returns its text on every rank. When it throws, rank 0 rethrows its exception
     * (an IOException wrapped in an {@link UncheckedIOException}) and every other rank throws one of the same kind
     * with the same message: {@link UncheckedIOException} for an I/O error, {@link IllegalArgumentException} for an
     * argument error, {@link IllegalStateException} otherwise.
     */
    public static String run(Communicator c, Action action) {
        if (c.size() == 1) {
            try {
                return action.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        if (c.rank() == 0) {
            RuntimeException failure = null;
            Error error = null;
            byte kind;
            String text;
            try {
                text = action.run();
                kind = OK;
            } catch (IOException e) {
                failure = new UncheckedIOException(e.getMessage(), e);
                kind = IO;
                text = e.getMessage();
            } catch (UncheckedIOException e) {
                failure = e;
                kind = IO;
                text = e.getMessage();
            } catch (IllegalArgumentException e) {
                failure = e;
                kind = ARGUMENT;
                text = e.getMessage();
            } catch (RuntimeException e) {
                failure = e;
                kind = OTHER;
                text = e.getMessage();
            } catch (Error e) {
                error = e;
                kind = OTHER;
                text = e.toString();
            }
            c.broadcast(encode(kind, text), 0);
            if (error != null) {
                throw error;
            }
            if (failure != null) {
                throw failure;
            }
            return text;
        }
        byte[] got = c.broadcast(null, 0);
        String text = new String(got, 1, got.length - 1, StandardCharsets.UTF_8);
        return switch (got[0]) {
            case OK -> text;
            case IO -> throw new UncheckedIOException(text, new IOException(text));
            case ARGUMENT -> throw new IllegalArgumentException(text);
            default -> throw new IllegalStateException(text);
        };
    }

    private static byte[] encode(byte kind, String text) {
        byte[] t = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        out[0] = kind;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }
}
