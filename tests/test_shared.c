/*
 * Four threads share objects: increfs and decrefs from non-owners, containers
 * handed between threads, owners exiting before the objects they created.
 * Run on atomic and brc (and gil, with its GIL) and under TSan.
 */
#include "harness.h"

#define NTHREADS 4
#define ROUNDS 2000

static grt_object *mailbox[NTHREADS];   /* thread i posts to mailbox[i], i+1 takes */
static grt_object *commons;             /* a list every thread appends to */
static grt_object *registry;            /* a dict every thread writes */
static grt_object *shared_str;          /* one object everyone increfs/decrefs */

static void worker(int id, void *arg)
{
    (void)arg;
    char key[32];
    for (int r = 0; r < ROUNDS; r++) {
        /* create a small container, hand it to the next thread */
        grt_object *box = grt_list_new(0);
        grt_object *v = grt_int_new(1000000 + id * ROUNDS + r);
        grt_list_append(box, v);
        grt_list_append(box, shared_str);
        grt_decref(v);
        /* only thread id pops mailbox[id]; others only append to it */
        grt_object *prev = grt_list_len(mailbox[id]) > 0 ? grt_list_pop(mailbox[id], -1) : NULL;
        grt_list_append(mailbox[(id + 1) % NTHREADS], box);
        grt_decref(box);
        /* take what the previous thread left, and drop it (a non-owner decref) */
        grt_xdecref(prev);
        /* shared containers */
        grt_incref(shared_str);
        grt_list_append(commons, shared_str);
        snprintf(key, sizeof key, "t%d-%d", id, r % 50);
        grt_object *k = grt_str_new(key);
        grt_dict_set(registry, k, shared_str);
        grt_decref(k);
        grt_decref(shared_str);
        if ((r & 63) == 0) grt_safepoint();
    }
}

TEST_MT(four_threads_share_objects)
{
    grt_object_counts c0 = grt_object_counts_get();
    for (int i = 0; i < NTHREADS; i++) mailbox[i] = grt_list_new(0);
    commons = grt_list_new(0);
    registry = grt_dict_new();
    shared_str = grt_str_new("shared by all");
    t_run_threads(NTHREADS, worker, NULL);
    grt_safepoint();                    /* merge anything queued to us */
    T_EQ(grt_list_len(commons), NTHREADS * ROUNDS);
    T_EQ(grt_dict_len(registry), NTHREADS * 50);
    /* shared_str: ours + commons + registry values + each box still in a mailbox */
    int64_t boxes = 0;
    for (int i = 0; i < NTHREADS; i++) boxes += grt_list_len(mailbox[i]);
    T_EQ(grt_refcnt(shared_str), 1 + NTHREADS * ROUNDS + NTHREADS * 50 + boxes);
    for (int i = 0; i < NTHREADS; i++) grt_clear(mailbox[i]);
    grt_clear(commons);
    grt_clear(registry);
    T_EQ(grt_refcnt(shared_str), 1);
    grt_clear(shared_str);
    grt_safepoint();
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.freed - c0.freed, c1.allocated - c0.allocated);   /* nothing leaked */
}

/* Owners exit first: objects created by short-lived threads outlive them and
 * are released by the main thread. */
static grt_object *orphans;
static void make_orphans(int id, void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        grt_object *l = grt_list_new(0);
        grt_object *s = grt_str_new("orphan");
        grt_list_append(l, s);
        grt_list_append(orphans, l);
        grt_decref(s);
        grt_decref(l);
        if (i % 100 == 0) grt_safepoint();
    }
    (void)id;
}

TEST_MT(objects_outlive_their_owner_threads)
{
    grt_object_counts c0 = grt_object_counts_get();
    orphans = grt_list_new(0);
    t_run_threads(NTHREADS, make_orphans, NULL);
    T_EQ(grt_list_len(orphans), NTHREADS * 500);
    t_run_threads(NTHREADS, make_orphans, NULL);   /* new owners, same list */
    grt_clear(orphans);
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, 1 + 2 * NTHREADS * 500 * 2);
    T_EQ(c1.freed - c0.freed, c1.allocated - c0.allocated);
}
