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

/* A[r][k] of a tile whose first element is a (lda as in oc_packb_alayout): for OC_PACKB_A_BLK8, k counts
 * from a multiple of 8. */
static inline __attribute__((always_inline)) const float *pb_a(const int L, const float *a, int64_t lda, int i,
                                                               int64_t k)
{
    return L == OC_PACKB_A_ROWS ? a + i * lda + k
         : L == OC_PACKB_A_COLS ? a + i + k * lda
                                : a + (k >> 3) * lda + i * 8 + (k & 7);
}

/* One tile: R rows (a compile-time constant after inlining) x cols <= PW columns of C, over depth kc from A
 * (laid out as L) and the panel block bp ([kc][PW]); load: start from C's values, else from init (the
 * tile's first column of a per-column start, e.g. a bias) or zero. */
static inline __attribute__((always_inline)) void pb_tile(const int R, const int L, int64_t kc,
                                                          const float *restrict a, int64_t lda,
                                                          const float *restrict bp, float *restrict c, int64_t ldc,
                                                          int cols, bool load, const float *init)
{
    vf acc0[MR], acc1[MR];
    const vmask m0 = mask_below(cols), m1 = mask_below(cols - VW);
    vf i0 = VZERO(), i1 = VZERO();
    if (!load && init) {
        i0 = VLOADU_M(init, m0);
        i1 = VLOADU_M(init + VW, m1);
    }
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        if (load) {
            acc0[i] = VLOADU_M(c + i * ldc, m0);
            acc1[i] = VLOADU_M(c + i * ldc + VW, m1);
        } else {
            acc0[i] = i0;
            acc1[i] = i1;
        }
    }
    if (L == OC_PACKB_A_BLK8) {
        /* kc is a multiple of 8: eight k from one channel block, then the next block */
        for (int64_t k = 0; k < kc; k += 8) {
#pragma GCC unroll 8
            for (int kk = 0; kk < 8; kk++) {
                const vf b0 = VLOAD(bp), b1 = VLOAD(bp + VW);
#pragma GCC unroll 12
                for (int i = 0; i < R; i++) {
                    const vf av = VBCAST(a + i * 8 + kk);
                    acc0[i] = VFMA(av, b0, acc0[i]);
                    acc1[i] = VFMA(av, b1, acc1[i]);
                }
                bp += PW;
            }
            a += lda;
        }
    } else {
        for (int64_t k = 0; k < kc; k++) {
            const vf b0 = VLOAD(bp), b1 = VLOAD(bp + VW);
#pragma GCC unroll 12
            for (int i = 0; i < R; i++) {
                const vf av = VBCAST(pb_a(L, a, lda, i, k));
                acc0[i] = VFMA(av, b0, acc0[i]);
                acc1[i] = VFMA(av, b1, acc1[i]);
            }
            bp += PW;
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        VSTOREU_M(c + i * ldc, acc0[i], m0);
        VSTOREU_M(c + i * ldc + VW, acc1[i], m1);
    }
}

#define PB_CASE(R)                                                                                                     \
    case R:                                                                                                            \
        if (L == OC_PACKB_A_ROWS)                                                                                      \
            pb_tile(R, OC_PACKB_A_ROWS, kc, a, lda, bp, c, ldc, cols, load, init);                                     \
        else if (L == OC_PACKB_A_COLS)                                                                                 \
            pb_tile(R, OC_PACKB_A_COLS, kc, a, lda, bp, c, ldc, cols, load, init);                                     \
        else                                                                                                           \
            pb_tile(R, OC_PACKB_A_BLK8, kc, a, lda, bp, c, ldc, cols, load, init);                                     \
        break;

static void pb_tile_rows(int rows, oc_packb_alayout L, int64_t kc, const float *a, int64_t lda, const float *bp,
                         float *c, int64_t ldc, int cols, bool load, const float *init)
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
    int64_t m, lda, ldc, row_parts, panels_per_item, panel_items;
    const float *a;
    oc_packb_alayout layout;
    const oc_packed_b *b;
    const float *init;
    float *c;
    bool accumulate, by_rows; /* by_rows: items of rows only, B small enough to stay in L2 */
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
                const float *at = j->layout == OC_PACKB_A_ROWS   ? j->a + t0 * j->lda + k0
                                : j->layout == OC_PACKB_A_COLS ? j->a + t0 + k0 * j->lda
                                                               : j->a + (k0 >> 3) * j->lda + t0 * 8;
                pb_tile_rows(tr, j->layout, kc, at, j->lda, panel + k0 * PW, j->c + t0 * j->ldc + c0, j->ldc,
                             (int)cols, load, j->init ? j->init + c0 : NULL);
            }
        }
        if (k == 0 && !j->accumulate)
            for (int64_t r = r0; r < r1; r++) {
                if (j->init)
                    memcpy(j->c + r * j->ldc + c0, j->init + c0, (size_t)cols * sizeof(float));
                else
                    memset(j->c + r * j->ldc + c0, 0, (size_t)cols * sizeof(float));
            }
        /* the epilogue on groups of panels of at most EP_FLOATS outputs, still in L1 (an activation over a
         * 32-float row segment per call cost ~40 % more per element than over whole rows) */
        if (j->ep && (p + 1 == p1 || (p + 1 - ep_from) * PW * rows >= EP_FLOATS)) {
            j->ep(j->ep_ctx, j->c, j->ldc, r0, r1, ep_from * PW, c0 + cols);
            ep_from = p + 1;
        }
    }
}

