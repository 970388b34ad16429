/*
 * mem/mimalloc.c — mimalloc as a backend (GRT_MALLOC=mimalloc), when
 * configure found libmimalloc.
 *
 * Loaded with dlopen(RTLD_LOCAL), not linked: Debian's libmimalloc.so also
 * defines malloc and free, so linking it would silently replace glibc's
 * malloc in every gilrt program — the "malloc" allocator, obmalloc's large
 * blocks and the benchmark's baseline included.  Loaded locally, its symbols
 * serve only the calls made through the pointers below.
 */
#include "backend.h"
#include <dlfcn.h>

#ifdef GRT_HAVE_MIMALLOC

static void *(*mi_malloc_p)(size_t);
static void *(*mi_realloc_p)(void *, size_t);
static void (*mi_free_p)(void *);
static size_t (*mi_usable_size_p)(const void *);
static pthread_mutex_t mim_lock = PTHREAD_MUTEX_INITIALIZER;

int _grt_mimalloc_load(void)
{
    static const char *const names[] = { "libmimalloc.so.2", "libmimalloc.so" };
    pthread_mutex_lock(&mim_lock);
    if (!mi_free_p) {
        void *lib = NULL;
        for (size_t i = 0; !lib && i < sizeof names / sizeof names[0]; i++)
            lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            pthread_mutex_unlock(&mim_lock);
            grt_err_set(GRT_ERR_VALUE, "allocator 'mimalloc': cannot load libmimalloc (%s)", dlerror());
            return -1;
        }
        /* Never dlclose'd: blocks may outlive grt_fini. */
        *(void **)&mi_malloc_p = dlsym(lib, "mi_malloc");
        *(void **)&mi_realloc_p = dlsym(lib, "mi_realloc");
        *(void **)&mi_usable_size_p = dlsym(lib, "mi_usable_size");
        void *f = dlsym(lib, "mi_free");
        if (!mi_malloc_p || !mi_realloc_p || !mi_usable_size_p || !f) {
            pthread_mutex_unlock(&mim_lock);
            grt_err_set(GRT_ERR_VALUE, "allocator 'mimalloc': libmimalloc lacks mi_malloc/mi_free");
            return -1;
        }
        *(void **)&mi_free_p = f;
    }
    pthread_mutex_unlock(&mim_lock);
    return 0;
}

/* mimalloc aligns a block to 16 only when its size is a multiple of 16:
 * round requests up. */
static size_t mim_round(size_t n) { return n ? (n + 15) & ~(size_t)15 : 16; }

static void *mim_alloc(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX) return NULL;
    void *p = mi_malloc_p(mim_round(n));
    if (p) mem_count_large(1, 0);
    return p;
}

static void *mim_realloc(void *p, size_t n)
{
    if (!p) return mim_alloc(n);
    if (n > (size_t)PTRDIFF_MAX) return NULL;
    return mi_realloc_p(p, mim_round(n));
}

static void mim_free(void *p)
{
    if (!p) return;
    mem_count_large(-1, 0);
    mi_free_p(p);
}

static size_t mim_block_size(const void *p) { return mi_usable_size_p(p); }

const mem_backend _grt_mem_mimalloc = { "mimalloc", mim_alloc, mim_realloc, mim_free, mim_block_size };

#endif
