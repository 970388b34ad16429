/*
 * runtime/tuple.c — immutable sequences.
 *
 * Invariants:
 *   - size is fixed at creation; items[i] is NULL only while the creator is
 *     still filling the tuple with grt_tuple_init_item (or after tp_clear
 *     broke a cycle), so traverse, dealloc and repr accept NULL items;
 *   - a tuple is tracked by the collector from creation (it may be filled
 *     with containers; the collector may untrack it later if it holds only
 *     atomic values);
 *   - items never change once the tuple is shared, so reads need no lock and
 *     grt_tuple_get may return a borrowed reference;
 *   - hash combines the item hashes in order and fails (TypeError) if any
 *     item is unhashable; equal tuples hash equal.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>
#include <stdarg.h>

#define TUP(o) ((grt_tuple *)(o))

static int tuple_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    grt_tuple *t = TUP(self);
    for (int64_t i = 0; i < t->size; i++) {
        if (t->items[i]) {
            int r = visit(t->items[i], arg);
            if (r)
                return r;
        }
    }
    return 0;
}

/* Only the collector calls this, on unreachable tuples (a cycle made with
 * grt_tuple_init_item, or through a mutable container). */
static int tuple_clear(grt_object *self)
{
    grt_tuple *t = TUP(self);
    for (int64_t i = 0; i < t->size; i++)
        grt_clear(t->items[i]);
    return 0;
}

static void tuple_dealloc(grt_object *self)
{
    grt_tuple *t = TUP(self);
    for (int64_t i = 0; i < t->size; i++)
        _grt_gc_xdecref_held(t->items[i]);
    _grt_object_free(self);
}

/* Mixes the item hashes in order with multiply-rotate rounds (the shape of
 * xxHash's accumulator), so (1, 2) and (2, 1) differ. */
static int64_t tuple_hash(grt_object *self)
{
    grt_tuple *t = TUP(self);
    const uint64_t p1 = UINT64_C(0x9E3779B185EBCA87), p2 = UINT64_C(0xC2B2AE3D27D4EB4F);
    uint64_t acc = UINT64_C(0x27D4EB2F165667C5);
    if (_grt_recursion_enter("hash of a tuple") < 0)
        return -1;
    for (int64_t i = 0; i < t->size; i++) {
        if (!t->items[i]) {
            _grt_recursion_leave();
            grt_err_set(GRT_ERR_VALUE, "hash of a tuple whose item %" PRId64 " is not set", i);
            return -1;
        }
        int64_t h = grt_hash(t->items[i]);
        if (h == -1) {
            _grt_recursion_leave();
            return -1;
        }
        acc += (uint64_t)h * p2;
        acc = (acc << 31) | (acc >> 33);
        acc *= p1;
    }
    _grt_recursion_leave();
    acc ^= (uint64_t)t->size * p2;
    acc ^= acc >> 29;
    int64_t r = (int64_t)acc;
    return r == -1 ? -2 : r;
}

static int tuple_eq(grt_object *a, grt_object *b)
{
    if (!grt_is_type(b, &grt_tuple_type))
        return 0;
    grt_tuple *x = TUP(a), *y = TUP(b);
    if (x->size != y->size)
        return 0;
    if (_grt_recursion_enter("comparison of tuples") < 0)
        return -1;
    int r = 1;
    for (int64_t i = 0; i < x->size && r == 1; i++) {
        if (x->items[i] == y->items[i])
            continue;
        if (!x->items[i] || !y->items[i])
            r = 0;
        else
            r = grt_equal(x->items[i], y->items[i]);
    }
    _grt_recursion_leave();
    return r;
}

/* (), (1,), (1, 2); a tuple inside itself (through a list) prints (...). */
static grt_object *tuple_repr(grt_object *self)
{
    grt_tuple *t = TUP(self);
    if (t->size == 0)
        return grt_str_new("()");
    _grt_repr_frame f;
    int e = _grt_repr_enter(self, &f);
    if (e < 0)
        return NULL;
    if (e > 0)
        return grt_str_new("(...)");
    _grt_strbuf b;
    _grt_strbuf_init(&b);
    _grt_strbuf_puts(&b, "(");
    for (int64_t i = 0; i < t->size; i++) {
        if (i)
            _grt_strbuf_puts(&b, ", ");
        if (t->items[i])
            _grt_strbuf_append_repr(&b, t->items[i]);
        else
            _grt_strbuf_puts(&b, "<NULL>");
    }
    _grt_strbuf_puts(&b, t->size == 1 ? ",)" : ")");
    _grt_repr_leave(&f);
    return _grt_strbuf_finish(&b);
}

