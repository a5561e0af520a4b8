package io.sbora4j.data;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One token per UTF-8 byte (ids 0..255), plus BOS (256), EOS (257) and PAD (258). Needs no files, handles any
 * text, and keeps the vocabulary tiny: the demo's and the tests' tokenizer.
 */
public final class ByteTokenizer implements Tokenizer {

    public static final int BOS = 256;
    public static final int EOS = 257;
    public static final int PAD = 258;

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    /** Bytes back to text; special tokens are dropped, invalid UTF-8 becomes U+FFFD. */
    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (id >= 0 && id < 256) {
                out.write(id);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return 259;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public int padId() {
        return PAD;
    }
}
