/*
 * bench/measure.c — one measurement of a workload: T threads of this
 * process, or T forked processes (bench_measure; the protocol is described
 * in bench/bench.h), and the small utilities the workloads share.
 */
#define _GNU_SOURCE 1
#include "bench.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small utilities ------------------------------------------------------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gilrt-bench-%s: ", GRT_VARIANT_NAME);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

void bench_die_grt(const char *what)
{
    fprintf(stderr, "gilrt-bench-%s: %s failed: %s: %s\n", GRT_VARIANT_NAME, what,
            grt_err_kind_name(grt_err_occurred()), grt_err_message());
    exit(1);
}

int bench_stopped(const bench_thread *t)
{
    /* relaxed: a flag only; nothing is published through it */
    return grt_atomic_load_32(&t->run->xstop) != 0;
}

uint64_t bench_sum(const bench_run *r, int i)
{
    uint64_t s = 0;
    for (int k = 0; k < r->p->threads; k++)
        s += r->threads[k].counters[i];
    return s;
}

/* ---- the measurement: threads --------------------------------------------------------- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_ready, gate_open;

static int done_ops(const bench_thread *t)
{
    const bench_params *p = t->run->p;
    if (p->ops == 0)
        return bench_stopped(t);
    if ((t->run->w->flags & BENCH_HELPERS) && t->index > 0)
        return bench_stopped(t);
    return t->ops >= p->ops;
}

static uint64_t next_batch(const bench_thread *t)
{
    const bench_params *p = t->run->p;
    uint64_t b = t->run->w->batch;
    if (p->ops && !((t->run->w->flags & BENCH_HELPERS) && t->index > 0) && p->ops - t->ops < b)
        b = p->ops - t->ops;
    return b;
}

static void *worker_main(void *arg)
{
    bench_thread *t = arg;
    const bench_workload *w = t->run->w;
    if (grt_attach() != 0)
        bench_die_grt("grt_attach");
    if (w->thread_setup && w->thread_setup(t) != 0)
        bench_die_grt(w->name);
    grt_detach();                           /* wait at the gate without the GIL */
    pthread_mutex_lock(&gate_lock);
    gate_ready++;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    grt_attach_blocking();
    uint64_t cpu0 = thread_cpu_ns();
    t->t_start = bench_now_ns();
    while (!done_ops(t))
        t->ops += w->step(t, next_batch(t));
    t->t_end = bench_now_ns();
    t->cpu_ns = thread_cpu_ns() - cpu0;
    if (w->thread_teardown)
        w->thread_teardown(t);
    grt_thread_exit();
    return NULL;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void span(bench_run *r, uint64_t first_start, uint64_t last_end)
{
    r->elapsed_ns = last_end > first_start ? last_end - first_start : 1;
}

