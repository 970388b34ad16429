/*
 * runtime/lock.c — the contended acquire of the per-object lock (lock.h),
 * and biased locks.
 *
 * Biased locks.  Most containers are only ever used by the thread that made
 * them, and for those even one uncontended CAS per operation is most of
 * the price of going GIL-off (bench `containers`: five operations, five
 * CASes).  So a container's lock starts biased to its creator: the word
 * holds the creator's id (tid << 2 | BIASED), and the creator "acquires" it
 * by finding its own value there — one load and one compare, no
 * read-modify-write, and a release that stores nothing.  This is the biased
 * locking of Kawachiya, Koseki and Onodera (OOPSLA 2002) and of HotSpot,
 * with the stop-the-world pause this runtime already has for the collector
 * as the revocation handshake.
 *
 * Revocation.  Another thread that wants the lock cannot take it from the
 * owner by a CAS: the owner reads the word without any fence, so it might
 * be inside a critical section it entered on the old value.  The
 * requester instead stops the world (runtime/stw.c): every other thread is
 * then parked at a safepoint or detached, and no thread holds a lock at a
 * safepoint (lock.h's rules), so the owner is between operations.  The
 * requester stores 0 (an ordinary free lock), restarts the world and takes
 * the lock as usual.  The pause orders the owner's last biased operation
 * before the requester's first one (the parking CAS and registry_lock;
 * ThreadSanitizer sees those edges too).  A lock never becomes biased again,
 * so each container pays for a revocation at most once.  A thread that
 * already excludes everyone — it stopped the world itself (the collector
 * clearing another thread's garbage list), or a GIL policy is active and it
 * holds the GIL — revokes nothing: it uses the lock as it stands, and its
 * release stores nothing; the bias stays with its owner, and the restart
 * (or the GIL's hand-over) orders what it wrote before the owner's next use.
 *
 * Stale biases need no pause.  A word biased to a thread that has left the
 * registry (exited; tids are never reused; after fork only the forking
 * thread remains) or that no longer biases is released with one CAS: that
 * owner will never take the lock through the bias again, and
 * registry_lock, under which we looked it up, orders its last use before
 * ours.
 *
 * The pathology and its bound.  A thread whose containers are handed to
 * other threads (a producer) would cost a pause per container.  So each
 * revocation is charged to the owner, and after GRT_LOCK_BIAS_REVOCATIONS
 * of them the owner stops biasing: during that pause its tstate is marked,
 * which makes every word still biased to it stale at once (no pause for
 * the rest), and the owner, which reads its bias value from its tstate when
 * it re-attaches after the pause, creates ordinary locks from then on.
 *
 * Where a thread could meet a revocation while holding a lock (the second
 * lock of grt_lock2_acquire), the caller unbiases first (lock.h).
 *
 * A release is a plain store that wakes nobody, so the waiter finds out by
 * looking: it spins (the holder is most likely running a critical section
 * of a few dozen instructions on another core), then yields the processor
 * (the holder may be waiting for one), then sleeps on the futex with a
 * timeout.  The futex returns at once if the lock is no longer held when
 * the kernel looks; otherwise the waiter sleeps until the timeout, which
 * doubles from GRT_LOCK_SLEEP_MIN_NS to GRT_LOCK_SLEEP_MAX_NS, and that is
 * as late as it can be woken after the release.  Each look is a load first
 * and a CAS only if the lock reads free (test-and-test-and-set), so that
 * waiters do not take the line from the holder while it is held.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"

#ifdef GRT_FREE_THREADING
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GRT_LOCK_SPINS 100
#define GRT_LOCK_YIELDS 16
#define GRT_LOCK_SLEEP_MIN_NS 10000         /* 10 µs */
#define GRT_LOCK_SLEEP_MAX_NS 1000000       /* 1 ms */
#define GRT_LOCK_BIAS_REVOCATIONS 16        /* revocations before a thread stops biasing */

__thread uint32_t _grt_lock_bias_self GRT_TLS_IE = GRT_LOCK_NO_BIAS;


