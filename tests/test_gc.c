/*
 * The cycle collector: CPython's Lib/test/test_gc.py scenarios that apply
 * to a C API (self-referencing list, dict, tuple and instance cycles with
 * exact counts, finalizers in cycles, resurrection, counts and thresholds,
 * the 25% rule, untracking, SAVEALL and the garbage list, callbacks,
 * statistics, get_objects / get_referrers / get_referents, bad arguments),
 * and the seed documents' examples.  Finalizers, freeze and fork are in
 * test_gc_final.c, threads in test_gc_threads.c.
 *
 * Every case runs in a fresh runtime; automatic collection only happens at
 * safepoints, which these cases call only where they mean to.
 */
#include "harness.h"
#include <unistd.h>

static const char *const slots_abc[] = { "a", "b", "c", NULL };

/* allocated - freed since grt_init */
static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

static int64_t list_len(grt_object *l) { return grt_list_len(l); }

static int list_contains(grt_object *l, grt_object *o)
{
    for (int64_t i = 0; i < grt_list_len(l); i++) {
        grt_object *x = grt_list_get(l, i);
        grt_decref(x);
        if (x == o)
            return 1;
    }
    return 0;
}

/* ---- cycles with exact counts ------------------------------------------------------------ */

TEST(gc_list_self_cycle)
{
    T_EQ(grt_gc_collect(2), 0);
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    T_EQ(grt_refcnt(l), 2);
    T_EQ(grt_gc_collect(2), 0);             /* still referenced from here */
    int64_t before = live_objects();
    grt_decref(l);                          /* only the self-reference is left */
    T_EQ(live_objects(), before);
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(live_objects(), before - 1);
    T_EQ(grt_gc_collect(2), 0);
}

TEST(gc_dict_self_cycle)
{
    grt_object *d = grt_dict_new();
    grt_object *k = grt_int_new(1);
    T_FALSE(grt_gc_is_tracked(d));          /* dicts start untracked */
    grt_dict_set(d, k, d);
    T_TRUE(grt_gc_is_tracked(d));           /* a container was stored */
    grt_decref(k);
    grt_decref(d);
    T_EQ(grt_gc_collect(2), 1);
}

TEST(gc_tuple_list_cycle)
{
    /* l = []; t = (l,); l.append(t): two objects */
    grt_object *l = grt_list_new(0);
    grt_object *t = grt_tuple_pack(1, l);
    grt_list_append(l, t);
    grt_decref(t);
    grt_decref(l);
    T_EQ(grt_gc_collect(2), 2);
}

TEST(gc_instance_cycles)
{
    /* dict instances: the instance and its attribute dict */
    grt_type *A = grt_class_new("A", NULL);
    grt_object *a = grt_instance_new(A);
    grt_setattr(a, "a", a);
    grt_decref(a);
    T_EQ(grt_gc_collect(2), 2);
    /* slot instances: no dict */
    grt_type *S = grt_class_new("S", slots_abc);
    grt_object *s = grt_instance_new(S);
    grt_setattr(s, "a", s);
    grt_decref(s);
    T_EQ(grt_gc_collect(2), 1);
    grt_decref(&A->ob_base);
    grt_decref(&S->ob_base);
}

TEST(gc_long_cycle_and_what_hangs_off_it)
{
    /* 100 lists in a ring */
    grt_object *first = grt_list_new(0), *prev = first;
    for (int i = 1; i < 100; i++) {
        grt_object *l = grt_list_new(0);
        grt_list_append(prev, l);
        if (prev != first) grt_decref(prev);
        prev = l;
    }
    grt_list_append(prev, first);
    grt_decref(prev);
    int64_t before = live_objects();
    grt_decref(first);
    T_EQ(grt_gc_collect(2), 100);
    T_EQ(live_objects(), before - 100);
}

TEST(gc_reachable_from_outside_survives)
{
    /* a -> b -> a, and an outside reference to b: nothing is garbage */
    grt_object *a = grt_list_new(0), *b = grt_list_new(0);
    grt_list_append(a, b);
    grt_list_append(b, a);
    grt_decref(a);
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(grt_refcnt(b), 2);
    grt_object *a2 = grt_list_get(b, 0);
    T_EQ_PTR(a2, a);
    grt_decref(a2);
    grt_decref(b);
    T_EQ(grt_gc_collect(2), 2);
}

