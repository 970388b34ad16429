/*
 * gc/weakref.c — weak references (Python's weakref.ref).
 *
 * Which list every weakref is on: the list of its referent, a doubly-linked
 * list whose head is the pointer at the referent's tp_weaklistoffset, from
 * its creation until the referent dies (the list is cleared), the weakref
 * dies (it unlinks itself) or the collector clears it.  Its xwr_object is
 * the referent while it is on the list, NULL after.  Order (CPython's): the
 * basic weakref (no callback, no data, shared by every caller) first, then
 * the weakrefs with callbacks, newest first; callbacks run in list order.
 *
 * Locking.  A referent's list, and xwr_object / wr_callback / cb_picked of
 * the weakrefs on it, are changed only under the stripe lock of the
 * referent's address (wr_lock_of).  A weakref finds its stripe by reading
 * xwr_object (atomic: it may be cleared concurrently), locking that stripe
 * and checking xwr_object again: it can only have become NULL.  No lock is
 * ever held while another is taken, or across user code.
 *
 * The referent dying and a grt_weakref_get racing with it.  The get must not
 * revive an object whose count already reached zero: its deallocation is
 * under way.  Under the stripe lock it therefore increments the count only
 * if that cannot be so (wr_try_incref): in gil/unsafe if the count is
 * positive; in atomic with a CAS from a positive count; in brc from the
 * owner's thread if its local count is positive, else with a CAS on the
 * shared count if that is positive or the object is merged with a positive
 * count.  A brc object whose shared count is zero or negative and not merged
 * lives on its owner's local count, which another thread cannot update
 * atomically with its own check; there the answer is taken with the world
 * stopped, where every count is still and a parked deallocation is either
 * before its decref to zero, inside a finalizer (count revived to 1) or past
 * clearing the weakrefs.  The referent's deallocation clears the list under
 * the same lock, after which every get returns None.
 *
 * The same question arises for a weakref that dies while its referent's
 * list is being cleared: its callback must not run, and it must not be
 * revived; it is decided the same way.
 */
#include "gc_impl.h"

typedef struct grt_weakref {
    grt_object ob_base;
    grt_object *xwr_object;             /* referent, NULL once cleared (atomic) */
    grt_weakref_callback wr_callback;   /* NULL once taken for its one call */
    grt_object *wr_data;                /* strong reference, or NULL */
    struct grt_weakref *wr_prev, *wr_next;
    int64_t hash;                       /* -1: not computed yet */
    int cb_picked;                      /* chosen for a callback by the clearing thread */
} grt_weakref;

#define WR(o) ((grt_weakref *)(o))
#define WR_STRIPES 64

static grt_lock wr_locks[WR_STRIPES];

static grt_lock *wr_lock_of(const grt_object *o)
{
    uintptr_t a = (uintptr_t)o;
    return &wr_locks[((a >> 4) ^ (a >> 12)) & (WR_STRIPES - 1)];
}

static grt_weakref **wr_list_of(grt_object *o)
{
    return (grt_weakref **)((char *)o + o->ob_type->tp_weaklistoffset);
}

static grt_object *wr_referent(grt_weakref *wr)
{
    /* acquire: pairs with the release store that cleared it */
    return grt_atomic_load_ptr_acq((void *const *)&wr->xwr_object);
}

void gc_weakref_fork_child(void)
{
    memset(wr_locks, 0, sizeof wr_locks);
}

/* ---- incref unless dying ---------------------------------------------------------------- */

/* 1: o was increfed; 0: o's count already reached zero (it is being
 * deallocated); -1 (brc only): cannot tell without stopping the world. */
static int wr_try_incref(grt_object *o);

