/*
 * mem/mem.c — allocator selection and the entry points everything calls.
 *
 * _grt_mem_init picks a backend by name (cfg->allocator, from GRT_MALLOC).
 * The entry points test one flag, mem_xfast: while it is 1 (obmalloc, not
 * tracing, no failure injection armed) they run obmalloc's inline fast path;
 * otherwise they go through the slow path: failure injection first when it
 * is armed (mem/fault.c), then the backend's table, through the tracer when
 * tracing is on.  The flag changes only at init, fini, tracing start/stop and
 * arming/disarming injection; a thread that reads a stale value is still
 * right, because every backend path and the inline path agree on obmalloc's
 * blocks, the tracer tolerates frees of blocks it never saw, and injection
 * promises nothing about an allocation racing with the call that arms it.
 */
#include "backend.h"
#include "fault.h"
#include <malloc.h>

static const mem_backend *mem_cur = &_grt_mem_obmalloc;
static uint32_t mem_xfast;              /* atomic: inline obmalloc path allowed */
static uint32_t mem_xinitialized;       /* atomic */

const mem_backend *_grt_mem_backend(void) { return mem_cur; }

/* Callers change the inputs (init, tracing, injection) from different
 * threads: the lock keeps a recomputation from storing a value computed from
 * inputs another one has since changed. */
static pthread_mutex_t mem_fast_lock = PTHREAD_MUTEX_INITIALIZER;

void _grt_mem_update_fast(void)
{
    pthread_mutex_lock(&mem_fast_lock);
    uint32_t fast = grt_atomic_load_32(&mem_xinitialized) && mem_cur == &_grt_mem_obmalloc
                    && !grt_atomic_load_32(&_grt_mem_xtracing)
                    && !grt_atomic_load_32(&_grt_mem_fault_xarmed);
    grt_atomic_store_32(&mem_xfast, fast);
    pthread_mutex_unlock(&mem_fast_lock);
}

/* ---- obmalloc's table (the inline paths are in obmalloc.h) ------------------------- */
const mem_backend _grt_mem_obmalloc = {
    "obmalloc", _grt_obm_alloc, _grt_obm_realloc, _grt_obm_free, _grt_obm_block_size,
};

/* ---- the system allocator -------------------------------------------------------------
 * Counted like obmalloc's large blocks, so that the statistics' live-block
 * count means the same thing under every allocator.  glibc's malloc aligns
 * every block to 16 on x86-64; a malloc interposed on it (mimalloc, say)
 * may align small sizes to 8 only, unless the size is a multiple of 16:
 * requests are rounded up, which costs glibc nothing (its chunks are
 * 16-byte multiples anyway). */
static size_t sys_round(size_t n) { return n ? (n + 15) & ~(size_t)15 : 16; }
static void *sys_alloc(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX) return NULL;
    void *p = malloc(sys_round(n));
    if (p) mem_count_large(1, 0);
    return p;
}
static void *sys_realloc(void *p, size_t n)
{
    if (!p) return sys_alloc(n);
    if (n > (size_t)PTRDIFF_MAX) return NULL;
    return realloc(p, sys_round(n));
}
static void sys_free(void *p)
{
    if (!p) return;
    mem_count_large(-1, 0);
    free(p);
}
static size_t sys_block_size(const void *p) { return malloc_usable_size((void *)p); }
const mem_backend _grt_mem_system = { "malloc", sys_alloc, sys_realloc, sys_free, sys_block_size };

#ifdef GRT_HAVE_MIMALLOC
#  define MEM_VALID_NAMES "obmalloc, malloc, mimalloc, debug"
#else
#  define MEM_VALID_NAMES "obmalloc, malloc, debug"
#endif

/* ---- selection and lifetime ---------------------------------------------------------------- */

/* What GRT_MEM_FAIL_AT / GRT_MEM_FAIL_EVERY asked for: read (and checked)
 * by _grt_mem_init, armed by _grt_mem_init_done at the end of grt_init, so
 * that grt_init's own allocations (the types, the intern table) are neither
 * counted nor failed. */
static int64_t mem_env_fail_at, mem_env_fail_every;

