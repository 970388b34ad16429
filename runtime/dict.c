/*
 * runtime/dict.c — hash tables that keep insertion order (the compact
 * layout of CPython 3.6+).
 *
 * A table is one allocation: an index array of 2^log2_size slots, then an
 * entries array of `usable` (2/3 of the slots) {hash, key, value} records.
 * Entries are appended in insertion order; a slot holds the position of an
 * entry, SLOT_EMPTY (never used: ends a probe), or SLOT_DUMMY (its entry was
 * deleted: probes go on past it).  Slots are 1, 2, 4 or 8 bytes wide,
 * whatever fits the entry positions, so small dicts stay small.
 *
 * Invariants:
 *   - entries[0..nentries) were appended in order; a deleted entry has
 *     key == NULL and value == NULL and stays in place (order is kept) until
 *     the next resize compacts the array; used counts the live ones;
 *   - every live entry is reachable by probing from its hash: the probe
 *     sequence i -> 5i + 1 + perturb (perturb = hash >> 5k) visits every
 *     slot, and at least one slot is SLOT_EMPTY (nentries <= usable < size),
 *     so every probe ends;
 *   - the dict holds one reference to each live key and value;
 *   - used, table and the table's contents are read and written under the
 *     dict's lock, except in traverse/clear/dealloc (world stopped or last
 *     reference).  Keys are hashed before the lock is taken; keys are
 *     compared under it, which is safe because hashable types never lock;
 *     no decref happens under the lock (replaced values are released after);
 *   - a dict starts untracked by the collector and asks
 *     _grt_gc_dict_maybe_track for each key and value it stores, having
 *     asked whether they may be tracked before storing them (after, they are
 *     the dict's, and another thread may delete and free them).
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>

#define SLOT_EMPTY (-1)
#define SLOT_DUMMY (-2)
#define DICT_MIN_LOG2 3                 /* 8 slots, 5 entries */
#define DICT_PERTURB_SHIFT 5

typedef struct dict_entry {
    int64_t hash;
    grt_object *key;                    /* NULL: deleted */
    grt_object *value;
} dict_entry;

typedef struct dict_table {
    uint8_t log2_size;
    uint8_t slot_bytes;                 /* 1, 2, 4 or 8 */
    int64_t usable;                     /* capacity of entries: 2/3 of the slots */
    int64_t nentries;                   /* entries used so far, deleted included */
    _Alignas(8) unsigned char slots[];  /* 2^log2_size slots, then the entries */
} dict_table;

typedef struct grt_dict {
    grt_object ob_base;
    GRT_LOCK_FIELD
    int64_t used;                       /* live entries */
    dict_table *table;                  /* NULL while the dict has never held anything */
} grt_dict;

#define DCT(o) ((grt_dict *)(o))

/* ---- the table ------------------------------------------------------------------ */

static inline size_t table_size(const dict_table *t) { return (size_t)1 << t->log2_size; }

static inline dict_entry *table_entries(dict_table *t)
{
    return (dict_entry *)(t->slots + table_size(t) * t->slot_bytes);
}

static inline int64_t slot_get(const dict_table *t, size_t i)
{
    switch (t->slot_bytes) {
    case 1:  return ((const int8_t *)t->slots)[i];
    case 2:  return ((const int16_t *)t->slots)[i];
    case 4:  return ((const int32_t *)t->slots)[i];
    default: return ((const int64_t *)t->slots)[i];
    }
}

static inline void slot_set(dict_table *t, size_t i, int64_t ix)
{
    switch (t->slot_bytes) {
    case 1:  ((int8_t *)t->slots)[i] = (int8_t)ix; break;
    case 2:  ((int16_t *)t->slots)[i] = (int16_t)ix; break;
    case 4:  ((int32_t *)t->slots)[i] = (int32_t)ix; break;
    default: ((int64_t *)t->slots)[i] = ix; break;
    }
}

static size_t table_bytes_for(unsigned log2_size, unsigned slot_bytes)
{
    size_t size = (size_t)1 << log2_size;
    return sizeof(dict_table) + size * slot_bytes + (size * 2 / 3) * sizeof(dict_entry);
}

static size_t table_bytes(const dict_table *t) { return table_bytes_for(t->log2_size, t->slot_bytes); }

