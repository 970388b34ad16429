/*
 * runtime/str.c — immutable byte strings, interning, and the repr helpers
 * every container shares (string builder, recursion guards).
 *
 * Invariants:
 *   - a str holds `length` bytes plus a terminating NUL (so grt_str_data is
 *     a C string when the bytes contain no NUL); the bytes never change;
 *   - xhash caches the hash: STR_HASH_UNSET until first computed, then the
 *     hash, which never changes.  Two threads may both compute it; they store
 *     the same value, with relaxed atomics so the race is benign and visible
 *     as such to TSan;
 *   - the interning table holds exactly one str per distinct value; each is
 *     immortal, marked `interned`, owned by the table and freed by
 *     _grt_str_fini.  The table is guarded by intern_mutex (atomic and brc
 *     run threads without a GIL).  A per-thread cache of recent interned
 *     strs answers repeated lookups without the mutex; its entries are
 *     immortal, so a stale pointer is never a dangling one within one
 *     grt_init..grt_fini (intern_epoch invalidates caches across runs).
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>
#include <stdarg.h>

#define STR_HASH_UNSET UINT64_MAX   /* -1: no hash is ever -1 */

typedef struct grt_str {
    grt_object ob_base;
    int64_t length;
    uint64_t xhash;                 /* atomic, relaxed: cached hash or STR_HASH_UNSET */
    uint8_t interned;               /* set before publication, never changes */
    char data[];                    /* length bytes + NUL */
} grt_str;

#define STR(o) ((grt_str *)(o))

/* ---- hashing -------------------------------------------------------------------- */

int64_t _grt_str_hash_bytes(const char *s, size_t n)
{
    /* FNV-1a over the bytes, then a final avalanche so short strings spread
     * over the low bits the dict's mask uses. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 29;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 32;
    int64_t r = (int64_t)h;
    return r == -1 ? -2 : r;
}

int64_t _grt_str_hash(grt_object *o)
{
    grt_str *s = STR(o);
    uint64_t h = grt_atomic_load_64(&s->xhash);
    if (h == STR_HASH_UNSET) {
        h = (uint64_t)_grt_str_hash_bytes(s->data, (size_t)s->length);
        grt_atomic_store_64(&s->xhash, h);   /* every racer stores the same value */
    }
    return (int64_t)h;
}

int _grt_str_eq_bytes(grt_object *o, const char *s, size_t n, int64_t hash)
{
    if (!grt_is_type(o, &grt_str_type))
        return 0;
    grt_str *a = STR(o);
    return a->length == (int64_t)n && _grt_str_hash(o) == hash && memcmp(a->data, s, n) == 0;
}

/* ---- the type ------------------------------------------------------------------- */

static void str_dealloc(grt_object *o) { _grt_object_free(o); }

static int str_eq(grt_object *a, grt_object *b)
{
    if (!grt_is_type(b, &grt_str_type))
        return 0;
    grt_str *x = STR(a), *y = STR(b);
    if (x->length != y->length)
        return 0;
    if (x->interned && y->interned)
        return x == y;                     /* one interned str per value */
    uint64_t hx = grt_atomic_load_64(&x->xhash), hy = grt_atomic_load_64(&y->xhash);
    if (hx != STR_HASH_UNSET && hy != STR_HASH_UNSET && hx != hy)
        return 0;
    return memcmp(x->data, y->data, (size_t)x->length) == 0;
}

/* The UTF-8 sequence at d[0..n): its code point and length, or length 0
 * when it is not valid UTF-8 (overlong, surrogate, past U+10FFFF, cut). */
