/*
 * runtime/lock.c — the slow paths of the per-object futex lock (lock.h).
 */
#define GRT_BUILD_CORE 1
#include "internal.h"

#ifdef GRT_FREE_THREADING
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex_wait(uint32_t *addr, uint32_t val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_one(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void _grt_lock_slow(grt_lock *l)
{
    /* Spin briefly: critical sections are a few dozen instructions. */
    for (int i = 0; i < 100; i++) {
        grt_atomic_pause();
        uint32_t expected = 0;
        if (grt_atomic_load_32(&l->xv) == 0 && grt_atomic_cas_32(&l->xv, &expected, 1))
            return;
    }
    /* Then sleep: mark "locked with waiters" (2) and wait while it stays so.
     * The exchange both claims the lock if it was free and tells the holder
     * to wake someone on release. */
    while (grt_atomic_fas_32(&l->xv, 2) != 0)
        futex_wait(&l->xv, 2);
}

void _grt_unlock_wake(grt_lock *l)
{
    futex_wake_one(&l->xv);
}
#endif
