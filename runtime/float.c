/*
 * runtime/float.c — IEEE doubles.
 *
 * Invariants:
 *   - immutable after creation; no cache, every grt_float_new allocates;
 *   - equality crosses types the way Python's does: 1.0 == 1, and a float
 *     equals an int only when it holds exactly that integer (no rounding of
 *     the int to double: 2.0**63 != 2**63 - 1);
 *   - equal numbers hash equal: an integral float in int64 range hashes as
 *     that int (runtime/int.c), other floats hash their bits; NaN hashes by
 *     identity (as Python 3.10+), since NaN != NaN anyway;
 *   - repr is the shortest string that reads back as the same double, laid
 *     out like Python's repr: "1.0", "0.1", "1e+16", "1e-05", "inf", "nan".
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include "types_internal.h"
#include <inttypes.h>
#include <math.h>

/* 2^63 as a double: the first integer above the int64 range. */
#define FLOAT_TWO_POW_63 9223372036854775808.0

int _grt_float_equals_int(double d, int64_t v)
{
    /* Compare in the integer domain: (double)v could round and make unequal
     * values look equal. */
    if (!(d >= -FLOAT_TWO_POW_63 && d < FLOAT_TWO_POW_63))   /* also false for NaN */
        return 0;
    if (d != floor(d))
        return 0;
    return (int64_t)d == v;
}

static void float_dealloc(grt_object *o) { _grt_object_free(o); }

static int64_t float_hash(grt_object *o)
{
    double d = ((grt_float *)o)->value;
    if (isnan(d))
        return (int64_t)((uintptr_t)o >> 4);
    if (d >= -FLOAT_TWO_POW_63 && d < FLOAT_TWO_POW_63 && d == floor(d))
        return _grt_int_hash_value((int64_t)d);   /* same as the equal int (-0.0 too) */
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    /* A 64-bit finaliser (multiply-xorshift) spreads the bits over the word. */
    bits ^= bits >> 33;
    bits *= UINT64_C(0xff51afd7ed558ccd);
    bits ^= bits >> 33;
    bits *= UINT64_C(0xc4ceb9fe1a85ec53);
    bits ^= bits >> 33;
    int64_t h = (int64_t)bits;
    return h == -1 ? -2 : h;
}

static int float_eq(grt_object *a, grt_object *b)
{
    double d = ((grt_float *)a)->value;
    if (grt_is_type(b, &grt_float_type))
        return d == ((grt_float *)b)->value;
    if (grt_is_type(b, &grt_int_type))
        return _grt_float_equals_int(d, ((grt_int *)b)->value);
    if (grt_is_type(b, &grt_bool_type))
        return d == (b == grt_True ? 1.0 : 0.0);
    return 0;
}

/* sci is "[-]D[.DDD]e[+-]XX"; write to out the decimal with as many digits
 * one unit above (delta 1) or below (-1) it in the last digit: 0, or -1 if
 * there is none (below a lone 0). */
static int float_bump(const char *sci, int delta, char *out, size_t n)
{
    const char *p = sci;
    int neg = *p == '-';
    p += neg;
    char d[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            d[nd++] = *p;
    int e = atoi(p + 1), i = nd - 1;
    if (delta > 0) {
        while (i >= 0 && d[i] == '9')
            d[i--] = '0';
        if (i < 0) {                           /* 999 -> 100, one decade up */
            d[0] = '1';
            e++;
        } else {
            d[i]++;
        }
    } else {
        while (i >= 0 && d[i] == '0')
            d[i--] = '9';
        if (i < 0)
            return -1;
        d[i]--;
        if (d[0] == '0') {                     /* 1000 -> 9999, one decade down */
            if (nd == 1)
                return -1;
            memmove(d, d + 1, (size_t)nd - 1);
            d[nd - 1] = '9';
            e--;
        }
    }
    snprintf(out, n, "%s%c%s%.*se%+03d", neg ? "-" : "", d[0], nd > 1 ? "." : "", nd - 1, d + 1, e);
    return 0;
}

/* Shortest round-trip repr into out (at least 32 bytes); returns the length. */
static int float_format(double d, char *out)
{
    if (isnan(d))
        return sprintf(out, "nan");
    if (isinf(d))
        return sprintf(out, d < 0 ? "-inf" : "inf");

    /* The fewest significant digits (1..17) that read back as d.  At each
     * length the correctly rounded decimal first; if it misses, its
     * neighbours one unit away: just below a power of two the interval of
     * decimals that read back is half as wide as above it, so the nearest
     * n-digit decimal can miss where the next one up hits (repr(2.0**-24)
     * is 5.960464477539063e-08, as in Python, not 5.9604644775390625e-08). */
    char sci[40], alt[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, d);
        if (strtod(sci, NULL) == d)
            break;
        if ((float_bump(sci, 1, alt, sizeof alt) == 0 && strtod(alt, NULL) == d) ||
            (float_bump(sci, -1, alt, sizeof alt) == 0 && strtod(alt, NULL) == d)) {
            memcpy(sci, alt, sizeof sci);
            break;
        }
    }
    /* sci is "[-]D[.DDD]e[+-]XX": split into sign, digits and exponent. */
    const char *p = sci;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;                                  /* "1.50000e+00" -> "15" */

    char *o = out;
    if (neg)
        *o++ = '-';
    if (exp10 < -4 || exp10 >= 16) {
        /* exponent form: d[.ddd]e{+|-}XX, at least two exponent digits */
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else {
        int point = exp10 + 1;                 /* digits before the decimal point */
        if (point <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -point; i++)
                *o++ = '0';
            memcpy(o, digits, (size_t)nd);
            o += nd;
        } else if (point >= nd) {
            memcpy(o, digits, (size_t)nd);
            o += nd;
            for (int i = nd; i < point; i++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)point);
            o += point;
            *o++ = '.';
            memcpy(o, digits + point, (size_t)(nd - point));
            o += nd - point;
        }
    }
    *o = '\0';
    return (int)(o - out);
}

static grt_object *float_repr(grt_object *o)
{
    char buf[48];
    int n = float_format(((grt_float *)o)->value, buf);
    return grt_str_from_len(buf, (size_t)n);
}

grt_type grt_float_type = {
    .ob_base = GRT_OBJECT_HEAD_INIT(&grt_type_type),
    .tp_name = "float",
    .tp_basicsize = sizeof(grt_float),
    .tp_flags = GRT_TPFLAGS_IMMUTABLE | GRT_TPFLAGS_STATIC,
    .tp_dealloc = float_dealloc,
    .tp_hash = float_hash,
    .tp_eq = float_eq,
    .tp_repr = float_repr,
};

grt_object *grt_float_new(double v)
{
    grt_float *o = (grt_float *)_grt_object_alloc(&grt_float_type, sizeof(grt_float));
    if (!o)
        return NULL;
    o->value = v;
    return &o->ob_base;
}

double grt_float_value(grt_object *o)
{
    if (GRT_CHECK_OBJ(o, &grt_float_type) < 0)
        return -1.0;
    return ((grt_float *)o)->value;
}
