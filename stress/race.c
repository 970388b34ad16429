/*
 * stress/race.c — what the GIL prevents, shown.
 *
 *   race-<variant> --kind refcount|list|collector [--threads N] [--ops N]
 *                  [--seed S] [--trials N] [--expect race|clean] [--timeout S]
 *                  [--verbose]
 *
 * Prints one JSON line, summed over the trials it ran:
 *   {"kind":"refcount","variant":"unsafe","threads":4,"trials":1,"ops":1000000,
 *    "lost_updates":1234,"lost_items":0,"corrupted":0,"premature_frees":1,
 *    "crashes":0,"leaked":-1,"stw_pauses":0,"seed":42}
 *
 * The same program runs on every variant.  On gil (one thread at a time),
 * atomic (atomic counts, locked containers) and brc (biased counts, locked
 * containers) nothing is lost; on unsafe, which has neither a GIL nor atomic
 * counts nor container locks, it shows what CPython would do without its GIL:
 *
 *   refcount   T threads incref one shared object k times each, at the same
 *              time, while the main thread holds one reference; then each
 *              releases its k references, one thread after the other.
 *              lost_updates: increments missing after the incref phase
 *              (exact: only increments ran).  premature_frees: the release
 *              phase loses nothing, so a count that lost increments reaches
 *              zero while references remain — the object is deallocated
 *              while the main thread (and some workers) still hold it.  The
 *              object's own deallocator catches that (a ledger: it records
 *              the free and quarantines the memory so the run can go on).
 *   list       T threads append k distinct items each to one shared list.
 *              lost_items: items appended but not in the list afterwards;
 *              corrupted: slots holding something that was never appended
 *              (stale or garbage pointers), items present twice, a length
 *              that disagrees with the slots.
 *   collector  (stress/race_collector.c) a collection runs while another
 *              thread moves live objects between containers.
 *
 * Every trial runs in a forked child (stress_util.h), so a crash counts as a
 * finding ("crashes").  leaked: objects allocated minus freed after grt_fini,
 * plus the containers grt_fini found still referenced (unreleased),
 * on a trial that ended cleanly (-1 when a trial was not checked: a run that
 * corrupted the heap cannot be torn down).  stw_pauses: stop-the-world pauses
 * the trials made (collections in GIL-off runs).
 *
 * --expect race   run up to --trials trials (default 20), stop as soon as
 *                 the race has shown (refcount: lost updates and a premature
 *                 free; list: lost items, corruption or a crash; collector: a
 *                 live object freed or a crash); exit 1 if it never showed.
 * --expect clean  run --trials trials (default 1); exit 1 unless every one
 *                 lost nothing, corrupted nothing, freed nothing early,
 *                 ended cleanly and leaked nothing.
 * Without --expect: --trials trials (default 1), exit 0.
 */
#include "race.h"
#include <inttypes.h>
#include <stdarg.h>
#include <unistd.h>

/* ---- shared machinery ---------------------------------------------------------------- */

void race_barrier_wait(pthread_barrier_t *b)
{
    /* blocking: detach so a GIL holder or a stop-the-world pause never waits on us */
    GRT_BEGIN_ALLOW_THREADS
    pthread_barrier_wait(b);
    GRT_END_ALLOW_THREADS;
}

void race_run_workers(race_ctx *c, void *(*fn)(void *))
{
    for (int i = 0; i < c->threads; i++) {
        c->workers[i] = (race_worker){ .ctx = c, .index = i };
        if (grt_thread_start(&c->workers[i].thread, fn, &c->workers[i]) != 0) {
            fprintf(stderr, "race: grt_thread_start failed: %s\n", grt_err_message());
            _exit(3);
        }
    }
}

void race_join_workers(race_ctx *c)
{
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < c->threads; i++)
        pthread_join(c->workers[i].thread, NULL);
    GRT_END_ALLOW_THREADS;
}

