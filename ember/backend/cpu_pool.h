/* The intra-op thread pool of the compiled kernels (included by cpu_kernels.c).
 *
 * Python's thread pool hands a piece to a worker in 30-60 us, so kernels of a few hundred microseconds
 * (LeNet's convolutions and poolings, a GPT's GELU) could not be split at all. Here a hand-off is a store to
 * a shared word that spinning workers see within a microsecond or so. Workers spin for POOL_SPIN_NS after
 * their last piece (as OpenMP's and OpenBLAS's workers do), then sleep on a condition variable.
 *
 * A job is k pieces of [0, n), piece i being [n*i/k, n*(i+1)/k). The caller and the workers claim pieces
 * from one counter, so the caller never waits for a worker that the OS has not scheduled (BLAS's spinning
 * threads may hold the other cores): it runs the unclaimed pieces itself and waits only for pieces under
 * way. Pieces do not depend on who runs them, so a kernel that keeps one accumulator per piece gets the same
 * sums every time for the same k. The counter word carries the job's number, so a worker that wakes late
 * can never claim a piece of a newer job with an older job's arguments. One job runs at a time: a second
 * thread that finds the pool busy runs its pieces itself, in order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define POOL_MAX 64
#define POOL_SPIN_NS 200000

typedef void (*pool_piece)(const void *ctx, int64_t lo, int64_t hi, int64_t idx);

static struct {
    pthread_mutex_t mu, submit;
    pthread_cond_t cv;
    atomic_uint gen;             /* number of the latest job */
    atomic_ullong claim;         /* job number << 32 | pieces claimed */
    atomic_llong done;           /* pieces finished of the current job */
    atomic_int sleeping;
    atomic_int rest;             /* set by pool_rest: spinning workers sleep now */
    atomic_int once;             /* a gang job: a worker runs at most one piece of it */
    int started;                 /* workers running */
    _Atomic(pool_piece) fn;
    _Atomic(const void *) ctx;
    atomic_llong n, k;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .submit = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int64_t pool_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline void pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Wait until a job newer than `seen` is published: spin a while, then sleep. */
static unsigned pool_wait(unsigned seen)
{
    unsigned g;
    int64_t t0 = 0;
    int k = 0;
    while ((g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen) {
        pool_pause();
        if (++k < 256)
            continue;
        k = 0;
        int64_t t = pool_now_ns();
        if (!t0) {
            t0 = t;
        } else if (t - t0 > POOL_SPIN_NS || atomic_load_explicit(&pool.rest, memory_order_relaxed)) {
            pthread_mutex_lock(&pool.mu);
            atomic_fetch_add(&pool.sleeping, 1);
            while ((g = atomic_load(&pool.gen)) == seen)
                pthread_cond_wait(&pool.cv, &pool.mu);
            atomic_fetch_sub(&pool.sleeping, 1);
            pthread_mutex_unlock(&pool.mu);
            return g;
        }
    }
    return g;
}

/* Claim and run pieces of job `g` until none is left (one piece, once). */
static void pool_claim(unsigned g, pool_piece fn, const void *ctx, int64_t n, int64_t k, int once)
{
    for (;;) {
        unsigned long long c = atomic_load_explicit(&pool.claim, memory_order_acquire);
        int64_t i = (int64_t)(c & 0xffffffffULL);
        if ((unsigned)(c >> 32) != g || i >= k)
            return;
        if (!atomic_compare_exchange_weak(&pool.claim, &c, c + 1))
            continue;
        fn(ctx, n * i / k, n * (i + 1) / k, i);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
        if (once)
            return;
    }
}

static void *pool_worker(void *arg)
{
    /* the job number when the worker was made (before the job that made it was published): a worker that
     * starts late still sees that job, which a gang job needs */
    unsigned seen = (unsigned)(uintptr_t)arg;
    for (;;) {
        unsigned g = pool_wait(seen);
        seen = g;
        pool_piece fn = atomic_load_explicit(&pool.fn, memory_order_acquire);
        const void *ctx = atomic_load_explicit(&pool.ctx, memory_order_acquire);
        int64_t n = atomic_load_explicit(&pool.n, memory_order_acquire);
        int64_t k = atomic_load_explicit(&pool.k, memory_order_acquire);
        int once = atomic_load_explicit(&pool.once, memory_order_acquire);
        /* if these belong to a newer job than g, job g is over and no claim on it can succeed */
        pool_claim(g, fn, ctx, n, k, once);
    }
    return NULL;
}

static void pool_after_fork(void)
{
    /* a forked child (a DataLoader worker) has none of the workers: start afresh */
    pthread_mutex_init(&pool.mu, NULL);
    pthread_mutex_init(&pool.submit, NULL);
    pthread_cond_init(&pool.cv, NULL);
    atomic_store(&pool.sleeping, 0);
    pool.started = 0;
}

/* Start workers up to `want` (called with `submit` held). */
static void pool_grow(int want)
{
    static int registered;
    if (!registered) {
        pthread_atfork(NULL, NULL, pool_after_fork);
        registered = 1;
    }
    while (pool.started < want) {
        pthread_t t;
        if (pthread_create(&t, NULL, pool_worker, (void *)(uintptr_t)atomic_load(&pool.gen)) != 0)
            return; /* fewer workers: the caller runs more pieces */
        pthread_detach(t);
        pool.started++;
    }
}

/* Send spinning workers to sleep before a multi-threaded gemm where BLAS runs its own threads (not
 * pool_blas_jobs below): BLAS's threads need the cores, and a worker
 * spinning beside them on a 2-core machine slowed a Linear's 1024x128x512 gemm by a third (952 us for it
 * and a bias added here, against 695 + 45 apart). The next job wakes them. (Yielding while spinning instead
 * cost LeNet's backward 15%: its kernels follow each other closely.) */
void pool_rest(void) { atomic_store_explicit(&pool.rest, 1, memory_order_relaxed); }

/* Publish job (n, k, fn, ctx) to the workers and wake any that sleep (called with `submit` held). */
static void pool_publish(int64_t n, int64_t k, pool_piece fn, const void *ctx, int once)
{
    unsigned g = atomic_load(&pool.gen) + 1;
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool.n, n, memory_order_relaxed);
    atomic_store_explicit(&pool.k, k, memory_order_relaxed);
    atomic_store_explicit(&pool.once, once, memory_order_relaxed);
    atomic_store(&pool.done, 0);
    atomic_store_explicit(&pool.rest, 0, memory_order_relaxed);
    atomic_store(&pool.claim, (unsigned long long)g << 32 | (unsigned)once); /* a gang's piece 0: the caller's */
    atomic_store(&pool.gen, g); /* seq_cst: ordered before the read of `sleeping` */
    if (atomic_load(&pool.sleeping)) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
}

