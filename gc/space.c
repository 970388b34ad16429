/*
 * gc/space.c — where tracked objects live (the spaces of gc/gc_impl.h),
 * tracking and untracking, allocation counting, the per-thread hooks, and
 * the collector lock.
 *
 * Generation 0's count.  CPython counts container allocations minus
 * deallocations in one integer under the GIL.  Here every thread counts in
 * its own gc_tstate.xdelta and adds it to _grt_gc_xcount0 (an atomic add)
 * once it reaches ±GC_COUNT_FLUSH, so GIL-off threads allocating
 * containers do not all write one cache line.  The threshold check reads the
 * global count plus the thread's own delta; the other threads' unflushed
 * deltas (fewer than GC_COUNT_FLUSH each) are ignored there but included in
 * grt_gc_get_count.  A free is not counted when the count (global plus the
 * thread's delta) is already zero, as in CPython.  Frees are counted by the
 * inline path of gc/gc_internal.h (_grt_gc_count_free), which does what
 * gc_count_add(-1) does.
 */
#include "gc_impl.h"

#define GC_COUNT_FLUSH _GRT_GC_COUNT_FLUSH   /* shared with the inline free path */
#define GC_POOL_MAX 64

uint64_t _grt_gc_xcount0;               /* generation 0's flushed count */

gc_runtime gc_rt = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .space_lock = PTHREAD_MUTEX_INITIALIZER,
    .meta_lock = PTHREAD_MUTEX_INITIALIZER,
};

__thread int gc_tls_lock_held GRT_TLS_IE;
/* This thread stopped the world through gc_exclusive_begin (nesting):
 * gc/gc_internal.h. */
__thread int _grt_gc_exclusive GRT_TLS_IE;

/* ---- segments and spaces ------------------------------------------------------------- */

/* Spare segments wait in the pool.  Segments given back go there, all of
 * them: a collection that frees a big heap gives back thousands, and the
 * program usually tracks as many new objects soon after, so freeing them
 * inside the pause only to allocate them again is waste (glibc trims its
 * heap on such frees: system calls).  gc_pool_trim, at the start of every
 * collection, frees what exceeds as many as are in use (at least
 * GC_POOL_MAX): a collection appends its survivors to fresh segments before
 * it releases the old ones, so a heap of n objects wants about twice its
 * table for a moment, every collection. */
gc_seg *gc_seg_get(void)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    gc_seg *s = gc_rt.pool;
    if (s) {
        gc_rt.pool = s->next;
        gc_rt.npool--;
    }
    gc_rt.nsegs_used++;
    pthread_mutex_unlock(&gc_rt.space_lock);
    if (!s && !(s = malloc(sizeof *s)))
        _grt_fatal("gc: out of memory for a segment of the tracked-object table");
    s->next = NULL;
    s->n = 0;
    return s;
}

/* Give back the chain first..last of n segments. */
static void seg_put_chain(gc_seg *first, gc_seg *last, int64_t n)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    gc_rt.nsegs_used -= n;
    last->next = gc_rt.pool;
    gc_rt.pool = first;
    gc_rt.npool += n;
    pthread_mutex_unlock(&gc_rt.space_lock);
}

void gc_seg_put(gc_seg *s)
{
    seg_put_chain(s, s, 1);
}

void gc_pool_trim(void)
{
    gc_seg *excess = NULL;
    pthread_mutex_lock(&gc_rt.space_lock);
    int64_t keep = gc_rt.nsegs_used > GC_POOL_MAX ? gc_rt.nsegs_used : GC_POOL_MAX;
    while (gc_rt.npool > keep) {
        gc_seg *s = gc_rt.pool;
        gc_rt.pool = s->next;
        gc_rt.npool--;
        s->next = excess;
        excess = s;
    }
    pthread_mutex_unlock(&gc_rt.space_lock);
    while (excess) {
        gc_seg *next = excess->next;
        free(excess);
        excess = next;
    }
}

void gc_space_grow(gc_space *sp)
{
    gc_seg *s = gc_seg_get();
    if (sp->tail) sp->tail->next = s; else sp->head = s;
    sp->tail = s;
}

void gc_space_splice(gc_space *to, gc_space *from)
{
    if (!from->head)
        return;
    if (to->tail) to->tail->next = from->head; else to->head = from->head;
    to->tail = from->tail;
    from->head = from->tail = NULL;
}

int64_t gc_space_count(const gc_space *sp)
{
    int64_t n = 0;
    GC_SPACE_FOREACH(sp, s, i)
        n += s->slot[i] != NULL;
    return n;
}

