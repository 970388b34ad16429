/*
 * mem/snapshot.c — what tracing's snapshots offer: sites sorted by size, the
 * diff of two snapshots sorted by growth (the leak hunt: what grew between
 * two points of a program), printing, and symbolizing frames with dladdr.
 * A snapshot is a plain copy, independent of the tracer once taken
 * (grt_mem_snapshot_take, in mem/trace.c, fills it under the trace lock).
 */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1      /* dladdr, Dl_info */
#endif
#include "backend.h"
#include <dlfcn.h>
#include <inttypes.h>

grt_mem_snapshot *_grt_snapshot_alloc(size_t nsites, size_t nframes)
{
    grt_mem_snapshot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->sites = calloc(nsites ? nsites : 1, sizeof *s->sites);
    s->frames = calloc(nframes ? nframes : 1, sizeof *s->frames);
    if (!s->sites || !s->frames) {
        grt_mem_snapshot_free(s);
        return NULL;
    }
    return s;
}

static int site_cmp_size(const void *a, const void *b)
{
    const grt_mem_site *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return 0;
}

void _grt_snapshot_sort_by_size(grt_mem_snapshot *s)
{
    qsort(s->sites, s->n, sizeof *s->sites, site_cmp_size);
}

void grt_mem_snapshot_free(grt_mem_snapshot *s)
{
    if (!s) return;
    free(s->sites);
    free(s->frames);
    free(s);
}

size_t grt_mem_snapshot_len(const grt_mem_snapshot *s) { return s ? s->n : 0; }

const grt_mem_site *grt_mem_snapshot_site(const grt_mem_snapshot *s, size_t i)
{
    if (!s || i >= s->n)
        return grt_err_set(GRT_ERR_INDEX, "grt_mem_snapshot_site: index %zu out of range (%zu sites)",
                           i, s ? s->n : 0);
    return &s->sites[i];
}

size_t grt_mem_snapshot_total(const grt_mem_snapshot *s, size_t *count)
{
    if (count) *count = s ? s->total_count : 0;
    return s ? s->total_size : 0;
}

/* Order sites by their stacks, to match the two snapshots of a diff. */
static int site_cmp_frames(const void *a, const void *b)
{
    const grt_mem_site *x = *(const grt_mem_site *const *)a, *y = *(const grt_mem_site *const *)b;
    if (x->nframes != y->nframes) return x->nframes < y->nframes ? -1 : 1;
    for (int i = 0; i < x->nframes; i++)
        if (x->frames[i] != y->frames[i])
            return (uintptr_t)x->frames[i] < (uintptr_t)y->frames[i] ? -1 : 1;
    return 0;
}

static int site_cmp_growth(const void *a, const void *b)
{
    const grt_mem_site *x = a, *y = b;
    if (x->size_diff != y->size_diff) return x->size_diff > y->size_diff ? -1 : 1;
    if (x->count_diff != y->count_diff) return x->count_diff > y->count_diff ? -1 : 1;
    return site_cmp_size(a, b);
}

grt_mem_snapshot *grt_mem_snapshot_diff(const grt_mem_snapshot *new_snap,
                                        const grt_mem_snapshot *old_snap)
{
    if (!new_snap || !old_snap)
        return grt_err_set(GRT_ERR_TYPE, "grt_mem_snapshot_diff: argument '%s' is NULL",
                           new_snap ? "old_snap" : "new_snap");
    size_t nframes = 0;
    for (size_t i = 0; i < new_snap->n; i++) nframes += (size_t)new_snap->sites[i].nframes;
    for (size_t i = 0; i < old_snap->n; i++) nframes += (size_t)old_snap->sites[i].nframes;
    grt_mem_snapshot *d = _grt_snapshot_alloc(new_snap->n + old_snap->n, nframes);
    const grt_mem_site **old_sorted = malloc((old_snap->n ? old_snap->n : 1) * sizeof *old_sorted);
    bool *matched = calloc(old_snap->n ? old_snap->n : 1, sizeof *matched);
    if (!d || !old_sorted || !matched) {
        grt_mem_snapshot_free(d);
        free(old_sorted);
        free(matched);
        return grt_err_set(GRT_ERR_MEMORY, "grt_mem_snapshot_diff: out of memory");
    }
    for (size_t i = 0; i < old_snap->n; i++) old_sorted[i] = &old_snap->sites[i];
    qsort(old_sorted, old_snap->n, sizeof *old_sorted, site_cmp_frames);

    void **fp = d->frames;
    for (size_t i = 0; i < new_snap->n; i++) {
        const grt_mem_site *ns = &new_snap->sites[i], *key = ns;
        const grt_mem_site **hit = old_snap->n
            ? bsearch(&key, old_sorted, old_snap->n, sizeof *old_sorted, site_cmp_frames) : NULL;
        grt_mem_site s = *ns;
        s.size_diff = (int64_t)ns->size;
        s.count_diff = (int64_t)ns->count;
        if (hit) {
            s.size_diff -= (int64_t)(*hit)->size;
            s.count_diff -= (int64_t)(*hit)->count;
            matched[*hit - old_snap->sites] = true;
        }
        memcpy(fp, ns->frames, (size_t)ns->nframes * sizeof(void *));
        s.frames = fp;
        fp += ns->nframes;
        d->sites[d->n++] = s;
    }
    for (size_t i = 0; i < old_snap->n; i++) {
        if (matched[i]) continue;
        const grt_mem_site *os = &old_snap->sites[i];
        memcpy(fp, os->frames, (size_t)os->nframes * sizeof(void *));
        d->sites[d->n++] = (grt_mem_site){ fp, os->nframes, 0, 0,
                                           -(int64_t)os->size, -(int64_t)os->count };
        fp += os->nframes;
    }
    free(old_sorted);
    free(matched);
    d->total_size = new_snap->total_size;
    d->total_count = new_snap->total_count;
    qsort(d->sites, d->n, sizeof *d->sites, site_cmp_growth);
    return d;
}

char *grt_mem_frame_name(const void *pc, char *buf, size_t bufsize)
{
    Dl_info di;
    /* pc - 1: a return address may point just past the calling function. */
    if (dladdr((const char *)pc - 1, &di) && di.dli_fname) {
        const char *base = strrchr(di.dli_fname, '/');
        base = base ? base + 1 : di.dli_fname;
        if (di.dli_sname)
            snprintf(buf, bufsize, "%s+0x%tx (%s)", di.dli_sname,
                     (const char *)pc - (const char *)di.dli_saddr, base);
        else
            snprintf(buf, bufsize, "%s(+0x%tx)", base,
                     (const char *)pc - (const char *)di.dli_fbase);
    } else {
        snprintf(buf, bufsize, "%p", pc);
    }
    return buf;
}

void grt_mem_snapshot_dump(const grt_mem_snapshot *s, FILE *f, size_t limit)
{
    if (!s || !f) return;
    size_t n = limit && limit < s->n ? limit : s->n;
    char buf[512];
    fprintf(f, "%zu sites, %zu bytes in %zu blocks\n", s->n, s->total_size, s->total_count);
    for (size_t i = 0; i < n; i++) {
        const grt_mem_site *st = &s->sites[i];
        fprintf(f, "#%zu: %zu B in %zu blocks", i + 1, st->size, st->count);
        if (st->size_diff || st->count_diff)
            fprintf(f, " (%+" PRId64 " B, %+" PRId64 " blocks)", st->size_diff, st->count_diff);
        fputc('\n', f);
        for (int k = 0; k < st->nframes; k++)
            fprintf(f, "    at %s\n", grt_mem_frame_name(st->frames[k], buf, sizeof buf));
    }
}
