/*
 * runtime/lock.h — per-object locks for containers (CPython's critical
 * sections).  Internal.
 *
 * In the GIL-off builds (atomic, brc) list, dict and instance operations take
 * the object's 32-bit lock; operations on two objects take both in
 * address order (grt_lock2), so no pair of threads can deadlock.  In gil the
 * GIL already serialises them and in unsafe they deliberately do nothing —
 * the locks compile away.
 *
 * Rules that keep locks from meeting the collector or each other:
 *   - no decref, no safepoint, no call into user code (finalizers, hash/eq of
 *     user types) while a lock is held: old values are collected and released
 *     after unlocking;
 *   - allocation under a lock is allowed (the allocator never collects).
 *
 * The lock is a test-and-test-and-set lock: 0 free, 1 held.  Acquire is a
 * CAS (seq_cst on x86-64, which orders the critical section after it);
 * release is a plain store with release order (a mov on x86-64), and this
 * is what the design turns on.  Most container operations take a lock
 * nobody else wants, and an uncontended operation then costs one
 * lock-prefixed instruction instead of two: with Drepper's futex mutex
 * ("Futexes are tricky", mutex 2), which this lock replaced, the release
 * was an exchange, so that it could see a sleeping waiter and wake it.
 * Measured on bench `containers` (5 operations, 5 lock/unlock pairs;
 * medians of 15 alternating processes): 1.33x the throughput for brc, 1.30x
 * for atomic.  With 2 and 8 threads appending to and popping from one
 * shared list it was within the noise of the futex mutex (3 runs each).
 * The price: a release wakes nobody, so a waiter must never sleep without
 * a time limit.  It spins (critical sections are a few dozen
 * instructions), then yields, then sleeps on the futex with a timeout that
 * doubles up to 1 ms (runtime/lock.c); a lock held for long (a dict resized
 * under it) is waited for with few wake-ups, and at most that timeout late.  Like any
 * test-and-set lock it is not fair: a waiter can lose the race to a thread
 * that comes later.  CPython's PyMutex is fairer (it hands the lock over
 * after a waiter waited 1 ms) and pays the exchange at every release.
 *
 * A container's lock starts biased to the thread that creates it
 * (grt_lock_init): that thread's acquire is one load and one compare, its
 * release stores nothing.  Another thread revokes the bias once, with a
 * stop-the-world pause; runtime/lock.c explains the protocol.  Revocation
 * may stop the world, so it must never be needed with a lock held: the
 * second lock of grt_lock2_acquire is unbiased before the first is taken.
 */
#ifndef GRT_RUNTIME_LOCK_H
#define GRT_RUNTIME_LOCK_H

#include <stdint.h>

typedef struct { uint32_t xv; } grt_lock;

/* Where a container's lock lives.  brc's header has a spare 32-bit word
 * (xob_lock) and the lock goes there, as CPython 3.13t's ob_mutex: a brc
 * list is then 64 bytes with its collector header instead of 80.  The
 * other headers have no spare word, and the container carries the lock
 * as its first field.  A container struct declares GRT_LOCK_FIELD right
 * after ob_base and takes its lock with GRT_LOCK_OF(p).  Only the lock
 * functions below touch the word, through atomics/atomic.h. */
#ifdef GRT_OBJECT_HEAD_HAS_LOCK
#  define GRT_LOCK_FIELD
#  define GRT_LOCK_OF(p) ((grt_lock *)&(p)->ob_base.xob_lock)
_Static_assert(sizeof(grt_lock) == sizeof(((grt_object *)0)->xob_lock), "the header's lock word");
#else
#  define GRT_LOCK_FIELD grt_lock lock;
#  define GRT_LOCK_OF(p) (&(p)->lock)
#endif

#ifdef GRT_FREE_THREADING
/* Biased mode (runtime/lock.c says why and how it is revoked).  A word with
 * GRT_LOCK_BIASED set is tid << 2 | GRT_LOCK_BIASED: the lock belongs to
 * the thread with that id, which takes it by reading the word and finding
 * its own value there, with no atomic read-modify-write and no store.
 * _grt_lock_bias_self is that value for the calling thread, or
 * GRT_LOCK_NO_BIAS (a value no word ever holds) when it biases nothing. */
#define GRT_LOCK_HELD   1u
#define GRT_LOCK_BIASED 2u
#define GRT_LOCK_NO_BIAS UINT32_MAX
#define GRT_LOCK_MAX_TID ((UINT32_MAX >> 2) - 1)
extern __thread uint32_t _grt_lock_bias_self __attribute__((tls_model("initial-exec")));

/* The contended or biased acquire (runtime/lock.c): returns with the lock
 * held, or with the caller its bias owner. */
void _grt_lock_slow(grt_lock *l);
/* Make a lock biased to another thread an ordinary one (runtime/lock.c);
 * a no-op for other locks.  May stop the world: call it holding no lock. */
void _grt_lock_unbias(grt_lock *l);
/* A thread's owner word, for the registry (runtime/tstate.c). */
static inline uint32_t _grt_lock_bias_word(uint32_t tid)
{
    return tid <= GRT_LOCK_MAX_TID ? tid << 2 | GRT_LOCK_BIASED : GRT_LOCK_NO_BIAS;
}

/* The lock of a container being created, biased to the creating thread. */
static inline void grt_lock_init(grt_lock *l)
{
    uint32_t self = _grt_lock_bias_self;
    l->xv = self == GRT_LOCK_NO_BIAS ? 0 : self;
}

static inline void grt_lock_acquire(grt_lock *l)
{
    uint32_t w = grt_atomic_load_32(&l->xv);
    if (GRT_LIKELY(w == _grt_lock_bias_self))
        return;                         /* biased to this thread */
    uint32_t expected = 0;
    if (GRT_UNLIKELY(!grt_atomic_cas_32(&l->xv, &expected, GRT_LOCK_HELD)))
        _grt_lock_slow(l);
}

/* Nobody but the holder changes a held word: HELD stays HELD, and a bias
 * owner's word stays its own while it "holds" it (a revocation needs the
 * owner stopped at a safepoint, and no safepoint is reached under a lock). */
static inline void grt_lock_release(grt_lock *l)
{
    if (grt_atomic_load_32(&l->xv) == GRT_LOCK_HELD)
        grt_atomic_store_32_rel(&l->xv, 0);
}
#else
static inline void grt_lock_init(grt_lock *l) { (void)l; }
static inline void grt_lock_acquire(grt_lock *l) { (void)l; }
static inline void grt_lock_release(grt_lock *l) { (void)l; }
static inline void _grt_lock_unbias(grt_lock *l) { (void)l; }
#endif

/* Lock two objects' locks in address order (a == b locks once). */
static inline void grt_lock2_acquire(grt_lock *a, grt_lock *b)
{
    if (a == b) { grt_lock_acquire(a); return; }
    if ((uintptr_t)a > (uintptr_t)b) { grt_lock *t = a; a = b; b = t; }
    _grt_lock_unbias(b);                /* may stop the world: before a is held */
    grt_lock_acquire(a);
    grt_lock_acquire(b);
}
static inline void grt_lock2_release(grt_lock *a, grt_lock *b)
{
    grt_lock_release(a);
    if (a != b) grt_lock_release(b);
}

#endif