static int measure_threads(bench_run *r)
{
    int n = r->p->threads;
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    if (!tids)
        bench_die("out of memory");
    gate_ready = gate_open = 0;
    grt_atomic_store_32(&r->xstop, 0);
    for (int i = 0; i < n; i++) {
        int e = pthread_create(&tids[i], NULL, worker_main, &r->threads[i]);
        if (e)
            bench_die("pthread_create: %s", strerror(e));
    }
    grt_detach();                           /* the workers need the GIL, and STW needs us parked */
    pthread_mutex_lock(&gate_lock);
    while (gate_ready < n)
        pthread_cond_wait(&gate_cond, &gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    if (r->p->ops == 0) {
        sleep_ns((uint64_t)(r->p->seconds * 1e9));
        grt_atomic_store_32(&r->xstop, 1);   /* relaxed: a flag; results come back through join */
        for (int i = 0; i < n; i++)
            pthread_join(tids[i], NULL);
    } else {
        pthread_join(tids[0], NULL);
        grt_atomic_store_32(&r->xstop, 1);   /* helpers stop when thread 0 is done (relaxed: a flag) */
        for (int i = 1; i < n; i++)
            pthread_join(tids[i], NULL);
    }
    grt_attach_blocking();
    free(tids);
    uint64_t first = UINT64_MAX, last = 0;
    r->ops = r->cpu_ns = 0;
    for (int i = 0; i < n; i++) {
        bench_thread *t = &r->threads[i];
        r->ops += t->ops;
        r->cpu_ns += t->cpu_ns;
        if (t->t_start < first) first = t->t_start;
        if (t->t_end > last) last = t->t_end;
    }
    span(r, first, last);
    return 0;
}

/* ---- the measurement: processes (like multiprocessing with fork) ------------------------- */

typedef struct proc_result {
    uint64_t ops, t_start, t_end;
    uint64_t counters[BENCH_COUNTERS];
} proc_result;

static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* In the child: the only thread, attached, with its own runtime and GIL. */
static __attribute__((noreturn)) void proc_child(bench_run *r, int index, int go_fd, int res_fd)
{
    bench_thread *t = &r->threads[index];
    const bench_workload *w = r->w;
    if (w->thread_setup && w->thread_setup(t) != 0)
        bench_die_grt(w->name);
    char c;
    while (read(go_fd, &c, 1) < 0 && errno == EINTR)
        ;                                    /* EOF: the parent opened the gate */
    t->t_start = bench_now_ns();
    uint64_t deadline = t->t_start + (uint64_t)(r->p->seconds * 1e9);
    for (;;) {
        if (r->p->ops ? t->ops >= r->p->ops : bench_now_ns() >= deadline)
            break;
        t->ops += w->step(t, next_batch(t));
    }
    t->t_end = bench_now_ns();
    proc_result res = { t->ops, t->t_start, t->t_end, {0} };
    memcpy(res.counters, t->counters, sizeof res.counters);
    if (write(res_fd, &res, sizeof res) != (ssize_t)sizeof res)
        _exit(3);
    _exit(0);
}

static int measure_procs(bench_run *r)
{
    int n = r->p->threads;
    int go[2];
    int *res = calloc((size_t)n, sizeof *res);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!res || !pids || pipe(go) != 0)
        bench_die("out of memory or pipes");
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < n; i++) {
        int fds[2];
        if (pipe(fds) != 0)
            bench_die("pipe: %s", strerror(errno));
        pid_t pid = grt_fork();
        if (pid < 0)
            bench_die("fork: %s", strerror(errno));
        if (pid == 0) {
            close(go[1]);
            close(fds[0]);
            proc_child(r, i, go[0], fds[1]);
        }
        close(fds[1]);
        res[i] = fds[0];
        pids[i] = pid;
    }
    close(go[0]);
    close(go[1]);                            /* EOF: every child starts now */
    grt_detach();
    uint64_t first = UINT64_MAX, last = 0;
    int failed = 0;
    r->ops = 0;
    for (int i = 0; i < n; i++) {
        proc_result pr;
        if (read_full(res[i], &pr, sizeof pr) != 0) {
            failed = 1;
        } else {
            r->ops += pr.ops;
            r->threads[i].ops = pr.ops;
            memcpy(r->threads[i].counters, pr.counters, sizeof pr.counters);
            if (pr.t_start < first) first = pr.t_start;
            if (pr.t_end > last) last = pr.t_end;
        }
        close(res[i]);
    }
    for (int i = 0; i < n; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    grt_attach_blocking();
    free(res);
    free(pids);
    if (failed) {
        grt_err_set(GRT_ERR_RUNTIME, "a benchmark process failed");
        return -1;
    }
    span(r, first, last);
    return 0;
}

int bench_measure(bench_run *r, int procs)
{
    for (int i = 0; i < r->p->threads; i++) {
        r->threads[i] = (bench_thread){ .index = i, .run = r };
    }
    return procs ? measure_procs(r) : measure_threads(r);
}
