/*
 * tests/test_mem_trace.c — allocation tracing: traced current and peak,
 * snapshots grouped by allocation site, and the leak hunt: a leak planted in
 * a loop is the top entry of a snapshot diff, and its site is the planting
 * function.
 *
 * The planting function lives in its own section, so the linker's
 * __start_/__stop_ symbols bound its code exactly: a frame address inside
 * them is the leak's site, whatever the variant, optimisation or TSan.
 */
#include "harness.h"

extern const char __start_t_mem_leak_text[], __stop_t_mem_leak_text[];

enum { LEAK_N = 700, LEAK_SIZE = 48 };
static void *leaked[LEAK_N];

/* Loops run with "#pragma GCC unroll 1": an unrolled loop would call the
 * allocator from several places, i.e. several sites. */
__attribute__((noinline, section("t_mem_leak_text")))
static void t_mem_plant_leak(void)
{
#pragma GCC unroll 1
    for (int i = 0; i < LEAK_N; i++)
        leaked[i] = grt_mem_malloc(LEAK_SIZE);
}

__attribute__((noinline))
static void t_mem_churn(int n)
{
    for (int i = 0; i < n; i++) {
        void *p = grt_mem_malloc(200);
        void *q = grt_mem_malloc(24);
        grt_mem_free(p);
        grt_mem_free(q);
    }
}

/* Two allocation sites.  The asm after the call keeps it from becoming a
 * tail call (which would make the caller the site); the two asm bodies
 * differ so that the linker does not fold the functions into one. */
__attribute__((noinline))
static void *t_mem_keep(size_t n)
{
    void *p = grt_mem_malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline))
static void *t_mem_keep_other(size_t n)
{
    void *p = grt_mem_malloc(n);
    __asm__ volatile("nop" ::: "memory");
    return p;
}

static bool t_in_leak_function(const void *pc)
{
    return (const char *)pc > __start_t_mem_leak_text && (const char *)pc <= __stop_t_mem_leak_text;
}

TEST(trace_start_checks_the_depth)
{
    T_EQ(grt_mem_trace_start(0), -1);
    T_ERR(GRT_ERR_VALUE, "depth 0 is not in 1..64");
    T_EQ(grt_mem_trace_start(65), -1);
    T_ERR(GRT_ERR_VALUE, "depth 65");
    T_EQ(grt_mem_trace_is_tracing(), 0);
    T_TRUE(grt_mem_snapshot_take() == NULL);
    T_ERR(GRT_ERR_RUNTIME, "not tracing");
}

TEST(traced_current_and_peak_follow_allocations)
{
    T_EQ(grt_mem_trace_start(1), 0);
    T_EQ(grt_mem_trace_is_tracing(), 1);
    size_t cur, peak;
    void *v[10];
    for (int i = 0; i < 10; i++) v[i] = grt_mem_malloc(100);
    grt_mem_trace_traced(&cur, &peak);
    T_EQ(cur, 1000);
    T_EQ(peak, 1000);
    for (int i = 0; i < 5; i++) grt_mem_free(v[i]);
    grt_mem_trace_traced(&cur, &peak);
    T_EQ(cur, 500);
    T_EQ(peak, 1000);
    grt_mem_trace_reset_peak();
    grt_mem_trace_traced(NULL, &peak);
    T_EQ(peak, 500);
    v[5] = grt_mem_realloc(v[5], 3000);                 /* realloc re-records the block */
    grt_mem_trace_traced(&cur, NULL);
    T_EQ(cur, 3400);
    grt_mem_trace_stop();
    T_EQ(grt_mem_trace_is_tracing(), 0);
    grt_mem_trace_traced(&cur, &peak);
    T_EQ(cur, 0);
    for (int i = 5; i < 10; i++) grt_mem_free(v[i]);    /* freed untraced: fine */
}

TEST(snapshots_group_live_blocks_by_site)
{
    T_EQ(grt_mem_trace_start(1), 0);
    void *a[30], *b[3];
    for (int i = 0; i < 30; i++) a[i] = t_mem_keep(64);          /* one site */
    for (int i = 0; i < 3; i++) b[i] = t_mem_keep_other(1000);   /* another */
    grt_mem_snapshot *s = grt_mem_snapshot_take();
    T_NOT_NULL(s);
    size_t count;
    T_EQ(grt_mem_snapshot_total(s, &count), 30 * 64 + 3 * 1000);
    T_EQ(count, 33);
    T_EQ(grt_mem_snapshot_len(s), 2);
    const grt_mem_site *top = grt_mem_snapshot_site(s, 0), *next = grt_mem_snapshot_site(s, 1);
    T_EQ(top->size, 3000);                               /* largest first */
    T_EQ(top->count, 3);
    T_EQ(next->size, 30 * 64);
    T_EQ(next->count, 30);
    T_EQ(top->nframes, 1);
    T_NE((intptr_t)top->frames[0], (intptr_t)next->frames[0]);
    T_TRUE(grt_mem_snapshot_site(s, 2) == NULL);
    T_ERR(GRT_ERR_INDEX, "index 2 out of range");
    grt_mem_snapshot_free(s);
    for (int i = 0; i < 30; i++) grt_mem_free(a[i]);
    for (int i = 0; i < 3; i++) grt_mem_free(b[i]);
    grt_mem_trace_stop();
}

