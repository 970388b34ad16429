/*
 * atomics/rc_biased.h — biased reference counting (variant brc).
 *
 * Choi, Shull, Torrellas, "Biased Reference Counting" (PACT 2018), and PEP 703
 * (free-threaded CPython 3.13+).  Most objects are only ever touched by the
 * thread that created them, so that thread — the owner — counts its
 * references in a plain field with plain loads and stores, and only other
 * threads pay for atomic read-modify-writes on a second, shared field.
 *
 * Header (24 bytes; CPython 3.13t uses 32):
 *
 *   xob_ref_local   the owner's count.  Written only by the owner, with
 *                   relaxed atomic stores so that another thread may read it
 *                   (immortality check, grt_refcnt) without a data race.
 *                   UINT32_MAX marks an immortal object.
 *   xob_tid         owner's thread id (runtime/tstate.c hands them out, never
 *                   reused); 0 = no owner, the counts are merged.  It sits
 *                   right above local so that one 64-bit load (xob_owner)
 *                   reads both: the fast paths' single compare, below.
 *   xob_ref_shared  everyone else's count, shifted left by 2, with a 2-bit
 *                   state in the low bits: DEFAULT, QUEUED, MERGED.  It is a
 *                   signed 30-bit count (it may go negative: a reference the
 *                   owner counted locally can be dropped by another thread).
 *   xob_lock        the object's lock, used by containers (list, dict,
 *                   instances: runtime/lock.h), as CPython 3.13t keeps
 *                   ob_mutex in its header.  The word would be padding
 *                   otherwise; in it, the lock costs a brc list no bytes.
 *   ob_type
 *
 * Overflow.  32-bit counts are enough because both saturate into
 * immortality instead of wrapping, as CPython 3.12 does with its 32-bit
 * counts: an owner whose local count would reach UINT32_MAX stores
 * UINT32_MAX (immortal); a non-owner incref that takes the shared count to
 * GRT_BRC_SHARED_SATURATED (2^28) or beyond leaves it pinned there, and every
 * path treats a shared count at or above that mark as immortal (there are
 * 2^28 counts of head-room below the 30-bit limit for increfs racing the pin).
 * Such an object is leaked, never freed early.
 *
 * The protocol (why no object is freed twice or leaked).  The true count is
 * local + shared.  Invariant Q: while an object is QUEUED, the queue holds one
 * reference of its own, counted in that sum.
 *
 *  1. Owner incref/decref: plain update of local.  If local reaches 0 the owner
 *     gives up ownership (brc_merge_zero_local in brc.c): with shared == 0
 *     and state DEFAULT nobody else holds or ever held a reference, so it
 *     frees at once; otherwise it stores tid = 0 and CASes the state to
 *     MERGED, and frees only if the merged count is 0.  After that all
 *     updates use shared.  An object cannot be QUEUED at this point: by Q
 *     its queue reference is in local, so local > 0 until the merge.
 *  2. Non-owner incref: atomic add to shared.
 *  3. Non-owner decref (_grt_brc_decref_shared), one CAS loop:
 *     - shared is exactly 0 (count 0, DEFAULT): the reference being dropped was
 *       counted in local.  Instead of going negative, the word becomes QUEUED
 *       with count 0 and the reference passes to the queue (Q).  Exactly one
 *       thread wins this CAS, so an object is queued at most once.
 *     - otherwise subtract 1 (the count may go negative while DEFAULT/QUEUED).
 *       If the state is MERGED and the result is 0, this thread frees: MERGED
 *       means local no longer counts, so shared is the whole count, and the
 *       CAS that reached 0 is unique.
 *  4. The queued object goes on its owner's merge queue (atomics/brc.c) and the
 *     owner's eval breaker is set.  At its next safepoint the owner merges:
 *     it reads local, stores tid = 0 and local = 0 (nothing frees a QUEUED
 *     object, so this may come first, and must: after the next CAS another
 *     thread may free it), then one CAS stores count = local + shared - 1
 *     (the queue's reference) with state MERGED; it frees if that count is 0.
 *     If the owner has exited (not found in the registry), the queueing thread
 *     merges itself: an exited owner never writes local again, and the
 *     registry lock that removed it orders its last write before our read.
 *  5. A thread that exits merges its queue as in 4 until it finds it empty,
 *     still registered (merging runs finalizers, which count references as
 *     the owner), and in the same critical section leaves (so nobody queues
 *     to it any more) and drops its key: it never writes local after another
 *     thread can see it gone.  Objects it still owns keep its tid; as tids are never reused, nobody treats local as theirs
 *     again, and their next non-owner decref to a zero shared count queues
 *     them, finds no owner, and merges as in 4.
 *
 * Each path frees only after a unique transition (local 1->0 with shared 0 and
 * no non-owner ever involved; the unique CAS to MERGED|0; the unique merge),
 * so no object is freed twice; and every reference dropped is subtracted
 * exactly once (locally, from shared, or by the merge for the queue's), so an
 * object whose true count reaches 0 always meets one of those transitions.
 */