/* An item: part item / panel_items of the rows (nearly equal parts in whole row tiles) times group
 * item % panel_items of the panels. */
static void pb_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pb_job *j = arg;
    const int64_t rp = item / j->panel_items, pi = item % j->panel_items;
    const int64_t r0 = oc_pool_split(j->m, j->row_parts, rp, MR), r1 = oc_pool_split(j->m, j->row_parts, rp + 1, MR);
    const int64_t p0 = pi * j->panels_per_item,
                  p1 = p0 + j->panels_per_item < j->b->panels ? p0 + j->panels_per_item : j->b->panels;
    if (r0 >= r1)
        return;
    /* items of rows: row tiles outer, the block's rows staying in L1 while the panels go by; convolutions take
     * the item's rows at once, so the epilogue transposes and activates whole runs of positions (an activation
     * over 12-position spans cost EfficientNet-B0's 14 x 14 SiLU layers) */
    if (j->by_rows && j->layout == OC_PACKB_A_ROWS) {
        for (int64_t t0 = r0; t0 < r1; t0 += MR)
            pb_block(j, t0, t0 + MR < r1 ? t0 + MR : r1, 0, j->b->panels);
        return;
    }
    pb_block(j, r0, r1, p0, p1);
}

static void pb_run(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, oc_packb_alayout layout,
                   const oc_packed_b *b, const float *init, float *c, int64_t ldc, bool accumulate, oc_block_fn ep,
                   void *ep_ctx)
{
    if (m <= 0 || b->n <= 0)
        return;
    pb_job j = {m, lda, ldc, 1, b->panels, 1, a, layout, b, init, c, accumulate, false, ep, ep_ctx};
    const int slots = oc_pool_threads(pool);
    const double work = (double)m * (double)b->n * (double)(b->k > 0 ? b->k : 1);
    int64_t items = slots > 1 ? 4 * (int64_t)slots : 1;
    if (work / (double)items < 65536.0) {
        items = (int64_t)(work / 65536.0) + 1;
        /* a multiple of the threads (21 rows items on 2 threads left one idle for a whole item) */
        if (slots > 1 && items > slots)
            items = (items + slots - 1) / slots * slots;
    }
    /* by rows when there are enough row tiles for every item and all of B stays in L2 while a tile's rows run
     * across it, else by panels (each thread then reads its panels of B once, and A from L2) */
    const int64_t row_tiles = (m + MR - 1) / MR;
    const double b_bytes = (double)b->panels * PW * (double)b->k * sizeof(float);
    if (row_tiles >= items && row_tiles >= b->panels && b_bytes <= 768.0 * 1024.0) {
        j.row_parts = items;
        j.by_rows = true;
        oc_pool_run(pool, items, pb_item, &j);
        return;
    }
    j.panels_per_item = (b->panels + items - 1) / items;
    /* convolutions: a count of items every thread gets as many of (MobileNetV2's 960 -> 320 at 7 x 7: 10
     * panels in 10 items, not 5 of 2 split 3 : 2) */
    while (layout != OC_PACKB_A_ROWS && slots > 1 && j.panels_per_item > 1 &&
           (b->panels + j.panels_per_item - 1) / j.panels_per_item % slots != 0)
        j.panels_per_item--;
    j.panel_items = (b->panels + j.panels_per_item - 1) / j.panels_per_item;
    /* a count of panels no thread count divides (MnasNet's 96 channels: 3 panels on 2 threads, one idle for a
     * third of the job): the rows cut in as many parts as threads too */
    if (layout != OC_PACKB_A_ROWS && slots > 1 && j.panel_items % slots != 0 && row_tiles >= slots)
        j.row_parts = slots;
    oc_pool_run(pool, j.row_parts * j.panel_items, pb_item, &j);
}

void oc_sgemm_packb(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, const oc_packed_b *b, float *c,
                    int64_t ldc, bool accumulate, oc_block_fn ep, void *ep_ctx)
{
    pb_run(pool, m, a, lda, OC_PACKB_A_ROWS, b, NULL, c, ldc, accumulate, ep, ep_ctx);
}

void oc_sgemm_packb_ex(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, oc_packb_alayout layout,
                       const oc_packed_b *b, const float *init, float *c, int64_t ldc, oc_block_fn ep, void *ep_ctx)
{
    pb_run(pool, m, a, lda, layout, b, init, c, ldc, false, ep, ep_ctx);
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

void oc_sgemm_packb_ex(struct oc_threadpool *pool, int64_t m, const float *a, int64_t lda, oc_packb_alayout layout,
                       const oc_packed_b *b, const float *init, float *c, int64_t ldc, oc_block_fn ep, void *ep_ctx)
{
    /* not reached either (oc_packb_available): the same sums in order of k */
    (void)pool;
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < b->panels; p++) {
            const int64_t c0 = p * PW, cols = b->n - c0 < PW ? b->n - c0 : PW;
            for (int64_t jj = 0; jj < cols; jj++) {
                float s = init ? init[c0 + jj] : 0.0f;
                for (int64_t kk = 0; kk < b->k; kk++) {
                    const float av = layout == OC_PACKB_A_ROWS   ? a[i * lda + kk]
                                   : layout == OC_PACKB_A_COLS ? a[i + kk * lda]
                                                               : a[(kk / 8) * lda + i * 8 + kk % 8];
                    s += av * b->data[(p * b->k + kk) * PW + jj];
                }
                c[i * ldc + c0 + jj] = s;
            }
        }
    if (ep)
        ep(ep_ctx, c, ldc, 0, m, 0, b->n);
}

#endif
