/*
 * stress/stress.c — the stress program: the whole runtime, many threads, a
 * seeded random mix, invariants checked as it goes and at the end.
 *
 *   stress-<variant> [--seed S] [--threads N] [--ops N] [--seconds S]
 *                    [--epochs N] [--long] [--verbose]
 *
 * Workers (stress/stress_ops.c) create values, share them through global
 * lists and dicts, take them back and check them, drop them, build cycles,
 * make weakrefs with callbacks and phoenixes whose finalizer resurrects
 * them, run collections, and exit after a random number of operations,
 * leaving what they hold to the others; the main thread starts replacements
 * while the budget lasts, checks the global containers, collects, and drops
 * what exiting threads left.  Between epochs every worker has exited and the
 * main thread walks the heap (stress_heap_check).  At the end everything is
 * released and the ledgers must balance (stress/stress.h).
 *
 * The run is bounded by operations and by time, whichever ends first.  It
 * prints its seed first; --seed replays every thread's choices.  Short by
 * default (and shorter under ThreadSanitizer); --long for `make stress`.
 * Set GRT_MALLOC=debug to have the allocator catch any use after free.
 * Exit status 0 if every invariant held, 1 (with the seed) if not.
 */
#include "stress.h"
#include <time.h>

static stress_thread workers[STRESS_MAX_THREADS];
static uint64_t worker_count;          /* workers started: seeds their generators */

static void usage(const char *prog, FILE *f)
{
    fprintf(f,
        "usage: %s [--seed S] [--threads N] [--ops N] [--seconds S] [--epochs N]\n"
        "          [--long] [--verbose]\n"
        "  --seed S     replay a run (default: from the clock; printed first)\n"
        "  --threads N  workers alive at once (default 4; --long 8)\n"
        "  --ops N      operations in all (default 400000, 200000 under TSan; --long 2000000)\n"
        "  --seconds S  stop after S seconds even if operations remain (default 60; --long 300)\n"
        "  --epochs N   phases; all workers exit and the heap is walked between them\n"
        "               (default 3; --long 10)\n"
        "Exit status 0 when every invariant held.  GRT_MALLOC=debug catches use after free.\n",
        prog);
}

/* Start a worker in slot s with a quota taken from the budget; 0 if none left. */
static int worker_start(int s)
{
    uint64_t left = grt_atomic_load_64(&W.xremaining);
    if (left == 0 || _grt_now_ns() > W.deadline_ns)
        return 0;
    stress_thread *t = &workers[s];
    memset(t, 0, sizeof *t);
    t->slot = s;
    uint64_t n = worker_count++;
    stress_rng g;
    stress_rng_seed(&g, W.opt->seed ^ (0x5bd1e995ull * (n + 1)));
    t->seed = stress_rng_next(&g);
    /* a short life, so that threads come and go all the time */
    uint64_t mean = W.opt->ops / ((uint64_t)W.opt->threads * (uint64_t)W.opt->epochs * 3) + 1;
    uint64_t q = mean / 2 + stress_rng_below(&g, mean + 1);
    if (q > left) q = left;
    grt_atomic_store_64(&W.xremaining, left - q);      /* only the main thread takes */
    t->quota = q;
    if (grt_thread_start(&t->thread, stress_worker_main, t) != 0)
        stress_fail("grt_thread_start: %s", grt_err_message());
    grt_atomic_inc_64(&W.xthreads_started);
    return 1;
}

static void nap_detached(long us)
{
    struct timespec ts = { 0, us * 1000 };
    GRT_BEGIN_ALLOW_THREADS
    nanosleep(&ts, NULL);
    GRT_END_ALLOW_THREADS;
}

