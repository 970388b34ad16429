/*
 * User classes and instances: classes are refcounted heap types held by
 * their instances; dict instances (attributes created lazily) versus slot
 * instances (undeclared attributes refused with a message that lists the
 * slots); attribute references; finalizers; sizes; threads.
 */
#include "harness.h"

static const char *const point_slots[] = { "x", "y", NULL };

TEST(class_is_a_refcounted_heap_type)
{
    grt_type *cls = grt_class_new("Point", NULL);
    T_NOT_NULL(cls);
    T_EQ_PTR(grt_type_of(&cls->ob_base), &grt_type_type);
    T_EQ_STR(cls->tp_name, "Point");
    T_TRUE(cls->tp_flags & GRT_TPFLAGS_HEAPTYPE);
    T_TRUE(cls->tp_flags & GRT_TPFLAGS_GC);
    T_NE(cls->tp_weaklistoffset, 0);       /* instances are weak-referenceable */
    T_EQ(grt_refcnt(&cls->ob_base), 1);
    T_FALSE(grt_is_immortal(&cls->ob_base));
    grt_object *r = grt_repr(&cls->ob_base);
    T_EQ_STR(grt_str_data(r), "<class 'Point'>");
    grt_decref(r);
    T_EQ(grt_class_has_slots(cls), 0);
    grt_decref(&cls->ob_base);
}

TEST(instances_hold_their_class)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_type *cls = grt_class_new("Thing", NULL);
    grt_object *a = grt_instance_new(cls), *b = grt_instance_new(cls);
    T_NOT_NULL(a);
    T_EQ_PTR(grt_type_of(a), cls);
    T_EQ_STR(grt_type_name(a), "Thing");
    T_EQ(grt_refcnt(a), 1);
    T_EQ(grt_refcnt(&cls->ob_base), 3);
    grt_decref(&cls->ob_base);              /* the instances keep it alive */
    T_EQ(grt_refcnt(&cls->ob_base), 2);
    grt_decref(a);
    T_EQ(grt_refcnt(&cls->ob_base), 1);
    grt_decref(b);                          /* frees b, then the class */
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, 3);
    T_EQ(c1.freed - c0.freed, 3);
}

TEST(dict_instance_attributes)
{
    grt_type *cls = grt_class_new("Point", NULL);
    grt_object *p = grt_instance_new(cls);
    T_EQ(grt_hasattr(p, "x"), 0);
    T_EQ_PTR(grt_getattr(p, "x"), NULL);
    T_ERR(GRT_ERR_ATTRIBUTE, "'Point' object has no attribute 'x'");
    grt_object *v = grt_str_new("value");
    T_EQ(grt_setattr(p, "x", v), 0);
    T_EQ(grt_refcnt(v), 2);
    T_EQ(grt_hasattr(p, "x"), 1);
    grt_object *g = grt_getattr(p, "x");    /* new reference */
    T_EQ_PTR(g, v);
    T_EQ(grt_refcnt(v), 3);
    grt_decref(g);
    grt_object *w = grt_str_new("other");
    T_EQ(grt_setattr(p, "x", w), 0);        /* replaces: v released */
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_refcnt(w), 2);
    T_EQ(grt_setattr(p, "y", v), 0);
    T_EQ(grt_delattr(p, "x"), 0);
    T_EQ(grt_refcnt(w), 1);
    T_EQ(grt_hasattr(p, "x"), 0);
    T_EQ(grt_delattr(p, "x"), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "'Point' object has no attribute 'x'");
    T_EQ(grt_delattr(p, "never"), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "no attribute 'never'");
    grt_decref(p);                          /* the dict goes, v with it */
    T_EQ(grt_refcnt(v), 1);
    grt_object *objs[] = { v, w, &cls->ob_base };
    for (unsigned i = 0; i < sizeof objs / sizeof objs[0]; i++)
        grt_decref(objs[i]);
}

TEST(attribute_names_are_interned_keys)
{
    grt_type *cls = grt_class_new("Named", NULL);
    grt_object *a = grt_instance_new(cls), *b = grt_instance_new(cls);
    grt_setattr(a, "shared_name", grt_None);
    grt_object *name = grt_str_intern("shared_name");   /* already interned by a's setattr */
    T_TRUE(grt_is_immortal(name));
    /* b's first setattr allocates its dict and nothing else: the key is
     * the interned name, shared with a */
    grt_object_counts c0 = grt_object_counts_get();
    T_EQ(grt_setattr(b, "shared_name", grt_True), 0);
    T_EQ(grt_object_counts_get().allocated - c0.allocated, 1);
    /* replacing an existing attribute allocates nothing */
    c0 = grt_object_counts_get();
    T_EQ(grt_setattr(b, "shared_name", grt_False), 0);
    T_EQ(grt_object_counts_get().allocated - c0.allocated, 0);
    grt_object *g = grt_getattr(b, "shared_name");
    T_EQ_PTR(g, grt_False);
    grt_decref(g);
    grt_decref(a);
    grt_decref(b);
    grt_decref(&cls->ob_base);
}

