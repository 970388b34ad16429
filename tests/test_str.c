/*
 * str: construction, length with embedded NULs, equality, cached hash,
 * interning (identity, immortality, in-place, from many threads), repr
 * quoting and escapes, type errors.
 */
#include "harness.h"

static void check_repr(grt_object *o, const char *want)
{
    T_NOT_NULL(o);
    grt_object *r = grt_repr(o);
    T_NOT_NULL(r);
    T_EQ_STR(grt_str_data(r), want);
    grt_decref(r);
    grt_decref(o);
}

TEST(str_new_data_len)
{
    grt_object *s = grt_str_new("hello");
    T_NOT_NULL(s);
    T_EQ_PTR(grt_type_of(s), &grt_str_type);
    T_EQ(grt_str_len(s), 5);
    T_EQ_STR(grt_str_data(s), "hello");
    T_EQ(grt_refcnt(s), 1);
    T_FALSE(grt_is_immortal(s));
    T_EQ(grt_str_eq_cstr(s, "hello"), 1);
    T_EQ(grt_str_eq_cstr(s, "hell"), 0);
    T_EQ(grt_str_eq_cstr(s, "hello!"), 0);
    grt_decref(s);
    grt_object *e = grt_str_new("");
    T_EQ(grt_str_len(e), 0);
    T_EQ_STR(grt_str_data(e), "");
    grt_decref(e);
}

TEST(str_from_len_keeps_nul_bytes)
{
    grt_object *a = grt_str_from_len("a\0b", 3), *b = grt_str_from_len("a\0c", 3);
    T_EQ(grt_str_len(a), 3);
    T_EQ(grt_str_data(a)[2], 'b');
    T_EQ(grt_str_data(a)[3], '\0');     /* always NUL-terminated */
    T_EQ(grt_equal(a, b), 0);
    T_EQ(grt_str_eq_cstr(a, "a"), 0);  /* the C string stops at the NUL */
    check_repr(a, "'a\\x00b'");
    grt_decref(b);
}

TEST(str_equality_and_hash)
{
    grt_object *a = grt_str_new("key"), *b = grt_str_new("key"), *c = grt_str_new("kez");
    T_NE((intptr_t)a, (intptr_t)b);
    T_EQ(grt_equal(a, b), 1);
    T_EQ(grt_equal(a, c), 0);
    int64_t h = grt_hash(a);
    T_NE(h, -1);
    T_EQ(grt_hash(b), h);
    T_EQ(grt_hash(a), h);              /* cached: same value again */
    T_EQ(_grt_str_hash(a), h);
    T_EQ(_grt_str_hash_bytes("key", 3), h);
    T_NE(grt_hash(c), h);
    grt_object *i = grt_int_new(5);
    T_EQ(grt_equal(a, i), 0);
    T_NO_ERR();
    grt_decref(a);
    grt_decref(b);
    grt_decref(c);
}

TEST(interning_returns_one_immortal_object)
{
    grt_object *a = grt_str_intern("interned name");
    grt_object *b = grt_str_intern("interned name");
    T_NOT_NULL(a);
    T_EQ_PTR(a, b);
    T_TRUE(grt_is_immortal(a));
    T_EQ(grt_refcnt(a), (int64_t)1 << 62);
    grt_decref(a);
    grt_decref(b);
    grt_decref(a);                      /* immortal: extra decrefs are harmless */
    T_EQ_STR(grt_str_data(a), "interned name");
    grt_object *fresh = grt_str_new("interned name");
    T_NE((intptr_t)fresh, (intptr_t)a);
    T_EQ(grt_equal(fresh, a), 1);
    T_EQ(grt_hash(fresh), grt_hash(a));
    grt_object *other = grt_str_intern("another name");
    T_NE((intptr_t)other, (intptr_t)a);
    grt_decref(fresh);
}

TEST(intern_many_distinct_strings)
{
    /* more names than the per-thread cache and the table's first size */
    grt_object *first[3000];
    char buf[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof buf, "name%d", i);
        first[i] = grt_str_intern(buf);
        T_NOT_NULL(first[i]);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof buf, "name%d", i);
        grt_object *again = grt_str_intern(buf);
        T_EQ_PTR(again, first[i]);
        T_EQ_STR(grt_str_data(again), buf);
    }
}

