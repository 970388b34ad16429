/*
 * tests/test_mem_fail.c — allocation-failure injection (mem/fault.c): the k-th
 * allocation from now fails exactly once with a MemoryError from the public
 * function that needed it, every n-th fails, the two modes together, the
 * counters, every allocator and tracing, threads, the runtime working
 * afterwards, bad arguments, and GRT_MEM_FAIL_AT / GRT_MEM_FAIL_EVERY.
 *
 * Cases that count allocations of object functions measure them first with
 * the counting idiom (a target that never comes), so they do not depend on
 * how many blocks a function needs in this build.
 */
#include "harness.h"

#define FT_NEVER INT64_MAX             /* a fail_at target that does not come */

/* Allocations fn(arg) makes, counted while armed with a target that never comes. */
static uint64_t ft_count(void (*fn)(void *), void *arg)
{
    T_EQ(grt_mem_fail_at(FT_NEVER), 0);
    uint64_t a0 = grt_mem_allocations_counted();
    fn(arg);
    uint64_t n = grt_mem_allocations_counted() - a0;
    grt_mem_fail_off();
    return n;
}

/* n grt_mem_malloc calls; bit i of the result set if call i + 1 failed (each
 * failure checked: NULL and a MemoryError naming grt_mem_malloc). */
static uint64_t ft_mallocs(int n)
{
    uint64_t failed = 0;
    for (int i = 0; i < n; i++) {
        void *p = grt_mem_malloc(24);
        if (p) {
            T_NO_ERR();
            grt_mem_free(p);
        } else {
            T_ERR(GRT_ERR_MEMORY, "grt_mem_malloc: out of memory (24 bytes)");
            failed |= UINT64_C(1) << i;
        }
    }
    return failed;
}


/* ---- fail_at ------------------------------------------------------------------------------ */

TEST(fail_at_fails_exactly_the_kth_allocation_once)
{
    for (int k = 1; k <= 6; k++) {
        uint64_t inj0 = grt_mem_failures_injected(), cnt0 = grt_mem_allocations_counted();
        T_EQ(grt_mem_fail_is_armed(), 0);
        T_EQ(grt_mem_fail_at(k), 0);
        T_EQ(grt_mem_fail_is_armed(), 1);
        T_EQ(ft_mallocs(8), UINT64_C(1) << (k - 1));   /* the k-th only */
        T_EQ(grt_mem_failures_injected() - inj0, 1);
        /* once fired the target is spent: disarmed, nothing counted after it */
        T_EQ(grt_mem_fail_is_armed(), 0);
        T_EQ(grt_mem_allocations_counted() - cnt0, k);
    }
}

TEST(fail_at_zero_and_fail_off_turn_it_off)
{
    T_EQ(grt_mem_fail_at(2), 0);
    T_EQ(grt_mem_fail_at(0), 0);
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(ft_mallocs(4), 0);
    T_EQ(grt_mem_fail_at(2), 0);
    grt_mem_fail_off();
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(ft_mallocs(4), 0);
    T_EQ(grt_mem_failures_injected(), 0);
    /* re-arming counts from the call, not from the first arming */
    T_EQ(grt_mem_fail_at(3), 0);
    T_EQ(ft_mallocs(1), 0);
    T_EQ(grt_mem_fail_at(3), 0);
    T_EQ(ft_mallocs(4), UINT64_C(1) << 2);
}

TEST(fail_at_reaches_realloc_and_leaves_the_block)
{
    unsigned char *p = grt_mem_malloc(40);
    T_NOT_NULL(p);
    memset(p, 0x3c, 40);
    T_EQ(grt_mem_fail_at(1), 0);
    T_EQ_PTR(grt_mem_realloc(p, 4000), NULL);
    T_ERR(GRT_ERR_MEMORY, "grt_mem_realloc: out of memory (4000 bytes)");
    for (int i = 0; i < 40; i++)
        T_EQ(p[i], 0x3c);
    unsigned char *q = grt_mem_realloc(p, 4000);       /* once: this one works */
    T_NOT_NULL(q);
    for (int i = 0; i < 40; i++)
        T_EQ(q[i], 0x3c);
    grt_mem_free(q);
    T_EQ(grt_mem_failures_injected(), 1);
}

