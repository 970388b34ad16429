/*
 * gc/invariants.c — a walk over every space that checks the collector's
 * invariants (gc/gc_impl.h), for tests and debugging (Lua's
 * lua_checkmemory idea).  Outside a collection:
 *
 *   - every non-NULL slot holds a tracked container whose gc_next is that
 *     slot's address;
 *   - its generation tag is the space's: 0 in a young space or the orphans,
 *     1 in generation 1, gc_rt.old_tag in generation 2, GC_PERMANENT_GEN in
 *     the permanent generation;
 *   - none of the collection's scratch bits (COLLECTING, REACHABLE,
 *     SCANNED, REFERS, COUNTED, the internal count) is set, nor any bit no flag
 *     uses;
 *   - its count is positive.
 */
#include "gc_impl.h"

typedef struct check_ctx {
    int64_t problems;
} check_ctx;

static void check_space(const gc_space *sp, int tag, const char *name, check_ctx *c)
{
    /* everything but what outlives a collection: the scratch bits, the
     * internal count, and the bits no flag uses */
    const uint64_t scratch = ~(GC_TRACKED | GC_STICKY_FLAGS | GC_GEN_MASK);
    GC_SPACE_FOREACH(sp, s, i) {
        grt_object *o = s->slot[i];
        if (!o)
            continue;
        uint64_t f = *gc_prev_word(o);
        const char *bad = NULL;
        if (!gc_is_gc(o))
            bad = "not a container type";
        else if (!(f & GC_TRACKED))
            bad = "not flagged tracked";
        else if (gc_head(o)->gc_next != (uintptr_t)&s->slot[i])
            bad = "gc_next is not its slot";
        else if (gc_gen_of(f) != tag)
            bad = "wrong generation tag";
        else if (f & scratch)
            bad = "collection scratch bits left set";
        else if (grt_refcnt(o) <= 0)
            bad = "count is not positive";
        if (bad) {
            if (c->problems < 10)
                fprintf(stderr, "gc check: %s object at %p in %s: %s (flags 0x%" PRIx64 ")\n",
                        o->ob_type->tp_name, (void *)o, name, bad, f);
            c->problems++;
        }
    }
}

int64_t _grt_gc_check(void)
{
    GRT_REQUIRE_ATTACHED();
    check_ctx c = { 0 };
    gc_excl e;
    gc_exclusive_begin(&e);
    pthread_mutex_lock(&gc_rt.space_lock);
    check_space(&gc_rt.orphans, 0, "the orphans", &c);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        check_space(&g->young, 0, "a young space", &c);
    pthread_mutex_unlock(&gc_rt.space_lock);
    check_space(&gc_rt.old[0], 1, "generation 1", &c);
    check_space(&gc_rt.old[1], gc_rt.old_tag, "generation 2", &c);
    check_space(&gc_rt.permanent, GC_PERMANENT_GEN, "the permanent generation", &c);
    gc_exclusive_end(&e);
    return c.problems;
}
