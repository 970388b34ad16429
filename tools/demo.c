/*
 * tools/demo.c — `gilrt demo NAME`: one idea made visible, in plain words
 * with its numbers.  Each demo runs the programs of the right variants
 * (the runners' `demo` and `run` commands, the stress suite's race programs,
 * the GIL issue's convoy experiment) and explains what came out.
 */
#define _GNU_SOURCE 1
#include "config.h"
#include "demo.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- what the demos share (tools/demo.h) ------------------------------------------------- */

/* 0 if every name of the comma-separated list is a variant (gil, atomic,
 * brc, unsafe); else a message, -1. */
static int demo_check_variants(const char *opt, const char *list)
{
    int n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (!gilrt_variant_known(p, len)) {
            fprintf(stderr, "gilrt demo: %s: unknown variant '%.*s' (the variants: gil, atomic, "
                    "brc, unsafe)\n", opt, (int)len, p);
            return -1;
        }
        n++;
        p += len + (p[len] == ',');
    }
    if (n == 0) {
        fprintf(stderr, "gilrt demo: %s: no variant named\n", opt);
        return -1;
    }
    return 0;
}

/* The whole of v as an integer in [min, max] into *out: 0, else -1. */
static int demo_long(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

int demo_parse(int argc, char **argv, demo_opts *o, unsigned allowed, const char *usage)
{
    static const struct { const char *name; unsigned flag; } opts[] = {
        { "--variants", DEMO_OPT_VARIANTS }, { "--variant", DEMO_OPT_VARIANT },
        { "--threads", DEMO_OPT_THREADS }, { "--seconds", DEMO_OPT_SECONDS },
        { "--ops", DEMO_OPT_OPS }, { "--objects", DEMO_OPT_OBJECTS },
        { "--children", DEMO_OPT_CHILDREN }, { "--count", DEMO_OPT_COUNT },
        { "--repeat", DEMO_OPT_REPEAT }, { "--", DEMO_OPT_REST },
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        }
        unsigned flag = 0;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (!strcmp(a, opts[k].name))
                flag = opts[k].flag;
        if (!flag) {
            fprintf(stderr, "gilrt demo: unknown option '%s'\n%s", a, usage);
            return -1;
        }
        if (!(flag & allowed)) {
            fprintf(stderr, "gilrt demo: this demo takes no %s option\n%s", a, usage);
            return -1;
        }
        if (flag == DEMO_OPT_REST) {
            o->rest = argv + i + 1;
            o->nrest = argc - i - 1;
            return 0;
        }
        if (!v) {
            fprintf(stderr, "gilrt demo: '%s' needs a value\n%s", a, usage);
            return -1;
        }
        char *end = NULL;
        switch (flag) {
        case DEMO_OPT_VARIANTS:
        case DEMO_OPT_VARIANT:
            if (flag == DEMO_OPT_VARIANT && strchr(v, ',')) {
                fprintf(stderr, "gilrt demo: %s: one variant, got '%s'\n", a, v);
                return -1;
            }
            if (demo_check_variants(a, v) != 0)
                return -1;
            *(flag == DEMO_OPT_VARIANTS ? &o->variants : &o->variant) = v;
            break;
        case DEMO_OPT_THREADS: {
            int t[32];
            if (gilrt_parse_int_list(v, t, 32, a) < 0)
                return -1;
            o->threads = v;
            break;
        }
        case DEMO_OPT_SECONDS:
            o->seconds = strtod(v, &end);
            if (*end || !(o->seconds > 0) || o->seconds > 3600)
                goto bad;
            break;
        case DEMO_OPT_REPEAT: {
            long r;
            if (demo_long(v, 1, 32, &r) != 0)
                goto bad;
            o->repeat = (int)r;
            break;
        }
        default: {
            long *dst = flag == DEMO_OPT_OPS ? &o->ops : flag == DEMO_OPT_OBJECTS ? &o->objects
                      : flag == DEMO_OPT_CHILDREN ? &o->children : &o->count;
            if (demo_long(v, 1, flag == DEMO_OPT_CHILDREN ? 64 : (long)1 << 40, dst) != 0)
                goto bad;
        }
        }
        i++;
        continue;
    bad:
        fprintf(stderr, "gilrt demo: %s: bad value '%s'\n%s", a, v, usage);
        return -1;
    }
    return 0;
}

