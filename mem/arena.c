/*
 * mem/arena.c — arenas from the OS, and the radix map that says which
 * addresses are arena memory.
 *
 * An arena is 1 MiB of mmap'd memory aligned to 1 MiB, so that the arena (and
 * hence whether a pointer is a pool block at all) is known from the address
 * alone, and pools (16 KiB-aligned inside it) are found by masking.  The
 * radix map has one byte per 1 MiB of the 48-bit address space, in leaves of
 * 2^14 bytes created on demand under mem_radix_lock and kept until fini.
 *
 * Invariant: an arena's byte is 1 from before its first block is handed out
 * until after its last block was freed (set right after mmap, cleared right
 * before munmap), and 0 for every other address.  The system allocator's
 * memory never shares a 1 MiB-aligned megabyte with an arena, because an
 * arena fills its megabyte.
 */
#include "obmalloc.h"
#include <errno.h>
#include <sys/mman.h>

uint8_t *_grt_mem_radix[1u << MEM_RADIX_TOP_BITS] __attribute__((visibility("hidden")));
static pthread_mutex_t mem_radix_lock = PTHREAD_MUTEX_INITIALIZER;

static uint8_t *radix_entry(uintptr_t a, bool create)
{
    uint8_t **slot = &_grt_mem_radix[a >> (MEM_ARENA_SHIFT + MEM_RADIX_LEAF_BITS)];
    uint8_t *leaf = grt_atomic_load_ptr_acq((void *const *)slot);   /* pairs with the release below */
    if (!leaf && create) {
        pthread_mutex_lock(&mem_radix_lock);
        leaf = *slot;   /* only written under mem_radix_lock */
        if (!leaf) {
            leaf = calloc(1, (size_t)1 << MEM_RADIX_LEAF_BITS);
            /* release: the zeroed leaf is visible before the pointer to it */
            if (leaf) grt_atomic_store_ptr_rel((void **)slot, leaf);
        }
        pthread_mutex_unlock(&mem_radix_lock);
    }
    return leaf ? &leaf[(a >> MEM_ARENA_SHIFT) & ((1u << MEM_RADIX_LEAF_BITS) - 1)] : NULL;
}

char *_grt_arena_map(void)
{
    /* Map twice the size and trim to the aligned megabyte inside. */
    size_t len = 2 * (size_t)MEM_ARENA_SIZE;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)raw + MEM_ARENA_SIZE - 1) & ~((uintptr_t)MEM_ARENA_SIZE - 1);
    size_t head = a - (uintptr_t)raw, tail = len - head - MEM_ARENA_SIZE;
    if (head) munmap(raw, head);
    if (tail) munmap((char *)a + MEM_ARENA_SIZE, tail);
    if (a >> 48) {      /* outside the radix map: never expected on Linux without a hint */
        munmap((char *)a, MEM_ARENA_SIZE);
        return NULL;
    }
    uint8_t *e = radix_entry(a, true);
    if (!e) {
        munmap((char *)a, MEM_ARENA_SIZE);
        return NULL;
    }
    grt_atomic_store_8(e, 1);
    return (char *)a;
}

void _grt_arena_unmap(char *base)
{
    uint8_t *e = radix_entry((uintptr_t)base, false);
    /* an atomic load, even in the assertion: once munmap returns, another
     * thread's mmap may get this megabyte and set the byte again, an order
     * TSan cannot see through the kernel */
    GRT_ASSERT(e && grt_atomic_load_8(e) == 1);
    grt_atomic_store_8(e, 0);
    if (munmap(base, MEM_ARENA_SIZE) != 0)
        _grt_fatal("mem: munmap of arena %p failed (errno %d)", (void *)base, errno);
}

void _grt_arena_fini(void)
{
    for (size_t i = 0; i < sizeof _grt_mem_radix / sizeof _grt_mem_radix[0]; i++) {
        free(_grt_mem_radix[i]);
        _grt_mem_radix[i] = NULL;
    }
}
