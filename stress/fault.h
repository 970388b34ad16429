/*
 * stress/fault.h — allocation-failure injection for the fault sweep
 * (stress/fault.c), SQLite-style: make the k-th allocation from now fail, or
 * every n-th.
 *
 * The seam.  Every object and container buffer of gilrt comes from
 * _grt_mem_alloc / _grt_mem_realloc (mem/mem_internal.h).  The fault programs
 * link the library statically with `-Wl,--wrap=_grt_mem_alloc
 * -Wl,--wrap=_grt_mem_realloc`, so that every call from another file of the
 * library lands in stress/fault_hook.c, which fails it on demand and
 * otherwise calls the real one.  (Calls inside mem/ itself, e.g. from
 * grt_mem_malloc, are not wrapped.)  An allocator-level hook would make this
 * available to every build; until mem/ has one, this seam needs no change
 * outside stress/.
 *
 * Environment (read at the first allocation): GRT_MEM_FAIL_AT=k fails the
 * k-th allocation of the process; GRT_MEM_FAIL_EVERY=n fails every n-th.
 * The counters are atomic: allocations from any thread count.
 */
#ifndef GRT_STRESS_FAULT_H
#define GRT_STRESS_FAULT_H

#include <stdint.h>

/* Fail the k-th allocation from now (k >= 1), once; 0 turns it off. */
void stress_fault_fail_at(uint64_t k);
/* Fail every n-th allocation from now (n >= 1); 0 turns it off. */
void stress_fault_fail_every(uint64_t n);
/* Turn injection off (both modes). */
void stress_fault_off(void);
/* Allocations seen since the process started (failed ones included). */
uint64_t stress_fault_allocations(void);
/* Failures injected since the process started. */
uint64_t stress_fault_injected(void);

#endif
