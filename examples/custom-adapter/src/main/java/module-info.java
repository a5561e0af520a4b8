/** VeRA as an sbora4j adapter method: a plug-in the library finds through ServiceLoader. */
module org.example.vera {
    requires io.sbora4j;

    provides io.sbora4j.peft.AdapterMethod with
            org.example.vera.VeraMethod;
}
