/*
 * atomics/atomic.h — the one wrapper over Concurrency Kit's ck_pr.
 *
 * Every atomic access in gilrt goes through these functions, so that the
 * memory order of each one is visible at the call site and so that a
 * ThreadSanitizer build can see all of them.
 *
 * Why a TSan branch exists.  CK's x86-64 ck_pr is inline assembly, which TSan
 * cannot see; built with -DCK_USE_CC_BUILTINS=1 its read-modify-write
 * operations become __sync builtins that TSan understands, but its plain
 * loads and stores stay `volatile` accesses, which TSan treats as ordinary
 * (racy) memory accesses, and its fences are ignored by TSan altogether.  In
 * TSan builds (GRT_TSAN) loads, stores and the acquire/release orders below
 * therefore use the compiler's __atomic builtins directly: same semantics,
 * made visible.  Everywhere else they are ck_pr.
 *
 * Naming: grt_atomic_<op>_<width>[_<order>].  Unsuffixed loads and stores are
 * relaxed (they compile to a plain mov on x86-64) and are compiler barriers;
 * the _nb pair at the end is relaxed without being one.  RMW operations are
 * sequentially consistent (lock-prefixed on x86-64).
 */
#ifndef GILRT_ATOMIC_H
#define GILRT_ATOMIC_H

#include <stdint.h>
#include <ck_pr.h>

#if defined(__SANITIZE_THREAD__)
#  define GRT_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GRT_TSAN 1
#  endif
#endif

#if defined(GRT_TSAN) && !CK_USE_CC_BUILTINS
#  error "TSan builds of gilrt need -DCK_USE_CC_BUILTINS=1 (CK's inline asm is invisible to TSan)"
#endif

#define GRT_ATOMIC_ALWAYS_INLINE static inline __attribute__((always_inline))

#ifdef GRT_TSAN
#  define GRT__LD(p, mo)      __atomic_load_n((p), (mo))
#  define GRT__ST(p, v, mo)   __atomic_store_n((p), (v), (mo))
#  define GRT_ATOMIC_WIDTHS(X) X(32, uint32_t) X(64, uint64_t) X(8, uint8_t)
#  define GRT__DEF(W, T)                                                       \
    GRT_ATOMIC_ALWAYS_INLINE T grt_atomic_load_##W(const T *p)                \
    { return GRT__LD(p, __ATOMIC_RELAXED); }                                  \
    GRT_ATOMIC_ALWAYS_INLINE T grt_atomic_load_##W##_acq(const T *p)          \
    { return GRT__LD(p, __ATOMIC_ACQUIRE); }                                  \
    GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_##W(T *p, T v)             \
    { GRT__ST(p, v, __ATOMIC_RELAXED); }                                      \
    GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_##W##_rel(T *p, T v)       \
    { GRT__ST(p, v, __ATOMIC_RELEASE); }