#ifndef GILRT_RC_BIASED_H
#define GILRT_RC_BIASED_H

typedef struct grt_object {
    union {
        struct {
            uint32_t xob_ref_local; /* owner's count, UINT32_MAX = immortal */
            uint32_t xob_tid;       /* owner's thread id, 0 = merged/unowned */
        };
        uint64_t xob_owner;         /* both at once: local | tid << 32 */
    };
    uint32_t xob_ref_shared;        /* (int30 count << 2) | state, atomic */
    uint32_t xob_lock;              /* a container's lock (runtime/lock.h), else 0 */
    struct grt_type *ob_type;
} grt_object;

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "xob_owner reads xob_ref_local as its low half");

#define GRT_OBJECT_HEAD_SIZE 24
#define GRT_OBJECT_HEAD_HAS_LOCK 1      /* xob_lock: see runtime/lock.h */
#define GRT_RC_STRATEGY "biased"
#define GRT_BRC_IMMORTAL_LOCAL UINT32_MAX
#define GRT_BRC_SHIFT 2
#define GRT_BRC_STATE_MASK 3u
#define GRT_BRC_DEFAULT 0u
#define GRT_BRC_QUEUED 2u
#define GRT_BRC_MERGED 3u
#define GRT_BRC_SHARED_SATURATED ((int32_t)1 << 28)
/* Header of a statically allocated (hence immortal) object of type t. */
#define GRT_OBJECT_HEAD_INIT(t) { .xob_tid = 0, .xob_ref_local = GRT_BRC_IMMORTAL_LOCAL, .ob_type = (t) }

/* The calling thread's owner key: its id shifted into xob_tid's half of
 * xob_owner, (uint64_t)tid << 32.  The id is GRT_BRC_TID_NONE when the thread
 * has no thread state (tids are handed out from 1 up and never reach it, and
 * 0 means "no owner", so a thread without a state owns nothing).
 * initial-exec TLS: one %fs-relative load, no __tls_get_addr call from
 * inlined code.
 * Its type is unsigned long long, not uint64_t (unsigned long), on purpose:
 * for alias analysis a store to an object's uint64_t xob_owner then cannot
 * change the key, so the compiler keeps the key in a register from one
 * refcount operation to the next (see "The key, once", below). */
#define GRT_BRC_TID_NONE UINT32_MAX
_Static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "the key fills xob_owner");
extern __thread unsigned long long _grt_brc_key
    __attribute__((tls_model("initial-exec")));
static inline uint32_t _grt_brc_self(void) { return (uint32_t)(_grt_brc_key >> 32); }

static inline int32_t _grt_brc_count(uint32_t shared) { return (int32_t)shared >> GRT_BRC_SHIFT; }
static inline uint32_t _grt_brc_word(int32_t count, uint32_t state)
{
    return ((uint32_t)count << GRT_BRC_SHIFT) | state;
}

void _grt_brc_incref_shared(grt_object *o);
void _grt_brc_decref_shared(grt_object *o);
void _grt_brc_decref_owner_slow(grt_object *o, uint32_t local);

static inline int _grt_rc_is_immortal(const grt_object *o)
{
    return grt_atomic_load_32(&o->xob_ref_local) == GRT_BRC_IMMORTAL_LOCAL ||
           _grt_brc_count(grt_atomic_load_32(&o->xob_ref_shared)) >= GRT_BRC_SHARED_SATURATED;
}

/* The fast paths read local and tid with one 64-bit load, w = xob_owner.
 *  1. Immortality first: local == IMMORTAL, one compare against a constant
 *     (None, small ints and interned strings are the most counted objects;
 *     CPython 3.13t has the same order).
 *  2. Then x = w ^ this thread's key = local | (tid ^ self) << 32, so that
 *     one unsigned compare on x asks "is this thread the owner, and is local
 *     in range" at once:
 *       incref:  x < IMMORTAL           -> local + 1 (reaching IMMORTAL is
 *                                          the saturation into immortality)
 *       decref:  x - 2 < IMMORTAL - 2   -> local - 1 (never reaches 0)
 *     The owner's rare decref cases leave with x <= 1: local 0 (a decref too
 *     many) and 1 (the last local reference).  Everyone else is a non-owner.
 * The owner stores the whole word back, w + 1 or w - 1: no carry or borrow
 * reaches tid in those ranges, so tid is rewritten with its own value.  That
 * store races with nothing, because only the owner writes local or tid while
 * it is registered and running (see the protocol above: the others write
 * them when the owner has exited or is parked in a stop-the-world pause).
 * A 32-bit store of local alone would be cheaper to write but not to read:
 * the next 64-bit load of the word could not be forwarded from the narrower
 * store still in the store buffer and would wait for it to drain, which made
 * rc_private twice as slow in a trial.
 * Owner first (x before the immortality test) measured 5 % faster on
 * rc_private but 1.5x slower on rc_immortal, so immortality stays first.
 *
 * The key, once.  Each fast path reads the key before anything else, on
 * every path, and touches the word with the _nb accessors, which are not
 * compiler barriers.  A run of increfs and decrefs then loads the key from
 * TLS once instead of once per operation: the compiler sees the same load
 * on every path and nothing in between that could change it (the key's
 * distinct type above).  This took the brc/gil time ratio on rc_private
 * from 1.46 to 1.08 (medians of 21 alternating processes; best runs 1.40
 * and 1.21). */
