/*
 * gilrt/gil.h — the global interpreter lock (gil/).
 *
 * The GIL is a *policy* chosen at grt_init time (grt_config.gil or the
 * environment variable GRT_GIL) behind one table of operations:
 *
 *   classic  CPython 3.2+: a waiter sleeps one switch interval, then asks the
 *            holder to drop it at its next safepoint; the dropper waits until
 *            another thread has taken it (forced switching).
 *   fifo     the same drop requests, but the GIL is handed to waiters in
 *            arrival order (a ticket queue of sleeping waiters).
 *   io       for I/O-bound threads: a thread coming back from a blocking
 *            call asks for the GIL at once and is served first; the CPU-bound
 *            thread it preempted gets the GIL back right after, and CPU-bound
 *            threads otherwise take turns as in fifo.  Short hand-offs spin
 *            briefly instead of sleeping.  I/O latency stays near the
 *            safepoint distance (tens of microseconds instead of an interval).
 *   legacy   CPython 2: release and immediately re-acquire every N safepoints
 *            (the check interval), no hand-off: the convoy effect and the
 *            "GIL battle" of CPU-bound threads on several cores.
 *   off      no GIL (refused by the gil build; the default of atomic and brc).
 *
 * The table is public: a program may register its own policy with
 * grt_gil_register before grt_init and select it by name.
 *
 * Invariant every policy keeps: while a GIL policy other than "off" is
 * active, at most one thread is attached at any time, and a thread that is
 * detached (between GRT_BEGIN_ALLOW_THREADS and GRT_END_ALLOW_THREADS, or
 * before grt_attach) never holds the GIL.
 */
#ifndef GILRT_GIL_H
#define GILRT_GIL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The active policy's name ("classic", "off", ...); NULL before grt_init. */
const char *grt_gil_policy(void);
/* 1 if a GIL is active (a policy other than "off"), 0 otherwise. */
int grt_gil_enabled(void);

/* The names of the registered policies, in registration order: index 0, 1,
 * ... until NULL.  The strings stay valid for the life of the process. */
const char *grt_gil_policy_name(int i);

/* ---- tuning (like sys.setswitchinterval) ------------------------------------------ */

/* How long a thread waiting for the GIL lets the holder run before asking it
 * to drop the GIL, in seconds (default 0.005).  Returns 0, or -1 with a
 * ValueError if seconds is not strictly positive or not finite.  Takes effect
 * at the next wait; callable at any time from any thread.  grt_init sets this
 * and the check interval from its configuration (grt_config_init's defaults,
 * or GRT_SWITCH_INTERVAL / GRT_CHECK_INTERVAL), so a value set before
 * grt_init does not survive it: set the config's fields instead. */
int grt_gil_set_switch_interval(double seconds);
double grt_gil_get_switch_interval(void);
/* The same in whole microseconds (at least 1), for policies. */
int64_t grt_gil_switch_interval_us(void);

/* legacy: safepoints between two release/re-acquire cycles (default 100).
 * Returns 0, or -1 with a ValueError if n < 1. */
int grt_gil_set_check_interval(int64_t n);
int64_t grt_gil_get_check_interval(void);

/* ---- statistics -------------------------------------------------------------------- */

/* Wait-time histogram: bucket 0 counts waits under 1 us; bucket i (1..N-2)
 * waits in [2^(i-1), 2^i) us; the last bucket everything from 2^(N-2) us on. */
#define GRT_GIL_HIST_BUCKETS 24

typedef struct grt_gil_statistics {
    uint64_t acquisitions;      /* GIL acquisitions (attach and re-acquire after a yield) */
    uint64_t drop_requests;     /* times a waiter asked the holder to drop the GIL */
    uint64_t yields;            /* releases at a safepoint (drop request or check interval) */
    uint64_t forced_switches;   /* yields after which another thread held the GIL
                                   before the yielding thread got it back */
    uint64_t wait_total_ns;     /* time spent waiting to acquire, all threads */
    uint64_t wait_max_ns;       /* longest single wait */
    uint64_t wait_hist[GRT_GIL_HIST_BUCKETS];
} grt_gil_statistics;

/* Copy the counters since grt_init (or the last reset), all threads
 * together, into *out.  Returns 0, or -1 with a TypeError if out is NULL.
 * The counters are kept while the GIL is enabled; with "off" they stay zero.
 * Callable from any thread; exact when no thread is acquiring at the time. */
int grt_gil_stats(grt_gil_statistics *out);
/* The same for the calling thread alone: its acquisitions, its waits, the
 * drop requests it made, its yields.  (For a CPU-bound thread, wait_total_ns
 * over the elapsed time is the share of the GIL it lost to others.) */
int grt_gil_stats_thread(grt_gil_statistics *out);
/* Zero every counter (every thread's). */
void grt_gil_stats_reset(void);
/* Threads waiting for the GIL right now (the policy's queue when it keeps
 * one, otherwise threads inside an acquire).  Callable from any thread,
 * attached or not; 0 before grt_init and after grt_fini (not while grt_fini
 * tears the policy down, which waits for no monitoring thread). */
