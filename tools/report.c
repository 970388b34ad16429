/*
 * tools/report.c — what `gilrt compare` prints and writes: the table, the
 * summaries, JSON, CSV and the gnuplot plots.
 *
 * Two ratios, two directions, both named where they are printed:
 *   x gil@1   throughput ratio, this point / the gil build at 1 thread
 *             (higher is faster; 0.50 = half the gil build's single-thread rate)
 *   cost      time ratio at 1 thread, gil / this config (what the issue's
 *             targets use: 1.10 = 10% slower than gil)
 * Both, and the speedups, are paired by repetition (cmp_ratio).
 */
#define _GNU_SOURCE 1
#include "config.h"
#include "compare.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The extra metrics worth a column in the table, per workload. */
typedef struct highlight { const char *workload, *key, *label, *unit; } highlight;
static const highlight highlights[] = {
    { "cycles", "collections", "", " collections" },
    { "gc_pause", "ns_per_object", "", " ns/object" },
    { "stw", "tts_mean_us", "time-to-safepoint ", " us" },
    { "stw", "mutator_ops_per_s", "mutators ", " ops/s" },
    { "mp_vs_mt", "mp_ops_per_s", "processes ", " ops/s" },
    { NULL, NULL, NULL, NULL },
};

/* pt's rate / its config's at 1 thread, paired by repetition (cmp_ratio);
 * key: an extra metric instead of ops/s. */
static double speedup_of(cmp_plan *p, const cmp_point *pt, const char *key)
{
    int t1 = cmp_t1(p);
    return t1 < 0 ? NAN : cmp_ratio(p, pt, cmp_at(p, pt->w, pt->c, t1), key);
}

static double speedup(cmp_plan *p, const cmp_point *pt) { return speedup_of(p, pt, NULL); }

/* pt's ops/s / the gil build's at 1 thread, paired by repetition. */
static double vs_gil(cmp_plan *p, const cmp_point *pt)
{
    return cmp_ratio(p, pt, cmp_gil_point(p, pt->w), NULL);
}

static void notes(cmp_plan *p, const cmp_point *pt, char *b, size_t n)
{
    b[0] = '\0';
    for (const highlight *h = highlights; h->workload; h++) {
        if (strcmp(h->workload, p->wl[pt->w].name) != 0)
            continue;
        double v = cmp_extra(p, pt, h->key);
        if (!isfinite(v) || (v == 0 && !strcmp(h->key, "mutator_ops_per_s")))
            continue;                        /* no mutator threads at 1 thread */
        char num[32];
        size_t l = strlen(b);
        if (!strcmp(h->unit, " ops/s") || !strcmp(h->key, "collections"))
            fmt_si(v, num, sizeof num);
        else
            snprintf(num, sizeof num, v >= 100 ? "%.0f" : "%.2g", v);
        snprintf(b + l, n - l, "%s%s%s%s", l ? ", " : "", h->label, num, h->unit);
    }
}

static void print_ratio(FILE *f, double v, int width)
{
    if (isfinite(v))
        fprintf(f, " %*.2f", width, v);
    else
        fprintf(f, " %*s", width, "-");
}

/* Other processes competed for the cores when the runs started. */
static int busy(const cmp_plan *p)
{
    return p->busy_start >= 0.5 || (p->busy_start < 0 && p->load_start >= 0.5 * p->cores);
}

/* Per workload, gil's rate / each config's rate at 1 thread, paired by
 * repetition; rate is ops/s, or the extra metric `key` when given. */
static void cost_table(cmp_plan *p, FILE *f, const char *title, const char *key)
{
    int t1 = cmp_t1(p), g = cmp_gil(p);
    fputc('\n', f);
    fputs(title, f);
    fprintf(f, "  %-13s", "workload");
    for (int c = 0; c < p->ncfg; c++)
        if (c != g)
            fprintf(f, " %14s", p->cfg[c].name);
    fputc('\n', f);
    for (int w = 0; w < p->nwl; w++) {
        fprintf(f, "  %-13s", p->wl[w].name);
        cmp_point *base = cmp_at(p, w, g, t1);
        for (int c = 0; c < p->ncfg; c++)
            if (c != g)
                print_ratio(f, cmp_ratio(p, base, cmp_at(p, w, c, t1), key), 14);
        fputc('\n', f);
    }
}

