/*
 * bench/gc.c — what the cycle collector costs, per variant (bench/gc-<variant>).
 *
 *   full      a full collection (grt_gc_collect(2)) over N live [i] lists,
 *             held by one list: ns per live container (N = 100,000 and
 *             1,000,000)
 *   cycles    a full collection that frees 500,000 two-list cycles: ns per
 *             freed object
 *   young     a generation-0 collection (700 new lists) while 100,000 or
 *             1,000,000 old objects are alive: µs per collection, which must
 *             not grow with the old heap
 *   stw       time-to-safepoint and the whole pause of young collections
 *             among 2 or 8 mutator threads, each allocating, dropping cyclic
 *             garbage and calling grt_safepoint between operations (with
 *             automatic collections on); measured for the collections one
 *             thread starts while all the others are busy
 *   fork      1,000,000 live lists, fork: how much memory a child's full
 *             collection dirties, and then reading (incref/decref) every
 *             list, without freeze, after grt_gc_freeze(0), and after
 *             grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL) (Private_Dirty of
 *             /proc/self/smaps_rollup)
 *
 * Every figure is the median of --reps runs (default 7); "cpu" is the
 * collecting thread's CPU time, which a machine shared with other work
 * inflates less than the wall-clock time.  For full and cycles also: page
 * faults per object, how many times the thread was preempted during one
 * collection (involuntary context switches) and the VM's steal time then:
 * when the wall-clock time is well above the CPU time, these say where the
 * rest went (other processes had the CPU, or the hypervisor did).  Only the
 * public API is used, as a program linked against libgilrt would.
 *
 * usage: gc-<variant> [--quick] [--reps N] [full|cycles|young|stw|fork ...]
 */
#define _GNU_SOURCE 1                   /* RUSAGE_THREAD */
#include <gilrt.h>
#include "args.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int reps = 7;
static int quick;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* This thread's CPU time: on a loaded machine, what the work itself cost. */
static uint64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* This thread's page faults and involuntary context switches so far. */
static void thread_usage(uint64_t *faults, uint64_t *preempted)
{
    struct rusage u;
    if (getrusage(RUSAGE_THREAD, &u) != 0)
        memset(&u, 0, sizeof u);
    *faults = (uint64_t)u.ru_minflt + (uint64_t)u.ru_majflt;
    *preempted = (uint64_t)u.ru_nivcsw;
}

/* Time the machine's hypervisor took from this VM's CPUs (the "steal"
 * column of /proc/stat, all CPUs together), in ticks; 0 where not known. */
static uint64_t steal_ticks(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = { 0 };
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
            v[7] = 0;
        fclose(f);
    }
    return v[7];
}

/* What one measured operation cost: wall and CPU time and page faults per
 * object; how often the thread was preempted (involuntary context
 * switches) and the VM's steal time in ms, for the whole operation. */
typedef struct sample {
    uint64_t t0, c0, f0, p0, s0;
} sample;

typedef struct figures {
    double t[64], c[64], f[64], p[64], st[64];
} figures;

static void sample_start(sample *s)
{
    s->s0 = steal_ticks();
    thread_usage(&s->f0, &s->p0);
    s->c0 = cpu_ns();
    s->t0 = now_ns();
}

static void sample_end(const sample *s, double n, int r, figures *fg)
{
    uint64_t t1 = now_ns(), c1 = cpu_ns(), f1, p1;
    thread_usage(&f1, &p1);
    fg->t[r] = (double)(t1 - s->t0) / n;
    fg->c[r] = (double)(c1 - s->c0) / n;
    fg->f[r] = (double)(f1 - s->f0) / n;
    fg->p[r] = (double)(p1 - s->p0);
    fg->st[r] = (double)(steal_ticks() - s->s0) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
    fprintf(stderr, "bench/gc: %s failed: %s\n", what, grt_err_message());
    exit(1);
}

/* A list holding n lists [i]. */
static grt_object *make_live(int64_t n)
{
    grt_object *holder = grt_list_new(0);
    if (!holder) die("grt_list_new");
    for (int64_t i = 0; i < n; i++) {
        grt_object *v = grt_int_new(i);
        grt_object *l = grt_list_new(0);
        if (!v || !l || grt_list_append(l, v) || grt_list_append(holder, l))
            die("building the live heap");
        grt_decref(v);
        grt_decref(l);
    }
    return holder;
}

