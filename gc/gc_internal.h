/*
 * gc/gc_internal.h — what the object core asks of the collector.  Internal.
 *
 * Container objects (GRT_TPFLAGS_GC) have a grt_gc_head in front of the
 * object header, as CPython's PyGC_Head.  The core allocates them through
 * _grt_gc_alloc, tracks them when they are fully built, untracks them before
 * it tears them down, and frees them through _grt_gc_free.
 */
#ifndef GRT_GC_INTERNAL_H
#define GRT_GC_INTERNAL_H

#include <stdint.h>

struct grt_tstate;

typedef struct grt_gc_head {
    uintptr_t gc_next;          /* generation list link; low bits: flags (gc/) */
    uintptr_t gc_prev;
} grt_gc_head;

#define GRT_GC_HEAD_SIZE sizeof(grt_gc_head)
#define _GRT_AS_GC(o)   ((grt_gc_head *)(o) - 1)
#define _GRT_FROM_GC(g) ((grt_object *)((grt_gc_head *)(g) + 1))

int  _grt_gc_init(const grt_config *cfg);
/* Final teardown: collect, then free every object still tracked. */
void _grt_gc_fini(void);
void _grt_gc_thread_init(struct grt_tstate *ts);
void _grt_gc_thread_fini(struct grt_tstate *ts);
void _grt_gc_fork_child(struct grt_tstate *ts);

/* Memory for a GC object of `size` bytes (header included): the collector
 * header is zeroed, the object is not tracked.  NULL on failure. */
grt_object *_grt_gc_alloc(size_t size);
void _grt_gc_free(grt_object *o);

void _grt_gc_track(grt_object *o);
void _grt_gc_untrack(grt_object *o);
int  _grt_gc_is_tracked(grt_object *o);
/* A dict that holds only untracked values is itself untracked; call when a
 * value is stored in dict d (tracks d if v may be part of a cycle). */
void _grt_gc_dict_maybe_track(grt_object *d, grt_object *v);
/* 1 if o could take part in a cycle (a tracked container). */
int  _grt_gc_may_be_tracked(grt_object *o);

/* At a safepoint with GRT_BREAK_GC set: run the pending collection. */
void _grt_gc_on_safepoint(struct grt_tstate *ts);

/* Called by the deallocator for a type with tp_finalize: runs the finalizer
 * unless it already ran (PEP 442).  Returns 1 if the object was resurrected
 * (the deallocation must stop), 0 to go on. */
int  _grt_gc_finalize_from_dealloc(grt_object *o);
/* Clear the weak references to o and run their callbacks (o's count is 0). */
void _grt_weakrefs_clear_on_dealloc(grt_object *o);

#endif
