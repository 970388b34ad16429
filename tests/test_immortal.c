/*
 * Immortal objects (PEP 683): None, True, False, ints -5..256, interned
 * strings.  Incref/decref on them must never write memory.
 */
#include "harness.h"

TEST(singletons_are_immortal)
{
    T_TRUE(grt_is_immortal(grt_None));
    T_TRUE(grt_is_immortal(grt_True));
    T_TRUE(grt_is_immortal(grt_False));
    T_TRUE(grt_is_immortal((grt_object *)&grt_list_type));
}

TEST(small_int_range)
{
    for (int64_t v = GRT_SMALL_INT_MIN; v <= GRT_SMALL_INT_MAX; v++) {
        grt_object *a = grt_int_new(v), *b = grt_int_new(v);
        T_EQ_PTR(a, b);                        /* cached: one object per value */
        T_TRUE(grt_is_immortal(a));
        grt_decref(a);
        grt_decref(b);
    }
    grt_object *big = grt_int_new(257), *neg = grt_int_new(-6);
    T_FALSE(grt_is_immortal(big));
    T_FALSE(grt_is_immortal(neg));
    T_EQ(grt_refcnt(big), 1);
    grt_decref(big);
    grt_decref(neg);
}

TEST(interned_strings_are_immortal)
{
    grt_object *a = grt_str_intern("interned"), *b = grt_str_intern("interned");
    T_EQ_PTR(a, b);
    T_TRUE(grt_is_immortal(a));
    grt_object *c = grt_str_new("interned");
    T_FALSE(grt_is_immortal(c));
    T_TRUE(c != a);
    grt_str_intern_in_place(&c);
    T_EQ_PTR(c, a);
    grt_decref(a); grt_decref(b); grt_decref(c);
}

TEST(make_immortal)
{
    grt_object *l = grt_list_new(0);
    grt_make_immortal(l);
    T_TRUE(grt_is_immortal(l));
    grt_decref(l);
    grt_decref(l);                 /* no effect, no fatal error */
    T_TRUE(grt_is_immortal(l));
}

#define PAIRS 1000000
static grt_object *imm[4];

static void hammer(int i, void *arg)
{
    (void)i; (void)arg;
    for (int n = 0; n < PAIRS; n++) {
        grt_object *o = imm[n & 3];
        grt_incref(o);
        grt_decref(o);
        if ((n & 4095) == 0) grt_safepoint();
    }
}

/* Two threads, a million incref/decref pairs each, on immortals: the header
 * bytes read the same before and after (nothing was written). */
TEST_MT(immortal_headers_never_written)
{
    imm[0] = grt_None;
    imm[1] = grt_True;
    imm[2] = grt_int_new(7);
    imm[3] = grt_str_intern("shared-immortal");
    grt_object saved[4];
    for (int i = 0; i < 4; i++) saved[i] = *imm[i];
    t_run_threads(2, hammer, NULL);
    for (int i = 0; i < 4; i++)
        if (memcmp(&saved[i], imm[i], sizeof(grt_object)) != 0)
            T_FAIL("immortal object %d (%s) header changed", i, grt_type_name(imm[i]));
    grt_decref(imm[3]);
}