void gc_space_set_gen(gc_space *sp, int gen)
{
    GC_SPACE_FOREACH(sp, s, i)
        if (s->slot[i]) {
            uint64_t *p = gc_prev_word(s->slot[i]);
            *p = (*p & ~GC_GEN_MASK) | gc_gen_bits(gen);
        }
}

void gc_space_release(gc_space *sp)
{
    if (!sp->head)
        return;
    int64_t n = 0;
    for (gc_seg *s = sp->head; s; s = s->next)
        n++;
    seg_put_chain(sp->head, sp->tail, n);
    sp->head = sp->tail = NULL;
}

static void space_free_all(gc_space *sp)
{
    gc_seg *s = sp->head;
    while (s) {
        gc_seg *next = s->next;
        free(s);
        s = next;
    }
    sp->head = sp->tail = NULL;
}

/* ---- tracking ---------------------------------------------------------------------------- */

static inline gc_tstate *gc_self(void)
{
    grt_tstate *ts = _grt_tstate_current;
    return ts ? (gc_tstate *)ts->gc : NULL;
}

/* Holes.  Untracking clears an object's slot; the table is compacted by the
 * next collection.  The slot a thread filled last is given back at once
 * (_grt_gc_young_pop), which covers the common case of temporaries made and
 * dropped in LIFO order.  Other orders (a FIFO queue of containers) leave
 * holes while the generation-0 count, allocations minus deallocations,
 * stays low and never triggers a collection; so a thread whose young space
 * grew by GC_YOUNG_SEGS_MAX segments since the last collection asks for a
 * young collection (CPython's linked lists have no holes and need no such
 * rule).  That bounds the table at about 512 KiB per thread between
 * collections. */

__thread grt_object **_grt_gc_young_top GRT_TLS_IE;

void _grt_gc_young_pop(grt_object **slot)
{
    gc_tstate *g = gc_self();
    gc_seg *t = g ? g->young.tail : NULL;
    *slot = NULL;
    /* only this thread (or a collector, world stopped) changes its tail and
     * n; a stale hint fails this test and leaves an ordinary hole */
    if (t && t->n && slot == &t->slot[t->n - 1]) {
        t->n--;
        _grt_gc_young_top = t->n ? &t->slot[t->n - 1] : NULL;
    } else {
        _grt_gc_young_top = NULL;
    }
}

/* Ask for a collection at g's thread's next safepoint (gc_count_add: the
 * count passed threshold 0; track_append: too many holes), unless one is
 * pending, collection is off, or one runs. */
static void gc_request(gc_tstate *g)
{
    if (!g->requested && grt_atomic_load_32(&gc_rt.xenabled) &&
        !grt_atomic_load_32(&gc_rt.xcollecting)) {
        g->requested = true;
        _grt_breaker_set(g->ts, GRT_BREAK_GC);
    }
}

/* Put a just-tracked object on this thread's young space. */
static void track_append(grt_object *o)
{
    gc_tstate *g = gc_self();
    if (GRT_LIKELY(g)) {
        gc_seg *t = g->young.tail;
        gc_space_append(&g->young, o);
        _grt_gc_young_top = (grt_object **)_GRT_AS_GC(o)->gc_next;
        if (GRT_UNLIKELY(g->young.tail != t)) {     /* a new segment */
            g->young_segs++;
            if (gc_young_too_holey(g))
                gc_request(g);
        }
        return;
    }
    pthread_mutex_lock(&gc_rt.space_lock);   /* no thread state: rare (teardown) */
    gc_space_append(&gc_rt.orphans, o);
    pthread_mutex_unlock(&gc_rt.space_lock);
}

void _grt_gc_track(grt_object *o)
{
    /* The creator's object, not yet shared: a plain update suffices. */
    uint64_t f = grt_atomic_load_64(gc_prev_word(o));
    GRT_ASSERT(gc_is_gc(o));
    if (f & GC_TRACKED)
        _grt_fatal("gc: %s object at %p tracked twice", o->ob_type->tp_name, (void *)o);
    grt_atomic_store_64(gc_prev_word(o), (f & GC_STICKY_FLAGS) | GC_TRACKED);   /* generation 0 */
    track_append(o);
}

/* Track o unless it is tracked: safe against a concurrent caller doing the
 * same (two threads storing into one dict).  Returns 1 if this call tracked. */
