/*
 * gil/stats.c — the GIL statistics, counted per thread and summed on demand.
 *
 * Why per thread: the counters are updated at every acquisition, and an
 * I/O-bound thread and a CPU-bound one may hand the GIL back and forth a
 * hundred thousand times a second; shared counters would add a cache-line
 * transfer or three to every hand-off.
 *
 * Invariants.
 *   - Each thread counts into its own block (thread-local gil_block), which
 *     only that thread writes (relaxed atomic read-then-store: no RMW
 *     needed), and which sits on gil_blocks (under gil_blocks_lock) from its
 *     first count until the thread exits.  Readers sum the blocks.
 *   - The acquirers share no line, except gil_seq for a policy without a
 *     yield operation (read and written by the thread that holds the GIL).
 *   - Reset bumps gil_xepoch.  A block of an older epoch counts as zero; its
 *     owner zeroes it and then publishes the new epoch with a release store
 *     before counting again, so a reader that sees the new epoch (acquire)
 *     never sees the old counts.
 *   - An exiting thread's block is folded into gil_retired (same epoch rule)
 *     by a pthread key destructor; in a fork child the dead threads' blocks
 *     are folded the same way.
 * Readers may see a snapshot torn between two updates of one thread; it is
 * exact once the threads that acquire have stopped.
 */
#include "gil_policy.h"

typedef struct gil_block {
    struct gil_block *next;         /* gil_blocks, under gil_blocks_lock */
    uint64_t xepoch;                /* the reset epoch these counts belong to */
    grt_gil_statistics s;           /* owner-written, relaxed atomics */
} gil_block;

static pthread_mutex_t gil_blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static gil_block *gil_blocks;
static gil_block gil_retired;       /* exited threads' counts, under gil_blocks_lock */
static uint64_t gil_xepoch = 1;     /* atomic; bumped by grt_gil_stats_reset */
static __thread gil_block *gil_my_block GRT_TLS_IE;
static pthread_key_t gil_block_key;
static pthread_once_t gil_block_key_once = PTHREAD_ONCE_INIT;

/* Acquisitions ever (never reset): kept only for a policy without a yield
 * operation, to tell whether someone else took the GIL during a yield. */
static struct {
    uint64_t xacq;
} gil_seq __attribute__((aligned(64)));

/* The counters as an array of u64, for zeroing and summing. */
#define GIL_NFIELDS (sizeof(grt_gil_statistics) / sizeof(uint64_t))
_Static_assert(sizeof(grt_gil_statistics) % sizeof(uint64_t) == 0, "u64 fields only");
static uint64_t *gil_fields(grt_gil_statistics *s) { return (uint64_t *)s; }

static void gil_block_zero(gil_block *b)
{
    uint64_t *f = gil_fields(&b->s);
    for (size_t i = 0; i < GIL_NFIELDS; i++) grt_atomic_store_64(&f[i], 0);
}

/* Add b's counts into *out (max for wait_max_ns), if b belongs to epoch. */
static void gil_block_add(grt_gil_statistics *out, gil_block *b, uint64_t epoch)
{
    /* acquire: the owner zeroed the counts before publishing the epoch */
    if (grt_atomic_load_64_acq(&b->xepoch) != epoch) return;
    uint64_t *f = gil_fields(&b->s), *o = gil_fields(out);
    for (size_t i = 0; i < GIL_NFIELDS; i++) {
        uint64_t v = grt_atomic_load_64(&f[i]);
        if (&o[i] == &out->wait_max_ns) { if (v > o[i]) o[i] = v; }
        else o[i] += v;
    }
}

/* Fold b into gil_retired (gil_blocks_lock held). */
static void gil_block_retire_locked(gil_block *b, uint64_t epoch)
{
    if (gil_retired.xepoch != epoch) {
        gil_block_zero(&gil_retired);
        gil_retired.xepoch = epoch;
    }
    grt_gil_statistics sum = gil_retired.s;
    gil_block_add(&sum, b, epoch);
    gil_retired.s = sum;
}

static void gil_block_unlink_locked(gil_block *b)
{
    for (gil_block **p = &gil_blocks; *p; p = &(*p)->next)
        if (*p == b) { *p = b->next; return; }
}

static void gil_block_destructor(void *p)
{
    gil_block *b = p;
    pthread_mutex_lock(&gil_blocks_lock);
    gil_block_retire_locked(b, grt_atomic_load_64(&gil_xepoch));
    gil_block_unlink_locked(b);
    pthread_mutex_unlock(&gil_blocks_lock);
    if (gil_my_block == b) gil_my_block = NULL;
    free(b);
}

static void gil_block_key_create(void) { pthread_key_create(&gil_block_key, gil_block_destructor); }

