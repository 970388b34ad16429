/*
 * tools/compare.c — `gilrt compare`: every workload on every variant at
 * 1..N threads, each point repeated, medians and spread.
 *
 * Order of the runs: repetition-major (all points once, then all points
 * again, ...), so that a burst of noise on a shared machine lands on one
 * sample of many points instead of every sample of one point, and so that
 * the runs of one repetition, seconds apart, can be paired (cmp_ratio).
 * Every run is a fresh process of the variant's runner (tools/gilrt.c says
 * why).
 */
#define _GNU_SOURCE 1
#include "config.h"
#include "compare.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void compare_usage(FILE *f)
{
    fprintf(f,
        "usage: gilrt compare [options]\n"
        "\n"
        "Runs every workload on every variant at 1..N threads, each point several\n"
        "times, and prints per workload: ops/s (median), spread ((max-min)/median),\n"
        "the ratio to the gil build at 1 thread, and the speedup and efficiency over\n"
        "the same build at 1 thread; then summaries: single-thread cost per build\n"
        "(with a noise gauge: unsafe's cost where it runs gil's code, 1.00 but for\n"
        "noise), scaling at the largest thread count, threads versus processes.\n"
        "Ratios are paired: the median over the repetitions of the ratio of the two\n"
        "points' runs in the same repetition.\n"
        "\n"
        "  --quick             short runs: threads 1,2, 0.1 s per run, 3 repeats,\n"
        "                      variants gil,atomic,brc,unsafe (under a minute on 2 cores)\n"
        "  --threads LIST      thread counts, e.g. 1,2,4 or 1-4 (default 1..cores: every\n"
        "                      count up to 4 cores, then powers of two and the core count)\n"
        "  --repeat N          runs per point (default 5; 3 with --quick), at most %d\n"
        "  --seconds S         time budget of one run (default 0.5; 0.1 with --quick)\n"
        "  --variants LIST     configs to run, e.g. gil,brc,brc+classic: a variant\n"
        "                      (gil, atomic, brc, unsafe) optionally with +POLICY, a GIL\n"
        "                      policy turned on (classic, fifo, io, legacy). Default:\n"
        "                      gil,atomic,brc,unsafe,atomic+classic,brc+classic\n"
        "                      (--quick: gil,atomic,brc,unsafe); unsafe runs only at\n"
        "                      1 thread (more would corrupt memory: gilrt demo race)\n"
        "  --workloads LIST    workloads to run (default all; `gilrt list` shows them)\n"
        "  --json FILE         write the results as JSON (one result object per line)\n"
        "  --csv FILE          write the results as CSV\n"
        "  --plots DIR         write plots (scaling per workload, single-thread cost,\n"
        "                      threads vs processes) through gnuplot, with their data\n"
        "  --plot-format FMT   svg (default) or png\n"
        "  --out DIR           all three: DIR/compare.json, DIR/compare.csv, DIR/plots/\n"
        "                      (the default of a full run is --out gilrt-results)\n"
        "  --no-files          a full run that writes no files\n"
        "  --timeout S         kill a run after S seconds and record it failed (default\n"
        "                      120, or 3 x --seconds + 60 when that is longer)\n"
        "\n"
        "Output paths are checked before the first run.  A progress line goes to stderr;\n"
        "the tables to stdout.  Exit status 0 when every point produced a number (a point\n"
        "some of whose runs failed still does: the table says which failed and why); 1\n"
        "when some point has no successful run or a file could not be written; 2 for bad\n"
        "usage.\n",
        CMP_MAX_REPEAT);
}

/* ---- statistics ------------------------------------------------------------------------ */

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

cmp_stat cmp_stats(const double *v, int n)
{
    cmp_stat s = { .n = 0, .median = NAN, .min = NAN, .max = NAN, .spread = NAN };
    double t[CMP_MAX_REPEAT];
    for (int i = 0; i < n && i < CMP_MAX_REPEAT; i++)
        if (isfinite(v[i]))
            t[s.n++] = v[i];
    if (s.n == 0)
        return s;
    qsort(t, (size_t)s.n, sizeof *t, dbl_cmp);
    s.median = s.n % 2 ? t[s.n / 2] : (t[s.n / 2 - 1] + t[s.n / 2]) / 2;
    s.min = t[0];
    s.max = t[s.n - 1];
    s.spread = s.median > 0 ? (s.max - s.min) / s.median : NAN;
    return s;
}