void race_note(const race_ctx *c, const char *fmt, ...)
{
    if (!c->opt->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "race[%s %s]: ", c->opt->kind, grt_variant());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void race_count_pauses(race_ctx *c)
{
    c->res->stw_pauses = _grt_rt.stw_count - c->stw_before;
}

/* Tear the runtime down and record the ledger: allocated - freed. */
int race_finish(race_ctx *c)
{
    race_count_pauses(c);
    if (grt_fini() != 0) {
        fprintf(stderr, "race: grt_fini failed: %s\n", grt_err_message());
        return 4;
    }
    grt_object_counts n = grt_object_counts_get();
    /* grt_fini frees leaked containers too: those it found still referenced
     * (unreleased) are leaks the ledger alone would not show */
    c->res->leaked = (int64_t)(n.allocated - n.freed + n.unreleased);
    race_note(c, "ledger: %" PRIu64 " objects allocated, %" PRIu64 " freed, %" PRIu64
              " still referenced at grt_fini", n.allocated, n.freed, n.unreleased);
    return 0;
}

/* ---- (a) the refcount race ---------------------------------------------------------- */

/*
 * The shared object is a "canary": a small object whose deallocator checks
 * the ledger.  While the main thread still holds its reference (armed), a
 * deallocation is premature: it is counted and the object is quarantined (its
 * count set far from zero, its memory kept) so that the threads still
 * touching it touch valid memory.  Disarmed, it frees normally.
 */
typedef struct race_canary {
    grt_object ob_base;
    uint64_t magic;
} race_canary;

#define RACE_CANARY_MAGIC 0xca7a11e5ca7a11e5ull
#define RACE_QUARANTINE_COUNT ((int64_t)1 << 40)

static race_ctx *canary_ctx;
static uint32_t canary_armed;

static void canary_dealloc(grt_object *o)
{
    if (grt_atomic_load_32(&canary_armed)) {
        grt_atomic_faa_64((uint64_t *)&canary_ctx->res->premature_frees, 1);
        _grt_rc_set(o, RACE_QUARANTINE_COUNT);
        return;
    }
    ((race_canary *)o)->magic = 0;
    _grt_object_free(o);
}

static grt_type race_canary_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "race.canary",
    .tp_basicsize = sizeof(race_canary),
    .tp_flags = GRT_TPFLAGS_STATIC,
    .tp_dealloc = canary_dealloc,
};

/* Keep every count update a separate load and store, as an interpreter
 * executing one bytecode at a time would (no folding of k increments). */
#define RACE_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

static void *refcount_worker(void *p)
{
    race_worker *w = p;
    race_ctx *c = w->ctx;
    grt_object *o = c->shared;
    race_barrier_wait(&c->barrier);                   /* start of the incref phase */
    for (uint64_t i = 0; i < c->per_thread; i++) {
        grt_incref(o);
        RACE_COMPILER_BARRIER();
        if ((i & 1023) == 1023)
            grt_safepoint();
    }
    race_barrier_wait(&c->barrier);                   /* end of the incref phase */
    race_barrier_wait(&c->barrier);                   /* start of the release phase */
    /* one thread at a time: no decrement is lost, the count falls by exactly
     * what the threads took, and reaches zero early iff increments were lost */
    GRT_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&c->release_lock);
    GRT_END_ALLOW_THREADS;
    for (uint64_t i = 0; i < c->per_thread; i++) {
        grt_decref(o);
        RACE_COMPILER_BARRIER();
        if ((i & 1023) == 1023)
            grt_safepoint();
    }
    pthread_mutex_unlock(&c->release_lock);
    return NULL;
}

static int race_refcount(race_ctx *c)
{
    race_canary *o = (race_canary *)_grt_object_alloc(&race_canary_type, sizeof(race_canary));
    if (!o) {
        fprintf(stderr, "race: %s\n", grt_err_message());
        return RACE_EXIT_SETUP;
    }
    o->magic = RACE_CANARY_MAGIC;
    c->shared = (grt_object *)o;
    canary_ctx = c;
    grt_atomic_store_32(&canary_armed, 1);
    pthread_mutex_init(&c->release_lock, NULL);
    int64_t n = (int64_t)c->per_thread * c->threads;

    race_run_workers(c, refcount_worker);
    race_barrier_wait(&c->barrier);
    race_barrier_wait(&c->barrier);                   /* the incref phase is over */
    grt_safepoint();                                  /* brc: merge anything queued to us */
    int64_t after_inc = grt_refcnt(c->shared);
    c->res->lost_updates = 1 + n - after_inc;
    c->res->ops += (uint64_t)n;
    c->res->stage = RACE_STAGE_MEASURED;
    race_note(c, "incref phase: count %" PRId64 ", expected %" PRId64, after_inc, 1 + n);
    race_barrier_wait(&c->barrier);                   /* the threads release theirs */
    race_join_workers(c);
    grt_safepoint();
    int64_t final = grt_refcnt(c->shared);
    c->res->ops += (uint64_t)n;
    race_note(c, "release phase: count %" PRId64 ", expected 1; premature frees %" PRId64,
              final, c->res->premature_frees);
    grt_atomic_store_32(&canary_armed, 0);
    if (c->res->premature_frees == 0 && final != after_inc - n)
        c->res->corrupted++;                          /* the serial phase lost nothing */
    if (final != 1) {
        if (c->res->premature_frees == 0)
            return 0;                                 /* wrong count, still referenced */
        _grt_rc_set(c->shared, 1);                    /* unsafe only: repair, then free */
    }
    grt_decref(c->shared);
    c->res->stage = RACE_STAGE_DONE;
    return race_finish(c);
}