#if defined(GRT_VARIANT_BRC)
static int wr_try_incref(grt_object *o)
{
    uint32_t local = grt_atomic_load_32(&o->xob_ref_local);
    if (local == GRT_BRC_IMMORTAL_LOCAL)
        return 1;
    if (grt_atomic_load_32(&o->xob_tid) == _grt_brc_self()) {
        if (local == 0)
            return 0;                   /* this thread is freeing it */
        grt_atomic_store_32(&o->xob_ref_local, local + 1);
        return 1;
    }
    uint32_t sh = grt_atomic_load_32(&o->xob_ref_shared);
    for (;;) {
        int32_t c = _grt_brc_count(sh);
        if (c >= GRT_BRC_SHARED_SATURATED)
            return 1;
        if (c <= 0)
            return (sh & GRT_BRC_STATE_MASK) == GRT_BRC_MERGED ? 0 : -1;
        /* a positive shared count: the owner's free-at-once path (shared ==
         * 0) and every merge CAS this same word, so they see our increment */
        if (grt_atomic_cas_32(&o->xob_ref_shared, &sh, sh + (1u << GRT_BRC_SHIFT)))
            return 1;
    }
}
#elif defined(GRT_VARIANT_ATOMIC)
static int wr_try_incref(grt_object *o)
{
    uint64_t v = grt_atomic_load_64(&o->xob_refcnt);
    for (;;) {
        if (v >= GRT_IMMORTAL_REFCNT)
            return 1;
        if (v == 0)
            return 0;
        if (grt_atomic_cas_64(&o->xob_refcnt, &v, v + 1))
            return 1;
    }
}
#else  /* gil, unsafe: one thread at a time */
static int wr_try_incref(grt_object *o)
{
    if (grt_refcnt(o) <= 0)
        return 0;
    grt_incref(o);
    return 1;
}
#endif

/* The same with the world stopped: every count is exact. */
static int wr_incref_stopped(grt_object *o)
{
    GRT_ASSERT(_grt_world_is_stopped());
    if (grt_refcnt(o) <= 0)
        return 0;
    grt_incref(o);
    return 1;
}

/* Stop the world for an exact answer.  Returns 1 if this call stopped it
 * (the caller restarts it), 0 if this thread had already (a collection) or a
 * GIL excludes everyone anyway. */
static int wr_stop_world(void)
{
    if (_grt_world_is_stopped())
        return 0;
    _grt_stop_the_world();
    return 1;
}

/* ---- the list --------------------------------------------------------------------------- */

/* Unlink wr from o's list (stripe lock held, wr on it). */
static void wr_unlink_locked(grt_object *o, grt_weakref *wr)
{
    grt_weakref **head = wr_list_of(o);
    if (wr->wr_prev)
        wr->wr_prev->wr_next = wr->wr_next;
    else
        grt_atomic_store_ptr((void **)head, wr->wr_next);
    if (wr->wr_next)
        wr->wr_next->wr_prev = wr->wr_prev;
    wr->wr_prev = wr->wr_next = NULL;
    /* release: whoever reads NULL sees the list without us */
    grt_atomic_store_ptr_rel((void **)&wr->xwr_object, NULL);
}

void gc_weakref_detach(grt_object *o)
{
    grt_weakref *wr = WR(o);
    for (;;) {
        grt_object *ref = wr_referent(wr);
        if (!ref)
            return;
        grt_lock *l = wr_lock_of(ref);
        grt_lock_acquire(l);
        if (wr->xwr_object == ref) {
            wr_unlink_locked(ref, wr);
            grt_lock_release(l);
            return;
        }
        grt_lock_release(l);            /* cleared meanwhile: look again */
    }
}

static int wr_is_basic(const grt_weakref *wr) { return !wr->wr_callback && !wr->wr_data; }

/* ---- the type ------------------------------------------------------------------------------ */

static int weakref_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    return WR(self)->wr_data ? visit(WR(self)->wr_data, arg) : 0;
}

static int weakref_clear(grt_object *self)
{
    gc_weakref_detach(self);
    WR(self)->wr_callback = NULL;
    grt_clear(WR(self)->wr_data);
    return 0;
}

static void weakref_dealloc(grt_object *self)
{
    gc_weakref_detach(self);            /* first: the referent's list must not see us freed */
    grt_xdecref(WR(self)->wr_data);
    _grt_object_free(self);
}

static int64_t weakref_hash(grt_object *self)
{
    grt_weakref *wr = WR(self);
    int64_t h = (int64_t)grt_atomic_load_64((const uint64_t *)&wr->hash);
    if (h != -1)
        return h;
    grt_object *o = grt_weakref_get(self);
    if (!o)
        return -1;
    if (o == grt_None) {
        grt_err_set(GRT_ERR_TYPE, "weak object has gone away");
        return -1;
    }
    h = grt_hash(o);
    grt_decref(o);
    if (h != -1)
        grt_atomic_store_64((uint64_t *)&wr->hash, (uint64_t)h);
    return h;
}

