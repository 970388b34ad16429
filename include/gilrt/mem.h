/*
 * gilrt/mem.h — the object allocator (mem/).
 *
 * Every object and every container buffer comes from one allocator, chosen at
 * grt_init like PYTHONMALLOC: grt_config.allocator or the environment variable
 * GRT_MALLOC names it.
 *
 *   obmalloc  (default) pymalloc's shape: requests up to 512 bytes are served
 *             from 32 size classes (16-byte steps) carved from 16 KiB pools in
 *             1 MiB arenas taken with mmap; larger requests go to the system
 *             malloc.  Each thread allocates from its own heap with no lock and
 *             no atomic; a block freed by another thread goes back through a
 *             lock-free list to the thread that owns it.  Empty arenas are
 *             returned to the OS once they have stayed unused for
 *             GRT_MEM_DECAY_MS milliseconds (default 1000; 0: at once), but
 *             for the 4 newest of each thread's heap.
 *   malloc    the system allocator (glibc).
 *   mimalloc  libmimalloc, when configure found it.
 *   debug     obmalloc behind guard bytes and fill patterns: fresh memory is
 *             0xCD, freed memory 0xDD, the guards around a block 0xFD.  Buffer
 *             overflow and underflow, double free and writes after free are
 *             reported (block address, size, serial number and, while tracing,
 *             where the block was allocated) and the process aborts.  Freed
 *             blocks wait in a quarantine before they are reused.
 *
 * Threads: these functions may be called by any thread attached to the
 * runtime; memory may be freed by a thread other than the one that
 * allocated it, including after that thread exited.
 */
#ifndef GILRT_MEM_H
#define GILRT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRT_MEM_ALIGNMENT  16           /* every block is aligned to this */
#define GRT_MEM_SMALL_MAX  512          /* larger requests go to the system allocator */
#define GRT_MEM_NCLASSES   32           /* size classes: 16, 32, ..., 512 bytes */
#define GRT_MEM_POOL_SIZE  (16 * 1024)
#define GRT_MEM_ARENA_SIZE (1024 * 1024)

/* ---- allocation (like PyObject_Malloc) ------------------------------------- */

/* n bytes, 16-byte aligned, uninitialised (0xCD under "debug").  n == 0 gives
 * a unique pointer.  NULL with a MemoryError on failure.  Release with
 * grt_mem_free, never with free(). */
void *grt_mem_malloc(size_t n);
/* Resize p (from grt_mem_malloc/realloc; NULL acts as grt_mem_malloc) to n
 * bytes, keeping the contents up to the smaller size.  Returns the block (p
 * itself or a new one; p is then freed), or NULL with a MemoryError, p
 * untouched. */
void *grt_mem_realloc(void *p, size_t n);
/* Release p (NULL is ignored).  A pointer gilrt did not hand out is a fatal
 * error when it can be recognised (always under "debug"). */
void grt_mem_free(void *p);

/* The allocator in use: "obmalloc", "malloc", "mimalloc" or "debug". */
const char *grt_mem_allocator(void);

/* The size class obmalloc serves an n-byte request from (0..31; n == 0 is
 * class 0), or -1 if n is larger than GRT_MEM_SMALL_MAX. */
int grt_mem_size_class(size_t n);
/* The block size of class c (16 * (c + 1)); 0 with a ValueError naming c if
 * c is not in 0..31. */
size_t grt_mem_class_size(int c);