TEST(gc_a_tuple_being_filled_keeps_what_it_holds)
{
    /* The collector reads a tuple's items directly (gc/collect.c); a tuple
     * still being filled has NULL items, skipped in both steps.  Reachable
     * from outside (our reference), it keeps the cycle in item 0 alive
     * through the mark step's traversal; filled and dropped, all goes. */
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_object *t = grt_tuple_new(3);
    T_EQ(grt_tuple_init_item(t, 1, l), 0);  /* steals l; items 0 and 2 are NULL */
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(grt_refcnt(l), 2);
    T_EQ(grt_tuple_init_item(t, 0, grt_newref(t)), 0);   /* t -> t */
    T_EQ(grt_tuple_init_item(t, 2, grt_int_new(5000)), 0);
    int64_t before = live_objects();
    grt_decref(t);
    T_EQ(grt_gc_collect(2), 2);             /* t and l; the int goes by refcount */
    T_EQ(live_objects(), before - 3);
}

TEST(gc_garbage_reachable_only_from_garbage)
{
    /* a cycle holding a long chain: the chain is freed by refcounting when
     * the cycle is cleared, and counted as unreachable too */
    grt_object *c = grt_list_new(0);
    grt_list_append(c, c);
    grt_object *tail = c;
    for (int i = 0; i < 10; i++) {
        grt_object *n = grt_list_new(0);
        grt_list_append(tail, n);
        if (tail != c) grt_decref(tail);
        tail = n;
    }
    grt_decref(tail);
    grt_decref(c);
    T_EQ(grt_gc_collect(2), 11);
}

/* ---- the seed documents' examples --------------------------------------------------------- */

static const char *const node_slots[] = { "value", "left", "right", "parent", NULL };

TEST(gc_seed_node_root_left_right)
{
    grt_type *Node = grt_class_new("Node", node_slots);
    grt_object *root = grt_instance_new(Node), *left = grt_instance_new(Node),
               *right = grt_instance_new(Node);
    grt_setattr(root, "left", left);
    grt_setattr(root, "right", right);
    grt_setattr(left, "parent", root);
    grt_setattr(right, "parent", root);
    grt_decref(&Node->ob_base);
    int64_t before = live_objects();
    grt_decref(root);
    grt_decref(left);
    grt_decref(right);
    T_EQ(live_objects(), before);           /* refcounting alone frees nothing */
    T_EQ(grt_refcnt(root), 2);              /* left.parent, right.parent */
    T_EQ(grt_gc_collect(2), 3);
    T_EQ(live_objects(), before - 4);       /* the three nodes and the class */
}

TEST(gc_seed_container_append_container)
{
    grt_object *container = grt_list_new(0);
    grt_list_append(container, container);
    T_EQ(grt_refcnt(container), 2);
    grt_decref(container);                  /* del container: count 1, not freed */
    int64_t before = live_objects();
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(live_objects(), before - 1);
}

static const char *const world_slots[] = { "animals", NULL };
static const char *const animal_slots[] = { "name", "world", NULL };

TEST(gc_seed_world_animal_cycle)
{
    grt_type *World = grt_class_new("World", world_slots);
    grt_type *Animal = grt_class_new("Animal", animal_slots);
    grt_object *world = grt_instance_new(World);
    grt_object *animals = grt_list_new(0);
    grt_setattr(world, "animals", animals);
    for (int i = 0; i < 3; i++) {
        grt_object *a = grt_instance_new(Animal);
        grt_object *name = grt_str_new(i == 0 ? "cat" : i == 1 ? "dog" : "bird");
        grt_setattr(a, "name", name);
        grt_setattr(a, "world", world);     /* the back reference: a cycle */
        grt_list_append(animals, a);
        grt_decref(name);
        grt_decref(a);
    }
    grt_decref(animals);
    grt_decref(&World->ob_base);
    grt_decref(&Animal->ob_base);
    int64_t before = live_objects();
    grt_decref(world);
    T_EQ(live_objects(), before);           /* kept alive by the animals */
    T_EQ(grt_gc_collect(2), 5);             /* world, list, three animals */
    /* + 3 names and the 2 classes, freed by refcounting on the way */
    T_EQ(live_objects(), before - 10);
}

