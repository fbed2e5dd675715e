/*
 * hw.c — what this machine has: RAM (respecting cgroup limits, which is
 * what a container really gets), CPU, memory bandwidth, GPUs, free disk.
 *
 * The bandwidth probe streams a 256 MiB buffer (bigger than any L3) with one
 * thread per core for about a second and keeps the best pass, timed in the
 * thread's CPU time so other processes on a busy machine count less.  They
 * still count some (memory is shared: a probe during a build read 5.5 GB/s
 * where a quiet one reads 18), so <cache>/hardware.json keeps every probe of
 * the last XUAN_HW_PROBE_TTL_DAYS days, keyed by CPU name and core count, and
 * the figure used is the best of them: a busy moment can only lower one
 * probe, never the answer.  When all of them are older than that the next
 * `xuan pick` probes again (a VM may have moved; the cache must not live
 * forever); --probe measures again at once.
 */
#include "pick_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- folders -------------------------------------------------------------------- */

const char *xuan_cache_dir(char *buf, size_t n) {
    const char *e = getenv("XUAN_CACHE");
    if (e && *e) snprintf(buf, n, "%s", e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e) snprintf(buf, n, "%s/xuan", e);
    else snprintf(buf, n, "%s/.cache/xuan", getenv("HOME") ? getenv("HOME") : "/tmp");
    return buf;
}

const char *xuan_models_dir(char *buf, size_t n) {
    const char *e = getenv("XUAN_MODELS");
    if (e && *e) {
        snprintf(buf, n, "%s", e);
        return buf;
    }
    char c[1024];
    snprintf(buf, n, "%s/models", xuan_cache_dir(c, sizeof c));
    return buf;
}

/* ---- RAM ------------------------------------------------------------------------ */

static uint64_t meminfo(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    uint64_t v = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            unsigned long long kb = 0;
            if (sscanf(line + kl + 1, "%llu", &kb) == 1) v = (uint64_t)kb * 1024;
            break;
        }
    fclose(f);
    return v;
}

/* A number from a one-line file; 0 when absent or "max". */
static uint64_t read_u64_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v = 0;
    char s[64] = {0};
    if (!fgets(s, sizeof s, f) || sscanf(s, "%llu", &v) != 1) v = 0;
    fclose(f);
    return v;
}

static void probe_ram(xuan_hw *hw) {
    hw->ram_total = meminfo("MemTotal");
    hw->ram_available = meminfo("MemAvailable");
    if (!hw->ram_available) hw->ram_available = meminfo("MemFree");
    /* cgroup v2, then v1.  Huge v1 values mean "no limit". */
    uint64_t limit = read_u64_file("/sys/fs/cgroup/memory.max");
    uint64_t used = limit ? read_u64_file("/sys/fs/cgroup/memory.current") : 0;
    if (!limit) {
        limit = read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        used = limit ? read_u64_file("/sys/fs/cgroup/memory/memory.usage_in_bytes") : 0;
    }
    if (limit && hw->ram_total && limit < hw->ram_total) {
        hw->ram_cgroup_limited = true;
        hw->ram_total = limit;
        uint64_t left = used < limit ? limit - used : 0;
        if (left < hw->ram_available) hw->ram_available = left;
    }
}

/* ---- GPUs ----------------------------------------------------------------------- */

static void probe_nvidia(xuan_hw *hw) {
    /* Only when nvidia-smi exists: popen of a missing program prints noise. */
    if (access("/usr/bin/nvidia-smi", X_OK) != 0 && access("/usr/local/bin/nvidia-smi", X_OK) != 0)
        return;
    FILE *p = popen("nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits 2>/dev/null", "r");
    if (!p) return;
    char line[256];
    while (hw->n_gpus < XUAN_HW_MAX_GPUS && fgets(line, sizeof line, p)) {
        char *c1 = strchr(line, ',');
        if (!c1) continue;
        *c1 = 0;
        unsigned long long tot = 0, fr = 0;
        if (sscanf(c1 + 1, " %llu , %llu", &tot, &fr) < 1) continue;
        xuan_gpu *g = &hw->gpus[hw->n_gpus++];
        size_t len = strlen(line);
        if (len >= sizeof g->name) len = sizeof g->name - 1;
        memcpy(g->name, line, len);
        g->name[len] = 0;
        g->vram_total = (uint64_t)tot << 20;
        g->vram_free = (uint64_t)fr << 20;
    }
    pclose(p);
}

