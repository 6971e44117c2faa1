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

/* Claim and run pieces of job `g` until none is left. */
static void pool_claim(unsigned g, pool_piece fn, const void *ctx, int64_t n, int64_t k)
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
    }
}

static void *pool_worker(void *arg)
{
    (void)arg;
    unsigned seen = atomic_load(&pool.gen);
    for (;;) {
        unsigned g = pool_wait(seen);
        seen = g;
        pool_piece fn = atomic_load_explicit(&pool.fn, memory_order_acquire);
        const void *ctx = atomic_load_explicit(&pool.ctx, memory_order_acquire);
        int64_t n = atomic_load_explicit(&pool.n, memory_order_acquire);
        int64_t k = atomic_load_explicit(&pool.k, memory_order_acquire);
        /* if these belong to a newer job than g, job g is over and no claim on it can succeed */
        pool_claim(g, fn, ctx, n, k);
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
        if (pthread_create(&t, NULL, pool_worker, NULL) != 0)
            return; /* fewer workers: the caller runs more pieces */
        pthread_detach(t);
        pool.started++;
    }
}

/* Send spinning workers to sleep before a multi-threaded gemm: BLAS's threads need the cores, and a worker
 * spinning beside them on a 2-core machine slowed a Linear's 1024x128x512 gemm by a third (952 us for it
 * and a bias added here, against 695 + 45 apart). The next job wakes them. (Yielding while spinning instead
 * cost LeNet's backward 15%: its kernels follow each other closely.) */
void pool_rest(void) { atomic_store_explicit(&pool.rest, 1, memory_order_relaxed); }

/* fn(ctx, lo, hi, i) for the k pieces of [0, n), on up to k threads. */
static void pool_for(int64_t n, int64_t k, pool_piece fn, const void *ctx)
{
    if (k > POOL_MAX)
        k = POOL_MAX;
    if (k > n)
        k = n;
    if (k <= 1 || pthread_mutex_trylock(&pool.submit) != 0) {
        /* one piece, or the pool busy with another thread's job: the same pieces, here, in order */
        for (int64_t i = 0; i < k; i++)
            fn(ctx, n * i / k, n * (i + 1) / k, i);
        return;
    }
    pool_grow((int)k - 1);
    unsigned g = atomic_load(&pool.gen) + 1;
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool.n, n, memory_order_relaxed);
    atomic_store_explicit(&pool.k, k, memory_order_relaxed);
    atomic_store(&pool.done, 0);
    atomic_store_explicit(&pool.rest, 0, memory_order_relaxed);
    atomic_store(&pool.claim, (unsigned long long)g << 32);
    atomic_store(&pool.gen, g); /* seq_cst: ordered before the read of `sleeping` */
    if (atomic_load(&pool.sleeping)) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    pool_claim(g, fn, ctx, n, k);
    for (int spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < k; spins++) {
        pool_pause();
        if (spins > 4096) /* a worker was descheduled mid-piece: let it run */
            sched_yield();
    }
    pthread_mutex_unlock(&pool.submit);
}
