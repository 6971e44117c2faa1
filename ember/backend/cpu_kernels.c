/* Fused float32 CPU kernels for the ops NumPy can only do in many passes (GELU, layer norm, softmax, the
 * LSTM step's gate math).
 *
 * Plain C (no Python headers): ember/backend/cpu_kernels.py compiles this file once per machine with the
 * system C compiler and calls it through ctypes, which releases the GIL, so the intra-op pool can run
 * pieces on several cores. Every kernel works on a range [lo, hi) of elements or rows, so the caller
 * splits the work. The math is float32, as torch's kernels do it, with hand-written exp and erfc
 * approximations (no libm calls in the loops) so that the compiler vectorises every loop: 16 lanes with
 * AVX-512. Results are within a few ulp of the exact values (tests/backend/test_cpu_kernels.py).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float v16f __attribute__((vector_size(64))); /* GCC/Clang vector type: 16 lanes, split if narrower */

static inline v16f vld(const float *p)
{
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vst(float *p, v16f v) { memcpy(p, &v, sizeof v); }

/* exp(a) in float32, within 1 ulp: a = n ln2 + r (round-to-nearest by the 1.5 * 2^23 trick), e^r by its
 * Taylor polynomial, 2^n from the integer bits, as 2^(n-1) * 2 so that n = 128 (a up to 88.72) stays
 * normal. 0 below -86.6 (where the true value is subnormal), inf above 88.7228, NaN stays NaN; the limits
 * are products rather than branches, which would stop vectorisation. */
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
 * in t: a degree-11 fit of erfcx over w in [0, 14] (relative error 2.1e-10, fitted in double; past 14,
 * Phi(x) is below float32's smallest number anyway). */
static inline float half_erfcx(float w)
{
    float t = 3.0f / (3.0f + (w < 14.0f ? w : 14.0f));
    float y = t * 2.42857143f - 1.42857143f;
    float p = -4.39333507e-06f;
    p = p * y + 2.61174859e-06f;
    p = p * y + 6.70711935e-05f;
    p = p * y + 2.18760870e-06f;
    p = p * y - 8.82014579e-04f;
    p = p * y - 1.65100619e-03f;
    p = p * y + 8.87399587e-03f;
    p = p * y + 6.53222493e-02f;
    p = p * y + 2.25056965e-01f;
    p = p * y + 5.27892872e-01f;
    p = p * y + 9.25211932e-01f;
    p = p * y + 1.25010753e+00f;
    return p * t * (1.0f / 6.0f);
}

#define INV_SQRT2 0.707106781f
#define INV_SQRT_2PI 0.398942280f
#define SQRT_2_PI 0.797884561f
#define GELU_C 0.044715f

/* exp(-x^2 / 2) with x^2 split exactly into hi + lo (an FMA gives lo): exp's argument carries no rounding
 * error, which would grow with x^2 (80 ulp at x = -13 from rounding x^2 alone). */
static inline float gauss(float v)
{
    float hi = v * v, lo = fabsf(v) < 1e18f ? fmaf(v, v, -hi) : 0.0f; /* (at inf, inf - inf would be NaN) */
    return vexpf(-0.5f * hi) * (1.0f - 0.5f * lo);
}

/* Phi(x) (the normal CDF), and exp(-x^2 / 2) into *e: GELU's backward needs both. */
static inline float normal_cdf(float v, float *e)
{
    *e = gauss(v);
    float q = *e * half_erfcx(fabsf(v) * INV_SQRT2); /* Phi(-|x|) */
    return v > 0 ? 1.0f - q : q;
}

/* y = x * Phi(x), the exact GELU. (The loops below keep one body each, without branches on arguments,
 * so that they vectorise.) */
void gelu_f32(const float *restrict x, float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float e, v = x[i];
        y[i] = v * normal_cdf(v, &e);
    }
}

/* The same, also keeping Phi(x) in cdf for the backward. */
void gelu_cdf_f32(const float *restrict x, float *restrict y, float *restrict cdf, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float e, v = x[i], p = normal_cdf(v, &e);
        y[i] = v * p;
        cdf[i] = p;
    }
}

/* gx = g * (Phi(x) + x phi(x)) with phi(x) = exp(-x^2 / 2) / sqrt(2 pi). */
void gelu_bwd_f32(const float *restrict g, const float *restrict x, float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float e, v = x[i], p = normal_cdf(v, &e);
        gx[i] = g[i] * (p + v * e * INV_SQRT_2PI);
    }
}

/* The same with the forward's Phi(x) given (only exp is left to compute). */
void gelu_cdf_bwd_f32(const float *restrict g, const float *restrict x, const float *restrict cdf,
                      float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float v = x[i];
        gx[i] = g[i] * (cdf[i] + v * gauss(v) * INV_SQRT_2PI);
    }
}

/* tanh GELU: 0.5 x (1 + tanh(u)) = x * s with s = 1 / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3);
 * the sigmoid form has no cancellation for large negative x. */
void gelu_tanh_f32(const float *restrict x, float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float v = x[i], u = SQRT_2_PI * (v + GELU_C * v * v * v);
        y[i] = v / (1.0f + vexpf(-2.0f * u));
    }
}

/* d/dx [x s] = s + 2 x s (1 - s) u' with u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2). */
void gelu_tanh_bwd_f32(const float *restrict g, const float *restrict x, float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++) {
        float v = x[i], u = SQRT_2_PI * (v + GELU_C * v * v * v);
        float s = 1.0f / (1.0f + vexpf(-2.0f * u));
        float du = SQRT_2_PI * (1.0f + 3.0f * GELU_C * v * v);
        gx[i] = g[i] * (s + 2.0f * v * s * (1.0f - s) * du);
    }
}

/* ---------------------------------------------------------------- transpose
 * dst (C x R) = src (R x C)^T, both C-contiguous; this piece writes dst rows [lo, hi). 8 x 8 blocks go through
 * registers (three rounds of shuffles); NumPy's transposing copy takes 10 us for 64 x 256, this ~3. */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline void transpose8(const float *restrict s, int64_t ls, float *restrict d, int64_t ld)
{
    v8f r[8], t[8], u[8];
    for (int i = 0; i < 8; i++)
        memcpy(&r[i], s + i * ls, sizeof r[i]);
    for (int i = 0; i < 8; i += 2) { /* pairs of rows interleaved */
        t[i] = __builtin_shuffle(r[i], r[i + 1], (v8i){0, 8, 1, 9, 4, 12, 5, 13});
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], (v8i){2, 10, 3, 11, 6, 14, 7, 15});
    }
    for (int i = 0; i < 8; i += 4) { /* then pairs of pairs: four rows' elements side by side */
        u[i] = __builtin_shuffle(t[i], t[i + 2], (v8i){0, 1, 8, 9, 4, 5, 12, 13});
        u[i + 1] = __builtin_shuffle(t[i], t[i + 2], (v8i){2, 3, 10, 11, 6, 7, 14, 15});
        u[i + 2] = __builtin_shuffle(t[i + 1], t[i + 3], (v8i){0, 1, 8, 9, 4, 5, 12, 13});
        u[i + 3] = __builtin_shuffle(t[i + 1], t[i + 3], (v8i){2, 3, 10, 11, 6, 7, 14, 15});
    }
    for (int i = 0; i < 4; i++) { /* and the halves of rows 0-3 and 4-7 joined: columns i and i + 4 */
        v8f lo = __builtin_shuffle(u[i], u[i + 4], (v8i){0, 1, 2, 3, 8, 9, 10, 11});
        v8f hi = __builtin_shuffle(u[i], u[i + 4], (v8i){4, 5, 6, 7, 12, 13, 14, 15});
        memcpy(d + i * ld, &lo, sizeof lo);
        memcpy(d + (i + 4) * ld, &hi, sizeof hi);
    }
}

/* d[j * ld + i] = s[i * C + j] for rows i in [i0, i1) and columns j in [lo, hi) of s (C columns). */
static void transpose_part(const float *restrict s, int64_t C, float *restrict d, int64_t ld, int64_t i0, int64_t i1,
                           int64_t lo, int64_t hi)
{
    int64_t j = lo;
    for (; j + 8 <= hi; j += 8) {
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8)
            transpose8(s + i * C + j, C, d + j * ld + i, ld);
        for (; i < i1; i++)
            for (int64_t jj = j; jj < j + 8; jj++)
                d[jj * ld + i] = s[i * C + jj];
    }
    for (; j < hi; j++)
        for (int64_t i = i0; i < i1; i++)
            d[j * ld + i] = s[i * C + j];
}

/* The (R, C) matrix s transposed into d (C, R), source columns [lo, hi). */
void transpose_f32(const float *restrict s, float *restrict d, int64_t R, int64_t C, int64_t lo, int64_t hi)
{
    transpose_part(s, C, d, R, 0, R, lo, hi);
}

/* tanh(x) in float32 within ~4 ulp: the odd Taylor series to x^15 below 0.5 (error 1e-8 there), else
 * 1 - 2 / (exp(2|x|) + 1) (no cancellation once tanh >= 0.46), sign restored. */
static inline float vtanhf(float x)
{
    float a = fabsf(x), a2 = x * x;
    float p = -1.45583438e-3f; /* -929569 / 638512875 */
    p = p * a2 + 3.59212803e-3f;
    p = p * a2 - 8.86323552e-3f;
    p = p * a2 + 2.18694885e-2f;
    p = p * a2 - 5.39682540e-2f;
    p = p * a2 + 1.33333333e-1f;
    p = p * a2 - 3.33333333e-1f;
    float small = a + a * a2 * p, big = 1.0f - 2.0f / (vexpf(2.0f * a) + 1.0f);
    return copysignf(a < 0.5f ? small : big, x); /* (tanh(-0) = -0) */
}

static inline float sigmoidf_(float x) { return 1.0f / (1.0f + vexpf(-x)); }

/* One LSTM step on the feature-major gate block a = [i; f; o; g] (each h*b = hb values, pre-activations
 * with i, f, o halved, as ember/ops/rnn_ops.py lays out the weights): a becomes the activations
 * (sigmoid(2 a) for i, f, o; tanh for g), and c = f c_prev + i g, ig = i g, tc = tanh(c), h = o tc. */
static inline void lstm_cell(float *restrict a, const float *restrict cp, float *restrict cn,
                             float *restrict tc, float *restrict ig, float *restrict h, int64_t hb, int64_t lo,
                             int64_t hi)
{
    float *ai = a, *af = a + hb, *ao = a + 2 * hb, *ag = a + 3 * hb;
    for (int64_t j = lo; j < hi; j++) {
        float i = sigmoidf_(2.0f * ai[j]), f = sigmoidf_(2.0f * af[j]), o = sigmoidf_(2.0f * ao[j]);
        float g = vtanhf(ag[j]);
        ai[j] = i;
        af[j] = f;
        ao[j] = o;
        ag[j] = g;
        float igj = i * g, c = f * cp[j] + igj, t = vtanhf(c);
        ig[j] = igj;
        cn[j] = c;
        tc[j] = t;
        h[j] = o * t;
    }
}

/* One step of the LSTM backward recurrence for units [h0, h1), on the forward's saved step: a = the
 * activations [i; f; o; g] (each a block of hb = H*B values, feature-major), ig = i g, cp = the previous cell
 * state, tc = tanh(c).
 * With dh += this step's output gradient (gout, batch-major (B, H), or NULL), s = dh o (1 - tc^2) + dc, the
 * pre-activation gradients in torch's gate order, i(1-i) g s, f(1-f) c_prev s, i (1-g^2) s, o(1-o) tc dh,
 * go to rows [0, 4H) of d (row stride ldd: the caller's (4H, steps * B) matrix), and dc becomes s f.
 * gt: hb floats of scratch for gout transposed to feature-major, so that the main loop stays vectorised. */
