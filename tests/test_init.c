/*
 * Initialisation and teardown.
 */
#include "harness.h"

TEST_NOINIT(init_fini_cycles)
{
    for (int i = 0; i < 3; i++) {
        T_EQ(grt_init(NULL), 0);
        T_TRUE(grt_is_initialized());
        T_TRUE(grt_is_attached());
        grt_object *l = grt_list_new(2);
        grt_decref(l);
        T_EQ(grt_fini(), 0);
        T_FALSE(grt_is_initialized());
        T_FALSE(grt_is_attached());
    }
}

TEST(init_twice_is_an_error)
{
    T_EQ(grt_init(NULL), -1);
    T_ERR(GRT_ERR_STATE, "already initialised");
}

TEST_NOINIT(fini_without_init_is_an_error)
{
    T_EQ(grt_fini(), -1);
    T_ERR(GRT_ERR_STATE, "not initialised");
}

TEST_NOINIT(variant_mismatch_is_refused)
{
    int other = GRT_VARIANT_ID == 3 ? 2 : 3;
    T_EQ(_grt_init_checked(NULL, other), -1);
    T_ERR(GRT_ERR_STATE, "compiled for variant");
}

TEST(variant_name_and_header_size)
{
#if defined(GRT_VARIANT_GIL)
    T_EQ_STR(grt_variant(), "gil");
#elif defined(GRT_VARIANT_ATOMIC)
    T_EQ_STR(grt_variant(), "atomic");
#elif defined(GRT_VARIANT_BRC)
    T_EQ_STR(grt_variant(), "brc");
#else
    T_EQ_STR(grt_variant(), "unsafe");
#endif
    T_EQ(grt_object_header_size(), GRT_OBJECT_HEAD_SIZE);
}

#include <semaphore.h>
static sem_t registered, may_exit;

static void *attach_and_wait(void *arg)
{
    grt_attach();
    sem_post(&registered);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&may_exit);                /* registered and detached meanwhile */
    GRT_END_ALLOW_THREADS;
    grt_thread_exit();
    return arg;
}

TEST_NOINIT(fini_with_a_registered_thread_fails_cleanly)
{
    T_EQ(grt_init(NULL), 0);
    sem_init(&registered, 0, 0);
    sem_init(&may_exit, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, attach_and_wait, NULL);
    GRT_BEGIN_ALLOW_THREADS
    sem_wait(&registered);
    GRT_END_ALLOW_THREADS;
    T_EQ(grt_thread_count(), 2);
    T_EQ(grt_fini(), -1);
    T_ERR(GRT_ERR_RUNTIME, "1 other thread is still registered");
    T_TRUE(grt_is_initialized());
    sem_post(&may_exit);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(grt_thread_count(), 1);
    T_EQ(grt_fini(), 0);                /* now it succeeds */
}

static void *attach_and_forget(void *arg)
{
    grt_attach();                       /* ends without grt_thread_exit */
    return arg;
}

TEST_NOINIT(a_thread_that_forgets_to_exit_is_unregistered_at_its_end)
{
    T_EQ(grt_init(NULL), 0);
    pthread_t t;
    pthread_create(&t, NULL, attach_and_forget, NULL);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL);
    GRT_END_ALLOW_THREADS;
    T_EQ(grt_thread_count(), 1);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(every_object_is_freed_by_fini)
{
    T_EQ(grt_init(NULL), 0);
    grt_object *keep = grt_list_new(0);
    for (int i = 0; i < 100; i++) {
        grt_object *d = grt_dict_new();
        grt_object *v = grt_int_new(1000 + i);
        grt_dict_set_str(d, "v", v);
        grt_list_append(keep, d);
        grt_decref(d);
        grt_decref(v);
    }
    (void)keep;                         /* still referenced at fini */
    T_EQ(grt_fini(), 0);
    grt_object_counts c = grt_object_counts_get();
    T_GE(c.allocated, 201);
    T_EQ(c.freed, c.allocated);
}
