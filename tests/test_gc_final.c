/*
 * Finalizers (PEP 442) and the collector, freezing, fork: test_gc.py's
 * finalizer, resurrection and freeze scenarios, and fork copy-on-write
 * checks (a child's collections must not write frozen objects' headers; with
 * GRT_GC_FREEZE_IMMORTAL its increfs must not write them either).
 */
#include "harness.h"
#include <sys/wait.h>
#include <unistd.h>

static const char *const me_slots[] = { "me", "other", NULL };

static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

/* ---- finalizers --------------------------------------------------------------------------- */

static int fin_calls;
static void count_fin(grt_object *self) { (void)self; fin_calls++; }

TEST(gc_finalizer_runs_once_in_a_cycle)
{
    grt_type *A = grt_class_new("A", me_slots);
    grt_class_set_finalizer(A, count_fin);
    grt_object *a = grt_instance_new(A);
    grt_setattr(a, "me", a);
    grt_decref(a);
    fin_calls = 0;
    int64_t before = live_objects();
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(fin_calls, 1);
    T_EQ(live_objects(), before - 1);
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(fin_calls, 1);
    grt_decref(&A->ob_base);
}

TEST(gc_finalizer_runs_on_refcount_death)
{
    grt_type *A = grt_class_new("A", me_slots);
    grt_class_set_finalizer(A, count_fin);
    grt_object *a = grt_instance_new(A);
    fin_calls = 0;
    int64_t before = live_objects();
    grt_decref(a);
    T_EQ(fin_calls, 1);
    T_EQ(live_objects(), before - 1);
    grt_decref(&A->ob_base);
}

static grt_object *storage;                 /* a list: where Lazarus goes */
static void lazarus_fin(grt_object *self) { fin_calls++; grt_list_append(storage, self); }

TEST(gc_is_finalized_after_resurrection)
{
    storage = grt_list_new(0);
    grt_type *L = grt_class_new("Lazarus", me_slots);
    grt_class_set_finalizer(L, lazarus_fin);
    grt_object *i = grt_int_new(3000);
    T_FALSE(grt_gc_is_finalized(i));        /* not a container */
    grt_decref(i);
    grt_object *lazarus = grt_instance_new(L);
    T_FALSE(grt_gc_is_finalized(lazarus));
    grt_setattr(lazarus, "me", lazarus);
    grt_decref(lazarus);
    fin_calls = 0;
    T_EQ(grt_gc_collect(2), 0);             /* resurrected: nothing collected */
    T_EQ(fin_calls, 1);
    T_EQ(grt_list_len(storage), 1);
    grt_object *back = grt_list_pop(storage, -1);
    T_EQ_PTR(back, lazarus);
    T_TRUE(grt_gc_is_finalized(back));
    T_EQ(grt_refcnt(back), 2);              /* ours and its own */
    grt_decref(back);
    T_EQ(grt_gc_collect(2), 1);             /* now it goes, without a second finalizer */
    T_EQ(fin_calls, 1);
    T_EQ(grt_list_len(storage), 0);
    grt_decref(storage);
    grt_decref(&L->ob_base);
}

TEST(gc_resurrection_from_dealloc_keeps_the_object)
{
    storage = grt_list_new(0);
    grt_type *L = grt_class_new("Lazarus", me_slots);
    grt_class_set_finalizer(L, lazarus_fin);
    grt_object *lazarus = grt_instance_new(L);
    fin_calls = 0;
    int64_t before = live_objects();
    grt_decref(lazarus);                    /* count 0: finalizer resurrects it */
    T_EQ(fin_calls, 1);
    T_EQ(live_objects(), before);
    T_EQ(grt_refcnt(lazarus), 1);           /* the storage list's */
    T_TRUE(grt_gc_is_finalized(lazarus));
    grt_list_clear(storage);                /* dies again: no second finalizer */
    T_EQ(fin_calls, 1);
    T_EQ(live_objects(), before - 1);
    grt_decref(storage);
    grt_decref(&L->ob_base);
}

