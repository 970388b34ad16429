/*
 * stress/test_badinput.c — every public function given bad input: NULL, the
 * wrong type, an out-of-range index, an unhashable key, an invalid
 * threshold or configuration.  Each must fail with the documented result
 * (NULL or -1), set an error of the right kind whose message names what was
 * wrong, leave the runtime usable, and never crash.  Misuse documented as
 * fatal (touching objects from a thread that is not attached) must die with
 * a message, not a segfault.
 */
#include "../tests/harness.h"
#include <math.h>

/* The call returns NULL / -1 with an error of kind k mentioning text. */
#define T_NULL_ERR(call, k, text) do {                                              \
    if ((call) != NULL) T_FAIL("%s: expected NULL", #call);                        \
    T_ERR(k, text); } while (0)
#define T_NEG_ERR(call, k, text) do {                                               \
    if ((call) != -1) T_FAIL("%s: expected -1", #call);                            \
    T_ERR(k, text); } while (0)

/* ---- generic operations and errors ------------------------------------------------------ */

TEST(bad_generic_operations)
{
    grt_object *l = grt_list_new(0);
    T_NEG_ERR(grt_hash(NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_hash(l), GRT_ERR_TYPE, "unhashable type: 'list'");
    T_NEG_ERR(grt_equal(NULL, l), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_equal(l, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_repr(NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_print(NULL, stderr), GRT_ERR_TYPE, "NULL");
    T_NOT_NULL(grt_err_kind_name((grt_err_kind)12345));     /* a name, not a crash */
    T_NOT_NULL(grt_err_kind_name((grt_err_kind)-1));
    grt_decref(l);
    T_NO_ERR();
}

/* ---- configuration -------------------------------------------------------------------------- */

TEST_NOINIT(bad_configuration)
{
    T_NEG_ERR(grt_config_init(NULL), GRT_ERR_TYPE, "cfg");
    grt_config c;
    T_EQ(grt_config_init(&c), 0);
    c.gil = "no-such-policy";
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "no-such-policy");
    T_EQ(grt_config_init(&c), 0);
    c.allocator = "no-such-allocator";
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "no-such-allocator");
    T_EQ(grt_config_init(&c), 0);
    c.gc_threshold[1] = -5;
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "gc_threshold[1]");
    T_EQ(grt_config_init(&c), 0);
    c.switch_interval_us = 0;
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "switch_interval");
    T_EQ(grt_config_init(&c), 0);
    c.switch_interval_us = INT64_MAX;              /* would overflow to a 0 wait */
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "switch_interval_us must be 1..1e12");
    T_EQ(grt_config_init(&c), 0);
    c.check_interval = -1;
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "check_interval");
#ifdef GRT_VARIANT_GIL
    T_EQ(grt_config_init(&c), 0);
    c.gil = "off";
    T_NEG_ERR(grt_init(&c), GRT_ERR_VALUE, "off");
#endif
    /* after every refusal the runtime still starts, and stops once */
    T_EQ(grt_is_initialized(), 0);
    T_EQ(grt_config_init(&c), 0);
    T_EQ(grt_init(&c), 0);
    T_NEG_ERR(grt_init(&c), GRT_ERR_STATE, "already");
    T_NEG_ERR(grt_attach(), GRT_ERR_STATE, "attach");
    T_EQ(grt_fini(), 0);
    T_NEG_ERR(grt_fini(), GRT_ERR_STATE, "not initialised");
    T_NEG_ERR(grt_attach(), GRT_ERR_STATE, "initialised");
}

