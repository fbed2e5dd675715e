/*
 * pool.c — the thread pool behind xuan_pool_run (see base.h).
 *
 * One job at a time.  The caller publishes a job by bumping `generation`;
 * workers notice it by spinning (cheap when calls come back to back, as in
 * decoding where a token is ~200 matrix products) or, after SPIN_LIMIT
 * polls, by sleeping on a condition variable.
 *
 * The job's shares (ith = 0 .. nth-1) are not bound to threads: the caller
 * runs share 0, then every thread, the caller too, takes the next share
 * from the atomic counter `next` until none is left.  When the machine is
 * busier than the pool (other processes, ctest -j, a laptop's browser) a
 * worker may have no core for milliseconds; the caller then runs its share
 * instead of waiting for it, so a descheduled worker costs at most the
 * share it already took, never a scheduler time slice per dispatch.
 * Completion is the count of finished shares, `done`, which the caller
 * spins (then yields) on.  Which thread runs a share never changes what it
 * computes: shares are defined by (ith, nth) alone.
 *
 * The sleep/wake handshake is the classic store-then-load pair: a worker
 * increments `n_sleeping` and then re-reads `generation` under the mutex;
 * the caller stores `generation` and then reads `n_sleeping`.  With
 * sequentially consistent atomics one of the two sees the other's write,
 * so a wake-up is never lost.
 */
#include "xuan/base.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* Polls before a worker goes to sleep: a pause is ~40-140 cycles, so this
 * is on the order of a millisecond, long enough to bridge the gaps between
 * kernels of one token, short enough not to burn a core when idle.  After
 * the first SPIN_PURE polls a worker yields between polls, so on a core it
 * shares with a runnable thread (often the caller's) it gives the core up. */
enum { SPIN_LIMIT = 1 << 15, SPIN_PURE = 1 << 10 };

typedef struct worker {
    xuan_pool *pool;
    pthread_t thread;
} worker;

struct xuan_pool {
    int n_threads;
    worker *workers; /* n_threads - 1 of them */

    xuan_pool_fn fn; /* the current job, written before generation is bumped */
    void *ctx;
    atomic_uint generation;
    atomic_int next; /* the next share of the current job to take */
    atomic_int done; /* shares of the current job finished */
    atomic_int n_sleeping;
    atomic_bool stop;

    pthread_mutex_t mutex;
    pthread_cond_t wake;

    /* Shared pools (xuan_pool_shared): callers on several threads take
     * turns through run_lock; refs counts the holders. */
    bool shared;
    int refs;
    pthread_mutex_t run_lock;
};

/* Takes and runs shares of the current job until none is left.  fn and ctx
 * are read after a share is taken: the caller cannot publish the next job
 * while that share is unfinished, so they are the taken share's job. */
static void run_shares(xuan_pool *p) {
    for (int ith; (ith = atomic_fetch_add(&p->next, 1)) < p->n_threads;) {
        p->fn(p->ctx, ith, p->n_threads);
        atomic_fetch_add(&p->done, 1);
    }
}

static void *worker_main(void *arg) {
    worker *self = arg;
    xuan_pool *p = self->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = atomic_load(&p->generation);
        for (int spin = 0; gen == seen && spin < SPIN_LIMIT; spin++) {
            if (spin < SPIN_PURE) CPU_RELAX();
            else if (spin % 16 == 0) sched_yield();
            gen = atomic_load(&p->generation);
        }
        if (gen == seen) {
            pthread_mutex_lock(&p->mutex);
            atomic_fetch_add(&p->n_sleeping, 1);
            while ((gen = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->wake, &p->mutex);
            atomic_fetch_sub(&p->n_sleeping, 1);
            pthread_mutex_unlock(&p->mutex);
        }
        seen = gen;
        if (atomic_load(&p->stop)) return NULL;
        run_shares(p);
    }
}

/* Publishes the job in p->fn/ctx to the workers. */
static void publish(xuan_pool *p) {
    atomic_store(&p->done, 0);
    atomic_store(&p->next, 1); /* share 0 is the caller's */
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mutex);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
    }
}

static void join_workers(xuan_pool *p, int n_started) {
    atomic_store(&p->stop, true);
    publish(p);
    for (int i = 0; i < n_started; i++) pthread_join(p->workers[i].thread, NULL);
}

