/*
 * bench/convoy.c — the convoy experiment: what a CPU-bound thread does to an
 * I/O-bound thread's latency under each GIL policy (built once per variant:
 * bench/convoy-gil, -atomic, -brc).  A user program of the public API.
 *
 * Per policy (every registered one this build accepts, or --policies):
 *   throughput  N CPU-bound threads (1, 2, 4) for --seconds each: total
 *               iterations per second, the best of 5 windows (an iteration
 *               allocates an int and a tuple, frees them and passes a
 *               safepoint).  With a GIL, no policy gives a speedup: that is
 *               the point.
 *   echo        an I/O thread does --round-trips ping-pongs over a
 *               socketpair with an echo thread, detaching around its write
 *               and around its read (two GIL acquisitions per round trip,
 *               like Python's send() and recv()).  The echo thread is plain C
 *               by default; --echo=attached makes it a runtime thread that
 *               detaches around its own read and write (like a Python echo
 *               thread: four acquisitions per round trip).  Measured alone
 *               (the baseline) and next to one CPU-bound thread; "extra" is
 *               the round trip minus the baseline median.
 *   sleep       the I/O thread sleeps 1 ms, detached, --sleeps times: how
 *               late it wakes (re-acquiring the GIL included), alone and next
 *               to the CPU-bound thread.
 *   cpu kept    the CPU-bound thread's iteration rate during the I/O run, as
 *               a share of its rate alone in the 0.3 s just before; and in
 *               brackets the share of the run it was not waiting for the GIL
 *               (grt_gil_stats_thread), which other processes cannot blur.
 *   crowd       8 threads (6 CPU-bound, 2 doing echo round trips) for 2 s
 *               per policy, or S seconds with --long[=S] (default 60); a
 *               watchdog checks that every thread keeps making progress and
 *               reports each thread's progress and longest stall.  Exit
 *               status 3 if one stalled longer than --stall-limit (10 s).
 *   --only=throughput,latency,crowd picks sections; --policies=a,b policies.
 *
 * The reference (CPython 3.13 on 2 cores, one spinning thread): a 1 ms sleep
 * wakes 5.2 ms late (median), a socketpair echo takes 5.2 ms median and
 * 15-21 ms p99 with the GIL; 0.1 ms and 0.03 ms free-threaded.
 *
 * Timing is wall-clock: run it on an idle machine, or (as root) with
 * `chrt -r 10` so that other processes cannot delay its threads' wake-ups,
 * and read medians rather than single runs.
 */
#include <gilrt.h>
#include "args.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------------------ */

