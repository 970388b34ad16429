/*
 * The collector's bulk paths (gc/collect.c, gc/space.c, gc/gc_internal.h):
 * what its speed work relies on, checked with exact counts.
 *
 *   - a full collection whose survivors are reached ahead of the mark walk,
 *     more of them than the mark stack holds (the REACHABLE fallback);
 *   - garbage spread over many table segments, freed exactly;
 *   - garbage that tp_clear cannot free (a type without tp_clear) is left
 *     over, moved to the oldest generation with clean headers, and found
 *     again by the next collection;
 *   - the inline free path's count (generation 0 never goes below zero);
 *   - segments given back by a collection are reused, and the table is
 *     still consistent after the pool is trimmed.
 *
 * _grt_gc_check() (gc/invariants.c) after each collection: every slot
 * points at its object, tags match, no scratch bit is left.
 */
#include "harness.h"
#include "../gc/gc_impl.h"

static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

static int64_t count0(void)
{
    int64_t c[3];
    grt_gc_get_count(c);
    return c[0];
}

/* ---- a container type without tp_clear -------------------------------------------------- */

typedef struct noclear {
    grt_object ob_base;
    grt_object *ref;                    /* owned, may be NULL */
} noclear;

static int noclear_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    noclear *n = (noclear *)self;
    return n->ref ? visit(n->ref, arg) : 0;
}

static void noclear_dealloc(grt_object *self)
{
    grt_xdecref(((noclear *)self)->ref);
    _grt_object_free(self);
}

static grt_type noclear_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "noclear",
    .tp_basicsize = sizeof(noclear),
    .tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_STATIC,
    .tp_dealloc = noclear_dealloc,
    .tp_traverse = noclear_traverse,
};

static grt_object *noclear_new(void)
{
    grt_object *o = _grt_object_alloc(&noclear_type, sizeof(noclear));
    _grt_gc_track(o);
    return o;
}

/* ---- cases -------------------------------------------------------------------------------- */

/* holder -> N lists [m_i], each m_i an empty list: the walk meets holder
 * first, whose traversal reaches every outer list ahead of the walk, more
 * than the mark stack takes; all of it survives, every time. */
TEST(gc_full_collection_reaches_more_than_the_mark_stack_holds)
{
    enum { N = 70000 };
    int64_t before = live_objects();
    grt_object *holder = grt_list_new(0);
    for (int i = 0; i < N; i++) {
        grt_object *m = grt_list_new(0), *l = grt_list_new(0);
        T_EQ(grt_list_append(l, m), 0);
        T_EQ(grt_list_append(holder, l), 0);
        grt_decref(m);
        grt_decref(l);
    }
    T_EQ(live_objects(), before + 1 + 2 * N);
    for (int round = 0; round < 3; round++) {
        T_EQ(grt_gc_collect(2), 0);
        T_EQ(_grt_gc_check(), 0);
        grt_object *objs = grt_gc_get_objects(2);
        T_NOT_NULL(objs);
        T_EQ(grt_list_len(objs), 1 + 2 * N);
        grt_decref(objs);
        T_EQ(live_objects(), before + 1 + 2 * N);
    }
    /* every object is still whole: each outer list holds its inner one */
    grt_object *l = grt_list_get(holder, N - 1);
    T_EQ(grt_list_len(l), 1);
    grt_decref(l);
    /* now all of it is garbage, behind a self-reference */
    T_EQ(grt_list_append(holder, holder), 0);
    grt_decref(holder);
    T_EQ(grt_gc_collect(2), 1 + 2 * N);
    T_EQ(live_objects(), before);
    T_EQ(_grt_gc_check(), 0);
}

/* Many two-list cycles, over several segments of the table (1022 slots
 * each), next to survivors: exactly the cycles go. */
TEST(gc_many_cycles_freed_exactly_among_survivors)
{
    enum { PAIRS = 5000 };
    grt_gc_collect(2);
    int64_t before = live_objects();
    grt_object *keep = grt_list_new(0);
    for (int i = 0; i < PAIRS; i++) {
        grt_object *a = grt_list_new(0), *b = grt_list_new(0);
        T_EQ(grt_list_append(a, b), 0);
        T_EQ(grt_list_append(b, a), 0);
        if (i % 10 == 0)
            T_EQ(grt_list_append(keep, a), 0);      /* this pair survives */
        grt_decref(a);
        grt_decref(b);
    }
    T_EQ(grt_gc_collect(2), 2 * (PAIRS - PAIRS / 10));
    T_EQ(live_objects(), before + 1 + 2 * (PAIRS / 10));
    T_EQ(_grt_gc_check(), 0);
    T_EQ(grt_gc_collect(2), 0);
    grt_decref(keep);
    T_EQ(grt_gc_collect(2), 2 * (PAIRS / 10));
    T_EQ(live_objects(), before);
    T_EQ(_grt_gc_check(), 0);
}

/* Two objects that refer to each other and have no tp_clear: found
 * unreachable (and counted, as CPython counts them), but nothing can free
 * them, so they stay, tracked in generation 2 with clean headers, among
 * cycles that are freed in the same collection. */
