/*
 * tools/spawn.c — run one program with a time limit and collect its output.
 *
 * The child gets its own process group, so that a runner that forked
 * (mp_vs_mt, demo cow) is killed with everything it started when the limit
 * passes.  Output is read through two pipes with poll(), so a chatty stderr
 * cannot block a child whose stdout we are waiting for.
 */
#define _GNU_SOURCE 1
#include "gilrt.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The running child's process group, so that an interrupted `gilrt` takes it
 * along (it is not in our group, so the terminal's ^C does not reach it). */
static volatile sig_atomic_t current_pgid;

static void on_signal(int sig)
{
    if (current_pgid > 0)
        kill(-(pid_t)current_pgid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

typedef struct buf { char *p; size_t len, cap; } buf;

static int buf_read(buf *b, int fd)
{
    if (b->cap - b->len < 4096) {
        size_t cap = b->cap ? b->cap * 2 : 8192;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    ssize_t k = read(fd, b->p + b->len, b->cap - b->len - 1);
    if (k < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    if (k == 0)
        return 0;
    b->len += (size_t)k;
    b->p[b->len] = '\0';
    return 1;
}

static char *buf_take(buf *b)
{
    if (!b->p)
        return strdup("");
    b->p[b->len] = '\0';
    return b->p;
}

int spawn_run(char *const argv[], double timeout_s, int passthrough, spawn_result *r)
{
    memset(r, 0, sizeof *r);
    int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
    if (!passthrough && (pipe(po) != 0 || pipe(pe) != 0)) {
        fprintf(stderr, "gilrt: pipe: %s\n", strerror(errno));
        return -1;
    }
    install_handlers();
    fflush(stdout);
    fflush(stderr);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "gilrt: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        setpgid(0, 0);
        if (!passthrough) {
            dup2(po[1], 1);
            dup2(pe[1], 2);
            close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        }
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);                       /* both sides: no race with the exec */
    current_pgid = pid;
    buf bo = {0}, be = {0};
    if (!passthrough) {
        close(po[1]);
        close(pe[1]);
        struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
        int open_fds = 2;
        while (open_fds > 0) {
            double left = t0 + timeout_s - now_s();
            if (left <= 0) {
                r->timed_out = 1;
                break;
            }
            int k = poll(fds, 2, (int)(left * 1000) + 1);
            if (k < 0 && errno != EINTR)
                break;
            for (int i = 0; i < 2 && k > 0; i++) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                if (buf_read(i ? &be : &bo, fds[i].fd) <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    open_fds--;
                }
            }
        }
        if (fds[0].fd >= 0) close(fds[0].fd);
        if (fds[1].fd >= 0) close(fds[1].fd);
    }
    int st = 0;
    if (r->timed_out)
        kill(-pid, SIGKILL);
    for (;;) {                               /* passthrough, or it closed its output early */
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w == 0 && !r->timed_out && now_s() - t0 > timeout_s) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
        }
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);                     /* whatever it left behind */
    current_pgid = 0;
    r->seconds = now_s() - t0;
    r->exited = WIFEXITED(st);
    r->code = r->exited ? WEXITSTATUS(st) : WIFSIGNALED(st) ? WTERMSIG(st) : -1;
    if (!passthrough) {
        r->out = buf_take(&bo);
        r->err = buf_take(&be);
    }
    return 0;
}

void spawn_free(spawn_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *spawn_describe(const spawn_result *r, char *b, size_t n)
{
    if (r->timed_out) {
        snprintf(b, n, "timed out after %.0f s", r->seconds);
        return b;
    }
    if (!r->exited) {
        const char *sig = sigabbrev_np(r->code);
        if (sig)
            snprintf(b, n, "killed by SIG%s", sig);
        else
            snprintf(b, n, "killed by signal %d", r->code);
        return b;
    }
    /* the last non-empty line of stderr says why */
    const char *e = r->err ? r->err : "", *last = e, *p = e;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL) { if (*p) last = p; break; }
        if (nl > p) last = p;
        p = nl + 1;
    }
    size_t len = strcspn(last, "\n");
    snprintf(b, n, "exit status %d%s%.*s", r->code, len ? ": " : "", (int)(len > 300 ? 300 : len), last);
    return b;
}
