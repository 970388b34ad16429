/*
 * mem/obmalloc.c — arenas, pools, blocks and per-thread heaps.
 *
 * The structures, their ownership and the remote-free protocol are described
 * in mem/obmalloc.h; the fast paths live there too.  This file holds the slow
 * paths (new pools, full and empty pools, arenas), remote frees, large
 * blocks, and the heaps' lifetime (thread start and exit, fork, fini).
 *
 * Locks: mem_heaps_lock guards the heap lists and every abandoned heap
 * (including the shared heap that threads without a heap allocate from).  It
 * is never held while waiting for anything else, and never on the fast path.
 *
 * Empty arenas: kept, then decayed back to the OS.  Invariant: a heap's
 * empty arenas are the list h->arenas[64], most recently emptied first; an
 * abandoned thread heap has none.  New pools come from the head, whose
 * pages are the most likely to be still resident and cached.  The first
 * MEM_KEEP_EMPTY are kept while the heap lives; the ones after them are
 * *decaying*: each was stamped (a->empty_since) when a newer empty arena
 * pushed it out of the kept ones, so the stamps never increase along that
 * part of the list, and each is released (munmap) once it has decayed for
 * the decay period, GRT_MEM_DECAY_MS (read at grt_init; default
 * MEM_DECAY_MS_DEFAULT, 1 s, the delay mimalloc's purge uses; jemalloc's
 * dirty decay is 10 s).  Decay 0 releases every arena beyond the kept ones
 * as soon as it empties.  Why: a program that frees and rebuilds a big
 * structure, as a collection freeing cyclic garbage and the next round
 * allocating it again do, would otherwise pay a munmap and, per MiB, an
 * mmap and 256 page faults, for memory it needs again milliseconds later.
 *
 * Nothing runs on a timer and the fast paths make no system call and read
 * no clock.  The decay is checked on slow paths of the owning heap only:
 * when an arena empties beyond the kept ones (the clock is read then, to
 * stamp the arena pushed out), at every MEM_DECAY_EVERY-th pool carve or
 * release while some arena decays (else one compare), at the
 * end of every collection on the collecting thread's heap
 * (_grt_mem_release_decayed), and when the thread exits (its heap, abandoned,
 * releases all of them at once).  grt_fini releases every arena.  So memory
 * a program freed goes back to the OS within the decay period plus 16 slow
 * paths of the heap that owns it, or plus its next collection: a thread that
 * freed a big heap and then makes no slow-path call at all (no pool emptied
 * or carved, no collection) keeps at most what it freed until it does, exits
 * or grt_fini runs.  Arenas of other heaps are never touched: their owner
 * fields are theirs.
 */
#include "obmalloc.h"
#include <errno.h>
#include <stddef.h>

__thread mem_heap *_grt_mem_tls GRT_TLS_IE;

static pthread_mutex_t mem_heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static mem_heap *mem_heaps_all;         /* under mem_heaps_lock */
static mem_heap *mem_heaps_abandoned;   /* under mem_heaps_lock; the shared heap is never on it */
static mem_heap *mem_heap_shared;       /* set by _grt_obm_init */

/* Large-block counters of threads that had no heap of their own (atomic adds). */
static uint64_t mem_stray_large_blocks, mem_stray_large_bytes;
/* Arena counters since init (atomic). */
static uint64_t mem_arenas_allocated, mem_arenas_freed, mem_arenas_highwater;
/* The decay period in ns (GRT_MEM_DECAY_MS); written at init only, before
 * other threads exist, read with relaxed loads. */
static uint64_t mem_xdecay_ns = (uint64_t)MEM_DECAY_MS_DEFAULT * 1000000u;

/* Large blocks: malloc'd with this header in front (16 bytes keeps the
 * alignment).  The magic catches frees of foreign pointers and double frees. */
typedef struct mem_large_hdr {
    size_t size;
    uint64_t magic;
} mem_large_hdr;
#define MEM_LARGE_MAGIC UINT64_C(0x67726c6172676521)   /* "grlarge!" */
_Static_assert(sizeof(mem_large_hdr) == MEM_ALIGN, "large header keeps 16-byte alignment");

