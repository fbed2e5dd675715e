/*
 * sandbox.c — the runner of the sandbox for generated code (include/xuan/eval.h,
 * docs/sandbox.md): starts each program in its own namespaces, watches its
 * output and its clock, kills and reaps it, and says how it ended.
 *
 *   options      defaults, names, checks
 *   starting     pipes, clone with new namespaces, the id maps, the NONE fork
 *   watching     one poll loop over every running program: output, the done
 *                mark, status records, the deadline, the exit
 *   verdicts     exit status, signal and stderr's last line -> verdict
 *   run_many     at most `parallel` at once; run is run_many of one
 *
 * The child side is src/eval/sandbox_child.c, the seccomp filter
 * src/eval/sandbox_filter.c.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------ */

xuan_sandbox_opts xuan_sandbox_opts_default(void) {
    xuan_sandbox_opts o = {0};
    o.mode = XUAN_SANDBOX_FULL;
    o.python = "/usr/bin/python3";
    o.name = "main.py";
    o.timeout_s = 4.0;
    o.mem_bytes = 2ull << 30;
    o.fsize_bytes = 16ull << 20;
    o.tmp_bytes = 64ull << 20;
    o.nproc = 16;
    o.nofile = 64;
    o.capture_bytes = 64u << 10;
    return o;
}

double xuan_sandbox_timeout_for(double canonical_s) {
    return canonical_s > 1.0 ? 4.0 * canonical_s : 4.0;
}

const char *xuan_sandbox_verdict_name(xuan_sandbox_verdict v) {
    static const char *const NAMES[] = {"passed", "failed", "timeout", "limit", "sandbox-error"};
    return (unsigned)v < sizeof NAMES / sizeof NAMES[0] ? NAMES[v] : "?";
}

const char *xuan_sandbox_limit_name(xuan_sandbox_limit l) {
    static const char *const NAMES[] = {"none", "memory", "cpu", "file size"};
    return (unsigned)l < sizeof NAMES / sizeof NAMES[0] ? NAMES[l] : "?";
}

void xuan_sandbox_result_free(xuan_sandbox_result *r) {
    if (!r) return;
    xuan_buf_free(&r->out);
    xuan_buf_free(&r->err);
}

/* The opts with every zero field defaulted. */
static xuan_sandbox_opts resolve(const xuan_sandbox_opts *in) {
    xuan_sandbox_opts d = xuan_sandbox_opts_default(), o = in ? *in : d;
    if (!o.python) o.python = d.python;
    if (!o.name) o.name = d.name;
    if (!(o.timeout_s > 0)) o.timeout_s = d.timeout_s;
    if (!o.mem_bytes) o.mem_bytes = d.mem_bytes;
    if (!o.fsize_bytes) o.fsize_bytes = d.fsize_bytes;
    if (!o.tmp_bytes) o.tmp_bytes = d.tmp_bytes;
    if (!o.nproc) o.nproc = d.nproc;
    if (!o.nofile) o.nofile = d.nofile;
    if (!o.capture_bytes) o.capture_bytes = d.capture_bytes;
    return o;
}

/* A file name of its own directory: [A-Za-z0-9._-], not "." or "..". */
static bool good_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 200 || !strcmp(s, ".") || !strcmp(s, "..")) return false;
    for (const char *p = s; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '.' && *p != '_' && *p != '-')
            return false;
    return true;
}

/* The interpreter, resolved, and checked to be inside what FULL mounts. */
static int check_python(const xuan_sandbox_opts *o, char real[PATH_MAX], xuan_error *err) {
    if (!realpath(o->python, real))
        return xuan_fail(err, XUAN_ERR_NOTFOUND,
                         "sandbox: python interpreter %s: %s (Debian's is /usr/bin/python3: apt-get install python3)",
                         o->python, strerror(errno));
    if (access(real, X_OK) != 0)
        return xuan_fail(err, XUAN_ERR_USAGE, "sandbox: python interpreter %s is not executable", real);
    if (o->mode == XUAN_SANDBOX_FULL && strncmp(real, "/usr/", 5) != 0)
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "sandbox: python interpreter %s resolves to %s, outside /usr, the only system tree the "
                         "sandbox mounts; use /usr/bin/python3 (Debian's)",
                         o->python, real);
    return 0;
}

