/*
 * runtime/list.c — mutable sequences.
 *
 * Invariants:
 *   - items[0..size) are the list's references (never NULL); allocated >=
 *     size is the capacity of items (NULL when allocated is 0);
 *   - size, allocated and items are read and written under the list's lock
 *     (a no-op in gil and unsafe), except in traverse/clear/dealloc, which
 *     run with the world stopped or with the last reference;
 *   - no decref under the lock: an operation that drops references moves
 *     them out first and releases them after unlocking (lock.h's rule);
 *     increfs under the lock are fine (they never free anything);
 *   - element access hands out new references: another thread may remove
 *     the item the moment the lock is released;
 *   - growth is geometric (x1.25 + 4), so appends are amortised O(1);
 *     popping below a quarter of the capacity gives memory back;
 *   - a list is tracked by the collector from the moment it is built.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>

#define LST(o) ((grt_list *)(o))
#define LIST_MAX_ITEMS ((int64_t)(SIZE_MAX / 4 / sizeof(grt_object *)))

/* ---- capacity (caller holds the lock) ------------------------------------------ */

/* Make room for `need` items.  0, or -1 (nothing changed; no error set: the
 * caller reports it after unlocking). */
static int list_reserve_locked(grt_list *l, int64_t need)
{
    if (need <= l->allocated)
        return 0;
    if (need > LIST_MAX_ITEMS)
        return -1;
    int64_t cap = need + (need >> 2) + 4;
    if (cap > LIST_MAX_ITEMS)
        cap = need;
    grt_object **items = _grt_mem_realloc(l->items, (size_t)cap * sizeof(grt_object *));
    if (!items)
        return -1;
    l->items = items;
    l->allocated = cap;
    return 0;
}

/* After removals: give memory back when under a quarter is in use. */
static void list_shrink_locked(grt_list *l)
{
    if (l->allocated <= 16 || l->size >= l->allocated / 4)
        return;
    int64_t cap = l->size + (l->size >> 2) + 4;
    grt_object **items = _grt_mem_realloc(l->items, (size_t)cap * sizeof(grt_object *));
    if (items) {                      /* on failure keep the larger buffer */
        l->items = items;
        l->allocated = cap;
    }
}

static int list_no_memory(const char *func, int64_t need)
{
    grt_err_set(need > LIST_MAX_ITEMS ? GRT_ERR_OVERFLOW : GRT_ERR_MEMORY,
                "%s: cannot grow a list to %" PRId64 " items", func, need);
    return -1;
}

/* ---- the type ----------------------------------------------------------------- */

static int list_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    grt_list *l = LST(self);
    for (int64_t i = 0; i < l->size; i++) {
        int r = visit(l->items[i], arg);
        if (r)
            return r;
    }
    return 0;
}

/* Release an array of references that was moved out of a container. */
static void list_release_items(grt_object **items, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        _grt_gc_xdecref_held(items[i]);
    if (items)
        _grt_mem_free(items);
}

static int list_clear_impl(grt_list *l)
{
    grt_lock_acquire(GRT_LOCK_OF(l));
    grt_object **items = l->items;
    int64_t n = l->size;
    l->items = NULL;
    l->size = l->allocated = 0;
    grt_lock_release(GRT_LOCK_OF(l));
    list_release_items(items, n);     /* may run finalizers: after unlocking */
    return 0;
}

/* The collector's tp_clear, which runs only with the world stopped (a
 * collection's delete step) or with one thread left (grt_fini's teardown):
 * no other thread can hold or take the lock then (nobody holds a container
 * lock across a safepoint, lock.h), and besides a garbage list is reachable
 * only from garbage.  So the lock is skipped: in atomic and brc it cost two
 * lock-prefixed instructions per list freed by a collection. */
