/*
 * mem/trace.c — allocation tracing, tracemalloc's idea in C.
 *
 * While tracing, every allocation records (under trace_lock) its size and the
 * call stack that made it: backtrace() frames, starting at the caller of the
 * public entry point, with the frames inside libgilrt skipped when it is a
 * shared library (so an object's site is the user code that created it, not
 * _grt_object_alloc), `depth` frames kept.  Stacks are interned: one
 * mem_tb per distinct stack, kept until tracing stops.
 *
 * Invariants, under trace_lock:
 *   - every live record's block was allocated while tracing, and has not been
 *     freed: a free removes the record *before* the block is released, so a
 *     block reused by another thread cannot be confused with the old one;
 *   - traced_current is the sum of the live records' sizes, traced_peak its
 *     maximum since start or the last reset;
 *   - trace_generation changes at every start and stop; a mem_site_ref with
 *     another generation refers to freed stacks and is not printed.
 * Records are added only while tracing (checked under the lock), so a
 * start/stop racing with allocations leaves no stale record.  Snapshots are
 * taken here (under the lock) and used through mem/snapshot.c.
 */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1      /* dladdr, Dl_info, dl_iterate_phdr */
#endif
#include "backend.h"
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>

uint32_t _grt_mem_xtracing;

typedef struct mem_tb {
    struct mem_tb *next;        /* hash chain */
    uint64_t hash;
    size_t acc_size, acc_count; /* scratch for snapshots */
    int nframes;
    void *frames[];
} mem_tb;

typedef struct trace_rec {
    const void *ptr;            /* NULL: empty slot; TRACE_TOMB: deleted */
    size_t size;
    mem_tb *tb;
} trace_rec;
#define TRACE_TOMB ((const void *)1)

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t trace_xdepth = 1;               /* atomic: read outside the lock */
static uint64_t trace_generation;
static size_t traced_current, traced_peak;
static mem_tb **tb_table;                       /* chained, tb_cap buckets */
static size_t tb_cap, tb_count;
static trace_rec *rec_table;                    /* open addressing, rec_cap slots */
static size_t rec_cap, rec_live, rec_used;      /* used = live + tombstones */
/* libgilrt's code, when it is a shared object: frames there are skipped. */
static uintptr_t lib_lo, lib_hi;

/* The block this thread is freeing or reallocating right now, with its site,
 * so that the debug allocator can say where a bad block came from. */
static __thread const void *inflight_ptr GRT_TLS_IE;
static __thread mem_site_ref inflight_site GRT_TLS_IE;

/* ---- the record table ---------------------------------------------------------------- */

static size_t ptr_hash(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * UINT64_C(0x9E3779B97F4A7C15));
}

static trace_rec *rec_find(const void *p)
{
    if (!rec_cap) return NULL;
    size_t mask = rec_cap - 1;
    for (size_t i = ptr_hash(p) & mask;; i = (i + 1) & mask) {
        if (rec_table[i].ptr == p) return &rec_table[i];
        if (rec_table[i].ptr == NULL) return NULL;
    }
}

static bool rec_grow(void)
{
    size_t ncap = rec_cap ? rec_cap : 1024;
    while (rec_live * 4 >= ncap) ncap *= 2;     /* rehash at 1/2 load; keep <= 1/4 live after */
    trace_rec *nt = calloc(ncap, sizeof *nt);
    if (!nt) return false;
    size_t mask = ncap - 1;
    for (size_t j = 0; j < rec_cap; j++) {
        const void *p = rec_table[j].ptr;
        if (p == NULL || p == TRACE_TOMB) continue;
        size_t i = ptr_hash(p) & mask;
        while (nt[i].ptr) i = (i + 1) & mask;
        nt[i] = rec_table[j];
    }
    free(rec_table);
    rec_table = nt;
    rec_cap = ncap;
    rec_used = rec_live;
    return true;
}