void _grt_obm_count_large_stray(int64_t blocks, int64_t bytes)
{
    grt_atomic_add_64(&mem_stray_large_blocks, (uint64_t)blocks);
    grt_atomic_add_64(&mem_stray_large_bytes, (uint64_t)bytes);
}

/* Take a whole lock-free stack: CAS it to NULL.  The CAS (seq_cst) is the
 * acquire that makes the pushers' writes to the items visible. */
static void *mem_take_all(void **slot)
{
    void *v;
    do {
        v = grt_atomic_load_ptr(slot);
        if (!v) return NULL;
    } while (!grt_atomic_cas_ptr(slot, v, NULL));
    return v;
}

/* ---- arenas of a heap, bucketed by free pools ----------------------------------- */

static void arena_link(mem_heap *h, mem_arena *a)
{
    unsigned k = a->nfree;
    a->prev = NULL;
    a->next = h->arenas[k];
    if (a->next) a->next->prev = a;
    else if (k == MEM_POOLS_PER_ARENA) h->empty_oldest = a;
    h->arenas[k] = a;
    if (k) h->arena_mask |= UINT64_C(1) << (k - 1);
}

static void arena_unlink(mem_heap *h, mem_arena *a)
{
    unsigned k = a->nfree;
    if (a->prev) a->prev->next = a->next;
    else h->arenas[k] = a->next;
    if (a->next) a->next->prev = a->prev;
    else if (k == MEM_POOLS_PER_ARENA) h->empty_oldest = a->prev;
    if (k && !h->arenas[k]) h->arena_mask &= ~(UINT64_C(1) << (k - 1));
}

static mem_arena *arena_new(mem_heap *h)
{
    /* its own cache line: its owner writes it at every pool carve and
     * release, and two heaps' arenas side by side in malloc's heap would
     * share a line (alloc_churn on 2 threads ran at 1.3x to 2.0x of 1) */
    void *mem;
    if (posix_memalign(&mem, 64, sizeof(mem_arena)) != 0) return NULL;
    mem_arena *a = mem;
    char *base = _grt_arena_map();
    if (!base) { free(a); return NULL; }
    /* linked as an empty arena (the only one: else none would have been
     * mapped) until pool_carve carves from it, at once */
    *a = (mem_arena){ .base = base, .heap = h, .nfree = MEM_POOLS_PER_ARENA };
    arena_link(h, a);
    h->nempty++;
    mem_counter_add(&h->xarenas, 1);
    mem_counter_add(&h->xfree_pools, MEM_POOLS_PER_ARENA);
    uint64_t cur = grt_atomic_faa_64(&mem_arenas_allocated, 1) + 1
                   - grt_atomic_load_64(&mem_arenas_freed);
    uint64_t hw = grt_atomic_load_64(&mem_arenas_highwater);
    while (cur > hw && !grt_atomic_cas_64(&mem_arenas_highwater, &hw, cur)) {}
    return a;
}

/* a is unlinked and empty. */
static void arena_free(mem_heap *h, mem_arena *a)
{
    GRT_ASSERT_INTERNAL(a->nfree == MEM_POOLS_PER_ARENA);
    _grt_arena_unmap(a->base);
    mem_counter_add(&h->xarenas, -1);
    mem_counter_add(&h->xfree_pools, -(int64_t)MEM_POOLS_PER_ARENA);
    grt_atomic_inc_64(&mem_arenas_freed);
    free(a);
}

/* ---- empty arenas: kept, then decayed (the block comment at the top) ---------------- */

/* Release h's oldest empty arenas while it holds more than MEM_KEEP_EMPTY and
 * the oldest has decayed for the whole decay period by `now` (any, when the
 * period is 0).  Caller owns h. */
static __attribute__((noinline)) void heap_decay(mem_heap *h, uint64_t now)
{
    uint64_t decay = grt_atomic_load_64(&mem_xdecay_ns);
    h->decay_events = 0;
    while (h->nempty > MEM_KEEP_EMPTY) {
        mem_arena *a = h->empty_oldest;
        if (decay && a->empty_since + decay > now)
            break;                          /* the older ones are newer still: done */
        arena_unlink(h, a);
        h->nempty--;
        arena_free(h, a);
    }
}