/* A table with 2^log2_size empty slots; NULL if out of memory. */
static dict_table *table_new(unsigned log2_size)
{
    size_t size = (size_t)1 << log2_size;
    unsigned slot_bytes = size <= 128 ? 1 : size <= 32768 ? 2 : size <= ((size_t)1 << 31) ? 4 : 8;
    dict_table *t = _grt_mem_alloc(table_bytes_for(log2_size, slot_bytes));
    if (!t)
        return NULL;
    t->log2_size = (uint8_t)log2_size;
    t->slot_bytes = (uint8_t)slot_bytes;
    t->usable = (int64_t)(size * 2 / 3);
    t->nentries = 0;
    memset(t->slots, 0xff, size * slot_bytes);     /* all bytes 0xff: SLOT_EMPTY at any width */
    return t;
}

/* The slot where an entry with this hash goes: the first free one on its probe. */
static size_t table_free_slot(const dict_table *t, int64_t hash)
{
    size_t mask = table_size(t) - 1;
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & mask;
    while (slot_get(t, i) >= 0) {
        perturb >>= DICT_PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

/* Find key.  Returns the entry position (and its slot in *slot_out), -1 if
 * absent, -2 if a key comparison failed (error set). */
static int64_t table_lookup(dict_table *t, grt_object *key, int64_t hash, size_t *slot_out)
{
    if (!t)
        return -1;
    dict_entry *ents = table_entries(t);
    size_t mask = table_size(t) - 1;
    uint64_t perturb = (uint64_t)hash;
    for (size_t i = (size_t)hash & mask;; ) {
        int64_t ix = slot_get(t, i);
        if (ix == SLOT_EMPTY)
            return -1;
        if (ix >= 0) {
            dict_entry *e = &ents[ix];
            if (e->key == key) {
                *slot_out = i;
                return ix;
            }
            if (e->hash == hash) {
                int eq = grt_equal(e->key, key);   /* hashable keys never lock: safe here */
                if (eq < 0)
                    return -2;
                if (eq) {
                    *slot_out = i;
                    return ix;
                }
            }
        }
        perturb >>= DICT_PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

/* The same for a str key given as bytes: only str keys can match. */
static int64_t table_lookup_bytes(dict_table *t, const char *s, size_t n, int64_t hash,
                                  size_t *slot_out)
{
    if (!t)
        return -1;
    dict_entry *ents = table_entries(t);
    size_t mask = table_size(t) - 1;
    uint64_t perturb = (uint64_t)hash;
    for (size_t i = (size_t)hash & mask;; ) {
        int64_t ix = slot_get(t, i);
        if (ix == SLOT_EMPTY)
            return -1;
        if (ix >= 0 && ents[ix].hash == hash && _grt_str_eq_bytes(ents[ix].key, s, n, hash)) {
            *slot_out = i;
            return ix;
        }
        perturb >>= DICT_PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

/* Rebuild d's table with room for at least `need` live entries (plus the
 * growth headroom), dropping deleted entries.  0, or -1 (no error set:
 * caller holds the lock and reports after unlocking). */
static int dict_resize_locked(grt_dict *d, int64_t need)
{
    unsigned log2 = DICT_MIN_LOG2;
    /* Headroom: the smallest power of two whose 2/3 holds 1.5 * need + 1
     * entries, so a growing dict resizes O(log n) times. */
    int64_t want = need + need / 2 + 1;
    while (log2 < 62 && (int64_t)(((size_t)1 << log2) * 2 / 3) < want)
        log2++;
    dict_table *nt = table_new(log2);
    if (!nt)
        return -1;
    dict_table *ot = d->table;
    if (ot) {
        dict_entry *src = table_entries(ot), *dst = table_entries(nt);
        int64_t k = 0;
        for (int64_t i = 0; i < ot->nentries; i++) {
            if (!src[i].key)
                continue;
            dst[k] = src[i];
            slot_set(nt, table_free_slot(nt, src[i].hash), k);
            k++;
        }
        GRT_ASSERT_INTERNAL(k == d->used);
        nt->nentries = k;
        _grt_mem_free(ot);            /* memory only, not a decref */
    }
    d->table = nt;
    return 0;
}

/* Store key -> value, taking over the caller's references to both.  Returns
 * 0 and in *drop1 and *drop2 the references the caller must release after
 * unlocking (the replaced value; the caller's key when the dict keeps its own
 * equal key), or -1 (comparison error set; or out of memory, no error set —
 * *oom is 1) with nothing taken over. */
static int dict_insert_locked(grt_dict *d, grt_object *key, int64_t hash, grt_object *value,
                              grt_object **drop1, grt_object **drop2, int *oom)
{
    size_t slot;
    int64_t ix = table_lookup(d->table, key, hash, &slot);
    if (ix == -2)
        return -1;
    if (ix >= 0) {
        dict_entry *e = &table_entries(d->table)[ix];
        *drop1 = e->value;
        *drop2 = key;
        e->value = value;
        return 0;
    }
    if (!d->table || d->table->nentries == d->table->usable) {
        if (dict_resize_locked(d, d->used + 1) < 0) {
            *oom = 1;
            return -1;
        }
    }
    dict_table *t = d->table;
    dict_entry *e = &table_entries(t)[t->nentries];
    e->hash = hash;
    e->key = key;
    e->value = value;
    slot_set(t, table_free_slot(t, hash), t->nentries);
    t->nentries++;
    d->used++;
    return 0;
}

/* Remove the entry at position ix (slot `slot`); its key and value go to the caller. */
static void dict_remove_locked(grt_dict *d, size_t slot, int64_t ix, grt_object **key, grt_object **value)
{
    dict_entry *e = &table_entries(d->table)[ix];
    *key = e->key;
    *value = e->value;
    e->key = e->value = NULL;
    slot_set(d->table, slot, SLOT_DUMMY);
    d->used--;
}

/* ---- the type ------------------------------------------------------------------- */

static int dict_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    dict_table *t = DCT(self)->table;
    if (!t)
        return 0;
    dict_entry *ents = table_entries(t);
    for (int64_t i = 0; i < t->nentries; i++) {
        if (!ents[i].key)
            continue;
        int r = visit(ents[i].key, arg);
        if (!r)
            r = visit(ents[i].value, arg);
        if (r)
            return r;
    }
    return 0;
}

/* Release a detached table's references, then the table. */
static void table_release(dict_table *t)
{
    if (!t)
        return;
    dict_entry *ents = table_entries(t);
    for (int64_t i = 0; i < t->nentries; i++) {
        if (ents[i].key) {
            grt_decref(ents[i].key);
            grt_decref(ents[i].value);
        }
    }
    _grt_mem_free(t);
}

static int dict_clear_impl(grt_dict *d)
{
    grt_lock_acquire(GRT_LOCK_OF(d));
    dict_table *t = d->table;
    d->table = NULL;
    d->used = 0;
    grt_lock_release(GRT_LOCK_OF(d));
    table_release(t);                 /* after unlocking: may run finalizers */
    return 0;
}

static int dict_tp_clear(grt_object *self) { return dict_clear_impl(DCT(self)); }

static void dict_dealloc(grt_object *self)
{
    table_release(DCT(self)->table);
    _grt_object_free(self);
}

/* New references to the live keys and values, in order: items[2i], items[2i+1].
 * 0, or -1 with a MemoryError. */
static int dict_snapshot(grt_dict *d, grt_object ***out, int64_t *n)
{
    grt_lock_acquire(GRT_LOCK_OF(d));
    int64_t used = d->used;
    grt_object **items = _grt_mem_alloc((size_t)(used ? used : 1) * 2 * sizeof(grt_object *));
    if (items && used) {
        dict_entry *ents = table_entries(d->table);
        int64_t k = 0;
        for (int64_t i = 0; i < d->table->nentries; i++) {
            if (!ents[i].key)
                continue;
            items[k++] = grt_newref(ents[i].key);
            items[k++] = grt_newref(ents[i].value);
        }
    }
    grt_lock_release(GRT_LOCK_OF(d));
    if (!items) {
        grt_err_set(GRT_ERR_MEMORY, "cannot copy a dict of %" PRId64 " items", used);
        return -1;
    }
    *out = items;
    *n = used;
    return 0;
}

static void dict_release_snapshot(grt_object **items, int64_t n)
{
    for (int64_t i = 0; i < 2 * n; i++)
        grt_decref(items[i]);
    _grt_mem_free(items);
}

/* Equal when both hold the same keys with equal values.  a is snapshotted
 * and compared with no lock held (values may be containers); b is locked
 * only for each lookup. */
static grt_object *dict_find(grt_object *d, grt_object *k, int *error);

static int dict_eq(grt_object *a, grt_object *b)
{
    if (!grt_is_type(b, &grt_dict_type))
        return 0;
    grt_object **items;
    int64_t n;
    if (dict_snapshot(DCT(a), &items, &n) < 0)
        return -1;
    if (n != grt_dict_len(b)) {
        dict_release_snapshot(items, n);
        return 0;
    }
    if (_grt_recursion_enter("comparison of dicts") < 0) {
        dict_release_snapshot(items, n);
        return -1;
    }
    int r = 1;
    for (int64_t i = 0; i < n && r == 1; i++) {
        int error;                      /* not the thread's indicator: an older error may be set */
        grt_object *bv = dict_find(b, items[2 * i], &error);
        if (!bv) {
            r = error ? -1 : 0;
            break;
        }
        r = grt_equal(items[2 * i + 1], bv);
        grt_decref(bv);
    }
    _grt_recursion_leave();
    dict_release_snapshot(items, n);
    return r;
}

/* {'a': 1, 'b': [2]}; a dict inside itself prints {...}. */
static grt_object *dict_repr(grt_object *self)
{
    _grt_repr_frame f;
    int e = _grt_repr_enter(self, &f);
    if (e < 0)
        return NULL;
    if (e > 0)
        return grt_str_new("{...}");
    grt_object **items;
    int64_t n;
    if (dict_snapshot(DCT(self), &items, &n) < 0) {
        _grt_repr_leave(&f);
        return NULL;
    }
    _grt_strbuf b;
    _grt_strbuf_init(&b);
    _grt_strbuf_puts(&b, "{");
    for (int64_t i = 0; i < n; i++) {
        if (i)
            _grt_strbuf_puts(&b, ", ");
        _grt_strbuf_append_repr(&b, items[2 * i]);
        _grt_strbuf_puts(&b, ": ");
        _grt_strbuf_append_repr(&b, items[2 * i + 1]);
    }
    _grt_strbuf_puts(&b, "}");
    _grt_repr_leave(&f);
    dict_release_snapshot(items, n);
    return _grt_strbuf_finish(&b);
}

grt_type grt_dict_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "dict",
    .tp_basicsize = sizeof(grt_dict),
    .tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_STATIC,
    .tp_dealloc = dict_dealloc,
    .tp_traverse = dict_traverse,
    .tp_clear = dict_tp_clear,
    .tp_hash = NULL,                  /* unhashable */
    .tp_eq = dict_eq,
    .tp_repr = dict_repr,
};

/* ---- public API ----------------------------------------------------------------- */

grt_object *grt_dict_new(void)
{
    /* Untracked until it stores something that may be part of a cycle. */
    grt_dict *d = (grt_dict *)_grt_object_alloc(&grt_dict_type, sizeof(grt_dict));
    if (d)
        grt_lock_init(GRT_LOCK_OF(d));
    return (grt_object *)d;
}

/* Store with references the caller already owns (k and v are taken over,
 * also on failure). */
static int dict_set_owned(grt_dict *d, grt_object *k, int64_t hash, grt_object *v, const char *func)
{
    grt_object *drop1 = NULL, *drop2 = NULL;
    int oom = 0;
    /* asked while k and v are ours: once stored they are d's, and another
     * thread may delete them from d and free them before we look */
    int may_track = !_grt_gc_is_tracked(&d->ob_base) &&
                    (_grt_gc_may_be_tracked(k) || _grt_gc_may_be_tracked(v));
    grt_lock_acquire(GRT_LOCK_OF(d));
    int rc = dict_insert_locked(d, k, hash, v, &drop1, &drop2, &oom);
    int64_t used = d->used;
    grt_lock_release(GRT_LOCK_OF(d));
    if (rc < 0) {
        grt_decref(k);
        grt_decref(v);
        if (oom)
            grt_err_set(GRT_ERR_MEMORY, "%s: cannot grow a dict of %" PRId64 " items", func, used);
        return -1;
    }
    grt_xdecref(drop1);
    grt_xdecref(drop2);
    _grt_gc_dict_maybe_track(&d->ob_base, may_track);
    return 0;
}

int grt_dict_set(grt_object *d, grt_object *k, grt_object *v)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    int64_t hash = grt_hash(k);
    if (hash == -1)
        return -1;
    grt_incref(k);
    grt_incref(v);
    return dict_set_owned(DCT(d), k, hash, v, __func__);
}

/* Shared by get and lookup: new reference, or NULL with *found = 0 (absent) or
 * an error set. */
static grt_object *dict_find(grt_object *d, grt_object *k, int *error)
{
    int64_t hash = grt_hash(k);
    if (hash == -1) {
        *error = 1;
        return NULL;
    }
    grt_dict *dp = DCT(d);
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t slot;
    int64_t ix = table_lookup(dp->table, k, hash, &slot);
    grt_object *v = ix >= 0 ? grt_newref(table_entries(dp->table)[ix].value) : NULL;
    grt_lock_release(GRT_LOCK_OF(dp));
    *error = ix == -2;
    return v;
}

/* KeyError naming k by its repr, as Python's does (k borrowed). */
static void dict_key_error(grt_object *k)
{
    grt_object *r = grt_repr(k);
    if (!r)
        return;                         /* the repr's own error stands */
    grt_err_set(GRT_ERR_KEY, "%s", grt_str_data(r));
    grt_decref(r);
}

grt_object *grt_dict_get(grt_object *d, grt_object *k)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0)
        return NULL;
    int error;
    grt_object *v = dict_find(d, k, &error);
    if (!v && !error)
        dict_key_error(k);
    return v;
}

grt_object *grt_dict_lookup(grt_object *d, grt_object *k)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0)
        return NULL;
    int error;
    return dict_find(d, k, &error);
}