/* unsafe counts references with the gil build's code and no GIL: on the
 * workloads that do nothing else its cost is 1.00 but for noise (and the
 * luck of each binary's code layout).  Print it, as a gauge of how far this
 * run's ratios can be trusted. */
static void noise_gauge(cmp_plan *p, FILE *f, int t1, int g)
{
    static const char *const gauges[] = { "rc_private", "rc_immortal" };
    int u = cmp_find_config(p, "unsafe");
    if (u < 0)
        return;
    char b[160] = "";
    for (int w = 0; w < p->nwl; w++) {
        int gauge = 0;
        for (size_t k = 0; k < sizeof gauges / sizeof gauges[0]; k++)
            gauge |= !strcmp(p->wl[w].name, gauges[k]);
        double r = gauge ? cmp_ratio(p, cmp_at(p, w, g, t1), cmp_at(p, w, u, t1), NULL) : NAN;
        size_t l = strlen(b);
        if (isfinite(r))
            snprintf(b + l, sizeof b - l, "%s%.2f on %s", l ? ", " : "", r, p->wl[w].name);
    }
    if (b[0])
        fprintf(f, "Noise gauge: unsafe counts references with gil's code and no GIL, so its\n"
                   "cost on the refcount workloads (%s) would be\n"
                   "1.00 but for noise and code layout: read the ratios above as that uncertain.\n", b);
}