static inline void _grt_rc_incref(grt_object *o)
{
    uint64_t key = _grt_brc_key;           /* first: see "The key, once" */
    uint64_t w = grt_atomic_load_64_nb(&o->xob_owner);
    if ((uint32_t)w == GRT_BRC_IMMORTAL_LOCAL)
        return;
    uint64_t x = w ^ key;
    if (__builtin_expect(x < GRT_BRC_IMMORTAL_LOCAL, 1)) {
        /* owner: a plain load and store, no lock prefix */
        grt_atomic_store_64_nb(&o->xob_owner, w + 1);
        return;
    }
    /* step 2, inline: one atomic add; the saturation check is rare */
    uint32_t old = grt_atomic_faa_32(&o->xob_ref_shared, 1u << GRT_BRC_SHIFT);
    if (__builtin_expect(_grt_brc_count(old) + 1 >= GRT_BRC_SHARED_SATURATED, 0))
        _grt_brc_incref_shared(o);
}

static inline void _grt_rc_decref(grt_object *o)
{
    uint64_t key = _grt_brc_key;           /* first: see "The key, once" */
    uint64_t w = grt_atomic_load_64_nb(&o->xob_owner);
    if ((uint32_t)w == GRT_BRC_IMMORTAL_LOCAL)
        return;
    uint64_t x = w ^ key;
    if (__builtin_expect(x - 2 < GRT_BRC_IMMORTAL_LOCAL - 2, 1)) {
        grt_atomic_store_64_nb(&o->xob_owner, w - 1);
        return;
    }
    if (x <= 1) {
        _grt_brc_decref_owner_slow(o, (uint32_t)x);
        return;
    }
    /* step 3, first attempt inline: while the shared count stays >= 1 after
     * the decrement, in any state, nothing happens but the subtraction (no
     * queueing, no free), so one CAS from the value just read suffices; any
     * other value, or a lost race, goes to the full loop in brc.c. */
    uint32_t shared = grt_atomic_load_32(&o->xob_ref_shared);
    int32_t c = _grt_brc_count(shared);
    if (__builtin_expect(c >= 2 && c < GRT_BRC_SHARED_SATURATED, 1) &&
        __builtin_expect(grt_atomic_cas_32(&o->xob_ref_shared, &shared,
                                           shared - (1u << GRT_BRC_SHIFT)), 1))
        return;
    _grt_brc_decref_shared(o);
}

/* Decref by a thread that excludes every other one: the owner's path is
 * plain already, and a non-owner's must still queue or merge (step 3). */
static inline void _grt_rc_decref_excl(grt_object *o) { _grt_rc_decref(o); }

/* The true count: local + shared, read without stopping anyone (a snapshot;
 * exact when no other thread is changing it). */
static inline int64_t _grt_rc_refcnt(const grt_object *o)
{
    uint32_t local = grt_atomic_load_32(&o->xob_ref_local);
    int32_t shared = _grt_brc_count(grt_atomic_load_32(&o->xob_ref_shared));
    if (local == GRT_BRC_IMMORTAL_LOCAL || shared >= GRT_BRC_SHARED_SATURATED)
        return (int64_t)1 << 62;
    return (int64_t)local + shared;
}

static inline void _grt_rc_init_new(grt_object *o)
{
    o->xob_owner = _grt_brc_key | 1;       /* this thread owns it, local 1 */
    o->xob_ref_shared = 0;
    o->xob_lock = 0;
}

static inline void _grt_rc_set_immortal(grt_object *o)
{
    grt_atomic_store_32(&o->xob_ref_local, GRT_BRC_IMMORTAL_LOCAL);
}

/* Only for an object nobody else can reach (the deallocator's resurrection
 * protocol): this thread becomes the owner holding n references. */
static inline void _grt_rc_set(grt_object *o, int64_t n)
{
    grt_atomic_store_32(&o->xob_ref_shared, 0);
    grt_atomic_store_64(&o->xob_owner, _grt_brc_key | (uint32_t)n);
}

#endif
