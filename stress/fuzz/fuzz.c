/*
 * stress/fuzz/fuzz.c — a libFuzzer harness: the input bytes are a program of
 * API calls that two threads run at the same time.
 *
 * Encoding.  A program is a sequence of instructions of 4 bytes: opcode,
 * a, b, c.  The high bit of the opcode byte says which thread runs the
 * instruction (0: the main thread, 1: the second one); the rest selects one
 * of the operations below, modulo their number, so every byte string is a
 * valid program.  Each thread has 8 registers holding references (or NULL);
 * a, b, c pick registers or small constants.  The threads share a list and a
 * dict, through which objects move from one to the other.
 *
 * Every call is made whatever the operands are: the wrong type, NULL, an
 * index out of range, an unhashable key.  The invariant is the error
 * discipline — a call that fails returns NULL / -1 with an error set, a call
 * that succeeds leaves none — and, after both threads finished and dropped
 * everything, the ledgers: every object allocated is freed by grt_fini, and
 * no weakref callback runs twice.  Anything else (a crash, an ASan report, a
 * broken invariant) aborts, which is what libFuzzer reports.
 *
 * Variant: brc (GIL off, biased counts, per-object locks), the build with
 * the most ways for two threads to interact.
 */
#define GRT_BUILD_CORE 1
#include "../../runtime/internal.h"
#include <inttypes.h>

#define FZ_REGS 8
#define FZ_MAX_WEAKREFS 4096

typedef struct fz_thread {
    const uint8_t *code;
    size_t n;                   /* instructions */
    int which;                  /* 0 main, 1 the second thread */
    grt_object *r[FZ_REGS];
} fz_thread;

static grt_object *fz_list, *fz_dict;      /* shared by both threads */
static grt_type *fz_cls;                   /* a class with a dict */
static uint32_t fz_cb_runs[FZ_MAX_WEAKREFS];
static uint32_t fz_next_wr;

__attribute__((noreturn)) static void fz_die(const char *what, int op)
{
    fprintf(stderr, "fuzz: invariant broken: %s (operation %d): %s %s\n", what, op,
            grt_err_kind_name(grt_err_occurred()), grt_err_message());
    abort();
}

static void fz_callback(grt_object *ref, grt_object *data)
{
    (void)ref;
    int64_t id = grt_int_value(data);
    if (id < 0 || id >= FZ_MAX_WEAKREFS)
        fz_die("a weakref callback got data that is not a weakref id", -1);
    if (grt_atomic_faa_32(&fz_cb_runs[id], 1) != 0)
        fz_die("a weakref callback ran twice", -1);
}

/* Store a new reference in register i (dropping what was there). */
static void fz_set(fz_thread *t, int i, grt_object *o)
{
    grt_object *old = t->r[i % FZ_REGS];
    t->r[i % FZ_REGS] = o;
    grt_xdecref(old);
}

/* A pointer result: NULL needs an error, non-NULL none. */
static grt_object *fz_ptr(grt_object *o, int op)
{
    if (!o && !grt_err_occurred()) fz_die("NULL result without an error", op);
    if (o && grt_err_occurred()) fz_die("a result with an error set", op);
    grt_err_clear();
    return o;
}

/* An int status: -1 needs an error; other values none. */
static int64_t fz_int(int64_t rc, int op)
{
    if (rc == -1 && !grt_err_occurred()) fz_die("-1 without an error", op);
    if (rc != -1 && grt_err_occurred()) fz_die("a success with an error set", op);
    grt_err_clear();
    return rc;
}

enum {
    FZ_INT, FZ_STR, FZ_LIST, FZ_DICT, FZ_TUPLE, FZ_INSTANCE, FZ_FLOAT,
    FZ_APPEND, FZ_INSERT, FZ_LGET, FZ_LSET, FZ_POP, FZ_EXTEND, FZ_LCLEAR,
    FZ_DSET, FZ_DGET, FZ_DDEL, FZ_DCONTAINS, FZ_DUPDATE, FZ_DKEYS, FZ_DNEXT,
    FZ_SETATTR, FZ_GETATTR, FZ_DELATTR, FZ_HASH, FZ_EQUAL, FZ_REPR, FZ_TGET,
    FZ_WEAKREF, FZ_WGET, FZ_SHARE, FZ_TAKE, FZ_PUBLISH, FZ_LOOKUP, FZ_COLLECT,
    FZ_DROP, FZ_MOVE, FZ_LEN, FZ_SAFEPOINT, FZ_INTERN, FZ_NOPS
};