/* Wait for the k pieces of the current job, then free the pool for the next. */
static void pool_finish(int64_t k)
{
    for (int spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < k; spins++) {
        pool_pause();
        if (spins > 4096) /* a worker was descheduled mid-piece: let it run */
            sched_yield();
    }
    pthread_mutex_unlock(&pool.submit);
}

/* The number of pieces pool_for cuts [0, n) into when asked for k: callers that size per-piece scratch
 * for k clamp it the same way first. */
static inline int64_t pool_pieces(int64_t n, int64_t k)
{
    if (k > POOL_MAX)
        k = POOL_MAX;
    return k > n ? n : k;
}

/* fn(ctx, lo, hi, i) for the k pieces of [0, n), on up to k threads. */
static void pool_for(int64_t n, int64_t k, pool_piece fn, const void *ctx)
{
    k = pool_pieces(n, k);
    if (k <= 1 || pthread_mutex_trylock(&pool.submit) != 0) {
        /* one piece, or the pool busy with another thread's job: the same pieces, here, in order */
        for (int64_t i = 0; i < k; i++)
            fn(ctx, n * i / k, n * (i + 1) / k, i);
        return;
    }
    pool_grow((int)k - 1);
    pool_publish(n, k, fn, ctx, 0);
    pool_claim(atomic_load(&pool.gen), fn, ctx, n, k, 0);
    pool_finish(k);
}

/* ---------------------------------------------------------------- OpenBLAS's threads, on this pool
 * OpenBLAS (0.3.27 on) can hand its parallel jobs to a callback instead of its own threads
 * (openblas_set_threads_callback_function; cpu_kernels.py installs pool_blas_jobs). Then one set of threads
 * serves both: OpenBLAS's workers no longer spin for ~0.1 s after each threaded gemm on the cores that the
 * next kernel's pieces need (on 2 cores that made an LSTM's per-step jobs, or a spinning worker of ours beside
 * a gemm, run up to twice as long). Its jobs wait on each other's progress, so each must run on a thread of
 * its own: the caller runs job 0 and each worker claims at most one; a job submitted while the pool is busy
 * waits for it rather than running its pieces in turn. */
typedef void (*blas_dojob)(int thread, void *job, int arg);

typedef struct {
    blas_dojob fn;
    char *jobs;
    size_t size;
    int arg;
} blas_gang;

static void blas_gang_piece(const void *ctx, int64_t lo, int64_t hi, int64_t idx)
{
    const blas_gang *b = ctx;
    (void)lo, (void)hi;
    b->fn((int)idx, b->jobs + (size_t)idx * b->size, b->arg);
}

static void *blas_gang_thread(void *ctx)
{
    const blas_gang *b = ((void **)ctx)[0];
    blas_gang_piece(b, 0, 0, (int64_t)(intptr_t)((void **)ctx)[1]);
    return NULL;
}

void pool_blas_jobs(int sync, blas_dojob fn, int numjobs, size_t size, void *jobs, int arg)
{
    (void)sync; /* (OpenBLAS always waits; so does this) */
    blas_gang b = {fn, jobs, size, arg};
    int64_t k = numjobs;
    if (k <= 1) {
        if (k == 1)
            blas_gang_piece(&b, 0, 1, 0);
        return;
    }
    pthread_mutex_lock(&pool.submit);
    pool_grow((int)k - 1);
    if (pool.started < k - 1 || k > POOL_MAX) {
        /* more jobs than workers (thread creation failed, or > POOL_MAX threads): a thread per job, this once */
        pthread_mutex_unlock(&pool.submit);
        pthread_t t[k];
        void *ctx[k][2];
        for (int64_t i = 1; i < k; i++) {
            ctx[i][0] = &b, ctx[i][1] = (void *)(intptr_t)i;
            if (pthread_create(&t[i], NULL, blas_gang_thread, ctx[i]) != 0) {
                fputs("ember: cannot start a thread for OpenBLAS's jobs (which wait on each other)\n", stderr);
                abort();
            }
        }
        blas_gang_piece(&b, 0, 1, 0);
        for (int64_t i = 1; i < k; i++)
            pthread_join(t[i], NULL);
        return;
    }
    pool_publish(k, k, blas_gang_piece, &b, 1);
    blas_gang_piece(&b, 0, 1, 0);
    atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    pool_finish(k);
}