static int list_tp_clear(grt_object *self)
{
    GRT_ASSERT_INTERNAL(_grt_world_is_stopped() || grt_thread_count() == 1);
    grt_list *l = LST(self);
    grt_object **items = l->items;
    int64_t n = l->size;
    l->items = NULL;
    l->size = l->allocated = 0;
    list_release_items(items, n);     /* may run finalizers */
    return 0;
}

static void list_dealloc(grt_object *self)
{
    grt_list *l = LST(self);
    list_release_items(l->items, l->size);
    _grt_object_free(self);
}

/* New references to the items at this moment, in *out (caller releases them
 * and frees the array).  0, or -1 with a MemoryError. */
static int list_snapshot(grt_list *l, grt_object ***out, int64_t *n)
{
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t size = l->size;
    grt_object **items = _grt_mem_alloc((size_t)(size ? size : 1) * sizeof(grt_object *));
    if (items) {
        for (int64_t i = 0; i < size; i++)
            items[i] = grt_newref(l->items[i]);
    }
    grt_lock_release(GRT_LOCK_OF(l));
    if (!items) {
        grt_err_set(GRT_ERR_MEMORY, "cannot copy a list of %" PRId64 " items", size);
        return -1;
    }
    *out = items;
    *n = size;
    return 0;
}

/* Equal when the lengths match and items are pairwise equal.  Elements may
 * be containers that lock themselves, so no lock is held while comparing:
 * both sides are snapshotted first. */
static int list_eq(grt_object *a, grt_object *b)
{
    if (!grt_is_type(b, &grt_list_type))
        return 0;
    grt_object **x, **y;
    int64_t nx, ny;
    if (list_snapshot(LST(a), &x, &nx) < 0)
        return -1;
    if (list_snapshot(LST(b), &y, &ny) < 0) {
        list_release_items(x, nx);
        return -1;
    }
    int r = nx == ny;
    if (r && _grt_recursion_enter("comparison of lists") < 0)
        r = -1;
    else if (r) {
        for (int64_t i = 0; i < nx && r == 1; i++)
            r = grt_equal(x[i], y[i]);
        _grt_recursion_leave();
    }
    list_release_items(x, nx);
    list_release_items(y, ny);
    return r;
}

/* [1, 'a']; a list inside itself prints [...]. */
static grt_object *list_repr(grt_object *self)
{
    _grt_repr_frame f;
    int e = _grt_repr_enter(self, &f);
    if (e < 0)
        return NULL;
    if (e > 0)
        return grt_str_new("[...]");
    grt_object **items;
    int64_t n;
    if (list_snapshot(LST(self), &items, &n) < 0) {
        _grt_repr_leave(&f);
        return NULL;
    }
    _grt_strbuf b;
    _grt_strbuf_init(&b);
    _grt_strbuf_puts(&b, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i)
            _grt_strbuf_puts(&b, ", ");
        _grt_strbuf_append_repr(&b, items[i]);
    }
    _grt_strbuf_puts(&b, "]");
    _grt_repr_leave(&f);
    list_release_items(items, n);
    return _grt_strbuf_finish(&b);
}

grt_type grt_list_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "list",
    .tp_basicsize = sizeof(grt_list),
    .tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_STATIC,
    .tp_dealloc = list_dealloc,
    .tp_traverse = list_traverse,
    .tp_clear = list_tp_clear,
    .tp_hash = NULL,                  /* unhashable */
    .tp_eq = list_eq,
    .tp_repr = list_repr,
};

/* ---- construction ------------------------------------------------------------- */

