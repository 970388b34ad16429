/*
 * gil/gil_internal.h — what the thread machinery asks of the GIL.  Internal.
 *
 * The core (runtime/tstate.c) calls these; gil/gil.c runs them through the
 * active policy's operations (include/gilrt/gil.h).  While a policy other
 * than "off" is active: _grt_gil_acquire returns with ts holding the GIL and
 * ts->holds_gil set; _grt_gil_release clears ts->holds_gil and gives the GIL
 * up; nobody but ts touches ts->holds_gil.  With "off" all of them return at
 * once and holds_gil stays false.
 */
#ifndef GRT_GIL_INTERNAL_H
#define GRT_GIL_INTERNAL_H

struct grt_tstate;

/* Select the policy (cfg->gil; NULL = the variant's default) and take over
 * cfg->switch_interval_us and cfg->check_interval.  -1 with a ValueError
 * listing the valid names, or for "off" in the gil build; -1 with the
 * policy's error if its init fails. */
int  _grt_gil_init(const grt_config *cfg);
/* After the main thread released the GIL for the last time. */
void _grt_gil_fini(void);
/* 1 if a GIL policy other than "off" is active. */
int  _grt_gil_enabled(void);
/* Acquire on attach (before ts becomes ATTACHED), release on detach (after
 * ts became DETACHED). */
void _grt_gil_acquire(struct grt_tstate *ts);
void _grt_gil_release(struct grt_tstate *ts);
/* Safepoint slow path when GRT_BREAK_GIL_DROP or GRT_BREAK_GIL_TICK is set:
 * may release and re-acquire the GIL (a yield). */
void _grt_gil_on_safepoint(struct grt_tstate *ts);
/* In the fork child (ts is the only thread left): reinitialise, held by ts. */
void _grt_gil_fork_child(struct grt_tstate *ts);

#endif
