/*
 * gilrt/types.h — the built-in types and user classes.
 *
 * Every function documents its ownership: "new" references are the caller's
 * to release; "borrowed" ones are not; "steals" means the function takes over
 * the caller's reference to that argument (even on failure).  Functions that
 * can fail return NULL or -1 with the error set (gilrt/error.h).
 *
 * In GIL-off runs of atomic and brc, list, dict and instance operations lock
 * the object (CPython's critical sections); that is why element access
 * returns new references — a borrowed reference into a list another thread
 * may shrink is a use-after-free waiting to happen.  In unsafe they do not
 * lock: that build exists to show what goes wrong.
 */
#ifndef GILRT_TYPES_H
#define GILRT_TYPES_H

#include <stdint.h>
#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

extern grt_type grt_type_type, grt_none_type, grt_bool_type, grt_int_type,
                grt_float_type, grt_str_type, grt_tuple_type, grt_list_type,
                grt_dict_type;

/* ---- singletons: immortal, borrowed ------------------------------------------ */
extern grt_object _grt_none_obj, _grt_true_obj, _grt_false_obj;
#define grt_None  (&_grt_none_obj)
#define grt_True  (&_grt_true_obj)
#define grt_False (&_grt_false_obj)
/* New reference to True or False. */
grt_object *grt_bool(int v);

/* ---- int: 64-bit; -5..256 are cached immortal objects -------------------------- */
#define GRT_SMALL_INT_MIN (-5)
#define GRT_SMALL_INT_MAX 256
grt_object *grt_int_new(int64_t v);                        /* new */
/* The value; -1 with a TypeError if o is not an int (check grt_err_occurred). */
int64_t grt_int_value(grt_object *o);

/* ---- float -------------------------------------------------------------------- */
grt_object *grt_float_new(double v);                       /* new */
double grt_float_value(grt_object *o);                     /* -1.0 + TypeError if not float */

/* ---- str: immutable bytes, hash cached, interning ------------------------------- */
grt_object *grt_str_new(const char *s);                    /* new */
grt_object *grt_str_from_len(const char *s, size_t n);     /* new; may contain NUL */
/* The interned (immortal, unique) str equal to s: new reference. */
grt_object *grt_str_intern(const char *s);
/* Intern *p in place: steals *p, stores a reference to the interned copy. */
void grt_str_intern_in_place(grt_object **p);
const char *grt_str_data(grt_object *o);                   /* borrowed; NULL + TypeError */
int64_t grt_str_len(grt_object *o);                        /* -1 + TypeError */
/* 1 if o is a str equal to the C string s. */
int grt_str_eq_cstr(grt_object *o, const char *s);

/* ---- tuple: immutable sequence -------------------------------------------------- */
/* A tuple of n items, all NULL; fill with grt_tuple_init_item before sharing. */
grt_object *grt_tuple_new(int64_t n);                      /* new */
/* A tuple of n items; does not steal (each item is increfed). */
grt_object *grt_tuple_pack(int64_t n, ...);                /* new */
/* Store v at i in a tuple nobody else has seen yet: steals v. */
int grt_tuple_init_item(grt_object *t, int64_t i, grt_object *v);
/* Item i, borrowed (tuples are immutable); negative i counts from the end.
 * NULL + IndexError naming index and length when out of range. */
grt_object *grt_tuple_get(grt_object *t, int64_t i);
int64_t grt_tuple_len(grt_object *t);                      /* -1 + TypeError */

/* ---- list ------------------------------------------------------------------------ */
/* Index errors are IndexErrors that give the index and the length:
 * "grt_list_get: list index out of range (index 5, length 3)". */
