// The runtime of the CUDA emulation (cuda_emu.h): the block scheduler over fibers, barriers, warp exchanges, and the
// few runtime calls the launchers and memory.cu make, on host memory, with a record of the blocks cudaMalloc gave.
#include "cuda_emu.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <numeric>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SBC_EMU_ASAN 1
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace sbc_emu {
namespace {

// A fiber's saved execution context. On x86-64 a switch saves the callee-saved registers on the stack being left
// and swaps stack pointers; glibc's swapcontext (the fallback elsewhere) also saves the x87 environment and makes a
// sigprocmask system call, which made a warp shuffle (32 switches to and back) several times slower.
#if defined(__x86_64__)
struct Context {
    void *sp = nullptr;
};
extern "C" void sbc_emu_switch_stack(void **save_sp, void *load_sp);
asm(R"(
    .text
    .p2align 4
    .globl sbc_emu_switch_stack
    .hidden sbc_emu_switch_stack
    .type sbc_emu_switch_stack, @function
sbc_emu_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sbc_emu_switch_stack, .-sbc_emu_switch_stack
)");

// A context that starts entry() on the stack [stack, stack + bytes): the frame sbc_emu_switch_stack pops (MXCSR and
// x87 control word as they are now, six zeroed registers, entry as the return address) and, above it, a zero return
// address for entry, so that entry starts with the stack aligned as after a call.
void make_context(Context &c, char *stack, size_t bytes, void (*entry)()) {
    const uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + bytes) & ~(uintptr_t)15;
    uint64_t *sp = reinterpret_cast<uint64_t *>(top);
    *--sp = 0;                                 // entry's return address: entry never returns
    *--sp = reinterpret_cast<uint64_t>(entry); // popped by ret
    for (int i = 0; i < 6; i++) *--sp = 0;     // rbp, rbx, r12 to r15
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fpucw));
    *--sp = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
    c.sp = sp;
}

inline void switch_context(Context &from, Context &to) { sbc_emu_switch_stack(&from.sp, to.sp); }
#else
struct Context {
    ucontext_t uc;
};

void make_context(Context &c, char *stack, size_t bytes, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = bytes;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
    // swapcontext ignores uc_stack once the context exists; ASan's interceptor would clear the shadow of the whole
    // stack at every switch for it (the switch annotations below tell ASan about the stacks instead).
    c.uc.uc_stack.ss_size = 0;
}

inline void switch_context(Context &from, Context &to) { swapcontext(&from.uc, &to.uc); }
#endif

enum class State : unsigned char { Runnable, Yielded, AtSyncthreads, AtWarpOp, Done };
enum class WarpOp : unsigned char { None, Syncwarp, Shuffle, Wmma };

const char *const kWarpOpName[] = {"-", "__syncwarp", "__shfl_xor_sync", "wmma"};

struct Fiber {
    Context ctx;
    char *stack = nullptr; // mapping: a guard page, then the usable stack
    State state = State::Done;
    WarpOp op = WarpOp::None;
    uint3 tid{0, 0, 0};
    unsigned linear = 0;
    unsigned slot = 0; // the resident block it belongs to
    void *asan_fake_stack = nullptr;
    unsigned shuffles = 0; // shuffles done in this block
};

constexpr size_t kStackBytes = 512 * 1024; // the wmma kernel keeps eight 1 KiB fragments per thread, more under ASan
constexpr size_t kMaxDynamicShared = 48 * 1024; // without the opt-in attribute
size_t page_bytes() { return (size_t)sysconf(_SC_PAGESIZE); }

// A block that runs at the same time as the others of its launch (up to kResidentBlocks of them): its threads, its
// dynamic shared memory and its shuffle exchange. Never moved: a ucontext_t points into itself (the fallback
// Context). Stacks are mapped on first use and kept.
struct Slot {
    Fiber fibers[1024];
    unsigned fibers_with_stacks = 0;
    bool active = false;
    bool reverse = false; // warps and lanes in reverse order
    uint3 block{0, 0, 0};
    uint64_t serial = 0; // which block run (for the poisoning of static shared memory)
    uint32_t linear = 0; // the block's number in the grid, x fastest
    // For the race checker: the block's barrier interval (a fresh number from a counter of the whole run at its start
    // and at every __syncthreads that opens) and, per warp, the __syncwarps it has passed in this block.
    uint32_t epoch = 0;
    uint16_t warp_syncs[32] = {};
    void *dyn_shared = nullptr;
    char *dyn_end = nullptr; // the inaccessible page after the slot's 48 KiB of dynamic shared memory
    // [buffer][warp][lane]: a lane's n-th shuffle uses buffer n % 2, so that one wait suffices per shuffle (the next
    // shuffle's wait cannot release before every lane has read this one's values, and only the one after it reuses
    // the buffer).
    uint64_t shuffle_slots[2][32][32];
};

Slot slots[kResidentBlocks];
Fiber *current = nullptr;
Context scheduler;
void (*body_fn)(void *) = nullptr;
void *body_ctx = nullptr;

const char *kernel_name = "";
unsigned long long launch_count = 0;
bool in_kernel = false;
uint64_t blocks_run = 0;
uint32_t epochs = 0;          // barrier intervals begun in this run (Slot::epoch)
bool launch_aborted = false;  // the race checker found a hazard: the launch stops and fails

thread_local cudaError_t last_error = cudaSuccess; // per host thread, as CUDA's
// Launches from several host threads run one at a time: the scheduler's state is global.
std::recursive_mutex launch_mutex;

#ifdef SBC_EMU_ASAN
void *scheduler_fake_stack = nullptr;
const void *main_stack_bottom = nullptr;
size_t main_stack_size = 0;
#endif

// ---- the run's seed and each launch's random choices ----

struct Rng { // splitmix64
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return next() % n; }
};

bool seed_chosen = false;
uint64_t seed = 0;