grt_type grt_tuple_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "tuple",
    .tp_basicsize = sizeof(grt_tuple),
    .tp_itemsize = sizeof(grt_object *),
    .tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_IMMUTABLE | GRT_TPFLAGS_STATIC,
    .tp_dealloc = tuple_dealloc,
    .tp_traverse = tuple_traverse,
    .tp_clear = tuple_clear,
    .tp_hash = tuple_hash,
    .tp_eq = tuple_eq,
    .tp_repr = tuple_repr,
};

/* An untracked tuple of n NULL items; the caller tracks it. */
static grt_tuple *tuple_alloc(int64_t n, const char *func)
{
    if (n < 0) {
        grt_err_set(GRT_ERR_VALUE, "%s: negative size %" PRId64, func, n);
        return NULL;
    }
    if ((uint64_t)n > (SIZE_MAX / 2 - sizeof(grt_tuple)) / sizeof(grt_object *)) {
        grt_err_set(GRT_ERR_OVERFLOW, "%s: a tuple of %" PRId64 " items is too large", func, n);
        return NULL;
    }
    grt_tuple *t = (grt_tuple *)_grt_object_alloc(&grt_tuple_type,
                                                  sizeof(grt_tuple) + (size_t)n * sizeof(grt_object *));
    if (!t)
        return NULL;
    t->size = n;
    return t;
}

grt_object *grt_tuple_new(int64_t n)
{
    grt_tuple *t = tuple_alloc(n, __func__);
    if (!t)
        return NULL;
    _grt_gc_track(&t->ob_base);     /* traverse skips the NULL items until filled */
    return &t->ob_base;
}

grt_object *grt_tuple_pack(int64_t n, ...)
{
    grt_tuple *t = tuple_alloc(n, __func__);
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, n);
    for (int64_t i = 0; i < n; i++) {
        grt_object *v = va_arg(ap, grt_object *);
        if (!v) {
            va_end(ap);
            grt_decref(&t->ob_base);  /* releases the items stored so far */
            return grt_err_set(GRT_ERR_TYPE, "grt_tuple_pack: item %" PRId64 " is NULL", i);
        }
        t->items[i] = grt_newref(v);
    }
    va_end(ap);
    _grt_gc_track(&t->ob_base);
    return &t->ob_base;
}

int grt_tuple_init_item(grt_object *t, int64_t i, grt_object *v)
{
    if (GRT_CHECK_OBJ(t, &grt_tuple_type) < 0 || GRT_CHECK_ARG(v) < 0) {
        grt_xdecref(v);               /* steals, even on failure */
        return -1;
    }
    grt_tuple *tp = TUP(t);
    if (i < 0 || i >= tp->size) {
        grt_decref(v);
        grt_err_set(GRT_ERR_INDEX, "grt_tuple_init_item: tuple index out of range (index %" PRId64
                    ", length %" PRId64 ")", i, tp->size);
        return -1;
    }
    grt_object *old = tp->items[i];
    tp->items[i] = v;
    grt_xdecref(old);
    return 0;
}

grt_object *grt_tuple_get(grt_object *t, int64_t i)
{
    if (GRT_CHECK_OBJ(t, &grt_tuple_type) < 0)
        return NULL;
    grt_tuple *tp = TUP(t);
    int64_t j = i < 0 ? i + tp->size : i;
    if (j < 0 || j >= tp->size)
        return grt_err_set(GRT_ERR_INDEX, "grt_tuple_get: tuple index out of range (index %" PRId64
                           ", length %" PRId64 ")", i, tp->size);
    if (!tp->items[j])
        return grt_err_set(GRT_ERR_VALUE, "grt_tuple_get: item %" PRId64 " is not set", i);
    return tp->items[j];
}

int64_t grt_tuple_len(grt_object *t)
{
    if (GRT_CHECK_OBJ(t, &grt_tuple_type) < 0)
        return -1;
    return TUP(t)->size;
}

/* For list.c's extend: the items and their count, borrowed. */
grt_object *const *_grt_tuple_items(grt_object *t, int64_t *n)
{
    *n = TUP(t)->size;
    return TUP(t)->items;
}