static void bench_full(int64_t n)
{
    grt_object *holder = make_live(n);
    grt_gc_collect(2);                      /* everything reaches generation 2 */
    figures fg;
    for (int r = 0; r < reps; r++) {
        sample sm;
        sample_start(&sm);
        int64_t found = grt_gc_collect(2);
        sample_end(&sm, (double)(n + 1), r, &fg);
        if (found != 0) die("full collection found garbage");
    }
    printf("%-8s full collection, %8" PRId64 " live lists: %7.2f ns per live object "
           "(cpu %.2f; faults %.3f, preempted %.0f, steal %.0f ms)\n", grt_variant(), n,
           median(fg.t, reps), median(fg.c, reps), median(fg.f, reps), median(fg.p, reps),
           median(fg.st, reps));
    grt_decref(holder);
}

static void bench_cycles(int64_t pairs)
{
    figures fg;
    for (int r = 0; r < reps; r++) {
        for (int64_t i = 0; i < pairs; i++) {
            grt_object *a = grt_list_new(0), *b = grt_list_new(0);
            if (!a || !b || grt_list_append(a, b) || grt_list_append(b, a))
                die("building cycles");
            grt_decref(a);
            grt_decref(b);
        }
        sample sm;
        sample_start(&sm);
        int64_t found = grt_gc_collect(2);
        sample_end(&sm, (double)(2 * pairs), r, &fg);
        if (found != 2 * pairs) {
            fprintf(stderr, "bench/gc: expected %" PRId64 " unreachable, found %" PRId64 "\n",
                    2 * pairs, found);
            exit(1);
        }
    }
    printf("%-8s collecting %7" PRId64 " two-list cycles: %7.2f ns per freed object "
           "(cpu %.2f; faults %.3f, preempted %.0f, steal %.0f ms)\n", grt_variant(), pairs,
           median(fg.t, reps), median(fg.c, reps), median(fg.f, reps), median(fg.p, reps),
           median(fg.st, reps));
}

static void bench_young(int64_t old_n)
{
    grt_object *holder = make_live(old_n);
    grt_gc_collect(2);
    double t_full[64], t_empty[64];
    for (int r = 0; r < reps; r++) {
        grt_object *young = grt_list_new(0);    /* 700 new containers, some pointing at old ones */
        for (int i = 0; i < 699; i++) {
            grt_object *l = grt_list_new(0);
            if (i % 7 == 0) {
                grt_object *o = grt_list_get(holder, (int64_t)i * 997 % old_n);
                grt_list_append(l, o);
                grt_decref(o);
            }
            grt_list_append(young, l);
            grt_decref(l);
        }
        uint64_t t0 = now_ns();
        grt_gc_collect(0);
        t_full[r] = (double)(now_ns() - t0) / 1000.0;
        t0 = now_ns();
        grt_gc_collect(0);                      /* an empty generation 0 */
        t_empty[r] = (double)(now_ns() - t0) / 1000.0;
        grt_decref(young);
    }
    printf("%-8s young collection, %8" PRId64 " old objects: %8.2f us (700 young), "
           "%6.2f us (empty)\n", grt_variant(), old_n, median(t_full, reps), median(t_empty, reps));
    grt_decref(holder);
}

/* ---- time-to-safepoint ------------------------------------------------------------------------- */

/* The measured collections' figures, recorded by a callback on the
 * collecting thread (stats of that very collection). */
typedef struct stw_log {
    int n, cap;
    double *tts, *pause, *cpu;
    int64_t freed;
} stw_log;

static stw_log slog;
static uint32_t stop_flag;
static __thread int measuring;
static __thread uint64_t cb_cpu0;

static void stw_callback(grt_gc_phase phase, const grt_gc_info *info, void *arg)
{
    (void)arg;
    if (!measuring)
        return;                         /* an automatic collection: not measured */
    if (phase == GRT_GC_START) {
        cb_cpu0 = cpu_ns();
        return;
    }
    grt_gc_stats s;
    grt_gc_get_stats(&s);
    slog.tts[slog.n] = (double)s.tts_last_ns / 1000.0;
    slog.pause[slog.n] = (double)s.pause_last_ns / 1000.0;
    slog.cpu[slog.n] = (double)(cpu_ns() - cb_cpu0) / 1000.0;
    slog.freed += info->collected;
    slog.n++;
}

