# stress/: what the GIL prevents shown on unsafe (race), the stress program
# under ThreadSanitizer, fault injection, bad input, fuzzing.
#
# Programs, one per variant (the same source built with each variant's flags):
#   stress/race-<v>         race demonstrations (`gilrt demo race` runs them)
#   stress/race-<v>-tsan    the same under TSan (unsafe: TSan must report)
#   stress/stress-<v>       the stress program (`make stress` runs the long runs)
#   stress/stress-<v>-tsan  the same under TSan, short runs in make check
#   stress/fault-<v>-asan   the fault-injection sweep (ASan/LSan), gil, atomic and brc
#   stress/fuzz/fuzz-<v>    the libFuzzer harness (clang), brc and atomic
# and stress/test_badinput.c in the unit tests.  See stress/README.md.

# Bad input on every public function: unit tests, run on every variant and
# under TSan like the others.
UNIT_TEST_SOURCES += stress/test_badinput.c

STRESS_UTIL_SOURCES = stress/stress_util.h stress/stress_util.c
RACE_SOURCES = stress/race.h stress/race.c stress/race_collector.c $(STRESS_UTIL_SOURCES)

noinst_PROGRAMS += stress/race-gil stress/race-atomic stress/race-brc stress/race-unsafe
stress_race_gil_SOURCES = $(RACE_SOURCES)
stress_race_gil_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_race_gil_LDADD = libgilrt-gil.la $(GRT_LIBS)
stress_race_atomic_SOURCES = $(RACE_SOURCES)
stress_race_atomic_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_race_atomic_LDADD = libgilrt-atomic.la $(GRT_LIBS)
stress_race_brc_SOURCES = $(RACE_SOURCES)
stress_race_brc_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_race_brc_LDADD = libgilrt-brc.la $(GRT_LIBS)
stress_race_unsafe_SOURCES = $(RACE_SOURCES)
stress_race_unsafe_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
stress_race_unsafe_LDADD = libgilrt-unsafe.la $(GRT_LIBS)

if ENABLE_TSAN
check_PROGRAMS += stress/race-gil-tsan stress/race-atomic-tsan stress/race-brc-tsan \
	stress/race-unsafe-tsan
stress_race_gil_tsan_SOURCES = $(RACE_SOURCES)
stress_race_gil_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_race_gil_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_race_gil_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_race_gil_tsan_LDADD = libgilrt-gil-tsan.la $(GRT_LIBS)
stress_race_atomic_tsan_SOURCES = $(RACE_SOURCES)
stress_race_atomic_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_race_atomic_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_race_atomic_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_race_atomic_tsan_LDADD = libgilrt-atomic-tsan.la $(GRT_LIBS)
stress_race_brc_tsan_SOURCES = $(RACE_SOURCES)
stress_race_brc_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_race_brc_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_race_brc_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_race_brc_tsan_LDADD = libgilrt-brc-tsan.la $(GRT_LIBS)
stress_race_unsafe_tsan_SOURCES = $(RACE_SOURCES)
stress_race_unsafe_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
stress_race_unsafe_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_race_unsafe_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_race_unsafe_tsan_LDADD = libgilrt-unsafe-tsan.la $(GRT_LIBS)
endif

STRESS_SOURCES = stress/stress.h stress/stress.c stress/stress_ops.c stress/stress_check.c \
	$(STRESS_UTIL_SOURCES)
noinst_PROGRAMS += stress/stress-gil stress/stress-atomic stress/stress-brc stress/stress-unsafe
stress_stress_gil_SOURCES = $(STRESS_SOURCES)
stress_stress_gil_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_stress_gil_LDADD = libgilrt-gil.la $(GRT_LIBS)
stress_stress_atomic_SOURCES = $(STRESS_SOURCES)
stress_stress_atomic_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_stress_atomic_LDADD = libgilrt-atomic.la $(GRT_LIBS)
stress_stress_brc_SOURCES = $(STRESS_SOURCES)
stress_stress_brc_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_stress_brc_LDADD = libgilrt-brc.la $(GRT_LIBS)
stress_stress_unsafe_SOURCES = $(STRESS_SOURCES)
stress_stress_unsafe_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
stress_stress_unsafe_LDADD = libgilrt-unsafe.la $(GRT_LIBS)

