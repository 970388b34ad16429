/*
 * gc/collect.c — one collection: which objects are garbage, and freeing them.
 *
 * Precondition of everything here: the world is stopped (or a GIL excludes
 * every other thread) and the collector lock is held, so no other thread
 * touches an object or a space, and in brc every merge queue was drained:
 * grt_refcnt(o) is the whole count.
 *
 * The algorithm (CPython's, InternalDocs/garbage_collector.md), over the
 * work set W = the spaces of generations 0..g:
 *
 *   1. count:     for every reference from an object of W to an object of W
 *                 (tp_traverse), add one to the target's internal count.  An
 *                 object's references from outside W are then its refcount
 *                 minus that count.  The members of W are told by the
 *                 generation tag kept in their header (gc_member), so no
 *                 pass is needed to flag them first.  An object with a
 *                 reference into W is flagged REFERS; the others, leaves,
 *                 are not traversed again.  A member met by a traversal
 *                 is traversed at once, while its header is in the cache,
 *                 rather than when the walk gets to it.
 *   2. mark:      objects with references from outside W are reachable, and
 *                 so is everything they reach within W.  The rest is
 *                 unreachable: referenced only from garbage.
 *   3. partition: reachable objects move to generation min(g + 1, 2)
 *                 (tuples holding nothing trackable are untracked instead);
 *                 unreachable ones stay, compacted in place, flagged
 *                 COLLECTING: that space is U from now on.  Steps 2 and 3
 *                 are one walk (mark_and_partition).
 *
 * Every object of W is traversed once by step 1 and, if reachable and not a
 * leaf, once by step 2; so a collection of generation 0 costs in proportion
 * to generation 0 plus what its objects refer to, never to the whole heap.
 *
 * Then, with user code allowed (finalizers, callbacks, tp_clear may run any
 * code, allocate, free, even resurrect objects):
 *
 *   4. weakrefs: every weakref to an object of U is cleared; those that are
 *      themselves reachable and have a callback are called afterwards (a
 *      weakref inside U gets no callback: its callback could see garbage).
 *   5. finalizers: tp_finalize of each object of U that has not run yet
 *      (PEP 442), flagged FINALIZED first so that it never runs twice.
 *   6. resurrection: if any user code ran, steps 1-3 again over U (members:
 *      COLLECTING): whatever became reachable from outside U survives and
 *      moves on like a survivor.
 *   7. delete: tp_clear on each object of U (or, with DEBUG_SAVEALL, append
 *      it to the garbage list).  Breaking the references frees the cycle by
 *      ordinary refcounting; objects whose count reaches zero are freed by
 *      this thread (in brc after merging what tp_clear queued to parked
 *      owners).  What is still alive afterwards moves on like a survivor.
 */
#include "gc_impl.h"

/* Which objects are in the work set: tracked, with a generation tag in
 * gc_member_tags (a bit per tag); or, while U is examined again
 * (gc_recheck), flagged COLLECTING. */
static uint32_t gc_member_tags;
static int gc_recheck;

static inline int gc_member(uint64_t f)
{
    if (GRT_LIKELY(!gc_recheck))
        return (f & GC_TRACKED) && ((gc_member_tags >> gc_gen_of(f)) & 1);
    return (f & GC_COLLECTING) != 0;
}

/* The mark stack, kept between collections (under the collector lock);
 * given back after a collection that needed a big one. */
static gc_objvec mark_stack;
#define GC_MARK_STACK_KEEP 4096

int gc_objvec_push(gc_objvec *vec, grt_object *o)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 1024;
        grt_object **v = realloc(vec->v, cap * sizeof *v);
        if (!v)
            return -1;
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = o;
    return 0;
}

void gc_collect_release_buffers(void)
{
    gc_objvec_free(&mark_stack);
}

