/*
 * gilrt/gil.h — the global interpreter lock (gil/).
 */
#ifndef GILRT_GIL_H
#define GILRT_GIL_H

#ifdef __cplusplus
extern "C" {
#endif

/* The active policy's name ("classic", "off", ...). */
const char *grt_gil_policy(void);
/* 1 if a GIL is active. */
int grt_gil_enabled(void);

#ifdef __cplusplus
}
#endif
#endif
