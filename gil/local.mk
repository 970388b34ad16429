# gil/: the GIL ops interface and one file per policy.
GRT_CORE_SOURCES += gil/gil_internal.h gil/gil.c
