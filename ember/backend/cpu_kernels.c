/* Fused float32 CPU kernels for the ops NumPy can only do in many passes (GELU, layer norm, softmax).
 *
 * Plain C (no Python headers): ember/backend/cpu_kernels.py compiles this file once per machine with the
 * system C compiler and calls it through ctypes, which releases the GIL, so the intra-op pool can run
 * pieces on several cores. Every kernel works on a range [lo, hi) of elements or rows, so the caller
 * splits the work. Math is done in double and rounded once to float32: that keeps hand-written
 * polynomial approximations simple (a relative error of ~2e-10 is far below float32's 6e-8) and lets
 * the compiler vectorise the loops (no libm calls inside them).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(a) to ~1e-11 relative, 0 below -708 and inf above 709 (NaN stays NaN). Written so that gcc -O3
 * vectorises it: round-to-nearest by the 1.5 * 2^52 trick, 2^n built from the integer bits. */
static inline double vexp(double a)
{
    const double shift = 6755399441055744.0; /* 1.5 * 2^52 */
    double c = a < -708.0 ? -708.0 : a;
    c = c > 709.0 ? 709.0 : c;
    double t = c * 1.4426950408889634 + shift;
    double n = t - shift;
    double r = c - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
    double p = 2.7557319223985893e-06;
    p = p * r + 2.4801587301587302e-05;
    p = p * r + 1.9841269841269841e-04;
    p = p * r + 1.3888888888888889e-03;
    p = p * r + 8.3333333333333333e-03;
    p = p * r + 4.1666666666666667e-02;
    p = p * r + 1.6666666666666667e-01;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4338000000000000LL + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    /* 0 below the range, inf above it, as products rather than branches (which stop vectorisation) */
    return p * scale * (double)(a >= -708.0) * (1.0 + (double)(a > 709.0) * 1e300);
}

/* exp(a) in float32 for softmax, within 2 ulp; 0 below -86.6 (a softmax term under 2e-38 of the largest),
 * inf above 88.7228 (float32 overflow). Sixteen lanes where vexp has eight. 2^n is built as 2^(n-1) * 2 so that n = 128 (a up to
 * 88.7) stays a normal number. */
static inline float vexpf(float a)
{
    const float shift = 12582912.0f; /* 1.5 * 2^23 */
    float c = a < -86.6f ? -86.6f : a;
    c = c > 88.7228f ? 88.7228f : c;
    float t = c * 1.44269504f + shift;
    float n = t - shift;
    float r = c - n * 0.693145752f - n * 1.42860677e-06f;
    float p = 1.98412698e-04f;
    p = p * r + 1.38888889e-03f;
    p = p * r + 8.33333333e-03f;
    p = p * r + 4.16666667e-02f;
    p = p * r + 1.66666667e-01f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4B400000 + 126) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale * 2.0f * (float)(a >= -86.6f) * (1.0f + (float)(a > 88.7228f) * 1e30f);
}

/* 0.5 * erfc(w) / exp(-w^2) for w = |x| / sqrt(2) >= 0, as P(y) * t / 6 with t = 3 / (3 + w) and y affine
 * in t: a degree-11 fit of erfcx over w in [0, 14] (relative error 2.1e-10; past 14, Phi(x) is below
 * float32's smallest number anyway). */
static inline double half_erfcx(double w)
{
    double t = 3.0 / (3.0 + (w < 14.0 ? w : 14.0));
    double y = t * 2.428571428571429 - 1.4285714285714286;
    double p = -4.393335070593382e-06;
    p = p * y + 2.611748589146894e-06;
    p = p * y + 6.707119352744577e-05;
    p = p * y + 2.187608696650021e-06;
    p = p * y - 0.0008820145794483617;
    p = p * y - 0.0016510061909138834;
    p = p * y + 0.00887399587389443;
    p = p * y + 0.06532224932193413;
    p = p * y + 0.22505696541035014;
    p = p * y + 0.5278928720784233;
    p = p * y + 0.9252119319274978;
    p = p * y + 1.2501075291197992;
    return p * t * (1.0 / 6.0);
}

