/*
 * Biased reference counting (atomics/rc_biased.h): the owner's fast path,
 * the non-owner path, queueing below zero, merging at the owner's safepoint,
 * frees by non-owners, and owners that exit first.
 */
#include "harness.h"

#ifdef GRT_VARIANT_BRC
#include <semaphore.h>

static uint32_t local_of(grt_object *o) { return grt_atomic_load_32(&o->xob_ref_local); }
static uint32_t shared_word(grt_object *o) { return grt_atomic_load_32(&o->xob_ref_shared); }
static int32_t shared_count(grt_object *o) { return _grt_brc_count(shared_word(o)); }
static uint32_t state_of(grt_object *o) { return shared_word(o) & GRT_BRC_STATE_MASK; }
static uint32_t owner_of(grt_object *o) { return grt_atomic_load_32(&o->xob_tid); }

TEST(header_layout)
{
    T_EQ(sizeof(grt_object), 24);
    T_EQ(grt_object_header_size(), 24);
    T_EQ(offsetof(grt_object, ob_type), 16);
}

TEST(owner_fast_path_is_local)
{
    grt_object *o = grt_str_new("owned");
    T_EQ(owner_of(o), grt_thread_id());
    T_EQ(local_of(o), 1);
    grt_incref(o);
    grt_incref(o);
    T_EQ(local_of(o), 3);
    T_EQ(shared_word(o), 0);               /* the owner never touched shared */
    grt_decref(o);
    grt_decref(o);
    T_EQ(grt_refcnt(o), 1);
    grt_decref(o);
}

/* Work handed to a second thread, one step at a time. */
static grt_object *handed;
static void (*step_fn)(void);
static void nonowner_incref(void) { grt_incref(handed); }
static void nonowner_decref(void) { grt_decref(handed); }
static void run_step(int i, void *arg) { (void)i; (void)arg; step_fn(); }
static void as_other_thread(void (*fn)(void)) { step_fn = fn; t_run_threads(1, run_step, NULL); }

TEST_MT(nonowner_incref_goes_to_shared)
{
    handed = grt_str_new("shared");
    as_other_thread(nonowner_incref);
    T_EQ(local_of(handed), 1);
    T_EQ(shared_count(handed), 1);
    T_EQ(state_of(handed), GRT_BRC_DEFAULT);
    T_EQ(grt_refcnt(handed), 2);
    as_other_thread(nonowner_decref);
    T_EQ(shared_word(handed), 0);
    grt_decref(handed);
}

TEST_MT(nonowner_decref_below_zero_queues_then_owner_merges)
{
    grt_object_counts c0 = grt_object_counts_get();
    handed = grt_str_new("queued");
    grt_incref(handed);                    /* owner: local 2, one reference handed over */
    as_other_thread(nonowner_decref);      /* the other thread drops it */
    T_EQ(state_of(handed), GRT_BRC_QUEUED);
    T_EQ(shared_count(handed), 0);         /* the queue holds that reference */
    T_EQ(local_of(handed), 2);
    T_EQ(owner_of(handed), grt_thread_id());
    grt_safepoint();                       /* the owner merges */
    T_EQ(state_of(handed), GRT_BRC_MERGED);
    T_EQ(owner_of(handed), 0);
    T_EQ(local_of(handed), 0);
    T_EQ(shared_count(handed), 1);
    T_EQ(grt_refcnt(handed), 1);
    grt_decref(handed);                    /* now a shared-path decref: frees */
    T_EQ(grt_object_counts_get().freed - c0.freed, 1);
}

TEST_MT(negative_shared_count_merges_to_true_count)
{
    handed = grt_str_new("negative");
    grt_incref(handed); grt_incref(handed); grt_incref(handed);   /* local 4 */
    as_other_thread(nonowner_decref);      /* queued, count 0 */
    as_other_thread(nonowner_decref);      /* -1 */
    as_other_thread(nonowner_decref);      /* -2 */
    T_EQ(shared_count(handed), -2);
    T_EQ(state_of(handed), GRT_BRC_QUEUED);
    T_EQ(grt_refcnt(handed), 2);           /* 4 local - 2; the queue's is in local */
    grt_safepoint();
    T_EQ(grt_refcnt(handed), 1);
    T_EQ(state_of(handed), GRT_BRC_MERGED);
    grt_decref(handed);
}