int grt_dict_contains(grt_object *d, grt_object *k)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0)
        return -1;
    int error;
    grt_object *v = dict_find(d, k, &error);
    if (error)
        return -1;
    if (!v)
        return 0;
    grt_decref(v);
    return 1;
}

int grt_dict_del(grt_object *d, grt_object *k)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0)
        return -1;
    int64_t hash = grt_hash(k);
    if (hash == -1)
        return -1;
    grt_dict *dp = DCT(d);
    grt_object *old_k = NULL, *old_v = NULL;
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t slot;
    int64_t ix = table_lookup(dp->table, k, hash, &slot);
    if (ix >= 0)
        dict_remove_locked(dp, slot, ix, &old_k, &old_v);
    grt_lock_release(GRT_LOCK_OF(dp));
    if (ix == -2)
        return -1;
    if (ix == -1) {
        dict_key_error(k);
        return -1;
    }
    grt_decref(old_k);
    grt_decref(old_v);
    return 0;
}

int64_t grt_dict_len(grt_object *d)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0)
        return -1;
    grt_dict *dp = DCT(d);
    grt_lock_acquire(GRT_LOCK_OF(dp));
    int64_t n = dp->used;
    grt_lock_release(GRT_LOCK_OF(dp));
    return n;
}

int grt_dict_clear(grt_object *d)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0)
        return -1;
    return dict_clear_impl(DCT(d));
}