/* ---- a running program ----------------------------------------------------- */

typedef struct run {
    size_t index;
    xuan_sandbox_result *r;
    sb_child c;
    char *argv[6];
    char *envp[8];
    char env_home[4200], env_tmp[4200];
    char python[PATH_MAX];
    pid_t pid;
    int pidfd;
    int fd[SB_FD_COUNT]; /* the parent's ends, by child slot; -1 closed */
    uint64_t t0, deadline;
    bool killed, reaped;
    bool require_done;
    int wait_status;
    struct rusage ru;
    size_t cap;
    char done_buf[64];
    size_t done_len;
    char err_tail[512]; /* the last bytes of stderr, for the limit check */
    size_t tail_len;
    unsigned char msgs[4 * sizeof(sb_msg)];
    size_t msgs_len;
} run;

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* ---- starting ---------------------------------------------------------------- */

static pid_t raw_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
}

static const struct {
    unsigned long flag;
    const char *name;
} NAMESPACES[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWPID, "PID"}, {CLONE_NEWNET, "network"},
    {CLONE_NEWNS, "mount"},  {CLONE_NEWIPC, "IPC"}, {CLONE_NEWUTS, "UTS"},
};
#define SB_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)

/* The clone with all namespaces failed with `e`: finds the first one that
 * cannot be created (each tried with a new user namespace, as the real
 * clone does) and says how to enable it. */
static int namespace_error(int e, xuan_error *err) {
    const char *which = NULL;
    int why = e;
    for (size_t i = 0; i < sizeof NAMESPACES / sizeof NAMESPACES[0] && !which; i++) {
        pid_t p = raw_clone(CLONE_NEWUSER | NAMESPACES[i].flag);
        if (p == 0) _exit(0);
        if (p < 0) {
            which = NAMESPACES[i].name;
            why = errno;
        } else {
            waitpid(p, NULL, 0);
        }
    }
    if (!which) which = "user+PID+network+mount+IPC+UTS";
    const char *how = !strcmp(which, "user")
                          ? "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
                            "on Debian, user.max_user_namespaces > 0, on Ubuntu "
                            "kernel.apparmor_restrict_unprivileged_userns=0; in Docker --security-opt "
                            "seccomp=unconfined)"
                          : "the kernel or the container forbids it; run on a VM or host that allows it";
    return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                     "sandbox: cannot create a %s namespace (%s): %s, or pass --sandbox=none to run generated "
                     "code unsandboxed",
                     which, strerror(why), how);
}

static int write_proc(pid_t pid, const char *file, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int e = errno;
    close(fd);
    errno = e;
    return w == (ssize_t)n ? 0 : -1;
}

