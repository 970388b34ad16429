/*
 * gc/teardown.c — grt_fini's part: free every container still alive, so
 * that every object created is freed exactly once.
 *
 * Called by grt_fini on the main thread, attached, after every other thread
 * exited (their young objects are orphans now).  Steps:
 *
 *   1. drop what the collector itself holds: callbacks, the garbage list;
 *   2. the permanent generation is unfrozen, and objects that freeze made
 *      immortal become mortal again with a huge count (GC_FROZEN_COUNT), so
 *      that the references other objects hold to them can still be dropped
 *      without ever reaching zero;
 *   3. a full collection frees the cyclic garbage normally (finalizers and
 *      weakref callbacks run);
 *   4. what is left is still referenced from somewhere — usually from other
 *      survivors, e.g. data the program kept in a global list it never
 *      released.  Every tracked object is cleared (tp_clear, each holding a
 *      temporary reference so none is freed while the others are cleared),
 *      then the temporary references are released: whatever was only kept
 *      alive by containers falls to zero.  The objects made mortal in step 2
 *      are then released from their huge count (set to 1, decref).  Repeat
 *      while objects remain and the last round freed something.
 *
 * Objects still tracked after that are referenced only from outside the
 * runtime (a reference the program leaked, e.g. a list it never released):
 * they were cleared already, so they are freed as if that reference had been
 * released.  grt_fini's contract is that every object created is freed; their
 * number is returned, for grt_object_counts' `unreleased` (leak checkers:
 * the ledger balances anyway).
 */
#include "gc_impl.h"

#define GC_FROZEN_COUNT ((int64_t)1 << 30)

static void all_tracked(gc_objvec *out, int with_ref)
{
    const gc_space *spaces[] = { &gc_rt.orphans, &gc_rt.old[0], &gc_rt.old[1], &gc_rt.permanent };
    for (size_t k = 0; k < sizeof spaces / sizeof spaces[0]; k++)
        GC_SPACE_FOREACH(spaces[k], s, i)
            if (s->slot[i]) {
                if (gc_objvec_push(out, s->slot[i]) != 0)
                    _grt_fatal("gc: out of memory at teardown");
                if (with_ref)
                    grt_incref(s->slot[i]);
            }
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        GC_SPACE_FOREACH(&g->young, s, i)
            if (s->slot[i]) {
                if (gc_objvec_push(out, s->slot[i]) != 0)
                    _grt_fatal("gc: out of memory at teardown");
                if (with_ref)
                    grt_incref(s->slot[i]);
            }
}

uint64_t _grt_gc_fini(void)
{
    GRT_REQUIRE_ATTACHED();
    pthread_mutex_lock(&gc_rt.meta_lock);
    free(gc_rt.callbacks);
    gc_rt.callbacks = NULL;
    gc_rt.ncallbacks = gc_rt.cap_callbacks = 0;
    grt_object *garbage = gc_rt.garbage;
    gc_rt.garbage = NULL;
    pthread_mutex_unlock(&gc_rt.meta_lock);
    grt_atomic_store_32(&gc_rt.xdebug, 0);
    grt_atomic_store_32(&gc_rt.xenabled, 0);
    grt_xdecref(garbage);

    gc_lock_acquire();
    gc_objvec mortal = { 0 };
    gc_excl e;
    gc_exclusive_begin(&e);
    gc_space_set_gen(&gc_rt.permanent, gc_rt.old_tag);
    gc_space_splice(&gc_rt.old[1], &gc_rt.permanent);
    gc_objvec v0 = { 0 };
    all_tracked(&v0, 0);
    for (size_t k = 0; k < v0.n; k++) {
        grt_object *o = v0.v[k];
        if (gc_flags(o) & GC_IMMORTALIZED) {
            *gc_prev_word(o) &= ~GC_IMMORTALIZED;
            _grt_rc_set(o, GC_FROZEN_COUNT);
            if (gc_objvec_push(&mortal, o) != 0)
                _grt_fatal("gc: out of memory at teardown");
        }
    }
    gc_objvec_free(&v0);
    gc_exclusive_end(&e);

    gc_collect_main(2);

    for (;;) {
        gc_objvec v = { 0 };
        gc_exclusive_begin(&e);
        all_tracked(&v, 1);
        gc_exclusive_end(&e);
        if (v.n == 0 && mortal.n == 0) {
            gc_objvec_free(&v);
            break;
        }
        grt_object_counts before = grt_object_counts_get();
        for (size_t k = 0; k < v.n; k++)
            if (v.v[k]->ob_type->tp_clear)
                v.v[k]->ob_type->tp_clear(v.v[k]);
        for (size_t k = 0; k < v.n; k++)
            grt_decref(v.v[k]);
        for (size_t k = 0; k < mortal.n; k++) {
            _grt_rc_set(mortal.v[k], 1);   /* nothing refers to it any more */
            grt_decref(mortal.v[k]);
        }
        mortal.n = 0;
        grt_err_clear();
        grt_object_counts after = grt_object_counts_get();
        gc_objvec_free(&v);
        if (after.freed == before.freed)
            break;                      /* the rest is held from outside */
    }
    gc_objvec_free(&mortal);

    /* The rest is held only by references the program leaked: every
     * object was cleared above, so nothing refers to another any more; free
     * each as if its last reference went. */
    gc_excl e2;
    gc_exclusive_begin(&e2);
    gc_objvec left = { 0 };
    all_tracked(&left, 0);
    gc_exclusive_end(&e2);
    for (size_t k = 0; k < left.n; k++)
        if (left.v[k]->ob_type->tp_clear)
            left.v[k]->ob_type->tp_clear(left.v[k]);
    for (size_t k = 0; k < left.n; k++) {
        _grt_rc_set(left.v[k], 1);
        grt_decref(left.v[k]);
    }
    uint64_t unreleased = left.n;
    gc_objvec_free(&left);
    grt_err_clear();

    gc_exclusive_begin(&e2);
    gc_space segs = { 0 };
    gc_take_young(&segs);
    gc_space_splice(&segs, &gc_rt.old[0]);
    gc_space_splice(&segs, &gc_rt.old[1]);
    gc_space_splice(&segs, &gc_rt.permanent);
    gc_space_release(&segs);
    gc_collect_release_buffers();
    pthread_mutex_lock(&gc_rt.space_lock);
    gc_rt.finalized = 1;
    gc_seg *pool = gc_rt.pool;
    gc_rt.pool = NULL;
    gc_rt.npool = 0;
    gc_rt.nsegs_used = 0;
    pthread_mutex_unlock(&gc_rt.space_lock);
    while (pool) {
        gc_seg *next = pool->next;
        free(pool);
        pool = next;
    }
    gc_exclusive_end(&e2);
    gc_lock_release();
    return unreleased;
}