int _grt_mem_init(const grt_config *cfg)
{
    const char *name = cfg && cfg->allocator ? cfg->allocator : "obmalloc";
    const mem_backend *b;
    int64_t fail_at, fail_every;
    if (_grt_mem_fault_read_env(&fail_at, &fail_every) != 0)
        return -1;                      /* before anything exists: nothing to undo */
    mem_env_fail_at = fail_at;
    mem_env_fail_every = fail_every;
    if (strcmp(name, "obmalloc") == 0) b = &_grt_mem_obmalloc;
    else if (strcmp(name, "malloc") == 0) b = &_grt_mem_system;
    else if (strcmp(name, "debug") == 0) b = &_grt_mem_debug;
    else if (strcmp(name, "mimalloc") == 0) {
#ifdef GRT_HAVE_MIMALLOC
        if (_grt_mimalloc_load() != 0)
            return -1;
        b = &_grt_mem_mimalloc;
#else
        grt_err_set(GRT_ERR_VALUE, "allocator 'mimalloc' was not built in: configure did not "
                    "find libmimalloc (apt-get install libmimalloc-dev, then reconfigure); "
                    "valid: " MEM_VALID_NAMES);
        return -1;
#endif
    } else {
        grt_err_set(GRT_ERR_VALUE, "unknown allocator '%s' (GRT_MALLOC / grt_config.allocator); "
                    "valid: " MEM_VALID_NAMES, name);
        return -1;
    }
    if (grt_atomic_load_32(&mem_xinitialized)) {
        grt_err_set(GRT_ERR_STATE, "_grt_mem_init: the allocator is already initialised");
        return -1;
    }
    /* Every backend keeps per-thread heaps: they hold the counters.  Sets
     * the error: a malformed GRT_MEM_DECAY_MS, or out of memory. */
    if (_grt_obm_init() != 0)
        return -1;
    if (b == &_grt_mem_debug)
        _grt_debug_init();
    mem_cur = b;
    grt_atomic_store_32(&mem_xinitialized, 1);
    _grt_mem_fault_init(0, 0);          /* counters reset, nothing armed yet */
    return 0;
}

void _grt_mem_init_done(void)
{
    _grt_mem_init_fault_done();
    if (mem_env_fail_at || mem_env_fail_every)
        _grt_mem_fault_init(mem_env_fail_at, mem_env_fail_every);   /* recomputes mem_xfast */
}

void _grt_mem_fini(void)
{
    if (!grt_atomic_load_32(&mem_xinitialized))
        return;
    _grt_trace_fini();
    _grt_mem_fault_fini();
    grt_atomic_store_32(&mem_xinitialized, 0);
    _grt_mem_update_fast();
    if (mem_cur == &_grt_mem_debug)
        _grt_debug_fini();
    _grt_obm_fini();
}

void _grt_mem_thread_init(grt_tstate *ts) { _grt_obm_thread_init(ts); }
void _grt_mem_thread_fini(grt_tstate *ts) { _grt_obm_thread_fini(ts); }

void _grt_mem_fork_child(grt_tstate *ts)
{
    pthread_mutex_init(&mem_fast_lock, NULL);     /* its holder may be gone */
    _grt_mem_fault_fork_child();
    _grt_obm_fork_child(ts);
    _grt_trace_fork_child();
    if (mem_cur == &_grt_mem_debug)
        _grt_debug_fork_child();
}

const char *grt_mem_allocator(void) { return mem_cur->name; }

/* ---- the entry points ---------------------------------------------------------------------- */

/* The backend's operation, through the tracer while tracing. */
static inline void *mem_alloc_backend(size_t n, void *ra)
{
    if (grt_atomic_load_32(&_grt_mem_xtracing))
        return _grt_trace_alloc(mem_cur, n, ra);
    return mem_cur->alloc(n);
}

static inline void *mem_realloc_backend(void *p, size_t n, void *ra)
{
    if (grt_atomic_load_32(&_grt_mem_xtracing))
        return _grt_trace_realloc(mem_cur, p, n, ra);
    return mem_cur->realloc(p, n);
}

/* While injection is armed (mem/fault.c): count, and fail on demand.  Out of
 * line, so that the slow path pays one load and one branch for it when it
 * is off and stays a tail call into the backend. */
static __attribute__((noinline)) void *mem_alloc_armed(size_t n, void *ra)
{
    if (_grt_mem_fault_hit())
        return NULL;                    /* injected: nothing allocated */
    return mem_alloc_backend(n, ra);
}

static __attribute__((noinline)) void *mem_realloc_armed(void *p, size_t n, void *ra)
{
    if (_grt_mem_fault_hit())
        return NULL;                    /* injected: p untouched */
    return mem_realloc_backend(p, n, ra);
}

