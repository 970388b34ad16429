/*
 * stress/fault.c — the fault-injection sweep.
 *
 *   fault-<variant>-asan [--scenario NAME] [--max-points N] [--point K] [--verbose]
 *
 * Each scenario is a fixed piece of work over the public API (containers,
 * instances, cycles with finalizers and weakref callbacks that allocate, a
 * thread that exits while others hold its objects, strings and repr, raw
 * grt_mem_malloc/realloc buffers).  The sweep first runs it once to count
 * its allocations N, then, for every k in 1..N, runs it again with the k-th
 * allocation failing, and once more with every n-th failing for a few n.
 * Failures come from the allocator's own injection API (grt_mem_fail_at,
 * grt_mem_fail_every in gilrt/mem.h), so every allocation counts, those
 * inside mem/ included.  After every injected run:
 *   - every call that failed returned NULL / -1 with a MemoryError set (the
 *     scenario checks each call: a failure without an error, or with another
 *     kind, ends the sweep);
 *   - the containers a failed call touched are unchanged;
 *   - after a full collection the number of live objects is back where it
 *     was (no reference leaked on an error path);
 *   - the same scenario run again without injection succeeds, with exact
 *     results (the runtime keeps working).
 * Built with AddressSanitizer and run with GRT_MALLOC=malloc, so that every
 * object is a malloc block: ASan catches any use after free or overflow on
 * the error paths, and LeakSanitizer, at exit, any memory grt_fini left.
 * Exit status 0 and a summary line when everything held.
 */
#include "stress_util.h"
#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

static int fault_verbose;
static const char *fault_where = "setup";          /* for the crash message */
static uint64_t fault_point;

__attribute__((noreturn, format(printf, 1, 2)))
static void fault_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fault[%s]: FAILED in scenario %s, allocation %" PRIu64 ": ", grt_variant(),
            fault_where, fault_point);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(NULL);
    _exit(1);
}

static void fault_on_signal(int sig)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "fault: signal %d in scenario %s, allocation %" PRIu64
                     " failing (replay: --scenario %s --point %" PRIu64 ")\n",
                     sig, fault_where, fault_point, fault_where, fault_point);
    if (write(2, buf, (size_t)n) < 0) { /* nothing to do */ }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A call failed: it must have set a MemoryError (the only failure injected). */
static void fault_expect_memory_error(const char *call, int line)
{
    grt_err_kind k = grt_err_occurred();
    if (k == GRT_ERR_NONE)
        fault_die("%s (line %d) failed without setting an error", call, line);
    if (k != GRT_ERR_MEMORY)
        fault_die("%s (line %d) failed with %s (%s), expected a MemoryError", call, line,
                  grt_err_kind_name(k), grt_err_message());
    if (!*grt_err_message())
        fault_die("%s (line %d) set a MemoryError without a message", call, line);
    grt_err_clear();
}