/* Charge a revocation to the owner; stop its biasing at the limit.  The
 * world is stopped (or the GIL held), so the owner is not running and will
 * read xbias_off when it next attaches. */
static void lock_charge_revocation(uint32_t tid)
{
    pthread_mutex_lock(&_grt_rt.registry_lock);
    _grt_rt.lock_counts.revoked++;
    grt_tstate *owner = _grt_tstate_find_locked(tid);
    if (owner && ++owner->bias_revocations == GRT_LOCK_BIAS_REVOCATIONS) {
        grt_atomic_store_32(&owner->xbias_off, 1);
        _grt_rt.lock_counts.unbiased_threads++;
    }
    pthread_mutex_unlock(&_grt_rt.registry_lock);
}

void _grt_lock_unbias(grt_lock *l)
{
    uint32_t w = grt_atomic_load_32(&l->xv);
    if (!(w & GRT_LOCK_BIASED) || w == _grt_lock_bias_self || _grt_world_is_stopped())
        return;                         /* the stopped world needs no revocation */
    uint32_t tid = w >> 2;
    pthread_mutex_lock(&_grt_rt.registry_lock);
    grt_tstate *owner = _grt_tstate_find_locked(tid);
    bool live = owner && !grt_atomic_load_32(&owner->xbias_off);
    if (!live)
        _grt_rt.lock_counts.stale++;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    if (!live) {
        /* stale: its owner will never use the bias again */
        grt_atomic_cas_32(&l->xv, &w, 0);
        return;
    }
    _grt_stop_the_world();
    /* someone may have revoked it while we waited for the pause */
    if (grt_atomic_load_32(&l->xv) == w) {
        grt_atomic_store_32(&l->xv, 0);
        lock_charge_revocation(tid);
    }
    _grt_start_the_world();
}

void _grt_lock_bias_attach(grt_tstate *ts)
{
    _grt_lock_bias_self = grt_atomic_load_32(&ts->xbias_off) ? GRT_LOCK_NO_BIAS
                                                            : _grt_lock_bias_word(ts->tid);
}

void _grt_lock_bias_forget(void) { _grt_lock_bias_self = GRT_LOCK_NO_BIAS; }

grt_lock_counts grt_lock_counts_get(void)
{
    pthread_mutex_lock(&_grt_rt.registry_lock);
    grt_lock_counts c = _grt_rt.lock_counts;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    return c;
}

static inline int lock_try(grt_lock *l)
{
    uint32_t expected = 0;
    return grt_atomic_load_32(&l->xv) == 0 && grt_atomic_cas_32(&l->xv, &expected, 1);
}

void _grt_lock_slow(grt_lock *l)
{
    if (grt_atomic_load_32(&l->xv) & GRT_LOCK_BIASED) {
        /* biased to another thread, and that thread is parked or waits for
         * the GIL we hold: take it as it stands, the release stores nothing */
        if (_grt_world_is_stopped())
            return;
        _grt_lock_unbias(l);
        if (lock_try(l))                /* an ordinary lock now, free or held */
            return;
    }
    for (int i = 0; i < GRT_LOCK_SPINS; i++) {
        grt_atomic_pause();
        if (lock_try(l))
            return;
    }
    for (int i = 0; i < GRT_LOCK_YIELDS; i++) {
        sched_yield();
        if (lock_try(l))
            return;
    }
    long sleep_ns = GRT_LOCK_SLEEP_MIN_NS;
    while (!lock_try(l)) {
        struct timespec t = { 0, sleep_ns };
        /* sleeps only while the word still reads 1 (held) */
        syscall(SYS_futex, &l->xv, FUTEX_WAIT_PRIVATE, 1, &t, NULL, 0);
        sleep_ns = sleep_ns * 2 < GRT_LOCK_SLEEP_MAX_NS ? sleep_ns * 2 : GRT_LOCK_SLEEP_MAX_NS;
    }
}
#else
grt_lock_counts grt_lock_counts_get(void) { return (grt_lock_counts){ 0, 0, 0 }; }  /* no locks */
#endif