int demo_pick_variants(const char *list, const char *def, char names[][16], int max)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : def);
    int n = 0;
    for (char *save = NULL, *s = strtok_r(buf, ",", &save); s && n < max; s = strtok_r(NULL, ",", &save)) {
        char path[PATH_MAX];
        if (!gilrt_runner(s, path, sizeof path)) {
            fprintf(stderr, "gilrt demo: note: no runner for variant '%s' (%s), skipped\n", s, path);
            continue;
        }
        snprintf(names[n++], 16, "%s", s);
    }
    if (n == 0)
        fprintf(stderr, "gilrt demo: no runner found in %s (build with make, or set GRT_BENCH_DIR)\n",
                gilrt_bench_dir());
    return n;
}

int demo_run_json(char **argv, double timeout, jobj *o, char *why, size_t n)
{
    spawn_result r;
    memset(o, 0, sizeof *o);
    if (spawn_run(argv, timeout, 0, &r) != 0) {
        snprintf(why, n, "could not start %s", argv[0]);
        return -1;
    }
    int rc = -1;
    if (r.exited && r.code == 0 && json_parse(r.out, o) == 0)
        rc = 0;
    else if (r.exited && r.code == 0)
        snprintf(why, n, "unreadable output: %.200s", r.out);
    else
        spawn_describe(&r, why, n);
    spawn_free(&r);
    return rc;
}

const char *demo_commas(double v, char *b, size_t n)
{
    if (!isfinite(v)) {
        snprintf(b, n, "?");
        return b;
    }
    char raw[64];
    snprintf(raw, sizeof raw, "%.0f", fabs(v));
    size_t len = strlen(raw), k = 0;
    if (v < 0 && k + 1 < n) b[k++] = '-';
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        b[k++] = raw[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            b[k++] = ',';
    }
    b[k] = '\0';
    return b;
}

void demo_status(const char *fmt, ...)
{
    if (!isatty(2))
        return;
    fputs("\r\033[K", stderr);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fflush(stderr);
}

/* ---- mp ------------------------------------------------------------------------------------- */

static const char mp_usage[] =
    "usage: gilrt demo mp [--threads LIST] [--seconds S] [--repeat N]\n"
    "  The same CPU-bound work (mp_vs_mt: build a list of 8 ints, sum it) at T = 1..N:\n"
    "  gil with T threads, gil with T forked processes (each its own runtime and GIL,\n"
    "  like multiprocessing), atomic and brc with T threads.\n"
    "  --threads (default 1..cores, at least 1,2) --seconds per run (default 0.5)\n"
    "  --repeat runs per point, median (default 3)\n";

static double median3(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
        }
    return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int demo_mp(int argc, char **argv)
{
    demo_opts o = {0};
    if (demo_parse(argc, argv, &o, DEMO_OPT_THREADS | DEMO_OPT_SECONDS | DEMO_OPT_REPEAT, mp_usage) != 0)
        return 2;
    int ts[32], nt;
    if (o.threads) {
        if ((nt = gilrt_parse_int_list(o.threads, ts, 32, "--threads")) < 0)
            return 2;
    } else {
        int cores = gilrt_cores();
        nt = cores < 2 ? 2 : cores > 32 ? 32 : cores;
        for (int i = 0; i < nt; i++)
            ts[i] = i + 1;
    }
    int reps = o.repeat ? o.repeat : 3;
    char secs[32];
    snprintf(secs, sizeof secs, "%g", o.seconds > 0 ? o.seconds : 0.5);
    static const char *const vars[] = { "gil", "atomic", "brc" };
    double res[32][4];                       /* gil threads, gil procs, atomic, brc */
    for (int t = 0; t < nt; t++)
        for (int c = 0; c < 4; c++)
            res[t][c] = NAN;
    double busy = gilrt_busy();
    printf("mp: multiprocess versus multithread (%d core%s, %.1f other threads ready to run)\n",
           gilrt_cores(), gilrt_cores() == 1 ? "" : "s", busy);
    if (busy >= 0.5)
        printf("note: other processes are using the cores: nothing can scale much, processes\n"
               "included; run it on an idle machine to see the difference.\n");
    for (int t = 0; t < nt; t++)
        for (int v = 0; v < 3; v++) {
            char runner[PATH_MAX], th[16], why[400];
            if (!gilrt_runner(vars[v], runner, sizeof runner))
                continue;
            snprintf(th, sizeof th, "%d", ts[t]);
            char *args[] = { runner, "run", "mp_vs_mt", "--threads", th, "--seconds", secs, NULL };
            double a[32], b[32];
            int n = 0;
            for (int r = 0; r < reps; r++) {
                demo_status("gilrt demo mp: %s, %d thread%s, run %d of %d", vars[v], ts[t], ts[t] == 1 ? "" : "s",
                       r + 1, reps);
                jobj j;
                if (demo_run_json(args, 120, &j, why, sizeof why) != 0) {
                    fprintf(stderr, "\ngilrt demo mp: %s at %d: %s\n", vars[v], ts[t], why);
                    continue;
                }
                a[n] = json_num(&j, "ops_per_s");
                b[n++] = json_num(&j, "extra.mp_ops_per_s");
                json_free(&j);
            }
            if (v == 0) {
                res[t][0] = median3(a, n);
                res[t][1] = median3(b, n);
            } else {
                res[t][v + 1] = median3(a, n);
            }
        }
    demo_status(NULL);
    int base = 0;                            /* the ratios' base: T=1, else the first T */
    for (int t = nt - 1; t >= 0; t--)
        if (ts[t] == 1)
            base = t;
    printf("ops/s (one op = build an 8-int list, sum it, free it), median of %d; (x) = speedup over T=%d\n",
           reps, ts[base]);
    printf("  %3s  %-18s %-18s %-18s %-18s\n", "T", "gil threads", "gil processes", "atomic threads", "brc threads");
    for (int t = 0; t < nt; t++) {
        printf("  %3d ", ts[t]);
        for (int c = 0; c < 4; c++) {
            char num[32], cell[40];
            snprintf(cell, sizeof cell, "%s (%.2fx)", fmt_si(res[t][c], num, sizeof num), res[t][c] / res[base][c]);
            printf(" %-18s", isfinite(res[t][c]) ? cell : "-");
        }
        putchar('\n');
    }
    printf("\nWith the GIL, threads take turns: more threads, the same throughput.  Processes\n"
           "each have their own runtime and GIL and scale with cores, at the price of\n"
           "separate heaps (objects cross between them only by copying).  atomic and brc\n"
           "run threads in parallel in one heap: they scale like processes while sharing\n"
           "objects, paying instead in the single-thread cost of their refcounts.\n");
    return 0;
}

