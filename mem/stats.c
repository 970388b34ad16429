/*
 * mem/stats.c — the allocator's statistics (sys._debugmallocstats' idea),
 * the dump, and the heap checker.
 *
 * Blocks in use are counted the way CPython's _debugmallocstats counts them:
 * by walking every pool (its nused, minus the blocks other threads freed into
 * it that its owner has not taken back yet).  The fast paths thus count
 * nothing; the walk stops the world, so that no thread is inside the
 * allocator while it reads the owners' fields.  Everything else (pools per
 * class, arenas, large blocks) comes from slow-path counters (see
 * mem/obmalloc.h) read with relaxed loads.  The figures are exact at the
 * moment the world was stopped.
 */
#include "backend.h"
#include <inttypes.h>

typedef struct stats_acc {
    int64_t pools[MEM_NCLASSES];
    int64_t large_blocks, large_bytes, free_pools, arenas;
    size_t heaps, abandoned;
} stats_acc;

static void stats_add_heap(mem_heap *h, void *arg)
{
    stats_acc *acc = arg;
    for (unsigned c = 0; c < MEM_NCLASSES; c++)
        acc->pools[c] += (int64_t)grt_atomic_load_64(&h->xpools[c]);
    acc->large_blocks += (int64_t)grt_atomic_load_64(&h->xlarge_blocks);
    acc->large_bytes += (int64_t)grt_atomic_load_64(&h->xlarge_bytes);
    acc->free_pools += (int64_t)grt_atomic_load_64(&h->xfree_pools);
    acc->arenas += (int64_t)grt_atomic_load_64(&h->xarenas);
    if (!h->shared) {
        acc->heaps++;
        if (grt_atomic_load_32(&h->xabandoned)) acc->abandoned++;
    }
}

/* Add h's live blocks per class: each pool in use holds nused blocks minus
 * those on its xremote list (freed by other threads, not yet taken back). */
static void stats_walk_heap(mem_heap *h, void *arg)
{
    int64_t *inuse = arg;
    for (unsigned k = 0; k < MEM_POOLS_PER_ARENA; k++) {    /* arenas[64] are empty */
        for (mem_arena *a = h->arenas[k]; a; a = a->next) {
            uint64_t freemap = mem_arena_free_map(a);
            for (unsigned i = 0; i < a->ntouched; i++) {
                if (freemap & (UINT64_C(1) << i)) continue;
                mem_pool *p = (mem_pool *)(a->base + (size_t)i * MEM_POOL_SIZE);
                int64_t n = p->nused;
                /* acquire: the pushers' writes of b->next are visible */
                for (mem_block *b = grt_atomic_load_ptr_acq(&p->xremote); b; b = b->next)
                    n--;
                inuse[p->szidx] += n;
            }
        }
    }
}

static size_t nonneg(int64_t v) { return v > 0 ? (size_t)v : 0; }

int grt_mem_stats(struct grt_mem_stats *st)
{
    if (!st) {
        grt_err_set(GRT_ERR_TYPE, "grt_mem_stats: argument 'st' is NULL");
        return -1;
    }
    if (!grt_is_initialized() || !grt_is_attached()) {
        grt_err_set(GRT_ERR_STATE, "grt_mem_stats: call it from an attached thread of an "
                    "initialised runtime (it stops the world to count the blocks)");
        return -1;
    }
    memset(st, 0, sizeof *st);
    st->allocator = grt_mem_allocator();
    const mem_backend *b = _grt_mem_backend();
    stats_acc acc;
    int64_t inuse[MEM_NCLASSES] = {0};
    memset(&acc, 0, sizeof acc);

    bool stop = !_grt_world_is_stopped();
    if (stop) _grt_stop_the_world();
    _grt_obm_foreach_heap(stats_add_heap, &acc);
    int64_t sb, sbytes;
    _grt_obm_stray_large(&sb, &sbytes);
    acc.large_blocks += sb;
    acc.large_bytes += sbytes;
    if (b == &_grt_mem_obmalloc || b == &_grt_mem_debug)
        _grt_obm_foreach_heap(stats_walk_heap, inuse);
    if (b == &_grt_mem_debug) {
        /* quarantined blocks are obmalloc's, not the caller's */
        int64_t q[MEM_NCLASSES] = {0}, qlarge = 0, qbytes = 0;
        _grt_debug_quarantined(q, &qlarge, &qbytes);
        for (unsigned c = 0; c < MEM_NCLASSES; c++) inuse[c] -= q[c];
        acc.large_blocks -= qlarge;
        acc.large_bytes -= qbytes;
    }
    uint64_t hw;
    _grt_obm_arena_counts(&st->arenas_allocated, &st->arenas_freed, &hw);
    if (stop) _grt_start_the_world();

    size_t small_bytes = 0, tails = 0;
    for (unsigned c = 0; c < MEM_NCLASSES; c++) {
        grt_mem_class_stats *cs = &st->classes[c];
        size_t sz = MEM_CLASS_SIZE(c);
        cs->block_size = sz;
        cs->blocks_in_use = nonneg(inuse[c]);
        cs->pools = nonneg(acc.pools[c]);
        size_t cap = cs->pools * MEM_POOL_CAPACITY(c);
        cs->blocks_free = cap > cs->blocks_in_use ? cap - cs->blocks_in_use : 0;
        st->small_blocks_in_use += cs->blocks_in_use;
        st->pools_in_use += cs->pools;
        small_bytes += cs->blocks_in_use * sz;
        tails += cs->pools * ((MEM_POOL_SIZE - MEM_POOL_OVERHEAD) % sz);
    }
    st->large_blocks_in_use = nonneg(acc.large_blocks);
    st->blocks_in_use = st->small_blocks_in_use + st->large_blocks_in_use;
    st->pools_free = nonneg(acc.free_pools);
    st->arenas_current = nonneg(acc.arenas);
    st->arenas_highwater = (size_t)hw;
    st->heaps = acc.heaps;
    st->heaps_abandoned = acc.abandoned;

    size_t large_bytes = nonneg(acc.large_bytes);
    st->bytes_in_blocks = small_bytes + large_bytes;
    st->bytes_held = st->arenas_current * (size_t)MEM_ARENA_SIZE
                     + large_bytes + st->large_blocks_in_use * MEM_ALIGN;
    st->bytes_pool_overhead = st->pools_in_use * MEM_POOL_OVERHEAD + tails;
    if (b == &_grt_mem_debug) {
        st->bytes_requested = _grt_debug_requested();
        st->requested_exact = 1;
    } else if (b != &_grt_mem_obmalloc) {
        /* malloc, mimalloc: blocks are counted, their bytes are not known
         * (and the header per block counted above is not theirs) */
        st->bytes_requested = st->bytes_in_blocks;
        st->bytes_held = 0;
        st->requested_exact = 0;
    } else {
        /* Small requests are known only to their size class (at most 15 bytes over). */
        st->bytes_requested = st->bytes_in_blocks;
        st->requested_exact = st->small_blocks_in_use == 0;
    }
    return 0;
}

