/*
 * tools/demo.h — what the demos of `gilrt demo` share (tools/demo.c,
 * tools/demo_race.c).
 */
#ifndef GRT_TOOLS_DEMO_H
#define GRT_TOOLS_DEMO_H

#include "gilrt.h"
#include <stddef.h>

typedef struct demo_opts {
    const char *variants, *variant, *threads, *modes;
    long ops, objects, children, count;
    double seconds;
    int repeat;
    int nrest;
    char **rest;            /* convoy: passed to the convoy program */
} demo_opts;

/* Parse a demo's options into *o; --help prints usage and exits.  0, or -1
 * with a message. */
int demo_parse(int argc, char **argv, demo_opts *o, const char *usage);
/* The variants to run: those in list (or def) whose runner exists; their
 * count (0 with a message when none). */
int demo_pick_variants(const char *list, const char *def, char names[][16], int max);
/* Run argv and parse its JSON line into o; on failure the reason in words. */
int demo_run_json(char **argv, double timeout, jobj *o, char *why, size_t n);
/* 1234567 -> "1,234,567"; "?" if not finite. */
const char *demo_commas(double v, char *b, size_t n);
/* A progress note on stderr when it is a terminal; status(NULL) clears it. */
void demo_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int demo_race(int argc, char **argv);

#endif