#define INV_SQRT2 0.70710678118654752
#define INV_SQRT_2PI 0.39894228040143268
#define SQRT_2_PI 0.79788456080286536
#define GELU_C 0.044715

/* Phi(x) (the normal CDF), and exp(-x^2 / 2) into *e: GELU's backward needs both. */
static inline double normal_cdf(double v, double *e)
{
    double w = fabs(v) * INV_SQRT2;
    *e = vexp(-w * w);
    double q = *e * half_erfcx(w); /* Phi(-|x|) */
    return v > 0 ? 1.0 - q : q;
}

/* y = x * Phi(x), the exact GELU. (The loops below keep one body each, without branches on arguments,
 * so that they vectorise.) */
void gelu_f32(const float *restrict x, float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double e, v = x[i];
        y[i] = (float)(v * normal_cdf(v, &e));
    }
}

/* The same, also keeping Phi(x) in cdf for the backward. */
void gelu_cdf_f32(const float *restrict x, float *restrict y, float *restrict cdf, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double e, v = x[i], p = normal_cdf(v, &e);
        y[i] = (float)(v * p);
        cdf[i] = (float)p;
    }
}

/* gx = g * (Phi(x) + x phi(x)) with phi(x) = exp(-x^2 / 2) / sqrt(2 pi). */
void gelu_bwd_f32(const float *restrict g, const float *restrict x, float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double e, v = x[i], p = normal_cdf(v, &e);
        gx[i] = (float)((double)g[i] * (p + v * e * INV_SQRT_2PI));
    }
}

/* The same with the forward's Phi(x) given (only exp is left to compute). */
void gelu_cdf_bwd_f32(const float *restrict g, const float *restrict x, const float *restrict cdf,
                      float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double v = x[i];
        gx[i] = (float)((double)g[i] * ((double)cdf[i] + v * vexp(-0.5 * v * v) * INV_SQRT_2PI));
    }
}

/* tanh GELU: 0.5 x (1 + tanh(u)) = x * s with s = 1 / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3);
 * the sigmoid form has no cancellation for large negative x. */
void gelu_tanh_f32(const float *restrict x, float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double v = x[i], u = SQRT_2_PI * (v + GELU_C * v * v * v);
        y[i] = (float)(v / (1.0 + vexp(-2.0 * u)));
    }
}

/* d/dx [x s] = s + 2 x s (1 - s) u' with u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2). */
void gelu_tanh_bwd_f32(const float *restrict g, const float *restrict x, float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        double v = x[i], u = SQRT_2_PI * (v + GELU_C * v * v * v);
        double s = 1.0 / (1.0 + vexp(-2.0 * u));
        double du = SQRT_2_PI * (1.0 + 3.0 * GELU_C * v * v);
        gx[i] = (float)((double)g[i] * (s + 2.0 * v * s * (1.0 - s) * du));
    }
}

/* The reductions below carry "omp simd reduction" pragmas (compiled with -fopenmp-simd: no OpenMP runtime)
 * so the compiler may split the sum across vector lanes; without them C's strict left-to-right order keeps
 * every reduction scalar. */

/* mean and 1/sqrt(var + eps) of a row of n floats (two passes in double: no cancellation). */
static inline void row_moments(const float *restrict xr, int64_t n, double eps, double *mean, double *rstd)
{
    double s = 0.0, v = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) s += xr[j];
    double m = s / (double)n;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < n; j++) v += (xr[j] - m) * (xr[j] - m);
    *mean = m;
    *rstd = 1.0 / sqrt(v / (double)n + eps);
}

/* Layer norm over rows [lo, hi) of n elements: y = (x - mean) * rstd * w + b (the caller passes ones and
 * zeros for a missing weight or bias: one loop body, no branches). */
void layer_norm_f32(const float *restrict x, const float *restrict w, const float *restrict b, float *restrict y,
                    int64_t n, double eps, int64_t lo, int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double m, rs;
        row_moments(xr, n, eps, &m, &rs);
        for (int64_t j = 0; j < n; j++) yr[j] = (float)((xr[j] - m) * rs * w[j] + b[j]);
    }
}

