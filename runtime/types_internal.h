/*
 * runtime/types_internal.h — what the built-in types (int.c, float.c, str.c,
 * tuple.c, list.c, dict.c, class.c) share with each other and with the core.
 * Internal; included by runtime/internal.h.
 *
 * Invariants the type files keep:
 *   - list, dict and instance fields are read and written only under the
 *     object's grt_lock (runtime/lock.h), except by tp_traverse / tp_clear /
 *     tp_dealloc, which run with the world stopped or with the only reference;
 *   - nothing is decref'd, and no user code runs, while such a lock is held:
 *     replaced values are collected and released after unlocking;
 *   - tuples, lists and instances are tracked by the collector once built;
 *     dicts start untracked and ask _grt_gc_dict_maybe_track for every key
 *     and value they store;
 *   - interned strings and small ints are immortal; interned strings are
 *     freed by _grt_str_fini, small ints are static.
 */
#ifndef GRT_RUNTIME_TYPES_INTERNAL_H
#define GRT_RUNTIME_TYPES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* ---- start-up and tear-down (called by runtime/singletons.c) ------------------ */
/* Small ints -5..256 become immortal static objects.  Returns 0. */
int  _grt_int_init(void);
void _grt_int_fini(void);
/* The interning table (and the static headers of str/tuple/list/dict/float).
 * Returns 0, or -1 with a MemoryError. */
int  _grt_str_init(void);
/* Free every interned string (_grt_object_free).  Call after the collector's
 * final teardown: nothing may reference an interned string afterwards. */
void _grt_str_fini(void);
/* In a fork child: the interning mutex may have been held by a thread that
 * does not exist there; make it usable again. */
void _grt_str_fork_child(void);

/* NULL check then type check, both naming the calling public function:
 * 0, or -1 with a TypeError. */
#define GRT_CHECK_OBJ(o, t) (GRT_CHECK_ARG(o) < 0 ? -1 : GRT_CHECK_TYPE((o), (t)))

/* ---- int and float (runtime/int.c, runtime/float.c) --------------------------- */
typedef struct grt_int {
    grt_object ob_base;
    int64_t value;
} grt_int;

typedef struct grt_float {
    grt_object ob_base;
    double value;
} grt_float;

/* hash(int v): v itself, except -1 (the error return) becomes -2. */
static inline int64_t _grt_int_hash_value(int64_t v) { return v == -1 ? -2 : v; }
/* 1 if the double d holds exactly the integer v (1.0 == 1; 2^63 != INT64_MAX). */
int _grt_float_equals_int(double d, int64_t v);

/* ---- tuple and list (runtime/tuple.c, runtime/list.c) ----------------------------
 * Their layouts are here, not in their files, for the collector alone: it
 * reads their item arrays directly instead of through tp_traverse (gc/collect.c,
 * gc_item_array).  Everyone else goes through the types' functions. */
typedef struct grt_tuple {
    grt_object ob_base;
    int64_t size;
    grt_object *items[];            /* NULL while being filled, or after tp_clear */
} grt_tuple;

typedef struct grt_list {
    grt_object ob_base;
    GRT_LOCK_FIELD
    int64_t size;
    int64_t allocated;
    grt_object **items;             /* size items, never NULL */
} grt_list;

/* ---- str (runtime/str.c) ------------------------------------------------------- */
/* The hash a str of these bytes has (never -1). */
int64_t _grt_str_hash_bytes(const char *s, size_t n);
/* New reference to a str formatted as printf does, whatever its length (the
 * reprs of classes, instances, weakrefs: a long class name is not cut); NULL
 * with a MemoryError. */
grt_object *_grt_str_from_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* New reference to the interned str of these bytes (hash precomputed with
 * _grt_str_hash_bytes).  A per-thread cache in front of the global table
 * keeps repeated interning of the same names off the global mutex.  NULL +
 * MemoryError on failure. */