static const char *const cargo_slots[] = { "lazarus", NULL };

TEST(gc_resurrection_is_transitive)
{
    storage = grt_list_new(0);
    grt_type *L = grt_class_new("Lazarus", me_slots);
    grt_class_set_finalizer(L, lazarus_fin);
    grt_type *C = grt_class_new("Cargo", cargo_slots);
    grt_object *lazarus = grt_instance_new(L), *cargo = grt_instance_new(C);
    grt_setattr(lazarus, "other", cargo);
    grt_setattr(cargo, "lazarus", lazarus);
    grt_decref(lazarus);
    grt_decref(cargo);
    fin_calls = 0;
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(fin_calls, 1);
    T_EQ(_grt_gc_check(), 0);               /* the resurrected pair moved on cleanly */
    grt_object *back = grt_list_pop(storage, -1);
    grt_object *c2 = grt_getattr(back, "other");
    T_EQ_PTR(c2, cargo);                    /* the cargo survived, intact */
    grt_object *l2 = grt_getattr(c2, "lazarus");
    T_EQ_PTR(l2, back);
    grt_decref(l2);
    grt_decref(c2);
    grt_decref(back);
    T_EQ(grt_gc_collect(2), 2);
    T_EQ(fin_calls, 1);
    grt_decref(storage);
    grt_decref(&L->ob_base);
    grt_decref(&C->ob_base);
}

static grt_object *zs;
static void z_fin(grt_object *self) { grt_list_append(zs, self); }

TEST(gc_resurrection_does_not_block_cleanup_of_other_objects)
{
    /* CPython's test: resurrected objects are not counted as collected */
    const int N = 100;
    grt_type *A = grt_class_new("A", me_slots);
    grt_type *Z = grt_class_new("Z", me_slots);
    grt_class_set_finalizer(Z, z_fin);
    zs = grt_list_new(0);
    grt_gc_collect(2);
    grt_gc_disable();
    grt_gc_stats s;
    grt_gc_get_stats(&s);
    int64_t oldc = s.gen[2].collected, oldnc = s.gen[2].uncollectable;
    for (int i = 0; i < N; i++) {
        grt_object *a = grt_instance_new(A);
        grt_setattr(a, "me", a);
        grt_decref(a);
    }
    T_EQ(grt_gc_collect(2), N);
    grt_gc_get_stats(&s);
    T_EQ(s.gen[2].collected - oldc, N);
    T_EQ(s.gen[2].uncollectable - oldnc, 0);
    oldc = s.gen[2].collected;
    grt_object *z = grt_instance_new(Z);    /* merely resurrected */
    grt_setattr(z, "me", z);
    grt_decref(z);
    T_EQ(grt_gc_collect(2), 0);
    grt_gc_get_stats(&s);
    T_EQ(s.gen[2].collected - oldc, 0);
    for (int i = 0; i < N; i++) {           /* Z does not keep the A()s alive */
        grt_object *a = grt_instance_new(A);
        grt_setattr(a, "me", a);
        grt_decref(a);
    }
    z = grt_instance_new(Z);
    grt_setattr(z, "me", z);
    grt_decref(z);
    T_EQ(grt_gc_collect(2), N);
    grt_gc_get_stats(&s);
    T_EQ(s.gen[2].collected - oldc, N);
    oldc = s.gen[2].collected;
    T_EQ(grt_list_len(zs), 2);
    grt_list_clear(zs);
    T_EQ(grt_gc_collect(2), 2);             /* the two Zs, finalizers not rerun */
    T_EQ(grt_list_len(zs), 0);
    grt_gc_get_stats(&s);
    T_EQ(s.gen[2].collected - oldc, 2);
    T_EQ(s.gen[2].uncollectable - oldnc, 0);
    grt_gc_enable();
    grt_decref(zs);
    grt_decref(&A->ob_base);
    grt_decref(&Z->ob_base);
}

