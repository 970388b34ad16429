/*
 * tests/harness.c — runs the registered cases, each in a forked child, as TAP.
 *
 * usage: unit-<variant> [--list] [SUBSTRING...]   (cases whose "file:name"
 * contains any SUBSTRING; all by default).  A child that runs over its time
 * limit (GRT_TEST_TIMEOUT seconds, default 300) is killed and fails.
 */
#include "harness.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct t_case {
    const char *file, *name, *fatal_text;
    void (*fn)(void);
    unsigned flags;
} t_case;

static t_case cases[512];
static int ncases;

void _t_register(const char *file, const char *name, void (*fn)(void), unsigned flags,
                 const char *fatal_text)
{
    if (ncases == (int)(sizeof cases / sizeof cases[0])) {
        fprintf(stderr, "harness: too many test cases (raise the limit in tests/harness.c)\n");
        exit(2);
    }
    const char *base = strrchr(file, '/');
    cases[ncases++] = (t_case){ base ? base + 1 : file, name, fatal_text, fn, flags };
}

void _t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

typedef struct { void (*fn)(int, void *); void *arg; int i; } t_thread_arg;

static void *t_thread_main(void *p)
{
    t_thread_arg *a = p;
    a->fn(a->i, a->arg);
    return NULL;
}

void t_init_with(const char *allocator)
{
    grt_config cfg;
    T_EQ(grt_config_init(&cfg), 0);
    cfg.allocator = allocator;
    if (grt_init(&cfg) != 0)
        T_FAIL("grt_init with allocator %s: %s", allocator, grt_err_message());
    T_EQ_STR(grt_mem_allocator(), allocator);
}

void t_run_threads(int n, void (*fn)(int i, void *arg), void *arg)
{
    pthread_t thr[64];
    t_thread_arg args[64];
    if (n > 64) T_FAIL("t_run_threads: at most 64 threads");
    for (int i = 0; i < n; i++) {
        args[i] = (t_thread_arg){ fn, arg, i };
        if (grt_thread_start(&thr[i], t_thread_main, &args[i]) != 0)
            T_FAIL("grt_thread_start failed: %s", grt_err_message());
    }
    /* Joining blocks: detach so GIL-holding or stop-the-world peers can run. */
    GRT_BEGIN_ALLOW_THREADS
    for (int i = 0; i < n; i++)
        pthread_join(thr[i], NULL);
    GRT_END_ALLOW_THREADS;
}

static void run_child(const t_case *c)
{
    if (!(c->flags & T_NOINIT)) {
        if (grt_init(NULL) != 0) {
            fprintf(stderr, "grt_init failed: %s\n", grt_err_message());
            _exit(1);
        }
    }
    c->fn();
    if (!(c->flags & T_NOINIT) && grt_is_initialized()) {
        if (grt_fini() != 0) {
            fprintf(stderr, "grt_fini failed: %s\n", grt_err_message());
            _exit(1);
        }
    }
    if (c->flags & T_FATAL) {
        fprintf(stderr, "expected a fatal error mentioning \"%s\", but the case returned\n",
                c->fatal_text);
        _exit(1);
    }
    _exit(0);
}

/* Read everything the child writes to fd into a growing buffer. */
static char *slurp(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1024 > cap) buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

static void print_diag(const char *out)
{
    const char *p = out;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("# %.*s\n", len, p);
        p += len + (nl ? 1 : 0);
    }
}

static int selected(const t_case *c, int argc, char **argv)
{
    char full[256];
    snprintf(full, sizeof full, "%s:%s", c->file, c->name);
    int any = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        any = 1;
        if (strstr(full, argv[i])) return 1;
    }
    return !any;
}

int main(int argc, char **argv)
{
    int list = argc > 1 && strcmp(argv[1], "--list") == 0;
    const char *tmo = getenv("GRT_TEST_TIMEOUT");
    unsigned timeout = tmo ? (unsigned)atoi(tmo) : 300;
    int total = 0, failed = 0;
    for (int i = 0; i < ncases; i++)
        if (selected(&cases[i], argc, argv)) total++;
    if (!list) printf("1..%d\n", total);
    fflush(stdout);
    int n = 0;
    for (int i = 0; i < ncases; i++) {
        const t_case *c = &cases[i];
        if (!selected(c, argc, argv)) continue;
        n++;
        if (list) { printf("%s:%s\n", c->file, c->name); continue; }
        int pipefd[2];
        if (pipe(pipefd) != 0) { perror("pipe"); return 2; }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 2; }
        if (pid == 0) {
            close(pipefd[0]);
            dup2(pipefd[1], 2);
            dup2(pipefd[1], 1);
            close(pipefd[1]);
            alarm(timeout);
            run_child(c);
        }
        close(pipefd[1]);
        char *out = slurp(pipefd[0]);
        close(pipefd[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        int ok;
        char why[128] = "";
        if (c->flags & T_FATAL) {
            ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(out, c->fatal_text);
            if (!ok) snprintf(why, sizeof why, "expected abort() with \"%s\"", c->fatal_text);
        } else {
            ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (WIFSIGNALED(st))
                snprintf(why, sizeof why, "killed by signal %d%s", WTERMSIG(st),
                         WTERMSIG(st) == SIGALRM ? " (time limit)" : "");
        }
        printf("%s %d - %s:%s [%s]%s%s\n", ok ? "ok" : "not ok", n, c->file, c->name,
               GRT_VARIANT_NAME, why[0] ? " # " : "", why);
        if (!ok) { print_diag(out); failed++; }
        free(out);
        fflush(stdout);
    }
    return failed ? 1 : 0;
}
