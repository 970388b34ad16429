/*
 * bench/workloads_gc.c — the workloads that exercise the cycle collector and
 * stop-the-world: cycles, gc_pause, stw.
 *
 * Collections are serialised (one collector, one world), so these do not
 * scale with threads by design; what changes with T is how much the other
 * threads pay: a GIL-off collection stops them at their next safepoint.
 */
#include "bench.h"
#include <stdlib.h>

#define BENCH_CHECK(x, what) do { if (!(x)) bench_die_grt(what); } while (0)

static grt_gc_stats gc_before;

static void gc_stats(grt_gc_stats *st)
{
    BENCH_CHECK(grt_gc_get_stats(st) == 0, "grt_gc_get_stats");
}

static int gc_stats_setup(bench_run *r)
{
    (void)r;
    gc_stats(&gc_before);
    return 0;
}

/* ---- cycles: cyclic garbage, freed only by the collector ------------------------------------ */

static uint64_t cycles_step(bench_thread *t, uint64_t n)
{
    (void)t;
    for (uint64_t i = 0; i < n; i++) {
        grt_object *a = grt_list_new(0), *b = grt_list_new(0);
        BENCH_CHECK(a && b, "grt_list_new");
        BENCH_CHECK(grt_list_append(a, b) == 0 && grt_list_append(b, a) == 0, "grt_list_append");
        grt_decref(a);
        grt_decref(b);                       /* unreachable now, but each count is 1 */
        grt_safepoint();                     /* where automatic collections run */
    }
    return n;
}

static void cycles_report(bench_run *r, bench_json *out)
{
    grt_gc_stats st;
    gc_stats(&st);
    int64_t coll = 0, freed = 0;
    for (int g = 0; g < GRT_GC_NGENERATIONS; g++) {
        coll += st.gen[g].collections - gc_before.gen[g].collections;
        freed += st.gen[g].collected - gc_before.gen[g].collected;
    }
    bench_json_int(out, "collections", coll);
    bench_json_int(out, "collected", freed);
    /* every op made 2 objects; those not collected yet wait for grt_fini */
    bench_json_num(out, "collected_share", r->ops ? (double)freed / (2.0 * (double)r->ops) : 0);
}

const bench_workload bench_w_cycles = {
    .name = "cycles", .op = "a 2-list cycle made and dropped",
    .summary = "cyclic garbage: only the collector frees it (automatic collections)",
    .batch = 1024, .setup = gc_stats_setup, .step = cycles_step, .report = cycles_report,
};

/* ---- gc_pause: full collections over SIZE live containers ------------------------------------ */

static int gc_pause_setup(bench_run *r)
{
    grt_object *all = grt_list_new(0);
    BENCH_CHECK(all, "grt_list_new");
    for (int64_t i = 0; i < r->size; i++) {
        grt_object *v = grt_int_new(1000 + i), *l = grt_list_new(0);
        BENCH_CHECK(v && l, "grt_list_new");
        BENCH_CHECK(grt_list_append(l, v) == 0 && grt_list_append(all, l) == 0, "grt_list_append");
        grt_decref(v);
        grt_decref(l);
        if ((i & 1023) == 0)
            grt_safepoint();
    }
    r->shared = all;
    BENCH_CHECK(grt_gc_collect(2) >= 0, "grt_gc_collect");   /* settle: all in generation 2 */
    gc_stats(&gc_before);
    return 0;
}

static uint64_t gc_pause_step(bench_thread *t, uint64_t n)
{
    (void)t;
    for (uint64_t i = 0; i < n; i++) {
        BENCH_CHECK(grt_gc_collect(2) >= 0, "grt_gc_collect");
        grt_safepoint();
    }
    return n;
}

static void gc_pause_teardown(bench_run *r) { grt_clear(r->shared); }

static void gc_pause_report(bench_run *r, bench_json *out)
{
    grt_gc_stats st;
    gc_stats(&st);
    double per = r->ops ? (double)r->elapsed_ns / (double)r->ops : 0;
    bench_json_num(out, "ms_per_collection", per / 1e6);
    bench_json_num(out, "ns_per_object", per / (double)(r->size + 1));
    bench_json_num(out, "collection_max_ms", (double)st.collection_max_ns / 1e6);
    bench_json_num(out, "tts_max_us", (double)st.tts_max_ns / 1e3);
}

