/*
 * gil/gil.c — the policy registry, selection at grt_init, the wrappers the
 * thread machinery calls (acquire on attach, release on detach, yield at a
 * safepoint), tuning, and the helpers policies call.
 *
 * Invariants.
 *   - gil_ops/gil_name/gil_xon are written by _grt_gil_init and _grt_gil_fini
 *     only, while no other thread is registered; every other thread reads
 *     them after it was created (or attached) after grt_init.
 *   - ts->holds_gil is true exactly between the return of the policy's
 *     acquire and the call of its release, on the thread ts itself.
 *   - Statistics are counted per thread (gil/stats.c).
 */
#include "gil_policy.h"
#include <math.h>

/* ---- the registry ------------------------------------------------------------------ */

#define GIL_MAX_POLICIES 32
#define GIL_NAME_MAX 31

typedef struct gil_entry {
    char name[GIL_NAME_MAX + 1];
    const grt_gil_ops *ops;
} gil_entry;

/* Entries are appended under gil_registry_lock and never changed afterwards. */
static pthread_mutex_t gil_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static gil_entry gil_registry[GIL_MAX_POLICIES] = {
    { "classic", &_grt_gil_classic_ops },
    { "fifo",    &_grt_gil_fifo_ops },
    { "io",      &_grt_gil_io_ops },
    { "legacy",  &_grt_gil_legacy_ops },
    { "off",     &_grt_gil_off_ops },
};
static int gil_npolicies = 5;

/* ---- the active policy ------------------------------------------------------------- */

static const grt_gil_ops *gil_ops;        /* NULL outside grt_init..grt_fini */
static const char *gil_name;
static uint32_t gil_xon;                  /* 1: a GIL policy other than off; atomic */
static uint32_t gil_xwaiting;             /* threads inside ops->acquire (policies
                                             without a waiting op); atomic */

/* Tuning: atomics, read by policies at every wait. */
static uint64_t gil_xswitch_us = 5000;
static uint64_t gil_xcheck_interval = 100;

/* ---- selection ------------------------------------------------------------------------- */

#ifdef GRT_VARIANT_GIL
#  define GIL_DEFAULT_POLICY "classic"
#else
#  define GIL_DEFAULT_POLICY "off"
#endif

static int gil_off_forbidden(const gil_entry *e)
{
#ifdef GRT_VARIANT_GIL
    return e->ops == &_grt_gil_off_ops;
#else
    (void)e;
    return 0;
#endif
}

/* ValueError listing the names this build accepts. */
static int gil_unknown_policy(const char *name)
{
    char list[GIL_MAX_POLICIES * (GIL_NAME_MAX + 2)] = "";
    size_t len = 0;
    pthread_mutex_lock(&gil_registry_lock);
    for (int i = 0; i < gil_npolicies; i++) {
        if (gil_off_forbidden(&gil_registry[i])) continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                len ? ", " : "", gil_registry[i].name);
    }
    pthread_mutex_unlock(&gil_registry_lock);
    grt_err_set(GRT_ERR_VALUE, "unknown GIL policy '%s' (valid: %s)", name, list);
    return -1;
}