void gc_objvec_free(gc_objvec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

/* ---- prefetching ----------------------------------------------------------------------------- */

/* How far ahead of the object it clears delete_garbage asks for the next
 * objects' headers.  Clearing an object frees others, a long chain of
 * dependent loads (object, item array, referent, the allocator's pool
 * headers) through which the processor cannot run ahead to the next slot's
 * object by itself. */
#define GC_PREFETCH_AHEAD 8

/* How far ahead of the reference it visits GC_TRAVERSE asks for the header
 * of a list's or tuple's item.  The walks of steps 1-3 go through the
 * spaces in memory order, which the hardware prefetcher follows unaided
 * (prefetching the walk's next objects, and their item arrays, measured no
 * better); but the items of one big container are reached through its
 * array of pointers, which it does not follow.  A full collection of
 * 1,000,000 [i] lists held by one list visits the holder's million items
 * in steps 1 and 2: with this prefetch, 15 % less time in all (gil,
 * medians of 7 alternating processes, 39.6 -> 33.8 ns per object). */
#define GC_PREFETCH_REFS 16

/* always_inline: a function that does nothing but prefetch has no effect
 * GCC counts, so unless it is inlined first GCC deletes the call. */
#define GC_PREFETCH_FN static inline __attribute__((always_inline)) void

/* Ask for the collector header and object header of the object
 * GC_PREFETCH_AHEAD slots after slot i of s, if any (holes read NULL); the
 * two headers straddle two cache lines when the block does not start one. */
GC_PREFETCH_FN gc_prefetch_slot(const gc_seg *s, uint32_t i)
{
    if (GRT_LIKELY(i + GC_PREFETCH_AHEAD < s->n)) {
        const char *o = (const char *)s->slot[i + GC_PREFETCH_AHEAD];
        if (o) {
            __builtin_prefetch(o - GRT_GC_HEAD_SIZE, 1, 3);
            __builtin_prefetch(o + GRT_OBJECT_HEAD_SIZE - 1, 1, 3);
        }
    }
}

/* ---- traversal ------------------------------------------------------------------------------- */

/* The references of a list or a tuple, the most common containers, are one
 * array: steps 1 and 2 read it here, in a loop the visit is inlined into,
 * instead of through tp_traverse and a visit function, two indirect calls
 * per object plus one per reference (in a full collection of a million
 * [i] lists, a fifth of the instructions of step 1).  Any other type: NULL,
 * and its tp_traverse is called.  Items may be NULL (a tuple being
 * filled).  The world is stopped: no list changes meanwhile. */
static inline grt_object *const *gc_item_array(grt_object *o, const grt_type *t, int64_t *n)
{
    if (t == &grt_list_type) {
        *n = ((grt_list *)o)->size;
        return ((grt_list *)o)->items;
    }
    if (t == &grt_tuple_type) {
        *n = ((grt_tuple *)o)->size;
        return ((grt_tuple *)o)->items;
    }
    return NULL;
}

/* Call VISIT on every reference o holds; VISIT never stops the walk.
 * A macro, and VISIT a function's name, so that the calls on list and tuple
 * items are direct calls and an always_inline VISIT is inlined at every -O
 * level: through a function pointer parameter GCC -O1 does not see the
 * constant callee and refuses to compile an always_inline one. */
#define GC_TRAVERSE(o, VISIT, arg) do {                                            \
    grt_object *gc_t_o = (o);                                                       \
    grt_type *gc_t_type = gc_t_o->ob_type;                                          \
    int64_t gc_t_n;                                                                 \
    grt_object *const *gc_t_items = gc_item_array(gc_t_o, gc_t_type, &gc_t_n);      \
    if (gc_t_items) {                                                               \
        for (int64_t k = 0; k < gc_t_n; k++) {                                      \
            if (k + GC_PREFETCH_REFS < gc_t_n && gc_t_items[k + GC_PREFETCH_REFS])  \
                __builtin_prefetch(gc_t_items[k + GC_PREFETCH_REFS], 1, 3);         \
            if (gc_t_items[k])                                                      \
                VISIT(gc_t_items[k], (arg));                                        \
        }                                                                           \
    } else if (gc_t_type->tp_traverse) {                                            \
        gc_t_type->tp_traverse(gc_t_o, VISIT, (arg));                               \
    }                                                                               \
} while (0)

