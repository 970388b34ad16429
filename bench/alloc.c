/*
 * bench/alloc.c — the allocator benchmark (not a test): obmalloc against
 * glibc malloc and mimalloc.  Built once per variant (bench/alloc-<variant>).
 *
 *   alloc-<variant> [--runs N] [--ops N] [--quick]
 *
 * Workloads (each run once untimed to warm up, then N timed runs; the table
 * shows medians):
 *   churn      each thread keeps 1024 live blocks of 16..271 bytes and
 *              replaces a random one per op (free + malloc); 1 and 2 threads
 *   batch      allocate 10000 blocks, then free them in allocation order
 *   prodcons   one thread allocates, another frees (a lock-free ring of 1024
 *              pointers between them): every free is a cross-thread free
 *   rss        resident memory for 1,000,000 live 32-byte blocks, each run in
 *              a fresh child process
 *
 * Allocators:
 *   obmalloc         grt_mem_malloc/grt_mem_free, runtime initialised with it;
 *                    the threads are attached (the API's rule), and call
 *                    grt_safepoint() every 1024 ops
 *   glibc            __libc_malloc/__libc_free: glibc's own allocator even
 *                    when something interposes malloc
 *   mimalloc         mi_malloc/mi_free, dlopen'ed (when installed)
 *   malloc via grt   grt_mem_* with GRT_MALLOC=malloc (the dispatch's cost)
 *   mimalloc via grt grt_mem_* with GRT_MALLOC=mimalloc
 * The direct rows use plain threads; the grt rows attached ones.  In the gil
 * build attached threads take turns on the GIL: obmalloc's 2-thread churn
 * there shows the GIL, not the allocator.
 *
 * Throughput is ops / wall time from the first thread's start to the last
 * one's end.  The machine may be shared: the CPU-time rate (ops per second of
 * the workers' own CPU time) is printed beside it and is the steadier one.
 */
#define _GNU_SOURCE 1
#include <gilrt.h>
#include "args.h"
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

/* ---- the allocators ------------------------------------------------------------ */

typedef struct impl {
    const char *label;
    const char *grt_allocator;      /* NULL: called directly, no runtime needed */
    void *(*alloc)(size_t);
    void (*free)(void *);
} impl;

static void *(*mi_malloc_p)(size_t);
static void (*mi_free_p)(void *);

static void *mi_alloc_direct(size_t n) { return mi_malloc_p(n); }
static void mi_free_direct(void *p) { mi_free_p(p); }

static impl impls[] = {
    { "obmalloc", "obmalloc", grt_mem_malloc, grt_mem_free },
    { "glibc malloc", NULL, __libc_malloc, __libc_free },
    { "mimalloc", NULL, mi_alloc_direct, mi_free_direct },
    { "malloc via grt", "malloc", grt_mem_malloc, grt_mem_free },
    { "mimalloc via grt", "mimalloc", grt_mem_malloc, grt_mem_free },
};
enum { IMPL_OBMALLOC, IMPL_GLIBC, IMPL_MIMALLOC, IMPL_MALLOC_GRT, IMPL_MIMALLOC_GRT, NIMPL };
static bool impl_ok[NIMPL];

static void load_mimalloc(void)
{
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libmimalloc.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    *(void **)&mi_malloc_p = dlsym(lib, "mi_malloc");
    *(void **)&mi_free_p = dlsym(lib, "mi_free");
}

/* ---- timing and the runtime ---------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char *runtime_allocator;   /* what the runtime is initialised with, NULL: not */

static bool runtime_use(const char *allocator)
{
    const char *want = allocator ? allocator : "obmalloc";
    if (runtime_allocator && strcmp(runtime_allocator, want) == 0)
        return true;
    if (runtime_allocator) grt_fini();
    runtime_allocator = NULL;
    grt_config cfg;
    if (grt_config_init(&cfg) != 0) return false;
    cfg.allocator = want;
    if (grt_init(&cfg) != 0) {
        grt_err_clear();
        return false;
    }
    runtime_allocator = want;
    return true;
}

static void runtime_off(void)
{
    if (runtime_allocator) grt_fini();
    runtime_allocator = NULL;
}

/* ---- workers ----------------------------------------------------------------------------- */

enum { CHURN_SLOTS = 1024, BATCH = 10000, RING = 1024 };
typedef enum { W_CHURN, W_BATCH, W_PRODCONS } workload;

typedef struct job {
    const impl *im;
    workload w;
    int nthreads;
    uint64_t ops;               /* per thread */
    pthread_barrier_t gate;
    /* producer/consumer ring */
    void *ring[RING];
    uint64_t xhead, xtail;
    double t0[2], t1[2], cpu[2];
} job;

typedef struct worker_arg { job *j; int index; } worker_arg;