TEST(gc_seed_world_animal_weakref)
{
    grt_type *World = grt_class_new("World", world_slots);
    grt_type *Animal = grt_class_new("Animal", animal_slots);
    grt_object *world = grt_instance_new(World);
    grt_object *animals = grt_list_new(0);
    grt_setattr(world, "animals", animals);
    grt_object *a = grt_instance_new(Animal);
    grt_object *wr = grt_weakref_new(world, NULL);
    grt_setattr(a, "world", wr);            /* a weak back reference: no cycle */
    grt_list_append(animals, a);
    grt_object *back = grt_getattr(a, "world");
    grt_object *w2 = grt_weakref_get(back);
    T_EQ_PTR(w2, world);
    grt_decref(w2);
    grt_decref(back);
    grt_decref(a);
    grt_decref(animals);
    grt_decref(&World->ob_base);
    grt_decref(&Animal->ob_base);
    int64_t before = live_objects();
    grt_decref(world);                      /* freed at once by refcounting */
    T_EQ(live_objects(), before - 5);       /* world, list, animal, the two classes */
    T_EQ(grt_gc_collect(2), 0);
    grt_object *gone = grt_weakref_get(wr); /* we still hold wr itself */
    T_EQ_PTR(gone, grt_None);
    grt_decref(wr);
}

/* ---- counts, generations, thresholds --------------------------------------------------------- */

TEST(gc_get_count_counts_allocations)
{
    grt_gc_collect(2);
    int64_t c[3];
    grt_gc_get_count(c);
    T_EQ(c[0], 0);
    T_EQ(c[1], 0);
    T_EQ(c[2], 0);
    grt_object *x = grt_list_new(0);
    grt_object *d = grt_dict_new();         /* untracked, but a container allocation */
    grt_gc_get_count(c);
    T_EQ(c[0], 2);
    grt_decref(d);
    grt_gc_get_count(c);
    T_EQ(c[0], 1);
    grt_object *i = grt_int_new(12345);     /* not a container: not counted */
    grt_gc_get_count(c);
    T_EQ(c[0], 1);
    grt_decref(i);
    grt_decref(x);
    grt_gc_get_count(c);
    T_EQ(c[0], 0);
}

TEST(gc_collect_generations_moves_survivors_up)
{
    grt_gc_collect(2);
    grt_object *x = grt_list_new(0);
    int64_t c[3];
    grt_object *g0 = grt_gc_get_objects(0), *g1, *g2;
    T_TRUE(list_contains(g0, x));
    grt_decref(g0);
    grt_gc_collect(0);                      /* x is now in generation 1 */
    grt_gc_get_count(c);
    T_EQ(c[1], 1);
    T_EQ(c[2], 0);
    g0 = grt_gc_get_objects(0);
    g1 = grt_gc_get_objects(1);
    T_FALSE(list_contains(g0, x));
    T_TRUE(list_contains(g1, x));
    grt_decref(g0);
    grt_decref(g1);
    grt_gc_collect(1);                      /* x is now in generation 2 */
    grt_gc_get_count(c);
    T_EQ(c[1], 0);
    T_EQ(c[2], 1);
    g1 = grt_gc_get_objects(1);
    g2 = grt_gc_get_objects(2);
    T_FALSE(list_contains(g1, x));
    T_TRUE(list_contains(g2, x));
    grt_decref(g1);
    grt_decref(g2);
    grt_gc_collect(2);                      /* stays in generation 2 */
    grt_gc_get_count(c);
    T_EQ(c[1], 0);
    T_EQ(c[2], 0);
    g2 = grt_gc_get_objects(2);
    T_TRUE(list_contains(g2, x));
    grt_object *all = grt_gc_get_objects(-1);
    T_TRUE(list_contains(all, x));
    T_FALSE(list_contains(all, all));       /* the result is not in itself */
    T_EQ(_grt_gc_check(), 0);
    grt_decref(all);
    grt_decref(g2);
    grt_decref(x);
}

