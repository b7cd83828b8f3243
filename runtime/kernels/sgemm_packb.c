/* Single-precision C = A B against a prepacked B (sgemm_packb.h): MatMul's and Gemm's constant weights packed
 * once into column panels, A read in place, a tile of up to MR rows x one panel kept in registers over a depth
 * block (AVX-512: 12 x 32, AVX2/FMA: 6 x 16). Few rows (ConvNeXt's stage-4 MLPs, [49, 768] x [768, 3072]):
 * the pool splits the panels, every thread streams its own part of B once; many rows: the pool splits row
 * blocks, each thread's rows stay in L1 while it runs across all of B (in L2). */
#include <string.h>

#include "sgemm_packb.h"
#include "threadpool.h"
#include "util.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>
#define PB_VEC 1
typedef __m512 vf;
#define VW 16
#define MR 12
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_load_ps(p)
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
typedef __mmask16 vmask;
static inline vmask mask_below(int n) { return n >= 16 ? (vmask)0xffff : n <= 0 ? (vmask)0 : (vmask)((1u << n) - 1u); }
#define VLOADU_M(p, m) _mm512_maskz_loadu_ps(m, p)
#define VSTOREU_M(p, v, m) _mm512_mask_storeu_ps(p, m, v)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define PB_VEC 1
typedef __m256 vf;
#define VW 8
#define MR 6
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_load_ps(p)
#define VBCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
typedef __m256i vmask;
static inline vmask mask_below(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define VLOADU_M(p, m) _mm256_maskload_ps(p, m)
#define VSTOREU_M(p, v, m) _mm256_maskstore_ps(p, m, v)
#else
#define VW 8
#define MR 6
#endif

#define PW (2 * VW) /* panel width: two vectors */

/* Depth of a block: a tile runs this many k before its accumulators go back to C, so a block of B's panel
 * (KC x PW floats) and of A's rows stay in L1 / L2 across the tiles that use them (256 and 768 measured slower
 * on [49, 768] x [768, 3072] and [49, 3072] x [3072, 768]). */
#define KC 512

/* Outputs of C the epilogue is given at once (see pb_block). */
#define EP_FLOATS 8192

bool oc_packb_available(void)
{
#ifdef PB_VEC
    return true;
#else
    return false;
#endif
}

onnxc_status oc_pack_b(const float *b, int64_t ldb, bool trans, int64_t k, int64_t n, oc_packed_b *out)
{
    memset(out, 0, sizeof *out);
    out->k = k;
    out->n = n;
    out->panels = (n + PW - 1) / PW;
    int64_t total;
    if (!oc_mul_i64(out->panels * PW, k > 0 ? k : 1, &total) || !oc_mul_i64(total, (int64_t)sizeof(float), &total))
        return oc_err(ONNXC_E_NOMEM, "packed weights of %lld x %lld overflow", (long long)k, (long long)n);
    out->raw = oc_malloc((size_t)total + 64);
    if (!out->raw)
        return oc_err(ONNXC_E_NOMEM, "out of memory packing %lld x %lld weights", (long long)k, (long long)n);
    out->data = (float *)(((uintptr_t)out->raw + 63) & ~(uintptr_t)63);
    for (int64_t p = 0; p < out->panels; p++) {
        float *dst = out->data + p * k * PW;
        const int64_t j0 = p * PW, cols = n - j0 < PW ? n - j0 : PW;
        for (int64_t kk = 0; kk < k; kk++) {
            float *row = dst + kk * PW;
            for (int64_t j = 0; j < cols; j++)
                row[j] = trans ? b[(j0 + j) * ldb + kk] : b[kk * ldb + j0 + j];
            for (int64_t j = cols; j < PW; j++)
                row[j] = 0.0f;
        }
    }
    return ONNXC_OK;
}

void oc_packed_b_free(oc_packed_b *p)
{
    if (!p)
        return;
    oc_free(p->raw);
    p->raw = NULL;
    p->data = NULL;
}

#ifdef PB_VEC

/* One tile: R rows (a compile-time constant after inlining) x cols <= PW columns of C, over depth kc from A
 * (rows lda apart) and the panel block bp ([kc][PW]); load: start from C's values, else from zero. */
static inline __attribute__((always_inline)) void pb_tile(const int R, int64_t kc, const float *restrict a, int64_t lda,
                                                          const float *restrict bp, float *restrict c, int64_t ldc,
                                                          int cols, bool load)
{
    vf acc0[MR], acc1[MR];
    const vmask m0 = mask_below(cols), m1 = mask_below(cols - VW);
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        if (load) {
            acc0[i] = VLOADU_M(c + i * ldc, m0);
            acc1[i] = VLOADU_M(c + i * ldc + VW, m1);
        } else {
            acc0[i] = VZERO();
            acc1[i] = VZERO();
        }
    }
    for (int64_t k = 0; k < kc; k++) {
        const vf b0 = VLOAD(bp), b1 = VLOAD(bp + VW);
#pragma GCC unroll 12
        for (int i = 0; i < R; i++) {
            const vf av = VBCAST(a + i * lda + k);
            acc0[i] = VFMA(av, b0, acc0[i]);
            acc1[i] = VFMA(av, b1, acc1[i]);
        }
        bp += PW;
    }
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        VSTOREU_M(c + i * ldc, acc0[i], m0);
        VSTOREU_M(c + i * ldc + VW, acc1[i], m1);
    }
}

