/*
 * bench/demos.c — the demos that run inside one variant's runner:
 *
 *   demo race  --kind refcount|list [--threads N] [--ops N]
 *   demo cow   [--objects N] [--children K] [--mode none|freeze|immortal]
 *   demo slots [--count N]
 *   demo seeds
 *
 * race, cow and slots print one JSON line that `gilrt demo` (tools/demo.c)
 * turns into words and tables, comparing variants; seeds prints its walk
 * itself.  bench/demo_seeds.c holds seeds.
 */
#define _GNU_SOURCE 1
#include "bench.h"
#include "args.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_CHECK(x, what) do { if (!(x)) bench_die_grt(what); } while (0)

#define DEMO "gilrt-bench-" GRT_VARIANT_NAME " demo"

int bench_demo_seeds(void);

typedef struct demo_opts {
    const char *kind, *mode;
    int64_t threads, ops, objects, children, count;
} demo_opts;

static void parse_opts(int argc, char **argv, demo_opts *o)
{
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--kind") && v) o->kind = v;
        else if (!strcmp(a, "--mode") && v) o->mode = v;
        else if (!strcmp(a, "--threads")) o->threads = bench_arg_int(DEMO, a, v, 1, BENCH_MAX_THREADS);
        else if (!strcmp(a, "--ops")) o->ops = bench_arg_int(DEMO, a, v, 1, BENCH_MAX_OPS);
        else if (!strcmp(a, "--objects")) o->objects = bench_arg_int(DEMO, a, v, 1, BENCH_MAX_OPS);
        else if (!strcmp(a, "--children")) o->children = bench_arg_int(DEMO, a, v, 1, 64);
        else if (!strcmp(a, "--count")) o->count = bench_arg_int(DEMO, a, v, 1, BENCH_MAX_OPS);
        else bench_die("demo: unknown or incomplete option '%s'", a);
    }
}

static void demo_init(void)
{
    if (grt_init(NULL) != 0)
        bench_die_grt("grt_init");
}

static void put(bench_json *j)
{
    puts(bench_json_end(j));
    fflush(stdout);
}

/* ---- race: what the GIL prevents --------------------------------------------------------
 *
 * refcount: T threads take `ops` references in all (ops / T each) to one
 * shared object and never drop them; its count must end at 1 + ops.  Plain increments from
 * two cores at once (unsafe) lose some: a load, an add and a store are three
 * steps, and two threads can load the same value.  Only increments are done,
 * so the object is never freed early and the demo cannot crash itself.
 * list: T threads append `ops` items in all to one shared list; without the
 * list's lock (unsafe) two appends can write the same slot, and two resizes
 * can race (the process may crash: `gilrt demo race` reports that too). */

typedef struct race_ctx {
    grt_object *obj;
    int64_t ops;
    int list;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready, go;
    int nthreads;
    uint32_t xarrived;                       /* atomic: threads past the gate */
} race_ctx;

static void *race_thread(void *arg)
{
    race_ctx *c = arg;
    if (grt_attach() != 0)
        bench_die_grt("grt_attach");
    grt_detach();                            /* wait for the others without the GIL */
    pthread_mutex_lock(&c->lock);
    c->ready++;
    pthread_cond_broadcast(&c->cond);
    while (!c->go)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    grt_attach_blocking();
    if (!grt_gil_enabled()) {
        /* Spin until every thread is running, so that they overlap even on a
         * busy machine (a condition variable wakes them one by one).  Not with
         * a GIL: the others could not attach while we spin holding it. */
        grt_atomic_add_32(&c->xarrived, 1);
        while (grt_atomic_load_32(&c->xarrived) < (uint32_t)c->nthreads)
            grt_atomic_pause();
    }
    grt_object *one = grt_int_new(1);        /* immortal: never raced on */
    for (int64_t i = 0; i < c->ops; i++) {
        if (c->list)
            BENCH_CHECK(grt_list_append(c->obj, one) == 0, "grt_list_append");
        else
            grt_incref(c->obj);
        BENCH_OPAQUE(c->obj);                /* one store per update, as an interpreter does */
        if ((i & 63) == 63)
            grt_safepoint();
    }
    grt_thread_exit();
    return NULL;
}