int _grt_gil_init(const grt_config *cfg)
{
    const char *name = cfg && cfg->gil ? cfg->gil : GIL_DEFAULT_POLICY;
    if (cfg && cfg->switch_interval_us < 0) {
        grt_err_set(GRT_ERR_VALUE, "GIL switch interval must be strictly positive (got %lld us)",
                    (long long)cfg->switch_interval_us);
        return -1;
    }
    if (cfg && cfg->check_interval < 0) {
        grt_err_set(GRT_ERR_VALUE, "GIL check interval must be at least 1 (got %lld)",
                    (long long)cfg->check_interval);
        return -1;
    }
    const gil_entry *e = NULL;
    pthread_mutex_lock(&gil_registry_lock);
    for (int i = 0; i < gil_npolicies && !e; i++)
        if (strcmp(gil_registry[i].name, name) == 0) e = &gil_registry[i];
    pthread_mutex_unlock(&gil_registry_lock);
    if (!e) return gil_unknown_policy(name);
    if (gil_off_forbidden(e)) {
        grt_err_set(GRT_ERR_VALUE, "GIL policy 'off' is refused: the gil build cannot run "
                    "without its GIL (its refcounts are not atomic); use the atomic or brc build");
        return -1;
    }
    /* grt_init passes checked values (config_check); without a config the
     * current values stay */
    if (cfg && cfg->switch_interval_us > 0)
        grt_atomic_store_64(&gil_xswitch_us, (uint64_t)cfg->switch_interval_us);
    if (cfg && cfg->check_interval > 0)
        grt_atomic_store_64(&gil_xcheck_interval, (uint64_t)cfg->check_interval);
    if (e->ops->init && e->ops->init() != 0) {
        if (!grt_err_occurred())
            grt_err_set(GRT_ERR_RUNTIME, "GIL policy '%s' failed to initialise", e->name);
        return -1;
    }
    _grt_gil_stats_restart();
    grt_atomic_store_32(&gil_xwaiting, 0);
    grt_atomic_store_ptr((void **)&gil_ops, (void *)e->ops);   /* grt_gil_waiting reads it */
    gil_name = e->name;
    grt_atomic_store_32(&gil_xon, e->ops != &_grt_gil_off_ops);
    return 0;
}

void _grt_gil_fini(void)
{
    const grt_gil_ops *ops = gil_ops;
    if (!ops) return;
    /* off and gone first: grt_gil_waiting, callable from unattached threads,
     * then returns 0 rather than calling into a policy being torn down */
    grt_atomic_store_32(&gil_xon, 0);
    grt_atomic_store_ptr((void **)&gil_ops, NULL);
    gil_name = NULL;
    if (ops->fini) ops->fini();
}

int _grt_gil_enabled(void) { return (int)grt_atomic_load_32(&gil_xon); }

/* ---- acquire, release, yield ----------------------------------------------------------- */

/* Run the policy's acquire for ts (why = GRT_GIL_YIELD: its yield, or release
 * then acquire), timing the wait: for a yield, from the hand-off on.  For a
 * yield, returns 1 if another thread held the GIL in between. */
static int gil_acquire_timed(grt_tstate *ts, grt_gil_reason why)
{
    uint64_t t0 = _grt_now_ns();
    int count = gil_ops->waiting == NULL;    /* the policy keeps no count itself */
    int forced = 0;
    if (count) grt_atomic_add_32(&gil_xwaiting, 1);
    if (why == GRT_GIL_YIELD && gil_ops->yield) {
        forced = gil_ops->yield(GIL_T(ts)) != 0;
    } else if (why == GRT_GIL_YIELD) {
        uint64_t seq = _grt_gil_stats_seq();
        gil_ops->release(GIL_T(ts), GRT_GIL_YIELD);
        gil_ops->acquire(GIL_T(ts), why);
        forced = _grt_gil_stats_seq() != seq;
    } else {
        gil_ops->acquire(GIL_T(ts), why);
    }
    if (count) grt_atomic_add_32(&gil_xwaiting, (uint32_t)-1);
    if (!gil_ops->yield) _grt_gil_stats_seq_bump();
    uint64_t t1 = _grt_now_ns();
    ts->holds_gil = true;
    _grt_gil_stats_acquired(t1 - t0);
    return forced;
}

void _grt_gil_acquire(grt_tstate *ts)
{
    if (!grt_atomic_load_32(&gil_xon)) return;
    if (GRT_UNLIKELY(ts->holds_gil))
        _grt_fatal("GIL: thread %u acquires the GIL it already holds", ts->tid);
    gil_acquire_timed(ts, GRT_GIL_ATTACH);
}

void _grt_gil_release(grt_tstate *ts)
{
    if (!grt_atomic_load_32(&gil_xon)) return;
    if (GRT_UNLIKELY(!ts->holds_gil))
        _grt_fatal("GIL: thread %u releases a GIL it does not hold", ts->tid);
    ts->holds_gil = false;
    gil_ops->release(GIL_T(ts), GRT_GIL_DETACH);
}