TEST(gc_young_collection_leaves_old_garbage)
{
    /* garbage in generation 2 is not found by a generation-0 collection */
    grt_object *old = grt_list_new(0);
    grt_list_append(old, old);
    grt_gc_collect(2);
    grt_decref(old);
    grt_object *young = grt_list_new(0);
    grt_list_append(young, young);
    grt_decref(young);
    T_EQ(grt_gc_collect(0), 1);             /* only the young one */
    T_EQ(grt_gc_collect(1), 0);
    T_EQ(grt_gc_collect(2), 1);             /* the old one */
}

TEST(gc_thresholds)
{
    int64_t t[3];
    grt_gc_get_threshold(t);
    T_EQ(t[0], 700);
    T_EQ(t[1], 10);
    T_EQ(t[2], 10);
    T_EQ(grt_gc_set_threshold(5, 3, 2), 0);
    grt_gc_get_threshold(t);
    T_EQ(t[0], 5);
    T_EQ(t[1], 3);
    T_EQ(t[2], 2);
    T_EQ(grt_gc_set_threshold(-1, 3, 2), -1);
    T_ERR(GRT_ERR_VALUE, "threshold 0 must be between 0 and");
    T_EQ(grt_gc_set_threshold(1, 1, -5), -1);
    T_ERR(GRT_ERR_VALUE, "got -5");
    grt_gc_get_threshold(t);
    T_EQ(t[0], 5);                          /* unchanged by the failed calls */
}

TEST(gc_automatic_collection_at_safepoint)
{
    grt_gc_collect(2);
    T_EQ(grt_gc_set_threshold(10, 10, 10), 0);
    grt_gc_stats s0, s1;
    grt_gc_get_stats(&s0);
    grt_object *keep = grt_list_new(0);     /* 1 */
    for (int i = 0; i < 9; i++) {           /* 10: not above the threshold */
        grt_object *l = grt_list_new(0);
        grt_list_append(l, l);              /* cyclic garbage */
        grt_decref(l);
    }
    grt_safepoint();
    grt_gc_get_stats(&s1);
    T_EQ(s1.gen[0].collections, s0.gen[0].collections);
    grt_object *l = grt_list_new(0);        /* 11 > 10: requested, not run yet */
    grt_list_append(l, l);
    grt_decref(l);
    grt_gc_get_stats(&s1);
    T_EQ(s1.gen[0].collections, s0.gen[0].collections);  /* never inside the allocator */
    T_TRUE(grt_atomic_load_32(&_grt_tstate_current->xbreaker) & GRT_BREAK_GC);
    grt_safepoint();                        /* runs it */
    grt_gc_get_stats(&s1);
    T_EQ(s1.gen[0].collections, s0.gen[0].collections + 1);
    T_EQ(s1.gen[0].collected, s0.gen[0].collected + 10);
    int64_t c[3];
    grt_gc_get_count(c);
    T_EQ(c[0], 0);
    T_EQ(c[1], 1);
    /* disabled: counted, never collected automatically */
    grt_gc_disable();
    T_FALSE(grt_gc_isenabled());
    for (int i = 0; i < 30; i++) {
        grt_object *x = grt_list_new(0);
        grt_list_append(x, x);
        grt_decref(x);
        grt_safepoint();
    }
    grt_gc_get_stats(&s1);
    T_EQ(s1.gen[0].collections, s0.gen[0].collections + 1);
    grt_gc_get_count(c);
    T_EQ(c[0], 30);
    T_EQ(grt_gc_collect(0), 30);            /* still works by hand */
    grt_gc_enable();
    T_TRUE(grt_gc_isenabled());
    grt_decref(keep);
}

TEST(gc_threshold_zero_disables_automatic_collection)
{
    T_EQ(grt_gc_set_threshold(0, 10, 10), 0);
    grt_gc_stats s0, s1;
    grt_gc_get_stats(&s0);
    for (int i = 0; i < 1000; i++) {
        grt_object *x = grt_list_new(0);
        grt_list_append(x, x);
        grt_decref(x);
    }
    grt_safepoint();
    grt_gc_get_stats(&s1);
    T_EQ(s1.gen[0].collections, s0.gen[0].collections);
    T_EQ(grt_gc_collect(2), 1000);
}

