/*
 * list: every operation with Python's index rules and error messages, the
 * references it takes and releases, extend (self included), equality,
 * repr (recursive too), growth, and four threads appending to one list.
 */
#include "harness.h"

static void check_repr(grt_object *o, const char *want)
{
    grt_object *r = grt_repr(o);
    T_NOT_NULL(r);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
}

/* The list's items as ints, checked against want[0..n). */
static void check_ints(grt_object *l, const int64_t *want, int64_t n)
{
    T_EQ(grt_list_len(l), n);
    for (int64_t i = 0; i < n; i++) {
        grt_object *v = grt_list_get(l, i);
        T_NOT_NULL(v);
        T_EQ(grt_int_value(v), want[i]);
        grt_decref(v);
    }
}

static grt_object *int_list(int n)
{
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < n; i++) {
        grt_object *v = grt_int_new(i);
        T_EQ(grt_list_append(l, v), 0);
        grt_decref(v);
    }
    return l;
}

TEST(new_fills_with_none)
{
    grt_object *l = grt_list_new(3);
    T_NOT_NULL(l);
    T_EQ_PTR(grt_type_of(l), &grt_list_type);
    T_EQ(grt_list_len(l), 3);
    for (int i = 0; i < 3; i++) {
        grt_object *v = grt_list_get(l, i);
        T_EQ_PTR(v, grt_None);
        grt_decref(v);
    }
    grt_decref(l);
    T_EQ_PTR(grt_list_new(-2), NULL);
    T_ERR(GRT_ERR_VALUE, "grt_list_new: negative size -2");
}

