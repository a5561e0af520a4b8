/**
 * The {@code sbora} command line: fine-tuning (data-parallel under {@code mpirun}), evaluation, merging, export, the
 * demos with their charts, the jlink bundle, HF tokenizers through DJL, and HF chat templates through Jinjava.
 */
module io.sbora4j.cli {
    requires io.sbora4j;
    requires io.sbora4j.mpi;
    requires io.sbora4j.cuda;
    requires info.picocli;
    requires ai.djl.tokenizers;
    requires java.desktop;
    requires org.jfree.jfreechart;
    requires jinjava;
    requires jdk.httpserver;
    requires jdk.unsupported;

    opens io.sbora4j.cli to
            info.picocli;
}
