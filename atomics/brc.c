/*
 * atomics/brc.c — biased reference counting's slow paths: non-owner updates,
 * the merge queues, thread exit.  The protocol and its argument are in
 * atomics/rc_biased.h; the step numbers below refer to it.
 *
 * Which list a queued object is on: its owner's tstate->brc.items, from the
 * non-owner decref that queued it (step 3) until the owner's next safepoint
 * (step 4), its exit (step 5), or a collection (merge of every queue with
 * the world stopped).  brc_lock guards every queue and the question "is the
 * owner still registered?": an owner leaves brc_live under it.
 */
#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"

#ifdef GRT_VARIANT_BRC

__thread unsigned long long _grt_brc_key GRT_TLS_IE = (uint64_t)GRT_BRC_TID_NONE << 32;

static pthread_mutex_t brc_lock = PTHREAD_MUTEX_INITIALIZER;

/* Step 2's rare case: the inline atomic add took the shared count to the
 * saturation mark or beyond; pin it there, the object is immortal from now on. */
void _grt_brc_incref_shared(grt_object *o)
{
    uint32_t cur = grt_atomic_load_32(&o->xob_ref_shared);
    while (_grt_brc_count(cur) != GRT_BRC_SHARED_SATURATED &&
           !grt_atomic_cas_32(&o->xob_ref_shared, &cur,
                              _grt_brc_word(GRT_BRC_SHARED_SATURATED, cur & GRT_BRC_STATE_MASK)))
        ;
}


/* Merge o's counts into shared, minus `extra`; the caller is the owner, or
 * the owner is gone or parked, and o is QUEUED.  Returns the merged count.
 * The owner word is cleared (local 0, no owner) before the CAS that
 * publishes MERGED, never after: once MERGED, another thread's decref may
 * take the count to 0 and free o, and a store after that CAS wrote to freed
 * memory (TSan caught it in the stress run).  Before it nothing frees o:
 * while QUEUED, non-owner decrefs only subtract. */
static int64_t brc_explicit_merge(grt_object *o, int32_t extra)
{
    uint32_t local = grt_atomic_load_32(&o->xob_ref_local);
    uint32_t shared = grt_atomic_load_32(&o->xob_ref_shared);
    if (_grt_brc_count(shared) >= GRT_BRC_SHARED_SATURATED)
        return 1;                                     /* immortal: nothing to do */
    grt_atomic_store_64(&o->xob_owner, 0);
    int32_t count;
    do {
        if (_grt_brc_count(shared) >= GRT_BRC_SHARED_SATURATED)
            return 1;                                 /* pinned meanwhile: immortal */
        count = (int32_t)local + _grt_brc_count(shared) + extra;
    } while (!grt_atomic_cas_32(&o->xob_ref_shared, &shared, _grt_brc_word(count, GRT_BRC_MERGED)));
    return count;
}

static void brc_merge_one_queued(grt_object *o)     /* step 4, the queue's reference */
{
    int64_t n = brc_explicit_merge(o, -1);
    if (n == 0)
        _grt_dealloc(o);
    else if (GRT_UNLIKELY(n < 0))
        _grt_fatal_negative_refcnt(o);
}

static grt_tstate *brc_find_owner_locked(uint32_t tid)
{
    grt_tstate *t = _grt_tstate_find_locked(tid);
    return t && t->brc.cap != SIZE_MAX ? t : NULL;
}

/* Append o to q (brc_lock held, or the only thread left after a fork). */
static void brc_queue_push(grt_brc_queue *q, grt_object *o, uint32_t tid)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        grt_object **items = realloc(q->items, cap * sizeof *items);
        if (!items)
            _grt_fatal("brc: out of memory growing the merge queue of thread %u", tid);
        q->items = items;
        q->cap = cap;
    }
    q->items[q->n++] = o;
}

/* Merge the n objects taken from queues, with no lock held (merging frees
 * objects, whose finalizers run user code), and free the array.  0 if there
 * were none: the caller's drain loop ends. */