/* ---- object functions: the error comes from the function that allocated ------------------- */

static void ft_int_new(void *arg) { grt_decref(grt_int_new(123456789)); (void)arg; }

TEST(fail_at_gives_the_object_function_a_memory_error)
{
    T_EQ(ft_count(ft_int_new, NULL), 1);
    T_EQ(grt_mem_fail_at(1), 0);
    T_EQ_PTR(grt_int_new(123456789), NULL);
    T_ERR(GRT_ERR_MEMORY, "out of memory allocating a int object");
    grt_object *i = grt_int_new(123456789);
    T_NOT_NULL(i);
    T_EQ(grt_int_value(i), 123456789);
    grt_decref(i);

    /* a list's first append allocates its item buffer: it fails, the list stays empty */
    grt_object *l = grt_list_new(0), *v = grt_int_new(7777);
    T_NOT_NULL(l);
    T_NOT_NULL(v);
    T_EQ(grt_mem_fail_at(1), 0);
    T_EQ(grt_list_append(l, v), -1);
    T_ERR(GRT_ERR_MEMORY, "grt_list_append");
    T_EQ(grt_list_len(l), 0);
    T_EQ(grt_list_append(l, v), 0);
    T_EQ(grt_list_len(l), 1);
    grt_object *first = grt_list_get(l, 0);          /* new reference */
    T_EQ_PTR(first, v);
    grt_decref(first);
    grt_decref(l);
    grt_decref(v);
}

typedef struct ft_dict_work { grt_object *d; int64_t n; } ft_dict_work;

