/*
 * mem/debug.c — the debug allocator (GRT_MALLOC=debug): obmalloc behind guard
 * bytes and fill patterns, CPython's debug hooks in spirit.
 *
 * A request of n bytes takes an obmalloc block of n + 32:
 *
 *     raw                     p (16-aligned, returned)      p + n
 *     | size n (8) | state (1) | 0xFD x 7 | data: n bytes | 0xFD x 8 | serial (8) |
 *
 *   state   'A' live, 'F' freed and waiting in the quarantine, 'R' released to
 *           obmalloc after the quarantine (whose free list then overwrites
 *           the size field: nothing may read through it any more)
 *   data    0xCD when fresh, 0xDD once freed
 *   serial  the allocation's number (1, 2, ...), to tell blocks apart
 *
 * Invariants checked:
 *   - at free and realloc: the 7 guard bytes below p and the 8 above p + n are
 *     0xFD (else underflow / overflow) and the state is 'A' ('F': double free);
 *   - a freed block stays in a FIFO quarantine of DBG_QUARANTINE blocks before
 *     obmalloc may reuse it; when it leaves, and at grt_mem_check, its data must
 *     still be all 0xDD (else something wrote to it after the free).
 * A violation prints the block's address, size, serial and (while tracing)
 * allocation site, then is fatal.  The quarantine is one FIFO under dbg_lock:
 * this allocator is for finding bugs, not for speed.
 */
#include "backend.h"
#include <inttypes.h>
#include <stdarg.h>

#define DBG_CLEAN   0xCD
#define DBG_DEAD    0xDD
#define DBG_GUARD   0xFD
#define DBG_LIVE    'A'
#define DBG_FREED   'F'
#define DBG_RELEASED 'R'
#define DBG_QUARANTINE 1024
#define DBG_OVERHEAD 32

typedef struct dbg_hdr {
    size_t size;
    uint8_t state;
    uint8_t guard[7];
} dbg_hdr;
_Static_assert(sizeof(dbg_hdr) == 16, "the debug header keeps 16-byte alignment");

typedef struct dbg_entry {
    dbg_hdr *raw;
    mem_site_ref site;
} dbg_entry;

static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static dbg_entry dbg_quarantine[DBG_QUARANTINE];   /* ring under dbg_lock */
static size_t dbg_head, dbg_len;
static uint64_t dbg_xserial;                      /* atomic */
static uint64_t dbg_xrequested;                   /* atomic: bytes in live blocks */

static uint8_t *dbg_data(dbg_hdr *h) { return (uint8_t *)(h + 1); }
/* 1 if h's size field fits its block: only then may a report read through it
 * (the tail guard, the serial); a header overwritten, or released to obmalloc,
 * must not send the report itself out of bounds. */
static int dbg_size_ok(dbg_hdr *h)
{
    return h->state != DBG_RELEASED && h->size <= _grt_obm_block_size(h) - DBG_OVERHEAD;
}
static uint8_t *dbg_tail(dbg_hdr *h) { return dbg_data(h) + h->size; }
static uint64_t dbg_serial(dbg_hdr *h)
{
    uint64_t s;
    memcpy(&s, dbg_tail(h) + 8, sizeof s);     /* unaligned when n is not a multiple of 8 */
    return s;
}

__attribute__((noreturn, format(printf, 4, 5)))
static void dbg_fail(const char *what, dbg_hdr *h, mem_site_ref site, const char *fmt, ...)
{
    const uint8_t *p = dbg_data(h);
    fflush(stdout);
    if (dbg_size_ok(h))
        fprintf(stderr, "gilrt debug allocator: %s on block %p (%zu bytes requested, serial %"
                PRIu64 ")\n", what, (const void *)p, h->size, dbg_serial(h));
    else
        fprintf(stderr, "gilrt debug allocator: %s on block %p (size and serial unknown: %s)\n",
                what, (const void *)p, h->state == DBG_RELEASED ? "the block left the quarantine"
                                                                : "its size field was overwritten");
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "  bytes around the block start:");
    for (int i = -16; i < 16; i++)
        fprintf(stderr, "%s%02x", i == 0 ? " | " : " ", p[i]);
    fputc('\n', stderr);
    _grt_trace_print_site(stderr, site);
    _grt_fatal("debug allocator: %s on block %p", what, (const void *)p);
}

