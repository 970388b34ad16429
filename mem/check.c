/*
 * mem/check.c — the heap checker behind grt_mem_check (Lua's
 * lua_checkmemory idea): walks the calling thread's heap and verifies the
 * invariants of mem/obmalloc.h — every arena is in the list of its number of
 * free pools and in the address map, its free pools are counted right, every
 * pool in use belongs to it, and each pool's free list holds only carved,
 * aligned blocks of the pool, nused + free list = blocks carved; the empty
 * arenas are listed newest first and, with no decay period, are at most
 * MEM_KEEP_EMPTY.  Any violation is fatal with a message naming the arena
 * or pool.  Only the caller's own heap: other heaps' owner fields are
 * theirs.
 */
#include "obmalloc.h"
#include <inttypes.h>

#define CHECK(cond, ...) do { if (!(cond)) _grt_fatal("grt_mem_check: " __VA_ARGS__); } while (0)

/* Check one pool in use; returns the number of blocks on its free list. */
static uint32_t check_pool(mem_heap *h, mem_arena *a, mem_pool *p)
{
    CHECK(p->heap == h && p->arena == a, "pool %p: wrong heap or arena", (void *)p);
    CHECK(p->szidx < MEM_NCLASSES, "pool %p: bad size class %u", (void *)p, p->szidx);
    size_t sz = MEM_CLASS_SIZE(p->szidx);
    CHECK(p->nextoffset >= MEM_POOL_OVERHEAD + sz && p->nextoffset <= MEM_POOL_SIZE + sz,
          "pool %p: bad next offset %u", (void *)p, p->nextoffset);
    uint32_t carved = (uint32_t)((p->nextoffset - MEM_POOL_OVERHEAD) / sz);
    uint32_t nfree = 0;
    for (mem_block *b = p->freeblock; b; b = b->next) {
        size_t off = (size_t)((char *)b - (char *)p);
        CHECK(mem_pool_of(b) == p && off >= MEM_POOL_OVERHEAD && off < p->nextoffset
              && (off - MEM_POOL_OVERHEAD) % sz == 0,
              "pool %p (class %u): free list holds a bad block %p (a write after free?)",
              (void *)p, p->szidx, (void *)b);
        CHECK(++nfree <= carved, "pool %p (class %u): free list is cyclic (double free?)",
              (void *)p, p->szidx);
    }
    CHECK(p->nused + nfree == carved, "pool %p (class %u): %u used + %u free != %u carved blocks",
          (void *)p, p->szidx, p->nused, nfree, carved);
    return nfree;
}

size_t _grt_obm_check_heap(void)
{
    mem_heap *h = _grt_mem_tls;
    if (!h) return 0;
    uint64_t pools[MEM_NCLASSES] = {0};
    size_t checked = 0;
    for (unsigned k = 0; k <= MEM_POOLS_PER_ARENA; k++) {
        for (mem_arena *a = h->arenas[k]; a; a = a->next) {
            checked++;
            CHECK(a->heap == h && a->nfree == k, "arena %p: in the wrong list", (void *)a->base);
            CHECK(mem_in_arena(a->base), "arena %p: missing from the address map", (void *)a->base);
            uint64_t freemap = 0;   /* not mem_arena_free_map: a cyclic list must not hang */
            unsigned nfreelist = 0;
            for (mem_pool *p = a->freepools; p; p = p->nextpool) {
                unsigned i = (unsigned)(((char *)p - a->base) / MEM_POOL_SIZE);
                CHECK(i < a->ntouched && !(freemap & (UINT64_C(1) << i)),
                      "arena %p: bad free pool list", (void *)a->base);
                freemap |= UINT64_C(1) << i;
                nfreelist++;
            }
            CHECK(nfreelist + (MEM_POOLS_PER_ARENA - a->ntouched) == a->nfree,
                  "arena %p: %u free pools counted, %u recorded", (void *)a->base,
                  nfreelist + (MEM_POOLS_PER_ARENA - a->ntouched), a->nfree);
            for (unsigned i = 0; i < a->ntouched; i++) {
                if (freemap & (UINT64_C(1) << i)) continue;
                mem_pool *p = (mem_pool *)(a->base + (size_t)i * MEM_POOL_SIZE);
                check_pool(h, a, p);
                pools[p->szidx]++;
                checked++;
            }
        }
    }
    /* Empty arenas (mem/obmalloc.c): the kept ones, then the decaying ones
     * newest first; the tail recorded; with no decay period at most
     * MEM_KEEP_EMPTY of them. */
    unsigned nempty = 0;
    mem_arena *last = NULL;
    for (mem_arena *a = h->arenas[MEM_POOLS_PER_ARENA]; a; last = a, a = a->next) {
        CHECK(nempty <= MEM_KEEP_EMPTY || last->empty_since >= a->empty_since,
              "decaying empty arena %p is older than the one after it", (void *)a->base);
        nempty++;
    }
    CHECK(nempty == h->nempty, "%u empty arenas found, %u counted", nempty, h->nempty);
    CHECK(last == h->empty_oldest, "the oldest empty arena is %p, recorded %p",
          last ? (void *)last->base : NULL,
          h->empty_oldest ? (void *)h->empty_oldest->base : NULL);
    CHECK(_grt_obm_decay_ms() > 0 || nempty <= MEM_KEEP_EMPTY,
          "%u empty arenas kept with GRT_MEM_DECAY_MS=0 (at most %d)", nempty, MEM_KEEP_EMPTY);
    for (unsigned c = 0; c < MEM_NCLASSES; c++) {
        CHECK(pools[c] == grt_atomic_load_64(&h->xpools[c]),
              "class %u: %" PRIu64 " pools found, %" PRIu64 " counted", c, pools[c],
              grt_atomic_load_64(&h->xpools[c]));
        unsigned standby = 0;       /* empty pools kept on the list (obmalloc.c) */
        for (mem_pool *p = h->used[c]; p; p = p->nextpool) {
            CHECK(p->szidx == c && p->freeblock,
                  "used list of class %u holds a bad pool %p", c, (void *)p);
            standby += p->nused == 0;
        }
        CHECK(standby == 0 || (standby == 1 && h->used[c]->nextpool == NULL &&
                               mem_heap_is_live_thread(h)),
              "used list of class %u holds %u empty pools (at most one, alone)", c, standby);
    }
    return checked;
}