const bench_workload bench_w_gc_pause = {
    .name = "gc_pause", .op = "a full collection (grt_gc_collect(2))",
    .summary = "full collections over SIZE live [i] lists (default 100000); serialised",
    .batch = 1, .default_size = 100000, .setup = gc_pause_setup, .step = gc_pause_step,
    .teardown = gc_pause_teardown, .report = gc_pause_report,
};

/* ---- stw: stop-the-world pauses while the other threads run ------------------------------------
 *
 * Thread 0 runs young collections back to back (each one stops the world in
 * GIL-off runs, or needs the GIL); threads 1.. are mutators doing reference
 * counting with a safepoint every 16 ops.  An op is one pause; the mutators'
 * throughput and the mean time-to-safepoint come as extra metrics. */

enum { STW_MUT_OPS = 0, STW_TTS_NS = 1, STW_PAUSE_NS = 2 };
enum { STW_OBJS = 4 };

static int stw_thread_setup(bench_thread *t)
{
    grt_object **o = calloc(STW_OBJS, sizeof *o);
    if (!o)
        bench_die("out of memory");
    for (int k = 0; k < STW_OBJS; k++)
        BENCH_CHECK(o[k] = grt_int_new(2000000 + STW_OBJS * t->index + k), "grt_int_new");
    t->state = o;
    return 0;
}

static uint64_t stw_step(bench_thread *t, uint64_t n)
{
    grt_object **o = t->state;
    if (t->index > 0) {                      /* mutator */
        for (int b = 0; b < 256; b++) {
            for (int k = 0; k < STW_OBJS; k++)
                grt_incref(o[k]);
            BENCH_OPAQUE(o);
            for (int k = 0; k < STW_OBJS; k++)
                grt_decref(o[k]);
            BENCH_OPAQUE(o);
            grt_safepoint();
        }
        t->counters[STW_MUT_OPS] += 256 * STW_OBJS;
        return 0;
    }
    for (uint64_t i = 0; i < n; i++) {       /* the collecting thread */
        grt_gc_stats st;
        BENCH_CHECK(grt_gc_collect(0) >= 0, "grt_gc_collect");
        gc_stats(&st);
        t->counters[STW_TTS_NS] += st.tts_last_ns;
        t->counters[STW_PAUSE_NS] += st.pause_last_ns;
        grt_safepoint();
    }
    return n;
}

static void stw_thread_teardown(bench_thread *t)
{
    grt_object **o = t->state;
    for (int k = 0; k < STW_OBJS; k++)
        grt_decref(o[k]);
    free(o);
    t->state = NULL;
}

static void stw_report(bench_run *r, bench_json *out)
{
    grt_gc_stats st;
    gc_stats(&st);
    double secs = (double)r->elapsed_ns / 1e9, pauses = (double)(r->ops ? r->ops : 1);
    bench_json_num(out, "us_per_pause", secs * 1e6 / pauses);
    bench_json_num(out, "tts_mean_us", (double)bench_sum(r, STW_TTS_NS) / pauses / 1e3);
    bench_json_num(out, "stw_pause_mean_us", (double)bench_sum(r, STW_PAUSE_NS) / pauses / 1e3);
    bench_json_num(out, "tts_max_us", (double)st.tts_max_ns / 1e3);
    bench_json_num(out, "mutator_ops_per_s", (double)bench_sum(r, STW_MUT_OPS) / secs);
}

const bench_workload bench_w_stw = {
    .name = "stw", .op = "a young collection (a stop-the-world pause) by thread 0",
    .summary = "time-to-safepoint: thread 0 collects, threads 1.. count references",
    .batch = 1, .flags = BENCH_HELPERS, .thread_setup = stw_thread_setup, .step = stw_step,
    .thread_teardown = stw_thread_teardown, .report = stw_report,
};
