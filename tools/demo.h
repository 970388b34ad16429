/*
 * tools/demo.h — what the demos of `gilrt demo` share (tools/demo.c,
 * tools/demo_race.c).
 */
#ifndef GRT_TOOLS_DEMO_H
#define GRT_TOOLS_DEMO_H

#include "gilrt.h"
#include <stddef.h>

typedef struct demo_opts {
    const char *variants, *variant, *threads;
    long ops, objects, children, count;
    double seconds;
    int repeat;
    int nrest;
    char **rest;            /* convoy: passed to the convoy program */
} demo_opts;

/* The options a demo takes (demo_parse refuses the others, so that a
 * misplaced one is not silently ignored). */
enum {
    DEMO_OPT_VARIANTS = 1 << 0, DEMO_OPT_VARIANT = 1 << 1, DEMO_OPT_THREADS = 1 << 2,
    DEMO_OPT_SECONDS = 1 << 3, DEMO_OPT_OPS = 1 << 4, DEMO_OPT_OBJECTS = 1 << 5,
    DEMO_OPT_CHILDREN = 1 << 6, DEMO_OPT_COUNT = 1 << 7, DEMO_OPT_REPEAT = 1 << 8,
    DEMO_OPT_REST = 1 << 9      /* "-- ARGS" passed on */
};

/* Parse a demo's options into *o; --help prints usage and exits.  An option
 * not in `allowed` (DEMO_OPT_*), a bad value or a variant that does not
 * exist is refused: -1 with a message (exit status 2 for the caller). */
int demo_parse(int argc, char **argv, demo_opts *o, unsigned allowed, const char *usage);
/* The variants to run: those in list (or def) whose runner exists; their
 * count (0 with a message when none).  The names were checked by
 * demo_parse; a variant that exists but was not built is skipped with a
 * note. */
int demo_pick_variants(const char *list, const char *def, char names[][16], int max);
/* Run argv and parse its JSON line into o; on failure the reason in words. */
int demo_run_json(char **argv, double timeout, jobj *o, char *why, size_t n);
/* 1234567 -> "1,234,567"; "?" if not finite. */
const char *demo_commas(double v, char *b, size_t n);
/* A progress note on stderr when it is a terminal; status(NULL) clears it. */
void demo_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int demo_race(int argc, char **argv);

#endif
