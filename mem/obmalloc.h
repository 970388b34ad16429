/*
 * mem/obmalloc.h — the small-object allocator's structures and fast paths.
 * Internal to mem/.
 *
 * Glossary (obmalloc's shape, DESIGN §3)
 *   block  what a caller gets: 16 to 512 bytes in 16-byte steps (32 size
 *          classes); a request of n bytes gets class (n - 1) / 16.  Larger
 *          requests go to the system allocator behind a 16-byte header.
 *   pool   16 KiB, 16 KiB-aligned: a 128-byte header, then blocks of one class.
 *   arena  1 MiB from mmap, 1 MiB-aligned: 64 pools.  Empty arenas go back to
 *          the OS (munmap) once they have stayed unused for a decay period
 *          (GRT_MEM_DECAY_MS, default 1 s; 0: at once), but for the
 *          MEM_KEEP_EMPTY newest, which a live heap keeps: "Empty arenas"
 *          in mem/obmalloc.c.
 *   heap   one per thread: the thread's arenas, and per class the list of its
 *          partially used pools.  New pools come from the heap's most-used
 *          arena (fewest free pools), so lightly used arenas can empty out.
 *
 * Ownership.  Every arena, and every pool carved from it, belongs to one heap
 * for its whole life: pool->heap is written when the pool is carved and does
 * not change while the pool has a block in use.  A heap belongs to one thread
 * (its owner), or, after the thread exited, it is *abandoned* and belongs to
 * whoever holds mem_heaps_lock.  Only the owner touches a heap's owner fields
 * and its pools' owner fields: no lock and no atomic on that path.
 *
 * Remote frees.  A thread freeing a block of a pool whose heap is not its own
 * pushes the block on pool->xremote (a Treiber stack: CAS).  The push that
 * finds xremote empty then pushes the pool on heap->xpending.  The owner takes
 * the whole xpending stack (CAS to NULL) and, for each pool it took, the whole
 * xremote list, and frees those blocks locally.  The owner never takes a
 * pool's xremote list except after taking that pool from xpending.  Why the
 * pusher may touch the pool after publishing its block: it does so only when
 * it made xremote non-empty, and then nobody can take that list (so no block
 * of the pool can return and the pool cannot be released) until the pusher
 * has put the pool on xpending.  Hence a pool is on xpending at most once, and
 * a pool on xpending has nused > 0.  Both stacks are pushed by many threads and
 * emptied whole by one, so neither suffers ABA.
 *
 * Abandoned heaps.  An exiting thread marks its heap abandoned (under
 * mem_heaps_lock), drains it and releases its empty arenas.  A remote free
 * into an abandoned heap takes mem_heaps_lock and frees the block into the
 * pool directly (so empty arenas return to the OS at once); a registering
 * thread adopts an abandoned heap with all its pools.  A push that raced with
 * abandonment is caught by the pusher's re-check of xabandoned after it
 * pushed the pool (Dekker: both sides do an RMW, then read the other's flag).
 *
 * Counting invariants.  The fast paths count nothing beyond pool->nused:
 *   pool->nused  blocks of the pool not on its free list, remote-pending ones
 *                included (owner field): 0 means the pool is released.  The
 *                live blocks of a pool are nused minus the length of its
 *                xremote list; grt_mem_stats sums that over every pool with the
 *                world stopped (mem/stats.c), as CPython walks its arenas.
 *   arena->nfree pools of the arena not carved (free list + never touched).
 * Slow paths keep per-heap counters, written by the owner with relaxed
 * stores and read by anyone:
 *   xpools[c]    pools of class c carved and not yet released;
 *   xfree_pools, xarenas: free pools in, and number of, the heap's arenas;
 *   xlarge_blocks, xlarge_bytes: += by the thread that allocates a large (or
 *                system-allocator) block, -= by the thread that frees one, in
 *                its own heap whichever heap allocated it: summed over heaps
 *                (plus the threads without a heap) they are exact.
 */
#ifndef GRT_MEM_OBMALLOC_H
#define GRT_MEM_OBMALLOC_H

#ifndef GRT_BUILD_CORE
#  error "mem/obmalloc.h is internal to libgilrt"
#endif

#include "../runtime/internal.h"
#include <stdint.h>
#include <pthread.h>

