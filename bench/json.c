/*
 * bench/json.c — the one-line JSON objects the runner prints (bench_json_*
 * in bench/bench.h): numbers, strings, null, and already formatted values.
 * Non-finite numbers are written as null, which JSON has instead of inf/nan.
 */
#include "bench.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- JSON output ------------------------------------------------------------------- */

void bench_json_init(bench_json *j) { j->len = 0; j->n = 0; j->buf[0] = '\0'; }

static void json_put(bench_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void json_put(bench_json *j, const char *fmt, ...)
{
    if (j->len >= sizeof j->buf - 1)
        bench_die("JSON line longer than %zu bytes", sizeof j->buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->buf - j->len)
        bench_die("JSON line longer than %zu bytes", sizeof j->buf);
    j->len += (size_t)n;
}

static void json_key(bench_json *j, const char *key)
{
    json_put(j, "%s\"%s\":", j->n++ ? "," : "{", key);
}

void bench_json_str(bench_json *j, const char *key, const char *v)
{
    json_key(j, key);
    json_put(j, "\"");
    for (const char *s = v ? v : ""; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            json_put(j, "\\%c", c);
        else if (c < 0x20)
            json_put(j, "\\u%04x", c);
        else
            json_put(j, "%c", c);
    }
    json_put(j, "\"");
}

void bench_json_num(bench_json *j, const char *key, double v)
{
    json_key(j, key);
    if (isfinite(v))
        json_put(j, "%.6g", v);
    else
        json_put(j, "null");     /* JSON has no inf/nan */
}

void bench_json_int(bench_json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_put(j, "%lld", (long long)v);
}

void bench_json_null(bench_json *j, const char *key) { json_key(j, key); json_put(j, "null"); }

void bench_json_raw(bench_json *j, const char *key, const char *raw)
{
    json_key(j, key);
    json_put(j, "%s", raw);
}

const char *bench_json_end(bench_json *j)
{
    json_put(j, j->n ? "}" : "{}");
    return j->buf;
}
