/*
 * The collector with threads: mutators that create, share and drop cyclic
 * garbage while collections run from any thread (automatic ones at
 * safepoints included) lose nothing and free everything exactly once;
 * cycles whose objects belong to other or exited threads; detached threads
 * do not hold a pause up; weak references raced by dying referents.  Run
 * under ThreadSanitizer for gil, atomic and brc by `make check`.
 */
#include "harness.h"
#include <semaphore.h>

#ifdef GRT_TSAN
#  define MT_ITERS 400
#else
#  define MT_ITERS 3000
#endif

static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

/* ---- four mutators -------------------------------------------------------------------------- */

static const char *const node_slots[] = { "next", "payload", "me", NULL };
static grt_type *Node;
static grt_object *shared;                  /* a list the threads pass objects through */
static uint64_t xnodes_created, xnodes_finalized, xweak_callbacks;

static void node_fin(grt_object *self)
{
    (void)self;
    grt_atomic_inc_64(&xnodes_finalized);
}

static void weak_cb(grt_object *ref, grt_object *data)
{
    (void)ref; (void)data;
    grt_atomic_inc_64(&xweak_callbacks);
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5;
    return *s;
}

static grt_object *new_node(void)
{
    grt_object *n = grt_instance_new(Node);
    grt_atomic_inc_64(&xnodes_created);
    return n;
}

static void mutator(int id, void *arg)
{
    (void)arg;
    uint32_t seed = 0x9e3779b9u * (uint32_t)(id + 1);
    grt_object *mine = grt_list_new(0);     /* weakrefs this thread holds */
    for (int it = 0; it < MT_ITERS; it++) {
        uint32_t r = rng_next(&seed);
        /* a cycle of three: list -> node -> dict -> list */
        grt_object *l = grt_list_new(0), *n = new_node(), *d = grt_dict_new();
        grt_list_append(l, n);
        grt_setattr(n, "next", d);
        grt_dict_set_str(d, "back", l);
        if (r % 4 == 0)
            grt_setattr(n, "me", n);        /* and a self-loop */
        if (r % 8 == 1) {
            grt_object *w = grt_weakref_new(n, weak_cb);
            grt_list_append(mine, w);
            grt_decref(w);
        }
        if (r % 3 == 0)
            grt_list_append(shared, l);     /* hand it to whoever pops it */
        grt_decref(l);
        grt_decref(n);
        grt_decref(d);
        /* drop something another thread shared */
        if (grt_list_len(shared) > 6) {
            grt_object *x = grt_list_pop(shared, 0);
            if (x) {
                grt_object *first = grt_list_get(x, 0);
                if (first) grt_decref(first); else grt_err_clear();
                grt_decref(x);
            } else {
                grt_err_clear();            /* raced to empty */
            }
        }
        /* read a weakref: alive or None, never a dying object */
        int64_t nw = grt_list_len(mine);
        if (nw > 0) {
            grt_object *w = grt_list_get(mine, (int64_t)(r % (uint32_t)nw));
            grt_object *o = grt_weakref_get(w);
            if (o != grt_None && grt_type_of(o) != Node)
                T_FAIL("weakref_get returned a %s", grt_type_name(o));
            grt_decref(o);
            grt_decref(w);
        }
        if (nw > 32)
            grt_list_clear(mine);
        if (it % 97 == 0)
            grt_gc_collect((int)(r % 3));   /* collections from every thread */
        grt_safepoint();                    /* automatic ones, parking for others' */
    }
    grt_decref(mine);
}

TEST_MT(gc_four_mutators_lose_nothing)
{
    /* (the harness initialised the runtime; this case measures from here) */
    int64_t before = live_objects();
    T_EQ(grt_gc_set_threshold(100, 5, 5), 0);
    Node = grt_class_new("Node", node_slots);
    grt_class_set_finalizer(Node, node_fin);
    shared = grt_list_new(0);
    xnodes_created = xnodes_finalized = xweak_callbacks = 0;
    t_run_threads(4, mutator, NULL);
    T_EQ(_grt_gc_check(), 0);               /* every space consistent after the storm */
    grt_list_clear(shared);
    grt_decref(shared);
    grt_decref(&Node->ob_base);
    grt_gc_collect(2);
    grt_gc_collect(2);
    T_EQ(grt_atomic_load_64(&xnodes_created), 4 * MT_ITERS);
    T_EQ(grt_atomic_load_64(&xnodes_finalized), 4 * MT_ITERS);   /* each exactly once */
    T_EQ(live_objects(), before);           /* nodes, lists, dicts, weakrefs, the class */
    grt_gc_stats s;
    grt_gc_get_stats(&s);
    T_GE(s.gen[0].collections, 1);
}

