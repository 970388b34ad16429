/*
 * gil/gil_policy.h — what the policy files in gil/ share.  Internal to gil/.
 *
 * A policy sees threads as grt_gil_thread handles, which are the threads'
 * grt_tstate; GIL_TS converts.  The built-in policies keep their state in a
 * file-static struct guarded by one pthread mutex, so every hand-off is a
 * mutex or condition-variable operation, or an atomic from atomics/atomic.h
 * (io's bounded spin on a grant flag, legacy's lock word), all of which
 * ThreadSanitizer can see.
 *
 * Waiter nodes (fifo, io).  A thread that must wait puts a gil_waiter on its
 * own stack into the policy's queue (under the policy mutex) and waits until
 * the releaser grants it the GIL.  The grant protocol keeps the node alive
 * for as long as the releaser touches it:
 *   - the waiter sets `sleeping` (under the mutex) before it first waits on
 *     the node's condition variable, and reads xgranted under the mutex
 *     before every wait, so a grant cannot be missed;
 *   - the releaser, holding the mutex, reads `sleeping` first, then stores
 *     xgranted = 1 (release), then signals only if the waiter was sleeping.
 *     A sleeping waiter cannot return before it re-takes the mutex, which the
 *     releaser still holds; a waiter that is not sleeping may see xgranted
 *     (acquire) and return at once, so the releaser touches nothing after
 *     the store in that case.
 */
#ifndef GRT_GIL_POLICY_H
#define GRT_GIL_POLICY_H

/* glibc's adaptive mutexes (first include of every gil/ file, so before any
 * system header). */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1
#endif

#include "../runtime/internal.h"
#include <errno.h>
#include <time.h>

#define GIL_TS(t)  ((grt_tstate *)(t))
#define GIL_T(ts)  ((grt_gil_thread *)(ts))

/* The built-in policies (one file each). */
extern const grt_gil_ops _grt_gil_classic_ops;   /* gil/classic.c */
extern const grt_gil_ops _grt_gil_fifo_ops;      /* gil/fifo.c */
extern const grt_gil_ops _grt_gil_io_ops;        /* gil/io.c */
extern const grt_gil_ops _grt_gil_legacy_ops;    /* gil/legacy.c */
extern const grt_gil_ops _grt_gil_off_ops;       /* gil/off.c */

/* Statistics (gil/stats.c), recorded by gil/gil.c. */
void _grt_gil_stats_acquired(uint64_t wait_ns);    /* the caller just took the GIL */
void _grt_gil_stats_seq_bump(void);         /* policies without yield: count acquisitions */
uint64_t _grt_gil_stats_seq(void);          /* ... a change means someone took it */
void _grt_gil_stats_yielded(int forced);
void _grt_gil_stats_drop_requested(void);
void _grt_gil_stats_restart(void);          /* grt_init: reset, no last holder */
void _grt_gil_stats_fork_child(void);

/* Switch interval in nanoseconds (at least 1000). */
static inline int64_t gil_interval_ns(void) { return grt_gil_switch_interval_us() * 1000; }

/* A mutex that spins briefly before it sleeps where glibc offers one: the
 * policies hold their mutex for a few dozen instructions, so a contender
 * is better off spinning than paying for a futex sleep and wake-up. */
static inline void gil_mutex_init_adaptive(pthread_mutex_t *m)
{
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
#else
    pthread_mutex_init(m, NULL);
#endif
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
static inline void gil_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* Wait on c (m held) for at most ns nanoseconds.  1 if the time ran out. */
static inline int gil_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t nsec = ts.tv_nsec + ns % 1000000000;
    ts.tv_sec += (time_t)(ns / 1000000000 + nsec / 1000000000);
    ts.tv_nsec = (long)(nsec % 1000000000);
    return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT;
}

/* ---- waiter nodes and FIFO queues (see the protocol above) -------------------------- */

typedef struct gil_waiter {
    struct gil_waiter *next;    /* queue link, under the policy mutex */
    grt_tstate *ts;             /* the waiting thread */
    uint32_t xgranted;          /* 0 -> 1 once, by the releaser (store-release) */
    bool sleeping;              /* under the policy mutex: may be in cond_wait */
    uint64_t since_ns;          /* io: when it became the head of its queue (0: not yet) */
    bool resume;                /* io: a preempted holder that resumes its tenure */
    pthread_cond_t cond;        /* the waiter sleeps here (set up once sleeping) */
} gil_waiter;

typedef struct gil_queue {
    gil_waiter *head, *tail;    /* oldest first */
    int n;
} gil_queue;

/* The condition variable is set up only when the waiter is about to sleep
 * (gil_waiter_sleeping): a waiter whose spin succeeds never needs it. */
static inline void gil_waiter_init(gil_waiter *w, grt_tstate *ts)
{
    w->next = NULL;
    w->ts = ts;
    w->xgranted = 0;
    w->sleeping = false;
    w->since_ns = 0;
    w->resume = false;
}

/* Policy mutex held: from now on w may sleep on w->cond. */
static inline void gil_waiter_sleeping(gil_waiter *w)
{
    if (!w->sleeping) {
        gil_cond_init(&w->cond);
        w->sleeping = true;
    }
}

/* After the wait (w granted and out of every queue). */
static inline void gil_waiter_done(gil_waiter *w)
{
    if (w->sleeping) pthread_cond_destroy(&w->cond);
}

static inline void gil_queue_push(gil_queue *q, gil_waiter *w)
{
    w->next = NULL;
    if (q->tail) q->tail->next = w; else q->head = w;
    q->tail = w;
    q->n++;
}

static inline void gil_queue_push_front(gil_queue *q, gil_waiter *w)
{
    w->next = q->head;
    q->head = w;
    if (!q->tail) q->tail = w;
    q->n++;
}

static inline gil_waiter *gil_queue_pop(gil_queue *q)
{
    gil_waiter *w = q->head;
    if (!w) return NULL;
    q->head = w->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    return w;
}

/* 1 once w has been granted the GIL.  Acquire: the previous holder's writes
 * (everything it did under the GIL) happen before what w does next. */
static inline int gil_waiter_granted(const gil_waiter *w)
{
    return grt_atomic_load_32_acq(&w->xgranted) != 0;
}

/* Hand the GIL to w (already popped).  Caller holds the policy mutex.  After
 * this call w may be gone unless it was sleeping (see the protocol above). */
static inline void gil_waiter_grant(gil_waiter *w)
{
    bool sleeping = w->sleeping;
    /* release: our critical section happens before the new holder's */
    grt_atomic_store_32_rel(&w->xgranted, 1);
    if (sleeping) pthread_cond_signal(&w->cond);
}

#endif