TEST(slot_instances_refuse_undeclared_attributes)
{
    grt_type *cls = grt_class_new("Point", point_slots);
    T_NOT_NULL(cls);
    T_EQ(grt_class_has_slots(cls), 1);
    grt_object *p = grt_instance_new(cls);
    grt_object *one = grt_int_new(1), *two = grt_int_new(2000);
    T_EQ(grt_setattr(p, "x", one), 0);
    T_EQ(grt_setattr(p, "y", two), 0);
    T_EQ(grt_refcnt(two), 2);
    T_EQ(grt_setattr(p, "z", one), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "'Point' object has no attribute 'z'");
    T_EQ(grt_setattr(p, "z", one), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "class 'Point' has fixed slots (x, y) and no attribute dict");
    grt_object *g = grt_getattr(p, "y");
    T_EQ_PTR(g, two);
    grt_decref(g);
    T_EQ_PTR(grt_getattr(p, "z"), NULL);
    T_ERR(GRT_ERR_ATTRIBUTE, "'Point' object has no attribute 'z'");
    T_EQ(grt_hasattr(p, "z"), 0);
    T_NO_ERR();
    grt_decref(p);
    T_EQ(grt_refcnt(two), 1);
    grt_decref(two);
    grt_decref(&cls->ob_base);
}

TEST(unset_slots_are_named)
{
    grt_type *cls = grt_class_new("Point", point_slots);
    grt_object *p = grt_instance_new(cls);
    T_EQ_PTR(grt_getattr(p, "x"), NULL);
    T_ERR(GRT_ERR_ATTRIBUTE, "'Point' object has no attribute 'x' (its slot is not set)");
    T_EQ(grt_hasattr(p, "x"), 0);
    grt_object *v = grt_str_new("v");
    grt_setattr(p, "x", v);
    T_EQ(grt_delattr(p, "x"), 0);
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_delattr(p, "x"), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "no attribute 'x' (its slot is not set)");
    T_EQ(grt_delattr(p, "w"), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "no attribute 'w'");
    grt_decref(v);
    grt_decref(p);
    grt_decref(&cls->ob_base);
}

TEST(slot_instances_are_smaller)
{
    grt_type *dc = grt_class_new("DictPoint", NULL), *sc = grt_class_new("SlotPoint", point_slots);
    grt_object *d = grt_instance_new(dc), *s = grt_instance_new(sc);
    size_t d_empty = grt_instance_size(d);
    grt_object *one = grt_int_new(1);
    grt_setattr(d, "x", one);
    grt_setattr(d, "y", one);
    grt_setattr(s, "x", one);
    grt_setattr(s, "y", one);
    size_t ds = grt_instance_size(d), ss = grt_instance_size(s);
    /* slots: GC header + object header + lock/weaklist + two pointers */
    T_EQ(ss, GRT_GC_HEAD_SIZE + sc->tp_basicsize);
    /* 64 bytes on every variant: brc's 8 more header bytes hold the lock
     * the others carry in the instance (runtime/lock.h) */
    T_EQ(ss, 64);
    T_EQ(sc->tp_basicsize, dc->tp_basicsize + sizeof(grt_object *));
    T_TRUE(ds > d_empty);                  /* the dict and its table count */
    T_TRUE(ds > 2 * ss);
    T_EQ(d_empty, GRT_GC_HEAD_SIZE + dc->tp_basicsize);
    T_EQ(grt_instance_size(one), 0);
    T_ERR(GRT_ERR_TYPE, "grt_instance_size: expected an instance of a user class, got int");
    grt_decref(d);
    grt_decref(s);
    grt_decref(&dc->ob_base);
    grt_decref(&sc->ob_base);
}

