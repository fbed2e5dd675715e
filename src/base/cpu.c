/* CPU feature detection (CPUID + XGETBV) and the XUAN_CPU override. */
#include "xuan/base.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(xuan_cpu *c) {
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    bool osxsave = cx & (1u << 27), avx = cx & (1u << 28);
    c->has_fma = cx & (1u << 12);
    c->has_f16c = cx & (1u << 29);
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    bool ymm_ok = (xcr0 & 0x6) == 0x6, zmm_ok = (xcr0 & 0xe6) == 0xe6;
    unsigned b7 = 0, c7 = 0, a71 = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b7, c7, d);
        __cpuid_count(7, 1, a71, b, cx, d);
    }
    bool avx2 = avx && ymm_ok && (b7 & (1u << 5)) && c->has_fma && c->has_f16c;
    bool avx512 = avx2 && zmm_ok && (b7 & (1u << 16)) /* F */ && (b7 & (1u << 17)) /* DQ */ &&
                  (b7 & (1u << 30)) /* BW */ && (b7 & (1u << 31)) /* VL */;
    c->has_avx512_vnni = avx512 && (c7 & (1u << 11));
    c->has_avx512_bf16 = avx512 && (a71 & (1u << 5));
    c->native = avx512 && c->has_avx512_vnni ? XUAN_SIMD_AVX512 : avx2 ? XUAN_SIMD_AVX2 : XUAN_SIMD_SCALAR;

    unsigned brand[12];
    if ((unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000004) { /* int in clang's cpuid.h */
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2],
                        &brand[4 * i + 3]);
        memcpy(c->brand, brand, 48);
        c->brand[48] = 0;
        char *p = c->brand; /* trim leading spaces */
        while (*p == ' ') p++;
        memmove(c->brand, p, strlen(p) + 1);
    }
}
#else
static void detect(xuan_cpu *c) { (void)c; }
#endif

static xuan_cpu g_cpu;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init(void) {
    detect(&g_cpu);
    cpu_set_t set;
    g_cpu.n_cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                               : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (g_cpu.n_cores < 1) g_cpu.n_cores = 1;
    g_cpu.simd = g_cpu.native;
    const char *env = getenv("XUAN_CPU");
    if (env && *env) {
        xuan_simd want = g_cpu.native;
        if (!strcmp(env, "scalar")) want = XUAN_SIMD_SCALAR;
        else if (!strcmp(env, "avx2")) want = XUAN_SIMD_AVX2;
        else if (!strcmp(env, "avx512")) want = XUAN_SIMD_AVX512;
        else xuan_log(XUAN_LOG_WARN, "XUAN_CPU=%s is not one of scalar, avx2, avx512; ignored", env);
        if (want > g_cpu.native) {
            xuan_log(XUAN_LOG_WARN, "XUAN_CPU=%s: this CPU only supports %s", env,
                     xuan_simd_name(g_cpu.native));
            want = g_cpu.native;
        }
        g_cpu.simd = want;
    }
}

const xuan_cpu *xuan_cpu_get(void) {
    pthread_once(&g_once, init);
    return &g_cpu;
}

void xuan_cpu_set_simd(xuan_simd s) {
    pthread_once(&g_once, init);
    g_cpu.simd = s > g_cpu.native ? g_cpu.native : s;
}

const char *xuan_simd_name(xuan_simd s) {
    switch (s) {
    case XUAN_SIMD_SCALAR: return "scalar";
    case XUAN_SIMD_AVX2: return "avx2";
    case XUAN_SIMD_AVX512: return "avx512";
    }
    return "?";
}