/* ---- failure injection (like SQLite's test hooks) ---------------------------
 *
 * Make allocations fail on purpose, to test what every function does when
 * memory runs out: the k-th allocation from now fails, once, or every n-th.
 * An injected failure is what real exhaustion looks like: the allocation
 * returns NULL without allocating (a realloc leaves its block untouched),
 * and the public function that needed the memory returns NULL or -1 with a
 * MemoryError.
 *
 * What counts: every allocation and reallocation the allocator serves —
 * objects, container buffers, strings, grt_mem_malloc and grt_mem_realloc —
 * from every thread, while injection is armed (a fail_at target or a
 * fail_every period set); frees never count.  The runtime's own bookkeeping
 * that uses the system malloc directly (thread states, class layouts, the
 * interned-string table, the collector's work lists) does not count.  The
 * two modes are independent and may be armed together; an allocation that
 * both would fail counts as one failure.
 *
 * Environment: GRT_MEM_FAIL_AT=k and GRT_MEM_FAIL_EVERY=n arm the same
 * modes at grt_init, counted from the end of grt_init (grt_init makes no
 * counted allocation after it reads them).  A value that is not a decimal
 * number in 0..INT64_MAX makes grt_init fail with a ValueError naming the
 * variable and the value; 0 or empty means off.  GRT_MEM_FAIL_INIT=k reaches
 * what those cannot, grt_init's own steps that allocate once the allocator
 * is ready: the k-th fails as if out of memory (1: the main thread's state,
 * 2: the interning table; larger k: none), and grt_init returns -1 with a
 * MemoryError after undoing everything, so that a test can check that the
 * next grt_init works.
 *
 * Cost: none while nothing is armed (the allocation fast path tests the
 * one flag it always tests).  While armed, every allocation takes the slow
 * path and one atomic increment.
 *
 * Threads: any thread may call these, attached or not.  Arming is seen by
 * other threads at their next allocation; whether an allocation made at the
 * same moment as the arming call is counted is not defined.  With several
 * threads allocating, the failing allocation is the first counted at or
 * after the target.  grt_fini disarms; grt_init resets the counters. */

/* Fail the k-th allocation from now, once (k = 1: the next one); then this
 * mode is off again.  k = 0 turns this mode off.  Returns 0, or -1 with a
 * ValueError if k < 0, or a StateError if the runtime is not initialised. */
int grt_mem_fail_at(int64_t k);
/* Fail every n-th allocation from now: the n-th, the 2n-th, ... (n = 1:
 * every one).  n = 0 turns this mode off.  Errors as grt_mem_fail_at. */
int grt_mem_fail_every(int64_t n);
/* Turn both modes off.  Never fails. */
void grt_mem_fail_off(void);
/* 1 while a fail_at target or a fail_every period is set. */
int grt_mem_fail_is_armed(void);
/* Failures injected since grt_init (they stay readable after grt_fini). */
uint64_t grt_mem_failures_injected(void);
/* Allocations counted since grt_init: those made while armed, the failed
 * ones included.  To count what some work allocates, arm a target that
 * will not come (grt_mem_fail_at(INT64_MAX)), run it, read the difference,
 * and call grt_mem_fail_off. */
uint64_t grt_mem_allocations_counted(void);

/* ---- statistics (like sys._debugmallocstats) -------------------------------- */

typedef struct grt_mem_class_stats {
    size_t block_size;
    size_t blocks_in_use;       /* handed out and not freed */
    size_t blocks_free;         /* free in this class's pools (never-used ones included) */
    size_t pools;               /* pools serving this class */
} grt_mem_class_stats;

/* struct grt_mem_stats and the function grt_mem_stats share a name, as
 * POSIX's struct stat and stat() do. */
struct grt_mem_stats {
    const char *allocator;
    grt_mem_class_stats classes[GRT_MEM_NCLASSES];  /* obmalloc and debug only */
    size_t blocks_in_use;       /* every live allocation: small + large (any allocator) */
    size_t small_blocks_in_use;
    size_t large_blocks_in_use; /* requests over 512 bytes, served by malloc */
    size_t pools_in_use;
    size_t pools_free;          /* empty pools inside arenas */
    uint64_t arenas_allocated;  /* since grt_init */
    uint64_t arenas_freed;
    size_t arenas_current;
    size_t arenas_highwater;
    size_t heaps;               /* per-thread heaps (abandoned ones included) */
    size_t heaps_abandoned;     /* heaps of threads that exited, waiting for adoption */
    /* Bytes.  "requested" is what callers asked for: exact for large blocks
     * and under GRT_MALLOC=debug; small blocks count at their class size,
     * and then requested_exact is 0.  Under GRT_MALLOC=malloc or mimalloc
     * blocks are counted but not their bytes: the byte figures are 0 and
     * requested_exact is 0. */
    size_t bytes_requested;
    int requested_exact;
    size_t bytes_in_blocks;     /* small blocks in use at class size + large bytes */
    size_t bytes_held;          /* arenas mapped + large blocks with their headers */
    size_t bytes_pool_overhead; /* pool headers and tails too small for a block */
};