static bool rec_insert(const void *p, size_t size, mem_tb *tb)
{
    if ((rec_used + 1) * 2 > rec_cap && !rec_grow())
        return false;
    size_t mask = rec_cap - 1;
    size_t i = ptr_hash(p) & mask;
    while (rec_table[i].ptr != NULL && rec_table[i].ptr != TRACE_TOMB) i = (i + 1) & mask;
    if (rec_table[i].ptr == NULL) rec_used++;
    rec_table[i] = (trace_rec){ p, size, tb };
    rec_live++;
    traced_current += size;
    if (traced_current > traced_peak) traced_peak = traced_current;
    return true;
}

static void rec_delete(trace_rec *r)
{
    traced_current -= r->size;
    r->ptr = TRACE_TOMB;
    r->tb = NULL;
    rec_live--;
}

/* ---- interned stacks --------------------------------------------------------------------- */

static uint64_t frames_hash(void *const *frames, int n)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ (uint64_t)n;
    for (int i = 0; i < n; i++)
        h = (h ^ (uint64_t)(uintptr_t)frames[i]) * UINT64_C(1099511628211);
    return h;
}

static mem_tb *tb_intern(void *const *frames, int n)
{
    uint64_t h = frames_hash(frames, n);
    if (tb_count >= tb_cap) {
        size_t ncap = tb_cap ? tb_cap * 2 : 256;
        mem_tb **nt = calloc(ncap, sizeof *nt);
        if (!nt) return NULL;
        for (size_t i = 0; i < tb_cap; i++) {
            for (mem_tb *t = tb_table[i], *next; t; t = next) {
                next = t->next;
                t->next = nt[t->hash & (ncap - 1)];
                nt[t->hash & (ncap - 1)] = t;
            }
        }
        free(tb_table);
        tb_table = nt;
        tb_cap = ncap;
    }
    mem_tb **bucket = &tb_table[h & (tb_cap - 1)];
    for (mem_tb *t = *bucket; t; t = t->next)
        if (t->hash == h && t->nframes == n && memcmp(t->frames, frames, n * sizeof(void *)) == 0)
            return t;
    mem_tb *t = malloc(sizeof *t + (size_t)n * sizeof(void *));
    if (!t) return NULL;
    t->hash = h;
    t->nframes = n;
    t->acc_size = t->acc_count = 0;
    memcpy(t->frames, frames, (size_t)n * sizeof(void *));
    t->next = *bucket;
    *bucket = t;
    tb_count++;
    return t;
}

/* Drop every record and stack (tracing stopped).  Caller holds trace_lock. */
static void trace_clear_locked(void)
{
    for (size_t i = 0; i < tb_cap; i++) {
        for (mem_tb *t = tb_table[i], *next; t; t = next) {
            next = t->next;
            free(t);
        }
    }
    free(tb_table);
    free(rec_table);
    tb_table = NULL;
    rec_table = NULL;
    tb_cap = tb_count = rec_cap = rec_live = rec_used = 0;
    traced_current = traced_peak = 0;
}

/* ---- capturing a stack ---------------------------------------------------------------------- */

static int find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t target = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (target >= lo && target < hi) {
            /* The main program (name "") holds the caller's code too: skip nothing. */
            if (info->dlpi_name && info->dlpi_name[0]) {
                lib_lo = lo;
                lib_hi = hi;
            }
            return 1;
        }
    }
    return 0;
}

/* Frames of the current stack from the caller of the entry point (whose
 * return address is ra) outward, without libgilrt's own frames. */
static int trace_capture(void *ra, void **out, int depth)
{
    void *buf[GRT_MEM_TRACE_MAX_DEPTH + 48];
    int want = depth + 48;
    int n = backtrace(buf, want);
    int i = 0;
    while (i < n && buf[i] != ra) i++;
    if (i == n) i = 0;      /* not found (a tail call?): skip what lies in the library */
    while (i < n && (uintptr_t)buf[i] >= lib_lo && (uintptr_t)buf[i] < lib_hi) i++;
    int k = 0;
    for (; i < n && k < depth; i++)
        out[k++] = buf[i];
    return k;
}