#define MEM_ALIGN          16
#define MEM_NCLASSES       GRT_MEM_NCLASSES            /* 32 */
#define MEM_SMALL_MAX      GRT_MEM_SMALL_MAX           /* 512 */
#define MEM_POOL_SIZE      GRT_MEM_POOL_SIZE           /* 16 KiB */
#define MEM_POOL_MASK      ((uintptr_t)MEM_POOL_SIZE - 1)
#define MEM_ARENA_SIZE     GRT_MEM_ARENA_SIZE          /* 1 MiB */
#define MEM_ARENA_SHIFT    20
#define MEM_POOLS_PER_ARENA (MEM_ARENA_SIZE / MEM_POOL_SIZE)  /* 64 */
#define MEM_POOL_OVERHEAD  128                          /* pool header, two cache lines */
#define MEM_KEEP_EMPTY     4                            /* empty arenas a live heap keeps
                                                           indefinitely (mem/obmalloc.c) */
#define MEM_DECAY_MS_DEFAULT 1000                       /* GRT_MEM_DECAY_MS's default */
#define MEM_DECAY_MS_MAX   3600000                      /* one hour */
#define MEM_DECAY_EVERY    16                           /* slow-path events per clock check */
#define MEM_CLASS_SIZE(c)  (((size_t)(c) + 1) * MEM_ALIGN)
#define MEM_POOL_CAPACITY(c) ((MEM_POOL_SIZE - MEM_POOL_OVERHEAD) / MEM_CLASS_SIZE(c))

typedef struct mem_block { struct mem_block *next; } mem_block;
typedef struct mem_pool mem_pool;
typedef struct mem_arena mem_arena;
typedef struct mem_heap mem_heap;

/* At the start of every pool.  Owner fields first; the fields other threads
 * write (xremote, pending_next) sit on their own cache line so remote frees
 * do not bounce the line the owner's fast path uses. */
struct mem_pool {
    mem_block *freeblock;       /* free list; NULL iff the pool is full (then it is on
                                   no list); never NULL while on heap->used[szidx] */
    uint32_t nused;             /* blocks not on the free list (remote-pending included) */
    uint32_t szidx;             /* size class */
    uint32_t nextoffset;        /* next never-used block, bytes from the pool start */
    uint32_t maxnextoffset;     /* last offset at which a whole block fits */
    mem_pool *nextpool;         /* heap->used[szidx] list (partially used), or the
                                   arena's free-pool list (released) */
    mem_pool *prevpool;         /* heap->used[szidx] list only */
    mem_arena *arena;
    mem_heap *heap;             /* constant while nused > 0 */
    _Alignas(64) void *xremote; /* blocks freed by other threads: atomic stack */
    mem_pool *pending_next;     /* link on heap->xpending (written by the pusher) */
};
_Static_assert(sizeof(mem_pool) <= MEM_POOL_OVERHEAD, "pool header fits its overhead");

/* Kept outside the arena (system malloc): the arena's pools are all usable. */
struct mem_arena {
    _Alignas(64) char *base;    /* 1 MiB-aligned; the struct fills its cache line */
    mem_heap *heap;
    mem_pool *freepools;        /* released pools (header and free list kept) */
    uint32_t nfree;             /* pools not carved: freepools + never touched */
    uint32_t ntouched;          /* pools [0, ntouched) were carved at least once */
    mem_arena *next, *prev;     /* heap->arenas[nfree] list */
    uint64_t empty_since;       /* decaying (mem/obmalloc.c): when it was pushed out of
                                   the kept empty arenas (_grt_now_ns) */
};

struct mem_heap {
    /* ---- owner fields ---- */
    mem_pool *used[MEM_NCLASSES];          /* partially used pools, head is allocated from */
    mem_arena *arenas[MEM_POOLS_PER_ARENA + 1]; /* arenas by number of free pools */
    uint64_t arena_mask;                   /* bit k-1 set iff arenas[k] (k >= 1) is non-empty */
    unsigned nempty;                       /* empty arenas (in arenas[64], newest first) */
    mem_arena *empty_oldest;               /* the last arena of arenas[64], NULL if none */
    unsigned decay_events;                 /* slow-path events since the last clock check */
    /* counters: written by the owner only (relaxed store), read by anyone */
    uint64_t xlarge_blocks;                /* see the counting invariants */
    uint64_t xlarge_bytes;
    uint64_t xpools[MEM_NCLASSES];
    uint64_t xfree_pools;                  /* released + never-touched pools in this heap's arenas */
    uint64_t xarenas;                      /* arenas this heap holds */
    /* ---- under mem_heaps_lock ---- */
    mem_heap *all_next;                    /* every heap, for stats, fork and fini */
    mem_heap *abandoned_next;              /* abandoned list */
    bool shared;                           /* the heap of threads without one */
    /* ---- written by other threads ---- */
    _Alignas(64) void *xpending;           /* pools with remote frees: atomic stack */
    uint32_t xabandoned;                   /* 1: no owner thread (atomic; written under the lock) */
};