/* pt's samples of ops/s (key NULL) or of the extra metric key; NULL if it has none. */
static const double *cmp_samples(const cmp_point *pt, const char *key)
{
    if (!key)
        return pt->ops;
    for (int i = 0; i < pt->nextra; i++)
        if (!strcmp(pt->extra_key[i], key))
            return pt->extra[i];
    return NULL;
}

double cmp_extra(const cmp_plan *p, const cmp_point *pt, const char *key)
{
    const double *v = cmp_samples(pt, key);
    return v ? cmp_stats(v, p->repeat).median : NAN;
}

double cmp_ratio(const cmp_plan *p, const cmp_point *a, const cmp_point *b, const char *key)
{
    const double *va = a ? cmp_samples(a, key) : NULL, *vb = b ? cmp_samples(b, key) : NULL;
    if (!va || !vb)
        return NAN;
    double r[CMP_MAX_REPEAT];
    for (int i = 0; i < p->repeat; i++)
        r[i] = va[i] / vb[i];             /* NAN when either run failed */
    return cmp_stats(r, p->repeat).median;
}

int cmp_t1(const cmp_plan *p)
{
    for (int t = 0; t < p->nthreads; t++)
        if (p->threads[t] == 1)
            return t;
    return -1;
}

int cmp_find_config(const cmp_plan *p, const char *name)
{
    for (int c = 0; c < p->ncfg; c++)
        if (!strcmp(p->cfg[c].name, name))
            return c;
    return -1;
}

int cmp_gil(const cmp_plan *p) { return cmp_find_config(p, "gil"); }

cmp_point *cmp_gil_point(cmp_plan *p, int w)
{
    int g = cmp_gil(p), t1 = cmp_t1(p);
    return g < 0 || t1 < 0 ? NULL : cmp_at(p, w, g, t1);
}

/* ---- the plan ------------------------------------------------------------------------------ */

static int add_config(cmp_plan *p, const char *spec, int explicit_)
{
    char v[64];
    snprintf(v, sizeof v, "%s", spec);
    char *plus = strchr(v, '+');
    const char *pol = "";
    if (plus) {
        *plus = '\0';
        pol = plus + 1;
        if (!*pol) {
            fprintf(stderr, "gilrt compare: --variants: '%s': a policy name must follow '+'\n", spec);
            return -1;
        }
    }
    if (!gilrt_variant_known(v, strlen(v))) {
        fprintf(stderr, "gilrt compare: --variants: unknown variant '%s' (gil, atomic, brc, unsafe; "
                "optionally +POLICY, e.g. brc+classic)\n", v);
        return -1;
    }
    if (p->ncfg == CMP_MAX_CFG) {
        fprintf(stderr, "gilrt compare: --variants: at most %d configs\n", CMP_MAX_CFG);
        return -1;
    }
    cmp_config *c = &p->cfg[p->ncfg];
    memset(c, 0, sizeof *c);
    snprintf(c->variant, sizeof c->variant, "%.15s", v);       /* a known name: short */
    snprintf(c->gil, sizeof c->gil, "%.31s", pol);
    snprintf(c->name, sizeof c->name, "%.15s%s%.31s", v, *pol ? "+" : "", pol);
    if (cmp_find_config(p, c->name) >= 0)
        return 0;                            /* listed twice */
    if (!gilrt_runner(v, c->runner, sizeof c->runner)) {
        if (explicit_) {
            fprintf(stderr, "gilrt compare: no runner for variant '%s' (%s is missing; "
                    "build with make, or set GRT_BENCH_DIR)\n", v, c->runner);
            return -1;
        }
        fprintf(stderr, "gilrt compare: note: variant '%s' is not available (%s), skipped%s\n", v,
                c->runner, strcmp(v, "unsafe") ? "" : "; unsafe is never installed: run a build tree's tools/gilrt");
        return 0;
    }
    if (*pol) {                              /* a policy the runner refuses: say so now */
        char *argv[] = { c->runner, "info", "--gil", c->gil, NULL };
        spawn_result r;
        if (spawn_run(argv, 30, 0, &r) != 0)
            return -1;
        if (!r.exited || r.code != 0) {
            char why[400];
            fprintf(stderr, "gilrt compare: --variants: %s: %s\n", c->name, spawn_describe(&r, why, sizeof why));
            spawn_free(&r);
            return -1;
        }
        spawn_free(&r);
    }
    p->ncfg++;
    return 0;
}

