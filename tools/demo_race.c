/*
 * tools/demo_race.c — `gilrt demo race`: what the GIL prevents, shown.
 *
 * Runs the stress suite's race programs (stress/race-<variant>, one JSON line
 * each) on every build, or, when they are not built, the runners' own
 * refcount and list races (`gilrt-bench-<variant> demo race`), and puts the
 * results side by side.
 */
#define _GNU_SOURCE 1
#include "config.h"
#include "demo.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char race_usage[] =
    "usage: gilrt demo race [--variants LIST] [--threads N] [--ops N]\n"
    "  Threads take references to one shared object, append to one shared list, and\n"
    "  (with the stress suite) mutate containers while a collection runs, all at the\n"
    "  same time.  unsafe (no GIL, plain counts, unlocked lists, no stop-the-world)\n"
    "  loses updates and items, frees live objects or crashes; gil, atomic and brc lose\n"
    "  nothing.  Runs the stress suite's stress/race-<variant> when it is built (each\n"
    "  trial in its own process; on unsafe up to 10 trials until the race shows),\n"
    "  otherwise the runners' own refcount and list races.\n"
    "  --variants (default unsafe,gil,atomic,brc) --threads N --ops N (operations in all,\n"
    "  per trial; default: each program's own)\n";

typedef struct race_row {
    int ok;                 /* produced its JSON line */
    double trials, ops, lost, corrupted, premature, crashes;
    char why[400];
    char prog[96];
} race_row;

static void race_run(const char *variant, const char *kind, const demo_opts *o, race_row *row)
{
    char prog[PATH_MAX], name[64], runner[PATH_MAX];
    snprintf(name, sizeof name, "race-%.15s", variant);
    int stress = gilrt_sibling("stress", name, prog, sizeof prog);
    memset(row, 0, sizeof *row);
    if (!stress && !strcmp(kind, "collector")) {
        snprintf(row->why, sizeof row->why, "needs stress/race-%s (not built)", variant);
        return;
    }
    int unsafe = !strcmp(variant, "unsafe");
    char *args[16], ops[32];
    int n = 0;
    if (stress) {
        args[n++] = prog;
    } else {
        gilrt_runner(variant, runner, sizeof runner);
        args[n++] = runner;
        args[n++] = "demo";
        args[n++] = "race";
    }
    args[n++] = "--kind";
    args[n++] = (char *)kind;
    if (o->threads) {
        args[n++] = "--threads";
        args[n++] = (char *)o->threads;
    }
    if (o->ops) {
        snprintf(ops, sizeof ops, "%ld", o->ops);
        args[n++] = "--ops";
        args[n++] = ops;
    }
    if (stress) {
        args[n++] = "--expect";
        args[n++] = unsafe ? "race" : "clean";
        args[n++] = "--trials";
        args[n++] = unsafe ? "10" : "1";
    }
    args[n] = NULL;
    const char *slash = strrchr(args[0], '/');
    snprintf(row->prog, sizeof row->prog, "%s%s", slash ? slash + 1 : args[0], stress ? "" : " demo race");
    for (int tries = 0; tries < (stress ? 1 : 3); tries++) {
        spawn_result r;
        if (spawn_run(args, 900, 0, &r) != 0) {
            snprintf(row->why, sizeof row->why, "could not start %s", args[0]);
            return;
        }
        jobj j;
        /* --expect exits 1 when the expectation failed: the line still says what happened */
        if (r.exited && (r.code == 0 || (stress && r.code == 1)) && json_parse(r.out, &j) == 0) {
            row->ok = 1;
            row->trials = json_get(&j, "trials") ? json_num(&j, "trials") : 1;
            row->ops = json_num(&j, "ops");
            row->lost = json_num(&j, strcmp(kind, "list") ? "lost_updates" : "lost_items");
            row->corrupted = json_num(&j, "corrupted");
            row->premature = json_num(&j, "premature_frees");
            row->crashes = json_get(&j, "crashes") ? json_num(&j, "crashes") : 0;
            json_free(&j);
        } else if (!stress && !r.exited) {   /* the runner's own race crashed: a finding */
            row->ok = 1;
            row->trials = 1;
            row->ops = row->lost = row->corrupted = row->premature = NAN;
            row->crashes = 1;
            spawn_describe(&r, row->why, sizeof row->why);
        } else {
            spawn_describe(&r, row->why, sizeof row->why);
        }
        spawn_free(&r);
        if (!row->ok || !unsafe || row->lost > 0 || row->crashes > 0)
            break;                           /* on unsafe, retry until the race shows */
    }
}