static void lstm_step_bwd(const float *restrict a, const float *restrict ig, const float *restrict cp,
                          const float *restrict tc, const float *restrict gout, float *restrict gt,
                          float *restrict dh, float *restrict dc, float *restrict d, int64_t ldd, int64_t H,
                          int64_t B, int64_t h0, int64_t h1)
{
    const int64_t hb = H * B;
    if (gout) {
        transpose_part(gout, H, gt, B, 0, B, h0, h1);
        for (int64_t j = h0 * B; j < h1 * B; j++)
            dh[j] += gt[j];
    }
    for (int64_t h = h0; h < h1; h++) {
        const float *ah = a + h * B;
        float *di = d + h * ldd, *df = d + (H + h) * ldd, *dg = d + (2 * H + h) * ldd, *dout = d + (3 * H + h) * ldd;
        float *dhh = dh + h * B, *dch = dc + h * B;
        const float *igh = ig + h * B, *cph = cp + h * B, *tch = tc + h * B;
        for (int64_t b = 0; b < B; b++) {
            float i = ah[b], f = ah[hb + b], o = ah[2 * hb + b], g = ah[3 * hb + b];
            float t = tch[b], igb = igh[b], dhb = dhh[b], ho = o * t;
            float s = dhb * (o - ho * t) + dch[b];
            di[b] = (igb - igb * i) * s;
            df[b] = (1.0f - f) * f * cph[b] * s;
            dg[b] = (i - igb * g) * s;
            dout[b] = (ho - ho * o) * dhb;
            dch[b] = s * f;
        }
    }
}

/* A small packed gemm for the LSTM recurrences. Every step multiplies the same weight by a new (K, B) right
 * operand, so the weight is packed once per call into panels of MR rows (P[panel][k][i]: the MR values one k
 * needs side by side, rows past the end zero) and each step streams the right operand's rows from L1. A 6 x 16
 * tile keeps 12 accumulators, 2 loads and a broadcast in AVX2's 16 registers. Measured (512 x 193 @ 193 x 32,
 * one thread): 62 us against 69 for NumPy's OpenBLAS, which repacks the weight at every call; and, unlike a
 * BLAS call, it runs on the pool's threads, so one step's gemm and gate math split by units in one job. */
enum { MR = 6 };

static inline v8f ld8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* A piece's rows: packed row r is row (r / n) * gap + u0 + r % n of the weight and of the product (the piece's
 * units [u0, u0 + n) of each of the gate blocks, gap rows apart). */
typedef struct {
    int64_t n, gap, u0;
} rowmap;

static inline int64_t row_of(rowmap m, int64_t r) { return r / m.n * m.gap + m.u0 + r % m.n; }

/* Rows rm of the matrix A (element (row, k) at A[row * rs + k * cs]: a transposed matrix packs as it is) into
 * the m rows of panels P. */
static void pack_panels(const float *restrict A, int64_t rs, int64_t cs, int64_t K, rowmap rm, int64_t m,
                        float *restrict P)
{
    for (int64_t p = 0; p < m; p += MR)
        for (int64_t i = 0; i < MR; i++) {
            float *d = P + p * K + i;
            const float *s = p + i < m ? A + row_of(rm, p + i) * rs : NULL;
            for (int64_t k = 0; k < K; k++)
                d[k * MR] = s ? s[k * cs] : 0.0f;
        }
}

/* The sums of an MR x 8nv tile: acc[i] = row i of A (element k at A[i * ars + k * acs]; rows from mr on repeat
 * row 0, their sums unused) . z (K rows of 8nv values, stride ldz). A packed panel is A = P, ars 1, acs MR. */
static inline __attribute__((always_inline)) void tile_sums(v8f acc[MR][2], const float *restrict A, int64_t ars,
                                                            int64_t acs, int64_t mr, int64_t K,
                                                            const float *restrict z, int64_t ldz, int nv)
{
    int64_t off[MR];
    for (int i = 0; i < MR; i++) {
        off[i] = (i < mr ? i : 0) * ars;
        acc[i][0] = acc[i][1] = (v8f){0};
    }
    for (int64_t k = 0; k < K; k++, z += ldz, A += acs) {
        v8f b0 = ld8(z), b1 = nv > 1 ? ld8(z + 8) : b0;
        for (int i = 0; i < MR; i++) {
            float s = A[off[i]];
            v8f a = {s, s, s, s, s, s, s, s}; /* (spelled out: 0 + s would not fold, for -0) */
            acc[i][0] += a * b0;
            if (nv > 1)
                acc[i][1] += a * b1;
        }
    }
}

/* One MR x 8nv tile: rows r0... of the product (mr of them kept) = panel ap . z (K rows, stride ldz). */
static inline __attribute__((always_inline)) void gemm_tile(const float *restrict ap, const float *restrict z,
                                                            int64_t ldz, int64_t K, float *restrict C, int64_t ldc,
                                                            rowmap rm, int64_t r0, int64_t mr, int nv)
{
    v8f acc[MR][2];
    tile_sums(acc, ap, 1, MR, MR, K, z, ldz, nv);
    for (int64_t i = 0; i < mr; i++) {
        float *c = C + row_of(rm, r0 + i) * ldc;
        st8(c, acc[i][0]);
        if (nv > 1)
            st8(c + 8, acc[i][1]);
    }
}

/* C[row_of(r)] = P[r] . Z for the m packed rows (K long); Z: (K, N), row stride ldz. tail: 8 K floats of
 * scratch where the last N % 8 columns are copied, zero-padded, to run as one more 8-wide tile. */
static void gemm_panels(const float *restrict P, int64_t m, int64_t K, const float *restrict Z, int64_t ldz,
                        int64_t N, float *restrict C, int64_t ldc, rowmap rm, float *restrict tail)
{
    const int64_t nt = N % 8, n8 = N - nt;
    const rowmap same = {MR, 0, 0};
    for (int64_t k = 0; nt && k < K; k++)
        for (int64_t j = 0; j < 8; j++)
            tail[k * 8 + j] = j < nt ? Z[k * ldz + n8 + j] : 0.0f;
    for (int64_t p = 0; p < m; p += MR) {
        const float *ap = P + p * K;
        int64_t mr = m - p < MR ? m - p : MR, j = 0;
        for (; j + 16 <= n8; j += 16)
            gemm_tile(ap, Z + j, ldz, K, C + j, ldc, rm, p, mr, 2);
        if (j < n8)
            gemm_tile(ap, Z + j, ldz, K, C + j, ldc, rm, p, mr, 1);
        if (nt) {
            float buf[MR * 8];
            gemm_tile(ap, tail, 8, K, buf, 8, same, 0, mr, 1);
            for (int64_t i = 0; i < mr; i++)
                memcpy(C + row_of(rm, p + i) * ldc + n8, buf + i * 8, nt * sizeof(float));
        }
    }
}

/* ---------------------------------------------------------------- a strided gemm on the pool
 * C = A B in float32 with any strides, for the shapes OpenBLAS is slow at for their size: a weight times a
 * few columns (a Linear layer's x W^T at a small batch, computed as (W x^T)^T). The 6 x 16 tile above reads
 * A's values straight through its strides (one broadcast each: the layout does not matter) and B 16 columns
 * at a time, from B's own rows where they have unit stride, else from a 16-column panel packed first (zero
 * past N). C is written through its strides; a transposed C, a tile at a time, transposed in registers. */
enum { NR = 16 };

/* columns [j0, j0 + nc) of B (K x N, element (k, j) at B[k * brs + j * bcs]) into Z (K x NR), zeros past nc */
static void pack_cols(const float *restrict B, int64_t brs, int64_t bcs, int64_t K, int64_t j0, int64_t nc,
                      float *restrict Z)
{
    int64_t k = 0;
    if (brs == 1 && nc == NR) /* B's columns are rows of its transpose: 8 x 8 blocks through registers */
        for (; k + 8 <= K; k += 8) {
            transpose8(B + j0 * bcs + k, bcs, Z + k * NR, NR);
            transpose8(B + (j0 + 8) * bcs + k, bcs, Z + k * NR + 8, NR);
        }
    if (bcs == 1 && nc == NR) /* rows far apart: 16 of their values side by side */
        for (; k < K; k++)
            memcpy(Z + k * NR, B + k * brs + j0, NR * sizeof(float));
    for (; k < K; k++)
        for (int64_t c = 0; c < NR; c++)
            Z[k * NR + c] = c < nc ? B[k * brs + (j0 + c) * bcs] : 0.0f;
}

/* rows [i, i + mr) x columns [0, nc) of C from A's rows (through their strides) and a 16-wide z (stride ldz) */
static inline __attribute__((always_inline)) void strided_tile(const float *restrict A, int64_t ars, int64_t acs,
                                                               int64_t K, const float *restrict z, int64_t ldz,
                                                               float *restrict C, int64_t crs, int64_t ccs,
                                                               int64_t mr, int64_t nc)
{
    v8f acc[MR][2];
    tile_sums(acc, A, ars, acs, mr, K, z, ldz, 2);
    if (ccs == 1 && nc == NR)
        for (int64_t i = 0; i < mr; i++) {
            st8(C + i * crs, acc[i][0]);
            st8(C + i * crs + 8, acc[i][1]);
        }
    else if (crs == 1 && nc == NR) { /* C transposed: the tile's columns are C's rows, mr values each */
        float t[2][8][8], u[2][8][8];
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 8; i++)
                st8(t[h][i], i < MR ? acc[i][h] : (v8f){0}); /* (rows past MR: never stored) */
            transpose8(t[h][0], 8, u[h][0], 8);
        }
        for (int64_t l = 0; l < NR; l++)
            memcpy(C + l * ccs, u[l / 8][l % 8], mr * sizeof(float));
    } else
        for (int64_t i = 0; i < mr; i++)
            for (int64_t l = 0; l < nc; l++)
                C[i * crs + l * ccs] = acc[i][l / 8][l % 8];
}

/* Whether column panel q of B is packed before use: where B's columns are strided, for a last partial panel, and
 * where B's rows lie far apart (a k step to the next row per value: from ~1 KiB on, L1 sets conflict). */
static inline int64_t packs_cols(int64_t brs, int64_t bcs, int64_t N, int64_t q)
{
    return bcs != 1 || N - q * NR < NR || brs > 256;
}

/* The pool's piece [lo, hi) of C = A B (M x K times K x N): column panels lo... of NR columns, or with by_rows
 * row panels lo... of MR rows (every column panel then). Z: this piece's scratch: K NR floats per column panel
 * it packs, then MR K for a row panel of A, copied side by side first where A's k steps are strided. */
static void gemm_strided(const float *A, int64_t ars, int64_t acs, const float *B, int64_t brs, int64_t bcs,
                         float *C, int64_t crs, int64_t ccs, int64_t M, int64_t N, int64_t K, int64_t by_rows,
                         float *Z, int64_t lo, int64_t hi)
{
    const int64_t q0 = by_rows ? 0 : lo, q1 = by_rows ? (N + NR - 1) / NR : hi;
    const int64_t r0 = by_rows ? lo * MR : 0, r1 = by_rows ? (hi * MR < M ? hi * MR : M) : M;
    float *ap = Z + (q1 - q0) * K * NR;
    for (int64_t q = q0; q < q1; q++)
        if (packs_cols(brs, bcs, N, q))
            pack_cols(B, brs, bcs, K, q * NR, N - q * NR < NR ? N - q * NR : NR, Z + (q - q0) * K * NR);
    for (int64_t i = r0; i < r1; i += MR) {
        int64_t mr = r1 - i < MR ? r1 - i : MR;
        const float *a = A + i * ars;
        int64_t rs = ars, ks = acs;
        if (acs != 1) {
            const rowmap all = {MR, 0, 0};
            pack_panels(a, ars, acs, K, all, mr, ap);
            a = ap, rs = 1, ks = MR;
        }
        for (int64_t q = q0; q < q1; q++) {
            int64_t nc = N - q * NR < NR ? N - q * NR : NR, packed = packs_cols(brs, bcs, N, q);
            strided_tile(a, rs, ks, K, packed ? Z + (q - q0) * K * NR : B + q * NR, packed ? NR : brs,
                         C + i * crs + q * NR * ccs, crs, ccs, mr, nc);
        }
    }
}