void _grt_gil_on_safepoint(grt_tstate *ts)
{
    const uint32_t mine = GRT_BREAK_GIL_DROP | GRT_BREAK_GIL_TICK;
    uint32_t bits = grt_atomic_load_32(&ts->xbreaker) & mine;
    if (!grt_atomic_load_32(&gil_xon) || !ts->holds_gil) {
        if (bits) _grt_breaker_clear(ts, bits);     /* nothing to hand over */
        return;
    }
    unsigned events = 0;
    if (bits & GRT_BREAK_GIL_TICK) { ts->gil_ticks++; events |= GRT_GIL_EVENT_TICK; }
    if (bits & GRT_BREAK_GIL_DROP) events |= GRT_GIL_EVENT_DROP;
    int yield = gil_ops->safepoint ? gil_ops->safepoint(GIL_T(ts), events)
                                   : (events & GRT_GIL_EVENT_DROP) != 0;
    if (!yield) return;
    /* The request is being served: withdraw it before releasing, so that a
     * new one (for our next tenure) is not lost. */
    if (bits & GRT_BREAK_GIL_DROP) _grt_breaker_clear(ts, GRT_BREAK_GIL_DROP);
    ts->holds_gil = false;
    _grt_gil_stats_yielded(gil_acquire_timed(ts, GRT_GIL_YIELD));
}

void _grt_gil_fork_child(grt_tstate *ts)
{
    /* a thread of the parent (attached or not: the registry may be read at
     * any time) may have held it at the fork; entries are only appended,
     * the count last, so the registry itself is consistent */
    pthread_mutex_init(&gil_registry_lock, NULL);
    _grt_gil_stats_fork_child();
    if (!grt_atomic_load_32(&gil_xon)) return;
    /* Only ts survived.  The policy's locks may have been held by threads
     * that no longer exist: re-initialise, then take the GIL uncontended. */
    _grt_breaker_clear(ts, GRT_BREAK_GIL_DROP);
    grt_atomic_store_32(&gil_xwaiting, 0);
    if (gil_ops->init && gil_ops->init() != 0)
        _grt_fatal("GIL: policy '%s' could not be re-initialised in the fork child: %s",
                   gil_name, grt_err_message());
    ts->holds_gil = false;
    gil_ops->acquire(GIL_T(ts), GRT_GIL_ATTACH);
    ts->holds_gil = true;
    _grt_gil_stats_acquired(0);
}

/* ---- public API ------------------------------------------------------------------------- */

const char *grt_gil_policy(void) { return gil_name; }
int grt_gil_enabled(void) { return (int)grt_atomic_load_32(&gil_xon); }

const char *grt_gil_policy_name(int i)
{
    const char *name = NULL;
    pthread_mutex_lock(&gil_registry_lock);
    if (i >= 0 && i < gil_npolicies) name = gil_registry[i].name;
    pthread_mutex_unlock(&gil_registry_lock);
    return name;
}

int grt_gil_register(const char *name, const grt_gil_ops *ops)
{
    if (!name) { grt_err_set(GRT_ERR_TYPE, "grt_gil_register: name is NULL"); return -1; }
    if (!ops) {
        grt_err_set(GRT_ERR_TYPE, "grt_gil_register: ops of policy '%s' is NULL", name);
        return -1;
    }
    size_t n = strlen(name);
    int ok = n >= 1 && n <= GIL_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (!ok) {
        grt_err_set(GRT_ERR_VALUE, "invalid GIL policy name '%.64s': use 1 to %d letters, "
                    "digits, '_' or '-'", name, GIL_NAME_MAX);
        return -1;
    }
    if (!ops->acquire || !ops->release) {
        grt_err_set(GRT_ERR_TYPE, "grt_gil_register: policy '%s' has no %s operation",
                    name, ops->acquire ? "release" : "acquire");
        return -1;
    }
    int rc = 0;
    pthread_mutex_lock(&gil_registry_lock);
    for (int i = 0; i < gil_npolicies; i++)
        if (strcmp(gil_registry[i].name, name) == 0) {
            grt_err_set(GRT_ERR_VALUE, "a GIL policy named '%s' is already registered", name);
            rc = -1;
        }
    if (rc == 0 && gil_npolicies == GIL_MAX_POLICIES) {
        grt_err_set(GRT_ERR_VALUE, "cannot register GIL policy '%s': the registry is full "
                    "(%d policies)", name, GIL_MAX_POLICIES);
        rc = -1;
    }
    if (rc == 0) {
        gil_entry *e = &gil_registry[gil_npolicies++];
        memcpy(e->name, name, n + 1);
        e->ops = ops;
    }
    pthread_mutex_unlock(&gil_registry_lock);
    return rc;
}