int grt_gil_waiting(void);

/* ---- writing a policy --------------------------------------------------------------- */

/* A thread as a policy sees it (opaque; it is the thread's runtime state). */
typedef struct grt_gil_thread grt_gil_thread;

/* Why acquire/release is called. */
typedef enum grt_gil_reason {
    GRT_GIL_ATTACH = 0,   /* acquire in grt_attach / GRT_END_ALLOW_THREADS: the thread
                             was detached (blocked in a call, or new) */
    GRT_GIL_DETACH = 1,   /* release in grt_detach / GRT_BEGIN_ALLOW_THREADS / exit */
    GRT_GIL_YIELD = 2,    /* release then re-acquire at a safepoint because the
                             policy asked for it (drop request, check interval) */
} grt_gil_reason;

/* Safepoint events passed to ops->safepoint. */
#define GRT_GIL_EVENT_DROP 1u   /* a waiter called grt_gil_request_drop on this thread */
#define GRT_GIL_EVENT_TICK 2u   /* the thread asked for every safepoint (grt_gil_want_ticks) */

/*
 * The operations of a policy.  gilrt calls them; the policy keeps its own
 * state (one runtime per process, so static storage is fine).  Rules:
 *   - acquire(t, why) returns only when t holds the GIL, and must not return
 *     while another thread holds it.  Never called by a thread that holds it.
 *   - release(t, why) is called by the holder.  A thread blocked in a
 *     detached state must not keep the GIL.
 *   - every wait must be a pthread mutex/condition variable or an atomic
 *     (so ThreadSanitizer sees the hand-off); no policy may spin unbounded.
 *   - a policy that asks a holder to drop the GIL does so with
 *     grt_gil_request_drop(holder); at its next safepoint the holder calls
 *     safepoint (or, if that is NULL, yields when a drop was requested).
 *     Yielding is yield(t), or release(t, GRT_GIL_YIELD) then
 *     acquire(t, GRT_GIL_YIELD) when yield is NULL.  gilrt clears the drop
 *     request before it yields.
 */
typedef struct grt_gil_ops {
    const char *summary;                    /* one line for listings; may be NULL */
    /* Set up the policy's state.  Also called in a fork child (after which the
     * forking thread acquires): then other threads are gone, and any lock the
     * policy had is simply re-initialised.  0, or -1 with the error set.  May be NULL. */
    int  (*init)(void);
    /* Tear down (no thread holds or waits for the GIL).  May be NULL. */
    void (*fini)(void);
    void (*acquire)(grt_gil_thread *t, grt_gil_reason why);   /* required */
    void (*release)(grt_gil_thread *t, grt_gil_reason why);   /* required */
    /* At a safepoint of the holder t with events (GRT_GIL_EVENT_*) pending:
     * return 1 to yield now, 0 to keep the GIL.  May be NULL: yield on DROP. */
    int  (*safepoint)(grt_gil_thread *t, unsigned events);
    /* Threads queued for the GIL (grt_gil_waiting).  May be NULL. */
    int  (*waiting)(void);
    /* Hand the GIL over and wait to get it back, as one step, so that the
     * yielder's place in line is exact (a queue-based policy puts it at the
     * tail in the same critical section as the hand-off).  May return at
     * once if nobody waits.  Returns 1 if another thread held the GIL in
     * between (a forced switch), else 0.  May be NULL: release then acquire
     * (gilrt then tracks forced switches itself, at a cost). */
    int (*yield)(grt_gil_thread *t);
} grt_gil_ops;

/* Register a policy under name (letters, digits, '_' and '-', at most 31
 * characters).  ops is borrowed: it must outlive the process's use of gilrt.
 * Returns 0, or -1 with a ValueError (bad or duplicate name, full registry)
 * or a TypeError (NULL name or ops, acquire or release missing).  Callable
 * at any time; the choice among registered policies is made by grt_init. */
int grt_gil_register(const char *name, const grt_gil_ops *ops);

/* Helpers for policies. */
/* Ask t (the holder) to call the safepoint path soon; counted in drop_requests. */
void grt_gil_request_drop(grt_gil_thread *t);
/* Withdraw a drop request on t (e.g. when t takes the GIL). */
void grt_gil_clear_drop(grt_gil_thread *t);
/* 1 if a drop request is pending on t. */
int grt_gil_drop_requested(const grt_gil_thread *t);
/* on = 1: every safepoint of t reaches ops->safepoint with GRT_GIL_EVENT_TICK
 * and counts a tick; 0: no more.  Only the thread t itself may call it. */
void grt_gil_want_ticks(grt_gil_thread *t, int on);
/* t's safepoint tick counter (incremented by gilrt, reset by the policy):
 * only the thread t itself may touch it. */
int64_t *grt_gil_ticks(grt_gil_thread *t);
/* t's thread id (grt_thread_id of that thread). */
uint32_t grt_gil_thread_id(const grt_gil_thread *t);

#ifdef __cplusplus
}
#endif
#endif