/* The reductions below carry "omp simd reduction" pragmas (compiled with -fopenmp-simd: no OpenMP runtime)
 * so the compiler may split the sum across vector lanes; without them C's strict left-to-right order keeps
 * every reduction scalar. */

/* mean and 1/sqrt(var + eps) of a row of n floats: two passes (no cancellation), in float32 like torch's
 * kernel, over as many partial sums as the vector has lanes. */
static inline void row_moments(const float *restrict xr, int64_t n, float eps, float *mean, float *rstd)
{
    float s = 0.0f, v = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) s += xr[j];
    float m = s / (float)n;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < n; j++) v += (xr[j] - m) * (xr[j] - m);
    *mean = m;
    *rstd = (float)(1.0 / sqrt((double)(v / (float)n) + (double)eps));
}

/* Layer norm over rows [lo, hi) of n elements: y = (x - mean) * rstd * w + b (the caller passes ones and
 * zeros for a missing weight or bias: one loop body, no branches). */
void layer_norm_f32(const float *restrict x, const float *restrict w, const float *restrict b, float *restrict y,
                    int64_t n, float eps, int64_t lo, int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float m, rs;
        row_moments(xr, n, eps, &m, &rs);
        for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    }
}

/* Layer norm backward for rows [lo, hi): with xhat = (x - mean) rstd and gh = g * w,
 * gx = rstd (gh - mean(gh) - xhat mean(gh xhat)); dw += g xhat and db += g (accumulators of the caller's,
 * one set per piece). */
void layer_norm_bwd_f32(const float *restrict g, const float *restrict x, const float *restrict w,
                        float *restrict gx, float *restrict dw, float *restrict db, int64_t n, float eps,
                        int64_t lo, int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = x + r * n, *gr = g + r * n;
        float *gxr = gx + r * n;
        float m, rs, a = 0.0f, c = 0.0f;
        row_moments(xr, n, eps, &m, &rs);
#pragma omp simd reduction(+ : a, c)
        for (int64_t j = 0; j < n; j++) {
            float gj = gr[j], xh = (xr[j] - m) * rs, gh = gj * w[j];
            dw[j] += gj * xh;
            db[j] += gj;
            a += gh;
            c += gh * xh;
        }
        a /= (float)n;
        c /= (float)n;
        for (int64_t j = 0; j < n; j++) gxr[j] = rs * (gr[j] * w[j] - a - (xr[j] - m) * rs * c);
    }
}

/* softmax (log_ = 0) or log_softmax (log_ = 1) of one row of n elements. With dead_zero, a softmax row whose
 * entries are all -inf (attention with every key masked out) comes out as zeros. */
static void softmax_row(const float *restrict xr, float *restrict yr, int64_t n, int log_, int dead_zero)
{
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
        return;
    }
    if (bad || mx == INFINITY || mx == -INFINITY) {
        /* a row with NaN, +inf or only -inf, off the fast path (libm): softmax is exp(x - max) / sum, all
         * NaN; log_softmax shifts by 0 instead of a non-finite max, so x - log(sum(exp(x))) keeps torch's
         * -inf entries beside the NaNs */
        double m = log_ ? 0.0 : mx;
        for (int64_t j = 0; j < n; j++) s += exp((double)xr[j] - m);
        for (int64_t j = 0; j < n; j++)
            yr[j] = log_ ? (float)((double)xr[j] - log(s)) : (float)(exp((double)xr[j] - m) / s);
        return;
    }
    /* the fast path in float32, as torch's vectorised kernel: the sum over as many partial sums as the
     * vector has lanes (each term is at most 1, so a float sum of a row loses under 1e-6 relatively) */
    float fs = 0.0f;
    if (log_) {
#pragma omp simd reduction(+ : fs)
        for (int64_t j = 0; j < n; j++) fs += vexpf(xr[j] - mx);
        const float ls = logf(fs);
#pragma omp simd
        for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mx) - ls;
    } else {
        /* exp once, kept in y, then scaled */
#pragma omp simd reduction(+ : fs)
        for (int64_t j = 0; j < n; j++) {
            float e = vexpf(xr[j] - mx);
            yr[j] = e;
            fs += e;
        }
        const float inv = 1.0f / fs;
#pragma omp simd
        for (int64_t j = 0; j < n; j++) yr[j] *= inv;
    }
}

/* softmax_row over rows [lo, hi) */
void softmax_f32(const float *restrict x, float *restrict y, int64_t n, int log_, int dead_zero, int64_t lo,
                 int64_t hi)
{
    for (int64_t r = lo; r < hi; r++) softmax_row(x + r * n, y + r * n, n, log_, dead_zero);
}

/* ---------------------------------------------------------------- attention, one (batch, head) per unit
 * The scaled dot-product attention of small heads with its (L x S) intermediates kept in the cache. Unit
 * u = b * H + h in [lo, hi) has q (L x D), k (S x D), v (S x Dv) and o (L x Dv) at the strides in st (in
 * elements: st[0..2] q's batch, head and row strides, st[3..5] k's, st[6..8] v's, st[9..11] o's; rows
 * unit-strided). The products run in register blocks (attn_abt: 4 rows x 64 keys; attn_wm: 4 rows x 32
 * features) on padded copies of the operands, so every load is a whole vector. */
#define AK 64 /* keys per block of attn_abt */
#define AF 32 /* features per block of attn_wm */

static inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/* The keys that query rows below `rows` see: all S, or (causal) keys j < rows. */
static inline int64_t attn_seen(int64_t causal, int64_t rows, int64_t S) { return causal && rows < S ? rows : S; }

/* R[r][j] = sum_c a_r[c] * bt[c * SK + j] for 4 rows (a0..a3, read as scalars) and keys j < nk (a multiple of
 * AK, at most SK): R is 4 rows of SK. */
static void attn_abt(const float *a0, const float *a1, const float *a2, const float *a3, const float *bt,
                     int64_t SK, int64_t C, int64_t nk, float *restrict R)
{
    for (int64_t j0 = 0; j0 < nk; j0 += AK) {
        v16f r00 = {0}, r01 = {0}, r02 = {0}, r03 = {0}, r10 = {0}, r11 = {0}, r12 = {0}, r13 = {0};
        v16f r20 = {0}, r21 = {0}, r22 = {0}, r23 = {0}, r30 = {0}, r31 = {0}, r32 = {0}, r33 = {0};
        for (int64_t c = 0; c < C; c++) {
            const float *b = bt + c * SK + j0;
            v16f b0 = vld(b), b1 = vld(b + 16), b2 = vld(b + 32), b3 = vld(b + 48);
            float x0 = a0[c], x1 = a1[c], x2 = a2[c], x3 = a3[c];
            r00 += x0 * b0; r01 += x0 * b1; r02 += x0 * b2; r03 += x0 * b3;
            r10 += x1 * b0; r11 += x1 * b1; r12 += x1 * b2; r13 += x1 * b3;
            r20 += x2 * b0; r21 += x2 * b1; r22 += x2 * b2; r23 += x2 * b3;
            r30 += x3 * b0; r31 += x3 * b1; r32 += x3 * b2; r33 += x3 * b3;
        }
        float *o0 = R + j0, *o1 = o0 + SK, *o2 = o1 + SK, *o3 = o2 + SK;
        vst(o0, r00); vst(o0 + 16, r01); vst(o0 + 32, r02); vst(o0 + 48, r03);
        vst(o1, r10); vst(o1 + 16, r11); vst(o1 + 32, r12); vst(o1 + 48, r13);
        vst(o2, r20); vst(o2 + 16, r21); vst(o2 + 32, r22); vst(o2 + 48, r23);
        vst(o3, r30); vst(o3 + 16, r31); vst(o3 + 32, r32); vst(o3 + 48, r33);
    }
}

/* out[r][f] = sum_{t0 <= t < t1} w[r * wr + t * wt] * m[t * F + f] for 4 rows and features f < F (a multiple of
 * AF): out is 4 rows of F. */
static void attn_wm(const float *w, int64_t wr, int64_t wt, const float *m, int64_t F, int64_t t0, int64_t t1,
                    float *restrict out)
{
    for (int64_t f0 = 0; f0 < F; f0 += AF) {
        v16f a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0}, a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};
        for (int64_t t = t0; t < t1; t++) {
            const float *mt = m + t * F + f0, *wc = w + t * wt;
            v16f m0 = vld(mt), m1 = vld(mt + 16);
            float w0 = wc[0], w1 = wc[wr], w2 = wc[2 * wr], w3 = wc[3 * wr];
            a00 += w0 * m0; a01 += w0 * m1; a10 += w1 * m0; a11 += w1 * m1;
            a20 += w2 * m0; a21 += w2 * m1; a30 += w3 * m0; a31 += w3 * m1;
        }
        float *o = out + f0;
        vst(o, a00); vst(o + 16, a01); vst(o + F, a10); vst(o + F + 16, a11);
        vst(o + 2 * F, a20); vst(o + 2 * F + 16, a21); vst(o + 3 * F, a30); vst(o + 3 * F + 16, a31);
    }
}

/* rows (n x w, row stride rs) -> dst (n x W, zero-padded past w); transposed: dst (w x N) with dst[c][t] */
static void attn_pad(const float *src, int64_t rs, int64_t n, int64_t w, float *restrict dst, int64_t W)
{
    for (int64_t t = 0; t < n; t++) {
        memcpy(dst + t * W, src + t * rs, sizeof(float) * (size_t)w);
        memset(dst + t * W + w, 0, sizeof(float) * (size_t)(W - w));
    }
}

static void attn_pad_t(const float *src, int64_t rs, int64_t n, int64_t w, float *restrict dst, int64_t N)
{
    memset(dst, 0, sizeof(float) * (size_t)(w * N));
    for (int64_t t = 0; t < n; t++)
        for (int64_t c = 0; c < w; c++) dst[c * N + t] = src[t * rs + c];
}

/* Scratch floats per piece of attn_fwd_f32 (bwd = 0) or attn_bwd_f32 (bwd = 1). */
int64_t attn_scratch(int64_t L, int64_t S, int64_t D, int64_t Dv, int64_t bwd)
{
    const int64_t SK = round_up(S, AK), L4 = round_up(L, 4), DF = round_up(D, AF), VF = round_up(Dv, AF);
    if (!bwd)
        return D * SK + S * VF + 8 * SK + 4 * VF;
    return Dv * SK + S * DF + L4 * DF + L4 * VF + 2 * L4 * SK + 4 * SK + 4 * (DF > VF ? DF : VF);
}

/* p = softmax(q k^T * scale + mask, keys j <= i only when causal; a row of only -inf gives zeros), o = p v;
 * p (L x S per unit, contiguous) is kept for the backward. mask: NULL or float, at strides st[12..15] (batch,
 * head, row, column; 0 where it broadcasts). */