/* PEP 442: every finalizer of a cycle runs before any object of it is cleared */
static int fin_saw_intact;
static void check_other_fin(grt_object *self)
{
    fin_calls++;
    grt_object *o = grt_getattr(self, "other");
    if (!o) {
        grt_err_clear();
        return;
    }
    grt_object *back = grt_getattr(o, "other");
    if (back == self)
        fin_saw_intact++;
    grt_xdecref(back);
    grt_err_clear();
    grt_decref(o);
}

TEST(gc_finalizers_run_before_anything_is_cleared)
{
    grt_type *F = grt_class_new("F", me_slots);
    grt_class_set_finalizer(F, check_other_fin);
    grt_object *a = grt_instance_new(F), *b = grt_instance_new(F), *c = grt_instance_new(F);
    grt_setattr(a, "other", b);
    grt_setattr(b, "other", a);             /* a <-> b, and c -> a */
    grt_setattr(c, "other", a);
    grt_setattr(c, "me", c);
    grt_decref(a); grt_decref(b); grt_decref(c);
    fin_calls = fin_saw_intact = 0;
    T_EQ(grt_gc_collect(2), 3);
    T_EQ(fin_calls, 3);
    T_EQ(fin_saw_intact, 2);                /* a and b each saw the other intact */
    grt_decref(&F->ob_base);
}

/* a finalizer that breaks its own cycle: the object goes by refcounting */
static void breaker_fin(grt_object *self) { fin_calls++; grt_delattr(self, "me"); }

TEST(gc_finalizer_that_breaks_the_cycle)
{
    grt_type *B = grt_class_new("B", me_slots);
    grt_class_set_finalizer(B, breaker_fin);
    grt_object *b = grt_instance_new(B);
    grt_setattr(b, "me", b);
    grt_decref(b);
    fin_calls = 0;
    int64_t before = live_objects();
    T_EQ(grt_gc_collect(2), 0);             /* freed before the delete phase */
    T_EQ(fin_calls, 1);
    T_EQ(live_objects(), before - 1);
    grt_decref(&B->ob_base);
}

static void failing_fin(grt_object *self)
{
    (void)self;
    fin_calls++;
    grt_err_set(GRT_ERR_VALUE, "finalizer trouble");
}

static grt_type *failing_cls;
static void collect_failing(void)
{
    grt_object *f = grt_instance_new(failing_cls);
    grt_setattr(f, "me", f);
    grt_decref(f);
    grt_err_set(GRT_ERR_KEY, "pending error");
    grt_gc_collect(2);
}

TEST(gc_finalizer_errors_are_reported_and_cleared)
{
    failing_cls = grt_class_new("Failing", me_slots);
    grt_class_set_finalizer(failing_cls, failing_fin);
    fin_calls = 0;
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    collect_failing();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    T_EQ(fin_calls, 1);
    /* the caller's own error survives the collection */
    T_ERR(GRT_ERR_KEY, "pending error");
    char buf[512] = { 0 };
    rewind(tmp);
    T_GE(fread(buf, 1, sizeof buf - 1, tmp), 1);
    fclose(tmp);
    T_TRUE(strstr(buf, "Exception ignored in the finalizer of Failing object at") != NULL);
    T_TRUE(strstr(buf, "ValueError: finalizer trouble") != NULL);
    grt_decref(&failing_cls->ob_base);
}

static int64_t collect_in_fin_result = -5;
static void collecting_fin(grt_object *self) { (void)self; collect_in_fin_result = grt_gc_collect(2); }

TEST(gc_collect_from_a_finalizer_during_collection)
{
    grt_type *Q = grt_class_new("Q", me_slots);
    grt_class_set_finalizer(Q, collecting_fin);
    grt_object *q = grt_instance_new(Q);
    grt_setattr(q, "me", q);
    grt_decref(q);
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(collect_in_fin_result, 0);
    /* the same finalizer outside a collection really collects */
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    q = grt_instance_new(Q);
    grt_decref(q);                          /* finalizer from the deallocator */
    T_EQ(collect_in_fin_result, 1);
    grt_decref(&Q->ob_base);
}