static void run_epoch(int e, stress_rng *mr)
{
    const stress_opts *o = W.opt;
    /* this epoch's share of what is left */
    uint64_t remaining_total = grt_atomic_load_64(&W.xremaining);
    uint64_t share = remaining_total / (uint64_t)(o->epochs - e);
    uint64_t held_back = remaining_total - share;
    grt_atomic_store_64(&W.xremaining, share);
    int running[STRESS_MAX_THREADS] = { 0 };
    int alive = 0;
    for (int s = 0; s < o->threads; s++)
        if ((running[s] = worker_start(s)))
            alive++;
    while (alive > 0) {
        stress_main_op(mr);
        for (int s = 0; s < o->threads; s++) {
            if (!running[s] || !grt_atomic_load_32(&workers[s].xdone))
                continue;
            GRT_BEGIN_ALLOW_THREADS
            pthread_join(workers[s].thread, NULL);
            GRT_END_ALLOW_THREADS;
            running[s] = worker_start(s);
            if (!running[s])
                alive--;
        }
        grt_safepoint();
        nap_detached(200);
    }
    grt_atomic_store_64(&W.xremaining, grt_atomic_load_64(&W.xremaining) + held_back);
    stress_heap_check("between epochs");
}

int main(int argc, char **argv)
{
    stress_opts o = { .threads = 4, .ops = 400000, .seconds = 60, .epochs = 3 };
#ifdef GRT_TSAN
    o.ops = 200000;                      /* TSan runs 5-15 times slower */
#endif
    int have_seed = 0, have_threads = 0, have_ops = 0, have_seconds = 0, have_epochs = 0;
    int is_long = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0], stdout); return 0; }
        else if (!strcmp(a, "--long")) is_long = 1;
        else if (!strcmp(a, "--verbose")) o.verbose = 1;
        else if (!strcmp(a, "--seed")) { o.seed = stress_parse_u64(argv[0], a, v, 0, UINT64_MAX); have_seed = 1; i++; }
        else if (!strcmp(a, "--threads")) { o.threads = (int)stress_parse_u64(argv[0], a, v, 1, STRESS_MAX_THREADS); have_threads = 1; i++; }
        else if (!strcmp(a, "--ops")) { o.ops = stress_parse_u64(argv[0], a, v, 1, (uint64_t)1 << 32); have_ops = 1; i++; }
        else if (!strcmp(a, "--seconds")) { o.seconds = (double)stress_parse_u64(argv[0], a, v, 1, 86400); have_seconds = 1; i++; }
        else if (!strcmp(a, "--epochs")) { o.epochs = (int)stress_parse_u64(argv[0], a, v, 1, 1000); have_epochs = 1; i++; }
        else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", argv[0], a);
            usage(argv[0], stderr);
            return 2;
        }
    }
    if (is_long) {
        if (!have_threads) o.threads = 8;
        if (!have_ops) o.ops = 2000000;
        if (!have_seconds) o.seconds = 300;
        if (!have_epochs) o.epochs = 10;
    }
    if (!have_seed)
        o.seed = stress_seed_from_clock();
    printf("stress: variant=%s seed=%" PRIu64 " threads=%d ops=%" PRIu64 " seconds=%.0f epochs=%d"
           " allocator=%s\n", GRT_VARIANT_NAME, o.seed, o.threads, o.ops, o.seconds, o.epochs,
           getenv("GRT_MALLOC") ? getenv("GRT_MALLOC") : "default");
    fflush(stdout);

    if (grt_init(NULL) != 0) {
        fprintf(stderr, "stress: grt_init failed: %s\n", grt_err_message());
        return 1;
    }
    uint64_t t0 = _grt_now_ns();
    W.deadline_ns = t0 + (uint64_t)(o.seconds * 1e9);
    /* ids: at most a few per operation (a cycle makes up to 4 values, a weakref) */
    stress_world_init(&o, o.ops * 6 + 1024);
    W.xremaining = o.ops;
    stress_rng mr;
    stress_rng_seed(&mr, o.seed);
    for (int e = 0; e < o.epochs; e++)
        run_epoch(e, &mr);
    double secs = (double)(_grt_now_ns() - t0) / 1e9;
    stress_world_finish(secs);
    return 0;
}
