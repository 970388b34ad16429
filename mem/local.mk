# mem/: the object allocator (obmalloc with per-thread heaps, tracing, debug).
GRT_CORE_SOURCES += mem/mem_internal.h mem/obmalloc.h mem/backend.h \
	mem/mem.c mem/obmalloc.c mem/arena.c mem/trace.c mem/snapshot.c mem/debug.c \
	mem/stats.c mem/check.c mem/mimalloc.c mem/fault.h mem/fault.c
# Unit tests (tests/unit-<variant>): one file per concept.
UNIT_TEST_SOURCES += tests/test_mem.c tests/test_mem_threads.c tests/test_mem_debug.c \
	tests/test_mem_trace.c tests/test_mem_fail.c

# bench/alloc.c: the allocator benchmark (not a test), one program per variant:
# bench/alloc-<variant> [--runs N] [--ops N] [--quick].
noinst_PROGRAMS += bench/alloc-gil bench/alloc-atomic bench/alloc-brc bench/alloc-unsafe
bench_alloc_gil_SOURCES = bench/alloc.c
bench_alloc_gil_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_GIL=1
bench_alloc_gil_LDADD = libgilrt-gil.la $(CK_LIBS)
bench_alloc_atomic_SOURCES = bench/alloc.c
bench_alloc_atomic_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
bench_alloc_atomic_LDADD = libgilrt-atomic.la $(CK_LIBS)
bench_alloc_brc_SOURCES = bench/alloc.c
bench_alloc_brc_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_BRC=1
bench_alloc_brc_LDADD = libgilrt-brc.la $(CK_LIBS)
bench_alloc_unsafe_SOURCES = bench/alloc.c
bench_alloc_unsafe_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
bench_alloc_unsafe_LDADD = libgilrt-unsafe.la $(CK_LIBS)
