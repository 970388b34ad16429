/*
 * gc/gc_impl.h — what the collector's own files share.  Private to gc/.
 *
 * Which list every tracked object is on.  A tracked container is in exactly
 * one *space*, a chain of segments (arrays of object pointers), and its
 * collector header's gc_next holds the address of its slot there:
 *
 *   young     one space per thread (gc_tstate.young): the objects that thread
 *             tracked since the last collection.  Appended to by that thread
 *             only, without a lock (it is attached; collections stop it).
 *   orphans   the young objects of threads that exited (under space_lock).
 *   old[0]    generation 1: survivors of one young collection.
 *   old[1]    generation 2: survivors of a generation-1 collection (and of
 *             full collections).
 *   permanent frozen objects (grt_gc_freeze): never examined by a
 *             collection, never written by one.
 *
 * Untracking stores NULL into the object's slot: one plain store, done by
 * whichever thread frees the object, with no lock, because nobody else
 * writes that slot outside a collection (the owner thread only writes slots
 * past its last one; collections run with the world stopped).  Holes are
 * squeezed out when a collection walks the space.
 *
 * How objects move between generations.  A collection of generation g
 * (with the world stopped, the collector lock held) takes the spaces of
 * generations 0..g as its work set, finds what is unreachable, and appends
 * the survivors to generation min(g + 1, 2); the unreachable ones stay in the
 * work set's segments, compacted, as a private space for the rest of the
 * collection (gc/collect.c).  Every object's slot address is rewritten as it
 * moves, before any user code (finalizers, weakref callbacks, tp_clear)
 * runs, so that untracking works the same during a collection as outside it.
 *
 * gc_prev holds flag bits (GC_*, below), the tag of the generation whose
 * space the object is in (so that a collection can tell its work set from
 * older objects without a pass to mark it) and, during a collection, the
 * number of references to the object from the work set.  All but
 * GC_STICKY_FLAGS are zero whenever the object is untracked, and all but
 * those, GC_TRACKED and the tag whenever no collection runs (gc/invariants.c
 * checks it).  It is written by the thread that owns the object exclusively
 * (creation, deallocation) or by the collector while the world is stopped;
 * the one racy writer, a dict being tracked by two threads storing into it
 * at once, sets GC_TRACKED with a CAS.  The trashcan of runtime/object.c
 * reuses gc_next once the object is untracked, so no flag lives there.
 */
#ifndef GRT_GC_IMPL_H
#define GRT_GC_IMPL_H

#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include <inttypes.h>

/* ---- gc_prev: flag bits, generation, internal reference count ------------------------ */
#define GC_TRACKED      ((uint64_t)1 << 0)  /* in a space; gc_next is its slot */
#define GC_FINALIZED    ((uint64_t)1 << 1)  /* tp_finalize ran (PEP 442): never again */
#define GC_COLLECTING   ((uint64_t)1 << 2)  /* found unreachable by the running collection */
#define GC_REACHABLE    ((uint64_t)1 << 3)  /* reached ahead of the running collection's walk,
                                               left for it (a full mark stack) */
#define GC_IMMORTALIZED ((uint64_t)1 << 4)  /* made immortal by freeze; mortal again at fini */
#define GC_SCANNED      ((uint64_t)1 << 5)  /* passed by the running collection's mark walk */
#define GC_REFERS       ((uint64_t)1 << 6)  /* refers to a member of the running collection's
                                               work set (else a leaf: traversed only once) */
#define GC_COUNTED      ((uint64_t)1 << 7)  /* traversed by the running collection's step 1 */
#define GC_GEN_SHIFT    8                   /* bits 8-10: the generation's tag, below */
#define GC_GEN_MASK     ((uint64_t)7 << GC_GEN_SHIFT)
#define GC_REFS_SHIFT   16                  /* bits 16-63: references from the work set */
#define GC_REFS_ONE     ((uint64_t)1 << GC_REFS_SHIFT)
/* What survives a collection and untracking: the rest is the collection's scratch. */
#define GC_STICKY_FLAGS (GC_FINALIZED | GC_IMMORTALIZED)
/* Generation tags: 0 young, 1 generation 1, and generation 2 is called
 * GC_OLD_TAG_A or _B in turn: a full collection gives its survivors the
 * other tag, so that it can tell the objects it has finished with from
 * those still to be examined without another pass over them. */
#define GC_OLD_TAG_A    2
#define GC_OLD_TAG_B    3
#define GC_PERMANENT_GEN 4

/* The inline paths of gc/gc_internal.h use these bits under their own names. */
_Static_assert(_GRT_GC_TRACKED == GC_TRACKED, "gc_internal.h's TRACKED bit is gc_impl.h's");
_Static_assert(_GRT_GC_STICKY_FLAGS == GC_STICKY_FLAGS, "gc_internal.h's sticky bits are gc_impl.h's");

