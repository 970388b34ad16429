/*
 * gilrt/runtime.h — initialisation, threads, safepoints.
 *
 * A thread must be *attached* to touch objects.  grt_init attaches the
 * calling thread; other threads call grt_attach first and grt_thread_exit
 * before they end.  Around blocking calls a thread detaches
 * (GRT_BEGIN_ALLOW_THREADS / GRT_END_ALLOW_THREADS), which releases the GIL
 * when there is one and lets a stop-the-world pause proceed without it.
 * Attached threads call grt_safepoint() regularly: it hands the GIL over when
 * another thread asks, parks the thread for a stop-the-world pause, merges
 * biased refcounts queued to it, and runs a pending collection.
 */
#ifndef GILRT_RUNTIME_H
#define GILRT_RUNTIME_H

#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runtime configuration.  grt_config_init fills in the defaults and then
 * applies the environment overrides (GRT_GIL; GRT_SWITCH_INTERVAL, seconds,
 * above 0 and at most 1e6; GRT_CHECK_INTERVAL, at least 1; GRT_MALLOC;
 * GRT_GC_THRESHOLD, 1 to 3 comma-separated integers from 0 to INT32_MAX that
 * replace the first thresholds); a program may then set fields itself, which
 * take precedence.  The allocator reads GRT_MEM_FAIL_AT, GRT_MEM_FAIL_EVERY
 * and GRT_MEM_FAIL_INIT (fault injection, gilrt/mem.h) and GRT_MEM_DECAY_MS
 * (milliseconds an empty arena waits before it goes back to the OS, 0 to
 * 3600000, default 1000) itself, at grt_init. */
typedef struct grt_config {
    const char *gil;            /* "classic" | "fifo" | "io" | "legacy" | "off" | a registered
                                   policy; NULL: "classic" in gil, "off" in atomic/brc/unsafe */
    int64_t switch_interval_us; /* GIL switch interval, microseconds (default 5000) */
    int64_t check_interval;     /* legacy policy: safepoints between releases (default 100) */
    const char *allocator;      /* "obmalloc" | "malloc" | "debug" | "mimalloc"; NULL: obmalloc */
    int gc_enabled;             /* automatic collection (default 1) */
    int gc_threshold[3];        /* generation thresholds (default 700, 10, 10) */
} grt_config;

/* Fill *cfg with defaults and environment overrides.  Returns 0, or -1 with
 * a ValueError naming the variable when an environment value is malformed. */
int grt_config_init(grt_config *cfg);

/* Initialise the runtime and attach the calling thread.  cfg NULL means
 * grt_config_init's defaults.  Returns 0, or -1 with the error set (unknown
 * GIL policy or allocator — the message lists the valid names; "off" in the
 * gil build; a malformed GRT_MEM_FAIL_AT, _EVERY, _INIT or GRT_MEM_DECAY_MS; already
 * initialised; a MemoryError when the main thread's state or the interning
 * table cannot be allocated — everything grt_init made is then undone, so
 * it may be called again).  A macro, so that a program compiled for
 * one variant and linked with another is refused with a clear message. */
#define grt_init(cfg) _grt_init_checked((cfg), GRT_VARIANT_ID)
int _grt_init_checked(const grt_config *cfg, int header_variant);

/* Tear the runtime down: runs a final collection, frees every object still
 * tracked, releases the allocator.  Call from the thread that called
 * grt_init, attached, after every other thread has called grt_thread_exit.
 * Returns 0, or -1 with a RuntimeError if other threads are still registered. */
int grt_fini(void);

/* 1 between grt_init and grt_fini. */
int grt_is_initialized(void);

/* The build's variant: "gil", "atomic", "brc" or "unsafe". */
const char *grt_variant(void);
/* Size in bytes of the object header in this build (16 or 24). */
unsigned grt_object_header_size(void);

/* Attach the calling thread, registering it on first use.  Blocks while the
 * world is stopped or (GIL on) until the GIL is acquired.  Returns 0, or -1
 * with a StateError if the runtime is not initialised or the thread is
 * already attached. */
int grt_attach(void);
/* Detach the calling thread (releases the GIL); its state stays registered.
 * Fatal if the thread is not attached. */
void grt_detach(void);
/* Unregister the calling thread: merges biased refcounts queued to it, hands
 * its allocator pools over, detaches.  It may attach again later (with a new
 * id).  Call before a thread that attached ends. */
void grt_thread_exit(void);
/* 1 if the calling thread is attached. */
int grt_is_attached(void);
/* This thread's id in the registry (brc ownership id); 0 if unregistered. */
uint32_t grt_thread_id(void);
/* Number of registered threads. */
int grt_thread_count(void);

/* Start a pthread that attaches, runs fn(arg), and exits the runtime.
 * Returns 0 or an errno value (the error is also set). */
int grt_thread_start(pthread_t *thr, void *(*fn)(void *), void *arg);

/* The eval breaker: cheap when nothing is pending. */
void grt_safepoint(void);

/* Release the GIL / leave the attached state around a blocking call.  No
 * object may be touched between the two. */
#define GRT_BEGIN_ALLOW_THREADS do { grt_detach();
#define GRT_END_ALLOW_THREADS   grt_attach_blocking(); } while (0)
/* grt_attach for a thread that knows it is registered and detached. */
void grt_attach_blocking(void);

/* Counts of objects created and freed since grt_init (summed over threads;
 * exact when no other thread is running); after grt_fini, those of the run
 * it ended.  unreleased: containers (tracked objects) that grt_fini found
 * still referenced from outside the runtime once everything else was
 * cleared — a reference the program leaked, or kept in a C global — and
 * freed anyway (0 until grt_fini).  grt_fini frees every object it can
 * reach, so allocated == freed does not prove that nothing leaked: a leak
 * checker also wants unreleased == 0.  Untracked objects (int, str, float)
 * with a leaked reference are not freed and show as allocated > freed. */
typedef struct grt_object_counts {
    uint64_t allocated;
    uint64_t freed;
    uint64_t unreleased;
} grt_object_counts;
grt_object_counts grt_object_counts_get(void);

/* The container locks of the GIL-off builds start biased to the thread that
 * creates the container, which then locks it without an atomic instruction
 * (runtime/lock.c).  revoked: biases taken back with a stop-the-world pause
 * because another thread wanted the lock; stale: biases dropped without a
 * pause (their thread had exited or stopped biasing); unbiased_threads:
 * threads that stopped biasing after 16 revocations of their locks.  All 0
 * in gil and unsafe, whose containers take no lock. */
typedef struct grt_lock_counts {
    uint64_t revoked;
    uint64_t stale;
    uint32_t unbiased_threads;
} grt_lock_counts;
grt_lock_counts grt_lock_counts_get(void);

/* fork() support: call grt_fork_prepare before fork in the forking (attached)
 * thread, then grt_fork_parent / grt_fork_child in the two processes.  The
 * child keeps only the forking thread, which stays attached and holds the GIL. */
void grt_fork_prepare(void);
void grt_fork_parent(void);
void grt_fork_child(void);
/* fork() with the three calls around it; returns fork's result. */
pid_t grt_fork(void);

#ifdef __cplusplus
}
#endif
#endif