static int demo_race(const demo_opts *o)
{
    const char *kind = o->kind ? o->kind : "refcount";
    int list = !strcmp(kind, "list");
    if (!list && strcmp(kind, "refcount") != 0)
        bench_die("demo race: --kind refcount or list (got '%s'); the collector race is "
                  "stress/race-<variant> --kind collector", kind);
    int nthreads = (int)(o->threads ? o->threads : 2);
    int64_t total = o->ops ? o->ops : 10000000;       /* all threads together */
    race_ctx c = { .ops = (total + nthreads - 1) / nthreads, .list = list, .nthreads = nthreads };
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    demo_init();
    BENCH_CHECK(c.obj = list ? grt_list_new(0) : grt_int_new(123456789), "demo race");
    pthread_t *tids = calloc((size_t)c.nthreads, sizeof *tids);
    if (!tids)
        bench_die("out of memory");
    for (int i = 0; i < c.nthreads; i++)
        if (pthread_create(&tids[i], NULL, race_thread, &c) != 0)
            bench_die("pthread_create failed");
    grt_detach();
    pthread_mutex_lock(&c.lock);
    while (c.ready < c.nthreads)
        pthread_cond_wait(&c.cond, &c.lock);
    c.go = 1;
    pthread_cond_broadcast(&c.cond);
    pthread_mutex_unlock(&c.lock);
    for (int i = 0; i < c.nthreads; i++)
        pthread_join(tids[i], NULL);
    grt_attach_blocking();
    int64_t expected = c.ops * c.nthreads;
    int64_t got = list ? grt_list_len(c.obj) : grt_refcnt(c.obj) - 1;
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "kind", kind);
    bench_json_str(&j, "variant", grt_variant());
    bench_json_str(&j, "gil", grt_gil_policy());
    bench_json_int(&j, "threads", c.nthreads);
    bench_json_int(&j, "ops", expected);
    bench_json_int(&j, "lost_updates", list ? 0 : expected - got);
    bench_json_int(&j, "lost_items", list ? expected - got : 0);
    bench_json_null(&j, "premature_frees");  /* measured by stress/race-<variant> only */
    bench_json_str(&j, "source", "gilrt-bench");
    put(&j);
    free(tids);
    return 0;                                /* the object is left to the OS: its count may be wrong */
}

/* ---- cow: fork children over a large heap (Instagram's gc.freeze story) ---------------------
 *
 * The parent builds `objects` lists [i] and (mode freeze / immortal) freezes
 * them, then forks children that each read every list (an incref and a
 * decref, as touching a Python object does) and run a full collection.  A
 * page the child writes is copied for it: its Private_Dirty grows.  The
 * collector writes the GC headers of the objects it examines, and reference
 * counting writes every object read — freeze stops the first, only
 * immortality stops the second. */

static int64_t private_dirty_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        bench_die("demo cow: cannot read /proc/self/smaps_rollup: %s", strerror(errno));
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Private_Dirty: %lld kB", &kb) == 1)
            break;
    fclose(f);
    if (kb < 0)
        bench_die("demo cow: no Private_Dirty line in /proc/self/smaps_rollup");
    return kb;
}

static __attribute__((noreturn)) void cow_child(grt_object *all, int64_t n, int fd)
{
    int64_t before = private_dirty_kb();
    for (int64_t i = 0; i < n; i++) {
        grt_object *l = grt_list_get(all, i);   /* incref */
        BENCH_CHECK(l, "grt_list_get");
        grt_decref(l);                           /* decref */
        if ((i & 1023) == 0)
            grt_safepoint();
    }
    BENCH_CHECK(grt_gc_collect(2) >= 0, "grt_gc_collect");
    int64_t after = private_dirty_kb();
    int64_t delta = after - before;
    if (write(fd, &delta, sizeof delta) != (ssize_t)sizeof delta)
        _exit(3);
    _exit(0);
}