static const char *const fz_attr[4] = { "a", "b", "__c", "" };

static void fz_step(fz_thread *t, const uint8_t *ins)
{
    int op = (ins[0] & 0x7f) % FZ_NOPS;
    uint8_t a = ins[1], b = ins[2], c = ins[3];
    grt_object *ra = t->r[a % FZ_REGS], *rb = t->r[b % FZ_REGS];
    int64_t small = (int64_t)(int8_t)c;
    switch (op) {
    case FZ_INT: fz_set(t, a, fz_ptr(grt_int_new(small * (b & 1 ? 1000003 : 1)), op)); break;
    case FZ_STR: {
        char s[4] = { (char)('a' + b % 26), (char)c, 0, 0 };
        fz_set(t, a, fz_ptr(grt_str_from_len(s, c % 3), op));
        break;
    }
    case FZ_LIST: fz_set(t, a, fz_ptr(grt_list_new(small % 5), op)); break;
    case FZ_DICT: fz_set(t, a, fz_ptr(grt_dict_new(), op)); break;
    case FZ_TUPLE:
        fz_set(t, a, fz_ptr(c & 1 ? grt_tuple_pack(2, rb, t->r[c % FZ_REGS]) : grt_tuple_pack(1, rb), op));
        break;
    case FZ_INSTANCE: fz_set(t, a, fz_ptr(grt_instance_new(c & 1 ? fz_cls : NULL), op)); break;
    case FZ_FLOAT: fz_set(t, a, fz_ptr(grt_float_new((double)small / 3.0), op)); break;
    case FZ_APPEND: fz_int(grt_list_append(ra, rb), op); break;
    case FZ_INSERT: fz_int(grt_list_insert(ra, small, rb), op); break;
    case FZ_LGET: fz_set(t, c, fz_ptr(grt_list_get(ra, small), op)); break;
    case FZ_LSET: fz_int(grt_list_set(ra, small, rb), op); break;
    case FZ_POP: fz_set(t, b, fz_ptr(grt_list_pop(ra, small), op)); break;
    case FZ_EXTEND: fz_int(grt_list_extend(ra, rb), op); break;
    case FZ_LCLEAR: fz_int(c & 1 ? grt_list_clear(ra) : grt_dict_clear(ra), op); break;
    case FZ_DSET: fz_int(grt_dict_set(ra, rb, t->r[c % FZ_REGS]), op); break;
    case FZ_DGET: fz_set(t, c, fz_ptr(grt_dict_get(ra, rb), op)); break;
    case FZ_DDEL: fz_int(grt_dict_del(ra, rb), op); break;
    case FZ_DCONTAINS: fz_int(grt_dict_contains(ra, rb), op); break;
    case FZ_DUPDATE: fz_int(grt_dict_update(ra, rb), op); break;
    case FZ_DKEYS: fz_set(t, c, fz_ptr(grt_dict_keys(ra), op)); break;
    case FZ_DNEXT: {
        int64_t pos = c % 4;
        grt_object *k = NULL, *v = NULL;
        int r = grt_dict_next(ra, &pos, &k, &v);
        if (r == 1) {
            if (!k || !v) fz_die("dict_next returned 1 without an item", op);
            fz_set(t, b, k);
            grt_decref(v);
        } else if (r == 0 && grt_err_occurred()) {
            fz_die("dict_next ended with an error set", op);
        } else if (r == -1 && !grt_err_occurred()) {
            fz_die("dict_next failed without an error", op);
        }
        grt_err_clear();
        break;
    }
    case FZ_SETATTR: fz_int(grt_setattr(ra, fz_attr[c % 4], rb), op); break;
    case FZ_GETATTR: fz_set(t, b, fz_ptr(grt_getattr(ra, fz_attr[c % 4]), op)); break;
    case FZ_DELATTR: fz_int(grt_delattr(ra, fz_attr[c % 4]), op); break;
    case FZ_HASH: fz_int(grt_hash(ra), op); break;
    case FZ_EQUAL: fz_int(grt_equal(ra, rb), op); break;
    case FZ_REPR: fz_set(t, b, fz_ptr(grt_repr(ra), op)); break;
    case FZ_TGET: {
        grt_object *it = fz_ptr(grt_tuple_get(ra, small), op);   /* borrowed */
        fz_set(t, b, it ? grt_newref(it) : NULL);
        break;
    }
    case FZ_WEAKREF: {
        uint32_t id = grt_atomic_faa_32(&fz_next_wr, 1);
        if (id >= FZ_MAX_WEAKREFS)
            break;
        grt_object *data = grt_int_new(id);
        if (!data) fz_die("grt_int_new failed", op);
        fz_set(t, b, fz_ptr(c & 1 ? grt_weakref_new_ex(ra, fz_callback, data)
                                  : grt_weakref_new(ra, NULL), op));
        grt_decref(data);
        break;
    }
    case FZ_WGET: fz_set(t, b, fz_ptr(grt_weakref_get(ra), op)); break;
    case FZ_SHARE: if (ra) fz_int(grt_list_append(fz_list, ra), op); break;
    case FZ_TAKE: fz_set(t, a, fz_ptr(grt_list_pop(fz_list, small), op)); break;
    case FZ_PUBLISH: if (ra && rb) fz_int(grt_dict_set(fz_dict, ra, rb), op); break;
    case FZ_LOOKUP:                 /* NULL without an error: absent */
        if (ra) {
            grt_object *v = grt_dict_lookup(fz_dict, ra);
            if (v && grt_err_occurred()) fz_die("a lookup result with an error set", op);
            grt_err_clear();
            fz_set(t, b, v);
        }
        break;
    case FZ_COLLECT: fz_int(grt_gc_collect(c % 4), op); break;      /* 3 is refused */
    case FZ_DROP: fz_set(t, a, NULL); break;
    case FZ_MOVE: fz_set(t, b, ra ? grt_newref(ra) : NULL); break;
    case FZ_LEN:
        fz_int(c & 1 ? grt_list_len(ra) : grt_dict_len(ra), op);
        break;
    case FZ_SAFEPOINT: grt_safepoint(); break;
    case FZ_INTERN: {
        static const char *const names[4] = { "alpha", "beta", "gamma", "a" };
        fz_set(t, a, fz_ptr(grt_str_intern(names[c % 4]), op));
        break;
    }
    }
}

