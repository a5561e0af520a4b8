package io.sbora4j.train;

import io.sbora4j.data.SftData;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Tensor;

/**
 * Causal language modelling on {@link SftData}: mean cross-entropy over the supervised targets of a batch. In
 * data-parallel training each rank takes its own shard of every micro-batch ({@link SftData#batch(long, int, int,
 * int, int, int, io.sbora4j.tensor.Device)}) and reports its supervised targets as {@link #lossTerms}, so that the
 * trainer can weight the ranks' losses into the mean over the whole micro-batch.
 */
public final class LmTask implements Trainer.Task {

    private final LlamaModel model;
    private final SftData data;
    private final int batchSize;
    private final int accumulation;
    private final int rank;
    private final int ranks;

    /** One process: {@code batchSize} sequences per micro-batch. */
    public LmTask(LlamaModel model, SftData data, int batchSize, int accumulation) {
        this(model, data, batchSize, accumulation, 0, 1);
    }

    /**
     * Rank {@code rank} of {@code ranks}, data-parallel: {@code batchSize} sequences per rank and micro-batch, so a
     * global micro-batch of {@code ranks * batchSize}.
     */
    public LmTask(LlamaModel model, SftData data, int batchSize, int accumulation, int rank, int ranks) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("rank " + rank + " out of range for " + ranks + " ranks");
        }
        this.model = model;
        this.data = data;
        this.batchSize = batchSize;
        this.accumulation = accumulation;
        this.rank = rank;
        this.ranks = ranks;
    }

    @Override
    public Tensor loss(long step, int micro) {
        SftData.Batch b = data.batch(step, micro, accumulation, batchSize, rank, ranks, model.device());
        return model.loss(b.ids(), b.targets(), SftData.IGNORE);
    }

    @Override
    public long tokens(long step, int micro) {
        return data.tokens(step, micro, accumulation, batchSize, rank, ranks);
    }

    /** The supervised targets of this rank's shard: the terms its mean cross-entropy averages. */
    @Override
    public long lossTerms(long step, int micro) {
        return data.supervised(step, micro, accumulation, batchSize, rank, ranks);
    }
}
