/*
 * gil/fifo.c — a fair GIL: waiters get it in arrival order.
 *
 * A ticket lock whose waiters sleep: each waiter queues a node (gil_waiter,
 * on its own stack) at the tail of fi.queue and sleeps on the node's
 * condition variable; the releaser pops the head and *hands the GIL over*
 * (fi.holder = that thread, then the grant; see gil_policy.h for why the
 * node stays valid).  There is no moment where the GIL is free while someone
 * waits, so nobody can barge in: the order of grants is the order of
 * arrival, including for a thread that yields at a safepoint, which queues
 * at the tail like anyone else, in the same critical section as its
 * hand-off (fifo_yield), so forced switching comes for free and the
 * rotation among busy threads is exact.
 *
 * When to switch is classic's rule: a waiter that slept one switch interval
 * without seeing a switch (fi.switch_number unchanged) asks the holder to
 * drop the GIL.  Without that rule two CPU-bound threads would switch at
 * every safepoint and spend their time waking each other.
 *
 * Concurrency Kit's ck_spinlock_ticket/_mcs spin; here a waiter must sleep
 * (more threads than cores), and CK's plain loads are invisible to TSan, so
 * the ticket queue lives under one pthread mutex: fi.mutex guards every field.
 */
#include "gil_policy.h"

static struct {
    pthread_mutex_t mutex;
    grt_tstate *holder;         /* NULL: free (and then the queue is empty) */
    gil_queue queue;            /* waiters, oldest first */
    uint64_t switch_number;     /* grants so far */
} fi;

static int fifo_init(void)
{
    pthread_mutex_init(&fi.mutex, NULL);
    fi.holder = NULL;
    fi.queue = (gil_queue){ NULL, NULL, 0 };
    fi.switch_number = 0;
    return 0;
}

static void fifo_fini(void)
{
    GRT_ASSERT(fi.queue.n == 0);
    pthread_mutex_destroy(&fi.mutex);
}

/* Queue w (for ts) and sleep until it is granted; fi.mutex held throughout
 * (except inside the waits).  A waiter that sleeps one interval without a
 * switch asks the holder to drop the GIL. */
static void fifo_wait(gil_waiter *w)
{
    gil_waiter_sleeping(w);             /* fifo waiters never spin */
    gil_queue_push(&fi.queue, w);
    while (!gil_waiter_granted(w)) {
        uint64_t saved = fi.switch_number;
        int timed_out = gil_cond_timedwait(&w->cond, &fi.mutex, gil_interval_ns());
        if (timed_out && !gil_waiter_granted(w) && fi.switch_number == saved)
            grt_gil_request_drop(GIL_T(fi.holder));
    }
    GRT_ASSERT_INTERNAL(fi.holder == w->ts);
}

/* Hand the GIL from the holder to the head of the queue (fi.mutex held). */
static void fifo_hand_off(void)
{
    gil_waiter *next = gil_queue_pop(&fi.queue);
    fi.holder = next ? next->ts : NULL;
    if (next) {
        fi.switch_number++;
        gil_waiter_grant(next);
    }
}

static void fifo_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    grt_tstate *ts = GIL_TS(t);
    pthread_mutex_lock(&fi.mutex);
    if (!fi.holder) {
        GRT_ASSERT_INTERNAL(fi.queue.n == 0);
        fi.holder = ts;
        fi.switch_number++;
        grt_gil_clear_drop(t);          /* a request aimed at an earlier tenure */
        pthread_mutex_unlock(&fi.mutex);
        return;
    }
    gil_waiter w;
    gil_waiter_init(&w, ts);
    fifo_wait(&w);
    pthread_mutex_unlock(&fi.mutex);
    gil_waiter_done(&w);
}

static void fifo_release(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    pthread_mutex_lock(&fi.mutex);
    GRT_ASSERT(fi.holder == GIL_TS(t));
    grt_gil_clear_drop(t);
    fifo_hand_off();
    pthread_mutex_unlock(&fi.mutex);
}

/* Hand over and queue at the tail in one critical section: exact rotation. */
static int fifo_yield(grt_gil_thread *t)
{
    grt_tstate *ts = GIL_TS(t);
    pthread_mutex_lock(&fi.mutex);
    GRT_ASSERT(fi.holder == ts);
    grt_gil_clear_drop(t);              /* one made since gilrt cleared it */
    if (fi.queue.n == 0) {              /* nobody waits (a stale request): keep it */
        pthread_mutex_unlock(&fi.mutex);
        return 0;
    }
    fifo_hand_off();
    gil_waiter w;
    gil_waiter_init(&w, ts);
    fifo_wait(&w);
    pthread_mutex_unlock(&fi.mutex);
    gil_waiter_done(&w);
    return 1;
}

static int fifo_waiting(void)
{
    pthread_mutex_lock(&fi.mutex);
    int n = fi.queue.n;
    pthread_mutex_unlock(&fi.mutex);
    return n;
}

const grt_gil_ops _grt_gil_fifo_ops = {
    .summary = "fair: hand-off in arrival order, drop request after one switch interval",
    .init = fifo_init,
    .fini = fifo_fini,
    .acquire = fifo_acquire,
    .release = fifo_release,
    .safepoint = NULL,
    .waiting = fifo_waiting,
    .yield = fifo_yield,
};
