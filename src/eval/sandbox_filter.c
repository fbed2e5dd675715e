/*
 * sandbox_filter.c — the seccomp filter of the sandbox: a denylist of the
 * system calls generated code never needs, answered with EPERM.
 *
 * A denylist, not an allowlist: CPython and its extension modules make a
 * long tail of ordinary calls (and glibc changes which ones), and an
 * allowlist that misses one turns a correct solution into a failure.  The
 * namespaces already cut the program off from the host; the filter takes
 * away the kernel surface that could undo them or reach outside anyway.
 *
 * The filter is built with libseccomp in the parent and exported as BPF
 * once; the child only installs it with prctl (libseccomp allocates, which
 * a child of a multi-threaded fork must not do).  System calls of other
 * ABIs (i386 via int 0x80, x32) kill the process (libseccomp's default for
 * a foreign architecture).
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Denied outright with EPERM.  Names the installed libseccomp does not
 * know are skipped (they do not exist on its kernel headers either). */
static const char *const DENY[] = {
    /* other processes' memory */
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    /* the mount table: the sandbox's view stays as set up */
    "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
    "fspick", "open_tree", "move_mount", "mount_setattr",
    /* namespaces after setup (clone's namespace flags: below) */
    "unshare", "setns",
    /* the kernel itself */
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "bpf", "perf_event_open", "userfaultfd", "iopl", "ioperm", "uselib", "syslog",
    "lookup_dcookie", "nfsservctl", "vhangup", "acct", "quotactl", "quotactl_fd",
    "swapon", "swapoff", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    /* keyrings */
    "keyctl", "add_key", "request_key",
    /* the clock and names of the machine */
    "clock_settime", "clock_adjtime", "settimeofday", "adjtimex", "stime",
    "sethostname", "setdomainname",
    /* io_uring does socket and file operations this filter would not see */
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

static struct sock_fprog g_prog;
static char g_error[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_fail(const char *what, int rc) {
    snprintf(g_error, sizeof g_error, "sandbox: seccomp: %s: %s", what, strerror(rc < 0 ? -rc : rc));
}

/* Argument 0 compared with op (SCMP_A0 leaves datum_b to the compiler:
 * clang warns about the missing initializer). */
static struct scmp_arg_cmp arg0(enum scmp_compare op, scmp_datum_t a, scmp_datum_t b) {
    struct scmp_arg_cmp c = {.arg = 0, .op = op, .datum_a = a, .datum_b = b};
    return c;
}

static void build(void) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return build_fail("seccomp_init", ENOMEM);
    int rc = 0;
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    for (size_t i = 0; i < sizeof DENY / sizeof DENY[0] && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(DENY[i]);
        if (nr == __NR_SCMP_ERROR) continue;
        rc = seccomp_rule_add(ctx, eperm, nr, 0);
        if (rc == -EDOM || rc == -EFAULT) rc = 0; /* not a system call on this ABI */
    }
    /* sockets: AF_UNIX only (no network, and a netlink socket could bring lo up) */
    if (rc == 0) rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 1, arg0(SCMP_CMP_NE, AF_UNIX, 0));
    if (rc == 0) rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(socketpair), 1, arg0(SCMP_CMP_NE, AF_UNIX, 0));
    /* clone with any namespace flag (one rule per flag: rules of a call are or-ed) */
    static const uint64_t NS_FLAGS[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
                                        CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME};
    for (size_t i = 0; i < sizeof NS_FLAGS / sizeof NS_FLAGS[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
                              arg0(SCMP_CMP_MASKED_EQ, NS_FLAGS[i], NS_FLAGS[i]));
    /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes
     * glibc fall back to clone, which is checked above */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc != 0) {
        seccomp_release(ctx);
        return build_fail("adding a rule", rc);
    }

    int fd = memfd_create("xuan-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        seccomp_release(ctx);
        return build_fail("memfd_create", errno);
    }
    rc = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 || size > (1 << 20)) {
        close(fd);
        return build_fail("exporting the filter", rc ? rc : EINVAL);
    }
    struct sock_filter *insns = xuan_malloc((size_t)size); /* kept for the process's life */
    if (!insns || pread(fd, insns, (size_t)size, 0) != size) {
        close(fd);
        xuan_free(insns);
        return build_fail("reading the filter", insns ? EIO : ENOMEM);
    }
    close(fd);
    g_prog.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    g_prog.filter = insns;
}

const struct sock_fprog *sb_filter_get(xuan_error *err) {
    pthread_once(&g_once, build);
    if (!g_prog.filter) {
        xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s", g_error[0] ? g_error : "sandbox: seccomp filter not built");
        return NULL;
    }
    return &g_prog;
}