static int weakref_eq(grt_object *a, grt_object *b)
{
    if (b->ob_type != &grt_weakref_type)
        return 0;
    grt_object *x = grt_weakref_get(a), *y = grt_weakref_get(b);
    int r = (x == grt_None || y == grt_None) ? a == b : grt_equal(x, y);
    grt_decref(x);
    grt_decref(y);
    return r;
}

static grt_object *weakref_repr(grt_object *self)
{
    grt_object *o = grt_weakref_get(self), *r;
    if (o == grt_None)
        r = _grt_str_from_format("<weakref at %p; dead>", (void *)self);
    else
        r = _grt_str_from_format("<weakref at %p; to '%s' at %p>", (void *)self,
                                 o->ob_type->tp_name, (void *)o);
    grt_decref(o);
    return r;
}

grt_type grt_weakref_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "weakref",
    .tp_basicsize = sizeof(grt_weakref),
    .tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_STATIC,
    .tp_dealloc = weakref_dealloc,
    .tp_traverse = weakref_traverse,
    .tp_clear = weakref_clear,
    .tp_hash = weakref_hash,
    .tp_eq = weakref_eq,
    .tp_repr = weakref_repr,
};

/* ---- the API ------------------------------------------------------------------------------- */

grt_object *grt_weakref_new_ex(grt_object *o, grt_weakref_callback callback, grt_object *data)
{
    if (GRT_CHECK_ARG(o) < 0)
        return NULL;
    if (!o->ob_type->tp_weaklistoffset)
        return grt_err_set(GRT_ERR_TYPE, "cannot create weak reference to '%s' object",
                           o->ob_type->tp_name);
    grt_weakref *wr = (grt_weakref *)_grt_object_alloc(&grt_weakref_type, sizeof(grt_weakref));
    if (!wr)
        return NULL;
    wr->wr_callback = callback;
    wr->wr_data = data;
    grt_xincref(data);
    wr->hash = -1;
    grt_lock *l = wr_lock_of(o);
    grt_lock_acquire(l);
    grt_weakref **head = wr_list_of(o);
    grt_weakref *first = *head;
    if (wr_is_basic(wr) && first && wr_is_basic(first) && wr_try_incref(&first->ob_base) == 1) {
        /* the basic weakref already exists: share it, drop ours */
        grt_lock_release(l);
        grt_decref(&wr->ob_base);
        return &first->ob_base;
    }
    wr->xwr_object = o;
    if (!wr_is_basic(wr) && first && wr_is_basic(first)) {
        wr->wr_prev = first;            /* right after the basic weakref */
        wr->wr_next = first->wr_next;
        if (first->wr_next)
            first->wr_next->wr_prev = wr;
        first->wr_next = wr;
    } else {
        wr->wr_next = first;
        if (first)
            first->wr_prev = wr;
        grt_atomic_store_ptr((void **)head, wr);
    }
    grt_lock_release(l);
    _grt_gc_track(&wr->ob_base);
    return &wr->ob_base;
}

grt_object *grt_weakref_new(grt_object *o, grt_weakref_callback callback)
{
    return grt_weakref_new_ex(o, callback, NULL);
}

grt_object *grt_weakref_get(grt_object *ref)
{
    if (GRT_CHECK_ARG(ref) < 0 || GRT_CHECK_TYPE(ref, &grt_weakref_type) < 0)
        return NULL;
    grt_weakref *wr = WR(ref);
    int exact = 0, restart = 0;
    grt_object *result = grt_None;
    for (;;) {
        grt_object *o = wr_referent(wr);
        if (!o)
            break;
        grt_lock *l = wr_lock_of(o);
        grt_lock_acquire(l);
        if (wr->xwr_object != o) {
            grt_lock_release(l);
            continue;                   /* cleared meanwhile */
        }
        int r = exact ? wr_incref_stopped(o) : wr_try_incref(o);
        grt_lock_release(l);
        if (r == 1)
            result = o;
        if (r >= 0)
            break;
        restart = wr_stop_world();      /* brc: ask again with every count still */
        exact = 1;
    }
    if (restart)
        _grt_start_the_world();
    return result;
}