static inline uint64_t gc_gen_bits(int gen) { return (uint64_t)gen << GC_GEN_SHIFT; }
static inline int gc_gen_of(uint64_t f) { return (int)((f & GC_GEN_MASK) >> GC_GEN_SHIFT); }

static inline grt_gc_head *gc_head(grt_object *o) { return _GRT_AS_GC(o); }
static inline uint64_t *gc_prev_word(grt_object *o) { return (uint64_t *)&_GRT_AS_GC(o)->gc_prev; }
static inline uint64_t gc_flags(grt_object *o) { return grt_atomic_load_64(gc_prev_word(o)); }
static inline int gc_is_gc(const grt_object *o) { return (o->ob_type->tp_flags & GRT_TPFLAGS_GC) != 0; }

/* ---- spaces ---------------------------------------------------------------------------- */
#define GC_SEG_SLOTS 1022                   /* 8 KiB segments */
#define GC_YOUNG_SEGS_MAX 64                /* see the holes in gc/space.c */

typedef struct gc_seg {
    struct gc_seg *next;
    uint32_t n;                             /* slots used (holes included) */
    uint32_t pad;
    grt_object *slot[GC_SEG_SLOTS];         /* NULL: a hole left by untracking */
} gc_seg;

typedef struct gc_space {
    gc_seg *head, *tail;
} gc_space;

/* Add an empty segment at the end of sp. */
void gc_space_grow(gc_space *sp);
/* Append o to sp and point o's gc_next at its slot (caller may write sp). */
static inline void gc_space_append(gc_space *sp, grt_object *o)
{
    if (GRT_UNLIKELY(!sp->tail || sp->tail->n == GC_SEG_SLOTS))
        gc_space_grow(sp);
    gc_seg *t = sp->tail;
    grt_object **slot = &t->slot[t->n++];
    *slot = o;
    _GRT_AS_GC(o)->gc_next = (uintptr_t)slot;
}
/* Move every segment of from to the end of to; from becomes empty. */
void gc_space_splice(gc_space *to, gc_space *from);
/* Live objects in sp (walks it). */
int64_t gc_space_count(const gc_space *sp);
/* Record `gen` in the header of every object of sp (world stopped). */
void gc_space_set_gen(gc_space *sp, int gen);
/* Give every segment back; sp becomes empty. */
void gc_space_release(gc_space *sp);
gc_seg *gc_seg_get(void);
void gc_seg_put(gc_seg *s);
/* Free the spare segments beyond what the pool keeps (gc/space.c). */
void gc_pool_trim(void);

#define GC_SPACE_FOREACH(sp, seg, i)                                            \
    for (gc_seg *seg = (sp)->head; seg; seg = seg->next)                        \
        for (uint32_t i = 0; i < seg->n; i++)

/* ---- per-thread data (tstate->gc) ----------------------------------------------------- */
/* Each on its own cache lines (aligned_alloc in gc/space.c): xdelta is
 * written at every container allocation and free, and two threads' states
 * next to each other in malloc's heap would share a line. */
typedef struct gc_tstate {
    /* allocations - frees not yet added to _grt_gc_xcount0, atomic; first,
     * for the inline free path of gc/gc_internal.h */
    _Alignas(64) uint64_t xdelta;
    gc_space young;                 /* written by this thread, or by a collector (world stopped) */
    bool requested;                 /* GRT_BREAK_GC set and not yet serviced */
    uint32_t young_segs;            /* segments added to young since the last collection */
    struct gc_tstate *next, *prev;  /* gc_rt.threads, under space_lock */
    grt_tstate *ts;
} gc_tstate;
_Static_assert(offsetof(gc_tstate, xdelta) == 0, "the inline free path finds xdelta at ts->gc");
/* The young space grew by more segments since the last collection than its
 * holes are allowed to cost (gc/space.c): a young collection compacts it. */
static inline bool gc_young_too_holey(const gc_tstate *g)
{
    return g->young_segs > GC_YOUNG_SEGS_MAX;
}

/* ---- the collector's global state ------------------------------------------------------- */
typedef struct gc_callback_entry {
    grt_gc_callback fn;
    void *arg;
} gc_callback_entry;