static void trace_add(void *p, size_t n, void *ra)
{
    void *frames[GRT_MEM_TRACE_MAX_DEPTH];
    int nf = trace_capture(ra, frames, (int)grt_atomic_load_32(&trace_xdepth));
    pthread_mutex_lock(&trace_lock);
    if (grt_atomic_load_32(&_grt_mem_xtracing)) {
        mem_tb *tb = tb_intern(frames, nf);
        trace_rec *old = rec_find(p);
        if (old) rec_delete(old);       /* a block freed behind our back; never expected */
        if (tb) rec_insert(p, n, tb);   /* out of memory: the block goes untraced */
    }
    pthread_mutex_unlock(&trace_lock);
}

/* Remove p's record; its site goes to *site (tb NULL if p was not traced). */
static void trace_take(const void *p, mem_site_ref *site, size_t *size)
{
    pthread_mutex_lock(&trace_lock);
    trace_rec *r = rec_find(p);
    *site = (mem_site_ref){ r ? r->tb : NULL, trace_generation };
    *size = r ? r->size : 0;
    if (r) rec_delete(r);
    pthread_mutex_unlock(&trace_lock);
}

/* ---- the backend wrappers ---------------------------------------------------------------------- */

void *_grt_trace_alloc(const mem_backend *b, size_t n, void *ra)
{
    void *p = b->alloc(n);
    if (p) trace_add(p, n, ra);
    return p;
}

void _grt_trace_free(const mem_backend *b, void *p)
{
    if (!p) return;
    size_t size;
    trace_take(p, &inflight_site, &size);
    inflight_ptr = p;
    b->free(p);
    inflight_ptr = NULL;
}

void *_grt_trace_realloc(const mem_backend *b, void *p, size_t n, void *ra)
{
    if (!p) return _grt_trace_alloc(b, n, ra);
    size_t old_size;
    trace_take(p, &inflight_site, &old_size);
    inflight_ptr = p;
    void *q = b->realloc(p, n);
    inflight_ptr = NULL;
    if (q) {
        trace_add(q, n, ra);
    } else if (inflight_site.tb) {
        /* Failed: p lives on; put its record back if the session is the same. */
        pthread_mutex_lock(&trace_lock);
        if (grt_atomic_load_32(&_grt_mem_xtracing) && trace_generation == inflight_site.generation)
            rec_insert(p, old_size, (mem_tb *)inflight_site.tb);
        pthread_mutex_unlock(&trace_lock);
    }
    return q;
}

mem_site_ref _grt_trace_site_of(const void *p)
{
    if (p == inflight_ptr)
        return inflight_site;
    pthread_mutex_lock(&trace_lock);
    trace_rec *r = rec_find(p);
    mem_site_ref ref = { r ? r->tb : NULL, trace_generation };
    pthread_mutex_unlock(&trace_lock);
    return ref;
}

void _grt_trace_print_site(FILE *f, mem_site_ref ref)
{
    pthread_mutex_lock(&trace_lock);
    if (ref.tb && ref.generation == trace_generation && grt_atomic_load_32(&_grt_mem_xtracing)) {
        const mem_tb *t = ref.tb;
        char buf[512];
        fprintf(f, "  allocated at:\n");
        for (int i = 0; i < t->nframes; i++)
            fprintf(f, "    %s\n", grt_mem_frame_name(t->frames[i], buf, sizeof buf));
    } else if (!grt_atomic_load_32(&_grt_mem_xtracing)) {
        fprintf(f, "  (allocation site unknown: call grt_mem_trace_start to record it)\n");
    } else {
        fprintf(f, "  (allocation site unknown: allocated before tracing started)\n");
    }
    pthread_mutex_unlock(&trace_lock);
}

size_t _grt_trace_current(void)
{
    pthread_mutex_lock(&trace_lock);
    size_t c = traced_current;
    pthread_mutex_unlock(&trace_lock);
    return c;
}

void _grt_trace_fini(void) { grt_mem_trace_stop(); }

void _grt_trace_fork_child(void)
{
    pthread_mutex_init(&trace_lock, NULL);
}

/* ---- the public tracing API ------------------------------------------------------------------- */