int grt_gil_set_switch_interval(double seconds)
{
    if (!(seconds > 0) || !isfinite(seconds)) {
        grt_err_set(GRT_ERR_VALUE, "switch interval must be strictly positive and finite "
                    "(got %g s)", seconds);
        return -1;
    }
    if (seconds > 1e6) {
        grt_err_set(GRT_ERR_VALUE, "switch interval %g s is too large (at most 1e6 s)", seconds);
        return -1;
    }
    double us = nearbyint(seconds * 1e6);
    grt_atomic_store_64(&gil_xswitch_us, us < 1 ? 1 : (uint64_t)us);
    return 0;
}

double grt_gil_get_switch_interval(void) { return (double)grt_atomic_load_64(&gil_xswitch_us) / 1e6; }
int64_t grt_gil_switch_interval_us(void) { return (int64_t)grt_atomic_load_64(&gil_xswitch_us); }

int grt_gil_set_check_interval(int64_t n)
{
    if (n < 1) {
        grt_err_set(GRT_ERR_VALUE, "check interval must be at least 1 (got %lld)", (long long)n);
        return -1;
    }
    grt_atomic_store_64(&gil_xcheck_interval, (uint64_t)n);
    return 0;
}

int64_t grt_gil_get_check_interval(void) { return (int64_t)grt_atomic_load_64(&gil_xcheck_interval); }

int grt_gil_waiting(void)
{
    const grt_gil_ops *ops = grt_atomic_load_ptr((void *const *)&gil_ops);
    if (!ops || !grt_atomic_load_32(&gil_xon)) return 0;
    if (ops->waiting) return ops->waiting();
    return (int)grt_atomic_load_32(&gil_xwaiting);
}

/* ---- helpers for policies ---------------------------------------------------------------- */

void grt_gil_request_drop(grt_gil_thread *t)
{
    _grt_breaker_set(GIL_TS(t), GRT_BREAK_GIL_DROP);
    _grt_gil_stats_drop_requested();
}

void grt_gil_clear_drop(grt_gil_thread *t)
{
    if (grt_atomic_load_32(&GIL_TS(t)->xbreaker) & GRT_BREAK_GIL_DROP)
        _grt_breaker_clear(GIL_TS(t), GRT_BREAK_GIL_DROP);
}

int grt_gil_drop_requested(const grt_gil_thread *t)
{
    return (grt_atomic_load_32(&((const grt_tstate *)t)->xbreaker) & GRT_BREAK_GIL_DROP) != 0;
}

void grt_gil_want_ticks(grt_gil_thread *t, int on)
{
    grt_tstate *ts = GIL_TS(t);
    int set = (grt_atomic_load_32(&ts->xbreaker) & GRT_BREAK_GIL_TICK) != 0;
    if (on && !set) _grt_breaker_set(ts, GRT_BREAK_GIL_TICK);
    else if (!on && set) _grt_breaker_clear(ts, GRT_BREAK_GIL_TICK);
}

int64_t *grt_gil_ticks(grt_gil_thread *t) { return &GIL_TS(t)->gil_ticks; }
uint32_t grt_gil_thread_id(const grt_gil_thread *t) { return ((const grt_tstate *)t)->tid; }