static void probe_drm(xuan_hw *hw) {
    /* amdgpu exposes VRAM size per card. */
    for (int i = 0; i < 16 && hw->n_gpus < XUAN_HW_MAX_GPUS; i++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/class/drm/card%d/device/mem_info_vram_total", i);
        uint64_t tot = read_u64_file(path);
        if (!tot) continue;
        xuan_gpu *g = &hw->gpus[hw->n_gpus++];
        snprintf(g->name, sizeof g->name, "GPU card%d (amdgpu)", i);
        g->vram_total = tot;
        snprintf(path, sizeof path, "/sys/class/drm/card%d/device/mem_info_vram_used", i);
        uint64_t used = read_u64_file(path);
        g->vram_free = used < tot ? tot - used : 0;
    }
}

/* ---- bandwidth ------------------------------------------------------------------ */

typedef struct probe_arg {
    const uint64_t *data;
    size_t n;
    double deadline;
    double best_rate; /* bytes/s of the fastest pass */
    uint64_t sink;
} probe_arg;

/* CPU time of this thread: a pass is timed only while it runs, so a machine
 * shared with other work (a compile, other users) does not look slower. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Reads its slice again and again; keeps the fastest pass. */
static void *probe_thread(void *p) {
    probe_arg *a = p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    do {
        double t0 = thread_cpu_s();
        for (size_t i = 0; i + 4 <= a->n; i += 4) {
            s0 += a->data[i];
            s1 ^= a->data[i + 1];
            s2 += a->data[i + 2];
            s3 ^= a->data[i + 3];
        }
        double dt = thread_cpu_s() - t0;
        double rate = dt > 0 ? a->n * sizeof(uint64_t) / dt : 0;
        if (rate > a->best_rate) a->best_rate = rate;
    } while (xuan_time_s() < a->deadline);
    a->sink = s0 + s1 + s2 + s3; /* keeps the loop from being optimised away */
    return NULL;
}

double xuan_hw_bandwidth_probe(double seconds, int threads) {
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    size_t bytes = 256u << 20;
    uint64_t *buf = xuan_malloc_aligned(bytes);
    if (!buf) return 0;
    size_t n = bytes / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9E3779B97F4A7C15ull; /* touch every page */
    pthread_t tid[64];
    probe_arg args[64];
    size_t per = n / (size_t)threads / 4 * 4;
    double t0 = xuan_time_s();
    for (int t = 0; t < threads; t++) {
        args[t] = (probe_arg){.data = buf + per * (size_t)t, .n = per, .deadline = t0 + seconds};
        if (pthread_create(&tid[t], NULL, probe_thread, &args[t]) != 0) {
            threads = t;
            break;
        }
    }
    double total = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        total += args[t].best_rate;
    }
    xuan_free_aligned(buf);
    return total / 1e9;
}

/* One cached probe. */
typedef struct bw_probe {
    double gbs;
    int64_t at; /* unix time */
} bw_probe;

#define MAX_PROBES 8

static void cache_path(char *path, size_t n) {
    char dir[1024];
    snprintf(path, n, "%s/hardware.json", xuan_cache_dir(dir, sizeof dir));
}

/* The unexpired probes of this CPU from the cache, oldest first.  Files of
 * the first format (one figure, no "probes" list) carry no usable time and
 * count as expired. */
static int load_probes(const xuan_hw *hw, int64_t now, bw_probe *out) {
    char path[1100];
    cache_path(path, sizeof path);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) return 0;
    int n = 0;
    json_t *cpu = json_object_get(j, "cpu"), *cores = json_object_get(j, "cores");
    json_t *list = json_object_get(j, "probes");
    if (json_is_string(cpu) && !strcmp(json_string_value(cpu), hw->cpu) && json_is_integer(cores) &&
        json_integer_value(cores) == hw->cores && json_is_array(list)) {
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
            json_t *g = json_object_get(e, "gbs"), *at = json_object_get(e, "at");
            if (!json_is_number(g) || !json_is_integer(at)) continue;
            double v = json_number_value(g);
            int64_t t = json_integer_value(at);
            /* A time in the future is a broken clock or a hand edit: drop it. */
            if (!(v > 0 && v < 1e5) || t > now + 3600 || now - t > XUAN_HW_PROBE_TTL_DAYS * 86400LL) continue;
            if (n == MAX_PROBES) memmove(out, out + 1, (MAX_PROBES - 1) * sizeof *out), n--;
            out[n++] = (bw_probe){v, t};
        }
    }
    json_decref(j);
    return n;
}

