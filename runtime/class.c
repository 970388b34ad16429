/*
 * runtime/class.c — user classes (heap type objects) and their instances.
 *
 * A class is a grt_type allocated at run time (GRT_TPFLAGS_HEAPTYPE): it is
 * refcounted, every instance holds a reference to it (_grt_object_alloc
 * takes it, _grt_object_free drops it), and when the last reference goes,
 * grt_type_type's tp_dealloc (_grt_class_dealloc) frees its class_data.
 *
 * An instance is { header, lock (in the header on brc), weakref list, vals[] }:
 *   - dict classes (slot_names NULL): vals[0] is the attribute dict, NULL
 *     until the first grt_setattr.  Once set it never changes while the
 *     instance is reachable (only tp_clear / dealloc drop it), so readers
 *     load it without the lock (acquire: the dict is fully built before it
 *     is published), and only its creation takes the instance lock;
 *   - slot classes: vals[i] is slot i (NULL = unset); slots are read and
 *     written under the instance lock, and a replaced value is released
 *     after unlocking.
 * Instances are tracked by the collector once built; traverse visits the
 * class too (heap types are referenced by their instances).  They are
 * weak-referenceable (tp_weaklistoffset) and hash by identity.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>

typedef struct class_data {
    char *name;                       /* tp_name points here */
    int64_t nslots;                   /* -1: a dict class */
    char **slot_names;                /* nslots C strings */
    int64_t *slot_hashes;             /* _grt_str_hash_bytes of each */
    char *slot_list;                  /* "x, y": for error messages */
} class_data;

typedef struct grt_instance {
    grt_object ob_base;
    GRT_LOCK_FIELD
    grt_object *weaklist;             /* owned by gc/ (tp_weaklistoffset) */
    grt_object *vals[];               /* the dict, or the slots */
} grt_instance;

#define INST(o) ((grt_instance *)(o))
#define CLS(t) ((class_data *)(t)->tp_class)

static inline grt_object *inst_dict_load(grt_instance *in)
{
    /* acquire: pairs with the release store that published the dict */
    return grt_atomic_load_ptr_acq((void *const *)&in->vals[0]);
}

/* ---- the instance type's slots -------------------------------------------------- */

static int64_t inst_nvals(grt_object *self)
{
    int64_t n = CLS(grt_type_of(self))->nslots;
    return n < 0 ? 1 : n;
}

static int instance_traverse(grt_object *self, grt_visitproc visit, void *arg)
{
    int r = visit(&grt_type_of(self)->ob_base, arg);
    if (r)
        return r;
    int64_t n = inst_nvals(self);
    for (int64_t i = 0; i < n; i++) {
        grt_object *v = INST(self)->vals[i];
        if (v && (r = visit(v, arg)) != 0)
            return r;
    }
    return 0;
}

/* Drop the attributes (the class reference stays: _grt_object_free drops it). */
static int instance_clear(grt_object *self)
{
    grt_instance *in = INST(self);
    int64_t n = inst_nvals(self);
    grt_object *small[16];
    grt_object **old = n <= 16 ? small : _grt_mem_alloc((size_t)n * sizeof(grt_object *));
    if (!old) {
        /* No memory for the move-out array: release one at a time. */
        for (int64_t i = 0; i < n; i++) {
            grt_lock_acquire(GRT_LOCK_OF(in));
            grt_object *v = in->vals[i];
            in->vals[i] = NULL;
            grt_lock_release(GRT_LOCK_OF(in));
            grt_xdecref(v);
        }
        return 0;
    }
    grt_lock_acquire(GRT_LOCK_OF(in));
    for (int64_t i = 0; i < n; i++) {
        old[i] = in->vals[i];
        in->vals[i] = NULL;
    }
    grt_lock_release(GRT_LOCK_OF(in));
    for (int64_t i = 0; i < n; i++)
        grt_xdecref(old[i]);
    if (old != small)
        _grt_mem_free(old);
    return 0;
}

static void instance_dealloc(grt_object *self)
{
    int64_t n = inst_nvals(self);
    for (int64_t i = 0; i < n; i++)
        grt_xdecref(INST(self)->vals[i]);
    _grt_object_free(self);           /* drops the class reference too */
}

static int64_t instance_hash(grt_object *self)
{
    /* Identity: the address without its always-zero low bits. */
    int64_t h = (int64_t)((uintptr_t)self >> 4);
    return h == -1 ? -2 : h;
}

