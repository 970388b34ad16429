/*
 * gilrt/error.h — the thread-local error indicator.
 *
 * Functions that fail return NULL (pointer results) or -1 (int results) and
 * set this thread's error: a kind and a message that names what was wrong.
 * The error stays set until cleared or overwritten.  Misuse that cannot be
 * reported this way is fatal: a message on stderr, then abort().  That covers
 * a decref below zero, and creating an object, collecting, or any gc call
 * from a thread that is not attached.  Other calls from an unattached thread
 * (reading or changing a container, incref/decref) are not checked, as
 * CPython does not check calls made without the GIL: such a call races with
 * the attached threads and with the collector, which does not wait for it.
 */
#ifndef GILRT_ERROR_H
#define GILRT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum grt_err_kind {
    GRT_ERR_NONE = 0,
    GRT_ERR_TYPE,          /* wrong type passed, unhashable key */
    GRT_ERR_VALUE,         /* bad value: unknown configuration name, bad threshold */
    GRT_ERR_INDEX,         /* index out of range */
    GRT_ERR_KEY,           /* key not in dict */
    GRT_ERR_ATTRIBUTE,     /* unknown or undeclared attribute */
    GRT_ERR_MEMORY,        /* allocation failed */
    GRT_ERR_OVERFLOW,      /* size would overflow */
    GRT_ERR_RUNTIME,       /* runtime state does not allow this call */
    GRT_ERR_STATE,         /* API misuse: not initialised, wrong thread state */
} grt_err_kind;

/* The current error kind, GRT_ERR_NONE if none is set. */
grt_err_kind grt_err_occurred(void);
/* The current message ("" if none); valid until the next error call. */
const char *grt_err_message(void);
/* A printable name for a kind: "TypeError", "IndexError", ... */
const char *grt_err_kind_name(grt_err_kind k);
void grt_err_clear(void);
/* Set the error (replacing any); returns NULL so callers can `return grt_err_set(...)`. */
void *grt_err_set(grt_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "Kind: message" to stderr and clear it. */
void grt_err_print(void);

#ifdef __cplusplus
}
#endif
#endif
