/*
 * stress/stress_check.c — the stress program's world, tagged values, and the
 * invariants: value checks, the heap walk, the weakref-callback and
 * finalizer ledgers, the object ledger after grt_fini.
 */
#include "stress.h"
#include <stdarg.h>
#include <unistd.h>

stress_world W;

void stress_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "stress[%s]: FAILED: ", grt_variant());
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nstress[%s]: replay with --seed %" PRIu64 "\n", grt_variant(),
            W.opt ? W.opt->seed : 0);
    fflush(NULL);
    _exit(1);
}

/* ---- ids and ledgers --------------------------------------------------------------- */

int64_t stress_new_id(void)
{
    uint64_t id = grt_atomic_faa_64(&W.xnext_id, 1);
    return id < W.max_ids ? (int64_t)id : -1;
}

static void ledger_once(uint32_t *calls, int64_t id, const char *what)
{
    uint32_t n = grt_atomic_faa_32(&calls[id], 1) + 1;
    if (n != 1)
        stress_fail("%s for id %" PRId64 " ran %u times", what, id, n);
}

/* ---- the classes -------------------------------------------------------------------- */

/* PEP 442: runs once per phoenix; every other one resurrects itself into
 * W.resurrected (it dies for good when someone drops it from there).  It
 * allocates, and may run in any thread, or in the collector. */
static void phoenix_finalize(grt_object *o)
{
    grt_object *idv = grt_getattr(o, "id");
    if (!idv)
        stress_fail("a phoenix's finalizer found no id: %s", grt_err_message());
    int64_t id = grt_int_value(idv);
    grt_decref(idv);
    if (id < 0 || (uint64_t)id >= W.max_ids || !grt_atomic_load_8(&W.fin_made[id]))
        stress_fail("a phoenix's finalizer found id %" PRId64 ", which was never made", id);
    ledger_once(W.fin_calls, id, "the finalizer");
    grt_atomic_inc_64(&W.xfinalizers);
    grt_object *scratch = grt_tuple_pack(2, idv, o);   /* allocate in a finalizer */
    grt_xdecref(scratch);
    grt_err_clear();
    if ((id & 1) == 0 && grt_atomic_load_32(&W.xalive)) {
        if (grt_list_append(W.resurrected, o) == 0)
            grt_atomic_inc_64(&W.xresurrections);
        else
            grt_err_clear();
    }
}

/* Runs once per weakref whose referent died while the weakref lived. */
static void weakref_callback(grt_object *ref, grt_object *data)
{
    int64_t id = grt_int_value(data);
    if (id < 0 || (uint64_t)id >= W.max_ids || !grt_atomic_load_8(&W.wr_made[id]))
        stress_fail("a weakref callback got data %" PRId64 ", not a weakref id", id);
    ledger_once(W.wr_calls, id, "the weakref callback");
    grt_atomic_inc_64(&W.xcallbacks);
    grt_object *r = grt_weakref_get(ref);
    if (r != grt_None)
        stress_fail("weakref %" PRId64 "'s callback ran while its referent is alive", id);
    grt_decref(r);
    if ((id & 3) == 0 && grt_atomic_load_32(&W.xalive)) {
        grt_object *note = grt_tuple_pack(1, data);     /* allocate, share */
        if (!note || grt_list_append(W.cb_log, note) != 0)
            grt_err_clear();
        grt_xdecref(note);
    }
}

