/*
 * bench/args.h — numbers on the command lines of the bench programs
 * (gilrt-bench-<variant>, gc-, alloc-, convoy-<variant>), parsed one way.
 *
 * The whole string must be the number, and it must lie in the option's
 * range; anything else ends the program with exit status 2 and a message
 * that names the program, the option, the range and what was given.  The
 * range is checked on the 64-bit value before any narrowing, so that
 * `--threads 4294967296` is refused rather than truncated to 0 (which once
 * divided by zero) or to 1 (which ran one thread without a word).
 *
 * Header-only: the gc-, alloc- and convoy- programs link no bench objects.
 */
#ifndef GRT_BENCH_ARGS_H
#define GRT_BENCH_ARGS_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline __attribute__((noreturn)) void
bench_arg_die(const char *prog, const char *opt, const char *want, const char *v)
{
    if (v)
        fprintf(stderr, "%s: %s: expected %s, got '%s'\n", prog, opt, want, v);
    else
        fprintf(stderr, "%s: %s needs a value (%s)\n", prog, opt, want);
    exit(2);
}

/* The program's name for messages: argv[0] without its directory. */
static inline const char *bench_prog_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

/* The integer v, in [min, max]. */
static inline int64_t bench_arg_int(const char *prog, const char *opt, const char *v,
                                    int64_t min, int64_t max)
{
    char want[96], *end;
    snprintf(want, sizeof want, "an integer %" PRId64 "..%" PRId64, min, max);
    if (!v || !*v)
        bench_arg_die(prog, opt, want, v);
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max)
        bench_arg_die(prog, opt, want, v);
    return n;
}

/* The number v, in (0, max]. */
static inline double bench_arg_positive(const char *prog, const char *opt, const char *v,
                                        double max)
{
    char want[64], *end;
    snprintf(want, sizeof want, "a number in (0, %g]", max);
    if (!v || !*v)
        bench_arg_die(prog, opt, want, v);
    double d = strtod(v, &end);
    if (*end || !(d > 0) || d > max)     /* !(d > 0) also refuses NaN */
        bench_arg_die(prog, opt, want, v);
    return d;
}

#endif
