/*
 * The per-object lock of the GIL-off builds (runtime/lock.h): mutual
 * exclusion under contention, and a waiter that outlasts the spinning and
 * yielding and must come back from its timed futex sleeps on its own (a
 * release wakes nobody).  Then biased locks (runtime/lock.c): the creator
 * locks without writing the word; another thread revokes with a pause, also
 * while the owner runs the same operations or is detached; an exited
 * owner's bias is dropped without a pause; a producer stops biasing after
 * 16 revocations; grt_list_extend revokes before it holds its first lock;
 * the collector clears a live owner's garbage without revoking.
 * In gil and unsafe the lock compiles away: nothing to test there.
 */
#include "harness.h"
#include "lock.h"
#include <time.h>

#ifdef GRT_FREE_THREADING

#define LOCK_THREADS 4
#define LOCK_ROUNDS 20000

static grt_lock counter_lock;
static int64_t counter;                 /* plain: only ever touched under the lock */

static void bump(int id, void *arg)
{
    (void)id; (void)arg;
    for (int r = 0; r < LOCK_ROUNDS; r++) {
        grt_lock_acquire(&counter_lock);
        int64_t v = counter;            /* a read-modify-write another holder would tear: */
        for (int k = 0; k < 8; k++)     /* held a while, so that without the lock */
            grt_atomic_pause();         /* updates would surely be lost */
        counter = v + 1;
        grt_lock_release(&counter_lock);
    }
}

TEST_MT(lock_excludes_contending_threads)
{
    t_run_threads(LOCK_THREADS, bump, NULL);
    T_EQ(counter, (int64_t)LOCK_THREADS * LOCK_ROUNDS);
    T_EQ(grt_atomic_load_32(&counter_lock.xv), 0);     /* left free */
}

static grt_lock slow_lock;
static uint32_t held;                   /* atomic: thread 0 holds slow_lock */
static int64_t written;                 /* under slow_lock */
static int64_t seen;

static void hold_long(int id, void *arg)
{
    (void)arg;
    if (id == 0) {
        grt_lock_acquire(&slow_lock);
        grt_atomic_store_32_rel(&held, 1);
        /* long enough for the waiter to spin, yield and sleep several times */
        struct timespec t = { 0, 30 * 1000 * 1000 };
        nanosleep(&t, NULL);
        written = 42;
        grt_lock_release(&slow_lock);
    } else {
        while (!grt_atomic_load_32_acq(&held))
            grt_atomic_pause();
        grt_lock_acquire(&slow_lock);   /* held: the slow path, all of it */
        seen = written;
        grt_lock_release(&slow_lock);
    }
}

TEST_MT(lock_waiter_returns_after_a_long_hold)
{
    t_run_threads(2, hold_long, NULL);
    T_EQ(seen, 42);                     /* it got the lock, and after the holder's write */
    T_EQ(grt_atomic_load_32(&slow_lock.xv), 0);
}

/* ---- biased locks ----------------------------------------------------------------------- */

static grt_list *as_list(grt_object *o) { return (grt_list *)o; }
static uint32_t word_of(grt_object *o) { return grt_atomic_load_32(&GRT_LOCK_OF(as_list(o))->xv); }

TEST_MT(lock_bias_creator_locks_without_writing_the_word)
{
    grt_object *l = grt_list_new(0), *d = grt_dict_new(), *k = grt_str_new("k");
    uint32_t mine = _grt_lock_bias_word(grt_thread_id());
    T_EQ(word_of(l), mine);
    for (int i = 0; i < 100; i++)
        T_EQ(grt_list_append(l, grt_None), 0);
    T_EQ(grt_dict_set(d, k, l), 0);
    T_EQ(word_of(l), mine);             /* still biased: nothing was stored */
    T_EQ(grt_list_len(l), 100);
    T_EQ(grt_lock_counts_get().revoked, 0);
    grt_decref(k); grt_decref(d); grt_decref(l);
}

