/**
 * Data-parallel training across processes and nodes: {@link io.sbora4j.mpi.Mpi#world()} is the
 * {@link io.sbora4j.dist.Communicator} of the MPI job this process was started in ({@code mpirun}, {@code mpiexec},
 * {@code srun}). The MPI library is found at run time (Open MPI, or MPICH and its derivatives Intel MPI and MVAPICH)
 * and bound through the Foreign Function &amp; Memory API; nothing here is compiled against it.
 */
module io.sbora4j.mpi {
    requires transitive io.sbora4j;

    exports io.sbora4j.mpi;
}
