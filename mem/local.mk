# mem/: the object allocator.
GRT_CORE_SOURCES += mem/mem_internal.h mem/mem.c