static grt_object *instance_repr(grt_object *self)
{
    return _grt_str_from_format("<%s object at %p>", grt_type_name(self), (void *)self);
}

/* ---- classes -------------------------------------------------------------------- */

int _grt_is_user_class(const grt_type *t)
{
    return t && grt_is_type(&t->ob_base, &grt_type_type) &&
           (t->tp_flags & GRT_TPFLAGS_HEAPTYPE) && t->tp_dealloc == instance_dealloc;
}

/* Class data lives in the runtime's allocator, like the objects, so that the
 * fault-injection sweep (grt_mem_fail_at) reaches grt_class_new's error
 * paths too.  All of it is freed with its class, before grt_fini shuts the
 * allocator down. */
static void *class_zalloc(size_t n)
{
    void *p = _grt_mem_alloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

static char *class_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = _grt_mem_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void class_data_free(class_data *cd)
{
    if (!cd)
        return;
    if (cd->slot_names)
        for (int64_t i = 0; i < cd->nslots; i++)
            _grt_mem_free(cd->slot_names[i]);
    _grt_mem_free(cd->slot_names);
    _grt_mem_free(cd->slot_hashes);
    _grt_mem_free(cd->slot_list);
    _grt_mem_free(cd->name);
    _grt_mem_free(cd);
}

void _grt_class_dealloc(grt_object *o)
{
    grt_type *t = (grt_type *)o;
    GRT_ASSERT(t->tp_flags & GRT_TPFLAGS_HEAPTYPE);
    class_data_free(t->tp_class);
    t->tp_class = NULL;
    _grt_object_free(o);
}

/* The class data for name and slot_names; NULL with the error set. */
static class_data *class_data_new(const char *name, const char *const *slot_names)
{
    class_data *cd = class_zalloc(sizeof *cd);
    if (!cd || !(cd->name = class_strdup(name)))
        goto nomem;
    cd->nslots = -1;
    if (!slot_names)
        return cd;
    int64_t n = 0;
    size_t list_len = 1;
    for (; slot_names[n]; n++) {
        const char *s = slot_names[n];
        if (!s[0]) {
            grt_err_set(GRT_ERR_VALUE, "grt_class_new: class '%s': slot %" PRId64 " has an empty name",
                        name, n);
            goto fail;
        }
        for (int64_t j = 0; j < n; j++) {
            if (strcmp(slot_names[j], s) == 0) {
                grt_err_set(GRT_ERR_VALUE, "grt_class_new: class '%s': slot '%s' is declared twice",
                            name, s);
                goto fail;
            }
        }
        list_len += strlen(s) + 2;
    }
    cd->nslots = n;
    cd->slot_names = class_zalloc((size_t)(n ? n : 1) * sizeof(char *));
    cd->slot_hashes = class_zalloc((size_t)(n ? n : 1) * sizeof(int64_t));
    cd->slot_list = _grt_mem_alloc(list_len);
    if (!cd->slot_names || !cd->slot_hashes || !cd->slot_list)
        goto nomem;
    cd->slot_list[0] = '\0';
    for (int64_t i = 0; i < n; i++) {
        if (!(cd->slot_names[i] = class_strdup(slot_names[i])))
            goto nomem;
        cd->slot_hashes[i] = _grt_str_hash_bytes(slot_names[i], strlen(slot_names[i]));
        if (i)
            strcat(cd->slot_list, ", ");
        strcat(cd->slot_list, slot_names[i]);
    }
    return cd;
nomem:
    grt_err_set(GRT_ERR_MEMORY, "grt_class_new: out of memory creating class '%s'", name);
fail:
    class_data_free(cd);
    return NULL;
}

grt_type *grt_class_new(const char *name, const char *const *slot_names)
{
    if (GRT_CHECK_ARG(name) < 0)
        return NULL;
    if (!name[0])
        return grt_err_set(GRT_ERR_VALUE, "grt_class_new: the class name is empty");
    class_data *cd = class_data_new(name, slot_names);
    if (!cd)
        return NULL;
    grt_type *t = (grt_type *)_grt_object_alloc(&grt_type_type, sizeof(grt_type));
    if (!t) {
        class_data_free(cd);
        return NULL;
    }
    int64_t nvals = cd->nslots < 0 ? 1 : cd->nslots;
    t->tp_name = cd->name;
    t->tp_basicsize = sizeof(grt_instance) + (size_t)nvals * sizeof(grt_object *);
    t->tp_flags = GRT_TPFLAGS_GC | GRT_TPFLAGS_HEAPTYPE;
    t->tp_dealloc = instance_dealloc;
    t->tp_traverse = instance_traverse;
    t->tp_clear = instance_clear;
    t->tp_hash = instance_hash;
    t->tp_eq = NULL;                  /* identity */
    t->tp_repr = instance_repr;
    t->tp_weaklistoffset = offsetof(grt_instance, weaklist);
    t->tp_class = cd;
    return t;
}

/* 0, or -1 with a TypeError if cls is not a user class. */
static int check_class(const grt_type *cls, const char *func)
{
    if (!cls) {
        grt_err_set(GRT_ERR_TYPE, "%s: argument 'cls' is NULL", func);
        return -1;
    }
    if (!_grt_is_user_class(cls)) {
        grt_err_set(GRT_ERR_TYPE, "%s: expected a class made by grt_class_new, got %s '%s'", func,
                    grt_type_name(&cls->ob_base), grt_is_type(&cls->ob_base, &grt_type_type)
                        ? cls->tp_name : "object");
        return -1;
    }
    return 0;
}

int grt_class_set_finalizer(grt_type *cls, grt_finalizer fn)
{
    if (check_class(cls, __func__) < 0)
        return -1;
    cls->tp_finalize = fn;
    return 0;
}

int grt_class_has_slots(const grt_type *cls)
{
    if (check_class(cls, __func__) < 0)
        return -1;
    return CLS(cls)->nslots >= 0;
}

grt_object *grt_instance_new(grt_type *cls)
{
    if (check_class(cls, __func__) < 0)
        return NULL;
    grt_object *o = _grt_object_alloc(cls, cls->tp_basicsize);
    if (!o)
        return NULL;
    grt_lock_init(GRT_LOCK_OF(INST(o)));
    _grt_gc_track(o);
    return o;
}

size_t grt_instance_size(grt_object *o)
{
    if (GRT_CHECK_ARG(o) < 0)
        return 0;
    grt_type *t = grt_type_of(o);
    if (!_grt_is_user_class(t)) {
        grt_err_set(GRT_ERR_TYPE, "grt_instance_size: expected an instance of a user class, got %s",
                    grt_type_name(o));
        return 0;
    }
    size_t n = GRT_GC_HEAD_SIZE + t->tp_basicsize;
    if (CLS(t)->nslots < 0) {
        grt_object *d = inst_dict_load(INST(o));
        if (d)
            n += _grt_dict_sizeof(d);
    }
    return n;
}

/* ---- attributes ------------------------------------------------------------------ */

/* The slot index of name in a slot class, -1 if not declared. */
static int64_t slot_index(const class_data *cd, const char *name, int64_t hash)
{
    for (int64_t i = 0; i < cd->nslots; i++)
        if (cd->slot_hashes[i] == hash && strcmp(cd->slot_names[i], name) == 0)
            return i;
    return -1;
}

static void *no_attribute(grt_object *o, const char *name, const char *why)
{
    return grt_err_set(GRT_ERR_ATTRIBUTE, "'%s' object has no attribute '%s'%s", grt_type_name(o),
                       name, why);
}

/* Shared argument checks: 1 for an instance (class data in *cd), 0 for any
 * other object (an AttributeError is set), -1 for NULL arguments. */
static int attr_target(grt_object *o, const char *name, const char *func, class_data **cd)
{
    if (!o) {
        grt_err_set(GRT_ERR_TYPE, "%s: argument 'o' is NULL", func);
        return -1;
    }
    if (!name) {
        grt_err_set(GRT_ERR_TYPE, "%s: argument 'name' is NULL", func);
        return -1;
    }
    if (!_grt_is_user_class(grt_type_of(o))) {
        no_attribute(o, name, "");
        return 0;
    }
    *cd = CLS(grt_type_of(o));
    return 1;
}

grt_object *grt_getattr(grt_object *o, const char *name)
{
    class_data *cd;
    if (attr_target(o, name, __func__, &cd) <= 0)
        return NULL;
    grt_instance *in = INST(o);
    size_t n = strlen(name);
    int64_t hash = _grt_str_hash_bytes(name, n);
    if (cd->nslots >= 0) {
        int64_t i = slot_index(cd, name, hash);
        if (i < 0)
            return no_attribute(o, name, "");
        grt_lock_acquire(GRT_LOCK_OF(in));
        grt_object *v = in->vals[i];
        if (v)
            grt_incref(v);
        grt_lock_release(GRT_LOCK_OF(in));
        return v ? v : no_attribute(o, name, " (its slot is not set)");
    }
    grt_object *d = inst_dict_load(in);
    grt_object *v = d ? _grt_dict_lookup_bytes(d, name, n, hash) : NULL;
    return v ? v : no_attribute(o, name, "");
}

/* The instance's dict, created on first use.  Borrowed; NULL + MemoryError. */
static grt_object *inst_dict_get_or_create(grt_instance *in)
{
    grt_object *d = inst_dict_load(in);
    if (d)
        return d;
    grt_lock_acquire(GRT_LOCK_OF(in));
    d = in->vals[0];                  /* re-check: another thread may have won */
    if (!d) {
        d = grt_dict_new();           /* allocation under the lock is allowed */
        if (d)
            /* release: the dict is fully built before other threads see it */
            grt_atomic_store_ptr_rel((void **)&in->vals[0], d);
    }
    grt_lock_release(GRT_LOCK_OF(in));
    return d;
}

int grt_setattr(grt_object *o, const char *name, grt_object *v)
{
    class_data *cd;
    if (attr_target(o, name, __func__, &cd) <= 0)
        return -1;
    if (!v) {
        grt_err_set(GRT_ERR_TYPE, "grt_setattr: argument 'v' is NULL (use grt_delattr)");
        return -1;
    }
    grt_instance *in = INST(o);
    size_t n = strlen(name);
    int64_t hash = _grt_str_hash_bytes(name, n);
    if (cd->nslots >= 0) {
        int64_t i = slot_index(cd, name, hash);
        if (i < 0) {
            grt_err_set(GRT_ERR_ATTRIBUTE, "'%s' object has no attribute '%s': class '%s' has "
                        "fixed slots (%s) and no attribute dict", grt_type_name(o), name,
                        grt_type_name(o), cd->slot_list);
            return -1;
        }
        grt_incref(v);
        grt_lock_acquire(GRT_LOCK_OF(in));
        grt_object *old = in->vals[i];
        in->vals[i] = v;
        grt_lock_release(GRT_LOCK_OF(in));
        grt_xdecref(old);             /* after unlocking: may run a finalizer */
        return 0;
    }
    grt_object *d = inst_dict_get_or_create(in);
    if (!d)
        return -1;
    if (_grt_dict_replace_bytes(d, name, n, hash, v))
        return 0;
    /* A new attribute: key it by the interned name, shared by every instance. */
    grt_object *key = _grt_str_intern_len(name, n, hash);
    if (!key)
        return -1;
    int rc = grt_dict_set(d, key, v);
    grt_decref(key);
    return rc;
}

int grt_delattr(grt_object *o, const char *name)
{
    class_data *cd;
    if (attr_target(o, name, __func__, &cd) <= 0)
        return -1;
    grt_instance *in = INST(o);
    size_t n = strlen(name);
    int64_t hash = _grt_str_hash_bytes(name, n);
    if (cd->nslots >= 0) {
        int64_t i = slot_index(cd, name, hash);
        if (i < 0) {
            no_attribute(o, name, "");
            return -1;
        }
        grt_lock_acquire(GRT_LOCK_OF(in));
        grt_object *old = in->vals[i];
        in->vals[i] = NULL;
        grt_lock_release(GRT_LOCK_OF(in));
        if (!old) {
            no_attribute(o, name, " (its slot is not set)");
            return -1;
        }
        grt_decref(old);
        return 0;
    }
    grt_object *d = inst_dict_load(in);
    if (!d || !_grt_dict_del_bytes(d, name, n, hash)) {
        no_attribute(o, name, "");
        return -1;
    }
    return 0;
}

int grt_hasattr(grt_object *o, const char *name)
{
    class_data *cd;
    int t = attr_target(o, name, __func__, &cd);
    if (t <= 0) {
        if (t == 0)
            grt_err_clear();          /* not an instance: simply no attributes */
        return t;
    }
    grt_object *v = grt_getattr(o, name);
    if (!v) {
        grt_err_clear();              /* getattr fails only with AttributeError here */
        return 0;
    }
    grt_decref(v);
    return 1;
}
