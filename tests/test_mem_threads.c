/*
 * tests/test_mem_threads.c — the allocator across threads: a block freed by a
 * thread that did not allocate it goes back to its owner's pool; a thread
 * that exits hands its heap over, and blocks freed after that are reused;
 * producer/consumer; several threads trading blocks.  Run under TSan too.
 *
 * Threads wait for each other with semaphores, detached around the wait
 * (GRT_BEGIN_ALLOW_THREADS) so that a GIL holder or a stop-the-world request
 * is never stuck behind a sleeping thread.  The allocator is thread-safe in
 * every variant, unsafe included, so the cases that share only memory blocks
 * (no objects) run everywhere; the one that shares objects is TEST_MT.
 */
#include "harness.h"
#include <semaphore.h>


static struct grt_mem_stats t_stats(void)
{
    struct grt_mem_stats st;
    T_EQ(grt_mem_stats(&st), 0);
    return st;
}

static void t_wait(sem_t *s)
{
    GRT_BEGIN_ALLOW_THREADS
    while (sem_wait(s) != 0) {}
    GRT_END_ALLOW_THREADS;
}

static int t_cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- a remote free goes back to the owner ------------------------------------- */

enum { HANDOFF_N = 5000 };
static void *handoff[HANDOFF_N];
static sem_t handed, freed;

static void owner_and_freer(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        /* the owner: allocate, hand over, wait for the frees, allocate again */
        for (int k = 0; k < HANDOFF_N; k++) {
            handoff[k] = grt_mem_malloc(48);
            memset(handoff[k], 0x42, 48);
        }
        void *mine[HANDOFF_N];
        memcpy(mine, handoff, sizeof mine);
        sem_post(&handed);
        t_wait(&freed);
        /* Allocating as many again reuses the freed blocks: no new pool is
         * carved, and all but the never-used tail of the last pool (at most
         * one pool: 338 blocks of 48 bytes) are the freed addresses. */
        size_t pools = t_stats().classes[2].pools;
        void *again[HANDOFF_N];
        for (int k = 0; k < HANDOFF_N; k++) again[k] = grt_mem_malloc(48);
        T_LE(t_stats().classes[2].pools, pools);
        qsort(mine, HANDOFF_N, sizeof mine[0], t_cmp_ptr);
        int same = 0;
        for (int k = 0; k < HANDOFF_N; k++)
            same += bsearch(&again[k], mine, HANDOFF_N, sizeof mine[0], t_cmp_ptr) != NULL;
        T_GE(same, HANDOFF_N - 338);
        for (int k = 0; k < HANDOFF_N; k++) grt_mem_free(again[k]);
        T_GE(grt_mem_check(), 1);
    } else {
        /* the freer: frees blocks it did not allocate, while the owner lives */
        t_wait(&handed);
        for (int k = 0; k < HANDOFF_N; k++) {
            T_EQ(((unsigned char *)handoff[k])[47], 0x42);
            grt_mem_free(handoff[k]);
        }
        sem_post(&freed);
    }
}

TEST_NOINIT(blocks_freed_by_another_thread_return_to_the_owner)
{
    t_init_with("obmalloc");
    struct grt_mem_stats s0 = t_stats();
    sem_init(&handed, 0, 0);
    sem_init(&freed, 0, 0);
    t_run_threads(2, owner_and_freer, NULL);
    struct grt_mem_stats s1 = t_stats();
    T_EQ(s1.blocks_in_use, s0.blocks_in_use);
    T_EQ(s1.classes[2].blocks_in_use, s0.classes[2].blocks_in_use);
    T_EQ(grt_fini(), 0);
}

/* Arenas emptied by another thread's frees go back to the OS at the owner's
 * next collection (with no decay), even if the owner only ever takes the
 * fast path of the class: the collection drains the remote frees.  They
 * once waited for a slow path of a class without a pool. */
enum { REMOTE_N = 200000 };
static void *remote_blocks[REMOTE_N];
static void free_remote_blocks(int i, void *arg)
{
    (void)i; (void)arg;
    for (int k = 0; k < REMOTE_N; k++)
        grt_mem_free(remote_blocks[k]);
}

TEST_NOINIT(arenas_emptied_by_remote_frees_are_released_at_a_collection)
{
    T_EQ(setenv("GRT_MEM_DECAY_MS", "0", 1), 0);
    t_init_with("obmalloc");
    for (int k = 0; k < REMOTE_N; k++)
        remote_blocks[k] = grt_mem_malloc(64);
    struct grt_mem_stats s0 = t_stats();
    t_run_threads(1, free_remote_blocks, NULL);
    for (int k = 0; k < 100; k++)
        grt_mem_free(grt_mem_malloc(64));      /* the owner's fast path only */
    grt_gc_collect(2);
    struct grt_mem_stats s1 = t_stats();
    T_EQ(s1.classes[3].blocks_in_use, 0);
    T_LE(s1.arenas_current + 6, s0.arenas_current);   /* 12.8 MB of blocks; 4 empty arenas are kept */
    T_EQ(grt_fini(), 0);
    unsetenv("GRT_MEM_DECAY_MS");
}