/* Layer norm backward for rows [lo, hi): with xhat = (x - mean) rstd and gh = g * w,
 * gx = rstd (gh - mean(gh) - xhat mean(gh xhat)); dw += g xhat and db += g in float64 accumulators (one set
 * per piece, summed by the caller). */
void layer_norm_bwd_f32(const float *restrict g, const float *restrict x, const float *restrict w,
                        float *restrict gx, double *restrict dw, double *restrict db, int64_t n, double eps,
                        int64_t lo, int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = x + r * n, *gr = g + r * n;
        float *gxr = gx + r * n;
        double m, rs, a = 0.0, c = 0.0;
        row_moments(xr, n, eps, &m, &rs);
#pragma omp simd reduction(+ : a, c)
        for (int64_t j = 0; j < n; j++) {
            double gj = gr[j], xh = (xr[j] - m) * rs, gh = gj * w[j];
            dw[j] += gj * xh;
            db[j] += gj;
            a += gh;
            c += gh * xh;
        }
        a /= (double)n;
        c /= (double)n;
        for (int64_t j = 0; j < n; j++)
            gxr[j] = (float)(rs * ((double)gr[j] * w[j] - a - (xr[j] - m) * rs * c));
    }
}

/* softmax (log_ = 0) or log_softmax (log_ = 1) over rows of n elements, rows [lo, hi). With dead_zero, a
 * softmax row whose entries are all -inf (attention with every key masked out) comes out as zeros. */
void softmax_f32(const float *restrict x, float *restrict y, int64_t n, int log_, int dead_zero, int64_t lo,
                 int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float mx = -INFINITY;
        int bad = 0;
#pragma omp simd reduction(max : mx) reduction(| : bad)
        for (int64_t j = 0; j < n; j++) {
            mx = xr[j] > mx ? xr[j] : mx;
            bad |= xr[j] != xr[j];
        }
        double s = 0.0;
        if (dead_zero && !bad && mx == -INFINITY) {
            for (int64_t j = 0; j < n; j++) yr[j] = 0.0f;
            continue;
        }
        if (bad || mx == INFINITY || mx == -INFINITY) {
            /* a row with NaN, +inf or only -inf, off the fast path (libm): softmax is exp(x - max) / sum, all
             * NaN; log_softmax shifts by 0 instead of a non-finite max, so x - log(sum(exp(x))) keeps torch's
             * -inf entries beside the NaNs */
            double m = log_ ? 0.0 : mx;
            for (int64_t j = 0; j < n; j++) s += exp((double)xr[j] - m);
            for (int64_t j = 0; j < n; j++)
                yr[j] = log_ ? (float)((double)xr[j] - log(s)) : (float)(exp((double)xr[j] - m) / s);
            continue;
        }
        if (log_) {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) s += vexpf(xr[j] - mx);
            double off = mx + log(s);
            for (int64_t j = 0; j < n; j++) yr[j] = (float)((double)xr[j] - off);
        } else {
            /* exp once, kept in y, then scaled */
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) {
                float e = vexpf(xr[j] - mx);
                yr[j] = e;
                s += e;
            }
            float inv = (float)(1.0 / s);
            for (int64_t j = 0; j < n; j++) yr[j] *= inv;
        }
    }
}

/* softmax backward gx = y (g - sum(g y)); log_softmax backward gx = g - exp(y) sum(g); rows [lo, hi). */
void softmax_bwd_f32(const float *restrict g, const float *restrict y, float *restrict gx, int64_t n, int log_,
                     int64_t lo, int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *gr = g + r * n, *yr = y + r * n;
        float *o = gx + r * n;
        double s = 0.0;
        if (log_) {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) s += gr[j];
            for (int64_t j = 0; j < n; j++) o[j] = (float)((double)gr[j] - vexpf(yr[j]) * s);
        } else {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) s += (double)gr[j] * yr[j];
            for (int64_t j = 0; j < n; j++) o[j] = (float)((double)yr[j] * ((double)gr[j] - s));
        }
    }
}