TEST_MT(owner_drops_last_local_reference_first)
{
    grt_object_counts c0 = grt_object_counts_get();
    handed = grt_str_new("given away");
    as_other_thread(nonowner_incref);      /* shared 1 */
    grt_decref(handed);                    /* local 1 -> 0: give up ownership */
    T_EQ(owner_of(handed), 0);
    T_EQ(state_of(handed), GRT_BRC_MERGED);
    T_EQ(grt_refcnt(handed), 1);
    T_EQ(grt_object_counts_get().freed - c0.freed, 0);
    as_other_thread(nonowner_decref);      /* a free from a non-owner thread */
    T_EQ(grt_object_counts_get().freed - c0.freed, 1);
}

/* The owner exits while another thread still holds its object. */
static void create_and_exit(int i, void *arg)
{
    (void)i;
    grt_object *o = grt_str_new("orphan");
    *(grt_object **)arg = o;               /* handed over: the owner's reference */
}

TEST_MT(decref_after_owner_exited)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *o = NULL;
    t_run_threads(1, create_and_exit, &o);
    T_NOT_NULL(o);
    T_NE(owner_of(o), grt_thread_id());
    T_EQ(local_of(o), 1);
    grt_decref(o);                         /* queues, finds no owner, merges here */
    T_EQ(grt_object_counts_get().freed - c0.freed, 1);
}

/* An owner exits with objects on its queue: it merges them on the way out. */
static sem_t queued_sem, exit_sem;
static grt_object *victim;
static void owner_thread(int i, void *arg)
{
    (void)i; (void)arg;
    victim = grt_str_new("queued at exit");
    grt_incref(victim);                    /* one for main */
    sem_post(&queued_sem);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&exit_sem);                   /* main drops its reference meanwhile */
    GRT_END_ALLOW_THREADS;
    grt_decref(victim);                    /* local 2 -> 1: the queue's */
    /* exit without a safepoint: grt_thread_exit must merge the queue */
}
static void *owner_main(void *p) { owner_thread(0, p); return NULL; }

TEST_MT(exiting_owner_merges_its_queue)
{
    grt_object_counts c0 = grt_object_counts_get();
    sem_init(&queued_sem, 0, 0);
    sem_init(&exit_sem, 0, 0);
    pthread_t thr;
    T_EQ(grt_thread_start(&thr, owner_main, NULL), 0);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&queued_sem);
    GRT_END_ALLOW_THREADS;
    grt_decref(victim);                    /* non-owner below zero: queued */
    T_EQ(state_of(victim), GRT_BRC_QUEUED);
    sem_post(&exit_sem);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(grt_object_counts_get().freed - c0.freed, 1);
}

TEST_MT(shared_count_saturates_into_immortality)
{
    handed = grt_str_new("popular");
    grt_atomic_store_32(&handed->xob_ref_shared,
                        _grt_brc_word(GRT_BRC_SHARED_SATURATED - 1, GRT_BRC_DEFAULT));
    as_other_thread(nonowner_incref);
    T_TRUE(grt_is_immortal(handed));
    as_other_thread(nonowner_decref);
    T_EQ(shared_count(handed), GRT_BRC_SHARED_SATURATED);   /* pinned */
    grt_decref(handed);                    /* owner: local only, never frees */
    T_TRUE(grt_is_immortal(handed));
}

TEST(local_count_saturates_into_immortality)
{
    grt_object *o = grt_str_new("many local refs");
    grt_atomic_store_32(&o->xob_ref_local, GRT_BRC_IMMORTAL_LOCAL - 1);
    grt_incref(o);
    T_TRUE(grt_is_immortal(o));
    grt_decref(o);
    T_EQ(local_of(o), GRT_BRC_IMMORTAL_LOCAL);
}

#else
/* The other strategies: a 16-byte header and one count. */
TEST(header_layout)
{
    T_EQ(sizeof(grt_object), 16);
    T_EQ(grt_object_header_size(), 16);
    grt_object *o = grt_str_new("plain");
    grt_incref(o);
    T_EQ(grt_refcnt(o), 2);
    grt_decref(o);
    grt_decref(o);
}
#endif