static int track_if_untracked(grt_object *o)
{
    uint64_t f = grt_atomic_load_64(gc_prev_word(o));
    do {
        if (f & GC_TRACKED)
            return 0;
    } while (!grt_atomic_cas_64(gc_prev_word(o), &f, (f & GC_STICKY_FLAGS) | GC_TRACKED));
    track_append(o);
    return 1;
}

int _grt_gc_may_be_tracked(grt_object *o)
{
    if (!gc_is_gc(o))
        return 0;
    if (o->ob_type == &grt_tuple_type)
        return _grt_gc_is_tracked(o);
    return 1;               /* an untracked dict or list may become tracked */
}

void _grt_gc_dict_maybe_track(grt_object *d, int may)
{
    if (may && !_grt_gc_is_tracked(d))
        track_if_untracked(d);
}

int grt_gc_is_tracked(grt_object *o)
{
    return o && gc_is_gc(o) && _grt_gc_is_tracked(o);
}

/* grt_gc_track/untrack's argument: a container object; -1 with the error
 * set naming func otherwise. */
static int gc_check_container(grt_object *o, const char *func)
{
    if (!o)
        return grt_err_set(GRT_ERR_TYPE, "%s: argument 'o' is NULL", func), -1;
    if (!gc_is_gc(o)) {
        grt_err_set(GRT_ERR_TYPE, "%s: %s objects are not containers the collector can track",
                    func, o->ob_type->tp_name);
        return -1;
    }
    return 0;
}

int grt_gc_track(grt_object *o)
{
    if (gc_check_container(o, __func__) < 0)
        return -1;
    GRT_REQUIRE_ATTACHED();
    track_if_untracked(o);
    return 0;
}

int grt_gc_untrack(grt_object *o)
{
    if (gc_check_container(o, __func__) < 0)
        return -1;
    GRT_REQUIRE_ATTACHED();
    if (gc_flags(o) & GC_IMMORTALIZED) {    /* grt_fini frees it from the table */
        grt_err_set(GRT_ERR_VALUE, "grt_gc_untrack: the %s object was made immortal by "
                    "grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL) and stays tracked until grt_fini "
                    "frees it", o->ob_type->tp_name);
        return -1;
    }
    _grt_gc_untrack(o);
    return 0;
}

int grt_gc_is_finalized(grt_object *o)
{
    return o && gc_is_gc(o) && (gc_flags(o) & GC_FINALIZED) != 0;
}

/* ---- allocation and the generation-0 count ------------------------------------------------- */

void gc_count_add(int d)
{
    grt_tstate *ts = _grt_tstate_current;
    gc_tstate *g = ts ? (gc_tstate *)ts->gc : NULL;
    if (GRT_UNLIKELY(!g)) {
        grt_atomic_faa_64(&_grt_gc_xcount0, (uint64_t)(int64_t)d);
        return;
    }
    /* only this thread writes xdelta outside a collection: relaxed load + store */
    int64_t v = (int64_t)grt_atomic_load_64(&g->xdelta) + d;
    /* As CPython's, the count never goes below zero: freeing objects older
     * than the last collection does not make room for new ones.  (Exact for
     * one thread; with several, against the flushed count.) */
    if (d < 0 && v < 0 && (int64_t)grt_atomic_load_64(&_grt_gc_xcount0) + v < 0)
        return;
    if (v >= GC_COUNT_FLUSH || v <= -GC_COUNT_FLUSH) {
        grt_atomic_faa_64(&_grt_gc_xcount0, (uint64_t)v);
        v = 0;
    }
    grt_atomic_store_64(&g->xdelta, (uint64_t)v);
    if (d <= 0 || g->requested)
        return;
    int64_t t0 = grt_atomic_load_32(&gc_rt.xthreshold[0]);
    if (t0 > 0 && (int64_t)grt_atomic_load_64(&_grt_gc_xcount0) + v > t0)
        gc_request(g);                  /* collected at the next safepoint */
}

int64_t gc_count0(void)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    int64_t n = (int64_t)grt_atomic_load_64(&_grt_gc_xcount0);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        n += (int64_t)grt_atomic_load_64(&g->xdelta);
    pthread_mutex_unlock(&gc_rt.space_lock);
    return n < 0 ? 0 : n;
}

void gc_count0_reset(void)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    grt_atomic_store_64(&_grt_gc_xcount0, 0);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        grt_atomic_store_64(&g->xdelta, 0);
    pthread_mutex_unlock(&gc_rt.space_lock);
}

grt_object *_grt_gc_alloc(size_t size)
{
    grt_gc_head *g = _grt_mem_alloc(sizeof(grt_gc_head) + size);
    if (GRT_UNLIKELY(!g))
        return NULL;
    g->gc_next = 0;
    g->gc_prev = 0;
    gc_count_add(1);
    return _GRT_FROM_GC(g);
}

