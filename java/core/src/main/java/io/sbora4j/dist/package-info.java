/**
 * Data-parallel training across ranks: the {@link io.sbora4j.dist.Communicator} that sums gradients, and the
 * communicators that need no native library (one rank; threads as ranks). MPI and NCCL communicators live in their
 * own modules and implement the same interface.
 */
package io.sbora4j.dist;