static struct {
    double seconds;             /* per throughput measurement */
    int round_trips;
    int sleeps;
    int echo_attached;          /* --echo=attached */
    double long_seconds;        /* 0: no long run */
    double stall_limit;         /* seconds */
    double io_limit;            /* seconds: give up on a convoy run after this */
    const char *policies;       /* comma-separated, NULL = all */
    const char *only;           /* sections: throughput,latency,crowd; NULL = all */
} opt = { 1.0, 1000, 200, 0, 2.0, 10.0, 60.0, NULL, NULL };

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void nap_ns(uint64_t ns)
{
    struct timespec t = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

static void die(const char *what)
{
    fprintf(stderr, "convoy: %s: %s\n", what, grt_err_occurred() ? grt_err_message() : strerror(errno));
    exit(1);
}

/* ---- the CPU-bound work ----------------------------------------------------------------- */

/* One iteration: an int outside the small-int cache and a tuple holding it
 * twice, both freed, then a safepoint (where the GIL changes hands). */
static void cpu_iteration(uint64_t i)
{
    grt_object *n = grt_int_new(1000 + (int64_t)(i & 1023));
    grt_object *t = grt_tuple_pack(2, n, n);
    if (!n || !t) die("cpu_iteration");
    grt_decref(t);
    grt_decref(n);
    grt_safepoint();
}

typedef struct cpu_thread {
    pthread_t thr;
    uint64_t xiters;            /* written by the thread, read by main (atomic) */
    uint64_t xwait_ns;          /* its time waiting for the GIL (grt_gil_stats_thread) */
    uint32_t *xstop;
    uint64_t max_stall_ns;      /* longest time between two iterations */
} cpu_thread;

static void *cpu_main(void *p)
{
    cpu_thread *c = p;
    uint64_t i = 0, last = now_ns();
    while (!grt_atomic_load_32(c->xstop)) {
        cpu_iteration(i++);
        if ((i & 63) == 0) {
            grt_gil_statistics st;
            grt_gil_stats_thread(&st);
            grt_atomic_store_64(&c->xwait_ns, st.wait_total_ns);
            grt_atomic_store_64(&c->xiters, i);
            uint64_t t = now_ns();
            if (t - last > c->max_stall_ns) c->max_stall_ns = t - last;
            last = t;
        }
    }
    grt_atomic_store_64(&c->xiters, i);
    return NULL;
}

static void cpu_start(cpu_thread *c, uint32_t *xstop)
{
    memset(c, 0, sizeof *c);
    c->xstop = xstop;
    if (grt_thread_start(&c->thr, cpu_main, c) != 0) die("grt_thread_start");
}

/* Join threads from the (attached) main thread: detached while blocked. */
static void join_detached(pthread_t thr)
{
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
}

static void sleep_detached(double seconds)
{
    GRT_BEGIN_ALLOW_THREADS
    nap_ns((uint64_t)(seconds * 1e9));
    GRT_END_ALLOW_THREADS;
}

/* Total iterations per second of n CPU-bound threads: the best of 5 windows
 * of opt.seconds / 5 (other processes can only make a window slower). */
static double throughput(int n)
{
    cpu_thread c[8];
    uint32_t xstop = 0;
    for (int i = 0; i < n; i++) cpu_start(&c[i], &xstop);
    sleep_detached(0.05);                       /* let them all get going */
    double best = 0;
    for (int w = 0; w < 5; w++) {
        uint64_t s0 = 0, s1 = 0;
        for (int i = 0; i < n; i++) s0 += grt_atomic_load_64(&c[i].xiters);
        uint64_t t0 = now_ns();
        sleep_detached(opt.seconds / 5);
        for (int i = 0; i < n; i++) s1 += grt_atomic_load_64(&c[i].xiters);
        uint64_t t1 = now_ns();
        double r = (double)(s1 - s0) / ((double)(t1 - t0) / 1e9);
        if (r > best) best = r;
    }
    grt_atomic_store_32(&xstop, 1);
    for (int i = 0; i < n; i++) join_detached(c[i].thr);
    return best;
}

/* ---- echo and sleep ----------------------------------------------------------------------- */

typedef struct echo_ctx {
    int fd;                     /* the echo end of the socketpair */
    pthread_t thr;
} echo_ctx;

static int read1(int fd, char *c)
{
    ssize_t r;
    while ((r = read(fd, c, 1)) < 0 && errno == EINTR) {}
    return r == 1;
}

static void write1(int fd, char c)
{
    ssize_t r;
    while ((r = write(fd, &c, 1)) < 0 && errno == EINTR) {}
    if (r != 1) die("write");
}

/* Plain C echo: never touches the runtime (a peer on another machine). */
static void *echo_plain(void *p)
{
    echo_ctx *e = p;
    char c;
    while (read1(e->fd, &c))
        write1(e->fd, c);
    return NULL;
}

/* A runtime thread, like a Python echo thread: detached around each call. */
static void *echo_attached(void *p)
{
    echo_ctx *e = p;
    char c;
    for (;;) {
        int ok;
        GRT_BEGIN_ALLOW_THREADS
        ok = read1(e->fd, &c);
        GRT_END_ALLOW_THREADS;
        if (!ok) break;
        grt_object *o = grt_int_new(c);         /* "handle" the message */
        grt_decref(o);
        GRT_BEGIN_ALLOW_THREADS
        write1(e->fd, c);
        GRT_END_ALLOW_THREADS;
    }
    return NULL;
}

typedef struct io_run {
    int fd;                     /* the I/O thread's end; -1: sleep test */
    int n;                      /* samples wanted */
    uint64_t *samples;          /* ns: round trip, or lateness of the 1 ms sleep */
    int done;
    uint64_t deadline;          /* give up after this (now_ns) */
} io_run;

static void *io_main(void *p)
{
    io_run *r = p;
    for (r->done = 0; r->done < r->n && now_ns() < r->deadline; r->done++) {
        uint64_t t0 = now_ns();
        if (r->fd >= 0) {
            char c = 'x';
            int ok;
            GRT_BEGIN_ALLOW_THREADS
            write1(r->fd, c);
            GRT_END_ALLOW_THREADS;
            GRT_BEGIN_ALLOW_THREADS
            ok = read1(r->fd, &c);
            GRT_END_ALLOW_THREADS;
            if (!ok) die("read");
            r->samples[r->done] = now_ns() - t0;
        } else {
            GRT_BEGIN_ALLOW_THREADS
            nap_ns(1000000);
            GRT_END_ALLOW_THREADS;
            uint64_t d = now_ns() - t0;
            r->samples[r->done] = d > 1000000 ? d - 1000000 : 0;
        }
        grt_object *o = grt_int_new(r->done + 1000);    /* "handle" the reply */
        grt_decref(o);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct lat {
    double median_ms, p99_ms, max_ms;
    int n, wanted;
    double cpu_kept;            /* CPU thread's rate / solo rate, -1 if none ran */
    double gil_kept;            /* share of the time the CPU thread was not waiting for the GIL */
} lat;

static lat summarize(uint64_t *s, int n, int wanted)
{
    lat l = { 0, 0, 0, n, wanted, -1, -1 };
    if (n == 0) return l;
    qsort(s, (size_t)n, sizeof *s, cmp_u64);
    l.median_ms = (double)s[n / 2] / 1e6;
    l.p99_ms = (double)s[(int)((n - 1) * 0.99)] / 1e6;
    l.max_ms = (double)s[n - 1] / 1e6;
    return l;
}

/* The I/O thread's samples (echo if echo, else the sleep test), with a CPU-bound
 * thread next to it if with_cpu.  "cpu kept" compares the CPU thread's rate
 * during the I/O run with its rate in the 0.3 s just before. */
static lat io_measure(int echo, int with_cpu)
{
    double solo_rate = 0;
    int n = echo ? opt.round_trips : opt.sleeps;
    uint64_t *samples = calloc((size_t)n, sizeof *samples);
    if (!samples) die("calloc");
    int sv[2] = { -1, -1 };
    echo_ctx e = { -1, 0 };
    if (echo) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
        e.fd = sv[1];
        if (opt.echo_attached) {
            if (grt_thread_start(&e.thr, echo_attached, &e) != 0) die("grt_thread_start");
        } else if (pthread_create(&e.thr, NULL, echo_plain, &e) != 0) {
            die("pthread_create");
        }
    }
    cpu_thread c = { 0 };
    uint32_t xstop = 0;
    if (with_cpu) {
        /* the CPU thread's rate alone, just before: the reference for "cpu kept" */
        cpu_start(&c, &xstop);
        sleep_detached(0.05);
        uint64_t a0 = grt_atomic_load_64(&c.xiters), s0 = now_ns();
        sleep_detached(0.3);
        uint64_t a1 = grt_atomic_load_64(&c.xiters), s1 = now_ns();
        solo_rate = (double)(a1 - a0) / ((double)(s1 - s0) / 1e9);
    }
    io_run r = { echo ? sv[0] : -1, n, samples, 0, now_ns() + (uint64_t)(opt.io_limit * 1e9) };
    pthread_t io;
    uint64_t c0 = grt_atomic_load_64(&c.xiters), w0 = grt_atomic_load_64(&c.xwait_ns);
    uint64_t t0 = now_ns();
    if (grt_thread_start(&io, io_main, &r) != 0) die("grt_thread_start");
    join_detached(io);
    uint64_t c1 = grt_atomic_load_64(&c.xiters), w1 = grt_atomic_load_64(&c.xwait_ns);
    uint64_t t1 = now_ns();
    if (with_cpu) {
        grt_atomic_store_32(&xstop, 1);
        join_detached(c.thr);
    }
    if (echo) {
        shutdown(sv[0], SHUT_RDWR);             /* the echo thread's read returns 0 */
        join_detached(e.thr);
        close(sv[0]);
        close(sv[1]);
    }
    lat l = summarize(samples, r.done, n);
    if (with_cpu && solo_rate > 0) {
        l.cpu_kept = (double)(c1 - c0) / ((double)(t1 - t0) / 1e9) / solo_rate;
        l.gil_kept = 1 - (double)(w1 - w0) / (double)(t1 - t0);
    }
    free(samples);
    return l;
}

/* ---- the long run ------------------------------------------------------------------------ */

#define LONG_THREADS 8
#define LONG_IO 2

typedef struct long_thread {
    pthread_t thr;
    uint64_t xprogress;         /* iterations or round trips; atomic */
    uint64_t xlast_ns;          /* when it last progressed; atomic */
    uint32_t *xstop;
    int fd;                     /* I/O threads: their socket; -1 for CPU threads */
} long_thread;

static void *long_main(void *p)
{
    long_thread *t = p;
    uint64_t i = 0;
    while (!grt_atomic_load_32(t->xstop)) {
        if (t->fd >= 0) {
            char c = 'x';
            int ok;
            GRT_BEGIN_ALLOW_THREADS
            write1(t->fd, c);
            ok = read1(t->fd, &c);
            GRT_END_ALLOW_THREADS;
            if (!ok) break;
            grt_object *o = grt_int_new((int64_t)i + 1000);
            grt_decref(o);
            i++;
        } else {
            cpu_iteration(i++);
            if (i & 63) continue;
        }
        grt_atomic_store_64(&t->xprogress, i);
        grt_atomic_store_64(&t->xlast_ns, now_ns());
    }
    return NULL;
}

/* Returns the longest stall of any thread, in seconds; exits on a hang. */
static double long_run(const char *policy)
{
    long_thread t[LONG_THREADS];
    echo_ctx e[LONG_IO];
    int sv[LONG_IO][2];
    uint32_t xstop = 0;
    uint64_t start = now_ns();
    for (int i = 0; i < LONG_THREADS; i++) {
        t[i] = (long_thread){ .xstop = &xstop, .fd = -1, .xlast_ns = start };
        if (i < LONG_IO) {
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) != 0) die("socketpair");
            e[i].fd = sv[i][1];
            if (pthread_create(&e[i].thr, NULL, echo_plain, &e[i]) != 0) die("pthread_create");
            t[i].fd = sv[i][0];
        }
        if (grt_thread_start(&t[i].thr, long_main, &t[i]) != 0) die("grt_thread_start");
    }
    uint64_t max_stall[LONG_THREADS] = { 0 };
    uint64_t end = start + (uint64_t)(opt.long_seconds * 1e9);
    GRT_BEGIN_ALLOW_THREADS
    for (uint64_t now = now_ns(); now < end; now = now_ns()) {
        nap_ns(20000000);
        now = now_ns();
        for (int i = 0; i < LONG_THREADS; i++) {
            uint64_t last = grt_atomic_load_64(&t[i].xlast_ns);
            uint64_t stall = now > last ? now - last : 0;
            if (stall > max_stall[i]) max_stall[i] = stall;
            if ((double)stall / 1e9 > 3 * opt.stall_limit + 10) {
                printf("  %-8s thread %d made no progress for %.1f s: deadlock or starvation\n",
                       policy, i, (double)stall / 1e9);
                fflush(stdout);
                _exit(3);
            }
        }
    }
    GRT_END_ALLOW_THREADS;
    grt_atomic_store_32(&xstop, 1);
    for (int i = 0; i < LONG_THREADS; i++) join_detached(t[i].thr);
    for (int i = 0; i < LONG_IO; i++) {
        shutdown(sv[i][0], SHUT_RDWR);
        join_detached(e[i].thr);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    double worst = 0;
    printf("  %-8s", policy);
    for (int i = 0; i < LONG_THREADS; i++) {
        double s = (double)max_stall[i] / 1e9;
        if (s > worst) worst = s;
        printf(" %s%d:%.0f/%.3fs", i < LONG_IO ? "io" : "cpu", i,
               (double)grt_atomic_load_64(&t[i].xprogress), s);
    }
    printf("\n");
    return worst;
}

/* ---- driver ---------------------------------------------------------------------------------- */

/* 1 if name is in the comma-separated list (a NULL list holds everything). */
static int in_list(const char *list, const char *name)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (q != NULL);
    }
    return 0;
}

