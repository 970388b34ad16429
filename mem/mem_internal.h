/*
 * mem/mem_internal.h — the allocator interface the rest of the library uses.
 * Internal.  Every object and every container buffer comes from here.
 *
 * The allocator (mem/) is chosen at init; its structures are described in
 * mem/obmalloc.h.  A block may be freed by any thread, including one that did
 * not allocate it and the thread running grt_fini; the allocating thread may
 * have exited.
 */
#ifndef GRT_MEM_INTERNAL_H
#define GRT_MEM_INTERNAL_H

#include <stddef.h>

struct grt_tstate;

/* Select the allocator by name (cfg->allocator; NULL = "obmalloc").  -1 with a
 * ValueError listing the valid names for an unknown one. */
int  _grt_mem_init(const grt_config *cfg);
/* The end of grt_init: arm the fault injection GRT_MEM_FAIL_AT/EVERY asked
 * for (counting starts here, after grt_init's own allocations). */
void _grt_mem_init_done(void);
/* GRT_MEM_FAIL_INIT=k: grt_init's steps that allocate after the allocator
 * is ready (1: the main thread's state, 2: the interning table) ask this
 * first; it answers 1 for the k-th such step, which then fails as if out of
 * memory, so that tests reach grt_init's unwinding.  0 otherwise, and always
 * after _grt_mem_init_done. */
int  _grt_mem_init_fault(void);
/* Release everything (arenas back to the OS).  No thread is attached but the caller. */
void _grt_mem_fini(void);
/* 16-byte aligned memory; NULL on failure (no error set: callers set
 * MemoryError).  Callable from attached threads.  realloc: p NULL acts as
 * alloc; on failure p is left as it was.  free: NULL is ignored. */
void *_grt_mem_alloc(size_t n);
void *_grt_mem_realloc(void *p, size_t n);
void  _grt_mem_free(void *p);
/* Thread lifetime: a registering thread gets its heap; an exiting thread's
 * pools are handed over (never leaked). */
void _grt_mem_thread_init(struct grt_tstate *ts);
void _grt_mem_thread_fini(struct grt_tstate *ts);
/* In a fork child: only the forking thread survives. */
void _grt_mem_fork_child(struct grt_tstate *ts);
/* Usable size of a live block (its size class under obmalloc, the requested
 * size for large and debug blocks); 0 for NULL. */
size_t _grt_mem_block_size(const void *p);
/* A slow-path event outside the allocator (the end of a collection): give
 * the calling thread's empty arenas that stayed unused for the decay period
 * (GRT_MEM_DECAY_MS) back to the OS.  Cheap when there are none.  Callable
 * from attached threads (mem/obmalloc.c). */
void _grt_mem_release_decayed(void);

#endif
