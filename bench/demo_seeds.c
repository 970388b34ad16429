/*
 * bench/demo_seeds.c — `gilrt demo seeds`: the seed documents' examples of
 * reference counting and cycle collection, replayed step by step on gilrt
 * with the real counts printed at each step.
 *
 * Reading the counts: grt_refcnt is the true number of references.  Python's
 * sys.getrefcount(x) prints one more (its argument is a temporary reference),
 * so "refcount 1" here is what Python shows as 2.
 */
#include "bench.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_CHECK(x, what) do { if (!(x)) bench_die_grt(what); } while (0)

static int step_no;

static void step(const char *title)
{
    printf("\n%d. %s\n", ++step_no, title);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("   ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static int64_t live_objects(void)
{
    grt_object_counts c = grt_object_counts_get();
    return (int64_t)(c.allocated - c.freed);
}

static const char *rcs(grt_object *o, char *buf, size_t n)
{
    if (grt_is_immortal(o))
        snprintf(buf, n, "immortal");
    else
        snprintf(buf, n, "%lld", (long long)grt_refcnt(o));
    return buf;
}
#define RC(o) rcs((o), (char[32]){0}, 32)

static grt_object *new_instance(grt_type *cls)
{
    grt_object *o = grt_instance_new(cls);
    BENCH_CHECK(o, "grt_instance_new");
    return o;
}

static void set(grt_object *o, const char *name, grt_object *v)
{
    BENCH_CHECK(grt_setattr(o, name, v) == 0, "grt_setattr");
}

static void world_gone(grt_object *ref, grt_object *data)
{
    (void)ref;
    (void)data;
    say("   (weakref callback: the World object has been freed)");
}

int bench_demo_seeds(void)
{
    if (grt_init(NULL) != 0)
        bench_die_grt("grt_init");
    grt_gc_collect(2);
    printf("The seed examples on gilrt's %s build (GIL: %s).  \"refcount\" is the true count;\n"
           "Python's sys.getrefcount would print one more (its own argument).\n",
           grt_variant(), grt_gil_policy());

    /* ---- x = 300; y = 300 ------------------------------------------------------------ */
    step("x = 300; y = 300 — names are references to objects");
    grt_object *x = grt_int_new(300), *y = grt_int_new(300);
    BENCH_CHECK(x && y, "grt_int_new");
    say("x = 300 creates an int object: refcount %s.", RC(x));
    say("y = 300 creates another one (refcount %s); x is y: %s.", RC(y), x == y ? "yes" : "no");
    say("(In a script CPython shares one constant object between the two lines, so x is y,");
    say(" and its count also includes the code object's constant table; typed line by line,");
    say(" x is y is False there too.  At the C level every creation is its own object.)");
    grt_decref(y);
    y = grt_newref(x);
    say("y = x: one object, two names: refcount %s.", RC(x));
    grt_object *a = grt_int_new(7), *b = grt_int_new(7);
    say("a = 7; b = 7: small ints -5..256 are cached and immortal: a is b: %s, refcount %s",
        a == b ? "yes" : "no", RC(a));
    say("(incref/decref on them write nothing, so threads sharing them never contend).");
    grt_decref(a);
    grt_decref(b);

    /* ---- del --------------------------------------------------------------------------- */
    step("del — dropping a name drops a reference; the last one frees the object");
    int64_t live0 = live_objects();
    grt_decref(y);
    say("del y: refcount of 300 is now %s; the object stays (live objects %+lld).", RC(x),
        (long long)(live_objects() - live0));
    grt_decref(x);
    say("del x: the count reached 0 and the object was freed at once (live objects %+lld).",
        (long long)(live_objects() - live0));

    /* ---- the Node cycle ------------------------------------------------------------------ */
    step("The Node cycle — reference counting cannot free a cycle");
    grt_type *node = grt_class_new("Node", NULL);
    BENCH_CHECK(node, "grt_class_new");
    grt_object *root = new_instance(node), *left = new_instance(node), *right = new_instance(node);
    set(root, "left", left);
    set(root, "right", right);
    set(left, "parent", root);
    set(right, "parent", root);
    say("root.left = left; root.right = right; left.parent = root; right.parent = root");
    say("refcounts: root %s (the name + two parents), left %s, right %s.", RC(root), RC(left), RC(right));
    grt_object *wroot = grt_weakref_new(root, NULL);
    BENCH_CHECK(wroot, "grt_weakref_new");
    int64_t live1 = live_objects();
    grt_object *r0 = root, *l0 = left, *g0 = right;   /* borrowed, for printing only */
    grt_decref(root);
    grt_decref(left);
    grt_decref(right);
    say("del root, left, right: refcounts root %s, left %s, right %s — nothing outside the",
        RC(r0), RC(l0), RC(g0));
    say("three refers to them, but no count reached 0: nothing was freed (live objects %+lld).",
        (long long)(live_objects() - live1));
    grt_object *alive = grt_weakref_get(wroot);
    say("a weak reference to root still finds it: %s.", alive != grt_None ? "alive" : "gone");
    grt_decref(alive);
    int64_t found = grt_gc_collect(2);
    say("gc.collect() → %lld unreachable objects (3 Nodes and their 3 attribute dicts) freed",
        (long long)found);
    say("(CPython <= 3.10 reports 6 too; 3.11+ keeps attributes inline, no dicts: 3);");
    alive = grt_weakref_get(wroot);
    say("the weak reference now gives %s; live objects %+lld.", alive == grt_None ? "None" : "the object",
        (long long)(live_objects() - live1));
    grt_decref(alive);
    grt_decref(wroot);

    /* ---- container.append(container) ------------------------------------------------------ */
    step("container.append(container) — the smallest cycle");
    grt_object *container = grt_list_new(0);
    BENCH_CHECK(container, "grt_list_new");
    BENCH_CHECK(grt_list_append(container, container) == 0, "grt_list_append");
    say("container = []; container.append(container): refcount %s (the name + its own item).",
        RC(container));
    grt_object *c0 = container;
    grt_decref(container);
    say("del container: refcount %s — unreachable, but not freed.", RC(c0));
    say("gc.collect() → %lld unreachable object freed.", (long long)grt_gc_collect(2));

    /* ---- thresholds and counts ------------------------------------------------------------- */
    step("Thresholds and counts — when the collector runs by itself");
    int64_t th[GRT_GC_NGENERATIONS], cnt[GRT_GC_NGENERATIONS];
    grt_gc_get_threshold(th);
    grt_gc_get_count(cnt);
    say("gc.get_threshold() = (%lld, %lld, %lld); gc.get_count() = (%lld, %lld, %lld).",
        (long long)th[0], (long long)th[1], (long long)th[2],
        (long long)cnt[0], (long long)cnt[1], (long long)cnt[2]);
    grt_gc_stats st0, st1;
    BENCH_CHECK(grt_gc_get_stats(&st0) == 0, "grt_gc_get_stats");
    grt_object *keep = grt_list_new(0);
    BENCH_CHECK(keep, "grt_list_new");
    for (int i = 0; i < 500; i++) {
        grt_object *l = grt_list_new(0);
        BENCH_CHECK(l && grt_list_append(keep, l) == 0, "grt_list_append");
        grt_decref(l);
        grt_safepoint();
    }
    grt_gc_get_count(cnt);
    say("after making 500 lists that stay alive: gc.get_count() = (%lld, %lld, %lld).",
        (long long)cnt[0], (long long)cnt[1], (long long)cnt[2]);
    int made = 0;
    for (; made < 10 * (int)th[0] + 10; made++) {
        grt_object *l = grt_list_new(0);
        BENCH_CHECK(l && grt_list_append(keep, l) == 0, "grt_list_append");
        grt_decref(l);
        grt_safepoint();                     /* automatic collections run here */
        BENCH_CHECK(grt_gc_get_stats(&st1) == 0, "grt_gc_get_stats");
        if (st1.gen[0].collections > st0.gen[0].collections)
            break;
    }
    grt_gc_get_count(cnt);
    say("%d more: allocations minus deallocations passed %lld, so generation 0 was collected",
        made + 1, (long long)th[0]);
    say("at the next safepoint (generation-0 collections: %lld -> %lld); the survivors moved to",
        (long long)st0.gen[0].collections, (long long)st1.gen[0].collections);
    say("generation 1: gc.get_count() = (%lld, %lld, %lld).",
        (long long)cnt[0], (long long)cnt[1], (long long)cnt[2]);
    grt_decref(keep);

    /* ---- World / Animal --------------------------------------------------------------------- */
    step("World and Animal — a back-reference makes a cycle; a weak one does not");
    grt_type *world_t = grt_class_new("World", NULL), *animal_t = grt_class_new("Animal", NULL);
    BENCH_CHECK(world_t && animal_t, "grt_class_new");
    grt_object *world = new_instance(world_t), *animal = new_instance(animal_t);
    grt_object *animals = grt_list_new(0);
    BENCH_CHECK(animals, "grt_list_new");
    set(world, "animals", animals);
    BENCH_CHECK(grt_list_append(animals, animal) == 0, "grt_list_append");
    set(animal, "world", world);
    grt_decref(animals);
    say("world.animals.append(animal); animal.world = world: refcounts world %s, animal %s.",
        RC(world), RC(animal));
    int64_t live2 = live_objects();
    grt_decref(world);
    grt_decref(animal);
    say("del world, animal: nothing freed (live objects %+lld): world -> animals -> animal -> world.",
        (long long)(live_objects() - live2));
    say("gc.collect() → %lld unreachable objects freed (2 instances, their 2 dicts, the list;",
        (long long)grt_gc_collect(2));
    say("CPython 3.11+, whose instances keep attributes inline, reports 3).");

    world = new_instance(world_t);
    animal = new_instance(animal_t);
    BENCH_CHECK(animals = grt_list_new(0), "grt_list_new");
    set(world, "animals", animals);
    BENCH_CHECK(grt_list_append(animals, animal) == 0, "grt_list_append");
    grt_decref(animals);
    grt_object *wref = grt_weakref_new(world, world_gone);
    BENCH_CHECK(wref, "grt_weakref_new");
    set(animal, "world", wref);
    grt_decref(wref);
    say("again, but animal.world = weakref.ref(world, callback): refcount of world %s.", RC(world));
    live2 = live_objects();
    say("del world:");
    grt_decref(world);
    say("its count reached 0, so it was freed at once, no collector needed (live objects");
    say("%+lld: the World, its dict and the animals list).", (long long)(live_objects() - live2));
    grt_object *w = grt_getattr(animal, "world");
    BENCH_CHECK(w, "grt_getattr");
    grt_object *target = grt_weakref_get(w);
    say("animal.world() now returns %s.", target == grt_None ? "None" : "an object");
    grt_decref(target);
    grt_decref(w);
    grt_decref(animal);

    grt_decref(&node->ob_base);
    grt_decref(&world_t->ob_base);
    grt_decref(&animal_t->ob_base);
    printf("\nEvery object above was freed either by its count reaching zero or by the collector.\n");
    return grt_fini() == 0 ? 0 : 1;
}
