# bench/: the workloads and the benchmark runner, one per variant
# (bench/gilrt-bench-<variant>), which `gilrt compare` and `gilrt demo` (tools/)
# run as processes.  The runners of the installed variants go to
# $(pkglibexecdir), where an installed `gilrt` finds them; unsafe's is built
# in the tree only.
#
# Each runner links its variant's library objects into the executable (the
# objects libtool already built for the shared library: nothing is compiled
# twice), as CPython's python3 links libpython.  Through the shared library,
# every grt_safepoint() goes through the PLT and a GOT-indirect TLS load:
# measured, that costs about 25% in the reference-counting loops and made gil
# look slower than unsafe (whose convenience library is always linked in).
GRT_BENCH_SOURCES = bench/bench.h bench/args.h bench/runner.c bench/measure.c bench/json.c \
	bench/workloads.c bench/workloads_gc.c bench/demos.c bench/demo_seeds.c

pkglibexec_PROGRAMS += bench/gilrt-bench-gil bench/gilrt-bench-atomic bench/gilrt-bench-brc
noinst_PROGRAMS += bench/gilrt-bench-unsafe

bench_gilrt_bench_gil_SOURCES = $(GRT_BENCH_SOURCES)
bench_gilrt_bench_gil_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_GIL=1
bench_gilrt_bench_gil_LDADD = $(libgilrt_gil_la_OBJECTS) $(GRT_LIBS)
bench_gilrt_bench_atomic_SOURCES = $(GRT_BENCH_SOURCES)
bench_gilrt_bench_atomic_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
bench_gilrt_bench_atomic_LDADD = $(libgilrt_atomic_la_OBJECTS) $(GRT_LIBS)
bench_gilrt_bench_brc_SOURCES = $(GRT_BENCH_SOURCES)
bench_gilrt_bench_brc_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_BRC=1
bench_gilrt_bench_brc_LDADD = $(libgilrt_brc_la_OBJECTS) $(GRT_LIBS)
bench_gilrt_bench_unsafe_SOURCES = $(GRT_BENCH_SOURCES)
bench_gilrt_bench_unsafe_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
bench_gilrt_bench_unsafe_LDADD = libgilrt-unsafe.la $(GRT_LIBS)
