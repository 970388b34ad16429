/*
 * dict: the references it keeps and drops, lookups (missing keys,
 * unhashable keys, keys equal across types), insertion order across
 * deletions and resizes, iteration, keys, update, equality, repr (recursive
 * too), and threads setting and deleting keys in one shared dict.
 */
#include "harness.h"

static void check_repr(grt_object *o, const char *want)
{
    grt_object *r = grt_repr(o);
    T_NOT_NULL(r);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
}

static grt_object *key(const char *fmt, int i)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, i);
    grt_object *k = grt_str_new(buf);
    T_NOT_NULL(k);
    return k;
}

TEST(set_get_keep_references)
{
    grt_object *d = grt_dict_new();
    T_NOT_NULL(d);
    T_EQ_PTR(grt_type_of(d), &grt_dict_type);
    grt_object *k = grt_str_new("k"), *v = grt_str_new("v");
    T_EQ(grt_dict_set(d, k, v), 0);
    T_EQ(grt_refcnt(k), 2);
    T_EQ(grt_refcnt(v), 2);
    T_EQ(grt_dict_len(d), 1);
    grt_object *g = grt_dict_get(d, k);     /* new reference */
    T_EQ_PTR(g, v);
    T_EQ(grt_refcnt(v), 3);
    grt_decref(g);
    /* an equal key that is another object finds the same entry */
    grt_object *k2 = grt_str_new("k");
    g = grt_dict_get(d, k2);
    T_EQ_PTR(g, v);
    grt_decref(g);
    /* replacing the value through k2: old value released, original key kept */
    grt_object *v2 = grt_str_new("v2");
    T_EQ(grt_dict_set(d, k2, v2), 0);
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_refcnt(v2), 2);
    T_EQ(grt_refcnt(k), 2);
    T_EQ(grt_refcnt(k2), 1);
    T_EQ(grt_dict_len(d), 1);
    grt_decref(d);                           /* dealloc drops key and value */
    T_EQ(grt_refcnt(k), 1);
    T_EQ(grt_refcnt(v2), 1);
    grt_object *objs[] = { k, v, k2, v2 };
    for (unsigned i = 0; i < sizeof objs / sizeof objs[0]; i++)
        grt_decref(objs[i]);
}

TEST(delete_and_clear_drop_references)
{
    grt_object *d = grt_dict_new();
    grt_object *k = grt_str_new("k"), *v = grt_str_new("v");
    grt_dict_set(d, k, v);
    T_EQ(grt_dict_del(d, k), 0);
    T_EQ(grt_refcnt(k), 1);
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_dict_len(d), 0);
    T_EQ(grt_dict_del(d, k), -1);
    T_ERR(GRT_ERR_KEY, "'k'");
    for (int i = 0; i < 50; i++) {
        grt_object *ki = key("key%d", i);
        grt_dict_set(d, ki, v);
        grt_decref(ki);
    }
    T_EQ(grt_refcnt(v), 51);
    T_EQ(grt_dict_clear(d), 0);
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_dict_len(d), 0);
    T_EQ(grt_dict_set(d, k, v), 0);          /* usable after clear */
    T_EQ(grt_dict_contains(d, k), 1);
    grt_decref(d);
    T_EQ(grt_refcnt(k), 1);
    grt_decref(k);
    grt_decref(v);
}

TEST(missing_keys)
{
    grt_object *d = grt_dict_new();
    grt_object *k = grt_str_new("missing");
    T_EQ_PTR(grt_dict_get(d, k), NULL);
    T_ERR(GRT_ERR_KEY, "'missing'");
    T_EQ_PTR(grt_dict_lookup(d, k), NULL);
    T_NO_ERR();
    T_EQ(grt_dict_contains(d, k), 0);
    T_NO_ERR();
    grt_object *i = grt_int_new(42);
    T_EQ_PTR(grt_dict_get(d, i), NULL);
    T_ERR(GRT_ERR_KEY, "42");
    T_EQ_PTR(grt_dict_get_str(d, "nope"), NULL);
    T_ERR(GRT_ERR_KEY, "'nope'");
    T_EQ_PTR(grt_dict_get_str(d, "it's"), NULL);   /* the key's repr, as Python's KeyError */
    T_ERR(GRT_ERR_KEY, "\"it's\"");
    grt_decref(k);
    grt_decref(d);
}

