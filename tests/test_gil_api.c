/*
 * tests/test_gil_api.c — choosing a GIL policy, the errors for bad choices,
 * tuning (switch and check interval), statistics, registration errors.
 */
#include "test_gil.h"
#include <math.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static grt_config tapi_config(const char *policy)
{
    grt_config cfg;
    if (grt_config_init(&cfg) != 0) T_FAIL("grt_config_init: %s", grt_err_message());
    cfg.gil = policy;
    return cfg;
}

TEST_NOINIT(gil_default_policy)
{
    grt_config cfg = tapi_config(NULL);     /* NULL: the variant's default, not GRT_GIL */
    T_EQ(grt_init(&cfg), 0);
#ifdef GRT_VARIANT_GIL
    T_EQ_STR(grt_gil_policy(), "classic");
    T_EQ(grt_gil_enabled(), 1);
    T_TRUE(_grt_tstate_current->holds_gil);
#else
    T_EQ_STR(grt_gil_policy(), "off");
    T_EQ(grt_gil_enabled(), 0);
    T_FALSE(_grt_tstate_current->holds_gil);
#endif
    T_EQ(grt_fini(), 0);
    T_TRUE(grt_gil_policy() == NULL);
    T_EQ(grt_gil_enabled(), 0);
}

TEST_NOINIT(gil_unknown_policy_lists_valid_names)
{
    grt_config cfg = tapi_config("bogus");
    T_EQ(grt_init(&cfg), -1);
    T_EQ(grt_is_initialized(), 0);
    T_EQ(grt_err_occurred(), GRT_ERR_VALUE);
    const char *m = grt_err_message();
    T_TRUE(strstr(m, "'bogus'") != NULL);
    T_TRUE(strstr(m, "classic") && strstr(m, "fifo") && strstr(m, "io") && strstr(m, "legacy"));
#ifdef GRT_VARIANT_GIL
    T_TRUE(strstr(m, "off") == NULL);       /* not valid in this build */
#else
    T_TRUE(strstr(m, "off") != NULL);
#endif
    grt_err_clear();
    /* the runtime still starts with a good name afterwards */
    cfg.gil = "fifo";
    T_EQ(grt_init(&cfg), 0);
    T_EQ_STR(grt_gil_policy(), "fifo");
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(gil_off_policy)
{
    grt_config cfg = tapi_config("off");
#ifdef GRT_VARIANT_GIL
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "cannot run without its GIL");
    T_EQ(grt_is_initialized(), 0);
#else
    T_EQ(grt_init(&cfg), 0);
    T_EQ(grt_gil_enabled(), 0);
    T_EQ(grt_gil_waiting(), 0);
    grt_gil_statistics st;
    GRT_BEGIN_ALLOW_THREADS
    GRT_END_ALLOW_THREADS;
    grt_safepoint();
    T_EQ(grt_gil_stats(&st), 0);
    T_EQ(st.acquisitions, 0);               /* no GIL, nothing counted */
    T_EQ(grt_fini(), 0);
#endif
}

/* atomic and brc may turn any GIL on (PYTHON_GIL=1); so may unsafe. */
TEST_NOINIT(gil_turn_on_in_any_build)
{
    const char *policies[] = { "classic", "fifo", "io", "legacy" };
    for (int i = 0; i < 4; i++) {
        grt_config cfg = tapi_config(policies[i]);
        T_EQ(grt_init(&cfg), 0);
        T_EQ_STR(grt_gil_policy(), policies[i]);
        T_EQ(grt_gil_enabled(), 1);
        T_TRUE(_grt_tstate_current->holds_gil);
        GRT_BEGIN_ALLOW_THREADS
        T_FALSE(_grt_tstate_current->holds_gil);
        GRT_END_ALLOW_THREADS;
        T_TRUE(_grt_tstate_current->holds_gil);
        T_EQ(grt_fini(), 0);
    }
}

TEST_NOINIT(gil_policy_names)
{
    const char *want[] = { "classic", "fifo", "io", "legacy", "off" };
    for (int i = 0; i < 5; i++)
        T_EQ_STR(grt_gil_policy_name(i), want[i]);
    T_TRUE(grt_gil_policy_name(5) == NULL);
    T_TRUE(grt_gil_policy_name(-1) == NULL);
}

