/*
 * tuple: construction (pack increfs, init_item steals), borrowed access,
 * index errors, hashing (order matters, unhashable items fail), equality,
 * repr, and the references it releases when freed.
 */
#include "harness.h"

static void check_repr(grt_object *o, const char *want)
{
    grt_object *r = grt_repr(o);
    T_NOT_NULL(r);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
}

TEST(pack_increfs_and_get_borrows)
{
    grt_object *a = grt_str_new("a"), *b = grt_float_new(2.5);
    grt_object *t = grt_tuple_pack(2, a, b);
    T_NOT_NULL(t);
    T_EQ_PTR(grt_type_of(t), &grt_tuple_type);
    T_EQ(grt_tuple_len(t), 2);
    T_EQ(grt_refcnt(a), 2);
    T_EQ(grt_refcnt(b), 2);
    T_EQ_PTR(grt_tuple_get(t, 0), a);
    T_EQ_PTR(grt_tuple_get(t, 1), b);
    T_EQ_PTR(grt_tuple_get(t, -1), b);
    T_EQ_PTR(grt_tuple_get(t, -2), a);
    T_EQ(grt_refcnt(a), 2);             /* borrowed: no count taken */
    grt_decref(t);
    T_EQ(grt_refcnt(a), 1);             /* the tuple released its items */
    T_EQ(grt_refcnt(b), 1);
    grt_decref(a);
    grt_decref(b);
}

TEST(new_and_init_item_steal)
{
    grt_object *t = grt_tuple_new(2);
    T_NOT_NULL(t);
    T_EQ(grt_tuple_len(t), 2);
    grt_object *x = grt_str_new("x");
    grt_object *keep = grt_newref(x);
    T_EQ(grt_tuple_init_item(t, 0, x), 0);    /* steals x */
    T_EQ(grt_refcnt(keep), 2);
    T_EQ(grt_tuple_init_item(t, 1, grt_int_new(7)), 0);
    /* out of range: the item is still stolen (released) */
    grt_object *y = grt_str_new("y");
    grt_incref(y);
    T_EQ(grt_tuple_init_item(t, 2, y), -1);
    T_ERR(GRT_ERR_INDEX, "tuple index out of range (index 2, length 2)");
    T_EQ(grt_refcnt(y), 1);
    grt_decref(y);
    grt_decref(t);
    T_EQ(grt_refcnt(keep), 1);
    grt_decref(keep);
}

TEST(unset_items_are_reported)
{
    grt_object *t = grt_tuple_new(1);
    T_EQ_PTR(grt_tuple_get(t, 0), NULL);
    T_ERR(GRT_ERR_VALUE, "item 0 is not set");
    check_repr(t, "(<NULL>,)");
    grt_decref(t);                      /* NULL items are skipped */
}

TEST(index_errors_name_index_and_length)
{
    grt_object *t = grt_tuple_pack(3, grt_None, grt_None, grt_None);
    T_EQ_PTR(grt_tuple_get(t, 3), NULL);
    T_ERR(GRT_ERR_INDEX, "grt_tuple_get: tuple index out of range (index 3, length 3)");
    T_EQ_PTR(grt_tuple_get(t, -4), NULL);
    T_ERR(GRT_ERR_INDEX, "(index -4, length 3)");
    grt_decref(t);
}