void attn_fwd_f32(const float *restrict q, const float *restrict k, const float *restrict v, float *restrict o,
                  float *restrict p, const float *restrict mask, const int64_t *restrict st, int64_t H, int64_t L,
                  int64_t S, int64_t D, int64_t Dv, float scale, int64_t causal, float *restrict scr, int64_t lo,
                  int64_t hi)
{
    const int64_t SK = round_up(S, AK), VF = round_up(Dv, AF);
    float *kt = scr, *vp = kt + D * SK, *R = vp + S * VF, *pb = R + 4 * SK, *ob = pb + 4 * SK;
    for (int64_t u = lo; u < hi; u++) {
        const int64_t b = u / H, h = u % H;
        const float *qu = q + b * st[0] + h * st[1], *ku = k + b * st[3] + h * st[4], *vu = v + b * st[6] + h * st[7];
        float *ou = o + b * st[9] + h * st[10], *pu = p + u * L * S;
        const float *mu = mask ? mask + b * st[12] + h * st[13] : NULL;
        attn_pad_t(ku, st[5], S, D, kt, SK);
        attn_pad(vu, st[8], S, Dv, vp, VF);
        for (int64_t i0 = 0; i0 < L; i0 += 4) {
            const int64_t nr = L - i0 < 4 ? L - i0 : 4;
            const float *qr[4];
            for (int r = 0; r < 4; r++) qr[r] = qu + (i0 + (r < nr ? r : 0)) * st[2]; /* (extra rows: discarded) */
            const int64_t seen = attn_seen(causal, i0 + nr, S); /* keys any row of the block sees */
            attn_abt(qr[0], qr[1], qr[2], qr[3], kt, SK, D, round_up(seen, AK), R);
            for (int64_t r = 0; r < nr; r++) {
                const int64_t i = i0 + r, n = attn_seen(causal, i + 1, S);
                float *ri = R + r * SK;
#pragma omp simd
                for (int64_t j = 0; j < S; j++) ri[j] *= scale;
                const float *mi = mu ? mu + i * st[14] : NULL;
                if (mi && st[15] == 1) {
#pragma omp simd
                    for (int64_t j = 0; j < S; j++) ri[j] += mi[j];
                } else if (mi) {
                    for (int64_t j = 0; j < S; j++) ri[j] += mi[j * st[15]];
                }
                for (int64_t j = n; j < S; j++) ri[j] = -INFINITY;
                softmax_row(ri, pu + i * S, S, 0, 1);
            }
            const float *w = pu + i0 * S;
            int64_t ws = S;
            if (nr < 4) { /* a last partial block: its rows copied beside zero rows, so no read leaves p */
                memset(pb, 0, sizeof(float) * (size_t)(4 * SK));
                for (int64_t r = 0; r < nr; r++) memcpy(pb + r * SK, pu + (i0 + r) * S, sizeof(float) * (size_t)S);
                w = pb;
                ws = SK;
            }
            attn_wm(w, ws, 1, vp, VF, 0, seen, ob);
            for (int64_t r = 0; r < nr; r++) memcpy(ou + (i0 + r) * st[11], ob + r * VF, sizeof(float) * (size_t)Dv);
        }
    }
}

/* Its gradient from the kept p and the output gradient g (L x Dv per unit): with ds = p * (g v^T - rowsum(g
 * v^T * p)) * scale, dq = ds k, dk = ds^T q, dv = p^T g, written at the strides in st (st[0..8] q, k, v as
 * above, st[9..11] g's, st[12..14] dq's, st[15..17] dk's, st[18..20] dv's). Causal blocks skip the keys (and
 * for dk, dv the query rows) where p is 0. */
void attn_bwd_f32(const float *restrict q, const float *restrict k, const float *restrict v,
                  const float *restrict g, const float *restrict p, float *restrict dq, float *restrict dk,
                  float *restrict dv, const int64_t *restrict st, int64_t H, int64_t L, int64_t S, int64_t D,
                  int64_t Dv, float scale, int64_t causal, float *restrict scr, int64_t lo, int64_t hi)
{
    const int64_t SK = round_up(S, AK), L4 = round_up(L, 4), DF = round_up(D, AF), VF = round_up(Dv, AF);
    float *vt = scr, *kp = vt + Dv * SK, *qp = kp + S * DF, *gp = qp + L4 * DF, *ds = gp + L4 * VF;
    float *pp = ds + L4 * SK, *R = pp + L4 * SK, *ob = R + 4 * SK;
    for (int64_t u = lo; u < hi; u++) {
        const int64_t b = u / H, h = u % H;
        const float *qu = q + b * st[0] + h * st[1], *ku = k + b * st[3] + h * st[4], *vu = v + b * st[6] + h * st[7];
        const float *gu = g + b * st[9] + h * st[10], *pu = p + u * L * S;
        float *dqu = dq + b * st[12] + h * st[13], *dku = dk + b * st[15] + h * st[16];
        float *dvu = dv + b * st[18] + h * st[19];
        attn_pad_t(vu, st[8], S, Dv, vt, SK);
        attn_pad(ku, st[5], S, D, kp, DF);
        attn_pad(qu, st[2], L, D, qp, DF);
        attn_pad(gu, st[11], L, Dv, gp, VF);
        attn_pad(pu, S, L, S, pp, SK);
        memset(qp + L * DF, 0, sizeof(float) * (size_t)((L4 - L) * DF));
        memset(gp + L * VF, 0, sizeof(float) * (size_t)((L4 - L) * VF));
        memset(pp + L * SK, 0, sizeof(float) * (size_t)((L4 - L) * SK));
        memset(ds, 0, sizeof(float) * (size_t)(L4 * SK));
        for (int64_t i0 = 0; i0 < L; i0 += 4) {
            const int64_t nr = L - i0 < 4 ? L - i0 : 4, seen = attn_seen(causal, i0 + nr, S);
            const float *gr = gp + i0 * VF;
            attn_abt(gr, gr + VF, gr + 2 * VF, gr + 3 * VF, vt, SK, Dv, round_up(seen, AK), R); /* dp = g v^T */
            for (int64_t r = 0; r < nr; r++) {
                const int64_t i = i0 + r, n = attn_seen(causal, i + 1, S);
                const float *dpi = R + r * SK, *pi = pp + i * SK;
                float *dsi = ds + i * SK, t = 0.0f;
#pragma omp simd reduction(+ : t)
                for (int64_t j = 0; j < n; j++) t += dpi[j] * pi[j];
#pragma omp simd
                for (int64_t j = 0; j < n; j++) dsi[j] = pi[j] * (dpi[j] - t) * scale;
            }
            attn_wm(ds + i0 * SK, SK, 1, kp, DF, 0, seen, ob); /* dq = ds k */
            for (int64_t r = 0; r < nr; r++) memcpy(dqu + (i0 + r) * st[14], ob + r * DF, sizeof(float) * (size_t)D);
        }
        for (int64_t j0 = 0; j0 < S; j0 += 4) {
            const int64_t nr = S - j0 < 4 ? S - j0 : 4, from = causal ? (j0 < L ? j0 : L) : 0;
            attn_wm(ds + j0, 1, SK, qp, DF, from, L, ob); /* dk = ds^T q */
            for (int64_t r = 0; r < nr; r++) memcpy(dku + (j0 + r) * st[17], ob + r * DF, sizeof(float) * (size_t)D);
            attn_wm(pp + j0, 1, SK, gp, VF, from, L, ob); /* dv = p^T g */
            for (int64_t r = 0; r < nr; r++) memcpy(dvu + (j0 + r) * st[20], ob + r * VF, sizeof(float) * (size_t)Dv);
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
        float s = 0.0f;
        if (log_) {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) s += gr[j];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) o[j] = gr[j] - vexpf(yr[j]) * s;
        } else {
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < n; j++) s += gr[j] * yr[j];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) o[j] = yr[j] * (gr[j] - s);
        }
    }
}

/* ---------------------------------------------------------------- Winograd F(2x2, 3x3) transforms
 * A 3x3 stride-1 convolution computed on 4x4 input tiles (stride 2) that give 2x2 outputs each: per tile
 * and per channel pair, 16 products instead of 36. The three transforms below are the memory-bound part; the
 * 16 (out x in) channel products are batched gemms done by BLAS. Layout of the transformed tensors:
 * (16, channels, T) with T = N * th * tw tiles, so each of the 16 gemms reads contiguous rows.
 *   V = B^T d B  (input tile d),  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   Y = A^T M A  (output tile),   A^T = [1 1 1 0; 0 1 -1 -1]
 * Tile rows are split into even and odd columns first, so that every loop over tiles is contiguous. */

#include <stdlib.h>

/* One padded input row z (2 tw + 2 values) through B's column combinations: tile j's four columns
 * z[2j .. 2j + 3] give c0..c3[j]. */
static void wino_cols(const float *restrict z, float *restrict c0, float *restrict c1, float *restrict c2,
                      float *restrict c3, int64_t tw)
{
    for (int64_t j = 0; j < tw; j++) {
        float z0 = z[2 * j], z1 = z[2 * j + 1], z2 = z[2 * j + 2], z3 = z[2 * j + 3];
        c0[j] = z0 - z2;
        c1[j] = z1 + z2;
        c2[j] = z2 - z1;
        c3[j] = z1 - z3;
    }
}

/* Input transform of planes [lo, hi) (plane p = n * C + c, each H x W) padded by (ph, pw) zeros at the
 * top/left: columns first, once per input row (tile rows overlap by two rows), then rows. Returns 1 if a
 * non-finite value was read (the caller then avoids Winograd: its sums would turn one inf into NaN over a
 * whole tile, where a direct convolution keeps it apart), -1 when out of memory. */
int64_t wino_in_f32(const float *restrict x, float *restrict V, int64_t C, int64_t H, int64_t W, int64_t ph,
                    int64_t pw, int64_t th, int64_t tw, int64_t T, int64_t lo, int64_t hi)
{
    int64_t Wt = 2 * tw + 2, Hp = 2 * th + 2, CT = C * T;
    float *z = malloc(sizeof(float) * (Wt + 4 * tw * Hp));
    if (!z) return -1;
    float *cb = z + Wt; /* (Hp, 4, tw): every padded row after the column combinations */
    float bad = 0.0f;
    int64_t c0 = pw, len = W;
    if (c0 + len > Wt) len = Wt - c0 > 0 ? Wt - c0 : 0;
    for (int64_t p = lo; p < hi; p++) {
        int64_t n = p / C, c = p % C;
        const float *xp = x + p * H * W;
        for (int64_t rho = 0; rho < Hp; rho++) {
            float *cr = cb + rho * 4 * tw;
            int64_t row = rho - ph;
            if (row < 0 || row >= H || len == 0) {
                memset(cr, 0, sizeof(float) * 4 * tw);
                continue;
            }
            const float *src = xp + row * W;
            memset(z, 0, sizeof(float) * Wt);
#pragma omp simd reduction(+ : bad)
            for (int64_t j = 0; j < len; j++) {
                z[c0 + j] = src[j];
                bad += src[j] * 0.0f; /* NaN for inf or NaN */
            }
            wino_cols(z, cr, cr + tw, cr + 2 * tw, cr + 3 * tw, tw);
        }
        float *vb = V + c * T + n * th * tw;
        for (int64_t i = 0; i < th; i++) {
            const float *r0 = cb + 2 * i * 4 * tw, *r1 = r0 + 4 * tw, *r2 = r1 + 4 * tw, *r3 = r2 + 4 * tw;
            for (int64_t b = 0; b < 4; b++) {
                const float *a0 = r0 + b * tw, *a1 = r1 + b * tw, *a2 = r2 + b * tw, *a3 = r3 + b * tw;
                float *v0 = vb + b * CT + i * tw, *v1 = v0 + 4 * CT, *v2 = v1 + 4 * CT, *v3 = v2 + 4 * CT;
#pragma omp simd
                for (int64_t j = 0; j < tw; j++) {
                    v0[j] = a0[j] - a2[j];
                    v1[j] = a1[j] + a2[j];
                    v2[j] = a2[j] - a1[j];
                    v3[j] = a1[j] - a3[j];
                }
            }
        }
    }
    free(z);
    return bad != bad;
}