void report_table(cmp_plan *p, FILE *f)
{
    fprintf(f, "gilrt compare, %s\n%s; before the runs: %.1f other threads ready to run, load\n"
               "average %.2f\n", p->date, p->host, p->busy_start, p->load_start);
    if (busy(p))
        fprintf(f, "note: other processes were using the cores when it started: throughput is\n"
                   "lower and noisier than on an idle machine, and scaling looks worse than it is.\n");
    fprintf(f, "%d run%s per point of %g s each; ops/s is the median, spread = (max - min) / median.\n",
            p->repeat, p->repeat == 1 ? "" : "s", p->seconds);
    fprintf(f, "x gil@1 = ops/s / the gil build's ops/s at 1 thread (higher is faster);\n"
               "speedup = ops/s / the same config's at 1 thread; eff. = speedup / threads.\n"
               "Every ratio is paired: the median, over the repetitions, of the ratio of the\n"
               "two runs of the same repetition (which ran seconds apart).\n");
    int skipped_any = 0;
    for (int w = 0; w < p->nwl; w++) {
        fprintf(f, "\n%s: %s\n  one op = %s\n", p->wl[w].name, p->wl[w].summary, p->wl[w].op);
        fprintf(f, "  %-15s %3s %9s %7s %7s %7s %6s\n", "config", "thr", "ops/s", "spread",
                "x gil@1", "speedup", "eff.");
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                if (pt->skipped) {
                    skipped_any = 1;
                    continue;
                }
                fprintf(f, "  %-15s %3d", t == 0 || cmp_at(p, w, c, t - 1)->skipped ? p->cfg[c].name : "",
                        pt->threads);
                if (pt->st.n == 0) {
                    fprintf(f, "   FAILED: %s\n", pt->error);
                    continue;
                }
                char num[32], note[160];
                fprintf(f, " %9s", fmt_si(pt->st.median, num, sizeof num));
                if (isfinite(pt->st.spread))
                    fprintf(f, " %6.1f%%", pt->st.spread * 100);
                else
                    fprintf(f, " %7s", "-");
                print_ratio(f, vs_gil(p, pt), 7);
                double s = speedup(p, pt);
                print_ratio(f, s, 7);
                if (isfinite(s))
                    fprintf(f, " %5.0f%%", s / pt->threads * 100);
                else
                    fprintf(f, " %6s", "-");
                notes(p, pt, note, sizeof note);
                if (note[0])
                    fprintf(f, "  %s", note);
                if (pt->failures)
                    fprintf(f, "  (%d run%s failed: %s)", pt->failures, pt->failures == 1 ? "" : "s", pt->error);
                fputc('\n', f);
            }
    }
    if (skipped_any)
        fprintf(f, "\nunsafe ran at 1 thread only: with more threads and no GIL its plain refcounts\n"
                   "and unlocked containers corrupt memory (see `gilrt demo race`).\n");

    /* single-thread cost */
    int t1 = cmp_t1(p), g = cmp_gil(p);
    if (t1 >= 0 && g >= 0 && p->ncfg > 1) {
        cost_table(p, f, "Single-thread cost: gil ops/s / config ops/s at 1 thread (1.10 = 10% slower than gil)\n",
                   NULL);
        noise_gauge(p, f, t1, g);
        if (busy(p))
            cost_table(p, f, "The same from CPU time (ops per CPU-second; steadier while other processes\n"
                             "share the cores):\n", "ops_per_cpu_s");
    }
    /* scaling at the largest thread count */
    int tl = p->nthreads - 1;
    if (t1 >= 0 && tl >= 0 && p->threads[tl] > 1) {
        fprintf(f, "\nScaling: ops/s at %d threads / ops/s at 1 thread, same config (perfect = %d.00)\n",
                p->threads[tl], p->threads[tl]);
        fprintf(f, "  %-13s", "workload");
        for (int c = 0; c < p->ncfg; c++)
            if (!cmp_at(p, 0, c, tl)->skipped)
                fprintf(f, " %14s", p->cfg[c].name);
        fputc('\n', f);
        for (int w = 0; w < p->nwl; w++) {
            fprintf(f, "  %-13s", p->wl[w].name);
            for (int c = 0; c < p->ncfg; c++)
                if (!cmp_at(p, w, c, tl)->skipped)
                    print_ratio(f, speedup(p, cmp_at(p, w, c, tl)), 14);
            fputc('\n', f);
        }
    }
    /* threads versus processes */
    for (int w = 0; w < p->nwl; w++) {
        if (strcmp(p->wl[w].name, "mp_vs_mt") != 0)
            continue;
        fprintf(f, "\nThreads versus processes (mp_vs_mt: the same work in T threads or T forked\n"
                   "processes, each process its own runtime and GIL, like multiprocessing):\n");
        fprintf(f, "  %-15s %3s %10s %10s %10s %10s\n", "config", "T", "threads", "processes",
                "thr speedup", "proc speedup");
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                if (pt->skipped || pt->st.n == 0)
                    continue;
                char a[32], b[32];
                double mp = cmp_extra(p, pt, "mp_ops_per_s");
                fprintf(f, "  %-15s %3d %10s %10s", t == 0 ? p->cfg[c].name : "", pt->threads,
                        fmt_si(pt->st.median, a, sizeof a), fmt_si(mp, b, sizeof b));
                print_ratio(f, speedup(p, pt), 10);
                print_ratio(f, speedup_of(p, pt, "mp_ops_per_s"), 11);
                fputc('\n', f);
            }
    }
    fflush(f);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void json_stat(FILE *f, const cmp_stat *s)
{
    fputs("{\"median\":", f);
    json_write_num(f, s->median);
    fputs(",\"min\":", f);
    json_write_num(f, s->min);
    fputs(",\"max\":", f);
    json_write_num(f, s->max);
    fputs(",\"spread\":", f);
    json_write_num(f, s->spread);
    fputc('}', f);
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "gilrt compare: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, const char *what)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "gilrt compare: writing %s failed\n", path);
        return -1;
    }
    fprintf(stderr, "gilrt compare: %s written to %s\n", what, path);
    return 0;
}

