/*
 * bench/bench.h — the benchmark runner's pieces (bench/runner.c, the
 * workloads, the demos).  Not installed; the runner is a user program of the
 * public API (include/gilrt.h) built once per variant.
 *
 * How a measurement goes (bench/runner.c):
 *
 *   main thread (attached)     workload->setup: shared objects
 *   T worker threads           attach, workload->thread_setup (their private
 *                              objects: in brc they own them), then detach and
 *                              wait at the start gate
 *   main thread                detaches, opens the gate, sleeps the budget,
 *                              raises the stop flag
 *   each worker                re-attaches, notes its start time, calls
 *                              workload->step(t, batch) until the flag is up
 *                              (step calls grt_safepoint() in its loop), notes
 *                              its end time, tears down, grt_thread_exit
 *   main thread                joins, re-attaches, workload->teardown
 *
 * elapsed = last end - first start; ops/s = sum of ops / elapsed.  With a GIL
 * the workers take turns inside that window, which is the point.  The
 * workers' CPU time is reported too (ops per CPU-second): on a machine
 * other processes share, it stays meaningful where wall-clock rates do not.
 */
#ifndef GRT_BENCH_H
#define GRT_BENCH_H

#include <gilrt.h>
#include <stdint.h>
#include <stdio.h>

/* What the command line asked for, and its limits (bench/args.h checks them). */
enum { BENCH_MAX_THREADS = 1024 };
#define BENCH_MAX_OPS ((int64_t)1 << 40)    /* ops, sizes: far past any run's need */

typedef struct bench_params {
    const char *workload;
    int threads;            /* worker threads (processes for mp_vs_mt's second half) */
    double seconds;         /* time budget of the timed section */
    uint64_t ops;           /* if non-zero: ops per thread instead of a time budget */
    int64_t size;           /* workload size (live objects of gc_pause...); 0 = default */
    const char *gil;        /* GIL policy, NULL = the variant's default */
} bench_params;

struct bench_run;

/* Extra counters a workload may keep per thread (summed by bench_sum). */
enum { BENCH_COUNTERS = 4 };

typedef struct bench_thread {
    int index;                      /* 0 .. threads-1 */
    struct bench_run *run;
    void *state;                    /* the workload's per-thread data */
    uint64_t ops;                   /* ops done in the timed section */
    uint64_t t_start, t_end;        /* CLOCK_MONOTONIC ns around the timed section */
    uint64_t cpu_ns;                /* the thread's CPU time in the timed section */
    uint64_t counters[BENCH_COUNTERS];
} bench_thread;

/* A small JSON object under construction ("extra" metrics and demo output). */
typedef struct bench_json {
    char buf[4096];
    size_t len;
    int n;                          /* members written */
} bench_json;

typedef struct bench_run {
    const bench_params *p;
    const struct bench_workload *w;
    int64_t size;                   /* p->size or the workload's default */
    void *shared;                   /* the workload's shared data */
    uint32_t xstop;                 /* atomic: the timed section is over */
    bench_thread *threads;
    uint64_t elapsed_ns;            /* last end - first start */
    uint64_t ops;                   /* sum over threads */
    uint64_t cpu_ns;                /* sum over threads (threads mode only) */
} bench_run;

/* Workload flags. */
#define BENCH_HELPERS 1u   /* only thread 0 counts ops; the others work until it is done */
#define BENCH_PROCS   2u   /* also measured in T forked processes (mp_vs_mt) */

typedef struct bench_workload {
    const char *name;
    const char *summary;            /* one line: what is measured */
    const char *op;                 /* what one op is */
    uint64_t batch;                 /* ops per step call (stop flag checked between) */
    int64_t default_size;
    unsigned flags;
    /* Main thread, attached, before the workers start.  0, or -1 with the
     * gilrt error set.  May be NULL. */
    int (*setup)(bench_run *r);
    /* Worker, attached, before the clock starts.  0 or -1.  May be NULL. */
    int (*thread_setup)(bench_thread *t);
    /* Do about n ops, calling grt_safepoint() in the loop; returns the ops
     * done (0 for helper threads that keep their own counters). */
    uint64_t (*step)(bench_thread *t, uint64_t n);
    void (*thread_teardown)(bench_thread *t);   /* worker, attached; may be NULL */
    void (*teardown)(bench_run *r);             /* main, attached; may be NULL */
    /* Extra metrics into out (main thread, after the run).  May be NULL. */
    void (*report)(bench_run *r, bench_json *out);
} bench_workload;

/* bench/workloads.c and bench/workloads_gc.c */
extern const bench_workload *const bench_workloads[];   /* NULL-terminated */
const bench_workload *bench_workload_find(const char *name);

/* bench/runner.c */
uint64_t bench_now_ns(void);
/* 1 once the timed section is over (cheap: one relaxed load). */
int bench_stopped(const bench_thread *t);
/* Sum of counter i over all threads. */
uint64_t bench_sum(const bench_run *r, int i);
/* Run one measurement (threads, or processes when procs is set). */
int bench_measure(bench_run *r, int procs);

void bench_json_init(bench_json *j);
void bench_json_str(bench_json *j, const char *key, const char *v);
void bench_json_num(bench_json *j, const char *key, double v);
void bench_json_int(bench_json *j, const char *key, int64_t v);
void bench_json_null(bench_json *j, const char *key);
/* key: an already formatted JSON value (object, array). */
void bench_json_raw(bench_json *j, const char *key, const char *raw);
/* The finished object, "{...}". */
const char *bench_json_end(bench_json *j);

/* A fatal error of the runner itself: message on stderr, exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void bench_die(const char *fmt, ...);
/* die with the pending gilrt error, naming what failed */
__attribute__((noreturn))
void bench_die_grt(const char *what);

/* Keep the compiler from merging or dropping reference-count updates across
 * this point: a real program does other work between an incref and its
 * decref.  An empty asm with a memory clobber, not an atomic or a fence: it
 * emits no instruction. */
#define BENCH_OPAQUE(p) __asm__ __volatile__("" : : "r"(p) : "memory")

/* bench/demos.c: `gilrt-bench-<variant> demo NAME [options]`. */
int bench_demo(int argc, char **argv);

#endif
