/*
 * stress/stress_util.h — what the stress programs share: a seeded random
 * generator, option parsing, and running a trial in a forked child.
 *
 * Why a child per trial.  On the unsafe build the point of a run is that the
 * runtime breaks: counts go wrong, lists lose their items, memory is freed
 * under a live object, and the process may die of it.  Each trial therefore
 * runs in its own child, which writes what it measured into a shared page
 * as it goes; the parent reads the page whatever became of the child, so a
 * crash is a finding, not the end of the run.  The child's stderr (a fatal
 * "decref below zero", a debug-allocator report, a TSan report) is passed
 * through to ours.
 */
#ifndef GRT_STRESS_UTIL_H
#define GRT_STRESS_UTIL_H

#include <stdint.h>
#include <stdio.h>

/* xoshiro-style 64-bit generator seeded through splitmix64: fast, and a run
 * is replayed exactly from its seed (single-threaded use per instance). */
typedef struct stress_rng { uint64_t s[4]; } stress_rng;
void stress_rng_seed(stress_rng *r, uint64_t seed);
uint64_t stress_rng_next(stress_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t stress_rng_below(stress_rng *r, uint64_t n);
/* A seed from the clock and the pid, for runs without --seed. */
uint64_t stress_seed_from_clock(void);

/* Parse a non-negative decimal integer in [min, max]; on a bad value print
 * "<prog>: <opt> expects ..." to stderr and exit(2). */
uint64_t stress_parse_u64(const char *prog, const char *opt, const char *v, uint64_t min,
                          uint64_t max);

/* How a child trial ended. */
typedef enum stress_end {
    STRESS_END_OK = 0,        /* exited 0 */
    STRESS_END_FAILED,        /* exited non-zero (a failed check, a fatal error) */
    STRESS_END_SIGNAL,        /* killed by a signal (abort, segfault) */
    STRESS_END_TIMEOUT,       /* ran past its time limit and was killed */
} stress_end;

/* Memory shared with the children: `size` bytes, zeroed, MAP_SHARED.
 * Exits with a message if the mapping fails. */
void *stress_shared_alloc(size_t size);

/* Run fn(arg) in a forked child (which _exits with fn's return value) and
 * wait at most timeout_s seconds for it.  *detail receives the exit status or
 * the signal number.  The parent must not hold runtime state (call it before
 * grt_init or after grt_fini). */
stress_end stress_run_child(int (*fn)(void *), void *arg, unsigned timeout_s, int *detail);
const char *stress_end_name(stress_end e);

#endif