static inline uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void run_churn(job *j, bool grt, uint64_t seed)
{
    void *slots[CHURN_SLOTS];
    uint64_t x = seed;
    for (int k = 0; k < CHURN_SLOTS; k++) slots[k] = j->im->alloc(16 + (xorshift(&x) & 255));
    for (uint64_t i = 0; i < j->ops; i++) {
        uint64_t r = xorshift(&x);
        unsigned k = (unsigned)(r & (CHURN_SLOTS - 1));
        j->im->free(slots[k]);
        char *p = j->im->alloc(16 + ((r >> 32) & 255));
        p[0] = (char)r;
        slots[k] = p;
        if (grt && (i & 1023) == 0) grt_safepoint();
    }
    for (int k = 0; k < CHURN_SLOTS; k++) j->im->free(slots[k]);
}

static void run_batch(job *j, bool grt, uint64_t seed)
{
    void **v = malloc(BATCH * sizeof *v);
    uint64_t x = seed;
    for (uint64_t done = 0; done < j->ops; done += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            char *p = j->im->alloc(16 + (xorshift(&x) & 255));
            p[0] = 1;
            v[k] = p;
        }
        for (int k = 0; k < BATCH; k++) j->im->free(v[k]);
        if (grt) grt_safepoint();
    }
    free(v);
}

/* Waiting for the other side of the ring: spin a little, then yield the
 * CPU — detached, for attached threads, as a thread blocking on a queue
 * would be; otherwise, under a GIL, the other side would get the GIL only
 * at the next forced switch (5 ms later). */
static void wait_a_little(bool grt, unsigned *spins)
{
    if (++*spins < 64)
        return;
    *spins = 0;
    if (grt) {
        GRT_BEGIN_ALLOW_THREADS
        sched_yield();
        GRT_END_ALLOW_THREADS;
    } else {
        sched_yield();
    }
}

static void run_prodcons(job *j, int index, bool grt, uint64_t seed)
{
    uint64_t x = seed;
    unsigned spins = 0;
    for (uint64_t i = 0; i < j->ops; i++) {
        if (index == 0) {
            char *p = j->im->alloc(16 + (xorshift(&x) & 255));
            p[0] = 1;
            while (i - grt_atomic_load_64_acq(&j->xtail) >= RING) wait_a_little(grt, &spins);
            j->ring[i % RING] = p;
            grt_atomic_store_64_rel(&j->xhead, i + 1);    /* publishes the slot */
        } else {
            while (grt_atomic_load_64_acq(&j->xhead) <= i) wait_a_little(grt, &spins);
            void *p = j->ring[i % RING];
            grt_atomic_store_64_rel(&j->xtail, i + 1);    /* the slot may be reused */
            j->im->free(p);
        }
    }
}

static void *worker(void *arg)
{
    worker_arg *a = arg;
    job *j = a->j;
    bool grt = j->im->grt_allocator != NULL;
    uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(a->index + 1);
    if (grt) {
        GRT_BEGIN_ALLOW_THREADS
        pthread_barrier_wait(&j->gate);
        j->t0[a->index] = now_s();
        GRT_END_ALLOW_THREADS;
    } else {
        pthread_barrier_wait(&j->gate);
        j->t0[a->index] = now_s();
    }
    double c0 = cpu_s();
    switch (j->w) {
    case W_CHURN: run_churn(j, grt, seed); break;
    case W_BATCH: run_batch(j, grt, seed); break;
    case W_PRODCONS: run_prodcons(j, a->index, grt, seed); break;
    }
    j->cpu[a->index] = cpu_s() - c0;
    j->t1[a->index] = now_s();
    return NULL;
}

typedef struct result { double mops, mops_cpu; } result;