/* Scenario helpers: on failure check the error and jump to `out`. */
#define FT_NN(var, call) do { if (!((var) = (call))) {                              \
    fault_expect_memory_error(#call, __LINE__); goto out; } } while (0)
#define FT_OK(call) do { if ((call) != 0) {                                         \
    fault_expect_memory_error(#call, __LINE__); goto out; } } while (0)
/* A result that must hold whenever the calls before it succeeded. */
#define FT_CHECK(cond) do { if (!(cond))                                            \
    fault_die("check failed: %s (line %d)", #cond, __LINE__); } while (0)

/* ---- scenarios ------------------------------------------------------------------------ */

/* Lists, dicts, tuples: growth, extend, update, pops, deletes, keys, repr. */
static int s_containers(void)
{
    int rc = -1;
    grt_object *d = NULL, *l = NULL, *k = NULL, *v = NULL, *t = NULL, *keys = NULL,
               *d2 = NULL, *r = NULL, *x = NULL, *f = NULL;
    FT_NN(d, grt_dict_new());
    FT_NN(l, grt_list_new(0));
    for (int i = 0; i < 40; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "key-%d", i);
        FT_NN(k, grt_str_new(buf));
        FT_NN(v, grt_int_new(1000 + i));
        FT_NN(t, grt_tuple_pack(2, k, v));
        int64_t dl = grt_dict_len(d), ll = grt_list_len(l);
        if (grt_dict_set(d, k, t) != 0) {
            fault_expect_memory_error("grt_dict_set", __LINE__);
            FT_CHECK(grt_dict_len(d) == dl && grt_dict_contains(d, k) == 0);
            goto out;
        }
        if (grt_list_append(l, t) != 0) {
            fault_expect_memory_error("grt_list_append", __LINE__);
            FT_CHECK(grt_list_len(l) == ll);
            goto out;
        }
        grt_clear(k);
        grt_clear(v);
        grt_clear(t);
    }
    FT_CHECK(grt_dict_len(d) == 40 && grt_list_len(l) == 40);
    FT_OK(grt_list_extend(l, l));
    FT_CHECK(grt_list_len(l) == 80);
    for (int i = 0; i < 10; i++) {
        FT_NN(x, grt_list_pop(l, 0));
        grt_clear(x);
    }
    FT_CHECK(grt_list_len(l) == 70);
    for (int i = 0; i < 10; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "key-%d", i * 3);
        FT_NN(k, grt_str_new(buf));
        FT_OK(grt_dict_del(d, k));
        grt_clear(k);
    }
    FT_CHECK(grt_dict_len(d) == 30);
    FT_NN(k, grt_str_new("key-1"));
    FT_NN(t, grt_dict_get(d, k));
    FT_CHECK(grt_int_value(grt_tuple_get(t, 1)) == 1001);
    grt_clear(t);
    grt_clear(k);
    FT_NN(keys, grt_dict_keys(d));
    FT_CHECK(grt_list_len(keys) == 30);
    FT_NN(d2, grt_dict_new());
    FT_NN(x, grt_str_new("before"));
    FT_OK(grt_dict_set(d2, x, x));
    if (grt_dict_update(d2, d) != 0) {                   /* all or nothing */
        fault_expect_memory_error("grt_dict_update", __LINE__);
        FT_CHECK(grt_dict_len(d2) == 1 && grt_dict_contains(d2, x) == 1);
        goto out;
    }
    FT_OK(grt_dict_del(d2, x));
    grt_clear(x);
    FT_CHECK(grt_dict_len(d2) == 30);
    FT_OK(grt_list_insert(l, 0, d2));
    FT_OK(grt_list_set(l, 1, keys));
    FT_NN(f, grt_float_new(2.5));
    FT_OK(grt_list_append(keys, f));
    FT_NN(r, grt_repr(l));
    FT_CHECK(grt_str_len(r) > 100 && grt_str_data(r)[0] == '[');
    FT_OK(grt_list_clear(keys));
    FT_OK(grt_dict_clear(d2));
    rc = 0;
out:
    grt_xdecref(d); grt_xdecref(l); grt_xdecref(k); grt_xdecref(v); grt_xdecref(t);
    grt_xdecref(keys); grt_xdecref(d2); grt_xdecref(r); grt_xdecref(x); grt_xdecref(f);
    return rc;
}

/* Classes with slots and with a dict: attributes, deletion, sizes, repr. */
static int s_instances(void)
{
    int rc = -1;
    static const char *const slots[] = { "a", "b", "c", NULL };
    grt_type *cs = NULL, *cd = NULL;
    grt_object *o = NULL, *p = NULL, *v = NULL, *g = NULL, *r = NULL;
    FT_NN(cs, grt_class_new("fault.Slots", slots));
    FT_NN(cd, grt_class_new("fault.Dict", NULL));
    FT_NN(o, grt_instance_new(cs));
    FT_NN(p, grt_instance_new(cd));
    FT_NN(v, grt_int_new(123456));
    FT_OK(grt_setattr(o, "a", v));
    FT_OK(grt_setattr(o, "b", (grt_object *)cd));
    for (int i = 0; i < 24; i++) {
        char name[16];
        snprintf(name, sizeof name, "attr%d", i);
        if (grt_setattr(p, name, v) != 0) {
            fault_expect_memory_error("grt_setattr", __LINE__);
            FT_CHECK(grt_hasattr(p, name) == 0);      /* (hasattr clears errors) */
            goto out;
        }
    }
    FT_CHECK(grt_hasattr(p, "attr23") == 1);
    FT_OK(grt_setattr(p, "self", p));                  /* a cycle: the collector's */
    FT_OK(grt_delattr(p, "attr0"));
    FT_NN(g, grt_getattr(p, "attr5"));
    FT_CHECK(g == v);
    grt_clear(g);
    FT_NN(g, grt_getattr(o, "a"));
    FT_CHECK(grt_int_value(g) == 123456);
    FT_CHECK(grt_instance_size(o) > 0 && grt_instance_size(p) > grt_instance_size(o));
    FT_NN(r, grt_repr(p));
    rc = 0;
out:
    grt_xdecref(o); grt_xdecref(p); grt_xdecref(v); grt_xdecref(g); grt_xdecref(r);
    grt_xdecref((grt_object *)cs); grt_xdecref((grt_object *)cd);
    return rc;
}

/* Cycles whose members have finalizers and weakrefs with callbacks; both
 * allocate (and so may fail: the collector reports the error and goes on).
 * A full collection must find every cycle; ledgers count the calls. */
static int gc_fin_runs, gc_cb_runs;

static void gc_fin(grt_object *self)
{
    gc_fin_runs++;
    grt_object *scratch = grt_tuple_pack(1, self);   /* may fail: reported, ignored */
    grt_xdecref(scratch);
}

static void gc_cb(grt_object *ref, grt_object *data)
{
    (void)ref;
    gc_cb_runs++;
    grt_object *scratch = grt_list_new(3);           /* may fail likewise */
    if (scratch) grt_list_append(scratch, data);
    grt_xdecref(scratch);
}

static int s_gc(void)
{
    int rc = -1;
    grt_type *cls = NULL;
    grt_object *wrs = NULL, *a = NULL, *b = NULL, *wr = NULL, *objs = NULL, *n = NULL;
    int made = 0, weakrefs = 0;
    gc_fin_runs = gc_cb_runs = 0;
    FT_NN(cls, grt_class_new("fault.Fin", NULL));
    FT_OK(grt_class_set_finalizer(cls, gc_fin));
    FT_NN(wrs, grt_list_new(0));
    for (int i = 0; i < 12; i++) {
        FT_NN(a, grt_instance_new(cls));
        made++;
        FT_NN(b, grt_list_new(0));
        FT_OK(grt_list_append(b, a));
        FT_OK(grt_setattr(a, "peer", b));
        FT_NN(n, grt_int_new(100000 + i));          /* data: must not reach the cycle */
        FT_NN(wr, grt_weakref_new_ex(a, gc_cb, n));
        grt_clear(n);
        FT_OK(grt_list_append(wrs, wr));
        weakrefs++;                        /* kept alive: its callback must run */
        grt_clear(wr);
        grt_clear(a);
        grt_clear(b);
    }
    FT_NN(objs, grt_gc_get_objects(-1));
    FT_CHECK(grt_list_len(objs) >= 24);
    grt_clear(objs);
    FT_CHECK(grt_gc_collect(2) >= 24);
    FT_CHECK(gc_fin_runs == 12 && gc_cb_runs == 12);
    rc = 0;
out:
    grt_xdecref(wr);                       /* a weakref that dies first: no callback */
    grt_xdecref(a); grt_xdecref(b); grt_xdecref(objs); grt_xdecref(n);
    /* whatever was built is garbage now: the collector frees it, running the
     * finalizers and callbacks still due, each exactly once */
    grt_gc_collect(2);
    FT_CHECK(gc_fin_runs == made);
    FT_CHECK(gc_cb_runs == weakrefs);
    grt_xdecref(wrs);
    grt_xdecref((grt_object *)cls);
    return rc;
}

/* A thread creates objects into a list and exits; the main thread (another
 * thread: brc's non-owner) releases them afterwards. */
typedef struct handoff { grt_object *l; int made, failed; } handoff;

static void *handoff_worker(void *p)
{
    handoff *h = p;
    for (int i = 0; i < 30; i++) {
        grt_object *s = grt_str_new("made by a thread that will be gone");
        grt_object *e = s ? grt_list_new(0) : NULL;
        if (!s || !e || grt_list_append(e, s) != 0 || grt_list_append(h->l, e) != 0) {
            if (grt_err_occurred() != GRT_ERR_MEMORY)
                fault_die("a failed call in a thread set %s, not a MemoryError",
                          grt_err_kind_name(grt_err_occurred()));
            grt_err_clear();
            h->failed = 1;
            grt_xdecref(s);
            grt_xdecref(e);
            break;
        }
        grt_decref(s);
        grt_decref(e);
        h->made++;
    }
    return NULL;
}

static int s_threads(void)
{
    int rc = -1;
    handoff h = { 0 };
    pthread_t thr;
    FT_NN(h.l, grt_list_new(0));
    if (grt_thread_start(&thr, handoff_worker, &h) != 0)
        fault_die("grt_thread_start: %s", grt_err_message());
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    grt_safepoint();
    FT_CHECK(grt_list_len(h.l) == h.made);
    if (!h.failed) {
        FT_CHECK(h.made == 30);
        rc = 0;
    }
out:
    grt_xdecref(h.l);                  /* drops objects whose owner exited */
    grt_safepoint();
    return rc;
}

/* Strings: long ones, interning, repr of nested and recursive containers. */
static int s_strings(void)
{
    int rc = -1;
    grt_object *s = NULL, *i1 = NULL, *i2 = NULL, *l = NULL, *d = NULL, *r = NULL, *big = NULL;
    char buf[3000];
    memset(buf, 'x', sizeof buf);
    FT_NN(big, grt_str_from_len(buf, sizeof buf));
    FT_CHECK(grt_str_len(big) == (int64_t)sizeof buf);
    FT_NN(s, grt_str_new("fault-sweep"));
    FT_NN(i1, grt_str_intern("fault-sweep-interned"));
    FT_NN(i2, grt_str_intern("fault-sweep-interned"));
    FT_CHECK(i1 == i2);
    FT_NN(l, grt_list_new(0));
    FT_NN(d, grt_dict_new());
    FT_OK(grt_list_append(l, l));                      /* [[...]] */
    FT_OK(grt_list_append(l, d));
    FT_OK(grt_dict_set(d, s, l));
    FT_OK(grt_dict_set_str(d, "big", big));
    FT_NN(r, grt_repr(l));
    FT_CHECK(strstr(grt_str_data(r), "[...]") != NULL);
    FT_OK(grt_list_clear(l));                          /* break the cycle */
    rc = 0;
out:
    grt_xdecref(s); grt_xdecref(i1); grt_xdecref(i2); grt_xdecref(l); grt_xdecref(d);
    grt_xdecref(r); grt_xdecref(big);
    return rc;
}

/* Deep nesting (the trashcan) and big dicts with int keys (resizes). */
static int s_deep(void)
{
    int rc = -1;
    grt_object *top = NULL, *inner = NULL, *d = NULL, *k = NULL;
    FT_NN(top, grt_list_new(0));
    for (int i = 0; i < 300; i++) {
        FT_NN(inner, grt_list_new(0));
        FT_OK(grt_list_append(inner, top));
        grt_decref(top);
        top = inner;
        inner = NULL;
    }
    FT_NN(d, grt_dict_new());
    for (int i = 0; i < 300; i++) {
        FT_NN(k, grt_int_new(i * 7919));
        FT_OK(grt_dict_set(d, k, top));
        grt_clear(k);
    }
    FT_CHECK(grt_dict_len(d) == 300);
    rc = 0;
out:
    grt_xdecref(top); grt_xdecref(inner); grt_xdecref(d); grt_xdecref(k);
    return rc;
}

/* Raw buffers from grt_mem_malloc / grt_mem_realloc (allocations made inside
 * mem/ itself): growth by realloc keeps the contents, and a failed realloc
 * leaves the block as it was. */
static int s_raw(void)
{
    int rc = -1;
    unsigned char *buf = NULL, *small[8] = { NULL };
    grt_object *str = NULL;
    size_t len = 16;
    FT_NN(buf, grt_mem_malloc(len));
    memset(buf, 'r', len);
    while (len < 8192) {
        unsigned char *nb = grt_mem_realloc(buf, len * 2);
        if (!nb) {
            fault_expect_memory_error("grt_mem_realloc", __LINE__);
            for (size_t i = 0; i < len; i++)
                FT_CHECK(buf[i] == 'r');
            goto out;
        }
        buf = nb;
        memset(buf + len, 'r', len);
        len *= 2;
    }
    for (int i = 0; i < 8; i++) {
        FT_NN(small[i], grt_mem_malloc(24 + 64 * (size_t)i));
        memset(small[i], 'a' + i, 24 + 64 * (size_t)i);
    }
    FT_NN(str, grt_str_from_len((const char *)buf, 100));
    FT_CHECK(grt_str_len(str) == 100 && grt_str_data(str)[99] == 'r');
    FT_CHECK(small[7][24 + 64 * 7 - 1] == 'a' + 7);
    rc = 0;
out:
    grt_mem_free(buf);
    for (int i = 0; i < 8; i++)
        grt_mem_free(small[i]);
    grt_xdecref(str);
    return rc;
}

typedef struct fault_scenario {
    const char *name;
    int (*run)(void);
} fault_scenario;

static const fault_scenario scenarios[] = {
    { "containers", s_containers },
    { "instances", s_instances },
    { "gc", s_gc },
    { "threads", s_threads },
    { "strings", s_strings },
    { "deep", s_deep },
    { "raw", s_raw },
};

/* ---- the sweep -------------------------------------------------------------------------- */

static int64_t live_objects(void)
{
    grt_gc_collect(2);                 /* cycles go; brc queues are merged first */
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

static void check_after(const fault_scenario *s, int64_t baseline, const char *mode)
{
    if (grt_err_occurred())
        fault_die("the scenario left an error set (%s): %s", mode, grt_err_message());
    int64_t live = live_objects();
    if (live != baseline)
        fault_die("%s: %" PRId64 " objects leaked (live %" PRId64 ", expected %" PRId64 ")",
                  mode, live - baseline, live, baseline);
    /* the runtime keeps working: the same work, no failure, exact results */
    if (s->run() != 0)
        fault_die("%s: the clean run after the failure did not succeed", mode);
    live = live_objects();
    if (live != baseline)
        fault_die("%s: the clean run after the failure leaked %" PRId64 " objects", mode,
                  live - baseline);
}

static uint64_t sweep(const fault_scenario *s, uint64_t max_points, uint64_t only_point)
{
    fault_where = s->name;
    fault_point = 0;
    if (s->run() != 0)                 /* interned names, caches: settle first */
        fault_die("the scenario fails without any injected failure");
    int64_t baseline = live_objects();
    /* count: armed with a target that never comes, nothing fails */
    if (grt_mem_fail_at(INT64_MAX) != 0)
        fault_die("grt_mem_fail_at: %s", grt_err_message());
    uint64_t a0 = grt_mem_allocations_counted();
    if (s->run() != 0)
        fault_die("the scenario fails without any injected failure");
    uint64_t n = grt_mem_allocations_counted() - a0;
    grt_mem_fail_off();
    if (live_objects() != baseline)
        fault_die("the scenario leaks %" PRId64 " objects without any failure",
                  live_objects() - baseline);
    uint64_t inj0 = grt_mem_failures_injected(), runs = 0;
    uint64_t step = max_points && n > max_points ? (n + max_points - 1) / max_points : 1;
    for (uint64_t k = only_point ? only_point : 1; k <= n; k += step) {
        fault_point = k;
        if (grt_mem_fail_at((int64_t)k) != 0)
            fault_die("grt_mem_fail_at: %s", grt_err_message());
        s->run();
        grt_mem_fail_off();
        check_after(s, baseline, "fail at one allocation");
        runs++;
        if (only_point)
            break;
    }
    static const uint64_t every[] = { 2, 3, 5, 8, 13 };
    for (size_t i = 0; !only_point && i < sizeof every / sizeof every[0]; i++) {
        fault_point = every[i];
        if (grt_mem_fail_every((int64_t)every[i]) != 0)
            fault_die("grt_mem_fail_every: %s", grt_err_message());
        s->run();
        grt_mem_fail_off();
        check_after(s, baseline, "fail every n-th allocation");
        runs++;
    }
    uint64_t injected = grt_mem_failures_injected() - inj0;
    printf("fault[%s]: %-10s %5" PRIu64 " allocations, %5" PRIu64 " runs, %6" PRIu64
           " failures injected, 0 leaked\n", grt_variant(), s->name, n, runs, injected);
    fflush(stdout);
    return injected;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    uint64_t max_points = 0, point = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--scenario") && v) { only = v; i++; }
        else if (!strcmp(a, "--max-points")) { max_points = stress_parse_u64(argv[0], a, v, 1, UINT64_MAX); i++; }
        else if (!strcmp(a, "--point")) { point = stress_parse_u64(argv[0], a, v, 1, UINT64_MAX); i++; }
        else if (!strcmp(a, "--verbose")) fault_verbose = 1;
        else {
            fprintf(stderr, "usage: %s [--scenario NAME] [--max-points N] [--point K] [--verbose]\n"
                    "scenarios: containers instances gc threads strings deep raw\n", argv[0]);
            return 2;
        }
    }
    signal(SIGSEGV, fault_on_signal);
    signal(SIGABRT, fault_on_signal);
    signal(SIGBUS, fault_on_signal);
    grt_config cfg;
    if (grt_config_init(&cfg) != 0) {
        grt_err_print();
        return 2;
    }
    if (!getenv("GRT_MALLOC"))
        cfg.allocator = "malloc";      /* every object a malloc block: ASan sees them */
    if (grt_init(&cfg) != 0) {
        grt_err_print();
        return 2;
    }
    grt_gc_disable();                  /* collections only where the sweep asks */
    if (grt_mem_fail_is_armed()) {     /* GRT_MEM_FAIL_AT/EVERY: the sweep arms its own */
        fprintf(stderr, "%s: GRT_MEM_FAIL_AT / GRT_MEM_FAIL_EVERY ignored: the sweep injects "
                "its own failures (replay one with --scenario NAME --point K)\n", argv[0]);
        grt_mem_fail_off();
    }
    uint64_t injected = 0;
    int ran = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (only && strcmp(only, scenarios[i].name))
            continue;
        injected += sweep(&scenarios[i], max_points, point);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "%s: no scenario named '%s'\n", argv[0], only);
        return 2;
    }
    fault_where = "grt_fini";
    if (grt_fini() != 0)
        fault_die("grt_fini: %s", grt_err_message());
    grt_object_counts c = grt_object_counts_get();
    if (c.allocated != c.freed)
        fault_die("object ledger after grt_fini: %" PRIu64 " allocated, %" PRIu64 " freed",
                  c.allocated, c.freed);
    printf("fault[%s]: %d scenarios, %" PRIu64 " failures injected, 0 objects leaked "
           "(%" PRIu64 " allocated and freed)\n", GRT_VARIANT_NAME, ran, injected, c.allocated);
    return 0;                          /* LeakSanitizer checks the rest at exit */
}
