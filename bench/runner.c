/*
 * bench/runner.c — gilrt-bench-<variant>: runs one workload (or one demo)
 * in this variant and prints one JSON line.  `gilrt compare` and `gilrt demo`
 * (tools/) drive it; it is also usable by hand:
 *
 *   gilrt-bench-brc run rc_private --threads 2 --seconds 0.5
 *   gilrt-bench-gil run mp_vs_mt --threads 2          (threads, then processes)
 *   gilrt-bench-atomic run rc_shared --gil classic    (a GIL turned on)
 *   gilrt-bench-gil list | info | demo NAME
 *
 * The measurement protocol is described in bench/bench.h.  Exit status: 0,
 * 1 for a failed run (the message names what failed), 2 for bad usage.
 */
#define _GNU_SOURCE 1
#include "bench.h"
#include <errno.h>
#include <math.h>
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

/* ---- JSON output ------------------------------------------------------------------- */

void bench_json_init(bench_json *j) { j->len = 0; j->n = 0; j->buf[0] = '\0'; }

static void json_put(bench_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void json_put(bench_json *j, const char *fmt, ...)
{
    if (j->len >= sizeof j->buf - 1)
        bench_die("JSON line longer than %zu bytes", sizeof j->buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->buf - j->len)
        bench_die("JSON line longer than %zu bytes", sizeof j->buf);
    j->len += (size_t)n;
}

static void json_key(bench_json *j, const char *key)
{
    json_put(j, "%s\"%s\":", j->n++ ? "," : "{", key);
}

void bench_json_str(bench_json *j, const char *key, const char *v)
{
    json_key(j, key);
    json_put(j, "\"");
    for (const char *s = v ? v : ""; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            json_put(j, "\\%c", c);
        else if (c < 0x20)
            json_put(j, "\\u%04x", c);
        else
            json_put(j, "%c", c);
    }
    json_put(j, "\"");
}

void bench_json_num(bench_json *j, const char *key, double v)
{
    json_key(j, key);
    if (isfinite(v))
        json_put(j, "%.6g", v);
    else
        json_put(j, "null");     /* JSON has no inf/nan */
}

void bench_json_int(bench_json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_put(j, "%lld", (long long)v);
}

void bench_json_null(bench_json *j, const char *key) { json_key(j, key); json_put(j, "null"); }

void bench_json_raw(bench_json *j, const char *key, const char *raw)
{
    json_key(j, key);
    json_put(j, "%s", raw);
}

const char *bench_json_end(bench_json *j)
{
    json_put(j, j->n ? "}" : "{}");
    return j->buf;
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

/* ---- commands ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: gilrt-bench-%s COMMAND ...\n"
        "  run WORKLOAD [--threads N] [--seconds S] [--ops N] [--size N] [--gil POLICY]\n"
        "        run one workload in N threads (default 1) for S seconds (default 0.5)\n"
        "        or N ops per thread, print one JSON line; --gil picks the GIL policy\n"
        "        (classic, fifo, io, legacy, off...; default: the variant's)\n"
        "  list  the workloads, one per line: name, what one op is, summary\n"
        "  info  this build as JSON: variant, header size, GIL policies, allocator\n"
        "  demo NAME [options]   race, cow, slots, seeds (run `demo help`)\n"
        "This is the %s build; `gilrt compare` runs every build side by side.\n",
        GRT_VARIANT_NAME, GRT_VARIANT_NAME);
}

static int64_t parse_int(const char *opt, const char *v, int64_t min)
{
    char *end;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || n < min)
        bench_die("%s: expected an integer >= %lld, got '%s'", opt, (long long)min, v ? v : "");
    return n;
}

static double parse_seconds(const char *opt, const char *v)
{
    char *end;
    double s = v ? strtod(v, &end) : 0;
    if (!v || *end || !(s > 0) || s > 3600)
        bench_die("%s: expected seconds in (0, 3600], got '%s'", opt, v ? v : "");
    return s;
}

static void init_runtime(const char *gil)
{
    grt_config cfg;
    if (grt_config_init(&cfg) != 0)
        bench_die_grt("grt_config_init");
    if (gil)
        cfg.gil = gil;
    if (grt_init(&cfg) != 0)
        bench_die_grt("grt_init");
}

static void print_line(const char *json)
{
    fputs(json, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static int cmd_run(int argc, char **argv)
{
    bench_params p = { .threads = 1, .seconds = 0.5 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (p.workload)
                bench_die("run: more than one workload given ('%s', '%s')", p.workload, a);
            p.workload = a;
            continue;
        }
        if (!strcmp(a, "--threads")) p.threads = (int)parse_int(a, v, 1);
        else if (!strcmp(a, "--seconds")) p.seconds = parse_seconds(a, v);
        else if (!strcmp(a, "--ops")) p.ops = (uint64_t)parse_int(a, v, 1);
        else if (!strcmp(a, "--size")) p.size = parse_int(a, v, 1);
        else if (!strcmp(a, "--gil")) { if (!v) bench_die("--gil needs a policy name"); p.gil = v; }
        else bench_die("run: unknown option '%s' (see --help)", a);
        i++;
    }
    if (!p.workload)
        bench_die("run: which workload? (`gilrt-bench-%s list` shows them)", GRT_VARIANT_NAME);
    if (p.threads > 1024)
        bench_die("--threads: at most 1024, got %d", p.threads);
    const bench_workload *w = bench_workload_find(p.workload);
    if (!w)
        bench_die("unknown workload '%s' (`gilrt-bench-%s list` shows them)", p.workload,
                  GRT_VARIANT_NAME);
    init_runtime(p.gil);
    bench_run r = { .p = &p, .w = w, .size = p.size ? p.size : w->default_size };
    r.threads = calloc((size_t)p.threads, sizeof *r.threads);
    if (!r.threads)
        bench_die("out of memory");
    if (w->setup && w->setup(&r) != 0)
        bench_die_grt(w->name);
    if (bench_measure(&r, 0) != 0)
        bench_die_grt(w->name);
    double secs = (double)r.elapsed_ns / 1e9;
    bench_json extra;
    bench_json_init(&extra);
    if (w->report)
        w->report(&r, &extra);
    uint64_t mt_ops = r.ops;
    double mt_secs = secs;
    bench_json_num(&extra, "ops_per_cpu_s", r.cpu_ns ? (double)r.ops / ((double)r.cpu_ns / 1e9) : NAN);
    /* CPU-seconds per second: at most 1 with a GIL, up to T without */
    bench_json_num(&extra, "parallelism", (double)r.cpu_ns / (double)r.elapsed_ns);
    if (w->flags & BENCH_PROCS) {
        if (bench_measure(&r, 1) != 0)
            bench_die_grt(w->name);
        double psecs = (double)r.elapsed_ns / 1e9;
        bench_json_num(&extra, "mp_ops_per_s", (double)r.ops / psecs);
        bench_json_num(&extra, "mp_seconds", psecs);
        bench_json_num(&extra, "mp_vs_mt", ((double)r.ops / psecs) / ((double)mt_ops / mt_secs));
    }
    if (w->teardown)
        w->teardown(&r);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "workload", w->name);
    bench_json_str(&j, "variant", grt_variant());
    bench_json_str(&j, "gil", grt_gil_policy());
    bench_json_str(&j, "allocator", grt_mem_allocator());
    bench_json_int(&j, "threads", p.threads);
    bench_json_int(&j, "size", r.size);
    bench_json_int(&j, "ops", (int64_t)mt_ops);
    bench_json_num(&j, "seconds", mt_secs);
    bench_json_num(&j, "ops_per_s", (double)mt_ops / mt_secs);
    bench_json_num(&j, "ns_per_op", mt_ops ? mt_secs * 1e9 * p.threads / (double)mt_ops : NAN);
    bench_json_raw(&j, "extra", bench_json_end(&extra));
    print_line(bench_json_end(&j));
    free(r.threads);
    if (grt_fini() != 0)
        bench_die_grt("grt_fini");
    return 0;
}

static int cmd_list(void)
{
    for (int i = 0; bench_workloads[i]; i++)
        printf("%s\t%s\t%s\n", bench_workloads[i]->name, bench_workloads[i]->op,
               bench_workloads[i]->summary);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    init_runtime(argc > 1 && !strcmp(argv[0], "--gil") ? argv[1] : NULL);
    char pol[512] = "[";
    for (int i = 0; grt_gil_policy_name(i); i++) {
        size_t l = strlen(pol);
        snprintf(pol + l, sizeof pol - l, "%s\"%s\"", i ? "," : "", grt_gil_policy_name(i));
    }
    strncat(pol, "]", sizeof pol - strlen(pol) - 1);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "variant", grt_variant());
    bench_json_int(&j, "header_bytes", grt_object_header_size());
    bench_json_str(&j, "gil", grt_gil_policy());
    bench_json_raw(&j, "gil_policies", pol);
    bench_json_str(&j, "allocator", grt_mem_allocator());
    print_line(bench_json_end(&j));
    return grt_fini() == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "list"))
        return cmd_list();
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo"))
        return bench_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "gilrt-bench-%s: unknown command '%s'\n", GRT_VARIANT_NAME, cmd);
    usage(stderr);
    return 2;
}