/* A pool carve or release: check the decay every MEM_DECAY_EVERY-th time
 * while there is something to decay (else a compare and a branch). */
static __attribute__((noinline, cold)) void heap_decay_check(mem_heap *h)
{
    heap_decay(h, _grt_now_ns());
}

static inline void heap_decay_tick(mem_heap *h)
{
    if (GRT_UNLIKELY(h->nempty > MEM_KEEP_EMPTY) && ++h->decay_events >= MEM_DECAY_EVERY)
        heap_decay_check(h);
}

/* Arena a (unlinked) just became empty: an abandoned thread heap frees it,
 * any other heap puts it at the head of its empty list.  If that pushes
 * the list past MEM_KEEP_EMPTY, the arena it pushes out of the kept ones
 * starts to decay: it is stamped now (the only clock read here, so that a
 * loop that empties and refills one arena never reads the clock), and the
 * oldest ones may go. */
static __attribute__((noinline)) void arena_emptied_beyond_kept(mem_heap *h, mem_arena *a)
{
    uint64_t now = 0;
    if (grt_atomic_load_64(&mem_xdecay_ns)) {
        now = _grt_now_ns();
        mem_arena *out = a;
        for (int k = 0; k < MEM_KEEP_EMPTY; k++)
            out = out->next;
        out->empty_since = now;
    }
    heap_decay(h, now);
}

static inline void arena_emptied(mem_heap *h, mem_arena *a)
{
    if (GRT_UNLIKELY(!h->shared && grt_atomic_load_32(&h->xabandoned))) {
        arena_free(h, a);
        return;
    }
    arena_link(h, a);
    if (GRT_UNLIKELY(++h->nempty > MEM_KEEP_EMPTY))
        arena_emptied_beyond_kept(h, a);
}

static void heap_release_standby(mem_heap *h);
static void heap_drain(mem_heap *h);

void _grt_mem_release_decayed(void)
{
    mem_heap *h = _grt_mem_tls;
    if (!h)
        return;
    /* blocks other threads freed into our pools: without this they waited
     * for a slow path of a class with no pool, and the arenas they emptied
     * stayed mapped through any number of collections */
    if (grt_atomic_load_ptr(&h->xpending))
        heap_drain(h);
    heap_release_standby(h);
    if (h->nempty > MEM_KEEP_EMPTY)
        heap_decay(h, _grt_now_ns());
}

unsigned _grt_obm_empty_arenas(void)
{
    mem_heap *h = _grt_mem_tls;
    return h ? h->nempty : 0;
}

int64_t _grt_obm_decay_ms(void)
{
    return (int64_t)(grt_atomic_load_64(&mem_xdecay_ns) / 1000000u);
}

/* GRT_MEM_DECAY_MS: 0..MEM_DECAY_MS_MAX, or unset / empty for the default.
 * -1 with a ValueError naming the variable. */
static int obm_read_decay(void)
{
    int64_t ms = MEM_DECAY_MS_DEFAULT;
    const char *v = getenv("GRT_MEM_DECAY_MS");
    if (v && *v) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || *end || end == v || n < 0 || n > MEM_DECAY_MS_MAX) {
            grt_err_set(GRT_ERR_VALUE, "GRT_MEM_DECAY_MS='%s': expected a whole number of "
                        "milliseconds from 0 (empty arenas go back to the OS at once) to %d",
                        v, MEM_DECAY_MS_MAX);
            return -1;
        }
        ms = n;
    }
    grt_atomic_store_64(&mem_xdecay_ns, (uint64_t)ms * 1000000u);
    return 0;
}

/* ---- pools ------------------------------------------------------------------------ */

static void pool_release(mem_heap *h, mem_pool *p, bool on_used_list);

/* Push p on its class's used list.  An empty pool there is the class's
 * standby (below), its only pool; with p the class has another with free
 * blocks, so the standby goes back to its arena: an empty pool on a used
 * list is always alone and first. */
static void used_push(mem_heap *h, mem_pool *p)
{
    mem_pool **head = &h->used[p->szidx];
    if (*head && (*head)->nused == 0)
        pool_release(h, *head, true);
    p->prevpool = NULL;
    p->nextpool = *head;
    if (*head) (*head)->prevpool = p;
    *head = p;
}