int grt_dict_next(grt_object *d, int64_t *pos, grt_object **k, grt_object **v)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(pos) < 0 ||
        GRT_CHECK_ARG(k) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    grt_dict *dp = DCT(d);
    int found = 0;
    grt_lock_acquire(GRT_LOCK_OF(dp));
    dict_table *t = dp->table;
    int64_t i = *pos < 0 ? 0 : *pos;
    if (t) {
        dict_entry *ents = table_entries(t);
        for (; i < t->nentries; i++) {
            if (ents[i].key) {
                *k = grt_newref(ents[i].key);
                *v = grt_newref(ents[i].value);
                found = 1;
                i++;
                break;
            }
        }
    }
    grt_lock_release(GRT_LOCK_OF(dp));
    *pos = i;
    return found;
}

grt_object *grt_dict_keys(grt_object *d)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0)
        return NULL;
    grt_object **items;
    int64_t n;
    if (dict_snapshot(DCT(d), &items, &n) < 0)
        return NULL;
    for (int64_t i = 0; i < n; i++) {   /* keep the keys, release the values */
        grt_decref(items[2 * i + 1]);
        items[i] = items[2 * i];
    }
    grt_object *l = _grt_list_from_array(items, n);
    _grt_mem_free(items);
    return l;
}

int grt_dict_update(grt_object *d, grt_object *other)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_OBJ(other, &grt_dict_type) < 0)
        return -1;
    /* Snapshot other first (new references), so only one lock is ever held
     * and d.update(d) needs no special case. */
    grt_object **items;
    int64_t n;
    if (dict_snapshot(DCT(other), &items, &n) < 0)
        return -1;
    /* Room for every new key first, so that running out of memory leaves d
     * as it was (CPython's update can stop half-way): the inserts below then
     * grow nothing, unless another thread adds to d meanwhile. */
    grt_dict *dd = DCT(d);
    grt_lock_acquire(GRT_LOCK_OF(dd));
    int room = n == 0 || (dd->table && dd->table->nentries + n <= dd->table->usable);
    int grown = room || dict_resize_locked(dd, dd->used + n) == 0;
    int64_t used = dd->used;
    grt_lock_release(GRT_LOCK_OF(dd));
    if (!grown) {
        dict_release_snapshot(items, n);
        grt_err_set(GRT_ERR_MEMORY, "grt_dict_update: cannot grow a dict of %" PRId64
                    " items by %" PRId64, used, n);
        return -1;
    }
    int rc = 0;
    int64_t i = 0;
    for (; i < n; i++) {
        grt_object *k = items[2 * i], *v = items[2 * i + 1];
        int64_t hash = grt_hash(k);   /* cannot fail: it is already a key of other */
        if (hash == -1 || dict_set_owned(dd, k, hash, v, __func__) < 0) {
            if (hash == -1) {
                grt_decref(k);
                grt_decref(v);
            }
            rc = -1;
            i++;
            break;
        }
    }
    for (; i < n; i++) {
        grt_decref(items[2 * i]);
        grt_decref(items[2 * i + 1]);
    }
    _grt_mem_free(items);
    return rc;
}