/* The calling thread's heap, NULL if it has none.  initial-exec TLS. */
extern __thread mem_heap *_grt_mem_tls GRT_TLS_IE;

/* ---- which addresses are arena memory: a two-level radix map ----------------
 * One byte per 1 MiB of a 48-bit address space; leaves are created when an
 * arena is mapped and the arena's byte is set before any block of it exists,
 * and cleared before it is unmapped.  Entries are read and written with
 * relaxed atomics: a reader asks only about a block it holds (so the entry
 * cannot change under it) or about system-allocator memory (whose entry is 0). */
#define MEM_RADIX_LEAF_BITS 14
#define MEM_RADIX_TOP_BITS  (48 - MEM_ARENA_SHIFT - MEM_RADIX_LEAF_BITS)
extern uint8_t *_grt_mem_radix[1u << MEM_RADIX_TOP_BITS] __attribute__((visibility("hidden")));

/* A thread's own heap, in use: not the shared heap, not abandoned by an
 * exited thread.  Only such a heap keeps a standby pool (mem/obmalloc.c). */
static inline bool mem_heap_is_live_thread(mem_heap *h)
{
    return !h->shared && !grt_atomic_load_32(&h->xabandoned);
}

static inline bool mem_in_arena(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (GRT_UNLIKELY(a >> 48))
        return false;
    /* acquire: pairs with the release that published the zeroed leaf */
    uint8_t *leaf = grt_atomic_load_ptr_acq(
        (void *const *)&_grt_mem_radix[a >> (MEM_ARENA_SHIFT + MEM_RADIX_LEAF_BITS)]);
    return leaf && grt_atomic_load_8(&leaf[(a >> MEM_ARENA_SHIFT) & ((1u << MEM_RADIX_LEAF_BITS) - 1)]);
}

static inline mem_pool *mem_pool_of(const void *p)
{
    return (mem_pool *)((uintptr_t)p & ~MEM_POOL_MASK);
}

/* Bit i set: pool i of arena a is on its free-pool list (owner, or world
 * stopped).  Pools [ntouched, 64) were never carved. */
static inline uint64_t mem_arena_free_map(const mem_arena *a)
{
    uint64_t map = 0;
    for (const mem_pool *p = a->freepools; p; p = p->nextpool)
        map |= UINT64_C(1) << (((const char *)p - a->base) / MEM_POOL_SIZE);
    return map;
}

/* Owner-only counter update: a relaxed load and store, no lock prefix. */
static inline void mem_counter_add(uint64_t *x, int64_t d)
{
    grt_atomic_store_64(x, grt_atomic_load_64(x) + (uint64_t)d);
}

/* Count large (or system-allocator) blocks and bytes allocated (+) or freed
 * (-) by the calling thread. */
void _grt_obm_count_large_stray(int64_t blocks, int64_t bytes);
static inline void mem_count_large(int64_t blocks, int64_t bytes)
{
    mem_heap *h = _grt_mem_tls;
    if (GRT_LIKELY(h != NULL)) {
        mem_counter_add(&h->xlarge_blocks, blocks);
        if (bytes) mem_counter_add(&h->xlarge_bytes, bytes);
    } else {
        _grt_obm_count_large_stray(blocks, bytes);
    }
}

/* ---- slow paths (mem/obmalloc.c) ---------------------------------------------- */
void *_grt_obm_alloc_slow(size_t n);     /* any size */
void *_grt_obm_pool_refill(mem_heap *h, mem_pool *p, void *b);
void  _grt_obm_free_transition(mem_heap *h, mem_pool *p, bool was_full);
void  _grt_obm_free_remote(mem_pool *p, void *ptr);
void  _grt_obm_free_large(void *ptr);