TEST(sizes_and_type_errors)
{
    T_EQ_PTR(grt_tuple_new(-1), NULL);
    T_ERR(GRT_ERR_VALUE, "grt_tuple_new: negative size -1");
    T_EQ_PTR(grt_tuple_pack(2, grt_None, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_tuple_pack: item 1 is NULL");
    grt_object *l = grt_list_new(0);
    T_EQ(grt_tuple_len(l), -1);
    T_ERR(GRT_ERR_TYPE, "grt_tuple_len: expected tuple, got list");
    T_EQ_PTR(grt_tuple_get(l, 0), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_tuple_get: expected tuple, got list");
    T_EQ_PTR(grt_tuple_get(NULL, 0), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_tuple_get");
    grt_decref(l);
    grt_object *e = grt_tuple_new(0);
    T_EQ(grt_tuple_len(e), 0);
    grt_decref(e);
}

TEST(hash_combines_items_in_order)
{
    grt_object *one = grt_int_new(1), *two = grt_int_new(2), *s = grt_str_new("s");
    grt_object *a = grt_tuple_pack(3, one, two, s), *b = grt_tuple_pack(3, one, two, s);
    grt_object *c = grt_tuple_pack(3, two, one, s);
    T_EQ(grt_hash(a), grt_hash(b));
    T_NE(grt_hash(a), grt_hash(c));
    T_NE(grt_hash(a), -1);
    /* equal items of other types give the same hash: (1,) == (1.0,) */
    grt_object *f = grt_float_new(1.0);
    grt_object *t1 = grt_tuple_pack(1, one), *tf = grt_tuple_pack(1, f);
    T_EQ(grt_equal(t1, tf), 1);
    T_EQ(grt_hash(t1), grt_hash(tf));
    /* () and (()) differ */
    grt_object *e = grt_tuple_new(0), *ee = grt_tuple_pack(1, e);
    T_NE(grt_hash(e), grt_hash(ee));
    grt_object *objs[] = { s, a, b, c, f, t1, tf, e, ee };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(hash_fails_for_unhashable_items)
{
    grt_object *l = grt_list_new(0);
    grt_object *t = grt_tuple_pack(2, grt_None, l);
    T_EQ(grt_hash(t), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    /* nested: the inner tuple's failure propagates */
    grt_object *outer = grt_tuple_pack(1, t);
    T_EQ(grt_hash(outer), -1);
    T_ERR(GRT_ERR_TYPE, "unhashable type: 'list'");
    grt_decref(outer);
    grt_decref(t);
    grt_decref(l);
}

TEST(equality)
{
    grt_object *s1 = grt_str_new("v"), *s2 = grt_str_new("v"), *s3 = grt_str_new("w");
    grt_object *a = grt_tuple_pack(2, grt_None, s1), *b = grt_tuple_pack(2, grt_None, s2);
    grt_object *c = grt_tuple_pack(2, grt_None, s3), *d = grt_tuple_pack(1, grt_None);
    T_EQ(grt_equal(a, b), 1);
    T_EQ(grt_equal(a, c), 0);
    T_EQ(grt_equal(a, d), 0);
    grt_object *l = grt_list_new(2);    /* [None, None] is not a tuple */
    grt_object *nn = grt_tuple_pack(2, grt_None, grt_None);
    T_EQ(grt_equal(nn, l), 0);
    T_NO_ERR();
    grt_object *objs[] = { s1, s2, s3, a, b, c, d, l, nn };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(repr_forms)
{
    grt_object *e = grt_tuple_new(0);
    check_repr(e, "()");
    grt_object *one = grt_int_new(1);
    grt_object *t1 = grt_tuple_pack(1, one);
    check_repr(t1, "(1,)");
    grt_object *s = grt_str_new("a"), *f = grt_float_new(2.5);
    grt_object *t3 = grt_tuple_pack(4, one, s, f, t1);
    check_repr(t3, "(1, 'a', 2.5, (1,))");
    /* a tuple reached again through a list inside it prints (...) */
    grt_object *l = grt_list_new(0);
    grt_object *t = grt_tuple_pack(1, l);
    grt_list_append(l, t);
    check_repr(t, "([(...)],)");
    grt_list_clear(l);                  /* break the cycle */
    grt_object *objs[] = { e, t1, s, f, t3, l, t };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(deep_nesting_hash_is_bounded)
{
    /* 5000 nested 1-tuples: hashing stops with an error instead of
     * overflowing the stack; freeing the chain is the core's trashcan. */
    grt_object *t = grt_tuple_new(0);
    for (int i = 0; i < 5000; i++) {
        grt_object *n = grt_tuple_pack(1, t);
        grt_decref(t);
        t = n;
    }
    T_EQ(grt_hash(t), -1);
    T_ERR(GRT_ERR_RUNTIME, "maximum recursion depth");
    grt_object *r = grt_repr(t);
    T_EQ_PTR(r, NULL);
    T_ERR(GRT_ERR_RUNTIME, "maximum recursion depth");
    grt_decref(t);
}

TEST(tuples_in_cycles_are_collected)
{
    grt_gc_collect(2);
    /* t = ([t],): the list is the only way into t */
    grt_object *l = grt_list_new(0);
    grt_object *t = grt_tuple_pack(1, l);
    T_EQ(grt_gc_is_tracked(t), 1);
    grt_list_append(l, t);
    grt_decref(l);
    grt_decref(t);
    /* a tuple that contains itself, made with init_item */
    grt_object *self = grt_tuple_new(2);
    grt_tuple_init_item(self, 0, grt_newref(self));
    grt_decref(self);                       /* item 1 is still NULL: traverse skips it */
    grt_object_counts c0 = grt_object_counts_get();
    T_EQ(grt_gc_collect(2), 3);
    T_EQ(grt_object_counts_get().freed - c0.freed, 3);
}