/* Insert n fresh string keys (each a new object, the table resizing on the way). */
static int ft_dict_fill(ft_dict_work *w)
{
    for (int64_t i = 0; i < w->n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "fault-key-%" PRId64, i);
        grt_object *k = grt_str_new(buf);
        if (!k)
            return -1;
        int rc = grt_dict_set(w->d, k, k);
        grt_decref(k);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void ft_dict_fill_void(void *arg)
{
    ft_dict_work *w = arg;
    grt_object *d = grt_dict_new();
    w->d = d;
    T_EQ(ft_dict_fill(w), 0);
    grt_decref(d);
}

static int64_t ft_live(void)
{
    grt_gc_collect(2);
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

TEST(every_allocation_of_a_dict_fill_fails_cleanly_in_turn)
{
    ft_dict_work w = { NULL, 20 };
    uint64_t n = ft_count(ft_dict_fill_void, &w);
    T_GE(n, 21);                                     /* 20 keys, the dict, its table */
    int64_t live0 = ft_live();
    for (uint64_t k = 1; k <= n; k++) {
        uint64_t inj0 = grt_mem_failures_injected();
        T_EQ(grt_mem_fail_at((int64_t)k), 0);
        grt_object *d = grt_dict_new();
        int rc = -1;
        if (d) {
            w.d = d;
            rc = ft_dict_fill(&w);
        }
        if (rc == 0)
            T_FAIL("allocation %" PRIu64 " of %" PRIu64 " failed but the work succeeded", k, n);
        T_ERR(GRT_ERR_MEMORY, "");
        T_EQ(grt_mem_failures_injected() - inj0, 1);
        grt_mem_fail_off();
        /* what was inserted before the failure is there, and only that */
        if (d) {
            int64_t len = grt_dict_len(d);
            T_LE(len, 20);
            for (int64_t i = 0; i < len; i++) {
                char buf[32];
                snprintf(buf, sizeof buf, "fault-key-%" PRId64, i);
                grt_object *key = grt_str_new(buf);
                T_NOT_NULL(key);
                T_EQ(grt_dict_contains(d, key), 1);
                grt_decref(key);
            }
            grt_decref(d);
        }
        T_EQ(ft_live(), live0);                       /* no reference leaked */
    }
    /* and the runtime works: the same fill, no failure */
    ft_dict_fill_void(&w);
    T_EQ(ft_live(), live0);
}

/* grt_dict_update is all or nothing: whichever allocation fails, the target
 * keeps exactly what it had (it stopped half-way before). */
TEST(a_failed_dict_update_leaves_its_target_as_it_was)
{
    grt_object *src = grt_dict_new(), *dst = grt_dict_new(), *mine = grt_str_new("mine");
    T_NOT_NULL(src); T_NOT_NULL(dst); T_NOT_NULL(mine);
    T_EQ(grt_dict_set(dst, mine, mine), 0);
    for (int i = 0; i < 50; i++) {
        grt_object *k = grt_int_new(1000000 + i);
        T_NOT_NULL(k);
        T_EQ(grt_dict_set(src, k, k), 0);
        grt_decref(k);
    }
    int failed = 0;
    for (int64_t k = 1; k <= 8; k++) {
        T_EQ(grt_mem_fail_at(k), 0);
        int rc = grt_dict_update(dst, src);
        grt_mem_fail_off();
        if (rc == 0) {
            T_EQ(grt_dict_len(dst), 51);
            break;
        }
        failed++;
        T_ERR(GRT_ERR_MEMORY, "");
        T_EQ(grt_dict_len(dst), 1);
        T_EQ(grt_dict_contains(dst, mine), 1);
    }
    T_GE(failed, 2);                                 /* the snapshot, then the table */
    T_EQ(grt_dict_len(dst), 51);
    grt_decref(src); grt_decref(dst); grt_decref(mine);
}

/* ---- fail_every ------------------------------------------------------------------------------ */

TEST(fail_every_fails_every_nth_until_turned_off)
{
    T_EQ(grt_mem_fail_every(3), 0);
    T_EQ(grt_mem_fail_is_armed(), 1);
    uint64_t cnt0 = grt_mem_allocations_counted();
    /* calls 3, 6, 9, 12 of 13 */
    T_EQ(ft_mallocs(13), (UINT64_C(1) << 2) | (UINT64_C(1) << 5) | (UINT64_C(1) << 8) |
                         (UINT64_C(1) << 11));
    T_EQ(grt_mem_failures_injected(), 4);
    T_EQ(grt_mem_allocations_counted() - cnt0, 13);
    T_EQ(grt_mem_fail_is_armed(), 1);                 /* a period stays armed */
    T_EQ(grt_mem_fail_every(0), 0);
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(ft_mallocs(13), 0);
    T_EQ(grt_mem_allocations_counted() - cnt0, 13);   /* nothing counted while off */
    T_EQ(grt_mem_fail_every(1), 0);
    T_EQ(ft_mallocs(5), 0x1f);                        /* every one */
    grt_mem_fail_off();
    T_EQ(grt_mem_failures_injected(), 9);
    T_EQ(ft_mallocs(3), 0);
}

TEST(fail_at_and_fail_every_together_count_a_shared_failure_once)
{
    T_EQ(grt_mem_fail_every(4), 0);
    T_EQ(grt_mem_fail_at(2), 0);
    T_EQ(ft_mallocs(9), (UINT64_C(1) << 1) | (UINT64_C(1) << 3) | (UINT64_C(1) << 7));
    T_EQ(grt_mem_failures_injected(), 3);
    T_EQ(grt_mem_fail_is_armed(), 1);                 /* the period is still set */
    grt_mem_fail_off();
    /* both on the same allocation: one failure */
    T_EQ(grt_mem_fail_every(4), 0);
    T_EQ(grt_mem_fail_at(4), 0);
    T_EQ(ft_mallocs(8), (UINT64_C(1) << 3) | (UINT64_C(1) << 7));
    grt_mem_fail_off();
    T_EQ(grt_mem_failures_injected(), 5);
}

/* ---- the runtime after failures ---------------------------------------------------------- */

TEST(the_runtime_works_after_a_storm_of_failures)
{
    int64_t live0 = ft_live();
    T_EQ(grt_mem_fail_every(2), 0);
    int failed = 0;
    for (int i = 0; i < 200; i++) {
        grt_object *l = grt_list_new(0);
        grt_object *s = l ? grt_str_new("a string long enough to be allocated") : NULL;
        if (!l || !s || grt_list_append(l, s) != 0 || grt_list_append(l, l) != 0) {
            T_ERR(GRT_ERR_MEMORY, "");
            failed++;
        }
        grt_xdecref(s);
        grt_xdecref(l);
    }
    grt_mem_fail_off();
    /* each run needs two allocations or more, and fails at the first of them
     * that is even in the count: every run fails */
    T_EQ(failed, 200);
    T_EQ(ft_live(), live0);                           /* the cycles made are collected */
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < 1000; i++) {
        grt_object *v = grt_int_new(100000 + i);
        T_NOT_NULL(v);
        T_EQ(grt_list_append(l, v), 0);
        grt_decref(v);
    }
    T_EQ(grt_list_len(l), 1000);
    grt_object *last = grt_list_get(l, 999);         /* new reference */
    T_NOT_NULL(last);
    T_EQ(grt_int_value(last), 100999);
    grt_decref(last);
    grt_decref(l);
    T_EQ(ft_live(), live0);
}

/* ---- every allocator, and tracing --------------------------------------------------------- */

static void ft_on_allocator(const char *allocator)
{
    t_init_with(allocator);
    T_EQ_STR(grt_mem_allocator(), allocator);
    T_EQ(grt_mem_fail_at(2), 0);
    T_EQ(ft_mallocs(4), UINT64_C(1) << 1);
    T_EQ(grt_mem_fail_every(2), 0);
    T_EQ(ft_mallocs(4), 0xa);
    grt_mem_fail_off();
    T_EQ(grt_mem_failures_injected(), 3);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(fail_injection_works_on_the_malloc_allocator) { ft_on_allocator("malloc"); }
TEST_NOINIT(fail_injection_works_on_the_debug_allocator) { ft_on_allocator("debug"); }
TEST_NOINIT(fail_injection_works_on_obmalloc) { ft_on_allocator("obmalloc"); }

TEST(an_injected_failure_is_not_traced)
{
    T_EQ(grt_mem_trace_start(4), 0);
    size_t cur0;
    grt_mem_trace_traced(&cur0, NULL);
    T_EQ(grt_mem_fail_at(1), 0);
    T_EQ_PTR(grt_mem_malloc(1000), NULL);
    T_ERR(GRT_ERR_MEMORY, "grt_mem_malloc");
    size_t cur;
    grt_mem_trace_traced(&cur, NULL);
    T_EQ(cur, cur0);
    void *p = grt_mem_malloc(1000);                   /* tracing still sees the next one */
    T_NOT_NULL(p);
    grt_mem_trace_traced(&cur, NULL);
    T_EQ(cur, cur0 + 1000);
    grt_mem_free(p);
    grt_mem_trace_stop();
}

/* ---- threads ------------------------------------------------------------------------------------ */

#define FT_THREADS 4
#define FT_PER_THREAD 2000
static uint32_t ft_failed_in_threads;

static void ft_thread_mallocs(int i, void *arg)
{
    (void)i; (void)arg;
    uint32_t failed = 0;
    for (int k = 0; k < FT_PER_THREAD; k++) {
        void *p = grt_mem_malloc(48);
        if (!p) {
            if (grt_err_occurred() != GRT_ERR_MEMORY)
                T_FAIL("a failed grt_mem_malloc set %s", grt_err_kind_name(grt_err_occurred()));
            grt_err_clear();
            failed++;
        }
        grt_mem_free(p);
        if (k % 64 == 0)
            grt_safepoint();
    }
    grt_atomic_add_32(&ft_failed_in_threads, failed);
}

TEST_MT(allocations_from_every_thread_count)
{
    /* fail_every: every failure a thread saw was injected, and each was counted */
    T_EQ(grt_mem_fail_every(7), 0);
    uint64_t cnt0 = grt_mem_allocations_counted();
    t_run_threads(FT_THREADS, ft_thread_mallocs, NULL);
    grt_mem_fail_off();
    uint64_t counted = grt_mem_allocations_counted() - cnt0;
    T_GE(counted, FT_THREADS * FT_PER_THREAD);
    T_EQ(grt_atomic_load_32(&ft_failed_in_threads), grt_mem_failures_injected());
    T_GE(grt_mem_failures_injected(), 1);
    T_LE(grt_mem_failures_injected(), counted / 7);
    /* fail_at: exactly one failure among all the threads */
    grt_atomic_store_32(&ft_failed_in_threads, 0);
    T_EQ(grt_mem_fail_at(3000), 0);
    t_run_threads(FT_THREADS, ft_thread_mallocs, NULL);
    T_EQ(grt_atomic_load_32(&ft_failed_in_threads), 1);
    T_EQ(grt_mem_fail_is_armed(), 0);
}

/* ---- bad arguments and state --------------------------------------------------------------- */

TEST(bad_arguments_are_refused_and_change_nothing)
{
    T_EQ(grt_mem_fail_at(-1), -1);
    T_ERR(GRT_ERR_VALUE, "grt_mem_fail_at: k must be >= 0 (0 turns this mode off), got -1");
    T_EQ(grt_mem_fail_every(INT64_MIN), -1);
    T_ERR(GRT_ERR_VALUE, "grt_mem_fail_every: n must be >= 0");
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_mem_fail_at(2), 0);
    T_EQ(grt_mem_fail_every(-3), -1);                  /* the armed target stays */
    T_ERR(GRT_ERR_VALUE, "got -3");
    T_EQ(ft_mallocs(3), UINT64_C(1) << 1);
}

TEST_NOINIT(fail_calls_outside_the_runtime_are_state_errors)
{
    T_EQ(grt_mem_fail_at(1), -1);
    T_ERR(GRT_ERR_STATE, "grt_mem_fail_at: the runtime is not initialised");
    T_EQ(grt_mem_fail_every(1), -1);
    T_ERR(GRT_ERR_STATE, "grt_mem_fail_every: the runtime is not initialised");
    grt_mem_fail_off();                                /* harmless */
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_init(NULL), 0);
    T_EQ(grt_mem_fail_every(5), 0);
    T_EQ(ft_mallocs(5), UINT64_C(1) << 4);
    T_EQ(grt_fini(), 0);                               /* disarms; counters stay readable */
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_mem_failures_injected(), 1);
    T_EQ(grt_mem_fail_at(1), -1);
    T_ERR(GRT_ERR_STATE, "not initialised");
    T_EQ(grt_init(NULL), 0);                           /* a new runtime starts clean */
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_mem_failures_injected(), 0);
    T_EQ(grt_mem_allocations_counted(), 0);
    T_EQ(ft_mallocs(5), 0);
    T_EQ(grt_fini(), 0);
}