/* ---- cow ------------------------------------------------------------------------------------ */

static const char cow_usage[] =
    "usage: gilrt demo cow [--variants LIST] [--objects N] [--children K]\n"
    "  The parent builds N lists [i] (default 1000000) and forks K children (default 4).\n"
    "  Each child reads every list (incref + decref) and runs a full collection; its\n"
    "  Private_Dirty (/proc/self/smaps_rollup) grows by every page it writes.  Three\n"
    "  ways: no freeze; grt_gc_freeze(0) before fork (CPython's gc.freeze); and\n"
    "  grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL), which also makes the objects immortal.\n"
    "  --variants (default gil,atomic,brc)\n";

static int demo_cow(int argc, char **argv)
{
    demo_opts o = {0};
    if (demo_parse(argc, argv, &o, DEMO_OPT_VARIANTS | DEMO_OPT_OBJECTS | DEMO_OPT_CHILDREN, cow_usage) != 0)
        return 2;
    char vs[8][16];
    int nv = demo_pick_variants(o.variants, "gil,atomic,brc", vs, 8);
    if (!nv)
        return 1;
    char objs[32], kids[16];
    snprintf(objs, sizeof objs, "%ld", o.objects ? o.objects : 1000000);
    snprintf(kids, sizeof kids, "%ld", o.children ? o.children : 4);
    static const char *const modes[] = { "none", "freeze", "immortal" };
    printf("cow: fork %s children over %s live lists; each child reads every list and runs\n"
           "a full collection.  Memory each child copied (Private_Dirty), mean (min-max) of the children:\n",
           kids, objs);
    printf("  %-8s %-22s %-22s %-22s %s\n", "variant", "no freeze", "freeze", "freeze+immortal",
           "cut by immortal");
    int bad = 0;
    for (int i = 0; i < nv; i++) {
        char runner[PATH_MAX];
        gilrt_runner(vs[i], runner, sizeof runner);
        double mean[3] = { NAN, NAN, NAN };
        printf("  %-8s", vs[i]);
        fflush(stdout);
        for (int m = 0; m < 3; m++) {
            char *args[] = { runner, "demo", "cow", "--mode", (char *)modes[m], "--objects", objs,
                             "--children", kids, NULL };
            jobj j;
            char why[400], cell[64];
            if (demo_run_json(args, 600, &j, why, sizeof why) != 0) {
                printf(" %-22s", "failed");
                fprintf(stderr, "gilrt demo cow: %s %s: %s\n", vs[i], modes[m], why);
                bad = 1;
                continue;
            }
            mean[m] = json_num(&j, "mean_mb");
            double lo = INFINITY, hi = -INFINITY;
            const char *arr = json_str(&j, "private_dirty_kb");
            for (const char *s = arr; *s; ) {
                char *end;
                double kb = strtod(s, &end);
                if (end != s) {
                    lo = kb < lo ? kb : lo;
                    hi = kb > hi ? kb : hi;
                    s = end;
                } else {
                    s++;
                }
            }
            if (hi < 10 * 1024)                  /* small: say it in kB */
                snprintf(cell, sizeof cell, "%.0f kB (%.0f-%.0f)", mean[m] * 1024, lo, hi);
            else
                snprintf(cell, sizeof cell, "%.1f MB (%.1f-%.1f)", mean[m], lo / 1024, hi / 1024);
            printf(" %-22s", cell);
            fflush(stdout);
            json_free(&j);
        }
        if (isfinite(mean[0]) && isfinite(mean[2]) && mean[0] > 0)
            printf(" %.1f%%", 100 * (1 - mean[2] / mean[0]));
        putchar('\n');
    }
    printf("\nA forked child shares the parent's pages until it writes one.  Without freeze\n"
           "the child's collection writes the collector header of every object it examines,\n"
           "and reading an object writes its reference count: nearly every page is copied.\n"
           "freeze moves the objects to a permanent generation the collector never touches,\n"
           "but reading still writes the counts (CPython's gc.freeze cuts nothing for reads).\n"
           "freeze + immortalize also makes incref/decref skip them: pages stay shared.\n");
    return bad;
}

