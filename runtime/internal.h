/*
 * runtime/internal.h — what the library's own files share.  Not installed.
 *
 * Which list every thread state is on: the registry (_grt_rt.threads), a
 * doubly-linked list under _grt_rt.registry_lock, from grt_attach's first call
 * on a thread until grt_thread_exit.  Thread ids are handed out from a
 * counter and never reused (atomics/rc_biased.h relies on it).
 *
 * Thread states: DETACHED -> ATTACHED (grt_attach, CAS) -> DETACHED (grt_detach)
 * and SUSPENDED, set by a stop-the-world requester on a detached thread or
 * by an attached thread parking itself at a safepoint (runtime/stw.c).
 */
#ifndef GRT_RUNTIME_INTERNAL_H
#define GRT_RUNTIME_INTERNAL_H

#ifndef GRT_BUILD_CORE
#  error "runtime/internal.h is internal to libgilrt; include <gilrt.h>"
#endif

#include "config.h"
#include <gilrt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRT_LIKELY(x)   __builtin_expect(!!(x), 1)
#define GRT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GRT_TLS_IE      __attribute__((tls_model("initial-exec")))

/* The GIL-off builds: atomic and brc.  Containers lock per object there. */
#if defined(GRT_VARIANT_ATOMIC) || defined(GRT_VARIANT_BRC)
#  define GRT_FREE_THREADING 1
#endif

