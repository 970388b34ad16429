/*
 * gc/generations.c — when to collect what, and the gc module's controls:
 * collect, enable/disable, thresholds, counts, statistics, callbacks, debug
 * output, the garbage list.
 *
 * Generation counts (CPython's): count[0] is allocations minus deallocations
 * of containers since generation 0 was last collected (gc/space.c);
 * count[g] for g = 1, 2 is the number of collections of generation g - 1
 * since generation g was last collected.  A collection of generation g adds
 * one to count[g + 1] and resets count[0..g].
 *
 * The automatic choice (collect_generations): the oldest generation whose
 * count exceeds its threshold, except that generation 2 is skipped while
 * the objects moved into it since the last full collection
 * (long_lived_pending) are fewer than a quarter of those that full
 * collection kept (long_lived_total): full collections then cost in
 * proportion to the heap's growth rather than to its size (CPython's rule
 * against quadratic behaviour while a program builds a large heap).
 *
 * Automatic collections are requested by the allocation that crosses
 * threshold 0 (GRT_BREAK_GC on that thread) and run at its next safepoint,
 * never inside the allocator: a collection runs finalizers, which may
 * allocate and take locks.
 */
#include "gc_impl.h"

/* ---- debug output ------------------------------------------------------------------------- */

void gc_debug_cycle(const char *what, grt_object *o)
{
    fprintf(stderr, "gc: %s <%s %p>\n", what, o->ob_type->tp_name, (void *)o);
}

static int64_t young_count_locked(void)
{
    int64_t n = gc_space_count(&gc_rt.orphans);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        n += gc_space_count(&g->young);
    return n;
}

static void debug_show_generations(int gen)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    int64_t young = young_count_locked();
    pthread_mutex_unlock(&gc_rt.space_lock);
    fprintf(stderr, "gc: collecting generation %d...\n", gen);
    fprintf(stderr, "gc: objects in each generation: %" PRId64 " %" PRId64 " %" PRId64 "\n",
            young, gc_space_count(&gc_rt.old[0]), gc_space_count(&gc_rt.old[1]));
    fprintf(stderr, "gc: objects in permanent generation: %" PRId64 "\n",
            gc_space_count(&gc_rt.permanent));
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static void callback_call(gc_callback_entry e, grt_gc_phase phase, const grt_gc_info *info)
{
    gc_saved_error se;
    gc_error_save(&se);
    e.fn(phase, info, e.arg);
    gc_error_report_restore(&se, "a gc callback, collecting", NULL);
}

/* Each callback is called on a copy of the list taken first: a callback may
 * add or remove callbacks.  With no memory for the copy (over 8 callbacks),
 * the live list is walked by index instead, as CPython always does (then a
 * callback that removes itself makes the next one be skipped this time):
 * every callback still runs, no START goes without its STOP. */
static void invoke_callbacks(grt_gc_phase phase, const grt_gc_info *info)
{
    pthread_mutex_lock(&gc_rt.meta_lock);
    int n = gc_rt.ncallbacks;
    gc_callback_entry small[8], *copy = small;
    if (n > 8 && !(copy = malloc((size_t)n * sizeof *copy))) {
        pthread_mutex_unlock(&gc_rt.meta_lock);
        for (int i = 0;; i++) {
            pthread_mutex_lock(&gc_rt.meta_lock);
            int more = i < gc_rt.ncallbacks;
            gc_callback_entry e = more ? gc_rt.callbacks[i] : (gc_callback_entry){ 0 };
            pthread_mutex_unlock(&gc_rt.meta_lock);
            if (!more)
                return;
            callback_call(e, phase, info);
        }
    }
    if (n)
        memcpy(copy, gc_rt.callbacks, (size_t)n * sizeof *copy);
    pthread_mutex_unlock(&gc_rt.meta_lock);
    for (int i = 0; i < n; i++)
        callback_call(copy[i], phase, info);
    if (copy != small)
        free(copy);
}

int grt_gc_callback_add(grt_gc_callback fn, void *arg)
{
    if (GRT_CHECK_ARG(fn) < 0)
        return -1;
    pthread_mutex_lock(&gc_rt.meta_lock);
    if (gc_rt.ncallbacks == gc_rt.cap_callbacks) {
        int cap = gc_rt.cap_callbacks ? gc_rt.cap_callbacks * 2 : 4;
        gc_callback_entry *v = realloc(gc_rt.callbacks, (size_t)cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&gc_rt.meta_lock);
            grt_err_set(GRT_ERR_MEMORY, "grt_gc_callback_add: out of memory");
            return -1;
        }
        gc_rt.callbacks = v;
        gc_rt.cap_callbacks = cap;
    }
    gc_rt.callbacks[gc_rt.ncallbacks++] = (gc_callback_entry){ fn, arg };
    pthread_mutex_unlock(&gc_rt.meta_lock);
    return 0;
}