/* ---- fast paths ---------------------------------------------------------------- */
/* The block from the head pool of the class, or slow(n) for everything else
 * (no pool, no heap, n == 0, large).  slow is a constant at every call site,
 * so it is called directly; both exits are tail calls. */
static inline void *mem_obm_alloc_with(size_t n, void *(*slow)(size_t))
{
    size_t c = (n - 1) >> 4;            /* n == 0 wraps around: taken by slow */
    mem_heap *h;
    mem_pool *p;
    if (GRT_LIKELY(c < MEM_NCLASSES && (h = _grt_mem_tls) != NULL && (p = h->used[c]) != NULL)) {
        mem_block *b = p->freeblock, *next = b->next;
        p->nused++;
        p->freeblock = next;
        if (GRT_UNLIKELY(next == NULL))
            return _grt_obm_pool_refill(h, p, b);
        return b;
    }
    return slow(n);
}

static inline void *mem_obm_alloc(size_t n) { return mem_obm_alloc_with(n, _grt_obm_alloc_slow); }

static inline void mem_obm_free(void *ptr)
{
    if (GRT_UNLIKELY(ptr == NULL))
        return;
    if (GRT_UNLIKELY(!mem_in_arena(ptr))) {
        _grt_obm_free_large(ptr);
        return;
    }
    mem_pool *p = mem_pool_of(ptr);
    mem_heap *h = _grt_mem_tls;
    if (GRT_LIKELY(p->heap == h)) {
        mem_block *b = ptr, *fb = p->freeblock;
        b->next = fb;
        p->freeblock = b;
        if (GRT_UNLIKELY(--p->nused == 0 || fb == NULL))
            _grt_obm_free_transition(h, p, fb == NULL);
        return;
    }
    _grt_obm_free_remote(p, ptr);
}

/* Out-of-line entry points for the debug allocator and the dispatcher. */
void *_grt_obm_alloc(size_t n);
void *_grt_obm_realloc(void *p, size_t n);
void  _grt_obm_free(void *p);
/* Class of a live block (0..31), or -1 for a large one; *size gets its
 * usable size. */
int _grt_obm_block_class(const void *p, size_t *size);
/* Usable size of a block from _grt_obm_alloc. */
size_t _grt_obm_block_size(const void *p);

/* Lifetime (mem/obmalloc.c). */
int  _grt_obm_init(void);
void _grt_obm_fini(void);
void _grt_obm_thread_init(struct grt_tstate *ts);
void _grt_obm_thread_fini(struct grt_tstate *ts);
void _grt_obm_fork_child(struct grt_tstate *ts);
/* Call fn on every heap under mem_heaps_lock (stats): with the world also
 * stopped, nobody is inside the allocator and fn may read owner fields. */
void _grt_obm_foreach_heap(void (*fn)(mem_heap *h, void *arg), void *arg);
/* Large-block counters of threads that had no heap, summed in by stats. */
void _grt_obm_stray_large(int64_t *blocks, int64_t *bytes);
/* Arena counters since init (allocated = mmaps, freed = munmaps; kept
 * after fini, so that a test can see that fini released every arena). */
void _grt_obm_arena_counts(uint64_t *allocated, uint64_t *freed, uint64_t *highwater);
/* Empty arenas the calling thread's heap holds (kept and decaying); 0
 * without a heap.  For tests. */
unsigned _grt_obm_empty_arenas(void);
/* The decay period in effect (GRT_MEM_DECAY_MS), milliseconds. */
int64_t _grt_obm_decay_ms(void);
/* A slow-path event outside the allocator (the end of a collection): give
 * the calling thread's decayed empty arenas back to the OS.  Cheap when it
 * has none.  Callable from attached threads.  (To move to mem_internal.h:
 * gc/ calls it.) */
void _grt_mem_release_decayed(void);
/* Verify the calling thread's heap (mem/check.c, for grt_mem_check); fatal
 * on corruption.  Returns the number of arenas and pools in use checked. */
size_t _grt_obm_check_heap(void);

/* ---- arenas (mem/arena.c): mmap'd, 1 MiB-aligned, registered in the radix map */
/* A fresh arena's memory (zeroed) or NULL. */
char *_grt_arena_map(void);
void  _grt_arena_unmap(char *base);
void  _grt_arena_fini(void);    /* free the radix leaves */

#endif
