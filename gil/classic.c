/*
 * gil/classic.c — the GIL of CPython 3.2+ (Python/ceval_gil.c, "new GIL").
 *
 * State (all under cl.mutex): `locked`, the `holder` (the last thread that
 * took the GIL, kept after it dropped it, like CPython's last_holder), and
 * `switch_number`, bumped whenever a different thread takes the GIL.
 *
 * Hand-off.
 *   - A waiter sleeps on cl.cond for one switch interval.  If the wait timed
 *     out, the GIL is still locked and switch_number has not moved (nobody
 *     else got it meanwhile), it asks the holder to drop the GIL
 *     (grt_gil_request_drop: GRT_BREAK_GIL_DROP on the holder), then waits
 *     again.  Every waiter does this, so the holder keeps the GIL for about
 *     one interval once someone waits.
 *   - The holder drops at its next safepoint.  Forced switching: a thread
 *     that drops because it was asked (GRT_GIL_YIELD) and sees waiters waits
 *     on cl.switch_cond until holder != itself, i.e. another thread took the
 *     GIL, so it cannot take it straight back.  Someone always does: a waiter
 *     is signalled, and waiters time out at least once per interval.
 *   - Drop requests are set and cleared under cl.mutex, on the current
 *     holder only; the taker clears its own, so no stale request survives a
 *     tenure.
 * Unfair by design: which waiter wins after a drop is up to the condition
 * variable; the drop only guarantees that the dropper is not the winner.
 */
#include "gil_policy.h"

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;            /* the GIL became free */
    pthread_cond_t switch_cond;     /* another thread took the GIL */
    bool locked;
    grt_tstate *holder;             /* current or last holder */
    uint64_t switch_number;
    int waiters;                    /* threads in the wait loop */
    int switch_waiters;             /* droppers waiting for a switch */
} cl;

static int classic_init(void)
{
    pthread_mutex_init(&cl.mutex, NULL);
    gil_cond_init(&cl.cond);
    gil_cond_init(&cl.switch_cond);
    cl.locked = false;
    cl.holder = NULL;
    cl.switch_number = 0;
    cl.waiters = 0;
    cl.switch_waiters = 0;
    return 0;
}

static void classic_fini(void)
{
    pthread_cond_destroy(&cl.switch_cond);
    pthread_cond_destroy(&cl.cond);
    pthread_mutex_destroy(&cl.mutex);
}

static void classic_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    grt_tstate *ts = GIL_TS(t);
    pthread_mutex_lock(&cl.mutex);
    if (cl.locked) {
        cl.waiters++;
        while (cl.locked) {
            uint64_t saved = cl.switch_number;
            int timed_out = gil_cond_timedwait(&cl.cond, &cl.mutex, gil_interval_ns());
            /* A whole interval passed without a switch: ask the holder. */
            if (timed_out && cl.locked && cl.switch_number == saved)
                grt_gil_request_drop(GIL_T(cl.holder));
        }
        cl.waiters--;
    }
    cl.locked = true;
    if (cl.holder != ts) {
        cl.holder = ts;
        cl.switch_number++;
        if (cl.switch_waiters) pthread_cond_broadcast(&cl.switch_cond);
    }
    grt_gil_clear_drop(t);          /* a request aimed at an earlier tenure */
    pthread_mutex_unlock(&cl.mutex);
}

/* Drop the GIL; 1 if it was a forced switch (we waited for a taker). */
static int classic_drop(grt_gil_thread *t, grt_gil_reason why)
{
    grt_tstate *ts = GIL_TS(t);
    int forced = 0;
    pthread_mutex_lock(&cl.mutex);
    GRT_ASSERT(cl.locked && cl.holder == ts);
    cl.locked = false;
    grt_gil_clear_drop(t);
    if (cl.waiters) pthread_cond_signal(&cl.cond);
    if (why == GRT_GIL_YIELD && cl.waiters) {
        /* Forced switching: let a waiter take it before we may try again. */
        forced = 1;
        cl.switch_waiters++;
        while (cl.holder == ts)
            pthread_cond_wait(&cl.switch_cond, &cl.mutex);
        cl.switch_waiters--;
    }
    pthread_mutex_unlock(&cl.mutex);
    return forced;
}

static void classic_release(grt_gil_thread *t, grt_gil_reason why)
{
    classic_drop(t, why);
}

/* Drop (forced switching when someone waits) and take the GIL again. */
static int classic_yield(grt_gil_thread *t)
{
    int forced = classic_drop(t, GRT_GIL_YIELD);
    classic_acquire(t, GRT_GIL_YIELD);
    return forced;
}

static int classic_waiting(void)
{
    pthread_mutex_lock(&cl.mutex);
    int n = cl.waiters;
    pthread_mutex_unlock(&cl.mutex);
    return n;
}

const grt_gil_ops _grt_gil_classic_ops = {
    .summary = "CPython 3.2+: drop request after one switch interval, forced switching",
    .init = classic_init,
    .fini = classic_fini,
    .acquire = classic_acquire,
    .release = classic_release,
    .safepoint = NULL,              /* yield when a drop was requested */
    .waiting = classic_waiting,
    .yield = classic_yield,
};
