/*
 * gilrt/gc.h — the cycle collector (gc/).
 */
#ifndef GILRT_GC_H
#define GILRT_GC_H

#include <stdint.h>
#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the collector tracks o. */
int grt_gc_is_tracked(grt_object *o);

#ifdef __cplusplus
}
#endif
#endif
