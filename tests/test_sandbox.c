/* The sandbox for generated code (src/eval/sandbox.c): ordinary programs
 * pass or fail as they should, hostile ones are contained, and every run
 * leaves no process and no file behind. */
#include "harness.h"
#include "xuan/eval.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_tag[64]; /* in every program's file name: finds its processes in /proc */

/* Options for a test, without the probe below (NONE mode, bad options). */
static xuan_sandbox_opts plain_opts(const char *what) {
    xuan_sandbox_opts o = xuan_sandbox_opts_default();
    snprintf(g_tag, sizeof g_tag, "sbtest_%d_%s.py", (int)getpid(), what);
    o.name = g_tag;
    return o;
}

/* Options for a sandboxed test.  Where the kernel or the container forbids
 * the namespaces (the run's one-line error says so), the test is a visible
 * skip with that line, not a failure; any other setup error fails. */
static xuan_sandbox_opts opts(const char *what) {
    static int usable = -1;
    static char why[512];
    if (usable < 0) {
        xuan_sandbox_opts o = xuan_sandbox_opts_default();
        xuan_sandbox_result r;
        xuan_error err = {0};
        usable = xuan_sandbox_run(&o, "pass", 4, &r, &err) == 0 ||
                 !(strstr(err.msg, "cannot create a") || strstr(err.msg, "without capabilities?"));
        snprintf(why, sizeof why, "%s", err.msg);
        xuan_sandbox_result_free(&r);
    }
    if (!usable) test_skip("%s", why);
    return plain_opts(what);
}

/* The result of the last run (freed by the next run and at the end). */
static xuan_sandbox_result g_last;

static const xuan_sandbox_result *run(const xuan_sandbox_opts *o, const char *src) {
    xuan_sandbox_result_free(&g_last);
    xuan_error err = {0};
    int rc = xuan_sandbox_run(o, src, strlen(src), &g_last, &err);
    if (rc != 0) printf("  sandbox error: %s\n", err.msg);
    if (g_last.verdict != XUAN_SANDBOX_PASSED && g_last.err.len) printf("  stderr: %.600s\n", g_last.err.data);
    return &g_last;
}

/* Runs src and checks its verdict. */
static const xuan_sandbox_result *expect_run(const char *file, int line, const xuan_sandbox_opts *o, const char *src,
                                             xuan_sandbox_verdict want) {
    const xuan_sandbox_result *r = run(o, src);
    if (r->verdict != want)
        test_fail(file, line, "verdict %s, expected %s", xuan_sandbox_verdict_name(r->verdict),
                  xuan_sandbox_verdict_name(want));
    return r;
}
#define expect(o, src, want) expect_run(__FILE__, __LINE__, o, src, want)

/* The same for a program in tests/sandbox/. */
static const xuan_sandbox_result *expect_file_run(const char *file, int line, const xuan_sandbox_opts *o,
                                                  const char *name, xuan_sandbox_verdict want) {
    const char *src_dir = getenv("XUAN_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/sandbox/%s", src_dir ? src_dir : ".", name);
    char *text = NULL;
    size_t len = 0;
    xuan_error err = {0};
    if (xuan_read_file(path, 1u << 20, &text, &len, &err) != 0) {
        test_fail(file, line, "%s", err.msg);
        longjmp(test_abort_jmp, 1);
    }
    const xuan_sandbox_result *r = expect_run(file, line, o, text, want);
    xuan_free(text);
    return r;
}
#define expect_file(o, name, want) expect_file_run(__FILE__, __LINE__, o, name, want)

/* Processes whose parent is this test, and processes whose command line
 * names the current tag. */
static void count_procs(int *children, int *tagged) {
    *children = *tagged = 0;
    DIR *d = opendir("/proc");
    if (!d) return;
    struct dirent *e;
    char path[300], buf[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *p = strrchr(buf, ')');
        char state;
        int ppid;
        if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid()) (*children)++;
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        f = fopen(path, "r");
        if (!f) continue;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++) if (!buf[i]) buf[i] = ' ';
        buf[n] = 0;
        if (strstr(buf, g_tag)) (*tagged)++;
    }
    closedir(d);
}