static size_t str_utf8_next(const unsigned char *d, size_t n, uint32_t *cp)
{
    unsigned char c = d[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t v = len == 1 ? c : c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((d[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (d[i] & 0x3f);
    }
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points Python's repr escapes beyond ASCII: controls (Cc), separators
 * other than the space (Zs, Zl, Zp), format characters (Cf) and private use
 * (Co), as of Unicode 14 (Python 3.11).  Unassigned ones (Cn) would need
 * the Unicode database: they print as they are. */
static int str_unprintable(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        { 0x80, 0xa0 }, { 0xad, 0xad }, { 0x600, 0x605 }, { 0x61c, 0x61c }, { 0x6dd, 0x6dd },
        { 0x70f, 0x70f }, { 0x890, 0x891 }, { 0x8e2, 0x8e2 }, { 0x1680, 0x1680 }, { 0x180e, 0x180e }, { 0x2000, 0x200f },
        { 0x2028, 0x202f }, { 0x205f, 0x2064 }, { 0x2066, 0x206f }, { 0x3000, 0x3000 },
        { 0xe000, 0xf8ff }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
        { 0x13430, 0x13438 },
        { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
        { 0xf0000, 0x10ffff },
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return 1;
    return 0;
}

/* 'text' or "text" (double quotes when the text has ' but no "), the quote
 * picked as Python picks; control characters as \n, \t, \r, \xNN, other
 * characters Python would not print as \xNN, \uNNNN or \UNNNNNNNN, and
 * bytes that are not UTF-8 as \xNN (Python's backslashreplace). */
static grt_object *str_repr(grt_object *o)
{
    grt_str *s = STR(o);
    const unsigned char *d = (const unsigned char *)s->data;
    size_t n = (size_t)s->length;
    char quote = '\'';
    if (memchr(d, '\'', n) && !memchr(d, '"', n))
        quote = '"';
    _grt_strbuf b;
    _grt_strbuf_init(&b);
    _grt_strbuf_append(&b, &quote, 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = d[i];
        char esc[16];
        uint32_t cp = c;
        size_t len = c < 0x80 ? 1 : str_utf8_next(d + i, n - i, &cp);
        if (len == 0) {                             /* not UTF-8: the byte */
            snprintf(esc, sizeof esc, "\\x%02x", c);
            _grt_strbuf_append(&b, esc, 4);
            i++;
            continue;
        }
        if (c == (unsigned char)quote || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c;
            _grt_strbuf_append(&b, esc, 2);
        } else if (c == '\n') {
            _grt_strbuf_append(&b, "\\n", 2);
        } else if (c == '\t') {
            _grt_strbuf_append(&b, "\\t", 2);
        } else if (c == '\r') {
            _grt_strbuf_append(&b, "\\r", 2);
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && str_unprintable(cp))) {
            int k = snprintf(esc, sizeof esc, cp <= 0xff ? "\\x%02x" : cp <= 0xffff ? "\\u%04x"
                                                : "\\U%08x", (unsigned)cp);
            _grt_strbuf_append(&b, esc, (size_t)k);
        } else {
            _grt_strbuf_append(&b, (const char *)&d[i], len);
        }
        i += len;
    }
    _grt_strbuf_append(&b, &quote, 1);
    return _grt_strbuf_finish(&b);
}

grt_type grt_str_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "str",
    .tp_basicsize = sizeof(grt_str),
    .tp_itemsize = 1,
    .tp_flags = GRT_TPFLAGS_IMMUTABLE | GRT_TPFLAGS_STATIC,
    .tp_dealloc = str_dealloc,
    .tp_hash = _grt_str_hash,
    .tp_eq = str_eq,
    .tp_repr = str_repr,
};

/* ---- construction ----------------------------------------------------------------- */

static grt_str *str_alloc(const char *s, size_t n)
{
    if (n > (size_t)INT64_MAX - sizeof(grt_str) - 1) {
        grt_err_set(GRT_ERR_OVERFLOW, "str of %zu bytes is too large", n);
        return NULL;
    }
    grt_str *o = (grt_str *)_grt_object_alloc(&grt_str_type, sizeof(grt_str) + n + 1);
    if (!o)
        return NULL;
    o->length = (int64_t)n;
    o->xhash = STR_HASH_UNSET;             /* not yet shared: a plain store */
    if (n)
        memcpy(o->data, s, n);
    o->data[n] = '\0';
    return o;
}

grt_object *grt_str_from_len(const char *s, size_t n)
{
    if (!s && n)
        return grt_err_set(GRT_ERR_TYPE, "grt_str_from_len: argument 's' is NULL");
    grt_str *o = str_alloc(s, n);
    return o ? &o->ob_base : NULL;
}

grt_object *_grt_str_from_format(const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return grt_err_set(GRT_ERR_VALUE, "cannot format '%s'", fmt);
    if ((size_t)n < sizeof small)
        return grt_str_from_len(small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return grt_err_set(GRT_ERR_MEMORY, "out of memory formatting a str of %d bytes", n);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    grt_object *r = grt_str_from_len(big, (size_t)n);
    free(big);
    return r;
}

grt_object *grt_str_new(const char *s)
{
    if (GRT_CHECK_ARG(s) < 0)
        return NULL;
    grt_str *o = str_alloc(s, strlen(s));
    return o ? &o->ob_base : NULL;
}

const char *grt_str_data(grt_object *o)
{
    if (GRT_CHECK_OBJ(o, &grt_str_type) < 0)
        return NULL;
    return STR(o)->data;
}

int64_t grt_str_len(grt_object *o)
{
    if (GRT_CHECK_OBJ(o, &grt_str_type) < 0)
        return -1;
    return STR(o)->length;
}

int grt_str_eq_cstr(grt_object *o, const char *s)
{
    if (!o || !s || !grt_is_type(o, &grt_str_type))
        return 0;
    size_t n = strlen(s);
    return STR(o)->length == (int64_t)n && memcmp(STR(o)->data, s, n) == 0;
}

/* ---- interning ---------------------------------------------------------------------- */

/* Open addressing over a power-of-two array, linear probing, no deletions
 * (interned strings live until fini).  Kept at most half full. */
static pthread_mutex_t intern_mutex = PTHREAD_MUTEX_INITIALIZER;
static grt_str **intern_slots;      /* under intern_mutex */
static size_t intern_cap, intern_count;
/* Bumped by each _grt_str_init, before any thread but the initialising one
 * exists, so the thread caches below see a stable value. */
static uint64_t intern_epoch;

#define INTERN_CACHE_SIZE 64        /* per thread, direct-mapped by hash */
static __thread struct {
    uint64_t epoch;
    grt_str *slot[INTERN_CACHE_SIZE];
} intern_cache;

static int intern_grow_locked(void)
{
    size_t cap = intern_cap ? intern_cap * 2 : 1024;
    /* the runtime's allocator, so that fault injection reaches interning */
    grt_str **slots = _grt_mem_init_fault() ? NULL : _grt_mem_alloc(cap * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < intern_cap; i++) {
        grt_str *s = intern_slots[i];
        if (!s)
            continue;
        size_t j = (size_t)grt_atomic_load_64(&s->xhash) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    _grt_mem_free(intern_slots);
    intern_slots = slots;
    intern_cap = cap;
    return 0;
}

int _grt_str_init(void)
{
    pthread_mutex_lock(&intern_mutex);
    intern_epoch++;
    int rc = intern_slots ? 0 : intern_grow_locked();
    pthread_mutex_unlock(&intern_mutex);
    if (rc < 0) {
        grt_err_set(GRT_ERR_MEMORY, "cannot allocate the string interning table");
        return -1;
    }
    return 0;
}

void _grt_str_fini(void)
{
    pthread_mutex_lock(&intern_mutex);
    for (size_t i = 0; i < intern_cap; i++)
        if (intern_slots[i])
            _grt_object_free(&intern_slots[i]->ob_base);
    _grt_mem_free(intern_slots);
    intern_slots = NULL;
    intern_cap = intern_count = 0;
    intern_epoch++;                     /* every thread cache is now stale */
    pthread_mutex_unlock(&intern_mutex);
}

void _grt_str_fork_child(void)
{
    pthread_mutex_init(&intern_mutex, NULL);
}

grt_object *_grt_str_intern_len(const char *s, size_t n, int64_t hash)
{
    size_t c = (size_t)hash & (INTERN_CACHE_SIZE - 1);
    if (intern_cache.epoch != intern_epoch) {
        memset(intern_cache.slot, 0, sizeof intern_cache.slot);
        intern_cache.epoch = intern_epoch;
    }
    grt_str *hit = intern_cache.slot[c];
    if (hit && _grt_str_eq_bytes(&hit->ob_base, s, n, hash))
        return &hit->ob_base;           /* immortal: a new reference costs nothing */

    pthread_mutex_lock(&intern_mutex);
    if (!intern_slots || (intern_count + 1) * 2 > intern_cap) {
        if (intern_grow_locked() < 0) {
            pthread_mutex_unlock(&intern_mutex);
            return grt_err_set(GRT_ERR_MEMORY, "cannot grow the string interning table");
        }
    }
    size_t j = (size_t)hash & (intern_cap - 1);
    grt_str *found = NULL;
    for (; intern_slots[j]; j = (j + 1) & (intern_cap - 1)) {
        if (_grt_str_eq_bytes(&intern_slots[j]->ob_base, s, n, hash)) {
            found = intern_slots[j];
            break;
        }
    }
    if (!found) {
        found = str_alloc(s, n);
        if (!found) {
            pthread_mutex_unlock(&intern_mutex);
            return NULL;
        }
        found->xhash = (uint64_t)hash;  /* unpublished until the unlock below */
        found->interned = 1;
        _grt_rc_set_immortal(&found->ob_base);
        intern_slots[j] = found;
        intern_count++;
    }
    pthread_mutex_unlock(&intern_mutex);
    intern_cache.slot[c] = found;
    return &found->ob_base;
}

grt_object *grt_str_intern(const char *s)
{
    if (GRT_CHECK_ARG(s) < 0)
        return NULL;
    size_t n = strlen(s);
    return _grt_str_intern_len(s, n, _grt_str_hash_bytes(s, n));
}

void grt_str_intern_in_place(grt_object **p)
{
    if (GRT_CHECK_ARG(p) < 0 || GRT_CHECK_OBJ(*p, &grt_str_type) < 0)
        return;
    grt_str *s = STR(*p);
    if (s->interned)
        return;
    grt_object *in = _grt_str_intern_len(s->data, (size_t)s->length, _grt_str_hash(*p));
    if (!in)
        return;                          /* *p unchanged, MemoryError set */
    grt_object *old = *p;
    *p = in;
    grt_decref(old);
}

/* ---- string builder --------------------------------------------------------------------- */

void _grt_strbuf_init(_grt_strbuf *b)
{
    b->buf = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void _grt_strbuf_append(_grt_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        char *nb = _grt_mem_realloc(b->buf, cap);
        if (!nb) {
            b->failed = 1;
            grt_err_set(GRT_ERR_MEMORY, "out of memory building a repr of %zu bytes", cap);
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

void _grt_strbuf_puts(_grt_strbuf *b, const char *s) { _grt_strbuf_append(b, s, strlen(s)); }

void _grt_strbuf_append_repr(_grt_strbuf *b, grt_object *o)
{
    if (b->failed)
        return;
    grt_object *r = grt_repr(o);
    if (!r) {
        b->failed = 1;
        return;
    }
    _grt_strbuf_append(b, STR(r)->data, (size_t)STR(r)->length);
    grt_decref(r);
}

grt_object *_grt_strbuf_finish(_grt_strbuf *b)
{
    grt_object *r = NULL;
    if (!b->failed)
        r = grt_str_from_len(b->buf ? b->buf : "", b->len);
    else if (!grt_err_occurred())
        grt_err_set(GRT_ERR_MEMORY, "out of memory building a repr");
    _grt_strbuf_discard(b);
    return r;
}

void _grt_strbuf_discard(_grt_strbuf *b)
{
    if (b->buf)
        _grt_mem_free(b->buf);
    _grt_strbuf_init(b);
}

/* ---- recursion guards -------------------------------------------------------------------- */

/* initial-exec TLS: one %fs-relative access on the hot equality/hash paths */
static __thread _grt_repr_frame *repr_top GRT_TLS_IE;   /* this thread's reprs in progress */
static __thread int repr_depth GRT_TLS_IE;
static __thread int recursion_depth GRT_TLS_IE;

int _grt_repr_enter(grt_object *o, _grt_repr_frame *f)
{
    for (_grt_repr_frame *p = repr_top; p; p = p->prev)
        if (p->o == o)
            return 1;
    if (repr_depth >= GRT_TYPES_MAX_DEPTH) {
        grt_err_set(GRT_ERR_RUNTIME, "maximum recursion depth (%d) exceeded in repr of a %s",
                    GRT_TYPES_MAX_DEPTH, grt_type_name(o));
        return -1;
    }
    f->o = o;
    f->prev = repr_top;
    repr_top = f;
    repr_depth++;
    return 0;
}

void _grt_repr_leave(_grt_repr_frame *f)
{
    GRT_ASSERT(repr_top == f);
    repr_top = f->prev;
    repr_depth--;
}

int _grt_recursion_enter(const char *what)
{
    if (recursion_depth >= GRT_TYPES_MAX_DEPTH) {
        grt_err_set(GRT_ERR_RUNTIME, "maximum recursion depth (%d) exceeded in %s",
                    GRT_TYPES_MAX_DEPTH, what);
        return -1;
    }
    recursion_depth++;
    return 0;
}

void _grt_recursion_leave(void) { recursion_depth--; }