void stress_world_init(const stress_opts *o, uint64_t max_ids)
{
    W.opt = o;
    W.max_ids = max_ids;
    W.wr_made = calloc(max_ids, 1);
    W.wr_calls = calloc(max_ids, sizeof(uint32_t));
    W.fin_made = calloc(max_ids, 1);
    W.fin_calls = calloc(max_ids, sizeof(uint32_t));
    if (!W.wr_made || !W.wr_calls || !W.fin_made || !W.fin_calls)
        stress_fail("out of memory for the ledgers (%" PRIu64 " ids)", max_ids);
    for (int i = 0; i < STRESS_NLISTS; i++)
        STRESS_CHECK(W.lists[i] = grt_list_new(0), "grt_list_new");
    for (int i = 0; i < STRESS_NDICTS; i++)
        STRESS_CHECK(W.dicts[i] = grt_dict_new(), "grt_dict_new");
    for (int i = 0; i < STRESS_NKEYS; i++) {
        char k[32];
        snprintf(k, sizeof k, "key%d", i);
        STRESS_CHECK(W.keys[i] = grt_str_new(k), "grt_str_new");
    }
    STRESS_CHECK(W.resurrected = grt_list_new(0), "grt_list_new");
    STRESS_CHECK(W.handoff = grt_list_new(0), "grt_list_new");
    STRESS_CHECK(W.weakrefs = grt_list_new(0), "grt_list_new");
    STRESS_CHECK(W.cb_log = grt_list_new(0), "grt_list_new");
    static const char *const slot_names[] = { "id", "check", NULL };
    static const char *const phoenix_slots[] = { "id", "next", NULL };
    STRESS_CHECK(W.cls_node = grt_class_new("stress.Node", NULL), "grt_class_new");
    STRESS_CHECK(W.cls_slot = grt_class_new("stress.Slot", slot_names), "grt_class_new");
    STRESS_CHECK(W.cls_phoenix = grt_class_new("stress.Phoenix", phoenix_slots), "grt_class_new");
    STRESS_CHECK(grt_class_set_finalizer(W.cls_phoenix, phoenix_finalize) == 0,
                 "grt_class_set_finalizer");
    grt_atomic_store_32(&W.xalive, 1);
}

/* ---- tagged values ------------------------------------------------------------------ */

enum { SHAPE_TUPLE, SHAPE_LIST, SHAPE_DICT, SHAPE_NODE, SHAPE_SLOT, SHAPE_COUNT };

static int64_t tag_of(int64_t id) { return id * 7 + 3; }

grt_object *stress_make_value(stress_rng *r)
{
    int64_t id = stress_new_id();
    if (id < 0)
        return NULL;
    grt_object *idv = grt_int_new(id), *tag = grt_int_new(tag_of(id)), *v = NULL;
    STRESS_CHECK(idv && tag, "grt_int_new");
    switch (stress_rng_below(r, SHAPE_COUNT)) {
    case SHAPE_TUPLE:
        STRESS_CHECK(v = grt_tuple_pack(2, idv, tag), "grt_tuple_pack");
        break;
    case SHAPE_LIST:
        STRESS_CHECK(v = grt_list_new(0), "grt_list_new");
        STRESS_CHECK(grt_list_append(v, idv) == 0 && grt_list_append(v, tag) == 0, "grt_list_append");
        break;
    case SHAPE_DICT:
        STRESS_CHECK(v = grt_dict_new(), "grt_dict_new");
        STRESS_CHECK(grt_dict_set_str(v, "id", idv) == 0 && grt_dict_set_str(v, "check", tag) == 0,
                     "grt_dict_set_str");
        break;
    case SHAPE_NODE:
    case SHAPE_SLOT:
        STRESS_CHECK(v = grt_instance_new(stress_rng_below(r, 2) ? W.cls_node : W.cls_slot),
                     "grt_instance_new");
        STRESS_CHECK(grt_setattr(v, "id", idv) == 0 && grt_setattr(v, "check", tag) == 0,
                     "grt_setattr");
        break;
    }
    grt_decref(idv);
    grt_decref(tag);
    return v;
}

static int64_t check_int(grt_object *o, const char *where, const char *field)
{
    if (!o)
        stress_fail("%s: a value has no %s (%s)", where, field, grt_err_message());
    if (!grt_is_type(o, &grt_int_type))
        stress_fail("%s: a value's %s is a %s, not an int", where, field, grt_type_name(o));
    int64_t v = grt_int_value(o);
    grt_decref(o);
    return v;
}

