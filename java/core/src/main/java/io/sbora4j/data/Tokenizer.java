package io.sbora4j.data;

/** Text to token ids and back, with the special tokens a causal LM needs. */
public interface Tokenizer {

    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    int bosId();

    int eosId();

    /** The id used to pad a batch (its labels are ignored). */
    int padId();
}
