/*
 * tools/gilrt.c — the `gilrt` command: what users run to see what the GIL
 * costs, what removing it costs, and what each alternative buys.
 *
 *   gilrt compare [options]    every workload on every variant, side by side
 *   gilrt demo NAME [options]  race, mp, cow, convoy, slots, seeds
 *   gilrt list                 the variants found and the workloads
 *
 * The command itself is linked with no variant.  Each measurement runs in a
 * fresh process of the variant's runner, bench/gilrt-bench-<variant>, which
 * prints one JSON line: so one command compares four builds of the same
 * runtime, and a crash or hang of one run is reported, not inherited.
 *
 * The runners are found in $GRT_BENCH_DIR, else in ../bench beside this
 * program (a build tree), else in the installed pkglibexecdir.
 */
#define _GNU_SOURCE 1
#include "config.h"
#include "gilrt.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef GRT_PKGLIBEXECDIR
#  define GRT_PKGLIBEXECDIR "/usr/local/libexec/gilrt"
#endif

const char *const gilrt_all_variants[] = { "gil", "atomic", "brc", "unsafe", NULL };

static char exe_dir[PATH_MAX];

static int is_exec(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static void find_exe_dir(void)
{
    char p[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", p, sizeof p - 1);
    if (n <= 0) {
        snprintf(exe_dir, sizeof exe_dir, ".");
        return;
    }
    p[n] = '\0';
    char *slash = strrchr(p, '/');
    if (slash)
        *slash = '\0';
    snprintf(exe_dir, sizeof exe_dir, "%s", p);
}

const char *gilrt_bench_dir(void)
{
    static char dir[PATH_MAX + 16];
    if (dir[0])
        return dir;
    const char *env = getenv("GRT_BENCH_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/../bench/gilrt-bench-gil", exe_dir);
    if (is_exec(probe)) {
        snprintf(dir, sizeof dir, "%s/../bench", exe_dir);
        return dir;
    }
    snprintf(dir, sizeof dir, "%s", GRT_PKGLIBEXECDIR);
    return dir;
}

int gilrt_runner(const char *variant, char *buf, size_t n)
{
    snprintf(buf, n, "%s/gilrt-bench-%s", gilrt_bench_dir(), variant);
    return is_exec(buf);
}

int gilrt_sibling(const char *folder, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/../%s/%s", exe_dir, folder, name);
    if (is_exec(buf))
        return 1;
    snprintf(buf, n, "%s/%s", gilrt_bench_dir(), name);   /* installed beside the runners */
    return is_exec(buf);
}

double gilrt_loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

double gilrt_busy(void)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < 10; i++) {           /* half a second of samples */
        FILE *f = fopen("/proc/loadavg", "r");
        int running;
        if (f && fscanf(f, "%*f %*f %*f %d/", &running) == 1) {
            sum += running - 1;              /* minus this process, reading */
            n++;
        }
        if (f)
            fclose(f);
        struct timespec ts = { 0, 50000000 };
        nanosleep(&ts, NULL);
    }
    return n ? sum / n : -1;
}

int gilrt_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int gilrt_variant_known(const char *name, size_t len)
{
    for (int i = 0; gilrt_all_variants[i]; i++)
        if (strlen(gilrt_all_variants[i]) == len && !strncmp(name, gilrt_all_variants[i], len))
            return 1;
    return 0;
}

int gilrt_parse_int_list(const char *s, int *out, int max, const char *opt)
{
    int n = 0;
    const char *p = s;
    while (p && *p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 1 || a > 1024)
            goto bad;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b > 1024)
                goto bad;
        }
        for (long v = a; v <= b; v++) {
            if (n == max) {
                fprintf(stderr, "gilrt: %s: at most %d value%s, got '%s'\n", opt, max,
                        max == 1 ? "" : "s", s);
                return -1;
            }
            out[n++] = (int)v;
        }
        if (*end == ',')
            end++;
        else if (*end)
            goto bad;
        p = end;
    }
    if (n == 0)
        goto bad;
    return n;
bad:
    fprintf(stderr, "gilrt: %s: expected numbers 1..1024 like 1,2,4 or 1-4, got '%s'\n", opt, s ? s : "");
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: gilrt COMMAND [options]\n"
        "\n"
        "  compare   run every workload on every variant at 1..N threads (above 4 cores:\n"
        "            powers of two and N) and print a table\n"
        "            of throughput, ratio to the gil build at 1 thread, and scaling\n"
        "            (`gilrt compare --help` lists the options: --quick, --json, --csv, ...)\n"
        "  demo NAME one idea made visible, in plain words with its numbers:\n"
        "              race    the unsafe build loses refcount updates and list items;\n"
        "                      gil, atomic and brc lose none\n"
        "              mp      threads versus processes at 1..N for each build\n"
        "              cow     fork children over a 1,000,000-object heap: pages copied,\n"
        "                      without freeze, with freeze, with freeze + immortalize\n"
        "              convoy  I/O latency next to a CPU-bound thread, per GIL policy\n"
        "              slots   bytes per instance, dict-backed versus slots\n"
        "              seeds   refcounts and collections, step by step\n"
        "            (`gilrt demo NAME --help` for each one's options)\n"
        "  list      the variants found and the workloads\n"
        "\n"
        "The variants: gil (plain refcounts + GIL), atomic (atomic refcounts, GIL off),\n"
        "brc (biased refcounts, GIL off), unsafe (plain refcounts, no GIL: demos only).\n"
        "Runners are looked for in $GRT_BENCH_DIR, ../bench beside this program, then\n"
        "%s (now: %s).\n", GRT_PKGLIBEXECDIR, gilrt_bench_dir());
}

static int cmd_list(void)
{
    char path[PATH_MAX], any[PATH_MAX] = "";
    printf("variants (runners in %s):\n", gilrt_bench_dir());
    for (int i = 0; gilrt_all_variants[i]; i++) {
        int ok = gilrt_runner(gilrt_all_variants[i], path, sizeof path);
        printf("  %-8s %s\n", gilrt_all_variants[i], ok ? path : "(not built or not installed)");
        if (ok && !any[0])
            snprintf(any, sizeof any, "%s", path);
    }
    if (!any[0])
        return 1;
    printf("workloads (name, one op, what it measures):\n");
    char *argv[] = { any, "list", NULL };
    spawn_result r;
    if (spawn_run(argv, 30, 0, &r) != 0)
        return 1;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        char *op = strchr(line, '\t'), *sum = op ? strchr(op + 1, '\t') : NULL;
        if (!sum)
            continue;
        *op++ = '\0';
        *sum++ = '\0';
        printf("  %-13s %s\n  %-13s   op: %s\n", line, sum, "", op);
    }
    spawn_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    find_exe_dir();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "compare"))
        return gilrt_compare(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo"))
        return gilrt_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "list"))
        return cmd_list();
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "gilrt: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