static void used_unlink(mem_heap *h, mem_pool *p)
{
    if (p->prevpool) p->prevpool->nextpool = p->nextpool;
    else h->used[p->szidx] = p->nextpool;
    if (p->nextpool) p->nextpool->prevpool = p->prevpool;
    p->nextpool = p->prevpool = NULL;
}

/* A pool for class c from the heap's most-used arena that has a free pool
 * (CPython's usable_arenas order), mapping a new arena if none has one.
 *
 * A released pool keeps its header and its free list, which then holds every
 * block it ever carved (nused is 0).  Taken again for the class it had, it is
 * used as it is, as CPython does: a thread that frees its class's last block
 * and then allocates one again — a loop making and dropping one small object
 * does exactly that — pays a release and a carve, not a re-carve of the
 * pool's blocks.  The last MEM_REUSE_SCAN released pools of the arena are
 * searched for one of class c, so that two classes released and carved in
 * turn do not swap pools, and re-carve them, every time. */
#define MEM_REUSE_SCAN 8

static mem_pool *pool_carve(mem_heap *h, unsigned c)
{
    heap_decay_tick(h);
    if (!h->arena_mask && !arena_new(h))
        return NULL;
    unsigned k = (unsigned)__builtin_ctzll(h->arena_mask) + 1;
    mem_arena *a = h->arenas[k];
    arena_unlink(h, a);
    if (a->nfree == MEM_POOLS_PER_ARENA) h->nempty--;
    mem_pool *p;
    bool reuse = false;
    if (a->freepools) {
        mem_pool **pp = &a->freepools;
        for (int i = 0; i < MEM_REUSE_SCAN && *pp; i++, pp = &(*pp)->nextpool)
            if ((*pp)->szidx == c) {
                reuse = true;
                break;
            }
        if (!reuse)
            pp = &a->freepools;
        p = *pp;
        *pp = p->nextpool;
    } else {
        p = (mem_pool *)(a->base + (size_t)a->ntouched++ * MEM_POOL_SIZE);
    }
    a->nfree--;
    arena_link(h, a);

    if (!reuse) {
        size_t sz = MEM_CLASS_SIZE(c);
        mem_block *first = (mem_block *)((char *)p + MEM_POOL_OVERHEAD);
        first->next = NULL;
        p->freeblock = first;
        p->szidx = c;
        p->nextoffset = (uint32_t)(MEM_POOL_OVERHEAD + sz);
        p->maxnextoffset = (uint32_t)(MEM_POOL_SIZE - sz);
    }
    GRT_ASSERT_INTERNAL(p->freeblock != NULL);
    p->nused = 0;
    p->nextpool = p->prevpool = NULL;
    p->arena = a;
    p->heap = h;
    GRT_ASSERT_INTERNAL(grt_atomic_load_ptr(&p->xremote) == NULL);
    mem_counter_add(&h->xpools[c], 1);
    mem_counter_add(&h->xfree_pools, -1);
    return p;
}

/* p has no block in use: give it back to its arena; an arena that is now
 * empty goes on the heap's empty list (arena_emptied). */
static void pool_release(mem_heap *h, mem_pool *p, bool on_used_list)
{
    heap_decay_tick(h);
    if (on_used_list) used_unlink(h, p);
    mem_counter_add(&h->xpools[p->szidx], -1);
    mem_counter_add(&h->xfree_pools, 1);
    mem_arena *a = p->arena;
    arena_unlink(h, a);
    p->nextpool = a->freepools;
    a->freepools = p;
    a->nfree++;
    if (a->nfree == MEM_POOLS_PER_ARENA)
        arena_emptied(h, a);
    else
        arena_link(h, a);
}

/* Never-used blocks are carved onto the free list this many bytes at a
 * time (at least one block): one slow call per page, not per block. */
#define MEM_CARVE_BYTES 4096

