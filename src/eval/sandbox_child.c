/*
 * sandbox_child.c — the child side of the sandbox: what runs between the
 * clone and the exec of Python.
 *
 *   sb_child_init   pid 1 of the new PID namespace: drops to the sandbox's
 *                   ids, builds the file system (below), forks the program,
 *                   reaps, reports the program's wait status, exits (which
 *                   kills whatever the program left behind)
 *   start_program   its child: descriptors, rlimits, capabilities dropped,
 *                   no_new_privs, seccomp, execve
 *   sb_child_plain  the XUAN_SANDBOX_NONE child: rlimits and execve only
 *
 * The file system the program sees (a tmpfs over /tmp is the new root):
 *   /usr                  the host's, read-only (Python, its libraries)
 *   /bin /lib /lib64 ...  the same symlinks as the host (merged /usr), or
 *                         read-only binds where the host has directories
 *   /etc                  passwd, group; ld.so.cache and localtime from the host
 *   /dev                  null, zero, full, random, urandom (the host's nodes)
 *   /tmp                  its own tmpfs (tmp_bytes), the working directory,
 *                         holding the program
 * and everything else read-only.  No /proc, /sys, /home, /run, /var.
 *
 * Only system calls from here on (no malloc, no stdio): the parent prepared
 * every string.  Errors go to the runner as an sb_msg with the errno.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT "/tmp" /* where the new root is mounted before pivot_root */

/* ---- reporting ---------------------------------------------------------- */

static void send_msg(int kind, int value, const char *what, const char *path) {
    sb_msg m;
    memset(&m, 0, sizeof m);
    m.kind = kind;
    m.value = value;
    size_t n = 0;
    for (const char *s = what; s && *s && n + 1 < sizeof m.what; s++) m.what[n++] = *s;
    if (path && n + 2 < sizeof m.what) m.what[n++] = ' ';
    for (const char *s = path; s && *s && n + 1 < sizeof m.what; s++) m.what[n++] = *s;
    ssize_t w = write(SB_FD_STATUS, &m, sizeof m);
    (void)w;
}

static _Noreturn void fail(const char *what, const char *path) {
    send_msg(SB_MSG_ERROR, errno, what, path);
    _exit(126);
}

/* A new child without glibc's fork: no atfork handlers, no malloc locks
 * (another thread of the caller may have held one at the clone). */
static pid_t raw_fork(void) {
    return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
}

/* /dev/null as a descriptor at or above `low`, close-on-exec. */
static int open_null(int low) {
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) fail("open", "/dev/null");
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, low);
    if (hi < 0) fail("fcntl", "/dev/null");
    close(fd);
    return hi;
}

/* ---- descriptors -------------------------------------------------------- */

static void close_from(int lowfd) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0u) == 0) return;
#endif
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
    for (long fd = lowfd; fd < max; fd++) close((int)fd);
}

/* Moves the parent's descriptors to SB_FD_* (-1: that slot stays closed),
 * closes all others.  Copies first go above any target, so no dup2 can
 * clobber a descriptor not yet moved. */
static void child_fds(const sb_child *c) {
    int tmp[SB_FD_COUNT];
    for (int i = 0; i < SB_FD_COUNT; i++)
        tmp[i] = c->fds[i] < 0 ? -1 : fcntl(c->fds[i], F_DUPFD, 64);
    for (int i = 0; i < SB_FD_COUNT; i++) {
        if (tmp[i] >= 0) {
            if (dup2(tmp[i], i) < 0) _exit(125);
        } else {
            close(i);
        }
    }
    close_from(SB_FD_COUNT);
}

/* ---- limits ------------------------------------------------------------- */

static void set_limit(int res, uint64_t soft, uint64_t hard, const char *name) {
    struct rlimit rl = {.rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard};
    if (setrlimit(res, &rl) != 0) fail("setrlimit", name);
}

