/*
 * runtime/lock.c — the contended acquire of the per-object lock (lock.h).
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

static inline int lock_try(grt_lock *l)
{
    uint32_t expected = 0;
    return grt_atomic_load_32(&l->xv) == 0 && grt_atomic_cas_32(&l->xv, &expected, 1);
}

void _grt_lock_slow(grt_lock *l)
{
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
#endif