static void check_nothing_left(void) {
    int children, tagged;
    count_procs(&children, &tagged);
    CHECK_EQ_INT(children, 0);
    CHECK_EQ_INT(tagged, 0);
}

static bool out_has(const xuan_sandbox_result *r, const char *s) {
    return r->out.data && strstr(r->out.data, s);
}

/* ---- ordinary programs ---------------------------------------------------- */

static void test_hello_and_stdlib(void) {
    xuan_sandbox_opts o = opts("hello");
    const xuan_sandbox_result *r = expect_file(&o, "stdlib.py", XUAN_SANDBOX_PASSED);
    CHECK_EQ_INT(r->exit_code, 0);
    CHECK_EQ_INT(r->signal, 0);
    CHECK(!r->timed_out);
    CHECK_EQ_STR(r->out.data, "hello world\n");
    CHECK(r->peak_rss_bytes > (1u << 20) && r->peak_rss_bytes < (200u << 20));
    CHECK(r->wall_s > 0 && r->wall_s < 10);
    check_nothing_left();
}

static void test_exception_fails(void) {
    xuan_sandbox_opts o = opts("raise");
    const xuan_sandbox_result *r = expect(&o, "print('before')\nraise Exception('boom')\n", XUAN_SANDBOX_FAILED);
    CHECK_EQ_INT(r->exit_code, 1);
    CHECK(out_has(r, "before"));
    CHECK(r->err.data && strstr(r->err.data, "Exception: boom"));
    CHECK(r->err.data && strstr(r->err.data, g_tag)); /* the traceback names the program's file */
    r = expect(&o, "import sys\nsys.exit(3)\n", XUAN_SANDBOX_FAILED);
    CHECK_EQ_INT(r->exit_code, 3);
    r = expect(&o, "def f(:\n", XUAN_SANDBOX_FAILED);
    CHECK(r->err.data && strstr(r->err.data, "SyntaxError"));
}

/* exit(0) before the tests: a pass by exit status, a failure when the
 * program must also reach the done mark after its tests */
static void test_done_mark(void) {
    xuan_sandbox_opts o = opts("done");
    o.require_done = true;
    const char *ok = "def f(): return 1\nassert f() == 1\n" XUAN_SANDBOX_DONE_PY;
    const char *early = "import sys\nsys.exit(0)\nassert False\n" XUAN_SANDBOX_DONE_PY;
    const char *hard = "import os\nos._exit(0)\n" XUAN_SANDBOX_DONE_PY;
    const xuan_sandbox_result *r = expect(&o, ok, XUAN_SANDBOX_PASSED);
    CHECK(r->done);
    r = expect(&o, early, XUAN_SANDBOX_FAILED);
    CHECK_EQ_INT(r->exit_code, 0);
    CHECK(!r->done);
    r = expect(&o, hard, XUAN_SANDBOX_FAILED);
    o.require_done = false; /* without the mark, exit status decides */
    r = expect(&o, early, XUAN_SANDBOX_PASSED);
}

/* ---- limits ------------------------------------------------------------------ */

static void test_timeout_kills_everything(void) {
    xuan_sandbox_opts o = opts("loop");
    o.timeout_s = 1.0;
    /* a child that would outlive the program, then a busy loop */
    const xuan_sandbox_result *r = expect(&o, "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nwhile True: pass\n", XUAN_SANDBOX_TIMEOUT);
    CHECK(r->timed_out);
    CHECK(r->wall_s >= 1.0 && r->wall_s <= 4.0); /* killed: without it, no end at all */
    check_nothing_left();

    /* a program that ends while its child sleeps: done at once, child gone */
    o.timeout_s = 20.0;
    r = expect(&o, "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nprint('parent done')\n", XUAN_SANDBOX_PASSED);
    CHECK(r->wall_s < 5);
    check_nothing_left();
}

static void test_cpu_limit(void) {
    xuan_sandbox_opts o = opts("cpu");
    o.timeout_s = 10.0;
    o.cpu_s = 1;
    const xuan_sandbox_result *r = expect(&o, "while True: pass\n", XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_CPU);
    CHECK(!r->timed_out);
    CHECK(r->wall_s < 5);
}