static void fz_run(fz_thread *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const uint8_t *ins = t->code + 4 * i;
        if ((ins[0] >> 7) == t->which)
            fz_step(t, ins);
        if ((i & 15) == 15)
            grt_safepoint();
    }
    for (int i = 0; i < FZ_REGS; i++)
        grt_clear(t->r[i]);
}

static void *fz_second(void *p)
{
    fz_run(p);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    grt_config cfg;
    if (grt_config_init(&cfg) != 0)
        fz_die("grt_config_init", -1);
    cfg.allocator = "malloc";          /* every object a malloc block: ASan sees them */
    if (grt_init(&cfg) != 0)
        fz_die("grt_init", -1);
    memset(fz_cb_runs, 0, sizeof fz_cb_runs);
    fz_next_wr = 0;
    fz_list = grt_list_new(0);
    fz_dict = grt_dict_new();
    fz_cls = grt_class_new("fuzz.Obj", NULL);
    if (!fz_list || !fz_dict || !fz_cls)
        fz_die("setup", -1);
    fz_thread t0 = { .code = data, .n = size / 4, .which = 0 };
    fz_thread t1 = { .code = data, .n = size / 4, .which = 1 };
    pthread_t thr;
    if (grt_thread_start(&thr, fz_second, &t1) != 0)
        fz_die("grt_thread_start", -1);
    fz_run(&t0);
    GRT_BEGIN_ALLOW_THREADS
    pthread_join(thr, NULL);
    GRT_END_ALLOW_THREADS;
    grt_clear(fz_list);
    grt_clear(fz_dict);
    grt_clear(fz_cls);
    grt_gc_collect(2);
    if (grt_fini() != 0)
        fz_die("grt_fini", -1);
    grt_object_counts n = grt_object_counts_get();
    if (n.allocated != n.freed || n.unreleased) {
        fprintf(stderr, "fuzz: object ledger: %" PRIu64 " allocated, %" PRIu64 " freed, %" PRIu64
                " containers still referenced at grt_fini\n", n.allocated, n.freed, n.unreleased);
        abort();
    }
    return 0;
}