TEST(gc_garbage_without_tp_clear_is_left_over)
{
    grt_gc_collect(2);
    int64_t before = live_objects();
    grt_object *a = noclear_new(), *b = noclear_new();
    ((noclear *)a)->ref = grt_newref(b);
    ((noclear *)b)->ref = grt_newref(a);
    for (int i = 0; i < 100; i++) {                 /* freed around them */
        grt_object *x = grt_list_new(0);
        T_EQ(grt_list_append(x, x), 0);
        grt_decref(x);
    }
    grt_decref(a);
    grt_decref(b);
    T_EQ(grt_gc_collect(2), 2 + 100);
    T_EQ(live_objects(), before + 2);
    T_TRUE(grt_gc_is_tracked(a));
    T_TRUE(grt_gc_is_tracked(b));
    T_EQ(_grt_gc_check(), 0);                       /* generation 2's tag, no scratch */
    grt_object *objs = grt_gc_get_objects(2);
    T_EQ(grt_list_len(objs), 2);
    grt_decref(objs);
    T_EQ(grt_gc_collect(0), 0);                     /* not young any more */
    T_EQ(grt_gc_collect(2), 2);                     /* found again, left again */
    T_EQ(live_objects(), before + 2);
    /* break the cycle by hand: both go by refcount */
    grt_object *r = ((noclear *)a)->ref;
    ((noclear *)a)->ref = NULL;
    grt_decref(r);
    T_EQ(live_objects(), before);
    T_EQ(_grt_gc_check(), 0);
}

/* The free path counts as gc_count_add(-1) did: down by one per container
 * freed, never below zero, whatever the thread's unflushed delta. */
TEST(gc_count_of_frees_stops_at_zero)
{
    enum { N = 100 };                               /* > the flush threshold, 32 */
    grt_object *l[N];
    for (int i = 0; i < N; i++)
        l[i] = grt_list_new(0);
    T_EQ(count0(), N);
    for (int i = 0; i < N / 2; i++)
        grt_decref(l[i]);
    T_EQ(count0(), N / 2);
    grt_gc_collect(0);                              /* the survivors are old now */
    T_EQ(count0(), 0);
    for (int i = N / 2; i < N; i++)
        grt_decref(l[i]);                           /* frees of old objects */
    T_EQ(count0(), 0);
    grt_object *x = grt_list_new(0), *y = grt_list_new(0);
    T_EQ(count0(), 2);
    grt_decref(x);
    grt_decref(y);
    T_EQ(count0(), 0);
}

/* A collection that frees most of a big young space gives its segments
 * back; the next heap reuses them, and the tables stay consistent across
 * the pool's trimming. */
TEST(gc_segments_given_back_are_reused)
{
    int64_t before = live_objects();
    for (int round = 0; round < 3; round++) {
        grt_object *keep = grt_list_new(0);
        for (int i = 0; i < 20000; i++) {
            grt_object *x = grt_list_new(0);
            T_EQ(grt_list_append(x, x), 0);
            if (i % 1000 == 0)
                T_EQ(grt_list_append(keep, x), 0);
            grt_decref(x);
        }
        T_EQ(grt_gc_collect(0), 20000 - 20);
        T_EQ(_grt_gc_check(), 0);
        grt_decref(keep);
        T_EQ(grt_gc_collect(2), 20);
        T_EQ(_grt_gc_check(), 0);
        T_EQ(live_objects(), before);
    }
}

/* ---- holes in the young table (gc/space.c) --------------------------------- */

static int64_t segs_used(void)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    int64_t n = gc_rt.nsegs_used;
    pthread_mutex_unlock(&gc_rt.space_lock);
    return n;
}

static int64_t gen0_collections(void)
{
    grt_gc_stats st;
    T_EQ(grt_gc_get_stats(&st), 0);
    return st.gen[0].collections;
}

/* Temporaries made and dropped in LIFO order give their slots back: the
 * table does not grow, and no collection is needed. */
TEST(gc_lifo_churn_does_not_grow_the_table)
{
    grt_object *a = grt_int_new(1), *b = grt_int_new(2);
    int64_t segs = segs_used(), cols = gen0_collections();
    for (int i = 0; i < 300000; i++) {
        grt_object *t = grt_tuple_pack(2, a, b), *l = grt_list_new(0);
        T_NOT_NULL(t);
        T_NOT_NULL(l);
        T_EQ(grt_list_append(l, t), 0);
        grt_decref(t);
        grt_decref(l);
        grt_safepoint();
    }
    T_LE(segs_used() - segs, 1);
    T_EQ(gen0_collections(), cols);
    T_EQ(_grt_gc_check(), 0);
    grt_decref(a);
    grt_decref(b);
}

/* A FIFO queue of containers keeps the generation-0 count low while its
 * holes pile up: the young space asks for a collection once it has grown by
 * GC_YOUNG_SEGS_MAX segments, so the table stays bounded. */
TEST(gc_fifo_churn_is_compacted)
{
    enum { QUEUE = 100, ROUNDS = 300000 };
    grt_object *q[QUEUE] = { 0 };
    int64_t segs = segs_used(), cols = gen0_collections(), peak = 0;
    for (int i = 0; i < ROUNDS; i++) {
        grt_xdecref(q[i % QUEUE]);
        T_NOT_NULL(q[i % QUEUE] = grt_list_new(0));
        grt_safepoint();
        int64_t s = segs_used() - segs;
        if (s > peak) peak = s;
    }
    for (int k = 0; k < QUEUE; k++) grt_decref(q[k]);
    T_GE(gen0_collections() - cols, ROUNDS / (GC_YOUNG_SEGS_MAX * GC_SEG_SLOTS));
    T_LE(peak, 2 * GC_YOUNG_SEGS_MAX + 4);
    T_EQ(_grt_gc_check(), 0);
}
