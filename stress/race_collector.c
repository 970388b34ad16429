/*
 * stress/race_collector.c — (c) the collector race: a collection running
 * while other threads mutate.
 *
 * Mutator threads each own two lists and a set of items (instances of a
 * class with a finalizer).  They move every item from one list to the other
 * through their own hands: pop them all (the only reference is now the
 * mutator's C variable), then append them all to the other list, and again.
 * One collector thread runs full collections in a loop.
 *
 * A collection reasons about a snapshot: it copies each object's count,
 * subtracts the references containers hold, and keeps what is referenced
 * from outside.  With the world stopped (gil: the GIL; atomic, brc and any
 * build with stop-the-world) the snapshot is consistent and every item is
 * found reachable — from its list, or through its count when it is in a
 * mutator's hands.  Without a pause (unsafe) an item can be counted while in
 * a list, subtracted while in a hand, and missed by the reachability walk,
 * which sees the list after it was emptied: the collector then finalizes and
 * frees an object a mutator is holding.
 *
 * Items are never garbage while the race runs, so the finalizer is a ledger:
 * any call before the end is a live object being collected (premature_frees).
 * It does not resurrect, so the collector goes on to free the item; the
 * mutator's next touch is a use after free, which the debug allocator
 * (GRT_MALLOC=debug) or the refcount check reports, and the trial dies:
 * a crash.
 */
#include "race.h"
#include <sched.h>

#define COLLECTOR_ITEMS_PER_MUTATOR 1000

static uint32_t collector_armed;
static race_ctx *collector_ctx;
static uint32_t collector_stop;

static void item_finalize(grt_object *o)
{
    (void)o;
    if (grt_atomic_load_32(&collector_armed))
        grt_atomic_faa_64((uint64_t *)&collector_ctx->res->premature_frees, 1);
}

typedef struct mutator {
    grt_object *from, *to;
    grt_object **hand;
} mutator;

static mutator *mutators;

/* Check an item we hold: its id must be one we made. */
static void item_check(race_ctx *c, grt_object *item, int64_t n_items)
{
    grt_object *id = grt_getattr(item, "id");
    int64_t v = id ? grt_int_value(id) : -1;
    if (!id || v < 0 || v >= n_items) {
        grt_atomic_faa_64((uint64_t *)&c->res->corrupted, 1);
        grt_err_clear();
    }
    grt_xdecref(id);
}

static void *collector_mutator(void *p)
{
    race_worker *w = p;
    race_ctx *c = w->ctx;
    mutator *m = &mutators[w->index - 1];
    int64_t n_items = (int64_t)COLLECTOR_ITEMS_PER_MUTATOR * (c->threads - 1);
    race_barrier_wait(&c->barrier);
    uint64_t moved = 0;
    while (moved < c->per_thread) {
        int64_t n = 0;
        for (grt_object *x; n < COLLECTOR_ITEMS_PER_MUTATOR && (x = grt_list_pop(m->from, -1)); n++)
            m->hand[n] = x;                       /* the only reference now */
        grt_err_clear();                          /* the pop from an empty list */
        for (int64_t i = 0; i < n; i++) {
            item_check(c, m->hand[i], n_items);
            grt_list_append(m->to, m->hand[i]);
            grt_decref(m->hand[i]);
        }
        grt_object *t = m->from; m->from = m->to; m->to = t;
        moved += (uint64_t)n;
        grt_atomic_faa_64(&c->res->ops, (uint64_t)n);
        grt_safepoint();
    }
    return NULL;
}

/* Collections back to back, but never two without a mutator's batch in
 * between.  Where a collection stops the world, the next one, requested
 * as soon as the world restarts, could otherwise keep the mutators from
 * ever running: under TSan a trial of 20,000 moves took from 0.3 to 12 s
 * by that starvation alone, and a run of 200,000 could pass its timeout.
 * Where nothing stops (unsafe), the collections still overlap the batches,
 * which is the race this program exists to show. */