typedef struct stw_arg {
    int id, nthreads;
    uint64_t xprogress;                 /* operations done, atomic */
    struct stw_arg *all;
} stw_arg;

/* 1 when every other worker did at least 100 operations since seen[]. */
static int others_running(stw_arg *a, const uint64_t *seen)
{
    for (int i = 1; i < a->nthreads; i++)
        if (__atomic_load_n(&a->all[i].xprogress, __ATOMIC_RELAXED) < seen[i] + 100)
            return 0;
    return 1;
}

/* A mutator: "operations" of a few containers, a cycle, some survivors, each
 * followed by an eval-breaker check (grt_safepoint), where automatic
 * collections (default thresholds) run.  Thread 0 also starts a young
 * collection whenever every other thread has done 100 operations since its
 * last one (so that they are all running when it asks): those are measured. */
static void *stw_worker(void *p)
{
    stw_arg *a = p;
    grt_object *keep = grt_list_new(0);
    uint64_t seen[16] = { 0 };
    for (int it = 0; !__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE); it++) {
        grt_object *l = grt_list_new(0);
        grt_list_append(l, l);
        grt_object *d = grt_dict_new();
        grt_dict_set_str(d, "l", l);
        if (it % 16 == 0)
            grt_list_append(keep, d);
        if (grt_list_len(keep) > 2000)
            grt_list_clear(keep);
        grt_decref(d);
        grt_decref(l);
        __atomic_store_n(&a->xprogress, (uint64_t)it + 1, __ATOMIC_RELAXED);
        grt_safepoint();
        if (a->id != 0 || !others_running(a, seen))
            continue;
        measuring = 1;
        grt_gc_collect(0);
        measuring = 0;
        for (int i = 1; i < a->nthreads; i++)
            seen[i] = __atomic_load_n(&a->all[i].xprogress, __ATOMIC_RELAXED);
        if (slog.n == slog.cap)
            __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
    }
    grt_decref(keep);
    return NULL;
}

static void bench_stw(int nthreads)
{
    enum { MAXT = 16 };
    int collections = quick ? 51 : 201;
    slog.n = 0;
    slog.cap = collections;
    slog.freed = 0;
    slog.tts = calloc((size_t)collections, sizeof(double));
    slog.pause = calloc((size_t)collections, sizeof(double));
    slog.cpu = calloc((size_t)collections, sizeof(double));
    stop_flag = 0;
    stw_arg args[MAXT];
    pthread_t thr[MAXT];
    grt_gc_collect(2);
    grt_gc_callback_add(stw_callback, NULL);
    grt_gc_enable();
    for (int i = 0; i < nthreads; i++) {
        args[i] = (stw_arg){ .id = i, .nthreads = nthreads, .all = args };
        if (grt_thread_start(&thr[i], stw_worker, &args[i]) != 0)
            die("grt_thread_start");
    }
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < nthreads; i++)
        pthread_join(thr[i], NULL);
    GRT_END_ALLOW_THREADS;
    grt_gc_disable();
    grt_gc_callback_remove(stw_callback, NULL);
    grt_gc_collect(2);
    int n = slog.n;
    double tmax = 0, pmax = 0;
    for (int i = 0; i < n; i++) {
        if (slog.tts[i] > tmax) tmax = slog.tts[i];
        if (slog.pause[i] > pmax) pmax = slog.pause[i];
    }
    if (grt_gil_enabled())
        printf("%-8s %d threads: GIL on (%s): no stop-the-world; young collection median "
               "%.1f us cpu\n", grt_variant(), nthreads, grt_gil_policy(), median(slog.cpu, n));
    else
        printf("%-8s %d threads: time-to-safepoint median %7.1f us (max %8.1f), "
               "pause median %7.1f us (max %8.1f; collection cpu median %.1f us), "
               "%d collections freeing %.0f objects each\n",
               grt_variant(), nthreads, median(slog.tts, n), tmax, median(slog.pause, n), pmax,
               median(slog.cpu, n), n, (double)slog.freed / n);
    free(slog.tts);
    free(slog.pause);
    free(slog.cpu);
}