TEST(gc_older_generations_follow_their_thresholds)
{
    grt_gc_collect(2);
    T_EQ(grt_gc_set_threshold(1000000, 2, 1000), 0);
    int gens[6];
    for (int i = 0; i < 6; i++) {
        grt_gc_collect(0);
        gens[i] = _grt_gc_collect_auto();
    }
    /* count[1] goes 1, 2, 3: the third young collection makes generation 1 due */
    T_EQ(gens[0], -1);
    T_EQ(gens[1], -1);
    T_EQ(gens[2], 1);
    T_EQ(gens[3], -1);
    T_EQ(gens[4], -1);
    T_EQ(gens[5], 1);
}

TEST(gc_full_collection_waits_for_a_quarter_of_the_heap)
{
    /* CPython's long_lived_pending > long_lived_total / 4 rule */
    grt_object *keep = grt_list_new(0);
    for (int i = 0; i < 400; i++) {
        grt_object *l = grt_list_new(0);
        grt_list_append(keep, l);
        grt_decref(l);
    }
    grt_gc_collect(2);
    grt_object *g2 = grt_gc_get_objects(2);
    int64_t total = list_len(g2);            /* long_lived_total */
    grt_decref(g2);
    T_GE(total, 401);
    T_EQ(grt_gc_set_threshold(1000000, 0, 0), 0);
    int64_t pending = 0;
    int full_at = -1;
    for (int round = 1; round <= 20 && full_at < 0; round++) {
        for (int i = 0; i < 10; i++) {      /* 10 more long-lived objects */
            grt_object *l = grt_list_new(0);
            grt_list_append(keep, l);
            grt_decref(l);
        }
        grt_gc_collect(0);                  /* they reach generation 1 */
        T_EQ(_grt_gc_collect_auto(), 1);    /* count[1] > 0: into generation 2 */
        pending += 10;
        int gen = _grt_gc_collect_auto();   /* count[2] > 0: full, if pending is enough */
        if (pending < total / 4)
            T_EQ(gen, -1);
        else {
            T_EQ(gen, 2);
            full_at = round;
        }
    }
    T_EQ(full_at, (int)((total / 4 + 9) / 10));
    T_EQ(_grt_gc_check(), 0);
    grt_decref(keep);
}

/* ---- untracking ---------------------------------------------------------------------------------- */

TEST(gc_is_tracked)
{
    T_FALSE(grt_gc_is_tracked(grt_None));
    T_FALSE(grt_gc_is_tracked(grt_True));
    grt_object *i = grt_int_new(1000), *f = grt_float_new(1.5), *s = grt_str_new("a");
    T_FALSE(grt_gc_is_tracked(i));
    T_FALSE(grt_gc_is_tracked(f));
    T_FALSE(grt_gc_is_tracked(s));
    T_FALSE(grt_gc_is_tracked(&grt_list_type.ob_base));
    grt_object *l = grt_list_new(0);
    T_TRUE(grt_gc_is_tracked(l));
    grt_object *d = grt_dict_new();
    T_FALSE(grt_gc_is_tracked(d));
    grt_dict_set_str(d, "a", i);
    T_FALSE(grt_gc_is_tracked(d));          /* atomic values only */
    grt_object *d2 = grt_dict_new();
    grt_dict_set_str(d, "b", d2);           /* an (untracked) dict may become tracked */
    T_TRUE(grt_gc_is_tracked(d));
    grt_type *C = grt_class_new("C", NULL);
    grt_object *c = grt_instance_new(C);
    T_TRUE(grt_gc_is_tracked(c));
    T_FALSE(grt_gc_is_tracked(NULL));
    grt_decref(c);
    grt_decref(&C->ob_base);
    grt_decref(d2);
    grt_decref(d);
    grt_decref(l);
    grt_decref(i);
    grt_decref(f);
    grt_decref(s);
}

