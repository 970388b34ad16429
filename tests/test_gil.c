/*
 * tests/test_gil.c — the GIL policies: mutual exclusion, order, progress,
 * hand-off on request, blocking calls, fork; the checks themselves are here
 * too (tests/test_gil.h), shared with tests/test_gil_user.c.
 *
 * No wall-clock upper bounds: the machine is shared.  Progress is counted in
 * tenures and drop requests; the only timed assertion is a lower bound that
 * classic guarantees by construction (a waiter never asks before one
 * interval has passed).
 */
#include "test_gil.h"
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef GRT_TSAN
#  define TGIL_SCALE 5      /* TSan is about 10x slower: smaller runs */
#else
#  define TGIL_SCALE 1
#endif

void tgil_start(const char *policy, int64_t switch_us)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gil = policy;
    if (switch_us > 0) cfg.switch_interval_us = switch_us;
    if (grt_init(&cfg) != 0)
        T_FAIL("grt_init(gil=%s): %s", policy, grt_err_message());
    T_EQ_STR(grt_gil_policy(), policy);
    T_EQ(grt_gil_enabled(), strcmp(policy, "off") != 0);
}

void tgil_stop(void)
{
    if (grt_fini() != 0) T_FAIL("grt_fini: %s", grt_err_message());
}

/* Sleep about us microseconds without touching the GIL state. */
static void tgil_nap_us(long us)
{
    struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&t, NULL);
}

/* Wait (GIL held, no safepoint) until n threads are queued for the GIL. */
static void tgil_wait_queued(int n)
{
    for (int tries = 0; grt_gil_waiting() < n; tries++) {
        if (tries > 20000) T_FAIL("only %d of %d threads queued for the GIL", grt_gil_waiting(), n);
        tgil_nap_us(500);
    }
}

/* ---- mutual exclusion ------------------------------------------------------------------ */

#define EXCL_THREADS 4
#define EXCL_ITERS (100000 / TGIL_SCALE)

typedef struct {
    int64_t counter;                /* plain: the GIL is its only protection */
    int arrived;                    /* plain, under the GIL */
} excl_state;

static void excl_worker(int i, void *p)
{
    (void)i;
    excl_state *e = p;
    /* Wait for the others with the GIL held: each of them can only arrive
     * when the GIL is handed over at a safepoint, so the policy must make
     * the holder yield, and from here on all of them contend. */
    e->arrived++;
    while (e->arrived < EXCL_THREADS)
        grt_safepoint();
    for (int n = 0; n < EXCL_ITERS; n++) {
        int64_t v = e->counter;
        for (volatile int k = 0; k < 64; k++) {}    /* widen the read-modify-write window */
        e->counter = v + 1;
        grt_safepoint();
    }
}

void tgil_check_exclusion(const char *policy)
{
    tgil_start(policy, 100);
    excl_state e = { 0, 0 };
    grt_gil_stats_reset();
    t_run_threads(EXCL_THREADS, excl_worker, &e);
    T_EQ(e.counter, (int64_t)EXCL_THREADS * EXCL_ITERS);
    grt_gil_statistics st;
    T_EQ(grt_gil_stats(&st), 0);
    T_GE(st.yields, 1);                 /* the GIL changed hands at safepoints */
    T_GE(st.forced_switches, 1);
    T_GE(st.acquisitions, EXCL_THREADS + 1);
    tgil_stop();
}

/* ---- arrival order --------------------------------------------------------------------- */

#define ORDER_THREADS 4

typedef struct {
    int order[ORDER_THREADS];
    int n;                          /* under the GIL */
} order_state;

typedef struct { order_state *s; int i; } order_arg;

static void *order_thread(void *p)
{
    order_arg *a = p;
    a->s->order[a->s->n++] = a->i;  /* first thing after the GIL was granted */
    return NULL;
}

