/*
 * runtime/stw.c — stopping the world (GIL-off runs).
 *
 * The handshake.  A requester R (attached) wants every other registered
 * thread unable to touch objects:
 *
 *   1. R takes stw_mutex (one pause at a time).  It waits for it *detached*,
 *      so that a second requester blocked here does not stall the first
 *      one's pause — it counts as stopped.
 *   2. R sets xstw_requested, then, under registry_lock, scans the registry:
 *        - ATTACHED thread: set its GRT_BREAK_STW bit; it is still running;
 *        - DETACHED thread: CAS it to SUSPENDED.  Its grt_attach CAS
 *          (DETACHED -> ATTACHED) now fails, so it waits on registry_cond
 *          instead of re-entering the runtime; a detached thread blocked in a
 *          system call does not hold the pause up;
 *        - SUSPENDED: already stopped.
 *      R repeats the scan (waiting on registry_cond between scans) until no
 *      thread is ATTACHED.
 *   3. An attached thread reaching grt_safepoint with the bit set CASes itself
 *      ATTACHED -> SUSPENDED, broadcasts registry_cond and waits there while it
 *      stays SUSPENDED.  A thread that detaches instead also broadcasts, and
 *      R's next scan suspends it.
 *   4. R collects.  Restart: under registry_lock every SUSPENDED thread is set
 *      back to DETACHED, then a broadcast; each waiter re-attaches with the
 *      ordinary CAS (a parked thread thus resumes exactly like a thread
 *      returning from a blocking call).
 *
 * Why it is safe: a thread touches objects only while ATTACHED; R returns
 * from step 2 only when every other thread's state word is SUSPENDED (they
 * cannot leave it without R's step 4) or the thread has left the registry.
 * Memory ordering: each transition to SUSPENDED is a seq_cst CAS followed by
 * registry_lock, which R takes before it reads the states; R's reads of the
 * objects therefore happen after the stopped threads' last writes, and R's
 * writes happen before the unlock that precedes their re-attach CAS.
 *
 * With a GIL active the GIL already excludes everyone: stop/start only check
 * that the caller holds it.  Either way the pause nests for the thread that
 * holds it: code run inside a pause (a collection's finalizers and weakref
 * callbacks) may stop the world again, e.g. to fork, and only the outermost
 * start restarts it.  The unsafe build stops nobody (that is what it
 * demonstrates).
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include <time.h>

static __thread int stw_depth_gil;   /* GIL mode: "stopped" for assertions */
static int stw_depth_nested;         /* GIL-off: the requester's nested stops (it alone
                                        touches it, holding stw_mutex) */

bool _grt_stw_held_by_self(void)
{
    grt_tstate *ts = _grt_tstate_current;
    return stw_depth_gil > 0 ||
           (ts && grt_atomic_load_ptr((void **)&_grt_rt.stw_requester) == ts);
}

bool _grt_world_is_stopped(void)
{
    grt_tstate *ts = _grt_tstate_current;
    if (_grt_gil_enabled())
        return ts && ts->holds_gil;
    return ts && grt_atomic_load_ptr((void **)&_grt_rt.stw_requester) == ts;
}

static int stw_scan_locked(grt_tstate *self)
{
    int running = 0;
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next) {
        if (t == self)
            continue;
        for (;;) {
            /* acquire: a thread's last writes before it parked happen before ours */
            uint32_t s = grt_atomic_load_32_acq(&t->xstate);
            if (s == GRT_TS_ATTACHED) {
                _grt_breaker_set(t, GRT_BREAK_STW);
                running++;
                break;
            }
            if (s == GRT_TS_SUSPENDED)
                break;
            uint32_t expected = GRT_TS_DETACHED;
            if (grt_atomic_cas_32(&t->xstate, &expected, GRT_TS_SUSPENDED))
                break;
            /* it attached in the meantime: look again */
        }
    }
    return running;
}

