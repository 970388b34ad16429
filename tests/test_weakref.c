/*
 * Weak references: CPython's Lib/test/test_weakref.py scenarios that apply
 * to a C API — basic references, sharing of the basic weakref, callbacks
 * (once, only while the weakref lives, newest first), weakrefs to cyclic
 * garbage (all cleared before any callback runs; a weakref that is garbage
 * itself gets no callback), getweakrefcount, hash / equality / repr, errors.
 */
#include "harness.h"
#include <unistd.h>

static grt_type *new_class(void) { return grt_class_new("C", NULL); }

static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

/* Records callbacks: the weakref, and data's identity. */
static int ncalls;
static grt_object *called_ref[8];
static grt_object *called_data[8];

static void record(grt_object *ref, grt_object *data)
{
    if (ncalls < 8) {
        called_ref[ncalls] = ref;
        called_data[ncalls] = data;
    }
    ncalls++;
}

TEST(weakref_basic)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r = grt_weakref_new(o, NULL);
    T_NOT_NULL(r);
    T_EQ_PTR(grt_type_of(r), &grt_weakref_type);
    T_EQ(grt_refcnt(o), 1);                 /* a weak reference is not counted */
    grt_object *got = grt_weakref_get(r);
    T_EQ_PTR(got, o);
    T_EQ(grt_refcnt(o), 2);                 /* get returns a new reference */
    grt_decref(got);
    T_EQ(grt_weakref_count(o), 1);
    grt_decref(o);
    got = grt_weakref_get(r);
    T_EQ_PTR(got, grt_None);
    grt_decref(got);
    T_TRUE(grt_gc_is_tracked(r));
    grt_decref(r);
    grt_decref(&C->ob_base);
}

TEST(weakref_basic_ref_is_shared)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r1 = grt_weakref_new(o, NULL);
    grt_object *r2 = grt_weakref_new(o, NULL);
    T_EQ_PTR(r1, r2);
    T_EQ(grt_refcnt(r1), 2);
    grt_object *r3 = grt_weakref_new(o, record);    /* with a callback: its own */
    T_NE((intptr_t)r3, (intptr_t)r1);
    T_EQ(grt_weakref_count(o), 2);
    grt_decref(r1);
    grt_decref(r2);
    T_EQ(grt_weakref_count(o), 1);          /* a dead weakref leaves the list */
    grt_decref(r3);
    T_EQ(grt_weakref_count(o), 0);
    grt_decref(o);
    grt_decref(&C->ob_base);
}

TEST(weakref_callback_runs_once_with_the_weakref)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *data = grt_str_new("payload");
    grt_object *r = grt_weakref_new_ex(o, record, data);
    T_EQ(grt_refcnt(data), 2);              /* the weakref keeps its data */
    ncalls = 0;
    grt_decref(o);
    T_EQ(ncalls, 1);
    T_EQ_PTR(called_ref[0], r);
    T_EQ_PTR(called_data[0], data);
    grt_object *got = grt_weakref_get(r);
    T_EQ_PTR(got, grt_None);
    grt_decref(got);
    grt_decref(r);
    T_EQ(grt_refcnt(data), 1);
    T_EQ(ncalls, 1);
    grt_decref(data);
    grt_decref(&C->ob_base);
}

TEST(weakref_callbacks_run_newest_first)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *d1 = grt_int_new(1001), *d2 = grt_int_new(1002), *d3 = grt_int_new(1003);
    grt_object *r1 = grt_weakref_new_ex(o, record, d1);
    grt_object *basic = grt_weakref_new(o, NULL);
    grt_object *r2 = grt_weakref_new_ex(o, record, d2);
    grt_object *r3 = grt_weakref_new_ex(o, record, d3);
    ncalls = 0;
    grt_decref(o);
    T_EQ(ncalls, 3);
    T_EQ_PTR(called_data[0], d3);
    T_EQ_PTR(called_data[1], d2);
    T_EQ_PTR(called_data[2], d1);
    grt_decref(r1); grt_decref(r2); grt_decref(r3); grt_decref(basic);
    grt_decref(d1); grt_decref(d2); grt_decref(d3);
    grt_decref(&C->ob_base);
}