static int load_workloads(cmp_plan *p, const char *filter)
{
    char *argv[] = { p->cfg[0].runner, "list", NULL };
    spawn_result r;
    if (spawn_run(argv, 30, 0, &r) != 0)
        return -1;
    if (!r.exited || r.code != 0) {
        char why[400];
        fprintf(stderr, "gilrt compare: %s list: %s\n", p->cfg[0].runner, spawn_describe(&r, why, sizeof why));
        spawn_free(&r);
        return -1;
    }
    cmp_workload all[CMP_MAX_WL];
    int nall = 0;
    for (char *save = NULL, *line = strtok_r(r.out, "\n", &save); line && nall < CMP_MAX_WL;
         line = strtok_r(NULL, "\n", &save)) {
        char *op = strchr(line, '\t'), *sum = op ? strchr(op + 1, '\t') : NULL;
        if (!sum)
            continue;
        *op++ = '\0';
        *sum++ = '\0';
        snprintf(all[nall].name, sizeof all[nall].name, "%s", line);
        snprintf(all[nall].op, sizeof all[nall].op, "%s", op);
        snprintf(all[nall].summary, sizeof all[nall].summary, "%s", sum);
        nall++;
    }
    spawn_free(&r);
    if (!filter) {
        memcpy(p->wl, all, (size_t)nall * sizeof *all);
        p->nwl = nall;
        return nall ? 0 : -1;
    }
    char f[1024];
    snprintf(f, sizeof f, "%s", filter);
    for (char *save = NULL, *name = strtok_r(f, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < nall; i++)
            if (!strcmp(all[i].name, name))
                found = i;
        if (found < 0) {
            fprintf(stderr, "gilrt compare: --workloads: unknown workload '%s'; the workloads are:", name);
            for (int i = 0; i < nall; i++)
                fprintf(stderr, " %s", all[i].name);
            fputc('\n', stderr);
            return -1;
        }
        int dup = 0;
        for (int i = 0; i < p->nwl; i++)
            dup |= !strcmp(p->wl[i].name, name);
        if (!dup)
            p->wl[p->nwl++] = all[found];
    }
    if (p->nwl == 0) {
        fprintf(stderr, "gilrt compare: --workloads: no workload named in '%s'\n", filter);
        return -1;
    }
    return 0;
}

static void default_threads(cmp_plan *p)
{
    int n = p->cores;
    p->nthreads = 0;
    if (n <= 4) {
        for (int i = 1; i <= n; i++)
            p->threads[p->nthreads++] = i;
    } else {
        for (int i = 1; i < n && p->nthreads < CMP_MAX_THREADS - 1; i *= 2)
            p->threads[p->nthreads++] = i;
        p->threads[p->nthreads++] = n;
    }
}

static void host_info(cmp_plan *p)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(p->date, sizeof p->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char model[160] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(model, sizeof model, "%s", colon + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    p->load_start = gilrt_loadavg();
    p->busy_start = gilrt_busy();
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "?");
    snprintf(p->host, sizeof p->host, "%s, %d cores, Linux %s", model, p->cores, u.release);
}

/* ---- one run ---------------------------------------------------------------------------------- */