void stress_check_value(grt_object *v, const char *where)
{
    int64_t id, tag;
    grt_type *t = grt_type_of(v);
    if (t == &grt_tuple_type) {
        if (grt_tuple_len(v) != 2)
            stress_fail("%s: a tuple value has %" PRId64 " items, not 2", where, grt_tuple_len(v));
        id = check_int(grt_newref(grt_tuple_get(v, 0)), where, "id");
        tag = check_int(grt_newref(grt_tuple_get(v, 1)), where, "check");
    } else if (t == &grt_list_type) {
        /* values made as lists stay [id, check]; cycle members carry more */
        if (grt_list_len(v) < 2)
            stress_fail("%s: a list value has %" PRId64 " items", where, grt_list_len(v));
        id = check_int(grt_list_get(v, 0), where, "id");
        tag = check_int(grt_list_get(v, 1), where, "check");
    } else if (t == &grt_dict_type) {
        id = check_int(grt_dict_get_str(v, "id"), where, "id");
        tag = check_int(grt_dict_get_str(v, "check"), where, "check");
    } else if (t == W.cls_node || t == W.cls_slot) {
        id = check_int(grt_getattr(v, "id"), where, "id");
        tag = check_int(grt_getattr(v, "check"), where, "check");
    } else if (t == W.cls_phoenix) {
        id = check_int(grt_getattr(v, "id"), where, "id");
        if (id < 0 || (uint64_t)id >= W.max_ids || !grt_atomic_load_8(&W.fin_made[id]))
            stress_fail("%s: a phoenix with id %" PRId64 ", which was never made", where, id);
        grt_atomic_inc_64(&W.xchecked);
        return;
    } else {
        stress_fail("%s: found a %s at %p, which no thread stores there", where,
                    grt_type_name(v), (void *)v);
    }
    if (id < 0 || (uint64_t)id >= W.max_ids || tag != tag_of(id))
        stress_fail("%s: a %s value with id %" PRId64 " and check %" PRId64 " (expected %" PRId64 ")",
                    where, grt_type_name(v), id, tag, tag_of(id));
    grt_atomic_inc_64(&W.xchecked);
}

grt_object *stress_make_phoenix(void)
{
    int64_t id = stress_new_id();
    if (id < 0)
        return NULL;
    grt_object *p, *idv;
    STRESS_CHECK(p = grt_instance_new(W.cls_phoenix), "grt_instance_new");
    STRESS_CHECK(idv = grt_int_new(id), "grt_int_new");
    grt_atomic_store_8(&W.fin_made[id], 1);
    STRESS_CHECK(grt_setattr(p, "id", idv) == 0, "grt_setattr");
    grt_decref(idv);
    return p;
}

grt_object *stress_make_weakref(grt_object *o)
{
    int64_t id = stress_new_id();
    if (id < 0)
        return NULL;
    grt_object *data, *wr;
    STRESS_CHECK(data = grt_int_new(id), "grt_int_new");
    grt_atomic_store_8(&W.wr_made[id], 1);
    STRESS_CHECK(wr = grt_weakref_new_ex(o, weakref_callback, data), "grt_weakref_new_ex");
    grt_decref(data);
    return wr;
}

void stress_check_globals(void)
{
    grt_object *all[STRESS_NLISTS + 1];
    for (int i = 0; i < STRESS_NLISTS; i++)
        all[i] = W.lists[i];
    all[STRESS_NLISTS] = W.handoff;
    for (int i = 0; i <= STRESS_NLISTS; i++) {
        /* others may shrink it meanwhile: stop at the first IndexError */
        for (int64_t j = 0;; j++) {
            grt_object *v = grt_list_get(all[i], j);
            if (!v) {
                if (grt_err_occurred() != GRT_ERR_INDEX)
                    stress_fail("grt_list_get: %s", grt_err_message());
                grt_err_clear();
                break;
            }
            stress_check_value(v, "a global list");
            grt_decref(v);
        }
    }
    for (int i = 0; i < STRESS_NDICTS; i++) {
        int64_t pos = 0;
        grt_object *k, *v;
        while (grt_dict_next(W.dicts[i], &pos, &k, &v)) {
            if (!grt_is_type(k, &grt_str_type) && !grt_is_type(k, &grt_int_type))
                stress_fail("a global dict has a %s key", grt_type_name(k));
            stress_check_value(v, "a global dict");
            grt_decref(k);
            grt_decref(v);
        }
    }
}

/* ---- the heap walk ------------------------------------------------------------------- */

