package io.sbora4j.data;

/** Text to token ids and back, with the special tokens a causal LM needs. */
public interface Tokenizer {

    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    /** The id put before every sequence, or -1 for a tokenizer that has none (Qwen2's): nothing is put then. */
    int bosId();

    /** {@code ids} with BOS first, as a model saw its training text; {@code ids} itself when there is no BOS. */
    default int[] withBos(int[] ids) {
        if (bosId() < 0) {
            return ids;
        }
        int[] p = new int[ids.length + 1];
        p[0] = bosId();
        System.arraycopy(ids, 0, p, 1, ids.length);
        return p;
    }

    int eosId();

    /** The id used to pad a batch (its labels are ignored). */
    int padId();
}