TEST(unhashable_keys_are_refused)
{
    grt_object *d = grt_dict_new();
    grt_object *l = grt_list_new(0);
    T_EQ(grt_dict_set(d, l, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    T_EQ_PTR(grt_dict_get(d, l), NULL);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    T_EQ(grt_dict_contains(d, l), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    T_EQ(grt_dict_del(d, d), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'dict'");
    grt_object *t = grt_tuple_pack(1, l);
    T_EQ(grt_dict_set(d, t, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    T_EQ(grt_refcnt(l), 2);                  /* only the tuple holds it */
    T_EQ(grt_dict_len(d), 0);
    grt_decref(t);
    grt_decref(l);
    grt_decref(d);
}

TEST(keys_of_any_hashable_type)
{
    grt_object *d = grt_dict_new();
    grt_object *one = grt_int_new(1), *onef = grt_float_new(1.0), *big = grt_int_new(1 << 20);
    grt_object *tk = grt_tuple_pack(2, one, big);
    grt_object *a = grt_str_new("a"), *b = grt_str_new("b"), *c = grt_str_new("c");
    T_EQ(grt_dict_set(d, one, a), 0);
    T_EQ(grt_dict_set(d, tk, b), 0);
    T_EQ(grt_dict_set(d, grt_None, c), 0);
    /* 1.0 and True are the key 1 */
    grt_object *g = grt_dict_get(d, onef);
    T_EQ_PTR(g, a);
    grt_decref(g);
    g = grt_dict_get(d, grt_True);
    T_EQ_PTR(g, a);
    grt_decref(g);
    grt_object *tk2 = grt_tuple_pack(2, onef, big);
    g = grt_dict_get(d, tk2);
    T_EQ_PTR(g, b);
    grt_decref(g);
    g = grt_dict_get(d, grt_None);
    T_EQ_PTR(g, c);
    grt_decref(g);
    T_EQ(grt_dict_set(d, onef, c), 0);      /* replaces d[1] */
    T_EQ(grt_dict_len(d), 3);
    grt_object *objs[] = { d, onef, big, tk, a, b, c, tk2 };
    for (unsigned i = 0; i < sizeof objs / sizeof objs[0]; i++)
        grt_decref(objs[i]);
}

/* Walk d with grt_dict_next and check its keys are fmt % want[i], in order. */
static void check_order(grt_object *d, const int *want, int n)
{
    int64_t pos = 0;
    grt_object *k, *v;
    int i = 0;
    char buf[64];
    while (grt_dict_next(d, &pos, &k, &v) == 1) {
        T_TRUE(i < n);
        snprintf(buf, sizeof buf, "k%d", want[i]);
        T_EQ_STR(grt_str_data(k), buf);
        T_EQ(grt_int_value(v), want[i]);
        grt_decref(k);
        grt_decref(v);
        i++;
    }
    T_EQ(i, n);
    T_EQ(grt_dict_len(d), n);
}

TEST(insertion_order_across_deletes_and_resizes)
{
    enum { N = 10000 };
    static int want[N + N / 2];
    grt_object *d = grt_dict_new();
    for (int i = 0; i < N; i++) {
        grt_object *k = key("k%d", i), *v = grt_int_new(i);
        T_EQ(grt_dict_set(d, k, v), 0);
        grt_decref(k);
        grt_decref(v);
    }
    for (int i = 0; i < N; i++)
        want[i] = i;
    check_order(d, want, N);
    /* delete every even key */
    for (int i = 0; i < N; i += 2) {
        grt_object *k = key("k%d", i);
        T_EQ(grt_dict_del(d, k), 0);
        grt_decref(k);
    }
    int n = 0;
    for (int i = 1; i < N; i += 2)
        want[n++] = i;
    check_order(d, want, n);
    /* re-insert a quarter of them: they go to the end, in this order;
     * overwriting an existing key keeps its place */
    for (int i = N - 2; i >= 0; i -= 4) {
        grt_object *k = key("k%d", i), *v = grt_int_new(i);
        T_EQ(grt_dict_set(d, k, v), 0);
        grt_decref(k);
        grt_decref(v);
        want[n++] = i;
    }
    grt_object *k1 = key("k%d", 1), *v1 = grt_int_new(1);
    T_EQ(grt_dict_set(d, k1, v1), 0);
    grt_decref(k1);
    check_order(d, want, n);
    /* every key is still found */
    for (int i = 0; i < n; i++) {
        grt_object *k = key("k%d", want[i]);
        grt_object *v = grt_dict_get(d, k);
        T_NOT_NULL(v);
        T_EQ(grt_int_value(v), want[i]);
        grt_decref(v);
        grt_decref(k);
    }
    /* keys() gives the same order */
    grt_object *ks = grt_dict_keys(d);
    T_EQ(grt_list_len(ks), n);
    for (int i = 0; i < n; i += 101) {
        grt_object *k = grt_list_get(ks, i);
        char buf[32];
        snprintf(buf, sizeof buf, "k%d", want[i]);
        T_EQ_STR(grt_str_data(k), buf);
        grt_decref(k);
    }
    grt_decref(ks);
    grt_decref(d);
}

TEST(many_deletes_and_inserts_stay_bounded)
{
    /* insert/delete churn on a small dict: dummies are reclaimed by resizes */
    grt_object *d = grt_dict_new();
    for (int i = 0; i < 100000; i++) {
        grt_object *k = grt_int_new(i);
        T_EQ(grt_dict_set(d, k, k), 0);
        if (i >= 3) {
            grt_object *old = grt_int_new(i - 3);
            T_EQ(grt_dict_del(d, old), 0);
            grt_decref(old);
        }
        grt_decref(k);
    }
    T_EQ(grt_dict_len(d), 3);
    T_LE(_grt_dict_sizeof(d), 1024);
    check_repr(d, "{99997: 99997, 99998: 99998, 99999: 99999}");
    grt_decref(d);
}

TEST(next_gives_new_references)
{
    grt_object *d = grt_dict_new();
    grt_object *k = grt_str_new("k"), *v = grt_str_new("v");
    grt_dict_set(d, k, v);
    int64_t pos = 0;
    grt_object *gk, *gv;
    T_EQ(grt_dict_next(d, &pos, &gk, &gv), 1);
    T_EQ_PTR(gk, k);
    T_EQ_PTR(gv, v);
    T_EQ(grt_refcnt(k), 3);
    T_EQ(grt_dict_next(d, &pos, &gk, &gv), 0);
    grt_decref(k);
    grt_decref(v);
    grt_decref(k);
    grt_decref(v);
    grt_object *e = grt_dict_new();
    pos = 0;
    T_EQ(grt_dict_next(e, &pos, &gk, &gv), 0);
    grt_decref(e);
    grt_decref(d);
}

TEST(str_key_conveniences)
{
    grt_object *d = grt_dict_new();
    grt_object *v = grt_int_new(5000);
    T_EQ(grt_dict_set_str(d, "name", v), 0);
    T_EQ(grt_refcnt(v), 2);
    grt_object *g = grt_dict_get_str(d, "name");
    T_EQ_PTR(g, v);
    grt_decref(g);
    grt_object *k = grt_str_new("name");
    g = grt_dict_get(d, k);
    T_EQ_PTR(g, v);
    grt_decref(g);
    grt_decref(k);
    grt_decref(d);
    T_EQ(grt_refcnt(v), 1);
    grt_decref(v);
}

TEST(update_copies_in_order)
{
    grt_object *a = grt_dict_new(), *b = grt_dict_new();
    grt_object *x = grt_str_new("x");
    grt_dict_set_str(a, "one", x);
    grt_dict_set_str(b, "two", x);
    grt_dict_set_str(b, "one", grt_None);
    T_EQ(grt_dict_update(a, b), 0);
    check_repr(a, "{'one': None, 'two': 'x'}");
    T_EQ(grt_refcnt(x), 3);                  /* b's and a's "two" */
    T_EQ(grt_dict_update(a, a), 0);          /* no change */
    T_EQ(grt_dict_len(a), 2);
    T_EQ(grt_refcnt(x), 3);
    grt_object *l = grt_list_new(0);
    T_EQ(grt_dict_update(a, l), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_update: expected dict, got list");
    grt_decref(l);
    grt_decref(a);
    grt_decref(b);
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

/* A key missing from the other dict is inequality, not an error, even while
 * an older error is still set (errors stay until cleared): the comparison
 * once read the thread's indicator to tell the two apart. */
TEST(unequal_dicts_compare_as_0_with_an_older_error_set)
{
    grt_object *a = grt_dict_new(), *b = grt_dict_new();
    grt_dict_set_str(a, "a", grt_None);
    grt_dict_set_str(b, "b", grt_None);
    T_TRUE(grt_dict_get_str(a, "missing") == NULL);   /* leaves a KeyError set */
    T_EQ(grt_err_occurred(), GRT_ERR_KEY);
    T_EQ(grt_equal(a, b), 0);
    grt_err_clear();
    grt_decref(a);
    grt_decref(b);
}

TEST(equality_ignores_order)
{
    grt_object *a = grt_dict_new(), *b = grt_dict_new();
    grt_object *one = grt_int_new(1), *two = grt_int_new(2), *onef = grt_float_new(1.0);
    grt_dict_set_str(a, "x", one);
    grt_dict_set_str(a, "y", two);
    grt_dict_set_str(b, "y", two);
    grt_dict_set_str(b, "x", onef);
    T_EQ(grt_equal(a, b), 1);
    grt_dict_set_str(b, "x", two);
    T_EQ(grt_equal(a, b), 0);
    grt_dict_set_str(b, "z", two);
    T_EQ(grt_equal(a, b), 0);
    grt_object *l = grt_list_new(0);
    T_EQ(grt_equal(a, l), 0);
    T_NO_ERR();
    grt_decref(l);
    grt_decref(onef);
    grt_decref(a);
    grt_decref(b);
}

TEST(repr_plain_and_recursive)
{
    grt_object *d = grt_dict_new();
    check_repr(d, "{}");
    grt_object *l = grt_list_new(0);
    grt_object *two = grt_int_new(2);
    grt_list_append(l, two);
    grt_dict_set_str(d, "a", grt_None);
    grt_dict_set_str(d, "b", l);
    check_repr(d, "{'a': None, 'b': [2]}");
    grt_object *inner = grt_dict_new();
    grt_dict_set_str(inner, "a", inner);
    check_repr(inner, "{'a': {...}}");
    grt_dict_clear(inner);
    grt_decref(inner);
    grt_decref(l);
    grt_decref(d);
}

TEST(wrong_types_and_nulls_are_named)
{
    grt_object *l = grt_list_new(0), *d = grt_dict_new();
    T_EQ(grt_dict_set(l, grt_None, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_set: expected dict, got list");
    T_EQ_PTR(grt_dict_get(l, grt_None), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_dict_get: expected dict, got list");
    T_EQ(grt_dict_len(l), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_len: expected dict, got list");
    T_EQ_PTR(grt_dict_keys(l), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_dict_keys: expected dict, got list");
    T_EQ(grt_dict_set(d, NULL, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_set: argument 'k' is NULL");
    T_EQ(grt_dict_set(d, grt_None, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_set: argument 'v' is NULL");
    T_EQ(grt_dict_set_str(d, NULL, grt_None), -1);
    T_ERR(GRT_ERR_TYPE, "grt_dict_set_str: argument 'k' is NULL");
    T_EQ(grt_dict_len(d), 0);
    grt_decref(l);
    grt_decref(d);
}

TEST(dicts_are_unhashable)
{
    grt_object *d = grt_dict_new();
    T_EQ(grt_hash(d), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'dict'");
    grt_decref(d);
}

/* Four threads, one dict: each sets its own 2000 keys, deletes the odd
 * ones, and reads and overwrites a key every thread shares. */
#define MT_THREADS 4
#define MT_KEYS 2000

static void set_del_worker(int t, void *arg)
{
    grt_object *d = arg;
    char buf[32];
    grt_object *shared = grt_str_new("shared");
    for (int i = 0; i < MT_KEYS; i++) {
        snprintf(buf, sizeof buf, "t%d-%d", t, i);
        grt_object *k = grt_str_new(buf), *v = grt_int_new(i);
        if (grt_dict_set(d, k, v) != 0 || grt_dict_set(d, shared, v) != 0)
            T_FAIL("set failed: %s", grt_err_message());
        grt_object *g = grt_dict_get(d, shared);
        if (!g)
            T_FAIL("shared key vanished: %s", grt_err_message());
        grt_decref(g);
        grt_decref(k);
        grt_decref(v);
        if (i % 64 == 0)
            grt_safepoint();
    }
    for (int i = 1; i < MT_KEYS; i += 2) {
        snprintf(buf, sizeof buf, "t%d-%d", t, i);
        grt_object *k = grt_str_new(buf);
        if (grt_dict_del(d, k) != 0)
            T_FAIL("del %s failed: %s", buf, grt_err_message());
        grt_decref(k);
    }
    grt_decref(shared);
}

TEST_MT(threads_set_and_delete_in_one_dict)
{
    grt_object *d = grt_dict_new();
    t_run_threads(MT_THREADS, set_del_worker, d);
    T_EQ(grt_dict_len(d), MT_THREADS * MT_KEYS / 2 + 1);
    char buf[32];
    for (int t = 0; t < MT_THREADS; t++) {
        for (int i = 0; i < MT_KEYS; i++) {
            snprintf(buf, sizeof buf, "t%d-%d", t, i);
            grt_object *k = grt_str_new(buf);
            grt_object *v = grt_dict_lookup(d, k);
            if (i % 2) {
                T_EQ_PTR(v, NULL);
            } else {
                T_NOT_NULL(v);
                T_EQ(grt_int_value(v), i);
                grt_decref(v);
            }
            grt_decref(k);
        }
    }
    T_NO_ERR();
    grt_decref(d);
}

TEST(dicts_are_tracked_only_when_they_may_hold_a_cycle)
{
    grt_object *d = grt_dict_new();
    T_EQ(grt_gc_is_tracked(d), 0);          /* new dicts start untracked */
    grt_object *i = grt_int_new(1000), *s = grt_str_new("s");
    grt_dict_set(d, s, i);
    T_EQ(grt_gc_is_tracked(d), 0);          /* atomic values only */
    grt_object *l = grt_list_new(0);
    grt_dict_set_str(d, "list", l);
    T_EQ(grt_gc_is_tracked(d), 1);          /* a container may close a cycle */
    grt_decref(l);
    grt_decref(s);
    grt_decref(i);
    grt_decref(d);
}

TEST(cycles_through_dicts_are_collected)
{
    grt_gc_collect(2);
    grt_object *d = grt_dict_new();
    grt_dict_set_str(d, "self", d);
    grt_object *l = grt_list_new(0);
    grt_dict_set(d, grt_None, l);
    grt_list_append(l, d);
    grt_object *v = grt_str_new("value");
    grt_dict_set_str(d, "v", v);
    grt_decref(l);
    grt_decref(d);
    grt_object_counts c0 = grt_object_counts_get();
    T_EQ(grt_gc_collect(2), 2);
    /* the dict, the list, and the str key "self" and "v" built by set_str */
    T_EQ(grt_object_counts_get().freed - c0.freed, 4);
    T_EQ(grt_refcnt(v), 1);
    grt_decref(v);
}
