# gc/: the cycle collector, weak references, finalizers, the gc module.
GRT_CORE_SOURCES += gc/gc_internal.h gc/gc_impl.h gc/space.c gc/collect.c \
	gc/generations.c gc/finalize.c gc/weakref.c gc/api.c gc/teardown.c \
	gc/invariants.c
UNIT_TEST_SOURCES += tests/test_gc.c tests/test_gc_final.c tests/test_weakref.c \
	tests/test_gc_threads.c tests/test_gc_bulk.c

# bench/gc-<variant>: the collector's costs (see bench/gc.c), a program per variant.
noinst_PROGRAMS += bench/gc-gil bench/gc-atomic bench/gc-brc bench/gc-unsafe
bench_gc_gil_SOURCES = bench/gc.c
bench_gc_gil_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_GIL=1
bench_gc_gil_LDADD = libgilrt-gil.la $(GRT_LIBS)
bench_gc_atomic_SOURCES = bench/gc.c
bench_gc_atomic_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
bench_gc_atomic_LDADD = libgilrt-atomic.la $(GRT_LIBS)
bench_gc_brc_SOURCES = bench/gc.c
bench_gc_brc_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_BRC=1
bench_gc_brc_LDADD = libgilrt-brc.la $(GRT_LIBS)
bench_gc_unsafe_SOURCES = bench/gc.c
bench_gc_unsafe_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
bench_gc_unsafe_LDADD = libgilrt-unsafe.la $(GRT_LIBS)