/* ---- (b) the list race -------------------------------------------------------------- */

/* Pointer -> item index, open addressing over a power-of-two table: lets the
 * check recognise a slot's pointer without dereferencing it. */
typedef struct race_ptrmap {
    const void **keys;
    int64_t *vals;
    uint64_t mask;
} race_ptrmap;

static uint64_t ptrmap_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 33);
}

static void ptrmap_init(race_ptrmap *m, uint64_t n)
{
    uint64_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    if (!m->keys || !m->vals) {
        fprintf(stderr, "race: out of memory for the item map\n");
        _exit(3);
    }
    m->mask = cap - 1;
}

static void ptrmap_put(race_ptrmap *m, const void *k, int64_t v)
{
    uint64_t i = ptrmap_hash(k) & m->mask;
    while (m->keys[i])
        i = (i + 1) & m->mask;
    m->keys[i] = k;
    m->vals[i] = v;
}

static int64_t ptrmap_get(const race_ptrmap *m, const void *k)
{
    for (uint64_t i = ptrmap_hash(k) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
        if (m->keys[i] == k)
            return m->vals[i];
    return -1;
}

typedef struct list_check {
    const race_ptrmap *map;
    uint32_t *seen;             /* per item: how many slots hold it */
    int64_t slots, strangers;
} list_check;

static int list_check_visit(grt_object *o, void *arg)
{
    list_check *k = arg;
    int64_t i = ptrmap_get(k->map, o);
    k->slots++;
    if (i < 0)
        k->strangers++;         /* never appended: stale or garbage */
    else
        k->seen[i]++;
    return 0;
}

static void *list_worker(void *p)
{
    race_worker *w = p;
    race_ctx *c = w->ctx;
    grt_object **mine = c->items + (uint64_t)w->index * c->per_thread;
    race_barrier_wait(&c->barrier);
    for (uint64_t i = 0; i < c->per_thread; i++) {
        if (grt_list_append(c->shared, mine[i]) != 0) {
            fprintf(stderr, "race: grt_list_append: %s\n", grt_err_message());
            _exit(3);
        }
        if ((i & 255) == 255)
            grt_safepoint();
    }
    return NULL;
}

static int race_list(race_ctx *c)
{
    uint64_t n = c->per_thread * (uint64_t)c->threads;
    c->items = calloc(n, sizeof *c->items);
    race_ptrmap map;
    ptrmap_init(&map, n);
    if (!c->items) {
        fprintf(stderr, "race: out of memory for %" PRIu64 " items\n", n);
        return RACE_EXIT_SETUP;
    }
    /* distinct heap ints (beyond the immortal small ints), in a seeded order */
    stress_rng rng;
    stress_rng_seed(&rng, c->seed);
    int64_t base = (int64_t)1 << 40;
    for (uint64_t i = 0; i < n; i++) {
        c->items[i] = grt_int_new(base + (int64_t)i);
        if (!c->items[i]) {
            fprintf(stderr, "race: %s\n", grt_err_message());
            return RACE_EXIT_SETUP;
        }
    }
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = stress_rng_below(&rng, i + 1);
        grt_object *t = c->items[i]; c->items[i] = c->items[j]; c->items[j] = t;
    }
    for (uint64_t i = 0; i < n; i++)
        ptrmap_put(&map, c->items[i], (int64_t)i);
    c->shared = grt_list_new(0);
    if (!c->shared) {
        fprintf(stderr, "race: %s\n", grt_err_message());
        return RACE_EXIT_SETUP;
    }

    race_run_workers(c, list_worker);
    race_barrier_wait(&c->barrier);
    race_join_workers(c);
    c->res->ops += n;

    /* Check the slots without trusting them: tp_traverse hands us the raw
     * pointers, which we look up before touching anything. */
    list_check k = { .map = &map, .seen = calloc(n, sizeof(uint32_t)) };
    if (!k.seen) {
        fprintf(stderr, "race: out of memory for the check\n");
        return RACE_EXIT_SETUP;
    }
    c->res->stage = RACE_STAGE_CHECKING;
    grt_list_type.tp_traverse(c->shared, list_check_visit, &k);
    int64_t len = grt_list_len(c->shared);
    int64_t missing = 0, twice = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (k.seen[i] == 0) missing++;
        else if (k.seen[i] > 1) twice += k.seen[i] - 1;
    }
    c->res->lost_items = missing;
    c->res->corrupted = k.strangers + twice + (len != k.slots);
    c->res->stage = RACE_STAGE_MEASURED;
    race_note(c, "list: length %" PRId64 " of %" PRIu64 " appended; %" PRId64 " missing, %"
              PRId64 " twice, %" PRId64 " strangers", len, n, missing, twice, k.strangers);
    if (c->res->corrupted || missing)
        return 0;               /* the references are wrong: nothing can be freed safely */
    grt_clear(c->shared);
    for (uint64_t i = 0; i < n; i++)
        grt_decref(c->items[i]);
    free(k.seen);
    free(map.keys);
    free(map.vals);
    free(c->items);
    c->res->stage = RACE_STAGE_DONE;
    return race_finish(c);
}