/* ---- freeze ------------------------------------------------------------------------------- */

TEST(gc_freeze_and_unfreeze)
{
    grt_gc_collect(2);
    T_EQ(grt_gc_get_freeze_count(), 0);
    grt_object *keep[5];
    for (int i = 0; i < 5; i++)
        keep[i] = grt_list_new(0);
    grt_object *cyc = grt_list_new(0);
    grt_list_append(cyc, cyc);
    T_EQ(grt_gc_freeze(0), 0);
    T_EQ(grt_gc_get_freeze_count(), 6);
    int64_t c[3];
    grt_gc_get_count(c);
    T_EQ(c[0], 0);
    grt_object *all = grt_gc_get_objects(-1);
    T_EQ(grt_list_len(all), 0);             /* frozen objects are not listed */
    grt_decref(all);
    grt_decref(cyc);                        /* frozen garbage stays */
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(grt_gc_get_freeze_count(), 6);
    T_EQ(_grt_gc_check(), 0);
    grt_decref(keep[0]);                    /* untracking a frozen object works */
    T_EQ(grt_gc_get_freeze_count(), 5);
    grt_gc_unfreeze();
    T_EQ(grt_gc_get_freeze_count(), 0);
    grt_object *g2 = grt_gc_get_objects(2); /* unfrozen into the oldest generation */
    T_EQ(grt_list_len(g2), 5);
    grt_decref(g2);
    T_EQ(grt_gc_collect(2), 1);
    T_EQ(_grt_gc_check(), 0);
    for (int i = 1; i < 5; i++)
        grt_decref(keep[i]);
}

/* The bytes a collection might write: collector header + object header. */
typedef struct { unsigned char b[GRT_GC_HEAD_SIZE + GRT_OBJECT_HEAD_SIZE]; } hdr_bytes;
static void snap(grt_object *o, hdr_bytes *h) { memcpy(h->b, _GRT_AS_GC(o), sizeof h->b); }

TEST(gc_collections_never_write_frozen_headers)
{
    enum { N = 64 };
    grt_object *frozen[N];
    for (int i = 0; i < N; i++) {
        frozen[i] = grt_list_new(0);
        if (i) grt_list_append(frozen[i], frozen[i - 1]);
    }
    T_EQ(grt_gc_freeze(0), 0);
    hdr_bytes before[N], after;
    grt_object *young = grt_list_new(0);    /* young objects referring to frozen ones */
    for (int i = 0; i < N; i++)
        grt_list_append(young, frozen[i]);
    for (int i = 0; i < N; i++)
        snap(frozen[i], &before[i]);
    grt_gc_collect(0);
    grt_gc_collect(1);
    grt_gc_collect(2);
    for (int i = 0; i < N; i++) {
        snap(frozen[i], &after);
        T_EQ(memcmp(before[i].b, after.b, GRT_GC_HEAD_SIZE), 0);
    }
    grt_decref(young);
    grt_gc_unfreeze();
    for (int i = 0; i < N; i++)
        grt_decref(frozen[i]);
}

TEST_NOINIT(gc_freeze_immortal_objects_are_freed_by_fini)
{
    T_EQ(grt_init(NULL), 0);
    grt_object *a = grt_list_new(0), *b = grt_list_new(0);
    grt_object *v = grt_int_new(123456);
    grt_list_append(a, b);
    grt_list_append(b, a);                  /* a cycle, frozen immortal */
    grt_list_append(a, v);
    grt_decref(v);
    T_EQ(grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL), 0);
    T_TRUE(grt_is_immortal(a));
    T_TRUE(grt_is_immortal(b));
    T_FALSE(grt_is_immortal(v));            /* only the frozen containers */
    hdr_bytes h0, h1;
    snap(a, &h0);
    for (int i = 0; i < 1000; i++) {
        grt_incref(a);
        grt_decref(a);
    }
    snap(a, &h1);
    T_EQ(memcmp(h0.b, h1.b, sizeof h0.b), 0);   /* reading it writes nothing */
    grt_decref(a);
    grt_decref(b);                          /* immortal: still alive */
    T_EQ(grt_gc_collect(2), 0);
    grt_gc_unfreeze();
    T_EQ(grt_gc_collect(2), 0);             /* unfrozen but still immortal */
    T_TRUE(grt_is_immortal(a));
    T_EQ(grt_fini(), 0);
    grt_object_counts c = grt_object_counts_get();
    T_EQ(c.freed, c.allocated);             /* fini freed them, exactly once */
}