/* ---- blocks freed after their owner exited ------------------------------------- */

enum { ORPHAN_N = 40000 };
static void *orphans[ORPHAN_N];

static void allocate_and_exit(int i, void *arg)
{
    void **out = arg;
    (void)i;
    for (int k = 0; k < ORPHAN_N; k++) {
        out[k] = grt_mem_malloc(32);
        memset(out[k], 0x17, 32);
    }
}

TEST_NOINIT(blocks_freed_after_their_owner_exited_are_reused)
{
    t_init_with("obmalloc");
    struct grt_mem_stats s0 = t_stats();
    t_run_threads(1, allocate_and_exit, orphans);     /* the thread exits here */
    struct grt_mem_stats s1 = t_stats();
    T_EQ(s1.blocks_in_use - s0.blocks_in_use, ORPHAN_N);
    T_GE(s1.heaps_abandoned, 1);                      /* its heap waits for adoption */
    T_GE(s1.arenas_current, s0.arenas_current + 1);

    /* Free every other block from here: they go back to the exited thread's
     * pools; then a new thread adopts that heap and gets them again. */
    for (int k = 0; k < ORPHAN_N; k += 2) grt_mem_free(orphans[k]);
    T_EQ(t_stats().blocks_in_use - s0.blocks_in_use, ORPHAN_N / 2);
    static void *fresh[ORPHAN_N];
    t_run_threads(1, allocate_and_exit, fresh);
    static void *freed_ones[ORPHAN_N / 2];
    for (int k = 0; k < ORPHAN_N / 2; k++) freed_ones[k] = orphans[2 * k];
    qsort(freed_ones, ORPHAN_N / 2, sizeof freed_ones[0], t_cmp_ptr);
    int reused = 0;
    for (int k = 0; k < ORPHAN_N; k++)
        if (bsearch(&fresh[k], freed_ones, ORPHAN_N / 2, sizeof freed_ones[0], t_cmp_ptr))
            reused++;
    T_EQ(reused, ORPHAN_N / 2);

    /* Free everything: the exited threads' arenas go back to the OS. */
    for (int k = 1; k < ORPHAN_N; k += 2) grt_mem_free(orphans[k]);
    for (int k = 0; k < ORPHAN_N; k++) grt_mem_free(fresh[k]);
    struct grt_mem_stats s2 = t_stats();
    T_EQ(s2.blocks_in_use, s0.blocks_in_use);
    T_LE(s2.arenas_current, s0.arenas_current);
    T_EQ(grt_fini(), 0);
}

/* ---- producer / consumer ---------------------------------------------------------- */

enum { RING = 256, PC_N = 60000 };
static void *ring[RING];
static sem_t ring_free, ring_full;

static void producer_consumer(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        for (int k = 0; k < PC_N; k++) {
            size_t n = 16 + (size_t)(k % 600);       /* small and large */
            uint32_t *p = grt_mem_malloc(n);
            p[0] = (uint32_t)k;
            p[1] = (uint32_t)n;
            t_wait(&ring_free);
            ring[k % RING] = p;                      /* the semaphore orders it */
            sem_post(&ring_full);
        }
    } else {
        for (int k = 0; k < PC_N; k++) {
            t_wait(&ring_full);
            uint32_t *p = ring[k % RING];
            sem_post(&ring_free);
            T_EQ(p[0], k);
            T_EQ(p[1], 16 + (k % 600));
            grt_mem_free(p);
        }
    }
}

TEST(producer_allocates_consumer_frees)
{
    struct grt_mem_stats s0 = t_stats();
    sem_init(&ring_free, 0, RING);
    sem_init(&ring_full, 0, 0);
    t_run_threads(2, producer_consumer, NULL);
    struct grt_mem_stats s1 = t_stats();
    T_EQ(s1.blocks_in_use, s0.blocks_in_use);
    T_EQ(s1.large_blocks_in_use, s0.large_blocks_in_use);
}

/* ---- several threads trading blocks through shared slots --------------------------- */

enum { SLOTS = 512, TRADES = 40000, TRADERS = 4 };
static void *slots[SLOTS];
static pthread_mutex_t slot_mutex = PTHREAD_MUTEX_INITIALIZER;