static __attribute__((noinline)) void *mem_alloc_slow(size_t n, void *ra)
{
    if (GRT_UNLIKELY(!grt_atomic_load_32(&mem_xinitialized)))
        _grt_fatal("gilrt allocator used before grt_init or after grt_fini");
    if (GRT_UNLIKELY(grt_atomic_load_32(&_grt_mem_fault_xarmed)))
        return mem_alloc_armed(n, ra);
    return mem_alloc_backend(n, ra);
}

static __attribute__((noinline)) void *mem_realloc_slow(void *p, size_t n, void *ra)
{
    if (GRT_UNLIKELY(!grt_atomic_load_32(&mem_xinitialized)))
        _grt_fatal("gilrt allocator used before grt_init or after grt_fini");
    if (GRT_UNLIKELY(grt_atomic_load_32(&_grt_mem_fault_xarmed)))
        return mem_realloc_armed(p, n, ra);
    return mem_realloc_backend(p, n, ra);
}

static __attribute__((noinline)) void mem_free_slow(void *p)
{
    if (GRT_UNLIKELY(!grt_atomic_load_32(&mem_xinitialized)))
        _grt_fatal("gilrt allocator: free of %p before grt_init or after grt_fini", p);
    if (grt_atomic_load_32(&_grt_mem_xtracing))
        _grt_trace_free(mem_cur, p);
    else
        mem_cur->free(p);
}

static inline void *mem_alloc(size_t n, void *ra)
{
    if (GRT_LIKELY(grt_atomic_load_32(&mem_xfast)))
        return mem_obm_alloc(n);
    return mem_alloc_slow(n, ra);
}

static inline void *mem_realloc(void *p, size_t n, void *ra)
{
    if (GRT_LIKELY(grt_atomic_load_32(&mem_xfast)))
        return _grt_obm_realloc(p, n);
    return mem_realloc_slow(p, n, ra);
}

static inline void mem_free(void *p)
{
    if (GRT_LIKELY(grt_atomic_load_32(&mem_xfast)))
        mem_obm_free(p);
    else
        mem_free_slow(p);
}

void *_grt_mem_alloc(size_t n) { return mem_alloc(n, __builtin_return_address(0)); }
void *_grt_mem_realloc(void *p, size_t n) { return mem_realloc(p, n, __builtin_return_address(0)); }
void _grt_mem_free(void *p) { mem_free(p); }

static void *mem_oom(size_t n, const char *func)
{
    grt_err_set(GRT_ERR_MEMORY, "%s: out of memory (%zu bytes)", func, n);
    return NULL;
}

/* grt_mem_malloc's slow paths: they set the MemoryError, so that the fast
 * path needs no check after them (and no registers kept across a call). */
static __attribute__((noinline)) void *mem_public_obm_slow(size_t n)
{
    void *p = _grt_obm_alloc_slow(n);
    return GRT_LIKELY(p != NULL) ? p : mem_oom(n, "grt_mem_malloc");
}

static __attribute__((noinline)) void *mem_public_alloc_slow(size_t n, void *ra)
{
    void *p = mem_alloc_slow(n, ra);
    return GRT_LIKELY(p != NULL) ? p : mem_oom(n, "grt_mem_malloc");
}

void *grt_mem_malloc(size_t n)
{
    if (GRT_LIKELY(grt_atomic_load_32(&mem_xfast)))
        return mem_obm_alloc_with(n, mem_public_obm_slow);
    return mem_public_alloc_slow(n, __builtin_return_address(0));
}

void *grt_mem_realloc(void *p, size_t n)
{
    void *q = mem_realloc(p, n, __builtin_return_address(0));
    return GRT_LIKELY(q != NULL) ? q : mem_oom(n, "grt_mem_realloc");
}

void grt_mem_free(void *p) { mem_free(p); }

size_t _grt_mem_block_size(const void *p)
{
    return p ? mem_cur->block_size(p) : 0;
}

int grt_mem_size_class(size_t n)
{
    if (n > MEM_SMALL_MAX) return -1;
    return n ? (int)((n - 1) >> 4) : 0;
}

size_t grt_mem_class_size(int c)
{
    if (c < 0 || c >= MEM_NCLASSES) {
        grt_err_set(GRT_ERR_VALUE, "grt_mem_class_size: size class %d is not in 0..%d",
                    c, MEM_NCLASSES - 1);
        return 0;
    }
    return MEM_CLASS_SIZE(c);
}
