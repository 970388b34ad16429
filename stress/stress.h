/*
 * stress/stress.h — the stress program's shared state (stress/stress.c
 * drives, stress/stress_ops.c is the random mix, stress/stress_check.c the
 * invariants).
 *
 * The world.  A handful of global containers every thread uses (lists,
 * dicts), a list where finalizers resurrect objects, a hand-off list where an
 * exiting thread leaves what it held, and the list of every weakref made
 * (kept alive to the end, so that each one's callback must run).  Worker
 * threads come and go; each keeps a small stash of references of its own.
 *
 * Tagged values.  Whatever goes into a global container is a value that can
 * be checked on the way out: its id (unique, from W.xnext_id) and a second
 * field derived from the id, in one of five shapes (tuple, list, dict, dict
 * instance, slots instance).  A value that fails the check is a use after
 * free or a lost update: the run fails with its seed.
 *
 * Ledgers (plain arrays indexed by id, updated with atomics):
 *   wr_calls[id]   weakref callbacks run for the weakref with that id:
 *                  never more than 1; exactly 1 at the end;
 *   fin_calls[id]  finalizer runs of the phoenix with that id: likewise.
 * And the runtime's own: objects allocated == objects freed after grt_fini.
 */
#ifndef GRT_STRESS_STRESS_H
#define GRT_STRESS_STRESS_H

#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include "stress_util.h"
#include <inttypes.h>

#define STRESS_NLISTS 8
#define STRESS_NDICTS 8
#define STRESS_NKEYS 128
#define STRESS_STASH 32
#define STRESS_MAX_THREADS 64

typedef struct stress_opts {
    uint64_t seed;
    int threads;                /* workers alive at once */
    uint64_t ops;               /* operations in all */
    double seconds;             /* wall-clock bound */
    int epochs;                 /* the workers are all joined between epochs */
    int verbose;
} stress_opts;

typedef struct stress_world {
    grt_object *lists[STRESS_NLISTS];
    grt_object *dicts[STRESS_NDICTS];
    grt_object *keys[STRESS_NKEYS];     /* str keys, shared */
    grt_object *resurrected;    /* phoenixes revived by their finalizer */
    grt_object *handoff;        /* values left by exiting threads */
    grt_object *weakrefs;       /* every weakref made (the callbacks' ledger) */
    grt_object *cb_log;         /* what weakref callbacks leave behind */
    grt_type *cls_node;         /* instances with a dict */
    grt_type *cls_slot;         /* instances with slots id, check */
    grt_type *cls_phoenix;      /* slots id, next; its finalizer resurrects */
    uint32_t xalive;            /* 0 once the final teardown began */

    uint64_t xnext_id;          /* ids handed out */
    uint64_t max_ids;           /* size of the ledgers */
    uint8_t *wr_made;           /* id -> a weakref with that id exists */
    uint32_t *wr_calls;
    uint8_t *fin_made;          /* id -> a phoenix with that id exists */
    uint32_t *fin_calls;

    /* counters for the summary (atomic) */
    uint64_t xops, xcollections, xcallbacks, xfinalizers, xresurrections;
    uint64_t xthreads_started, xchecked, xcycles, xhandoffs;
    uint64_t deadline_ns;
    uint64_t xremaining;        /* operations not yet given to a worker */
    const stress_opts *opt;
} stress_world;

extern stress_world W;

/* A worker thread. */
typedef struct stress_thread {
    int slot;
    uint64_t seed;
    uint64_t quota;             /* operations it runs before it exits */
    stress_rng rng;
    grt_object *stash[STRESS_STASH];
    grt_object *wrs;            /* its weakrefs, handed to W.weakrefs at exit */
    uint32_t xdone;             /* set when it finished (the main thread joins) */
    pthread_t thread;
} stress_thread;

/* Fail the run: print what went wrong and how to replay it, then exit(1). */
__attribute__((noreturn, format(printf, 1, 2)))
void stress_fail(const char *fmt, ...);
/* A failed API call that should not fail: names the call and the error. */
#define STRESS_CHECK(cond, what) do { if (!(cond))                                     \
    stress_fail("%s failed: %s: %s", (what), grt_err_kind_name(grt_err_occurred()),     \
                grt_err_message()); } while (0)

/* ---- stress_check.c ---- */
/* Create the world (classes, containers, ledgers for max_ids ids). */
void stress_world_init(const stress_opts *o, uint64_t max_ids);
/* A new id, or -1 when the ledgers are full (the caller skips its op). */
int64_t stress_new_id(void);
/* A new tagged value of a random shape (new reference); NULL if out of ids. */
grt_object *stress_make_value(stress_rng *r);
/* Check a value taken out of a global container (we hold a reference):
 * fails the run if it is not one of ours, intact. */
void stress_check_value(grt_object *v, const char *where);
/* A phoenix (new reference), ledger entry made; NULL if out of ids. */
grt_object *stress_make_phoenix(void);
/* A weakref to o with a callback, recorded in the ledger (new reference);
 * NULL if out of ids. */
grt_object *stress_make_weakref(grt_object *o);
/* Check every item of every global container (others may be running). */
void stress_check_globals(void);
/* Walk every tracked object (no other thread running): types known, counts
 * at least the references other tracked objects hold. */
void stress_heap_check(const char *when);
/* The end: release everything, check the ledgers, grt_fini, the object
 * ledger.  Prints the summary. */
void stress_world_finish(double seconds);

/* ---- stress_ops.c ---- */
/* The worker's body: quota random operations. */
void *stress_worker_main(void *arg);
/* One operation of the main thread between polls. */
void stress_main_op(stress_rng *r);

#endif
