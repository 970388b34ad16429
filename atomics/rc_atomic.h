/*
 * atomics/rc_atomic.h — every incref/decref is an atomic read-modify-write
 * (variant atomic: what Swift, Objective-C and Rust's Arc do).  Thread-safe
 * without a GIL, but every count update is a lock-prefixed instruction, and a
 * shared object's cache line ping-pongs between the cores that touch it.
 *
 * Header: { ob_refcnt; ob_type } = 16 bytes, ob_refcnt only ever accessed
 * atomically.  Immortal objects: count >= GRT_IMMORTAL_REFCNT; incref/decref
 * do a relaxed load, see the mark, and write nothing, so shared singletons
 * (None, small ints) never bounce between caches.
 */
#ifndef GILRT_RC_ATOMIC_H
#define GILRT_RC_ATOMIC_H

typedef struct grt_object {
    uint64_t xob_refcnt;            /* atomic; >= GRT_IMMORTAL_REFCNT: immortal */
    struct grt_type *ob_type;
} grt_object;

#define GRT_OBJECT_HEAD_SIZE 16
#define GRT_IMMORTAL_REFCNT ((uint64_t)1 << 62)
#define GRT_RC_STRATEGY "atomic"
/* Header of a statically allocated (hence immortal) object of type t. */
#define GRT_OBJECT_HEAD_INIT(t) { .xob_refcnt = GRT_IMMORTAL_REFCNT, .ob_type = (t) }

static inline int _grt_rc_is_immortal(const grt_object *o)
{
    return grt_atomic_load_64(&o->xob_refcnt) >= GRT_IMMORTAL_REFCNT;
}

static inline void _grt_rc_incref(grt_object *o)
{
    if (_grt_rc_is_immortal(o))
        return;
    grt_atomic_inc_64(&o->xob_refcnt);
}

static inline void _grt_rc_decref(grt_object *o)
{
    if (_grt_rc_is_immortal(o))
        return;
    /* seq_cst RMW: it releases this thread's writes to the object, and the
     * thread that sees the count hit zero acquires everyone's before the
     * deallocator reads the object. */
    uint64_t old = grt_atomic_faa_64(&o->xob_refcnt, (uint64_t)-1);
    if (old == 1)
        _grt_dealloc(o);
    else if (__builtin_expect((int64_t)old <= 0, 0))
        _grt_fatal_negative_refcnt(o);
}

/* Decref by a thread that excludes every other one: the collector while it
 * runs with the world stopped (or holding the GIL).  Nobody else can change
 * the count meanwhile, and the restart (or the GIL's hand-over) orders these
 * plain writes before anyone's next access, so the lock prefix would buy
 * nothing; it cost about a seventh of a collection that frees cycles. */
#define GRT_RC_DECREF_EXCL_DIFFERS 1     /* callers test for exclusion only here */
static inline void _grt_rc_decref_excl(grt_object *o)
{
    uint64_t rc = grt_atomic_load_64(&o->xob_refcnt);
    if (rc >= GRT_IMMORTAL_REFCNT)
        return;
    if (__builtin_expect((int64_t)rc <= 0, 0))
        _grt_fatal_negative_refcnt(o);
    grt_atomic_store_64(&o->xob_refcnt, rc - 1);
    if (rc == 1)
        _grt_dealloc(o);
}

static inline int64_t _grt_rc_refcnt(const grt_object *o) { return (int64_t)grt_atomic_load_64(&o->xob_refcnt); }
static inline void _grt_rc_init_new(grt_object *o) { grt_atomic_store_64(&o->xob_refcnt, 1); }
static inline void _grt_rc_set_immortal(grt_object *o) { grt_atomic_store_64(&o->xob_refcnt, GRT_IMMORTAL_REFCNT); }
static inline void _grt_rc_set(grt_object *o, int64_t n) { grt_atomic_store_64(&o->xob_refcnt, (uint64_t)n); }

#endif
