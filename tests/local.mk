# tests/: unit tests, one file per concept, linked into one TAP program per
# variant (tests/unit-<variant>); each case runs in its own forked child.
UNIT_TEST_SOURCES += tests/harness.h tests/harness.c \
	tests/test_refcount.c tests/test_immortal.c tests/test_brc.c \
	tests/test_threads.c tests/test_errors.c tests/test_init.c \
	tests/test_int_float.c tests/test_str.c tests/test_tuple.c \
	tests/test_list.c tests/test_dict.c tests/test_class.c \
	tests/test_dealloc.c tests/test_shared.c tests/test_lock.c

check_PROGRAMS += tests/unit-gil tests/unit-atomic tests/unit-brc tests/unit-unsafe
TESTS += tests/unit-gil tests/unit-atomic tests/unit-brc tests/unit-unsafe
tests_unit_gil_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_gil_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
tests_unit_gil_LDADD = libgilrt-gil.la $(GRT_LIBS)
tests_unit_atomic_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_atomic_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
tests_unit_atomic_LDADD = libgilrt-atomic.la $(GRT_LIBS)
tests_unit_brc_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_brc_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
tests_unit_brc_LDADD = libgilrt-brc.la $(GRT_LIBS)
tests_unit_unsafe_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_unsafe_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_UNSAFE=1
tests_unit_unsafe_LDADD = libgilrt-unsafe.la $(GRT_LIBS)

if ENABLE_TSAN
# The same tests under ThreadSanitizer (every multi-threaded case included).
check_PROGRAMS += tests/unit-gil-tsan tests/unit-atomic-tsan tests/unit-brc-tsan
TESTS += tests/unit-gil-tsan tests/unit-atomic-tsan tests/unit-brc-tsan
tests_unit_gil_tsan_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_gil_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_GIL=1
tests_unit_gil_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
tests_unit_gil_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
tests_unit_gil_tsan_LDADD = libgilrt-gil-tsan.la $(GRT_LIBS)
tests_unit_atomic_tsan_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_atomic_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_ATOMIC=1
tests_unit_atomic_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
tests_unit_atomic_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
tests_unit_atomic_tsan_LDADD = libgilrt-atomic-tsan.la $(GRT_LIBS)
tests_unit_brc_tsan_SOURCES = $(UNIT_TEST_SOURCES)
tests_unit_brc_tsan_CPPFLAGS = $(GRT_CPPFLAGS) -DGRT_VARIANT_BRC=1
tests_unit_brc_tsan_CFLAGS = $(AM_CFLAGS) $(TSAN_COMPILE_FLAGS)
tests_unit_brc_tsan_LDFLAGS = $(TSAN_LINK_FLAGS)
tests_unit_brc_tsan_LDADD = libgilrt-brc-tsan.la $(GRT_LIBS)
endif
