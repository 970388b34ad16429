/*
 * The per-object lock of the GIL-off builds (runtime/lock.h): mutual
 * exclusion under contention, and a waiter that outlasts the spinning and
 * yielding and must come back from its timed futex sleeps on its own (a
 * release wakes nobody).  In gil and unsafe the lock compiles away: nothing
 * to test there.
 */
#include "harness.h"
#include "lock.h"
#include <time.h>

#ifdef GRT_FREE_THREADING

#define LOCK_THREADS 4
#define LOCK_ROUNDS 20000

static grt_lock counter_lock;
static int64_t counter;                 /* plain: only ever touched under the lock */

static void bump(int id, void *arg)
{
    (void)id; (void)arg;
    for (int r = 0; r < LOCK_ROUNDS; r++) {
        grt_lock_acquire(&counter_lock);
        int64_t v = counter;            /* a read-modify-write another holder would tear: */
        for (int k = 0; k < 8; k++)     /* held a while, so that without the lock */
            grt_atomic_pause();         /* updates would surely be lost */
        counter = v + 1;
        grt_lock_release(&counter_lock);
    }
}

TEST_MT(lock_excludes_contending_threads)
{
    t_run_threads(LOCK_THREADS, bump, NULL);
    T_EQ(counter, (int64_t)LOCK_THREADS * LOCK_ROUNDS);
    T_EQ(grt_atomic_load_32(&counter_lock.xv), 0);     /* left free */
}

static grt_lock slow_lock;
static uint32_t held;                   /* atomic: thread 0 holds slow_lock */
static int64_t written;                 /* under slow_lock */
static int64_t seen;

static void hold_long(int id, void *arg)
{
    (void)arg;
    if (id == 0) {
        grt_lock_acquire(&slow_lock);
        grt_atomic_store_32_rel(&held, 1);
        /* long enough for the waiter to spin, yield and sleep several times */
        struct timespec t = { 0, 30 * 1000 * 1000 };
        nanosleep(&t, NULL);
        written = 42;
        grt_lock_release(&slow_lock);
    } else {
        while (!grt_atomic_load_32_acq(&held))
            grt_atomic_pause();
        grt_lock_acquire(&slow_lock);   /* held: the slow path, all of it */
        seen = written;
        grt_lock_release(&slow_lock);
    }
}

TEST_MT(lock_waiter_returns_after_a_long_hold)
{
    t_run_threads(2, hold_long, NULL);
    T_EQ(seen, 42);                     /* it got the lock, and after the holder's write */
    T_EQ(grt_atomic_load_32(&slow_lock.xv), 0);
}

#endif
