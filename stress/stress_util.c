/*
 * stress/stress_util.c — random numbers, option parsing, child trials.
 * Uses no runtime state: it may run before grt_init and after grt_fini.
 */
#include "stress_util.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void stress_rng_seed(stress_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&seed);
}

static uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t stress_rng_next(stress_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

uint64_t stress_rng_below(stress_rng *r, uint64_t n)
{
    return stress_rng_next(r) % n;     /* the modulo bias is irrelevant here */
}

uint64_t stress_seed_from_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t x = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec + (uint64_t)getpid();
    return rng_splitmix(&x) & 0xffffffffffffull;   /* short enough to type back */
}

uint64_t stress_parse_u64(const char *prog, const char *opt, const char *v, uint64_t min,
                          uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || v[0] == '-' || n < min || n > max) {
        fprintf(stderr, "%s: %s expects an integer from %llu to %llu, got '%s'\n", prog, opt,
                (unsigned long long)min, (unsigned long long)max, v ? v : "(nothing)");
        exit(2);
    }
    return n;
}

void *stress_shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("stress: mmap of the shared result page");
        exit(2);
    }
    return p;
}

stress_end stress_run_child(int (*fn)(void *), void *arg, unsigned timeout_s, int *detail)
{
    fflush(NULL);                       /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        perror("stress: fork");
        exit(2);
    }
    if (pid == 0) {
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc & 0xff);
    }
    struct timespec start, now, nap = { 0, 5 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            perror("stress: waitpid");
            exit(2);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timeout_s && now.tv_sec - start.tv_sec >= (time_t)timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *detail = SIGKILL;
            return STRESS_END_TIMEOUT;
        }
        nanosleep(&nap, NULL);
    }
    if (WIFSIGNALED(status)) {
        *detail = WTERMSIG(status);
        return STRESS_END_SIGNAL;
    }
    *detail = WEXITSTATUS(status);
    return *detail == 0 ? STRESS_END_OK : STRESS_END_FAILED;
}

const char *stress_end_name(stress_end e)
{
    switch (e) {
    case STRESS_END_OK: return "ok";
    case STRESS_END_FAILED: return "failed";
    case STRESS_END_SIGNAL: return "signal";
    case STRESS_END_TIMEOUT: return "timeout";
    }
    return "?";
}