if ENABLE_TSAN
check_PROGRAMS += stress/stress-gil-tsan stress/stress-atomic-tsan stress/stress-brc-tsan
stress_stress_gil_tsan_SOURCES = $(STRESS_SOURCES)
stress_stress_gil_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_stress_gil_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_stress_gil_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_stress_gil_tsan_LDADD = libgilrt-gil-tsan.la $(GRT_LIBS)
stress_stress_atomic_tsan_SOURCES = $(STRESS_SOURCES)
stress_stress_atomic_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_stress_atomic_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_stress_atomic_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_stress_atomic_tsan_LDADD = libgilrt-atomic-tsan.la $(GRT_LIBS)
stress_stress_brc_tsan_SOURCES = $(STRESS_SOURCES)
stress_stress_brc_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_stress_brc_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
stress_stress_brc_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
stress_stress_brc_tsan_LDADD = libgilrt-brc-tsan.la $(GRT_LIBS)
endif

# make stress: the long runs (minutes each) under the debug allocator and
# under TSan.  `make stress STRESS_LONG_ARGS="--long --seed S"` replays one.
.PHONY: stress
STRESS_LONG_ARGS = --long
STRESS_LONG_RUNS = stress/stress-gil stress/stress-atomic stress/stress-brc
if ENABLE_TSAN
STRESS_LONG_RUNS += stress/stress-gil-tsan stress/stress-atomic-tsan stress/stress-brc-tsan
endif
stress: $(STRESS_LONG_RUNS)
	@set -e; for p in $(STRESS_LONG_RUNS); do \
	  echo "== $$p $(STRESS_LONG_ARGS)"; \
	  case $$p in \
	  *-tsan) TSAN_OPTIONS='halt_on_error=1 abort_on_error=1' ./$$p --seconds 240 $(STRESS_LONG_ARGS);; \
	  *) GRT_MALLOC=debug ./$$p $(STRESS_LONG_ARGS);; \
	  esac; \
	done; echo "make stress: every long run passed"

# Fault injection under AddressSanitizer/LeakSanitizer: a static ASan build
# of the library per variant (check only); the sweep arms the allocator's own
# injection API (grt_mem_fail_at / grt_mem_fail_every, mem/fault.c).
# configure's ENABLE_ASAN says whether $(CC) can build with ASan; without it
# nothing here is built and stress/fault-tests.sh skips, saying why.
ASAN_COMPILE_FLAGS = -fsanitize=address -fno-omit-frame-pointer -g -O1
FAULT_SOURCES = stress/fault.c $(STRESS_UTIL_SOURCES)
if ENABLE_ASAN
check_LTLIBRARIES += stress/libgilrt-gil-asan.la stress/libgilrt-atomic-asan.la \
	stress/libgilrt-brc-asan.la