void grt_mem_dump(FILE *f)
{
    struct grt_mem_stats st;
    if (!f) return;
    if (grt_mem_stats(&st) != 0) {
        fprintf(f, "gilrt allocator: %s (no statistics: %s)\n", grt_mem_allocator(), grt_err_message());
        grt_err_clear();
        return;
    }
    if (strcmp(st.allocator, "obmalloc") && strcmp(st.allocator, "debug"))
        fprintf(f, "gilrt allocator: %s (every block from it: blocks counted, not their bytes)\n",
                st.allocator);
    else
        fprintf(f, "gilrt allocator: %s (%d size classes up to %d B, %d KiB pools, %d KiB "
                "arenas)\n", st.allocator, MEM_NCLASSES, MEM_SMALL_MAX, MEM_POOL_SIZE / 1024,
                MEM_ARENA_SIZE / 1024);
    fprintf(f, "class   size   pools   blocks in use   free blocks\n");
    for (int c = 0; c < MEM_NCLASSES; c++) {
        const grt_mem_class_stats *cs = &st.classes[c];
        if (!cs->pools && !cs->blocks_in_use) continue;
        fprintf(f, "%5d %6zu %7zu %15zu %13zu\n", c, cs->block_size, cs->pools,
                cs->blocks_in_use, cs->blocks_free);
    }
    fprintf(f, "blocks in use: %zu (%zu small, %zu large/system)\n",
            st.blocks_in_use, st.small_blocks_in_use, st.large_blocks_in_use);
    fprintf(f, "pools: %zu in use, %zu free inside arenas\n", st.pools_in_use, st.pools_free);
    fprintf(f, "arenas: %zu current, %" PRIu64 " allocated, %" PRIu64 " freed, highwater %zu\n",
            st.arenas_current, st.arenas_allocated, st.arenas_freed, st.arenas_highwater);
    fprintf(f, "heaps: %zu (%zu abandoned)\n", st.heaps, st.heaps_abandoned);
    fprintf(f, "bytes requested: %zu%s\n", st.bytes_requested,
            st.requested_exact ? "" : " (small blocks at their class size)");
    fprintf(f, "bytes in blocks: %zu\nbytes held:      %zu\npool overhead:   %zu\n",
            st.bytes_in_blocks, st.bytes_held, st.bytes_pool_overhead);
    if (grt_mem_trace_is_tracing()) {
        size_t cur, peak;
        grt_mem_trace_traced(&cur, &peak);
        fprintf(f, "traced: %zu bytes now, peak %zu\n", cur, peak);
    }
}

size_t grt_mem_check(void)
{
    const mem_backend *b = _grt_mem_backend();
    size_t n = 0;
    if (b == &_grt_mem_debug)
        n += _grt_debug_check();
    if (b == &_grt_mem_debug || b == &_grt_mem_obmalloc)
        n += _grt_obm_check_heap();
    return n;
}
