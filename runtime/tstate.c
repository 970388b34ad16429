/*
 * runtime/tstate.c — the thread registry, attach/detach, safepoints.
 *
 * A thread's life: grt_attach registers it (new id, allocator heap,
 * collector data, brc queue) and attaches it; grt_detach /
 * GRT_BEGIN_ALLOW_THREADS leave it registered but unable to touch objects;
 * grt_thread_exit hands everything back and unregisters it.
 *
 * Attaching is a CAS DETACHED -> ATTACHED on the thread's own state word.  A
 * stop-the-world requester (runtime/stw.c) CASes detached threads to
 * SUSPENDED, so that CAS fails and the thread waits on registry_cond until the
 * world restarts.  With a GIL active the GIL is taken first: then nobody else
 * runs, and the state word only records what the thread is doing.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include <errno.h>
#include <time.h>
#include <unistd.h>

__thread grt_tstate *_grt_tstate_current GRT_TLS_IE;

uint64_t _grt_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void _grt_tstate_require_failed(const char *what)
{
    _grt_fatal("%s called from a thread that is not attached to the runtime "
               "(call grt_attach first, or GRT_END_ALLOW_THREADS after a blocking call)", what);
}

void _grt_breaker_set(grt_tstate *ts, uint32_t bits) { grt_atomic_or_32(&ts->xbreaker, bits); }
void _grt_breaker_clear(grt_tstate *ts, uint32_t bits) { grt_atomic_and_32(&ts->xbreaker, ~bits); }

void _grt_breaker_set_all_locked(uint32_t bits)
{
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next)
        _grt_breaker_set(t, bits);
}

/* ---- registration ----------------------------------------------------------------- */

/* A thread that ends without grt_thread_exit would stay registered forever
 * (and, if it died attached, hold every stop-the-world pause up): a pthread
 * key destructor runs grt_thread_exit for it. */
static pthread_key_t tstate_key;
static pthread_once_t tstate_key_once = PTHREAD_ONCE_INIT;

static void tstate_key_destructor(void *p)
{
    (void)p;
    if (_grt_tstate_current && _grt_rt.initialized && _grt_tstate_current != _grt_rt.main_thread)
        grt_thread_exit();
}

static void tstate_key_create(void) { pthread_key_create(&tstate_key, tstate_key_destructor); }

/* main: grt_init registers its thread (GRT_MEM_FAIL_INIT may fail it). */
static grt_tstate *tstate_register(int main)
{
    grt_tstate *ts = main && _grt_mem_init_fault()
        ? NULL : aligned_alloc(_Alignof(grt_tstate), sizeof *ts);   /* a multiple of its alignment */
    if (!ts)
        return grt_err_set(GRT_ERR_MEMORY, "%s: out of memory for a thread state",
                           main ? "grt_init" : "grt_attach");
    memset(ts, 0, sizeof *ts);
    ts->thread = pthread_self();
    pthread_mutex_lock(&_grt_rt.registry_lock);
    /* A thread that registers during a pause starts SUSPENDED: the restart
     * (under this lock) releases it with the others. */
    ts->xstate = grt_atomic_load_32(&_grt_rt.xstw_requested) ? GRT_TS_SUSPENDED : GRT_TS_DETACHED;
    ts->tid = ++_grt_rt.next_tid;           /* never reused: see atomics/rc_biased.h */
    ts->next = _grt_rt.threads;
    if (ts->next) ts->next->prev = ts;
    _grt_rt.threads = ts;
    _grt_rt.nthreads++;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    _grt_tstate_current = ts;
    pthread_once(&tstate_key_once, tstate_key_create);
    pthread_setspecific(tstate_key, ts);
    _grt_mem_thread_init(ts);
    _grt_gc_thread_init(ts);
    _grt_brc_thread_init(ts);
    return ts;
}

static void tstate_unregister(grt_tstate *ts)
{
    pthread_mutex_lock(&_grt_rt.registry_lock);
    /* never during a pause: the requester walks the thread states without
     * this lock (brc merges every queue: atomics/brc.c) */
    while (grt_atomic_load_32(&_grt_rt.xstw_requested))
        pthread_cond_wait(&_grt_rt.registry_cond, &_grt_rt.registry_lock);
    if (ts->prev) ts->prev->next = ts->next; else _grt_rt.threads = ts->next;
    if (ts->next) ts->next->prev = ts->prev;
    _grt_rt.nthreads--;
    _grt_rt.dead_allocated += grt_atomic_load_64(&ts->xobjects_allocated);
    _grt_rt.dead_freed += grt_atomic_load_64(&ts->xobjects_freed);
    /* a stop-the-world requester may be waiting for this thread */
    pthread_cond_broadcast(&_grt_rt.registry_cond);
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    pthread_mutex_destroy(&ts->brc.lock);
    free(ts->brc.items);
    free(ts);
    _grt_tstate_current = NULL;
    _grt_lock_bias_forget();
    pthread_setspecific(tstate_key, NULL);
}

grt_tstate *_grt_tstate_find_locked(uint32_t tid)
{
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next)
        if (t->tid == tid)
            return t;
    return NULL;
}

