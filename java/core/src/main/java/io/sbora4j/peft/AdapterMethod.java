package io.sbora4j.peft;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

/**
 * One adapter method (LoRA, SBoRA-FA, ...): everything that differs between methods, in one object, in the spirit of
 * PEFT's {@code LoraVariant}. ΔW = s·B·A with s = alpha / r on a frozen W (out x in); methods differ in what they
 * train, how they initialise it, what their forward and backward compute and keep, how they merge, and what they
 * store.
 *
 * <p>The library's methods are {@link AdapterMethods#LORA}, {@link AdapterMethods#LORA_FA},
 * {@link AdapterMethods#DORA}, {@link AdapterMethods#SBORA_FA} and {@link AdapterMethods#SBORA_FB}; others are found
 * through {@link java.util.ServiceLoader} ({@code provides io.sbora4j.peft.AdapterMethod with ...}, or a
 * {@code META-INF/services} file on the class path) and work everywhere a built-in one does: injection, training,
 * merging, adapter files, PEFT export and the command line. Implementations are stateless and thread-safe; the
 * state of one layer is the {@link Adapter} that {@link #create} returns.
 */
public interface AdapterMethod {

    /** The name used on the command line and in {@code adapter_config.json}, e.g. {@code sbora-fa}; lower case. */
    @JsonValue
    String id();

    /** One line for listings: what is trained and what is fixed. */
    String description();

    /** The method named {@code id} (see {@link AdapterMethods#of}); what JSON configs deserialise through. */
    @JsonCreator
    static AdapterMethod of(String id) {
        return AdapterMethods.of(id);
    }

    /**
     * Trainable parameters of one adapted (out x in) layer at rank r, counted as the SBoRA paper's tables count them
     * (index lists are not parameters).
     */
    long trainableParameters(long out, long in, long r);

    /** The largest rank that makes sense for an (out x in) layer: the dimension the indices or factors span. */
    int maxRank(int out, int in);

    /**
     * Refuses, with a one-line reason naming the layer, a frozen layer this method cannot adapt (DoRA needs an f32
     * weight). The default accepts every layer.
     */
    default void checkBase(FrozenLinear base) {}

    /**
     * The adapter of {@code config} beside {@code base}, its tensors allocated in {@code arena} on the base's device
     * and initialised from the config's seed and the layer's name ({@link Seeds#forLayer}), so that the same config
     * gives the same adapter on every run and device. Rank and base are checked before this is called.
     */
    Adapter create(AdapterConfig config, FrozenLinear base, Arena arena);

    /**
     * The tensors one (out x in) layer's adapter at rank r stores in an adapter file, under
     * {@code <layer path>.<name>}, with their shapes and types: the keys of {@link Adapter#tensors()}. Files are
     * checked against this before anything is loaded or exported.
     */
    Map<String, TensorSpec> storedTensors(int out, int in, int r);

    /**
     * Checks the values of one (out x in) layer's stored tensors (shapes and types are already checked against
     * {@link #storedTensors}): throws {@link IllegalArgumentException} naming the layer at {@code path} and the bad
     * value. SBoRA checks that its index list holds r distinct values in range; the default accepts anything.
     */
    default void checkStored(String path, Map<String, Tensor> stored, int out, int in, int r) {}

    /**
     * One layer as a standard PEFT LoRA adapter that any LoRA runtime loads: {@code lora_A.weight} (r x in) and
     * {@code lora_B.weight} (out x r), and any other PEFT key of the layer (DoRA's {@code lora_magnitude_vector}),
     * computed from the stored tensors of the layer at {@code path} (by {@link #storedTensors}), host tensors owned by
     * {@code arena}; stored values that break the method's invariants are refused naming the layer.
     * PEFT scales by {@code lora_alpha / r} with the config's r and alpha, as this library does.
     *
     * @throws UnsupportedOperationException when the method has no exact LoRA form
     */
    Map<String, Tensor> toPeft(
            String path, Map<String, Tensor> stored, int out, int in, AdapterConfig config, Arena arena);

    /** Entries this method sets in the exported PEFT {@code LoraConfig} ({@code use_dora} for DoRA). */
    default Map<String, Object> peftConfig() {
        return Map.of();
    }

    /** How the method is called over a quantised base: {@code qsbora-fa}, QLoRA's {@code qlora}. */
    default String quantizedName() {
        return "q" + id();
    }
}