enum { BIAS_OPS = 20000 };
static grt_object *bias_list;
static uint32_t bias_ready, bias_done;

/* Thread 0 makes the list and appends; thread 1 starts appending as soon as
 * it exists, so the revocation meets an owner in the middle of its own
 * biased appends.  A revocation that did not stop the owner would lose
 * appends here (and ThreadSanitizer would report the race). */
static void bias_both_append(int id, void *arg)
{
    (void)arg;
    if (id == 0) {
        bias_list = grt_list_new(0);
        grt_atomic_store_32_rel(&bias_ready, 1);
    } else {
        while (!grt_atomic_load_32_acq(&bias_ready))
            grt_safepoint();
    }
    for (int i = 0; i < BIAS_OPS; i++) {
        if (grt_list_append(bias_list, grt_None) != 0)
            T_FAIL("append: %s", grt_err_message());
        if ((i & 15) == 0)
            grt_safepoint();
    }
    /* the owner stays registered until both are done: a live bias, revoked */
    grt_atomic_faa_32(&bias_done, 1);
    while (grt_atomic_load_32_acq(&bias_done) != 2)
        grt_safepoint();
}

TEST_MT(lock_bias_revoked_while_the_owner_appends)
{
    uint64_t pauses = _grt_rt.stw_count;
    t_run_threads(2, bias_both_append, NULL);
    T_EQ(grt_list_len(bias_list), 2 * BIAS_OPS);
    T_EQ(word_of(bias_list), 0);        /* an ordinary lock now, and free */
    T_EQ(grt_lock_counts_get().revoked, 1);
    T_EQ(grt_lock_counts_get().stale, 0);
    T_GE(_grt_rt.stw_count, pauses + 1);
    grt_decref(bias_list);
}

static void append_to_shared(int id, void *arg)
{
    (void)id;
    for (int i = 0; i < BIAS_OPS; i++)
        if (grt_list_append((grt_object *)arg, grt_None) != 0)
            T_FAIL("append: %s", grt_err_message());
}

/* The owner (this thread) is detached in t_run_threads' joins: the pause
 * suspends it instead of waiting for it. */
TEST_MT(lock_bias_revoked_from_a_detached_owner)
{
    grt_object *l = grt_list_new(0);
    t_run_threads(3, append_to_shared, l);
    T_EQ(grt_list_len(l), 3 * BIAS_OPS);
    T_EQ(grt_lock_counts_get().revoked, 1);
    T_EQ(grt_list_append(l, grt_None), 0);      /* the owner takes it as an ordinary lock */
    T_EQ(word_of(l), 0);
    grt_decref(l);
}

static void make_list(int id, void *arg)
{
    (void)id;
    *(grt_object **)arg = grt_list_new(0);
}

TEST_MT(lock_bias_of_an_exited_thread_is_dropped_without_a_pause)
{
    grt_object *l = NULL;
    t_run_threads(1, make_list, &l);    /* the maker has exited */
    T_TRUE(word_of(l) & GRT_LOCK_BIASED);
    uint64_t pauses = _grt_rt.stw_count;
    T_EQ(grt_list_append(l, grt_None), 0);
    T_EQ(_grt_rt.stw_count, pauses);
    grt_lock_counts c = grt_lock_counts_get();
    T_EQ(c.revoked, 0);
    T_EQ(c.stale, 1);
    T_EQ(word_of(l), 0);
    grt_decref(l);
}

enum { PRODUCED = 40 };
static grt_object *produced[PRODUCED + 1];
static uint32_t produce_state;          /* 1: made; 2: consumed; 3: made one more */

/* Thread 0 produces lists and stays registered (a live owner); thread 1
 * locks every one of them. */
