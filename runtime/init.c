/*
 * runtime/init.c — configuration, grt_init, grt_fini.
 *
 * Order of initialisation: allocator, GIL policy, collector (they validate
 * the configuration, so a bad name fails before anything exists), then the
 * main thread registers and attaches, then the built-in types and
 * singletons.  grt_fini runs it backwards.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include <errno.h>
#include <math.h>

grt_runtime _grt_rt = {
    .registry_lock = PTHREAD_MUTEX_INITIALIZER,
    .registry_cond = PTHREAD_COND_INITIALIZER,
    .stw_mutex = PTHREAD_MUTEX_INITIALIZER,
};

const char *grt_variant(void) { return GRT_VARIANT_NAME; }
unsigned grt_object_header_size(void) { return (unsigned)sizeof(grt_object); }
int grt_is_initialized(void) { return _grt_rt.initialized; }

_Static_assert(sizeof(grt_object) == GRT_OBJECT_HEAD_SIZE, "object header size");
#if defined(GRT_VARIANT_BRC)
_Static_assert(sizeof(grt_object) == 24, "brc header is 24 bytes");
#else
_Static_assert(sizeof(grt_object) == 16, "plain/atomic header is 16 bytes");
#endif

static int env_int(const char *name, int64_t min, int64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min) {
        grt_err_set(GRT_ERR_VALUE, "%s='%s': expected an integer >= %lld", name, v, (long long)min);
        return -1;
    }
    *out = n;
    return 0;
}

/* GRT_GC_THRESHOLD: one to three decimal integers, 0 to INT32_MAX, separated
 * by commas; those given replace the first thresholds in t. */
static int env_thresholds(int t[3])
{
    const char *v = getenv("GRT_GC_THRESHOLD");
    if (!v || !*v)
        return 0;
    int got[3], n = 0;
    for (const char *p = v;; ) {
        char *end;
        if (n == 3 || *p < '0' || *p > '9')  /* strtoll would take a sign or blanks */
            goto bad;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (errno || x > INT32_MAX)
            goto bad;
        got[n++] = (int)x;
        if (!*end)
            break;
        if (*end != ',')
            goto bad;
        p = end + 1;
    }
    memcpy(t, got, (size_t)n * sizeof *got);
    return 0;
bad:
    grt_err_set(GRT_ERR_VALUE, "GRT_GC_THRESHOLD='%s': expected 1 to 3 integers from 0 to %d "
                "separated by commas, e.g. 700,10,10", v, INT32_MAX);
    return -1;
}

int grt_config_init(grt_config *cfg)
{
    if (!cfg) {
        grt_err_set(GRT_ERR_TYPE, "grt_config_init: argument 'cfg' is NULL");
        return -1;
    }
    *cfg = (grt_config){
        .gil = NULL,
        .switch_interval_us = 5000,
        .check_interval = 100,
        .allocator = NULL,
        .gc_enabled = 1,
        .gc_threshold = { 700, 10, 10 },
    };
    const char *v;
    if ((v = getenv("GRT_GIL")) && *v)
        cfg->gil = v;
    if ((v = getenv("GRT_MALLOC")) && *v)
        cfg->allocator = v;
    if ((v = getenv("GRT_SWITCH_INTERVAL")) && *v) {
        char *end;
        double s = strtod(v, &end);
        /* at most 1e6 s, as grt_gil_set_switch_interval and config_check */
        if (*end || !(s > 0) || s > 1e6) {
            grt_err_set(GRT_ERR_VALUE, "GRT_SWITCH_INTERVAL='%s': expected a number of seconds "
                        "above 0 and at most 1e6, e.g. 0.005", v);
            return -1;
        }
        cfg->switch_interval_us = (int64_t)(s * 1e6) > 0 ? (int64_t)(s * 1e6) : 1;
    }
    if (env_int("GRT_CHECK_INTERVAL", 1, &cfg->check_interval) != 0)
        return -1;
    return env_thresholds(cfg->gc_threshold);
}

