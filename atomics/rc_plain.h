/*
 * atomics/rc_plain.h — plain, non-atomic reference counts (variants gil and
 * unsafe).  Correct only while one thread at a time touches objects: the gil
 * build guarantees it with the GIL; the unsafe build does not, which is what
 * it exists to show.
 *
 * Header: { ob_refcnt; ob_type } = 16 bytes.
 * Immortal objects (PEP 683) carry a count at or above GRT_IMMORTAL_REFCNT;
 * incref/decref read the count, see it is immortal, and write nothing.
 */
#ifndef GILRT_RC_PLAIN_H
#define GILRT_RC_PLAIN_H

typedef struct grt_object {
    int64_t ob_refcnt;              /* true count; >= GRT_IMMORTAL_REFCNT: immortal */
    struct grt_type *ob_type;
} grt_object;

#define GRT_OBJECT_HEAD_SIZE 16
#define GRT_IMMORTAL_REFCNT ((int64_t)1 << 62)
#define GRT_RC_STRATEGY "plain"
/* Header of a statically allocated (hence immortal) object of type t. */
#define GRT_OBJECT_HEAD_INIT(t) { .ob_refcnt = GRT_IMMORTAL_REFCNT, .ob_type = (t) }

static inline int _grt_rc_is_immortal(const grt_object *o)
{
    return o->ob_refcnt >= GRT_IMMORTAL_REFCNT;
}

static inline void _grt_rc_incref(grt_object *o)
{
    if (_grt_rc_is_immortal(o))
        return;
    o->ob_refcnt++;
}

static inline void _grt_rc_decref(grt_object *o)
{
    int64_t rc = o->ob_refcnt;
    if (rc >= GRT_IMMORTAL_REFCNT)
        return;
    if (__builtin_expect(rc <= 0, 0))
        _grt_fatal_negative_refcnt(o);
    o->ob_refcnt = rc - 1;
    if (rc == 1)
        _grt_dealloc(o);
}

/* Decref by a thread that excludes every other one: already plain here. */
static inline void _grt_rc_decref_excl(grt_object *o) { _grt_rc_decref(o); }

static inline int64_t _grt_rc_refcnt(const grt_object *o) { return o->ob_refcnt; }
static inline void _grt_rc_init_new(grt_object *o) { o->ob_refcnt = 1; }
static inline void _grt_rc_set_immortal(grt_object *o) { o->ob_refcnt = GRT_IMMORTAL_REFCNT; }
/* For the deallocator's resurrection protocol: set an exact count. */
static inline void _grt_rc_set(grt_object *o, int64_t n) { o->ob_refcnt = n; }

#endif