// SBC_EMU_SEED when set (a decimal number), else a fresh one for every process; told once on stderr, so that a
// failing order can be run again.
uint64_t run_seed() {
    if (seed_chosen) return seed;
    seed_chosen = true;
    const char *env = getenv("SBC_EMU_SEED");
    if (env != nullptr && *env != '\0') {
        seed = strtoull(env, nullptr, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        Rng r{((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32)};
        seed = r.next() % 1000000000000ull; // short enough to type
    }
    fprintf(stderr, "sbc_emu: blocks run in a random order, seed %llu (SBC_EMU_SEED=%llu repeats it)\n",
            (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

// The order in which a launch's blocks start (linear block numbers, x fastest): a permutation drawn from the seed and
// the launch number, so that one launch's order does not depend on the grids of the launches before it.
struct BlockOrder {
    uint64_t total = 0, a = 1, b = 0;
    std::vector<uint32_t> perm;
    void draw(uint64_t n, Rng &rng) {
        total = n;
        if (n <= (1u << 22)) {
            perm.resize(n);
            for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
            for (uint64_t i = n - 1; i > 0; i--) std::swap(perm[i], perm[rng.below(i + 1)]);
        } else { // a huge grid: a random affine permutation instead of a table
            perm.clear();
            do a = rng.below(n - 1) + 1;
            while (std::gcd(a, n) != 1);
            b = rng.below(n);
        }
    }
    uint64_t operator[](uint64_t i) const { return perm.empty() ? (a * i + b) % total : perm[i]; }
};

char *usable_stack(const Fiber &f) { return f.stack + page_bytes(); }
size_t usable_stack_bytes() { return kStackBytes - page_bytes(); }

// Back to the scheduler; `finished`: this fiber never runs again (until re-created for the next block).
void to_scheduler(bool finished) {
    Fiber *f = current;
#ifdef SBC_EMU_ASAN
    __sanitizer_start_switch_fiber(finished ? nullptr : &f->asan_fake_stack, main_stack_bottom, main_stack_size);
#else
    (void)finished;
#endif
    switch_context(f->ctx, scheduler);
#ifdef SBC_EMU_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake_stack, &main_stack_bottom, &main_stack_size);
#endif
}

void fiber_main() {
#ifdef SBC_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &main_stack_bottom, &main_stack_size);
#endif
    body_fn(body_ctx);
    current->state = State::Done;
    to_scheduler(true);
    abort(); // never resumed
}

void resume(Fiber &f) {
    current = &f;
    threadIdx = f.tid;
    blockIdx = slots[f.slot].block;
#ifdef SBC_EMU_ASAN
    __sanitizer_start_switch_fiber(&scheduler_fake_stack, usable_stack(f), usable_stack_bytes());
#endif
    switch_context(scheduler, f.ctx);
#ifdef SBC_EMU_ASAN
    __sanitizer_finish_switch_fiber(scheduler_fake_stack, nullptr, nullptr);
#endif
    current = nullptr;
}

void ensure_fibers(Slot &s, unsigned n) {
    for (; s.fibers_with_stacks < n; s.fibers_with_stacks++) {
        Fiber &f = s.fibers[s.fibers_with_stacks];
        void *m = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                       0);
        if (m == MAP_FAILED) fault("cannot map a fiber stack");
        mprotect(m, page_bytes(), PROT_NONE); // a stack overflow faults instead of corrupting the neighbour
        f.stack = static_cast<char *>(m);
    }
}

void wait_here(State s, WarpOp op) {
    if (!in_kernel || current == nullptr) fault("a device synchronisation was called outside a kernel");
    current->state = s;
    current->op = op;
    to_scheduler(false);
}

[[noreturn]] void stuck(const Slot &s, unsigned n) {
    unsigned at_sync = 0, at_warp = 0, done = 0;
    for (unsigned i = 0; i < n; i++) {
        at_sync += s.fibers[i].state == State::AtSyncthreads;
        at_warp += s.fibers[i].state == State::AtWarpOp;
        done += s.fibers[i].state == State::Done;
    }
    blockIdx = s.block;
    fault("deadlock: of %u threads, %u wait at __syncthreads, %u at a warp-level operation, %u have exited "
          "(a barrier not reached by every thread it waits for)",
          n, at_sync, at_warp, done);
}

// A fresh context on the fiber's stack that runs the kernel body from the start.
__attribute__((noinline)) void start_fiber(Fiber &f, unsigned slot, unsigned linear, uint3 tid) {
    f.linear = linear;
    f.slot = slot;
    f.tid = tid;
    f.state = State::Runnable;
    f.op = WarpOp::None;
    f.asan_fake_stack = nullptr;
    f.shuffles = 0;
    make_context(f.ctx, usable_stack(f), usable_stack_bytes(), fiber_main);
}

// Puts block `linear` (x fastest) into slot s, its threads ready to start.
void start_block(unsigned s, uint64_t linear, unsigned n, bool reverse, size_t smem) {
    Slot &sl = slots[s];
    const uint64_t gx = gridDim.x, gy = gridDim.y;
    sl.block = uint3{(unsigned)(linear % gx), (unsigned)(linear / gx % gy), (unsigned)(linear / (gx * gy))};
    sl.serial = ++blocks_run;
    sl.linear = (uint32_t)linear;
    sl.epoch = ++epochs;
    memset(sl.warp_syncs, 0, sizeof sl.warp_syncs);
    sl.reverse = reverse;
    sl.active = true;
    poison(sl.dyn_shared, smem);
    const unsigned bx = blockDim.x, by = blockDim.y;
    for (unsigned i = 0; i < n; i++) start_fiber(sl.fibers[i], s, i, uint3{i % bx, (i / bx) % by, i / (bx * by)});
}

// One turn of the block in slot s: each warp in turn runs as far as it can, its lanes until each waits, again
// whenever they all wait at the same warp-level operation, until they wait at __syncthreads, yield or exit. So a
// warp gets ahead of the others up to the next __syncthreads, as it may on hardware, and reads what a missing
// __syncthreads leaves unwritten. A __syncthreads that every thread reached opens (they run in the next turn).
// Returns whether the block has finished.
bool step_block(unsigned s, unsigned n) {
    Slot &sl = slots[s];
    Fiber *fibers = sl.fibers;
    const unsigned warps = (n + 31) / 32;
    for (unsigned k = 0; k < warps; k++) {
        const unsigned w = sl.reverse ? warps - 1 - k : k, lo = w * 32, hi = lo + 32 < n ? lo + 32 : n;
        for (;;) {
            for (unsigned q = 0; q < hi - lo; q++) {
                Fiber &f = fibers[sl.reverse ? hi - 1 - q : lo + q];
                if (f.state == State::Runnable) resume(f);
                if (launch_aborted) return true;
            }
            bool all = true;
            for (unsigned i = lo; i < hi && all; i++) all = fibers[i].state == State::AtWarpOp;
            if (!all) break;
            for (unsigned i = lo + 1; i < hi; i++) {
                if (fibers[i].op != fibers[lo].op) {
                    blockIdx = sl.block;
                    fault("warp %u: lane 0 waits at %s, lane %u at %s", w, kWarpOpName[(int)fibers[lo].op], i - lo,
                          kWarpOpName[(int)fibers[i].op]);
                }
            }
            if (fibers[lo].op == WarpOp::Syncwarp) sl.warp_syncs[w]++; // orders the warp's accesses (race checker)
            for (unsigned i = lo; i < hi; i++) fibers[i].state = State::Runnable;
        }
    }
    unsigned done = 0, at_sync = 0, yielded = 0;
    for (unsigned i = 0; i < n; i++) {
        done += fibers[i].state == State::Done;
        at_sync += fibers[i].state == State::AtSyncthreads;
        yielded += fibers[i].state == State::Yielded;
    }
    if (done == n) return true;
    if (yielded != 0) return false; // they run in the next pass, maybe up to the barrier the others wait at
    if (at_sync != n) stuck(sl, n); // a barrier some threads cannot reach: they exited or wait elsewhere
    for (unsigned i = 0; i < n; i++) fibers[i].state = State::Runnable;
    sl.epoch = ++epochs; // the accesses after the barrier are ordered after those before it
    return false;
}

// All shared memory lies in one reserved range, so that the race checker tells shared accesses by their address and
// keeps its record of them in a table beside it (race checker, below). Pages are handed out from its start and never
// returned: the static __shared__ arrays of every kernel and resident block, and each resident block's dynamic shared
// memory (48 KiB, the most a launch may ask for), each followed by an inaccessible page.
constexpr size_t kSharedRange = 16u << 20;
char *shared_range = nullptr;
size_t shared_used = 0;
struct SharedRegion {
    uintptr_t start;
    size_t bytes;
    const char *name;
};
std::vector<SharedRegion> shared_regions; // what a race report names

char *shared_range_start() {
    if (shared_range == nullptr) {
        void *m = mmap(nullptr, kSharedRange, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) fault("cannot reserve %zu bytes for shared memory", kSharedRange);
        shared_range = static_cast<char *>(m);
    }
    return shared_range;
}

// `bytes` at an `align`-ed address that ends as close as alignment allows before an inaccessible page.
void *guarded(size_t bytes, size_t align, const char *name) {
    const size_t page = page_bytes();
    const size_t data_pages = (bytes + align + page - 1) / page;
    char *start = shared_range_start() + shared_used;
    if (shared_used + (data_pages + 1) * page > kSharedRange) fault("out of emulated shared memory (%zu bytes)", bytes);
    shared_used += (data_pages + 1) * page;
    if (data_pages != 0 && mprotect(start, data_pages * page, PROT_READ | PROT_WRITE) != 0)
        fault("cannot map %zu bytes of shared memory", bytes);
    char *guard = start + data_pages * page;
    void *p = reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(guard) - bytes) & ~(uintptr_t)(align - 1));
    shared_regions.push_back({reinterpret_cast<uintptr_t>(p), bytes, name});
    return p;
}

// A fault says where it happened before the process dies (ASan has its own handler, with a stack trace). Not in the
// shared library (SBC_EMU_LIBRARY), which runs inside a JVM: the JVM's own SIGSEGV handler must stay.
#if !defined(SBC_EMU_ASAN) && !defined(SBC_EMU_LIBRARY)
void on_segv(int sig) {
    fprintf(stderr, "sbc_emu: signal %d in kernel %s (launch %llu, seed %llu)", sig, kernel_name, launch_count,
            (unsigned long long)seed);
    if (in_kernel) fprintf(stderr, ", block (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z);
    if (current != nullptr) fprintf(stderr, ", thread (%u,%u,%u)", threadIdx.x, threadIdx.y, threadIdx.z);
    fprintf(stderr, ": an access out of bounds (shared memory ends at an inaccessible page) or a stack overflow\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

#endif

void install_fault_handler() {
#if !defined(SBC_EMU_ASAN) && !defined(SBC_EMU_LIBRARY)
    static bool installed = false;
    if (installed) return;
    installed = true;
    static char alt[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = sizeof alt;
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
#endif
}

// ---- the race checker (cuda_emu.h) ----
//
// Every load and store of the kernels' translation units calls a hook below first (-fsanitize=thread's
// instrumentation without its runtime). An access to shared memory is checked against a record kept per 4-byte word
// of the shared range (for the block running there), one to global memory against a record per word of the pages
// the launch touches; the kernel's locals (its fiber's stack) are not checked. A record holds the last write (with
// whether it was atomic) and the last two reads by different threads, each with the bytes of the word it touched,
// the thread, its block, the block's barrier interval and the warp's __syncwarp count at the time: accesses to
// different bytes of a word (bf16 neighbours, NF4 codes) never conflict. Two accesses are ordered when they are by
// one thread, by threads of one block in different barrier intervals (a __syncthreads between), or by lanes of one
// warp with a __syncwarp between: since Volta the lanes of a warp are scheduled independently, so a shuffle or a
// wmma call, which the emulator runs as a meeting point of the warp, orders nothing. Accesses of different blocks of
// a launch are never ordered (the kernels have no grid-wide barrier). A write unordered with an earlier read or
// write of the same bytes by another thread, or a read unordered with an earlier plain write, is a hazard, except
// that atomics never race with atomics nor with plain reads (a compare-and-swap loop reads plainly first, and its
// atomicCAS checks what it read). Keeping only the last write and two reads per word can miss a hazard against an
// older access; a pair it reports is never ordered.
//
// A hazard is told on stderr (kernel, the two threads, where, what) and stops the launch: its fibers are abandoned
// and the launch fails with cudaErrorLaunchFailure, what a GPU's kernel fault gives; sbc_emu_take_races tells the
// tests.
enum class Access : unsigned char { Read, Write, Atomic };

// The checker's hot path runs before every access of a kernel: AddressSanitizer's redzones around its locals (when
// the emulator is built with it) made the suite several times slower. It reads and writes its own tables only.
#define SBC_EMU_HOT __attribute__((no_sanitize("address", "undefined")))

struct Who {
    uint32_t block; // linear block of the grid
    uint32_t epoch; // the block's barrier interval
    uint16_t tid;   // linear thread of the block
    uint16_t sync;  // the warp's __syncwarps so far
};

struct Cell { // a 4-byte word
    uint32_t stamp; // shared: the block run; global: the launch; a cell with another is empty
    uint8_t flags;
    uint8_t wmask, r1mask, r2mask; // the bytes of the word each access below touched
    Who w, r1, r2;                 // the last write; the last read and the last read by another thread than r1's
};
constexpr uint8_t kWritten = 1, kAtomicWrite = 2, kRead1 = 4, kRead2 = 8;

bool race_checking = true; // SBC_EMU_RACECHECK=0 turns it off
bool race_setting_read = false;
Cell *shared_cells = nullptr; // one per 4 bytes of the shared range
int races = 0;
char race_report[1024];

// Global memory: a page of cells per 4 KiB page touched in this launch; the launch number stamps them, so the pages
// go back to a free list at the next launch without being cleared.
constexpr size_t kCellsPerPage = 4096 / 4;
std::unordered_map<uintptr_t, Cell *> global_pages;
std::vector<Cell *> free_pages;
struct PageCacheEntry {
    uintptr_t page = ~(uintptr_t)0;
    Cell *cells = nullptr;
};
PageCacheEntry page_cache[64];

void race_settings() {
    if (race_setting_read) return;
    race_setting_read = true;
    const char *env = getenv("SBC_EMU_RACECHECK");
    race_checking = !(env != nullptr && (strcmp(env, "0") == 0 || strcmp(env, "off") == 0));
    if (!race_checking) fprintf(stderr, "sbc_emu: the race checker is off (SBC_EMU_RACECHECK=%s)\n", env);
}

void race_launch_begins() {
    race_settings();
    if (shared_cells == nullptr) { // untouched pages cost nothing
        void *cells = mmap(nullptr, kSharedRange / 4 * sizeof(Cell), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (cells == MAP_FAILED) fault("cannot reserve the race checker's record of shared memory");
        shared_cells = static_cast<Cell *>(cells);
    }
    launch_aborted = false;
    for (auto &e : global_pages) free_pages.push_back(e.second);
    global_pages.clear();
    for (auto &e : page_cache) e = PageCacheEntry{};
}

SBC_EMU_HOT Cell *global_cells(uintptr_t page) {
    PageCacheEntry &e = page_cache[page & 63];
    if (e.page == page) return e.cells;
    Cell *&cells = global_pages[page];
    if (cells == nullptr) {
        if (free_pages.empty()) {
            cells = static_cast<Cell *>(calloc(kCellsPerPage, sizeof(Cell)));
            if (cells == nullptr) fault("race checker: out of memory");
        } else {
            cells = free_pages.back();
            free_pages.pop_back();
        }
    }
    e.page = page;
    e.cells = cells;
    return cells;
}

SBC_EMU_HOT inline bool ordered(const Who &before, const Who &now) {
    if (before.block != now.block) return false;
    if (before.tid == now.tid || before.epoch != now.epoch) return true;
    return before.tid >> 5 == now.tid >> 5 && before.sync != now.sync;
}

SBC_EMU_HOT inline bool same_thread(const Who &a, const Who &b) { return a.block == b.block && a.tid == b.tid; }

const char *shared_name(uintptr_t a, size_t *offset) {
    for (const SharedRegion &r : shared_regions)
        if (a >= r.start && a < r.start + r.bytes) {
            const char *name = r.name;
            uintptr_t start = r.start;
            if (strcmp(name, "extern __shared__") == 0) // the launch's dynamic shared memory starts later
                for (const Slot &sl : slots)
                    if (sl.dyn_shared != nullptr && a >= reinterpret_cast<uintptr_t>(sl.dyn_shared) &&
                        a < reinterpret_cast<uintptr_t>(sl.dyn_end))
                        start = reinterpret_cast<uintptr_t>(sl.dyn_shared);
            *offset = a - start;
            return name;
        }
    *offset = 0;
    return "?";
}

const char *access_verb(Access k) {
    return k == Access::Read ? "reads" : k == Access::Write ? "writes" : "atomically updates";
}

// Tells the hazard and abandons the launch (the calling fiber never runs again).
[[noreturn]] __attribute__((noinline, cold)) void hazard(const char *kind, bool shared, uintptr_t a, const Who &me,
                                                        Access now, const Who &other, Access then) {
    const unsigned bx = blockDim.x, by = blockDim.y, gx = gridDim.x, gy = gridDim.y;
    char where[256];
    if (shared) {
        size_t offset = 0;
        const char *name = shared_name(a, &offset);
        snprintf(where, sizeof where, "shared memory %s, byte %zu", name, offset);
    } else {
        snprintf(where, sizeof where, "global memory %p", reinterpret_cast<void *>(a));
    }
    const uint32_t ob = other.block, ot = other.tid;
    snprintf(race_report, sizeof race_report,
             "racecheck: %s hazard on %s in kernel %s: thread (%u,%u,%u) of block (%u,%u,%u) %s it after thread "
             "(%u,%u,%u) of block (%u,%u,%u) %s it, %s (launch %llu, SBC_EMU_SEED=%llu)",
             kind, where, kernel_name, threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
             access_verb(now), ot % bx, ot / bx % by, ot / (bx * by), ob % gx, ob / gx % gy, ob / (gx * gy),
             access_verb(then),
             other.block != me.block ? "and nothing orders two blocks of one launch"
                                     : "with no __syncthreads or __syncwarp between",
             launch_count, (unsigned long long)seed);
    fprintf(stderr, "sbc_emu: %s\n", race_report);
    fflush(stderr);
    races++;
    launch_aborted = true;
    current->state = State::Done;
    to_scheduler(true);
    abort(); // never resumed
}

// `m`: the bytes of the cell's word that the access touches; accesses to different bytes never conflict.
SBC_EMU_HOT inline void check_cell(Cell &c, uint32_t stamp, const Who &me, Access k, uint8_t m, bool shared,
                                   uintptr_t a) {
    if (c.stamp != stamp) {
        c.stamp = stamp;
        c.flags = 0;
    }
    if (k == Access::Read) {
        if ((c.flags & (kWritten | kAtomicWrite)) == kWritten && (c.wmask & m) && !ordered(c.w, me))
            hazard("read-after-write", shared, a, me, k, c.w, Access::Write);
        if (!(c.flags & kRead1)) {
            c.r1 = me;
            c.r1mask = m;
            c.flags |= kRead1;
        } else if (same_thread(c.r1, me)) { // bytes read at another time are forgotten, not merged: merged, an
            c.r1mask = c.r1.epoch == me.epoch && c.r1.sync == me.sync ? (uint8_t)(c.r1mask | m) : m; // old read
            c.r1 = me; // would look unordered with a later write it is ordered with
        } else {
            c.r2 = c.r1;
            c.r2mask = c.r1mask;
            c.r1 = me;
            c.r1mask = m;
            c.flags |= kRead2;
        }
        return;
    }
    if ((c.flags & kWritten) && (c.wmask & m) && !ordered(c.w, me) &&
        !(k == Access::Atomic && (c.flags & kAtomicWrite)))
        hazard("write-after-write", shared, a, me, k, c.w, c.flags & kAtomicWrite ? Access::Atomic : Access::Write);
    if (k != Access::Atomic) { // the reads of these bytes by other threads
        if ((c.flags & kRead1) && (c.r1mask & m) && !same_thread(c.r1, me) && !ordered(c.r1, me))
            hazard("write-after-read", shared, a, me, k, c.r1, Access::Read);
        if ((c.flags & kRead2) && (c.r2mask & m) && !same_thread(c.r2, me) && !ordered(c.r2, me))
            hazard("write-after-read", shared, a, me, k, c.r2, Access::Read);
    }
    c.w = me;
    c.wmask = m;
    if (k == Access::Atomic) { // plain reads may go on meeting atomics
        c.flags = (uint8_t)((c.flags & (kRead1 | kRead2)) | kWritten | kAtomicWrite);
        return;
    }
    // the reads of these bytes are ordered before this write (or were a hazard); those of other bytes stay
    uint8_t flags = kWritten;
    c.r1mask &= (uint8_t)~m;
    c.r2mask &= (uint8_t)~m;
    if ((c.flags & kRead2) && c.r2mask != 0) flags |= kRead2;
    if ((c.flags & kRead1) && c.r1mask != 0) {
        flags |= kRead1;
    } else if (flags & kRead2) { // the older read moves up
        c.r1 = c.r2;
        c.r1mask = c.r2mask;
        flags = kWritten | kRead1;
    }
    c.flags = flags;
}

// The kernels' translation units are not built with AddressSanitizer (it excludes -fsanitize=thread), so their
// accesses outside shared memory and their own stack are checked against its shadow here, with its report.
#ifdef SBC_EMU_ASAN
// ASan's shadow memory: a byte per 8 bytes, 0 when all 8 are addressable, k when only the first k are.
size_t asan_shadow_scale = 0, asan_shadow_offset = 0;
bool asan_shadow_known = false;
#endif

SBC_EMU_HOT inline void bounds(uintptr_t a, size_t bytes, Access k, void *pc) {
#ifdef SBC_EMU_ASAN
    if (__builtin_expect(!asan_shadow_known, 0)) {
        __asan_get_shadow_mapping(&asan_shadow_scale, &asan_shadow_offset);
        asan_shadow_known = true;
    }
    if (asan_shadow_scale == 3 && (a & 7) + bytes <= 8) { // ASan's own inline check, for an access within 8 bytes
        const int8_t shadow = *reinterpret_cast<const int8_t *>((a >> 3) + asan_shadow_offset);
        if (shadow == 0 || (shadow > 0 && (int)((a & 7) + bytes) <= shadow)) return;
    }
    if (__asan_region_is_poisoned(reinterpret_cast<void *>(a), bytes) != nullptr)
        __asan_report_error(pc, __builtin_frame_address(0), __builtin_frame_address(0), reinterpret_cast<void *>(a),
                            k != Access::Read, bytes);
#else
    (void)a, (void)bytes, (void)k, (void)pc;
#endif
}

// The bytes of the word at w (4-aligned) that [a, end) covers, as bits.
SBC_EMU_HOT inline uint8_t word_mask(uintptr_t w, uintptr_t a, uintptr_t end) {
    const unsigned lo = a > w ? (unsigned)(a - w) : 0, hi = end < w + 4 ? (unsigned)(end - w) : 4;
    return (uint8_t)((0xfu >> (4 - (hi - lo))) << lo);
}

SBC_EMU_HOT void on_access(uintptr_t a, size_t bytes, Access k, void *pc) {
    if (bytes == 0) return;
    Fiber *f = current;
    const bool shared = shared_range != nullptr && a - reinterpret_cast<uintptr_t>(shared_range) < kSharedRange;
    // Host code of the launchers, maybe on another host thread than the one running a kernel (in the JVM): not on the
    // running fiber's stack.
    if (f == nullptr || reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) -
                                reinterpret_cast<uintptr_t>(f->stack) >= kStackBytes) {
        bounds(a, bytes, k, pc);
        return;
    }
    if (!shared) {
        if (a - reinterpret_cast<uintptr_t>(f->stack) < kStackBytes) return; // the thread's own locals
        bounds(a, bytes, k, pc);
    }
    if (!race_checking || launch_aborted) return;
    const Slot &sl = slots[f->slot];
    const Who me{sl.linear, sl.epoch, (uint16_t)f->linear, sl.warp_syncs[f->linear >> 5]};
    const uintptr_t end = a + bytes;
    if (shared) {
        const uintptr_t base = reinterpret_cast<uintptr_t>(shared_range);
        for (uintptr_t w = a & ~(uintptr_t)3; w < end; w += 4)
            check_cell(shared_cells[(w - base) >> 2], (uint32_t)sl.serial, me, k, word_mask(w, a, end), true, a);
        return;
    }
    for (uintptr_t w = a & ~(uintptr_t)3; w < end;) {
        const uintptr_t page = w / 4096, page_end = (page + 1) * 4096;
        Cell *cells = global_cells(page);
        for (; w < end && w < page_end; w += 4)
            check_cell(cells[(w % 4096) >> 2], (uint32_t)launch_count, me, k, word_mask(w, a, end), false,
                       w < a ? a : w);
    }
}

// A race ends the launch with its fibers where they were: their stacks go back to the next launch as they are.
void abandon_launch(unsigned resident, unsigned n) {
    for (unsigned s = 0; s < resident; s++) {
        slots[s].active = false;
        for (unsigned i = 0; i < n; i++) {
            slots[s].fibers[i].state = State::Done;
#ifdef SBC_EMU_ASAN
            // the instrumented frames (cuda_emu.cpp's) left on the abandoned stacks keep their redzones poisoned
            __asan_unpoison_memory_region(usable_stack(slots[s].fibers[i]), usable_stack_bytes());
#endif
        }
    }
}

bool valid_config(const LaunchConfig &c) {
    const uint64_t threads = (uint64_t)c.block.x * c.block.y * c.block.z;
    return c.grid.x >= 1 && c.grid.x <= 0x7fffffffu && c.grid.y >= 1 && c.grid.y <= 65535 && c.grid.z >= 1 &&
           c.grid.z <= 65535 && c.block.x >= 1 && c.block.y >= 1 && c.block.z >= 1 && c.block.x <= 1024 &&
           c.block.y <= 1024 && c.block.z <= 64 && threads <= 1024 && c.smem <= kMaxDynamicShared;
}

} // namespace

void fault(const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "sbc_emu: FAULT in kernel %s (launch %llu, seed %llu)", kernel_name, launch_count,
            (unsigned long long)seed);
    if (in_kernel) {
        fprintf(stderr, ", block (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z);
        if (current != nullptr) fprintf(stderr, ", thread (%u,%u,%u)", threadIdx.x, threadIdx.y, threadIdx.z);
    }
    fprintf(stderr, ": ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    abort();
}

void run_grid(const char *kernel, const LaunchConfig &cfg, void (*body)(void *), void *ctx) {
    const std::lock_guard<std::recursive_mutex> lock(launch_mutex); // recursive: a launch from a kernel faults
    if (in_kernel) fault("a kernel launched %s from device code", kernel);
    launch_count++;
    kernel_name = kernel;
    if (!valid_config(cfg)) {
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    const unsigned n = cfg.block.x * cfg.block.y * cfg.block.z; // a partial last warp is checked where it matters
    const uint64_t total = (uint64_t)cfg.grid.x * cfg.grid.y * cfg.grid.z;
    const unsigned resident = total < kResidentBlocks ? (unsigned)total : kResidentBlocks;
    install_fault_handler();
    Rng rng{run_seed() ^ launch_count * 0xd1b54a32d192ed03ull};
    static BlockOrder order; // kept: its table is reused
    order.draw(total, rng);
    body_fn = body;
    body_ctx = ctx;
    blockDim = cfg.block;
    gridDim = cfg.grid;
    for (unsigned s = 0; s < resident; s++) {
        ensure_fibers(slots[s], n);
        if (slots[s].dyn_end == nullptr)
            slots[s].dyn_end = static_cast<char *>(guarded(kMaxDynamicShared, 16, "extern __shared__")) +
                               kMaxDynamicShared;
        // CUDA aligns dynamic shared memory to 16; the launch's bytes end at the inaccessible page
        slots[s].dyn_shared = reinterpret_cast<void *>(
            (reinterpret_cast<uintptr_t>(slots[s].dyn_end) - cfg.smem) & ~(uintptr_t)15);
    }
    race_launch_begins();
    in_kernel = true;
    // Warps run in order in one block and in reverse in the next, and one-block launches alternate across calls.
    uint64_t next = 0;
    for (unsigned s = 0; s < resident; s++, next++) start_block(s, order[next], n, ((launch_count + next) & 1) != 0,
                                                                cfg.smem);
    unsigned active = resident, visit[kResidentBlocks];
    for (unsigned s = 0; s < resident; s++) visit[s] = s;
    while (active > 0) {
        // A pass: every resident block takes a turn, in a random order; a finished block makes room for the next.
        for (unsigned s = resident - 1; s > 0; s--) std::swap(visit[s], visit[rng.below(s + 1)]);
        for (unsigned v = 0; v < resident; v++) {
            const unsigned s = visit[v];
            if (!slots[s].active || !step_block(s, n)) continue;
            if (launch_aborted) break;
            if (next < total) {
                start_block(s, order[next], n, ((launch_count + next) & 1) != 0, cfg.smem);
                next++;
            } else {
                slots[s].active = false;
                active--;
            }
        }
        if (launch_aborted) {
            abandon_launch(resident, n);
            break;
        }
        // Threads that yielded go on in the next pass, after every other resident block had its turn.
        for (unsigned s = 0; s < resident; s++)
            if (slots[s].active)
                for (unsigned i = 0; i < n; i++)
                    if (slots[s].fibers[i].state == State::Yielded) slots[s].fibers[i].state = State::Runnable;
    }
    in_kernel = false;
    for (unsigned s = 0; s < resident; s++) slots[s].dyn_shared = nullptr;
    if (launch_aborted) { // a race: the launch fails as a kernel fault does
        launch_aborted = false;
        last_error = cudaErrorLaunchFailure;
    }
}

void race_atomic(const void *p, size_t bytes) {
    on_access(reinterpret_cast<uintptr_t>(p), bytes, Access::Atomic, __builtin_return_address(0));
}

void *dynamic_shared() {
    if (!in_kernel || current == nullptr) fault("extern __shared__ used outside a kernel");
    return slots[current->slot].dyn_shared;
}

void *shared_alloc(size_t bytes, size_t align, const char *name) { return guarded(bytes, align, name); }

unsigned block_slot() {
    if (!in_kernel || current == nullptr) fault("__shared__ memory used outside a kernel");
    return current->slot;
}

uint64_t block_serial() { return slots[block_slot()].serial; }

void poison(void *p, size_t bytes) { memset(p, 0xff, bytes); }

void yield() {
    if (in_kernel && current != nullptr) wait_here(State::Yielded, WarpOp::None);
}

void sync_block() { wait_here(State::AtSyncthreads, WarpOp::None); }

static void check_warp_op(unsigned mask, const char *what) {
    if (mask != 0xffffffffu) fault("%s with mask %#x: the emulator supports full-warp masks only", what, mask);
    if (current != nullptr && (current->linear | 31u) >= blockDim.x * blockDim.y * blockDim.z)
        fault("%s in a partial warp (block of %u threads)", what, blockDim.x * blockDim.y * blockDim.z);
}

void sync_warp(unsigned mask) {
    check_warp_op(mask, "__syncwarp");
    wait_here(State::AtWarpOp, WarpOp::Syncwarp);
}

uint64_t shfl_xor(unsigned mask, uint64_t v, int lane_mask, int width) {
    check_warp_op(mask, "__shfl_xor_sync");
    if (width != 32 || lane_mask < 0 || lane_mask > 31)
        fault("__shfl_xor_sync: width %d, lane mask %d", width, lane_mask);
    auto &exchange = slots[current->slot].shuffle_slots;
    const unsigned lane = current->linear & 31u, warp = current->linear >> 5, buffer = current->shuffles++ & 1u;
    exchange[buffer][warp][lane] = v;
    wait_here(State::AtWarpOp, WarpOp::Shuffle); // every lane has written its value
    return exchange[buffer][warp][lane ^ (unsigned)lane_mask];
}

void wmma_converge() {
    check_warp_op(0xffffffffu, "a wmma operation");
    wait_here(State::AtWarpOp, WarpOp::Wmma);
}

unsigned lane_id() {
    if (current == nullptr) fault("lane_id outside a kernel");
    return current->linear & 31u;
}

// ---- device memory: the blocks cudaMalloc handed out ----

namespace {

// Enforced in the shared library that Java loads, where every device buffer comes from cudaMalloc; sbc_emu_tests
// gives the kernels host vectors.
#ifdef SBC_EMU_LIBRARY
constexpr bool kCheckDevicePointers = true;
#else
constexpr bool kCheckDevicePointers = false;
#endif

std::mutex blocks_mutex;
std::map<uintptr_t, size_t> blocks; // start -> bytes of each block cudaMalloc returned and cudaFree has not taken back

// Bytes from p to the end of its block (0 just past the end: an empty range), or -1 when p is in none.
int64_t bytes_after(const void *p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const std::lock_guard<std::mutex> lock(blocks_mutex);
    auto it = blocks.upper_bound(a);
    if (it == blocks.begin()) return -1;
    --it;
    return a <= it->first + it->second ? (int64_t)(it->first + it->second - a) : -1;
}

bool in_device_memory(const void *p, size_t bytes) {
    const int64_t after = bytes_after(p);
    return after >= 0 && (uint64_t)after >= bytes;
}

// [p, p + bytes) overlaps no block.
bool in_host_memory(const void *p, size_t bytes) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const std::lock_guard<std::mutex> lock(blocks_mutex);
    auto it = blocks.lower_bound(a); // the first block starting at or after p
    if (it != blocks.end() && it->first < a + bytes) return false;
    return it == blocks.begin() || std::prev(it)->first + std::prev(it)->second <= a;
}

} // namespace

bool device_pointer_argument(const char *kernel, int index, const void *p) {
    if (!kCheckDevicePointers || p == nullptr || bytes_after(p) >= 0) return true;
    fprintf(stderr, "sbc_emu: kernel %s: pointer argument %d (%p) is not device memory (in no cudaMalloc block)\n",
            kernel, index, p);
    last_error = cudaErrorIllegalAddress;
    return false;
}

} // namespace sbc_emu

int64_t sbc_emu_device_bytes(const void *p) { return sbc_emu::bytes_after(p); }

int sbc_emu_take_races(char *buf, size_t bytes) {
    const std::lock_guard<std::recursive_mutex> lock(sbc_emu::launch_mutex);
    const int n = sbc_emu::races;
    if (buf != nullptr && bytes != 0) snprintf(buf, bytes, "%s", n != 0 ? sbc_emu::race_report : "");
    sbc_emu::races = 0;
    return n;
}

// The hooks that -fsanitize=thread's instrumentation of the kernels calls before each access (race checker).
#define SBC_EMU_HOOK(name, n, kind)                                                                                  \
    extern "C" SBC_EMU_HOT void name(void *p) {                                                                      \
        sbc_emu::on_access(reinterpret_cast<uintptr_t>(p), n, sbc_emu::Access::kind, __builtin_return_address(0));   \
    }
#define SBC_EMU_HOOKS(n)                                                                                             \
    SBC_EMU_HOOK(__tsan_read##n, n, Read)                                                                            \
    SBC_EMU_HOOK(__tsan_write##n, n, Write)                                                                          \
    SBC_EMU_HOOK(__tsan_unaligned_read##n, n, Read)                                                                  \
    SBC_EMU_HOOK(__tsan_unaligned_write##n, n, Write)
SBC_EMU_HOOKS(1)
SBC_EMU_HOOKS(2)
SBC_EMU_HOOKS(4)
SBC_EMU_HOOKS(8)
SBC_EMU_HOOKS(16)
#undef SBC_EMU_HOOKS
#undef SBC_EMU_HOOK
extern "C" void __tsan_read_range(void *p, size_t n) {
    sbc_emu::on_access(reinterpret_cast<uintptr_t>(p), n, sbc_emu::Access::Read, __builtin_return_address(0));
}
extern "C" void __tsan_write_range(void *p, size_t n) {
    sbc_emu::on_access(reinterpret_cast<uintptr_t>(p), n, sbc_emu::Access::Write, __builtin_return_address(0));
}
// Host code of the kernels' files that uses std::atomic (memory.cu's flag) gets these: the real operation, unchecked.
#define SBC_EMU_ATOMIC_HOOKS(bits, T)                                                                                \
    extern "C" T __tsan_atomic##bits##_load(const volatile T *a, int order) { return __atomic_load_n(a, order); }    \
    extern "C" void __tsan_atomic##bits##_store(volatile T *a, T v, int order) { __atomic_store_n(a, v, order); }
SBC_EMU_ATOMIC_HOOKS(8, uint8_t)
SBC_EMU_ATOMIC_HOOKS(16, uint16_t)
SBC_EMU_ATOMIC_HOOKS(32, uint32_t)
SBC_EMU_ATOMIC_HOOKS(64, uint64_t)
#undef SBC_EMU_ATOMIC_HOOKS
extern "C" void __tsan_init() {}
extern "C" void __tsan_func_entry(void *) {}
extern "C" void __tsan_func_exit() {}

uint64_t sbc_emu_seed() {
    const std::lock_guard<std::recursive_mutex> lock(sbc_emu::launch_mutex);
    return sbc_emu::run_seed();
}

// ---- runtime calls: one emulated device, host memory, synchronous streams ----

using sbc_emu::last_error;

static cudaError_t fail(cudaError_t e) {
    last_error = e;
    return e;
}

cudaError_t cudaGetDeviceCount(int *count) {
    if (count == nullptr) return fail(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (prop == nullptr) return fail(cudaErrorInvalidValue);
    if (device != 0) return fail(cudaErrorInvalidDevice);
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "%s", "CPU emulator (sbora4j cuda-kernels/emu)");
    prop->major = 9;
    prop->minor = 0;
    return cudaSuccess;
}

const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    }
    return "unrecognized error code";
}

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
    const cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

cudaError_t cudaMalloc(void **ptr, size_t bytes) {
    if (ptr == nullptr) return fail(cudaErrorInvalidValue);
    *ptr = nullptr;
    if (bytes == 0) return cudaSuccess;
    void *p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) return fail(cudaErrorMemoryAllocation); // cudaMalloc aligns to 256
    {
        const std::lock_guard<std::mutex> lock(sbc_emu::blocks_mutex);
        sbc_emu::blocks[reinterpret_cast<uintptr_t>(p)] = bytes;
    }
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void *ptr) {
    if (ptr == nullptr) return cudaSuccess;
    bool known;
    {
        const std::lock_guard<std::mutex> lock(sbc_emu::blocks_mutex);
        known = sbc_emu::blocks.erase(reinterpret_cast<uintptr_t>(ptr)) == 1;
    }
    if (!known && sbc_emu::kCheckDevicePointers) {
        fprintf(stderr, "sbc_emu: cudaFree(%p): not a block from cudaMalloc, or freed already\n", ptr);
        return fail(cudaErrorInvalidValue);
    }
    free(ptr);
    return cudaSuccess;
}

// Where checked: both ends of a copy lie where its direction says, wholly (a host end in no block).
static bool copy_ends_ok(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (!sbc_emu::kCheckDevicePointers || bytes == 0) return true;
    const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice)
        return true;
    const bool dst_ok = dst_device ? sbc_emu::in_device_memory(dst, bytes) : sbc_emu::in_host_memory(dst, bytes);
    const bool src_ok = src_device ? sbc_emu::in_device_memory(src, bytes) : sbc_emu::in_host_memory(src, bytes);
    if (dst_ok && src_ok) return true;
    fprintf(stderr, "sbc_emu: a copy of %zu bytes, kind %d:%s%s\n", bytes, (int)kind,
            dst_ok ? "" : dst_device ? " dst is not within a device block" : " dst overlaps device memory",
            src_ok ? "" : src_device ? " src is not within a device block" : " src overlaps device memory");
    return false;
}

static bool valid_kind(cudaMemcpyKind k) { return k >= cudaMemcpyHostToHost && k <= cudaMemcpyDefault; }

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    if (!valid_kind(kind)) return fail(cudaErrorInvalidMemcpyDirection);
    if (bytes != 0 && (dst == nullptr || src == nullptr)) return fail(cudaErrorInvalidValue);
    if (!copy_ends_ok(dst, src, bytes, kind)) return fail(cudaErrorInvalidValue);
    if (bytes != 0) memmove(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemsetAsync(void *ptr, int value, size_t bytes, cudaStream_t) {
    if (bytes != 0 && ptr == nullptr) return fail(cudaErrorInvalidValue);
    if (bytes != 0 && sbc_emu::kCheckDevicePointers && !sbc_emu::in_device_memory(ptr, bytes)) {
        fprintf(stderr, "sbc_emu: cudaMemsetAsync(%p, %zu bytes): not within a device block\n", ptr, bytes);
        return fail(cudaErrorInvalidValue);
    }
    if (bytes != 0) memset(ptr, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

struct CUstream_st {
    int magic;
};

cudaError_t cudaStreamCreate(cudaStream_t *stream) {
    if (stream == nullptr) return fail(cudaErrorInvalidValue);
    *stream = new CUstream_st{0x57ea};
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    if (stream == nullptr || stream->magic != 0x57ea) return fail(cudaErrorInvalidResourceHandle);
    stream->magic = 0;
    delete stream;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    if (stream != nullptr && stream->magic != 0x57ea) return fail(cudaErrorInvalidResourceHandle);
    return cudaSuccess;
}
