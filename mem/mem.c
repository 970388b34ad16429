/*
 * mem/mem.c — allocator selection.  (Bootstrap version: the system allocator.)
 */
#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"

static const char *mem_name = "malloc";

int _grt_mem_init(const grt_config *cfg)
{
    const char *name = cfg->allocator ? cfg->allocator : "malloc";
    if (strcmp(name, "malloc") != 0) {
        grt_err_set(GRT_ERR_VALUE, "unknown allocator '%s' (valid: malloc)", name);
        return -1;
    }
    mem_name = name;
    return 0;
}

void _grt_mem_fini(void) {}
void *_grt_mem_alloc(size_t n) { return aligned_alloc(16, (n + 15) & ~(size_t)15); }
void *_grt_mem_realloc(void *p, size_t n) { return realloc(p, n); }
void _grt_mem_free(void *p) { free(p); }
void _grt_mem_thread_init(grt_tstate *ts) { (void)ts; }
void _grt_mem_thread_fini(grt_tstate *ts) { (void)ts; }
void _grt_mem_fork_child(grt_tstate *ts) { (void)ts; }
const char *grt_mem_allocator(void) { return mem_name; }