static void test_fork_bomb(void) {
    xuan_sandbox_opts o = opts("bomb");
    o.timeout_s = 2.0;
    const xuan_sandbox_result *r = run(&o, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
    CHECK(r->verdict == XUAN_SANDBOX_TIMEOUT || r->verdict == XUAN_SANDBOX_FAILED);
    CHECK(r->wall_s <= 6.0);
    check_nothing_left();
    /* the machine is fine: this process forks, the sandbox runs again */
    pid_t p = fork();
    if (p == 0) _exit(7);
    int st = 0;
    CHECK(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    o.timeout_s = 10.0;
    r = expect(&o, "import os\nn = 0\nfor i in range(64):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
                "    if pid == 0:\n        import time; time.sleep(30)\n    n += 1\nprint(n)\n", XUAN_SANDBOX_PASSED);
    CHECK(r->out.data && atoi(r->out.data) > 0 && atoi(r->out.data) < 16); /* RLIMIT_NPROC 16 */
    check_nothing_left();
}

static void test_memory_limit(void) {
    xuan_sandbox_opts o = opts("mem");
    const xuan_sandbox_result *r = expect(&o, "b = bytearray(10 * 1024**3)\nprint(len(b))\n", XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_MEMORY);
    /* piecewise: also stopped at the address-space limit */
    o.mem_bytes = 512u << 20;
    r = expect(&o, "x = []\nwhile True:\n    x.append(bytearray(64 << 20))\n", XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_MEMORY);
    CHECK(r->peak_rss_bytes < (o.mem_bytes + (64u << 20)));
}

static void test_file_limits(void) {
    xuan_sandbox_opts o = opts("fsize");
    const char *big = "with open('big', 'wb') as f:\n    for i in range(100):\n        f.write(b'x' * (1 << 20))\n";
    const xuan_sandbox_result *r = expect(&o, big, XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_FSIZE);
    /* the private /tmp is full before the file-size limit */
    o.fsize_bytes = 1ull << 30;
    o.tmp_bytes = 8u << 20;
    r = expect(&o, big, XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_FSIZE);
    CHECK(r->err.data && strstr(r->err.data, "No space left"));
    /* and so is its count of files (empty files cost memory that size= does not count) */
    r = expect(&o, "for i in range(100000):\n    open(f'f{i}', 'w').close()\n", XUAN_SANDBOX_LIMIT);
    CHECK_EQ_INT(r->limit, XUAN_SANDBOX_LIMIT_FSIZE);
}

/* ---- containment -------------------------------------------------------------- */

static void test_no_network(void) {
    xuan_sandbox_opts o = opts("net");
    const xuan_sandbox_result *r = expect_file(&o, "network.py", XUAN_SANDBOX_PASSED);
    CHECK(out_has(r, "inet refused"));
    CHECK(out_has(r, "connect refused"));
    CHECK(!out_has(r, "opened"));
    CHECK(out_has(r, "unix ok"));
}

static void test_files_outside(void) {
    xuan_sandbox_opts o = opts("files");
    char marker[128], host_marker[256];
    snprintf(marker, sizeof marker, "xuan_sandbox_marker_%d", (int)getpid());
    snprintf(host_marker, sizeof host_marker, "/tmp/%s", marker);
    char src[4096];
    snprintf(src, sizeof src,
             "import os\n"
             "bad = []\n"
             "for p in ['/etc/shadow', '/etc/hostname', '/proc/self/status', '/root/.bashrc', '/home', '/sys/kernel']:\n"
             "    try:\n        open(p).read()\n        bad.append('read ' + p)\n    except OSError:\n        pass\n"
             "for p in ['/x', '/usr/x', '/etc/passwd', '/etc/x', '/dev/x', '/bin/x', '/usr/bin/python3']:\n"
             "    try:\n        open(p, 'a').write('x')\n        bad.append('wrote ' + p)\n    except OSError:\n        pass\n"
             "open('/tmp/%s', 'w').write('here')\n"
             "open('local.txt', 'w').write('cwd is writable')\n"
             "print('bad:', bad)\n",
             marker);
    const xuan_sandbox_result *r = expect(&o, src, XUAN_SANDBOX_PASSED);
    CHECK(out_has(r, "bad: []"));
    if (!out_has(r, "bad: []")) printf("  %s", r->out.data ? r->out.data : "");
    CHECK(access(host_marker, F_OK) != 0); /* its /tmp was its own */

    /* the program cannot undo the sandbox: namespaces, mounts, ptrace */
    r = expect(&o,
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
        "print('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno())\n"
        "print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"
        "print('uid', os.getuid())\n"
        "fds = []\nfor fd in range(3, 256):\n    try:\n        os.fstat(fd)\n        fds.append(fd)\n    except OSError:\n        pass\n"
        "print('fds', fds)\n", XUAN_SANDBOX_PASSED);
    CHECK(out_has(r, "unshare -1 1\n"));
    CHECK(out_has(r, "mount -1 1\n"));
    CHECK(out_has(r, "ptrace -1 1\n"));
    CHECK(!out_has(r, "uid 0\n"));
    CHECK(out_has(r, "fds []\n")); /* none of the runner's descriptors */
}

/* System calls of the i386 (int 0x80) and x32 ABIs, which a filter for
 * x86-64 numbers would misread, kill the program (SIGSYS); the same call
 * through the native ABI works (getpid: 2, the program's pid in its
 * namespace). */
static void test_foreign_abi(void) {
    static const char *const CODE[] = {
        "b814000000cd80c3", /* mov eax, 20 (i386 getpid); int 0x80; ret */
        "b8270000400f05c3", /* mov eax, 0x40000027 (x32 getpid); syscall; ret */
        "b8270000000f05c3", /* mov eax, 39 (getpid); syscall; ret */
    };
    xuan_sandbox_opts o = opts("abi");
    for (int i = 0; i < 3; i++) {
        char src[1024];
        snprintf(src, sizeof src,
                 "import ctypes, mmap\n"
                 "buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
                 "buf.write(bytes.fromhex('%s'))\n"
                 "fn = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))\n"
                 "print('ret', fn())\n",
                 CODE[i]);
        const xuan_sandbox_result *r = expect(&o, src, i < 2 ? XUAN_SANDBOX_FAILED : XUAN_SANDBOX_PASSED);
        if (i < 2) CHECK_EQ_INT(r->signal, SIGSYS);
        else CHECK(out_has(r, "ret 2\n"));
    }
}

static void test_signals_stay_inside(void) {
    xuan_sandbox_opts o = opts("kill");
    pid_t sleeper = fork();
    if (sleeper == 0) {
        pause();
        _exit(0);
    }
    REQUIRE(sleeper > 0);
    char src[1024];
    snprintf(src, sizeof src,
             "import os, signal\n"
             "for pid in (1, os.getppid(), -1, %d, %d):\n"
             "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
             "print('still here')\n",
             (int)getpid(), (int)sleeper);
    const xuan_sandbox_result *r = expect(&o, src, XUAN_SANDBOX_PASSED); /* pid 1 of its namespace ignores it */
    CHECK(out_has(r, "still here"));
    CHECK_EQ_INT(kill(sleeper, 0), 0);
    int st = 0;
    CHECK_EQ_INT(waitpid(sleeper, &st, WNOHANG), 0); /* not killed */
    kill(sleeper, SIGKILL);
    waitpid(sleeper, &st, 0);
}

/* ---- output --------------------------------------------------------------------- */

static void test_bounded_output(void) {
    xuan_sandbox_opts o = opts("out");
    o.timeout_s = 20;
    const xuan_sandbox_result *r = expect(&o, "import sys\nsys.stdout.write('x' * 10_000_000)\nsys.stderr.write('e' * 3_000_000)\n", XUAN_SANDBOX_PASSED);
    CHECK_EQ_INT(r->out_total, 10000000);
    CHECK_EQ_INT(r->err_total, 3000000);
    CHECK(r->out_truncated && r->err_truncated);
    CHECK(r->out.len > o.capture_bytes && r->out.len < o.capture_bytes + 200);
    CHECK(strstr(r->out.data, "[xuan sandbox: 10000000 bytes, kept the first 65536]") != NULL);
    CHECK(r->wall_s < 10);

    /* closing its output does not hang the runner */
    r = expect(&o, "import os, time\nos.close(1)\nos.close(2)\ntime.sleep(0.3)\nos._exit(0)\n", XUAN_SANDBOX_PASSED);
    CHECK(r->wall_s < 5);
    o.timeout_s = 1;
    r = expect(&o, "import os, time\nos.close(1)\nwhile True: time.sleep(0.1)\n", XUAN_SANDBOX_TIMEOUT);
    CHECK(r->wall_s < 4); /* ended by the timeout, not by a closed pipe */
}

/* ---- modes, errors, temp dirs ---------------------------------------------------- */

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_none_mode_and_temp_dirs(void) {
    const char *parent = test_path("sandbox_none");
    mkdir(parent, 0755);
    xuan_sandbox_opts o = plain_opts("none");
    o.mode = XUAN_SANDBOX_NONE;
    o.tmp_parent = parent;
    const xuan_sandbox_result *r = expect(&o, "import os\nopen('x.txt', 'w').write('x')\nprint(os.getcwd())\n", XUAN_SANDBOX_PASSED);
    CHECK(out_has(r, parent));
    CHECK_EQ_INT(count_entries(parent), 0);
    o.timeout_s = 1;
    r = expect(&o, "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nopen('y', 'w')\nwhile True: pass\n", XUAN_SANDBOX_TIMEOUT);
    CHECK_EQ_INT(count_entries(parent), 0); /* removed on timeout too */
    check_nothing_left();
}

static void test_bad_options(void) {
    xuan_sandbox_opts o = plain_opts("bad");
    xuan_sandbox_result r;
    xuan_error err = {0};
    o.python = "/nonexistent/python3";
    CHECK(xuan_sandbox_run(&o, "print(1)", 8, &r, &err) != 0);
    CHECK_EQ_INT(r.verdict, XUAN_SANDBOX_ERROR);
    CHECK(strstr(err.msg, "/nonexistent/python3") != NULL);
    xuan_sandbox_result_free(&r);
    o = plain_opts("bad");
    o.name = "../escape.py";
    CHECK_EQ_INT(xuan_sandbox_run(&o, "print(1)", 8, &r, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "../escape.py") != NULL);
    xuan_sandbox_result_free(&r);
}

/* With user namespaces used up (a child user namespace whose
 * max_user_namespaces is 0), the run fails and says which and what to do;
 * nothing runs unsandboxed. */
static void test_no_namespaces_no_run(void) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int fd = -1;
        if (unshare(CLONE_NEWUSER) != 0 || (fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY)) < 0 ||
            write(fd, "0\n", 2) != 2)
            _exit(77);
        close(fd);
        xuan_sandbox_opts o = xuan_sandbox_opts_default();
        xuan_sandbox_result r;
        xuan_error err = {0};
        int rc = xuan_sandbox_run(&o, "open('/tmp/ran', 'w')", 21, &r, &err);
        ssize_t w = write(p[1], err.msg, strlen(err.msg) + 1);
        (void)w;
        _exit(rc == XUAN_ERR_UNSUPPORTED && r.verdict == XUAN_SANDBOX_ERROR && r.out_total == 0 ? 0 : 1);
    }
    close(p[1]);
    char msg[600] = {0};
    ssize_t n = read(p[0], msg, sizeof msg - 1);
    (void)n;
    close(p[0]);
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) test_skip("cannot make a user namespace to test in");
    printf("  %s\n", msg);
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
    CHECK(strstr(msg, "cannot create a user namespace") != NULL);
    CHECK(strstr(msg, "--sandbox=none") != NULL);
}

