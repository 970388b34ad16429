/*
 * stress/race.h — what the race kinds (stress/race.c, stress/race_collector.c)
 * share.  One trial runs in a forked child with its own runtime; it writes
 * what it measured into a race_result in memory shared with the parent, and
 * moves `stage` forward so that the parent knows how far a child that
 * crashed got.
 */
#ifndef GRT_STRESS_RACE_H
#define GRT_STRESS_RACE_H

#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include "stress_util.h"
#include <inttypes.h>

#define RACE_MAX_THREADS 64

enum {
    RACE_STAGE_START = 0,       /* before grt_init */
    RACE_STAGE_RUNNING,         /* threads racing */
    RACE_STAGE_CHECKING,        /* looking at what is left */
    RACE_STAGE_MEASURED,        /* the figures are written */
    RACE_STAGE_DONE,            /* cleaned up, the ledger checked */
};

/* A trial's exit statuses that are not findings: it could not race at all.
 * The driver stops with exit 2 on them instead of counting a crash. */
enum {
    RACE_EXIT_USAGE = 2,        /* options the kind cannot run with */
    RACE_EXIT_SETUP = 3,        /* grt_init or the set-up's allocations failed */
};

/* Figures of one trial (in shared memory), or summed over trials. */
typedef struct race_result {
    uint64_t ops;               /* operations completed */
    int64_t lost_updates;       /* refcount updates lost */
    int64_t lost_items;         /* container items lost */
    int64_t corrupted;          /* inconsistencies other than lost items */
    int64_t premature_frees;    /* objects freed while still referenced */
    int64_t crashes;            /* trials that died or hung (parent's count) */
    int64_t leaked;             /* allocated - freed + unreleased after grt_fini; -1 unchecked */
    uint64_t stw_pauses;        /* stop-the-world pauses during the trial */
    int stage;                  /* RACE_STAGE_* reached */
} race_result;

typedef struct race_opts {
    const char *kind;
    int threads;
    uint64_t seed;
    unsigned timeout_s;
    int verbose;
} race_opts;

typedef struct race_ctx race_ctx;
typedef struct race_worker {
    race_ctx *ctx;
    int index;
    pthread_t thread;
} race_worker;

struct race_ctx {
    const race_opts *opt;
    race_result *res;           /* shared with the parent */
    int threads;
    uint64_t per_thread;        /* operations per thread and phase */
    uint64_t seed;              /* this trial's seed */
    pthread_barrier_t barrier;  /* threads + the main thread */
    pthread_mutex_t release_lock; /* refcount: one thread releases at a time */
    race_worker *workers;
    grt_object *shared;         /* the object the threads fight over */
    grt_object **items;
    uint64_t stw_before;        /* _grt_rt.stw_count when the trial began */
};

/* Wait at the barrier detached (it blocks). */
void race_barrier_wait(pthread_barrier_t *b);
/* Start c->threads workers running fn(&c->workers[i]); join them (detached). */
void race_run_workers(race_ctx *c, void *(*fn)(void *));
void race_join_workers(race_ctx *c);
/* A line on stderr with --verbose. */
void race_note(const race_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the stop-the-world pauses since the trial began. */
void race_count_pauses(race_ctx *c);
/* grt_fini, then c->res->leaked from the ledger; 0, or non-zero if fini failed. */
int race_finish(race_ctx *c);

/* (c) stress/race_collector.c */
int race_collector(race_ctx *c);

#endif
