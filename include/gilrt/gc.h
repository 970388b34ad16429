/*
 * gilrt/gc.h — the cycle collector (gc/): Python's `gc` module, weak
 * references and finalizers.
 *
 * Reference counting frees an object when its last reference goes; it
 * cannot free a cycle (a list that contains itself).  The collector finds
 * groups of container objects (tuple, list, dict, instances: the types with
 * GRT_TPFLAGS_GC) that are referenced only from inside the group and frees
 * them.  It is generational, as CPython's: new containers are in generation
 * 0; a collection examines one generation and the younger ones, and moves
 * the survivors one generation up.  Generation 0 is collected automatically
 * when allocations minus deallocations of containers exceed threshold 0
 * (default 700); generation 1 after threshold 1 (10) collections of
 * generation 0; generation 2 (a full collection) after threshold 2 (10)
 * collections of generation 1, and only when the objects that reached
 * generation 2 since the last full collection exceed a quarter of those it
 * kept.  Automatic collections run at a safepoint (grt_safepoint), never
 * inside an allocation.
 *
 * In GIL-off runs (atomic, brc) a collection stops the world: every other
 * attached thread parks at its next safepoint for the duration.
 *
 * Finalizers (tp_finalize, grt_class_set_finalizer) follow PEP 442: run at
 * most once per object, before the object is cleared, also inside a cycle;
 * an object its finalizer resurrects survives.
 *
 * Unless stated otherwise functions must be called from an attached thread;
 * those that can fail return -1 (or NULL) with the error set.
 */
#ifndef GILRT_GC_H
#define GILRT_GC_H

#include <stdint.h>
#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GRT_GC_NGENERATIONS 3

/* ---- collecting -------------------------------------------------------------- */

/* Collect generation `generation` (0, 1 or 2: 2 is a full collection) and
 * the younger ones, like gc.collect(generation).  Returns the number of
 * unreachable objects found (garbage freed, or saved to the garbage list
 * with GRT_GC_DEBUG_SAVEALL), or -1 with a ValueError for another
 * generation.  Called while a collection is running (from a finalizer or a
 * callback) it does nothing and returns 0.  Works when automatic collection
 * is disabled. */
int64_t grt_gc_collect(int generation);

/* Automatic collection on or off (gc.enable / gc.disable / gc.isenabled). */
void grt_gc_enable(void);
void grt_gc_disable(void);
int grt_gc_isenabled(void);

/* Thresholds (gc.set_threshold): t0 = container allocations minus
 * deallocations that trigger a generation-0 collection (0 disables automatic
 * collection); t1, t2 = collections of the next younger generation before
 * this one is collected.  -1 with a ValueError naming the bad value if one
 * is negative or above INT32_MAX. */
int grt_gc_set_threshold(int64_t t0, int64_t t1, int64_t t2);
void grt_gc_get_threshold(int64_t out[GRT_GC_NGENERATIONS]);
/* gc.get_count: generation 0's allocations minus deallocations since its
 * last collection; for 1 and 2, collections of the younger generation since
 * their own last collection.  out[0] is exact when no other thread is
 * allocating. */
void grt_gc_get_count(int64_t out[GRT_GC_NGENERATIONS]);

/* ---- objects ------------------------------------------------------------------------ */

/* A new list of the objects the collector tracks in `generation` (0..2), or
 * in every generation if generation is -1 (gc.get_objects); frozen objects
 * are not included.  NULL with a ValueError for any other generation. */
grt_object *grt_gc_get_objects(int generation);
/* 1 if the collector tracks o; 0 if not (also for non-container types).
 * A tuple whose items are all untracked is untracked by the next collection
 * that examines it; a dict starts untracked and is tracked from the first
 * store of a key or value that may be tracked, and then stays tracked
 * (CPython up to 3.13 untracks such dicts again at a full collection, once
 * they hold only untracked values; 3.14 does not either). */
int grt_gc_is_tracked(grt_object *o);
/* Track / untrack a container (PyObject_GC_Track / UnTrack).  Tracking a
 * tracked object or untracking an untracked one does nothing.  -1 with a
 * TypeError if o's type is not a container type (no GRT_TPFLAGS_GC); untrack:
 * -1 with a ValueError if grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL) made o
 * immortal (it stays tracked, so that grt_fini finds and frees it; the
 * collector's untracking of tuples passes over it too). */
int grt_gc_track(grt_object *o);
int grt_gc_untrack(grt_object *o);
/* 1 if o's finalizer already ran (gc.is_finalized). */
int grt_gc_is_finalized(grt_object *o);

/* A new list of the tracked objects that refer directly to any of objs[0..n)
 * (gc.get_referrers), found by walking every generation (frozen objects
 * included).  -1 / NULL + TypeError if objs is NULL with n > 0 or an entry is
 * NULL. */
grt_object *grt_gc_get_referrers(int64_t n, grt_object *const objs[]);
/* A new list of the objects each of objs[0..n) refers to directly
 * (gc.get_referents: what tp_traverse visits). */
grt_object *grt_gc_get_referents(int64_t n, grt_object *const objs[]);

/* ---- freezing (gc.freeze, for fork) --------------------------------------------------- */

/* Also make every frozen object immortal: incref/decref no longer write it,
 * so a forked child that merely reads them does not dirty their pages.
 * Immortalized objects stay immortal after grt_gc_unfreeze and are freed
 * only by grt_fini. */
#define GRT_GC_FREEZE_IMMORTAL 1u

