/*
 * gc/gc_internal.h — what the object core asks of the collector.  Internal.
 *
 * Container objects (GRT_TPFLAGS_GC) have a grt_gc_head in front of the
 * object header, as CPython's PyGC_Head.  The core allocates them through
 * _grt_gc_alloc, tracks them when they are fully built, untracks them before
 * it tears them down, and frees them through _grt_gc_free.
 *
 * The header's meaning belongs to gc/ (gc/gc_impl.h): gc_next is the address
 * of the object's slot in the collector's tables while it is tracked, and is
 * free for the core's trashcan once it is untracked; gc_prev holds flags
 * (tracked, finalized, ...), which survive untracking.
 */
#ifndef GRT_GC_INTERNAL_H
#define GRT_GC_INTERNAL_H

#include <stdint.h>

struct grt_tstate;

typedef struct grt_gc_head {
    uintptr_t gc_next;          /* tracked: address of the object's slot; else free */
    uintptr_t gc_prev;          /* flag bits and, while collecting, gc_refs (gc/) */
} grt_gc_head;

#define GRT_GC_HEAD_SIZE sizeof(grt_gc_head)
#define _GRT_AS_GC(o)   ((grt_gc_head *)(o) - 1)
#define _GRT_FROM_GC(g) ((grt_object *)((grt_gc_head *)(g) + 1))

/* Validate cfg's thresholds (ValueError) and reset the collector's state. */
int  _grt_gc_init(const grt_config *cfg);
/* Final teardown, main thread attached, every other thread exited: collect,
 * then clear and free every container still alive (leaked references
 * included), so that every object created is freed exactly once.  Returns
 * how many were still referenced from outside once everything else was
 * cleared (grt_object_counts' unreleased). */
uint64_t _grt_gc_fini(void);
/* ts is registered, not yet attached / about to detach for good. */
void _grt_gc_thread_init(struct grt_tstate *ts);
void _grt_gc_thread_fini(struct grt_tstate *ts);
/* In the fork child, while the dead threads' states are still listed. */
void _grt_gc_fork_child(struct grt_tstate *ts);

/* Memory for a GC object of `size` bytes (header included): the collector
 * header is zeroed, the object is not tracked.  Counts one allocation for
 * generation 0 and may request a collection (GRT_BREAK_GC) for the next
 * safepoint; never collects.  NULL on failure (no error set). */
grt_object *_grt_gc_alloc(size_t size);
/* Free the memory of an untracked GC object; counts one deallocation
 * (inline, below). */
static inline void _grt_gc_free(grt_object *o);

/* Track a fully built object that this thread alone can see yet (fatal if
 * it is tracked already). */
void _grt_gc_track(grt_object *o);
/* Untrack (nothing if untracked).  Any thread may untrack an object it is
 * deallocating, whichever thread tracked it.  Inline, below. */
static inline void _grt_gc_untrack(grt_object *o);
static inline int  _grt_gc_is_tracked(grt_object *o);
/* A dict that holds only untracked values is itself untracked.  When a
 * key or value is stored in dict d: may = _grt_gc_may_be_tracked of it,
 * asked while the caller still holds its own reference (once stored, another
 * thread may delete it from d and free it); then this tracks d if may.  Safe
 * against another thread doing the same for the same dict. */
void _grt_gc_dict_maybe_track(grt_object *d, int may);
/* 1 if o could take part in a cycle: a container, except a tuple that is
 * not tracked. */
int  _grt_gc_may_be_tracked(grt_object *o);

/* At a safepoint with GRT_BREAK_GC set: run the pending collection (unless
 * another thread is collecting). */
void _grt_gc_on_safepoint(struct grt_tstate *ts);
/* Run the collection the automatic policy would choose now (the 25% rule
 * included); returns the generation collected, or -1 if none is due.  For
 * tests and tools. */
int  _grt_gc_collect_auto(void);

/* Walk every generation and check the collector's invariants (gc/invariants.c);
 * returns the number of problems found, printing the first ones to stderr.
 * Call outside a collection. */
int64_t _grt_gc_check(void);

/* Called by the deallocator for a type with tp_finalize, the count at 0:
 * runs the finalizer unless it already ran (PEP 442), then releases the
 * temporary reference it gave the object.  Returns 1 when the deallocation
 * must stop here — the finalizer resurrected the object, or the object was
 * already freed by a nested deallocation when that reference went — and o
 * must not be touched again; 0 to go on. */
int  _grt_gc_finalize_from_dealloc(grt_object *o);
/* Clear the weak references to o and run their callbacks (o's count is 0).
 * The core may call it whenever the type has tp_weaklistoffset; it returns
 * at once if the list is empty.  The list head is changed by other threads
 * (weakrefs dying): read it only with grt_atomic_load_ptr. */
void _grt_weakrefs_clear_on_dealloc(grt_object *o);