void tgil_check_arrival_order(const char *policy)
{
    tgil_start(policy, 0);
    order_state s = { .n = 0 };
    order_arg args[ORDER_THREADS];
    pthread_t thr[ORDER_THREADS];
    /* We hold the GIL and never reach a safepoint: each thread queues. */
    for (int i = 0; i < ORDER_THREADS; i++) {
        args[i] = (order_arg){ &s, i };
        T_EQ(grt_thread_start(&thr[i], order_thread, &args[i]), 0);
        tgil_wait_queued(i + 1);
    }
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < ORDER_THREADS; i++)
        pthread_join(thr[i], NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(s.n, ORDER_THREADS);
    for (int i = 0; i < ORDER_THREADS; i++)
        T_EQ(s.order[i], i);
    tgil_stop();
}

/* ---- progress: tenures ----------------------------------------------------------------------- */

#define PROG_THREADS 4
#define PROG_TENURES 8
#define PROG_LOG 4096

/* Every thread works (with safepoints) until *every* thread has had
 * PROG_TENURES tenures, so a starved thread keeps the others busy and the
 * case runs into the harness's time limit instead of passing. */
typedef struct {
    int last;                       /* the thread of the current tenure, under the GIL */
    int satisfied;                  /* threads with PROG_TENURES tenures, under the GIL */
    int log[PROG_LOG];              /* the first PROG_LOG tenures, in order */
    int nlog;
    pthread_barrier_t gate;
} prog_state;

static void prog_worker(int i, void *p)
{
    prog_state *s = p;
    GRT_BEGIN_ALLOW_THREADS
    pthread_barrier_wait(&s->gate);
    GRT_END_ALLOW_THREADS;
    int tenures = 0;
    while (s->satisfied < PROG_THREADS) {
        if (s->last != i) {         /* a new tenure began */
            s->last = i;
            if (s->nlog < PROG_LOG) s->log[s->nlog++] = i;
            if (++tenures == PROG_TENURES) s->satisfied++;
        }
        for (volatile int k = 0; k < 50; k++) {}
        grt_safepoint();
    }
}

void tgil_check_progress(const char *policy, int max_gap)
{
    tgil_start(policy, 200);
    prog_state s = { .last = -1 };
    pthread_barrier_init(&s.gate, NULL, PROG_THREADS);
    t_run_threads(PROG_THREADS, prog_worker, &s);
    pthread_barrier_destroy(&s.gate);
    T_EQ(s.satisfied, PROG_THREADS);
    if (max_gap >= 0) {
        /* between two tenures of a thread, count the others' tenures; skip
         * the start, where threads still arrive (io lets an arriving thread
         * preempt one whose tenure then continues: two log entries) */
        for (int k = 2 * PROG_THREADS; k < s.nlog; k++)
            for (int j = k + 1; j < s.nlog; j++)
                if (s.log[j] == s.log[k]) {
                    if (j - k - 1 > max_gap)
                        T_FAIL("thread %d waited %d tenures of others (log position %d), "
                               "bound %d", s.log[k], j - k - 1, k, max_gap);
                    break;
                }
    }
    tgil_stop();
}

/* ---- a waiter and a CPU-bound holder --------------------------------------------------- */

typedef struct {
    int got;                        /* under the GIL */
    grt_gil_statistics at_grant;    /* the counters when the waiter got the GIL */
} waiter_state;

static void *waiter_thread(void *p)
{
    waiter_state *w = p;
    grt_gil_stats(&w->at_grant);
    w->got = 1;
    return NULL;
}

void tgil_check_waiter(const char *policy, int timed)
{
    tgil_start(policy, 5000);
    waiter_state w = { 0 };
    pthread_t thr;
    grt_gil_thread *me = (grt_gil_thread *)_grt_tstate_current;
    grt_gil_stats_reset();
    T_EQ(grt_thread_start(&thr, waiter_thread, &w), 0);
    int pending_seen = 0;
    while (!w.got) {                /* CPU-bound: only safepoints hand the GIL over */
        int pending = grt_gil_drop_requested(me);
        grt_safepoint();
        if (pending) {              /* the first safepoint with a request hands over */
            pending_seen++;
            T_EQ(w.got, 1);
        }
    }
    T_LE(pending_seen, 1);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    T_GE(w.at_grant.drop_requests, 1);
    if (timed)                      /* nobody asks before an interval has passed */
        T_GE(w.at_grant.wait_max_ns, grt_gil_switch_interval_us() * 1000);
    grt_gil_statistics st;
    grt_gil_stats(&st);
    T_GE(st.yields, 1);
    T_GE(st.forced_switches, 1);
    tgil_stop();
}

