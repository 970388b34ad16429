/*
 * tools/gilrt.h — the pieces of the `gilrt` command (not linked with any
 * variant: it runs bench/gilrt-bench-<variant> and friends as processes).
 *
 *   gilrt.c    main, usage, where the runners are
 *   compare.c  `gilrt compare`: the plan, the runs, the medians
 *   report.c   the table, JSON, CSV and gnuplot output of compare
 *   demo.c     `gilrt demo NAME` (demo_race.c: the race demo; demo.h)
 *   spawn.c    run a program with a time limit, capture its output
 *   jsonl.c    read the one-line JSON objects the runners print
 */
#ifndef GRT_TOOLS_GILRT_H
#define GRT_TOOLS_GILRT_H

#include <limits.h>
#include <stdio.h>

/* ---- gilrt.c --------------------------------------------------------------------- */

/* The directory of the runners (GRT_BENCH_DIR, else ../bench next to this
 * program in a build tree, else the installed pkglibexecdir). */
const char *gilrt_bench_dir(void);
/* Path of the runner of variant v into buf; 1 if it exists and is executable. */
int gilrt_runner(const char *variant, char *buf, size_t n);
/* Path of a helper program of another folder of the build tree
 * (e.g. "stress", "race-gil"); 1 if it exists. */
int gilrt_sibling(const char *folder, const char *name, char *buf, size_t n);
/* Online cores. */
int gilrt_cores(void);
/* The 1-minute load average (/proc/loadavg), -1 if unknown. */
double gilrt_loadavg(void);
/* Threads of other processes running or ready to run, averaged over half a
 * second (/proc/loadavg's running count); -1 if unknown. */
double gilrt_busy(void);
/* Parse "1,2,4" or "1-4" into out (at most max); count, or -1 with a message. */
int gilrt_parse_int_list(const char *s, int *out, int max, const char *opt);

extern const char *const gilrt_all_variants[];   /* gil, atomic, brc, unsafe */
/* 1 if the first len bytes of name are one of gilrt_all_variants. */
int gilrt_variant_known(const char *name, size_t len);

/* ---- compare.c / demo.c ---------------------------------------------------------- */
int gilrt_compare(int argc, char **argv);
int gilrt_demo(int argc, char **argv);

/* ---- spawn.c --------------------------------------------------------------------- */
typedef struct spawn_result {
    int exited;          /* 1 if it exited normally */
    int code;            /* exit status, or the signal number if !exited */
    int timed_out;       /* killed at the time limit */
    char *out, *err;     /* captured output, NUL-terminated (NULL when passed through) */
    double seconds;
} spawn_result;

/* Run argv[0] with argv, killing its process group after timeout_s.  With
 * passthrough, stdout and stderr go to ours; otherwise both are captured.
 * 0 if it could be started (look at r), -1 with a message on stderr. */
int spawn_run(char *const argv[], double timeout_s, int passthrough, spawn_result *r);
void spawn_free(spawn_result *r);
/* "exit status 1: <last line of stderr>", "killed by SIGSEGV", "timed out
 * after 60 s" into buf. */
const char *spawn_describe(const spawn_result *r, char *buf, size_t n);

/* ---- jsonl.c --------------------------------------------------------------------- */
enum { JV_NULL, JV_NUM, JV_STR, JV_RAW };   /* RAW: an array kept as text */

typedef struct jfield {
    char key[64];        /* nested objects flatten to "outer.inner" */
    int type;
    double num;
    char *str;           /* JV_STR, JV_RAW */
} jfield;

typedef struct jobj {
    jfield *f;
    int n, cap;
} jobj;

/* Parse the first line of s that starts with '{'.  0, or -1 (o is empty). */
int json_parse(const char *s, jobj *o);
void json_free(jobj *o);
const jfield *json_get(const jobj *o, const char *key);
double json_num(const jobj *o, const char *key);          /* NAN if absent or not a number */
const char *json_str(const jobj *o, const char *key);     /* "" if absent */
/* Write s as a JSON string literal. */
void json_write_str(FILE *f, const char *s);
/* Write a number, null if not finite. */
void json_write_num(FILE *f, double v);

/* ---- numbers ---------------------------------------------------------------------- */
/* "412.3M", "1.20k", "981" */
const char *fmt_si(double v, char *buf, size_t n);

#endif