void _grt_stop_the_world(void)
{
    grt_tstate *self = _grt_tstate_require("_grt_stop_the_world");
    if (_grt_gil_enabled()) {
        GRT_ASSERT(self->holds_gil);
        stw_depth_gil++;
        return;
    }
    if (grt_atomic_load_ptr((void **)&_grt_rt.stw_requester) == self) {
        stw_depth_nested++;                      /* ours already: nest */
        return;
    }
#ifdef GRT_VARIANT_UNSAFE
    /* unsafe stops nobody: the pause is declared, not enforced, and the
     * requester goes on while every other thread runs — the collector race
     * stress/race_collector.c shows */
    pthread_mutex_lock(&_grt_rt.stw_mutex);
    grt_atomic_store_ptr((void **)&_grt_rt.stw_requester, self);
    return;
#endif
    if (pthread_mutex_trylock(&_grt_rt.stw_mutex) != 0) {
        /* someone else is stopping the world: be stopped while we wait */
        grt_detach();
        pthread_mutex_lock(&_grt_rt.stw_mutex);
        grt_attach_blocking();
    }
    uint64_t t0 = _grt_now_ns();
    grt_atomic_store_32(&_grt_rt.xstw_requested, 1);
    pthread_mutex_lock(&_grt_rt.registry_lock);
    grt_atomic_store_ptr((void **)&_grt_rt.stw_requester, self);
    while (stw_scan_locked(self) > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 1000000;               /* re-scan at least every 1 ms */
        if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&_grt_rt.registry_cond, &_grt_rt.registry_lock, &until);
    }
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    uint64_t tts = _grt_now_ns() - t0;
    _grt_rt.tts_last_ns = tts;
    if (tts > _grt_rt.tts_max_ns) _grt_rt.tts_max_ns = tts;
    _grt_rt.stw_count++;
    _grt_rt.stw_start_ns = t0;
}

void _grt_start_the_world(void)
{
    grt_tstate *self = _grt_tstate_current;
    if (_grt_gil_enabled()) {
        GRT_ASSERT(self && self->holds_gil && stw_depth_gil > 0);
        stw_depth_gil--;
        return;
    }
    GRT_ASSERT(grt_atomic_load_ptr((void **)&_grt_rt.stw_requester) == self);
    if (stw_depth_nested > 0) {
        stw_depth_nested--;
        return;
    }
#ifdef GRT_VARIANT_UNSAFE
    grt_atomic_store_ptr((void **)&_grt_rt.stw_requester, NULL);
    pthread_mutex_unlock(&_grt_rt.stw_mutex);
    return;
#endif
    uint64_t pause = _grt_now_ns() - _grt_rt.stw_start_ns;
    _grt_rt.stw_last_ns = pause;
    if (pause > _grt_rt.stw_max_ns) _grt_rt.stw_max_ns = pause;
    pthread_mutex_lock(&_grt_rt.registry_lock);
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next)
        if (t != self && grt_atomic_load_32(&t->xstate) == GRT_TS_SUSPENDED)
            /* release: what the pause wrote happens before their re-attach CAS */
            grt_atomic_store_32_rel(&t->xstate, GRT_TS_DETACHED);
    grt_atomic_store_ptr((void **)&_grt_rt.stw_requester, NULL);
    grt_atomic_store_32(&_grt_rt.xstw_requested, 0);
    pthread_cond_broadcast(&_grt_rt.registry_cond);
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    pthread_mutex_unlock(&_grt_rt.stw_mutex);
}

void _grt_stw_park(grt_tstate *ts)
{
    /* a stale bit (the thread detached instead of parking), or the
     * requester's own safepoint during its pause: nothing to do */
    if (!grt_atomic_load_32(&_grt_rt.xstw_requested) ||
        grt_atomic_load_ptr((void **)&_grt_rt.stw_requester) == ts)
        return;
    uint32_t expected = GRT_TS_ATTACHED;
    if (!grt_atomic_cas_32(&ts->xstate, &expected, GRT_TS_SUSPENDED))
        _grt_fatal("stop-the-world: parking thread %u found state %u", ts->tid, expected);
    pthread_mutex_lock(&_grt_rt.registry_lock);
    pthread_cond_broadcast(&_grt_rt.registry_cond);
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    /* the world restarts: re-attach like a thread returning from a block */
    _grt_tstate_attach_state(ts);
}