/* grt_fini finds immortalized objects in the collector's table, so they
 * must stay there: a full collection untracks a reachable tuple of plain
 * values, but not an immortalized one, and grt_gc_untrack refuses it. */
TEST_NOINIT(gc_freeze_immortal_objects_stay_tracked)
{
    T_EQ(grt_init(NULL), 0);
    grt_object *v = grt_int_new(123456);
    grt_object *t = grt_tuple_pack(1, v);   /* tracked from creation */
    grt_object *l = grt_list_new(0);
    grt_decref(v);
    T_EQ(grt_gc_freeze(GRT_GC_FREEZE_IMMORTAL), 0);
    grt_gc_unfreeze();
    T_EQ(grt_gc_collect(2), 0);             /* would untrack a mortal such tuple */
    T_EQ(grt_gc_is_tracked(t), 1);
    T_EQ(grt_gc_untrack(l), -1);
    T_EQ(grt_err_occurred(), GRT_ERR_VALUE);
    T_TRUE(strstr(grt_err_message(), "made immortal by grt_gc_freeze") != NULL);
    grt_err_clear();
    T_EQ(grt_gc_is_tracked(l), 1);
    grt_object *mortal = grt_tuple_pack(1, grt_None);
    T_EQ(grt_gc_collect(2), 0);
    T_EQ(grt_gc_is_tracked(mortal), 0);     /* the rule itself still applies */
    grt_decref(mortal);
    grt_decref(t);
    grt_decref(l);                          /* immortal: nothing happens */
    T_EQ(grt_fini(), 0);
    grt_object_counts c = grt_object_counts_get();
    T_EQ(c.freed, c.allocated);             /* t, its int and l, freed by fini */
}

/* A finalizer that forks (a __del__ that starts a helper process): in the
 * GIL-off builds the collection running it holds the stop-the-world pause,
 * which grt_fork must not try to take again (it once hung there, detached,
 * waiting for a mutex it held itself). */
static int fork_fin_children_ok;
static void fork_in_finalizer(grt_object *self)
{
    (void)self;
    pid_t pid = grt_fork();
    if (pid == 0) {
        grt_object *l = grt_list_new(0);        /* the child's runtime works */
        int ok = l && grt_list_append(l, grt_None) == 0 && grt_list_len(l) == 1;
        grt_xdecref(l);
        _exit(ok ? 0 : 1);
    }
    int st = -1;
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        fork_fin_children_ok++;
}

TEST(gc_finalizer_may_fork)
{
    grt_type *cls = grt_class_new("ForksInDel", NULL);
    T_EQ(grt_class_set_finalizer(cls, fork_in_finalizer), 0);
    grt_object *x = grt_instance_new(cls), *y = grt_instance_new(cls);
    T_EQ(grt_setattr(x, "p", y), 0);
    T_EQ(grt_setattr(y, "p", x), 0);
    grt_decref(x);
    grt_decref(y);
    fork_fin_children_ok = 0;
    T_EQ(grt_gc_collect(2), 4);                 /* two instances and their dicts */
    T_EQ(fork_fin_children_ok, 2);
    grt_object *after = grt_list_new(0);        /* and the parent goes on */
    T_NOT_NULL(after);
    grt_decref(after);
    grt_decref((grt_object *)cls);
}