void *_grt_obm_pool_refill(mem_heap *h, mem_pool *p, void *b)
{
    /* The pool's free list just ran dry (b was its last block): carve the
     * next never-used blocks, or, if there are none, the pool is full and
     * leaves the used list.  Returns b. */
    if (p->nextoffset <= p->maxnextoffset) {
        uint32_t sz = (uint32_t)MEM_CLASS_SIZE(p->szidx);
        uint32_t end = p->nextoffset + MEM_CARVE_BYTES;
        if (end > p->maxnextoffset + sz) end = p->maxnextoffset + sz;
        char *first = (char *)p + p->nextoffset, *last = first;
        for (uint32_t off = p->nextoffset + sz; off + sz <= end; off += sz) {
            mem_block *nb = (mem_block *)((char *)p + off);
            ((mem_block *)last)->next = nb;
            last = (char *)nb;
        }
        ((mem_block *)last)->next = NULL;
        p->nextoffset = (uint32_t)(last - (char *)p) + sz;
        p->freeblock = (mem_block *)first;
    } else {
        used_unlink(h, p);
    }
    return b;
}

/* The standby pool.  A live thread heap does not release the last pool of
 * a size class when it empties: the pool stays on the class's used list,
 * empty, so that a loop that makes and drops one object of the class (the
 * commonest pattern there is) allocates and frees on the fast path instead
 * of releasing and carving a pool, and relinking its arena, every time.
 * mimalloc delays freeing an emptied page the same way.  A pool that
 * empties while others of its class are in use is released as before, so
 * a class has at most one empty pool on its used list, and it is the
 * list's only pool (used_push; mem/check.c).
 * Standby pools go back to their arenas when the heap releases decayed
 * arenas after a collection (_grt_mem_release_decayed) and when the thread
 * exits; that bounds what they keep to one pool per class per thread
 * between collections. */
static bool heap_keeps_standby(mem_heap *h, mem_pool *p, bool was_full)
{
    mem_pool *head = h->used[p->szidx];
    bool alone = was_full ? head == NULL : (head == p && p->nextpool == NULL);
    return alone && mem_heap_is_live_thread(h);
}

/* Release h's standby pools: each is alone on its list (used_push), so a
 * look at each class's head finds them all.  Caller owns h. */
static void heap_release_standby(mem_heap *h)
{
    for (unsigned c = 0; c < MEM_NCLASSES; c++) {
        mem_pool *p = h->used[c];
        if (p && p->nused == 0)
            pool_release(h, p, true);
    }
}

void _grt_obm_free_transition(mem_heap *h, mem_pool *p, bool was_full)
{
    if (p->nused == 0) {
        if (!heap_keeps_standby(h, p, was_full))
            pool_release(h, p, !was_full);
        else if (was_full)
            used_push(h, p);   /* a one-block pool: standby on the empty list */
    } else if (was_full) {
        used_push(h, p);       /* front: the next allocation of the class uses it */
    }
}

/* Return k blocks (first..last, linked) to p's free list; h owns p. */
static void pool_free_blocks(mem_heap *h, mem_pool *p, mem_block *first, mem_block *last,
                             uint32_t k)
{
    mem_block *fb = p->freeblock;
    GRT_ASSERT(p->nused >= k);
    last->next = fb;
    p->freeblock = first;
    p->nused -= k;
    _grt_obm_free_transition(h, p, fb == NULL);
}

/* Free the remote frees waiting in h's pools.  Caller owns h. */
static void heap_drain(mem_heap *h)
{
    mem_pool *p = mem_take_all(&h->xpending);
    while (p) {
        mem_pool *next = p->pending_next;
        mem_block *first = mem_take_all(&p->xremote);
        GRT_ASSERT(first != NULL);     /* a pool on xpending has remote blocks */
        mem_block *last = first;
        uint32_t k = 1;
        while (last->next) {
            last = last->next;
            k++;
        }
        pool_free_blocks(h, p, first, last, k);
        p = next;
    }
}

/* One block of class c from h, which the caller owns (its own heap, or an
 * abandoned one under mem_heaps_lock).  Not counted. */