typedef struct heap_map {
    grt_object **keys;
    int64_t *refs;              /* references from other tracked objects */
    uint64_t mask;
} heap_map;

static uint64_t heap_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

static int64_t *heap_slot(heap_map *m, grt_object *o, int insert)
{
    uint64_t i = heap_hash(o) & m->mask;
    while (m->keys[i] && m->keys[i] != o)
        i = (i + 1) & m->mask;
    if (!m->keys[i]) {
        if (!insert)
            return NULL;
        m->keys[i] = o;
    }
    return &m->refs[i];
}

static int heap_type_known(const grt_type *t)
{
    return t == &grt_tuple_type || t == &grt_list_type || t == &grt_dict_type ||
           t == &grt_int_type || t == &grt_str_type || t == &grt_float_type ||
           t == &grt_none_type || t == &grt_bool_type || t == &grt_type_type ||
           t == &grt_weakref_type || t == W.cls_node || t == W.cls_slot || t == W.cls_phoenix;
}

static int heap_visit(grt_object *r, void *arg)
{
    heap_map *m = arg;
    if (!r || !heap_type_known(grt_type_of(r)))
        stress_fail("heap check: a tracked object refers to %p of unknown type %p", (void *)r,
                    r ? (void *)grt_type_of(r) : NULL);
    if (grt_refcnt(r) < 1)
        stress_fail("heap check: a referenced %s has count %" PRId64, grt_type_name(r), grt_refcnt(r));
    int64_t *n = heap_slot(m, r, 0);
    if (n)
        (*n)++;
    return 0;
}

void stress_heap_check(const char *when)
{
    grt_object *objs;
    STRESS_CHECK(objs = grt_gc_get_objects(-1), "grt_gc_get_objects");
    int64_t n = grt_list_len(objs);
    heap_map m;
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)n + 2)
        cap <<= 1;
    m.keys = calloc(cap, sizeof *m.keys);
    m.refs = calloc(cap, sizeof *m.refs);
    m.mask = cap - 1;
    if (!m.keys || !m.refs)
        stress_fail("heap check: out of memory for %" PRId64 " objects", n);
    grt_object **v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v)
        stress_fail("heap check: out of memory");
    for (int64_t i = 0; i < n; i++) {
        v[i] = grt_list_get(objs, i);           /* a second reference while we walk */
        heap_slot(&m, v[i], 1);
    }
    for (int64_t i = 0; i < n; i++) {
        grt_type *t = grt_type_of(v[i]);
        if (!heap_type_known(t))
            stress_fail("heap check (%s): tracked object %p has unknown type %p", when,
                        (void *)v[i], (void *)t);
        if (!(t->tp_flags & GRT_TPFLAGS_GC) || !grt_gc_is_tracked(v[i]))
            stress_fail("heap check (%s): get_objects returned an untracked %s", when,
                        grt_type_name(v[i]));
        if (t->tp_traverse)
            t->tp_traverse(v[i], heap_visit, &m);
    }
    /* each object: its count covers our two references and every reference
     * a tracked object holds (a missing incref would show here) */
    for (int64_t i = 0; i < n; i++) {
        int64_t internal = *heap_slot(&m, v[i], 0);
        if (grt_refcnt(v[i]) < internal + 2)
            stress_fail("heap check (%s): a %s has count %" PRId64 " but %" PRId64
                        " tracked objects refer to it", when, grt_type_name(v[i]),
                        grt_refcnt(v[i]) - 2, internal);
    }
    for (int64_t i = 0; i < n; i++)
        grt_decref(v[i]);
    free(v);
    free(m.keys);
    free(m.refs);
    grt_decref(objs);
    grt_mem_check();            /* debug: the quarantine still holds 0xDD */
    if (W.opt->verbose)
        fprintf(stderr, "stress[%s]: heap check (%s): %" PRId64 " tracked objects\n",
                grt_variant(), when, n);
}

/* ---- the end ------------------------------------------------------------------------- */

static void drain_resurrected(void)
{
    /* a finalizer may resurrect into the list we are clearing: until still */
    for (int round = 0; round < 100; round++) {
        int64_t before = grt_list_len(W.resurrected);
        grt_list_clear(W.resurrected);
        int64_t found = grt_gc_collect(2);
        if (before == 0 && found == 0 && grt_list_len(W.resurrected) == 0)
            return;
    }
    stress_fail("the resurrected list never emptied (a finalizer keeps resurrecting)");
}

