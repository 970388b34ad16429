/*
 * gil/io.c — a GIL for I/O-bound threads next to CPU-bound ones.
 *
 * The convoy problem: under classic or fifo a thread that wakes from a
 * blocking call (a socket read, a sleep) waits up to a whole switch interval
 * for a CPU-bound holder, every time (Beazley's report, CPython bpo-7946).
 * The fix discussed there, and used here: threads that come back from a
 * blocking call get priority over threads that were preempted at a safepoint.
 *
 * Two FIFO queues of waiter nodes under io.mutex (node protocol: gil_policy.h):
 *   - urgent: acquisitions in grt_attach / GRT_END_ALLOW_THREADS
 *     (GRT_GIL_ATTACH).  The thread was blocked, so it is probably I/O-bound:
 *     it asks the holder to drop the GIL at once.
 *   - normal: threads that yielded at a safepoint (CPU-bound).  They take
 *     turns of one switch interval each (a "tenure", begun at
 *     io.tenure_start); a normal waiter that sleeps an interval while the
 *     tenure is older than an interval asks the holder to drop.
 * Preemption without losing one's turn: a CPU-bound holder that yields to an
 * urgent waiter before its tenure is over goes to the *front* of the normal
 * queue (w.resume) and gets the GIL back, tenure unchanged, when the I/O
 * burst is over; at the end of its tenure it goes to the tail.  So I/O
 * bursts do not disturb the rotation of the CPU-bound threads.
 * On release the GIL is handed over (no barging, as in fifo) to the urgent
 * head, unless the normal head has been at the head for two intervals (the
 * urgent threads are hogging the GIL): then to it.  Nobody starves: the
 * normal head waits at most about two intervals, every normal waiter one
 * more interval per thread ahead of it, and urgent threads are served in
 * arrival order between them.
 *
 * Short hand-offs spin.  An I/O thread holds the GIL for microseconds and the
 * holder reaches a safepoint within microseconds, so a waiter at the head of
 * its queue first spins for at most IO_SPIN_NS on its node's grant flag (an
 * acquire load) before it sleeps on the node's condition variable.  Sleeping
 * there costs two wake-ups per I/O round trip, which is most of the CPU-bound
 * thread's time when the round trips are short; the bounded spin costs at
 * most IO_SPIN_NS per hand-off when the guess is wrong, and after the first
 * IO_SPIN_PURE_NS it yields the processor between checks, so that a thread
 * we wait for which shares our core is not kept off it.
 */
#include "gil_policy.h"
#include <sched.h>

/* Longest spin before sleeping (a few wake-up latencies), and how much of it
 * is plain spinning before each check yields the processor. */
#define IO_SPIN_NS 50000
#define IO_SPIN_PURE_NS 5000

static struct {
    pthread_mutex_t mutex;
    grt_tstate *holder;         /* NULL: free (and then both queues are empty) */
    bool holder_urgent;         /* the holder came from the urgent queue */
    uint64_t tenure_start;      /* when the current CPU-bound tenure began */
    gil_queue urgent;           /* came back from a blocking call */
    gil_queue normal;           /* yielded at a safepoint */
    uint64_t switch_number;     /* grants so far */
} io;

static int io_init(void)
{
    gil_mutex_init_adaptive(&io.mutex);
    io.holder = NULL;
    io.holder_urgent = false;
    io.tenure_start = 0;
    io.urgent = (gil_queue){ NULL, NULL, 0 };
    io.normal = (gil_queue){ NULL, NULL, 0 };
    io.switch_number = 0;
    return 0;
}

static void io_fini(void)
{
    GRT_ASSERT(io.urgent.n == 0 && io.normal.n == 0);
    pthread_mutex_destroy(&io.mutex);
}

/* Spin (without the mutex) until w is granted or IO_SPIN_NS passed.  After
 * IO_SPIN_PURE_NS of plain spinning, yield the processor between checks: if
 * the thread we wait for shares our core, it gets to run. */
static int io_spin(const gil_waiter *w)
{
    uint64_t start = _grt_now_ns(), spun = 0;
    for (unsigned i = 1;; i++) {
        if (gil_waiter_granted(w)) return 1;
        if (spun < IO_SPIN_PURE_NS) {
            grt_atomic_pause();
            if ((i & 63) != 0) continue;
        } else {
            sched_yield();
        }
        spun = _grt_now_ns() - start;
        if (spun >= IO_SPIN_NS) return 0;
    }
}

/* ---- the normal queue keeps when each node became its head ----------------------------- */

static void io_normal_push(gil_waiter *w, bool front, uint64_t now)
{
    if (front) gil_queue_push_front(&io.normal, w);
    else gil_queue_push(&io.normal, w);
    if (io.normal.head == w) w->since_ns = now;
}

static gil_waiter *io_normal_pop(uint64_t now)
{
    gil_waiter *w = gil_queue_pop(&io.normal);
    if (io.normal.head && io.normal.head->since_ns == 0) io.normal.head->since_ns = now;
    return w;
}