static const char *cell_num(double v, char *b, size_t n)
{
    return isfinite(v) ? demo_commas(v, b, n) : (snprintf(b, n, "-"), b);
}

int demo_race(int argc, char **argv)
{
    demo_opts o = {0};
    int one;
    if (demo_parse(argc, argv, &o, DEMO_OPT_VARIANTS | DEMO_OPT_THREADS | DEMO_OPT_OPS,
                   race_usage) != 0 ||
        (o.threads && gilrt_parse_int_list(o.threads, &one, 1, "--threads") < 0))
        return 2;
    char vs[8][16];
    int nv = demo_pick_variants(o.variants, "unsafe,gil,atomic,brc", vs, 8);
    if (!nv)
        return 1;
    static const char *const kinds[] = { "refcount", "list", "collector" };
    static const char *const what[] = {
        "threads incref one shared object at once; the count must grow by exactly that much",
        "threads append to one shared list at once; every item must be there, once",
        "a collection runs while another thread moves live objects between containers",
    };
    printf("race: what the GIL prevents\n");
    int bad = 0;
    for (int k = 0; k < 3; k++) {
        printf("\n%s race: %s\n", kinds[k], what[k]);
        printf("  %-8s %6s %12s %-24s %10s %10s %8s  %s\n", "variant", "trials", "ops",
               k == 1 ? "lost items" : "lost updates", "corrupted", "early free", "crashes", "program");
        for (int i = 0; i < nv; i++) {
            race_row row;
            demo_status("gilrt demo race: %s on %s", kinds[k], vs[i]);
            race_run(vs[i], kinds[k], &o, &row);
            demo_status(NULL);
            if (!row.ok) {
                printf("  %-8s %s\n", vs[i], row.why);
                if (strcmp(kinds[k], "collector") != 0)
                    bad = 1;
                continue;
            }
            char a[32], b[32], c[32], d[32], e[32], lost[64];
            if (isfinite(row.lost) && row.lost > 0 && row.ops > 0)
                snprintf(lost, sizeof lost, "%s (%.2f%%)", cell_num(row.lost, a, sizeof a), 100 * row.lost / row.ops);
            else
                snprintf(lost, sizeof lost, "%s", cell_num(row.lost, a, sizeof a));
            printf("  %-8s %6.0f %12s %-24s %10s %10s %8s  %s%s%s\n", vs[i], row.trials,
                   cell_num(row.ops, b, sizeof b), lost, cell_num(row.corrupted, c, sizeof c),
                   cell_num(row.premature, d, sizeof d), cell_num(row.crashes, e, sizeof e), row.prog,
                   row.why[0] ? ": " : "", row.why);
            int harm = (isfinite(row.lost) && row.lost > 0) || row.crashes > 0 ||
                       (isfinite(row.corrupted) && row.corrupted > 0) ||
                       (isfinite(row.premature) && row.premature > 0);
            if (strcmp(vs[i], "unsafe") != 0 && harm)
                bad = 1;
        }
    }
    printf("\nunsafe updates a count with a plain load, add and store, appends without the\n"
           "list's lock and collects without stopping the other threads: two cores load\n"
           "the same count or write the same slot, so updates and items vanish, a count\n"
           "that drops too far frees an object still in use, and a resize racing an\n"
           "append can crash the process.  gil lets one thread run at a time; atomic makes\n"
           "every count update a locked instruction; brc counts the owner's references\n"
           "plainly and everyone else's atomically; atomic and brc lock each container and\n"
           "stop the world to collect.  They lose nothing.  (A race needs two threads on\n"
           "two cores at the same moment: on a busy machine unsafe may need several trials.)\n");
    return bad;
}