static void *collector_collector(void *p)
{
    race_worker *w = p;
    race_ctx *c = w->ctx;
    race_barrier_wait(&c->barrier);
    uint64_t seen = grt_atomic_load_64(&c->res->ops);
    while (!grt_atomic_load_32(&collector_stop)) {
        grt_gc_collect(2);
        grt_safepoint();
        while (grt_atomic_load_64(&c->res->ops) == seen && !grt_atomic_load_32(&collector_stop)) {
            grt_safepoint();
            sched_yield();
        }
        seen = grt_atomic_load_64(&c->res->ops);
    }
    return NULL;
}

static void *collector_worker(void *p)
{
    race_worker *w = p;
    return w->index == 0 ? collector_collector(p) : collector_mutator(p);
}

int race_collector(race_ctx *c)
{
    if (c->threads < 2) {
        fprintf(stderr, "race: the collector race needs --threads 2 or more "
                "(one collector, the rest mutators)\n");
        return RACE_EXIT_USAGE;
    }
    int nmut = c->threads - 1;
    /* --ops is the total of item moves: share it among the mutators */
    c->per_thread = c->per_thread * (uint64_t)c->threads / (uint64_t)nmut;
    static const char *const slots[] = { "id", NULL };
    grt_type *cls = grt_class_new("race.Item", slots);
    if (!cls || grt_class_set_finalizer(cls, item_finalize) != 0) {
        fprintf(stderr, "race: %s\n", grt_err_message());
        return RACE_EXIT_SETUP;
    }
    mutators = calloc((size_t)nmut, sizeof *mutators);
    if (!mutators) {
        fprintf(stderr, "race: out of memory\n");
        return RACE_EXIT_SETUP;
    }
    int64_t id = 0;
    for (int i = 0; i < nmut; i++) {
        mutator *m = &mutators[i];
        m->from = grt_list_new(0);
        m->to = grt_list_new(0);
        m->hand = calloc(COLLECTOR_ITEMS_PER_MUTATOR, sizeof *m->hand);
        if (!m->from || !m->to || !m->hand) {
            fprintf(stderr, "race: out of memory\n");
            return RACE_EXIT_SETUP;
        }
        for (int j = 0; j < COLLECTOR_ITEMS_PER_MUTATOR; j++, id++) {
            grt_object *item = grt_instance_new(cls);
            grt_object *v = grt_int_new(id);
            if (!item || !v || grt_setattr(item, "id", v) != 0 || grt_list_append(m->from, item) != 0) {
                fprintf(stderr, "race: %s\n", grt_err_message());
                return RACE_EXIT_SETUP;
            }
            grt_decref(v);
            grt_decref(item);
        }
    }
    collector_ctx = c;
    grt_atomic_store_32(&collector_armed, 1);

    /* the collector and the mutators start together; the mutators stop on
     * their own, then the collector is told to */
    pthread_barrier_destroy(&c->barrier);
    pthread_barrier_init(&c->barrier, NULL, (unsigned)c->threads + 1);
    race_run_workers(c, collector_worker);
    race_barrier_wait(&c->barrier);
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 1; i < c->threads; i++)
        pthread_join(c->workers[i].thread, NULL);
    grt_atomic_store_32(&collector_stop, 1);
    pthread_join(c->workers[0].thread, NULL);
    GRT_END_ALLOW_THREADS;
    grt_atomic_store_32(&collector_armed, 0);

    /* every item must still be in one of its mutator's lists, once */
    int64_t found = 0;
    for (int i = 0; i < nmut; i++)
        found += grt_list_len(mutators[i].from) + grt_list_len(mutators[i].to);
    c->res->lost_items = id - found;
    race_count_pauses(c);
    c->res->stage = RACE_STAGE_MEASURED;
    race_note(c, "collector: %" PRId64 " of %" PRId64 " items in their lists; %" PRId64
              " finalized while live; %" PRIu64 " stop-the-world pauses",
              found, id, c->res->premature_frees, c->res->stw_pauses);
    if (c->res->premature_frees || c->res->lost_items || c->res->corrupted)
        return 0;               /* freed objects are still referenced: no teardown */
    for (int i = 0; i < nmut; i++) {
        grt_clear(mutators[i].from);
        grt_clear(mutators[i].to);
        free(mutators[i].hand);
    }
    free(mutators);
    grt_decref((grt_object *)cls);
    c->res->stage = RACE_STAGE_DONE;
    return race_finish(c);
}