/* Output transform of planes [lo, hi) (plane p = n * O + o): y (N, O, oh, ow) from M (16, O, T), plus the
 * bias b[o] when b is not NULL. */
void wino_out_f32(const float *restrict M, const float *restrict b, float *restrict y, int64_t O, int64_t oh,
                  int64_t ow, int64_t th, int64_t tw, int64_t T, int64_t lo, int64_t hi)
{
    float *t = malloc(sizeof(float) * 4 * (tw + 1));
    if (!t) return;
    for (int64_t p = lo; p < hi; p++) {
        int64_t n = p / O, oc = p % O;
        const float *mb = M + oc * T + n * th * tw;
        float *yp = y + p * oh * ow, bias = b ? b[oc] : 0.0f;
        int64_t OT = O * T;
        for (int64_t i = 0; i < th; i++) {
            const float *m = mb + i * tw;
            float *y00 = t, *y01 = t + tw, *y10 = t + 2 * tw, *y11 = t + 3 * tw;
#pragma omp simd
            for (int64_t j = 0; j < tw; j++) {
                float s0[4], s1[4];
                for (int a = 0; a < 4; a++) {
                    const float *ma = m + (a * 4) * OT;
                    float m0 = ma[j], m1 = ma[OT + j], m2 = ma[2 * OT + j], m3 = ma[3 * OT + j];
                    s0[a] = m0 + m1 + m2;
                    s1[a] = m1 - m2 - m3;
                }
                y00[j] = s0[0] + s0[1] + s0[2] + bias;
                y10[j] = s0[1] - s0[2] - s0[3] + bias;
                y01[j] = s1[0] + s1[1] + s1[2] + bias;
                y11[j] = s1[1] - s1[2] - s1[3] + bias;
            }
            for (int64_t d = 0; d < 2 && 2 * i + d < oh; d++) {
                float *yr = yp + (2 * i + d) * ow;
                const float *ye = d ? y10 : y00, *yo = d ? y11 : y01;
                int64_t full = ow / 2;
                for (int64_t j = 0; j < full; j++) {
                    yr[2 * j] = ye[j];
                    yr[2 * j + 1] = yo[j];
                }
                if (ow & 1) yr[ow - 1] = ye[full];
            }
        }
    }
    free(t);
}

/* Adjoint of the output transform (for the weight gradient): dM (16, O, T) = A dY A^T tile by tile, from the
 * output gradient g (N, O, oh, ow) of planes [lo, hi); positions past oh/ow count as zeros. */
void wino_out_t_f32(const float *restrict g, float *restrict dM, int64_t O, int64_t oh, int64_t ow, int64_t th,
                    int64_t tw, int64_t T, int64_t lo, int64_t hi)
{
    float *t = malloc(sizeof(float) * 4 * tw);
    if (!t) return;
    for (int64_t p = lo; p < hi; p++) {
        int64_t n = p / O, oc = p % O, OT = O * T;
        const float *gp = g + p * oh * ow;
        float *db = dM + oc * T + n * th * tw;
        for (int64_t i = 0; i < th; i++) {
            float *r[4] = {t, t + tw, t + 2 * tw, t + 3 * tw}; /* row 0 even/odd, row 1 even/odd */
            for (int64_t d = 0; d < 2; d++) {
                float *ev = r[2 * d], *od = r[2 * d + 1];
                if (2 * i + d < oh) {
                    const float *gr = gp + (2 * i + d) * ow;
                    int64_t full = ow / 2;
                    for (int64_t j = 0; j < full; j++) {
                        ev[j] = gr[2 * j];
                        od[j] = gr[2 * j + 1];
                    }
                    for (int64_t j = full; j < tw; j++) {
                        ev[j] = (2 * j < ow) ? gr[2 * j] : 0.0f;
                        od[j] = 0.0f;
                    }
                } else {
                    memset(ev, 0, sizeof(float) * tw);
                    memset(od, 0, sizeof(float) * tw);
                }
            }
            float *d0 = db + i * tw;
#pragma omp simd
            for (int64_t j = 0; j < tw; j++) {
                float ue[4], uo[4];
                ue[0] = r[0][j]; ue[1] = r[0][j] + r[2][j]; ue[2] = r[0][j] - r[2][j]; ue[3] = -r[2][j];
                uo[0] = r[1][j]; uo[1] = r[1][j] + r[3][j]; uo[2] = r[1][j] - r[3][j]; uo[3] = -r[3][j];
                for (int a = 0; a < 4; a++) {
                    float *da = d0 + (a * 4) * OT;
                    da[j] = ue[a];
                    da[OT + j] = ue[a] + uo[a];
                    da[2 * OT + j] = ue[a] - uo[a];
                    da[3 * OT + j] = -uo[a];
                }
            }
        }
    }
    free(t);
}

/* ---------------------------------------------------------------- direct stride-1 convolution, few channels
 * For convolutions whose gemms would be thin (LeNet's: 6 -> 16 channels, 5x5 taps), im2col writes K copies
 * of the input only for BLAS to read them once. Here the input is the caller's zero-padded "shifted planes"
 * buffer (ember/ops/nn_ops.py): the tap t of output position pos of a sample reads src[toff[t] + pos], so
 * the columns are never built. Outputs are computed in register blocks of 4 channels x 64 positions over
 * all taps (a gemm micro-kernel whose B operand is addressed through the tap offsets). */

#define CB_O 4
#define CB_P 64

/* A full block: 4 output channels x 64 positions held in 16 vector registers over all taps. */
static inline void conv_block4x64(const float *restrict src, const int64_t *restrict toff, int64_t ntaps,
                                  const float *restrict wt, int64_t O, float *restrict out, int64_t ostride)
{
    v16f a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0}, a10 = {0}, a11 = {0}, a12 = {0}, a13 = {0};
    v16f a20 = {0}, a21 = {0}, a22 = {0}, a23 = {0}, a30 = {0}, a31 = {0}, a32 = {0}, a33 = {0};
    for (int64_t t = 0; t < ntaps; t++) {
        const float *s = src + toff[t], *wr = wt + t * O;
        v16f s0 = vld(s), s1 = vld(s + 16), s2 = vld(s + 32), s3 = vld(s + 48);
        float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3];
        a00 += w0 * s0; a01 += w0 * s1; a02 += w0 * s2; a03 += w0 * s3;
        a10 += w1 * s0; a11 += w1 * s1; a12 += w1 * s2; a13 += w1 * s3;
        a20 += w2 * s0; a21 += w2 * s1; a22 += w2 * s2; a23 += w2 * s3;
        a30 += w3 * s0; a31 += w3 * s1; a32 += w3 * s2; a33 += w3 * s3;
    }
    float *o0 = out, *o1 = out + ostride, *o2 = out + 2 * ostride, *o3 = out + 3 * ostride;
    vst(o0, a00); vst(o0 + 16, a01); vst(o0 + 32, a02); vst(o0 + 48, a03);
    vst(o1, a10); vst(o1 + 16, a11); vst(o1 + 32, a12); vst(o1 + 48, a13);
    vst(o2, a20); vst(o2 + 16, a21); vst(o2 + 32, a22); vst(o2 + 48, a23);
    vst(o3, a30); vst(o3 + 16, a31); vst(o3 + 32, a32); vst(o3 + 48, a33);
}

/* The last positions of a row, 16 at a time: 4 channels x 16 positions. */
static inline void conv_block4x16(const float *restrict src, const int64_t *restrict toff, int64_t ntaps,
                                  const float *restrict wt, int64_t O, float *restrict out, int64_t ostride)
{
    v16f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int64_t t = 0; t < ntaps; t++) {
        const float *wr = wt + t * O;
        v16f sv = vld(src + toff[t]);
        a0 += wr[0] * sv;
        a1 += wr[1] * sv;
        a2 += wr[2] * sv;
        a3 += wr[3] * sv;
    }
    vst(out, a0);
    vst(out + ostride, a1);
    vst(out + 2 * ostride, a2);
    vst(out + 3 * ostride, a3);
}

/* y[n, o, pos] = sum_t wt[t, o] * src_n[toff[t] + pos] (+ bias[o] when given) for samples [lo, hi), o < O,
 * and only the grid positions that are outputs: R rows of W, row r at grid position roff[r]; src_n = buf + n *
 * sin, y (N, O, R * W) C-contiguous. Each sample's block is computed on the whole grid (garbage columns
 * included) into scr, this piece's O4 x L16 floats, and its outputs are then copied out of the cache: cropping
 * in NumPy took two strided copies of the output. The caller pads: O4 >= O and wt's row length a multiple of
 * 4, L16 a multiple of 16 and >= every roff[r] + W, the buffer readable 16 values past every sample's last
 * tap. */
void conv_direct_f32(const float *restrict buf, int64_t sin, const int64_t *restrict toff, int64_t ntaps,
                     const float *restrict wt, int64_t O4, int64_t O, float *restrict scr, int64_t L16,
                     const int64_t *restrict roff, int64_t R, int64_t W, const float *restrict bias,
                     float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t n = lo; n < hi; n++) {
        const float *src = buf + n * sin;
        int64_t p0 = 0;
        for (; p0 + CB_P <= L16; p0 += CB_P)
            for (int64_t ob = 0; ob < O4; ob += CB_O)
                conv_block4x64(src + p0, toff, ntaps, wt + ob, O4, scr + ob * L16 + p0, L16);
        for (; p0 < L16; p0 += 16)
            for (int64_t ob = 0; ob < O4; ob += CB_O)
                conv_block4x16(src + p0, toff, ntaps, wt + ob, O4, scr + ob * L16 + p0, L16);
        float *yn = y + n * O * R * W;
        for (int64_t o = 0; o < O; o++)
            for (int64_t r = 0; r < R; r++) {
                const float *s = scr + o * L16 + roff[r];
                float *d = yn + (o * R + r) * W;
                if (bias)
                    for (int64_t c = 0; c < W; c++)
                        d[c] = s[c] + bias[o];
                else
                    memcpy(d, s, sizeof(float) * (size_t)W);
            }
    }
}

/* The same convolution with the output channels in the vector lanes (16 at a time) and the output positions
 * in registers, CV_P at a time: only real outputs are computed, where the kernel above also computes the
 * grid's garbage columns (LeNet's second layer: 144 grid positions per channel for 100 outputs). gp lists the
 * grid position of every output (R * W of them, padded to a multiple of CV_P by repeating the last), wt is
 * (taps, O16) with O16 a multiple of 16, scr this piece's gp-length x 16 floats; y and bias as above. */
#define CV_P 12

static inline void conv_lanes_block(const float *restrict src, const int64_t *restrict toff, int64_t ntaps,
                                    const float *restrict wt, int64_t O16, const int64_t *restrict gp,
                                    float *restrict out)
{
    const float *sp[CV_P];
    v16f acc[CV_P];
    for (int j = 0; j < CV_P; j++) {
        sp[j] = src + gp[j];
        acc[j] = (v16f){0};
    }
    for (int64_t t = 0; t < ntaps; t++) {
        v16f wv = vld(wt + t * O16);
        int64_t o = toff[t];
        for (int j = 0; j < CV_P; j++)
            acc[j] += sp[j][o] * wv;
    }
    for (int j = 0; j < CV_P; j++)
        vst(out + j * 16, acc[j]);
}