static void producer_consumer(int id, void *arg)
{
    (void)arg;
    if (id == 0) {
        for (int i = 0; i < PRODUCED; i++)
            produced[i] = grt_list_new(0);
        grt_atomic_store_32_rel(&produce_state, 1);
        while (grt_atomic_load_32_acq(&produce_state) != 2)
            grt_safepoint();            /* where the pauses find it */
        produced[PRODUCED] = grt_list_new(0);
        grt_atomic_store_32_rel(&produce_state, 3);
    } else {
        while (grt_atomic_load_32_acq(&produce_state) != 1)
            grt_safepoint();
        for (int i = 0; i < PRODUCED; i++)
            T_EQ(grt_list_append(produced[i], grt_None), 0);
        grt_atomic_store_32_rel(&produce_state, 2);
        while (grt_atomic_load_32_acq(&produce_state) != 3)
            grt_safepoint();
    }
}

TEST_MT(lock_bias_producer_stops_biasing_after_16_revocations)
{
    t_run_threads(2, producer_consumer, NULL);
    grt_lock_counts c = grt_lock_counts_get();
    T_EQ(c.revoked, 16);                /* the 17th and later were stale by then */
    T_EQ(c.stale, PRODUCED - 16);
    T_EQ(c.unbiased_threads, 1);
    T_EQ(word_of(produced[PRODUCED]), 0);      /* made after: an ordinary lock */
    for (int i = 0; i <= PRODUCED; i++) {
        T_EQ(grt_list_len(produced[i]), i < PRODUCED);
        grt_decref(produced[i]);
    }
}

/* extend(mine, theirs) locks both; theirs is revoked before either is held
 * (a pause cannot wait for a thread that holds a lock). */
static void extend_from_theirs(int id, void *arg)
{
    (void)id;
    grt_object *mine = grt_list_new(0);
    for (int i = 0; i < 100; i++)
        T_EQ(grt_list_extend(mine, (grt_object *)arg), 0);
    T_EQ(grt_list_len(mine), 300);
    grt_decref(mine);
}

TEST_MT(lock_bias_extend_revokes_before_locking)
{
    grt_object *theirs = grt_list_new(3);
    t_run_threads(2, extend_from_theirs, theirs);
    T_EQ(grt_lock_counts_get().revoked, 1);
    grt_decref(theirs);
}


/* The collector clears a live thread's garbage with the world stopped: it
 * takes the garbage's locks as they are, biased to their maker, and charges
 * nobody a revocation (a revocation needs a pause, and this is one). */
static uint32_t gc_stage;               /* 1: garbage made; 2: collected */
static int64_t gc_found;
static grt_lock_counts gc_counts;

static void garbage_then_collect(int id, void *arg)
{
    (void)arg;
    if (id == 0) {
        /* a dict: its tp_clear takes the lock (a list's skips it) */
        grt_object *d = grt_dict_new(), *k = grt_str_new("self");
        T_EQ(grt_dict_set(d, k, d), 0);         /* biased to this thread */
        grt_decref(k);
        grt_decref(d);                          /* only the cycle holds it */
        grt_atomic_store_32_rel(&gc_stage, 1);
        while (grt_atomic_load_32_acq(&gc_stage) != 2)
            grt_safepoint();                    /* registered, a live owner */
    } else {
        while (grt_atomic_load_32_acq(&gc_stage) != 1)
            grt_safepoint();
        gc_found = grt_gc_collect(2);
        gc_counts = grt_lock_counts_get();
        grt_atomic_store_32_rel(&gc_stage, 2);
    }
}

TEST_MT(lock_bias_collector_clears_a_live_owners_garbage_without_revoking)
{
    grt_gc_collect(2);                  /* nothing of earlier tests left */
    uint64_t pauses = _grt_rt.stw_count;
    t_run_threads(2, garbage_then_collect, NULL);
    T_EQ(gc_found, 1);
    T_EQ(gc_counts.revoked, 0);
    T_EQ(gc_counts.stale, 0);
    T_EQ(_grt_rt.stw_count, pauses + 1);        /* the collection's own */
}

#endif
