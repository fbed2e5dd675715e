/*
 * xuan/eval.h — measuring models: benchmarks, scoring, the sandbox that runs
 * generated code, results.
 */
#ifndef XUAN_EVAL_H
#define XUAN_EVAL_H

#include "xuan/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sandbox: running generated code ---- */

/* Runs a Python program (a model's completion, assembled with its tests) in
 * a fresh child that can harm neither the machine nor the evaluator, and
 * says how it ended (docs/sandbox.md).
 *
 *     xuan_sandbox_opts o = xuan_sandbox_opts_default();
 *     o.timeout_s = xuan_sandbox_timeout_for(canonical_wall_s);  // max(4, 4 t)
 *     xuan_sandbox_result r;
 *     if (xuan_sandbox_run(&o, text, len, &r, &err) != 0)
 *         die(err.msg);   // "sandbox: cannot create a user namespace (...): enable ..."
 *     bool ok = r.verdict == XUAN_SANDBOX_PASSED;   // r.out / r.err hold the output
 *     xuan_sandbox_result_free(&r);
 *
 * The child (src/eval/sandbox_child.c) gets new user, PID, network, mount,
 * IPC and UTS namespaces: it runs as nobody (or as the caller's own uid when
 * the caller is not root), sees a read-only /usr, a few files of /etc and
 * /dev, and a private size-capped tmpfs at /tmp that is also its working
 * directory and holds the program; no /proc, no /home, no network but a
 * loopback that is down.  A seccomp filter (src/eval/sandbox_filter.c)
 * answers EPERM to syscalls generated code never needs (sockets other than
 * AF_UNIX, ptrace, mount, namespaces, bpf, kexec, modules, keyrings, ...),
 * rlimits bound address space, CPU, processes, file size and open files,
 * and the runner kills the child's whole PID namespace at the wall-clock
 * limit.  Nothing is left behind: when a run returns, every process of it
 * has been reaped and its files existed only in its own tmpfs.
 *
 * If a namespace cannot be created the run fails with a one-line error that
 * says which one and how to enable it; it never falls back to running
 * unsandboxed.  XUAN_SANDBOX_NONE is the deliberate opt-out (rlimits, the
 * wall clock and a process-group kill only; a temp dir on the host).
 *
 * The caller's thread must not be one that exits while a run is going (the
 * child is tied to it by PR_SET_PDEATHSIG); the functions are synchronous,
 * so any thread that calls them qualifies.  Between fork and exec the child
 * allocates nothing, so a multi-threaded caller is fine. */

typedef enum xuan_sandbox_mode {
    XUAN_SANDBOX_FULL = 0, /* namespaces + seccomp + rlimits (the default) */
    XUAN_SANDBOX_NONE = 1, /* rlimits and the timer only: trusted code, or no namespaces */
} xuan_sandbox_mode;

/* How a run ended.  Only PASSED counts as a pass. */
typedef enum xuan_sandbox_verdict {
    XUAN_SANDBOX_PASSED = 0,  /* exit status 0 (and the done mark, when asked for) */
    XUAN_SANDBOX_FAILED,      /* nonzero exit, an exception, a signal of its own */
    XUAN_SANDBOX_TIMEOUT,     /* still running at the wall-clock limit: killed */
    XUAN_SANDBOX_LIMIT,       /* stopped by a limit: memory, CPU time, file size */
    XUAN_SANDBOX_ERROR,       /* the sandbox could not be set up; the program did not run */
} xuan_sandbox_verdict;

/* Which limit stopped a XUAN_SANDBOX_LIMIT run.  Memory and file size are
 * read from the program's last line on stderr (Python raises MemoryError at
 * RLIMIT_AS and OSError EFBIG / ENOSPC at RLIMIT_FSIZE / a full tmpfs; it
 * ignores SIGXFSZ), or from a SIGKILL the runner did not send (the kernel's
 * OOM killer); CPU from SIGXCPU or the SIGKILL at the hard CPU limit. */
typedef enum xuan_sandbox_limit {
    XUAN_SANDBOX_LIMIT_NONE = 0,
    XUAN_SANDBOX_LIMIT_MEMORY,
    XUAN_SANDBOX_LIMIT_CPU,
    XUAN_SANDBOX_LIMIT_FSIZE,
} xuan_sandbox_limit;

/* Called by xuan_sandbox_run_many as each program finishes (in finishing
 * order); `index` is the program's place in the jobs array. */
typedef struct xuan_sandbox_result xuan_sandbox_result;
typedef void (*xuan_sandbox_done_fn)(void *ctx, size_t index, const xuan_sandbox_result *r);