grt_object *_grt_list_from_array(grt_object **items, int64_t n)
{
    grt_list *l = (grt_list *)_grt_object_alloc(&grt_list_type, sizeof(grt_list));
    if (l)
        grt_lock_init(GRT_LOCK_OF(l));
    if (l && n > 0) {
        l->items = _grt_mem_alloc((size_t)n * sizeof(grt_object *));
        if (!l->items) {
            grt_decref(&l->ob_base);
            l = NULL;
            grt_err_set(GRT_ERR_MEMORY, "cannot allocate a list of %" PRId64 " items", n);
        }
    }
    if (!l) {
        for (int64_t i = 0; i < n; i++)
            grt_decref(items[i]);
        return NULL;
    }
    if (n > 0)
        memcpy(l->items, items, (size_t)n * sizeof(grt_object *));
    l->size = l->allocated = n;
    _grt_gc_track(&l->ob_base);
    return &l->ob_base;
}

grt_object *grt_list_new(int64_t n)
{
    if (n < 0)
        return grt_err_set(GRT_ERR_VALUE, "grt_list_new: negative size %" PRId64, n);
    if (n > LIST_MAX_ITEMS)
        return grt_err_set(GRT_ERR_OVERFLOW, "grt_list_new: a list of %" PRId64 " items is too large", n);
    grt_list *l = (grt_list *)_grt_object_alloc(&grt_list_type, sizeof(grt_list));
    if (!l)
        return NULL;
    grt_lock_init(GRT_LOCK_OF(l));
    if (n > 0) {
        l->items = _grt_mem_alloc((size_t)n * sizeof(grt_object *));
        if (!l->items) {
            grt_decref(&l->ob_base);
            return grt_err_set(GRT_ERR_MEMORY, "grt_list_new: cannot allocate %" PRId64 " items", n);
        }
        for (int64_t i = 0; i < n; i++)
            l->items[i] = grt_newref(grt_None);
        l->size = l->allocated = n;
    }
    _grt_gc_track(&l->ob_base);
    return &l->ob_base;
}

/* ---- operations ---------------------------------------------------------------- */

int grt_list_append(grt_object *lo, grt_object *v)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    grt_list *l = LST(lo);
    grt_incref(v);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t need = l->size + 1;
    if (list_reserve_locked(l, need) < 0) {
        grt_lock_release(GRT_LOCK_OF(l));
        grt_decref(v);
        return list_no_memory(__func__, need);
    }
    l->items[l->size++] = v;
    grt_lock_release(GRT_LOCK_OF(l));
    return 0;
}

int grt_list_insert(grt_object *lo, int64_t i, grt_object *v)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    grt_list *l = LST(lo);
    grt_incref(v);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t n = l->size;
    if (list_reserve_locked(l, n + 1) < 0) {
        grt_lock_release(GRT_LOCK_OF(l));
        grt_decref(v);
        return list_no_memory(__func__, n + 1);
    }
    /* Python's clamping: negative counts from the end, then into [0, n]. */
    int64_t j = i < 0 ? i + n : i;
    if (j < 0)
        j = 0;
    if (j > n)
        j = n;
    memmove(&l->items[j + 1], &l->items[j], (size_t)(n - j) * sizeof(grt_object *));
    l->items[j] = v;
    l->size = n + 1;
    grt_lock_release(GRT_LOCK_OF(l));
    return 0;
}

static void *list_index_error(const char *func, const char *what, int64_t i, int64_t n)
{
    return grt_err_set(GRT_ERR_INDEX, "%s: %s index out of range (index %" PRId64 ", length %" PRId64 ")",
                       func, what, i, n);
}

grt_object *grt_list_get(grt_object *lo, int64_t i)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0)
        return NULL;
    grt_list *l = LST(lo);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t n = l->size;
    int64_t j = i < 0 ? i + n : i;
    grt_object *v = NULL;
    if (j >= 0 && j < n)
        v = grt_newref(l->items[j]);
    grt_lock_release(GRT_LOCK_OF(l));
    if (!v)
        return list_index_error(__func__, "list", i, n);
    return v;
}