#ifndef GRT_VARIANT_UNSAFE                 /* threads sharing containers: not on unsafe */
TEST_NOINIT(gc_mutators_then_fini_frees_everything)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.gc_threshold[0] = 50;
    T_EQ(grt_init(&cfg), 0);
    Node = grt_class_new("Node", node_slots);
    grt_class_set_finalizer(Node, node_fin);
    shared = grt_list_new(0);
    xnodes_created = xnodes_finalized = 0;
    t_run_threads(4, mutator, NULL);
    /* leave the shared list and whatever it holds to grt_fini */
    grt_decref(&Node->ob_base);
    T_EQ(grt_fini(), 0);
    grt_object_counts c = grt_object_counts_get();
    T_EQ(c.freed, c.allocated);
    T_EQ(c.unreleased, 1);                  /* the shared list */
    T_EQ(grt_atomic_load_64(&xnodes_finalized), grt_atomic_load_64(&xnodes_created));
}
#endif

/* ---- cycles across threads ------------------------------------------------------------------------ */

static grt_object *handoff[4];

static void build_part(int id, void *arg)
{
    (void)arg;
    handoff[id] = grt_list_new(0);          /* owned by this thread, which then exits */
}

TEST_MT(gc_cycle_of_objects_from_exited_threads)
{
    t_run_threads(4, build_part, NULL);
    for (int i = 0; i < 4; i++)             /* a ring through all four */
        grt_list_append(handoff[i], handoff[(i + 1) % 4]);
    int64_t before = live_objects();
    for (int i = 0; i < 4; i++)
        grt_decref(handoff[i]);             /* non-owner decrefs (brc: queued or merged) */
    T_EQ(live_objects(), before);
    T_EQ(grt_gc_collect(2), 4);
    T_EQ(live_objects(), before - 4);
}

static sem_t built, dropped;
static grt_object *ring_part;

static void *hold_then_drop(void *arg)
{
    (void)arg;
    ring_part = grt_list_new(0);
    sem_post(&built);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&dropped);
    GRT_END_ALLOW_THREADS;
    return NULL;
}

TEST_MT(gc_cycle_through_a_live_owner_is_collected_from_another_thread)
{
    /* brc: the collector reads counts owned by a thread that is detached */
    sem_init(&built, 0, 0);
    sem_init(&dropped, 0, 0);
    pthread_t t;
    T_EQ(grt_thread_start(&t, hold_then_drop, NULL), 0);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&built);
    GRT_END_ALLOW_THREADS;
    grt_object *mine = grt_list_new(0);
    grt_list_append(mine, ring_part);
    grt_list_append(ring_part, mine);
    grt_decref(mine);
    int64_t before = live_objects();
    grt_decref(ring_part);                  /* a non-owner dropping the owner's reference */
    T_EQ(grt_gc_collect(2), 2);
    T_EQ(live_objects(), before - 2);
    sem_post(&dropped);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    GRT_END_ALLOW_THREADS;
}

/* ---- stop-the-world ------------------------------------------------------------------------------- */

static uint32_t xstop_spinning, xspins;

static void *spin_at_safepoints(void *arg)
{
    (void)arg;
    while (!grt_atomic_load_32(&xstop_spinning)) {
        grt_object *l = grt_list_new(0);    /* keep touching objects */
        grt_list_append(l, l);
        grt_decref(l);
        grt_atomic_add_32(&xspins, 1);
        grt_safepoint();
    }
    return NULL;
}