void conv_lanes_f32(const float *restrict buf, int64_t sin, const int64_t *restrict toff, int64_t ntaps,
                    const float *restrict wt, int64_t O16, int64_t O, const int64_t *restrict gp, int64_t npos,
                    float *restrict scr, int64_t RW, const float *restrict bias, float *restrict y, int64_t lo,
                    int64_t hi)
{
    for (int64_t n = lo; n < hi; n++) {
        const float *src = buf + n * sin;
        for (int64_t ob = 0; ob < O; ob += 16) {
            for (int64_t q = 0; q < npos; q += CV_P)
                conv_lanes_block(src, toff, ntaps, wt + ob, O16, gp + q, scr + q * 16);
            int64_t nc = O - ob < 16 ? O - ob : 16;
            float *yo = y + (n * O + ob) * RW;
            transpose_part(scr, 16, yo, RW, 0, RW, 0, nc);
            if (bias)
                for (int64_t c = 0; c < nc; c++)
                    for (int64_t q = 0; q < RW; q++)
                        yo[c * RW + q] += bias[ob + c];
        }
    }
}

/* The weight gradient of that convolution: dw[t, o] = sum over samples n in [lo, hi) and output positions of
 * src_n[toff[t] + pos] * g_n[o, pos]. g is (N, O, R, W) C-contiguous, R rows of W outputs per channel, row r
 * at grid position roff[r]. Each sample's gradient is first laid onto the grid in `scr` (O4 x L16 values,
 * zero-filled by the caller: garbage columns and padding channels stay 0), so the positions run as whole
 * vectors; then register blocks of 4 taps x 4 channels (16 accumulators) sweep them. dw (T4 x O4 x 16
 * lanes) is this piece's own slab; T4 and O4 are multiples of 4 (padded taps read offset 0, padded channels
 * are zero). */
void conv_direct_wgrad_f32(const float *restrict buf, int64_t sin, const int64_t *restrict toff, int64_t T4,
                           const float *restrict g, int64_t O, int64_t O4, const int64_t *restrict roff, int64_t R,
                           int64_t W, int64_t L16, float *restrict scr, float *restrict dw, int64_t lo, int64_t hi)
{
    for (int64_t n = lo; n < hi; n++) {
        const float *gn = g + n * O * R * W, *src = buf + n * sin;
        for (int64_t o = 0; o < O; o++)
            for (int64_t r = 0; r < R; r++) memcpy(scr + o * L16 + roff[r], gn + (o * R + r) * W, sizeof(float) * W);
        for (int64_t tb = 0; tb < T4; tb += 4) {
            const float *x0 = src + toff[tb], *x1 = src + toff[tb + 1], *x2 = src + toff[tb + 2],
                        *x3 = src + toff[tb + 3];
            for (int64_t ob = 0; ob < O4; ob += 4) {
                const float *g0 = scr + ob * L16, *g1 = g0 + L16, *g2 = g1 + L16, *g3 = g2 + L16;
                v16f a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0}, a10 = {0}, a11 = {0}, a12 = {0}, a13 = {0};
                v16f a20 = {0}, a21 = {0}, a22 = {0}, a23 = {0}, a30 = {0}, a31 = {0}, a32 = {0}, a33 = {0};
                for (int64_t p = 0; p < L16; p += 16) {
                    v16f s0 = vld(x0 + p), s1 = vld(x1 + p), s2 = vld(x2 + p), s3 = vld(x3 + p);
                    v16f h0 = vld(g0 + p), h1 = vld(g1 + p), h2 = vld(g2 + p), h3 = vld(g3 + p);
                    a00 += s0 * h0; a01 += s0 * h1; a02 += s0 * h2; a03 += s0 * h3;
                    a10 += s1 * h0; a11 += s1 * h1; a12 += s1 * h2; a13 += s1 * h3;
                    a20 += s2 * h0; a21 += s2 * h1; a22 += s2 * h2; a23 += s2 * h3;
                    a30 += s3 * h0; a31 += s3 * h1; a32 += s3 * h2; a33 += s3 * h3;
                }
                /* lanes kept apart until the caller sums them: horizontal sums per sample cost as much as
                 * the products on short grids (LeNet's second layer: 9 vectors per block) */
                float *d0 = dw + (tb * O4 + ob) * 16, *d1 = d0 + O4 * 16, *d2 = d1 + O4 * 16, *d3 = d2 + O4 * 16;
                vst(d0, vld(d0) + a00); vst(d0 + 16, vld(d0 + 16) + a01);
                vst(d0 + 32, vld(d0 + 32) + a02); vst(d0 + 48, vld(d0 + 48) + a03);
                vst(d1, vld(d1) + a10); vst(d1 + 16, vld(d1 + 16) + a11);
                vst(d1 + 32, vld(d1 + 32) + a12); vst(d1 + 48, vld(d1 + 48) + a13);
                vst(d2, vld(d2) + a20); vst(d2 + 16, vld(d2 + 16) + a21);
                vst(d2 + 32, vld(d2 + 32) + a22); vst(d2 + 48, vld(d2 + 48) + a23);
                vst(d3, vld(d3) + a30); vst(d3 + 16, vld(d3 + 16) + a31);
                vst(d3 + 32, vld(d3 + 32) + a32); vst(d3 + 48, vld(d3 + 48) + a33);
            }
        }
    }
}

/* ---------------------------------------------------------------- relu
 * NumPy's maximum(x, 0) handles NaN with a slow loop (115 us for 301K floats, a copy takes 26) and turns -0
 * into +0; torch keeps -0 and NaN. */
void relu_f32(const float *restrict x, float *restrict y, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

/* torch's threshold_backward(g, out, 0): 0 where out <= 0, else g (a NaN output passes g on; NumPy's
 * g * (out > 0) gave 0 there, and NaN for a NaN g where out <= 0) */
void relu_bwd_f32(const float *restrict g, const float *restrict out, float *restrict gx, int64_t lo, int64_t hi)
{
    for (int64_t i = lo; i < hi; i++)
        gx[i] = out[i] <= 0.0f ? 0.0f : g[i];
}

/* The same with one gradient value for every element (the broadcast ones of `model(x).sum().backward()`:
 * NumPy's where() on a zero-strided operand took 2 ms for 1M floats) */
void relu_bwd_one_f32(const float *restrict g, const float *restrict out, float *restrict gx, int64_t lo,
                      int64_t hi)
{
    const float v = g[0];
    for (int64_t i = lo; i < hi; i++)
        gx[i] = out[i] <= 0.0f ? 0.0f : v;
}

/* ---------------------------------------------------------------- binary arithmetic
 * y = a op b for C-contiguous float32 a (n values) and b repeating every r values (r = n: same shape; r = 1:
 * one value; else a trailing row, such as a bias): NumPy's loops run on one thread, and a 1M-float product
 * took 150 us there. IEEE single-precision results, bit for bit those of NumPy. */
enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_RSUB, BIN_RDIV };

#define BIN_LOOP(Y, E)                                                                                    \
    do {                                                                                                  \
        if (r == 1) {                                                                                     \
            const float v = b[0];                                                                         \
            for (int64_t t = lo; t < hi; t++) {                                                           \
                const float x = a[t], z = v;                                                              \
                Y[t] = (E);                                                                               \
            }                                                                                             \
            break;                                                                                        \
        }                                                                                                 \
        for (int64_t i = lo; i < hi;) { /* one stretch of b at a time: b + j - i lines up with a */       \
            const int64_t j = i % r, m = r - j < hi - i ? r - j : hi - i;                                 \
            const float *restrict bj = b + j - i;                                                         \
            for (int64_t t = i; t < i + m; t++) {                                                         \
                const float x = a[t], z = bj[t];                                                          \
                Y[t] = (E);                                                                               \
            }                                                                                             \
            i += m;                                                                                       \
        }                                                                                                 \
    } while (0)

#define BIN_OPS(Y)                            \
    switch (op) {                             \
    case BIN_ADD: BIN_LOOP(Y, x + z); break;  \
    case BIN_SUB: BIN_LOOP(Y, x - z); break;  \
    case BIN_MUL: BIN_LOOP(Y, x * z); break;  \
    case BIN_DIV: BIN_LOOP(Y, x / z); break;  \
    case BIN_RSUB: BIN_LOOP(Y, z - x); break; \
    case BIN_RDIV: BIN_LOOP(Y, z / x); break; \
    }

static void binary_f32(const float *restrict a, const float *restrict b, float *restrict y, int64_t r, int64_t op,
                       int64_t lo, int64_t hi)
{
    BIN_OPS(y)
}

/* The same into a itself (a bias added to a gemm's output, x += y): b must not overlap a. */
static void binary_inplace_f32(float *restrict a, const float *restrict b, int64_t r, int64_t op, int64_t lo,
                               int64_t hi)
{
    BIN_OPS(a)
}

/* ---------------------------------------------------------------- batch norm backward, per channel
 * x, g: (A, C, L) C-contiguous; channel c's statistics cover its A rows of L values. For channels [lo, hi):
 * sums[2c] = sum(g), sums[2c + 1] = sum(g * (x - mean)), then (when gx is wanted)
 *   gx = (g - sum(g) / n - (x - mean) * sum(g (x - mean)) * invstd^2 / n) * a     (batch statistics)
 *   gx = g * a                                                                      (fixed statistics)
 * with n = A * L and a = invstd * weight: torch's CPU formula, in two passes over the channel (NumPy took
 * seven over the whole tensor). Row sums in float lanes, the channel's in double. */
void bn_bwd_f32(const float *restrict x, const float *restrict g, const float *restrict mean,
                const float *restrict invstd, const float *restrict a, float *restrict gx, double *restrict sums,
                int64_t A, int64_t C, int64_t L, int64_t fixed, int64_t lo, int64_t hi)
{
    const double n = (double)(A * L);
    for (int64_t c = lo; c < hi; c++) {
        const float m = mean[c];
        double s1 = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < A; i++) {
            const float *xr = x + (i * C + c) * L, *gr = g + (i * C + c) * L;
            float t1 = 0.0f, t2 = 0.0f;
#pragma omp simd reduction(+ : t1, t2)
            for (int64_t j = 0; j < L; j++) {
                t1 += gr[j];
                t2 += gr[j] * (xr[j] - m);
            }
            s1 += t1;
            s2 += t2;
        }
        sums[2 * c] = s1;
        sums[2 * c + 1] = s2;
        if (!gx)
            continue;
        const float ac = a[c], is = invstd[c];
        const float mg = fixed ? 0.0f : (float)(s1 / n), k = fixed ? 0.0f : (float)(s2 / n) * is * is;
        for (int64_t i = 0; i < A; i++) {
            const float *xr = x + (i * C + c) * L, *gr = g + (i * C + c) * L;
            float *gxr = gx + (i * C + c) * L;
            if (fixed) {
#pragma omp simd
                for (int64_t j = 0; j < L; j++) gxr[j] = gr[j] * ac;
            } else {
#pragma omp simd
                for (int64_t j = 0; j < L; j++) gxr[j] = (gr[j] - mg - (xr[j] - m) * k) * ac;
            }
        }
    }
}

/* ---------------------------------------------------------------- max pooling over H x W planes
 * NumPy finds window maxima one tap at a time, a pass over the input per tap plus the passes that carry the
 * arg-max (LeNet's 2x2 pools took 650 and 350 us); here each window is one small loop. */

/* One plane's window arg-maxima. `nan` says whether the plane holds a NaN: only then is the NaN test made
 * (with it in the loop the compiler emits branches that mispredict on random data: 5x slower). */