/* ---- step 1: count ---------------------------------------------------------------------------- */

/* What step 1's visits share: whether the object being traversed refers
 * into W, and the slot the walk is at. */
typedef struct count_walk {
    int refers;
    grt_object **at;
} count_walk;

static int visit_count(grt_object *r, void *arg)
{
    if (gc_is_gc(r)) {
        uint64_t *p = gc_prev_word(r);
        if (gc_member(*p)) {
            *p += GC_REFS_ONE;
            ((count_walk *)arg)->refers = 1;
        }
    }
    return 0;
}

/* Step 1 traverses every object of W once, in any order: the counts it
 * adds up do not depend on the order.  The walk goes through W's slots;
 * but when a traversal meets a member of W that has not been traversed yet
 * and lies far from the walk, it traverses that member at once, while the
 * member's header is in the cache (its count is being written), and tags
 * the member's slot (bit 0 of the pointer, gc_next being the slot) so that
 * the walk, when it gets there, skips it without touching it and takes the
 * tag off.  A member behind the walk was traversed by the walk: every
 * object traversed is flagged COUNTED.  One level only (the members
 * an eager traversal meets are counted but not traversed in turn), so the
 * recursion is bounded.  A list holding a million [i] lists: its traversal
 * now traverses each of them too, while it is in the cache, instead of the
 * walk coming back to each after a million others (full collection of
 * 1,000,000: 29.2 -> 24.9 ns per object on gil, 31.8 -> 24.8 on atomic,
 * 29.4 -> 23.7 on brc; medians of 7 alternating processes).
 *
 * Far: its slot more than GC_EAGER_NEAR slots away from the walk's, by
 * address.  A nearer one (a two-list cycle's other list) will still be in
 * the cache when the walk gets there, and traversing it eagerly only adds
 * the tag's two writes (collecting two-list cycles took 10 % longer when
 * every member was taken eagerly; with this limit the difference is
 * within this machine's noise).  Segments are not in address order, so
 * this is a guess; a wrong one costs time, never correctness. */
#define GC_SLOT_TAG ((uintptr_t)1)
#define GC_EAGER_NEAR 4096

static int visit_count_eager(grt_object *r, void *arg);

/* Traverse o for step 1 with visit_count_eager (eager, the walk) or
 * visit_count (a member traversed eagerly), then add `flags` to its own,
 * and REFERS if it refers into W.  eager is a constant at each call. */
static inline void count_traverse(grt_object *o, int eager, count_walk *cw, uint64_t flags)
{
    cw->refers = 0;
    if (eager)
        GC_TRAVERSE(o, visit_count_eager, cw);
    else
        GC_TRAVERSE(o, visit_count, cw);
    if (cw->refers)
        flags |= GC_REFERS;
    if (flags)
        *gc_prev_word(o) |= flags;
}

/* always_inline: GCC left it a call per reference (step 1 of collecting
 * 500,000 two-list cycles: 78 -> 69 instructions per object in callgrind). */
static inline __attribute__((always_inline)) int visit_count_eager(grt_object *r, void *arg)
{
    if (gc_is_gc(r)) {
        uint64_t *p = gc_prev_word(r);
        uint64_t f = *p;
        if (gc_member(f)) {
            count_walk *cw = arg;
            cw->refers = 1;
            grt_object **slot = (grt_object **)gc_head(r)->gc_next;
            /* |slot - at| <= GC_EAGER_NEAR slots, in unsigned bytes: the two
             * slots may lie in different segments (arrays) */
            const uintptr_t near = GC_EAGER_NEAR * sizeof *slot;
            if ((f & GC_COUNTED) || (uintptr_t)slot - (uintptr_t)cw->at + near <= 2 * near) {
                *p = f + GC_REFS_ONE;           /* traversed, or the walk's soon */
                return 0;
            }
            *p = (f | GC_COUNTED) + GC_REFS_ONE;
            *slot = (grt_object *)((uintptr_t)r | GC_SLOT_TAG);
            count_walk inner = { 0, cw->at };
            count_traverse(r, 0, &inner, 0);            /* one level */
        }
    }
    return 0;
}

