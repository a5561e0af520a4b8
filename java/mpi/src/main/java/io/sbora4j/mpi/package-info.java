/**
 * The MPI communicator: {@link io.sbora4j.mpi.Mpi} finds the library, initialises it once per process and returns
 * the world communicator; {@link io.sbora4j.mpi.MpiUnavailableException} says, in one line, why it cannot.
 */
package io.sbora4j.mpi;
