/*
 * tests/test_gil.h — GIL property checks shared by tests/test_gil*.c.
 *
 * Each check starts the runtime with the named policy (grt_init with a
 * config, so the cases are TEST_NOINIT), runs threads, asserts, and shuts
 * the runtime down.  tests/test_gil.c runs them on the built-in policies,
 * tests/test_gil_user.c on a policy registered from outside the library.
 */
#ifndef GRT_TESTS_TEST_GIL_H
#define GRT_TESTS_TEST_GIL_H

#include "harness.h"

/* grt_init with policy and (if > 0) switch interval; T_FAIL on error. */
void tgil_start(const char *policy, int64_t switch_us);
/* grt_fini; T_FAIL on error. */
void tgil_stop(void);

/* 4 threads increment a plain counter under the GIL, with safepoints: no
 * increment is lost, and the GIL changed hands mid-work (yields >= 1). */
void tgil_check_exclusion(const char *policy);
/* The main thread holds the GIL while 4 threads queue one after the other;
 * they get it in that order. */
void tgil_check_arrival_order(const char *policy);
/* 4 CPU-bound threads each need 8 tenures; all finish.  If max_gap >= 0,
 * between two tenures of one thread at most max_gap other tenures happen. */
void tgil_check_progress(const char *policy, int max_gap);
/* A CPU-bound holder and one thread that attaches: the holder hands the GIL
 * over at the first safepoint after a drop request (a forced switch); with
 * timed = 1 the waiter waited at least one switch interval (classic's rule:
 * nobody asks sooner). */
void tgil_check_waiter(const char *policy, int timed);
/* The holder blocks in GRT_BEGIN_ALLOW_THREADS; another thread attaches
 * and wakes it.  Fails (instead of hanging) if the GIL was not released. */
void tgil_check_allow_threads(const char *policy);
/* Fork while another thread waits for the GIL: the child holds it, runs,
 * detaches and re-attaches, starts a thread (not under TSan). */
void tgil_check_fork(const char *policy);
/* 8 threads, 6 CPU-bound and 2 blocking now and then: nobody deadlocks. */
void tgil_check_mixed(const char *policy);

#endif