TEST(a_planted_leak_is_the_top_of_the_snapshot_diff)
{
    T_EQ(grt_mem_trace_start(8), 0);
    void *kept = t_mem_keep(4000);                       /* there before: no growth */
    grt_mem_snapshot *before = grt_mem_snapshot_take();
    T_NOT_NULL(before);

    t_mem_churn(2000);                                   /* noise that leaves nothing */
    t_mem_plant_leak();                                  /* 700 x 48 bytes, never freed */
    void *small_growth[10];
#pragma GCC unroll 1
    for (int i = 0; i < 10; i++) small_growth[i] = t_mem_keep_other(100);   /* 1000 bytes */
    grt_mem_free(kept);                                  /* a site that shrinks */

    grt_mem_snapshot *after = grt_mem_snapshot_take();
    grt_mem_snapshot *diff = grt_mem_snapshot_diff(after, before);
    T_NOT_NULL(diff);
    printf("snapshot diff, top 3:\n");
    grt_mem_snapshot_dump(diff, stdout, 3);

    const grt_mem_site *top = grt_mem_snapshot_site(diff, 0);
    T_EQ(top->size_diff, LEAK_N * LEAK_SIZE);
    T_EQ(top->count_diff, LEAK_N);
    T_EQ(top->size, LEAK_N * LEAK_SIZE);
    T_GE(top->nframes, 2);
    if (!t_in_leak_function(top->frames[0]))
        T_FAIL("top site's first frame %p is not in t_mem_plant_leak [%p, %p]",
               top->frames[0], (const void *)__start_t_mem_leak_text,
               (const void *)__stop_t_mem_leak_text);
    char name[256];
    T_TRUE(grt_mem_frame_name(top->frames[0], name, sizeof name) == name);
    T_TRUE(name[0] != '\0');
    /* the runner-up is the small growth, the shrinking site comes last */
    T_EQ(grt_mem_snapshot_site(diff, 1)->size_diff, 1000);
    const grt_mem_site *last = grt_mem_snapshot_site(diff, grt_mem_snapshot_len(diff) - 1);
    T_EQ(last->size_diff, -4000);
    T_EQ(last->count_diff, -1);
    T_EQ(last->size, 0);

    grt_mem_snapshot_free(diff);
    grt_mem_snapshot_free(after);
    grt_mem_snapshot_free(before);
    T_TRUE(grt_mem_snapshot_diff(NULL, NULL) == NULL);
    T_ERR(GRT_ERR_TYPE, "argument 'new_snap' is NULL");
    for (int i = 0; i < LEAK_N; i++) grt_mem_free(leaked[i]);
    for (int i = 0; i < 10; i++) grt_mem_free(small_growth[i]);
    grt_mem_trace_stop();
}

TEST(objects_are_traced_too)
{
    T_EQ(grt_mem_trace_start(16), 0);
    grt_mem_snapshot *before = grt_mem_snapshot_take();
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < 500; i++) {
        grt_object *f = grt_float_new(i);
        T_EQ(grt_list_append(l, f), 0);
        grt_decref(f);
    }
    grt_mem_snapshot *after = grt_mem_snapshot_take();
    size_t count0, count1;
    grt_mem_snapshot_total(before, &count0);
    grt_mem_snapshot_total(after, &count1);
    T_GE(count1 - count0, 501);                          /* the floats, the list, its items */
    grt_mem_snapshot *diff = grt_mem_snapshot_diff(after, before);
    T_GE(grt_mem_snapshot_site(diff, 0)->count_diff, 500);   /* the floats' site */
    grt_mem_snapshot_free(diff);
    grt_mem_snapshot_free(after);
    grt_mem_snapshot_free(before);
    grt_decref(l);
    grt_mem_trace_stop();
}

/* grt_mem_trace_start while tracing (a new depth) must not rewrite what
 * threads that capture stacks read without the lock (TSan saw it at once). */
static void restart_or_allocate(int i, void *arg)
{
    (void)arg;
    for (int k = 0; k < 2000; k++) {
        if (i == 0)
            T_EQ(grt_mem_trace_start(1 + k % 8), 0);
        else
            grt_mem_free(grt_mem_malloc(24));
    }
}

TEST(trace_restart_while_threads_allocate)
{
    T_EQ(grt_mem_trace_start(4), 0);
    t_run_threads(2, restart_or_allocate, NULL);
    grt_mem_trace_stop();
}