TEST(gil_switch_interval)
{
    T_EQ_DBL(grt_gil_get_switch_interval(), 0.005);     /* the default */
    T_EQ(grt_gil_switch_interval_us(), 5000);
    T_EQ(grt_gil_set_switch_interval(0.001), 0);
    T_EQ_DBL(grt_gil_get_switch_interval(), 0.001);
    T_EQ(grt_gil_switch_interval_us(), 1000);
    T_EQ(grt_gil_set_switch_interval(1e-9), 0);         /* rounds up to the 1 us floor */
    T_EQ(grt_gil_switch_interval_us(), 1);
    T_EQ(grt_gil_set_switch_interval(0), -1);
    T_ERR(GRT_ERR_VALUE, "strictly positive");
    T_EQ(grt_gil_set_switch_interval(-0.5), -1);
    T_ERR(GRT_ERR_VALUE, "strictly positive");
    T_EQ(grt_gil_set_switch_interval(NAN), -1);
    T_ERR(GRT_ERR_VALUE, "strictly positive");
    T_EQ(grt_gil_set_switch_interval(INFINITY), -1);
    T_ERR(GRT_ERR_VALUE, "finite");
    T_EQ(grt_gil_set_switch_interval(1e7), -1);
    T_ERR(GRT_ERR_VALUE, "too large");
    T_EQ(grt_gil_switch_interval_us(), 1);              /* failures change nothing */
}

TEST_NOINIT(gil_switch_interval_from_config)
{
    grt_config cfg = tapi_config("classic");
    cfg.switch_interval_us = 1234;
    cfg.check_interval = 7;
    T_EQ(grt_init(&cfg), 0);
    T_EQ(grt_gil_switch_interval_us(), 1234);
    T_EQ_DBL(grt_gil_get_switch_interval(), 0.001234);
    T_EQ(grt_gil_get_check_interval(), 7);
    T_EQ(grt_fini(), 0);
}

TEST(gil_check_interval)
{
    T_EQ(grt_gil_set_check_interval(1), 0);
    T_EQ(grt_gil_get_check_interval(), 1);
    T_EQ(grt_gil_set_check_interval(0), -1);
    T_ERR(GRT_ERR_VALUE, "at least 1");
    T_EQ(grt_gil_set_check_interval(-3), -1);
    T_ERR(GRT_ERR_VALUE, "got -3");
    T_EQ(grt_gil_get_check_interval(), 1);
}

