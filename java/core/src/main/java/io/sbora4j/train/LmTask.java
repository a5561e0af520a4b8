package io.sbora4j.train;

import io.sbora4j.data.SftData;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Tensor;

/** Causal language modelling on {@link SftData}: mean cross-entropy over the supervised targets of a batch. */
public final class LmTask implements Trainer.Task {

    private final LlamaModel model;
    private final SftData data;
    private final int batchSize;
    private final int accumulation;

    public LmTask(LlamaModel model, SftData data, int batchSize, int accumulation) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.model = model;
        this.data = data;
        this.batchSize = batchSize;
        this.accumulation = accumulation;
    }

    @Override
    public Tensor loss(long step, int micro) {
        SftData.Batch b = data.batch(step, micro, accumulation, batchSize, model.device());
        return model.loss(b.ids(), b.targets(), SftData.IGNORE);
    }

    @Override
    public long tokens(long step, int micro) {
        return data.tokens(step, micro, accumulation, batchSize);
    }
}