/* ---- the driver ------------------------------------------------------------------------ */

static int race_trial(void *arg)
{
    race_ctx *c = arg;
    if (grt_init(NULL) != 0) {
        fprintf(stderr, "race: grt_init failed: %s\n", grt_err_message());
        return RACE_EXIT_SETUP;
    }
    c->res->stage = RACE_STAGE_RUNNING;
    c->stw_before = _grt_rt.stw_count;
    if (pthread_barrier_init(&c->barrier, NULL, (unsigned)c->threads + 1) != 0) {
        fprintf(stderr, "race: pthread_barrier_init failed\n");
        return RACE_EXIT_SETUP;
    }
    c->workers = calloc((size_t)c->threads, sizeof *c->workers);
    if (!c->workers) {
        fprintf(stderr, "race: out of memory\n");
        return RACE_EXIT_SETUP;
    }
    if (strcmp(c->opt->kind, "refcount") == 0)
        return race_refcount(c);
    if (strcmp(c->opt->kind, "list") == 0)
        return race_list(c);
    return race_collector(c);
}

static void usage(const char *prog, FILE *f)
{
    fprintf(f,
        "usage: %s --kind refcount|list|collector [--threads N] [--ops N] [--seed S]\n"
        "          [--trials N] [--expect race|clean] [--timeout S] [--verbose]\n"
        "Shows what the GIL prevents: run on unsafe, the race shows; on gil, atomic and\n"
        "brc nothing is lost.  Prints one JSON line summed over the trials.\n"
        "  --threads N   threads racing (default 4)\n"
        "  --ops N       operations per trial (default: refcount 10000000, list 200000,\n"
        "                collector 200000)\n"
        "  --seed S      seed of the run's random choices (default: from the clock)\n"
        "  --trials N    trials, each in its own child process (default 1; 20 with\n"
        "                --expect race, which stops at the first trial that shows it)\n"
        "  --expect race|clean  exit 1 unless the race shows / nothing went wrong\n"
        "  --timeout S   seconds a trial may take before it is killed (default 20;\n"
        "                a corrupted list can loop forever)\n",
        prog);
}

static int race_shown(const race_opts *o, const race_result *r)
{
    if (strcmp(o->kind, "refcount") == 0)
        return r->lost_updates > 0 && r->premature_frees > 0;
    if (strcmp(o->kind, "list") == 0)
        return r->lost_items > 0 || r->corrupted > 0 || r->crashes > 0;
    return r->premature_frees > 0 || r->corrupted > 0 || r->crashes > 0;
}