int grt_list_set(grt_object *lo, int64_t i, grt_object *v)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    grt_list *l = LST(lo);
    grt_incref(v);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t n = l->size;
    int64_t j = i < 0 ? i + n : i;
    grt_object *old = NULL;
    int ok = j >= 0 && j < n;
    if (ok) {
        old = l->items[j];
        l->items[j] = v;
    }
    grt_lock_release(GRT_LOCK_OF(l));
    if (!ok) {
        grt_decref(v);
        list_index_error(__func__, "list assignment", i, n);
        return -1;
    }
    grt_decref(old);                  /* after unlocking: may run a finalizer */
    return 0;
}

grt_object *grt_list_pop(grt_object *lo, int64_t i)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0)
        return NULL;
    grt_list *l = LST(lo);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t n = l->size;
    int64_t j = i < 0 ? i + n : i;
    grt_object *v = NULL;
    if (j >= 0 && j < n) {
        v = l->items[j];              /* the list's reference passes to the caller */
        memmove(&l->items[j], &l->items[j + 1], (size_t)(n - j - 1) * sizeof(grt_object *));
        l->size = n - 1;
        list_shrink_locked(l);
    }
    grt_lock_release(GRT_LOCK_OF(l));
    if (!v) {
        if (n == 0)
            return grt_err_set(GRT_ERR_INDEX, "%s: pop from empty list", __func__);
        return list_index_error(__func__, "pop", i, n);
    }
    return v;
}

int grt_list_clear(grt_object *lo)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0)
        return -1;
    return list_clear_impl(LST(lo));
}

int64_t grt_list_len(grt_object *lo)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0)
        return -1;
    grt_list *l = LST(lo);
    grt_lock_acquire(GRT_LOCK_OF(l));
    int64_t n = l->size;
    grt_lock_release(GRT_LOCK_OF(l));
    return n;
}

int grt_list_extend(grt_object *lo, grt_object *other)
{
    if (GRT_CHECK_OBJ(lo, &grt_list_type) < 0 || GRT_CHECK_ARG(other) < 0)
        return -1;
    grt_list *l = LST(lo);
    if (grt_is_type(other, &grt_tuple_type)) {
        int64_t n;
        grt_object *const *src = _grt_tuple_items(other, &n);   /* immutable: no lock */
        for (int64_t i = 0; i < n; i++)     /* a tuple still being filled (grt_tuple_new) */
            if (GRT_UNLIKELY(!src[i])) {
                grt_err_set(GRT_ERR_VALUE, "grt_list_extend: item %" PRId64 " of the tuple "
                            "is not set", i);
                return -1;
            }
        grt_lock_acquire(GRT_LOCK_OF(l));
        int64_t need = l->size + n;
        if (list_reserve_locked(l, need) < 0) {
            grt_lock_release(GRT_LOCK_OF(l));
            return list_no_memory(__func__, need);
        }
        for (int64_t i = 0; i < n; i++)
            l->items[l->size + i] = grt_newref(src[i]);
        l->size = need;
        grt_lock_release(GRT_LOCK_OF(l));
        return 0;
    }
    if (!grt_is_type(other, &grt_list_type)) {
        grt_err_set(GRT_ERR_TYPE, "grt_list_extend: expected list or tuple, got %s",
                    grt_type_name(other));
        return -1;
    }
    grt_list *o = LST(other);
    /* Both locks, in address order (one lock when l == o). */
    grt_lock2_acquire(GRT_LOCK_OF(l), GRT_LOCK_OF(o));
    int64_t n = o->size;                /* read before l grows: l.extend(l) doubles */
    int64_t need = l->size + n;
    if (list_reserve_locked(l, need) < 0) {
        grt_lock2_release(GRT_LOCK_OF(l), GRT_LOCK_OF(o));
        return list_no_memory(__func__, need);
    }
    for (int64_t i = 0; i < n; i++)     /* o->items re-read: it moved if l == o */
        l->items[l->size + i] = grt_newref(o->items[i]);
    l->size = need;
    grt_lock2_release(GRT_LOCK_OF(l), GRT_LOCK_OF(o));
    return 0;
}