/* ---- many at once ------------------------------------------------------------------ */

typedef struct seen {
    int n;
    bool twice;
    bool got[20];
} seen;

static void on_done(void *ctx, size_t i, const xuan_sandbox_result *r) {
    seen *s = ctx;
    if (i < 20 && s->got[i]) s->twice = true;
    if (i < 20) s->got[i] = true;
    s->n++;
}

static void test_parallel(void) {
    xuan_sandbox_opts o = opts("many");
    o.timeout_s = 1.0;
    seen s = {0};
    o.on_done = on_done;
    o.on_done_ctx = &s;
    enum { N = 20 };
    char src[N][256];
    xuan_sandbox_job jobs[N];
    xuan_sandbox_result res[N];
    for (int i = 0; i < N; i++) {
        if (i % 4 == 3) snprintf(src[i], sizeof src[i], "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nwhile True: pass\n");
        else if (i % 4 == 1) snprintf(src[i], sizeof src[i], "print(%d)\nassert %d == 0\n", i, i);
        else snprintf(src[i], sizeof src[i], "import time\ntime.sleep(0.05)\nprint(%d)\n", i);
        jobs[i] = (xuan_sandbox_job){.program = src[i], .len = strlen(src[i])};
    }
    xuan_error err = {0};
    double t0 = xuan_time_s();
    CHECK_EQ_INT(xuan_sandbox_run_many(&o, jobs, N, 2, res, &err), 0);
    double wall = xuan_time_s() - t0;
    printf("  20 programs (5 timeouts of 1 s) at -j 2: %.2f s\n", wall);
    CHECK_EQ_INT(s.n, N);
    CHECK(!s.twice);
    double serial = 0;
    for (int i = 0; i < N; i++) serial += res[i].wall_s;
    printf("  the same one at a time: %.2f s (the sum of their wall times)\n", serial);
    /* two at a time: run one by one, the wall time would be at least their
     * sum; at least one of the 1 s timeouts overlapping another program
     * takes it below that whatever the load (0.59 of it on a quiet machine) */
    CHECK(wall < serial - 0.9);
    for (int i = 0; i < N; i++) {
        xuan_sandbox_verdict want = i % 4 == 3 ? XUAN_SANDBOX_TIMEOUT : i % 4 == 1 ? XUAN_SANDBOX_FAILED : XUAN_SANDBOX_PASSED;
        CHECK_EQ_INT(res[i].verdict, want);
        if (want != XUAN_SANDBOX_TIMEOUT) CHECK_EQ_INT(res[i].out.data ? atoi(res[i].out.data) : -1, i);
        xuan_sandbox_result_free(&res[i]);
    }
    check_nothing_left();
}

