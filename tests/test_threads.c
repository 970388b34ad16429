/*
 * Threads: the registry, attach/detach, allow-threads, safepoints,
 * stop-the-world.
 */
#include "harness.h"
#include <unistd.h>

TEST(main_thread_is_attached)
{
    T_TRUE(grt_is_attached());
    T_NE(grt_thread_id(), 0);
    T_EQ(grt_thread_count(), 1);
}

TEST(attach_twice_is_an_error)
{
    T_EQ(grt_attach(), -1);
    T_ERR(GRT_ERR_STATE, "already attached");
}

TEST_NOINIT(attach_before_init_is_an_error)
{
    T_EQ(grt_attach(), -1);
    T_ERR(GRT_ERR_STATE, "not initialised");
}

TEST(detach_and_attach_again)
{
    grt_detach();
    T_FALSE(grt_is_attached());
    grt_attach_blocking();
    T_TRUE(grt_is_attached());
    GRT_BEGIN_ALLOW_THREADS
    usleep(1000);                       /* a blocking call */
    GRT_END_ALLOW_THREADS;
    T_TRUE(grt_is_attached());
}

static uint32_t ids[4];
static void record_id(int i, void *arg) { (void)arg; ids[i] = grt_thread_id(); }

TEST_MT(thread_ids_are_unique_and_never_reused)
{
    t_run_threads(4, record_id, NULL);
    uint32_t first[4];
    memcpy(first, ids, sizeof ids);
    t_run_threads(4, record_id, NULL);
    for (int i = 0; i < 4; i++) {
        T_NE(first[i], grt_thread_id());
        for (int j = 0; j < 4; j++) {
            if (i != j) T_NE(first[i], first[j]);
            T_NE(first[i], ids[j]);     /* the second batch got new ids */
        }
    }
    T_EQ(grt_thread_count(), 1);        /* all of them exited */
}

static void *touch_without_attach(void *arg)
{
    (void)arg;
    grt_list_new(0);                    /* fatal: not attached */
    return NULL;
}

TEST_FATAL(object_from_unattached_thread_is_fatal, "not attached")
{
    pthread_t t;
    pthread_create(&t, NULL, touch_without_attach, NULL);
    pthread_join(t, NULL);
}

TEST_FATAL(safepoint_while_detached_is_fatal, "grt_safepoint called from a thread that is not attached")
{
    grt_detach();
    grt_safepoint();
}

/* ---- stop-the-world ------------------------------------------------------------------ */

static uint64_t spins;
static uint32_t stop_spinning;

static void spinner(int i, void *arg)
{
    (void)i; (void)arg;
    while (!grt_atomic_load_32(&stop_spinning)) {
        grt_atomic_faa_64(&spins, 1);
        grt_safepoint();
    }
}

static void *spinner_main(void *arg) { spinner(0, arg); return NULL; }

TEST_MT(stop_the_world_parks_every_attached_thread)
{
    pthread_t thr[3];
    for (int i = 0; i < 3; i++)
        T_EQ(grt_thread_start(&thr[i], spinner_main, NULL), 0);
    while (grt_atomic_load_64(&spins) < 1000)
        grt_safepoint();
    for (int round = 0; round < 20; round++) {
        _grt_stop_the_world();
        T_TRUE(_grt_world_is_stopped());
        uint64_t a = grt_atomic_load_64(&spins);
        usleep(2000);
        uint64_t b = grt_atomic_load_64(&spins);
        if (!_grt_gil_enabled())
            T_EQ(b, a);                 /* nobody ran during the pause */
        _grt_start_the_world();
        uint64_t c = grt_atomic_load_64(&spins);
        while (grt_atomic_load_64(&spins) < c + 10)
            grt_safepoint();            /* everyone resumes */
    }
    grt_atomic_store_32(&stop_spinning, 1);
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < 3; i++) pthread_join(thr[i], NULL);
    GRT_END_ALLOW_THREADS;
}

static int pipefd[2];
static uint32_t reattached;

static void *blocked_reader(void *arg)
{
    (void)arg;
    char c;
    GRT_BEGIN_ALLOW_THREADS
    while (read(pipefd[0], &c, 1) < 0) {}
    GRT_END_ALLOW_THREADS;
    grt_atomic_store_32(&reattached, 1);
    return NULL;
}

/* A detached thread does not hold a pause up, and cannot re-attach during it. */
TEST_MT(detached_thread_does_not_stall_a_pause)
{
    T_EQ(pipe(pipefd), 0);
    pthread_t t;
    T_EQ(grt_thread_start(&t, blocked_reader, NULL), 0);
    while (grt_thread_count() < 2) usleep(100);
    usleep(10000);
    _grt_stop_the_world();              /* returns although the reader is blocked */
    T_EQ(write(pipefd[1], "x", 1), 1);  /* it wakes up and tries to re-attach */
    usleep(20000);
    if (!_grt_gil_enabled())
        T_EQ(grt_atomic_load_32(&reattached), 0);
    _grt_start_the_world();
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(grt_atomic_load_32(&reattached), 1);
}

TEST_MT(stop_the_world_records_time_to_safepoint)
{
    pthread_t thr;
    grt_atomic_store_32(&stop_spinning, 0);
    T_EQ(grt_thread_start(&thr, spinner_main, NULL), 0);
    while (grt_atomic_load_64(&spins) < 100) grt_safepoint();
    uint64_t n0 = _grt_rt.stw_count;
    _grt_stop_the_world();
    _grt_start_the_world();
    if (!_grt_gil_enabled()) {
        T_EQ(_grt_rt.stw_count, n0 + 1);
        T_GE(_grt_rt.tts_max_ns, _grt_rt.tts_last_ns);
        T_GE(_grt_rt.stw_max_ns, _grt_rt.stw_last_ns);
    }
    grt_atomic_store_32(&stop_spinning, 1);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
}