GRT_ATOMIC_WIDTHS(GRT__DEF)
#  undef GRT__DEF
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_load_ptr(void *const *p)
{ return GRT__LD(p, __ATOMIC_RELAXED); }
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_load_ptr_acq(void *const *p)
{ return GRT__LD(p, __ATOMIC_ACQUIRE); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_ptr(void **p, void *v)
{ GRT__ST(p, v, __ATOMIC_RELAXED); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_ptr_rel(void **p, void *v)
{ GRT__ST(p, v, __ATOMIC_RELEASE); }
/* TSan ignores stand-alone fences; code that needs ordering in TSan builds
 * uses the _acq/_rel accessors above, and these remain compiler barriers. */
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence_acq(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence_rel(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence(void)     { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#else /* !GRT_TSAN: Concurrency Kit */
#  define GRT__DEF(W, T)                                                       \
    GRT_ATOMIC_ALWAYS_INLINE T grt_atomic_load_##W(const T *p)                \
    { return ck_pr_load_##W(p); }                                             \
    /* load, then a fence so later loads and stores cannot move above it */   \
    GRT_ATOMIC_ALWAYS_INLINE T grt_atomic_load_##W##_acq(const T *p)          \
    { T v = ck_pr_load_##W(p); ck_pr_fence_acquire(); return v; }             \
    GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_##W(T *p, T v)             \
    { ck_pr_store_##W(p, v); }                                                \
    /* a fence first, so earlier loads and stores cannot move below the store */ \
    GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_##W##_rel(T *p, T v)       \
    { ck_pr_fence_release(); ck_pr_store_##W(p, v); }
GRT__DEF(32, uint32_t)
GRT__DEF(64, uint64_t)
GRT__DEF(8, uint8_t)
#  undef GRT__DEF
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_load_ptr(void *const *p)
{ return ck_pr_load_ptr(p); }
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_load_ptr_acq(void *const *p)
{ void *v = ck_pr_load_ptr(p); ck_pr_fence_acquire(); return v; }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_ptr(void **p, void *v)
{ ck_pr_store_ptr(p, v); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_ptr_rel(void **p, void *v)
{ ck_pr_fence_release(); ck_pr_store_ptr(p, v); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence_acq(void) { ck_pr_fence_acquire(); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence_rel(void) { ck_pr_fence_release(); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_fence(void)     { ck_pr_fence_memory(); }
#endif

/* Read-modify-write, all sequentially consistent (lock-prefixed on x86-64).
 * TSan builds use __atomic builtins here too: with CK_USE_CC_BUILTINS=1 CK
 * still emulates fas and a few others as a volatile load plus a CAS loop,
 * and TSan reports that load as a plain read racing with the CAS. */
#ifdef GRT_TSAN
#  define GRT__SC __ATOMIC_SEQ_CST
GRT_ATOMIC_ALWAYS_INLINE uint64_t grt_atomic_faa_64(uint64_t *p, uint64_t d) { return __atomic_fetch_add(p, d, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE uint32_t grt_atomic_faa_32(uint32_t *p, uint32_t d) { return __atomic_fetch_add(p, d, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_inc_64(uint64_t *p) { __atomic_fetch_add(p, 1, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_add_64(uint64_t *p, uint64_t d) { __atomic_fetch_add(p, d, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_add_32(uint32_t *p, uint32_t d) { __atomic_fetch_add(p, d, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_or_32(uint32_t *p, uint32_t m) { __atomic_fetch_or(p, m, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_and_32(uint32_t *p, uint32_t m) { __atomic_fetch_and(p, m, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE uint32_t grt_atomic_fas_32(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_fas_ptr(void *p, void *v) { return __atomic_exchange_n((void **)p, v, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{ return __atomic_compare_exchange_n(p, expected, desired, 0, GRT__SC, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{ return __atomic_compare_exchange_n(p, expected, desired, 0, GRT__SC, GRT__SC); }
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_ptr(void *p, void *expected_v, void *desired)
{ return __atomic_compare_exchange_n((void **)p, &expected_v, desired, 0, GRT__SC, GRT__SC); }
#  undef GRT__SC
#else
GRT_ATOMIC_ALWAYS_INLINE uint64_t grt_atomic_faa_64(uint64_t *p, uint64_t d) { return ck_pr_faa_64(p, d); }
GRT_ATOMIC_ALWAYS_INLINE uint32_t grt_atomic_faa_32(uint32_t *p, uint32_t d) { return ck_pr_faa_32(p, d); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_inc_64(uint64_t *p) { ck_pr_inc_64(p); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_add_64(uint64_t *p, uint64_t d) { ck_pr_add_64(p, d); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_add_32(uint32_t *p, uint32_t d) { ck_pr_add_32(p, d); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_or_32(uint32_t *p, uint32_t m) { ck_pr_or_32(p, m); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_and_32(uint32_t *p, uint32_t m) { ck_pr_and_32(p, m); }
GRT_ATOMIC_ALWAYS_INLINE uint32_t grt_atomic_fas_32(uint32_t *p, uint32_t v) { return ck_pr_fas_32(p, v); }
GRT_ATOMIC_ALWAYS_INLINE void *grt_atomic_fas_ptr(void *p, void *v) { return ck_pr_fas_ptr(p, v); }
/* compare-and-swap; on failure *expected receives the value seen */
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{ return ck_pr_cas_32_value(p, *expected, desired, expected); }
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{ return ck_pr_cas_64_value(p, *expected, desired, expected); }
GRT_ATOMIC_ALWAYS_INLINE int grt_atomic_cas_ptr(void *p, void *expected_v, void *desired)
{ return ck_pr_cas_ptr(p, expected_v, desired); }
#endif
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_pause(void) { ck_pr_stall(); }

/* Relaxed 64-bit load and store that are not compiler barriers: the
 * compiler may keep other values in registers across them.  CK's x86-64
 * ck_pr_load/store are asm statements with a "memory" clobber, which makes
 * the compiler forget every value it had loaded; on the brc owner's
 * refcount fast path (atomics/rc_biased.h) that meant reloading the
 * thread's key from TLS after each increment, and rc_private ran about
 * 15 % slower.  These are the accesses CK's own portable GCC port uses
 * for ck_pr_md_load/store (a volatile access: one aligned mov, atomic on
 * x86-64); TSan builds use the __atomic builtin, which TSan sees.  Use
 * them only where no ordering against other memory is wanted. */
#ifdef GRT_TSAN
GRT_ATOMIC_ALWAYS_INLINE uint64_t grt_atomic_load_64_nb(const uint64_t *p)
{ return __atomic_load_n(p, __ATOMIC_RELAXED); }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_64_nb(uint64_t *p, uint64_t v)
{ __atomic_store_n(p, v, __ATOMIC_RELAXED); }
#else
GRT_ATOMIC_ALWAYS_INLINE uint64_t grt_atomic_load_64_nb(const uint64_t *p)
{ return *(const volatile uint64_t *)p; }
GRT_ATOMIC_ALWAYS_INLINE void grt_atomic_store_64_nb(uint64_t *p, uint64_t v)
{ *(volatile uint64_t *)p = v; }
#endif

#endif /* GILRT_ATOMIC_H */