TEST_NOINIT(bad_environment)
{
    grt_config c;
    static const struct { const char *var, *value; } bad[] = {
        { "GRT_SWITCH_INTERVAL", "-1" }, { "GRT_SWITCH_INTERVAL", "fast" },
        { "GRT_SWITCH_INTERVAL", "nan" }, { "GRT_CHECK_INTERVAL", "0" },
        { "GRT_CHECK_INTERVAL", "12x" }, { "GRT_GC_THRESHOLD", "abc" },
        { "GRT_GC_THRESHOLD", "700,-1,10" }, { "GRT_GC_THRESHOLD", "1,2,3,4" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(bad[i].var, bad[i].value, 1);
        T_NEG_ERR(grt_config_init(&c), GRT_ERR_VALUE, bad[i].var);
        unsetenv(bad[i].var);
    }
    setenv("GRT_MALLOC", "bogus", 1);
    T_NEG_ERR(grt_init(NULL), GRT_ERR_VALUE, "bogus");
    unsetenv("GRT_MALLOC");
    setenv("GRT_GIL", "bogus", 1);
    T_NEG_ERR(grt_init(NULL), GRT_ERR_VALUE, "bogus");
    unsetenv("GRT_GIL");
    T_EQ(grt_init(NULL), 0);
    T_EQ(grt_fini(), 0);
}

TEST(bad_thread_start)
{
    pthread_t thr;
    T_EQ(grt_thread_start(NULL, NULL, NULL) != 0, 1);
    T_ERR(GRT_ERR_TYPE, "NULL");
    T_EQ(grt_thread_start(&thr, NULL, NULL) != 0, 1);
    T_ERR(GRT_ERR_TYPE, "fn");
}

static void *touch_unattached(void *arg)
{
    (void)arg;
    grt_list_new(0);                  /* fatal: this thread never attached */
    return NULL;
}

TEST_FATAL(unattached_thread_is_fatal, "not attached")
{
    pthread_t thr;
    pthread_create(&thr, NULL, touch_unattached, NULL);
    pthread_join(thr, NULL);
}

/* ---- scalars and strings ------------------------------------------------------------------- */

TEST(bad_scalars_and_strings)
{
    grt_object *l = grt_list_new(0), *s = grt_str_new("abc"), *i = grt_int_new(5);
    T_EQ(grt_int_value(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "NULL");
    T_EQ(grt_int_value(s), -1);
    T_ERR(GRT_ERR_TYPE, "str");
    T_EQ_DBL(grt_float_value(NULL), -1.0);
    T_ERR(GRT_ERR_TYPE, "NULL");
    T_EQ_DBL(grt_float_value(l), -1.0);
    T_ERR(GRT_ERR_TYPE, "list");
    T_NULL_ERR(grt_str_new(NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_str_from_len(NULL, 3), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_str_intern(NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_str_data(NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_str_data(i), GRT_ERR_TYPE, "int");
    T_NEG_ERR(grt_str_len(l), GRT_ERR_TYPE, "list");
    T_EQ(grt_str_eq_cstr(NULL, "abc"), 0);
    T_EQ(grt_str_eq_cstr(i, "5"), 0);
    T_EQ(grt_str_eq_cstr(s, NULL), 0);
    grt_err_clear();
    grt_str_intern_in_place(NULL);
    T_ERR(GRT_ERR_TYPE, "NULL");
    grt_object *p = NULL;
    grt_str_intern_in_place(&p);
    T_ERR(GRT_ERR_TYPE, "NULL");
    grt_decref(l);
    grt_decref(s);
    grt_decref(i);
}

/* ---- tuples --------------------------------------------------------------------------------- */

TEST(bad_tuples)
{
    grt_object *t = grt_tuple_pack(2, grt_None, grt_True), *l = grt_list_new(0);
    T_NULL_ERR(grt_tuple_new(-1), GRT_ERR_VALUE, "negative");
    T_NULL_ERR(grt_tuple_new(INT64_MAX), GRT_ERR_OVERFLOW, "too large");
    T_NULL_ERR(grt_tuple_pack(-3), GRT_ERR_VALUE, "negative");
    T_NULL_ERR(grt_tuple_pack(2, grt_None, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_tuple_get(t, 2), GRT_ERR_INDEX, "index 2");
    T_NULL_ERR(grt_tuple_get(t, -3), GRT_ERR_INDEX, "out of range");
    T_NULL_ERR(grt_tuple_get(NULL, 0), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_tuple_get(l, 0), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_tuple_len(l), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_tuple_len(NULL), GRT_ERR_TYPE, "NULL");
    grt_object *fresh = grt_tuple_new(1);
    grt_incref(grt_None);
    T_NEG_ERR(grt_tuple_init_item(fresh, 1, grt_None), GRT_ERR_INDEX, "index 1");
    grt_incref(grt_None);
    T_NEG_ERR(grt_tuple_init_item(l, 0, grt_None), GRT_ERR_TYPE, "list");
    T_EQ(grt_tuple_init_item(fresh, 0, grt_newref(grt_None)), 0);
    /* an unset item: hashing such a tuple must fail cleanly */
    grt_object *unset = grt_tuple_new(2);
    T_EQ(grt_tuple_init_item(unset, 0, grt_newref(grt_None)), 0);
    T_NEG_ERR(grt_hash(unset), GRT_ERR_VALUE, "not set");
    T_NULL_ERR(grt_tuple_get(unset, 1), GRT_ERR_VALUE, "not set");
    T_NEG_ERR(grt_list_extend(l, unset), GRT_ERR_VALUE, "item 1 of the tuple is not set");
    T_EQ(grt_list_len(l), 0);              /* nothing was added */
    /* a tuple holding a list is unhashable */
    grt_object *tl = grt_tuple_pack(1, l);
    T_NEG_ERR(grt_hash(tl), GRT_ERR_TYPE, "unhashable");
    grt_decref(tl);
    grt_decref(unset);
    grt_decref(fresh);
    grt_decref(t);
    grt_decref(l);
}

/* ---- lists ----------------------------------------------------------------------------------- */

TEST(bad_lists)
{
    grt_object *l = grt_list_new(3), *d = grt_dict_new(), *i = grt_int_new(100001);
    T_NULL_ERR(grt_list_new(-1), GRT_ERR_VALUE, "negative");
    T_NULL_ERR(grt_list_new(INT64_MAX), GRT_ERR_OVERFLOW, "too large");
    T_NEG_ERR(grt_list_append(NULL, i), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_list_append(d, i), GRT_ERR_TYPE, "grt_list_append: expected list, got dict");
    T_NEG_ERR(grt_list_append(l, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_list_insert(d, 0, i), GRT_ERR_TYPE, "dict");
    T_NEG_ERR(grt_list_insert(l, 0, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_list_get(l, 3), GRT_ERR_INDEX, "index 3, length 3");
    T_NULL_ERR(grt_list_get(l, -4), GRT_ERR_INDEX, "length 3");
    T_NULL_ERR(grt_list_get(l, INT64_MIN), GRT_ERR_INDEX, "out of range");
    T_NULL_ERR(grt_list_get(l, INT64_MAX), GRT_ERR_INDEX, "out of range");
    T_NULL_ERR(grt_list_get(i, 0), GRT_ERR_TYPE, "int");
    T_NEG_ERR(grt_list_set(l, 7, i), GRT_ERR_INDEX, "index 7");
    T_NEG_ERR(grt_list_set(l, 0, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_list_set(d, 0, i), GRT_ERR_TYPE, "dict");
    T_NULL_ERR(grt_list_pop(l, 5), GRT_ERR_INDEX, "index 5");
    T_NULL_ERR(grt_list_pop(NULL, 0), GRT_ERR_TYPE, "NULL");
    grt_object *empty = grt_list_new(0);
    T_NULL_ERR(grt_list_pop(empty, -1), GRT_ERR_INDEX, "empty");
    T_NEG_ERR(grt_list_clear(d), GRT_ERR_TYPE, "dict");
    T_NEG_ERR(grt_list_len(NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_list_len(d), GRT_ERR_TYPE, "dict");
    T_NEG_ERR(grt_list_extend(l, i), GRT_ERR_TYPE, "int");
    T_NEG_ERR(grt_list_extend(l, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_list_extend(NULL, l), GRT_ERR_TYPE, "NULL");
    /* nothing above changed the list */
    T_EQ(grt_list_len(l), 3);
    T_EQ(grt_refcnt(i), 1);
    grt_decref(empty);
    grt_decref(l);
    grt_decref(d);
    grt_decref(i);
}

/* ---- dicts ------------------------------------------------------------------------------------ */

TEST(bad_dicts)
{
    grt_object *d = grt_dict_new(), *l = grt_list_new(0), *k = grt_str_new("k"), *v = grt_int_new(100007);
    grt_object *dk = grt_dict_new();
    T_NEG_ERR(grt_dict_set(d, l, v), GRT_ERR_TYPE, "unhashable type: 'list'");
    T_NEG_ERR(grt_dict_set(d, dk, v), GRT_ERR_TYPE, "unhashable type: 'dict'");
    T_NEG_ERR(grt_dict_set(NULL, k, v), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_set(l, k, v), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_dict_set(d, NULL, v), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_set(d, k, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_dict_get(d, k), GRT_ERR_KEY, "'k'");
    T_NULL_ERR(grt_dict_get(d, l), GRT_ERR_TYPE, "unhashable");
    T_NULL_ERR(grt_dict_get(l, k), GRT_ERR_TYPE, "list");
    T_NULL_ERR(grt_dict_lookup(d, l), GRT_ERR_TYPE, "unhashable");
    T_EQ_PTR(grt_dict_lookup(d, k), NULL);
    T_NO_ERR();
    T_NEG_ERR(grt_dict_del(d, k), GRT_ERR_KEY, "'k'");
    T_NEG_ERR(grt_dict_del(d, l), GRT_ERR_TYPE, "unhashable");
    T_NEG_ERR(grt_dict_contains(d, l), GRT_ERR_TYPE, "unhashable");
    T_NEG_ERR(grt_dict_contains(NULL, k), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_len(l), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_dict_clear(l), GRT_ERR_TYPE, "list");
    int64_t pos = 0;
    grt_object *ko, *vo;
    T_NEG_ERR(grt_dict_next(NULL, &pos, &ko, &vo), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_next(d, NULL, &ko, &vo), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_next(d, &pos, NULL, &vo), GRT_ERR_TYPE, "NULL");
    pos = -5;
    T_EQ(grt_dict_next(d, &pos, &ko, &vo) <= 0, 1);   /* a bad position ends the walk */
    grt_err_clear();
    T_NULL_ERR(grt_dict_keys(l), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_dict_update(d, l), GRT_ERR_TYPE, "list");
    T_NEG_ERR(grt_dict_update(d, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_dict_set_str(d, NULL, v), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_dict_get_str(d, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_dict_get_str(d, "missing"), GRT_ERR_KEY, "missing");
    /* nothing above changed anything */
    T_EQ(grt_dict_len(d), 0);
    T_EQ(grt_refcnt(v), 1);
    T_EQ(grt_refcnt(k), 1);
    grt_decref(d);
    grt_decref(dk);
    grt_decref(l);
    grt_decref(k);
    grt_decref(v);
}

/* ---- classes and instances ----------------------------------------------------------------- */

TEST(bad_classes)
{
    static const char *const slots[] = { "x", "y", NULL };
    static const char *const twice[] = { "x", "x", NULL };
    static const char *const empty_name[] = { "x", "", NULL };
    T_NULL_ERR(grt_class_new(NULL, NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_class_new("", NULL), GRT_ERR_VALUE, "empty");
    T_NULL_ERR(grt_class_new("Twice", twice), GRT_ERR_VALUE, "declared twice");
    T_NULL_ERR(grt_class_new("Empty", empty_name), GRT_ERR_VALUE, "empty name");
    grt_type *c = grt_class_new("Point", slots);
    T_NOT_NULL(c);
    T_NEG_ERR(grt_class_set_finalizer(NULL, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_class_set_finalizer(&grt_list_type, NULL), GRT_ERR_TYPE, "list");
    T_NULL_ERR(grt_instance_new(NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_instance_new(&grt_int_type), GRT_ERR_TYPE, "int");
    T_EQ(grt_class_has_slots(&grt_dict_type), -1);
    T_ERR(GRT_ERR_TYPE, "dict");
    T_EQ(grt_class_has_slots(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "NULL");

    grt_object *p = grt_instance_new(c), *v = grt_int_new(100003), *i = grt_int_new(100004);
    T_NEG_ERR(grt_setattr(p, "z", v), GRT_ERR_ATTRIBUTE, "'z'");
    T_NEG_ERR(grt_setattr(p, "z", v), GRT_ERR_ATTRIBUTE, "Point");
    T_NEG_ERR(grt_setattr(p, "x", NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_setattr(NULL, "x", v), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_setattr(p, NULL, v), GRT_ERR_TYPE, "name");
    T_NEG_ERR(grt_setattr(i, "x", v), GRT_ERR_ATTRIBUTE, "'x'");
    T_NULL_ERR(grt_getattr(p, "x"), GRT_ERR_ATTRIBUTE, "not set");
    T_NULL_ERR(grt_getattr(p, "nope"), GRT_ERR_ATTRIBUTE, "'nope'");
    T_NULL_ERR(grt_getattr(NULL, "x"), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_getattr(p, NULL), GRT_ERR_TYPE, "name");
    T_NULL_ERR(grt_getattr(i, "x"), GRT_ERR_ATTRIBUTE, "'x'");
    T_NEG_ERR(grt_delattr(p, "x"), GRT_ERR_ATTRIBUTE, "'x'");
    T_NEG_ERR(grt_delattr(p, "nope"), GRT_ERR_ATTRIBUTE, "'nope'");
    T_EQ(grt_hasattr(p, "nope"), 0);
    T_EQ(grt_hasattr(i, "x"), 0);
    T_NO_ERR();
    T_NEG_ERR(grt_hasattr(NULL, "x"), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_hasattr(p, NULL), GRT_ERR_TYPE, "NULL");
    T_EQ(grt_instance_size(i), 0);
    T_ERR(GRT_ERR_TYPE, "int");
    T_EQ(grt_instance_size(NULL), 0);
    T_ERR(GRT_ERR_TYPE, "NULL");
    T_EQ(grt_refcnt(v), 1);
    grt_decref(p);
    grt_decref(v);
    grt_decref(i);
    grt_decref((grt_object *)c);
}

/* ---- the collector and weak references ----------------------------------------------------- */

static void gc_cb_nop(grt_gc_phase ph, const grt_gc_info *info, void *arg)
{
    (void)ph; (void)info; (void)arg;
}

TEST(bad_gc_calls)
{
    grt_object *i = grt_int_new(9), *l = grt_list_new(0);
    T_NEG_ERR(grt_gc_collect(3), GRT_ERR_VALUE, "generation 3");
    T_NEG_ERR(grt_gc_collect(-1), GRT_ERR_VALUE, "generation -1");
    T_NEG_ERR(grt_gc_set_threshold(-1, 10, 10), GRT_ERR_VALUE, "threshold");
    T_NEG_ERR(grt_gc_set_threshold(700, -10, 10), GRT_ERR_VALUE, "threshold");
    T_NEG_ERR(grt_gc_set_threshold(700, 10, (int64_t)1 << 40), GRT_ERR_VALUE, "threshold");
    int64_t th[3];
    grt_gc_get_threshold(th);
    T_EQ(th[0], 700);                         /* refused thresholds change nothing */
    T_EQ(th[1], 10);
    T_EQ(th[2], 10);
    T_NULL_ERR(grt_gc_get_objects(3), GRT_ERR_VALUE, "generation 3");
    T_NULL_ERR(grt_gc_get_objects(-2), GRT_ERR_VALUE, "generation -2");
    T_NEG_ERR(grt_gc_track(i), GRT_ERR_TYPE, "int");
    T_NEG_ERR(grt_gc_untrack(i), GRT_ERR_TYPE, "int");
    T_EQ(grt_gc_is_tracked(i), 0);
    T_EQ(grt_gc_is_tracked(NULL), 0);
    T_EQ(grt_gc_is_finalized(NULL), 0);
    grt_err_clear();
    T_NULL_ERR(grt_gc_get_referrers(1, NULL), GRT_ERR_TYPE, "array");
    grt_object *objs[2] = { l, NULL };
    T_NULL_ERR(grt_gc_get_referents(2, objs), GRT_ERR_TYPE, "objs[1]");
    T_NULL_ERR(grt_gc_get_referrers(2, objs), GRT_ERR_TYPE, "objs[1]");
    T_NEG_ERR(grt_gc_freeze(0x80), GRT_ERR_VALUE, "flags");
    T_NEG_ERR(grt_gc_get_stats(NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_gc_callback_add(NULL, NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_gc_callback_remove(gc_cb_nop, NULL), GRT_ERR_VALUE, "not");
    T_NEG_ERR(grt_gc_set_debug(1u << 30), GRT_ERR_VALUE, "unknown flag");
    T_EQ(grt_gc_get_debug(), 0);
    T_EQ(grt_gc_collect(2) >= 0, 1);         /* still works */
    T_NO_ERR();
    grt_decref(i);
    grt_decref(l);
}

static void wr_cb_nop(grt_object *ref, grt_object *data) { (void)ref; (void)data; }

TEST(bad_weakrefs)
{
    grt_object *l = grt_list_new(0), *i = grt_int_new(11);
    T_NULL_ERR(grt_weakref_new(NULL, wr_cb_nop), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_weakref_new(l, wr_cb_nop), GRT_ERR_TYPE, "'list'");
    T_NULL_ERR(grt_weakref_new(i, NULL), GRT_ERR_TYPE, "'int'");
    T_NULL_ERR(grt_weakref_new_ex(grt_None, wr_cb_nop, NULL), GRT_ERR_TYPE, "NoneType");
    T_NULL_ERR(grt_weakref_get(NULL), GRT_ERR_TYPE, "NULL");
    T_NULL_ERR(grt_weakref_get(l), GRT_ERR_TYPE, "list");
    T_EQ(grt_weakref_count(NULL), 0);
    T_EQ(grt_weakref_count(l), 0);
    T_NO_ERR();
    grt_decref(l);
    grt_decref(i);
}

/* ---- the GIL and the allocator ------------------------------------------------------------- */

static void gil_acq_nop(grt_gil_thread *t, grt_gil_reason why) { (void)t; (void)why; }

TEST(bad_gil_calls)
{
    double before = grt_gil_get_switch_interval();
    T_NEG_ERR(grt_gil_set_switch_interval(0), GRT_ERR_VALUE, "switch interval");
    T_NEG_ERR(grt_gil_set_switch_interval(-1), GRT_ERR_VALUE, "switch interval");
    T_NEG_ERR(grt_gil_set_switch_interval(NAN), GRT_ERR_VALUE, "switch interval");
    T_NEG_ERR(grt_gil_set_switch_interval(INFINITY), GRT_ERR_VALUE, "switch interval");
    T_EQ_DBL(grt_gil_get_switch_interval(), before);
    T_NEG_ERR(grt_gil_set_check_interval(0), GRT_ERR_VALUE, "check interval");
    T_NEG_ERR(grt_gil_set_check_interval(-7), GRT_ERR_VALUE, "check interval");
    T_NEG_ERR(grt_gil_stats(NULL), GRT_ERR_TYPE, "NULL");
    static const grt_gil_ops no_release = { .acquire = gil_acq_nop };
    static const grt_gil_ops ok_ops = { .acquire = gil_acq_nop, .release = gil_acq_nop };
    T_NEG_ERR(grt_gil_register(NULL, &ok_ops), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_gil_register("bad-ops", NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_gil_register("bad name!", &ok_ops), GRT_ERR_VALUE, "bad name!");
    T_NEG_ERR(grt_gil_register("", &ok_ops), GRT_ERR_VALUE, "name");
    T_NEG_ERR(grt_gil_register("this-name-is-far-longer-than-thirty-one", &ok_ops),
              GRT_ERR_VALUE, "name");
    T_NEG_ERR(grt_gil_register("halfdone", &no_release), GRT_ERR_TYPE, "release");
    T_NEG_ERR(grt_gil_register("classic", &ok_ops), GRT_ERR_VALUE, "already");
    T_EQ_PTR(grt_gil_policy_name(-1), NULL);
    T_EQ_PTR(grt_gil_policy_name(100000), NULL);
    T_NO_ERR();
}

TEST(bad_mem_calls)
{
    T_NEG_ERR(grt_mem_stats(NULL), GRT_ERR_TYPE, "NULL");
    T_NEG_ERR(grt_mem_trace_start(0), GRT_ERR_VALUE, "depth 0");
    T_NEG_ERR(grt_mem_trace_start(GRT_MEM_TRACE_MAX_DEPTH + 1), GRT_ERR_VALUE, "depth");
    T_NULL_ERR(grt_mem_malloc(SIZE_MAX - 64), GRT_ERR_MEMORY, "out of memory");
    void *p = grt_mem_malloc(32);
    T_NOT_NULL(p);
    T_NULL_ERR(grt_mem_realloc(p, SIZE_MAX - 64), GRT_ERR_MEMORY, "out of memory");
    grt_mem_free(p);                          /* the failed realloc left p alone */
    grt_mem_free(NULL);
    T_NULL_ERR(grt_mem_snapshot_take(), GRT_ERR_RUNTIME, "not tracing");
    T_NULL_ERR(grt_mem_snapshot_diff(NULL, NULL), GRT_ERR_TYPE, "NULL");
    T_EQ(grt_mem_class_size(-1), 0);
    T_ERR(GRT_ERR_VALUE, "size class -1");
    T_EQ(grt_mem_class_size(GRT_MEM_NCLASSES), 0);
    T_ERR(GRT_ERR_VALUE, "size class");
}