typedef struct gc_runtime {
    /* One collection (or freeze, get_objects, ...) at a time.  Waited for
     * detached (gc_lock_acquire), so that a thread blocked here never holds
     * up the holder's stop-the-world pause. */
    pthread_mutex_t lock;
    /* The list of gc_tstates, the orphans space, the segment pool. */
    pthread_mutex_t space_lock;
    /* Callbacks, statistics: read by any thread, written under it. */
    pthread_mutex_t meta_lock;

    gc_tstate *threads;
    gc_space orphans;
    gc_space old[2];                /* generations 1 and 2 (world stopped / lock) */
    gc_space permanent;
    gc_seg *pool;                   /* spare segments, under space_lock */
    int64_t npool, nsegs_used;

    int64_t count[3];               /* [1], [2]: collections of the younger generation */
    uint32_t xthreshold[3];         /* atomic: read by the allocation path */
    uint32_t xenabled;              /* atomic */
    uint32_t xcollecting;           /* atomic: a collection is running */
    uint32_t xdebug;                /* atomic: GRT_GC_DEBUG_* */
    int64_t long_lived_total;       /* generation 2's size after the last full collection */
    int64_t long_lived_pending;     /* moved into generation 2 since */
    int old_tag;                    /* generation 2's tag now: GC_OLD_TAG_A or _B */

    grt_gc_stats stats;             /* under meta_lock */
    gc_callback_entry *callbacks;   /* under meta_lock */
    int ncallbacks, cap_callbacks;
    grt_object *garbage;            /* the list of DEBUG_SAVEALL objects */
    int finalized;                  /* _grt_gc_fini ran */
} gc_runtime;

extern gc_runtime gc_rt;

/* The calling thread holds gc_rt.lock (a collection runs on it). */
extern __thread int gc_tls_lock_held GRT_TLS_IE;

/* Take / release gc_rt.lock from an attached thread (waiting detached). */
void gc_lock_acquire(void);
void gc_lock_release(void);

/* Exclusive access to every space: the lock (unless held already) and the
 * world stopped (unless it is already, or a GIL excludes everyone), with
 * biased refcounts merged.  Pair with gc_exclusive_end. */
typedef struct gc_excl {
    bool took_lock, stopped;
    uint64_t t_stopped;
} gc_excl;
void gc_exclusive_begin(gc_excl *e);
void gc_exclusive_end(gc_excl *e);

/* Count one allocation (+1) or free (-1) of a GC object on this thread. */
void gc_count_add(int d);
/* Generation 0's count: allocations minus frees since its last collection. */
int64_t gc_count0(void);
/* Reset generation 0's count (world stopped or lock held with no other thread). */
void gc_count0_reset(void);

/* Detach every thread's young space and the orphans onto `to` (world stopped). */
void gc_take_young(gc_space *to);

/* ---- one collection (gc/collect.c) ------------------------------------------------------ */
typedef struct gc_result {
    int64_t collected;              /* unreachable objects found and released */
    int64_t uncollectable;
    int64_t candidates;             /* objects examined */
} gc_result;
/* Collect generation gen and the younger ones.  World stopped, lock held. */
void gc_collect_world_stopped(int gen, gc_result *r);
/* The full collection protocol: callbacks, debug output, stop the world,
 * statistics.  Lock held by the caller; returns the unreachable count. */
int64_t gc_collect_main(int gen);
/* Free the collector's buffers (teardown). */
void gc_collect_release_buffers(void);

/* ---- finalizers, errors (gc/finalize.c) -------------------------------------------------- */
/* Run o's tp_finalize if it has one and it has not run (world stopped,
 * caller holds a reference).  Returns 1 if it ran. */
int gc_finalize_once(grt_object *o);
/* Report and clear an error raised by user code the collector called
 * ("Exception ignored in <what>"), restoring the error that was set before. */
typedef struct gc_saved_error {
    grt_err_kind kind;
    char msg[256];
} gc_saved_error;
void gc_error_save(gc_saved_error *s);
void gc_error_report_restore(gc_saved_error *s, const char *what, grt_object *o);

/* ---- weak references (gc/weakref.c) ----------------------------------------------------- */
/* Clear every weakref to o (world stopped, by the collector): each reachable
 * weakref with a callback is increfed and appended to *calls. */
typedef struct gc_objvec {
    grt_object **v;
    size_t n, cap;
} gc_objvec;
int gc_objvec_push(gc_objvec *vec, grt_object *o);
void gc_objvec_free(gc_objvec *vec);
void gc_weakrefs_clear_for_collector(grt_object *o, gc_objvec *calls);
/* A weakref object in the garbage: detach it from its referent, no callback. */
void gc_weakref_detach(grt_object *wr);
/* Run a weakref's callback (the weakref is referenced by the caller). */
void gc_weakref_call(grt_object *wr);
/* In a fork child: the stripe locks may be held by threads that are gone. */
void gc_weakref_fork_child(void);

/* ---- debug (gc/generations.c) --------------------------------------------------------------- */
void gc_debug_cycle(const char *what, grt_object *o);

#endif
