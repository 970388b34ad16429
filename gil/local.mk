# gil/: the GIL ops interface and one file per policy.
GRT_CORE_SOURCES += gil/gil_internal.h gil/gil_policy.h gil/gil.c gil/stats.c \
	gil/classic.c gil/fifo.c gil/io.c gil/legacy.c gil/off.c
UNIT_TEST_SOURCES += tests/test_gil.h tests/test_gil.c tests/test_gil_api.c tests/test_gil_user.c

# The convoy experiment (bench/convoy.c), one program per variant; `gilrt demo
# convoy` runs it.  A benchmark, not a test: not part of make check.
noinst_PROGRAMS += bench/convoy-gil bench/convoy-atomic bench/convoy-brc
bench_convoy_gil_SOURCES = bench/convoy.c
bench_convoy_gil_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_GIL=1
bench_convoy_gil_LDADD = libgilrt-gil.la $(GRT_LIBS)
bench_convoy_atomic_SOURCES = bench/convoy.c
bench_convoy_atomic_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
bench_convoy_atomic_LDADD = libgilrt-atomic.la $(GRT_LIBS)
bench_convoy_brc_SOURCES = bench/convoy.c
bench_convoy_brc_CPPFLAGS = $(GRT_USER_CPPFLAGS) -DGRT_VARIANT_BRC=1
bench_convoy_brc_LDADD = libgilrt-brc.la $(GRT_LIBS)
