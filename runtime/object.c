/*
 * runtime/object.c — allocation, deallocation, the generic operations.
 *
 * The deallocator (_grt_dealloc) runs when an object's count reaches zero:
 *   1. tp_finalize, once per object (PEP 442; the collector keeps the flag).
 *      The finalizer may resurrect the object, which ends deallocation.
 *   2. a GC object is untracked, then weak references to it are cleared and
 *      their callbacks run (untracked first: callbacks may collect).
 *   3. tp_dealloc releases what it holds and frees the memory.
 *
 * The trashcan.  tp_dealloc releases references, which may free other
 * objects, whose tp_dealloc releases more: a 1,000,000-deep chain of nested
 * lists would recurse a million frames deep.  So past GRT_TRASH_DEPTH nested
 * deallocations, a (GC, hence untracked by now) object is pushed on the
 * thread's trash list, linked through its collector header's gc_next, and
 * the outermost deallocation frees the list iteratively.  Only containers
 * hold references, and every container is a GC object, so that suffices.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"

#define GRT_TRASH_DEPTH 50

grt_object *_grt_object_alloc(grt_type *t, size_t size)
{
    grt_tstate *ts = _grt_tstate_current;
    if (GRT_UNLIKELY(!ts || grt_atomic_load_32(&ts->xstate) != GRT_TS_ATTACHED))
        _grt_fatal("a %s object was created from a thread that is not attached to the "
                   "runtime (call grt_attach first)", t->tp_name);
    GRT_ASSERT(size >= sizeof(grt_object));
    grt_object *o = (t->tp_flags & GRT_TPFLAGS_GC) ? _grt_gc_alloc(size) : _grt_mem_alloc(size);
    if (GRT_UNLIKELY(!o))
        return grt_err_set(GRT_ERR_MEMORY, "out of memory allocating a %s object (%zu bytes)",
                           t->tp_name, size);
    memset(o, 0, size);
    _grt_rc_init_new(o);
    o->ob_type = t;
    if (t->tp_flags & GRT_TPFLAGS_HEAPTYPE)
        grt_incref((grt_object *)t);
    grt_atomic_store_64(&ts->xobjects_allocated, grt_atomic_load_64(&ts->xobjects_allocated) + 1);
    return o;
}

void _grt_object_free(grt_object *o)
{
    /* only tp_dealloc calls it, and _grt_dealloc (or the collector, or
     * grt_fini) checked that this thread is attached before */
    grt_tstate *ts = _grt_tstate_current;
    GRT_ASSERT(ts != NULL);
    grt_type *t = o->ob_type;
    if (t->tp_flags & GRT_TPFLAGS_GC)
        _grt_gc_free(o);
    else
        _grt_mem_free(o);
    grt_atomic_store_64(&ts->xobjects_freed, grt_atomic_load_64(&ts->xobjects_freed) + 1);
    if (t->tp_flags & GRT_TPFLAGS_HEAPTYPE)
        grt_decref((grt_object *)t);   /* after the free: the instance held the type */
}

void _grt_fatal_negative_refcnt(grt_object *o)
{
    _grt_fatal("decref below zero: %s object at %p has no references left to release "
               "(a missing incref or a double decref)", o->ob_type->tp_name, (void *)o);
}

static void trash_drain(grt_tstate *ts)
{
    while (ts->trash) {
        grt_object *o = ts->trash;
        ts->trash = (grt_object *)_GRT_AS_GC(o)->gc_next;
        _GRT_AS_GC(o)->gc_next = 0;
        ts->dealloc_depth++;
        o->ob_type->tp_dealloc(o);
        ts->dealloc_depth--;
    }
}

void _grt_dealloc(grt_object *o)
{
    grt_tstate *ts = _grt_tstate_require("the deallocation of an object (a decref to zero)");
    grt_type *t = o->ob_type;
    if (t->tp_finalize && _grt_gc_finalize_from_dealloc(o))
        return;                       /* resurrected, or freed by the nested deallocation */
    /* untrack before the weakref callbacks: they run user code, which may
     * collect or stop the world, and the collector must never meet a
     * tracked object whose count is 0 */
    if ((t->tp_flags & GRT_TPFLAGS_GC) && _grt_gc_is_tracked(o))
        _grt_gc_untrack(o);
    /* atomic: other threads unlink dying weakrefs from this list head */
    if (t->tp_weaklistoffset &&
        grt_atomic_load_ptr((void *const *)((char *)o + t->tp_weaklistoffset)))
        _grt_weakrefs_clear_on_dealloc(o);
    if (t->tp_flags & GRT_TPFLAGS_GC) {
        if (ts->dealloc_depth >= GRT_TRASH_DEPTH) {
            _GRT_AS_GC(o)->gc_next = (uintptr_t)ts->trash;
            ts->trash = o;
            return;
        }
    }
    ts->dealloc_depth++;
    t->tp_dealloc(o);
    ts->dealloc_depth--;
    if (ts->dealloc_depth == 0 && ts->trash)
        trash_drain(ts);
}

void grt_make_immortal(grt_object *o)
{
    _grt_rc_set_immortal(o);
}

int _grt_check_type(grt_object *o, grt_type *t, const char *func)
{
    if (GRT_UNLIKELY(!o)) {
        grt_err_set(GRT_ERR_TYPE, "%s: expected %s, got NULL", func, t->tp_name);
        return -1;
    }
    if (GRT_UNLIKELY(o->ob_type != t)) {
        grt_err_set(GRT_ERR_TYPE, "%s: expected %s, got %s", func, t->tp_name, o->ob_type->tp_name);
        return -1;
    }
    return 0;
}

int64_t grt_hash(grt_object *o)
{
    if (GRT_CHECK_ARG(o)) return -1;
    if (!o->ob_type->tp_hash) {
        grt_err_set(GRT_ERR_TYPE, "unhashable type: '%s'", o->ob_type->tp_name);
        return -1;
    }
    return o->ob_type->tp_hash(o);
}

int grt_equal(grt_object *a, grt_object *b)
{
    if (GRT_CHECK_ARG(a) || GRT_CHECK_ARG(b)) return -1;
    if (a == b)
        return 1;
    if (a->ob_type->tp_eq)
        return a->ob_type->tp_eq(a, b);
    if (b->ob_type->tp_eq)
        return b->ob_type->tp_eq(b, a);
    return 0;
}

grt_object *grt_repr(grt_object *o)
{
    if (GRT_CHECK_ARG(o)) return NULL;
    if (o->ob_type->tp_repr)
        return o->ob_type->tp_repr(o);
    char buf[128];
    snprintf(buf, sizeof buf, "<%s object at %p>", o->ob_type->tp_name, (void *)o);
    return grt_str_new(buf);
}

int grt_print(grt_object *o, FILE *f)
{
    grt_object *r = grt_repr(o);
    if (!r)
        return -1;
    fwrite(grt_str_data(r), 1, (size_t)grt_str_len(r), f);
    grt_decref(r);
    return 0;
}