grt_object *_grt_str_intern_len(const char *s, size_t n, int64_t hash);
/* 1 if o is a str holding exactly these bytes (hash: _grt_str_hash_bytes). */
int _grt_str_eq_bytes(grt_object *o, const char *s, size_t n, int64_t hash);

/* A growing byte buffer for repr.  Append calls do nothing once an append
 * failed; _grt_strbuf_finish then sets MemoryError and returns NULL. */
typedef struct _grt_strbuf {
    char *buf;
    size_t len, cap;
    int failed;                 /* an allocation or a nested repr failed */
} _grt_strbuf;
void _grt_strbuf_init(_grt_strbuf *b);
void _grt_strbuf_append(_grt_strbuf *b, const char *s, size_t n);
void _grt_strbuf_puts(_grt_strbuf *b, const char *s);
/* Append repr(o); on error the buffer is marked failed and the error stays. */
void _grt_strbuf_append_repr(_grt_strbuf *b, grt_object *o);
/* New str with the contents; NULL (error set) if anything failed.  Frees the buffer. */
grt_object *_grt_strbuf_finish(_grt_strbuf *b);
void _grt_strbuf_discard(_grt_strbuf *b);

/* ---- recursion guards (runtime/str.c) --------------------------------------------- */
/* repr of a container that contains itself prints "[...]": each thread keeps
 * the chain of containers whose repr is in progress (frames live on the C
 * stack of the repr functions). */
typedef struct _grt_repr_frame {
    grt_object *o;
    struct _grt_repr_frame *prev;
} _grt_repr_frame;
/* 0: entered (call _grt_repr_leave); 1: o's repr is already in progress on this
 * thread (print the "..." form, do not leave); -1: nested too deep (RuntimeError). */
int  _grt_repr_enter(grt_object *o, _grt_repr_frame *f);
void _grt_repr_leave(_grt_repr_frame *f);
/* Depth guard for recursive equality and hashing of containers: 0 entered
 * (call _grt_recursion_leave), -1 with a RuntimeError naming `what`. */
#define GRT_TYPES_MAX_DEPTH 3000
int  _grt_recursion_enter(const char *what);
void _grt_recursion_leave(void);

/* ---- tuple (runtime/tuple.c) -------------------------------------------------------- */
/* A tuple's items and (in *n) their count, borrowed; t must be a tuple. */
grt_object *const *_grt_tuple_items(grt_object *t, int64_t *n);

/* ---- list (runtime/list.c) ---------------------------------------------------------- */
/* A list holding items[0..n): steals every reference in items (also on
 * failure, when they are released); items itself stays the caller's. */
grt_object *_grt_list_from_array(grt_object **items, int64_t n);

/* ---- dict (runtime/dict.c) ---------------------------------------------------------- */
/* Lookups by C-string key that match only str keys, without building a str.
 * hash is _grt_str_hash_bytes(s, n).  d must be a dict. */
/* New reference to the value, or NULL (no error) when absent. */
grt_object *_grt_dict_lookup_bytes(grt_object *d, const char *s, size_t n, int64_t hash);
/* Replace the value of an existing key with v (not stolen): 1 done, 0 absent. */
int _grt_dict_replace_bytes(grt_object *d, const char *s, size_t n, int64_t hash, grt_object *v);
/* Delete the key: 1 deleted, 0 absent. */
int _grt_dict_del_bytes(grt_object *d, const char *s, size_t n, int64_t hash);
/* Bytes d takes: the object, its collector header and its table. */
size_t _grt_dict_sizeof(grt_object *d);

/* ---- classes (runtime/class.c) ------------------------------------------------------ */
/* tp_dealloc of grt_type_type for heap types (user classes): frees the class
 * data, then the type object.  Static types are immortal and never get here. */
void _grt_class_dealloc(grt_object *cls);
/* 1 if t is a user class made by grt_class_new. */
int _grt_is_user_class(const grt_type *t);

#endif