static int64_t count_internal_refs(gc_space *w)
{
    int64_t n = 0;
    GC_SPACE_FOREACH(w, s, i) {
        uintptr_t v = (uintptr_t)s->slot[i];
        if (!v)
            continue;
        n++;
        if (v & GC_SLOT_TAG) {          /* traversed already, eagerly */
            s->slot[i] = (grt_object *)(v & ~GC_SLOT_TAG);
            continue;
        }
        /* COUNTED after the traversal: nothing in it can take o eagerly,
         * as o is at the walk, the nearest slot of all */
        count_walk cw = { 0, &s->slot[i] };
        count_traverse((grt_object *)v, 1, &cw, GC_COUNTED);
    }
    return n;
}

/* References to o from outside the work set (f: its gc_prev). */
static int64_t external_refs(grt_object *o, uint64_t f)
{
    int64_t rc = grt_refcnt(o);
    int64_t internal = (int64_t)(f >> GC_REFS_SHIFT);
    /* rc == 0: a deallocation left a dying object tracked; internal > rc: a
     * tp_traverse visits a reference the object does not own */
    GRT_ASSERT(rc > 0 && internal <= rc);
    return rc - internal;
}

/* ---- steps 2-3: mark and partition ----------------------------------------------------------- */

/* Steps 2 and 3 are one walk over W in its order (memory order, mostly:
 * prefetch-friendly).  An object the walk finds referenced from outside W
 * is reachable: it gets the survivor's generation tag at once (so that no
 * later visit takes it for a member of W), moves to the target generation,
 * and is traversed unless it is a leaf.  Whatever such a traversal reaches
 * in W is reachable too, wherever it lies: it leaves W at once (NULL in its
 * slot, which the walk then skips without touching the object), becomes a
 * survivor the same way, and goes on the mark stack to be traversed in turn
 * unless it is a leaf.  An object the walk finds with no reference from
 * outside (and not reached yet) looks unreachable: it is flagged SCANNED
 * and COLLECTING and compacted in place; what stays in W is U, the garbage.
 * If a later traversal reaches it, it is rescued like any other object
 * reached.  So each reachable object is traversed at most once (leaves
 * never), the unreachable ones not at all, garbage is never copied, and an
 * object reached before the walk gets to it is touched once, not twice (for
 * a full collection of a big heap, a cache miss saved per object).
 *
 * The stack holds the reached non-leaf objects not yet traversed.  So that
 * it never holds the bulk of a big heap, a non-leaf object reached ahead of
 * the walk while the stack holds GC_MARK_STACK_MAX objects is only flagged
 * REACHABLE instead, and left where it is: the walk takes it for a survivor
 * when it gets there, and traverses it then.  (Objects reached behind the
 * walk are pushed whatever the stack holds: the walk will not come back for
 * them.) */
#define GC_MARK_STACK_MAX 65536

typedef struct mark_state {
    gc_space *to;                       /* where survivors go */
    uint64_t survivor;                  /* their flags: tracked, the target's tag */
    int64_t kept;
    int64_t garbage;                    /* objects left in U */
    int special;                        /* U may hold weakrefs, weakly referenced
                                           objects or finalizers (step 4, 5) */
    gc_objvec *stack;                   /* reached, not yet traversed */
} mark_state;

static inline void make_survivor(mark_state *m, grt_object *o, uint64_t *p, uint64_t f)
{
    *p = (f & GC_STICKY_FLAGS) | m->survivor;   /* the collection's bits cleared */
    gc_space_append(m->to, o);
    m->kept++;
}