grt_object *grt_list_new(int64_t n);                       /* new; n items set to None */
int grt_list_append(grt_object *l, grt_object *v);         /* does not steal */
int grt_list_insert(grt_object *l, int64_t i, grt_object *v); /* does not steal; i clamped like Python */
grt_object *grt_list_get(grt_object *l, int64_t i);        /* new; negative i counts from the end */
int grt_list_set(grt_object *l, int64_t i, grt_object *v); /* does not steal */
grt_object *grt_list_pop(grt_object *l, int64_t i);        /* new; the removed item */
int grt_list_clear(grt_object *l);
int64_t grt_list_len(grt_object *l);                       /* -1 + TypeError */
/* Append every item of other (a list or a tuple; l itself is fine: it
 * doubles).  Does not steal; -1 + TypeError for any other type. */
int grt_list_extend(grt_object *l, grt_object *other);

/* ---- dict: open addressing, insertion order kept --------------------------------- */
grt_object *grt_dict_new(void);                            /* new */
int grt_dict_set(grt_object *d, grt_object *k, grt_object *v); /* does not steal */
/* New reference to d[k]; NULL with a KeyError if absent (or another error). */
grt_object *grt_dict_get(grt_object *d, grt_object *k);
/* Like grt_dict_get but NULL *without* an error when absent. */
grt_object *grt_dict_lookup(grt_object *d, grt_object *k);
int grt_dict_del(grt_object *d, grt_object *k);            /* -1 + KeyError if absent */
int grt_dict_contains(grt_object *d, grt_object *k);       /* 1, 0, -1 */
int64_t grt_dict_len(grt_object *d);
int grt_dict_clear(grt_object *d);
/* Iterate in insertion order: *pos starts at 0; each call that returns 1 gives
 * new references in *k and *v (caller releases both); 0 at the end.  A dict
 * changed during the walk may yield an entry twice or skip one (never a freed
 * one). */
int grt_dict_next(grt_object *d, int64_t *pos, grt_object **k, grt_object **v);
grt_object *grt_dict_keys(grt_object *d);                  /* new list, insertion order */
/* d[k] = v for every item of the dict other, in other's order.  Does not steal.
 * All or nothing: on a MemoryError d is as it was (room for every item is
 * made first; CPython's dict.update can stop half-way), unless another
 * thread adds to d during the call. */
int grt_dict_update(grt_object *d, grt_object *other);
/* C-string key conveniences. */
int grt_dict_set_str(grt_object *d, const char *k, grt_object *v);
grt_object *grt_dict_get_str(grt_object *d, const char *k); /* new or NULL + KeyError */

/* ---- user classes and instances -------------------------------------------------- */
/* A new class.  slot_names NULL: instances keep attributes in a dict.
 * Otherwise a NULL-terminated list of attribute names: instances have exactly
 * those fixed slots (like __slots__) and no dict.  Returns a new reference to
 * the class (a type object). */
grt_type *grt_class_new(const char *name, const char *const *slot_names);
/* Give the class a finalizer (like __del__), run once per instance (PEP 442);
 * NULL removes it.  Set it before instances are shared between threads (the
 * deallocator reads it without a lock).  -1 + TypeError if cls is not a class
 * made by grt_class_new. */
int grt_class_set_finalizer(grt_type *cls, grt_finalizer fn);
/* Instances of cls: new reference; all slots start unset. */
grt_object *grt_instance_new(grt_type *cls);
/* Attribute access; name is a C string.  getattr returns a new reference or
 * NULL with an AttributeError naming the attribute. */
grt_object *grt_getattr(grt_object *o, const char *name);
int grt_setattr(grt_object *o, const char *name, grt_object *v);   /* does not steal */
int grt_delattr(grt_object *o, const char *name);
/* 1 or 0 (any object; no error left set), -1 + TypeError for NULL arguments. */
int grt_hasattr(grt_object *o, const char *name);
/* 1 if cls uses fixed slots, 0 if its instances have a dict; -1 + TypeError
 * if cls is not a class made by grt_class_new. */
int grt_class_has_slots(const grt_type *cls);
/* Byte size of one instance: object, collector header, and its slots or its
 * dict (object, collector header, table); the values themselves are not
 * counted.  0 + TypeError if o is not an instance of a user class. */
size_t grt_instance_size(grt_object *o);

#ifdef __cplusplus
}
#endif
#endif
