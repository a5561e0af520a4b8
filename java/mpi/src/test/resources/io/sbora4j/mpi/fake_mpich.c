/*
 * A stand-in for an MPICH-family libmpi with one rank, for MpichAbiTest: it checks that every handle argument is
 * MPICH's int constant and MPI_IN_PLACE is (void *) -1, and answers a wrong argument with error code 15
 * (MPI_ERR_OTHER), which the binding turns into an exception naming the check. Its all-reduce doubles the values,
 * so that the test sees which datatype was summed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define COMM_WORLD 0x44000000
#define FLOAT_T 0x4c00040a
#define DOUBLE_T 0x4c00080b
#define BYTE_T 0x4c00010d
#define SUM_OP 0x58000003
#define ERRORS_RETURN 0x54000001

static int initialized, finalized, fail_next;
static char last_check[256];

#define CHECK(c)                                                                                                     \
    do {                                                                                                             \
        if (!(c)) {                                                                                                  \
            snprintf(last_check, sizeof last_check, "%s", #c);                                                       \
            return 15;                                                                                               \
        }                                                                                                            \
        if (fail_next) {                                                                                             \
            int code = fail_next;                                                                                    \
            fail_next = 0;                                                                                           \
            return code;                                                                                             \
        }                                                                                                            \
    } while (0)

/* The next call whose arguments are right returns `code` instead of succeeding. */
void fake_fail_next(int code) { fail_next = code; }

int MPI_Get_library_version(char *v, int *len) {
    strcpy(v, "MPICH Version:\t4.0.2\nMPICH Release date:\tfake\n");
    *len = (int)strlen(v);
    return 0;
}
int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
    CHECK(argc == NULL && argv == NULL && required == 2);
    initialized = 1;
    *provided = 2;
    return 0;
}
int MPI_Initialized(int *flag) { *flag = initialized; return 0; }
int MPI_Finalized(int *flag) { *flag = finalized; return 0; }
int MPI_Query_thread(int *provided) { *provided = 2; return 0; }
int MPI_Comm_set_errhandler(int comm, int handler) {
    CHECK(comm == COMM_WORLD && handler == ERRORS_RETURN);
    return 0;
}
int MPI_Comm_rank(int comm, int *rank) { CHECK(comm == COMM_WORLD); *rank = 0; return 0; }
int MPI_Comm_size(int comm, int *size) { CHECK(comm == COMM_WORLD); *size = 1; return 0; }
int MPI_Allreduce(const void *send, void *recv, int count, int type, int op, int comm) {
    CHECK(send == (const void *)(intptr_t)-1 && comm == COMM_WORLD && op == SUM_OP);
    CHECK(type == FLOAT_T || type == DOUBLE_T);
    for (int i = 0; i < count; i++) {
        if (type == FLOAT_T) ((float *)recv)[i] *= 2;
        else ((double *)recv)[i] *= 2;
    }
    return 0;
}
int MPI_Bcast(void *buf, int count, int type, int root, int comm) {
    CHECK(buf != NULL && count >= 0 && type == BYTE_T && root == 0 && comm == COMM_WORLD);
    return 0;
}
int MPI_Barrier(int comm) { CHECK(comm == COMM_WORLD); return 0; }
int MPI_Abort(int comm, int code) { CHECK(comm == COMM_WORLD && code >= 0); return 0; }
int MPI_Finalize(void) { finalized = 1; return 0; }
int MPI_Error_string(int code, char *s, int *len) {
    if (code == 15) snprintf(s, 512, "fake MPICH: wrong argument: %s", last_check);
    else snprintf(s, 512, "fake MPICH error\nnumber %d", code);
    *len = (int)strlen(s);
    return 0;
}
double MPI_Wtime(void) { return 42.5; }