void _grt_gc_count_free_stray(void)
{
    gc_count_add(-1);
}

void gc_take_young(gc_space *to)
{
    GRT_ASSERT(_grt_world_is_stopped());
    pthread_mutex_lock(&gc_rt.space_lock);
    gc_space_splice(to, &gc_rt.orphans);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next) {
        gc_space_splice(to, &g->young);
        g->young_segs = 0;
    }
    pthread_mutex_unlock(&gc_rt.space_lock);
}

/* ---- threads -------------------------------------------------------------------------------- */

void _grt_gc_thread_init(grt_tstate *ts)
{
    gc_tstate *g = aligned_alloc(_Alignof(gc_tstate), sizeof *g);   /* a multiple of its alignment */
    if (!g)
        _grt_fatal("gc: out of memory for a thread's collector state");
    memset(g, 0, sizeof *g);
    g->ts = ts;
    pthread_mutex_lock(&gc_rt.space_lock);
    g->next = gc_rt.threads;
    if (g->next) g->next->prev = g;
    gc_rt.threads = g;
    pthread_mutex_unlock(&gc_rt.space_lock);
    ts->gc = g;
}

/* Hand g's young objects and count over, unlink it.  space_lock held. */
static void thread_retire_locked(gc_tstate *g)
{
    if (gc_rt.finalized) {
        /* after _grt_gc_fini nothing is tracked: the segments are empty */
        space_free_all(&g->young);
    } else {
        gc_space_splice(&gc_rt.orphans, &g->young);
    }
    grt_atomic_faa_64(&_grt_gc_xcount0, grt_atomic_load_64(&g->xdelta));
    if (g->prev) g->prev->next = g->next; else gc_rt.threads = g->next;
    if (g->next) g->next->prev = g->prev;
}

void _grt_gc_thread_fini(grt_tstate *ts)
{
    gc_tstate *g = ts->gc;
    if (!g)
        return;
    pthread_mutex_lock(&gc_rt.space_lock);
    thread_retire_locked(g);
    pthread_mutex_unlock(&gc_rt.space_lock);
    ts->gc = NULL;
    free(g);
}

void _grt_gc_fork_child(grt_tstate *ts)
{
    /* Only ts survives; the locks may have been held by threads that are
     * gone.  Their young objects still exist here: they become orphans. */
    pthread_mutex_init(&gc_rt.lock, NULL);
    pthread_mutex_init(&gc_rt.space_lock, NULL);
    pthread_mutex_init(&gc_rt.meta_lock, NULL);
    gc_tls_lock_held = 0;
    _grt_gc_exclusive = 0;
    grt_atomic_store_32(&gc_rt.xcollecting, 0);
    gc_tstate *g = gc_rt.threads;
    while (g) {
        gc_tstate *next = g->next;
        if (g->ts != ts) {
            thread_retire_locked(g);
            free(g);
        }
        g = next;
    }
    gc_weakref_fork_child();
}

/* ---- the collector lock ------------------------------------------------------------------------ */

void gc_lock_acquire(void)
{
    GRT_ASSERT(!gc_tls_lock_held);
    if (pthread_mutex_trylock(&gc_rt.lock) != 0) {
        /* Another thread collects, and will stop the world: be stopped
         * (detached) while we wait, or its pause would wait for us. */
        GRT_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&gc_rt.lock);
        GRT_END_ALLOW_THREADS;
    }
    gc_tls_lock_held = 1;
}

void gc_lock_release(void)
{
    GRT_ASSERT(gc_tls_lock_held);
    gc_tls_lock_held = 0;
    pthread_mutex_unlock(&gc_rt.lock);
}

void gc_exclusive_begin(gc_excl *e)
{
    e->took_lock = !gc_tls_lock_held;
    if (e->took_lock)
        gc_lock_acquire();
    e->stopped = !_grt_gc_exclusive;
    if (e->stopped) {
        _grt_stop_the_world();      /* with a GIL: only checks we hold it */
        _grt_gc_exclusive = 1;
    }
    e->t_stopped = _grt_now_ns();
    /* brc: counts queued to parked owners are merged before anyone reads them */
    _grt_brc_merge_all_queues();
}

void gc_exclusive_end(gc_excl *e)
{
    if (e->stopped) {
        _grt_gc_exclusive = 0;
        _grt_start_the_world();
    }
    if (e->took_lock)
        gc_lock_release();
}
