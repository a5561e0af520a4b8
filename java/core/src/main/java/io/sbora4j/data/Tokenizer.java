package io.sbora4j.data;

/** Text to token ids and back, with the special tokens a causal LM needs. */
public interface Tokenizer {

    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    /** The id put before every sequence, or -1 for a tokenizer that has none (Qwen2's): nothing is put then. */
    int bosId();

    int eosId();

    /** The id used to pad a batch (its labels are ignored). */
    int padId();
}
