/** An application that fine-tunes its own network with sbora4j; the cpu backend is found at run time. */
module org.example.embedding {
    requires io.sbora4j;
}