/* Run pt once, as repetition rep: its samples [rep] (NAN stays where it fails). */
static void run_point(cmp_plan *p, cmp_point *pt, int rep)
{
    cmp_config *c = &p->cfg[pt->c];
    char threads[16], secs[32];
    snprintf(threads, sizeof threads, "%d", pt->threads);
    snprintf(secs, sizeof secs, "%g", p->seconds);
    char *argv[12];
    int n = 0;
    argv[n++] = c->runner;
    argv[n++] = "run";
    argv[n++] = p->wl[pt->w].name;
    argv[n++] = "--threads";
    argv[n++] = threads;
    argv[n++] = "--seconds";
    argv[n++] = secs;
    if (c->gil[0]) {
        argv[n++] = "--gil";
        argv[n++] = c->gil;
    }
    argv[n] = NULL;
    spawn_result r;
    p->runs++;
    if (spawn_run(argv, p->timeout, 0, &r) != 0) {
        pt->failures++;
        p->failed_runs++;
        snprintf(pt->error, sizeof pt->error, "could not start %s", c->runner);
        return;
    }
    jobj o;
    double ops = NAN;
    if (r.exited && r.code == 0 && json_parse(r.out, &o) == 0) {
        ops = json_num(&o, "ops_per_s");
        if (isfinite(ops) && ops > 0) {
            pt->ops[rep] = ops;
            snprintf(pt->gil_used, sizeof pt->gil_used, "%s", json_str(&o, "gil"));
            for (int i = 0; i < o.n; i++) {
                const jfield *f = &o.f[i];
                if (strncmp(f->key, "extra.", 6) != 0 || f->type != JV_NUM)
                    continue;
                int k;
                for (k = 0; k < pt->nextra; k++)
                    if (!strcmp(pt->extra_key[k], f->key + 6))
                        break;
                if (k == pt->nextra) {
                    if (pt->nextra == CMP_MAX_EXTRA)
                        continue;
                    snprintf(pt->extra_key[pt->nextra++], sizeof pt->extra_key[0], "%s", f->key + 6);
                    for (int j = 0; j < CMP_MAX_REPEAT; j++)
                        pt->extra[k][j] = NAN;
                }
                pt->extra[k][rep] = f->num;
            }
        } else {
            snprintf(pt->error, sizeof pt->error, "no ops_per_s in the runner's output: %.200s", r.out);
            ops = NAN;
        }
        json_free(&o);
    } else if (r.exited && r.code == 0) {
        snprintf(pt->error, sizeof pt->error, "unreadable runner output: %.200s", r.out);
    } else {
        spawn_describe(&r, pt->error, sizeof pt->error);
    }
    if (!isfinite(ops)) {
        pt->failures++;
        p->failed_runs++;
    }
    spawn_free(&r);
}

/* ---- progress ------------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress(cmp_plan *p, int done, int total, double t0, const cmp_point *pt, int rep)
{
    static int last_w = -1, last_rep = -1;
    int tty = isatty(2);
    double el = now_s() - t0;
    char eta[32] = "";
    if (done > 0)
        snprintf(eta, sizeof eta, ", ~%.0fs left", el / done * (total - done));
    if (tty) {
        fprintf(stderr, "\r[%3d/%d %4.0fs%s] %s on %s, %d thread%s (run %d of %d)\033[K", done + 1,
                total, el, eta, p->wl[pt->w].name, p->cfg[pt->c].name, pt->threads,
                pt->threads == 1 ? "" : "s", rep + 1, p->repeat);
    } else if (pt->w != last_w || rep != last_rep) {
        fprintf(stderr, "gilrt compare: [%d/%d %.0fs%s] %s (run %d of %d)\n", done + 1, total, el,
                eta, p->wl[pt->w].name, rep + 1, p->repeat);
    }
    last_w = pt->w;
    last_rep = rep;
    fflush(stderr);
}

/* ---- files ------------------------------------------------------------------------------------- */