stress_libgilrt_gil_asan_la_SOURCES = $(GRT_CORE_SOURCES)
stress_libgilrt_gil_asan_la_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_libgilrt_gil_asan_la_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
stress_libgilrt_atomic_asan_la_SOURCES = $(GRT_CORE_SOURCES)
stress_libgilrt_atomic_asan_la_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_libgilrt_atomic_asan_la_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
stress_libgilrt_brc_asan_la_SOURCES = $(GRT_CORE_SOURCES)
stress_libgilrt_brc_asan_la_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_libgilrt_brc_asan_la_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
check_PROGRAMS += stress/fault-gil-asan stress/fault-atomic-asan stress/fault-brc-asan
stress_fault_gil_asan_SOURCES = $(FAULT_SOURCES)
stress_fault_gil_asan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
stress_fault_gil_asan_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
stress_fault_gil_asan_LDFLAGS = -fsanitize=address
stress_fault_gil_asan_LDADD = stress/libgilrt-gil-asan.la $(GRT_LIBS)
stress_fault_atomic_asan_SOURCES = $(FAULT_SOURCES)
stress_fault_atomic_asan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
stress_fault_atomic_asan_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
stress_fault_atomic_asan_LDFLAGS = -fsanitize=address
stress_fault_atomic_asan_LDADD = stress/libgilrt-atomic-asan.la $(GRT_LIBS)
stress_fault_brc_asan_SOURCES = $(FAULT_SOURCES)
stress_fault_brc_asan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
stress_fault_brc_asan_CFLAGS = $(AM_CFLAGS) $(ASAN_COMPILE_FLAGS)
stress_fault_brc_asan_LDFLAGS = -fsanitize=address
stress_fault_brc_asan_LDADD = stress/libgilrt-brc-asan.la $(GRT_LIBS)
endif

# The libFuzzer harness (clang -fsanitize=fuzzer,address), built from the core
# sources in one clang invocation per variant: brc, the build with the most
# ways for two threads to interact, and atomic.  configure finds clang
# (CLANG=... picks another) and checks that it links libFuzzer
# (HAVE_LIBFUZZER); without it stress/fuzz-tests.sh skips, saying why.
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address -pthread -DGRT_BUILD_CORE=1 \
	-I$(top_builddir) -I$(top_srcdir)/include -I$(top_srcdir)/atomics \
	-I$(top_srcdir)/runtime $(CK_CFLAGS)
FUZZ_BUILD = srcs=; for f in $(GRT_CORE_SOURCES) stress/fuzz/fuzz.c; do \
	  case $$f in *.c) srcs="$$srcs $(srcdir)/$$f";; esac; done; \
	$(CLANG) $(FUZZ_CFLAGS)
# The rules below track no dependencies of their own: every source and header
# the harness compiles is a prerequisite (the public headers hold the inline
# refcount code).
FUZZ_DEPS = $(GRT_CORE_SOURCES) $(include_HEADERS) $(gilrtinclude_HEADERS) \
	stress/fuzz/fuzz.c config.h
if HAVE_LIBFUZZER
stress/fuzz/fuzz-brc: $(FUZZ_DEPS)
	@mkdir -p stress/fuzz
	$(AM_V_GEN)$(FUZZ_BUILD) -DGRT_VARIANT_BRC=1 -o $@ $$srcs $(GRT_LIBS)
stress/fuzz/fuzz-atomic: $(FUZZ_DEPS)
	@mkdir -p stress/fuzz
	$(AM_V_GEN)$(FUZZ_BUILD) -DGRT_VARIANT_ATOMIC=1 -o $@ $$srcs $(GRT_LIBS)
check_SCRIPTS += stress/fuzz/fuzz-brc stress/fuzz/fuzz-atomic
endif
CLEANFILES += stress/fuzz/fuzz-brc stress/fuzz/fuzz-atomic
EXTRA_DIST += stress/fuzz/fuzz.c stress/fuzz/corpus

# What configure found, for the test scripts: an empty *_skip means the tool
# is there; otherwise it says why not and what to install.
stress/tools.sh: Makefile
	@mkdir -p stress
	$(AM_V_GEN){ echo "asan_skip='$(GRT_ASAN_SKIP)'"; echo "fuzz_skip='$(GRT_FUZZ_SKIP)'"; } >$@
check_SCRIPTS += stress/tools.sh
CLEANFILES += stress/tools.sh

# The tests: TAP scripts that run the programs above from the build tree.
EXTRA_DIST += stress/README.md stress/tap.sh stress/race-tests.sh stress/stress-tests.sh \
	stress/fault-tests.sh stress/fuzz-tests.sh
TESTS += stress/race-tests.sh stress/stress-tests.sh stress/fault-tests.sh stress/fuzz-tests.sh
