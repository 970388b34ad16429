/*
 * tests/test_mem_debug.c — the debug allocator (GRT_MALLOC=debug): fill
 * patterns, and planted overflow, underflow, double free and use after free
 * each reported with the block and then fatal.
 */
#include "harness.h"

static void t_init_debug(void)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.allocator = "debug";
    if (grt_init(&cfg) != 0)
        T_FAIL("grt_init with allocator debug: %s", grt_err_message());
    T_EQ_STR(grt_mem_allocator(), "debug");
}

TEST_NOINIT(debug_fills_fresh_blocks_and_guards)
{
    t_init_debug();
    unsigned char *p = grt_mem_malloc(24);
    T_NOT_NULL(p);
    T_EQ((uintptr_t)p % 16, 0);
    for (int i = 0; i < 24; i++) T_EQ(p[i], 0xCD);          /* fresh */
    for (int i = 24; i < 32; i++) T_EQ(p[i], 0xFD);         /* guard after */
    for (int i = 1; i <= 7; i++) T_EQ(p[-i], 0xFD);         /* guard before */
    T_EQ(_grt_mem_block_size(p), 24);
    memset(p, 0, 24);                                       /* inside: fine */
    grt_mem_free(p);
    for (int i = 0; i < 24; i++) T_EQ(p[i], 0xDD);          /* freed, quarantined */
    T_GE(grt_mem_check(), 1);                               /* the quarantine is intact */
    T_EQ(grt_fini(), 0);
}

TEST_NOINIT(debug_counts_requested_bytes_exactly)
{
    t_init_debug();
    struct grt_mem_stats s0, s1, s2;
    T_EQ(grt_mem_stats(&s0), 0);
    void *a = grt_mem_malloc(3), *b = grt_mem_malloc(1000), *c = grt_mem_malloc(77);
    T_EQ(grt_mem_stats(&s1), 0);
    T_EQ(s1.requested_exact, 1);
    T_EQ(s1.bytes_requested - s0.bytes_requested, 1080);
    T_EQ(s1.blocks_in_use - s0.blocks_in_use, 3);
    grt_mem_free(a);
    grt_mem_free(b);
    grt_mem_free(c);
    T_EQ(grt_mem_stats(&s2), 0);
    T_EQ(s2.bytes_requested, s0.bytes_requested);
    T_EQ(s2.blocks_in_use, s0.blocks_in_use);               /* quarantined is not in use */
    T_EQ(grt_fini(), 0);
}

TEST_FATAL(debug_catches_a_buffer_overflow, "buffer overflow on block")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(24);
    p[24] = 'x';                                            /* one past the end */
    grt_mem_free(p);
}

TEST_FATAL(debug_catches_a_buffer_underflow, "buffer underflow on block")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(40);
    p[-2] = 0;
    grt_mem_realloc(p, 80);
}

/* A pointer from libc's malloc has no debug header: it is refused as not
 * gilrt's before its missing guard bytes could be taken for an underflow. */
TEST_FATAL(debug_refuses_a_foreign_pointer_as_not_gilrts, "not a live block from gilrt")
{
    grt_fini();
    t_init_debug();
    grt_mem_realloc(malloc(64), 128);
}

TEST_FATAL(debug_catches_a_double_free, "double free on block")
{
    grt_fini();
    t_init_debug();
    void *p = grt_mem_malloc(64);
    grt_mem_free(p);
    grt_mem_free(p);
}

/* Once a block has left the quarantine, obmalloc's free list overwrites its
 * size field: the report must not read through it (it once segfaulted). */
TEST_FATAL(debug_catches_a_double_free_after_the_quarantine,
           "the block was already freed (and has left the quarantine)")
{
    grt_fini();
    t_init_debug();
    void *p = grt_mem_malloc(40);
    grt_mem_free(p);
    for (int i = 0; i < 1100; i++)                          /* push it out (another class) */
        grt_mem_free(grt_mem_malloc(200));
    grt_mem_free(p);
}

/* A stale write over a quarantined block's size field: the check reads the
 * header before it walks the data (it once ran off the mapping). */
TEST_FATAL(debug_catches_a_write_after_free_over_the_header,
           "the header of the freed block was overwritten after the free")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(24);
    grt_mem_free(p);
    size_t huge = (size_t)1 << 40;
    memcpy(p - 16, &huge, sizeof huge);                     /* the planted bug */
    grt_mem_check();
}

TEST_FATAL(debug_catches_a_write_after_free, "use after free on block")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(100);
    grt_mem_free(p);
    p[50] = 1;                                              /* the planted bug */
    grt_mem_check();
}

TEST_FATAL(debug_catches_a_write_after_free_when_the_block_leaves_quarantine,
           "byte 3 of the freed block")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(16);
    grt_mem_free(p);
    p[3] = 7;
    for (int i = 0; i < 5000; i++)                          /* push it out of the quarantine */
        grt_mem_free(grt_mem_malloc(16));
}

TEST_FATAL(debug_report_names_the_allocation_site_when_tracing, "allocated at:")
{
    grt_fini();
    t_init_debug();
    T_EQ(grt_mem_trace_start(4), 0);
    char *p = grt_mem_malloc(10);
    p[12] = 'x';
    grt_mem_free(p);
}

TEST_FATAL(debug_report_without_tracing_says_how_to_get_the_site, "grt_mem_trace_start")
{
    grt_fini();
    t_init_debug();
    char *p = grt_mem_malloc(10);
    p[10] = 'x';
    grt_mem_free(p);
}

TEST_NOINIT(debug_allocator_runs_the_object_runtime)
{
    t_init_debug();
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < 2000; i++) {
        grt_object *s = grt_str_new("debug allocator");
        T_EQ(grt_list_append(l, s), 0);
        grt_decref(s);
    }
    grt_object *d = grt_dict_new();
    T_EQ(grt_dict_set_str(d, "list", l), 0);
    grt_decref(l);
    grt_decref(d);
    T_GE(grt_mem_check(), 1);
    T_EQ(grt_fini(), 0);
}