/* Validate a block handed to free/realloc; returns its header. */
static dbg_hdr *dbg_check_live(void *p, const char *func)
{
    if ((uintptr_t)p & (MEM_ALIGN - 1))
        _grt_fatal("%s: %p is not a block from the debug allocator (misaligned)", func, p);
    dbg_hdr *h = (dbg_hdr *)p - 1;
    for (int i = 6; i >= 0; i--)
        if (h->guard[i] != DBG_GUARD)
            dbg_fail("buffer underflow", h, _grt_trace_site_of(p),
                     "%s: guard byte %d bytes before the block is 0x%02x, expected 0x%02x",
                     func, 7 - i, h->guard[i], DBG_GUARD);
    if (h->state == DBG_FREED)
        dbg_fail("double free", h, _grt_trace_site_of(p),
                 "%s: the block was already freed (it is in the quarantine)", func);
    if (h->state == DBG_RELEASED)
        dbg_fail("double free", h, _grt_trace_site_of(p),
                 "%s: the block was already freed (and has left the quarantine)", func);
    if (h->state != DBG_LIVE)
        dbg_fail("bad block", h, _grt_trace_site_of(p),
                 "%s: state byte 0x%02x: not a live block of the debug allocator, or its "
                 "header was overwritten", func, h->state);
    if (!dbg_size_ok(h))
        dbg_fail("buffer underflow", h, _grt_trace_site_of(p),
                 "%s: the size field (%zu) is larger than the block (%zu): header overwritten",
                 func, h->size, _grt_obm_block_size(h) - DBG_OVERHEAD);
    uint8_t *t = dbg_tail(h);
    for (int i = 0; i < 8; i++)
        if (t[i] != DBG_GUARD)
            dbg_fail("buffer overflow", h, _grt_trace_site_of(p),
                     "%s: guard byte %d past the end (at %p) is 0x%02x, expected 0x%02x",
                     func, i, (void *)&t[i], t[i], DBG_GUARD);
    return h;
}

/* A quarantined block must be exactly as dbg_free left it. */
static void dbg_check_freed(const dbg_entry *e)
{
    dbg_hdr *h = e->raw;
    /* the header first: the data loop below trusts its size */
    for (int i = 0; i < 7; i++)
        if (h->guard[i] != DBG_GUARD || h->state != DBG_FREED || !dbg_size_ok(h))
            dbg_fail("use after free", h, e->site,
                     "the header of the freed block was overwritten after the free");
    uint8_t *d = dbg_data(h);
    for (size_t i = 0; i < h->size; i++)
        if (d[i] != DBG_DEAD)
            dbg_fail("use after free", h, e->site,
                     "byte %zu of the freed block (at %p) was written after the free: "
                     "0x%02x, expected 0x%02x", i, (void *)&d[i], d[i], DBG_DEAD);
    uint8_t *t = dbg_tail(h);
    for (int i = 0; i < 8; i++)
        if (t[i] != DBG_GUARD)
            dbg_fail("use after free", h, e->site,
                     "guard byte %d past the end of the freed block was overwritten", i);
}

static void *dbg_alloc(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX - DBG_OVERHEAD)
        return NULL;
    dbg_hdr *h = _grt_obm_alloc(n + DBG_OVERHEAD);
    if (!h) return NULL;
    h->size = n;
    h->state = DBG_LIVE;
    memset(h->guard, DBG_GUARD, sizeof h->guard);
    memset(dbg_data(h), DBG_CLEAN, n);
    uint8_t *t = dbg_tail(h);
    memset(t, DBG_GUARD, 8);
    uint64_t serial = grt_atomic_faa_64(&dbg_xserial, 1) + 1;
    memcpy(t + 8, &serial, sizeof serial);
    grt_atomic_add_64(&dbg_xrequested, n);
    return dbg_data(h);
}

