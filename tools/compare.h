/*
 * tools/compare.h — the data of one `gilrt compare` run, shared by
 * compare.c (which fills it) and report.c (which prints it).
 *
 * A *config* is a variant with a GIL policy ("brc" = brc with its default,
 * GIL off; "brc+classic" = brc with the classic GIL turned on).  A *point* is
 * one (workload, config, thread count); it holds one sample per repetition.
 * Points are stored workload-major: pts[(w * ncfg + c) * nthreads + t].
 */
#ifndef GRT_TOOLS_COMPARE_H
#define GRT_TOOLS_COMPARE_H

#include "gilrt.h"

#define CMP_MAX_REPEAT 32
#define CMP_MAX_EXTRA 16
#define CMP_MAX_CFG 16
#define CMP_MAX_WL 32
#define CMP_MAX_THREADS 32

typedef struct cmp_config {
    char name[48];          /* "gil", "brc+classic" */
    char variant[16];
    char gil[32];           /* policy asked for; "" = the variant's default */
    char runner[PATH_MAX];
} cmp_config;

typedef struct cmp_workload {
    char name[32];
    char op[96];            /* what one op is */
    char summary[160];
} cmp_workload;

typedef struct cmp_stat {
    int n;                  /* samples */
    double median, min, max;
    double spread;          /* (max - min) / median */
} cmp_stat;

typedef struct cmp_point {
    int w, c, t;            /* indices into the plan's lists */
    int threads;
    int skipped;            /* not run: unsafe with more than one thread */
    /* Samples by repetition: [r] is from the point's run in repetition r,
     * NAN where that run failed (or reported no such metric), so that two
     * points' samples of the same repetition can be paired (cmp_ratio). */
    double ops[CMP_MAX_REPEAT];             /* ops/s */
    int nextra;
    char extra_key[CMP_MAX_EXTRA][48];
    double extra[CMP_MAX_EXTRA][CMP_MAX_REPEAT];
    char gil_used[32];      /* the policy the runner reported */
    int failures;
    char error[320];        /* the last failure, in words */
    cmp_stat st;            /* of ops, filled after the runs; st.n: the successful runs */
} cmp_point;

typedef struct cmp_plan {
    int quick, repeat, cores;
    double seconds, timeout;
    int threads[CMP_MAX_THREADS];
    int nthreads;
    cmp_config cfg[CMP_MAX_CFG];
    int ncfg;
    cmp_workload wl[CMP_MAX_WL];
    int nwl;
    cmp_point *pts;
    char json_path[PATH_MAX], csv_path[PATH_MAX], plot_dir[PATH_MAX];
    const char *plot_format;                /* "svg" or "png" */
    char date[64], host[256];
    double load_start;      /* 1-minute load average before the first run */
    double busy_start;      /* other runnable threads then (gilrt_busy) */
    double wall_seconds;
    int runs, failed_runs;
} cmp_plan;

static inline cmp_point *cmp_at(cmp_plan *p, int w, int c, int t)
{
    return &p->pts[(w * p->ncfg + c) * p->nthreads + t];
}

/* compare.c */
/* Statistics of v[0..n), NAN entries (failed runs) left out. */
cmp_stat cmp_stats(const double *v, int n);
/* Median of an extra metric at a point, NAN if absent. */
double cmp_extra(const cmp_plan *p, const cmp_point *pt, const char *key);
/* a's rate / b's rate, paired: the median over the repetitions in which
 * both ran of a's sample / b's sample of that repetition (ops/s, or the
 * extra metric key when not NULL); NAN if no repetition has both, or if
 * either point is NULL.  Pairing cancels the drift of a shared machine's
 * speed between repetitions, which a ratio of the two medians keeps. */
double cmp_ratio(const cmp_plan *p, const cmp_point *a, const cmp_point *b, const char *key);
/* Index of the thread count 1 in the plan, -1 if not measured. */
int cmp_t1(const cmp_plan *p);
/* Index of the config called name ("brc+classic"), -1 if not measured. */
int cmp_find_config(const cmp_plan *p, const char *name);
/* Index of the plain "gil" config, -1 if not measured. */
int cmp_gil(const cmp_plan *p);
/* The gil build's point at 1 thread for workload w, NULL if not measured. */
cmp_point *cmp_gil_point(cmp_plan *p, int w);

/* report.c */
void report_table(cmp_plan *p, FILE *f);
int report_json(cmp_plan *p, const char *path);
int report_csv(cmp_plan *p, const char *path);
int report_plots(cmp_plan *p, const char *dir);

#endif