int grt_dict_set_str(grt_object *d, const char *k, grt_object *v)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0 || GRT_CHECK_ARG(v) < 0)
        return -1;
    grt_object *key = grt_str_new(k);
    if (!key)
        return -1;
    int rc = grt_dict_set(d, key, v);
    grt_decref(key);
    return rc;
}

grt_object *grt_dict_get_str(grt_object *d, const char *k)
{
    if (GRT_CHECK_OBJ(d, &grt_dict_type) < 0 || GRT_CHECK_ARG(k) < 0)
        return NULL;
    size_t n = strlen(k);
    grt_object *v = _grt_dict_lookup_bytes(d, k, n, _grt_str_hash_bytes(k, n));
    if (!v) {
        grt_object *ks = grt_str_new(k);
        if (ks) {
            dict_key_error(ks);
            grt_decref(ks);
        }
    }
    return v;
}

/* ---- by C-string key (runtime/class.c's attributes) --------------------------------- */

grt_object *_grt_dict_lookup_bytes(grt_object *d, const char *s, size_t n, int64_t hash)
{
    grt_dict *dp = DCT(d);
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t slot;
    int64_t ix = table_lookup_bytes(dp->table, s, n, hash, &slot);
    grt_object *v = ix >= 0 ? grt_newref(table_entries(dp->table)[ix].value) : NULL;
    grt_lock_release(GRT_LOCK_OF(dp));
    return v;
}

