/*
 * runtime/singletons.c — the type of types, None, True, False, and the
 * initialisation of the built-in types.  All of them are static, hence
 * immortal (PEP 683): incref/decref on them never write.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"

static grt_object *none_repr(grt_object *o) { (void)o; return grt_str_intern("None"); }
static int64_t none_hash(grt_object *o) { return (int64_t)((uintptr_t)o >> 4); }
static grt_object *bool_repr(grt_object *o) { return grt_str_intern(o == grt_True ? "True" : "False"); }
static int64_t bool_hash(grt_object *o) { return o == grt_True; }
/* True == 1 and False == 0, as in Python: compare through int. */
static int bool_eq(grt_object *a, grt_object *b)
{
    if (b->ob_type == &grt_bool_type)
        return a == b;
    if (b->ob_type == &grt_int_type || b->ob_type == &grt_float_type) {
        grt_object *i = grt_int_new(a == grt_True);
        int r = grt_equal(i, b);
        grt_decref(i);
        return r;
    }
    return 0;
}
static grt_object *type_repr(grt_object *o)
{
    return _grt_str_from_format("<class '%s'>", ((grt_type *)o)->tp_name);
}
static int64_t type_hash(grt_object *o) { return (int64_t)((uintptr_t)o >> 4); }
static void static_dealloc(grt_object *o)
{
    _grt_fatal("deallocating the immortal %s object at %p", o->ob_type->tp_name, (void *)o);
}
static void type_dealloc(grt_object *o)
{
    if (((grt_type *)o)->tp_flags & GRT_TPFLAGS_HEAPTYPE)
        _grt_class_dealloc(o);
    else
        static_dealloc(o);
}

grt_type grt_type_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "type", .tp_basicsize = sizeof(grt_type),
    .tp_flags = GRT_TPFLAGS_STATIC,
    .tp_dealloc = type_dealloc, .tp_hash = type_hash, .tp_repr = type_repr,
};
grt_type grt_none_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "NoneType", .tp_basicsize = sizeof(grt_object),
    .tp_flags = GRT_TPFLAGS_STATIC | GRT_TPFLAGS_IMMUTABLE,
    .tp_dealloc = static_dealloc, .tp_hash = none_hash, .tp_repr = none_repr,
};
grt_type grt_bool_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "bool", .tp_basicsize = sizeof(grt_object),
    .tp_flags = GRT_TPFLAGS_STATIC | GRT_TPFLAGS_IMMUTABLE,
    .tp_dealloc = static_dealloc, .tp_hash = bool_hash, .tp_eq = bool_eq, .tp_repr = bool_repr,
};

grt_object _grt_none_obj = GRT_OBJECT_HEAD_INIT(&grt_none_type);
grt_object _grt_true_obj = GRT_OBJECT_HEAD_INIT(&grt_bool_type);
grt_object _grt_false_obj = GRT_OBJECT_HEAD_INIT(&grt_bool_type);

grt_object *grt_bool(int v) { return v ? grt_True : grt_False; }

int _grt_types_init(void)
{
    if (_grt_int_init() != 0 || _grt_str_init() != 0)
        return -1;
    return 0;
}

void _grt_types_fini(void)
{
    _grt_str_fini();
    _grt_int_fini();
}
