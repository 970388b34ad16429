/*
 * mem/fault.c — allocation-failure injection, SQLite-style: make the k-th
 * allocation from now fail, once, or every n-th, so that tests can walk
 * every error path of the API (stress/fault.c does, under ASan).
 *
 * Invariant.  Injection is *armed* (_grt_mem_fault_xarmed == 1) exactly
 * while a fail_at target or a fail_every period is set, and while it is
 * armed mem/mem.c keeps mem_xfast at 0: every allocation and reallocation
 * then takes the slow path, which calls _grt_mem_fault_hit before it
 * allocates.  While injection is not armed nothing is counted, and the fast
 * path is the one it always was (the armed flag is folded into mem_xfast).
 *
 * Counting.  fault_xcount numbers the allocations counted since grt_init
 * (only armed ones), from every thread: a fetch-and-add gives each its own
 * number n.
 *   fail_at     fault_xat is the number that fails (0: none).  The
 *               allocation with n >= fault_xat that swaps fault_xat to 0
 *               fails: the CAS makes it once.  The target then is gone, and
 *               if no period is set either the allocator disarms.
 *   fail_every  fault_xnext is the next number that fails (0: none) and
 *               fault_xevery the period.  The allocation with n >=
 *               fault_xnext that moves fault_xnext on to n + period fails.
 * Why ">=" and not "==": an arming call reads fault_xcount and stores the
 * target while other threads go on counting, so a target may already be
 * behind them; it then fires at the next allocation counted instead of
 * never.  With one thread allocating, the failing n is exactly the target.
 *
 * Arming and disarming (the API calls, and the thread whose fail_at target
 * fired) hold fault_lock while they change a mode and recompute the armed
 * flag, so the flag, and mem_xfast after it, always reflect both modes.
 * The hit path takes the lock only when a fail_at target fires.  Other
 * threads see an arming call at their next allocation or so: an allocation
 * racing with the call may be counted or not.
 */
#include "backend.h"
#include "fault.h"
#include <errno.h>

uint32_t _grt_mem_fault_xarmed;          /* atomic */
static uint64_t fault_xcount;            /* atomic: allocations counted since grt_init */
static uint64_t fault_xat;               /* atomic: the number that fails once; 0 none */
static uint64_t fault_xnext;             /* atomic: the next number that fails; 0 none */
static uint64_t fault_xevery;            /* atomic: fail_every's period (0 while off) */
static uint64_t fault_xinjected;         /* atomic: failures injected since grt_init */
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- arming (fault_lock held) ----------------------------------------------------------- */

static void fault_set_at(int64_t k)
{
    grt_atomic_store_64(&fault_xat, k ? grt_atomic_load_64(&fault_xcount) + (uint64_t)k : 0);
}

static void fault_set_every(int64_t n)
{
    if (n == 0) {
        /* next first: a racing hit that still sees the old next reads a 0
         * period and lets its allocation through */
        grt_atomic_store_64(&fault_xnext, 0);
        grt_atomic_store_64(&fault_xevery, 0);
        return;
    }
    grt_atomic_store_64(&fault_xevery, (uint64_t)n);
    /* release: a hit that reads this next reads this period after it */
    grt_atomic_store_64_rel(&fault_xnext, grt_atomic_load_64(&fault_xcount) + (uint64_t)n);
}

static void fault_update_armed(void)
{
    uint32_t armed = grt_atomic_load_64(&fault_xat) != 0 || grt_atomic_load_64(&fault_xnext) != 0;
    grt_atomic_store_32(&_grt_mem_fault_xarmed, armed);
    _grt_mem_update_fast();
}

/* ---- the hook (mem/mem.c's slow paths) -------------------------------------------------- */