static void save_probes(const xuan_hw *hw, const bw_probe *p, int n, double best) {
    char dir[1024], path[1100];
    xuan_cache_dir(dir, sizeof dir);
    /* mkdir -p of the cache folder (two levels are enough for ~/.cache/xuan). */
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        mkdir(parent, 0755);
    }
    mkdir(dir, 0755);
    cache_path(path, sizeof path);
    json_t *list = json_array();
    char date[32];
    for (int i = 0; list && i < n; i++) {
        time_t t = (time_t)p[i].at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_array_append_new(list, json_pack("{s:f, s:I, s:s}", "gbs", p[i].gbs, "at", (json_int_t)p[i].at,
                                              "date", date));
    }
    json_t *j = json_pack("{s:s, s:i, s:f, s:o, s:i, s:s}", "cpu", hw->cpu, "cores", hw->cores,
                          "bandwidth_gbs", best, "probes", list, "ttl_days", XUAN_HW_PROBE_TTL_DAYS, "how",
                          "xuan_hw_bandwidth_probe: 256 MiB read, one thread per core, ~1 s; "
                          "bandwidth_gbs = best probe of the last ttl_days");
    if (!j) return;
    char *text = json_dumps(j, JSON_INDENT(1));
    if (text) {
        xuan_write_file_atomic(path, text, strlen(text), NULL);
        free(text);
    }
    json_decref(j);
}

static void bandwidth(xuan_hw *hw, xuan_bw_mode mode) {
    int64_t now = (int64_t)time(NULL);
    bw_probe p[MAX_PROBES];
    int n = load_probes(hw, now, p);
    bool measured = false;
    double fresh = 0;
    if (n == 0 || mode == XUAN_BW_REPROBE) {
        fresh = xuan_hw_bandwidth_probe(1.0, hw->cores);
        if (fresh > 0) {
            if (n == MAX_PROBES) memmove(p, p + 1, (MAX_PROBES - 1) * sizeof *p), n--;
            p[n++] = (bw_probe){fresh, now};
            measured = true;
        }
    }
    if (n == 0) return; /* the probe failed (no memory): caller sees 0 */
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i].gbs > p[best].gbs) best = i;
    hw->bandwidth_gbs = p[best].gbs;
    char date[16];
    time_t t = (time_t)p[best].at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (measured && n == 1)
        snprintf(hw->bandwidth_source, sizeof hw->bandwidth_source, "probe, 1 s");
    else if (measured)
        snprintf(hw->bandwidth_source, sizeof hw->bandwidth_source, "probe now %.1f; best of %d in %d days", fresh, n,
                 XUAN_HW_PROBE_TTL_DAYS);
    else
        snprintf(hw->bandwidth_source, sizeof hw->bandwidth_source, "best of %d probe%s, %s", n, n > 1 ? "s" : "", date);
    if (measured) save_probes(hw, p, n, hw->bandwidth_gbs);
}

/* ---- all of it ------------------------------------------------------------------- */

int xuan_hw_probe(xuan_hw *hw, xuan_bw_mode bw, xuan_error *err) {
    *hw = (xuan_hw){0};
    probe_ram(hw);
    if (!hw->ram_total) return xuan_fail(err, XUAN_ERR_IO, "cannot read /proc/meminfo: RAM unknown (use --ram)");
    const xuan_cpu *cpu = xuan_cpu_get();
    hw->cores = cpu->n_cores > 0 ? cpu->n_cores : 1;
    hw->simd = cpu->simd;
    snprintf(hw->cpu, sizeof hw->cpu, "%s", cpu->brand[0] ? cpu->brand : "unknown CPU");
    probe_nvidia(hw);
    if (!hw->n_gpus) probe_drm(hw);
    for (int i = 0; i < hw->n_gpus; i++)
        if (hw->gpus[i].vram_total > hw->vram_total) hw->vram_total = hw->gpus[i].vram_total;
    xuan_models_dir(hw->models_dir, sizeof hw->models_dir);
    hw->disk_free = xuan_disk_free(hw->models_dir);
    if (hw->disk_free < 0) {
        char c[1024];
        hw->disk_free = xuan_disk_free(xuan_cache_dir(c, sizeof c));
        if (hw->disk_free < 0 && getenv("HOME")) hw->disk_free = xuan_disk_free(getenv("HOME"));
    }
    if (bw != XUAN_BW_NONE) bandwidth(hw, bw);
    return 0;
}