static int visit_mark(grt_object *r, void *arg)
{
    if (gc_is_gc(r)) {
        uint64_t *p = gc_prev_word(r);
        uint64_t f = *p;
        if (!gc_member(f))
            return 0;                   /* outside W, or a survivor already */
        mark_state *m = arg;
        if (f & GC_REACHABLE)
            return 0;                   /* ahead, flagged already */
        if (!(f & GC_SCANNED) && (f & GC_REFERS) && m->stack->n >= GC_MARK_STACK_MAX) {
            *p = f | GC_REACHABLE;      /* ahead: the walk will take it */
            return 0;
        }
        /* gc_next is its slot in W: ahead of the walk, or (SCANNED) the
         * compacted one in U behind it */
        *(grt_object **)gc_head(r)->gc_next = NULL;
        if (f & GC_SCANNED)
            m->garbage--;
        make_survivor(m, r, p, f);
        if ((f & GC_REFERS) && gc_objvec_push(m->stack, r) != 0)
            _grt_fatal("gc: out of memory for the mark stack");
    }
    return 0;
}

/* A tuple none of whose items can take part in a cycle need not be tracked
 * (CPython untracks such tuples at collection time).  NULL items: the tuple
 * is still being filled, leave it. */
static int tuple_untrackable(grt_object *t)
{
    /* raw items: a tuple still being filled has NULL slots, which
     * grt_tuple_get would report as an error */
    int64_t n;
    grt_object *const *items = _grt_tuple_items(t, &n);
    for (int64_t i = 0; i < n; i++)
        if (!items[i] || _grt_gc_may_be_tracked(items[i]))
            return 0;
    return 1;
}

/* Writes objects back into the segments of the space being walked: the
 * write position never passes the read position, because segments before it
 * are filled completely. */
typedef struct gc_cursor {
    gc_seg *seg;
    uint32_t i;
    int64_t n;
} gc_cursor;

static inline void cursor_put(gc_cursor *c, gc_seg *from, uint32_t from_i, grt_object *o)
{
    if (c->i == GC_SEG_SLOTS) {
        c->seg->n = GC_SEG_SLOTS;
        c->seg = c->seg->next;
        c->i = 0;
    }
    c->n++;
    if (c->seg == from && c->i == from_i) {
        c->i++;                         /* already in place: nothing to write */
        return;
    }
    grt_object **slot = &c->seg->slot[c->i++];
    *slot = o;
    gc_head(o)->gc_next = (uintptr_t)slot;
}

/* End the compaction of sp: drop the segments past the cursor. */
static void cursor_finish(gc_space *sp, gc_cursor *c)
{
    if (c->n == 0) {
        gc_space_release(sp);
        return;
    }
    c->seg->n = c->i;
    gc_space rest = { c->seg->next, sp->tail };
    c->seg->next = NULL;
    sp->tail = c->seg;
    gc_space_release(&rest);
}

/* Steps 2-3 over w: survivors go to `to` with generation tag to_tag; w
 * becomes U, the unreachable objects (flagged COLLECTING; holes where
 * objects were rescued).  Returns the number of survivors; *garbage gets
 * the number left in U, *special whether steps 4-5 may have work. */