/* mkdir -p; 0, or -1 with errno (ENOTDIR when dir exists but is a file). */
static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    struct stat st;
    if (mkdir(tmp, 0777) == 0)
        return 0;
    if (errno != EEXIST || stat(tmp, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* 0 if a file can be written at path: its directory exists and is writable,
 * and path is not a directory.  Else a message naming the option, -1.
 * Checked before the first run, so that a typo does not cost a full run's
 * results at the end. */
static int check_writable(const char *opt, const char *path)
{
    struct stat st;
    char dir[PATH_MAX];
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            errno = EISDIR;
        else if (access(path, W_OK) == 0)
            return 0;
    } else if (errno == ENOENT) {
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            slash[slash == dir] = '\0';     /* "/x" -> "/" */
        if (access(dir, W_OK | X_OK) == 0)
            return 0;
    }
    fprintf(stderr, "gilrt compare: %s %s: cannot write there: %s\n", opt, path, strerror(errno));
    return -1;
}

/* ---- the command ---------------------------------------------------------------------------------- */

/* 1 if a is one of compare's options that take a value. */
static int compare_takes_value(const char *a)
{
    static const char *const with_value[] = {
        "--threads", "--variants", "--workloads", "--json", "--csv", "--plots", "--out",
        "--plot-format", "--repeat", "--seconds", "--timeout",
    };
    for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
        if (!strcmp(a, with_value[k]))
            return 1;
    return 0;
}

int gilrt_compare(int argc, char **argv)
{
    static cmp_plan plan;
    cmp_plan *p = &plan;
    memset(p, 0, sizeof *p);
    p->cores = gilrt_cores();
    p->plot_format = "svg";
    const char *threads = NULL, *variants = NULL, *workloads = NULL, *out = NULL;
    int repeat = 0, no_files = 0;
    double seconds = 0, timeout = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--quick")) { p->quick = 1; takes = 0; }
        else if (!strcmp(a, "--no-files")) { no_files = 1; takes = 0; }
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { compare_usage(stdout); return 0; }
        else if (!compare_takes_value(a)) {
            fprintf(stderr, a[0] == '-' ? "gilrt compare: unknown option '%s' (see gilrt compare "
                    "--help)\n" : "gilrt compare: '%s' is not an option\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "gilrt compare: '%s' needs a value (see gilrt compare --help)\n", a);
            return 2;
        }
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--variants")) variants = v;
        else if (!strcmp(a, "--workloads")) workloads = v;
        else if (!strcmp(a, "--json")) snprintf(p->json_path, sizeof p->json_path, "%s", v);
        else if (!strcmp(a, "--csv")) snprintf(p->csv_path, sizeof p->csv_path, "%s", v);
        else if (!strcmp(a, "--plots")) snprintf(p->plot_dir, sizeof p->plot_dir, "%s", v);
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--plot-format")) {
            if (strcmp(v, "svg") && strcmp(v, "png")) {
                fprintf(stderr, "gilrt compare: --plot-format: svg or png, got '%s'\n", v);
                return 2;
            }
            p->plot_format = v;
        } else if (!strcmp(a, "--repeat") || !strcmp(a, "--seconds") || !strcmp(a, "--timeout")) {
            char *end;
            double d = strtod(v, &end);
            int is_rep = !strcmp(a, "--repeat");
            if (*end || !(d > 0) || (is_rep && (d != (int)d || d > CMP_MAX_REPEAT)) || d > 3600) {
                fprintf(stderr, "gilrt compare: %s: expected %s, got '%s'\n", a,
                        is_rep ? "a whole number of runs, 1..32" : "a positive number of seconds", v);
                return 2;
            }
            if (is_rep) repeat = (int)d;
            else if (!strcmp(a, "--seconds")) seconds = d;
            else timeout = d;
        }
        i += takes;
    }
    p->repeat = repeat ? repeat : p->quick ? 3 : 5;
    p->seconds = seconds > 0 ? seconds : p->quick ? 0.1 : 0.5;
    /* a run measures up to twice (mp_vs_mt: threads, then processes), after
     * its setup: the default limit grows with --seconds */
    p->timeout = timeout > 0 ? timeout : fmax(120, 3 * p->seconds + 60);
    if (p->timeout <= 2 * p->seconds) {
        fprintf(stderr, "gilrt compare: --timeout %g s leaves no room for runs of --seconds %g "
                "(give more than twice that, or leave --timeout out)\n", p->timeout, p->seconds);
        return 2;
    }
    if (threads) {
        if ((p->nthreads = gilrt_parse_int_list(threads, p->threads, CMP_MAX_THREADS, "--threads")) < 0)
            return 2;
    } else if (p->quick) {
        p->threads[0] = 1;
        p->threads[1] = 2;
        p->nthreads = 2;
    } else {
        default_threads(p);
    }
    const char *vlist = variants ? variants : p->quick ? "gil,atomic,brc,unsafe"
                                 : "gil,atomic,brc,unsafe,atomic+classic,brc+classic";
    char vbuf[1024];
    snprintf(vbuf, sizeof vbuf, "%s", vlist);
    int named = 0;
    for (char *save = NULL, *s = strtok_r(vbuf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        named++;
        if (add_config(p, s, variants != NULL) != 0)
            return 2;
    }
    if (named == 0) {
        fprintf(stderr, "gilrt compare: --variants: no variant named in '%s'\n", vlist);
        return 2;
    }
    if (p->ncfg == 0) {
        fprintf(stderr, "gilrt compare: no runner found in %s (build with make, or set GRT_BENCH_DIR)\n",
                gilrt_bench_dir());
        return 2;
    }
    if (load_workloads(p, workloads) != 0)
        return 2;
    if (out && !no_files) {
        snprintf(p->json_path, sizeof p->json_path, "%s/compare.json", out);
        snprintf(p->csv_path, sizeof p->csv_path, "%s/compare.csv", out);
        snprintf(p->plot_dir, sizeof p->plot_dir, "%s/plots", out);
    } else if (!p->quick && !no_files && !p->json_path[0] && !p->csv_path[0] && !p->plot_dir[0]) {
        snprintf(p->json_path, sizeof p->json_path, "gilrt-results/compare.json");
        snprintf(p->csv_path, sizeof p->csv_path, "gilrt-results/compare.csv");
        snprintf(p->plot_dir, sizeof p->plot_dir, "gilrt-results/plots");
        out = "gilrt-results";
    }
    if (out && !no_files && mkdir_p(out) != 0) {
        fprintf(stderr, "gilrt compare: --out %s: cannot create it: %s\n", out, strerror(errno));
        return 2;
    }
    if (p->plot_dir[0] && mkdir_p(p->plot_dir) != 0) {
        fprintf(stderr, "gilrt compare: --plots %s: cannot create it: %s\n", p->plot_dir, strerror(errno));
        return 2;
    }
    if ((p->json_path[0] && check_writable("--json", p->json_path) != 0) ||
        (p->csv_path[0] && check_writable("--csv", p->csv_path) != 0))
        return 2;
    host_info(p);

    int npts = p->nwl * p->ncfg * p->nthreads, total = 0;
    p->pts = calloc((size_t)npts, sizeof *p->pts);
    if (!p->pts) {
        fprintf(stderr, "gilrt compare: out of memory\n");
        return 2;
    }
    for (int w = 0; w < p->nwl; w++)
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                pt->w = w;
                pt->c = c;
                pt->t = t;
                pt->threads = p->threads[t];
                for (int r = 0; r < CMP_MAX_REPEAT; r++)
                    pt->ops[r] = NAN;
                /* unsafe without a GIL corrupts memory with 2 threads: demo race shows it */
                const cmp_config *cf = &p->cfg[c];
                pt->skipped = pt->threads > 1 && !strcmp(cf->variant, "unsafe") &&
                              (!cf->gil[0] || !strcmp(cf->gil, "off"));
                total += pt->skipped ? 0 : p->repeat;
            }
    if (total == 0) {                   /* only unsafe, above 1 thread */
        fprintf(stderr, "gilrt compare: nothing to run: unsafe without a GIL runs at 1 thread "
                "only (it corrupts memory with more; `gilrt demo race` shows it): add 1 to "
                "--threads, or another variant\n");
        return 2;
    }
    double t0 = now_s();
    int done = 0;
    for (int rep = 0; rep < p->repeat; rep++)
        for (int w = 0; w < p->nwl; w++)
            for (int c = 0; c < p->ncfg; c++)
                for (int t = 0; t < p->nthreads; t++) {
                    cmp_point *pt = cmp_at(p, w, c, t);
                    if (pt->skipped)
                        continue;
                    progress(p, done, total, t0, pt, rep);
                    run_point(p, pt, rep);
                    done++;
                }
    p->wall_seconds = now_s() - t0;
    if (isatty(2))
        fputs("\r\033[K", stderr);
    fprintf(stderr, "gilrt compare: %d runs in %.0f s, %d failed\n", p->runs, p->wall_seconds,
            p->failed_runs);
    int missing = 0;
    for (int i = 0; i < npts; i++) {
        p->pts[i].st = cmp_stats(p->pts[i].ops, p->repeat);
        missing += !p->pts[i].skipped && p->pts[i].st.n == 0;
    }
    report_table(p, stdout);
    int rc = missing ? 1 : 0;
    if (p->json_path[0] && report_json(p, p->json_path) != 0)
        rc = 1;
    if (p->csv_path[0] && report_csv(p, p->csv_path) != 0)
        rc = 1;
    if (p->plot_dir[0]) {
        if (report_plots(p, p->plot_dir) != 0) {
            rc = 1;
        }
    }
    free(p->pts);
    return rc;
}