/* ---- blocking calls release the GIL ---------------------------------------------------------- */

typedef struct {
    int fds[2];
    int ran;                        /* under the GIL */
} allow_state;

static void *allow_thread(void *p)
{
    allow_state *a = p;
    a->ran = 1;                     /* we are attached: the blocked thread is not */
    char c = 'x';
    GRT_BEGIN_ALLOW_THREADS
    if (write(a->fds[1], &c, 1) != 1) abort();
    GRT_END_ALLOW_THREADS;
    return NULL;
}

void tgil_check_allow_threads(const char *policy)
{
    tgil_start(policy, 0);
    allow_state a = { .ran = 0 };
    T_EQ(pipe(a.fds), 0);
    pthread_t thr;
    T_EQ(grt_thread_start(&thr, allow_thread, &a), 0);
    int ready, held;
    GRT_BEGIN_ALLOW_THREADS
    held = _grt_tstate_current->holds_gil;
    struct pollfd pfd = { .fd = a.fds[0], .events = POLLIN };
    ready = poll(&pfd, 1, 30000);   /* the other thread must run meanwhile */
    GRT_END_ALLOW_THREADS;
    T_EQ(held, 0);
    if (ready != 1) T_FAIL("the other thread never ran while this one was blocked detached");
    T_EQ(a.ran, 1);
    T_EQ(_grt_tstate_current->holds_gil, grt_gil_enabled());
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    close(a.fds[0]);
    close(a.fds[1]);
    tgil_stop();
}

/* ---- fork ------------------------------------------------------------------------------ */

typedef struct { int64_t counter; } fork_state;

static void *fork_waiter(void *p)
{
    ((fork_state *)p)->counter++;
    return NULL;
}

#ifndef GRT_TSAN
static void fork_child_worker(int i, void *p)
{
    (void)i;
    fork_state *f = p;
    for (int n = 0; n < 10000; n++) {
        f->counter++;
        grt_safepoint();
    }
}
#endif

static void fork_child_checks(const char *policy, fork_state *f)
{
    T_EQ_STR(grt_gil_policy(), policy);
    T_EQ(grt_gil_enabled(), 1);
    T_TRUE(_grt_tstate_current->holds_gil);
    T_EQ(grt_gil_waiting(), 0);     /* the parent's waiter is not in this process */
    T_EQ(grt_thread_count(), 1);
    grt_object *o = grt_int_new(123456789);
    T_NOT_NULL(o);
    GRT_BEGIN_ALLOW_THREADS
    tgil_nap_us(1000);
    GRT_END_ALLOW_THREADS;
    T_TRUE(_grt_tstate_current->holds_gil);
    T_EQ(grt_int_value(o), 123456789);
    grt_decref(o);
    grt_safepoint();
#ifndef GRT_TSAN   /* TSan cannot start threads after a multi-threaded fork */
    f->counter = 0;
    t_run_threads(2, fork_child_worker, f);
    T_EQ(f->counter, 20000);
#else
    (void)f;
#endif
    tgil_stop();
}