/* Fills the child's plan: ids, limits, argv, environment, paths. */
static int plan(run *u, const xuan_sandbox_opts *o, const char *name, double timeout_s, xuan_error *err) {
    sb_child *c = &u->c;
    c->mode = o->mode;
    c->python = u->python;
    bool root = geteuid() == 0;
    c->uid = root ? 65534 : (uint32_t)geteuid();
    c->gid = root ? 65534 : (uint32_t)getegid();
    c->drop_groups = root;
    c->mem = o->mem_bytes;
    c->fsize = o->fsize_bytes;
    c->nproc = o->nproc;
    c->nofile = o->nofile;
    c->cpu_soft = o->cpu_s > 0 ? (uint64_t)ceil(o->cpu_s) : (uint64_t)ceil(timeout_s) + 1;
    /* nr_inodes: empty files cost kernel memory that size= does not count */
    snprintf(c->tmp_opts, sizeof c->tmp_opts, "size=%llu,nr_inodes=16384,mode=1777", (unsigned long long)o->tmp_bytes);
    snprintf(c->passwd, sizeof c->passwd, "root:x:0:0::/:/usr/sbin/nologin\nsandbox:x:%u:%u::/tmp:/usr/sbin/nologin\n",
             c->uid, c->gid);
    const char *home = "/tmp";
    if (o->mode == XUAN_SANDBOX_FULL) {
        snprintf(c->prog_path, sizeof c->prog_path, "/tmp/tmp/%s", name);
    } else {
        const char *parent = o->tmp_parent ? o->tmp_parent : getenv("TMPDIR");
        if (!parent || !*parent) parent = "/tmp";
        if ((size_t)snprintf(c->workdir, sizeof c->workdir, "%s/xuan-sandbox-XXXXXX", parent) >= 2048)
            return xuan_fail(err, XUAN_ERR_USAGE, "sandbox: temp dir parent too long: %s", parent);
        if (!mkdtemp(c->workdir)) {
            int e = errno;
            c->workdir[0] = 0;
            return xuan_fail(err, XUAN_ERR_IO, "sandbox: cannot make a temp dir in %s: %s", parent, strerror(e));
        }
        snprintf(c->prog_path, sizeof c->prog_path, "%s/%s", c->workdir, name);
        home = c->workdir;
    }
    snprintf(u->env_home, sizeof u->env_home, "HOME=%s", home);
    snprintf(u->env_tmp, sizeof u->env_tmp, "TMPDIR=%s", home);
    int k = 0;
    u->envp[k++] = "PATH=/usr/bin:/bin";
    u->envp[k++] = u->env_home;
    u->envp[k++] = u->env_tmp;
    u->envp[k++] = "LANG=C.UTF-8";
    u->envp[k++] = "PYTHONHASHSEED=0";
    u->envp[k++] = "PYTHONDONTWRITEBYTECODE=1";
    u->envp[k] = NULL;
    u->argv[0] = "python3";
    u->argv[1] = "-B";
    u->argv[2] = "-s";
    u->argv[3] = (char *)name;
    u->argv[4] = NULL;
    c->argv = u->argv;
    c->envp = u->envp;
    return 0;
}

