/*
 * gil/gil_internal.h — what the thread machinery asks of the GIL.  Internal.
 */
#ifndef GRT_GIL_INTERNAL_H
#define GRT_GIL_INTERNAL_H

struct grt_tstate;

/* Select the policy (cfg->gil; NULL = the variant's default).  -1 with a
 * ValueError listing the valid names, or "off" in the gil build. */
int  _grt_gil_init(const grt_config *cfg);
void _grt_gil_fini(void);
/* 1 if a GIL policy other than "off" is active. */
int  _grt_gil_enabled(void);
/* Acquire on attach, release on detach (called with ts's state changing). */
void _grt_gil_acquire(struct grt_tstate *ts);
void _grt_gil_release(struct grt_tstate *ts);
/* Safepoint slow path when GRT_BREAK_GIL_DROP or GRT_BREAK_GIL_TICK is set. */
void _grt_gil_on_safepoint(struct grt_tstate *ts);
/* In the fork child: reinitialise, held by ts. */
void _grt_gil_fork_child(struct grt_tstate *ts);

#endif