TEST(append_takes_exactly_one_reference)
{
    grt_object *l = grt_list_new(0);
    grt_object *x = grt_str_new("item");
    T_EQ(grt_list_append(l, x), 0);
    T_EQ(grt_refcnt(x), 2);
    T_EQ(grt_list_append(l, x), 0);
    T_EQ(grt_refcnt(x), 3);
    grt_object *g = grt_list_get(l, 0);  /* a new reference */
    T_EQ_PTR(g, x);
    T_EQ(grt_refcnt(x), 4);
    grt_decref(g);
    grt_decref(l);
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

TEST(get_and_set_with_negative_indices)
{
    grt_object *l = int_list(4);
    grt_object *v = grt_list_get(l, -1);
    T_EQ(grt_int_value(v), 3);
    grt_decref(v);
    v = grt_list_get(l, -4);
    T_EQ(grt_int_value(v), 0);
    grt_decref(v);
    grt_object *old = grt_str_new("old"), *nw = grt_str_new("new");
    T_EQ(grt_list_set(l, -2, old), 0);
    T_EQ(grt_refcnt(old), 2);
    T_EQ(grt_list_set(l, 2, nw), 0);     /* replaces old: its reference is released */
    T_EQ(grt_refcnt(old), 1);
    T_EQ(grt_refcnt(nw), 2);
    v = grt_list_get(l, 2);
    T_EQ_PTR(v, nw);
    grt_decref(v);
    grt_decref(l);
    T_EQ(grt_refcnt(nw), 1);
    grt_decref(old);
    grt_decref(nw);
}

TEST(index_errors_give_index_and_length)
{
    grt_object *l = int_list(3);
    T_EQ_PTR(grt_list_get(l, 3), NULL);
    T_ERR(GRT_ERR_INDEX, "grt_list_get: list index out of range (index 3, length 3)");
    T_EQ_PTR(grt_list_get(l, -4), NULL);
    T_ERR(GRT_ERR_INDEX, "list index out of range (index -4, length 3)");
    grt_object *x = grt_str_new("x");
    T_EQ(grt_list_set(l, 5, x), -1);
    T_ERR(GRT_ERR_INDEX, "grt_list_set: list assignment index out of range (index 5, length 3)");
    T_EQ(grt_refcnt(x), 1);             /* not kept on failure */
    T_EQ_PTR(grt_list_pop(l, 3), NULL);
    T_ERR(GRT_ERR_INDEX, "grt_list_pop: pop index out of range (index 3, length 3)");
    grt_object *e = grt_list_new(0);
    T_EQ_PTR(grt_list_pop(e, -1), NULL);
    T_ERR(GRT_ERR_INDEX, "grt_list_pop: pop from empty list");
    T_EQ_PTR(grt_list_get(e, 0), NULL);
    T_ERR(GRT_ERR_INDEX, "(index 0, length 0)");
    grt_decref(e);
    grt_decref(x);
    grt_decref(l);
}

TEST(insert_clamps_like_python)
{
    grt_object *l = int_list(3);            /* [0, 1, 2] */
    grt_object *a = grt_int_new(10), *b = grt_int_new(20), *c = grt_int_new(30), *d = grt_int_new(40);
    T_EQ(grt_list_insert(l, -100, a), 0);   /* front */
    T_EQ(grt_list_insert(l, 100, b), 0);    /* end */
    T_EQ(grt_list_insert(l, -1, c), 0);     /* before the last */
    T_EQ(grt_list_insert(l, 2, d), 0);
    int64_t want[] = { 10, 0, 40, 1, 2, 30, 20 };
    check_ints(l, want, 7);
    grt_object *e = grt_list_new(0);
    T_EQ(grt_list_insert(e, 5, a), 0);
    check_ints(e, (int64_t[]){ 10 }, 1);
    grt_decref(e);
    grt_decref(l);
}

TEST(pop_returns_the_item_with_its_reference)
{
    grt_object *l = int_list(5);
    grt_object *x = grt_str_new("x");
    grt_list_append(l, x);                  /* [0, 1, 2, 3, 4, 'x'] */
    T_EQ(grt_refcnt(x), 2);
    grt_object *p = grt_list_pop(l, -1);
    T_EQ_PTR(p, x);
    T_EQ(grt_refcnt(x), 2);                 /* the list's reference moved to us */
    grt_decref(p);
    grt_object *first = grt_list_pop(l, 0);
    T_EQ(grt_int_value(first), 0);
    grt_object *mid = grt_list_pop(l, 1);
    T_EQ(grt_int_value(mid), 2);
    check_ints(l, (int64_t[]){ 1, 3, 4 }, 3);
    grt_decref(l);
    grt_decref(x);
}

TEST(clear_releases_every_reference)
{
    grt_object *l = grt_list_new(0);
    grt_object *x = grt_str_new("x");
    for (int i = 0; i < 100; i++)
        grt_list_append(l, x);
    T_EQ(grt_refcnt(x), 101);
    T_EQ(grt_list_clear(l), 0);
    T_EQ(grt_refcnt(x), 1);
    T_EQ(grt_list_len(l), 0);
    T_EQ(grt_list_append(l, x), 0);         /* usable again */
    T_EQ(grt_list_len(l), 1);
    grt_decref(l);
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

TEST(growth_and_shrink_keep_the_values)
{
    grt_object *l = int_list(100000);
    T_EQ(grt_list_len(l), 100000);
    for (int i = 0; i < 100000; i += 997) {
        grt_object *v = grt_list_get(l, i);
        T_EQ(grt_int_value(v), i);
        grt_decref(v);
    }
    for (int i = 99999; i >= 10; i--) {
        grt_object *v = grt_list_pop(l, -1);
        T_EQ(grt_int_value(v), i);
        grt_decref(v);
    }
    check_ints(l, (int64_t[]){ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 10);
    grt_decref(l);
}

TEST(extend_from_list_tuple_and_itself)
{
    grt_object *l = int_list(2);            /* [0, 1] */
    grt_object *m = int_list(3);            /* [0, 1, 2] */
    T_EQ(grt_list_extend(l, m), 0);
    check_ints(l, (int64_t[]){ 0, 1, 0, 1, 2 }, 5);
    grt_object *x = grt_str_new("x");
    grt_object *t = grt_tuple_pack(2, x, x);
    T_EQ(grt_list_extend(m, t), 0);
    T_EQ(grt_refcnt(x), 5);                 /* x, t twice, m twice */
    T_EQ(grt_list_len(m), 5);
    grt_object *s = int_list(3);
    T_EQ(grt_list_extend(s, s), 0);         /* doubles */
    check_ints(s, (int64_t[]){ 0, 1, 2, 0, 1, 2 }, 6);
    grt_object *d = grt_dict_new();
    T_EQ(grt_list_extend(l, d), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_extend: expected list or tuple, got dict");
    T_EQ(grt_list_extend(l, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_extend: argument 'other' is NULL");
    grt_decref(m);
    T_EQ(grt_refcnt(x), 3);
    grt_object *objs[] = { l, t, s, d, x };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(wrong_types_and_nulls_are_named)
{
    grt_object *d = grt_dict_new();
    grt_object *x = grt_int_new(1);
    T_EQ(grt_list_append(d, x), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_append: expected list, got dict");
    T_EQ(grt_list_len(d), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_len: expected list, got dict");
    T_EQ_PTR(grt_list_get(d, 0), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_list_get: expected list, got dict");
    T_EQ(grt_list_clear(x), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_clear: expected list, got int");
    grt_object *l = grt_list_new(0);
    T_EQ(grt_list_append(l, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_append: argument 'v' is NULL");
    T_EQ(grt_list_insert(l, 0, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_insert: argument 'v' is NULL");
    T_EQ(grt_list_set(NULL, 0, x), -1);
    T_ERR(GRT_ERR_TYPE, "grt_list_set");
    T_EQ(grt_list_len(l), 0);               /* nothing was stored */
    grt_decref(l);
    grt_decref(d);
}

TEST(lists_are_unhashable)
{
    grt_object *l = grt_list_new(0);
    T_EQ(grt_hash(l), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    grt_decref(l);
}

TEST(equality_compares_items)
{
    grt_object *a = int_list(3), *b = int_list(3), *c = int_list(4);
    T_EQ(grt_equal(a, b), 1);
    T_EQ(grt_equal(a, c), 0);
    grt_object *f = grt_float_new(2.0);
    T_EQ(grt_list_set(b, 2, f), 0);         /* [0, 1, 2.0] == [0, 1, 2] */
    T_EQ(grt_equal(a, b), 1);
    grt_object *inner1 = int_list(2), *inner2 = int_list(2);
    grt_list_append(a, inner1);
    grt_list_append(b, inner2);
    T_EQ(grt_equal(a, b), 1);               /* nested lists compare by value */
    grt_object *t = grt_tuple_pack(3, grt_None, grt_None, grt_None);
    grt_object *n = grt_list_new(3);
    T_EQ(grt_equal(n, t), 0);
    T_NO_ERR();
    grt_object *objs[] = { a, b, c, f, inner1, inner2, t, n };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(repr_plain_and_recursive)
{
    grt_object *l = grt_list_new(0);
    check_repr(l, "[]");
    grt_object *one = grt_int_new(1), *s = grt_str_new("a"), *in = int_list(2);
    grt_list_append(l, one);
    grt_list_append(l, s);
    grt_list_append(l, in);
    check_repr(l, "[1, 'a', [0, 1]]");
    grt_object *r = grt_list_new(0);
    grt_list_append(r, r);
    check_repr(r, "[[...]]");
    grt_object *outer = grt_list_new(0);
    grt_list_append(outer, r);
    grt_list_append(outer, r);
    check_repr(outer, "[[[...]], [[...]]]");   /* shared is not recursive */
    grt_list_clear(r);
    grt_object *objs[] = { l, s, in, r, outer };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

/* Four threads append to one list: every append lands exactly once. */
#define MT_THREADS 4
#define MT_APPENDS 5000

static void append_worker(int t, void *arg)
{
    grt_object *l = arg;
    for (int i = 0; i < MT_APPENDS; i++) {
        grt_object *v = grt_int_new((int64_t)t * MT_APPENDS + i);
        if (grt_list_append(l, v) != 0)
            T_FAIL("append failed: %s", grt_err_message());
        grt_decref(v);
        if (i % 64 == 0)
            grt_safepoint();
    }
}

TEST_MT(threads_append_to_one_list)
{
    grt_object *l = grt_list_new(0);
    t_run_threads(MT_THREADS, append_worker, l);
    T_EQ(grt_list_len(l), MT_THREADS * MT_APPENDS);
    static char seen[MT_THREADS * MT_APPENDS];
    int last[MT_THREADS];
    for (int t = 0; t < MT_THREADS; t++)
        last[t] = -1;
    for (int64_t i = 0; i < MT_THREADS * MT_APPENDS; i++) {
        grt_object *v = grt_list_get(l, i);
        int64_t x = grt_int_value(v);
        T_TRUE(x >= 0 && x < MT_THREADS * MT_APPENDS);
        T_EQ(seen[x], 0);
        seen[x] = 1;
        int t = (int)(x / MT_APPENDS), k = (int)(x % MT_APPENDS);
        T_TRUE(k > last[t]);                /* each thread's appends stay in order */
        last[t] = k;
        grt_decref(v);
    }
    grt_decref(l);
}

/* Four threads append one shared object and pop from the same list: the
 * object's count comes out exact. */
static void append_pop_worker(int t, void *arg)
{
    grt_object **args = arg;
    for (int i = 0; i < 2000; i++) {
        if (grt_list_append(args[0], args[1]) != 0)
            T_FAIL("append failed: %s", grt_err_message());
        if (i % 2) {
            grt_object *p = grt_list_pop(args[0], 0);
            if (!p)
                T_FAIL("pop failed: %s", grt_err_message());
            grt_decref(p);
        }
    }
}

TEST_MT(threads_append_and_pop_one_object)
{
    grt_object *l = grt_list_new(0);
    grt_object *x = grt_str_new("shared item");
    grt_object *args[2] = { l, x };
    t_run_threads(MT_THREADS, append_pop_worker, args);
    T_EQ(grt_list_len(l), MT_THREADS * 1000);
    T_EQ(grt_refcnt(x), 1 + MT_THREADS * 1000);
    grt_decref(l);
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

/* n lists nested one inside the next: [[[...]]] (no cycle). */
static grt_object *nested(int n)
{
    grt_object *l = grt_list_new(0);
    for (int i = 0; i < n; i++) {
        grt_object *outer = grt_list_new(0);
        T_EQ(grt_list_append(outer, l), 0);
        grt_decref(l);
        l = outer;
    }
    return l;
}

TEST(deep_nesting_is_bounded_and_frees)
{
    /* comparing and printing stop with an error instead of overflowing the stack */
    grt_object *a = nested(5000), *b = nested(5000);
    T_EQ(grt_equal(a, b), -1);
    T_ERR(GRT_ERR_RUNTIME, "maximum recursion depth (3000) exceeded in comparison of lists");
    T_EQ_PTR(grt_repr(a), NULL);
    T_ERR(GRT_ERR_RUNTIME, "maximum recursion depth (3000) exceeded in repr of a list");
    grt_decref(a);
    grt_decref(b);
    /* a chain of a million lists frees iteratively (the core's trashcan
     * calls list_dealloc without recursing); fewer under TSan's memory cost */
#ifdef GRT_TSAN
    int depth = 100000;
#else
    int depth = 1000000;
#endif
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *deep = nested(depth);
    grt_decref(deep);
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, depth + 1);
    T_EQ(c1.freed - c0.freed, depth + 1);
}

TEST(cycles_of_lists_are_collected)
{
    grt_gc_collect(2);
    grt_object *a = grt_list_new(0), *b = grt_list_new(0);
    T_EQ(grt_gc_is_tracked(a), 1);
    grt_list_append(a, b);
    grt_list_append(b, a);
    grt_list_append(a, a);
    grt_object *x = grt_str_new("payload");
    grt_list_append(b, x);
    grt_decref(a);
    grt_decref(b);
    grt_object_counts c0 = grt_object_counts_get();
    T_EQ(grt_gc_collect(2), 2);
    T_EQ(grt_object_counts_get().freed - c0.freed, 2);
    T_EQ(grt_refcnt(x), 1);                 /* tp_clear released it */
    grt_decref(x);
}
