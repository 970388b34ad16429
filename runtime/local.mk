# runtime/: object core, types, threads, safepoints, stop-the-world, errors.
GRT_CORE_SOURCES += runtime/internal.h runtime/types_internal.h runtime/lock.h runtime/lock.c \
	runtime/error.c runtime/init.c runtime/tstate.c runtime/stw.c \
	runtime/object.c runtime/singletons.c runtime/int.c runtime/float.c \
	runtime/str.c runtime/tuple.c runtime/list.c runtime/dict.c runtime/class.c