static void *heap_alloc_small(mem_heap *h, unsigned c)
{
    mem_pool *p = h->used[c];
    if (!p) {
        if (grt_atomic_load_ptr(&h->xpending)) {
            heap_drain(h);
            p = h->used[c];
        }
        if (!p) {
            p = pool_carve(h, c);
            if (!p) return NULL;
            used_push(h, p);
        }
    }
    mem_block *b = p->freeblock;
    p->nused++;
    if ((p->freeblock = b->next) == NULL)
        _grt_obm_pool_refill(h, p, b);
    return b;
}

static void *obm_alloc_large(size_t n);

void *_grt_obm_alloc_slow(size_t n)
{
    if (n > MEM_SMALL_MAX)
        return obm_alloc_large(n);
    unsigned c = n ? (unsigned)((n - 1) >> 4) : 0;
    mem_heap *h = _grt_mem_tls;
    void *b;
    if (h)
        return heap_alloc_small(h, c);
    /* A thread without a heap: the shared heap, under the lock. */
    if (GRT_UNLIKELY(!mem_heap_shared))
        _grt_fatal("gilrt allocator used before grt_init or after grt_fini");
    pthread_mutex_lock(&mem_heaps_lock);
    b = heap_alloc_small(mem_heap_shared, c);
    pthread_mutex_unlock(&mem_heaps_lock);
    return b;
}

/* ---- remote frees ------------------------------------------------------------------ */

/* h is abandoned (or was when we looked): take the lock and, if it still is,
 * free ptr into its pool directly.  false if h was adopted meanwhile. */
static bool free_into_abandoned(mem_heap *h, mem_pool *p, void *ptr)
{
    pthread_mutex_lock(&mem_heaps_lock);
    if (!grt_atomic_load_32(&h->xabandoned)) {
        pthread_mutex_unlock(&mem_heaps_lock);
        return false;
    }
    heap_drain(h);
    mem_block *b = ptr;
    pool_free_blocks(h, p, b, b, 1);
    pthread_mutex_unlock(&mem_heaps_lock);
    return true;
}

void _grt_obm_free_remote(mem_pool *p, void *ptr)
{
    mem_heap *h = p->heap;      /* read before the block is published: p may be reused after */
    if (grt_atomic_load_32(&h->xabandoned) && free_into_abandoned(h, p, ptr))
        return;

    mem_block *b = ptr;
    void *old;
    do {
        old = grt_atomic_load_ptr(&p->xremote);
        b->next = old;
    } while (!grt_atomic_cas_ptr(&p->xremote, old, b));   /* seq_cst: publishes b->next */
    if (old)
        return;     /* the pool is already announced; it may be gone now: don't touch it */

    /* We made the list non-empty: announce the pool to its heap (exactly once). */
    mem_pool *top;
    do {
        top = grt_atomic_load_ptr(&h->xpending);
        p->pending_next = top;
    } while (!grt_atomic_cas_ptr(&h->xpending, top, p));
    /* Dekker with heap_abandon_locked: read the flag with an RMW (adding 0),
     * so that it is ordered after our push; the abandoning side sets it with
     * an RMW before it takes xpending.  Either it sees our pool, or we see 1.
     * (A plain load could be satisfied before the push became visible.) */
    if (grt_atomic_faa_32(&h->xabandoned, 0)) {
        pthread_mutex_lock(&mem_heaps_lock);
        if (grt_atomic_load_32(&h->xabandoned))
            heap_drain(h);
        pthread_mutex_unlock(&mem_heaps_lock);
    }
}

/* ---- large blocks ------------------------------------------------------------------ */

static void *obm_alloc_large(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX - sizeof(mem_large_hdr))
        return NULL;
    mem_large_hdr *hd = malloc(sizeof *hd + n);
    if (!hd) return NULL;
    hd->size = n;
    hd->magic = MEM_LARGE_MAGIC;
    mem_count_large(1, (int64_t)n);
    return hd + 1;
}

static mem_large_hdr *large_header(const void *ptr, const char *func)
{
    if ((uintptr_t)ptr & (MEM_ALIGN - 1))
        _grt_fatal("%s: %p is not a block from gilrt's allocator (misaligned)", func, ptr);
    mem_large_hdr *hd = (mem_large_hdr *)ptr - 1;
    if (hd->magic != MEM_LARGE_MAGIC)
        _grt_fatal("%s: %p is not a live block from gilrt's allocator "
                   "(never allocated, or already freed)", func, ptr);
    return hd;
}