/* Hand the GIL from the holder to the next waiter (io.mutex held). */
static void io_hand_off(uint64_t now)
{
    gil_waiter *u = io.urgent.head, *n = io.normal.head, *next;
    uint64_t interval = (uint64_t)gil_interval_ns();
    if (u && !(n && now - n->since_ns >= 2 * interval)) {
        next = gil_queue_pop(&io.urgent);
        io.holder_urgent = true;            /* the tenure stays the preempted thread's */
    } else if (n) {
        next = io_normal_pop(now);
        io.holder_urgent = false;
        if (!next->resume) io.tenure_start = now;   /* a new turn */
    } else {
        io.holder = NULL;
        return;
    }
    io.holder = next->ts;
    io.switch_number++;
    /* More I/O threads wait behind an I/O thread: ask it to be brief. */
    if (io.holder_urgent && io.urgent.n)
        grt_gil_request_drop(GIL_T(next->ts));
    gil_waiter_grant(next);
}

/* Wait until w (queued) is granted.  Called with io.mutex held; returns 1
 * with io.mutex held, or 0 without it when the grant came while spinning (a
 * spinner that re-took the mutex would queue behind the releaser, which
 * still holds it: a futex sleep, the very cost spinning avoids).  A waiter at
 * the head of its queue spins first, without the mutex. */
static int io_wait(gil_waiter *w, gil_queue *q)
{
    if (q->head == w) {
        pthread_mutex_unlock(&io.mutex);
        if (io_spin(w)) return 0;
        pthread_mutex_lock(&io.mutex);
    }
    gil_waiter_sleeping(w);
    uint64_t interval = (uint64_t)gil_interval_ns();
    while (!gil_waiter_granted(w)) {
        uint64_t saved = io.switch_number;
        int timed_out = gil_cond_timedwait(&w->cond, &io.mutex, (int64_t)interval);
        if (!timed_out || gil_waiter_granted(w) || grt_gil_drop_requested(GIL_T(io.holder)))
            continue;
        /* urgent: the holder did not hand over within an interval; normal:
         * the CPU-bound tenure is over (or an urgent holder overstays) */
        if (q == &io.urgent ? io.switch_number == saved
                            : io.holder_urgent || _grt_now_ns() - io.tenure_start >= interval)
            grt_gil_request_drop(GIL_T(io.holder));
    }
    GRT_ASSERT_INTERNAL(io.holder == w->ts);
    return 1;
}

static void io_acquire(grt_gil_thread *t, grt_gil_reason why)
{
    grt_tstate *ts = GIL_TS(t);
    uint64_t now = _grt_now_ns();
    pthread_mutex_lock(&io.mutex);
    if (!io.holder) {
        GRT_ASSERT_INTERNAL(io.urgent.n == 0 && io.normal.n == 0);
        io.holder = ts;
        io.holder_urgent = false;
        io.tenure_start = now;
        io.switch_number++;
        grt_gil_clear_drop(t);              /* a request aimed at an earlier tenure */
        pthread_mutex_unlock(&io.mutex);
        return;
    }
    gil_waiter w;
    gil_waiter_init(&w, ts);
    gil_queue *q;
    if (why == GRT_GIL_ATTACH) {
        q = &io.urgent;
        gil_queue_push(q, &w);
        if (!grt_gil_drop_requested(GIL_T(io.holder)))
            grt_gil_request_drop(GIL_T(io.holder));     /* now, not after an interval */
    } else {
        q = &io.normal;
        io_normal_push(&w, false, now);
    }
    if (io_wait(&w, q))
        pthread_mutex_unlock(&io.mutex);
    gil_waiter_done(&w);
}

static void io_release(grt_gil_thread *t, grt_gil_reason why)
{
    (void)why;
    uint64_t now = _grt_now_ns();
    pthread_mutex_lock(&io.mutex);
    GRT_ASSERT(io.holder == GIL_TS(t));
    grt_gil_clear_drop(t);
    io_hand_off(now);
    pthread_mutex_unlock(&io.mutex);
}

/* Hand over and queue in one critical section (exact order, as fifo_yield):
 * at the front if an I/O thread preempts us during our tenure, else at the
 * tail. */
static int io_yield(grt_gil_thread *t)
{
    grt_tstate *ts = GIL_TS(t);
    uint64_t now = _grt_now_ns();
    pthread_mutex_lock(&io.mutex);
    GRT_ASSERT(io.holder == ts);
    grt_gil_clear_drop(t);                  /* one made since gilrt cleared it */
    if (io.urgent.n + io.normal.n == 0) {   /* nobody waits (a stale request): keep it */
        pthread_mutex_unlock(&io.mutex);
        return 0;
    }
    gil_waiter w;
    gil_waiter_init(&w, ts);
    w.resume = !io.holder_urgent && io.urgent.n > 0 &&
               now - io.tenure_start < (uint64_t)gil_interval_ns();
    io_hand_off(now);
    io_normal_push(&w, w.resume, now);
    if (io_wait(&w, &io.normal))
        pthread_mutex_unlock(&io.mutex);
    gil_waiter_done(&w);
    return 1;
}

static int io_waiting(void)
{
    pthread_mutex_lock(&io.mutex);
    int n = io.urgent.n + io.normal.n;
    pthread_mutex_unlock(&io.mutex);
    return n;
}

const grt_gil_ops _grt_gil_io_ops = {
    .summary = "threads back from a blocking call ask at once and go first; fair otherwise",
    .init = io_init,
    .fini = io_fini,
    .acquire = io_acquire,
    .release = io_release,
    .safepoint = NULL,
    .waiting = io_waiting,
    .yield = io_yield,
};
