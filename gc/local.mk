# gc/: the cycle collector, weak references, finalizers.
GRT_CORE_SOURCES += gc/gc_internal.h gc/gc.c
