/*
 * stress/stress_ops.c — the random mix every worker runs.
 *
 * Each operation is drawn from the worker's own generator (seeded from the
 * run's seed and the worker's number), so a replay with --seed makes every
 * thread choose the same operations; only the interleaving differs.
 */
#include "stress.h"

enum {
    OP_CREATE, OP_SHARE_LIST, OP_SHARE_DICT, OP_TAKE_LIST, OP_GET_DICT, OP_DEL_DICT,
    OP_DROP, OP_CYCLE, OP_WEAKREF, OP_WEAKREF_GET, OP_PHOENIX, OP_DRAIN, OP_COLLECT,
    OP_STORM, OP_CLEAR, OP_HANDOFF, OP_NESTED, OP_COUNT
};

/* Relative frequencies. */
static const unsigned op_weight[OP_COUNT] = {
    [OP_CREATE] = 14, [OP_SHARE_LIST] = 10, [OP_SHARE_DICT] = 10, [OP_TAKE_LIST] = 10,
    [OP_GET_DICT] = 8, [OP_DEL_DICT] = 4, [OP_DROP] = 8, [OP_CYCLE] = 6, [OP_WEAKREF] = 5,
    [OP_WEAKREF_GET] = 5, [OP_PHOENIX] = 3, [OP_DRAIN] = 3, [OP_COLLECT] = 1, [OP_STORM] = 3,
    [OP_CLEAR] = 1, [OP_HANDOFF] = 4, [OP_NESTED] = 2,
};

static int op_pick(stress_rng *r)
{
    unsigned total = 0;                 /* 17 additions: cheaper than sharing a cache */
    for (int i = 0; i < OP_COUNT; i++)
        total += op_weight[i];
    unsigned x = (unsigned)stress_rng_below(r, total);
    for (int i = 0; i < OP_COUNT; i++) {
        if (x < op_weight[i]) return i;
        x -= op_weight[i];
    }
    return OP_CREATE;
}

/* ---- the stash: a worker's own references ------------------------------------------- */

static void stash_put(stress_thread *t, grt_object *v)    /* steals v */
{
    int i = (int)stress_rng_below(&t->rng, STRESS_STASH);
    grt_object *old = t->stash[i];
    t->stash[i] = v;
    grt_xdecref(old);
}

static grt_object *stash_any(stress_thread *t)            /* borrowed, may be NULL */
{
    return t->stash[stress_rng_below(&t->rng, STRESS_STASH)];
}

static grt_object *random_list(stress_rng *r) { return W.lists[stress_rng_below(r, STRESS_NLISTS)]; }
static grt_object *random_dict(stress_rng *r) { return W.dicts[stress_rng_below(r, STRESS_NDICTS)]; }

/* A key: one of the shared str keys, or an int. */
static grt_object *random_key(stress_rng *r)               /* new reference */
{
    uint64_t k = stress_rng_below(r, 2 * STRESS_NKEYS);
    if (k < STRESS_NKEYS)
        return grt_newref(W.keys[k]);
    grt_object *i = grt_int_new((int64_t)k * 1000003);
    STRESS_CHECK(i, "grt_int_new");
    return i;
}

/* ---- operations ------------------------------------------------------------------------ */

/* A ring of 1..4 tagged members and phoenixes, each holding the next (a
 * tuple or a slots instance cannot hold it: the ring is then a chain), maybe
 * with a weakref to a member, maybe reachable from a global list for a
 * while.  Once nothing outside refers to it, only the collector frees it. */
