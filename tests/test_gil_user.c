/*
 * tests/test_gil_user.c — a GIL policy written outside the library, through
 * the public ops table only (gilrt/gil.h), registered and put through the
 * same checks as the built-in ones.
 *
 * The policy: a ticket lock whose waiters sleep on one condition variable.
 * A thread takes the next ticket and sleeps until `serving` reaches it; the
 * holder releases by advancing `serving` and waking everyone.  Waiters that
 * are not served within one switch interval ask the holder to drop the GIL
 * (and ask again whenever the holder changes), so CPU-bound threads share it.
 * Arrival order is ticket order.
 */
#include "test_gil.h"
#include <time.h>

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    uint64_t next, serving;     /* tickets, under mutex */
    grt_gil_thread *holder;     /* under mutex; NULL when free */
    int waiting;
} tk;

static int tk_init(void)
{
    pthread_mutex_init(&tk.mutex, NULL);
    pthread_cond_init(&tk.cond, NULL);      /* CLOCK_REALTIME waits: fine for a test */
    tk.next = tk.serving = 0;
    tk.holder = NULL;
    tk.waiting = 0;
    return 0;
}

static void tk_fini(void)
{
    pthread_cond_destroy(&tk.cond);
    pthread_mutex_destroy(&tk.mutex);
}

/* Wait (tk.mutex held) until ticket `mine` is served, then hold the GIL. */
static void tk_wait_locked(grt_gil_thread *t, uint64_t mine)
{
    tk.waiting++;
    while (tk.serving != mine) {
        grt_gil_thread *seen = tk.holder;
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        int64_t ns = dl.tv_nsec + grt_gil_switch_interval_us() * 1000;
        dl.tv_sec += ns / 1000000000;
        dl.tv_nsec = ns % 1000000000;
        int rc = pthread_cond_timedwait(&tk.cond, &tk.mutex, &dl);
        if (rc != 0 && tk.serving != mine && tk.holder && tk.holder == seen)
            grt_gil_request_drop(tk.holder);
    }
    tk.waiting--;
    tk.holder = t;
    grt_gil_clear_drop(t);
}

static void tk_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    pthread_mutex_lock(&tk.mutex);
    tk_wait_locked(t, tk.next++);
    pthread_mutex_unlock(&tk.mutex);
}

static void tk_release(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    pthread_mutex_lock(&tk.mutex);
    if (tk.holder != t) abort();
    tk.holder = NULL;
    tk.serving++;
    pthread_cond_broadcast(&tk.cond);
    pthread_mutex_unlock(&tk.mutex);
}

/* Give the GIL to the next ticket and take a new one in one critical
 * section: exact rotation among busy threads. */
static int tk_yield(grt_gil_thread *t)
{
    pthread_mutex_lock(&tk.mutex);
    int handed = tk.waiting > 0;    /* else nobody waits: keep it */
    if (handed) {
        tk.holder = NULL;
        tk.serving++;
        pthread_cond_broadcast(&tk.cond);
        tk_wait_locked(t, tk.next++);
    }
    pthread_mutex_unlock(&tk.mutex);
    return handed;
}

static int tk_waiting(void)
{
    pthread_mutex_lock(&tk.mutex);
    int n = tk.waiting;
    pthread_mutex_unlock(&tk.mutex);
    return n;
}

static const grt_gil_ops tk_ops = {
    .summary = "test: ticket lock with sleeping waiters",
    .init = tk_init,
    .fini = tk_fini,
    .acquire = tk_acquire,
    .release = tk_release,
    .safepoint = NULL,
    .waiting = tk_waiting,
    .yield = tk_yield,
};

/* Each case runs in a fresh process: register, then check. */
static void tuser_register(void)
{
    if (grt_gil_register("ticket", &tk_ops) != 0)
        T_FAIL("grt_gil_register: %s", grt_err_message());
}

TEST_NOINIT(gil_user_exclusion)     { tuser_register(); tgil_check_exclusion("ticket"); }
TEST_NOINIT(gil_user_order)         { tuser_register(); tgil_check_arrival_order("ticket"); }
TEST_NOINIT(gil_user_progress)      { tuser_register(); tgil_check_progress("ticket", 3); }
TEST_NOINIT(gil_user_waiter)        { tuser_register(); tgil_check_waiter("ticket", 1); }
TEST_NOINIT(gil_user_allow_threads) { tuser_register(); tgil_check_allow_threads("ticket"); }
TEST_NOINIT(gil_user_fork)          { tuser_register(); tgil_check_fork("ticket"); }
TEST_NOINIT(gil_user_mixed)         { tuser_register(); tgil_check_mixed("ticket"); }

/* A safepoint op sees the events it asked for. */
static int tick_seen;
static int tick_safepoint(grt_gil_thread *t, unsigned events)
{
    if (events & GRT_GIL_EVENT_TICK) tick_seen++;
    if (*grt_gil_ticks(t) >= 10) { *grt_gil_ticks(t) = 0; return 1; }
    return (events & GRT_GIL_EVENT_DROP) != 0;
}

static void tick_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    tk_acquire(t, why);
    grt_gil_want_ticks(t, 1);
}

TEST_NOINIT(gil_user_ticks)
{
    static const grt_gil_ops ops = { .init = tk_init, .fini = tk_fini, .acquire = tick_acquire,
                                     .release = tk_release, .safepoint = tick_safepoint };
    T_EQ(grt_gil_register("ticker", &ops), 0);
    tgil_start("ticker", 0);
    grt_gil_thread *me = (grt_gil_thread *)_grt_tstate_current;
    T_EQ(grt_gil_thread_id(me), grt_thread_id());
    *grt_gil_ticks(me) = 0;
    grt_gil_stats_reset();
    tick_seen = 0;
    for (int i = 0; i < 100; i++)
        grt_safepoint();
    T_EQ(tick_seen, 100);
    grt_gil_statistics st;
    grt_gil_stats(&st);
    T_EQ(st.yields, 10);
    T_FALSE(grt_gil_drop_requested(me));
    grt_gil_request_drop(me);       /* a drop request is served at the next safepoint */
    T_TRUE(grt_gil_drop_requested(me));
    grt_safepoint();
    T_FALSE(grt_gil_drop_requested(me));
    grt_gil_stats(&st);
    T_EQ(st.yields, 11);
    T_EQ(st.drop_requests, 1);
    grt_gil_want_ticks(me, 0);
    tick_seen = 0;
    grt_safepoint();
    T_EQ(tick_seen, 0);
    tgil_stop();
}