static size_t brc_merge_taken(grt_object **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        brc_merge_one_queued(items[i]);
    free(items);
    return n;
}

/* Queue o to its owner (step 4); merge it here if the owner has exited. */
static void brc_queue(grt_object *o)
{
    uint32_t tid = grt_atomic_load_32(&o->xob_tid);
    pthread_mutex_lock(&brc_lock);
    /* registry_lock is not needed to walk the list: a thread leaves it only
     * after leaving brc (cap = SIZE_MAX under brc_lock, see thread_fini), and
     * joins it before it can own anything. */
    pthread_mutex_lock(&_grt_rt.registry_lock);
    grt_tstate *owner = tid ? brc_find_owner_locked(tid) : NULL;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    if (owner) {
        brc_queue_push(&owner->brc, o, tid);
        _grt_breaker_set(owner, GRT_BREAK_BRC_MERGE);
        pthread_mutex_unlock(&brc_lock);
        return;
    }
    pthread_mutex_unlock(&brc_lock);
    brc_merge_one_queued(o);                          /* owner gone: merge here */
}

void _grt_brc_decref_shared(grt_object *o)          /* step 3 */
{
    uint32_t shared = grt_atomic_load_32(&o->xob_ref_shared);
    uint32_t desired;
    int queue;
    do {
        if (_grt_brc_count(shared) >= GRT_BRC_SHARED_SATURATED)
            return;                                   /* immortal */
        queue = (shared == 0);
        desired = queue ? _grt_brc_word(0, GRT_BRC_QUEUED)
                        : shared - (1u << GRT_BRC_SHIFT);
    } while (!grt_atomic_cas_32(&o->xob_ref_shared, &shared, desired));
    if (queue) {
        brc_queue(o);
    } else if ((desired & GRT_BRC_STATE_MASK) == GRT_BRC_MERGED) {
        if (desired == _grt_brc_word(0, GRT_BRC_MERGED))
            _grt_dealloc(o);
        else if (_grt_brc_count(desired) < 0)
            _grt_fatal_negative_refcnt(o);
    }
}


static void brc_merge_zero_local(grt_object *o)     /* step 1 */
{
    /* acquire: if shared is 0 we free, after every non-owner's release CAS */
    uint32_t shared = grt_atomic_load_32_acq(&o->xob_ref_shared);
    if (shared == 0) {
        _grt_dealloc(o);
        return;
    }
    grt_atomic_store_32(&o->xob_tid, 0);
    uint32_t desired;
    do {
        if (_grt_brc_count(shared) >= GRT_BRC_SHARED_SATURATED)
            return;
        desired = (shared & ~GRT_BRC_STATE_MASK) | GRT_BRC_MERGED;
    } while (!grt_atomic_cas_32(&o->xob_ref_shared, &shared, desired));
    if (desired == _grt_brc_word(0, GRT_BRC_MERGED))
        _grt_dealloc(o);
}

/* Step 1's rare cases: a decref too many, and the last local reference.
 * One call from the inline decref: the merge above is inlined here. */
void _grt_brc_decref_owner_slow(grt_object *o, uint32_t local)
{
    if (GRT_UNLIKELY(local == 0))
        _grt_fatal_negative_refcnt(o);
    /* local 1 -> 0, the whole word as the fast path stores it (a 32-bit
     * store here would stall the next 64-bit load of it) */
    grt_atomic_store_64(&o->xob_owner, _grt_brc_key);
    brc_merge_zero_local(o);
}

/* Take t's queue, array and all, leaving it empty (brc_lock held); a queue
 * that was closed by its thread's exit (cap SIZE_MAX) stays closed. */
static size_t brc_take_locked(grt_tstate *t, grt_object ***items)
{
    size_t n = t->brc.n;
    *items = t->brc.items;
    t->brc.items = NULL;
    t->brc.n = 0;
    if (t->brc.cap != SIZE_MAX)
        t->brc.cap = 0;
    return n;
}

/* Take ts's queue (under brc_lock) and merge it; merging may free objects,
 * which may queue more: loop until empty. */
