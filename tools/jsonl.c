/*
 * tools/jsonl.c — reads the one-line JSON objects the runners print, and
 * writes JSON values.
 *
 * Enough JSON for that job and no more: an object whose values are numbers,
 * strings, null, true/false (read as 1/0), arrays (kept as their text) and
 * objects (flattened: {"extra":{"a":1}} gives the key "extra.a").  Anything
 * else makes the parse fail, and the caller reports the runner's line.
 */
#include "gilrt.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser { const char *p; jobj *o; } parser;

static void skip_ws(parser *ps) { while (isspace((unsigned char)*ps->p)) ps->p++; }

static jfield *add(parser *ps, const char *prefix, const char *key)
{
    jobj *o = ps->o;
    if (o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 16;
        jfield *f = realloc(o->f, (size_t)cap * sizeof *f);
        if (!f)
            return NULL;
        o->f = f;
        o->cap = cap;
    }
    jfield *f = &o->f[o->n++];
    memset(f, 0, sizeof *f);
    snprintf(f->key, sizeof f->key, "%s%s%s", prefix, *prefix ? "." : "", key);
    return f;
}

/* A string literal at ps->p into a new buffer (escapes decoded, \u as '?'
 * beyond ASCII). */
static char *parse_string(parser *ps)
{
    if (*ps->p != '"')
        return NULL;
    const char *s = ++ps->p;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*s && *s != '"') {
        char c = *s++;
        if (c == '\\') {
            char e = *s++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && isxdigit((unsigned char)*s); i++, s++)
                    v = v * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
                c = v < 128 ? (char)v : '?';
                break;
            }
            case '\0': free(out); return NULL;
            default: c = e;
            }
        }
        out[n++] = c;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    ps->p = s + 1;
    return out;
}

/* Skip a balanced [...] (strings inside respected); returns its text. */
static char *parse_array_raw(parser *ps)
{
    const char *start = ps->p;
    int depth = 0, in_str = 0;
    for (const char *s = ps->p; *s; s++) {
        if (in_str) {
            if (*s == '\\' && s[1]) s++;
            else if (*s == '"') in_str = 0;
            continue;
        }
        if (*s == '"') in_str = 1;
        else if (*s == '[' || *s == '{') depth++;
        else if (*s == ']' || *s == '}') {
            if (--depth == 0) {
                size_t len = (size_t)(s + 1 - start);
                char *out = malloc(len + 1);
                if (!out)
                    return NULL;
                memcpy(out, start, len);
                out[len] = '\0';
                ps->p = s + 1;
                return out;
            }
        }
    }
    return NULL;
}

static int parse_object(parser *ps, const char *prefix)
{
    skip_ws(ps);
    if (*ps->p != '{')
        return -1;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        char *key = parse_string(ps);
        if (!key)
            return -1;
        skip_ws(ps);
        if (*ps->p != ':') {
            free(key);
            return -1;
        }
        ps->p++;
        skip_ws(ps);
        int rc = 0;
        char c = *ps->p;
        if (c == '{') {
            char sub[64];
            snprintf(sub, sizeof sub, "%s%s%s", prefix, *prefix ? "." : "", key);
            rc = parse_object(ps, sub);
        } else {
            jfield *f = add(ps, prefix, key);
            if (!f) {
                rc = -1;
            } else if (c == '"') {
                f->type = JV_STR;
                rc = (f->str = parse_string(ps)) ? 0 : -1;
            } else if (c == '[') {
                f->type = JV_RAW;
                rc = (f->str = parse_array_raw(ps)) ? 0 : -1;
            } else if (!strncmp(ps->p, "null", 4)) {
                f->type = JV_NULL;
                ps->p += 4;
            } else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
                f->type = JV_NUM;
                f->num = c == 't';
                ps->p += c == 't' ? 4 : 5;
            } else {
                char *end;
                f->num = strtod(ps->p, &end);
                f->type = JV_NUM;
                rc = end == ps->p ? -1 : 0;
                ps->p = end;
            }
        }
        free(key);
        if (rc != 0)
            return -1;
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            return 0;
        }
        return -1;
    }
}

int json_parse(const char *s, jobj *o)
{
    memset(o, 0, sizeof *o);
    const char *line = s;
    while (line && *line) {                 /* the first line that starts with '{' */
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '{')
            break;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!line || *line != '{')
        return -1;
    parser ps = { line, o };
    if (parse_object(&ps, "") != 0) {
        json_free(o);
        return -1;
    }
    return 0;
}

void json_free(jobj *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->f[i].str);
    free(o->f);
    memset(o, 0, sizeof *o);
}

const jfield *json_get(const jobj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->f[i].key, key))
            return &o->f[i];
    return NULL;
}

double json_num(const jobj *o, const char *key)
{
    const jfield *f = json_get(o, key);
    return f && f->type == JV_NUM ? f->num : NAN;
}

const char *json_str(const jobj *o, const char *key)
{
    const jfield *f = json_get(o, key);
    return f && (f->type == JV_STR || f->type == JV_RAW) ? f->str : "";
}

void json_write_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void json_write_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

const char *fmt_si(double v, char *b, size_t n)
{
    if (!isfinite(v)) {
        snprintf(b, n, "-");
        return b;
    }
    static const char *const units[] = { "", "k", "M", "G", "T" };
    int u = 0;
    double a = fabs(v);
    while (a >= 1000 && u < 4) {
        a /= 1000;
        v /= 1000;
        u++;
    }
    snprintf(b, n, a >= 100 ? "%.0f%s" : a >= 10 ? "%.1f%s" : "%.2f%s", v, units[u]);
    return b;
}
