/*
 * gilrt/object.h — objects, types and reference counts.
 *
 * Every object starts with the header of the variant it was built for
 * (atomics/rc_*.h: 16 bytes for gil/atomic/unsafe, 24 for brc).  Container
 * types (GRT_TPFLAGS_GC) carry a 16-byte collector header in front of it, as
 * CPython's PyGC_Head.
 *
 * Ownership conventions (CPython's): a "new reference" is one the caller
 * owns and must release with grt_decref; a "borrowed reference" may be used
 * only while something else keeps the object alive; a function that "steals"
 * an argument takes over the caller's reference to it.
 */
#ifndef GILRT_OBJECT_H
#define GILRT_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "rc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct grt_type grt_type;

typedef int  (*grt_visitproc)(grt_object *o, void *arg);
/* tp_traverse: call visit on every object this one holds a reference to;
 * stop and return the first non-zero result of visit. */
typedef int  (*grt_traverseproc)(grt_object *self, grt_visitproc visit, void *arg);
/* tp_clear: drop the references this object holds (breaks cycles). */
typedef int  (*grt_inquiry)(grt_object *self);
typedef void (*grt_destructor)(grt_object *self);
/* tp_finalize (PEP 442): runs at most once, before the object is cleared;
 * it may resurrect the object by storing a new reference somewhere. */
typedef void (*grt_finalizer)(grt_object *self);
typedef int64_t (*grt_hashfunc)(grt_object *self);             /* -1 = error */
typedef int  (*grt_eqfunc)(grt_object *a, grt_object *b);       /* 1, 0, -1 = error */
typedef grt_object *(*grt_reprfunc)(grt_object *self);          /* new str */

/* tp_flags */
#define GRT_TPFLAGS_GC        (1u << 0)  /* has a collector header, may be tracked */
#define GRT_TPFLAGS_HEAPTYPE  (1u << 1)  /* allocated at run time (a user class) */
#define GRT_TPFLAGS_IMMUTABLE (1u << 2)  /* tuple, str, int, float */
#define GRT_TPFLAGS_STATIC    (1u << 3)  /* a built-in type: immortal */

struct grt_type {
    grt_object ob_base;             /* types are objects; built-ins are immortal */
    const char *tp_name;
    size_t tp_basicsize;            /* bytes of the object, header included */
    size_t tp_itemsize;             /* bytes per item for variable-size objects */
    uint32_t tp_flags;
    grt_destructor   tp_dealloc;    /* free the object (after its references) */
    grt_traverseproc tp_traverse;
    grt_inquiry      tp_clear;
    grt_finalizer    tp_finalize;
    grt_hashfunc     tp_hash;       /* NULL: unhashable */
    grt_eqfunc       tp_eq;         /* NULL: identity */
    grt_reprfunc     tp_repr;
    size_t tp_weaklistoffset;       /* offset of the weakref list pointer, 0 = none */
    void *tp_class;                 /* user classes: runtime/class.c's data */
};

/* The type of o: borrowed. */
static inline grt_type *grt_type_of(const grt_object *o) { return o->ob_type; }
static inline const char *grt_type_name(const grt_object *o) { return o->ob_type->tp_name; }
static inline int grt_is_type(const grt_object *o, const grt_type *t) { return o->ob_type == t; }

/* ---- reference counts ------------------------------------------------------ */

/* Take a new reference to o.  o must not be NULL. */
static inline void grt_incref(grt_object *o) { _grt_rc_incref(o); }
/* Release a reference; the object is freed when its count reaches zero.  A
 * decref below zero is a fatal error that names the type and address. */
static inline void grt_decref(grt_object *o) { _grt_rc_decref(o); }
/* The same, doing nothing for NULL. */
static inline void grt_xincref(grt_object *o) { if (o) _grt_rc_incref(o); }
static inline void grt_xdecref(grt_object *o) { if (o) _grt_rc_decref(o); }
/* Release *p and set it to NULL (Py_CLEAR): p is cleared before the decref,
 * so a deallocator that looks at *p sees NULL. */
#define grt_clear(p) do { grt_object *_grt_tmp = (grt_object *)(p);            \
                          (p) = NULL; grt_xdecref(_grt_tmp); } while (0)

/* Return a new reference to o (Py_NewRef). */
static inline grt_object *grt_newref(grt_object *o) { grt_incref(o); return o; }

/* The true reference count: how many references exist.  Python's
 * sys.getrefcount(x) reports one more than this, because its own argument
 * is a temporary reference.  Immortal objects report 2^62.  In brc the value
 * is local + shared, a snapshot if other threads are changing it. */
static inline int64_t grt_refcnt(const grt_object *o) { return _grt_rc_refcnt(o); }
/* 1 if o is immortal (PEP 683): None, True, False, small ints, interned str. */
static inline int grt_is_immortal(const grt_object *o) { return _grt_rc_is_immortal(o); }

/* Make o immortal: it is never freed, and incref/decref no longer write it.
 * Used by grt_gc_freeze's immortalize option; o must be alive. */
void grt_make_immortal(grt_object *o);

/* ---- generic operations ---------------------------------------------------- */

/* Hash of o; -1 with a TypeError for unhashable objects (list, dict). */
int64_t grt_hash(grt_object *o);
/* 1 if a == b, 0 if not, -1 on error.  Identity implies equality. */
int grt_equal(grt_object *a, grt_object *b);
/* repr(o) as a new str reference; NULL on error. */
grt_object *grt_repr(grt_object *o);
/* Print repr(o) to f (no newline); -1 on error. */
int grt_print(grt_object *o, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
