/*
 * tests/test_mem.c — the object allocator on one thread: size classes, reuse
 * of freed blocks, statistics that add up, empty arenas kept through the
 * decay period (GRT_MEM_DECAY_MS) and then going back to the OS, realloc,
 * and choosing the allocator by name.
 *
 * Cases that depend on obmalloc's layout initialise the runtime themselves
 * with allocator "obmalloc", so that GRT_MALLOC set for a whole run does not
 * change what they check.
 */
#include "harness.h"
#include "../mem/obmalloc.h"        /* MEM_KEEP_EMPTY, the decay's test hooks */
#include <unistd.h>


static struct grt_mem_stats t_stats(void)
{
    struct grt_mem_stats st;
    T_EQ(grt_mem_stats(&st), 0);
    return st;
}

/* Resident set size in bytes, from /proc/self/statm. */
static int64_t t_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    T_TRUE(f != NULL);
    T_EQ(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static int t_cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

TEST(size_classes_are_16_byte_steps_up_to_512)
{
    T_EQ(grt_mem_size_class(0), 0);
    T_EQ(grt_mem_size_class(1), 0);
    T_EQ(grt_mem_size_class(16), 0);
    T_EQ(grt_mem_size_class(17), 1);
    T_EQ(grt_mem_size_class(32), 1);
    T_EQ(grt_mem_size_class(33), 2);
    T_EQ(grt_mem_size_class(500), 31);
    T_EQ(grt_mem_size_class(512), 31);
    T_EQ(grt_mem_size_class(513), -1);
    T_EQ(grt_mem_size_class((size_t)-1), -1);
    T_EQ(grt_mem_class_size(0), 16);
    T_EQ(grt_mem_class_size(2), 48);
    T_EQ(grt_mem_class_size(31), 512);
    T_EQ(grt_mem_class_size(32), 0);
    T_ERR(GRT_ERR_VALUE, "size class 32 is not in 0..31");
    T_EQ(grt_mem_class_size(-1), 0);
    T_ERR(GRT_ERR_VALUE, "size class -1");
}

TEST_NOINIT(every_request_gets_its_class_block_aligned_to_16)
{
    t_init_with("obmalloc");
    for (size_t n = 0; n <= 600; n++) {
        unsigned char *p = grt_mem_malloc(n);
        T_NOT_NULL(p);
        T_EQ((uintptr_t)p % 16, 0);
        int c = grt_mem_size_class(n);
        size_t expect = c >= 0 ? grt_mem_class_size(c) : n;
        if (_grt_mem_block_size(p) != expect)
            T_FAIL("a %zu-byte request got a %zu-byte block, expected %zu",
                   n, _grt_mem_block_size(p), expect);
        memset(p, 0x5a, n);
        grt_mem_free(p);
    }
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(a_freed_block_is_reused_by_the_next_request_of_its_class)
{
    t_init_with("obmalloc");
    void *p = grt_mem_malloc(40);
    grt_mem_free(p);
    void *q = grt_mem_malloc(33);          /* 33..48 bytes: the same class as 40 */
    T_EQ_PTR(q, p);
    void *r = grt_mem_malloc(40);          /* a different block while q lives */
    T_NE((intptr_t)r, (intptr_t)q);
    grt_mem_free(q);
    grt_mem_free(r);

    /* A batch inside one pool comes back in LIFO order. */
    enum { N = 100 };                       /* a 112-byte pool holds 145 */
    void *a[N], *b[N];
    void *keep = grt_mem_malloc(100);       /* the pool must not empty out */
    for (int i = 0; i < N; i++) a[i] = grt_mem_malloc(100);
    for (int i = 0; i < N; i++) grt_mem_free(a[i]);
    for (int i = 0; i < N; i++) b[i] = grt_mem_malloc(100);
    for (int i = 0; i < N; i++) T_EQ_PTR(b[i], a[N - 1 - i]);
    for (int i = 0; i < N; i++) grt_mem_free(b[i]);
    grt_mem_free(keep);

    /* Pools that empty out go back to their arena and are carved again: a
     * batch spanning many pools comes back inside the same pools. */
    enum { M = 3000 };
    static void *c[M], *d[M];
    static uintptr_t pools[M];
    for (int i = 0; i < M; i++) c[i] = grt_mem_malloc(100);
    for (int i = 0; i < M; i++) pools[i] = (uintptr_t)c[i] & ~(uintptr_t)(GRT_MEM_POOL_SIZE - 1);
    qsort(pools, M, sizeof pools[0], t_cmp_ptr);
    for (int i = 0; i < M; i++) grt_mem_free(c[i]);
    for (int i = 0; i < M; i++) {
        d[i] = grt_mem_malloc(100);
        uintptr_t pool = (uintptr_t)d[i] & ~(uintptr_t)(GRT_MEM_POOL_SIZE - 1);
        if (!bsearch(&pool, pools, M, sizeof pools[0], t_cmp_ptr))
            T_FAIL("block %d of the second batch (%p) is in a pool the first did not use", i, d[i]);
    }
    for (int i = 0; i < M; i++) grt_mem_free(d[i]);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(statistics_count_every_live_block)
{
    t_init_with("obmalloc");
    struct grt_mem_stats s0 = t_stats();
    enum { N = 2000 };
    static void *small[N], *large[20];
    for (int i = 0; i < N; i++) small[i] = grt_mem_malloc(1 + (size_t)(i % 512));
    for (int i = 0; i < 20; i++) large[i] = grt_mem_malloc(1000 + (size_t)i);
    struct grt_mem_stats s1 = t_stats();
    T_EQ(s1.blocks_in_use - s0.blocks_in_use, N + 20);
    T_EQ(s1.small_blocks_in_use - s0.small_blocks_in_use, N);
    T_EQ(s1.large_blocks_in_use - s0.large_blocks_in_use, 20);
    size_t bytes = 0;
    for (int c = 0; c < GRT_MEM_NCLASSES; c++) {
        /* i % 512 + 1 covers each 16-byte class 16 times per 512 requests */
        int64_t per_class = 0;
        for (int i = 0; i < N; i++)
            if (grt_mem_size_class(1 + (size_t)(i % 512)) == c) per_class++;
        T_EQ(s1.classes[c].blocks_in_use - s0.classes[c].blocks_in_use, per_class);
        bytes += (size_t)per_class * grt_mem_class_size(c);
        /* in use + free == what the class's pools hold */
        size_t cap = (GRT_MEM_POOL_SIZE - 128) / grt_mem_class_size(c);
        T_EQ(s1.classes[c].blocks_in_use + s1.classes[c].blocks_free, s1.classes[c].pools * cap);
    }
    for (int i = 0; i < 20; i++) bytes += 1000 + (size_t)i;
    T_EQ(s1.bytes_in_blocks - s0.bytes_in_blocks, bytes);
    T_GE(s1.bytes_held, s1.bytes_in_blocks);
    T_EQ(s1.pools_in_use + s1.pools_free, s1.arenas_current * (GRT_MEM_ARENA_SIZE / GRT_MEM_POOL_SIZE));
    T_EQ(s1.arenas_current, s1.arenas_allocated - s1.arenas_freed);
    T_GE(s1.heaps, 1);
    T_GE(grt_mem_check(), 2);               /* an arena and a pool at least */

    for (int i = 0; i < N; i++) grt_mem_free(small[i]);
    for (int i = 0; i < 20; i++) grt_mem_free(large[i]);
    struct grt_mem_stats s2 = t_stats();
    T_EQ(s2.blocks_in_use, s0.blocks_in_use);
    T_EQ(s2.bytes_in_blocks, s0.bytes_in_blocks);
    for (int c = 0; c < GRT_MEM_NCLASSES; c++)
        T_EQ(s2.classes[c].blocks_in_use, s0.classes[c].blocks_in_use);
    T_EQ(grt_fini(), 0);
}

TEST(objects_are_counted_as_blocks_in_use)
{
    struct grt_mem_stats s0 = t_stats();
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < 1000; i++) {
        grt_object *v = grt_float_new(i + 0.5);
        T_EQ(grt_list_append(l, v), 0);
        grt_decref(v);
    }
    struct grt_mem_stats s1 = t_stats();
    /* 1000 floats, the list and its item buffer */
    T_GE(s1.blocks_in_use - s0.blocks_in_use, 1002);
    grt_decref(l);
    struct grt_mem_stats s2 = t_stats();
    T_EQ(s2.blocks_in_use, s0.blocks_in_use);
}

/* ---- empty arenas: kept, then decayed (mem/obmalloc.c) ----------------------------- */

enum { T_BIG_N = 600000 };                  /* 64-byte blocks: about 38 MiB, 38 arenas */

/* T_BIG_N touched 64-byte blocks (they count in the RSS) into v. */
static void t_fill_big(void **v)
{
    for (int i = 0; i < T_BIG_N; i++) {
        v[i] = grt_mem_malloc(64);
        T_NOT_NULL(v[i]);
        memset(v[i], 0x11, 64);
    }
}

static void t_free_big(void **v)
{
    for (int i = 0; i < T_BIG_N; i++) grt_mem_free(v[i]);
}

/* GRT_MEM_DECAY_MS = decay, grt_init on obmalloc, then the big population
 * made (t_fill_big) in a new array, which the caller frees. */
static void **t_decay_big_filled(const char *decay)
{
    setenv("GRT_MEM_DECAY_MS", decay, 1);
    t_init_with("obmalloc");
    void **v = malloc(T_BIG_N * sizeof *v);
    T_TRUE(v != NULL);
    t_fill_big(v);
    return v;
}

TEST_NOINIT(with_decay_0_empty_arenas_go_back_to_the_os_at_once)
{
    setenv("GRT_MEM_DECAY_MS", "0", 1);
    t_init_with("obmalloc");
    T_EQ(_grt_obm_decay_ms(), 0);
    void **v = malloc(T_BIG_N * sizeof *v);
    T_TRUE(v != NULL);
    struct grt_mem_stats s0 = t_stats();
    int64_t rss0 = t_rss();
    t_fill_big(v);
    struct grt_mem_stats s1 = t_stats();
    int64_t rss1 = t_rss();
    T_GE(s1.arenas_current, s0.arenas_current + 37);
    T_GE(rss1 - rss0, 35 << 20);
    t_free_big(v);
    struct grt_mem_stats s2 = t_stats();
    int64_t rss2 = t_rss();
    /* every arena the population emptied is unmapped as it empties, but for
     * the MEM_KEEP_EMPTY newest, which a live heap keeps for reuse */
    T_EQ(_grt_obm_empty_arenas(), MEM_KEEP_EMPTY);
    /* + 1: the arena that holds the class's standby pool (obmalloc.c) */
    T_LE(s2.arenas_current, s0.arenas_current + MEM_KEEP_EMPTY + 1);
    T_GE(s2.arenas_freed - s1.arenas_freed, 32);   /* 37 - 4 kept - 1 with the standby pool */
    T_GE(rss1 - rss2, 30 << 20);
    T_GE(grt_mem_check(), 1);
    /* a second round maps its arenas afresh */
    t_fill_big(v);
    T_GE(t_stats().arenas_allocated - s2.arenas_allocated, 32);
    t_free_big(v);
    free(v);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(empty_arenas_are_kept_through_the_decay_period_and_reused)
{
    void **v = t_decay_big_filled("600000");        /* ten minutes: never reached here */
    T_EQ(_grt_obm_decay_ms(), 600000);
    struct grt_mem_stats s1 = t_stats();
    t_free_big(v);
    /* nothing unmapped: every emptied arena waits, newest first */
    struct grt_mem_stats s2 = t_stats();
    T_EQ(s2.arenas_freed, s1.arenas_freed);
    T_EQ(s2.arenas_current, s1.arenas_current);
    T_GE(_grt_obm_empty_arenas(), 36);       /* one holds the standby pool */
    T_GE(grt_mem_check(), 1);
    /* a collection's end is a slow-path event, but nothing has decayed yet */
    grt_gc_collect(2);
    T_EQ(t_stats().arenas_freed, s1.arenas_freed);
    /* the next round reuses them: no mmap, no munmap */
    t_fill_big(v);
    struct grt_mem_stats s3 = t_stats();
    T_EQ(s3.arenas_allocated, s1.arenas_allocated);
    T_EQ(s3.arenas_freed, s1.arenas_freed);
    t_free_big(v);
    T_GE(grt_mem_check(), 1);
    free(v);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(decayed_arenas_go_back_at_the_next_collection)
{
    void **v = t_decay_big_filled("50");
    struct grt_mem_stats s1 = t_stats();
    int64_t rss1 = t_rss();
    t_free_big(v);
    usleep(150 * 1000);                     /* past the decay period (not a timed assertion:
                                               whatever the load, at least this long) */
    grt_gc_collect(0);
    struct grt_mem_stats s2 = t_stats();
    /* all but the MEM_KEEP_EMPTY newest empty arenas are unmapped; the
     * collection also released the standby pool, and the arena that emptied
     * then starts its own decay period */
    T_GE(_grt_obm_empty_arenas(), MEM_KEEP_EMPTY);
    T_LE(_grt_obm_empty_arenas(), MEM_KEEP_EMPTY + 1);
    T_GE(s2.arenas_freed - s1.arenas_freed, 32);   /* 37 - 4 kept - 1 with the standby pool */
    T_GE(rss1 - t_rss(), 30 << 20);
    T_GE(grt_mem_check(), 1);
    free(v);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(decayed_arenas_go_back_on_the_allocators_own_slow_paths)
{
    void **v = t_decay_big_filled("50");
    struct grt_mem_stats s1 = t_stats();
    t_free_big(v);
    usleep(150 * 1000);
    /* no collection: new pools (about 63 of 512-byte blocks, each a carve)
     * are slow-path events enough for a check of the clock */
    enum { K = 2000 };
    static void *w[K];
    for (int i = 0; i < K; i++) T_NOT_NULL(w[i] = grt_mem_malloc(512));
    T_GE(t_stats().arenas_freed - s1.arenas_freed, 30);
    for (int i = 0; i < K; i++) grt_mem_free(w[i]);
    T_GE(grt_mem_check(), 1);
    free(v);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(a_class_keeps_one_empty_standby_pool_until_the_next_collection)
{
    t_init_with("obmalloc");
    int c = grt_mem_size_class(200);
    T_GE(c, 0);
    size_t pools0 = t_stats().classes[c].pools;
    T_EQ(pools0, 0);                         /* nothing else uses this class */
    void *p = grt_mem_malloc(200);
    T_NOT_NULL(p);
    T_EQ(t_stats().classes[c].pools, 1);
    grt_mem_free(p);
    /* the class's last pool stays, empty, for the next allocation */
    struct grt_mem_stats s = t_stats();
    T_EQ(s.classes[c].pools, 1);
    T_EQ(s.classes[c].blocks_in_use, 0);
    T_GE(grt_mem_check(), 1);
    for (int i = 0; i < 1000; i++) {
        void *q = grt_mem_malloc(200);
        T_TRUE(q == p);                      /* the same block: no pool carved */
        grt_mem_free(q);
    }
    /* a second pool of the class that empties while the first is in use is
     * released at once: at most one standby pool per class */
    enum { N = 200 };                        /* more than a 16 KiB pool's 200-byte blocks */
    static void *w[N];
    for (int i = 0; i < N; i++) T_NOT_NULL(w[i] = grt_mem_malloc(200));
    T_GE(t_stats().classes[c].pools, 2);
    for (int i = 0; i < N; i++) grt_mem_free(w[i]);
    T_EQ(t_stats().classes[c].pools, 1);
    T_GE(grt_mem_check(), 1);
    /* the end of a collection gives it back */
    grt_gc_collect(0);
    T_EQ(t_stats().classes[c].pools, 0);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(fini_releases_every_arena_decaying_or_not)
{
    void **v = t_decay_big_filled("600000");
    t_free_big(v);
    T_GE(_grt_obm_empty_arenas(), 36);       /* one holds the standby pool */
    free(v);
    T_EQ(grt_fini(), 0);
    uint64_t allocated, freed, highwater;
    _grt_obm_arena_counts(&allocated, &freed, &highwater);
    T_GE(allocated, 37);
    T_EQ(freed, allocated);
}

TEST_NOINIT(a_malformed_GRT_MEM_DECAY_MS_is_a_value_error)
{
    static const char *const bad[] = { "-1", "3600001", "abc", "5ms", "1.5", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("GRT_MEM_DECAY_MS", bad[i], 1);
        T_EQ(grt_init(NULL), -1);
        char want[64];
        snprintf(want, sizeof want, "GRT_MEM_DECAY_MS='%s': expected a whole number", bad[i]);
        T_ERR(GRT_ERR_VALUE, want);
        T_EQ(grt_is_initialized(), 0);
    }
    setenv("GRT_MEM_DECAY_MS", "", 1);      /* empty: the default */
    T_EQ(grt_init(NULL), 0);
    T_EQ(_grt_obm_decay_ms(), MEM_DECAY_MS_DEFAULT);
    T_EQ(grt_fini(), 0);
    setenv("GRT_MEM_DECAY_MS", "3600000", 1);
    T_EQ(grt_init(NULL), 0);
    T_EQ(_grt_obm_decay_ms(), 3600000);
    T_EQ(grt_fini(), 0);
}

static uintptr_t t_arena_of(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(GRT_MEM_ARENA_SIZE - 1);
}

static unsigned t_pool_index(const void *p)
{
    return (unsigned)(((uintptr_t)p - t_arena_of(p)) / GRT_MEM_POOL_SIZE);
}

TEST_NOINIT(new_pools_come_from_the_most_used_arena)
{
    t_init_with("obmalloc");
    /* 512-byte blocks until a third new arena is entered.  A new arena is
     * mapped only when every other one is full, so the two before it (x1,
     * x2) hold nothing but these blocks, in all 64 pools. */
    enum { MAX = 4 * 64 * 31 };
    static void *v[MAX];
    uintptr_t seen[8];
    int nseen = 0, n = 0;
    while (nseen < 4) {
        T_TRUE(n < MAX);
        v[n] = grt_mem_malloc(512);
        if (nseen == 0 || seen[nseen - 1] != t_arena_of(v[n]))
            seen[nseen++] = t_arena_of(v[n]);
        n++;
    }
    uintptr_t x1 = seen[1], x2 = seen[2];
    /* Empty 60 pools of x1 and 4 pools of x2: x2 is now the most used arena
     * with a free pool (x3 has 63 free, x1 60). */
    for (int i = 0; i < n; i++) {
        if ((t_arena_of(v[i]) == x1 && t_pool_index(v[i]) < 60)
            || (t_arena_of(v[i]) == x2 && t_pool_index(v[i]) < 4)) {
            grt_mem_free(v[i]);
            v[i] = NULL;
        }
    }
    /* The next new pool (of any class) is carved from x2. */
    static void *w[64];
    int nw = 0;
    size_t pools0 = t_stats().classes[29].pools;
    for (;;) {
        T_TRUE(nw < 64);
        w[nw++] = grt_mem_malloc(480);
        if (t_stats().classes[29].pools != pools0) break;
    }
    T_EQ(t_arena_of(w[nw - 1]), x2);
    for (int i = 0; i < nw; i++) grt_mem_free(w[i]);
    for (int i = 0; i < n; i++) grt_mem_free(v[i]);
    T_EQ(grt_fini(), 0);
}

TEST(realloc_keeps_the_contents_across_sizes)
{
    char *p = grt_mem_realloc(NULL, 10);
    T_NOT_NULL(p);
    strcpy(p, "gilrt");
    static const size_t sizes[] = { 16, 17, 100, 512, 513, 4000, 100000, 600, 20, 6 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p = grt_mem_realloc(p, sizes[i]);
        T_NOT_NULL(p);
        T_EQ((uintptr_t)p % 16, 0);
        T_EQ_STR(p, "gilrt");
        T_GE(_grt_mem_block_size(p), sizes[i]);
    }
    grt_mem_free(p);
    grt_mem_free(NULL);                     /* ignored */
    void *z1 = grt_mem_malloc(0), *z2 = grt_mem_malloc(0);
    T_NOT_NULL(z1);
    T_NOT_NULL(z2);
    T_NE((intptr_t)z1, (intptr_t)z2);
    grt_mem_free(z1);
    grt_mem_free(z2);
}

TEST(an_impossible_request_is_a_memory_error)
{
    T_TRUE(grt_mem_malloc((size_t)-1 / 2) == NULL);
    T_ERR(GRT_ERR_MEMORY, "out of memory");
    void *p = grt_mem_malloc(8);
    T_TRUE(grt_mem_realloc(p, (size_t)-1 / 2) == NULL);
    T_ERR(GRT_ERR_MEMORY, "grt_mem_realloc");
    grt_mem_free(p);                        /* p survived the failed realloc */
}

TEST_FATAL(freeing_a_foreign_pointer_is_fatal, "not a live block from gilrt's allocator")
{
    if (strcmp(grt_mem_allocator(), "obmalloc") != 0)
        _grt_fatal("not a live block from gilrt's allocator (case needs obmalloc)");
    void *p = malloc(4096);
    grt_mem_free(p);
}

TEST_NOINIT(an_unknown_allocator_is_refused_with_the_valid_names)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.allocator = "jemalloc";
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "unknown allocator 'jemalloc'");
    T_FALSE(grt_is_initialized());
    cfg.allocator = "";
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "valid: obmalloc, malloc");
    cfg.allocator = "mimalloc";
#ifdef GRT_HAVE_MIMALLOC
    T_EQ(grt_init(&cfg), 0);
    T_EQ_STR(grt_mem_allocator(), "mimalloc");
    T_EQ(grt_fini(), 0);
#else
    T_EQ(grt_init(&cfg), -1);
    T_ERR(GRT_ERR_VALUE, "'mimalloc' was not built in");
#endif
}

TEST_NOINIT(grt_malloc_in_the_environment_selects_the_allocator)
{
    setenv("GRT_MALLOC", "malloc", 1);
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    unsetenv("GRT_MALLOC");
    T_EQ(grt_init(&cfg), 0);
    T_EQ_STR(grt_mem_allocator(), "malloc");
    T_EQ(grt_fini(), 0);
}

/* The same work under every allocator: objects, containers, counts. */
static void t_exercise(const char *allocator)
{
    t_init_with(allocator);
    struct grt_mem_stats s0 = t_stats();
    T_EQ_STR(s0.allocator, allocator);
    enum { N = 500 };
    void *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = grt_mem_malloc((size_t)i * 3);
        T_NOT_NULL(v[i]);
        T_EQ((uintptr_t)v[i] % 16, 0);
        memset(v[i], i & 0xff, (size_t)i * 3);
    }
    T_EQ(t_stats().blocks_in_use - s0.blocks_in_use, N);
    for (int i = 0; i < N; i++) {
        v[i] = grt_mem_realloc(v[i], (size_t)i * 3 + 40);
        T_NOT_NULL(v[i]);
        if (i > 0) T_EQ(((unsigned char *)v[i])[(size_t)i * 3 - 1], i & 0xff);
    }
    for (int i = 0; i < N; i++) grt_mem_free(v[i]);
    T_EQ(t_stats().blocks_in_use, s0.blocks_in_use);
    grt_object *d = grt_dict_new();
    for (int i = 0; i < 300; i++) {
        grt_object *k = grt_int_new(i * 1000), *s = grt_str_new("value");
        T_EQ(grt_dict_set(d, k, s), 0);
        grt_decref(k);
        grt_decref(s);
    }
    T_EQ(grt_dict_len(d), 300);
    grt_decref(d);
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(every_allocator_serves_the_runtime)
{
    t_exercise("obmalloc");
    t_exercise("malloc");
    t_exercise("debug");
#ifdef GRT_HAVE_MIMALLOC
    t_exercise("mimalloc");
#endif
}

/* grt_mem_dump's text (free it). */
static char *t_dump(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    grt_mem_dump(f);
    fclose(f);
    return buf;
}

TEST(the_dump_lists_classes_and_arenas)
{
    void *p = grt_mem_malloc(200);
    char *buf = t_dump();
    T_TRUE(strstr(buf, "gilrt allocator:") != NULL);
    T_TRUE(strstr(buf, "arenas:") != NULL);
    T_TRUE(strstr(buf, "blocks in use:") != NULL);
    if (strcmp(grt_mem_allocator(), "obmalloc") == 0)
        T_TRUE(strstr(buf, "   12    208") != NULL);    /* class 12 (208 B) has a pool */
    free(buf);
    grt_mem_free(p);
    T_EQ(grt_mem_stats(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "argument 'st' is NULL");
}

/* The system allocator's blocks are counted, not their bytes: the figures
 * must not claim to be exact (they said 0 bytes, exact, with 1 MB live). */
TEST_NOINIT(malloc_backend_bytes_are_not_claimed_exact)
{
    t_init_with("malloc");
    void *p = grt_mem_malloc(100000);
    struct grt_mem_stats st;
    T_EQ(grt_mem_stats(&st), 0);
    T_GE(st.blocks_in_use, 1);
    T_EQ(st.requested_exact, 0);
    T_EQ(st.bytes_held, 0);                  /* as mem.h says: it was 16 per block */
    char *buf = t_dump();
    T_TRUE(strstr(buf, "gilrt allocator: malloc (every block from it") != NULL);
    T_TRUE(strstr(buf, "size classes") == NULL);   /* obmalloc's layout is not malloc's */
    free(buf);
    grt_mem_free(p);
    T_EQ(grt_fini(), 0);
}