/* grt_init with policy; 0 if this build refuses it (then it is skipped). */
static int start_runtime(const char *policy)
{
    grt_config cfg;
    if (grt_config_init(&cfg) != 0) die("grt_config_init");
    cfg.gil = policy;
    if (grt_init(&cfg) != 0) {
        grt_err_clear();
        return 0;
    }
    return 1;
}

static void print_lat(const char *what, lat base, lat l)
{
    printf("    %-22s median %8.3f ms  p99 %8.3f ms  max %8.3f ms   extra: median %8.3f ms  p99 %8.3f ms",
           what, l.median_ms, l.p99_ms, l.max_ms, l.median_ms - base.median_ms,
           l.p99_ms - base.median_ms);
    if (l.cpu_kept >= 0)
        printf("   cpu kept %3.0f%% (GIL %3.0f%%)", 100 * l.cpu_kept, 100 * l.gil_kept);
    if (l.n < l.wanted) printf("   GAVE UP after %d of %d (%.0f s)", l.n, l.wanted, opt.io_limit);
    printf("\n");
}

static void usage(void)
{
    printf("usage: convoy-<variant> [--policies=a,b] [--only=throughput,latency,crowd]\n"
           "       [--seconds=S] [--round-trips=N] [--sleeps=N] [--echo=plain|attached]\n"
           "       [--io-limit=S] [--long[=S]] [--stall-limit=S]\n"
           "  crowd: the 8-thread run, 2 s per policy, or S seconds (default 60) with --long.\n"
           "  GRT_SWITCH_INTERVAL / GRT_CHECK_INTERVAL tune the policies as usual.\n");
}

