/*
 * runtime/error.c — the thread-local error indicator and fatal errors.
 *
 * The error lives in thread-local storage, not in the thread state, so that
 * a thread that is not (yet) attached can still read why grt_attach failed.
 */
#define GRT_BUILD_CORE 1
#include "internal.h"
#include <stdarg.h>

#define ERR_MSG_MAX 512

/* The kind is read on hot paths (grt_err_occurred after every deallocation
 * that may run a finalizer): initial-exec TLS, one %fs-relative load.  The
 * message stays in ordinary TLS: 512 bytes of initial-exec TLS would use up
 * the static TLS reserve that lets a program dlopen() the library. */
static __thread grt_err_kind err_kind GRT_TLS_IE;
static __thread char err_msg[ERR_MSG_MAX];

grt_err_kind grt_err_occurred(void) { return err_kind; }

const char *grt_err_message(void) { return err_kind ? err_msg : ""; }

void grt_err_clear(void)
{
    err_kind = GRT_ERR_NONE;
    err_msg[0] = '\0';
}

const char *grt_err_kind_name(grt_err_kind k)
{
    switch (k) {
    case GRT_ERR_NONE:      return "NoError";
    case GRT_ERR_TYPE:      return "TypeError";
    case GRT_ERR_VALUE:     return "ValueError";
    case GRT_ERR_INDEX:     return "IndexError";
    case GRT_ERR_KEY:       return "KeyError";
    case GRT_ERR_ATTRIBUTE: return "AttributeError";
    case GRT_ERR_MEMORY:    return "MemoryError";
    case GRT_ERR_OVERFLOW:  return "OverflowError";
    case GRT_ERR_RUNTIME:   return "RuntimeError";
    case GRT_ERR_STATE:     return "StateError";
    }
    return "UnknownError";
}

void *grt_err_set(grt_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    err_kind = kind;
    return NULL;
}

void grt_err_print(void)
{
    if (err_kind)
        fprintf(stderr, "%s: %s\n", grt_err_kind_name(err_kind), err_msg);
    grt_err_clear();
}

void _grt_fatal(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "gilrt fatal error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    abort();
}