int main(int argc, char **argv)
{
    race_opts o = { .kind = NULL, .threads = 4, .timeout_s = 20 };
    uint64_t ops = 0, trials = 0;
    int have_seed = 0;
    const char *expect = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0], stdout); return 0; }
        else if (!strcmp(a, "--verbose")) o.verbose = 1;
        else if (!strcmp(a, "--kind") && v) { o.kind = v; i++; }
        else if (!strcmp(a, "--threads")) { o.threads = (int)stress_parse_u64(argv[0], a, v, 1, RACE_MAX_THREADS); i++; }
        else if (!strcmp(a, "--ops")) { ops = stress_parse_u64(argv[0], a, v, 1, (uint64_t)1 << 36); i++; }
        else if (!strcmp(a, "--seed")) { o.seed = stress_parse_u64(argv[0], a, v, 0, UINT64_MAX); have_seed = 1; i++; }
        else if (!strcmp(a, "--trials")) { trials = stress_parse_u64(argv[0], a, v, 1, 100000); i++; }
        else if (!strcmp(a, "--timeout")) { o.timeout_s = (unsigned)stress_parse_u64(argv[0], a, v, 1, 86400); i++; }
        else if (!strcmp(a, "--expect") && v) { expect = v; i++; }
        else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", argv[0], a);
            usage(argv[0], stderr);
            return 2;
        }
    }
    if (!o.kind || (strcmp(o.kind, "refcount") && strcmp(o.kind, "list") && strcmp(o.kind, "collector"))) {
        fprintf(stderr, "%s: --kind must be refcount, list or collector (got '%s')\n", argv[0],
                o.kind ? o.kind : "nothing");
        return 2;
    }
    if (!strcmp(o.kind, "collector") && o.threads < 2) {
        fprintf(stderr, "%s: the collector race needs --threads 2 or more (one collector, "
                "the rest mutators)\n", argv[0]);
        return 2;
    }
    if (expect && strcmp(expect, "race") && strcmp(expect, "clean")) {
        fprintf(stderr, "%s: --expect must be race or clean (got '%s')\n", argv[0], expect);
        return 2;
    }
    if (!ops)
        ops = strcmp(o.kind, "refcount") == 0 ? 10000000 : 200000;
    if (!trials)
        trials = expect && !strcmp(expect, "race") ? 20 : 1;
    if (!have_seed)
        o.seed = stress_seed_from_clock();
    /* refcount splits its ops between the two phases */
    uint64_t per_thread = (strcmp(o.kind, "refcount") == 0 ? ops / 2 : ops) / (uint64_t)o.threads;
    if (per_thread == 0) per_thread = 1;

    race_result total = { .leaked = 0 };
    race_result *shared = stress_shared_alloc(sizeof *shared);
    uint64_t ran = 0;
    int checked_all = 1;
    for (uint64_t t = 0; t < trials; t++) {
        memset(shared, 0, sizeof *shared);
        shared->leaked = -1;
        race_ctx c = { .opt = &o, .res = shared, .threads = o.threads, .per_thread = per_thread };
        c.seed = o.seed + t;
        int detail = 0;
        stress_end e = stress_run_child(race_trial, &c, o.timeout_s, &detail);
        ran++;
        if (e == STRESS_END_FAILED && (detail == RACE_EXIT_USAGE || detail == RACE_EXIT_SETUP)) {
            /* not a finding: the trial could not race at all (its message
             * is above); counted as a crash, it would pass --expect race */
            fprintf(stderr, "race: trial %" PRIu64 " could not run (exit %d at stage %d): "
                    "nothing was measured\n", t + 1, detail, shared->stage);
            return 2;
        }
        if (e != STRESS_END_OK) {
            total.crashes++;
            if (o.verbose || !expect || strcmp(expect, "race"))
                fprintf(stderr, "race: trial %" PRIu64 " ended: %s (%d) at stage %d\n", t + 1,
                        stress_end_name(e), detail, shared->stage);
        }
        total.ops += shared->ops;
        total.lost_updates += shared->lost_updates;
        total.lost_items += shared->lost_items;
        total.corrupted += shared->corrupted;
        total.premature_frees += shared->premature_frees;
        total.stw_pauses += shared->stw_pauses;
        if (shared->leaked < 0) checked_all = 0;
        else total.leaked += shared->leaked;
        if (expect && !strcmp(expect, "race") && race_shown(&o, &total))
            break;
    }
    if (!checked_all) total.leaked = -1;
    printf("{\"kind\":\"%s\",\"variant\":\"%s\",\"threads\":%d,\"trials\":%" PRIu64
           ",\"ops\":%" PRIu64 ",\"lost_updates\":%" PRId64 ",\"lost_items\":%" PRId64
           ",\"corrupted\":%" PRId64 ",\"premature_frees\":%" PRId64 ",\"crashes\":%" PRId64
           ",\"leaked\":%" PRId64 ",\"stw_pauses\":%" PRIu64 ",\"seed\":%" PRIu64 "}\n",
           o.kind, GRT_VARIANT_NAME, o.threads, ran, total.ops, total.lost_updates,
           total.lost_items, total.corrupted, total.premature_frees, total.crashes,
           total.leaked, total.stw_pauses, o.seed);
    fflush(stdout);
    if (!expect)
        return 0;
    if (!strcmp(expect, "race")) {
        if (race_shown(&o, &total))
            return 0;
        fprintf(stderr, "race: expected the %s race to show on %s, but %" PRIu64
                " trials saw none\n", o.kind, GRT_VARIANT_NAME, ran);
        return 1;
    }
    if (total.lost_updates || total.lost_items || total.corrupted || total.premature_frees ||
        total.crashes || total.leaked) {
        fprintf(stderr, "race: expected nothing lost on %s, but something was (see the JSON)\n",
                GRT_VARIANT_NAME);
        return 1;
    }
    return 0;
}