#define PB_CASE(R)                                                                                                     \
    case R: pb_tile(R, kc, a, lda, bp, c, ldc, cols, load); break;

static void pb_tile_rows(int rows, int64_t kc, const float *a, int64_t lda, const float *bp, float *c, int64_t ldc,
                         int cols, bool load)
{
    switch (rows) {
        PB_CASE(1)
        PB_CASE(2)
        PB_CASE(3)
        PB_CASE(4)
        PB_CASE(5)
        PB_CASE(6)
#if MR > 6
        PB_CASE(7)
        PB_CASE(8)
        PB_CASE(9)
        PB_CASE(10)
        PB_CASE(11)
        PB_CASE(12)
#endif
    default: break;
    }
}

/* Rows [r0, r1) x panels [p0, p1) of C: for each panel, each depth block, each tile of rows (tiles of equal
 * height, at most MR), then ep on the panel's block. */
typedef struct pb_job {
    int64_t m, lda, ldc, rows_per_item, panels_per_item;
    const float *a;
    const oc_packed_b *b;
    float *c;
    bool accumulate, by_rows;
    oc_block_fn ep;
    void *ep_ctx;
} pb_job;

static void pb_block(const pb_job *j, int64_t r0, int64_t r1, int64_t p0, int64_t p1)
{
    const oc_packed_b *b = j->b;
    const int64_t k = b->k, rows = r1 - r0;
    const int64_t tiles = (rows + MR - 1) / MR, th = (rows + tiles - 1) / tiles;
    int64_t ep_from = p0; /* first panel the epilogue has not run on */
    for (int64_t p = p0; p < p1; p++) {
        const int64_t c0 = p * PW, cols = b->n - c0 < PW ? b->n - c0 : PW;
        const float *panel = b->data + p * k * PW;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            const int64_t kc = k - k0 < KC ? k - k0 : KC;
            const bool load = j->accumulate || k0 > 0;
            for (int64_t t0 = r0; t0 < r1; t0 += th) {
                const int tr = (int)(r1 - t0 < th ? r1 - t0 : th);
                /* the next panel's lines of these rows of C, so its stores do not wait for them */
                if (p + 1 < p1)
                    for (int i = 0; i < tr; i++) {
                        _mm_prefetch((const char *)(j->c + (t0 + i) * j->ldc + c0 + PW), _MM_HINT_T0);
                        _mm_prefetch((const char *)(j->c + (t0 + i) * j->ldc + c0 + PW + 16), _MM_HINT_T0);
                    }
                pb_tile_rows(tr, kc, j->a + t0 * j->lda + k0, j->lda, panel + k0 * PW, j->c + t0 * j->ldc + c0, j->ldc,
                             (int)cols, load);
            }
        }
        if (k == 0 && !j->accumulate)
            for (int64_t r = r0; r < r1; r++)
                memset(j->c + r * j->ldc + c0, 0, (size_t)cols * sizeof(float));
        /* the epilogue on groups of panels of at most EP_FLOATS outputs, still in L1 (an activation over a
         * 32-float row segment per call cost ~40 % more per element than over whole rows) */
        if (j->ep && (p + 1 == p1 || (p + 1 - ep_from) * PW * rows >= EP_FLOATS)) {
            j->ep(j->ep_ctx, j->c, j->ldc, r0, r1, ep_from * PW, c0 + cols);
            ep_from = p + 1;
        }
    }
}