/* Fill *st.  Blocks in use are counted by walking every pool with the world
 * stopped (briefly: it costs a pass over the arenas), so the figures are
 * exact at that moment.  Call from an attached thread.  Returns 0, or -1
 * with a TypeError if st is NULL, or a StateError if the caller is not
 * attached to an initialised runtime. */
int grt_mem_stats(struct grt_mem_stats *st);
/* Print the statistics, one line per size class in use, to f (an attached
 * thread, like grt_mem_stats). */
void grt_mem_dump(FILE *f);
/* Check the allocator's structures: under "debug", that every quarantined
 * block still holds 0xDD (a write after free is fatal); under obmalloc and
 * debug, the calling thread's arenas and the free lists of its pools (a
 * corrupted free list is fatal).  Returns the number of quarantined blocks,
 * arenas and pools in use checked; 0 for malloc and mimalloc. */
size_t grt_mem_check(void);

/* ---- tracing (like tracemalloc) --------------------------------------------- */

#define GRT_MEM_TRACE_MAX_DEPTH 64

/* Start recording, for every allocation, its size and the call stack that made
 * it (depth frames, innermost first; frames inside gilrt itself are skipped).
 * Tracing takes a lock on every allocation: it is a debugging aid.  Returns 0,
 * or -1 with a ValueError if depth is not in 1..GRT_MEM_TRACE_MAX_DEPTH, or a
 * RuntimeError if the runtime is not initialised.  Starting again while
 * tracing changes nothing but the depth for later allocations. */
int grt_mem_trace_start(int depth);
/* Stop recording and forget every trace. */
void grt_mem_trace_stop(void);
/* 1 while tracing. */
int grt_mem_trace_is_tracing(void);
/* Bytes in traced live blocks now, and the most there were since tracing
 * started or the peak was reset.  Either pointer may be NULL. */
void grt_mem_trace_traced(size_t *current, size_t *peak);
void grt_mem_trace_reset_peak(void);

/* One allocation site: the live blocks allocated from one call stack. */
typedef struct grt_mem_site {
    void *const *frames;        /* return addresses, innermost first */
    int nframes;
    size_t size;                /* live bytes (requested sizes) */
    size_t count;               /* live blocks */
    int64_t size_diff;          /* in a diff: size - size in the older snapshot */
    int64_t count_diff;
} grt_mem_site;

typedef struct grt_mem_snapshot grt_mem_snapshot;

/* The live traced allocations grouped by site, largest first.  A new
 * snapshot (free with grt_mem_snapshot_free), or NULL with a RuntimeError
 * when not tracing or a MemoryError. */
grt_mem_snapshot *grt_mem_snapshot_take(void);
void grt_mem_snapshot_free(grt_mem_snapshot *s);
/* Number of sites, and site i (borrowed; valid until the snapshot is freed;
 * NULL with an IndexError if i is out of range). */
size_t grt_mem_snapshot_len(const grt_mem_snapshot *s);
const grt_mem_site *grt_mem_snapshot_site(const grt_mem_snapshot *s, size_t i);
/* Total traced bytes and blocks in the snapshot. */
size_t grt_mem_snapshot_total(const grt_mem_snapshot *s, size_t *count);
/* What changed from old to new, per site, sorted by growth (size_diff, then
 * count_diff, largest first; sites that vanished come last with negative
 * diffs).  A new snapshot whose sites carry size_diff/count_diff; NULL with a
 * TypeError if either argument is NULL, or a MemoryError. */
grt_mem_snapshot *grt_mem_snapshot_diff(const grt_mem_snapshot *new_snap,
                                        const grt_mem_snapshot *old_snap);
/* Print the first `limit` sites (0: all) with symbolized frames to f. */
void grt_mem_snapshot_dump(const grt_mem_snapshot *s, FILE *f, size_t limit);
/* Symbolize one frame into buf ("function+0x1c (libfoo.so)" or, for code
 * without a dynamic symbol, "prog(+0x1234)").  Returns buf. */
char *grt_mem_frame_name(const void *pc, char *buf, size_t bufsize);

#ifdef __cplusplus
}
#endif
#endif