static void dbg_free(void *p)
{
    if (!p) return;
    dbg_hdr *h = dbg_check_live(p, "grt_mem_free");
    mem_site_ref site = _grt_trace_site_of(p);
    grt_atomic_add_64(&dbg_xrequested, -(uint64_t)h->size);
    memset(dbg_data(h), DBG_DEAD, h->size);
    h->state = DBG_FREED;

    dbg_entry evicted = { NULL, { NULL, 0 } };
    pthread_mutex_lock(&dbg_lock);
    if (dbg_len == DBG_QUARANTINE) {
        evicted = dbg_quarantine[dbg_head];
        dbg_head = (dbg_head + 1) % DBG_QUARANTINE;
        dbg_len--;
        dbg_check_freed(&evicted);
    }
    dbg_quarantine[(dbg_head + dbg_len) % DBG_QUARANTINE] = (dbg_entry){ h, site };
    dbg_len++;
    pthread_mutex_unlock(&dbg_lock);
    if (evicted.raw) {
        evicted.raw->state = DBG_RELEASED;   /* at offset 8: obmalloc's link takes 0..7 */
        _grt_obm_free(evicted.raw);
    }
}

static void *dbg_realloc(void *p, size_t n)
{
    if (!p) return dbg_alloc(n);
    dbg_hdr *h = dbg_check_live(p, "grt_mem_realloc");
    /* Always move: a stale pointer to the old block then shows 0xDD. */
    void *q = dbg_alloc(n);
    if (!q) return NULL;
    memcpy(q, p, n < h->size ? n : h->size);
    dbg_free(p);
    return q;
}

static size_t dbg_block_size(const void *p) { return ((const dbg_hdr *)p - 1)->size; }

const mem_backend _grt_mem_debug = { "debug", dbg_alloc, dbg_realloc, dbg_free, dbg_block_size };

void _grt_debug_init(void)
{
    pthread_mutex_lock(&dbg_lock);
    dbg_head = dbg_len = 0;
    pthread_mutex_unlock(&dbg_lock);
    grt_atomic_store_64(&dbg_xserial, 0);
    grt_atomic_store_64(&dbg_xrequested, 0);
}

void _grt_debug_fini(void)
{
    /* The arenas go away with obmalloc; check what waited, then forget it. */
    _grt_debug_check();
    pthread_mutex_lock(&dbg_lock);
    dbg_head = dbg_len = 0;
    pthread_mutex_unlock(&dbg_lock);
}

void _grt_debug_fork_child(void)
{
    pthread_mutex_init(&dbg_lock, NULL);
}

size_t _grt_debug_check(void)
{
    pthread_mutex_lock(&dbg_lock);
    size_t n = dbg_len;
    for (size_t i = 0; i < n; i++)
        dbg_check_freed(&dbg_quarantine[(dbg_head + i) % DBG_QUARANTINE]);
    pthread_mutex_unlock(&dbg_lock);
    return n;
}

size_t _grt_debug_requested(void) { return (size_t)grt_atomic_load_64(&dbg_xrequested); }

void _grt_debug_quarantined(int64_t per_class[MEM_NCLASSES], int64_t *large_blocks,
                            int64_t *large_bytes)
{
    pthread_mutex_lock(&dbg_lock);
    for (size_t i = 0; i < dbg_len; i++) {
        size_t size;
        int c = _grt_obm_block_class(dbg_quarantine[(dbg_head + i) % DBG_QUARANTINE].raw, &size);
        if (c >= 0) {
            per_class[c]++;
        } else {
            (*large_blocks)++;
            *large_bytes += (int64_t)size;
        }
    }
    pthread_mutex_unlock(&dbg_lock);
}
