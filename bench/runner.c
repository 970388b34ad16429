/*
 * bench/runner.c — gilrt-bench-<variant>: runs one workload (or one demo)
 * in this variant and prints one JSON line.  `gilrt compare` and `gilrt demo`
 * (tools/) drive it; it is also usable by hand:
 *
 *   gilrt-bench-brc run rc_private --threads 2 --seconds 0.5
 *   gilrt-bench-gil run mp_vs_mt --threads 2          (threads, then processes)
 *   gilrt-bench-atomic run rc_shared --gil classic    (a GIL turned on)
 *   gilrt-bench-gil list | info | demo NAME
 *
 * The measurement itself is bench/measure.c (its protocol is described in
 * bench/bench.h), the workloads bench/workloads*.c, the demos bench/demo*.c.
 * Exit status: 0, 1 for a failed run (the message names what failed), 2 for
 * bad usage.
 */
#include "bench.h"
#include "args.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- commands ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: gilrt-bench-%s COMMAND ...\n"
        "  run WORKLOAD [--threads N] [--seconds S] [--ops N] [--size N] [--gil POLICY]\n"
        "        run one workload in N threads (default 1) for S seconds (default 0.5)\n"
        "        or N ops per thread, print one JSON line; --gil picks the GIL policy\n"
        "        (classic, fifo, io, legacy, off...; default: the variant's)\n"
        "  list  the workloads, one per line: name, what one op is, summary\n"
        "  info  this build as JSON: variant, header size, GIL policies, allocator\n"
        "  demo NAME [options]   race, cow, slots, seeds (run `demo help`)\n"
        "This is the %s build; `gilrt compare` runs every build side by side.\n",
        GRT_VARIANT_NAME, GRT_VARIANT_NAME);
}

#define RUNNER "gilrt-bench-" GRT_VARIANT_NAME

static void init_runtime(const char *gil)
{
    grt_config cfg;
    if (grt_config_init(&cfg) != 0)
        bench_die_grt("grt_config_init");
    if (gil)
        cfg.gil = gil;
    if (grt_init(&cfg) != 0)
        bench_die_grt("grt_init");
}

static void print_line(const char *json)
{
    fputs(json, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static int cmd_run(int argc, char **argv)
{
    bench_params p = { .threads = 1, .seconds = 0.5 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (p.workload)
                bench_die("run: more than one workload given ('%s', '%s')", p.workload, a);
            p.workload = a;
            continue;
        }
        if (!strcmp(a, "--threads")) p.threads = (int)bench_arg_int(RUNNER, a, v, 1, BENCH_MAX_THREADS);
        else if (!strcmp(a, "--seconds")) p.seconds = bench_arg_positive(RUNNER, a, v, 3600);
        else if (!strcmp(a, "--ops")) p.ops = (uint64_t)bench_arg_int(RUNNER, a, v, 1, BENCH_MAX_OPS);
        else if (!strcmp(a, "--size")) p.size = bench_arg_int(RUNNER, a, v, 1, BENCH_MAX_OPS);
        else if (!strcmp(a, "--gil")) { if (!v) bench_die("--gil needs a policy name"); p.gil = v; }
        else bench_die("run: unknown option '%s' (see --help)", a);
        i++;
    }
    if (!p.workload)
        bench_die("run: which workload? (`gilrt-bench-%s list` shows them)", GRT_VARIANT_NAME);
    const bench_workload *w = bench_workload_find(p.workload);
    if (!w)
        bench_die("unknown workload '%s' (`gilrt-bench-%s list` shows them)", p.workload,
                  GRT_VARIANT_NAME);
    init_runtime(p.gil);
    bench_run r = { .p = &p, .w = w, .size = p.size ? p.size : w->default_size };
    r.threads = calloc((size_t)p.threads, sizeof *r.threads);
    if (!r.threads)
        bench_die("out of memory");
    if (w->setup && w->setup(&r) != 0)
        bench_die_grt(w->name);
    if (bench_measure(&r, 0) != 0)
        bench_die_grt(w->name);
    double secs = (double)r.elapsed_ns / 1e9;
    bench_json extra;
    bench_json_init(&extra);
    if (w->report)
        w->report(&r, &extra);
    uint64_t mt_ops = r.ops;
    double mt_secs = secs;
    bench_json_num(&extra, "ops_per_cpu_s", r.cpu_ns ? (double)r.ops / ((double)r.cpu_ns / 1e9) : NAN);
    /* CPU-seconds per second: at most 1 with a GIL, up to T without */
    bench_json_num(&extra, "parallelism", (double)r.cpu_ns / (double)r.elapsed_ns);
    if (w->flags & BENCH_PROCS) {
        if (bench_measure(&r, 1) != 0)
            bench_die_grt(w->name);
        double psecs = (double)r.elapsed_ns / 1e9;
        bench_json_num(&extra, "mp_ops_per_s", (double)r.ops / psecs);
        bench_json_num(&extra, "mp_seconds", psecs);
        bench_json_num(&extra, "mp_vs_mt", ((double)r.ops / psecs) / ((double)mt_ops / mt_secs));
    }
    if (w->teardown)
        w->teardown(&r);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "workload", w->name);
    bench_json_str(&j, "variant", grt_variant());
    bench_json_str(&j, "gil", grt_gil_policy());
    bench_json_str(&j, "allocator", grt_mem_allocator());
    bench_json_int(&j, "threads", p.threads);
    bench_json_int(&j, "size", r.size);
    bench_json_int(&j, "ops", (int64_t)mt_ops);
    bench_json_num(&j, "seconds", mt_secs);
    bench_json_num(&j, "ops_per_s", (double)mt_ops / mt_secs);
    bench_json_num(&j, "ns_per_op", mt_ops ? mt_secs * 1e9 * p.threads / (double)mt_ops : NAN);
    bench_json_raw(&j, "extra", bench_json_end(&extra));
    print_line(bench_json_end(&j));
    free(r.threads);
    if (grt_fini() != 0)
        bench_die_grt("grt_fini");
    return 0;
}

static int cmd_list(void)
{
    for (int i = 0; bench_workloads[i]; i++)
        printf("%s\t%s\t%s\n", bench_workloads[i]->name, bench_workloads[i]->op,
               bench_workloads[i]->summary);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    init_runtime(argc > 1 && !strcmp(argv[0], "--gil") ? argv[1] : NULL);
    char pol[512] = "[";
    for (int i = 0; grt_gil_policy_name(i); i++) {
        size_t l = strlen(pol);
        snprintf(pol + l, sizeof pol - l, "%s\"%s\"", i ? "," : "", grt_gil_policy_name(i));
    }
    strncat(pol, "]", sizeof pol - strlen(pol) - 1);
    bench_json j;
    bench_json_init(&j);
    bench_json_str(&j, "variant", grt_variant());
    bench_json_int(&j, "header_bytes", grt_object_header_size());
    bench_json_str(&j, "gil", grt_gil_policy());
    bench_json_raw(&j, "gil_policies", pol);
    bench_json_str(&j, "allocator", grt_mem_allocator());
    print_line(bench_json_end(&j));
    return grt_fini() == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "list"))
        return cmd_list();
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo"))
        return bench_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "gilrt-bench-%s: unknown command '%s'\n", GRT_VARIANT_NAME, cmd);
    usage(stderr);
    return 2;
}