int grt_gc_callback_remove(grt_gc_callback fn, void *arg)
{
    pthread_mutex_lock(&gc_rt.meta_lock);
    for (int i = 0; i < gc_rt.ncallbacks; i++) {
        if (gc_rt.callbacks[i].fn == fn && gc_rt.callbacks[i].arg == arg) {
            memmove(&gc_rt.callbacks[i], &gc_rt.callbacks[i + 1],
                    (size_t)(gc_rt.ncallbacks - i - 1) * sizeof gc_rt.callbacks[0]);
            gc_rt.ncallbacks--;
            pthread_mutex_unlock(&gc_rt.meta_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&gc_rt.meta_lock);
    grt_err_set(GRT_ERR_VALUE, "grt_gc_callback_remove: this callback and argument are not "
                "registered");
    return -1;
}

/* ---- one collection, the whole protocol ---------------------------------------------------- */

/*
 * The pause.  A collection reads every count and rewrites the collector's
 * tables and headers, so no other thread may touch an object meanwhile:
 *
 *   1. The collecting thread takes gc_rt.lock (one collection, freeze or
 *      get_objects at a time).  It waits for it detached
 *      (gc_lock_acquire), so that a thread queued behind a collection counts
 *      as stopped and never holds that collection's pause up; the automatic
 *      path only tries the lock, and leaves the work to whoever holds it.
 *   2. It stops the world (runtime/stw.c): every other attached thread gets
 *      GRT_BREAK_STW and parks at its next grt_safepoint; detached threads
 *      (blocked in a system call) are marked SUSPENDED at once and cannot
 *      re-attach until the restart, so they do not delay the pause either.
 *      With a GIL active the GIL already excludes everyone: nothing to stop.
 *      The time from the request until the last thread parked is the
 *      time-to-safepoint (grt_gc_stats.tts_*).
 *   3. In brc, every merge queue is drained (_grt_brc_merge_all_queues)
 *      before any count is read: a queued object's shared count still holds
 *      the queue's reference, and its owner, parked, will not merge it.
 *      Objects that reach zero while the world is stopped — tp_clear's
 *      decrefs, merges — are freed by this thread like any other; objects
 *      whose count this thread queued to a parked owner are merged (and
 *      freed) by this thread before the restart.
 *   4. The collection runs.  Finalizers and weakref callbacks run here, on
 *      this thread, with the others parked; if they call grt_safepoint it
 *      does not park this thread (it is the requester).
 *   5. The world restarts, then the callbacks' GRT_GC_STOP runs and the lock
 *      is released.  The pause (grt_gc_stats.pause_*) is from the request to
 *      the end of step 4.
 */
static void stats_max(uint64_t *last, uint64_t *max, uint64_t v)
{
    *last = v;
    if (v > *max)
        *max = v;
}

int64_t gc_collect_main(int gen)
{
    GRT_ASSERT(gc_tls_lock_held);
    grt_atomic_store_32(&gc_rt.xcollecting, 1);
    unsigned debug = grt_atomic_load_32(&gc_rt.xdebug);
    grt_gc_info info = { .generation = gen };
    invoke_callbacks(GRT_GC_START, &info);

    uint64_t t0 = _grt_now_ns();
    gc_excl e;
    gc_exclusive_begin(&e);
    /* read while this thread still holds the pause it measured */
    uint64_t tts = e.stopped && !_grt_gil_enabled() ? _grt_rt.tts_last_ns : 0;
    if (debug & GRT_GC_DEBUG_STATS)
        debug_show_generations(gen);
    pthread_mutex_lock(&gc_rt.meta_lock);
    if (gen + 1 < GRT_GC_NGENERATIONS)
        gc_rt.count[gen + 1]++;
    for (int i = 1; i <= gen; i++)
        gc_rt.count[i] = 0;
    pthread_mutex_unlock(&gc_rt.meta_lock);
    gc_count0_reset();

    gc_result r = { 0 };
    gc_collect_world_stopped(gen, &r);

    uint64_t t1 = _grt_now_ns();
    pthread_mutex_lock(&gc_rt.meta_lock);
    grt_gc_generation_stats *st = &gc_rt.stats.gen[gen];
    st->collections++;
    st->collected += r.collected;
    st->uncollectable += r.uncollectable;
    if (e.stopped && !_grt_gil_enabled()) {
        stats_max(&gc_rt.stats.tts_last_ns, &gc_rt.stats.tts_max_ns, tts);
        stats_max(&gc_rt.stats.pause_last_ns, &gc_rt.stats.pause_max_ns, t1 - e.t_stopped + tts);
    }
    stats_max(&gc_rt.stats.collection_last_ns, &gc_rt.stats.collection_max_ns, t1 - t0);
    pthread_mutex_unlock(&gc_rt.meta_lock);
    gc_exclusive_end(&e);
    /* a slow-path event for the allocator's decay: this thread's empty
     * arenas that stayed unused for the decay period go back to the OS
     * (mem/obmalloc.c); after the pause, not inside it */
    _grt_mem_release_decayed();

    if (debug & GRT_GC_DEBUG_STATS)
        fprintf(stderr, "gc: done, %" PRId64 " unreachable, %" PRId64 " uncollectable, "
                "%.4fs elapsed\n", r.collected + r.uncollectable, r.uncollectable,
                (double)(_grt_now_ns() - t0) / 1e9);
    info.collected = r.collected;
    info.uncollectable = r.uncollectable;
    invoke_callbacks(GRT_GC_STOP, &info);
    grt_atomic_store_32(&gc_rt.xcollecting, 0);
    return r.collected + r.uncollectable;
}

/* The automatic choice of generation (lock held); returns the generation
 * collected, -1 if none was due. */
static int collect_generations(void)
{
    int64_t count[GRT_GC_NGENERATIONS];
    grt_gc_get_count(count);
    for (int i = GRT_GC_NGENERATIONS - 1; i >= 0; i--) {
        if (count[i] <= (int64_t)grt_atomic_load_32(&gc_rt.xthreshold[i]))
            continue;
        if (i == GRT_GC_NGENERATIONS - 1 &&
            gc_rt.long_lived_pending < gc_rt.long_lived_total / 4)
            continue;                   /* the 25% rule */
        gc_collect_main(i);
        return i;
    }
    return -1;
}

int _grt_gc_collect_auto(void)
{
    GRT_REQUIRE_ATTACHED();
    if (gc_tls_lock_held)
        return -1;
    gc_lock_acquire();
    int gen = collect_generations();
    gc_lock_release();
    return gen;
}

void _grt_gc_on_safepoint(grt_tstate *ts)
{
    gc_tstate *g = ts->gc;
    bool compact = g && gc_young_too_holey(g);
    if (g)
        g->requested = false;
    if (gc_tls_lock_held || !grt_atomic_load_32(&gc_rt.xenabled) ||
        grt_atomic_load_32(&gc_rt.xcollecting))
        return;
    int64_t t0 = grt_atomic_load_32(&gc_rt.xthreshold[0]);
    bool due = t0 > 0 && gc_count0() > t0;
    if (!due && !compact)
        return;                         /* someone collected meanwhile */
    /* busy: another thread is collecting, which serves this request too */
    if (pthread_mutex_trylock(&gc_rt.lock) != 0)
        return;
    gc_tls_lock_held = 1;
    /* a request for holes (gc/space.c) that the counts do not call for
     * collects generation 0, which compacts every young space (unless
     * another thread's collection did meanwhile) */
    if (collect_generations() < 0 && compact && gc_young_too_holey(g))
        gc_collect_main(0);
    gc_lock_release();
}

/* ---- the API ---------------------------------------------------------------------------------------- */

int64_t grt_gc_collect(int generation)
{
    if (generation < 0 || generation >= GRT_GC_NGENERATIONS) {
        grt_err_set(GRT_ERR_VALUE, "grt_gc_collect: invalid generation %d (expected 0, 1 or 2)",
                    generation);
        return -1;
    }
    GRT_REQUIRE_ATTACHED();
    if (gc_tls_lock_held)
        return 0;                       /* called from a finalizer or callback of a collection */
    gc_lock_acquire();
    int64_t n = gc_collect_main(generation);
    gc_lock_release();
    return n;
}

void grt_gc_enable(void) { grt_atomic_store_32(&gc_rt.xenabled, 1); }
void grt_gc_disable(void) { grt_atomic_store_32(&gc_rt.xenabled, 0); }
int grt_gc_isenabled(void) { return (int)grt_atomic_load_32(&gc_rt.xenabled); }

int grt_gc_set_threshold(int64_t t0, int64_t t1, int64_t t2)
{
    int64_t t[GRT_GC_NGENERATIONS] = { t0, t1, t2 };
    for (int i = 0; i < GRT_GC_NGENERATIONS; i++)
        if (t[i] < 0 || t[i] > INT32_MAX) {
            grt_err_set(GRT_ERR_VALUE, "grt_gc_set_threshold: threshold %d must be between 0 "
                        "and %d, got %" PRId64, i, INT32_MAX, t[i]);
            return -1;
        }
    for (int i = 0; i < GRT_GC_NGENERATIONS; i++)
        grt_atomic_store_32(&gc_rt.xthreshold[i], (uint32_t)t[i]);
    return 0;
}

void grt_gc_get_threshold(int64_t out[GRT_GC_NGENERATIONS])
{
    for (int i = 0; i < GRT_GC_NGENERATIONS; i++)
        out[i] = grt_atomic_load_32(&gc_rt.xthreshold[i]);
}

void grt_gc_get_count(int64_t out[GRT_GC_NGENERATIONS])
{
    out[0] = gc_count0();
    pthread_mutex_lock(&gc_rt.meta_lock);
    out[1] = gc_rt.count[1];
    out[2] = gc_rt.count[2];
    pthread_mutex_unlock(&gc_rt.meta_lock);
}

int grt_gc_get_stats(grt_gc_stats *out)
{
    if (GRT_CHECK_ARG(out) < 0)
        return -1;
    pthread_mutex_lock(&gc_rt.meta_lock);
    *out = gc_rt.stats;
    pthread_mutex_unlock(&gc_rt.meta_lock);
    return 0;
}

int grt_gc_set_debug(unsigned flags)
{
    unsigned known = GRT_GC_DEBUG_STATS | GRT_GC_DEBUG_LEAK;
    if (flags & ~known) {
        grt_err_set(GRT_ERR_VALUE, "grt_gc_set_debug: unknown flag bits 0x%x (known: STATS 0x%x, "
                    "COLLECTABLE 0x%x, UNCOLLECTABLE 0x%x, SAVEALL 0x%x)", flags & ~known,
                    GRT_GC_DEBUG_STATS, GRT_GC_DEBUG_COLLECTABLE, GRT_GC_DEBUG_UNCOLLECTABLE,
                    GRT_GC_DEBUG_SAVEALL);
        return -1;
    }
    if ((flags & GRT_GC_DEBUG_SAVEALL) && !grt_gc_garbage())
        return -1;                      /* the list must exist before a collection needs it */
    grt_atomic_store_32(&gc_rt.xdebug, flags);
    return 0;
}

unsigned grt_gc_get_debug(void) { return grt_atomic_load_32(&gc_rt.xdebug); }

grt_object *grt_gc_garbage(void)
{
    GRT_REQUIRE_ATTACHED();
    pthread_mutex_lock(&gc_rt.meta_lock);
    if (!gc_rt.garbage)
        gc_rt.garbage = grt_list_new(0);
    grt_object *g = gc_rt.garbage;
    pthread_mutex_unlock(&gc_rt.meta_lock);
    return g;
}

/* ---- start and end ----------------------------------------------------------------------------- */

int _grt_gc_init(const grt_config *cfg)
{
    for (int i = 0; i < GRT_GC_NGENERATIONS; i++)
        if (cfg->gc_threshold[i] < 0) {
            grt_err_set(GRT_ERR_VALUE, "grt_init: gc_threshold[%d] must be >= 0, got %d",
                        i, cfg->gc_threshold[i]);
            return -1;
        }
    GRT_ASSERT(!gc_rt.threads && !gc_rt.old[0].head && !gc_rt.old[1].head &&
               !gc_rt.permanent.head && !gc_rt.orphans.head);
    grt_atomic_store_64(&_grt_gc_xcount0, 0);
    memset(gc_rt.count, 0, sizeof gc_rt.count);
    for (int i = 0; i < GRT_GC_NGENERATIONS; i++)
        grt_atomic_store_32(&gc_rt.xthreshold[i], (uint32_t)cfg->gc_threshold[i]);
    grt_atomic_store_32(&gc_rt.xenabled, cfg->gc_enabled ? 1 : 0);
    grt_atomic_store_32(&gc_rt.xcollecting, 0);
    grt_atomic_store_32(&gc_rt.xdebug, 0);
    gc_rt.long_lived_total = gc_rt.long_lived_pending = 0;
    gc_rt.old_tag = GC_OLD_TAG_A;
    memset(&gc_rt.stats, 0, sizeof gc_rt.stats);
    gc_rt.ncallbacks = 0;
    gc_rt.garbage = NULL;
    gc_rt.finalized = 0;
    return 0;
}