/* Move every tracked object to the permanent generation, which collections
 * never examine or write (gc.freeze).  Call it before fork so that a child's
 * collections do not write to the parent's objects' pages.  flags: 0 or
 * GRT_GC_FREEZE_IMMORTAL.  -1 with a ValueError for unknown flags. */
int grt_gc_freeze(unsigned flags);
/* Move the permanent generation back into generation 2 (gc.unfreeze). */
void grt_gc_unfreeze(void);
/* Number of objects in the permanent generation (gc.get_freeze_count). */
int64_t grt_gc_get_freeze_count(void);

/* ---- statistics ------------------------------------------------------------------------ */

typedef struct grt_gc_generation_stats {
    int64_t collections;        /* collections of this generation */
    int64_t collected;          /* unreachable objects they found and released */
    int64_t uncollectable;      /* always 0: gilrt has no legacy (tp_del) finalizers */
} grt_gc_generation_stats;

typedef struct grt_gc_stats {
    grt_gc_generation_stats gen[GRT_GC_NGENERATIONS];   /* gc.get_stats() */
    /* Stop-the-world of the collections (0 with a GIL, which excludes
     * every other thread already): time from the request until every other
     * attached thread was parked, and the whole pause, in nanoseconds. */
    uint64_t tts_last_ns, tts_max_ns;
    uint64_t pause_last_ns, pause_max_ns;
    uint64_t collection_last_ns, collection_max_ns;      /* whole collections */
} grt_gc_stats;

/* Copy the statistics into *out.  -1 + TypeError if out is NULL. */
int grt_gc_get_stats(grt_gc_stats *out);

/* ---- callbacks (gc.callbacks) ---------------------------------------------------------- */

typedef enum grt_gc_phase { GRT_GC_START = 0, GRT_GC_STOP = 1 } grt_gc_phase;

typedef struct grt_gc_info {
    int generation;             /* the generation being collected */
    int64_t collected;          /* GRT_GC_STOP only: unreachable objects released */
    int64_t uncollectable;      /* GRT_GC_STOP only */
} grt_gc_info;

/* Called before (GRT_GC_START) and after (GRT_GC_STOP) every collection,
 * automatic or not, on the collecting thread, with the world running. */
typedef void (*grt_gc_callback)(grt_gc_phase phase, const grt_gc_info *info, void *arg);

/* Register fn(…, arg); callbacks run in registration order.  -1 + TypeError
 * if fn is NULL, MemoryError if out of memory. */
int grt_gc_callback_add(grt_gc_callback fn, void *arg);
/* Remove the first registration of (fn, arg); -1 + ValueError if there is
 * none. */
int grt_gc_callback_remove(grt_gc_callback fn, void *arg);

/* ---- debugging (gc.set_debug) ----------------------------------------------------------- */

#define GRT_GC_DEBUG_STATS         (1u << 0)  /* print statistics during collection */
#define GRT_GC_DEBUG_COLLECTABLE   (1u << 1)  /* print collectable objects found */
#define GRT_GC_DEBUG_UNCOLLECTABLE (1u << 2)  /* print uncollectable objects found */
#define GRT_GC_DEBUG_SAVEALL       (1u << 5)  /* keep garbage in the garbage list instead of freeing it */
#define GRT_GC_DEBUG_LEAK (GRT_GC_DEBUG_COLLECTABLE | GRT_GC_DEBUG_UNCOLLECTABLE | GRT_GC_DEBUG_SAVEALL)

/* Set the debug flags; output goes to stderr in CPython's format
 * ("gc: collecting generation 2...").  -1 + ValueError for unknown bits. */
int grt_gc_set_debug(unsigned flags);
unsigned grt_gc_get_debug(void);
/* The garbage list (gc.garbage): a borrowed reference to a list the
 * collector owns; the caller may modify it (e.g. grt_list_clear). */
grt_object *grt_gc_garbage(void);

/* ---- weak references --------------------------------------------------------------------- */

extern struct grt_type grt_weakref_type;

/* A weakref's callback: called once, with the (borrowed) weakref, after the
 * referent died, if the weakref itself is still alive; data is the object
 * given to grt_weakref_new_ex (borrowed, possibly NULL).  It runs where the
 * referent died: in the thread whose decref freed it, or in the collector
 * (with the world stopped).  It must not release the last reference to ref. */
typedef void (*grt_weakref_callback)(grt_object *ref, grt_object *data);

/* A weak reference to o (weakref.ref(o, callback)), as a new reference to
 * a weakref object; it does not keep o alive (o is borrowed).  Without a
 * callback the same basic weakref is returned again (a new reference to it)
 * while it exists.  NULL + TypeError if o's type is not weak-referenceable
 * (instances of user classes are) or o is NULL; MemoryError. */
grt_object *grt_weakref_new(grt_object *o, grt_weakref_callback callback);
/* The same with an object the weakref keeps alive and passes to the
 * callback (data may be NULL; does not steal: the weakref takes its own
 * reference).  A weakref with data is never shared. */
grt_object *grt_weakref_new_ex(grt_object *o, grt_weakref_callback callback, grt_object *data);
/* A new reference to the referent, or to None once it died (ref()).  NULL +
 * TypeError if ref is not a weakref.  In brc, asking from a thread that
 * neither owns the referent nor shares a positive count of it may stop the
 * world briefly to tell a live referent from a dying one. */
grt_object *grt_weakref_get(grt_object *ref);
/* Number of weak references to o (weakref.getweakrefcount); 0 for objects
 * that cannot be weakly referenced. */
int64_t grt_weakref_count(grt_object *o);

#ifdef __cplusplus
}
#endif
#endif