void stress_world_finish(double seconds)
{
    stress_check_globals();
    stress_heap_check("end of run");
    grt_atomic_store_32(&W.xalive, 0);
    for (int i = 0; i < STRESS_NLISTS; i++)
        grt_clear(W.lists[i]);
    for (int i = 0; i < STRESS_NDICTS; i++)
        grt_clear(W.dicts[i]);
    grt_clear(W.handoff);
    grt_clear(W.cb_log);
    drain_resurrected();
    grt_clear(W.resurrected);
    grt_gc_collect(2);

    /* Every referent is gone: each weakref's callback ran exactly once,
     * each phoenix's finalizer exactly once. */
    uint64_t ids = grt_atomic_load_64(&W.xnext_id);
    if (ids > W.max_ids) ids = W.max_ids;
    uint64_t nwr = 0, nfin = 0;
    for (uint64_t id = 0; id < ids; id++) {
        if (W.wr_made[id]) {
            nwr++;
            if (W.wr_calls[id] != 1)
                stress_fail("weakref %" PRIu64 "'s callback ran %u times, expected once", id,
                            W.wr_calls[id]);
        }
        if (W.fin_made[id]) {
            nfin++;
            if (W.fin_calls[id] != 1)
                stress_fail("phoenix %" PRIu64 "'s finalizer ran %u times, expected once", id,
                            W.fin_calls[id]);
        }
    }
    if ((uint64_t)grt_list_len(W.weakrefs) != nwr)
        stress_fail("%" PRId64 " weakrefs kept, %" PRIu64 " made", grt_list_len(W.weakrefs), nwr);
    for (int64_t i = 0; i < grt_list_len(W.weakrefs); i++) {
        grt_object *wr = grt_list_get(W.weakrefs, i), *r = grt_weakref_get(wr);
        if (r != grt_None)
            stress_fail("a weakref still has a referent after everything was released");
        grt_decref(r);
        grt_decref(wr);
    }
    grt_clear(W.weakrefs);
    for (int i = 0; i < STRESS_NKEYS; i++)
        grt_clear(W.keys[i]);
    grt_clear(W.cls_node);
    grt_clear(W.cls_slot);
    grt_clear(W.cls_phoenix);
    grt_gc_collect(2);
    grt_gc_stats gs;
    grt_gc_get_stats(&gs);
    int64_t colls = gs.gen[0].collections + gs.gen[1].collections + gs.gen[2].collections;
    int64_t collected = gs.gen[0].collected + gs.gen[1].collected + gs.gen[2].collected;

    if (grt_fini() != 0)
        stress_fail("grt_fini: %s", grt_err_message());
    grt_object_counts c = grt_object_counts_get();
    if (c.allocated != c.freed || c.unreleased)
        stress_fail("object ledger: %" PRIu64 " allocated, %" PRIu64 " freed (%" PRId64 " leaked), "
                    "%" PRIu64 " containers still referenced at grt_fini", c.allocated, c.freed,
                    (int64_t)(c.allocated - c.freed), c.unreleased);
    printf("{\"variant\":\"%s\",\"seed\":%" PRIu64 ",\"ops\":%" PRIu64 ",\"seconds\":%.2f,"
           "\"threads_started\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"collections\":%" PRId64
           ",\"collected\":%" PRId64 ",\"weakrefs\":%" PRIu64 ",\"callbacks\":%" PRIu64
           ",\"phoenixes\":%" PRIu64 ",\"finalizers\":%" PRIu64 ",\"resurrections\":%" PRIu64
           ",\"cycles\":%" PRIu64 ",\"checked\":%" PRIu64 ",\"result\":\"ok\"}\n",
           GRT_VARIANT_NAME, W.opt->seed, W.xops, seconds, W.xthreads_started, c.allocated,
           colls, collected, nwr, W.xcallbacks, nfin, W.xfinalizers, W.xresurrections,
           W.xcycles, W.xchecked);
}