static void pb_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pb_job *j = arg;
    if (j->by_rows) {
        const int64_t r0 = item * j->rows_per_item, r1 = r0 + j->rows_per_item < j->m ? r0 + j->rows_per_item : j->m;
        /* row tiles outer: the block's rows stay in L1 while the panels go by */
        for (int64_t t0 = r0; t0 < r1; t0 += MR)
            pb_block(j, t0, t0 + MR < r1 ? t0 + MR : r1, 0, j->b->panels);
    } else {
        const int64_t p0 = item * j->panels_per_item,
                      p1 = p0 + j->panels_per_item < j->b->panels ? p0 + j->panels_per_item : j->b->panels;
        pb_block(j, 0, j->m, p0, p1);
    }
}

void oc_sgemm_packb(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, const oc_packed_b *b, float *c,
                    int64_t ldc, bool accumulate, oc_block_fn ep, void *ep_ctx)
{
    if (m <= 0 || b->n <= 0)
        return;
    pb_job j = {m, lda, ldc, 0, 0, a, b, c, accumulate, false, ep, ep_ctx};
    const int slots = oc_pool_threads(pool);
    const double work = (double)m * (double)b->n * (double)(b->k > 0 ? b->k : 1);
    int64_t items = slots > 1 ? 4 * (int64_t)slots : 1;
    if (work / (double)items < 65536.0)
        items = (int64_t)(work / 65536.0) + 1;
    /* by rows when there are enough row tiles for every item and all of B stays in L2 while a tile's rows run
     * across it, else by panels (each thread then reads its panels of B once, and A from L2) */
    const int64_t row_tiles = (m + MR - 1) / MR;
    const double b_bytes = (double)b->panels * PW * (double)b->k * sizeof(float);
    if (row_tiles >= items && row_tiles >= b->panels && b_bytes <= 768.0 * 1024.0) {
        j.by_rows = true;
        j.rows_per_item = (row_tiles + items - 1) / items * MR;
        oc_pool_run(pool, (m + j.rows_per_item - 1) / j.rows_per_item, pb_item, &j);
        return;
    }
    j.panels_per_item = (b->panels + items - 1) / items;
    oc_pool_run(pool, (b->panels + j.panels_per_item - 1) / j.panels_per_item, pb_item, &j);
}

#else

void oc_sgemm_packb(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, const oc_packed_b *b, float *c,
                    int64_t ldc, bool accumulate, oc_block_fn ep, void *ep_ctx)
{
    /* not reached: callers ask oc_packb_available first; a plain loop keeps the function total */
    (void)pool;
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < b->panels; p++) {
            const int64_t c0 = p * PW, cols = b->n - c0 < PW ? b->n - c0 : PW;
            for (int64_t jj = 0; jj < cols; jj++) {
                float s = accumulate ? c[i * ldc + c0 + jj] : 0.0f;
                for (int64_t kk = 0; kk < b->k; kk++)
                    s += a[i * lda + kk] * b->data[(p * b->k + kk) * PW + jj];
                c[i * ldc + c0 + jj] = s;
            }
        }
    if (ep)
        ep(ep_ctx, c, ldc, 0, m, 0, b->n);
}

#endif