TEST(weakref_dead_weakref_gets_no_callback)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r = grt_weakref_new(o, record);
    grt_object *r2 = grt_weakref_new(o, record);
    grt_decref(r);                          /* the weakref dies first */
    ncalls = 0;
    grt_decref(o);
    T_EQ(ncalls, 1);                        /* only r2's */
    T_EQ_PTR(called_ref[0], r2);
    grt_decref(r2);
    grt_decref(&C->ob_base);
}

/* A callback that looks at the other weakref: it must be cleared already. */
static grt_object *other_ref;
static int other_was_cleared;
static void check_other(grt_object *ref, grt_object *data)
{
    (void)ref; (void)data;
    ncalls++;
    grt_object *x = grt_weakref_get(other_ref);
    other_was_cleared += (x == grt_None);
    grt_decref(x);
}

TEST(weakref_to_cyclic_garbage)
{
    grt_type *C = new_class();
    grt_object *a = grt_instance_new(C), *b = grt_instance_new(C);
    grt_setattr(a, "b", b);
    grt_setattr(b, "a", a);
    grt_object *ra = grt_weakref_new(a, check_other);
    grt_object *rb = grt_weakref_new(b, check_other);
    other_ref = rb;
    grt_decref(a);
    grt_decref(b);
    ncalls = other_was_cleared = 0;
    T_EQ(grt_gc_collect(2), 4);             /* a, b and their dicts */
    /* both callbacks ran, each after both weakrefs had been cleared */
    T_EQ(ncalls, 2);
    T_EQ(other_was_cleared, 2);
    grt_object *x = grt_weakref_get(ra);
    T_EQ_PTR(x, grt_None);
    grt_decref(ra);
    grt_decref(rb);
    grt_decref(&C->ob_base);
}

TEST(weakref_in_the_garbage_gets_no_callback)
{
    /* the weakref is reachable only from the cycle it refers to */
    grt_type *C = grt_class_new("S", (const char *const[]){ "other", "wr", NULL });
    grt_object *a = grt_instance_new(C), *b = grt_instance_new(C);
    grt_setattr(a, "other", b);
    grt_setattr(b, "other", a);
    grt_object *r = grt_weakref_new(b, record);
    grt_setattr(a, "wr", r);
    grt_decref(r);
    grt_decref(a);
    grt_decref(b);
    grt_decref(&C->ob_base);
    ncalls = 0;
    int64_t before = live_objects();
    T_EQ(grt_gc_collect(2), 3);             /* a, b, the weakref */
    T_EQ(ncalls, 0);
    T_EQ(live_objects(), before - 4);       /* + the class */
}

/* A callback whose weakref dies when the collector drops its reference:
 * CPython counts such weakrefs as collected. */
static grt_object *holder;
static void drop_from_holder(grt_object *ref, grt_object *data)
{
    (void)ref; (void)data;
    ncalls++;
    grt_list_clear(holder);
}

TEST(weakref_freed_by_its_callback_counts_as_collected)
{
    grt_type *C = grt_class_new("S", (const char *const[]){ "me", NULL });
    grt_object *a = grt_instance_new(C);
    grt_setattr(a, "me", a);
    holder = grt_list_new(0);
    grt_object *r = grt_weakref_new(a, drop_from_holder);
    grt_list_append(holder, r);
    grt_decref(r);
    grt_decref(a);
    ncalls = 0;
    T_EQ(grt_gc_collect(2), 2);             /* a, and the weakref freed after its callback */
    T_EQ(ncalls, 1);
    T_EQ(grt_list_len(holder), 0);
    grt_decref(holder);
    grt_decref(&C->ob_base);
}