/* ---- the inline paths every deallocation takes ----------------------------------------
 * A collection that frees a million objects runs these a million times, so
 * they are inline here rather than calls into gc/.  What they rely on, from
 * gc/gc_impl.h (which static-asserts that these values are its own):
 *   - gc_prev bit 0 is TRACKED; bits 1 and 4 (FINALIZED, IMMORTALIZED) are
 *     the only ones that outlive untracking;
 *   - a tracked object's gc_next is the address of its slot, which only the
 *     thread deallocating the object writes outside a collection;
 *   - generation 0's count is _grt_gc_xcount0 plus each thread's unflushed
 *     delta, the first field of its collector data (ts->gc), written only by
 *     that thread (or with the world stopped); the count is never taken
 *     below zero by a free (CPython's rule). */
#define _GRT_GC_TRACKED      ((uint64_t)1 << 0)
#define _GRT_GC_STICKY_FLAGS (((uint64_t)1 << 1) | ((uint64_t)1 << 4))
#define _GRT_GC_COUNT_FLUSH  32

extern uint64_t _grt_gc_xcount0;            /* atomic */

static inline uint64_t *_grt_gc_prev_word(grt_object *o)
{
    return (uint64_t *)&_GRT_AS_GC(o)->gc_prev;
}

/* The slot of this thread's young space it filled last, or NULL (a hint:
 * _grt_gc_young_pop checks it against the space). */
extern __thread grt_object **_grt_gc_young_top __attribute__((tls_model("initial-exec")));
void _grt_gc_young_pop(grt_object **slot);

/* 1 while this thread runs a collection with every other thread excluded
 * (the world stopped, or the GIL held): from gc_exclusive_begin to
 * gc_exclusive_end (gc/space.c).  User code the collection runs
 * (finalizers, callbacks) may detach this thread meanwhile, but a detached
 * thread touches no object, and it attaches again only into the same
 * exclusion (the world is still stopped, or it takes the GIL back). */
extern __thread int _grt_gc_exclusive __attribute__((tls_model("initial-exec")));

/* grt_xdecref for a container dropping the references it holds (its
 * tp_clear or tp_dealloc): during a collection that excludes every other
 * thread, the strategy's exclusive decref (atomic: no lock prefix; a
 * collection freeing cycles spends most of its time in such decrefs). */
static inline void _grt_gc_xdecref_held(grt_object *o)
{
    if (!o)
        return;
#ifdef GRT_RC_DECREF_EXCL_DIFFERS
    if (_grt_gc_exclusive) {            /* elsewhere the two are one: no TLS load */
        _grt_rc_decref_excl(o);
        return;
    }
#endif
    _grt_rc_decref(o);
}

static inline int _grt_gc_is_tracked(grt_object *o)
{
    return (grt_atomic_load_64(_grt_gc_prev_word(o)) & _GRT_GC_TRACKED) != 0;
}

static inline void _grt_gc_untrack(grt_object *o)
{
    uint64_t *w = _grt_gc_prev_word(o);
    uint64_t f = grt_atomic_load_64(w);
    if (!(f & _GRT_GC_TRACKED))
        return;
    grt_gc_head *g = _GRT_AS_GC(o);
    /* The slot is ours to clear: nobody else writes it outside a collection
     * (gc/gc_impl.h), and a collection stops this thread first.  The slot
     * this thread filled last is given back instead of left as a hole
     * (_grt_gc_young_pop), so that containers made and dropped in LIFO order
     * do not grow the young table between collections. */
    grt_object **slot = (grt_object **)g->gc_next;
    if (slot == _grt_gc_young_top)
        _grt_gc_young_pop(slot);
    else
        *slot = NULL;
    g->gc_next = 0;
    grt_atomic_store_64(w, f & _GRT_GC_STICKY_FLAGS);
}

/* Count a free for generation 0 where the thread has no collector data
 * (gc/space.c). */
void _grt_gc_count_free_stray(void);

static inline void _grt_gc_count_free(void)
{
    grt_tstate *ts = _grt_tstate_current;
    uint64_t *xdelta = ts ? (uint64_t *)ts->gc : NULL;
    if (GRT_UNLIKELY(!xdelta)) {
        _grt_gc_count_free_stray();
        return;
    }
    /* only this thread writes its delta outside a collection: relaxed load + store */
    int64_t v = (int64_t)grt_atomic_load_64(xdelta) - 1;
    if (v < 0 && (int64_t)grt_atomic_load_64(&_grt_gc_xcount0) + v < 0)
        return;                         /* never below zero */
    if (GRT_UNLIKELY(v <= -_GRT_GC_COUNT_FLUSH)) {
        grt_atomic_faa_64(&_grt_gc_xcount0, (uint64_t)v);
        v = 0;
    }
    grt_atomic_store_64(xdelta, (uint64_t)v);
}

static inline void _grt_gc_free(grt_object *o)
{
    GRT_ASSERT(!_grt_gc_is_tracked(o));
    _grt_gc_count_free();
    _grt_mem_free(_GRT_AS_GC(o));
}

#endif