void tgil_check_fork(const char *policy)
{
    tgil_start(policy, 0);
    fork_state f = { 0 };
    pthread_t thr;
    T_EQ(grt_thread_start(&thr, fork_waiter, &f), 0);
    tgil_wait_queued(1);            /* fork while it is queued */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = grt_fork();
    T_TRUE(pid >= 0);
    if (pid == 0) {
        fork_child_checks(policy, &f);
        _exit(0);
    }
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(f.counter, 1);
    int st;
    T_EQ(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        T_FAIL("the fork child failed (status 0x%x)", st);
    tgil_stop();
}

/* ---- a mixed crowd ----------------------------------------------------------------------- */

#define MIXED_THREADS 8
#define MIXED_IO 2
#define MIXED_ITERS (20000 / TGIL_SCALE)

typedef struct {
    int64_t counter;
    int done;                       /* under the GIL */
} mixed_state;

static void mixed_worker(int i, void *p)
{
    mixed_state *m = p;
    for (int n = 0; n < MIXED_ITERS; n++) {
        m->counter++;
        if (i < MIXED_IO && n % 500 == 0) {     /* a short blocking call */
            GRT_BEGIN_ALLOW_THREADS
            tgil_nap_us(50);
            GRT_END_ALLOW_THREADS;
        }
        grt_safepoint();
    }
    m->done++;
}

void tgil_check_mixed(const char *policy)
{
    tgil_start(policy, 200);
    mixed_state m = { 0, 0 };
    t_run_threads(MIXED_THREADS, mixed_worker, &m);
    T_EQ(m.done, MIXED_THREADS);
    T_EQ(m.counter, (int64_t)MIXED_THREADS * MIXED_ITERS);
    tgil_stop();
}

/* ---- priority: a thread back from a blocking call against a preempted one -------------------- */

typedef struct {
    int order[3];                   /* 'M', then who got the GIL first: 'C' or 'U'; under the GIL */
    int n;
    int stop;                       /* under the GIL */
} prio_state;

static void *prio_cpu(void *p)      /* CPU-bound: waits at safepoints */
{
    prio_state *s = p;
    int noted = 0;
    while (!s->stop) {
        grt_safepoint();
        if (!noted && s->n > 0) {   /* back after the main thread's tenure */
            s->order[s->n++] = 'C';
            noted = 1;
        }
    }
    return NULL;
}

static void *prio_io(void *p)       /* "back from a blocking call": attaches */
{
    prio_state *s = p;
    s->order[s->n++] = 'U';
    return NULL;
}

/* The main thread takes the GIL from a CPU-bound thread C (which then waits
 * as a yielder), a thread U attaches (waits as one coming back from a
 * blocking call), the main thread lets go: who is served first? */
static void tgil_check_priority(const char *policy, int urgent_first)
{
    tgil_start(policy, 1000000);    /* 1 s interval: no timer interferes */
    prio_state s = { { 0, 0, 0 }, 0, 0 };
    pthread_t c, u;
    T_EQ(grt_thread_start(&c, prio_cpu, &s), 0);
    GRT_BEGIN_ALLOW_THREADS         /* let C run */
    tgil_nap_us(2000);
    GRT_END_ALLOW_THREADS;          /* and take the GIL back from it */
    tgil_wait_queued(1);            /* C waits, having yielded */
    s.order[s.n++] = 'M';           /* (index 0: the main thread) */
    T_EQ(grt_thread_start(&u, prio_io, &s), 0);
    tgil_wait_queued(2);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(u, NULL);
    GRT_END_ALLOW_THREADS;
    s.stop = 1;
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(c, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(s.n, 3);
    T_EQ(s.order[1], urgent_first ? 'U' : 'C');
    T_EQ(s.order[2], urgent_first ? 'C' : 'U');
    tgil_stop();
}

/* ---- the cases ------------------------------------------------------------------------------ */

TEST_NOINIT(gil_exclusion_classic) { tgil_check_exclusion("classic"); }
TEST_NOINIT(gil_exclusion_fifo)    { tgil_check_exclusion("fifo"); }
TEST_NOINIT(gil_exclusion_io)      { tgil_check_exclusion("io"); }
TEST_NOINIT(gil_exclusion_legacy)  { tgil_check_exclusion("legacy"); }

/* io serves a thread back from a blocking call before a preempted CPU-bound
 * one; fifo serves them in arrival order. */
TEST_NOINIT(gil_priority_io)   { tgil_check_priority("io", 1); }
TEST_NOINIT(gil_priority_fifo) { tgil_check_priority("fifo", 0); }

TEST_NOINIT(gil_order_fifo) { tgil_check_arrival_order("fifo"); }
TEST_NOINIT(gil_order_io)   { tgil_check_arrival_order("io"); }

/* fifo and io: strict rotation, so at most N-1 others between two tenures.
 * classic and legacy promise no order: every thread just has to finish. */
TEST_NOINIT(gil_progress_classic) { tgil_check_progress("classic", -1); }
TEST_NOINIT(gil_progress_fifo)    { tgil_check_progress("fifo", PROG_THREADS - 1); }
TEST_NOINIT(gil_progress_io)      { tgil_check_progress("io", PROG_THREADS - 1); }
TEST_NOINIT(gil_progress_legacy)  { tgil_check_progress("legacy", -1); }

/* The holder hands over at its first safepoint after a request; classic
 * and fifo ask after one interval (so the waiter gets the GIL after about
 * one interval and one safepoint), io asks at once. */
TEST_NOINIT(gil_waiter_classic) { tgil_check_waiter("classic", 1); }
TEST_NOINIT(gil_waiter_fifo)    { tgil_check_waiter("fifo", 1); }
TEST_NOINIT(gil_waiter_io)      { tgil_check_waiter("io", 0); }

TEST_NOINIT(gil_allow_threads_classic) { tgil_check_allow_threads("classic"); }
TEST_NOINIT(gil_allow_threads_fifo)    { tgil_check_allow_threads("fifo"); }
TEST_NOINIT(gil_allow_threads_io)      { tgil_check_allow_threads("io"); }
TEST_NOINIT(gil_allow_threads_legacy)  { tgil_check_allow_threads("legacy"); }

TEST_NOINIT(gil_fork_classic) { tgil_check_fork("classic"); }
TEST_NOINIT(gil_fork_fifo)    { tgil_check_fork("fifo"); }
TEST_NOINIT(gil_fork_io)      { tgil_check_fork("io"); }
TEST_NOINIT(gil_fork_legacy)  { tgil_check_fork("legacy"); }

TEST_NOINIT(gil_mixed_classic) { tgil_check_mixed("classic"); }
TEST_NOINIT(gil_mixed_fifo)    { tgil_check_mixed("fifo"); }
TEST_NOINIT(gil_mixed_io)      { tgil_check_mixed("io"); }
TEST_NOINIT(gil_mixed_legacy)  { tgil_check_mixed("legacy"); }

/* legacy: one release/re-acquire every check interval, never a drop request. */
TEST_NOINIT(gil_legacy_check_interval)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gil = "legacy";
    cfg.check_interval = 100;
    T_EQ(grt_init(&cfg), 0);
    T_EQ(grt_gil_get_check_interval(), 100);
    grt_safepoint();                /* the first tick may be counted already */
    grt_gil_stats_reset();
    *grt_gil_ticks((grt_gil_thread *)_grt_tstate_current) = 0;
    for (int i = 0; i < 1000; i++)
        grt_safepoint();
    grt_gil_statistics st;
    grt_gil_stats(&st);
    T_EQ(st.yields, 10);
    T_EQ(st.acquisitions, 10);
    T_EQ(st.drop_requests, 0);
    T_EQ(st.forced_switches, 0);    /* nobody else wanted it */
    T_EQ(grt_gil_set_check_interval(250), 0);
    grt_gil_stats_reset();
    for (int i = 0; i < 1000; i++)
        grt_safepoint();
    grt_gil_stats(&st);
    T_EQ(st.yields, 4);
    tgil_stop();
}

/* Without contention nobody yields: safepoints are free. */
TEST_NOINIT(gil_no_contention_no_yield)
{
    const char *policies[] = { "classic", "fifo", "io" };
    for (int p = 0; p < 3; p++) {
        tgil_start(policies[p], 100);
        grt_gil_stats_reset();
        for (int i = 0; i < 10000; i++)
            grt_safepoint();
        GRT_BEGIN_ALLOW_THREADS
        GRT_END_ALLOW_THREADS;
        grt_gil_statistics st;
        grt_gil_stats(&st);
        T_EQ(st.yields, 0);
        T_EQ(st.drop_requests, 0);
        T_EQ(st.acquisitions, 1);
        tgil_stop();
    }
}