/* Starts the program of u (planned); on failure everything it made is undone. */
static int start(run *u, const xuan_sandbox_opts *o, const struct sock_fprog *filter, xuan_error *err) {
    sb_child *c = &u->c;
    int child[SB_FD_COUNT];
    for (int i = 0; i < SB_FD_COUNT; i++) child[i] = u->fd[i] = -1;
    int rc = 0;
    for (int i = SB_FD_OUT; i < SB_FD_COUNT && rc == 0; i++) {
        if (i == SB_FD_DONE && !o->require_done) continue;
        /* the sync channel is a socket so that the runner's send to a child
         * that died cannot raise SIGPIPE in the caller */
        bool to_child = i == SB_FD_SYNC; /* the runner writes, the child reads */
        int p[2];
        if ((to_child ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) : pipe2(p, O_CLOEXEC)) != 0) {
            rc = xuan_fail(err, XUAN_ERR_IO, "sandbox: pipe: %s", strerror(errno));
            break;
        }
        u->fd[i] = to_child ? p[1] : p[0];
        child[i] = to_child ? p[0] : p[1];
        if (!to_child) fcntl(u->fd[i], F_SETFL, O_NONBLOCK);
    }
    if (rc == 0 && c->mode == XUAN_SANDBOX_NONE) {
        int fd = open(c->prog_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t off = 0;
        while (fd >= 0 && off < c->len) {
            ssize_t w = write(fd, c->program + off, c->len - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
        if (fd < 0 || off < c->len) rc = xuan_fail(err, XUAN_ERR_IO, "sandbox: writing %s: %s", c->prog_path, strerror(errno));
        if (fd >= 0) close(fd);
    }
    memcpy(c->fds, child, sizeof child);
    c->filter = filter;
    u->t0 = xuan_time_ns();
    if (rc == 0) {
        u->pid = raw_clone(c->mode == XUAN_SANDBOX_FULL ? SB_NS_FLAGS : 0);
        if (u->pid == 0) {
            if (c->mode == XUAN_SANDBOX_FULL) sb_child_init(c);
            sb_child_plain(c);
        }
        if (u->pid < 0) {
            int e = errno;
            rc = c->mode == XUAN_SANDBOX_FULL ? namespace_error(e, err)
                                              : xuan_fail(err, XUAN_ERR_IO, "sandbox: fork: %s", strerror(e));
        }
    }
    for (int i = 0; i < SB_FD_COUNT; i++) close_fd(&child[i]);
    if (rc == 0 && c->mode == XUAN_SANDBOX_NONE) setpgid(u->pid, u->pid); /* also done by the child: no race */
    if (rc == 0 && c->mode == XUAN_SANDBOX_FULL) {
        /* the maps: the sandbox's uid and gid inside are the same numbers outside */
        char map[64];
        const char *step = "uid_map";
        snprintf(map, sizeof map, "%u %u 1\n", c->uid, c->uid);
        int w = write_proc(u->pid, "uid_map", map);
        if (w == 0 && !c->drop_groups) w = write_proc(u->pid, "setgroups", "deny"), step = "setgroups";
        if (w == 0) {
            snprintf(map, sizeof map, "%u %u 1\n", c->gid, c->gid);
            w = write_proc(u->pid, "gid_map", map);
            step = "gid_map";
        }
        char go = 1;
        if (w != 0) rc = xuan_fail(err, XUAN_ERR_UNSUPPORTED, "sandbox: writing /proc/%d/%s: %s", (int)u->pid, step, strerror(errno));
        else if (send(u->fd[SB_FD_SYNC], &go, 1, MSG_NOSIGNAL) != 1)
            rc = xuan_fail(err, XUAN_ERR_IO, "sandbox: starting the child: %s", strerror(errno));
        if (rc != 0) {
            kill(u->pid, SIGKILL);
            waitpid(u->pid, NULL, 0);
        }
    }
    if (rc != 0) {
        for (int i = 0; i < SB_FD_COUNT; i++) close_fd(&u->fd[i]);
        u->pid = -1;
        return rc;
    }
#ifdef SYS_pidfd_open
    u->pidfd = (int)syscall(SYS_pidfd_open, u->pid, 0);
#else
    u->pidfd = -1;
#endif
    return 0;
}

/* ---- watching ------------------------------------------------------------------ */

static void keep(xuan_buf *b, uint64_t *total, size_t cap, const char *p, size_t n) {
    *total += n;
    if (b->len < cap) {
        size_t k = n < cap - b->len ? n : cap - b->len;
        if (xuan_buf_append(b, p, k) != 0) return; /* out of memory: the count still says how much came */
    }
}

/* Reads what is there on u's pipes; closes those at end of file. */
static void drain(run *u) {
    char chunk[65536];
    for (int i = SB_FD_OUT; i < SB_FD_SYNC; i++) {
        while (u->fd[i] >= 0) {
            ssize_t n = read(u->fd[i], chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) {
                close_fd(&u->fd[i]);
                break;
            }
            size_t k = (size_t)n;
            if (i == SB_FD_OUT) {
                keep(&u->r->out, &u->r->out_total, u->cap, chunk, k);
            } else if (i == SB_FD_ERR) {
                keep(&u->r->err, &u->r->err_total, u->cap, chunk, k);
                size_t t = k < sizeof u->err_tail ? k : sizeof u->err_tail;
                if (u->tail_len + t > sizeof u->err_tail) {
                    size_t drop = u->tail_len + t - sizeof u->err_tail;
                    memmove(u->err_tail, u->err_tail + drop, u->tail_len - drop);
                    u->tail_len -= drop;
                }
                memcpy(u->err_tail + u->tail_len, chunk + k - t, t);
                u->tail_len += t;
            } else if (i == SB_FD_DONE) {
                size_t t = k < sizeof u->done_buf - u->done_len ? k : sizeof u->done_buf - u->done_len;
                memcpy(u->done_buf + u->done_len, chunk, t);
                u->done_len += t;
            } else { /* status records */
                size_t t = k < sizeof u->msgs - u->msgs_len ? k : sizeof u->msgs - u->msgs_len;
                memcpy(u->msgs + u->msgs_len, chunk, t);
                u->msgs_len += t;
            }
        }
    }
}

/* Reaps u if it has ended. */
static void try_reap(run *u) {
    if (u->reaped) return;
    pid_t w = wait4(u->pid, &u->wait_status, WNOHANG, &u->ru);
    if (w == u->pid) u->reaped = true;
    else if (w < 0 && errno != EINTR) u->reaped = true, u->wait_status = -1; /* not ours any more */
}

static void kill_run(run *u) {
    if (u->c.mode == XUAN_SANDBOX_NONE) kill(-u->pid, SIGKILL);
    kill(u->pid, SIGKILL); /* FULL: pid 1 of its namespace, whose death kills the rest */
}

/* ---- verdicts ---------------------------------------------------------------------- */

/* The last non-empty line of stderr says which limit Python met. */
static xuan_sandbox_limit limit_from_stderr(const run *u) {
    size_t n = u->tail_len;
    while (n > 0 && (u->err_tail[n - 1] == '\n' || u->err_tail[n - 1] == '\r' || u->err_tail[n - 1] == ' ')) n--;
    size_t s = n;
    while (s > 0 && u->err_tail[s - 1] != '\n') s--;
    char line[sizeof u->err_tail + 1];
    memcpy(line, u->err_tail + s, n - s);
    line[n - s] = 0;
    if (!strncmp(line, "MemoryError", 11)) return XUAN_SANDBOX_LIMIT_MEMORY;
    if (strstr(line, "[Errno 27]") || strstr(line, "[Errno 28]")) return XUAN_SANDBOX_LIMIT_FSIZE;
    return XUAN_SANDBOX_LIMIT_NONE;
}

static void mark_truncated(xuan_buf *b, uint64_t total, bool *flag) {
    if (total <= b->len) return;
    *flag = true;
    xuan_buf_printf(b, "\n[xuan sandbox: %llu bytes, kept the first %zu]\n", (unsigned long long)total, b->len);
}

/* Everything about u is in: fills its result. */
static void finish(run *u) {
    xuan_sandbox_result *r = u->r;
    r->wall_s = (double)(xuan_time_ns() - u->t0) / 1e9;
    r->cpu_s = (double)u->ru.ru_utime.tv_sec + (double)u->ru.ru_utime.tv_usec / 1e6 +
               (double)u->ru.ru_stime.tv_sec + (double)u->ru.ru_stime.tv_usec / 1e6;
    r->peak_rss_bytes = (uint64_t)u->ru.ru_maxrss * 1024u;
    r->timed_out = u->killed;
    r->done = u->done_len >= strlen(XUAN_SANDBOX_DONE_MARK) &&
              memmem(u->done_buf, u->done_len, XUAN_SANDBOX_DONE_MARK, strlen(XUAN_SANDBOX_DONE_MARK)) != NULL;
    r->exit_code = -1;
    mark_truncated(&r->out, r->out_total, &r->out_truncated);
    mark_truncated(&r->err, r->err_total, &r->err_truncated);

    int st = u->wait_status;
    bool have = u->c.mode == XUAN_SANDBOX_NONE;
    for (size_t off = 0; off + sizeof(sb_msg) <= u->msgs_len; off += sizeof(sb_msg)) {
        sb_msg m;
        memcpy(&m, u->msgs + off, sizeof m);
        m.what[sizeof m.what - 1] = 0;
        if (m.kind == SB_MSG_ERROR && !r->error[0])
            snprintf(r->error, sizeof r->error, "sandbox: %.200s: %.80s%s", m.what, strerror(m.value),
                     m.value == EPERM ? " (a user namespace without capabilities? on Ubuntu: sysctl "
                                        "kernel.apparmor_restrict_unprivileged_userns=0; or --sandbox=none)"
                                      : "");
        else if (m.kind == SB_MSG_STATUS && u->c.mode == XUAN_SANDBOX_FULL)
            st = m.value, have = true;
    }
    if (r->error[0]) {
        r->verdict = XUAN_SANDBOX_ERROR;
        return;
    }
    if (u->killed) {
        r->verdict = XUAN_SANDBOX_TIMEOUT;
        r->signal = SIGKILL;
        return;
    }
    if (!have || st == -1) {
        r->verdict = XUAN_SANDBOX_ERROR;
        snprintf(r->error, sizeof r->error, "sandbox: its init process ended without a status (wait status %d)", st);
        return;
    }
    if (WIFEXITED(st)) {
        r->exit_code = WEXITSTATUS(st);
        if (r->exit_code == 0) {
            r->verdict = !u->require_done || r->done ? XUAN_SANDBOX_PASSED : XUAN_SANDBOX_FAILED;
            return;
        }
        r->limit = limit_from_stderr(u);
        r->verdict = r->limit ? XUAN_SANDBOX_LIMIT : XUAN_SANDBOX_FAILED;
        return;
    }
    r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (r->signal == SIGXCPU) r->limit = XUAN_SANDBOX_LIMIT_CPU;
    else if (r->signal == SIGXFSZ) r->limit = XUAN_SANDBOX_LIMIT_FSIZE;
    else if (r->signal == SIGKILL) /* not the runner's: the hard CPU limit, or the OOM killer */
        r->limit = r->cpu_s + 0.5 >= (double)u->c.cpu_soft ? XUAN_SANDBOX_LIMIT_CPU : XUAN_SANDBOX_LIMIT_MEMORY;
    r->verdict = r->limit ? XUAN_SANDBOX_LIMIT : XUAN_SANDBOX_FAILED;
}

/* u has been reaped: reads the rest, closes, cleans up. */
static void close_run(run *u) {
    drain(u);
    if (u->c.mode == XUAN_SANDBOX_NONE) kill(-u->pid, SIGKILL); /* what the program left in its group */
    for (int i = 0; i < SB_FD_COUNT; i++) close_fd(&u->fd[i]);
    close_fd(&u->pidfd);
    finish(u);
    if (u->c.workdir[0]) nftw(u->c.workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- run_many ------------------------------------------------------------------------ */

static void set_error(xuan_sandbox_result *r, const char *msg) {
    r->verdict = XUAN_SANDBOX_ERROR;
    snprintf(r->error, sizeof r->error, "%s", msg);
}

int xuan_sandbox_run_many(const xuan_sandbox_opts *in, const xuan_sandbox_job *jobs, size_t n, int parallel,
                          xuan_sandbox_result *results, xuan_error *err) {
    for (size_t i = 0; i < n; i++) memset(&results[i], 0, sizeof results[i]);
    xuan_sandbox_opts o = resolve(in);
    int rc = 0;
    xuan_error first = {0};
    char python[PATH_MAX] = "";
    const struct sock_fprog *filter = NULL;
    if (parallel < 1) parallel = 1;
    if ((size_t)parallel > n) parallel = n ? (int)n : 1;
    if (o.mode != XUAN_SANDBOX_FULL && o.mode != XUAN_SANDBOX_NONE)
        rc = xuan_fail(&first, XUAN_ERR_USAGE, "sandbox: unknown mode %d", (int)o.mode);
    if (rc == 0) rc = check_python(&o, python, &first);
    if (rc == 0 && o.mode == XUAN_SANDBOX_FULL && !(filter = sb_filter_get(&first))) rc = first.code;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = jobs[i].name ? jobs[i].name : o.name;
        if (!good_name(name))
            rc = xuan_fail(&first, XUAN_ERR_USAGE, "sandbox: program name '%s' is not a plain file name", name);
    }

    run *runs = rc == 0 ? xuan_calloc((size_t)parallel, sizeof *runs) : NULL;
    struct pollfd *pfd = rc == 0 ? xuan_calloc((size_t)parallel * (SB_FD_COUNT + 1), sizeof *pfd) : NULL;
    if (rc == 0 && (!runs || !pfd)) rc = xuan_fail(&first, XUAN_ERR_NOMEM, "sandbox: out of memory");
    size_t next = 0;
    int active = 0;
    /* after an error nothing new starts; what runs finishes */
    bool poll_failed = false;
    while (!poll_failed && (active > 0 || (rc == 0 && next < n))) {
        /* start programs while there is room */
        while (active < parallel && next < n && rc == 0) {
            run *u = &runs[active];
            memset(u, 0, sizeof *u);
            u->index = next;
            u->r = &results[next];
            u->cap = o.capture_bytes;
            u->require_done = o.require_done;
            u->pidfd = -1;
            memcpy(u->python, python, sizeof python);
            const xuan_sandbox_job *j = &jobs[next++];
            double timeout = j->timeout_s > 0 ? j->timeout_s : o.timeout_s;
            if (timeout > 1e7) timeout = 1e7; /* four months: keeps the nanoseconds in range */
            u->c.program = j->program;
            u->c.len = j->len;
            xuan_error e = {0};
            if (plan(u, &o, j->name ? j->name : o.name, timeout, &e) == 0 && start(u, &o, filter, &e) == 0) {
                u->deadline = u->t0 + (uint64_t)(timeout * 1e9);
                active++;
                continue;
            }
            if (u->c.workdir[0]) nftw(u->c.workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
            set_error(u->r, e.msg);
            if (o.on_done) o.on_done(o.on_done_ctx, u->index, u->r);
            first = e;
            rc = e.code ? (int)e.code : XUAN_ERR_IO;
        }
        if (active == 0) break;

        /* wait for output, an exit or the next deadline */
        nfds_t np = 0;
        uint64_t now = xuan_time_ns(), wake = UINT64_MAX;
        bool tick = false;
        for (int a = 0; a < active; a++) {
            run *u = &runs[a];
            for (int i = SB_FD_OUT; i < SB_FD_SYNC; i++)
                if (u->fd[i] >= 0) pfd[np++] = (struct pollfd){.fd = u->fd[i], .events = POLLIN};
            if (u->pidfd >= 0) pfd[np++] = (struct pollfd){.fd = u->pidfd, .events = POLLIN};
            else tick = true;
            if (!u->killed && u->deadline < wake) wake = u->deadline;
            if (u->killed) tick = true;
        }
        int ms = wake == UINT64_MAX ? 1000 : wake <= now ? 0 : (int)((wake - now) / 1000000u) + 1;
        if (tick && ms > 10) ms = 10;
        if (poll(pfd, np, ms) < 0 && errno != EINTR) {
            if (rc == 0) rc = xuan_fail(&first, XUAN_ERR_IO, "sandbox: poll: %s", strerror(errno));
            poll_failed = true;
            break;
        }

        /* read, check the clocks, reap */
        now = xuan_time_ns();
        for (int a = 0; a < active;) {
            run *u = &runs[a];
            drain(u);
            try_reap(u); /* first: a program that ended just before its deadline passed */
            if (!u->reaped && !u->killed && now >= u->deadline) {
                kill_run(u);
                u->killed = true;
            }
            if (!u->reaped) {
                a++;
                continue;
            }
            close_run(u);
            if (o.on_done) o.on_done(o.on_done_ctx, u->index, u->r);
            if (u->r->verdict == XUAN_SANDBOX_ERROR && rc == 0)
                rc = xuan_fail(&first, XUAN_ERR_IO, "%s", u->r->error);
            runs[a] = runs[--active]; /* c.argv & co point into the old slot: the child has used them */
        }
    }

    /* poll failed: kill and reap what runs; mark what did not run */
    for (int a = 0; a < active; a++) {
        kill_run(&runs[a]);
        waitpid(runs[a].pid, NULL, 0);
        runs[a].reaped = true;
        close_run(&runs[a]);
        if (!runs[a].r->error[0]) set_error(runs[a].r, "sandbox: stopped: the runner's poll failed");
        runs[a].r->verdict = XUAN_SANDBOX_ERROR;
        if (o.on_done) o.on_done(o.on_done_ctx, runs[a].index, runs[a].r);
    }
    if (rc != 0) {
        char msg[sizeof results[0].error];
        snprintf(msg, sizeof msg, "not run: %.480s", first.msg);
        for (size_t i = next; i < n; i++) set_error(&results[i], msg);
        if (err) *err = first;
    }
    xuan_free(runs);
    xuan_free(pfd);
    return rc;
}

int xuan_sandbox_run(const xuan_sandbox_opts *o, const char *program, size_t len, xuan_sandbox_result *r,
                     xuan_error *err) {
    xuan_sandbox_job job = {.program = program, .len = len};
    int rc = xuan_sandbox_run_many(o, &job, 1, 1, r, err);
    if (rc == 0 && r->verdict == XUAN_SANDBOX_ERROR) {
        xuan_fail(err, XUAN_ERR_IO, "%s", r->error);
        return XUAN_ERR_IO;
    }
    return rc;
}