static void set_limits(const sb_child *c) {
    set_limit(RLIMIT_AS, c->mem, c->mem, "RLIMIT_AS");
    set_limit(RLIMIT_CPU, c->cpu_soft, c->cpu_soft + 1, "RLIMIT_CPU");
    set_limit(RLIMIT_FSIZE, c->fsize, c->fsize, "RLIMIT_FSIZE");
    set_limit(RLIMIT_NOFILE, c->nofile, c->nofile, "RLIMIT_NOFILE");
    set_limit(RLIMIT_NPROC, c->nproc, c->nproc, "RLIMIT_NPROC");
    set_limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
    set_limit(RLIMIT_MEMLOCK, 0, 0, "RLIMIT_MEMLOCK");
    set_limit(RLIMIT_MSGQUEUE, 0, 0, "RLIMIT_MSGQUEUE");
}

/* ---- the file system ------------------------------------------------------ */

/* The flags a read-only remount of a bind must keep: the kernel refuses to
 * drop nosuid/nodev/noexec that a less privileged namespace inherited. */
static unsigned long locked_flags(const char *path) {
    struct statfs sf; /* statfs, not statvfs: a bare system call (glibc's statvfs may read /proc/mounts) */
    unsigned long f = 0;
    if (statfs(path, &sf) != 0) return 0;
    if (sf.f_flags & ST_NOSUID) f |= MS_NOSUID;
    if (sf.f_flags & ST_NODEV) f |= MS_NODEV;
    if (sf.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
    if (sf.f_flags & ST_NOATIME) f |= MS_NOATIME;
    if (sf.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sf.f_flags & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

static void bind(const char *src, const char *dst, bool ro) {
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) fail("bind-mount", src);
    if (ro && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(dst), NULL) != 0)
        fail("remount read-only", dst);
}

static void make_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) fail("create", path);
    size_t n = text ? strlen(text) : 0;
    if (n && write(fd, text, n) != (ssize_t)n) fail("write", path);
    close(fd);
}

/* Puts the host's `path` (absolute) at ROOT`path` as it is there: a symlink
 * is copied, a directory or file bound read-only (or read-write for device
 * nodes, which a read-only mount does not protect anyway); absent, nothing. */
static void mirror(const char *path, bool ro) {
    char dst[512], link[512];
    size_t n = strlen(ROOT), m = strlen(path);
    if (n + m + 1 > sizeof dst) fail("path too long", path);
    memcpy(dst, ROOT, n);
    memcpy(dst + n, path, m + 1);
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISLNK(st.st_mode)) {
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k >= 0) link[k] = 0;
        else fail("readlink", path);
        if (symlink(link, dst) != 0) fail("symlink", dst);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0755) != 0) fail("mkdir", dst);
    } else {
        make_file(dst, NULL);
    }
    bind(path, dst, ro);
}