TEST(gc_tuples_of_untracked_items_are_untracked_by_a_collection)
{
    grt_object *i = grt_int_new(7), *s = grt_str_new("x");
    grt_object *t = grt_tuple_pack(2, i, s);
    grt_object *l = grt_list_new(0);
    grt_object *tl = grt_tuple_pack(2, i, l);       /* holds a list: stays */
    grt_object *inner = grt_tuple_pack(1, i);
    grt_object *outer = grt_tuple_pack(1, inner);   /* tracked while inner is */
    grt_object *d = grt_dict_new();
    grt_object *td = grt_tuple_pack(1, d);          /* an untracked dict may change */
    grt_object *empty = grt_tuple_new(0);
    T_TRUE(grt_gc_is_tracked(t));
    T_TRUE(grt_gc_is_tracked(outer));
    grt_gc_collect(0);
    T_FALSE(grt_gc_is_tracked(t));
    T_TRUE(grt_gc_is_tracked(tl));
    T_FALSE(grt_gc_is_tracked(inner));
    T_TRUE(grt_gc_is_tracked(td));
    T_FALSE(grt_gc_is_tracked(empty));
    grt_gc_collect(2);                      /* now that inner is untracked */
    T_FALSE(grt_gc_is_tracked(outer));
    T_EQ(_grt_gc_check(), 0);
    grt_object *objs = grt_gc_get_objects(-1);
    T_FALSE(list_contains(objs, t));
    T_TRUE(list_contains(objs, tl));
    grt_decref(objs);
    grt_decref(t); grt_decref(tl); grt_decref(inner); grt_decref(outer);
    grt_decref(td); grt_decref(d); grt_decref(empty); grt_decref(l);
    grt_decref(i); grt_decref(s);
}