int _grt_dict_replace_bytes(grt_object *d, const char *s, size_t n, int64_t hash, grt_object *v)
{
    grt_dict *dp = DCT(d);
    grt_object *old = NULL;
    int may_track = !_grt_gc_is_tracked(d) && _grt_gc_may_be_tracked(v);   /* see dict_set_owned */
    grt_incref(v);
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t slot;
    int64_t ix = table_lookup_bytes(dp->table, s, n, hash, &slot);
    if (ix >= 0) {
        dict_entry *e = &table_entries(dp->table)[ix];
        old = e->value;
        e->value = v;
    }
    grt_lock_release(GRT_LOCK_OF(dp));
    if (ix < 0) {
        grt_decref(v);
        return 0;
    }
    grt_decref(old);
    _grt_gc_dict_maybe_track(d, may_track);
    return 1;
}

int _grt_dict_del_bytes(grt_object *d, const char *s, size_t n, int64_t hash)
{
    grt_dict *dp = DCT(d);
    grt_object *old_k = NULL, *old_v = NULL;
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t slot;
    int64_t ix = table_lookup_bytes(dp->table, s, n, hash, &slot);
    if (ix >= 0)
        dict_remove_locked(dp, slot, ix, &old_k, &old_v);
    grt_lock_release(GRT_LOCK_OF(dp));
    if (ix < 0)
        return 0;
    grt_decref(old_k);
    grt_decref(old_v);
    return 1;
}

size_t _grt_dict_sizeof(grt_object *d)
{
    grt_dict *dp = DCT(d);
    grt_lock_acquire(GRT_LOCK_OF(dp));
    size_t n = GRT_GC_HEAD_SIZE + sizeof(grt_dict) + (dp->table ? table_bytes(dp->table) : 0);
    grt_lock_release(GRT_LOCK_OF(dp));
    return n;
}
