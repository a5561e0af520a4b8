package io.sbora4j.dist;

import io.sbora4j.tensor.Tensor;

/** One rank alone: every collective returns its input. */
enum SingleRank implements Communicator {
    INSTANCE;

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduceSum(Tensor t) {}

    @Override
    public void allReduceSum(double[] values) {}

    @Override
    public byte[] broadcast(byte[] data, int root) {
        if (root != 0) {
            throw new IllegalArgumentException("broadcast root " + root + " out of range for 1 rank");
        }
        return data;
    }

    @Override
    public void barrier() {}

    @Override
    public void abort(int code, String why) {
        throw new IllegalStateException("aborted (status " + code + "): " + why);
    }

    @Override
    public String describe() {
        return "single process";
    }

    @Override
    public void close() {}
}
