/*
 * sandbox_internal.h — what the sandbox's runner (src/eval/sandbox.c) hands
 * to its child side (src/eval/sandbox_child.c) and its seccomp filter
 * (src/eval/sandbox_filter.c).  Not a public header.
 *
 * Everything the child needs is prepared here by the parent before the
 * fork: paths, argv, environment, the BPF program.  Between fork and exec
 * the child only makes system calls, never allocates, so it is safe after
 * a fork of a multi-threaded process and under AddressSanitizer.
 */
#ifndef XUAN_EVAL_SANDBOX_INTERNAL_H
#define XUAN_EVAL_SANDBOX_INTERNAL_H

#include "xuan/eval.h"

#include <linux/filter.h>
#include <sys/types.h>

/* The child's descriptors, at fixed numbers after sb_child_fds(). */
enum {
    SB_FD_STDIN = 0,
    SB_FD_OUT = 1,
    SB_FD_ERR = 2,
    SB_FD_DONE = 3,   /* the program's fd 3 (require_done), else closed */
    SB_FD_STATUS = 4, /* child -> runner: sb_msg records */
    SB_FD_SYNC = 5,   /* runner -> child (a socket pair): one byte once the id maps are written */
    SB_FD_COUNT = 6,
};

/* One record on the status pipe (shorter than PIPE_BUF: written at once). */
enum { SB_MSG_ERROR = 1, SB_MSG_STATUS = 2 };
typedef struct sb_msg {
    int32_t kind;  /* SB_MSG_* */
    int32_t value; /* errno for ERROR, the wait status of the program for STATUS */
    char what[240];
} sb_msg;

typedef struct sb_child {
    xuan_sandbox_mode mode;
    int fds[SB_FD_COUNT];  /* the parent's numbers of the child's ends, -1 for none */
    const char *python;    /* resolved path */
    char *const *argv;
    char *const *envp;
    uint32_t uid, gid;     /* the ids it runs as, inside = outside (nobody, or the caller) */
    bool drop_groups;      /* setgroups(0) is allowed (the caller is root) */
    const char *program;
    size_t len;
    char prog_path[4096];  /* FULL: before pivot_root (/tmp/tmp/NAME); NONE: in the work dir */
    char workdir[4096];    /* NONE: the temp dir on the host */
    char tmp_opts[96];     /* "size=N,nr_inodes=N,mode=1777" for the private /tmp */
    char passwd[256];      /* the /etc/passwd it sees */
    uint64_t mem, fsize;
    uint32_t nproc, nofile;
    uint64_t cpu_soft;
    const struct sock_fprog *filter; /* FULL: the seccomp program */
} sb_child;

/* Runs in the child of a clone with new namespaces: sets up the mounts,
 * forks the program, reaps, reports.  Never returns. */
_Noreturn void sb_child_init(const sb_child *c);
/* The NONE child: rlimits, the work dir, exec.  Never returns. */
_Noreturn void sb_child_plain(const sb_child *c);

/* The seccomp program (built once, kept for the process's life), or NULL
 * with err set. */
const struct sock_fprog *sb_filter_get(xuan_error *err);

#endif