void _grt_obm_free_large(void *ptr)
{
    mem_large_hdr *hd = large_header(ptr, "grt_mem_free");
    hd->magic = 0;
    mem_count_large(-1, -(int64_t)hd->size);
    free(hd);
}

/* ---- out-of-line entry points ------------------------------------------------------- */

int _grt_obm_block_class(const void *p, size_t *size)
{
    if (mem_in_arena(p)) {
        unsigned c = mem_pool_of(p)->szidx;
        *size = MEM_CLASS_SIZE(c);
        return (int)c;
    }
    *size = large_header(p, "grt_mem block class")->size;
    return -1;
}

void *_grt_obm_alloc(size_t n) { return mem_obm_alloc(n); }
void  _grt_obm_free(void *p) { mem_obm_free(p); }

void *_grt_obm_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return mem_obm_alloc(n);
    size_t old;
    if (mem_in_arena(ptr)) {
        unsigned c = mem_pool_of(ptr)->szidx;
        if (n <= MEM_SMALL_MAX && (n ? (n - 1) >> 4 : 0) == c)
            return ptr;         /* same class: nothing to do */
        old = MEM_CLASS_SIZE(c);
    } else {
        mem_large_hdr *hd = large_header(ptr, "grt_mem_realloc");
        old = hd->size;
        if (n > MEM_SMALL_MAX) {
            if (n > (size_t)PTRDIFF_MAX - sizeof *hd)
                return NULL;
            mem_large_hdr *nh = realloc(hd, sizeof *nh + n);
            if (!nh) return NULL;
            nh->size = n;
            mem_count_large(0, (int64_t)n - (int64_t)old);
            return nh + 1;
        }
    }
    void *q = mem_obm_alloc(n);
    if (!q) return NULL;
    memcpy(q, ptr, n < old ? n : old);
    mem_obm_free(ptr);
    return q;
}

size_t _grt_obm_block_size(const void *p)
{
    if (mem_in_arena(p))
        return MEM_CLASS_SIZE(mem_pool_of(p)->szidx);
    return large_header(p, "grt_mem block size")->size;
}

/* ---- heaps ---------------------------------------------------------------------------- */

static mem_heap *heap_new(void)
{
    void *mem;
    if (posix_memalign(&mem, 64, sizeof(mem_heap)) != 0)
        return NULL;
    memset(mem, 0, sizeof(mem_heap));
    return mem;
}

/* Free every arena of h (at fini: no block of h is used any more). */
static void heap_release_all(mem_heap *h)
{
    for (unsigned k = 0; k <= MEM_POOLS_PER_ARENA; k++) {
        mem_arena *a = h->arenas[k];
        while (a) {
            mem_arena *next = a->next;
            _grt_arena_unmap(a->base);
            free(a);
            a = next;
        }
    }
}

/* Mark h abandoned and drain it.  Caller holds mem_heaps_lock. */
static void heap_abandon_locked(mem_heap *h)
{
    /* An RMW: the flag is set before the drain below takes xpending (the other
     * half of the Dekker pair in _grt_obm_free_remote).  (Not fas: under TSan
     * CK's fas starts with a plain volatile load that TSan reports as a race.) */
    grt_atomic_or_32(&h->xabandoned, 1);
    heap_drain(h);
    heap_release_standby(h);
    while (h->arenas[MEM_POOLS_PER_ARENA]) {       /* the empty arenas it kept */
        mem_arena *a = h->arenas[MEM_POOLS_PER_ARENA];
        arena_unlink(h, a);
        h->nempty--;
        arena_free(h, a);
    }
    GRT_ASSERT_INTERNAL(h->nempty == 0 && h->empty_oldest == NULL);
    h->abandoned_next = mem_heaps_abandoned;
    mem_heaps_abandoned = h;
}

