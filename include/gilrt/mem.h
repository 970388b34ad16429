/*
 * gilrt/mem.h — the object allocator (mem/).
 */
#ifndef GILRT_MEM_H
#define GILRT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The allocator in use: "obmalloc", "malloc", "debug", "mimalloc". */
const char *grt_mem_allocator(void);

#ifdef __cplusplus
}
#endif
#endif