/* ---- fork: what a child's collections and reads write ------------------------------------ */

/* This process's private dirty memory in KiB (pages written since fork). */
static long private_dirty_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Private_Dirty: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void bench_fork(int64_t n, unsigned freeze_flags, const char *label)
{
    grt_object *holder = make_live(n);
    grt_gc_collect(2);
    if (freeze_flags != ~0u && grt_gc_freeze(freeze_flags) != 0)
        die("grt_gc_freeze");
    fflush(stdout);
    pid_t pid = grt_fork();
    if (pid < 0)
        die("grt_fork");
    if (pid == 0) {
        long d0 = private_dirty_kib();
        grt_gc_collect(2);
        long d1 = private_dirty_kib();
        for (int64_t i = 0; i < n; i++) {       /* read every object: incref + decref */
            grt_object *o = grt_list_get(holder, i);
            grt_decref(o);
        }
        long d2 = private_dirty_kib();
        printf("%-8s fork child, %" PRId64 " live lists, %-24s full collection dirties %5.1f MB, "
               "reading every list %7.1f MB more\n", grt_variant(), n, label,
               (double)(d1 - d0) / 1024.0, (double)(d2 - d1) / 1024.0);
        fflush(stdout);
        _exit(0);
    }
    int st;
    GRT_BEGIN_ALLOW_THREADS
    waitpid(pid, &st, 0);
    GRT_END_ALLOW_THREADS;
    if (freeze_flags != ~0u)
        grt_gc_unfreeze();
    grt_decref(holder);
    grt_gc_collect(2);
}

int main(int argc, char **argv)
{
    static const char *const all[] = { "full", "cycles", "young", "stw", "fork" };
    const char *prog = bench_prog_name(argv[0]), *which[16];
    int nwhich = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: %s [--quick] [--reps N] [full|cycles|young|stw|fork ...]\n"
                   "  The collector benchmark (default: all five): full collection per live\n"
                   "  container, cyclic garbage per freed object, young collection next to old\n"
                   "  objects, time-to-safepoint and pause, a forked child's dirtied memory.\n"
                   "  Medians of --reps runs (default 7, 1..64); --quick: smaller heaps and\n"
                   "  fewer pauses.\n", prog);
            return 0;
        } else if (!strcmp(a, "--reps")) {
            reps = (int)bench_arg_int(prog, a, i + 1 < argc ? argv[i + 1] : NULL, 1, 64);
            i++;
        } else {
            int k = 0;
            while (k < 5 && strcmp(a, all[k]))
                k++;
            if (k == 5) {
                fprintf(stderr, "%s: unknown benchmark or option '%s' (full, cycles, young, stw, "
                        "fork; --quick, --reps N)\n", prog, a);
                return 2;
            }
            if (nwhich == 16) {
                fprintf(stderr, "%s: at most 16 benchmarks per run\n", prog);
                return 2;
            }
            which[nwhich++] = all[k];
        }
    }
    if (grt_init(NULL) != 0)
        die("grt_init");
    grt_gc_disable();
    for (int k = 0; k < (nwhich ? nwhich : 5); k++) {
        const char *w = nwhich ? which[k] : all[k];
        if (!strcmp(w, "full")) {
            bench_full(100000);
            bench_full(quick ? 300000 : 1000000);
        } else if (!strcmp(w, "cycles")) {
            bench_cycles(quick ? 100000 : 500000);
        } else if (!strcmp(w, "young")) {
            bench_young(100000);
            bench_young(quick ? 300000 : 1000000);
        } else if (!strcmp(w, "stw")) {
            bench_stw(2);
            bench_stw(8);
        } else if (!strcmp(w, "fork")) {
            int64_t n = quick ? 300000 : 1000000;
            bench_fork(n, ~0u, "no freeze:");
            bench_fork(n, 0, "after freeze:");
            bench_fork(n, GRT_GC_FREEZE_IMMORTAL, "after freeze(IMMORTAL):");
        }
        fflush(stdout);
    }
    grt_gc_enable();
    if (grt_fini() != 0)
        die("grt_fini");
    return 0;
}