int64_t grt_weakref_count(grt_object *o)
{
    if (!o || !o->ob_type->tp_weaklistoffset)
        return 0;
    grt_lock *l = wr_lock_of(o);
    grt_lock_acquire(l);
    int64_t n = 0;
    for (grt_weakref *wr = *wr_list_of(o); wr; wr = wr->wr_next)
        n++;
    grt_lock_release(l);
    return n;
}

/* ---- clearing ---------------------------------------------------------------------------------- */

void gc_weakref_call(grt_object *o)
{
    grt_weakref *wr = WR(o);
    grt_weakref_callback cb = wr->wr_callback;
    wr->wr_callback = NULL;             /* once */
    if (!cb)
        return;
    gc_saved_error se;
    gc_error_save(&se);
    cb(o, wr->wr_data);
    gc_error_report_restore(&se, "the weakref callback of", o);
}

void gc_weakrefs_clear_for_collector(grt_object *o, gc_objvec *calls)
{
    GRT_ASSERT(_grt_world_is_stopped());
    grt_lock *l = wr_lock_of(o);
    grt_lock_acquire(l);
    grt_weakref **head = wr_list_of(o);
    grt_weakref *wr = *head;
    while (wr) {
        grt_weakref *next = wr->wr_next;
        wr->wr_prev = wr->wr_next = NULL;
        /* release: a reader of NULL sees the weakref off the list */
        grt_atomic_store_ptr_rel((void **)&wr->xwr_object, NULL);
        /* a weakref that is garbage itself gets no callback: it could reach
         * the garbage through its data */
        if (wr->wr_callback && !(gc_flags(&wr->ob_base) & GC_COLLECTING) &&
            wr_incref_stopped(&wr->ob_base)) {
            if (gc_objvec_push(calls, &wr->ob_base) != 0)
                _grt_fatal("gc: out of memory for the weakref callback list");
        }
        wr = next;
    }
    grt_atomic_store_ptr((void **)head, NULL);
    grt_lock_release(l);
}

/* Callbacks chosen while clearing a list, in list order. */
static void calls_push(gc_objvec *calls, grt_object *wr)
{
    if (gc_objvec_push(calls, wr) != 0)
        _grt_fatal("gc: out of memory for the weakref callback list");
}

void _grt_weakrefs_clear_on_dealloc(grt_object *o)
{
    grt_weakref **head = wr_list_of(o);
    if (!grt_atomic_load_ptr((void *const *)head))
        return;
    /* o's count is zero: untrack it before callbacks run user code, or a
     * collection they start would find a tracked object with no references
     * (the core's untrack that follows sees it untracked and does nothing) */
    if (gc_is_gc(o))
        _grt_gc_untrack(o);
    grt_lock *l = wr_lock_of(o);
    int exact = 0, restart = 0;
    for (;;) {
        /* Pick the weakrefs whose callback will run: those still alive,
         * increfed so that they stay so.  Nobody can add to the list (o's
         * count is zero); weakrefs dying meanwhile may leave it. */
        int undecided = 0;
        grt_lock_acquire(l);
        for (grt_weakref *wr = *head; wr; wr = wr->wr_next) {
            if (!wr->wr_callback || wr->cb_picked)
                continue;
            int r = exact ? wr_incref_stopped(&wr->ob_base) : wr_try_incref(&wr->ob_base);
            if (r == 1)
                wr->cb_picked = 1;
            else if (r < 0)
                undecided = 1;
        }
        if (!undecided)
            break;
        grt_lock_release(l);
        restart = wr_stop_world();      /* brc: decide the rest with every count still */
        exact = 1;
    }
    gc_objvec calls = { 0 };
    grt_weakref *wr = *head;
    while (wr) {
        grt_weakref *next = wr->wr_next;
        wr->wr_prev = wr->wr_next = NULL;
        /* release: a reader of NULL sees the weakref off the list */
        grt_atomic_store_ptr_rel((void **)&wr->xwr_object, NULL);
        if (wr->cb_picked) {
            wr->cb_picked = 0;
            calls_push(&calls, &wr->ob_base);
        }
        wr = next;
    }
    grt_atomic_store_ptr((void **)head, NULL);
    grt_lock_release(l);
    if (restart)
        _grt_start_the_world();
    for (size_t k = 0; k < calls.n; k++) {
        gc_weakref_call(calls.v[k]);
        grt_decref(calls.v[k]);
    }
    gc_objvec_free(&calls);
}
