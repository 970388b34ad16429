/*
 * runtime/int.c — 64-bit integers.
 *
 * Invariants:
 *   - the values -5..256 (GRT_SMALL_INT_MIN..MAX) exist once each, as
 *     immortal static objects: grt_int_new returns them, never a copy, so
 *     `grt_int_new(7) == grt_int_new(7)` and their counts are never written
 *     (no cache line bounces between threads that share them);
 *   - other ints are ordinary heap objects, immutable after creation;
 *   - hash(v) == v, except that -1 (the error return) hashes to -2; an int
 *     and a float that compare equal hash equal (runtime/float.c uses
 *     _grt_int_hash_value for integral floats).
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>

static void int_dealloc(grt_object *o) { _grt_object_free(o); }

static int64_t int_hash(grt_object *o)
{
    return _grt_int_hash_value(((grt_int *)o)->value);
}

/* Equal to another int, to a float holding exactly the same value, or to
 * the bool of the same value (1 == True, as bool_eq says the other way round). */
static int int_eq(grt_object *a, grt_object *b)
{
    int64_t v = ((grt_int *)a)->value;
    if (grt_is_type(b, &grt_int_type))
        return v == ((grt_int *)b)->value;
    if (grt_is_type(b, &grt_bool_type))
        return v == (b == grt_True);
    if (grt_is_type(b, &grt_float_type))
        return _grt_float_equals_int(((grt_float *)b)->value, v);
    return 0;
}

static grt_object *int_repr(grt_object *o)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, ((grt_int *)o)->value);
    return grt_str_from_len(buf, (size_t)n);
}

grt_type grt_int_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "int",
    .tp_basicsize = sizeof(grt_int),
    .tp_flags = GRT_TPFLAGS_IMMUTABLE | GRT_TPFLAGS_STATIC,
    .tp_dealloc = int_dealloc,
    .tp_hash = int_hash,
    .tp_eq = int_eq,
    .tp_repr = int_repr,
};

/* The small ints; headers are set by _grt_int_init (the header layout
 * depends on the variant, the values do not). */
static grt_int int_small[GRT_SMALL_INT_MAX - GRT_SMALL_INT_MIN + 1];

int _grt_int_init(void)
{
    for (int64_t v = GRT_SMALL_INT_MIN; v <= GRT_SMALL_INT_MAX; v++) {
        grt_int *o = &int_small[v - GRT_SMALL_INT_MIN];
        memset(o, 0, sizeof *o);
        o->ob_base.ob_type = &grt_int_type;
        _grt_rc_set_immortal(&o->ob_base);
        o->value = v;
    }
    return 0;
}

/* Static objects: nothing to free. */
void _grt_int_fini(void) {}

grt_object *grt_int_new(int64_t v)
{
    if (v >= GRT_SMALL_INT_MIN && v <= GRT_SMALL_INT_MAX)
        return &int_small[v - GRT_SMALL_INT_MIN].ob_base;  /* immortal: no incref needed */
    grt_int *o = (grt_int *)_grt_object_alloc(&grt_int_type, sizeof(grt_int));
    if (!o)
        return NULL;
    o->value = v;
    return &o->ob_base;
}

int64_t grt_int_value(grt_object *o)
{
    if (GRT_CHECK_OBJ(o, &grt_int_type) < 0)
        return -1;
    return ((grt_int *)o)->value;
}