int report_json(cmp_plan *p, const char *path)
{
    FILE *f = open_out(path);
    if (!f)
        return -1;
    fprintf(f, "{\n  \"gilrt_compare\": 1,\n  \"date\": ");
    json_write_str(f, p->date);
    fprintf(f, ",\n  \"host\": ");
    json_write_str(f, p->host);
    fprintf(f, ",\n  \"cores\": %d,\n  \"load_average_start\": %.2f,\n  \"busy_threads_start\": %.2f,\n",
            p->cores, p->load_start, p->busy_start);
    fprintf(f, "  \"settings\": {\"quick\": %s, \"repeat\": %d, \"seconds\": ", p->quick ? "true" : "false",
            p->repeat);
    json_write_num(f, p->seconds);
    fprintf(f, ", \"timeout\": ");
    json_write_num(f, p->timeout);
    fprintf(f, ", \"threads\": [");
    for (int t = 0; t < p->nthreads; t++)
        fprintf(f, "%s%d", t ? ", " : "", p->threads[t]);
    fprintf(f, "]},\n  \"variants\": [");
    for (int c = 0; c < p->ncfg; c++) {
        fputs(c ? ", " : "", f);
        json_write_str(f, p->cfg[c].name);
    }
    fprintf(f, "],\n  \"workloads\": [");
    for (int w = 0; w < p->nwl; w++) {
        fputs(w ? ", " : "", f);
        json_write_str(f, p->wl[w].name);
    }
    fprintf(f, "],\n  \"configs\": [\n");
    for (int c = 0; c < p->ncfg; c++) {
        fprintf(f, "    {\"name\":");
        json_write_str(f, p->cfg[c].name);
        fprintf(f, ",\"variant\":");
        json_write_str(f, p->cfg[c].variant);
        fprintf(f, ",\"gil_requested\":");
        json_write_str(f, p->cfg[c].gil[0] ? p->cfg[c].gil : "default");
        fprintf(f, "}%s\n", c + 1 < p->ncfg ? "," : "");
    }
    fprintf(f, "  ],\n  \"workload_info\": [\n");
    for (int w = 0; w < p->nwl; w++) {
        fprintf(f, "    {\"name\":");
        json_write_str(f, p->wl[w].name);
        fprintf(f, ",\"op\":");
        json_write_str(f, p->wl[w].op);
        fprintf(f, ",\"summary\":");
        json_write_str(f, p->wl[w].summary);
        fprintf(f, "}%s\n", w + 1 < p->nwl ? "," : "");
    }
    fprintf(f, "  ],\n  \"results\": [\n");
    int first = 1;
    for (int w = 0; w < p->nwl; w++)
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                if (pt->skipped)
                    continue;
                fprintf(f, "%s    {\"workload\":", first ? "" : ",\n");
                first = 0;
                json_write_str(f, p->wl[w].name);
                fprintf(f, ",\"config\":");
                json_write_str(f, p->cfg[c].name);
                fprintf(f, ",\"variant\":");
                json_write_str(f, p->cfg[c].variant);
                fprintf(f, ",\"gil\":");
                json_write_str(f, pt->gil_used);
                fprintf(f, ",\"threads\":%d,\"runs\":%d,\"failures\":%d,\"ops_per_s\":", pt->threads,
                        pt->st.n, pt->failures);
                json_stat(f, &pt->st);
                fprintf(f, ",\"samples\":[");     /* by repetition, null: that run failed */
                for (int i = 0; i < p->repeat; i++) {
                    fputs(i ? "," : "", f);
                    json_write_num(f, pt->ops[i]);
                }
                fprintf(f, "],\"vs_gil_1t\":");
                json_write_num(f, vs_gil(p, pt));
                double s = speedup(p, pt);
                fprintf(f, ",\"speedup\":");
                json_write_num(f, s);
                fprintf(f, ",\"efficiency\":");
                json_write_num(f, s / pt->threads);
                fprintf(f, ",\"extra\":{");
                for (int k = 0; k < pt->nextra; k++) {
                    fputs(k ? "," : "", f);
                    json_write_str(f, pt->extra_key[k]);
                    fputc(':', f);
                    json_write_num(f, cmp_extra(p, pt, pt->extra_key[k]));
                }
                fprintf(f, "},\"error\":");
                if (pt->failures)
                    json_write_str(f, pt->error);
                else
                    fputs("null", f);
                fputc('}', f);
            }
    fprintf(f, "\n  ],\n  \"skipped\": [");
    first = 1;
    for (int w = 0; w < p->nwl; w++)
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                if (!pt->skipped)
                    continue;
                fprintf(f, "%s\n    {\"workload\":", first ? "" : ",");
                first = 0;
                json_write_str(f, p->wl[w].name);
                fprintf(f, ",\"config\":");
                json_write_str(f, p->cfg[c].name);
                fprintf(f, ",\"threads\":%d,\"why\":\"unsafe corrupts memory with more than one thread\"}",
                        pt->threads);
            }
    fprintf(f, "%s],\n  \"runs\": %d,\n  \"failed_runs\": %d,\n  \"wall_seconds\": ", first ? "" : "\n  ",
            p->runs, p->failed_runs);
    json_write_num(f, p->wall_seconds);
    fprintf(f, "\n}\n");
    return close_out(f, path, "JSON");
}

