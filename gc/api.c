/*
 * gc/api.c — the gc module's functions that look at every tracked object:
 * get_objects, get_referrers, get_referents, freeze / unfreeze.
 *
 * Each runs with the world stopped and the collector lock held
 * (gc_exclusive_begin): other threads may be creating, filling and freeing
 * containers, and walking a space or an object's references while they do
 * would read freed memory.  The result list is built after the world
 * restarts, from an array of new references taken during the pause.
 * Objects that the running collection found unreachable (called from a
 * finalizer or callback: flag COLLECTING) are never handed out.
 */
#include "gc_impl.h"

static void vec_push_ref(gc_objvec *v, grt_object *o)
{
    if (gc_objvec_push(v, o) != 0)
        _grt_fatal("gc: out of memory collecting objects");
    grt_incref(o);
}

/* A list of v's objects, stealing v's references; NULL + MemoryError. */
static grt_object *vec_to_list(gc_objvec *v)
{
    grt_object *l = grt_list_new(0);
    for (size_t i = 0; i < v->n; i++) {
        if (l && grt_list_append(l, v->v[i]) != 0)
            grt_clear(l);
        grt_decref(v->v[i]);
    }
    gc_objvec_free(v);
    return l;
}

static void space_collect(const gc_space *sp, gc_objvec *out)
{
    GC_SPACE_FOREACH(sp, s, i) {
        grt_object *o = s->slot[i];
        if (o && !(gc_flags(o) & GC_COLLECTING))
            vec_push_ref(out, o);
    }
}

static void young_collect(gc_objvec *out)
{
    pthread_mutex_lock(&gc_rt.space_lock);
    space_collect(&gc_rt.orphans, out);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        space_collect(&g->young, out);
    pthread_mutex_unlock(&gc_rt.space_lock);
}

grt_object *grt_gc_get_objects(int generation)
{
    if (generation < -1 || generation >= GRT_GC_NGENERATIONS)
        return grt_err_set(GRT_ERR_VALUE, "grt_gc_get_objects: invalid generation %d (expected "
                           "0, 1, 2, or -1 for all)", generation);
    GRT_REQUIRE_ATTACHED();
    gc_objvec v = { 0 };
    gc_excl e;
    gc_exclusive_begin(&e);
    if (generation == 0 || generation == -1)
        young_collect(&v);
    if (generation == 1 || generation == -1)
        space_collect(&gc_rt.old[0], &v);
    if (generation == 2 || generation == -1)
        space_collect(&gc_rt.old[1], &v);
    gc_exclusive_end(&e);
    return vec_to_list(&v);
}

/* ---- referrers and referents ---------------------------------------------------------------- */

typedef struct referrers_ctx {
    int64_t n;
    grt_object *const *objs;
} referrers_ctx;

static int visit_is_target(grt_object *r, void *arg)
{
    referrers_ctx *c = arg;
    for (int64_t k = 0; k < c->n; k++)
        if (c->objs[k] == r)
            return 1;                   /* stop the traversal: found */
    return 0;
}

static void space_referrers(const gc_space *sp, referrers_ctx *c, gc_objvec *out)
{
    GC_SPACE_FOREACH(sp, s, i) {
        grt_object *o = s->slot[i];
        if (o && !(gc_flags(o) & GC_COLLECTING) && o->ob_type->tp_traverse &&
            o->ob_type->tp_traverse(o, visit_is_target, c))
            vec_push_ref(out, o);
    }
}

static int check_objs(int64_t n, grt_object *const objs[], const char *func)
{
    if (n < 0 || (n > 0 && !objs)) {
        grt_err_set(GRT_ERR_TYPE, "%s: expected an array of %" PRId64 " objects", func, n);
        return -1;
    }
    for (int64_t k = 0; k < n; k++)
        if (!objs[k]) {
            grt_err_set(GRT_ERR_TYPE, "%s: objs[%" PRId64 "] is NULL", func, k);
            return -1;
        }
    return 0;
}