static inline void maxpool2d_plane(const float *restrict xp, int64_t *restrict ip, int64_t H, int64_t W,
                                   int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                   int64_t ph, int64_t pw, int64_t dh, int64_t dw, int nan, int inside)
{
    if (inside) { /* every window within the plane (no padding reached): no bounds in the loops */
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                int64_t base = i * sh * W + j * sw, arg = base;
                float best = -INFINITY;
                for (int64_t a = 0; a < kh; a++)
                    for (int64_t b = 0; b < kw; b++) {
                        int64_t pos = base + a * dh * W + b * dw;
                        float v = xp[pos];
                        int take = nan ? (v > best) | (v != v) : v > best;
                        best = take ? v : best;
                        arg = take ? pos : arg;
                    }
                ip[i * ow + j] = arg;
            }
        return;
    }
    for (int64_t i = 0; i < oh; i++) {
        int64_t h0 = i * sh - ph, a0 = 0;
        while (a0 < kh && h0 + a0 * dh < 0)
            a0++;
        for (int64_t j = 0; j < ow; j++) {
            int64_t w0 = j * sw - pw, b0 = 0;
            while (b0 < kw && w0 + b0 * dw < 0)
                b0++;
            int64_t arg = (h0 + a0 * dh) * W + (w0 + b0 * dw);
            float best = -INFINITY;
            for (int64_t a = a0; a < kh && h0 + a * dh < H; a++) {
                const float *row = xp + (h0 + a * dh) * W;
                for (int64_t b = b0; b < kw && w0 + b * dw < W; b++) {
                    int64_t w = w0 + b * dw;
                    float v = row[w];
                    int take = nan ? (v > best) | (v != v) : v > best;
                    best = take ? v : best;
                    arg = take ? (h0 + a * dh) * W + w : arg;
                }
            }
            ip[i * ow + j] = arg;
        }
    }
}

/* For the planes [lo, hi) of x (each H x W), the flat in-plane index of every window's maximum, by torch's
 * rules: windows scanned in row-major order, a strictly larger value or a NaN takes over (so ties keep the
 * first, and the last NaN wins), and a window of only -inf keeps its first valid position (outside the
 * plane when the window lies wholly in the padding, as torch's). */
void maxpool2d_idx_f32(const float *restrict x, int64_t *restrict idx, int64_t H, int64_t W, int64_t oh,
                       int64_t ow, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                       int64_t dh, int64_t dw, int64_t lo, int64_t hi)
{
    int inside = ph == 0 && pw == 0 && (oh - 1) * sh + (kh - 1) * dh < H && (ow - 1) * sw + (kw - 1) * dw < W;
    for (int64_t p = lo; p < hi; p++) {
        const float *xp = x + p * H * W;
        int64_t *ip = idx + p * oh * ow;
        int nan = 0;
        for (int64_t i = 0; i < H * W; i++)
            nan |= xp[i] != xp[i];
        if (inside && !nan) /* the common case gets its own copy of the loop, with both flags constant */
            maxpool2d_plane(xp, ip, H, W, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, 0, 1);
        else
            maxpool2d_plane(xp, ip, H, W, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, nan, inside);
    }
}

/* y[p, j] = x[p, idx[p, j]] for planes [lo, hi) (S values per input plane, L per index plane). An index
 * outside the plane (a window that lies wholly in the padding, which torch allows with dilation) gives
 * -inf, torch's value for such a window. */
void pool_gather_f32(const float *restrict x, const int64_t *restrict idx, float *restrict y, int64_t S,
                     int64_t L, int64_t lo, int64_t hi)
{
    for (int64_t p = lo; p < hi; p++)
        for (int64_t j = 0; j < L; j++) {
            int64_t t = idx[p * L + j];
            y[p * L + j] = t >= 0 && t < S ? x[p * S + t] : -INFINITY;
        }
}

/* The adjoint: r[p] = 0, then r[p, idx[p, j]] += g[p, j] in order, for planes [lo, hi); an index outside
 * the plane adds nothing (as in torch). */
void pool_scatter_f32(const float *restrict g, const int64_t *restrict idx, float *restrict r, int64_t S,
                      int64_t L, int64_t lo, int64_t hi)
{
    memset(r + lo * S, 0, sizeof(float) * (size_t)((hi - lo) * S));
    for (int64_t p = lo; p < hi; p++)
        for (int64_t j = 0; j < L; j++) {
            int64_t t = idx[p * L + j];
            if (t >= 0 && t < S)
                r[p * S + t] += g[p * L + j];
        }
}

/* ---------------------------------------------------------------- the kernels on the intra-op pool
 * One entry point runs any kernel above over [0, n) in k pieces on the pool of cpu_pool.h: the Python side
 * passes the kernel's number (the order of KERNELS in cpu_kernels.py) and its arguments as int64 (pointers
 * as addresses, a float as its bit pattern), and the C side unpacks them with their real types. */
#include "cpu_pool.h"

/* ---------------------------------------------------------------- the LSTM recurrences, one pool job per step */
/* Where piece idx of k (units [lo, lo + n)) keeps its panels and its tail scratch in P, which holds
 * (rows + MR k) K + 8 K k floats for a weight of `rows` rows split into k pieces (each pads < MR rows). */
static inline float *piece_panels(float *P, int64_t rows_before, int64_t idx, int64_t K)
{
    return P + (rows_before + MR * idx) * K;
}

static inline float *piece_tail(float *P, int64_t rows, int64_t k, int64_t idx, int64_t K)
{
    return P + (rows + MR * k) * K + idx * 8 * K;
}

/* Rows rm of the LSTM step's weight [w_hh | w_ih | b_ih + b_hh] (K = H + I + 1 columns, or H + I without
 * biases) packed into the m rows of panels P straight from torch's layout: the gate blocks in the order i, f,
 * o, g (torch's i, f, g, o), the first three halved, since sigmoid(a) = tanh(a / 2) / 2 + 1 / 2 lets one tanh
 * pass serve all four gates (halving is exact: a power of two). */
static void pack_lstm_panels(const float *restrict w_hh, const float *restrict w_ih, const float *restrict b_ih,
                             const float *restrict b_hh, int64_t H, int64_t I, int64_t K, rowmap rm, int64_t m,
                             float *restrict P)
{
    for (int64_t p = 0; p < m; p += MR)
        for (int64_t i = 0; i < MR; i++) {
            float *d = P + p * K + i;
            if (p + i >= m) {
                for (int64_t k = 0; k < K; k++)
                    d[k * MR] = 0.0f;
                continue;
            }
            int64_t row = row_of(rm, p + i), gate = row / H;
            int64_t src = (gate == 2 ? 3 : gate == 3 ? 2 : gate) * H + row % H;
            float sc = gate < 3 ? 0.5f : 1.0f;
            for (int64_t k = 0; k < H; k++)
                d[k * MR] = sc * w_hh[src * H + k];
            for (int64_t k = 0; k < I; k++)
                d[(H + k) * MR] = sc * w_ih[src * I + k];
            if (K > H + I)
                d[(H + I) * MR] = sc * (b_ih[src] + b_hh[src]);
        }
}

/* The LSTM forward recurrence, one pool job per step split by units (job -1 packs the weight and lays out the
 * inputs). Step t: the gemm acts[t] = W z[in] for the piece's rows of the four gate blocks, then the gate math
 * of its units (h into z[out]'s first H rows, the cell state into cs[out]) and their h batch-major into the
 * output row out[t]; the last step also writes h and c batch-major into hT and cT.
 * z: (T + 1, K, B) with z[k] = [h; x_t; 1] (a step reads slot t and writes slot t + 1; reverse: reads t + 1,
 * writes t); x: (T, B, I); h0, c0: (B, H), or NULL for zeros; acts: (T, 4H, B); cs: (T + 1, H, B); tcs, igs:
 * (T, H, B); out: (T, B, H). The states run feature-major, so each gate is a contiguous block of rows. */
typedef struct {
    const float *w_hh, *w_ih, *b_ih, *b_hh, *x, *h0, *c0;
    float *P, *z, *acts, *cs, *tcs, *igs, *out, *hT, *cT;
    int64_t T, H, I, K, B, reverse, k, t, cin, cout, last;
} lstm_fwd_job;

/* Job -1's piece: its panels, its share of the steps' inputs x_t^T (and the ones row) in z, and its units of
 * the initial states. */
static void lstm_fwd_setup(const lstm_fwd_job *j, int64_t lo, int64_t hi, int64_t idx)
{
    const int64_t H = j->H, I = j->I, K = j->K, B = j->B, T = j->T, n = hi - lo;
    const rowmap rm = {n, H, lo};
    pack_lstm_panels(j->w_hh, j->w_ih, j->b_ih, j->b_hh, H, I, K, rm, 4 * n, piece_panels(j->P, 4 * lo, idx, K));
    for (int64_t t = T * lo / H; t < T * hi / H; t++) {
        float *zt = j->z + (j->reverse ? t + 1 : t) * K * B;
        transpose_part(j->x + t * B * I, I, zt + H * B, B, 0, B, 0, I);
        if (K > H + I)
            for (int64_t b = 0; b < B; b++)
                zt[(H + I) * B + b] = 1.0f;
    }
    int64_t first = j->reverse ? T : 0;
    float *h = j->z + first * K * B, *c = j->cs + first * H * B;
    if (j->h0)
        transpose_part(j->h0, H, h, B, 0, B, lo, hi);
    else
        memset(h + lo * B, 0, sizeof(float) * (size_t)(n * B));
    if (j->c0)
        transpose_part(j->c0, H, c, B, 0, B, lo, hi);
    else
        memset(c + lo * B, 0, sizeof(float) * (size_t)(n * B));
}

static void lstm_fwd_piece(const void *ctx, int64_t lo, int64_t hi, int64_t idx)
{
    const lstm_fwd_job *j = ctx;
    const int64_t H = j->H, K = j->K, B = j->B, hb = H * B, n = hi - lo;
    const rowmap rm = {n, H, lo};
    if (j->t < 0) {
        lstm_fwd_setup(j, lo, hi, idx);
        return;
    }
    float *a = j->acts + j->t * 4 * hb, *h = j->z + j->cout * K * B, *c = j->cs + j->cout * hb;
    gemm_panels(piece_panels(j->P, 4 * lo, idx, K), 4 * n, K, j->z + j->cin * K * B, B, B, a, B, rm,
                piece_tail(j->P, 4 * H, j->k, idx, K));
    lstm_cell(a, j->cs + j->cin * hb, c, j->tcs + j->t * hb, j->igs + j->t * hb, h, hb, lo * B, hi * B);
    transpose_part(h, B, j->out + j->t * hb, H, lo, hi, 0, B);
    if (j->last) {
        transpose_part(h, B, j->hT, H, lo, hi, 0, B);
        transpose_part(c, B, j->cT, H, lo, hi, 0, B);
    }
}

static void lstm_fwd_steps(const float *w_hh, const float *w_ih, const float *b_ih, const float *b_hh,
                           const float *x, const float *h0, const float *c0, float *P, float *z, float *acts,
                           float *cs, float *tcs, float *igs, float *out, float *hT, float *cT, int64_t T, int64_t H,
                           int64_t I, int64_t B, int64_t reverse, int64_t k)
{
    k = pool_pieces(H, k); /* (as pool_for cuts the steps: the scratch was sized for at least that) */
    lstm_fwd_job j = {w_hh, w_ih, b_ih, b_hh, x, h0, c0, P, z, acts, cs, tcs, igs, out, hT, cT,
                      T, H, I, H + I + (b_ih != NULL), B, reverse, k, -1, 0, 0, 0};
    pool_for(H, k, lstm_fwd_piece, &j);
    for (int64_t s = 0; s < T; s++) {
        j.t = reverse ? T - 1 - s : s;
        j.cin = reverse ? j.t + 1 : j.t;
        j.cout = reverse ? j.t : j.t + 1;
        j.last = s == T - 1;
        pool_for(H, k, lstm_fwd_piece, &j);
    }
}

