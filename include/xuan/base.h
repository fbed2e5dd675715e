/*
 * xuan/base.h — the ground floor: errors, checked sizes, allocation, logging,
 * files, CPU features, clocks and progress bars.  Every other room uses it;
 * it uses nothing of xuan.
 *
 *     xuan_error err = {0};
 *     xuan_map map;
 *     if (xuan_map_file(&map, "model.gguf", &err) != 0) {
 *         fprintf(stderr, "xuan: %s\n", err.msg);      // names file and problem
 *         return 1;
 *     }
 *     ...
 *     xuan_unmap(&map);
 *
 * Two kinds of failure (../STYLE.md): bad input comes back as an error code
 * with a message in a caller-provided xuan_error; a broken invariant of our
 * own code trips XUAN_ASSERT, which is always on and aborts with file:line.
 */
#ifndef XUAN_BASE_H
#define XUAN_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum xuan_status {
    XUAN_OK = 0,
    XUAN_ERR_IO,          /* a file or socket could not be read or written */
    XUAN_ERR_FORMAT,      /* input is malformed: bad magic, out of bounds, ... */
    XUAN_ERR_UNSUPPORTED, /* well-formed, but something we do not handle */
    XUAN_ERR_NOMEM,       /* allocation failed or exceeded the cap */
    XUAN_ERR_USAGE,       /* a caller passed a bad argument (flags, names) */
    XUAN_ERR_NOTFOUND,    /* a key, tensor, model or file does not exist */
    XUAN_ERR_INTERRUPTED, /* stopped by the user (Ctrl-C) */
    XUAN_ERR_FULL,        /* a fixed capacity is used up: the context's KV cells, a queue */
    XUAN_ERR_UNAVAILABLE, /* a service stays out of reach: every endpoint of an eval is down */
} xuan_status;

/* An error report.  Functions that can fail on input take a `xuan_error *`
 * (which may be NULL when the caller does not care) and return a status or
 * NULL; the message is one line, without a trailing newline, and names the
 * thing that was wrong. */
typedef struct xuan_error {
    xuan_status code;
    char msg[512];
} xuan_error;

/* Sets err (if not NULL) and returns `code`, so that callers can write
 * `return xuan_fail(err, XUAN_ERR_FORMAT, "%s: bad magic", path);`. */