static int demo_cow(const demo_opts *o)
{
    int64_t n = o->objects ? o->objects : 1000000, kids = o->children ? o->children : 4;
    const char *mode = o->mode ? o->mode : "none";
    unsigned flags;
    if (!strcmp(mode, "none")) flags = 0;
    else if (!strcmp(mode, "freeze")) flags = 0;
    else if (!strcmp(mode, "immortal")) flags = GRT_GC_FREEZE_IMMORTAL;
    else bench_die("demo cow: --mode none, freeze or immortal (got '%s')", mode);
    /* kids <= 64: parse_opts */
    demo_init();
    grt_object *all = grt_list_new(0);
    BENCH_CHECK(all, "grt_list_new");
    for (int64_t i = 0; i < n; i++) {
        grt_object *v = grt_int_new(1000 + i), *l = grt_list_new(1);
        BENCH_CHECK(v && l, "grt_list_new");
        BENCH_CHECK(grt_list_set(l, 0, v) == 0 && grt_list_append(all, l) == 0, "grt_list_append");
        grt_decref(v);
        grt_decref(l);
        if ((i & 1023) == 0)
            grt_safepoint();
    }
    BENCH_CHECK(grt_gc_collect(2) >= 0, "grt_gc_collect");
    if (strcmp(mode, "none") != 0)
        BENCH_CHECK(grt_gc_freeze(flags) == 0, "grt_gc_freeze");
    int64_t frozen = grt_gc_get_freeze_count();
    int fds[64];
    pid_t pids[64];
    fflush(stdout);
    for (int64_t k = 0; k < kids; k++) {
        int p[2];
        if (pipe(p) != 0)
            bench_die("pipe: %s", strerror(errno));
        pid_t pid = grt_fork();
        if (pid < 0)
            bench_die("fork: %s", strerror(errno));
        if (pid == 0) {
            close(p[0]);
            cow_child(all, n, p[1]);
        }
        close(p[1]);
        fds[k] = p[0];
        pids[k] = pid;
    }
    grt_detach();                            /* the parent only waits: it writes nothing */
    char arr[64 * 24] = "[";
    double sum = 0;
    int failed = 0;
    for (int64_t k = 0; k < kids; k++) {
        int64_t kb = -1;
        ssize_t r;
        while ((r = read(fds[k], &kb, sizeof kb)) < 0 && errno == EINTR)
            ;
        if (r != (ssize_t)sizeof kb)
            failed = 1;
        close(fds[k]);
        int st;
        while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
        size_t l = strlen(arr);
        snprintf(arr + l, sizeof arr - l, "%s%lld", k ? "," : "", (long long)kb);
        sum += (double)kb;
    }
    grt_attach_blocking();
    if (failed)
        bench_die("demo cow: a child failed");
    strncat(arr, "]", sizeof arr - strlen(arr) - 1);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "demo", "cow");
    bench_json_str(&j, "variant", grt_variant());
    bench_json_str(&j, "mode", mode);
    bench_json_int(&j, "objects", n);
    bench_json_int(&j, "frozen", frozen);
    bench_json_int(&j, "children", kids);
    bench_json_raw(&j, "private_dirty_kb", arr);
    bench_json_num(&j, "mean_mb", sum / (double)kids / 1024.0);
    put(&j);
    grt_decref(all);
    return grt_fini() == 0 ? 0 : 1;
}

/* ---- slots: bytes per instance, dict-backed versus slots ---------------------------------- */

static size_t bytes_in_blocks(void)
{
    struct grt_mem_stats st;
    BENCH_CHECK(grt_mem_stats(&st) == 0, "grt_mem_stats");
    return st.bytes_in_blocks;
}

/* Bytes the allocator holds per object for n objects made by make(i). */
static double per_object(int64_t n, grt_object *(*make)(void *, int64_t), void *arg)
{
    grt_object **keep = calloc((size_t)n, sizeof *keep);     /* outside gilrt's heap */
    if (!keep)
        bench_die("out of memory");
    size_t before = bytes_in_blocks();
    for (int64_t i = 0; i < n; i++)
        BENCH_CHECK(keep[i] = make(arg, i), "demo slots");
    size_t after = bytes_in_blocks();
    for (int64_t i = 0; i < n; i++)
        grt_decref(keep[i]);
    free(keep);
    return ((double)after - (double)before) / (double)n;
}