TEST(class_new_errors)
{
    T_EQ_PTR(grt_class_new(NULL, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_class_new: argument 'name' is NULL");
    T_EQ_PTR(grt_class_new("", NULL), NULL);
    T_ERR(GRT_ERR_VALUE, "grt_class_new: the class name is empty");
    const char *const dup[] = { "a", "b", "a", NULL };
    T_EQ_PTR(grt_class_new("Dup", dup), NULL);
    T_ERR(GRT_ERR_VALUE, "class 'Dup': slot 'a' is declared twice");
    const char *const empty[] = { "a", "", NULL };
    T_EQ_PTR(grt_class_new("Empty", empty), NULL);
    T_ERR(GRT_ERR_VALUE, "class 'Empty': slot 1 has an empty name");
    const char *const none[] = { NULL };
    grt_type *c = grt_class_new("NoSlots", none);   /* zero slots: no attributes at all */
    T_NOT_NULL(c);
    grt_object *o = grt_instance_new(c);
    T_EQ(grt_setattr(o, "a", grt_None), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "fixed slots () and no attribute dict");
    grt_decref(o);
    grt_decref(&c->ob_base);
}

TEST(non_instances_and_bad_arguments)
{
    grt_object *i = grt_int_new(1000);
    T_EQ_PTR(grt_getattr(i, "x"), NULL);
    T_ERR(GRT_ERR_ATTRIBUTE, "'int' object has no attribute 'x'");
    T_EQ(grt_setattr(i, "x", grt_None), -1);
    T_ERR(GRT_ERR_ATTRIBUTE, "'int' object has no attribute 'x'");
    T_EQ(grt_hasattr(i, "x"), 0);
    T_NO_ERR();
    T_EQ_PTR(grt_instance_new(&grt_list_type), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_instance_new: expected a class made by grt_class_new, got type 'list'");
    T_EQ_PTR(grt_instance_new(NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_instance_new: argument 'cls' is NULL");
    T_EQ(grt_class_set_finalizer(&grt_dict_type, NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_class_set_finalizer: expected a class made by grt_class_new");
    grt_type *cls = grt_class_new("C", NULL);
    grt_object *o = grt_instance_new(cls);
    T_EQ(grt_setattr(o, "x", NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_setattr: argument 'v' is NULL");
    T_EQ_PTR(grt_getattr(o, NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_getattr: argument 'name' is NULL");
    T_EQ_PTR(grt_getattr(NULL, "x"), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_getattr: argument 'o' is NULL");
    T_EQ(grt_hasattr(NULL, "x"), -1);
    T_ERR(GRT_ERR_TYPE, "grt_hasattr: argument 'o' is NULL");
    T_EQ(grt_class_has_slots(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_class_has_slots: argument 'cls' is NULL");
    grt_decref(o);
    grt_decref(&cls->ob_base);
    grt_decref(i);
}

TEST(instances_hash_by_identity_and_key_dicts)
{
    grt_type *cls = grt_class_new("Key", NULL);
    grt_object *a = grt_instance_new(cls), *b = grt_instance_new(cls);
    T_NE(grt_hash(a), -1);
    T_NE(grt_hash(a), grt_hash(b));
    T_EQ(grt_equal(a, b), 0);
    T_EQ(grt_equal(a, a), 1);
    grt_object *d = grt_dict_new();
    T_EQ(grt_dict_set(d, a, grt_True), 0);
    T_EQ(grt_dict_contains(d, a), 1);
    T_EQ(grt_dict_contains(d, b), 0);
    grt_object *r = grt_repr(a);
    char want[64];
    snprintf(want, sizeof want, "<Key object at %p>", (void *)a);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
    grt_decref(d);
    grt_decref(a);
    grt_decref(b);
    grt_decref(&cls->ob_base);
}

static int finalized;
static grt_object *last_finalized_attr;

static void count_finalizer(grt_object *self)
{
    finalized++;
    /* attributes are still there when the finalizer runs */
    last_finalized_attr = grt_getattr(self, "x");
}

TEST(finalizer_runs_once_per_instance)
{
    grt_type *cls = grt_class_new("Fin", NULL);
    T_EQ(grt_class_set_finalizer(cls, count_finalizer), 0);
    T_EQ_PTR(cls->tp_finalize, count_finalizer);
    grt_object *o = grt_instance_new(cls);
    grt_object *v = grt_str_new("attr");
    grt_setattr(o, "x", v);
    finalized = 0;
    grt_decref(o);
    T_EQ(finalized, 1);
    T_EQ_PTR(last_finalized_attr, v);
    grt_decref(last_finalized_attr);
    T_EQ(grt_refcnt(v), 1);                 /* the instance and its dict are gone */
    grt_decref(v);
    grt_decref(&cls->ob_base);
}

TEST(instances_are_tracked_containers)
{
    grt_type *cls = grt_class_new("Node", point_slots);
    grt_object *o = grt_instance_new(cls);
    T_EQ(grt_gc_is_tracked(o), 1);
    /* traverse visits the class and the set slots */
    grt_object *v = grt_str_new("v");
    grt_setattr(o, "y", v);
    grt_decref(v);
    grt_decref(o);
    grt_decref(&cls->ob_base);
}

/* Four threads set, read and replace attributes of one shared dict instance
 * and one slot instance. */
#define MT_THREADS 4

static void attr_worker(int t, void *arg)
{
    grt_object **objs = arg;
    char name[32];
    for (int i = 0; i < 500; i++) {
        grt_object *v = grt_int_new(t * 1000 + i);
        snprintf(name, sizeof name, "a%d_%d", t, i % 50);
        if (grt_setattr(objs[0], name, v) != 0 || grt_setattr(objs[1], (i & 1) ? "x" : "y", v) != 0)
            T_FAIL("setattr failed: %s", grt_err_message());
        grt_object *g = grt_getattr(objs[0], name);
        if (!g || grt_int_value(g) != t * 1000 + i)
            T_FAIL("getattr %s gave the wrong value", name);
        grt_decref(g);
        grt_decref(v);
        if (i % 32 == 0)
            grt_safepoint();
    }
}

TEST_MT(threads_share_instances)
{
    grt_type *dc = grt_class_new("Shared", NULL), *sc = grt_class_new("SharedSlots", point_slots);
    grt_object *objs[2] = { grt_instance_new(dc), grt_instance_new(sc) };
    t_run_threads(MT_THREADS, attr_worker, objs);
    char name[32];
    for (int t = 0; t < MT_THREADS; t++) {
        for (int j = 0; j < 50; j++) {
            snprintf(name, sizeof name, "a%d_%d", t, j);
            grt_object *g = grt_getattr(objs[0], name);
            T_NOT_NULL(g);
            T_EQ(grt_int_value(g), t * 1000 + 450 + j);   /* the last write of that name */
            grt_decref(g);
        }
    }
    T_EQ(grt_hasattr(objs[1], "x"), 1);
    T_EQ(grt_hasattr(objs[1], "y"), 1);
    grt_decref(objs[0]);
    grt_decref(objs[1]);
    grt_decref(&dc->ob_base);
    grt_decref(&sc->ob_base);
}

static int cycle_finalized;
static void cycle_finalizer(grt_object *self) { (void)self; cycle_finalized++; }

TEST(instance_cycles_are_collected_and_finalized_once)
{
    grt_gc_collect(2);
    grt_type *dc = grt_class_new("Node", NULL), *sc = grt_class_new("SlotNode", point_slots);
    grt_class_set_finalizer(dc, cycle_finalizer);
    grt_object *a = grt_instance_new(dc), *b = grt_instance_new(sc);
    grt_setattr(a, "other", b);
    grt_setattr(b, "x", a);
    grt_setattr(b, "y", b);
    grt_object *ref = grt_weakref_new(a, NULL);
    T_NOT_NULL(ref);
    grt_decref(a);
    grt_decref(b);
    grt_decref(&dc->ob_base);               /* the instances keep their classes alive */
    grt_decref(&sc->ob_base);
    cycle_finalized = 0;
    grt_object_counts c0 = grt_object_counts_get();
    T_EQ(grt_gc_collect(2), 3);             /* a, a's dict, b */
    T_EQ(cycle_finalized, 1);
    /* a, its dict, b, and both classes once their last instance went */
    T_EQ(grt_object_counts_get().freed - c0.freed, 5);
    grt_object *dead = grt_weakref_get(ref);
    T_EQ_PTR(dead, grt_None);               /* the weak reference was cleared */
    grt_decref(dead);
    grt_decref(ref);
}

TEST(traverse_visits_class_and_attributes)
{
    grt_type *cls = grt_class_new("Holder", point_slots);
    grt_object *o = grt_instance_new(cls);
    grt_object *l = grt_list_new(0);
    grt_setattr(o, "x", l);
    grt_object *refs = grt_gc_get_referents(1, &o);
    T_NOT_NULL(refs);
    T_EQ(grt_list_len(refs), 2);            /* the class and the list; y is unset */
    grt_object *r0 = grt_list_get(refs, 0), *r1 = grt_list_get(refs, 1);
    T_EQ_PTR(r0, &cls->ob_base);
    T_EQ_PTR(r1, l);
    grt_decref(r0);
    grt_decref(r1);
    grt_decref(refs);
    grt_decref(l);
    grt_decref(o);
    grt_decref(&cls->ob_base);
}

/* A long class name is not cut from the reprs (CPython never truncates
 * them): the address and the closing '>' stay. */
TEST(reprs_of_a_long_class_name_are_whole)
{
    char name[400];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    grt_type *cls = grt_class_new(name, NULL);
    T_NOT_NULL(cls);
    grt_object *inst = grt_instance_new(cls);
    grt_object *wr = grt_weakref_new(inst, NULL);
    grt_object *objs[] = { (grt_object *)cls, inst, wr };
    for (int i = 0; i < 3; i++) {
        grt_object *r = grt_repr(objs[i]);
        T_NOT_NULL(r);
        const char *s = grt_str_data(r);
        T_TRUE(strstr(s, name) != NULL);
        T_EQ(s[strlen(s) - 1], '>');
        grt_decref(r);
    }
    grt_decref(wr);
    grt_decref(inst);
    grt_decref((grt_object *)cls);
}