/* The LSTM backward recurrence (last step first; reverse: first first), one pool job per step split by units:
 * job s runs the gemm dh = W_hh^T d of the step before it (w = W_hh, (4H, H), packed transposed by job -1) for the
 * piece's units, then lstm_step_bwd of step s for the same units, which needs only those rows of dh; the last
 * job runs the last gemm alone. gout: the layer's output gradient (T, B, H) or NULL; gt: H * B floats of
 * scratch; d: (4H, ldd), step t in columns t*B... */
typedef struct {
    const float *acts, *igs, *cs, *tcs, *gout, *w;
    float *P, *gt, *dh, *dc, *d;
    int64_t ldd, T, H, B, reverse, k, s;
} lstm_bwd_job;

static inline int64_t bwd_step(const lstm_bwd_job *j, int64_t s) { return j->reverse ? s : j->T - 1 - s; }

static void lstm_bwd_piece(const void *ctx, int64_t lo, int64_t hi, int64_t idx)
{
    const lstm_bwd_job *j = ctx;
    const int64_t H = j->H, B = j->B, hb = H * B, s = j->s;
    const rowmap rm = {hi - lo, 0, lo};
    float *P = piece_panels(j->P, lo, idx, 4 * H);
    if (s < 0) {
        pack_panels(j->w, 1, H, 4 * H, rm, hi - lo, P); /* W_hh^T's rows: W_hh's columns */
        return;
    }
    if (s > 0)
        gemm_panels(P, hi - lo, 4 * H, j->d + bwd_step(j, s - 1) * B, j->ldd, B, j->dh, B, rm,
                    piece_tail(j->P, H, j->k, idx, 4 * H));
    if (s < j->T) {
        int64_t t = bwd_step(j, s), cin = j->reverse ? t + 1 : t;
        lstm_step_bwd(j->acts + t * 4 * hb, j->igs + t * hb, j->cs + cin * hb, j->tcs + t * hb,
                      j->gout ? j->gout + t * hb : NULL, j->gt, j->dh, j->dc, j->d + t * B, j->ldd, H, B, lo, hi);
    }
}

static void lstm_bwd_steps(const float *acts, const float *igs, const float *cs, const float *tcs, const float *gout,
                           float *gt, float *dh, float *dc, float *d, int64_t ldd, const float *w, float *P,
                           int64_t T, int64_t H, int64_t B, int64_t reverse, int64_t k)
{
    k = pool_pieces(H, k); /* (as pool_for cuts the steps: the scratch was sized for at least that) */
    lstm_bwd_job j = {acts, igs, cs, tcs, gout, w, P, gt, dh, dc, d, ldd, T, H, B, reverse, k, -1};
    for (; j.s <= T; j.s++)
        pool_for(H, k, lstm_bwd_piece, &j);
}

enum {
    K_GELU, K_GELU_CDF, K_GELU_BWD, K_GELU_CDF_BWD, K_GELU_TANH, K_GELU_TANH_BWD, K_LAYER_NORM,
    K_LAYER_NORM_BWD, K_SOFTMAX, K_SOFTMAX_BWD, K_WINO_IN, K_WINO_OUT, K_WINO_OUT_T, K_CONV_DIRECT,
    K_MAXPOOL2D_IDX, K_POOL_GATHER, K_POOL_SCATTER, K_RELU, K_TRANSPOSE, K_RELU_BWD, K_RELU_BWD_ONE, K_BN_BWD,
    K_CONV_WGRAD, K_ATTN_FWD, K_ATTN_BWD, K_BINARY, K_LSTM_FWD, K_LSTM_BWD, K_GEMM, K_CONV_LANES
};

typedef struct {
    int kernel;
    const int64_t *a;
    int64_t *res; /* one int64 per piece, for kernels that return a status */
} par_job;

#define PF(i) ((float *)(intptr_t)a[i])
#define PI(i) ((int64_t *)(intptr_t)a[i])

static float f32_of_bits(int64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void par_piece(const void *c, int64_t lo, int64_t hi, int64_t idx)
{
    const par_job *j = c;
    const int64_t *a = j->a;
    switch (j->kernel) {
    case K_GELU: gelu_f32(PF(0), PF(1), lo, hi); break;
    case K_GELU_CDF: gelu_cdf_f32(PF(0), PF(1), PF(2), lo, hi); break;
    case K_GELU_BWD: gelu_bwd_f32(PF(0), PF(1), PF(2), lo, hi); break;
    case K_GELU_CDF_BWD: gelu_cdf_bwd_f32(PF(0), PF(1), PF(2), PF(3), lo, hi); break;
    case K_GELU_TANH: gelu_tanh_f32(PF(0), PF(1), lo, hi); break;
    case K_GELU_TANH_BWD: gelu_tanh_bwd_f32(PF(0), PF(1), PF(2), lo, hi); break;
    case K_LAYER_NORM: layer_norm_f32(PF(0), PF(1), PF(2), PF(3), a[4], f32_of_bits(a[5]), lo, hi); break;
    case K_LAYER_NORM_BWD: /* dw, db: one row of a[6] accumulators per piece */
        layer_norm_bwd_f32(PF(0), PF(1), PF(2), PF(3), PF(4) + idx * a[6], PF(5) + idx * a[6], a[6],
                           f32_of_bits(a[7]), lo, hi);
        break;
    case K_SOFTMAX: softmax_f32(PF(0), PF(1), a[2], (int)a[3], (int)a[4], lo, hi); break;
    case K_SOFTMAX_BWD: softmax_bwd_f32(PF(0), PF(1), PF(2), a[3], (int)a[4], lo, hi); break;
    case K_WINO_IN:
        j->res[idx] = wino_in_f32(PF(0), PF(1), a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], lo, hi);
        break;
    case K_WINO_OUT: wino_out_f32(PF(0), PF(1), PF(2), a[3], a[4], a[5], a[6], a[7], a[8], lo, hi); break;
    case K_WINO_OUT_T: wino_out_t_f32(PF(0), PF(1), a[2], a[3], a[4], a[5], a[6], a[7], lo, hi); break;
    case K_CONV_DIRECT: /* one scratch grid per piece */
        conv_direct_f32(PF(0), a[1], PI(2), a[3], PF(4), a[5], a[6], PF(7) + idx * a[5] * a[8], a[8], PI(9), a[10],
                        a[11], PF(12), PF(13), lo, hi);
        break;
    case K_MAXPOOL2D_IDX:
        maxpool2d_idx_f32(PF(0), PI(1), a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
                          lo, hi);
        break;
    case K_RELU: relu_f32(PF(0), PF(1), lo, hi); break;
    case K_TRANSPOSE: transpose_f32(PF(0), PF(1), a[2], a[3], lo, hi); break;
    case K_RELU_BWD: relu_bwd_f32(PF(0), PF(1), PF(2), lo, hi); break;
    case K_ATTN_FWD: /* one scratch slab per piece */
        attn_fwd_f32(PF(0), PF(1), PF(2), PF(3), PF(4), PF(5), PI(6), a[7], a[8], a[9], a[10], a[11],
                     f32_of_bits(a[12]), a[13], PF(14) + idx * attn_scratch(a[8], a[9], a[10], a[11], 0), lo, hi);
        break;
    case K_ATTN_BWD:
        attn_bwd_f32(PF(0), PF(1), PF(2), PF(3), PF(4), PF(5), PF(6), PF(7), PI(8), a[9], a[10], a[11], a[12], a[13],
                     f32_of_bits(a[14]), a[15], PF(16) + idx * attn_scratch(a[10], a[11], a[12], a[13], 1), lo, hi);
        break;
    case K_CONV_WGRAD: /* one scratch grid and one dw slab per piece */
        conv_direct_wgrad_f32(PF(0), a[1], PI(2), a[3], PF(4), a[5], a[6], PI(7), a[8], a[9], a[10],
                              PF(11) + idx * a[6] * a[10], PF(12) + idx * a[3] * a[6] * 16, lo, hi);
        break;
    case K_RELU_BWD_ONE: relu_bwd_one_f32(PF(0), PF(1), PF(2), lo, hi); break;
    case K_BN_BWD:
        bn_bwd_f32(PF(0), PF(1), PF(2), PF(3), PF(4), PF(5), (double *)(intptr_t)a[6], a[7], a[8], a[9], a[10], lo,
                   hi);
        break;
    case K_POOL_GATHER: pool_gather_f32(PF(0), PI(1), PF(2), a[3], a[4], lo, hi); break;
    case K_POOL_SCATTER: pool_scatter_f32(PF(0), PI(1), PF(2), a[3], a[4], lo, hi); break;
    case K_BINARY: /* out of place, or (no output) into the first operand */
        if (a[2])
            binary_f32(PF(0), PF(1), PF(2), a[3], a[4], lo, hi);
        else
            binary_inplace_f32(PF(0), PF(1), a[3], a[4], lo, hi);
        break;
    case K_GEMM: /* scratch: a[13] floats per piece */
        gemm_strided(PF(0), a[1], a[2], PF(3), a[4], a[5], PF(6), a[7], a[8], a[9], a[10], a[11], a[12],
                     PF(14) + idx * a[13], lo, hi);
        break;
    case K_LSTM_FWD: /* one piece, the whole recurrence, which runs its own jobs (a[13] pieces per step) */
        lstm_fwd_steps(PF(0), PF(1), PF(2), PF(3), PF(4), PF(5), PF(6), PF(7), PF(8), PF(9), PF(10), PF(11), PF(12),
                       PF(13), PF(14), PF(15), a[16], a[17], a[18], a[19], a[20], a[21]);
        break;
    case K_CONV_LANES: /* one scratch block per piece */
        conv_lanes_f32(PF(0), a[1], PI(2), a[3], PF(4), a[5], a[6], PI(7), a[8], PF(9) + idx * a[8] * 16, a[10],
                       PF(11), PF(12), lo, hi);
        break;
    case K_LSTM_BWD:
        lstm_bwd_steps(PF(0), PF(1), PF(2), PF(3), PF(4), PF(5), PF(6), PF(7), PF(8), a[9], PF(10), PF(11), a[12],
                       a[13], a[14], a[15], a[16]);
        break;
    }
}

/* Where a NumPy array object keeps its data pointer (after the object header); 0 until the Python side has
 * checked it on a live array. */
static int64_t array_data_offset;

void set_array_data_offset(int64_t off) { array_data_offset = off; }

#define MAX_ARGS 24

/* One call, one int64 array p (ctypes converts each argument at ~0.1 us, so they travel packed):
 *   p[0] kernel number, p[1] nargs, p[2] array mask, p[3] res (int64 per piece, or 0), p[4] n, p[5] k,
 *   p[6 ...] the kernel's arguments;
 * runs the kernel over [0, n) in k pieces (k = 1: on this thread). Argument i with bit i of the mask set is
 * the address of a NumPy array object (Python's id()), read here for its data pointer: NumPy's
 * ``.ctypes.data`` costs ~1 us per array, as much as a small kernel. */
void run_f32(const int64_t *p)
{
    int64_t a[MAX_ARGS];
    const int64_t *args = p + 6;
    for (int64_t i = 0; i < p[1] && i < MAX_ARGS; i++)
        a[i] = (p[2] >> i) & 1 ? *(const int64_t *)(intptr_t)(args[i] + array_data_offset) : args[i];
    par_job j = {(int)p[0], a, (int64_t *)(intptr_t)p[3]};
    pool_for(p[4], p[5], par_piece, &j);
}