TEST_NOINIT(gc_fini_frees_frozen_and_leaked_objects)
{
    T_EQ(grt_init(NULL), 0);
    grt_object *l = grt_list_new(0);        /* leaked on purpose */
    grt_object *d = grt_dict_new();
    grt_dict_set_str(d, "l", l);
    grt_list_append(l, d);
    grt_gc_freeze(0);
    grt_object *m = grt_list_new(0);        /* leaked too, not frozen */
    grt_list_append(m, m);
    T_EQ(grt_fini(), 0);
    grt_object_counts c = grt_object_counts_get();
    T_EQ(c.freed, c.allocated);
    T_EQ(c.unreleased, 3);                  /* l, d and m: each has a reference never dropped */
    T_EQ(grt_init(NULL), 0);                /* a clean run reports none */
    T_EQ(grt_object_counts_get().unreleased, 0);
    grt_object *k = grt_list_new(0);
    grt_list_append(k, k);
    grt_decref(k);
    T_EQ(grt_fini(), 0);
    c = grt_object_counts_get();
    T_EQ(c.freed, c.allocated);
    T_EQ(c.unreleased, 0);
}

/* ---- fork -------------------------------------------------------------------------------------- */

static int child_status(pid_t pid)
{
    int st = 0;
    GRT_BEGIN_ALLOW_THREADS
    waitpid(pid, &st, 0);
    GRT_END_ALLOW_THREADS;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

TEST(gc_fork_child_collects)
{
    grt_object *l = grt_list_new(0);
    grt_list_append(l, l);
    grt_decref(l);
    pid_t pid = grt_fork();
    T_TRUE(pid >= 0);
    if (pid == 0) {
        int ok = grt_gc_collect(2) == 1;
        grt_object *x = grt_list_new(0);    /* and keeps working */
        grt_list_append(x, x);
        grt_decref(x);
        ok = ok && grt_gc_collect(0) == 1;
        _exit(ok ? 0 : 1);
    }
    T_EQ(child_status(pid), 0);
    T_EQ(grt_gc_collect(2), 1);             /* the parent's copy is its own */
}

enum { FORK_N = 2000 };
static grt_object *fork_objs[FORK_N];
static hdr_bytes fork_hdrs[FORK_N];

static void fork_freeze_case(unsigned flags)
{
    grt_object *holder = grt_list_new(0);
    for (int i = 0; i < FORK_N; i++) {
        fork_objs[i] = grt_list_new(0);
        grt_list_append(holder, fork_objs[i]);
        grt_decref(fork_objs[i]);
    }
    grt_gc_collect(2);
    T_EQ(grt_gc_freeze(flags), 0);
    pid_t pid = grt_fork();
    T_TRUE(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < FORK_N; i++)
            snap(fork_objs[i], &fork_hdrs[i]);
        /* the child works: garbage, young survivors pointing into the frozen heap */
        grt_object *young = grt_list_new(0);
        for (int i = 0; i < FORK_N; i += 10) {
            grt_object *g = grt_list_new(0);
            grt_list_append(g, g);
            grt_list_append(g, fork_objs[i]);
            grt_decref(g);
            if (flags & GRT_GC_FREEZE_IMMORTAL)
                grt_list_append(young, fork_objs[i]);   /* increfs it */
        }
        int ok = grt_gc_collect(0) == FORK_N / 10;
        ok = ok && grt_gc_collect(2) == 0;
        grt_decref(young);
        size_t cmp = (flags & GRT_GC_FREEZE_IMMORTAL) ? sizeof(hdr_bytes) : GRT_GC_HEAD_SIZE;
        for (int i = 0; i < FORK_N; i++) {
            hdr_bytes now;
            snap(fork_objs[i], &now);
            if (memcmp(now.b, fork_hdrs[i].b, cmp) != 0)
                ok = 0;
        }
        _exit(ok ? 0 : 1);
    }
    T_EQ(child_status(pid), 0);
    grt_gc_unfreeze();
    grt_decref(holder);
}

TEST(gc_fork_child_does_not_write_frozen_headers)
{
    fork_freeze_case(0);
}

TEST(gc_fork_child_does_not_write_frozen_immortal_objects)
{
    fork_freeze_case(GRT_GC_FREEZE_IMMORTAL);
}