/* ---- slots ---------------------------------------------------------------------------------- */

static const char slots_usage[] =
    "usage: gilrt demo slots [--variants LIST] [--count N]\n"
    "  Bytes per instance of a class with attributes x and y kept in a dict versus in\n"
    "  fixed slots (like __slots__), from grt_instance_size and the allocator's\n"
    "  statistics over N instances (default 100000); and bytes per [i] list for\n"
    "  1,000,000 lists, against CPython's 112 (GIL) and 132 (free-threaded).\n"
    "  --variants (default gil,atomic,brc)\n";

static int demo_slots(int argc, char **argv)
{
    demo_opts o = {0};
    if (demo_parse(argc, argv, &o, DEMO_OPT_VARIANTS | DEMO_OPT_COUNT, slots_usage) != 0)
        return 2;
    char vs[8][16];
    int nv = demo_pick_variants(o.variants, "gil,atomic,brc", vs, 8);
    if (!nv)
        return 1;
    char count[32];
    snprintf(count, sizeof count, "%ld", o.count ? o.count : 100000);
    printf("slots: bytes per instance with attributes x, y (values are small ints, not counted)\n");
    printf("  %-8s %6s  %-22s %-22s %7s  %-16s %s\n", "variant", "header", "dict-backed",
           "slots", "saved", "[i] list", "CPython [i]");
    int bad = 0;
    for (int i = 0; i < nv; i++) {
        char runner[PATH_MAX], why[400];
        gilrt_runner(vs[i], runner, sizeof runner);
        char *args[] = { runner, "demo", "slots", "--count", count, NULL };
        jobj j;
        if (demo_run_json(args, 300, &j, why, sizeof why) != 0) {
            printf("  %-8s failed: %s\n", vs[i], why);
            bad = 1;
            continue;
        }
        double dsz = json_num(&j, "dict_instance_size"), ssz = json_num(&j, "slots_instance_size");
        double dper = json_num(&j, "dict_bytes_per_instance"), sper = json_num(&j, "slots_bytes_per_instance");
        double lper = json_num(&j, "list_bytes_per_object");
        int ft = strcmp(vs[i], "gil") != 0 && strcmp(vs[i], "unsafe") != 0;
        char d[40], s[40], l[40];
        snprintf(d, sizeof d, "%.0f B (alloc %.0f B)", dsz, dper);
        snprintf(s, sizeof s, "%.0f B (alloc %.0f B)", ssz, sper);
        snprintf(l, sizeof l, "%.0f B", lper);
        printf("  %-8s %4.0f B  %-22s %-22s %6.0f%%  %-16s %d B (%s)\n", vs[i], json_num(&j, "header_bytes"),
               d, s, 100 * (1 - sper / dper), l, ft ? 132 : 112, ft ? "free-threaded" : "GIL");
        json_free(&j);
    }
    printf("\nThe first figure is grt_instance_size (object, collector header, slots or dict\n"
           "and its table); \"alloc\" is what the allocator handed out per instance, size\n"
           "classes rounded.  A dict-backed instance carries a whole hash table for two\n"
           "attributes; a slots instance keeps two pointers.  The [i] list figure counts the\n"
           "list, its item array and the int, as CPython's 112/132 bytes do.\n");
    return bad;
}

