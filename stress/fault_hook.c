/*
 * stress/fault_hook.c — the wrapped allocator entry points (see fault.h).
 *
 * Invariant: with injection off, a wrapped call is exactly the real call
 * plus one atomic increment.  A failed call returns NULL with nothing
 * allocated and, for realloc, the old block untouched — what the real
 * allocator does when it runs out of memory.
 */
#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include "fault.h"

void *__real__grt_mem_alloc(size_t n);
void *__real__grt_mem_realloc(void *p, size_t n);
void *__wrap__grt_mem_alloc(size_t n);
void *__wrap__grt_mem_realloc(void *p, size_t n);

static uint64_t xcount;          /* allocations so far */
static uint64_t xfail_at;        /* the allocation number that fails; 0 none */
static uint64_t xfail_every;     /* fail when count % every == phase; 0 none */
static uint64_t xfail_phase;
static uint64_t xinjected;
static uint32_t xenv_read;

static uint64_t fault_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end) {
        fprintf(stderr, "fault: %s='%s' is not a number; ignored\n", name, v);
        return 0;
    }
    return n;
}

static void fault_read_env(void)
{
    uint32_t expected = 0;
    if (!grt_atomic_cas_32(&xenv_read, &expected, 1))
        return;
    uint64_t at = fault_env("GRT_MEM_FAIL_AT"), every = fault_env("GRT_MEM_FAIL_EVERY");
    if (at)
        grt_atomic_store_64(&xfail_at, at);
    if (every)
        grt_atomic_store_64(&xfail_every, every);
}

/* Count this allocation; 1 if it must fail. */
static int fault_should_fail(void)
{
    if (GRT_UNLIKELY(!grt_atomic_load_32(&xenv_read)))
        fault_read_env();
    uint64_t n = grt_atomic_faa_64(&xcount, 1) + 1;
    uint64_t at = grt_atomic_load_64(&xfail_at);
    uint64_t every = grt_atomic_load_64(&xfail_every);
    int fail = (at && n == at) ||
               (every && n % every == grt_atomic_load_64(&xfail_phase) % every);
    if (fail)
        grt_atomic_inc_64(&xinjected);
    return fail;
}

void *__wrap__grt_mem_alloc(size_t n)
{
    return fault_should_fail() ? NULL : __real__grt_mem_alloc(n);
}

void *__wrap__grt_mem_realloc(void *p, size_t n)
{
    return fault_should_fail() ? NULL : __real__grt_mem_realloc(p, n);
}

void stress_fault_fail_at(uint64_t k)
{
    fault_read_env();
    grt_atomic_store_64(&xfail_at, k ? grt_atomic_load_64(&xcount) + k : 0);
}

void stress_fault_fail_every(uint64_t n)
{
    fault_read_env();
    /* the first failure is the n-th allocation from now */
    grt_atomic_store_64(&xfail_phase, grt_atomic_load_64(&xcount) % (n ? n : 1));
    grt_atomic_store_64(&xfail_every, n);
}

void stress_fault_off(void)
{
    fault_read_env();
    grt_atomic_store_64(&xfail_at, 0);
    grt_atomic_store_64(&xfail_every, 0);
}

uint64_t stress_fault_allocations(void) { return grt_atomic_load_64(&xcount); }
uint64_t stress_fault_injected(void) { return grt_atomic_load_64(&xinjected); }