static grt_object *make_instance(void *cls, int64_t i)
{
    grt_object *o = grt_instance_new(cls), *x = grt_int_new(i & 255), *y = grt_int_new(1);
    int ok = o && grt_setattr(o, "x", x) == 0 && grt_setattr(o, "y", y) == 0;
    grt_decref(x);                           /* small ints: immortal, the values cost nothing */
    grt_decref(y);
    return ok ? o : NULL;
}

static grt_object *make_list(void *unused, int64_t i)
{
    (void)unused;
    grt_object *l = grt_list_new(1), *v = grt_int_new(1000 + i);
    if (!l || !v || grt_list_set(l, 0, v) != 0)
        return NULL;
    grt_decref(v);
    return l;
}

static int demo_slots(const demo_opts *o)
{
    int64_t n = o->count ? o->count : 100000;
    demo_init();
    grt_gc_disable();                        /* keep collections out of the byte counts */
    static const char *const xy[] = { "x", "y", NULL };
    grt_type *dcls = grt_class_new("Point", NULL), *scls = grt_class_new("SlotPoint", xy);
    BENCH_CHECK(dcls && scls, "grt_class_new");
    grt_object *d1 = make_instance(dcls, 1), *s1 = make_instance(scls, 1);
    BENCH_CHECK(d1 && s1, "grt_instance_new");
    size_t dsize = grt_instance_size(d1), ssize = grt_instance_size(s1);
    grt_decref(d1);
    grt_decref(s1);
    double dper = per_object(n, make_instance, dcls);
    double sper = per_object(n, make_instance, scls);
    double lper = per_object(n < 1000000 ? 1000000 : n, make_list, NULL);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "demo", "slots");
    bench_json_str(&j, "variant", grt_variant());
    bench_json_str(&j, "allocator", grt_mem_allocator());
    bench_json_int(&j, "header_bytes", grt_object_header_size());
    bench_json_int(&j, "instances", n);
    bench_json_int(&j, "dict_instance_size", (int64_t)dsize);
    bench_json_int(&j, "slots_instance_size", (int64_t)ssize);
    bench_json_num(&j, "dict_bytes_per_instance", dper);
    bench_json_num(&j, "slots_bytes_per_instance", sper);
    bench_json_int(&j, "lists", n < 1000000 ? 1000000 : n);
    bench_json_num(&j, "list_bytes_per_object", lper);
    put(&j);
    grt_decref(&dcls->ob_base);
    grt_decref(&scls->ob_base);
    grt_gc_enable();
    return grt_fini() == 0 ? 0 : 1;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

int bench_demo(int argc, char **argv)
{
    const char *name = argc > 0 ? argv[0] : "help";
    demo_opts o = {0};
    if (!strcmp(name, "help") || !strcmp(name, "--help")) {
        printf("demos inside gilrt-bench-%s (`gilrt demo NAME` runs them across variants):\n"
               "  race  --kind refcount|list [--threads N] [--ops N in all]   lost updates/items, JSON\n"
               "  cow   [--objects N] [--children K] [--mode none|freeze|immortal]  Private_Dirty, JSON\n"
               "  slots [--count N]   bytes per instance, dict versus slots; per [i] list, JSON\n"
               "  seeds               the seed documents' examples, step by step\n",
               GRT_VARIANT_NAME);
        return 0;
    }
    parse_opts(argc - 1, argv + 1, &o);
    if (!strcmp(name, "race"))
        return demo_race(&o);
    if (!strcmp(name, "cow"))
        return demo_cow(&o);
    if (!strcmp(name, "slots"))
        return demo_slots(&o);
    if (!strcmp(name, "seeds"))
        return bench_demo_seeds();
    bench_die("unknown demo '%s' (race, cow, slots, seeds; `demo help`)", name);
}
