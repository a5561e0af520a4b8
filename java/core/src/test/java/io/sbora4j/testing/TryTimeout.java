package io.sbora4j.testing;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.Lifespan;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.Store;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;

/**
 * The fuzzers' hang guard: each try of a property runs on a thread of its own and fails when it takes longer than
 * {@value #PROPERTY} seconds (default {@value #DEFAULT_SECONDS}), so a parser that loops on some input fails that case,
 * with the seed jqwik prints to replay it, instead of stalling the build until its fork times out. The thread that
 * ran over is left behind as a daemon (Java cannot stop it); the property fails with the case that hung, and the
 * shrinking that follows does not run more cases.
 *
 * <pre>{@code @AddLifecycleHook(TryTimeout.class) class SomeFuzz { ... }}</pre>
 */
public final class TryTimeout implements AroundTryHook {

    /** Seconds one try may take. */
    public static final String PROPERTY = "sbora.fuzz.try.seconds";

    static final int DEFAULT_SECONDS = 60;

    @Override
    public TryExecutionResult aroundTry(TryLifecycleContext context, TryExecutor aTry, List<Object> parameters)
            throws Throwable {
        long seconds = Long.getLong(PROPERTY, DEFAULT_SECONDS);
        AtomicBoolean hung = Store.getOrCreate(
                        Tuple.of(TryTimeout.class, "hung"), Lifespan.PROPERTY, AtomicBoolean::new)
                .get();
        if (hung.get()) {
            // a case of this property hung: jqwik now shrinks, and every candidate could hang as long; they are
            // declared invalid, so the report stays with the case that hung, at once
            return TryExecutionResult.invalid();
        }
        FutureTask<TryExecutionResult> task = new FutureTask<>(() -> aTry.execute(parameters));
        Thread runner = Thread.ofPlatform()
                .daemon(true)
                .name("fuzz-try " + context.label())
                .start(task);
        try {
            return task.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            StackTraceElement[] where = runner.getStackTrace();
            AssertionError hang = new AssertionError(
                    context.label() + ": one case ran over " + seconds + " s (a hang?)" + " with " + parameters);
            hang.setStackTrace(where);
            hung.set(true);
            return TryExecutionResult.falsified(hang);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }

    /** Annotating a class guards each of its properties (a hook on a class applies to the class alone otherwise). */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public int aroundTryProximity() {
        return -100; // innermost: the timed thread runs the try itself, not other hooks' work around it
    }
}