/* ---- attach / detach ----------------------------------------------------------------- */

void _grt_tstate_attach_state(grt_tstate *ts)
{
    for (;;) {
        uint32_t expected = GRT_TS_DETACHED;
        if (grt_atomic_cas_32(&ts->xstate, &expected, GRT_TS_ATTACHED)) {
            _grt_lock_bias_attach(ts);  /* a pause may have ended its biasing */
            return;
        }
        /* SUSPENDED by a stop-the-world requester: wait for the restart. */
        GRT_ASSERT(expected == GRT_TS_SUSPENDED);
        pthread_mutex_lock(&_grt_rt.registry_lock);
        while (grt_atomic_load_32(&ts->xstate) == GRT_TS_SUSPENDED)
            pthread_cond_wait(&_grt_rt.registry_cond, &_grt_rt.registry_lock);
        pthread_mutex_unlock(&_grt_rt.registry_lock);
    }
}

static void tstate_attach(grt_tstate *ts)
{
    _grt_gil_acquire(ts);
    _grt_tstate_attach_state(ts);
}

static void tstate_detach(grt_tstate *ts)
{
    uint32_t expected = GRT_TS_ATTACHED;
    if (!grt_atomic_cas_32(&ts->xstate, &expected, GRT_TS_DETACHED))
        _grt_fatal("thread state %u: detach from state %u", ts->tid, expected);
    if (grt_atomic_load_32(&_grt_rt.xstw_requested)) {
        /* the requester counts detached threads as stopped: let it re-scan */
        pthread_mutex_lock(&_grt_rt.registry_lock);
        pthread_cond_broadcast(&_grt_rt.registry_cond);
        pthread_mutex_unlock(&_grt_rt.registry_lock);
    }
    _grt_gil_release(ts);
}

int grt_attach(void)
{
    if (!_grt_rt.initialized) {
        grt_err_set(GRT_ERR_STATE, "grt_attach: the runtime is not initialised (call grt_init first)");
        return -1;
    }
    grt_tstate *ts = _grt_tstate_current;
    if (ts && grt_atomic_load_32(&ts->xstate) == GRT_TS_ATTACHED) {
        grt_err_set(GRT_ERR_STATE, "grt_attach: this thread is already attached");
        return -1;
    }
    if (!ts && !(ts = tstate_register(0)))
        return -1;
    tstate_attach(ts);
    return 0;
}

void grt_attach_blocking(void)
{
    grt_tstate *ts = _grt_tstate_current;
    if (!ts)
        _grt_fatal("GRT_END_ALLOW_THREADS / grt_attach_blocking on a thread that is not registered");
    if (grt_atomic_load_32(&ts->xstate) == GRT_TS_ATTACHED)
        _grt_fatal("GRT_END_ALLOW_THREADS on a thread that is already attached");
    tstate_attach(ts);
}

void grt_detach(void)
{
    grt_tstate *ts = _grt_tstate_require("grt_detach");
    tstate_detach(ts);
}

int grt_is_attached(void)
{
    grt_tstate *ts = _grt_tstate_current;
    return ts && grt_atomic_load_32(&ts->xstate) == GRT_TS_ATTACHED;
}

uint32_t grt_thread_id(void)
{
    grt_tstate *ts = _grt_tstate_current;
    return ts ? ts->tid : 0;
}

int grt_thread_count(void)
{
    pthread_mutex_lock(&_grt_rt.registry_lock);
    int n = _grt_rt.nthreads;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    return n;
}

/* Hand the thread's runtime state back; `ts` must be attached.  Used by
 * grt_thread_exit and grt_fini. */
void _grt_tstate_exit(grt_tstate *ts)
{
    _grt_brc_thread_fini(ts);        /* nobody queues to us any more; merge ours */
    _grt_gc_thread_fini(ts);
    _grt_mem_thread_fini(ts);
    tstate_detach(ts);
    tstate_unregister(ts);
}

void grt_thread_exit(void)
{
    grt_tstate *ts = _grt_tstate_current;
    if (!ts)
        return;                      /* never registered: nothing to hand back */
    if (ts == _grt_rt.main_thread)
        _grt_fatal("grt_thread_exit called on the thread that ran grt_init (use grt_fini)");
    if (grt_atomic_load_32(&ts->xstate) != GRT_TS_ATTACHED)
        tstate_attach(ts);           /* merging and handing over touch objects */
    _grt_tstate_exit(ts);
}

/* ---- safepoints ---------------------------------------------------------------------- */

void grt_safepoint(void)
{
    grt_tstate *ts = _grt_tstate_current;
    if (GRT_UNLIKELY(!ts || grt_atomic_load_32(&ts->xstate) != GRT_TS_ATTACHED))
        _grt_tstate_require("grt_safepoint");
    if (GRT_UNLIKELY(grt_atomic_load_32(&ts->xbreaker) != 0))
        _grt_safepoint_slow(ts);
}