grt_object *grt_gc_get_referrers(int64_t n, grt_object *const objs[])
{
    if (check_objs(n, objs, __func__) < 0)
        return NULL;
    GRT_REQUIRE_ATTACHED();
    referrers_ctx c = { n, objs };
    gc_objvec v = { 0 };
    gc_excl e;
    gc_exclusive_begin(&e);
    pthread_mutex_lock(&gc_rt.space_lock);
    space_referrers(&gc_rt.orphans, &c, &v);
    for (gc_tstate *g = gc_rt.threads; g; g = g->next)
        space_referrers(&g->young, &c, &v);
    pthread_mutex_unlock(&gc_rt.space_lock);
    space_referrers(&gc_rt.old[0], &c, &v);
    space_referrers(&gc_rt.old[1], &c, &v);
    space_referrers(&gc_rt.permanent, &c, &v);
    gc_exclusive_end(&e);
    return vec_to_list(&v);
}

static int visit_collect(grt_object *r, void *arg)
{
    vec_push_ref(arg, r);
    return 0;
}

grt_object *grt_gc_get_referents(int64_t n, grt_object *const objs[])
{
    if (check_objs(n, objs, __func__) < 0)
        return NULL;
    GRT_REQUIRE_ATTACHED();
    gc_objvec v = { 0 };
    gc_excl e;
    gc_exclusive_begin(&e);
    for (int64_t k = 0; k < n; k++) {
        grt_object *o = objs[k];
        if (gc_is_gc(o) && o->ob_type->tp_traverse)
            o->ob_type->tp_traverse(o, visit_collect, &v);
    }
    gc_exclusive_end(&e);
    return vec_to_list(&v);
}

/* ---- freezing ------------------------------------------------------------------------------------ */

int grt_gc_freeze(unsigned flags)
{
    if (flags & ~GRT_GC_FREEZE_IMMORTAL) {
        grt_err_set(GRT_ERR_VALUE, "grt_gc_freeze: unknown flags 0x%x (only "
                    "GRT_GC_FREEZE_IMMORTAL = 0x%x)", flags & ~GRT_GC_FREEZE_IMMORTAL,
                    GRT_GC_FREEZE_IMMORTAL);
        return -1;
    }
    GRT_REQUIRE_ATTACHED();
    gc_excl e;
    gc_exclusive_begin(&e);
    gc_space all = { 0 };
    gc_space_splice(&all, &gc_rt.old[1]);
    gc_space_splice(&all, &gc_rt.old[0]);
    gc_take_young(&all);
    if (flags & GRT_GC_FREEZE_IMMORTAL) {
        GC_SPACE_FOREACH(&all, s, i) {
            grt_object *o = s->slot[i];
            if (!o || grt_is_immortal(o))
                continue;
            grt_make_immortal(o);
            *gc_prev_word(o) |= GC_IMMORTALIZED;
        }
    }
    /* The objects' headers are written here, in the process that freezes
     * (before a fork); collections never write them again. */
    gc_space_set_gen(&all, GC_PERMANENT_GEN);
    gc_space_splice(&gc_rt.permanent, &all);
    gc_count0_reset();
    gc_exclusive_end(&e);
    return 0;
}

void grt_gc_unfreeze(void)
{
    GRT_REQUIRE_ATTACHED();
    gc_excl e;
    gc_exclusive_begin(&e);
    gc_space_set_gen(&gc_rt.permanent, gc_rt.old_tag);
    gc_space_splice(&gc_rt.old[1], &gc_rt.permanent);
    gc_exclusive_end(&e);
}

int64_t grt_gc_get_freeze_count(void)
{
    GRT_REQUIRE_ATTACHED();
    gc_excl e;
    gc_exclusive_begin(&e);
    int64_t n = gc_space_count(&gc_rt.permanent);
    gc_exclusive_end(&e);
    return n;
}