xuan_pool *xuan_pool_create(int n_threads, xuan_error *err) {
    if (n_threads <= 0) n_threads = xuan_cpu_get()->n_cores;
    if (n_threads > 1024) {
        xuan_fail(err, XUAN_ERR_USAGE, "thread pool: %d threads is too many (at most 1024)", n_threads);
        return NULL;
    }
    xuan_pool *p = xuan_calloc(1, sizeof *p);
    if (!p) {
        xuan_fail(err, XUAN_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    p->n_threads = n_threads;
    atomic_init(&p->generation, 0);
    atomic_init(&p->next, n_threads);
    atomic_init(&p->done, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_mutex_init(&p->run_lock, NULL);
    if (n_threads > 1) {
        p->workers = xuan_calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            xuan_pool_free(p);
            xuan_fail(err, XUAN_ERR_NOMEM, "thread pool: out of memory");
            return NULL;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            p->workers[i] = (worker){.pool = p};
            int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
            if (rc != 0) {
                join_workers(p, i);
                p->n_threads = 1; /* nothing left to join in xuan_pool_free */
                xuan_pool_free(p);
                xuan_fail(err, XUAN_ERR_NOMEM, "thread pool: cannot start thread %d of %d: %s",
                          i + 2, n_threads, strerror(rc));
                return NULL;
            }
        }
    }
    return p;
}

void xuan_pool_free(xuan_pool *p) {
    if (!p) return;
    if (p->n_threads > 1 && p->workers) join_workers(p, p->n_threads - 1);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->run_lock);
    xuan_free(p->workers);
    xuan_free(p);
}

int xuan_pool_size(const xuan_pool *p) { return p ? p->n_threads : 1; }

void xuan_pool_run(xuan_pool *p, xuan_pool_fn fn, void *ctx) {
    if (!p || p->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    if (p->shared) pthread_mutex_lock(&p->run_lock);
    p->fn = fn;
    p->ctx = ctx;
    publish(p);
    fn(ctx, 0, p->n_threads);
    atomic_fetch_add(&p->done, 1);
    run_shares(p); /* the shares no worker has taken yet */
    /* Spin, then yield: with more threads than free cores a worker may be
     * waiting for our core, and pure spinning would starve it. */
    for (int spin = 0; atomic_load(&p->done) < p->n_threads; spin++) {
        if (spin < SPIN_LIMIT / 8) CPU_RELAX();
        else sched_yield();
    }
    if (p->shared) pthread_mutex_unlock(&p->run_lock);
}

/* ---- the process-wide pools ---- */

enum { MAX_SHARED = 8 }; /* distinct thread counts alive at once */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static xuan_pool *shared_pools[MAX_SHARED];

xuan_pool *xuan_pool_shared(int n_threads, xuan_error *err) {
    if (n_threads <= 0) n_threads = xuan_cpu_get()->n_cores;
    pthread_mutex_lock(&shared_lock);
    xuan_pool *p = NULL;
    int free_slot = -1;
    for (int i = 0; i < MAX_SHARED && !p; i++) {
        if (shared_pools[i] && shared_pools[i]->n_threads == n_threads) p = shared_pools[i];
        else if (!shared_pools[i] && free_slot < 0) free_slot = i;
    }
    if (!p) {
        if (free_slot < 0) {
            pthread_mutex_unlock(&shared_lock);
            xuan_fail(err, XUAN_ERR_FULL, "thread pool: %d pools of different sizes already run", MAX_SHARED);
            return NULL;
        }
        p = xuan_pool_create(n_threads, err);
        if (p) {
            p->shared = true;
            shared_pools[free_slot] = p;
        }
    }
    if (p) p->refs++;
    pthread_mutex_unlock(&shared_lock);
    return p;
}

void xuan_pool_release(xuan_pool *p) {
    if (!p) return;
    XUAN_ASSERT(p->shared && p->refs > 0);
    pthread_mutex_lock(&shared_lock);
    bool last = --p->refs == 0;
    if (last)
        for (int i = 0; i < MAX_SHARED; i++)
            if (shared_pools[i] == p) shared_pools[i] = NULL;
    pthread_mutex_unlock(&shared_lock);
    if (last) xuan_pool_free(p);
}