int _grt_mem_fault_hit(void)
{
    uint64_t n = grt_atomic_faa_64(&fault_xcount, 1) + 1;
    int fail = 0;
    uint64_t at = grt_atomic_load_64(&fault_xat);
    if (at != 0 && n >= at && grt_atomic_cas_64(&fault_xat, &at, 0)) {
        fail = 1;
        pthread_mutex_lock(&fault_lock);
        fault_update_armed();             /* the target is spent: disarm if nothing else is set */
        pthread_mutex_unlock(&fault_lock);
    }
    /* acquire: pairs with the release in fault_set_every (the period after it) */
    uint64_t next = grt_atomic_load_64_acq(&fault_xnext);
    if (next != 0 && n >= next) {
        uint64_t every = grt_atomic_load_64(&fault_xevery);
        if (every != 0 && grt_atomic_cas_64(&fault_xnext, &next, n + every))
            fail = 1;
    }
    if (fail)
        grt_atomic_inc_64(&fault_xinjected);
    return fail;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

static int fault_env(const char *name, int64_t *out)
{
    const char *v = getenv(name);
    *out = 0;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    /* strtoull takes a sign and leading blanks: accept digits only */
    if (*v < '0' || *v > '9' || errno || *end || n > (unsigned long long)INT64_MAX) {
        grt_err_set(GRT_ERR_VALUE, "%s='%s': expected a number of allocations, 0 to %lld "
                    "(0 or empty: off)", name, v, (long long)INT64_MAX);
        return -1;
    }
    *out = (int64_t)n;
    return 0;
}

/* GRT_MEM_FAIL_INIT: how many of grt_init's own steps that need memory are
 * still to succeed before one fails (0: none fails).  Only grt_init's thread
 * touches it, before any other thread may use the runtime. */
static int64_t fault_init_left;

int _grt_mem_fault_read_env(int64_t *at, int64_t *every)
{
    int64_t init;
    if (fault_env("GRT_MEM_FAIL_AT", at) != 0 || fault_env("GRT_MEM_FAIL_EVERY", every) != 0 ||
        fault_env("GRT_MEM_FAIL_INIT", &init) != 0) {
        *at = *every = 0;
        return -1;
    }
    fault_init_left = init;
    return 0;
}

int _grt_mem_init_fault(void)
{
    return fault_init_left > 0 && --fault_init_left == 0;
}

void _grt_mem_init_fault_done(void) { fault_init_left = 0; }

void _grt_mem_fault_init(int64_t at, int64_t every)
{
    pthread_mutex_lock(&fault_lock);
    grt_atomic_store_64(&fault_xcount, 0);
    grt_atomic_store_64(&fault_xinjected, 0);
    fault_set_at(at);
    fault_set_every(every);
    fault_update_armed();
    pthread_mutex_unlock(&fault_lock);
}

void _grt_mem_fault_fini(void)
{
    pthread_mutex_lock(&fault_lock);
    fault_set_at(0);
    fault_set_every(0);
    fault_update_armed();
    pthread_mutex_unlock(&fault_lock);
}

void _grt_mem_fault_fork_child(void)
{
    /* only the forking thread survives; no thread allocates during a fork
     * (the world is stopped), but be safe against a lock left held */
    pthread_mutex_init(&fault_lock, NULL);
}

/* ---- the public API (gilrt/mem.h) ------------------------------------------------------------ */

static int fault_arm(const char *func, const char *arg, int64_t v, void (*set)(int64_t))
{
    if (v < 0) {
        grt_err_set(GRT_ERR_VALUE, "%s: %s must be >= 0 (0 turns this mode off), got %lld",
                    func, arg, (long long)v);
        return -1;
    }
    if (!grt_is_initialized()) {
        grt_err_set(GRT_ERR_STATE, "%s: the runtime is not initialised (call grt_init first)",
                    func);
        return -1;
    }
    pthread_mutex_lock(&fault_lock);
    set(v);
    fault_update_armed();
    pthread_mutex_unlock(&fault_lock);
    return 0;
}

int grt_mem_fail_at(int64_t k) { return fault_arm("grt_mem_fail_at", "k", k, fault_set_at); }

int grt_mem_fail_every(int64_t n)
{
    return fault_arm("grt_mem_fail_every", "n", n, fault_set_every);
}

void grt_mem_fail_off(void)
{
    pthread_mutex_lock(&fault_lock);
    fault_set_at(0);
    fault_set_every(0);
    fault_update_armed();
    pthread_mutex_unlock(&fault_lock);
}

int grt_mem_fail_is_armed(void) { return (int)grt_atomic_load_32(&_grt_mem_fault_xarmed); }

uint64_t grt_mem_failures_injected(void) { return grt_atomic_load_64(&fault_xinjected); }

uint64_t grt_mem_allocations_counted(void) { return grt_atomic_load_64(&fault_xcount); }