/* ---- the environment ----------------------------------------------------------------------- */

TEST_NOINIT(env_fail_at_counts_from_the_end_of_grt_init)
{
    setenv("GRT_MEM_FAIL_AT", "2", 1);
    T_EQ(grt_init(NULL), 0);
    unsetenv("GRT_MEM_FAIL_AT");
    T_EQ(grt_mem_fail_is_armed(), 1);
    T_EQ(grt_mem_allocations_counted(), 0);           /* grt_init's own do not count */
    T_EQ(ft_mallocs(4), UINT64_C(1) << 1);
    T_EQ(grt_mem_failures_injected(), 1);
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(env_fail_every_and_both)
{
    setenv("GRT_MEM_FAIL_EVERY", "3", 1);
    T_EQ(grt_init(NULL), 0);
    T_EQ(ft_mallocs(7), (UINT64_C(1) << 2) | (UINT64_C(1) << 5));
    T_EQ(grt_fini(), 0);
    setenv("GRT_MEM_FAIL_AT", "1", 1);
    T_EQ(grt_init(NULL), 0);
    T_EQ(ft_mallocs(7), 1 | (UINT64_C(1) << 2) | (UINT64_C(1) << 5));
    T_EQ(grt_fini(), 0);
    setenv("GRT_MEM_FAIL_AT", "0", 1);                 /* 0 and empty: off */
    setenv("GRT_MEM_FAIL_EVERY", "", 1);
    T_EQ(grt_init(NULL), 0);
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(ft_mallocs(7), 0);
    T_EQ(grt_fini(), 0);
    unsetenv("GRT_MEM_FAIL_AT");
    unsetenv("GRT_MEM_FAIL_EVERY");
}

/* GRT_MEM_FAIL_INIT=k fails grt_init's k-th step that allocates after the
 * allocator is ready (1: the main thread's state, 2: the interning table);
 * grt_init unwinds, keeps its error, and the next grt_init works. */
TEST_NOINIT(grt_init_unwinds_when_a_late_step_runs_out_of_memory)
{
    static const char *const step[] = { "out of memory for a thread state",
                                        "cannot allocate the string interning table" };
    for (int k = 1; k <= 2; k++) {
        char v[8];
        snprintf(v, sizeof v, "%d", k);
        setenv("GRT_MEM_FAIL_INIT", v, 1);
        T_EQ(grt_init(NULL), -1);
        T_ERR(GRT_ERR_MEMORY, step[k - 1]);
        T_EQ(grt_is_initialized(), 0);
        T_EQ(grt_thread_id(), 0);                        /* the main thread left */
        unsetenv("GRT_MEM_FAIL_INIT");
        T_EQ(grt_init(NULL), 0);
        grt_object *s = grt_str_intern("unwound");
        T_NOT_NULL(s);
        T_EQ(grt_thread_count(), 1);
        grt_decref(s);
        T_EQ(grt_fini(), 0);
    }
    setenv("GRT_MEM_FAIL_INIT", "3", 1);                 /* past the last step: none fails */
    T_EQ(grt_init(NULL), 0);
    unsetenv("GRT_MEM_FAIL_INIT");
    T_EQ(grt_mem_fail_is_armed(), 0);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(env_bad_values_make_grt_init_fail_naming_them)
{
    static const struct { const char *var, *value; } bad[] = {
        { "GRT_MEM_FAIL_AT", "abc" }, { "GRT_MEM_FAIL_AT", "-1" }, { "GRT_MEM_FAIL_AT", "12x" },
        { "GRT_MEM_FAIL_AT", " 5" }, { "GRT_MEM_FAIL_AT", "+5" },
        { "GRT_MEM_FAIL_AT", "9223372036854775808" },          /* INT64_MAX + 1 */
        { "GRT_MEM_FAIL_EVERY", "99999999999999999999999" }, { "GRT_MEM_FAIL_EVERY", "2.5" },
        { "GRT_MEM_FAIL_EVERY", "0x10" }, { "GRT_MEM_FAIL_INIT", "one" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s='%s': expected a number of allocations", bad[i].var,
                 bad[i].value);
        setenv(bad[i].var, bad[i].value, 1);
        T_EQ(grt_init(NULL), -1);
        T_ERR(GRT_ERR_VALUE, want);
        T_EQ(grt_is_initialized(), 0);
        unsetenv(bad[i].var);
    }
    /* nothing was left half-made: the next grt_init works */
    setenv("GRT_MEM_FAIL_AT", "9223372036854775807", 1);   /* INT64_MAX itself is fine */
    T_EQ(grt_init(NULL), 0);
    unsetenv("GRT_MEM_FAIL_AT");
    T_EQ(grt_mem_fail_is_armed(), 1);
    T_EQ(ft_mallocs(3), 0);
    T_EQ(grt_fini(), 0);
}
