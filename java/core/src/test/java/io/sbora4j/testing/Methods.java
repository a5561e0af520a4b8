package io.sbora4j.testing;

import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import java.util.stream.Stream;

/** The library's adapter methods for parameterised tests: {@code @MethodSource("io.sbora4j.testing.Methods#all")}. */
public final class Methods {

    private Methods() {}

    /** All five: LoRA, LoRA-FA, DoRA, SBoRA-FA, SBoRA-FB. */
    public static Stream<AdapterMethod> all() {
        return Stream.of(
                AdapterMethods.LORA,
                AdapterMethods.LORA_FA,
                AdapterMethods.DORA,
                AdapterMethods.SBORA_FA,
                AdapterMethods.SBORA_FB);
    }

    /** Those that take a bf16 base (all but DoRA). */
    public static Stream<AdapterMethod> bf16Capable() {
        return Stream.of(AdapterMethods.LORA, AdapterMethods.LORA_FA, AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB);
    }

    /** SBoRA-FA and SBoRA-FB. */
    public static Stream<AdapterMethod> sbora() {
        return Stream.of(AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB);
    }

    /** SBoRA-FA, SBoRA-FB and LoRA. */
    public static Stream<AdapterMethod> sboraAndLora() {
        return Stream.of(AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB, AdapterMethods.LORA);
    }

    /** LoRA, SBoRA-FA and DoRA. */
    public static Stream<AdapterMethod> loraSboraFaDora() {
        return Stream.of(AdapterMethods.LORA, AdapterMethods.SBORA_FA, AdapterMethods.DORA);
    }
}