static void build_root(const sb_child *c) {
    /* nothing of ours propagates back to the host */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("make / private", NULL);
    if (mount("xuan-sandbox", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755") != 0)
        fail("mount tmpfs on", ROOT);
    static const char *const DIRS[] = {ROOT "/etc", ROOT "/dev", ROOT "/tmp"};
    for (size_t i = 0; i < sizeof DIRS / sizeof DIRS[0]; i++)
        if (mkdir(DIRS[i], 0755) != 0) fail("mkdir", DIRS[i]);

    static const char *const SYSTEM[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (size_t i = 0; i < sizeof SYSTEM / sizeof SYSTEM[0]; i++) mirror(SYSTEM[i], true);
    mirror("/etc/ld.so.cache", true);
    mirror("/etc/localtime", true);
    make_file(ROOT "/etc/passwd", c->passwd);
    make_file(ROOT "/etc/group", "root:x:0:\nnogroup:x:65534:\n");
    static const char *const DEV[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (size_t i = 0; i < sizeof DEV / sizeof DEV[0]; i++) mirror(DEV[i], false);

    if (mount("xuan-sandbox-tmp", ROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, c->tmp_opts) != 0)
        fail("mount tmpfs on", ROOT "/tmp");
    int fd = open(c->prog_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) fail("create", c->prog_path);
    for (size_t off = 0; off < c->len;) {
        ssize_t w = write(fd, c->program + off, c->len - off);
        if (w <= 0) fail("write", c->prog_path);
        off += (size_t)w;
    }
    close(fd);

    /* pivot_root(".", ".") stacks the old root on the new one; detaching it
     * leaves only the new tree (pivot_root(2), "NOTES") */
    if (chdir(ROOT) != 0) fail("chdir", ROOT);
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root", ROOT);
    if (umount2(".", MNT_DETACH) != 0) fail("detach the old root", NULL);
    if (chdir("/") != 0) fail("chdir", "/");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        fail("remount / read-only", NULL);
    if (chdir("/tmp") != 0) fail("chdir", "/tmp");
}

/* ---- the program ---------------------------------------------------------- */

static void drop_capabilities(void) {
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) != 0) fail("capset", NULL);
}

static _Noreturn void exec_python(const sb_child *c) {
    execve(c->python, c->argv, c->envp);
    fail("execve", c->python);
}

static _Noreturn void start_program(const sb_child *c) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (fcntl(SB_FD_STATUS, F_SETFD, FD_CLOEXEC) != 0) fail("fcntl", NULL);
    close(SB_FD_SYNC);
    set_limits(c);
    drop_capabilities();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl no_new_privs", NULL);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->filter, 0, 0) != 0) fail("install the seccomp filter", NULL);
    exec_python(c);
}

_Noreturn void sb_child_init(const sb_child *c) {
    child_fds(c);
    char go = 0;
    if (read(SB_FD_SYNC, &go, 1) != 1 || go != 1) _exit(125); /* the runner gave up */

    /* the sandbox's own ids (mapped by the runner); the capabilities in the
     * new user namespace stay, because its uid 0 is not mapped */
    /* raw system calls: glibc's wrappers in a process it believes
     * multi-threaded (a clone of a threaded caller) signal every thread
     * of the parent's list to change ids together, and wait forever for
     * threads this child does not have */
    if (c->drop_groups && syscall(SYS_setgroups, 0, NULL) != 0) fail("setgroups", NULL);
    if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) != 0) fail("setresgid", NULL);
    if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) != 0) fail("setresuid", NULL);
    /* set after the id change, which clears it; then make sure the runner
     * did not die in between (its end of the sync pipe would be closed) */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct pollfd pf = {.fd = SB_FD_SYNC, .events = POLLIN};
    if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR))) _exit(125);

    int null = open_null(SB_FD_COUNT);
    build_root(c);
    if (sethostname("xuan-sandbox", 12) != 0) fail("sethostname", NULL);

    pid_t pid = raw_fork();
    if (pid < 0) fail("fork", NULL);
    if (pid == 0) {
        if (dup2(null, SB_FD_STDIN) < 0) fail("dup2", NULL);
        if (c->fds[SB_FD_DONE] < 0) close(SB_FD_DONE);
        start_program(c);
    }
    /* this process writes nothing but records: its copies of the output
     * pipes must not keep them open after the program is gone */
    close(SB_FD_OUT);
    close(SB_FD_ERR);
    close(SB_FD_DONE);
    close(null);
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w == pid) {
            send_msg(SB_MSG_STATUS, st, NULL, NULL);
            _exit(0); /* as pid 1: the kernel kills and reaps the rest */
        }
        if (w < 0 && errno != EINTR) _exit(124);
    }
}

_Noreturn void sb_child_plain(const sb_child *c) {
    child_fds(c);
    if (setpgid(0, 0) != 0) fail("setpgid", NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    int null = open_null(SB_FD_COUNT);
    if (dup2(null, SB_FD_STDIN) < 0) fail("dup2", "/dev/null");
    close(null);
    if (c->fds[SB_FD_DONE] < 0) close(SB_FD_DONE);
    close(SB_FD_SYNC);
    if (fcntl(SB_FD_STATUS, F_SETFD, FD_CLOEXEC) != 0) fail("fcntl", NULL);
    if (chdir(c->workdir) != 0) fail("chdir", c->workdir);
    set_limits(c);
    exec_python(c);
}