static int64_t mark_and_partition(gc_space *w, gc_space *to, int to_tag, int untrack_tuples,
                                  int64_t *garbage, int *special)
{
    mark_state m = { .to = to, .survivor = GC_TRACKED | gc_gen_bits(to_tag),
                     .stack = &mark_stack };
    m.stack->n = 0;
    gc_cursor c = { w->head, 0, 0 };
    const grt_type *special_checked = NULL;  /* the type of the garbage met last */
    for (gc_seg *s = w->head; s; s = s->next) {
        for (uint32_t i = 0; i < s->n; i++) {
            grt_object *o = s->slot[i];
            if (!o)
                continue;               /* untracked, or reached (a survivor) */
            uint64_t *p = gc_prev_word(o);
            uint64_t f = *p;
            if (!(f & GC_REACHABLE) && external_refs(o, f) == 0) {
                /* unreachable, unless something reaches it later */
                *p = f | GC_SCANNED | GC_COLLECTING;
                cursor_put(&c, s, i, o);
                m.garbage++;
                grt_type *t = o->ob_type;
                if (t != special_checked) {   /* garbage comes in runs of one type */
                    special_checked = t;
                    m.special |= t->tp_weaklistoffset || t->tp_finalize || t == &grt_weakref_type;
                }
                continue;
            }
            /* an immortalized tuple stays: grt_fini finds it in the table */
            if (untrack_tuples && o->ob_type == &grt_tuple_type && !(f & GC_IMMORTALIZED) &&
                tuple_untrackable(o)) {
                *p = f & GC_STICKY_FLAGS;
                gc_head(o)->gc_next = 0;
                continue;               /* reachable, and no longer tracked */
            }
            make_survivor(&m, o, p, f);
            if (!(f & GC_REFERS))
                continue;               /* nothing of W to reach through it */
            GC_TRAVERSE(o, visit_mark, &m);
            while (m.stack->n)
                GC_TRAVERSE(m.stack->v[--m.stack->n], visit_mark, &m);
        }
    }
    cursor_finish(w, &c);
    if (m.stack->cap > GC_MARK_STACK_KEEP)
        gc_objvec_free(m.stack);        /* a big heap's stack: not kept */
    *garbage = m.garbage;
    *special = m.special;
    return m.kept;
}

/* Before U is examined again: its objects start from zero, as W's did. */
static void reset_for_recheck(gc_space *u)
{
    GC_SPACE_FOREACH(u, s, i)
        if (s->slot[i]) {
            uint64_t *p = gc_prev_word(s->slot[i]);
            *p = (*p & (GC_TRACKED | GC_STICKY_FLAGS)) | GC_COLLECTING;
        }
}

/* ---- steps 4-7 ---------------------------------------------------------------------------------- */

/* One pass over U before any user code runs: clear every weakref to an
 * object of U (and detach the weakrefs that are in U), collecting the
 * callbacks to run; note the slots of the objects whose finalizer has yet
 * to run (slots, not objects: a finalizer may free another object of U,
 * whose slot then reads NULL). */
static void scan_garbage(gc_space *u, gc_objvec *calls, gc_objvec *fin_slots)
{
    GC_SPACE_FOREACH(u, s, i) {
        grt_object *o = s->slot[i];
        if (!o)
            continue;
        grt_type *t = o->ob_type;
        if (GRT_UNLIKELY(t == &grt_weakref_type))
            gc_weakref_detach(o);
        if (t->tp_weaklistoffset &&
            grt_atomic_load_ptr((void *const *)((char *)o + t->tp_weaklistoffset)))
            gc_weakrefs_clear_for_collector(o, calls);
        if (t->tp_finalize && !(*gc_prev_word(o) & GC_FINALIZED) &&
            gc_objvec_push(fin_slots, (grt_object *)&s->slot[i]) != 0)
            _grt_fatal("gc: out of memory for the finalizer list");
    }
}

/* Step 4's callbacks, after every weakref to U was cleared.  Returns the
 * number of weakrefs freed when the collector dropped its reference to them
 * (CPython counts them as collected). */
static int64_t call_weakref_callbacks(gc_objvec *calls)
{
    int64_t freed = 0;
    for (size_t k = 0; k < calls->n; k++) {
        grt_object *wr = calls->v[k];
        gc_weakref_call(wr);
        _grt_brc_merge_all_queues();   /* brc: so that the count below is whole */
        if (grt_refcnt(wr) == 1)
            freed++;                   /* ours is the last reference */
        grt_decref(wr);
    }
    return freed;
}