static int config_check(const grt_config *cfg)
{
    /* at most 1e6 s, as grt_gil_set_switch_interval: the policies wait
     * us * 1000 ns, which must not overflow */
    if (cfg->switch_interval_us <= 0 || cfg->switch_interval_us > INT64_C(1000000000000)) {
        grt_err_set(GRT_ERR_VALUE, "grt_init: switch_interval_us must be 1..1e12 (1e6 s), "
                    "got %lld", (long long)cfg->switch_interval_us);
        return -1;
    }
    if (cfg->check_interval <= 0) {
        grt_err_set(GRT_ERR_VALUE, "grt_init: check_interval must be positive, got %lld",
                    (long long)cfg->check_interval);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        if (cfg->gc_threshold[i] < 0) {
            grt_err_set(GRT_ERR_VALUE, "grt_init: gc_threshold[%d] must be >= 0, got %d",
                        i, cfg->gc_threshold[i]);
            return -1;
        }
    return 0;
}

/* Undo grt_init from the main thread's registration down; ts (that thread's
 * state) may be NULL when registering it failed.  grt_fini's second half,
 * and grt_init's unwinding when a step after the allocator fails, so that
 * the next grt_init starts from nothing. */
static void teardown(grt_tstate *ts)
{
    if (ts) {
        _grt_rt.unreleased = _grt_gc_fini();   /* every tracked object is freed */
        _grt_types_fini();           /* interned strings */
        _grt_tstate_exit(ts);
        _grt_rt.main_thread = NULL;
    }
    _grt_gil_fini();
    _grt_mem_fini();
    _grt_rt.initialized = 0;
}

int _grt_init_checked(const grt_config *cfg, int header_variant)
{
    static const char *const names[] = { "?", "gil", "atomic", "brc", "unsafe" };
    if (header_variant != GRT_VARIANT_ID) {
        const char *h = header_variant >= 1 && header_variant <= 4 ? names[header_variant] : "?";
        grt_err_set(GRT_ERR_STATE, "grt_init: program compiled for variant '%s' but linked with "
                    "libgilrt-%s (compile with `pkg-config --cflags gilrt-%s`)",
                    h, GRT_VARIANT_NAME, GRT_VARIANT_NAME);
        return -1;
    }
    if (_grt_rt.initialized) {
        grt_err_set(GRT_ERR_STATE, "grt_init: the runtime is already initialised");
        return -1;
    }
    grt_config defaults;
    if (!cfg) {
        if (grt_config_init(&defaults) != 0)
            return -1;
        cfg = &defaults;
    }
    if (config_check(cfg) != 0)
        return -1;
    _grt_rt.config = *cfg;
    _grt_rt.dead_allocated = _grt_rt.dead_freed = _grt_rt.unreleased = 0;
    _grt_rt.stw_count = _grt_rt.stw_last_ns = _grt_rt.stw_max_ns = 0;
    _grt_rt.tts_last_ns = _grt_rt.tts_max_ns = 0;
    _grt_rt.lock_counts = (grt_lock_counts){ 0, 0, 0 };
    if (_grt_mem_init(cfg) != 0)
        return -1;
    if (_grt_gil_init(cfg) != 0) {
        _grt_mem_fini();
        return -1;
    }
    if (_grt_gc_init(cfg) != 0) {
        _grt_gil_fini();
        _grt_mem_fini();
        return -1;
    }
    _grt_rt.initialized = 1;
    grt_tstate *ts = _grt_tstate_register_main();
    if (!ts || _grt_types_init() != 0) {
        /* the collector's teardown clears errors: keep the one to report */
        grt_err_kind kind = grt_err_occurred();
        char msg[512];             /* error.c's ERR_MSG_MAX */
        snprintf(msg, sizeof msg, "%s", grt_err_message());
        teardown(ts);
        grt_err_set(kind, "%s", msg);
        return -1;
    }
    _grt_mem_init_done();
    return 0;
}

int grt_fini(void)
{
    if (!_grt_rt.initialized) {
        grt_err_set(GRT_ERR_STATE, "grt_fini: the runtime is not initialised");
        return -1;
    }
    grt_tstate *ts = _grt_tstate_current;
    if (ts != _grt_rt.main_thread || !grt_is_attached()) {
        grt_err_set(GRT_ERR_STATE, "grt_fini: call it from the thread that ran grt_init, attached");
        return -1;
    }
    int others = grt_thread_count() - 1;
    if (others > 0) {
        grt_err_set(GRT_ERR_RUNTIME, "grt_fini: %d other thread%s still registered "
                    "(each must call grt_thread_exit first)", others, others == 1 ? " is" : "s are");
        return -1;
    }
    teardown(ts);
    return 0;
}