static void trader(int i, void *arg)
{
    (void)arg;
    uint64_t x = 0x9E3779B97F4A7C15u * (uint64_t)(i + 1);
    for (int k = 0; k < TRADES; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        unsigned s = (unsigned)(x % SLOTS);
        size_t n = 1 + (size_t)((x >> 20) % 700);
        unsigned char *p = grt_mem_malloc(n);
        memset(p, (int)(n & 0xff), n);
        pthread_mutex_lock(&slot_mutex);
        void *old = slots[s];
        slots[s] = p;
        pthread_mutex_unlock(&slot_mutex);
        grt_mem_free(old);
        if (k % 5000 == 0) {
            grt_safepoint();
            grt_mem_check();
        }
    }
}

TEST(threads_trading_blocks_keep_the_counts_exact)
{
    struct grt_mem_stats s0 = t_stats();
    t_run_threads(TRADERS, trader, NULL);
    t_run_threads(TRADERS, trader, NULL);            /* again, adopting the exited heaps */
    struct grt_mem_stats s1 = t_stats();
    size_t live = 0;
    for (int s = 0; s < SLOTS; s++) live += slots[s] != NULL;
    T_EQ(s1.blocks_in_use - s0.blocks_in_use, live);
    for (int s = 0; s < SLOTS; s++) {
        grt_mem_free(slots[s]);
        slots[s] = NULL;
    }
    struct grt_mem_stats s2 = t_stats();
    T_EQ(s2.blocks_in_use, s0.blocks_in_use);
    T_LE(s2.heaps, TRADERS + 1);                     /* heaps are reused, not piled up */
}

/* ---- objects created on one thread, released on another --------------------------- */

static grt_object *shared_list;

static void build_or_drop(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        for (int k = 0; k < 2000; k++) {
            grt_object *v = grt_float_new(k * 0.25);
            T_EQ(grt_list_append(shared_list, v), 0);
            grt_decref(v);
        }
    }
}

TEST_MT(objects_allocated_by_an_exited_thread_are_freed_by_another)
{
    struct grt_mem_stats s0 = t_stats();
    shared_list = grt_list_new(0);
    t_run_threads(1, build_or_drop, NULL);
    T_EQ(grt_list_len(shared_list), 2000);
    T_GE(t_stats().blocks_in_use - s0.blocks_in_use, 2001);
    grt_decref(shared_list);                          /* frees 2000 floats of an exited heap */
    T_EQ(t_stats().blocks_in_use, s0.blocks_in_use);
}

/* ---- fork: the child frees what threads that did not survive allocated ---------------- */

#include <sys/wait.h>
#include <unistd.h>

enum { FORK_N = 3000 };
static void *fork_blocks[FORK_N];
static sem_t fork_allocated, fork_done;

static void allocate_then_wait(int i, void *arg)
{
    (void)i;
    (void)arg;
    for (int k = 0; k < FORK_N; k++) fork_blocks[k] = grt_mem_malloc(64);
    sem_post(&fork_allocated);
    t_wait(&fork_done);                     /* alive (detached) across the fork */
    for (int k = 0; k < FORK_N; k++) grt_mem_free(fork_blocks[k]);
}

static void fork_side(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        allocate_then_wait(i, arg);
        return;
    }
    t_wait(&fork_allocated);
    struct grt_mem_stats s0 = t_stats();
    pid_t pid = grt_fork();
    if (pid == 0) {
        /* Only this thread exists here; the other one's heap was handed over. */
        for (int k = 0; k < FORK_N; k++) grt_mem_free(fork_blocks[k]);
        void *v[FORK_N];
        for (int k = 0; k < FORK_N; k++) v[k] = grt_mem_malloc(64);
        struct grt_mem_stats s1 = t_stats();
        grt_mem_check();                    /* fatal if the adopted heap is damaged */
        int ok = s1.blocks_in_use == s0.blocks_in_use;
        for (int k = 0; k < FORK_N; k++) grt_mem_free(v[k]);
        ok = ok && t_stats().blocks_in_use == s0.blocks_in_use - FORK_N;
        _exit(ok ? 0 : 3);
    }
    T_TRUE(pid > 0);
    int st = 0;
    GRT_BEGIN_ALLOW_THREADS
    waitpid(pid, &st, 0);
    GRT_END_ALLOW_THREADS;
    sem_post(&fork_done);
    T_TRUE(WIFEXITED(st));
    T_EQ(WEXITSTATUS(st), 0);
}

TEST_MT(a_fork_child_frees_blocks_of_threads_that_did_not_survive)
{
    sem_init(&fork_allocated, 0, 0);
    sem_init(&fork_done, 0, 0);
    struct grt_mem_stats s0 = t_stats();
    t_run_threads(2, fork_side, NULL);
    T_EQ(t_stats().blocks_in_use, s0.blocks_in_use);
}
