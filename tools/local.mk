# tools/: the `gilrt` command (compare, demo, list).  It is linked with no
# variant: it runs bench/gilrt-bench-<variant> (bench/local.mk) as processes
# and finds them beside itself in the build tree or in $(pkglibexecdir).
bin_PROGRAMS += tools/gilrt
tools_gilrt_SOURCES = tools/gilrt.h tools/compare.h tools/demo.h tools/gilrt.c tools/compare.c \
	tools/report.c tools/demo.c tools/demo_race.c tools/spawn.c tools/jsonl.c
tools_gilrt_CPPFLAGS = -I$(top_builddir) -DGRT_PKGLIBEXECDIR='"$(pkglibexecdir)"'
tools_gilrt_LDADD = -lm

# `gilrt compare --quick --json`: the JSON's shape, and a number for every
# variant and workload (not the numbers' values).  POSIX sh, no python.
TESTS += tests/compare_json.sh
EXTRA_DIST += tests/compare_json.sh
# Bad command lines of gilrt, the runners and the bench programs: exit 2 and
# a message naming what was wrong, before any work.
TESTS += tests/cli_badinput.sh
EXTRA_DIST += tests/cli_badinput.sh