/* ---- CSV -------------------------------------------------------------------------------- */

static void csv_num(FILE *f, double v)
{
    fputc(',', f);
    if (isfinite(v))
        fprintf(f, "%.6g", v);
}

int report_csv(cmp_plan *p, const char *path)
{
    FILE *f = open_out(path);
    if (!f)
        return -1;
    fprintf(f, "workload,config,variant,gil,threads,runs,failures,ops_per_s_median,ops_per_s_min,"
               "ops_per_s_max,spread,vs_gil_1t,speedup,efficiency,extra\n");
    for (int w = 0; w < p->nwl; w++)
        for (int c = 0; c < p->ncfg; c++)
            for (int t = 0; t < p->nthreads; t++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                if (pt->skipped)
                    continue;
                fprintf(f, "%s,%s,%s,%s,%d,%d,%d", p->wl[w].name, p->cfg[c].name, p->cfg[c].variant,
                        pt->gil_used, pt->threads, pt->st.n, pt->failures);
                csv_num(f, pt->st.median);
                csv_num(f, pt->st.min);
                csv_num(f, pt->st.max);
                csv_num(f, pt->st.spread);
                csv_num(f, vs_gil(p, pt));
                double s = speedup(p, pt);
                csv_num(f, s);
                csv_num(f, s / pt->threads);
                fputs(",\"", f);
                for (int k = 0; k < pt->nextra; k++)
                    fprintf(f, "%s%s=%.6g", k ? ";" : "", pt->extra_key[k],
                            cmp_extra(p, pt, pt->extra_key[k]));
                fputs("\"\n", f);
            }
    return close_out(f, path, "CSV");
}

/* ---- plots ------------------------------------------------------------------------------- */

static void dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.6g", v);
    else
        fputs(" ?", f);                     /* `set datafile missing "?"` */
}

