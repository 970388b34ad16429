/*
 * Reference-count semantics, on the seed documents' own examples: two names
 * for one object, containers holding references, del, leaving a scope.
 */
#include "harness.h"

/* A fresh, non-immortal object (a str built at run time is never interned). */
static grt_object *fresh(const char *s) { grt_object *o = grt_str_new(s); T_NOT_NULL(o); return o; }

TEST(new_object_has_one_reference)
{
    grt_object *x = fresh("three hundred");
    T_EQ(grt_refcnt(x), 1);
    T_FALSE(grt_is_immortal(x));
    grt_decref(x);
}

TEST(two_names_for_one_object)
{
    /* x = <obj>; y = x  -> both names refer to one object with count 2 */
    grt_object *x = fresh("300");
    grt_object *y = grt_newref(x);
    T_EQ_PTR(y, x);
    T_EQ(grt_refcnt(x), 2);
    grt_decref(y);                      /* del y */
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

TEST(container_holds_a_reference)
{
    grt_object *x = fresh("item");
    grt_object *l = grt_list_new(0);
    T_EQ(grt_list_append(l, x), 0);
    T_EQ(grt_refcnt(x), 2);            /* the name and the list slot */
    T_EQ(grt_list_append(l, x), 0);
    T_EQ(grt_refcnt(x), 3);
    grt_decref(l);                      /* the list releases both */
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

TEST(del_frees_at_zero)
{
    grt_object_counts before = grt_object_counts_get();
    grt_object *x = fresh("short lived");
    grt_object_counts mid = grt_object_counts_get();
    T_EQ(mid.allocated - before.allocated, 1);
    T_EQ(mid.freed - before.freed, 0);
    grt_decref(x);                      /* del x */
    grt_object_counts after = grt_object_counts_get();
    T_EQ(after.freed - before.freed, 1);
}

static int64_t count_inside(grt_object *arg)
{
    grt_object *local = grt_newref(arg);   /* a local variable in the callee */
    int64_t n = grt_refcnt(arg);
    grt_decref(local);                     /* leaving the scope */
    return n;
}

TEST(leaving_a_scope_releases)
{
    grt_object *x = fresh("scoped");
    T_EQ(count_inside(x), 2);
    T_EQ(grt_refcnt(x), 1);
    grt_decref(x);
}

TEST(xincref_xdecref_accept_null)
{
    grt_xincref(NULL);
    grt_xdecref(NULL);
    grt_object *x = fresh("x");
    grt_xincref(x);
    T_EQ(grt_refcnt(x), 2);
    grt_xdecref(x);
    T_EQ(grt_refcnt(x), 1);
    grt_object *p = x;
    grt_clear(p);
    T_EQ_PTR(p, NULL);
}

TEST(freeing_a_container_cascades)
{
    grt_object_counts before = grt_object_counts_get();
    grt_object *outer = grt_list_new(0);
    for (int i = 0; i < 10; i++) {
        grt_object *inner = grt_list_new(0);
        grt_object *s = grt_str_new("leaf");
        grt_list_append(inner, s);
        grt_decref(s);
        grt_list_append(outer, inner);
        grt_decref(inner);
    }
    grt_object_counts mid = grt_object_counts_get();
    T_EQ(mid.allocated - before.allocated, 21);
    grt_decref(outer);
    grt_object_counts after = grt_object_counts_get();
    T_EQ(after.freed - before.freed, 21);
}

TEST(refcount_of_a_dict_value)
{
    grt_object *d = grt_dict_new();
    grt_object *k = fresh("key"), *v = fresh("value");
    T_EQ(grt_dict_set(d, k, v), 0);
    T_EQ(grt_refcnt(k), 2);
    T_EQ(grt_refcnt(v), 2);
    grt_object *got = grt_dict_get(d, k);   /* new reference */
    T_EQ_PTR(got, v);
    T_EQ(grt_refcnt(v), 3);
    grt_decref(got);
    T_EQ(grt_dict_del(d, k), 0);
    T_EQ(grt_refcnt(k), 1);
    T_EQ(grt_refcnt(v), 1);
    grt_decref(d);
    grt_decref(k);
    grt_decref(v);
}