/* One timed run: Mops/s by wall time and by the workers' CPU time. */
static result run_once(const impl *im, workload w, int nthreads, uint64_t ops)
{
    job *j = calloc(1, sizeof *j);
    j->im = im;
    j->w = w;
    j->nthreads = nthreads;
    j->ops = ops;
    pthread_barrier_init(&j->gate, NULL, (unsigned)nthreads);
    pthread_t thr[2];
    worker_arg args[2];
    bool grt = im->grt_allocator != NULL;
    for (int i = 0; i < nthreads; i++) {
        args[i] = (worker_arg){ j, i };
        if (grt) grt_thread_start(&thr[i], worker, &args[i]);
        else pthread_create(&thr[i], NULL, worker, &args[i]);
    }
    if (grt) {
        GRT_BEGIN_ALLOW_THREADS
        for (int i = 0; i < nthreads; i++) pthread_join(thr[i], NULL);
        GRT_END_ALLOW_THREADS;
    } else {
        for (int i = 0; i < nthreads; i++) pthread_join(thr[i], NULL);
    }
    double t0 = j->t0[0], t1 = j->t1[0], cpu = 0;
    for (int i = 0; i < nthreads; i++) {
        if (j->t0[i] < t0) t0 = j->t0[i];
        if (j->t1[i] > t1) t1 = j->t1[i];
        cpu += j->cpu[i];
    }
    /* ops: churn and batch count per thread; prodcons counts blocks passed */
    /* The CPU rate: ops per second of the average worker's CPU time, i.e.
     * the rate had each worker had a core to itself. */
    double total = w == W_PRODCONS ? (double)ops : (double)ops * nthreads;
    result r = { total / (t1 - t0) / 1e6, total / (cpu / nthreads) / 1e6 };
    pthread_barrier_destroy(&j->gate);
    free(j);
    return r;
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

static int runs = 5;

/* Medians of `runs` runs of every available allocator.  The runs are
 * interleaved (run r of each allocator, then run r + 1), so that a change in
 * the machine's load hits every allocator alike. */
static void measure_all(workload w, int nthreads, uint64_t ops, result out[NIMPL])
{
    static double wall[NIMPL][64], cpu[NIMPL][64];
    for (int i = 0; i < NIMPL; i++) {
        if (!impl_ok[i]) continue;
        if (impls[i].grt_allocator) runtime_use(impls[i].grt_allocator);
        run_once(&impls[i], w, nthreads, ops / 4 + 1);              /* warm-up */
    }
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < NIMPL; i++) {
            if (!impl_ok[i]) continue;
            if (impls[i].grt_allocator) runtime_use(impls[i].grt_allocator);
            result x = run_once(&impls[i], w, nthreads, ops);
            wall[i][r] = x.mops;
            cpu[i][r] = x.mops_cpu;
        }
    }
    for (int i = 0; i < NIMPL; i++)
        if (impl_ok[i])
            out[i] = (result){ median(wall[i], runs), median(cpu[i], runs) };
}

/* ---- resident memory ------------------------------------------------------------------------- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

enum { RSS_N = 1000000 };

/* In a child: allocate RSS_N 32-byte blocks; report the RSS growth and the
 * peak (VmHWM) growth in KiB through the pipe. */
static void rss_child(const impl *im, int fd)
{
    if (im->grt_allocator && !runtime_use(im->grt_allocator)) _exit(1);
    void **v = __libc_malloc(RSS_N * sizeof *v);
    memset(v, 0, RSS_N * sizeof *v);                  /* counted in the baseline */
    long r0 = rss_kib(), h0 = hwm_kib();
    for (int i = 0; i < RSS_N; i++) {
        char *p = im->alloc(32);
        memset(p, 1, 32);
        v[i] = p;
    }
    long r1 = rss_kib(), h1 = hwm_kib();
    long out[2] = { r1 - r0, h1 - (h0 > r0 ? h0 : r0) };
    if (write(fd, out, sizeof out) != sizeof out) _exit(1);
    _exit(0);
}

static bool measure_rss(const impl *im, double *mib, double *peak_mib)
{
    double a[64], b[64];
    runtime_off();                                   /* the child starts clean */
    for (int r = 0; r < runs; r++) {
        int fds[2];
        if (pipe(fds) != 0) return false;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            rss_child(im, fds[1]);
        }
        close(fds[1]);
        long out[2];
        ssize_t n = read(fds[0], out, sizeof out);
        close(fds[0]);
        int st;
        waitpid(pid, &st, 0);
        if (n != sizeof out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return false;
        a[r] = (double)out[0] / 1024;
        b[r] = (double)out[1] / 1024;
    }
    *mib = median(a, runs);
    *peak_mib = median(b, runs);
    return true;
}

/* ---- the report -------------------------------------------------------------------------------- */

static const char *malloc_provider(void)
{
    Dl_info di;
    void *(*m)(size_t) = malloc;
    if (dladdr(*(void **)&m, &di) && di.dli_fname) {
        const char *s = strrchr(di.dli_fname, '/');
        return s ? s + 1 : di.dli_fname;
    }
    return "?";
}

static bool usable(int i)
{
    const impl *im = &impls[i];
    if (i == IMPL_MIMALLOC) return mi_malloc_p != NULL;
    if (im->grt_allocator) return runtime_use(im->grt_allocator);
    return true;
}

