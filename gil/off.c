/*
 * gil/off.c — no GIL (PYTHON_GIL=0 on free-threaded CPython).
 *
 * gil/gil.c never calls these while "off" is active (grt_gil_enabled() is 0
 * and the wrappers return at once); the table exists so that "off" is a
 * registered name like any other.  Refused by the gil build, whose plain
 * refcounts need a GIL.
 */
#include "gil_policy.h"

static void off_acquire(grt_gil_thread *t, grt_gil_reason why) { (void)t; (void)why; }
static void off_release(grt_gil_thread *t, grt_gil_reason why) { (void)t; (void)why; }

const grt_gil_ops _grt_gil_off_ops = {
    .summary = "no GIL: threads run in parallel (atomic, brc; unsafe for demos)",
    .acquire = off_acquire,
    .release = off_release,
};
