package io.sbora4j.peft;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The adapter kinds. ΔW = s·B·A with s = alpha / r on a frozen W (out x in); they differ in what is trained.
 */
public enum AdapterMethod {
    /** LoRA: A (r x in) and B (out x r) trained. */
    LORA("lora"),
    /** LoRA-FA: A random and frozen, B trained. */
    LORA_FA("lora-fa"),
    /** DoRA: LoRA on the direction, plus a trained magnitude per output row. */
    DORA("dora"),
    /** SBoRA-FA: A is r standard-basis rows (an index list into the inputs), B trained; r columns of W change. */
    SBORA_FA("sbora-fa"),
    /** SBoRA-FB: B is r standard-basis columns (an index list into the outputs), A trained; r rows of W change. */
    SBORA_FB("sbora-fb");

    private final String id;

    AdapterMethod(String id) {
        this.id = id;
    }

    /** The name used on the command line and in adapter_config.json. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The method named {@code name} (case-insensitive; {@code _} and {@code -} are the same). */
    @JsonCreator
    public static AdapterMethod parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (AdapterMethod m : values()) {
            if (m.id.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "unknown adapter method '" + name + "' (expected lora, lora-fa, dora, sbora-fa or sbora-fb)");
    }

    /**
     * Trainable parameters of one adapted (out x in) layer at rank r, counted as the SBoRA paper's tables count
     * them: LoRA r(in+out), LoRA-FA and SBoRA-FA out·r, SBoRA-FB r·in, DoRA r(in+out) + out.
     */
    public long trainableParameters(long out, long in, long r) {
        return switch (this) {
            case LORA -> r * (in + out);
            case LORA_FA, SBORA_FA -> out * r;
            case SBORA_FB -> r * in;
            case DORA -> r * (in + out) + out;
        };
    }

    /** The largest rank that makes sense for an (out x in) layer: the dimension the indices or factors span. */
    public int maxRank(int out, int in) {
        return switch (this) {
            case SBORA_FA -> in;
            case SBORA_FB -> out;
            default -> Math.min(in, out);
        };
    }

    @Override
    public String toString() {
        return id;
    }
}