int main(int argc, char **argv)
{
    uint64_t ops = 4000000;
    const char *prog = bench_prog_name(argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--runs") == 0) { runs = (int)bench_arg_int(prog, a, v, 1, 64); i++; }
        else if (strcmp(a, "--ops") == 0) { ops = (uint64_t)bench_arg_int(prog, a, v, 1000, (int64_t)1 << 40); i++; }
        else if (strcmp(a, "--quick") == 0) { runs = 3; ops = 200000; }
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s [--runs N] [--ops N] [--quick]\n"
                   "  The allocator benchmark: churn (1 and 2 threads), batch, prodcons and rss\n"
                   "  for obmalloc, glibc, mimalloc and both through grt; medians of --runs\n"
                   "  (default 5, 1..64) runs of --ops operations (default 4000000); --quick:\n"
                   "  3 runs of 200000.\n", prog);
            return 0;
        } else {
            fprintf(stderr, "%s: unknown option '%s'\nusage: %s [--runs N] [--ops N] [--quick]\n",
                    prog, a, prog);
            return 2;
        }
    }
    load_mimalloc();
    for (int i = 0; i < NIMPL; i++) impl_ok[i] = usable(i);
    runtime_off();

    printf("gilrt allocator benchmark: variant %s, %ld CPUs online, medians of %d runs\n",
           grt_variant(), sysconf(_SC_NPROCESSORS_ONLN), runs);
    printf("malloc() in this process resolves to %s%s\n", malloc_provider(),
           strstr(malloc_provider(), "libc") ? "" : "  (interposed: 'glibc malloc' below "
           "calls __libc_malloc, glibc's own)");
    printf("Mops/s by wall time [by the workers' CPU time]\n\n");

    static result churn1[NIMPL], churn2[NIMPL];
    result churn[NIMPL][2], batch[NIMPL], pc[NIMPL];
    measure_all(W_CHURN, 1, ops, churn1);
    measure_all(W_CHURN, 2, ops, churn2);
    measure_all(W_BATCH, 1, ops, batch);
    measure_all(W_PRODCONS, 2, ops / 2, pc);
    for (int i = 0; i < NIMPL; i++) {
        churn[i][0] = churn1[i];
        churn[i][1] = churn2[i];
    }
    printf("%-18s %24s %24s %7s\n", "churn (1024 live)", "1 thread", "2 threads", "2T/1T");
    for (int i = 0; i < NIMPL; i++) {
        if (!impl_ok[i]) { printf("%-18s  (not available)\n", impls[i].label); continue; }
        printf("%-18s %12.1f [%8.1f] %12.1f [%8.1f] %6.2fx\n", impls[i].label,
               churn[i][0].mops, churn[i][0].mops_cpu, churn[i][1].mops, churn[i][1].mops_cpu,
               churn[i][1].mops / churn[i][0].mops);
    }
    printf("\n%-18s %24s %24s\n", "", "batch 10000, 1 thread", "producer/consumer");
    for (int i = 0; i < NIMPL; i++) {
        if (!impl_ok[i]) continue;
        printf("%-18s %12.1f [%8.1f] %12.1f [%8.1f]\n", impls[i].label, batch[i].mops,
               batch[i].mops_cpu, pc[i].mops, pc[i].mops_cpu);
    }
    fflush(stdout);

    printf("\n%-18s %24s %24s\n", "1,000,000 x 32 B", "RSS growth MiB", "peak growth MiB");
    for (int i = 0; i < 3; i++) {
        double mib, peak;
        if (!impl_ok[i] || !measure_rss(&impls[i], &mib, &peak)) continue;
        printf("%-18s %16.1f (%3.0f B/block) %12.1f\n", impls[i].label, mib,
               mib * 1048576.0 / RSS_N, peak);
    }
    runtime_off();

    printf("\nratios of medians: wall time [CPU time]\n");
#define RATIO(a, b) (a).mops / (b).mops, (a).mops_cpu / (b).mops_cpu
    printf("  churn 1T  obmalloc / glibc     = %.2f [%.2f]   (target >= 1.5)\n",
           RATIO(churn[IMPL_OBMALLOC][0], churn[IMPL_GLIBC][0]));
    if (impl_ok[IMPL_MIMALLOC])
        printf("  churn 1T  obmalloc / mimalloc  = %.2f [%.2f]   (target >= 0.83: within 1.2x)\n",
               RATIO(churn[IMPL_OBMALLOC][0], churn[IMPL_MIMALLOC][0]));
    printf("  batch     obmalloc / glibc     = %.2f [%.2f]\n", RATIO(batch[IMPL_OBMALLOC], batch[IMPL_GLIBC]));
    if (impl_ok[IMPL_MIMALLOC])
        printf("  batch     obmalloc / mimalloc  = %.2f [%.2f]\n",
               RATIO(batch[IMPL_OBMALLOC], batch[IMPL_MIMALLOC]));
    printf("  prodcons  obmalloc / glibc     = %.2f [%.2f]\n", RATIO(pc[IMPL_OBMALLOC], pc[IMPL_GLIBC]));
    printf("  churn     obmalloc 2T / 1T     = %.2f [%.2f]   (target >= 1.8 in atomic and brc)\n",
           RATIO(churn[IMPL_OBMALLOC][1], churn[IMPL_OBMALLOC][0]));
    return 0;
}
