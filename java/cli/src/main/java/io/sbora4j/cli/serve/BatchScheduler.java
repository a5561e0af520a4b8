package io.sbora4j.cli.serve;

import io.sbora4j.data.Generator;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdapterRouting;
import io.sbora4j.serve.AdapterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs waiting sequences as batches on one thread (the model is not thread-safe): it takes up to {@code maxBatch}
 * waiting sequences, generates them as one batch in which each goes through its own adapter (a mixed batch:
 * {@link AdapterRouting} opened around the prefill and every decode step) and stops on its own, then takes the next
 * ones. Static batching: a sequence that arrives while a batch runs waits for the next batch.
 *
 * <p>The queue of waiting sequences is bounded: a request whose sequences do not all fit is refused at once (the
 * server answers 429), so that load never turns into unbounded memory.
 */
final class BatchScheduler {

    /** What a request hears from its sequences, each tagged with the sequence's index in the request. */
    sealed interface Event {
        /** New text of sequence {@code index}. */
        record Text(int index, String text) implements Event {}

        /** Sequence {@code index} ended after {@code tokens} generated tokens. */
        record End(int index, Generator.StopReason reason, int tokens) implements Event {}

        /** Sequence {@code index} failed: no more events come from it. */
        record Failed(int index, int status, String type, String message) implements Event {}
    }

    /**
     * One sequence of a request.
     *
     * @param index   its index in the request (the choice's index)
     * @param prompt  the prompt's token ids
     * @param options how to generate
     * @param adapter the adapter it goes through, null for the base
     * @param events  where its events go (shared by the sequences of one request)
     */
    record Job(int index, int[] prompt, Generator.Options options, String adapter, BlockingQueue<Event> events) {}

    private final AdapterRegistry<LlamaModel> registry;
    private final Generator generator;
    private final int maxBatch;
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waiting = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final Thread thread;
    private boolean closed;
    private int running;

    BatchScheduler(AdapterRegistry<LlamaModel> registry, Generator generator, int maxBatch, int capacity) {
        this.registry = registry;
        this.generator = generator;
        this.maxBatch = maxBatch;
        this.capacity = capacity;
        this.thread = Thread.ofPlatform().name("sbora-serve-batches").daemon().unstarted(this::loop);
        thread.start();
    }

    /** Why a request was not queued. */
    enum Refusal {
        /** The queue has no room for all its sequences. */
        FULL,
        /** The server is shutting down. */
        CLOSED
    }

    /** Queues all of {@code jobs} or none: null when queued, else why not. */
    Refusal submit(List<Job> jobs) {
        lock.lock();
        try {
            if (closed) {
                return Refusal.CLOSED;
            }
            if (queue.size() + jobs.size() > capacity) {
                return Refusal.FULL;
            }
            queue.addAll(jobs);
            waiting.signal();
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** The sequences waiting for a batch, and those of the batch running. */
    int[] load() {
        lock.lock();
        try {
            return new int[] {queue.size(), running};
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes no more sequences and fails those still waiting (503); the batch running goes on. {@link #awaitIdle}
     * then waits for it.
     */
    void close() {
        List<Job> dropped;
        lock.lock();
        try {
            closed = true;
            dropped = new ArrayList<>(queue);
            queue.clear();
            waiting.signalAll();
        } finally {
            lock.unlock();
        }
        for (Job j : dropped) {
            j.events()
                    .add(new Event.Failed(
                            j.index(), 503, "server_error", "the server is shutting down; the request was not run"));
        }
    }

    /** Waits up to {@code millis} for the batch thread to end (after {@link #close}); whether it did. */
    boolean awaitIdle(long millis) throws InterruptedException {
        return thread.join(Duration.ofMillis(Math.max(1, millis)));
    }

    private void loop() {
        while (true) {
            List<Job> batch = new ArrayList<>();
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    waiting.awaitUninterruptibly();
                }
                if (queue.isEmpty()) {
                    return; // closed
                }
                while (batch.size() < maxBatch && !queue.isEmpty()) {
                    batch.add(queue.poll());
                }
                running = batch.size();
            } finally {
                lock.unlock();
            }
            try {
                run(batch);
            } finally {
                lock.lock();
                try {
                    running = 0;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private void run(List<Job> batch) {
        int n = batch.size();
        List<int[]> prompts = new ArrayList<>(n);
        List<Generator.Options> options = new ArrayList<>(n);
        List<String> adapters = new ArrayList<>(n);
        boolean anyAdapter = false;
        for (Job j : batch) {
            prompts.add(j.prompt());
            options.add(j.options());
            adapters.add(j.adapter());
            anyAdapter |= j.adapter() != null;
        }
        boolean routed = anyAdapter;
        int[] counts = new int[n];
        boolean[] ended = new boolean[n];
        Generator.Listener listener = new Generator.Listener() {
            @Override
            public void onToken(int sequence, int token, String text) {
                if (token >= 0) {
                    counts[sequence]++;
                }
                if (!text.isEmpty()) {
                    Job j = batch.get(sequence);
                    j.events().add(new Event.Text(j.index(), text));
                }
            }

            @Override
            public void onEnd(int sequence, Generator.StopReason reason) {
                ended[sequence] = true;
                Job j = batch.get(sequence);
                j.events().add(new Event.End(j.index(), reason, counts[sequence]));
            }
        };
        try {
            generator.generate(prompts, options, listener, (cache, step) -> {
                if (!routed) {
                    return registry.withModel(m -> m.forwardCached(cache, step));
                }
                // the step is a rectangle of the longest sequence's new tokens: route whole rows of it
                int width = Arrays.stream(step).mapToInt(s -> s.length).max().orElse(1);
                return registry.routed(
                        AdapterRouting.perSequence(adapters, Math.max(1, width)), m -> m.forwardCached(cache, step));
            });
        } catch (RuntimeException | Error e) {
            String why = e.getClass().getSimpleName() + ": " + e.getMessage();
            for (int b = 0; b < n; b++) {
                if (!ended[b]) {
                    Job j = batch.get(b);
                    j.events().add(new Event.Failed(j.index(), 500, "server_error", "generation failed: " + why));
                }
            }
            if (e instanceof Error err && !(e instanceof OutOfMemoryError)) {
                throw err;
            }
        }
    }

    /** Waits up to {@code millis} for the next event of a request. */
    static Event next(BlockingQueue<Event> events, long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }
}
