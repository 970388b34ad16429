/*
 * mem/backend.h — the allocators behind _grt_mem_alloc, and the hooks the
 * tracer and the debug allocator share.  Internal to mem/.
 *
 * One table of operations per allocator (obmalloc, malloc, mimalloc, debug);
 * mem/mem.c picks one at init.  The hot path never goes through the table:
 * while the allocator is obmalloc and tracing is off, _grt_mem_alloc and
 * _grt_mem_free inline obmalloc's fast paths (mem/obmalloc.h).
 */
#ifndef GRT_MEM_BACKEND_H
#define GRT_MEM_BACKEND_H

#include "obmalloc.h"

typedef struct mem_backend {
    const char *name;
    void *(*alloc)(size_t n);               /* NULL on failure, no error set */
    void *(*realloc)(void *p, size_t n);    /* NULL on failure, p untouched */
    void  (*free)(void *p);                 /* NULL ignored */
    size_t (*block_size)(const void *p);    /* usable size of a live block */
} mem_backend;

extern const mem_backend _grt_mem_obmalloc, _grt_mem_system, _grt_mem_debug;
#ifdef GRT_HAVE_MIMALLOC
extern const mem_backend _grt_mem_mimalloc;
/* Load libmimalloc (mem/mimalloc.c); -1 with a ValueError saying why not. */
int _grt_mimalloc_load(void);
#endif

/* The backend chosen at init. */
const mem_backend *_grt_mem_backend(void);
/* Recompute whether the inline obmalloc path may be taken (after the backend
 * or the tracing state changed). */
void _grt_mem_update_fast(void);

/* ---- tracing (mem/trace.c) ---------------------------------------------------- */
extern uint32_t _grt_mem_xtracing;          /* atomic: 1 while tracing */
/* The backend's operation, plus recording.  ra: the return address of the
 * public entry point (where the caller's frames begin). */
void *_grt_trace_alloc(const mem_backend *b, size_t n, void *ra);
void *_grt_trace_realloc(const mem_backend *b, void *p, size_t n, void *ra);
void  _grt_trace_free(const mem_backend *b, void *p);
size_t _grt_trace_current(void);
void  _grt_trace_fini(void);
void  _grt_trace_fork_child(void);

/* Where a block was allocated, for the debug allocator's reports: a handle
 * that stays printable while the same tracing session lasts. */
typedef struct mem_site_ref {
    const void *tb;             /* the tracer's interned traceback, NULL if unknown */
    uint64_t generation;        /* tracing session it belongs to */
} mem_site_ref;
/* The site of live block p, or of the block being freed or reallocated by
 * this thread right now.  tb NULL if not traced. */
mem_site_ref _grt_trace_site_of(const void *p);
/* Print "    at <frame>" lines for ref to f, or a hint to start tracing. */
void _grt_trace_print_site(FILE *f, mem_site_ref ref);

/* ---- snapshots (mem/snapshot.c; taken in mem/trace.c) ---------------------------- */
struct grt_mem_snapshot {
    size_t n;
    grt_mem_site *sites;
    void **frames;              /* every site's frames, back to back */
    size_t total_size, total_count;
};
/* Room for nsites sites and nframes frames (zeroed); NULL if out of memory. */
grt_mem_snapshot *_grt_snapshot_alloc(size_t nsites, size_t nframes);
/* Largest sites first (size, then count). */
void _grt_snapshot_sort_by_size(grt_mem_snapshot *s);

/* ---- the debug allocator (mem/debug.c) ------------------------------------------- */
void   _grt_debug_init(void);
void   _grt_debug_fini(void);
void   _grt_debug_fork_child(void);
/* Verify the quarantine; returns the number of blocks checked. */
size_t _grt_debug_check(void);
/* Bytes callers requested in live debug blocks. */
size_t _grt_debug_requested(void);
/* Add the quarantined blocks (live to obmalloc, freed to the caller): per
 * small class, and large ones with their bytes. */
void   _grt_debug_quarantined(int64_t per_class[MEM_NCLASSES], int64_t *large_blocks,
                              int64_t *large_bytes);

#endif
