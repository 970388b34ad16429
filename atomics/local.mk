# atomics/: the ck_pr wrapper and the refcount strategies (headers are public,
# see gilrtinclude_HEADERS); brc.c is biased refcounting's slow path.
GRT_CORE_SOURCES += atomics/brc.c