/* Step 5, in U's order. */
static void finalize_garbage(gc_objvec *fin_slots)
{
    for (size_t k = 0; k < fin_slots->n; k++) {
        grt_object *o = *(grt_object **)fin_slots->v[k];   /* NULL: freed meanwhile */
        if (o)
            gc_finalize_once(o);
    }
}

/* The collector's own reference to an object of U while its tp_clear runs
 * (clearing may drop the last other reference to it).  In atomic, taking
 * and dropping it need no lock-prefixed instruction: no other thread can
 * change o's count meanwhile, because the world is stopped (or the GIL is
 * held, and detached threads touch no object) and, besides, o is garbage:
 * only objects of U refer to it, and only this thread clears them.  So a
 * relaxed load and store do what the atomic add would (the drop is the
 * strategy's exclusive decref, atomics/rc.h, which is what the lists' and
 * tuples' tp_clear and tp_dealloc use too during a collection:
 * gc/gc_internal.h).  (The atomic wrapper's relaxed accesses keep this
 * visible to TSan.)  Elsewhere the ordinary incref: plain already in gil
 * and unsafe, and in brc the count's representation depends on which
 * thread owns the object.  An object made immortal meanwhile (by user
 * code) is left alone. */
static inline void gc_hold(grt_object *o)
{
#ifdef GRT_VARIANT_ATOMIC
    if (!grt_is_immortal(o))
        _grt_rc_set(o, grt_refcnt(o) + 1);
#else
    grt_incref(o);
#endif
}

static inline void gc_release(grt_object *o)
{
    _grt_rc_decref_excl(o);
}

/* Step 7.  The slots of the objects that are still there right after their
 * own turn go in *alive (slots, not objects, as for the finalizers): only
 * those can be left over at the end, so that move_leftovers need not walk
 * all of U again, a million empty slots after a million objects freed. */
static void delete_garbage(gc_space *u, int saveall, gc_objvec *alive)
{
    gc_saved_error se;
    gc_error_save(&se);                 /* the caller's error, if any, waits */
    for (gc_seg *s = u->head; s; s = s->next)
        for (uint32_t i = 0; i < s->n; i++) {
            gc_prefetch_slot(s, i);
            grt_object *o = s->slot[i];   /* re-read: clearing one frees others */
            if (!o)
                continue;
            if (saveall) {
                if (grt_list_append(gc_rt.garbage, o) != 0)
                    grt_err_clear();
            } else if (o->ob_type->tp_clear) {
                gc_hold(o);
                o->ob_type->tp_clear(o);
                if (GRT_UNLIKELY(grt_err_occurred() != GRT_ERR_NONE)) {
                    gc_saved_error none = { .kind = GRT_ERR_NONE };
                    gc_error_report_restore(&none, "tp_clear of", o);
                }
                gc_release(o);
            }
            if (s->slot[i] && gc_objvec_push(alive, (grt_object *)&s->slot[i]) != 0)
                _grt_fatal("gc: out of memory for the list of objects left over");
        }
    gc_error_report_restore(&se, "", NULL);
}

/* Objects of u that are still alive (their slots are among `alive`) move
 * on to `to`; u's segments are given back. */
static void move_leftovers(gc_space *u, gc_objvec *alive, gc_space *to, int to_tag)
{
    for (size_t k = 0; k < alive->n; k++) {
        grt_object *o = *(grt_object **)alive->v[k];   /* NULL: freed since */
        if (!o)
            continue;
        uint64_t *p = gc_prev_word(o);
        *p = (*p & GC_STICKY_FLAGS) | GC_TRACKED | gc_gen_bits(to_tag);
        gc_space_append(to, o);
    }
    gc_space_release(u);
}

/* Build with -DGRT_GC_PHASE_TIMES=1 to have every collection print how long
 * each step took to stderr (for profiling; compiles to nothing otherwise). */
