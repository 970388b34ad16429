/*
 * int and float: small-int caching and immortality, values, hashing rules
 * (hash(-1) == -2, equal numbers hash equal across types), cross-type
 * equality, repr (Python's shortest round-trip float repr), type errors.
 */
#include "harness.h"
#include <math.h>

/* repr(o) compared with an expected C string; releases o. */
static void check_repr(grt_object *o, const char *want)
{
    T_NOT_NULL(o);
    grt_object *r = grt_repr(o);
    T_NOT_NULL(r);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
    grt_decref(o);
}

TEST(small_ints_are_one_immortal_object)
{
    for (int64_t v = GRT_SMALL_INT_MIN; v <= GRT_SMALL_INT_MAX; v++) {
        grt_object *a = grt_int_new(v), *b = grt_int_new(v);
        T_EQ_PTR(a, b);
        T_TRUE(grt_is_immortal(a));
        T_EQ(grt_int_value(a), v);
        grt_decref(a);
        grt_decref(b);
    }
    /* a decref on an immortal object writes nothing */
    grt_object *z = grt_int_new(0);
    int64_t before = grt_refcnt(z);
    for (int i = 0; i < 10; i++)
        grt_decref(z);
    T_EQ(grt_refcnt(z), before);
}

TEST(ints_outside_the_cache_are_fresh_objects)
{
    grt_object_counts c0 = grt_object_counts_get();
    grt_object *a = grt_int_new(257), *b = grt_int_new(257), *m = grt_int_new(-6);
    grt_object_counts c1 = grt_object_counts_get();
    T_EQ(c1.allocated - c0.allocated, 3);
    T_NE((intptr_t)a, (intptr_t)b);
    T_FALSE(grt_is_immortal(a));
    T_EQ(grt_refcnt(a), 1);
    T_EQ(grt_equal(a, b), 1);
    T_EQ(grt_int_value(m), -6);
    grt_decref(a);
    grt_decref(b);
    grt_decref(m);
    T_EQ(grt_object_counts_get().freed - c0.freed, 3);
    /* a small int allocates nothing */
    grt_object_counts c2 = grt_object_counts_get();
    grt_object *s = grt_int_new(100);
    T_EQ(grt_object_counts_get().allocated - c2.allocated, 0);
    grt_decref(s);
}

TEST(int_extremes)
{
    grt_object *mx = grt_int_new(INT64_MAX), *mn = grt_int_new(INT64_MIN);
    T_EQ(grt_int_value(mx), INT64_MAX);
    T_EQ(grt_int_value(mn), INT64_MIN);
    T_EQ(grt_hash(mn), INT64_MIN);
    grt_decref(mx);
    check_repr(mn, "-9223372036854775808");
    check_repr(grt_int_new(-42), "-42");
    check_repr(grt_int_new(1000), "1000");
}

TEST(int_hash_is_the_value_except_minus_one)
{
    grt_object *a = grt_int_new(12345), *m1 = grt_int_new(-1), *m2 = grt_int_new(-2);
    T_EQ(grt_hash(a), 12345);
    T_EQ(grt_hash(m1), -2);
    T_EQ(grt_hash(m2), -2);
    T_EQ(grt_equal(m1, m2), 0);          /* same hash, different values */
    T_NO_ERR();
    grt_decref(a);
}

TEST(int_value_type_errors)
{
    grt_object *s = grt_str_new("7");
    T_EQ(grt_int_value(s), -1);
    T_ERR(GRT_ERR_TYPE, "grt_int_value: expected int, got str");
    T_EQ(grt_int_value(NULL), -1);
    T_ERR(GRT_ERR_TYPE, "grt_int_value");
    T_EQ_DBL(grt_float_value(s), -1.0);
    T_ERR(GRT_ERR_TYPE, "grt_float_value: expected float, got str");
    grt_object *i = grt_int_new(3);
    T_EQ_DBL(grt_float_value(i), -1.0);
    T_ERR(GRT_ERR_TYPE, "expected float, got int");
    grt_decref(s);
}

TEST(float_value_and_fresh_objects)
{
    grt_object *f = grt_float_new(2.5);
    T_EQ_DBL(grt_float_value(f), 2.5);
    T_EQ(grt_refcnt(f), 1);
    T_FALSE(grt_is_immortal(f));
    T_EQ_PTR(grt_type_of(f), &grt_float_type);
    grt_decref(f);
}