static const char *part_name(int i)
{
    static const char *const parts[] = { "throughput", "latency", "crowd", NULL };
    return i < 3 ? parts[i] : NULL;
}

/* 0 if every item of the comma-separated list is one of name(0), name(1)...
 * (up to NULL); else a message naming the stranger and the choices, -1.  A
 * typo must not leave a run that measures nothing and exits 0. */
static int check_list(const char *what, const char *list, const char *(*name)(int))
{
    for (const char *p = list; p && (p == list || *p);) {
        size_t len = strcspn(p, ",");
        int known = 0;
        for (int i = 0; name(i); i++)
            known |= strlen(name(i)) == len && !strncmp(p, name(i), len);
        if (!known) {
            fprintf(stderr, "convoy: %s: unknown name '%.*s'; the names are:", what, (int)len, p);
            for (int i = 0; name(i); i++)
                fprintf(stderr, " %s", name(i));
            fputc('\n', stderr);
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

static int parse(int argc, char **argv)
{
    const char *me = "convoy";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = strchr(a, '=');
        v = v ? v + 1 : NULL;
        if (!strncmp(a, "--policies=", 11)) opt.policies = v;
        else if (!strncmp(a, "--seconds=", 10)) opt.seconds = bench_arg_positive(me, "--seconds", v, 3600);
        else if (!strncmp(a, "--round-trips=", 14)) opt.round_trips = (int)bench_arg_int(me, "--round-trips", v, 1, 1000000);
        else if (!strncmp(a, "--sleeps=", 9)) opt.sleeps = (int)bench_arg_int(me, "--sleeps", v, 1, 1000000);
        else if (!strcmp(a, "--echo=attached")) opt.echo_attached = 1;
        else if (!strcmp(a, "--echo=plain")) opt.echo_attached = 0;
        else if (!strncmp(a, "--io-limit=", 11)) opt.io_limit = bench_arg_positive(me, "--io-limit", v, 86400);
        else if (!strncmp(a, "--only=", 7)) opt.only = v;
        else if (!strcmp(a, "--long")) opt.long_seconds = 60;
        else if (!strncmp(a, "--long=", 7)) opt.long_seconds = bench_arg_positive(me, "--long", v, 86400);
        else if (!strncmp(a, "--stall-limit=", 14)) opt.stall_limit = bench_arg_positive(me, "--stall-limit", v, 86400);
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(); exit(0); }
        else { fprintf(stderr, "convoy: unknown option '%s'\n", a); usage(); return -1; }
    }
    if (check_list("--only", opt.only, part_name) != 0 ||
        check_list("--policies", opt.policies, grt_gil_policy_name) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (parse(argc, argv) != 0) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load[3] = { 0 };
    if (getloadavg(load, 3) < 0) load[0] = -1;
    grt_config cfg;
    if (grt_config_init(&cfg) != 0) die("grt_config_init");
    printf("convoy-%s: %ld CPUs, load average %.2f, switch interval %.3f ms, check interval %lld, "
           "echo thread %s\n", grt_variant(), ncpu, load[0], (double)cfg.switch_interval_us / 1e3,
           (long long)cfg.check_interval, opt.echo_attached ? "attached (like Python)" : "plain C");
    int status = 0;
    int do_tp = in_list(opt.only, "throughput"), do_lat = in_list(opt.only, "latency");
    for (int p = 0; (do_tp || do_lat) && grt_gil_policy_name(p); p++) {
        const char *policy = grt_gil_policy_name(p);
        if (!in_list(opt.policies, policy) || !start_runtime(policy)) continue;
        printf("\n%s\n", policy);
        if (do_tp) {
            static int warmed;
            if (!warmed++) throughput(1);       /* page in the heap, wake the cores */
            double r[3];
            int threads[3] = { 1, 2, 4 };
            for (int k = 0; k < 3; k++) r[k] = throughput(threads[k]);
            printf("    throughput (Miter/s)   1 thread %6.2f   2 threads %6.2f (x%.2f)   "
                   "4 threads %6.2f (x%.2f)\n", r[0] / 1e6, r[1] / 1e6, r[1] / r[0],
                   r[2] / 1e6, r[2] / r[0]);
        }
        if (do_lat) {
            lat eb = io_measure(1, 0), ec = io_measure(1, 1);
            print_lat("echo alone", eb, eb);
            print_lat("echo + 1 CPU thread", eb, ec);
            lat sb = io_measure(0, 0), sc = io_measure(0, 1);
            print_lat("1ms sleep, late by", sb, sb);
            print_lat("... + 1 CPU thread", sb, sc);
        }
        grt_gil_statistics st;
        grt_gil_stats(&st);
        if (grt_gil_enabled())
            printf("    GIL: %llu acquisitions, %llu drop requests, %llu yields, "
                   "%llu forced switches, max wait %.3f ms\n",
                   (unsigned long long)st.acquisitions,
                   (unsigned long long)st.drop_requests, (unsigned long long)st.yields,
                   (unsigned long long)st.forced_switches, (double)st.wait_max_ns / 1e6);
        if (grt_fini() != 0) die("grt_fini");
    }
    if (in_list(opt.only, "crowd")) {
        printf("\ncrowd: %d threads (%d echo, %d CPU) for %.0f s per policy; per thread "
               "progress/longest stall\n", LONG_THREADS, LONG_IO, LONG_THREADS - LONG_IO,
               opt.long_seconds);
        for (int p = 0; grt_gil_policy_name(p); p++) {
            const char *policy = grt_gil_policy_name(p);
            if (!in_list(opt.policies, policy) || !start_runtime(policy)) continue;
            double worst = long_run(policy);
            if (worst > opt.stall_limit) {
                printf("  %-8s STALLED: a thread made no progress for %.1f s (limit %.1f s)\n",
                       policy, worst, opt.stall_limit);
                status = 3;
            }
            if (grt_fini() != 0) die("grt_fini");
        }
    }
    return status;
}