/* ---- assertions (config: GRT_DEBUG 0..3) ------------------------------------- */
__attribute__((noreturn, cold, format(printf, 1, 2)))
void _grt_fatal(const char *fmt, ...);
#define GRT_ASSERT_AT(level, cond)                                                  \
    do { if (GRT_DEBUG >= (level) && GRT_UNLIKELY(!(cond)))                         \
        _grt_fatal("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); } while (0)
#define GRT_ASSERT(cond)        GRT_ASSERT_AT(1, cond)   /* cheap */
#define GRT_ASSERT_INTERNAL(c)  GRT_ASSERT_AT(2, c)      /* internal invariants */
#define GRT_ASSERT_EXPENSIVE(c) GRT_ASSERT_AT(3, c)      /* walks */

/* ---- thread states -------------------------------------------------------------- */
enum { GRT_TS_DETACHED = 0, GRT_TS_ATTACHED = 1, GRT_TS_SUSPENDED = 2 };

/* Eval-breaker bits: set by anyone (atomic OR), cleared by the owner thread. */
#define GRT_BREAK_GIL_DROP  (1u << 0)   /* another thread waits for the GIL */
#define GRT_BREAK_STW       (1u << 1)   /* park for a stop-the-world pause */
#define GRT_BREAK_BRC_MERGE (1u << 2)   /* objects were queued to this owner */
#define GRT_BREAK_GC        (1u << 3)   /* a collection is due */
#define GRT_BREAK_GIL_TICK  (1u << 4)   /* a GIL policy wants every safepoint */

typedef struct grt_brc_queue {
    pthread_mutex_t lock;
    grt_object **items;                 /* objects queued to this owner */
    size_t n, cap;
} grt_brc_queue;

/* Cache-line aligned (aligned_alloc in runtime/tstate.c): each thread writes
 * its own state often (object counts, breaker), and two states side by side
 * in malloc's heap would share a line. */
typedef struct grt_tstate {
    _Alignas(64) uint32_t tid;                       /* never reused; brc owner id */
    uint32_t xstate;                    /* GRT_TS_*, atomic */
    uint32_t xbreaker;                  /* GRT_BREAK_* bits, atomic */
    bool holds_gil;                     /* only this thread reads/writes it */
    pthread_t thread;
    struct grt_tstate *next, *prev;     /* registry list, under registry_lock */
    grt_brc_queue brc;                  /* brc merge queue */
    int dealloc_depth;                  /* trashcan (runtime/object.c) */
    grt_object *trash;                  /* deferred deallocations, via gc_next */
    uint64_t xobjects_allocated;        /* written by this thread only, atomic */
    uint64_t xobjects_freed;
    void *mem;                          /* allocator's per-thread heap (mem/) */
    void *gc;                           /* collector's per-thread data (gc/) */
    void *gil;                          /* GIL policy's per-thread data (gil/) */
    int64_t gil_ticks;                  /* GIL policy's safepoint counter */
    uint32_t bias_revocations;          /* its locks' biases revoked (runtime/lock.c), under registry_lock */
    uint32_t xbias_off;                 /* atomic: it creates unbiased locks; its biases are stale */
} grt_tstate;

/* The calling thread's state, NULL if it has none.  initial-exec TLS. */
extern __thread grt_tstate *_grt_tstate_current GRT_TLS_IE;

/* The attached thread's state; fatal with a message naming `what` when the
 * caller is not attached. */
__attribute__((noreturn, cold)) void _grt_tstate_require_failed(const char *what);
static inline grt_tstate *_grt_tstate_require(const char *what)
{
    grt_tstate *ts = _grt_tstate_current;
    if (GRT_UNLIKELY(!ts || grt_atomic_load_32(&ts->xstate) != GRT_TS_ATTACHED))
        _grt_tstate_require_failed(what);
    return ts;
}
#define GRT_REQUIRE_ATTACHED() _grt_tstate_require(__func__)

void _grt_breaker_set(grt_tstate *ts, uint32_t bits);
void _grt_breaker_clear(grt_tstate *ts, uint32_t bits);
/* Set bits on every registered thread (caller holds registry_lock). */
void _grt_breaker_set_all_locked(uint32_t bits);
/* Run the safepoint's slow path for ts (attached). */
void _grt_safepoint_slow(grt_tstate *ts);
/* Register and attach the thread calling grt_init. */
grt_tstate *_grt_tstate_register_main(void);
/* Hand back an attached thread's runtime state and unregister it. */
void _grt_tstate_exit(grt_tstate *ts);
/* The registered thread with this id, or NULL (caller holds registry_lock). */
grt_tstate *_grt_tstate_find_locked(uint32_t tid);
/* DETACHED -> ATTACHED, waiting while a pause keeps ts SUSPENDED. */
void _grt_tstate_attach_state(grt_tstate *ts);
/* Park ts (attached) until the world restarts (runtime/stw.c). */
void _grt_stw_park(grt_tstate *ts);

/* ---- the runtime --------------------------------------------------------------------- */
typedef struct grt_runtime {
    int initialized;
    grt_config config;
    pthread_mutex_t registry_lock;
    pthread_cond_t registry_cond;       /* state changes: STW parking and restart */
    grt_tstate *threads;                /* registry list head */
    int nthreads;
    uint32_t next_tid;                  /* under registry_lock */
    grt_tstate *main_thread;
    /* stop-the-world (runtime/stw.c) */
    pthread_mutex_t stw_mutex;          /* one pause at a time */
    uint32_t xstw_requested;            /* atomic: a pause is in progress */
    grt_tstate *stw_requester;          /* atomic pointer: who stopped the world */
    uint64_t stw_start_ns;
    int stw_countdown;                  /* attached threads not yet parked, under registry_lock */
    uint64_t stw_count, stw_last_ns, stw_max_ns, tts_last_ns, tts_max_ns;
    grt_lock_counts lock_counts;        /* biased locks (runtime/lock.c), under registry_lock */
    /* dead threads' counters, folded in at exit (under registry_lock) */
    uint64_t dead_allocated, dead_freed;
    uint64_t unreleased;                /* the last grt_fini's (grt_object_counts) */
} grt_runtime;

extern grt_runtime _grt_rt;

uint64_t _grt_now_ns(void);

/* Stop every other attached thread at a safepoint; returns when they are all
 * parked or detached.  With the GIL enabled this only checks that the caller
 * holds it (the GIL already excludes everyone).  Caller attached. */
void _grt_stop_the_world(void);
void _grt_start_the_world(void);
/* True between stop and start (or, GIL on, while the caller holds the GIL). */
bool _grt_world_is_stopped(void);
/* True while the calling thread is inside its own stop/start pair. */
bool _grt_stw_held_by_self(void);

/* ---- objects (runtime/object.c) -------------------------------------------------------- */
/* Allocate an object of type t with `size` bytes (header included): zeroed,
 * count 1, type set (a heap type is increfed).  GC types get the collector
 * header in front and start untracked.  NULL + MemoryError on failure. */
grt_object *_grt_object_alloc(grt_type *t, size_t size);
/* Free the memory of an object whose references were already released
 * (the last step of a tp_dealloc).  Decrefs a heap type. */
void _grt_object_free(grt_object *o);
/* Type checks that set a TypeError naming the function and both types. */
int _grt_check_type(grt_object *o, grt_type *t, const char *func);
#define GRT_CHECK_TYPE(o, t) _grt_check_type((o), (t), __func__)
/* NULL argument check: TypeError "func: argument 'name' is NULL". */
#define GRT_CHECK_ARG(p) ((p) ? 0 : (grt_err_set(GRT_ERR_TYPE, "%s: argument '%s' is NULL", __func__, #p), -1))

/* ---- per-object locks (runtime/lock.h) ------------------------------------------------ */
#include "lock.h"
#ifdef GRT_FREE_THREADING
/* This thread's bias value from its tstate, at each attach (runtime/lock.c). */
void _grt_lock_bias_attach(grt_tstate *ts);
/* The thread leaves the registry: it biases nothing any more. */
void _grt_lock_bias_forget(void);
#else
static inline void _grt_lock_bias_attach(grt_tstate *ts) { (void)ts; }
static inline void _grt_lock_bias_forget(void) {}
#endif

/* ---- the pieces that plug in --------------------------------------------------------- */
/* runtime/types_init.c: built-in types, singletons, interning. */
int  _grt_types_init(void);
void _grt_types_fini(void);
/* Hash and compare for dict keys, with the str/int fast paths. */
int64_t _grt_str_hash(grt_object *s);

/* atomics/brc.c */
void _grt_brc_thread_init(grt_tstate *ts);
void _grt_brc_thread_fini(grt_tstate *ts);  /* merge the whole queue */
void _grt_brc_merge_queue(grt_tstate *ts);  /* at a safepoint */
void _grt_brc_merge_all_queues(void);       /* world stopped: every queue */
void _grt_brc_fork_child(grt_tstate *ts);   /* only ts survives */

#include "types_internal.h"
#include "../mem/mem_internal.h"
#include "../gc/gc_internal.h"
#include "../gil/gil_internal.h"

#endif