TEST(int_and_float_compare_across_types)
{
    grt_object *i1 = grt_int_new(1), *f1 = grt_float_new(1.0), *f15 = grt_float_new(1.5);
    T_EQ(grt_equal(i1, f1), 1);
    T_EQ(grt_equal(f1, i1), 1);
    T_EQ(grt_hash(i1), grt_hash(f1));
    T_EQ(grt_equal(i1, f15), 0);
    T_EQ(grt_equal(f15, i1), 0);
    /* -1.0 == -1 and both hash -2 */
    grt_object *im = grt_int_new(-1), *fm = grt_float_new(-1.0);
    T_EQ(grt_equal(fm, im), 1);
    T_EQ(grt_hash(fm), -2);
    /* no rounding of the int: 2^53 + 1 is not the double 2^53 */
    grt_object *big = grt_int_new(((int64_t)1 << 53) + 1), *fbig = grt_float_new(9007199254740992.0);
    T_EQ(grt_equal(big, fbig), 0);
    T_EQ(grt_equal(fbig, big), 0);
    /* 2^63 as a double is out of int64 range, and not INT64_MAX */
    grt_object *mx = grt_int_new(INT64_MAX), *f63 = grt_float_new(9223372036854775808.0);
    T_EQ(grt_equal(mx, f63), 0);
    T_EQ(grt_equal(f63, mx), 0);
    /* an int is never equal to a str */
    grt_object *s = grt_str_new("1");
    T_EQ(grt_equal(i1, s), 0);
    T_EQ(grt_equal(f1, s), 0);
    T_NO_ERR();
    grt_object *objs[] = { f1, f15, im, fm, big, fbig, mx, f63, s };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(bools_equal_their_ints_both_ways)
{
    grt_object *one = grt_int_new(1), *zero = grt_int_new(0), *two = grt_int_new(2);
    grt_object *f1 = grt_float_new(1.0);
    T_EQ(grt_equal(one, grt_True), 1);
    T_EQ(grt_equal(grt_True, one), 1);
    T_EQ(grt_equal(zero, grt_False), 1);
    T_EQ(grt_equal(two, grt_True), 0);
    T_EQ(grt_equal(f1, grt_True), 1);
    T_EQ(grt_equal(grt_True, f1), 1);
    T_EQ(grt_hash(grt_True), grt_hash(one));
    grt_decref(f1);
    grt_decref(two);
}

TEST(float_hash_rules)
{
    grt_object *a = grt_float_new(0.5), *b = grt_float_new(0.5);
    T_EQ(grt_hash(a), grt_hash(b));
    T_NE(grt_hash(a), -1);
    grt_object *z = grt_float_new(0.0), *nz = grt_float_new(-0.0);
    T_EQ(grt_equal(z, nz), 1);
    T_EQ(grt_hash(z), 0);
    T_EQ(grt_hash(nz), 0);
    grt_object *big = grt_float_new(1e300), *inf = grt_float_new(INFINITY);
    T_NE(grt_hash(big), -1);
    T_NE(grt_hash(inf), -1);
    /* NaN is not equal to itself as a value; grt_equal's identity rule
     * still makes the same object equal to itself, so it hashes by identity */
    grt_object *n1 = grt_float_new(NAN), *n2 = grt_float_new(NAN);
    T_EQ(grt_equal(n1, n2), 0);
    T_EQ(grt_hash(n1), grt_hash(n1));
    T_NO_ERR();
    grt_object *objs[] = { a, b, z, nz, big, inf, n1, n2 };
    for (unsigned k = 0; k < sizeof objs / sizeof objs[0]; k++)
        grt_decref(objs[k]);
}

TEST(float_repr_is_shortest_round_trip)
{
    check_repr(grt_float_new(1.0), "1.0");
    check_repr(grt_float_new(0.1), "0.1");
    check_repr(grt_float_new(1.5), "1.5");
    check_repr(grt_float_new(-2.25), "-2.25");
    check_repr(grt_float_new(0.0), "0.0");
    check_repr(grt_float_new(-0.0), "-0.0");
    check_repr(grt_float_new(1.0 / 3.0), "0.3333333333333333");
    /* powers of two, whose shortest decimal lies above the nearest one */
    check_repr(grt_float_new(ldexp(1.0, -24)), "5.960464477539063e-08");
    check_repr(grt_float_new(ldexp(1.0, -44)), "5.684341886080802e-14");
    check_repr(grt_float_new(ldexp(1.0, 89)), "6.189700196426902e+26");
    check_repr(grt_float_new(-ldexp(1.0, 122)), "-5.316911983139664e+36");
    check_repr(grt_float_new(0.1 + 0.2), "0.30000000000000004");
    check_repr(grt_float_new(100.0), "100.0");
    check_repr(grt_float_new(123456789.125), "123456789.125");
    check_repr(grt_float_new(1e15), "1000000000000000.0");
    check_repr(grt_float_new(1e16), "1e+16");
    check_repr(grt_float_new(1.5e16), "1.5e+16");
    check_repr(grt_float_new(1e22), "1e+22");
    check_repr(grt_float_new(0.0001), "0.0001");
    check_repr(grt_float_new(0.00001), "1e-05");
    check_repr(grt_float_new(2.5e-7), "2.5e-07");
    check_repr(grt_float_new(1.7976931348623157e308), "1.7976931348623157e+308");
    check_repr(grt_float_new(5e-324), "5e-324");
    check_repr(grt_float_new(INFINITY), "inf");
    check_repr(grt_float_new(-INFINITY), "-inf");
    check_repr(grt_float_new(NAN), "nan");
}
