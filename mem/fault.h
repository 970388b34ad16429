/*
 * mem/fault.h — allocation-failure injection (mem/fault.c), the hooks
 * mem/mem.c calls.  Internal to mem/; the public API is in gilrt/mem.h.
 *
 * While injection is armed, mem/mem.c keeps the inline obmalloc path off
 * (mem_xfast is 0), so every allocation and reallocation reaches the slow
 * path, which asks _grt_mem_fault_hit before it allocates.  While it is not
 * armed, nothing is counted and the fast path is what it always was.
 */
#ifndef GRT_MEM_FAULT_H
#define GRT_MEM_FAULT_H

#ifndef GRT_BUILD_CORE
#  error "mem/fault.h is internal to libgilrt"
#endif

#include <stdint.h>

/* 1 while a fail_at target or a fail_every period is set (atomic).  Hidden:
 * the slow path reads it with one rip-relative load, not through the GOT. */
extern uint32_t _grt_mem_fault_xarmed __attribute__((visibility("hidden")));

/* Count one allocation; 1 if it must fail (the caller then returns NULL
 * without allocating; no error is set here).  Call only while armed. */
int _grt_mem_fault_hit(void) __attribute__((visibility("hidden")));

/* At _grt_mem_init: read GRT_MEM_FAIL_AT and GRT_MEM_FAIL_EVERY into *at and
 * *every (0 when unset or empty), and GRT_MEM_FAIL_INIT into the count
 * _grt_mem_init_fault (mem_internal.h) uses.  -1 with a ValueError naming
 * the variable and its value when one is not a decimal integer in
 * 0..INT64_MAX; nothing is armed either way. */
int _grt_mem_fault_read_env(int64_t *at, int64_t *every);
/* At _grt_mem_init, once the allocator works: reset the counters (nothing
 * armed); at _grt_mem_init_done: arm what the environment asked for.  At _grt_mem_fini: disarm (the counters
 * stay readable until the next init).  Both leave mem_xfast to the caller. */
void _grt_mem_fault_init(int64_t at, int64_t every);
/* At _grt_mem_init_done: GRT_MEM_FAIL_INIT's count is spent or dropped. */
void _grt_mem_init_fault_done(void);
void _grt_mem_fault_fini(void);
/* In a fork child: the lock may have been held by a thread that is gone. */
void _grt_mem_fault_fork_child(void);

#endif
