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

/* An exiting owner's queue merge runs a finalizer, which counts references
 * to the owner's objects through the owner's plain path.  Meanwhile another
 * thread drops an object of that owner below zero: it must queue it to the
 * owner, still registered, and not merge it itself as if the owner were
 * gone (it once did: the queue was closed before the merge, and the two
 * threads rewrote the same count at once, leaking it or freeing it early). */
static grt_object *exit_x;                 /* a float of the exiting owner */
static grt_object *exit_c;                 /* its instance, whose finalizer runs at exit */
static sem_t exit_made, exit_c_dropped, exit_in_fin, exit_x_dropped;
static uint32_t exit_x_owner_seen, exit_x_state_seen, exit_owner_tid;

static void exit_fin(grt_object *self)
{
    sem_post(&exit_in_fin);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&exit_x_dropped);             /* main drops x meanwhile */
    GRT_END_ALLOW_THREADS;
    exit_x_owner_seen = owner_of(exit_x);
    exit_x_state_seen = state_of(exit_x);
    for (int i = 0; i < 1000; i++)          /* use x as its owner */
        grt_decref(grt_getattr(self, "x"));
}

static void *exit_owner_main(void *arg)
{
    grt_type *cls = arg;
    exit_owner_tid = grt_thread_id();
    exit_c = grt_instance_new(cls);
    exit_x = grt_float_new(1.5);           /* local 1: main's, handed over */
    grt_setattr(exit_c, "x", exit_x);      /* local 2 */
    sem_post(&exit_made);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&exit_c_dropped);             /* main dropped c: queued to us */
    GRT_END_ALLOW_THREADS;
    return NULL;                           /* grt_thread_exit merges c: exit_fin */
}

TEST_MT(exiting_owner_stays_owner_while_its_finalizers_run)
{
    const char *const slots[] = { "x", NULL };
    grt_type *cls = grt_class_new("ExitFin", slots);
    T_NOT_NULL(cls);
    T_EQ(grt_class_set_finalizer(cls, exit_fin), 0);
    sem_init(&exit_made, 0, 0);
    sem_init(&exit_c_dropped, 0, 0);
    sem_init(&exit_in_fin, 0, 0);
    sem_init(&exit_x_dropped, 0, 0);
    grt_object_counts c0 = grt_object_counts_get();
    pthread_t thr;
    T_EQ(grt_thread_start(&thr, exit_owner_main, cls), 0);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&exit_made);                  /* c and x are made */
    GRT_END_ALLOW_THREADS;
    grt_decref(exit_c);                    /* non-owner below zero: queued to the owner */
    sem_post(&exit_c_dropped);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&exit_in_fin);                /* the owner is exiting, in the finalizer */
    GRT_END_ALLOW_THREADS;
    grt_decref(exit_x);                    /* below zero again */
    sem_post(&exit_x_dropped);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(exit_x_owner_seen, exit_owner_tid);        /* not merged by main... */
    T_EQ(exit_x_state_seen, GRT_BRC_QUEUED);        /* ...but queued to the owner */
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, 2);
    T_EQ(c1.freed - c0.freed, 2);          /* c and x, each once */
    grt_decref((grt_object *)cls);
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
