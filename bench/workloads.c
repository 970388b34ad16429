/*
 * bench/workloads.c — the workloads that exercise reference counting, the
 * allocator and the containers.  Each is a loop over the public API that
 * calls grt_safepoint() every few operations, as an interpreter checks its
 * eval breaker every few bytecodes.  (The collector workloads are in
 * bench/workloads_gc.c.)
 *
 * What one "op" is matters for reading the numbers; each workload says it in
 * its `op` field, and `gilrt compare` prints it above the workload's table.
 */
#include "bench.h"
#include <stdlib.h>
#include <string.h>

/* A gilrt call that returned NULL or -1: report the error and stop. */
#define BENCH_CHECK(x, what) do { if (!(x)) bench_die_grt(what); } while (0)

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        bench_die("out of memory");
    return p;
}

/* ---- reference counts: rc_private, rc_shared, rc_immortal ---------------------------------
 *
 * An op is one incref plus one decref.  Four references are taken, then
 * dropped (a function call holds a few at once), sixteen ops per safepoint. */

enum { RC_OBJS = 4 };
typedef struct rc_state { grt_object *o[RC_OBJS]; } rc_state;

static uint64_t rc_pairs(grt_object *const *o, uint64_t n)
{
    uint64_t done = 0;
    while (done < n) {
        for (int r = 0; r < 4; r++) {
            grt_incref(o[0]); grt_incref(o[1]); grt_incref(o[2]); grt_incref(o[3]);
            BENCH_OPAQUE(o);
            grt_decref(o[0]); grt_decref(o[1]); grt_decref(o[2]); grt_decref(o[3]);
            BENCH_OPAQUE(o);
        }
        done += 4 * RC_OBJS;
        grt_safepoint();
    }
    return done;
}

static uint64_t rc_step(bench_thread *t, uint64_t n)
{
    return rc_pairs(((rc_state *)t->state)->o, n);
}

static void rc_thread_teardown(bench_thread *t)
{
    rc_state *s = t->state;
    for (int k = 0; k < RC_OBJS; k++)
        grt_decref(s->o[k]);
    free(s);
    t->state = NULL;
}

/* rc_private: each thread its own objects (in brc the thread owns them). */
static int rc_private_thread_setup(bench_thread *t)
{
    rc_state *s = xcalloc(sizeof *s);
    for (int k = 0; k < RC_OBJS; k++)
        BENCH_CHECK(s->o[k] = grt_int_new(1000000 + RC_OBJS * t->index + k), "grt_int_new");
    t->state = s;
    return 0;
}

/* rc_shared: one mutable object (a list) made by the main thread, used by all. */
static int rc_shared_setup(bench_run *r)
{
    BENCH_CHECK(r->shared = grt_list_new(0), "grt_list_new");
    return 0;
}

static int rc_shared_thread_setup(bench_thread *t)
{
    rc_state *s = xcalloc(sizeof *s);
    for (int k = 0; k < RC_OBJS; k++)
        s->o[k] = grt_newref(t->run->shared);
    t->state = s;
    return 0;
}

static void shared_teardown(bench_run *r) { grt_clear(r->shared); }

/* rc_immortal: None, True, a small int and an interned str. */
static int rc_immortal_thread_setup(bench_thread *t)
{
    rc_state *s = xcalloc(sizeof *s);
    s->o[0] = grt_newref(grt_None);
    s->o[1] = grt_newref(grt_True);
    BENCH_CHECK(s->o[2] = grt_int_new(7), "grt_int_new");
    BENCH_CHECK(s->o[3] = grt_str_intern("__name__"), "grt_str_intern");
    t->state = s;
    return 0;
}

static const bench_workload w_rc_private = {
    .name = "rc_private", .op = "incref+decref pair",
    .summary = "reference counting on thread-private objects (brc's owner fast path)",
    .batch = 16384, .thread_setup = rc_private_thread_setup, .step = rc_step,
    .thread_teardown = rc_thread_teardown,
};

static const bench_workload w_rc_shared = {
    .name = "rc_shared", .op = "incref+decref pair",
    .summary = "every thread counts references to one shared mutable object (contention)",
    .batch = 16384, .setup = rc_shared_setup, .thread_setup = rc_shared_thread_setup,
    .step = rc_step, .thread_teardown = rc_thread_teardown, .teardown = shared_teardown,
};