TEST_MT(gc_pauses_park_running_threads_and_record_times)
{
    grt_gc_disable();                       /* only our collections */
    pthread_t t[2];
    xstop_spinning = xspins = 0;
    for (int i = 0; i < 2; i++)
        T_EQ(grt_thread_start(&t[i], spin_at_safepoints, NULL), 0);
    while (grt_atomic_load_32(&xspins) < 100) {
        GRT_BEGIN_ALLOW_THREADS
        sched_yield();
        GRT_END_ALLOW_THREADS;
    }
    for (int i = 0; i < 5; i++) {
        T_GE(grt_gc_collect(i % 3), 0);
        GRT_BEGIN_ALLOW_THREADS             /* let the spinners run between pauses */
        sched_yield();
        GRT_END_ALLOW_THREADS;
    }
    grt_atomic_store_32(&xstop_spinning, 1);
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    GRT_END_ALLOW_THREADS;
    grt_gc_stats s;
    grt_gc_get_stats(&s);
    T_GE(s.tts_max_ns, s.tts_last_ns);
    T_GE(s.pause_max_ns, s.pause_last_ns);
    if (grt_gil_enabled())
        T_EQ(s.pause_max_ns, 0);            /* the GIL excludes them: no pause needed */
    else
        T_GE(s.pause_last_ns, s.tts_last_ns);
    grt_gc_collect(2);                      /* the spinners' garbage */
    grt_gc_enable();
}

static sem_t blocked, release_blocked;

static void *attach_then_block(void *arg)
{
    (void)arg;
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    sem_post(&blocked);
    GRT_BEGIN_ALLOW_THREADS                 /* a blocking call: detached */
    sem_wait(&release_blocked);
    GRT_END_ALLOW_THREADS;
    return NULL;
}

TEST_MT(gc_detached_threads_do_not_hold_up_a_collection)
{
    sem_init(&blocked, 0, 0);
    sem_init(&release_blocked, 0, 0);
    pthread_t t;
    T_EQ(grt_thread_start(&t, attach_then_block, NULL), 0);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&blocked);
    GRT_END_ALLOW_THREADS;
    /* the other thread sits in a blocking call: the pause must not wait for it */
    T_EQ(grt_gc_collect(2), 1);             /* its garbage, too */
    T_EQ(grt_gc_collect(0), 0);
    sem_post(&release_blocked);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    GRT_END_ALLOW_THREADS;
}

/* ---- weakrefs raced by dying referents --------------------------------------------------------------- */

enum { WR_N = 64 };
static grt_object *wr_refs[WR_N];
static grt_object *wr_objs;                 /* list: the referents */

static void weak_reader(int id, void *arg)
{
    (void)arg;
    uint32_t seed = 77u + (uint32_t)id;
    for (int it = 0; it < MT_ITERS; it++) {
        uint32_t r = rng_next(&seed);
        if (id == 0 && it % 4 == 0 && grt_list_len(wr_objs) > 0) {
            grt_object *x = grt_list_pop(wr_objs, -1);  /* kill a referent */
            if (x) grt_decref(x); else grt_err_clear();
        }
        grt_object *o = grt_weakref_get(wr_refs[r % WR_N]);
        if (o != grt_None && grt_type_of(o) != Node)
            T_FAIL("weakref_get returned a %s", grt_type_name(o));
        grt_decref(o);                      /* may be the last reference */
        grt_safepoint();
    }
}

TEST_MT(gc_weakref_get_races_with_dying_referents)
{
    Node = grt_class_new("Node", node_slots);
    xweak_callbacks = 0;
    wr_objs = grt_list_new(0);
    for (int i = 0; i < WR_N; i++) {
        grt_object *n = grt_instance_new(Node);
        wr_refs[i] = grt_weakref_new(n, weak_cb);
        grt_list_append(wr_objs, n);
        grt_decref(n);
    }
    t_run_threads(4, weak_reader, NULL);
    grt_safepoint();                        /* brc: merge what was queued to us meanwhile */
    grt_list_clear(wr_objs);
    grt_decref(wr_objs);
    for (int i = 0; i < WR_N; i++) {
        grt_object *o = grt_weakref_get(wr_refs[i]);
        T_EQ_PTR(o, grt_None);              /* every referent died */
        grt_decref(o);
        grt_decref(wr_refs[i]);
    }
    T_EQ(grt_atomic_load_64(&xweak_callbacks), WR_N);   /* each callback exactly once */
    grt_decref(&Node->ob_base);
}