TEST(gil_stats_errors_and_reset)
{
    T_EQ(grt_gil_stats(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "NULL");
    grt_gil_statistics st;
    grt_gil_stats_reset();
    T_EQ(grt_gil_stats(&st), 0);
    T_EQ(st.acquisitions, 0);
    T_EQ(st.wait_max_ns, 0);
    for (int i = 0; i < GRT_GIL_HIST_BUCKETS; i++)
        T_EQ(st.wait_hist[i], 0);
}

/* The histogram accounts for every acquisition; wait_max bounds the total. */
static void stats_worker(int i, void *p)
{
    (void)i;
    int64_t *counter = p;
    for (int n = 0; n < 2000; n++) {
        (*counter)++;
        grt_safepoint();
        if (n % 100 == 0) {
            GRT_BEGIN_ALLOW_THREADS
            GRT_END_ALLOW_THREADS;
        }
    }
}

TEST_NOINIT(gil_stats_consistent)
{
    tgil_start("classic", 100);
    grt_gil_stats_reset();
    int64_t counter = 0;
    t_run_threads(3, stats_worker, &counter);
    T_EQ(counter, 6000);
    grt_gil_statistics st;
    T_EQ(grt_gil_stats(&st), 0);
    uint64_t sum = 0;
    for (int i = 0; i < GRT_GIL_HIST_BUCKETS; i++)
        sum += st.wait_hist[i];
    T_EQ(sum, st.acquisitions);
    /* 3 threads x (first attach + 20 re-attaches) + yields, + the main thread's return */
    T_GE(st.acquisitions, 3 * 21 + 1);
    T_EQ(st.acquisitions >= st.yields, 1);
    T_EQ(st.wait_total_ns >= st.wait_max_ns, 1);
    T_EQ(st.forced_switches <= st.yields, 1);
    grt_gil_stats_reset();
    T_EQ(grt_gil_stats(&st), 0);
    T_EQ(st.acquisitions, 0);
    T_EQ(st.yields, 0);
    T_EQ(st.wait_total_ns, 0);
    tgil_stop();
}

/* ---- registration errors ------------------------------------------------------------------- */

static void tapi_acquire(grt_gil_thread *t, grt_gil_reason why) { (void)t; (void)why; }
static void tapi_release(grt_gil_thread *t, grt_gil_reason why) { (void)t; (void)why; }

TEST_NOINIT(gil_register_errors)
{
    static const grt_gil_ops ok = { .acquire = tapi_acquire, .release = tapi_release };
    static const grt_gil_ops no_acquire = { .release = tapi_release };
    static const grt_gil_ops no_release = { .acquire = tapi_acquire };
    T_EQ(grt_gil_register(NULL, &ok), -1);
    T_ERR(GRT_ERR_TYPE, "name is NULL");
    T_EQ(grt_gil_register("mine", NULL), -1);
    T_ERR(GRT_ERR_TYPE, "'mine'");
    T_EQ(grt_gil_register("mine", &no_acquire), -1);
    T_ERR(GRT_ERR_TYPE, "no acquire");
    T_EQ(grt_gil_register("mine", &no_release), -1);
    T_ERR(GRT_ERR_TYPE, "no release");
    T_EQ(grt_gil_register("", &ok), -1);
    T_ERR(GRT_ERR_VALUE, "invalid GIL policy name");
    T_EQ(grt_gil_register("has space", &ok), -1);
    T_ERR(GRT_ERR_VALUE, "'has space'");
    T_EQ(grt_gil_register("a-name-that-is-much-too-long-for-it", &ok), -1);
    T_ERR(GRT_ERR_VALUE, "1 to 31");
    T_EQ(grt_gil_register("classic", &ok), -1);
    T_ERR(GRT_ERR_VALUE, "already registered");
    T_EQ(grt_gil_register("Mine_2-b", &ok), 0);
    T_EQ(grt_gil_register("Mine_2-b", &ok), -1);
    T_ERR(GRT_ERR_VALUE, "already registered");
    T_EQ_STR(grt_gil_policy_name(5), "Mine_2-b");
    /* fill the registry: 32 entries in all */
    char name[16];
    int i = 0;
    for (;; i++) {
        snprintf(name, sizeof name, "p%d", i);
        if (grt_gil_register(name, &ok) != 0) break;
    }
    T_EQ(i, 32 - 6);
    T_ERR(GRT_ERR_VALUE, "registry is full");
    /* a registered name shows up in the list of valid names */
    grt_config cfg = tapi_config("nope");
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "Mine_2-b");
}

/* A policy whose init fails makes grt_init fail with its error. */
static int tapi_init_fails(void)
{
    grt_err_set(GRT_ERR_RUNTIME, "tapi: no resources");
    return -1;
}

TEST_NOINIT(gil_register_init_failure)
{
    static const grt_gil_ops bad = { .init = tapi_init_fails, .acquire = tapi_acquire,
                                     .release = tapi_release };
    T_EQ(grt_gil_register("badinit", &bad), 0);
    grt_config cfg = tapi_config("badinit");
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_RUNTIME, "tapi: no resources");
    T_EQ(grt_is_initialized(), 0);
}

/* The policy registry may be read at any time, from any thread, attached or
 * not; a fork child must not inherit its lock held by a thread that is gone
 * (children once hung in grt_gil_policy_name about half the time). */
static int registry_reader_stop;          /* atomic */
static void *registry_reader(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&registry_reader_stop, __ATOMIC_RELAXED))
        for (int i = 0; grt_gil_policy_name(i); i++) {}
    return NULL;
}

TEST(gil_registry_works_in_a_fork_child)
{
    pthread_t reader;
    T_EQ(pthread_create(&reader, NULL, registry_reader, NULL), 0);
    int hung = 0;
    for (int k = 0; k < 40; k++) {
        pid_t pid = grt_fork();
        if (pid == 0) {
            alarm(5);
            _exit(grt_gil_policy_name(0) != NULL ? 0 : 1);
        }
        int st;
        T_EQ(waitpid(pid, &st, 0), pid);
        hung += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    __atomic_store_n(&registry_reader_stop, 1, __ATOMIC_RELAXED);
    pthread_join(reader, NULL);
    T_EQ(hung, 0);
}