TEST(intern_in_place_replaces_and_releases)
{
    grt_object *p = grt_str_new("in place");
    grt_object *keep = grt_newref(p);
    T_EQ(grt_refcnt(p), 2);
    grt_str_intern_in_place(&p);
    T_NO_ERR();
    T_TRUE(grt_is_immortal(p));
    T_NE((intptr_t)p, (intptr_t)keep);
    T_EQ_PTR(p, grt_str_intern("in place"));
    T_EQ(grt_refcnt(keep), 1);          /* the stolen reference was released */
    /* an interned str stays itself */
    grt_object *q = p;
    grt_str_intern_in_place(&q);
    T_EQ_PTR(q, p);
    grt_decref(keep);
    /* a non-str is refused and left alone */
    grt_object *i = grt_int_new(1000);
    grt_object *j = i;
    grt_str_intern_in_place(&j);
    T_ERR(GRT_ERR_TYPE, "grt_str_intern_in_place: expected str, got int");
    T_EQ_PTR(j, i);
    grt_decref(i);
}

TEST(str_repr_quotes_and_escapes)
{
    check_repr(grt_str_new("abc"), "'abc'");
    check_repr(grt_str_new(""), "''");
    check_repr(grt_str_new("it's"), "\"it's\"");
    check_repr(grt_str_new("say \"hi\""), "'say \"hi\"'");
    check_repr(grt_str_new("it's \"x\""), "'it\\'s \"x\"'");
    check_repr(grt_str_new("a\nb\tc\r"), "'a\\nb\\tc\\r'");
    check_repr(grt_str_new("back\\slash"), "'back\\\\slash'");
    check_repr(grt_str_new("\x01\x7f"), "'\\x01\\x7f'");
}

/* Beyond ASCII, as Python 3.11's repr: printable characters as they are,
 * the others escaped; bytes that are not UTF-8 as \xNN. */
TEST(str_repr_escapes_unprintable_unicode)
{
    check_repr(grt_str_new("caf\xc3\xa9"), "'caf\xc3\xa9'");            /* é */
    check_repr(grt_str_new("a\xc2\xa0" "b"), "'a\\xa0b'");                /* no-break space */
    check_repr(grt_str_new("a\xc2\x85" "b"), "'a\\x85b'");                /* NEL, a C1 control */
    check_repr(grt_str_new("a\xe2\x80\xa8" "b"), "'a\\u2028b'");          /* line separator */
    check_repr(grt_str_new("\xef\xbb\xbf"), "'\\ufeff'");              /* BOM, format */
    check_repr(grt_str_new("\xf3\xa0\x80\x81"), "'\\U000e0001'");     /* language tag */
    check_repr(grt_str_new("\xe6\x97\xa5\xf0\x9f\x98\x80"), "'\xe6\x97\xa5\xf0\x9f\x98\x80'");
    check_repr(grt_str_new("a\xff" "b\xc3"), "'a\\xffb\\xc3'");          /* not UTF-8 */
    check_repr(grt_str_new("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");  /* a surrogate */
}

TEST(str_type_and_null_errors)
{
    grt_object *i = grt_int_new(1000);
    T_EQ_PTR(grt_str_data(i), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_str_data: expected str, got int");
    T_EQ(grt_str_len(i), -1);
    T_ERR(GRT_ERR_TYPE, "grt_str_len: expected str, got int");
    T_EQ(grt_str_eq_cstr(i, "1000"), 0);
    T_NO_ERR();
    T_EQ_PTR(grt_str_new(NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_str_new: argument 's' is NULL");
    T_EQ_PTR(grt_str_intern(NULL), NULL);
    T_ERR(GRT_ERR_TYPE, "grt_str_intern: argument 's' is NULL");
    T_EQ_PTR(grt_str_from_len(NULL, 3), NULL);
    T_ERR(GRT_ERR_TYPE, "argument 's' is NULL");
    grt_decref(i);
}

/* Four threads intern the same 200 names in different orders: every thread
 * must get the same object for a name. */
static grt_object *mt_results[4][200];

static void intern_worker(int t, void *arg)
{
    (void)arg;
    char buf[32];
    for (int k = 0; k < 200; k++) {
        int i = (k * 7 + t * 13) % 200;
        snprintf(buf, sizeof buf, "shared-%d", i);
        mt_results[t][i] = grt_str_intern(buf);
        grt_safepoint();
    }
}

TEST_MT(intern_from_threads_gives_one_object)
{
    t_run_threads(4, intern_worker, NULL);
    for (int i = 0; i < 200; i++) {
        T_NOT_NULL(mt_results[0][i]);
        for (int t = 1; t < 4; t++)
            T_EQ_PTR(mt_results[t][i], mt_results[0][i]);
        char buf[32];
        snprintf(buf, sizeof buf, "shared-%d", i);
        T_EQ_PTR(grt_str_intern(buf), mt_results[0][i]);
    }
}
