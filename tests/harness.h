/*
 * tests/harness.h — the unit-test harness.
 *
 * TEST(name) { ... } registers a case (no list to maintain).  The runner
 * (tests/harness.c) runs each case in its own forked child with the runtime
 * initialised and the child's thread attached, and prints TAP.  An assertion
 * that fails prints what it expected and what it got and ends the child: a
 * test stops at its first failure.
 *
 *   TEST(name)                 runs on every variant
 *   TEST_MT(name)              multi-threaded: not built for unsafe, whose
 *                              objects are not thread-safe by design
 *   TEST_NOINIT(name)          the case calls grt_init/grt_fini itself
 *   TEST_FATAL(name, "text")   passes only if the case dies of a fatal error
 *                              whose message contains "text"
 */
#ifndef GRT_TESTS_HARNESS_H
#define GRT_TESTS_HARNESS_H

#define GRT_BUILD_CORE 1
#include "../runtime/internal.h"
#include <inttypes.h>

enum { T_NOINIT = 1, T_FATAL = 2 };
void _t_register(const char *file, const char *name, void (*fn)(void), unsigned flags,
                 const char *fatal_text);
__attribute__((noreturn)) void _t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define T__REG(name, flags, text)                                                   \
    static void test_##name(void);                                                  \
    __attribute__((constructor)) static void t_reg_##name(void)                     \
    { _t_register(__FILE__, #name, test_##name, (flags), (text)); }                 \
    static void test_##name(void)

#define TEST(name)              T__REG(name, 0, NULL)
#define TEST_NOINIT(name)       T__REG(name, T_NOINIT, NULL)
#define TEST_FATAL(name, text)  T__REG(name, T_FATAL, text)
#ifdef GRT_VARIANT_UNSAFE
#  define TEST_MT(name)         static __attribute__((unused)) void test_##name(void)
#else
#  define TEST_MT(name)         TEST(name)
#endif

#define T_FAIL(...) _t_fail(__FILE__, __LINE__, __VA_ARGS__)
#define T_TRUE(c) do { if (!(c)) T_FAIL("expected %s to be true", #c); } while (0)
#define T_FALSE(c) do { if (c) T_FAIL("expected %s to be false", #c); } while (0)
#define T_EQ(a, b) do { int64_t _a = (int64_t)(a), _b = (int64_t)(b);                \
    if (_a != _b) T_FAIL("%s == %s: expected %" PRId64 ", got %" PRId64, #a, #b, _b, _a); } while (0)
#define T_NE(a, b) do { int64_t _a = (int64_t)(a), _b = (int64_t)(b);                \
    if (_a == _b) T_FAIL("%s != %s: both are %" PRId64, #a, #b, _a); } while (0)
#define T_GE(a, b) do { int64_t _a = (int64_t)(a), _b = (int64_t)(b);                \
    if (_a < _b) T_FAIL("%s >= %s: got %" PRId64 " < %" PRId64, #a, #b, _a, _b); } while (0)
#define T_LE(a, b) do { int64_t _a = (int64_t)(a), _b = (int64_t)(b);                \
    if (_a > _b) T_FAIL("%s <= %s: got %" PRId64 " > %" PRId64, #a, #b, _a, _b); } while (0)
#define T_EQ_PTR(a, b) do { const void *_a = (a), *_b = (b);                         \
    if (_a != _b) T_FAIL("%s == %s: expected %p, got %p", #a, #b, _b, _a); } while (0)
#define T_EQ_STR(a, b) do { const char *_a = (a), *_b = (b);                         \
    if (!_a || strcmp(_a, _b) != 0) T_FAIL("%s: expected \"%s\", got \"%s\"", #a, _b, _a ? _a : "(null)"); } while (0)
#define T_EQ_DBL(a, b) do { double _a = (a), _b = (b);                               \
    if (_a != _b) T_FAIL("%s: expected %g, got %g", #a, _b, _a); } while (0)
#define T_NOT_NULL(p) do { if ((p) == NULL) T_FAIL("%s is NULL (error: %s)", #p, grt_err_message()); } while (0)
#define T_NO_ERR() do { if (grt_err_occurred())                                       \
    T_FAIL("unexpected error %s: %s", grt_err_kind_name(grt_err_occurred()), grt_err_message()); } while (0)
/* The call's error is kind k with a message containing text; clears it. */
#define T_ERR(k, text) do {                                                          \
    if (grt_err_occurred() != (k))                                                   \
        T_FAIL("expected %s, got %s (%s)", grt_err_kind_name(k),                     \
               grt_err_kind_name(grt_err_occurred()), grt_err_message());            \
    if (!strstr(grt_err_message(), (text)))                                          \
        T_FAIL("error message \"%s\" does not mention \"%s\"", grt_err_message(), (text)); \
    grt_err_clear(); } while (0)

/* Run fn(i, arg) in n attached threads (grt_thread_start) and join them. */
void t_run_threads(int n, void (*fn)(int i, void *arg), void *arg);
/* grt_init with the default configuration but this allocator (for
 * TEST_NOINIT cases); fails the case with the runtime's message. */
void t_init_with(const char *allocator);

#endif
