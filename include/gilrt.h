/*
 * gilrt.h — the whole public API of gilrt.
 *
 * Compile with the flags of the variant you link against:
 *   cc prog.c $(pkg-config --cflags --libs gilrt-brc)
 * which defines GRT_VARIANT_BRC; the object header and the inline refcount
 * operations depend on it, and grt_init refuses a library of another variant.
 */
#ifndef GILRT_H
#define GILRT_H

#include "gilrt/object.h"
#include "gilrt/error.h"
#include "gilrt/runtime.h"
#include "gilrt/types.h"
#include "gilrt/gc.h"
#include "gilrt/gil.h"
#include "gilrt/mem.h"

#endif