/* ---- convoy, seeds: run a program and let it speak -------------------------------------------- */

static const char convoy_usage[] =
    "usage: gilrt demo convoy [--variant V] [-- ARGS for the convoy program]\n"
    "  The GIL issue's experiment, bench/convoy-<variant>: one CPU-bound thread next to\n"
    "  an I/O-bound thread doing short blocking waits; the I/O thread's extra latency\n"
    "  per GIL policy.  --variant gil, atomic or brc (default gil).  Without ARGS it runs\n"
    "  the latency part (--only=latency); `gilrt demo convoy -- --help` shows the\n"
    "  program's own options (throughput per policy, an 8-thread no-starvation run, ...).\n";

static const char seeds_usage[] =
    "usage: gilrt demo seeds [--variant V]\n"
    "  The seed documents' examples step by step: x = 300; y = 300, del, the Node\n"
    "  cycle, container.append(container), thresholds and counts, World/Animal with a\n"
    "  weak reference; refcounts and collection results at each step.\n"
    "  --variant (default gil)\n";

static int run_passthrough(char **args, double timeout)
{
    spawn_result r;
    if (spawn_run(args, timeout, 1, &r) != 0)
        return 1;
    if (!r.exited || r.code != 0) {
        char why[400];
        fprintf(stderr, "gilrt demo: %s: %s\n", args[0], spawn_describe(&r, why, sizeof why));
        return 1;
    }
    return 0;
}

static int demo_convoy(int argc, char **argv)
{
    demo_opts o = {0};
    if (demo_parse(argc, argv, &o, DEMO_OPT_VARIANT | DEMO_OPT_REST, convoy_usage) != 0)
        return 2;
    const char *v = o.variant ? o.variant : "gil";
    if (!strcmp(v, "unsafe")) {
        /* convoy measures GIL policies; unsafe has none to measure */
        fprintf(stderr, "gilrt demo convoy: --variant unsafe: the convoy experiment is built "
                "for gil, atomic and brc only (unsafe has no GIL policy to compare)\n");
        return 2;
    }
    char name[64], prog[PATH_MAX];
    snprintf(name, sizeof name, "convoy-%.15s", v);
    if (!gilrt_sibling("bench", name, prog, sizeof prog)) {
        printf("convoy: the convoy experiment (bench/convoy-%s, built by the GIL's part of the\n"
               "tree from bench/convoy.c) was not found here (looked for %s).  Build it with\n"
               "`make bench/convoy-%s`; until then see `gilrt-bench-%s run stw` for how long\n"
               "a thread waits for the others to reach a safepoint.\n", v, prog, v, v);
        return 1;
    }
    char *args[64];
    int n = 0;
    args[n++] = prog;
    if (o.nrest == 0)
        args[n++] = "--only=latency";        /* the I/O latency part; `-- ARGS` for the rest */
    for (int i = 0; i < o.nrest && n < 63; i++)
        args[n++] = o.rest[i];
    args[n] = NULL;
    printf("convoy: I/O latency next to a CPU-bound thread, per GIL policy (%s)\n\n", prog);
    return run_passthrough(args, 900);
}

static int demo_seeds(int argc, char **argv)
{
    demo_opts o = {0};
    if (demo_parse(argc, argv, &o, DEMO_OPT_VARIANT, seeds_usage) != 0)
        return 2;
    char runner[PATH_MAX];
    const char *v = o.variant ? o.variant : "gil";
    if (!gilrt_runner(v, runner, sizeof runner)) {
        fprintf(stderr, "gilrt demo seeds: no runner for variant '%s' (%s)\n", v, runner);
        return 1;
    }
    char *args[] = { runner, "demo", "seeds", NULL };
    return run_passthrough(args, 120);
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

int gilrt_demo(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } demos[] = {
        { "race", demo_race }, { "mp", demo_mp }, { "cow", demo_cow },
        { "convoy", demo_convoy }, { "slots", demo_slots }, { "seeds", demo_seeds },
    };
    const char *name = argc > 0 ? argv[0] : "";
    for (size_t i = 0; i < sizeof demos / sizeof demos[0]; i++)
        if (!strcmp(demos[i].name, name))
            return demos[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "gilrt demo: %s'%s'; the demos are race, mp, cow, convoy, slots, seeds "
            "(gilrt --help says what each shows)\n", *name ? "unknown demo " : "which demo? ", name);
    return 2;
}