TEST(gc_track_and_untrack_by_hand)
{
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    T_EQ(grt_gc_untrack(l), 0);
    T_FALSE(grt_gc_is_tracked(l));
    T_EQ(grt_gc_untrack(l), 0);             /* twice: nothing */
    grt_object *all = grt_gc_get_objects(-1);
    T_FALSE(list_contains(all, l));
    grt_decref(all);
    T_EQ(grt_gc_collect(2), 0);             /* invisible to the collector */
    T_EQ(grt_gc_track(l), 0);
    T_EQ(grt_gc_track(l), 0);               /* twice: tracked once */
    T_TRUE(grt_gc_is_tracked(l));
    grt_decref(l);
    T_EQ(grt_gc_collect(2), 1);
    grt_object *i = grt_int_new(5000);
    T_EQ(grt_gc_track(i), -1);
    T_ERR(GRT_ERR_TYPE, "int objects are not containers");
    T_EQ(grt_gc_untrack(i), -1);
    T_ERR(GRT_ERR_TYPE, "grt_gc_untrack: int");
    T_EQ(grt_gc_track(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "argument 'o' is NULL");
    grt_decref(i);
}

/* ---- SAVEALL, the garbage list, debug output ---------------------------------------------------- */

TEST(gc_saveall_keeps_garbage_in_the_garbage_list)
{
    grt_gc_collect(2);
    grt_object *garbage = grt_gc_garbage();
    T_NOT_NULL(garbage);
    T_EQ(grt_list_len(garbage), 0);
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    unsigned debug = grt_gc_get_debug();
    T_EQ(grt_gc_set_debug(debug | GRT_GC_DEBUG_SAVEALL), 0);
    grt_decref(l);
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(grt_gc_set_debug(debug), 0);
    T_EQ(grt_list_len(garbage), 1);
    grt_object *obj = grt_list_pop(garbage, -1);
    T_EQ_PTR(obj, l);                       /* the very object, alive */
    T_EQ(grt_refcnt(obj), 2);               /* ours and its own */
    T_TRUE(grt_gc_is_tracked(obj));
    grt_decref(obj);
    T_EQ(grt_gc_collect(2), 1);             /* without SAVEALL it is freed */
    T_EQ(grt_list_len(garbage), 0);
}

TEST(gc_set_debug_flags)
{
    T_EQ(grt_gc_get_debug(), 0);
    T_EQ(GRT_GC_DEBUG_LEAK, GRT_GC_DEBUG_COLLECTABLE | GRT_GC_DEBUG_UNCOLLECTABLE |
                            GRT_GC_DEBUG_SAVEALL);
    T_EQ(grt_gc_set_debug(GRT_GC_DEBUG_STATS | GRT_GC_DEBUG_UNCOLLECTABLE), 0);
    T_EQ(grt_gc_get_debug(), GRT_GC_DEBUG_STATS | GRT_GC_DEBUG_UNCOLLECTABLE);
    T_EQ(grt_gc_set_debug(0x100), -1);
    T_ERR(GRT_ERR_VALUE, "unknown flag bits 0x100");
    T_EQ(grt_gc_get_debug(), GRT_GC_DEBUG_STATS | GRT_GC_DEBUG_UNCOLLECTABLE);
    T_EQ(grt_gc_set_debug(0), 0);
}

/* Run fn with stderr captured; returns the text (static buffer). */
static const char *capture_stderr(void (*fn)(void))
{
    static char buf[8192];
    fflush(stderr);
    FILE *tmp = tmpfile();
    T_NOT_NULL(tmp);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    return buf;
}

static grt_object *debug_victim;

static void collect_with_debug(void)
{
    grt_gc_set_debug(GRT_GC_DEBUG_STATS | GRT_GC_DEBUG_COLLECTABLE);
    grt_gc_collect(1);
    grt_gc_set_debug(0);
}

TEST(gc_debug_output_like_cpython)
{
    grt_gc_collect(2);
    grt_object *keep = grt_list_new(0);
    grt_gc_collect(0);                      /* keep: generation 1 */
    debug_victim = grt_list_new(0);
    grt_list_append(debug_victim, debug_victim);
    grt_decref(debug_victim);
    const char *out = capture_stderr(collect_with_debug);
    char expect[128];
    T_TRUE(strstr(out, "gc: collecting generation 1...\n") != NULL);
    T_TRUE(strstr(out, "gc: objects in each generation: 1 1 0\n") != NULL);
    T_TRUE(strstr(out, "gc: objects in permanent generation: 0\n") != NULL);
    snprintf(expect, sizeof expect, "gc: collectable <list %p>\n", (void *)debug_victim);
    T_TRUE(strstr(out, expect) != NULL);
    T_TRUE(strstr(out, "gc: done, 1 unreachable, 0 uncollectable, ") != NULL);
    T_TRUE(strstr(out, "s elapsed\n") != NULL);
    grt_decref(keep);
}

/* ---- callbacks and statistics -------------------------------------------------------------------- */

typedef struct cb_log {
    int n;
    grt_gc_phase phase[8];
    grt_gc_info info[8];
} cb_log;

static void record_cb(grt_gc_phase phase, const grt_gc_info *info, void *arg)
{
    cb_log *log = arg;
    if (log->n < 8) {
        log->phase[log->n] = phase;
        log->info[log->n] = *info;
    }
    log->n++;
}

TEST(gc_callbacks_get_start_and_stop_with_info)
{
    cb_log a = { 0 }, b = { 0 };
    T_EQ(grt_gc_callback_add(record_cb, &a), 0);
    T_EQ(grt_gc_callback_add(record_cb, &b), 0);
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    T_EQ(grt_gc_collect(1), 1);
    T_EQ(a.n, 2);
    T_EQ(b.n, 2);
    T_EQ(a.phase[0], GRT_GC_START);
    T_EQ(a.info[0].generation, 1);
    T_EQ(a.info[0].collected, 0);
    T_EQ(a.phase[1], GRT_GC_STOP);
    T_EQ(a.info[1].generation, 1);
    T_EQ(a.info[1].collected, 1);
    T_EQ(a.info[1].uncollectable, 0);
    T_EQ(grt_gc_callback_remove(record_cb, &a), 0);
    grt_gc_collect(2);
    T_EQ(a.n, 2);
    T_EQ(b.n, 4);
    T_EQ(b.info[3].generation, 2);
    T_EQ(grt_gc_callback_remove(record_cb, &a), -1);
    T_ERR(GRT_ERR_VALUE, "not registered");
    T_EQ(grt_gc_callback_add(NULL, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "'fn' is NULL");
    T_EQ(grt_gc_callback_remove(record_cb, &b), 0);
}

static int64_t nested_result = -7;
static void nested_collect_cb(grt_gc_phase phase, const grt_gc_info *info, void *arg)
{
    (void)info; (void)arg;
    if (phase == GRT_GC_START)
        nested_result = grt_gc_collect(2);  /* during a collection: does nothing */
}

TEST(gc_collect_inside_a_collection_returns_zero)
{
    grt_gc_callback_add(nested_collect_cb, NULL);
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(nested_result, 0);
    grt_gc_callback_remove(nested_collect_cb, NULL);
}

TEST(gc_stats_per_generation)
{
    grt_gc_stats s0, s1;
    T_EQ(grt_gc_get_stats(&s0), 0);
    for (int i = 0; i < 3; i++) {
        grt_object *l = grt_list_new(0);
        grt_list_append(l, l);
        grt_decref(l);
    }
    grt_gc_collect(0);
    grt_gc_collect(0);
    grt_gc_collect(2);
    T_EQ(grt_gc_get_stats(&s1), 0);
    T_EQ(s1.gen[0].collections - s0.gen[0].collections, 2);
    T_EQ(s1.gen[0].collected - s0.gen[0].collected, 3);
    T_EQ(s1.gen[1].collections - s0.gen[1].collections, 0);
    T_EQ(s1.gen[2].collections - s0.gen[2].collections, 1);
    T_EQ(s1.gen[2].collected - s0.gen[2].collected, 0);
    T_EQ(s1.gen[2].uncollectable, 0);
    T_GE(s1.collection_max_ns, s1.collection_last_ns);
    T_GE(s1.pause_max_ns, s1.pause_last_ns);
    T_GE(s1.tts_max_ns, s1.tts_last_ns);
    T_EQ(grt_gc_get_stats(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "'out' is NULL");
}

/* ---- referrers and referents --------------------------------------------------------------------- */

TEST(gc_get_referrers_and_referents)
{
    grt_object *x = grt_list_new(0);
    grt_object *a = grt_list_new(0), *b = grt_dict_new(), *k = grt_str_new("k");
    grt_list_append(a, x);
    grt_dict_set(b, k, x);                  /* b is tracked now */
    grt_object *t = grt_tuple_pack(2, x, x);
    grt_object *r = grt_gc_get_referrers(1, &x);
    T_EQ(grt_list_len(r), 3);
    T_TRUE(list_contains(r, a));
    T_TRUE(list_contains(r, b));
    T_TRUE(list_contains(r, t));
    grt_decref(r);
    grt_object *objs[2] = { a, t };
    r = grt_gc_get_referents(2, objs);
    T_EQ(grt_list_len(r), 3);               /* a: x; t: x, x */
    T_TRUE(list_contains(r, x));
    grt_decref(r);
    r = grt_gc_get_referents(1, &b);
    T_EQ(grt_list_len(r), 2);               /* key and value */
    T_TRUE(list_contains(r, k));
    grt_decref(r);
    r = grt_gc_get_referents(1, &k);        /* not a container */
    T_EQ(grt_list_len(r), 0);
    grt_decref(r);
    T_EQ_PTR(grt_gc_get_referrers(1, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "expected an array of 1 objects");
    grt_object *bad[1] = { NULL };
    T_EQ_PTR(grt_gc_get_referents(1, bad), NULL);
    T_ERR(GRT_ERR_TYPE, "objs[0] is NULL");
    grt_decref(t); grt_decref(a); grt_decref(b); grt_decref(k); grt_decref(x);
}

/* ---- bad arguments --------------------------------------------------------------------------------- */

TEST(gc_invalid_generations)
{
    T_EQ(grt_gc_collect(3), -1);
    T_ERR(GRT_ERR_VALUE, "invalid generation 3");
    T_EQ(grt_gc_collect(-1), -1);
    T_ERR(GRT_ERR_VALUE, "expected 0, 1 or 2");
    T_EQ_PTR(grt_gc_get_objects(3), NULL);
    T_ERR(GRT_ERR_VALUE, "invalid generation 3");
    T_EQ_PTR(grt_gc_get_objects(-2), NULL);
    T_ERR(GRT_ERR_VALUE, "-1 for all");
    T_EQ(grt_gc_freeze(4), -1);
    T_ERR(GRT_ERR_VALUE, "unknown flags 0x4");
}

/* ---- the invariant checker itself ---------------------------------------------------------------- */

TEST(gc_check_finds_a_broken_header)
{
    grt_object *l = grt_list_new(0);
    grt_gc_collect(0);
    grt_gc_collect(2);
    T_EQ(_grt_gc_check(), 0);
    uintptr_t saved = _GRT_AS_GC(l)->gc_prev;
    _GRT_AS_GC(l)->gc_prev = saved | (1u << 3);     /* a scratch bit left behind */
    T_EQ(_grt_gc_check(), 1);
    _GRT_AS_GC(l)->gc_prev = saved;
    T_EQ(_grt_gc_check(), 0);
    grt_decref(l);
}