static void op_cycle(stress_thread *t)
{
    stress_rng *r = &t->rng;
    int n = 1 + (int)stress_rng_below(r, 4);
    grt_object *m[4];
    for (int i = 0; i < n; i++) {
        m[i] = stress_rng_below(r, 3) ? stress_make_value(r) : stress_make_phoenix();
        if (!m[i]) {                                          /* out of ids */
            for (int j = 0; j < i; j++) grt_decref(m[j]);
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        grt_object *a = m[i], *b = m[(i + 1) % n];
        grt_type *ty = grt_type_of(a);
        int rc = 0;
        if (ty == &grt_list_type) rc = grt_list_append(a, b);
        else if (ty == &grt_dict_type) rc = grt_dict_set_str(a, "next", b);
        else if (ty == W.cls_node || ty == W.cls_phoenix) rc = grt_setattr(a, "next", b);
        STRESS_CHECK(rc == 0, "linking a cycle");
    }
    grt_atomic_inc_64(&W.xcycles);
    grt_object *target = m[stress_rng_below(r, (uint64_t)n)];
    grt_type *tt = grt_type_of(target);
    if ((tt == W.cls_node || tt == W.cls_slot || tt == W.cls_phoenix) && stress_rng_below(r, 2)) {
        grt_object *wr = stress_make_weakref(target);
        if (wr) {
            STRESS_CHECK(grt_list_append(t->wrs, wr) == 0, "grt_list_append");
            grt_decref(wr);
        }
    }
    /* hang the ring on a global list: it lives on until some thread takes
     * it off and drops it, and becomes garbage in that thread */
    if (stress_rng_below(r, 4) == 0)
        STRESS_CHECK(grt_list_append(random_list(r), m[0]) == 0, "grt_list_append");
    for (int i = 0; i < n; i++)
        grt_decref(m[i]);
}

static void op_storm(stress_thread *t)
{
    /* many threads incref/decref the same few objects */
    grt_object *o = random_list(&t->rng);
    for (int i = 0; i < 64; i++) {
        grt_incref(o);
        grt_incref(W.keys[i % STRESS_NKEYS]);
        grt_decref(W.keys[i % STRESS_NKEYS]);
        grt_decref(o);
    }
}

static void op_run(stress_thread *t, int op)
{
    stress_rng *r = &t->rng;
    grt_object *v;
    switch (op) {
    case OP_CREATE:
        if ((v = stress_make_value(r)))
            stash_put(t, v);
        break;
    case OP_SHARE_LIST:
        if ((v = stash_any(t)))
            STRESS_CHECK(grt_list_append(random_list(r), v) == 0, "grt_list_append");
        break;
    case OP_SHARE_DICT:
        if ((v = stash_any(t))) {
            grt_object *k = random_key(r);
            STRESS_CHECK(grt_dict_set(random_dict(r), k, v) == 0, "grt_dict_set");
            grt_decref(k);
        }
        break;
    case OP_TAKE_LIST: {
        grt_object *l = random_list(r);
        int64_t n = grt_list_len(l);
        if (n <= 0)
            break;
        int64_t i = (int64_t)stress_rng_below(r, (uint64_t)n) - (stress_rng_below(r, 2) ? n : 0);
        v = grt_list_pop(l, i);
        if (!v) {                                     /* another thread shrank it */
            if (grt_err_occurred() != GRT_ERR_INDEX)
                stress_fail("grt_list_pop: %s", grt_err_message());
            grt_err_clear();
            break;
        }
        stress_check_value(v, "grt_list_pop from a global list");
        if (stress_rng_below(r, 2)) stash_put(t, v);
        else grt_decref(v);
        break;
    }
    case OP_GET_DICT: {
        grt_object *k = random_key(r);
        v = grt_dict_lookup(random_dict(r), k);
        grt_decref(k);
        if (v) {
            stress_check_value(v, "grt_dict_lookup in a global dict");
            grt_decref(v);
        } else {
            STRESS_CHECK(!grt_err_occurred(), "grt_dict_lookup");
        }
        break;
    }
    case OP_DEL_DICT: {
        grt_object *k = random_key(r);
        if (grt_dict_del(random_dict(r), k) != 0) {
            if (grt_err_occurred() != GRT_ERR_KEY)
                stress_fail("grt_dict_del: %s", grt_err_message());
            grt_err_clear();
        }
        grt_decref(k);
        break;
    }
    case OP_DROP: {
        int i = (int)stress_rng_below(r, STRESS_STASH);
        grt_clear(t->stash[i]);
        break;
    }
    case OP_CYCLE:
        op_cycle(t);
        break;
    case OP_WEAKREF: {
        v = stash_any(t);
        if (!v || (grt_type_of(v) != W.cls_node && grt_type_of(v) != W.cls_slot))
            break;
        grt_object *wr = stress_make_weakref(v);
        if (wr) {
            STRESS_CHECK(grt_list_append(t->wrs, wr) == 0, "grt_list_append");
            grt_decref(wr);
        }
        break;
    }
    case OP_WEAKREF_GET: {
        int64_t n = grt_list_len(t->wrs);
        if (n <= 0)
            break;
        grt_object *wr = grt_list_get(t->wrs, (int64_t)stress_rng_below(r, (uint64_t)n));
        STRESS_CHECK(wr, "grt_list_get");
        grt_object *ref = grt_weakref_get(wr);
        STRESS_CHECK(ref, "grt_weakref_get");
        if (ref != grt_None)
            stress_check_value(ref, "a weakref's referent");
        grt_decref(ref);
        grt_decref(wr);
        break;
    }
    case OP_PHOENIX:
        if ((v = stress_make_phoenix())) {
            if (stress_rng_below(r, 2)) stash_put(t, v);      /* dies when dropped later */
            else grt_decref(v);                                /* dies now: finalizer here */
        }
        break;
    case OP_DRAIN: {
        v = grt_list_pop(W.resurrected, -1);
        if (!v) {
            grt_err_clear();
            break;
        }
        stress_check_value(v, "the resurrected list");
        grt_decref(v);                                         /* dies for good */
        break;
    }
    case OP_COLLECT:
        if (grt_gc_collect((int)stress_rng_below(r, 3)) < 0)
            stress_fail("grt_gc_collect: %s", grt_err_message());
        grt_atomic_inc_64(&W.xcollections);
        break;
    case OP_STORM:
        op_storm(t);
        break;
    case OP_CLEAR:
        if (stress_rng_below(r, 4) == 0)
            STRESS_CHECK(grt_list_clear(random_list(r)) == 0, "grt_list_clear");
        else
            STRESS_CHECK(grt_dict_clear(random_dict(r)) == 0, "grt_dict_clear");
        break;
    case OP_HANDOFF: {
        /* take what an exited thread left (brc: objects whose owner is gone) */
        v = grt_list_pop(W.handoff, 0);
        if (!v) {
            grt_err_clear();
            break;
        }
        stress_check_value(v, "the hand-off list");
        grt_atomic_inc_64(&W.xhandoffs);
        stash_put(t, v);
        break;
    }
    case OP_NESTED: {
        /* a fresh list holding stash values, stored as a tagged value's
         * neighbour: [id, check, v...] */
        grt_object *l = stress_make_value(r);
        if (!l)
            break;
        if (grt_type_of(l) == &grt_list_type)
            for (int i = 0; i < 3; i++)
                if ((v = stash_any(t)))
                    STRESS_CHECK(grt_list_append(l, v) == 0, "grt_list_append");
        STRESS_CHECK(grt_list_append(random_list(r), l) == 0, "grt_list_append");
        grt_decref(l);
        break;
    }
    }
}

void *stress_worker_main(void *arg)
{
    stress_thread *t = arg;
    stress_rng_seed(&t->rng, t->seed);
    STRESS_CHECK(t->wrs = grt_list_new(0), "grt_list_new");
    uint64_t i;
    for (i = 0; i < t->quota; i++) {
        op_run(t, op_pick(&t->rng));
        if (grt_err_occurred())
            stress_fail("an operation left an error set: %s: %s",
                        grt_err_kind_name(grt_err_occurred()), grt_err_message());
        if ((i & 15) == 15) {
            grt_safepoint();
            if ((i & 255) == 255 && _grt_now_ns() > W.deadline_ns)
                break;
        }
    }
    grt_atomic_add_64(&W.xops, i);
    /* exiting: leave what we hold to the others */
    for (int s = 0; s < STRESS_STASH; s++) {
        if (!t->stash[s])
            continue;
        STRESS_CHECK(grt_list_append(W.handoff, t->stash[s]) == 0, "grt_list_append");
        grt_clear(t->stash[s]);
    }
    STRESS_CHECK(grt_list_extend(W.weakrefs, t->wrs) == 0, "grt_list_extend");
    grt_clear(t->wrs);
    grt_atomic_store_32(&t->xdone, 1);
    return NULL;
}

void stress_main_op(stress_rng *r)
{
    switch (stress_rng_below(r, 8)) {
    case 0:
        stress_check_globals();
        break;
    case 1:
        if (grt_gc_collect((int)stress_rng_below(r, 3)) < 0)
            stress_fail("grt_gc_collect: %s", grt_err_message());
        grt_atomic_inc_64(&W.xcollections);
        break;
    default: {
        /* the main thread drops what exiting threads left */
        grt_object *v = grt_list_pop(W.handoff, -1);
        if (v) {
            stress_check_value(v, "the hand-off list");
            grt_decref(v);
        } else {
            grt_err_clear();
        }
        break;
    }
    }
}