void _grt_safepoint_slow(grt_tstate *ts)
{
    uint32_t bits = grt_atomic_load_32(&ts->xbreaker);
    if (bits & GRT_BREAK_STW) {
        _grt_breaker_clear(ts, GRT_BREAK_STW);
        _grt_stw_park(ts);
    }
    if (bits & GRT_BREAK_BRC_MERGE) {
        _grt_breaker_clear(ts, GRT_BREAK_BRC_MERGE);
        _grt_brc_merge_queue(ts);
    }
    if (bits & GRT_BREAK_GC) {
        _grt_breaker_clear(ts, GRT_BREAK_GC);
        _grt_gc_on_safepoint(ts);
    }
    /* never hand the GIL over in the middle of a pause (a finalizer or a
     * weakref callback run by the collector may reach a safepoint) */
    if ((bits & (GRT_BREAK_GIL_DROP | GRT_BREAK_GIL_TICK)) && !_grt_stw_held_by_self())
        _grt_gil_on_safepoint(ts);
}

/* ---- threads started by the runtime --------------------------------------------------- */

typedef struct { void *(*fn)(void *); void *arg; } thread_start_arg;

static void *thread_trampoline(void *p)
{
    thread_start_arg a = *(thread_start_arg *)p;
    free(p);
    if (grt_attach() != 0)
        _grt_fatal("grt_thread_start: the new thread could not attach: %s", grt_err_message());
    void *r = a.fn(a.arg);
    grt_thread_exit();
    return r;
}

int grt_thread_start(pthread_t *thr, void *(*fn)(void *), void *arg)
{
    if (!thr || !fn) {
        grt_err_set(GRT_ERR_TYPE, "grt_thread_start: argument '%s' is NULL", thr ? "fn" : "thr");
        return EINVAL;
    }
    thread_start_arg *a = malloc(sizeof *a);
    if (!a) {
        grt_err_set(GRT_ERR_MEMORY, "grt_thread_start: out of memory");
        return ENOMEM;
    }
    a->fn = fn;
    a->arg = arg;
    int rc = pthread_create(thr, NULL, thread_trampoline, a);
    if (rc != 0) {
        free(a);
        grt_err_set(GRT_ERR_RUNTIME, "grt_thread_start: pthread_create failed: %s", strerror(rc));
    }
    return rc;
}

/* ---- counters ------------------------------------------------------------------------ */

grt_object_counts grt_object_counts_get(void)
{
    grt_object_counts c;
    pthread_mutex_lock(&_grt_rt.registry_lock);
    c.allocated = _grt_rt.dead_allocated;
    c.freed = _grt_rt.dead_freed;
    c.unreleased = _grt_rt.unreleased;
    for (grt_tstate *t = _grt_rt.threads; t; t = t->next) {
        c.allocated += grt_atomic_load_64(&t->xobjects_allocated);
        c.freed += grt_atomic_load_64(&t->xobjects_freed);
    }
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    return c;
}

/* ---- registration of the main thread and fork ------------------------------------------ */

grt_tstate *_grt_tstate_register_main(void)
{
    grt_tstate *ts = tstate_register(1);
    if (ts) {
        _grt_rt.main_thread = ts;
        tstate_attach(ts);
    }
    return ts;
}

/* The pause nests: a fork from code a collection runs inside its pause (a
 * finalizer) stops nothing more, and its start restarts nothing. */
void grt_fork_prepare(void)
{
    _grt_tstate_require("grt_fork_prepare");
    _grt_stop_the_world();
    pthread_mutex_lock(&_grt_rt.registry_lock);
}

void grt_fork_parent(void)
{
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    _grt_start_the_world();
}

void grt_fork_child(void)
{
    grt_tstate *ts = _grt_tstate_current;
    /* Only this thread survives.  It holds registry_lock (grt_fork_prepare)
     * and, in GIL-off runs, stw_mutex (the pause): it releases them as the
     * parent does, after dropping the other threads' states.  The hooks run
     * first, while the dead threads' states are still on the registry list,
     * so they can adopt what those threads owned. */
    pthread_cond_init(&_grt_rt.registry_cond, NULL);
    _grt_brc_fork_child(ts);
    _grt_str_fork_child();
    _grt_mem_fork_child(ts);
    _grt_gc_fork_child(ts);
    _grt_gil_fork_child(ts);
    grt_tstate *t = _grt_rt.threads;
    while (t) {
        grt_tstate *next = t->next;
        if (t != ts) {
            _grt_rt.dead_allocated += t->xobjects_allocated;
            _grt_rt.dead_freed += t->xobjects_freed;
            free(t->brc.items);
            free(t);
        }
        t = next;
    }
    ts->next = ts->prev = NULL;
    _grt_rt.threads = ts;
    _grt_rt.nthreads = 1;
    _grt_rt.main_thread = ts;
    pthread_mutex_unlock(&_grt_rt.registry_lock);
    _grt_start_the_world();
}

pid_t grt_fork(void)
{
    grt_fork_prepare();
    pid_t pid = fork();
    if (pid == 0)
        grt_fork_child();
    else
        grt_fork_parent();
    return pid;
}