/* A caller with another thread that holds malloc's locks half the time:
 * the children allocate nothing between clone and exec, so none hangs. */
static volatile int g_stop;

static void *churn(void *arg) {
    FILE *null = fopen("/dev/null", "w");
    while (!g_stop) {
        void *p = malloc(1000);
        if (null) fprintf(null, "%p", p);
        free(p);
    }
    if (null) fclose(null);
    return arg;
}

static void test_threaded_caller(void) {
    xuan_sandbox_opts o = opts("threads");
    o.timeout_s = 20;
    pthread_t t;
    g_stop = 0;
    REQUIRE(pthread_create(&t, NULL, churn, NULL) == 0);
    enum { N = 12 };
    xuan_sandbox_job jobs[N];
    xuan_sandbox_result res[N];
    for (int i = 0; i < N; i++) jobs[i] = (xuan_sandbox_job){.program = "print('ok')", .len = 11};
    xuan_error err = {0};
    int rc = xuan_sandbox_run_many(&o, jobs, N, 2, res, &err);
    g_stop = 1;
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(res[i].verdict, XUAN_SANDBOX_PASSED);
        CHECK(res[i].wall_s < 10);
        xuan_sandbox_result_free(&res[i]);
    }
    check_nothing_left();
}

int main(void) {
    /* so that the namespace test's child reads the whole message */
    signal(SIGPIPE, SIG_IGN);
    RUN(test_hello_and_stdlib);
    RUN(test_exception_fails);
    RUN(test_done_mark);
    RUN(test_timeout_kills_everything);
    RUN(test_cpu_limit);
    RUN(test_fork_bomb);
    RUN(test_memory_limit);
    RUN(test_file_limits);
    RUN(test_no_network);
    RUN(test_files_outside);
    RUN(test_foreign_abi);
    RUN(test_signals_stay_inside);
    RUN(test_bounded_output);
    RUN(test_none_mode_and_temp_dirs);
    RUN(test_bad_options);
    RUN(test_no_namespaces_no_run);
    RUN(test_parallel);
    RUN(test_threaded_caller);
    xuan_sandbox_result_free(&g_last);
    return test_done();
}
