/*
 * atomics/rc.h — selects the refcount strategy, once.
 *
 * Exactly one of GRT_VARIANT_GIL, GRT_VARIANT_ATOMIC, GRT_VARIANT_BRC,
 * GRT_VARIANT_UNSAFE must be defined (the library's build sets it per target;
 * a program gets it from `pkg-config --cflags gilrt-<variant>`).  Each strategy
 * header defines `struct grt_object` and the same inline API:
 *
 *   _grt_rc_incref(o), _grt_rc_decref(o), _grt_rc_is_immortal(o),
 *   _grt_rc_refcnt(o), _grt_rc_init_new(o), _grt_rc_set_immortal(o),
 *   _grt_rc_set(o, n), _grt_rc_decref_excl(o) (for a thread that excludes
 *   every other one)
 *
 * on which include/gilrt/object.h builds grt_incref and friends.
 */
#ifndef GILRT_RC_H
#define GILRT_RC_H

#if defined(GRT_VARIANT_GIL) + defined(GRT_VARIANT_ATOMIC) + \
    defined(GRT_VARIANT_BRC) + defined(GRT_VARIANT_UNSAFE) != 1
#  error "define exactly one of GRT_VARIANT_GIL/ATOMIC/BRC/UNSAFE (use pkg-config --cflags gilrt-<variant>)"
#endif

#include <stddef.h>
#include <stdint.h>
#include "atomic.h"

struct grt_type;
struct grt_object;

/* Out-of-line parts every strategy shares (runtime/object.c). */
void _grt_dealloc(struct grt_object *o);                 /* count reached zero */
__attribute__((noreturn, cold))
void _grt_fatal_negative_refcnt(struct grt_object *o);   /* decref below zero */

#if defined(GRT_VARIANT_GIL)
#  define GRT_VARIANT_ID 1
#  define GRT_VARIANT_NAME "gil"
#  include "rc_plain.h"
#elif defined(GRT_VARIANT_ATOMIC)
#  define GRT_VARIANT_ID 2
#  define GRT_VARIANT_NAME "atomic"
#  include "rc_atomic.h"
#elif defined(GRT_VARIANT_BRC)
#  define GRT_VARIANT_ID 3
#  define GRT_VARIANT_NAME "brc"
#  include "rc_biased.h"
#elif defined(GRT_VARIANT_UNSAFE)
#  define GRT_VARIANT_ID 4
#  define GRT_VARIANT_NAME "unsafe"
#  include "rc_plain.h"
#endif

#endif /* GILRT_RC_H */