/* A zero field takes the default named beside it. */
typedef struct xuan_sandbox_opts {
    xuan_sandbox_mode mode;
    const char *python;     /* "/usr/bin/python3"; FULL needs it under /usr (only /usr is mounted) */
    const char *name;       /* the program's file name in its dir, "main.py" (tracebacks show it) */
    double timeout_s;       /* wall-clock limit, 4 s (xuan_sandbox_timeout_for) */
    double cpu_s;           /* RLIMIT_CPU per process, ceil(timeout_s) + 1 s */
    uint64_t mem_bytes;     /* RLIMIT_AS, 2 GiB */
    uint64_t fsize_bytes;   /* RLIMIT_FSIZE, 16 MiB */
    uint64_t tmp_bytes;     /* size of the private /tmp (FULL), 64 MiB */
    uint32_t nproc;         /* RLIMIT_NPROC, 16 (counted per user namespace, Linux >= 5.14) */
    uint32_t nofile;        /* RLIMIT_NOFILE, 64 */
    size_t capture_bytes;   /* stdout and stderr kept, each, 64 KiB; the rest is counted */
    /* When set, the program gets a pipe as fd 3 and passes only if it also
     * wrote XUAN_SANDBOX_DONE_MARK there: append XUAN_SANDBOX_DONE_PY after
     * the tests, and a completion that calls exit(0) before them fails (as
     * in the reference harness, which runs the tests in-process). */
    bool require_done;
    const char *tmp_parent; /* NONE only: where its temp dir goes, $TMPDIR or /tmp */
    xuan_sandbox_done_fn on_done; /* run_many: progress callback, or NULL */
    void *on_done_ctx;
} xuan_sandbox_opts;

#define XUAN_SANDBOX_DONE_MARK "xuan-sandbox-done"
#define XUAN_SANDBOX_DONE_PY "\nimport os as _xuan_os\n_xuan_os.write(3, b'" XUAN_SANDBOX_DONE_MARK "')\n"

struct xuan_sandbox_result {
    xuan_sandbox_verdict verdict;
    xuan_sandbox_limit limit;  /* for XUAN_SANDBOX_LIMIT */
    int exit_code;             /* the program's exit status, -1 when a signal ended it */
    int signal;                /* the signal that ended it, 0 when it exited */
    bool timed_out;            /* the runner killed it at the wall-clock limit */
    bool done;                 /* XUAN_SANDBOX_DONE_MARK arrived on fd 3 */
    double wall_s;             /* start of the child to the last process reaped */
    double cpu_s;              /* user + system time of all its processes */
    uint64_t peak_rss_bytes;   /* the largest RSS of any of its processes */
    /* What it wrote, at most capture_bytes each (owned: free with
     * xuan_sandbox_result_free); when more came, the kept bytes end with a
     * line "[xuan sandbox: N bytes, kept the first M]" and *_truncated is set. */
    xuan_buf out, err;
    uint64_t out_total, err_total;
    bool out_truncated, err_truncated;
    char error[512];           /* for XUAN_SANDBOX_ERROR: the one-line reason */
};

xuan_sandbox_opts xuan_sandbox_opts_default(void);
/* The wall-clock limit for a program whose canonical solution took
 * `canonical_s` seconds: max(4 s, 4 x canonical_s). */
double xuan_sandbox_timeout_for(double canonical_s);
const char *xuan_sandbox_verdict_name(xuan_sandbox_verdict v); /* "passed", "timeout", ... */
const char *xuan_sandbox_limit_name(xuan_sandbox_limit l);     /* "memory", "cpu", "file size" */

/* Runs one program (len bytes of Python source; NUL bytes are allowed but
 * Python refuses them) and fills *r, which the caller frees with
 * xuan_sandbox_result_free.  Returns 0 when the program ran, whatever its
 * verdict; when the sandbox could not be set up (a namespace, a mount, the
 * interpreter), r->verdict is XUAN_SANDBOX_ERROR, r->error and err say why,
 * and the status is returned (XUAN_ERR_UNSUPPORTED for a missing kernel
 * feature, XUAN_ERR_USAGE for bad options, XUAN_ERR_IO otherwise).  The
 * result is filled in every case. */
int xuan_sandbox_run(const xuan_sandbox_opts *o, const char *program, size_t len,
                     xuan_sandbox_result *r, xuan_error *err);

/* One program of a batch; zero fields take the opts' values. */
typedef struct xuan_sandbox_job {
    const char *program;
    size_t len;
    const char *name;   /* file name, NULL: o->name */
    double timeout_s;   /* 0: o->timeout_s */
} xuan_sandbox_job;

/* Runs n programs, at most `parallel` at once (each in its own sandbox, one
 * event loop in the calling thread), for pass@k over many samples.
 * results[i] belongs to jobs[i]; all n are filled and must be freed.
 * After the first sandbox error no new program is started (those running
 * finish): the rest get XUAN_SANDBOX_ERROR "not run: ..." and that error
 * is returned. */
int xuan_sandbox_run_many(const xuan_sandbox_opts *o, const xuan_sandbox_job *jobs, size_t n,
                          int parallel, xuan_sandbox_result *results, xuan_error *err);

void xuan_sandbox_result_free(xuan_sandbox_result *r);

/* ---- end of sandbox ---- */

#ifdef __cplusplus
}
#endif
#endif /* XUAN_EVAL_H */
