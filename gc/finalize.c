/*
 * gc/finalize.c — finalizers (PEP 442) and errors raised by user code the
 * collector calls.
 *
 * A finalizer runs at most once per object: GC_FINALIZED is set in the
 * object's collector header before it runs, and it stays set whatever the
 * finalizer does, resurrection included.  Objects without a collector header
 * (a non-container type with tp_finalize) have nowhere to keep the flag: as
 * in CPython their finalizer runs each time their count reaches zero, once
 * per death.
 *
 * From the deallocator (count 0): the object is revived with a count of 1
 * for the finalizer to use, and that reference is then released with an
 * ordinary decref.  If that takes the count to zero again, the decref runs a
 * complete, nested deallocation (which skips the finalizer: flagged, or for
 * non-GC objects recognised through fin_current) and the outer one must stop;
 * if not, the finalizer resurrected the object and the outer one must stop
 * too.  Using the ordinary decref keeps every refcount protocol's rules
 * (atomic, biased with its merge) in charge of who frees the object, even if
 * the finalizer handed it to another thread.
 */
#include "gc_impl.h"
#include <stdarg.h>

/* The non-GC object whose finalizer this thread is running (the nested
 * deallocation of that same object must not run it again). */
static __thread grt_object *fin_current GRT_TLS_IE;

void gc_error_save(gc_saved_error *s)
{
    s->kind = grt_err_occurred();
    s->msg[0] = 0;
    if (s->kind != GRT_ERR_NONE) {
        snprintf(s->msg, sizeof s->msg, "%s", grt_err_message());
        grt_err_clear();
    }
}

void gc_error_report_restore(gc_saved_error *s, const char *what, grt_object *o)
{
    if (grt_err_occurred() != GRT_ERR_NONE) {
        /* Nobody can catch an error raised in a finalizer, a weakref
         * callback or tp_clear: report it as CPython does, and go on. */
        fprintf(stderr, "Exception ignored in %s %s object at %p: %s: %s\n", what,
                o ? o->ob_type->tp_name : "?", (void *)o,
                grt_err_kind_name(grt_err_occurred()), grt_err_message());
        grt_err_clear();
    }
    if (s->kind != GRT_ERR_NONE)
        grt_err_set(s->kind, "%s", s->msg);
}

static void run_finalizer(grt_object *o, grt_finalizer fin)
{
    gc_saved_error se;
    gc_error_save(&se);
    fin(o);
    gc_error_report_restore(&se, "the finalizer of", o);
}

int _grt_gc_finalize_from_dealloc(grt_object *o)
{
    grt_finalizer fin = o->ob_type->tp_finalize;
    if (!fin)
        return 0;
    if (gc_is_gc(o)) {
        uint64_t f = gc_flags(o);
        if (f & GC_FINALIZED)
            return 0;
        /* the count is zero: nobody else can see o */
        grt_atomic_store_64(gc_prev_word(o), f | GC_FINALIZED);
    } else if (o == fin_current) {
        return 0;                       /* the nested deallocation below */
    }
    grt_object *outer = fin_current;
    fin_current = o;
    _grt_rc_set(o, 1);
    run_finalizer(o, fin);
    grt_decref(o);                      /* to zero: the nested deallocation frees o */
    fin_current = outer;
    return 1;
}

int gc_finalize_once(grt_object *o)
{
    grt_finalizer fin = o->ob_type->tp_finalize;
    if (!fin)
        return 0;
    uint64_t *p = gc_prev_word(o);
    if (*p & GC_FINALIZED)
        return 0;
    *p |= GC_FINALIZED;
    grt_incref(o);
    run_finalizer(o, fin);
    grt_decref(o);                      /* may free o if its finalizer broke the cycle */
    return 1;
}
