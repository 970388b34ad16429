/*
 * Deallocation cascades, including chains deep enough to overflow the C
 * stack if freed recursively (CPython's trashcan problem).
 */
#include "harness.h"

static grt_object *nested_lists(int depth)
{
    grt_object *cur = grt_list_new(0);
    for (int i = 1; i < depth; i++) {
        grt_object *outer = grt_list_new(0);
        T_NOT_NULL(outer);
        T_EQ(grt_list_append(outer, cur), 0);
        grt_decref(cur);
        cur = outer;
    }
    return cur;
}

TEST(million_deep_nested_lists_free_without_overflow)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *chain = nested_lists(1000000);
    T_EQ(grt_object_counts_get().allocated - c0.allocated, 1000000);
    grt_decref(chain);
    T_EQ(grt_object_counts_get().freed - c0.freed, 1000000);
}

TEST(deep_chain_of_dicts_and_tuples)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *cur = grt_None;
    grt_incref(cur);
    for (int i = 0; i < 200000; i++) {
        grt_object *next;
        if (i & 1) {
            next = grt_tuple_pack(1, cur);
        } else {
            next = grt_dict_new();
            grt_dict_set_str(next, "down", cur);
        }
        T_NOT_NULL(next);
        grt_decref(cur);
        cur = next;
    }
    grt_decref(cur);
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.freed - c0.freed, c1.allocated - c0.allocated);
}

TEST(wide_tree_cascade)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *root = grt_list_new(0);
    for (int i = 0; i < 1000; i++) {
        grt_object *child = grt_list_new(0);
        for (int j = 0; j < 10; j++) {
            grt_object *leaf = grt_int_new(100000 + j);
            grt_list_append(child, leaf);
            grt_decref(leaf);
        }
        grt_list_append(root, child);
        grt_decref(child);
    }
    grt_decref(root);
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, 1 + 1000 + 10000);
    T_EQ(c1.freed - c0.freed, 1 + 1000 + 10000);
}