int xuan_fail(xuan_error *err, xuan_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to an existing message (adds context on the way up). */
void xuan_error_prefix(xuan_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *xuan_status_name(xuan_status code);

/* Always-on invariant check for our own code, never for input. */
#define XUAN_ASSERT(cond)                                                    \
    do {                                                                     \
        if (!(cond)) xuan_assert_fail(__FILE__, __LINE__, #cond);            \
    } while (0)
_Noreturn void xuan_assert_fail(const char *file, int line, const char *what);

/* ---- checked arithmetic ------------------------------------------------ */

/* Each returns false (and leaves *out unspecified) on overflow. */
static inline bool xuan_mul_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool xuan_add_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
/* Rounds x up to a multiple of `align` (a power of two or not); false on overflow. */
static inline bool xuan_align_ok(uint64_t x, uint64_t align, uint64_t *out) {
    uint64_t r = align ? x % align : 0;
    return r == 0 ? (*out = x, true) : xuan_add_ok(x, align - r, out);
}

/* ---- allocation -------------------------------------------------------- */

/* All heap memory that an input can size goes through these.  A request
 * above the cap fails (returns NULL) instead of asking the OS for 2^60 bytes.
 * The cap defaults to the machine's RAM and can be set by XUAN_ALLOC_CAP
 * (bytes, k/M/G suffixes) or xuan_alloc_set_cap().  Tests can make the Nth
 * allocation from now fail with xuan_alloc_fail_after(N). */
void *xuan_malloc(size_t n);
void *xuan_calloc(size_t count, size_t size); /* overflow-checked */
void *xuan_realloc(void *p, size_t n);
void *xuan_alloc_array(size_t count, size_t size); /* malloc, overflow-checked */
char *xuan_strdup(const char *s);
char *xuan_strndup(const char *s, size_t n);
void xuan_free(void *p);
void xuan_alloc_set_cap(uint64_t bytes);
uint64_t xuan_alloc_cap(void);
void xuan_alloc_fail_after(int64_t n); /* -1 disables injection */
/* Bytes handed out and not yet freed, by every function here (aligned too). */
uint64_t xuan_alloc_live(void);
/* 64-byte aligned memory for activations and caches; counted against the
 * cap like the rest; free with xuan_free_aligned. */
void *xuan_malloc_aligned(size_t n);
void xuan_free_aligned(void *p);
/* Asks the kernel to back the whole 2 MiB pages inside [p, p + n) with
 * transparent huge pages (Linux MADV_HUGEPAGE; ignored where unsupported or
 * refused): fewer TLB misses for big buffers streamed again and again.
 * Call before the memory is first written. */
void xuan_advise_huge_pages(void *p, size_t n);

/* ---- growable byte buffer (also a string builder) ---------------------- */

typedef struct xuan_buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
} xuan_buf;

int xuan_buf_append(xuan_buf *b, const void *p, size_t n); /* 0 or XUAN_ERR_NOMEM */
int xuan_buf_puts(xuan_buf *b, const char *s);
int xuan_buf_printf(xuan_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xuan_buf_reset(xuan_buf *b); /* len = 0, keeps memory */
void xuan_buf_free(xuan_buf *b);

/* ---- logging ------------------------------------------------------------ */

typedef enum xuan_log_level {
    XUAN_LOG_ERROR = 0,
    XUAN_LOG_WARN = 1,
    XUAN_LOG_INFO = 2,
    XUAN_LOG_DEBUG = 3,
} xuan_log_level;

void xuan_log_set_level(xuan_log_level level); /* default WARN */
xuan_log_level xuan_log_get_level(void);
void xuan_log(xuan_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- files -------------------------------------------------------------- */

/* A read-only memory map of a whole file.  `data` stays valid until
 * xuan_unmap; an empty file maps to data == NULL, size == 0.
 *
 * Mapped pages belong to the page cache, which the kernel may reclaim under
 * memory pressure (a VM's host, a laptop with a browser open); each later
 * touch then reads the page from disk again.  Two flags keep a model's
 * weights in memory, as llama.cpp's --mlock and --no-mmap do:
 *   XUAN_MAP_READ  reads the file into anonymous memory instead (it stays
 *                  unless the machine swaps; the load reads the whole file);
 *   XUAN_MAP_LOCK  locks the pages (mlock: loads them all now, never
 *                  reclaimed).  Locking needs RLIMIT_MEMLOCK room; when the
 *                  kernel refuses, the map stays unlocked and a warning
 *                  says so (`locked` tells). */
enum { XUAN_MAP_READ = 1u << 0, XUAN_MAP_LOCK = 1u << 1 };

typedef struct xuan_map {
    const uint8_t *data;
    uint64_t size;
    int fd;
    bool anon;   /* read into anonymous memory (XUAN_MAP_READ) */
    bool locked; /* mlock succeeded */
} xuan_map;

int xuan_map_file(xuan_map *m, const char *path, xuan_error *err);
int xuan_map_file_ex(xuan_map *m, const char *path, unsigned flags, xuan_error *err);
/* Major page faults of this process so far: pages that had to be read from
 * disk (getrusage's ru_majflt). */
uint64_t xuan_major_faults(void);
void xuan_unmap(xuan_map *m);
/* Reads a whole file into a NUL-terminated heap buffer (caller frees with
 * xuan_free).  Refuses files larger than max_bytes. */
int xuan_read_file(const char *path, uint64_t max_bytes, char **out, size_t *out_len,
                   xuan_error *err);
/* Writes `len` bytes to `path` atomically (temp file in the same folder,
 * fsync, rename). */
int xuan_write_file_atomic(const char *path, const void *data, size_t len, xuan_error *err);
bool xuan_file_exists(const char *path);
/* Free bytes on the filesystem holding `path` (or its folder); -1 on error. */
int64_t xuan_disk_free(const char *path);

/* ---- parsing of numbers and sizes from flags ---------------------------- */

/* Strict: the whole string must be a number in [min, max]. */
int xuan_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int xuan_parse_f64(const char *s, double min, double max, double *out);
/* "16G", "512M", "1.5GiB", "4096" -> bytes.  Returns 0 or -1. */
int xuan_parse_bytes(const char *s, uint64_t *out);
/* Formats bytes as "4.37 GiB" / "812 MiB" / "96 KiB" / "12 B" into buf. */
const char *xuan_fmt_bytes(uint64_t bytes, char *buf, size_t n);

/* ---- CPU ------------------------------------------------------------------ */

typedef enum xuan_simd {
    XUAN_SIMD_SCALAR = 0,
    XUAN_SIMD_AVX2 = 1,   /* AVX2 + FMA + F16C */
    XUAN_SIMD_AVX512 = 2, /* AVX-512 F/BW/VL/DQ + VNNI (+ BF16 when has_bf16) */
} xuan_simd;

/* The vector width of the llama.cpp CPU build whose float steps a SIMD
 * level reproduces (docs/design.md, "Parity per CPU"): 8 for AVX2 (ggml's
 * AVX2 build), 16 for AVX-512 and for the scalar reference (its AVX-512
 * build).  The quant and model rooms both choose their orders by it. */
static inline unsigned xuan_ggml_lanes(xuan_simd simd) { return simd == XUAN_SIMD_AVX2 ? 8u : 16u; }

typedef struct xuan_cpu {
    xuan_simd simd;   /* the level kernels should use (after XUAN_CPU) */
    xuan_simd native; /* what the CPU supports */
    bool has_avx512_vnni, has_avx512_bf16, has_f16c, has_fma;
    int n_cores;      /* online logical CPUs usable by this process */
    char brand[64];
} xuan_cpu;

/* Detected once (thread-safe).  XUAN_CPU=scalar|avx2|avx512 lowers `simd`
 * (asking for more than the CPU has is clamped, with a warning). */
const xuan_cpu *xuan_cpu_get(void);
const char *xuan_simd_name(xuan_simd s);
/* Re-reads XUAN_CPU; tests use it to force a level between runs. */
void xuan_cpu_set_simd(xuan_simd s);

/* Sums in the order of x86 horizontal reductions, which llama.cpp's CPU
 * backend uses and xuan's kernels reproduce bit for bit (docs/design.md,
 * "Parity"): sum16 is _mm512_reduce_add_ps (lanes i + i+8, then +4, +2,
 * +1), sum8 is ggml's hsum_float_8 (i + i+4, then 0+2 and 1+3, then +). */
static inline float xuan_sum16_tree(const float a[16]) {
    float t[8], u[4];
    for (int i = 0; i < 8; i++) t[i] = a[i] + a[i + 8];
    for (int i = 0; i < 4; i++) u[i] = t[i] + t[i + 4];
    return (u[0] + u[2]) + (u[1] + u[3]);
}

static inline float xuan_sum8_tree(const float a[8]) {
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* ---- time --------------------------------------------------------------- */

uint64_t xuan_time_ns(void); /* monotonic */
double xuan_time_s(void);

/* ---- progress bar ------------------------------------------------------- */

/* A one-line progress bar with rate and ETA on stderr, redrawn at most
 * ~10 times a second, only when stderr is a terminal (or XUAN_PROGRESS=1). */
typedef struct xuan_progress {
    const char *label;
    uint64_t total, done;
    uint64_t t_start, t_last;
    bool bytes; /* show done/total as sizes */
    bool enabled;
} xuan_progress;

void xuan_progress_begin(xuan_progress *p, const char *label, uint64_t total, bool bytes);
void xuan_progress_update(xuan_progress *p, uint64_t done);
void xuan_progress_end(xuan_progress *p);

/* ---- version -------------------------------------------------------------- */

const char *xuan_version(void);      /* "0.1.0" */
const char *xuan_git_hash(void);     /* short hash at configure time */
const char *xuan_build_type(void);   /* "Release", "Debug+asan", ... */

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 if the bytes
 * at s do not start a valid, complete, shortest-form sequence within n. */
int xuan_utf8_len(const uint8_t *s, size_t n);
/* Decodes one code point; returns bytes consumed (>=1).  Invalid bytes decode
 * as U+FFFD consuming one byte. */
int xuan_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
/* Encodes cp into out (4 bytes room); returns bytes written (1..4) or 0. */
int xuan_utf8_encode(uint32_t cp, char out[4]);
bool xuan_utf8_valid(const uint8_t *s, size_t n);

/* ---- SHA-256 --------------------------------------------------------------- */

/* SHA-256 (FIPS 180-4), src/base/sha256.c: `pull` verifies downloads with
 * it, `eval` names a task file by the digest of its bytes.
 *
 *     xuan_sha256 s;  uint8_t d[32];  char hex[65];
 *     xuan_sha256_init(&s);
 *     xuan_sha256_update(&s, data, n);          // as many times as needed
 *     xuan_sha256_final(&s, d);
 *     xuan_sha256_hex(d, hex);                  // 64 lower-case hex digits
 */
typedef struct xuan_sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} xuan_sha256;
void xuan_sha256_init(xuan_sha256 *s);
void xuan_sha256_update(xuan_sha256 *s, const void *data, size_t n);
void xuan_sha256_final(xuan_sha256 *s, uint8_t out[32]);
void xuan_sha256_hex(const uint8_t digest[32], char out[65]);
/* The digest of a whole file, streamed (XUAN_ERR_IO when it cannot be read). */
int xuan_sha256_file(const char *path, char out_hex[65], xuan_error *err);

/* ---- download ---------------------------------------------------------------- */

/* One file over HTTP(S) with libcurl (src/base/download.c): `xuan pull`
 * (models) and `xuan data pull` (benchmark sets) both use it.
 *
 *     xuan_download_opts o = {.sha256 = pin, .digest = true};
 *     xuan_download_result r;
 *     if (xuan_download(url, "/data/gsm8k/test.jsonl", &o, &r, &err)) ... err.msg
 *
 * HEADs the URL (size; the hub's sha256 from X-Linked-Etag), refuses when
 * the disk cannot hold the rest plus disk_margin, GETs into <path>.part with
 * HTTP Range after a dropped connection (max_attempts, default 5), checks the
 * size, then the sha256: a mismatch deletes the partial file and the error
 * names the file (label) and both digests.  Only then is <path>.part fsynced
 * and renamed to <path>, so <path> only ever holds a whole, verified file.
 * The folder of path is created.  A 404 is XUAN_ERR_NOTFOUND naming the URL;
 * other network errors XUAN_ERR_IO naming the URL.  Follows redirects, sends
 * $HF_TOKEN as a bearer token, counts a connection silent for
 * $XUAN_PULL_STALL s (30) as dropped.  Thread-safe (curl's global init runs
 * once). */
typedef struct xuan_download_opts {
    const char *sha256;      /* expected digest, 64 hex digits; NULL: none known */
    bool hub_sha256;         /* without sha256: check the hub's X-Linked-Etag digest if it sends one */
    bool digest;             /* compute result.sha256 even when there is nothing to check it against */
    uint64_t expected_size;  /* used when the server sends no Content-Length; 0: unknown */
    uint64_t disk_margin;    /* free space to leave beyond the file */
    const char *dir_hint;    /* appended to the full-disk error ("or set XUAN_MODELS ...") */
    const char *label;       /* the file's name in messages and the progress bar; NULL: path's base name */
    int max_attempts;        /* 0 = 5 */
    bool quiet;              /* no progress bar, no resume notes */
} xuan_download_opts;

typedef struct xuan_download_result {
    char sha256[65];   /* the file's digest when checked or o->digest, else "" */
    bool verified;     /* checked against o->sha256 or the hub's digest */
    uint64_t bytes;    /* the final file's size */
} xuan_download_result;

/* res may be NULL.  Returns 0 or the error code (err filled, one line). */
int xuan_download(const char *url, const char *path, const xuan_download_opts *o, xuan_download_result *res,
                  xuan_error *err);
/* mkdir -p (0755); 0 or -1 with errno. */
int xuan_mkdir_p(const char *dir);

/* ---- misc ------------------------------------------------------------------ */

/* Levenshtein distance, for "did you mean" suggestions; capped at 255. */
int xuan_edit_distance(const char *a, const char *b);
/* Returns the candidate closest to `name` (NULL if none is reasonably close). */
const char *xuan_closest(const char *name, const char *const *candidates, size_t n);

/* ---- thread pool ------------------------------------------------------------ */

/* A fixed set of worker threads for data-parallel kernels (src/base/pool.c).
 *
 *     xuan_pool *pool = xuan_pool_create(2, &err);   // the caller + 1 worker
 *     xuan_pool_run(pool, my_fn, &args);             // my_fn(&args, 0, 2) and (&args, 1, 2)
 *     xuan_pool_free(pool);
 *
 * xuan_pool_run calls fn(ctx, ith, nth) once for every ith in [0, nth) —
 * ith 0 on the calling thread, the others on whichever thread takes them
 * first (the caller too, when a worker has no core) — and returns when all
 * have returned; that return is the only synchronization, so fn must not
 * wait for another ith.  Nothing is allocated per call.
 * Workers spin for a short while after each job (so back-to-back calls in a
 * decode step do not pay a futex wake-up) and then sleep on a condition
 * variable.  One caller at a time: xuan_pool_run is not reentrant and must
 * not be called from inside fn. */
typedef struct xuan_pool xuan_pool;
typedef void (*xuan_pool_fn)(void *ctx, int ith, int nth);

/* n_threads counts the calling thread; 0 means xuan_cpu_get()->n_cores.
 * Returns NULL with err set if a thread cannot be started. */
xuan_pool *xuan_pool_create(int n_threads, xuan_error *err);
void xuan_pool_free(xuan_pool *pool); /* joins the workers; NULL is fine */
int xuan_pool_size(const xuan_pool *pool); /* 1 for NULL */
/* Runs fn on every thread of the pool (just the caller when pool is NULL). */
void xuan_pool_run(xuan_pool *pool, xuan_pool_fn fn, void *ctx);

/* The process-wide pool of n_threads (0 = all cores), started on first use
 * and shared by every caller that asks for the same count, so that several
 * contexts (or a server's slots) take turns on the cores instead of
 * oversubscribing them: xuan_pool_run on a shared pool is serialized (one
 * job at a time, callers from other threads wait).  Each successful call
 * is paired with xuan_pool_release; the last release joins the workers. */
xuan_pool *xuan_pool_shared(int n_threads, xuan_error *err);
void xuan_pool_release(xuan_pool *pool); /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif /* XUAN_BASE_H */