int _grt_obm_init(void)
{
    if (obm_read_decay() != 0)
        return -1;
    grt_atomic_store_64(&mem_stray_large_blocks, 0);
    grt_atomic_store_64(&mem_stray_large_bytes, 0);
    grt_atomic_store_64(&mem_arenas_allocated, 0);
    grt_atomic_store_64(&mem_arenas_freed, 0);
    grt_atomic_store_64(&mem_arenas_highwater, 0);
    mem_heap *h = heap_new();
    if (!h) {
        grt_err_set(GRT_ERR_MEMORY, "allocator: out of memory at init");
        return -1;
    }
    h->shared = true;
    h->xabandoned = 1;      /* owned by whoever holds mem_heaps_lock */
    pthread_mutex_lock(&mem_heaps_lock);
    h->all_next = NULL;
    mem_heaps_all = h;
    mem_heaps_abandoned = NULL;
    mem_heap_shared = h;
    pthread_mutex_unlock(&mem_heaps_lock);
    return 0;
}

void _grt_obm_fini(void)
{
    pthread_mutex_lock(&mem_heaps_lock);
    mem_heap *h = mem_heaps_all;
    mem_heaps_all = mem_heaps_abandoned = NULL;
    mem_heap_shared = NULL;
    pthread_mutex_unlock(&mem_heaps_lock);
    while (h) {
        mem_heap *next = h->all_next;
        heap_release_all(h);
        free(h);
        h = next;
    }
    _grt_mem_tls = NULL;
    _grt_arena_fini();
}

void _grt_obm_thread_init(grt_tstate *ts)
{
    GRT_ASSERT(ts->mem == NULL);
    pthread_mutex_lock(&mem_heaps_lock);
    mem_heap *h = mem_heaps_abandoned;
    if (h) {
        /* Adopt an exited thread's heap, with its pools and their blocks. */
        mem_heaps_abandoned = h->abandoned_next;
        h->abandoned_next = NULL;
        grt_atomic_store_32(&h->xabandoned, 0);
        heap_drain(h);
    } else if ((h = heap_new()) != NULL) {
        h->all_next = mem_heaps_all;
        mem_heaps_all = h;
    }
    pthread_mutex_unlock(&mem_heaps_lock);
    if (!h)
        _grt_fatal("gilrt allocator: out of memory creating a thread heap");
    ts->mem = h;
    _grt_mem_tls = h;
}

void _grt_obm_thread_fini(grt_tstate *ts)
{
    mem_heap *h = ts->mem;
    if (!h) return;
    pthread_mutex_lock(&mem_heaps_lock);
    heap_abandon_locked(h);
    pthread_mutex_unlock(&mem_heaps_lock);
    ts->mem = NULL;
    if (_grt_mem_tls == h)
        _grt_mem_tls = NULL;
}

void _grt_obm_fork_child(grt_tstate *ts)
{
    /* Only the forking thread exists now.  A lock another thread held at the
     * fork is held forever: start afresh (nobody else can hold it now). */
    pthread_mutex_init(&mem_heaps_lock, NULL);
    mem_heap *mine = ts ? ts->mem : NULL;
    for (mem_heap *h = mem_heaps_all; h; h = h->all_next) {
        if (h == mine || h->shared || grt_atomic_load_32(&h->xabandoned))
            continue;
        heap_abandon_locked(h);     /* its thread is gone: hand it over */
    }
    _grt_mem_tls = mine;
}

void _grt_obm_foreach_heap(void (*fn)(mem_heap *h, void *arg), void *arg)
{
    pthread_mutex_lock(&mem_heaps_lock);
    for (mem_heap *h = mem_heaps_all; h; h = h->all_next)
        fn(h, arg);
    pthread_mutex_unlock(&mem_heaps_lock);
}

void _grt_obm_stray_large(int64_t *blocks, int64_t *bytes)
{
    *blocks = (int64_t)grt_atomic_load_64(&mem_stray_large_blocks);
    *bytes = (int64_t)grt_atomic_load_64(&mem_stray_large_bytes);
}

void _grt_obm_arena_counts(uint64_t *allocated, uint64_t *freed, uint64_t *highwater)
{
    *allocated = grt_atomic_load_64(&mem_arenas_allocated);
    *freed = grt_atomic_load_64(&mem_arenas_freed);
    *highwater = grt_atomic_load_64(&mem_arenas_highwater);
}