static const bench_workload w_rc_immortal = {
    .name = "rc_immortal", .op = "incref+decref pair",
    .summary = "reference counting on None, True, a small int, an interned str (PEP 683)",
    .batch = 16384, .thread_setup = rc_immortal_thread_setup, .step = rc_step,
    .thread_teardown = rc_thread_teardown,
};

/* ---- alloc_churn: small tuples and lists born and freed ----------------------------------- */

static uint64_t alloc_churn_step(bench_thread *t, uint64_t n)
{
    grt_object *a = grt_int_new(1), *b = grt_int_new(2);   /* immortal small ints */
    for (uint64_t i = 0; i < n; i++) {
        grt_object *tup = grt_tuple_pack(2, a, b);
        BENCH_CHECK(tup, "grt_tuple_pack");
        grt_object *l = grt_list_new(0);
        BENCH_CHECK(l, "grt_list_new");
        BENCH_CHECK(grt_list_append(l, tup) == 0, "grt_list_append");
        grt_decref(tup);
        grt_decref(l);                      /* frees the list, then the tuple */
        if ((i & 7) == 7)
            grt_safepoint();
    }
    grt_safepoint();
    grt_decref(a);
    grt_decref(b);
    (void)t;
    return n;
}

static const bench_workload w_alloc_churn = {
    .name = "alloc_churn", .op = "a 2-tuple and a 1-item list made and freed",
    .summary = "allocator and tracking churn: short-lived small containers",
    .batch = 2048, .step = alloc_churn_step,
};

/* ---- containers: list and dict operations on thread-private containers ----------------------- */

enum { CT_KEYS = 64 };
typedef struct ct_state {
    grt_object *list, *dict;
    grt_object *keys[CT_KEYS], *vals[CT_KEYS];
    unsigned i;
} ct_state;

static int containers_thread_setup(bench_thread *t)
{
    ct_state *s = xcalloc(sizeof *s);
    BENCH_CHECK(s->list = grt_list_new(0), "grt_list_new");
    BENCH_CHECK(s->dict = grt_dict_new(), "grt_dict_new");
    for (int k = 0; k < CT_KEYS; k++) {
        char name[32];
        snprintf(name, sizeof name, "attr_%d", k);
        BENCH_CHECK(s->keys[k] = grt_str_new(name), "grt_str_new");
        BENCH_CHECK(s->vals[k] = grt_int_new(1000 + k), "grt_int_new");
        BENCH_CHECK(grt_list_append(s->list, s->vals[k]) == 0, "grt_list_append");
        BENCH_CHECK(grt_dict_set(s->dict, s->keys[k], s->vals[k]) == 0, "grt_dict_set");
    }
    t->state = s;
    return 0;
}

/* One block: append, get, dict set, dict get, pop = 5 ops. */
static uint64_t containers_step(bench_thread *t, uint64_t n)
{
    ct_state *s = t->state;
    uint64_t done = 0;
    while (done < n) {
        unsigned k = s->i++ & (CT_KEYS - 1);
        grt_object *v = s->vals[k], *x;
        BENCH_CHECK(grt_list_append(s->list, v) == 0, "grt_list_append");
        BENCH_CHECK(x = grt_list_get(s->list, -1), "grt_list_get");
        grt_decref(x);
        BENCH_CHECK(grt_dict_set(s->dict, s->keys[k], v) == 0, "grt_dict_set");
        BENCH_CHECK(x = grt_dict_get(s->dict, s->keys[(k * 7) & (CT_KEYS - 1)]), "grt_dict_get");
        grt_decref(x);
        BENCH_CHECK(x = grt_list_pop(s->list, -1), "grt_list_pop");
        grt_decref(x);
        done += 5;
        grt_safepoint();
    }
    return done;
}

static void containers_thread_teardown(bench_thread *t)
{
    ct_state *s = t->state;
    grt_decref(s->list);
    grt_decref(s->dict);
    for (int k = 0; k < CT_KEYS; k++) {
        grt_decref(s->keys[k]);
        grt_decref(s->vals[k]);
    }
    free(s);
    t->state = NULL;
}