#ifdef GRT_GC_PHASE_TIMES
#  define GC_PHASE(name) gc_phase_mark(name)
static void gc_phase_mark(const char *name)
{
    static uint64_t t_last;
    uint64_t t = _grt_now_ns();
    if (!name)
        fprintf(stderr, "\n");
    else if (!*name)
        fprintf(stderr, "gc phases:");
    else
        fprintf(stderr, " %s %.3f ms", name, (double)(t - t_last) / 1e6);
    t_last = t;
}
#else
#  define GC_PHASE(name) ((void)0)
#endif

void gc_collect_world_stopped(int gen, gc_result *r)
{
    GRT_ASSERT(gc_tls_lock_held);
    GRT_ASSERT(_grt_world_is_stopped());
    GRT_ASSERT(gen >= 0 && gen < GRT_GC_NGENERATIONS);
    gc_pool_trim();                     /* what the last collection gave back, unused since */
    gc_space w = { 0 }, u;
    /* oldest first, as CPython merges younger lists behind older ones */
    if (gen >= 2) gc_space_splice(&w, &gc_rt.old[1]);
    if (gen >= 1) gc_space_splice(&w, &gc_rt.old[0]);
    gc_take_young(&w);
    /* generation tags: 0 young, 1 generation 1, old_tag generation 2 */
    int old_tag = gc_rt.old_tag;
    int to_tag = gen == 0 ? 1 : gen == 1 ? old_tag : GC_OLD_TAG_A + GC_OLD_TAG_B - old_tag;
    gc_space *to = &gc_rt.old[gen == 0 ? 0 : 1];

    gc_member_tags = gen == 0 ? 1u << 0 : gen == 1 ? 3u : 3u | (1u << old_tag);
    gc_recheck = 0;
    GC_PHASE("");
    r->candidates = count_internal_refs(&w);
    GC_PHASE("count");
    int64_t n;                          /* objects in U */
    int special;
    int64_t kept = mark_and_partition(&w, to, to_tag, 1, &n, &special);
    GC_PHASE("mark");
    u = w;                              /* what stayed is the garbage */
    if (gen == 1)
        gc_rt.long_lived_pending += kept;
    else if (gen == 2) {
        gc_rt.long_lived_pending = 0;
        gc_rt.long_lived_total = kept;
        gc_rt.old_tag = to_tag;         /* what generation 2 is called from now on */
    }

    unsigned debug = grt_atomic_load_32(&gc_rt.xdebug);
    if (debug & GRT_GC_DEBUG_COLLECTABLE)
        GC_SPACE_FOREACH(&u, s, i)
            if (s->slot[i])
                gc_debug_cycle("collectable", s->slot[i]);

    gc_objvec calls = { 0 }, fin_slots = { 0 };
    if (special)                        /* else nothing in U has weakrefs or finalizers */
        scan_garbage(&u, &calls, &fin_slots);
    int64_t wr_freed = call_weakref_callbacks(&calls);
    finalize_garbage(&fin_slots);
    int user_code = calls.n > 0 || fin_slots.n > 0;
    gc_objvec_free(&calls);
    gc_objvec_free(&fin_slots);
    if (user_code) {
        /* Step 7: user code may have made some of U reachable again. */
        _grt_brc_merge_all_queues();
        gc_recheck = 1;
        reset_for_recheck(&u);
        count_internal_refs(&u);
        mark_and_partition(&u, to, to_tag, 0, &n, &special);
        gc_recheck = 0;
    }
    GC_PHASE("weakrefs+finalizers");
    gc_objvec alive = { 0 };
    delete_garbage(&u, (debug & GRT_GC_DEBUG_SAVEALL) != 0, &alive);
    GC_PHASE("delete");
    _grt_brc_merge_all_queues();        /* frees what tp_clear queued to parked owners */
    move_leftovers(&u, &alive, to, to_tag);
    gc_objvec_free(&alive);
    GC_PHASE("leftovers");
    GC_PHASE(NULL);
    r->collected = n + wr_freed;
    r->uncollectable = 0;               /* no legacy finalizers in gilrt */
}