static void brc_drain(grt_tstate *ts)
{
    for (;;) {
        grt_object **items;
        pthread_mutex_lock(&brc_lock);
        size_t n = brc_take_locked(ts, &items);
        pthread_mutex_unlock(&brc_lock);
        if (brc_merge_taken(items, n) == 0)
            return;
    }
}

void _grt_brc_merge_queue(grt_tstate *ts) { brc_drain(ts); }

void _grt_brc_merge_all_queues(void)
{
    GRT_ASSERT(_grt_world_is_stopped());
    /* Take one queue's array at a time under the locks (the array itself:
     * no copy, so nothing to allocate and nothing to fail), then merge it
     * with none held (merging frees objects, whose finalizers run user
     * code, which may queue more); never touch a thread state after the
     * locks are released.  Done when a pass finds every queue empty. */
    for (;;) {
        grt_object **items = NULL;
        size_t n = 0;
        pthread_mutex_lock(&brc_lock);                /* brc_queue's lock order */
        pthread_mutex_lock(&_grt_rt.registry_lock);
        for (grt_tstate *t = _grt_rt.threads; t; t = t->next) {
            if (t->brc.cap != SIZE_MAX && t->brc.n != 0) {
                n = brc_take_locked(t, &items);
                break;
            }
        }
        pthread_mutex_unlock(&_grt_rt.registry_lock);
        pthread_mutex_unlock(&brc_lock);
        if (brc_merge_taken(items, n) == 0)
            return;
    }
}

void _grt_brc_thread_init(grt_tstate *ts)
{
    pthread_mutex_init(&ts->brc.lock, NULL);
    _grt_brc_key = (uint64_t)ts->tid << 32;
}

/* Step 5.  The queue is merged while it is still open and this thread is
 * still the owner: merging frees objects, whose finalizers count references
 * to our other objects through the owner's plain path.  We leave only in the
 * critical section that finds the queue empty, and drop our key in it: from
 * the moment another thread can see us gone (cap SIZE_MAX, under brc_lock)
 * it merges our objects itself (brc_queue), reading local, so no owner write
 * of ours may follow.  (Closing the queue first, then merging, let a
 * finalizer's plain count updates race with such a merge: objects leaked or
 * were freed early.) */
void _grt_brc_thread_fini(grt_tstate *ts)
{
    for (;;) {
        brc_drain(ts);
        pthread_mutex_lock(&brc_lock);
        if (ts->brc.n == 0) {
            ts->brc.cap = SIZE_MAX;                  /* gone: brc_find_owner skips it */
            _grt_brc_key = (uint64_t)GRT_BRC_TID_NONE << 32;
            pthread_mutex_unlock(&brc_lock);
            return;
        }
        pthread_mutex_unlock(&brc_lock);             /* queued to meanwhile: again */
    }
}

void _grt_brc_fork_child(grt_tstate *ts)
{
    /* Objects queued to threads that do not exist in the child: their
     * owners never run again.  Move them to this thread's queue, merged at
     * its next safepoint (merging here could free objects and run
     * finalizers while the fork still holds the world stopped).  This
     * thread held brc_lock's users stopped, so no one holds brc_lock. */
    pthread_mutex_init(&brc_lock, NULL);
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next) {
        if (t == ts || t->brc.cap == SIZE_MAX || t->brc.n == 0)
            continue;
        for (size_t i = 0; i < t->brc.n; i++)
            brc_queue_push(&ts->brc, t->brc.items[i], ts->tid);
        t->brc.n = 0;
        t->brc.cap = SIZE_MAX;
        _grt_breaker_set(ts, GRT_BREAK_BRC_MERGE);
    }
}

#else /* not brc: nothing is ever queued */

void _grt_brc_thread_init(grt_tstate *ts) { (void)ts; }
void _grt_brc_thread_fini(grt_tstate *ts) { (void)ts; }
void _grt_brc_merge_queue(grt_tstate *ts) { (void)ts; }
void _grt_brc_merge_all_queues(void) {}
void _grt_brc_fork_child(grt_tstate *ts) { (void)ts; }

#endif
