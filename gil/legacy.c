/*
 * gil/legacy.c — the GIL of CPython 2 (the "check interval"), kept to show
 * the convoy effect David Beazley measured in 2010.
 *
 * The GIL is a plain lock with the semantics of the POSIX semaphore CPython 2
 * used on Linux: lg.xlocked is taken with a compare-and-swap (no queue, no
 * owner); a waiter that finds it taken sleeps on lg.cond and, when woken,
 * simply tries the CAS again.  The holder asks for every safepoint
 * (GRT_GIL_EVENT_TICK) and every check interval (grt_gil_get_check_interval,
 * default 100) releases the lock and at once tries to take it back.  Nobody
 * is handed anything and nobody is asked to drop it: the releaser wakes one
 * sleeper, but the sleeper must be scheduled and retry its CAS while the
 * lock happens to be free — a window of about one wake-up system call —
 * and usually the releaser, still running, has taken it back by then.  A
 * thread returning from a blocking call therefore waits many check
 * intervals, and CPU-bound threads burn wake-ups fighting over the lock:
 * the convoy and the "GIL battle" of Beazley's measurements.
 *
 * Progress is only probabilistic: a waiter wins when its retry falls into
 * a window.  No drop requests are ever made.
 *
 * Lost wake-ups: a waiter increments lg.waiters and tries the CAS under
 * lg.mutex before every wait; the releaser frees the lock first and then
 * reads lg.waiters under lg.mutex, so a waiter either saw the lock free or
 * was already inside cond_wait (and counted) when the releaser looked; the
 * signal itself may then come after the unlock.
 */
#include "gil_policy.h"

static struct {
    uint32_t xlocked;           /* 1: held; CAS 0 -> 1 to take, store 0 to free */
    uint64_t xacquired;         /* acquisitions so far, bumped by the holder (yield's
                                   forced-switch count); beside xlocked: same line */
    pthread_mutex_t mutex;      /* guards waiters and the sleeping on cond */
    pthread_cond_t cond;        /* the lock was freed */
    int waiters;
} lg;

static int legacy_init(void)
{
    grt_atomic_store_32(&lg.xlocked, 0);
    grt_atomic_store_64(&lg.xacquired, 0);
    pthread_mutex_init(&lg.mutex, NULL);
    gil_cond_init(&lg.cond);
    lg.waiters = 0;
    return 0;
}

static void legacy_fini(void)
{
    pthread_cond_destroy(&lg.cond);
    pthread_mutex_destroy(&lg.mutex);
}

/* CAS is a full barrier: the previous holder's work happens before ours. */
static int legacy_try(void)
{
    uint32_t expected = 0;
    return grt_atomic_cas_32(&lg.xlocked, &expected, 1);
}

static void legacy_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    if (!legacy_try()) {
        pthread_mutex_lock(&lg.mutex);
        lg.waiters++;
        while (!legacy_try())
            pthread_cond_wait(&lg.cond, &lg.mutex);
        lg.waiters--;
        pthread_mutex_unlock(&lg.mutex);
    }
    /* only the holder writes it: read-then-store is enough */
    grt_atomic_store_64(&lg.xacquired, grt_atomic_load_64(&lg.xacquired) + 1);
    grt_gil_want_ticks(t, 1);           /* count every safepoint from now on */
}

static void legacy_release(grt_gil_thread *t, grt_gil_reason why)
{
    (void)t;
    (void)why;
    /* exchange (a full barrier): our work happens before the next holder's */
    uint32_t was = grt_atomic_fas_32(&lg.xlocked, 0);
    GRT_ASSERT(was == 1);
    (void)was;
    pthread_mutex_lock(&lg.mutex);
    int waiters = lg.waiters;
    pthread_mutex_unlock(&lg.mutex);
    /* Signal outside the mutex, as sem_post does: a woken waiter retries its
     * CAS at once instead of queueing behind us on lg.mutex. */
    if (waiters) pthread_cond_signal(&lg.cond);
}

/* Every check interval: release and re-acquire (gilrt does both). */
static int legacy_safepoint(grt_gil_thread *t, unsigned events)
{
    if (!(events & GRT_GIL_EVENT_TICK)) return 0;
    int64_t *ticks = grt_gil_ticks(t);
    if (*ticks < grt_gil_get_check_interval()) return 0;
    *ticks = 0;
    return 1;
}

/* Release and at once try again; forced if someone else got in between. */
static int legacy_yield(grt_gil_thread *t)
{
    uint64_t before = grt_atomic_load_64(&lg.xacquired);
    legacy_release(t, GRT_GIL_YIELD);
    legacy_acquire(t, GRT_GIL_YIELD);
    return grt_atomic_load_64(&lg.xacquired) - before > 1;
}

static int legacy_waiting(void)
{
    pthread_mutex_lock(&lg.mutex);
    int n = lg.waiters;
    pthread_mutex_unlock(&lg.mutex);
    return n;
}

const grt_gil_ops _grt_gil_legacy_ops = {
    .summary = "CPython 2: release and re-acquire every check interval, no hand-off",
    .init = legacy_init,
    .fini = legacy_fini,
    .acquire = legacy_acquire,
    .release = legacy_release,
    .safepoint = legacy_safepoint,
    .waiting = legacy_waiting,
    .yield = legacy_yield,
};