/* The data a callback gets may refer back to the weakref: a cycle. */
TEST(weakref_data_cycle_is_collected)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *box = grt_list_new(0);
    grt_object *r = grt_weakref_new_ex(o, record, box);
    grt_list_append(box, r);                /* r -> box -> r */
    grt_decref(box);
    grt_decref(r);
    T_EQ(grt_gc_collect(2), 2);
    T_EQ(grt_weakref_count(o), 0);
    ncalls = 0;
    grt_decref(o);
    T_EQ(ncalls, 0);
    grt_decref(&C->ob_base);
}

TEST(weakref_hash_eq_repr)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r1 = grt_weakref_new(o, NULL), *r2 = grt_weakref_new(o, record);
    T_EQ(grt_hash(r1), grt_hash(o));
    T_EQ(grt_equal(r1, r2), 1);             /* same referent */
    grt_object *rep = grt_repr(r1);
    char expect[96];
    snprintf(expect, sizeof expect, "; to 'C' at %p>", (void *)o);
    T_TRUE(strstr(grt_str_data(rep), expect) != NULL);
    grt_decref(rep);
    int64_t h = grt_hash(r1);
    grt_decref(o);
    T_EQ(grt_hash(r1), h);                  /* cached while alive */
    T_EQ(grt_hash(r2), -1);                 /* never hashed while alive */
    T_ERR(GRT_ERR_TYPE, "weak object has gone away");
    T_EQ(grt_equal(r1, r2), 0);             /* dead: identity */
    T_EQ(grt_equal(r1, r1), 1);
    rep = grt_repr(r1);
    T_TRUE(strstr(grt_str_data(rep), "; dead>") != NULL);
    grt_decref(rep);
    grt_decref(r1);
    grt_decref(r2);
    grt_decref(&C->ob_base);
}

TEST(weakref_errors)
{
    grt_object *l = grt_list_new(0);
    T_EQ_PTR(grt_weakref_new(l, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "cannot create weak reference to 'list' object");
    T_EQ_PTR(grt_weakref_new(NULL, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "argument 'o' is NULL");
    T_EQ_PTR(grt_weakref_get(l), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_weakref_get: expected weakref, got list");
    T_EQ(grt_weakref_count(l), 0);
    grt_decref(l);
}

static void failing_cb(grt_object *ref, grt_object *data)
{
    (void)ref; (void)data;
    ncalls++;
    grt_err_set(GRT_ERR_RUNTIME, "callback trouble");
}

TEST(weakref_callback_errors_are_reported)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r = grt_weakref_new(o, failing_cb);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    ncalls = 0;
    grt_decref(o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    T_EQ(ncalls, 1);
    T_NO_ERR();
    char buf[512] = { 0 };
    rewind(tmp);
    T_GE(fread(buf, 1, sizeof buf - 1, tmp), 1);
    fclose(tmp);
    T_TRUE(strstr(buf, "Exception ignored in the weakref callback of weakref object") != NULL);
    T_TRUE(strstr(buf, "RuntimeError: callback trouble") != NULL);
    grt_decref(r);
    grt_decref(&C->ob_base);
}

/* A callback that resurrects nothing but creates garbage and collects. */
static void collecting_cb(grt_object *ref, grt_object *data)
{
    (void)ref; (void)data;
    ncalls++;
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    grt_gc_collect(0);
}

TEST(weakref_callback_may_collect)
{
    grt_type *C = new_class();
    grt_object *o = grt_instance_new(C);
    grt_object *r = grt_weakref_new(o, collecting_cb);
    ncalls = 0;
    int64_t before = live_objects();
    grt_decref(o);
    T_EQ(ncalls, 1);
    T_EQ(live_objects(), before - 1);       /* o; the callback's list was collected */
    grt_decref(r);
    grt_decref(&C->ob_base);
}