/* The calling thread's block, current epoch; NULL if out of memory (then
 * that thread's counts are lost, nothing else). */
static gil_block *gil_block_mine(void)
{
    gil_block *b = gil_my_block;
    if (GRT_UNLIKELY(!b)) {
        b = calloc(1, sizeof *b);
        if (!b) return NULL;
        pthread_once(&gil_block_key_once, gil_block_key_create);
        pthread_setspecific(gil_block_key, b);
        pthread_mutex_lock(&gil_blocks_lock);
        b->next = gil_blocks;
        gil_blocks = b;
        pthread_mutex_unlock(&gil_blocks_lock);
        gil_my_block = b;
    }
    uint64_t epoch = grt_atomic_load_64(&gil_xepoch);
    if (GRT_UNLIKELY(grt_atomic_load_64(&b->xepoch) != epoch)) {
        gil_block_zero(b);
        /* release: the zeroes are visible before the epoch that vouches for them */
        grt_atomic_store_64_rel(&b->xepoch, epoch);
    }
    return b;
}

/* Owner-only counter bump. */
static inline void gil_bump(uint64_t *p, uint64_t d)
{
    grt_atomic_store_64(p, grt_atomic_load_64(p) + d);
}

static unsigned gil_hist_bucket(uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us == 0) return 0;
    unsigned b = 64u - (unsigned)__builtin_clzll(us);   /* [2^(b-1), 2^b) us */
    return b < GRT_GIL_HIST_BUCKETS ? b : GRT_GIL_HIST_BUCKETS - 1;
}

/* ---- what gil/gil.c records ----------------------------------------------------------- */

void _grt_gil_stats_acquired(uint64_t wait_ns)
{
    gil_block *b = gil_block_mine();
    if (!b) return;
    gil_bump(&b->s.acquisitions, 1);
    gil_bump(&b->s.wait_total_ns, wait_ns);
    if (wait_ns > grt_atomic_load_64(&b->s.wait_max_ns))
        grt_atomic_store_64(&b->s.wait_max_ns, wait_ns);
    gil_bump(&b->s.wait_hist[gil_hist_bucket(wait_ns)], 1);
}

/* gil_seq: the caller holds the GIL, so it is its only writer right now. */
void _grt_gil_stats_seq_bump(void) { gil_bump(&gil_seq.xacq, 1); }
uint64_t _grt_gil_stats_seq(void) { return grt_atomic_load_64(&gil_seq.xacq); }

void _grt_gil_stats_yielded(int forced)
{
    gil_block *b = gil_block_mine();
    if (!b) return;
    gil_bump(&b->s.yields, 1);
    if (forced) gil_bump(&b->s.forced_switches, 1);
}

void _grt_gil_stats_drop_requested(void)
{
    gil_block *b = gil_block_mine();
    if (b) gil_bump(&b->s.drop_requests, 1);
}

void _grt_gil_stats_restart(void)
{
    grt_atomic_add_64(&gil_xepoch, 1);
}

void _grt_gil_stats_fork_child(void)
{
    /* Only this thread survived: fresh lock, the others' blocks retired. */
    pthread_mutex_init(&gil_blocks_lock, NULL);
    uint64_t epoch = grt_atomic_load_64(&gil_xepoch);
    gil_block *b = gil_blocks;
    gil_blocks = NULL;
    while (b) {
        gil_block *next = b->next;
        if (b == gil_my_block) {
            b->next = gil_blocks;
            gil_blocks = b;
        } else {
            gil_block_retire_locked(b, epoch);
            free(b);
        }
        b = next;
    }
}

/* ---- public ------------------------------------------------------------------------------ */

int grt_gil_stats(grt_gil_statistics *out)
{
    if (!out) { grt_err_set(GRT_ERR_TYPE, "grt_gil_stats: out is NULL"); return -1; }
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&gil_blocks_lock);
    uint64_t epoch = grt_atomic_load_64(&gil_xepoch);
    if (gil_retired.xepoch == epoch) gil_block_add(out, &gil_retired, epoch);
    for (gil_block *b = gil_blocks; b; b = b->next)
        gil_block_add(out, b, epoch);
    pthread_mutex_unlock(&gil_blocks_lock);
    return 0;
}

int grt_gil_stats_thread(grt_gil_statistics *out)
{
    if (!out) { grt_err_set(GRT_ERR_TYPE, "grt_gil_stats_thread: out is NULL"); return -1; }
    memset(out, 0, sizeof *out);
    gil_block *b = gil_my_block;
    if (b) gil_block_add(out, b, grt_atomic_load_64(&gil_xepoch));
    return 0;
}

void grt_gil_stats_reset(void) { grt_atomic_add_64(&gil_xepoch, 1); }