static const bench_workload w_containers = {
    .name = "containers", .op = "list append/get/pop or dict set/get",
    .summary = "list and dict operations on thread-private containers (per-object locks)",
    .batch = 4000, .thread_setup = containers_thread_setup, .step = containers_step,
    .thread_teardown = containers_thread_teardown,
};

/* ---- object_graph: build a tree, drop the root (cascading deallocation) ---------------------- */

typedef struct graph_state { unsigned made; } graph_state;

static grt_object *graph_build(graph_state *s, int depth)
{
    grt_object *node = grt_tuple_new(2);
    BENCH_CHECK(node, "grt_tuple_new");
    for (int k = 0; k < 2; k++) {
        grt_object *child = depth > 0 ? graph_build(s, depth - 1) : grt_newref(grt_None);
        BENCH_CHECK(grt_tuple_init_item(node, k, child) == 0, "grt_tuple_init_item");
    }
    if ((++s->made & 63) == 0)
        grt_safepoint();
    return node;
}

static int graph_thread_setup(bench_thread *t)
{
    t->state = xcalloc(sizeof(graph_state));
    return 0;
}

static uint64_t graph_step(bench_thread *t, uint64_t n)
{
    int depth = (int)t->run->size;          /* 2^(depth+1) - 1 nodes */
    uint64_t nodes = ((uint64_t)2 << depth) - 1, done = 0;
    while (done < n) {
        grt_object *root = graph_build(t->state, depth);
        grt_decref(root);                    /* the whole tree goes */
        grt_safepoint();
        done += nodes;
    }
    return done;
}

static void graph_thread_teardown(bench_thread *t) { free(t->state); t->state = NULL; }

static const bench_workload w_object_graph = {
    .name = "object_graph", .op = "a tree node (2-tuple) built and freed",
    .summary = "build a binary tree of depth SIZE (default 10), drop the root: cascading deallocation",
    .batch = 4094, .default_size = 10, .thread_setup = graph_thread_setup, .step = graph_step,
    .thread_teardown = graph_thread_teardown,
};

/* ---- mp_vs_mt: the same CPU work in T threads, then in T processes ---------------------------- */

static uint64_t mp_step(bench_thread *t, uint64_t n)
{
    (void)t;
    for (uint64_t i = 0; i < n; i++) {
        grt_object *l = grt_list_new(0);
        BENCH_CHECK(l, "grt_list_new");
        for (int k = 0; k < 8; k++) {
            grt_object *v = grt_int_new(1000 + (int64_t)(i & 255) + k);
            BENCH_CHECK(v, "grt_int_new");
            BENCH_CHECK(grt_list_append(l, v) == 0, "grt_list_append");
            grt_decref(v);
        }
        int64_t sum = 0;
        for (int k = 0; k < 8; k++) {
            grt_object *v = grt_list_get(l, k);
            BENCH_CHECK(v, "grt_list_get");
            sum += grt_int_value(v);
            grt_decref(v);
        }
        BENCH_OPAQUE(&sum);
        grt_decref(l);
        grt_safepoint();
    }
    return n;
}

static const bench_workload w_mp_vs_mt = {
    .name = "mp_vs_mt", .op = "build an 8-int list, sum it, free it",
    .summary = "CPU-bound work in T threads (ops_per_s), then in T forked processes (mp_ops_per_s)",
    .batch = 256, .flags = BENCH_PROCS, .step = mp_step,
};

/* ---- the list ------------------------------------------------------------------------------- */

extern const bench_workload bench_w_cycles, bench_w_gc_pause, bench_w_stw;

const bench_workload *const bench_workloads[] = {
    &w_rc_private, &w_rc_shared, &w_rc_immortal, &w_alloc_churn, &w_containers,
    &w_object_graph, &bench_w_cycles, &bench_w_gc_pause, &bench_w_stw, &w_mp_vs_mt, NULL,
};

const bench_workload *bench_workload_find(const char *name)
{
    for (int i = 0; bench_workloads[i]; i++)
        if (!strcmp(bench_workloads[i]->name, name))
            return bench_workloads[i];
    return NULL;
}