static int write_dat(cmp_plan *p, const char *dir)
{
    char path[PATH_MAX + 64];
    for (int w = 0; w < p->nwl; w++) {
        snprintf(path, sizeof path, "%s/scaling-%s.dat", dir, p->wl[w].name);
        FILE *f = open_out(path);
        if (!f)
            return -1;
        fprintf(f, "# %s: ops/s median, min, max per config\n# threads", p->wl[w].name);
        for (int c = 0; c < p->ncfg; c++)
            fprintf(f, " %s %s_min %s_max", p->cfg[c].name, p->cfg[c].name, p->cfg[c].name);
        fputc('\n', f);
        for (int t = 0; t < p->nthreads; t++) {
            fprintf(f, "%d", p->threads[t]);
            for (int c = 0; c < p->ncfg; c++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                dat_num(f, pt->st.median);
                dat_num(f, pt->st.min);
                dat_num(f, pt->st.max);
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            return -1;
    }
    snprintf(path, sizeof path, "%s/single-thread-cost.dat", dir);
    FILE *f = open_out(path);
    if (!f)
        return -1;
    int t1 = cmp_t1(p), g = cmp_gil(p);
    fprintf(f, "# gil ops/s / config ops/s at 1 thread\n# workload");
    for (int c = 0; c < p->ncfg; c++)
        if (c != g)
            fprintf(f, " %s", p->cfg[c].name);
    fputc('\n', f);
    for (int w = 0; w < p->nwl; w++) {
        fprintf(f, "%s", p->wl[w].name);
        for (int c = 0; c < p->ncfg; c++)
            if (c != g)
                dat_num(f, t1 >= 0 ? cmp_ratio(p, cmp_gil_point(p, w), cmp_at(p, w, c, t1), NULL) : NAN);
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return -1;
    for (int w = 0; w < p->nwl; w++) {
        if (strcmp(p->wl[w].name, "mp_vs_mt") != 0)
            continue;
        snprintf(path, sizeof path, "%s/mp-vs-mt.dat", dir);
        if (!(f = open_out(path)))
            return -1;
        fprintf(f, "# threads, then per config: ops/s in threads, ops/s in processes\n");
        for (int t = 0; t < p->nthreads; t++) {
            fprintf(f, "%d", p->threads[t]);
            for (int c = 0; c < p->ncfg; c++) {
                cmp_point *pt = cmp_at(p, w, c, t);
                dat_num(f, pt->st.median);
                dat_num(f, pt->st.n ? cmp_extra(p, pt, "mp_ops_per_s") : NAN);
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            return -1;
    }
    return 0;
}

/* text for a gnuplot single-quoted string: a quote is written twice */
static const char *gq(const char *s, char *b, size_t n)
{
    size_t k = 0;
    for (; *s && k + 2 < n; s++) {
        if (*s == '\'')
            b[k++] = '\'';
        b[k++] = *s;
    }
    b[k] = '\0';
    return b;
}
#define GQ(s) gq((s), (char[512]){0}, 512)

static int write_gp(cmp_plan *p, const char *dir_raw, const char *gp)
{
    char dir[PATH_MAX * 2];
    gq(dir_raw, dir, sizeof dir);
    FILE *f = open_out(gp);
    if (!f)
        return -1;
    const char *ext = p->plot_format;
    fprintf(f, "# gilrt compare plots: gnuplot %s\n", gp);
    if (!strcmp(ext, "svg"))
        fprintf(f, "set terminal svg size 860,520 dynamic noenhanced font 'sans,12'\n");
    else
        fprintf(f, "set terminal pngcairo size 1000,600 noenhanced font 'sans,11'\n");
    fprintf(f, "set datafile missing '?'\nset key outside right top\nset grid ytics\n"
               "set format y '%%.1s%%c'\n");
    fprintf(f, "set xtics (");
    for (int t = 0; t < p->nthreads; t++)
        fprintf(f, "%s%d", t ? ", " : "", p->threads[t]);
    fprintf(f, ")\nset xrange [%g:%g]\n", p->threads[0] - 0.3, p->threads[p->nthreads - 1] + 0.3);
    for (int w = 0; w < p->nwl; w++) {
        fprintf(f, "\nset output '%s/scaling-%s.%s'\n", dir, p->wl[w].name, ext);
        fprintf(f, "set title '%s: %s'\nset xlabel 'threads'\n", p->wl[w].name, GQ(p->wl[w].summary));
        fprintf(f, "set ylabel 'ops/s (one op = %s)'\nset yrange [0:*]\n", GQ(p->wl[w].op));
        fprintf(f, "plot ");
        for (int c = 0; c < p->ncfg; c++)
            fprintf(f, "%s'%s/scaling-%s.dat' using 1:%d:%d:%d with yerrorlines lw 2 title '%s'",
                    c ? ", \\\n     " : "", dir, p->wl[w].name, 2 + 3 * c, 3 + 3 * c, 4 + 3 * c,
                    p->cfg[c].name);
        fputc('\n', f);
    }
    int g = cmp_gil(p);
    if (g >= 0 && p->ncfg > 1) {
        fprintf(f, "\nset output '%s/single-thread-cost.%s'\n", dir, ext);
        fprintf(f, "set title 'Single-thread cost: gil ops/s / config ops/s at 1 thread (above 1 = slower than gil)'\n"
                   "set style data histograms\nset style histogram clustered gap 1\n"
                   "set style fill solid 0.8 border -1\nset xtics rotate by -30 autofreq\nset xrange [*:*]\n"
                   "set xlabel ''\nset ylabel 'time ratio to gil'\nset format y '%%g'\nset yrange [0:*]\n"
                   "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2\n");
        fprintf(f, "plot ");
        int col = 2;
        for (int c = 0; c < p->ncfg; c++) {
            if (c == g)
                continue;
            fprintf(f, "%s'%s/single-thread-cost.dat' using %d%s title '%s'", col > 2 ? ", \\\n     " : "",
                    dir, col, col == 2 ? ":xtic(1)" : "", p->cfg[c].name);
            col++;
        }
        fprintf(f, "\nunset arrow 1\nunset style\nset style data lines\nset xtics norotate\n");
    }
    for (int w = 0; w < p->nwl; w++) {
        if (strcmp(p->wl[w].name, "mp_vs_mt") != 0)
            continue;
        fprintf(f, "\nset output '%s/mp-vs-mt.%s'\n", dir, ext);
        fprintf(f, "set title 'The same CPU work in T threads or T processes'\nset xlabel 'threads or processes'\n"
                   "set ylabel 'ops/s'\nset format y '%%.1s%%c'\nset yrange [0:*]\nset xrange [%g:%g]\nset xtics (",
                p->threads[0] - 0.3, p->threads[p->nthreads - 1] + 0.3);
        for (int t = 0; t < p->nthreads; t++)
            fprintf(f, "%s%d", t ? ", " : "", p->threads[t]);
        fprintf(f, ")\nplot ");
        for (int c = 0; c < p->ncfg; c++)
            fprintf(f, "%s'%s/mp-vs-mt.dat' using 1:%d with linespoints lw 2 title '%s threads', "
                       "'%s/mp-vs-mt.dat' using 1:%d with linespoints lw 2 dt 2 title '%s processes'",
                    c ? ", \\\n     " : "", dir, 2 + 2 * c, p->cfg[c].name, dir, 3 + 2 * c, p->cfg[c].name);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int report_plots(cmp_plan *p, const char *dir)
{
    char gp[PATH_MAX + 32];
    snprintf(gp, sizeof gp, "%s/plots.gp", dir);
    if (write_dat(p, dir) != 0 || write_gp(p, dir, gp) != 0)
        return -1;
#ifdef GRT_GNUPLOT
    const char *gnuplot = GRT_GNUPLOT;
    if (access(gnuplot, X_OK) != 0) {
        fprintf(stderr, "gilrt compare: note: no plots: %s (found by configure) is gone; data and the "
                "script are in %s (run `gnuplot %s` once it is installed)\n", gnuplot, dir, gp);
        return 0;
    }
    char *argv[] = { (char *)gnuplot, gp, NULL };
    spawn_result r;
    if (spawn_run(argv, 120, 0, &r) != 0)
        return -1;
    int ok = r.exited && r.code == 0;
    if (!ok) {
        char why[400];
        fprintf(stderr, "gilrt compare: gnuplot failed (%s); data and script are in %s\n",
                spawn_describe(&r, why, sizeof why), dir);
    } else {
        fprintf(stderr, "gilrt compare: plots (%s) written to %s\n", p->plot_format, dir);
    }
    spawn_free(&r);
    return ok ? 0 : -1;
#else
    fprintf(stderr, "gilrt compare: note: no plots: gnuplot was not found when gilrt was configured "
            "(install gnuplot, re-run configure and make); the data and the script are in %s "
            "(`gnuplot %s` draws them)\n", dir, gp);
    return 0;
#endif
}