int grt_mem_trace_start(int depth)
{
    if (depth < 1 || depth > GRT_MEM_TRACE_MAX_DEPTH) {
        grt_err_set(GRT_ERR_VALUE, "grt_mem_trace_start: depth %d is not in 1..%d",
                    depth, GRT_MEM_TRACE_MAX_DEPTH);
        return -1;
    }
    if (!grt_is_initialized()) {
        grt_err_set(GRT_ERR_RUNTIME, "grt_mem_trace_start: the runtime is not initialised");
        return -1;
    }
    /* The first backtrace() loads the unwinder (it mallocs): do it outside the lock. */
    void *warm[2];
    backtrace(warm, 2);
    pthread_mutex_lock(&trace_lock);
    grt_atomic_store_32(&trace_xdepth, (uint32_t)depth);
    if (!grt_atomic_load_32(&_grt_mem_xtracing)) {
        /* only while nobody traces: capturing threads read the range
         * without the lock (a restart rewrote it under them) */
        lib_lo = lib_hi = 0;
        dl_iterate_phdr(find_lib, (void *)(uintptr_t)&_grt_mem_alloc);
        trace_generation++;
        traced_current = traced_peak = 0;
        grt_atomic_store_32(&_grt_mem_xtracing, 1);
    }
    pthread_mutex_unlock(&trace_lock);
    _grt_mem_update_fast();
    return 0;
}

void grt_mem_trace_stop(void)
{
    pthread_mutex_lock(&trace_lock);
    if (grt_atomic_load_32(&_grt_mem_xtracing)) {
        grt_atomic_store_32(&_grt_mem_xtracing, 0);
        trace_generation++;
        trace_clear_locked();
    }
    pthread_mutex_unlock(&trace_lock);
    _grt_mem_update_fast();
}

int grt_mem_trace_is_tracing(void) { return (int)grt_atomic_load_32(&_grt_mem_xtracing); }

void grt_mem_trace_traced(size_t *current, size_t *peak)
{
    pthread_mutex_lock(&trace_lock);
    if (current) *current = traced_current;
    if (peak) *peak = traced_peak;
    pthread_mutex_unlock(&trace_lock);
}

void grt_mem_trace_reset_peak(void)
{
    pthread_mutex_lock(&trace_lock);
    traced_peak = traced_current;
    pthread_mutex_unlock(&trace_lock);
}

/* ---- taking a snapshot (the rest is in mem/snapshot.c) --------------------------------- */

grt_mem_snapshot *grt_mem_snapshot_take(void)
{
    pthread_mutex_lock(&trace_lock);
    if (!grt_atomic_load_32(&_grt_mem_xtracing)) {
        pthread_mutex_unlock(&trace_lock);
        return grt_err_set(GRT_ERR_RUNTIME, "grt_mem_snapshot_take: not tracing "
                           "(call grt_mem_trace_start first)");
    }
    size_t nsites = 0, nframes = 0;
    for (size_t i = 0; i < tb_cap; i++)
        for (mem_tb *t = tb_table[i]; t; t = t->next)
            t->acc_size = t->acc_count = 0;
    for (size_t i = 0; i < rec_cap; i++) {
        trace_rec *r = &rec_table[i];
        if (r->ptr == NULL || r->ptr == TRACE_TOMB) continue;
        if (r->tb->acc_count++ == 0) {
            nsites++;
            nframes += (size_t)r->tb->nframes;
        }
        r->tb->acc_size += r->size;
    }
    grt_mem_snapshot *s = _grt_snapshot_alloc(nsites, nframes);
    if (s) {
        void **fp = s->frames;
        for (size_t i = 0; i < tb_cap; i++) {
            for (mem_tb *t = tb_table[i]; t; t = t->next) {
                if (!t->acc_count) continue;
                memcpy(fp, t->frames, (size_t)t->nframes * sizeof(void *));
                s->sites[s->n++] = (grt_mem_site){ fp, t->nframes, t->acc_size, t->acc_count, 0, 0 };
                fp += t->nframes;
                s->total_size += t->acc_size;
                s->total_count += t->acc_count;
            }
        }
    }
    pthread_mutex_unlock(&trace_lock);
    if (!s)
        return grt_err_set(GRT_ERR_MEMORY, "grt_mem_snapshot_take: out of memory");
    _grt_snapshot_sort_by_size(s);
    return s;
}
