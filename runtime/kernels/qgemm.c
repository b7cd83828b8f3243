/* Integer matrix products of quantized tensors: MatMulInteger and QLinearMatMul (numpy batching, zero points
 * per tensor, per row of A, per column of B), ConvInteger and QLinearConv (1-D to 3-D, groups, strides,
 * dilations, pads, auto_pad; weight scales and zero points per tensor or per output channel). All through one
 * int32-accumulating GEMM on zero-point-subtracted int16 operands (AVX2 vpmaddwd when the build targets it):
 * exact, as the ops are specified; QLinear* requantize as ONNX Runtime does (float32 multiplier
 * a_scale * b_scale / y_scale, rounding half to even, saturation). */
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "threadpool.h"
#include "window.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define QG_AVX2 1
#else
#define QG_AVX2 0
#endif

#define NR OC_QG_NR

/* ---------------------------------------------------------------- the GEMM */

const char *oc_qgemm_isa(void) { return QG_AVX2 ? "avx2" : "c"; }

#if QG_AVX2
static inline __m256i bcast_pair(const int16_t *a)
{
    int32_t v;
    memcpy(&v, a, sizeof v);
    return _mm256_set1_epi32(v);
}

/* rows 4: C[4][16] of one panel */
static void kern4(const int16_t *a, int64_t kp, const int16_t *b, int32_t *c, int64_t ldc)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
            c31 = c00;
    const int16_t *a0 = a, *a1 = a + kp, *a2 = a + 2 * kp, *a3 = a + 3 * kp;
    for (int64_t k = 0; k < kp; k += 2, b += 2 * NR) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b), b1 = _mm256_loadu_si256((const __m256i *)(b + 16));
        __m256i v = bcast_pair(a0 + k);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, v));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b1, v));
        v = bcast_pair(a1 + k);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b0, v));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, v));
        v = bcast_pair(a2 + k);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b0, v));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b1, v));
        v = bcast_pair(a3 + k);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b0, v));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b1, v));
    }
    _mm256_storeu_si256((__m256i *)c, c00);
    _mm256_storeu_si256((__m256i *)(c + 8), c01);
    _mm256_storeu_si256((__m256i *)(c + ldc), c10);
    _mm256_storeu_si256((__m256i *)(c + ldc + 8), c11);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc), c20);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc + 8), c21);
    _mm256_storeu_si256((__m256i *)(c + 3 * ldc), c30);
    _mm256_storeu_si256((__m256i *)(c + 3 * ldc + 8), c31);
}

static void kern1(const int16_t *a, int64_t kp, const int16_t *b, int32_t *c)
{
    __m256i c0 = _mm256_setzero_si256(), c1 = c0;
    for (int64_t k = 0; k < kp; k += 2, b += 2 * NR) {
        __m256i v = bcast_pair(a + k);
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)b), v));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(b + 16)), v));
    }
    _mm256_storeu_si256((__m256i *)c, c0);
    _mm256_storeu_si256((__m256i *)(c + 8), c1);
}
#else
/* Portable: unsigned accumulation, so a sum past int32 wraps as the vector code's does, without overflow. */
static void kern1(const int16_t *a, int64_t kp, const int16_t *b, int32_t *c)
{
    uint32_t acc[NR] = {0};
    for (int64_t k = 0; k < kp; k += 2, b += 2 * NR) {
        int32_t a0 = a[k], a1 = a[k + 1];
        for (int j = 0; j < NR; j++)
            acc[j] += (uint32_t)(b[2 * j] * a0 + b[2 * j + 1] * a1);
    }
    for (int j = 0; j < NR; j++)
        c[j] = (int32_t)acc[j];
}

static void kern4(const int16_t *a, int64_t kp, const int16_t *b, int32_t *c, int64_t ldc)
{
    for (int r = 0; r < 4; r++)
        kern1(a + r * kp, kp, b, c + r * ldc);
}
#endif

void oc_qgemm(const int16_t *a, int64_t m, int64_t kp, const int16_t *bp, int64_t ncols, int32_t *cm, int64_t ldc)
{
    int64_t np = (ncols + NR - 1) / NR;
    for (int64_t p = 0; p < np; p++) {
        const int16_t *b = bp + p * kp * NR;
        int64_t i = 0;
        for (; i + 4 <= m; i += 4)
            kern4(a + i * kp, kp, b, cm + i * ldc + p * NR, ldc);
        for (; i < m; i++)
            kern1(a + i * kp, kp, b, cm + i * ldc + p * NR);
    }
}

/* ---------------------------------------------------------------- shared helpers */

static onnxc_status need_inputs(const oc_kctx *c, int n, const char *names)
{
    for (int i = 0; i < n; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "needs inputs %s (input %d is missing)", names, i);
    return ONNXC_OK;
}

static onnxc_status need8(const oc_kctx *c, int i, const char *name)
{
    const onnxc_tensor *t = c->in[i];
    if (!oc_q_is8(t->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "input %s is %s; expected int8 or uint8", name, onnxc_dtype_name(t->dtype));
    return ONNXC_OK;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Pack rows [0, rows) of a k-wide int8 / uint8 matrix (row r at src + r * ld) minus zp[r] into int16 rows of kp. */
static void pack_rows(int32_t dt, const void *src, int64_t ld, int64_t rows, int64_t k, int64_t kp,
                      const int32_t *zp_of_row, int32_t zp1, int16_t *dst)
{
    for (int64_t r = 0; r < rows; r++) {
        int32_t zp = zp_of_row ? zp_of_row[r] : zp1;
        int16_t *d = dst + r * kp;
        if (dt == ONNXC_UINT8) {
            const uint8_t *s = (const uint8_t *)src + r * ld;
            for (int64_t i = 0; i < k; i++)
                d[i] = (int16_t)((int32_t)s[i] - zp);
        } else {
            const int8_t *s = (const int8_t *)src + r * ld;
            for (int64_t i = 0; i < k; i++)
                d[i] = (int16_t)((int32_t)s[i] - zp);
        }
        if (kp > k)
            d[k] = 0;
    }
}

/* Interleave rows r0 and r1 (ncp int16 each, ncp a multiple of NR) into the pair rows of each panel of dst:
 * panel p gets r0[16p + j], r1[16p + j] at (j * 2, j * 2 + 1) of its 32 values at dst + p * kp * NR. */
static void interleave_pair(const int16_t *r0, const int16_t *r1, int64_t ncp, int64_t kp, int16_t *dst)
{
    for (int64_t p = 0; p < ncp / NR; p++) {
        int16_t *o = dst + p * kp * NR;
#if QG_AVX2
        __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + p * NR));
        __m256i b = _mm256_loadu_si256((const __m256i *)(r1 + p * NR));
        __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
#else
        for (int j = 0; j < NR; j++) {
            o[2 * j] = r0[p * NR + j];
            o[2 * j + 1] = r1[p * NR + j];
        }
#endif
    }
}

/* Pack the nc (<= 512) columns at src of a k x n int8 / uint8 matrix (row-major, row stride ld) minus the
 * column zero points zp_col[j] into the panel layout, padded columns and the odd row 0. */
static void pack_cols(int32_t dt, const void *src, int64_t ld, int64_t k, int64_t kp, int64_t nc,
                      const int32_t *zp_col, int16_t *dst)
{
    int64_t ncp = (nc + NR - 1) / NR * NR;
    int16_t r[2][512];
    for (int64_t kk = 0; kk < kp; kk += 2) {
        for (int h = 0; h < 2; h++) {
            int64_t row = kk + h;
            int16_t *d = r[h];
            if (row >= k) {
                memset(d, 0, (size_t)ncp * sizeof *d);
                continue;
            }
            if (dt == ONNXC_UINT8) {
                const uint8_t *s8 = (const uint8_t *)src + row * ld;
                for (int64_t j = 0; j < nc; j++)
                    d[j] = (int16_t)((int32_t)s8[j] - zp_col[j]);
            } else {
                const int8_t *s8 = (const int8_t *)src + row * ld;
                for (int64_t j = 0; j < nc; j++)
                    d[j] = (int16_t)((int32_t)s8[j] - zp_col[j]);
            }
            for (int64_t j = nc; j < ncp; j++)
                d[j] = 0;
        }
        interleave_pair(r[0], r[1], ncp, kp, dst + (kk / 2) * 2 * NR);
    }
}

/* ---------------------------------------------------------------- MatMulInteger / QLinearMatMul */

typedef struct qmm_geom {
    int64_t m, n, k, kp;
    int br;                       /* batch rank of the output */
    int64_t batch[ONNXC_MAX_RANK], a_bs[ONNXC_MAX_RANK], b_bs[ONNXC_MAX_RANK];
    int64_t nb, nb_a, nb_b;       /* output, A and B matrices */
    int out_rank;
    int64_t out[ONNXC_MAX_RANK];
    bool qlinear;
    int ia, ib;                   /* inputs A and B */
    /* zero points: per tensor (n 1), per row of A / column of B (shared by batches), or per matrix and row /
     * column (n = nb_a * m / nb_b * n) */
    const onnxc_tensor *azp, *bzp;
    oc_qparam as, bs, ys;         /* QLinearMatMul */
    int32_t ydt;
    int64_t nc;                   /* columns per work item */
} qmm_geom;

static void batch_strides(int r, const int64_t *bd, int br, int64_t *bs)
{
    int64_t s = 1;
    for (int i = br - 1; i >= 0; i--) {
        int j = i - (br - r);
        if (j < 0 || bd[j] == 1) {
            bs[i] = 0;
        } else {
            bs[i] = s;
            s *= bd[j];
        }
    }
}

/* Check a MatMulInteger zero point (int8 / uint8 of the operand's type): per tensor, 1-D per row (A) / column
 * (B), or the operand's shape with K reduced to 1. */
static onnxc_status qmm_zp(const oc_kctx *c, int i, const onnxc_tensor *op, bool is_a, int64_t len,
                           const onnxc_tensor **out)
{
    *out = i < c->n_in ? c->in[i] : NULL;
    const onnxc_tensor *z = *out;
    const char *name = is_a ? "a_zero_point" : "b_zero_point";
    if (!z)
        return ONNXC_OK;
    if (z->dtype != op->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "%s is %s but %s is %s", name, onnxc_dtype_name(z->dtype), is_a ? "A" : "B",
                       onnxc_dtype_name(op->dtype));
    int64_t n = onnxc_tensor_numel(z);
    if (n == 1 || (z->rank == 1 && n == len))
        return ONNXC_OK;
    bool ok = z->rank == op->rank && op->rank >= 2;
    for (int d = 0; ok && d < op->rank; d++) {
        int64_t want = d == op->rank - (is_a ? 1 : 2) ? 1 : op->dims[d];
        ok = z->dims[d] == want;
    }
    if (!ok) {
        char b1[64], b2[64];
        return oc_kerr(c, ONNXC_E_INVALID, "%s of shape %s does not fit %s of shape %s (per tensor, per %s, or %s's "
                       "shape with K reduced to 1)", name, oc_dims_str(z->dims, z->rank, b1, sizeof b1),
                       is_a ? "A" : "B", oc_dims_str(op->dims, op->rank, b2, sizeof b2), is_a ? "row" : "column",
                       is_a ? "A" : "B");
    }
    return ONNXC_OK;
}

static onnxc_status qmm_geometry(const oc_kctx *c, bool qlinear, qmm_geom *g)
{
    memset(g, 0, sizeof *g);
    g->qlinear = qlinear;
    g->ia = 0;
    g->ib = qlinear ? 3 : 1;
    onnxc_status st = qlinear ? need_inputs(c, 8, "a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, "
                                               "y_zero_point")
                              : need_inputs(c, 2, "A and B");
    if (st == ONNXC_OK)
        st = need8(c, g->ia, qlinear ? "a" : "A");
    if (st == ONNXC_OK)
        st = need8(c, g->ib, qlinear ? "b" : "B");
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *A = c->in[g->ia], *B = c->in[g->ib];
    if (A->rank < 1 || B->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "operands must have rank >= 1 (ranks are %d and %d)", A->rank, B->rank);
    int ra = A->rank, rb = B->rank;
    g->m = ra >= 2 ? A->dims[ra - 2] : 1;
    g->k = A->dims[ra - 1];
    int64_t kb = rb >= 2 ? B->dims[rb - 2] : B->dims[0];
    g->n = rb >= 2 ? B->dims[rb - 1] : 1;
    if (kb != g->k) {
        char b1[64], b2[64];
        return oc_kerr(c, ONNXC_E_INVALID, "shapes %s and %s: inner dims %lld and %lld differ",
                       oc_dims_str(A->dims, ra, b1, sizeof b1), oc_dims_str(B->dims, rb, b2, sizeof b2),
                       (long long)g->k, (long long)kb);
    }
    if (g->k > ((int64_t)1 << 40))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "inner dim %lld too large", (long long)g->k);
    g->kp = oc_qg_kp(g->k);
    int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    g->br = bra > brb ? bra : brb;
    for (int i = 0; i < g->br; i++) {
        int ja = i - (g->br - bra), jb = i - (g->br - brb);
        int64_t da = ja >= 0 ? A->dims[ja] : 1, db = jb >= 0 ? B->dims[jb] : 1;
        if (da != db && da != 1 && db != 1) {
            char b1[64], b2[64];
            return oc_kerr(c, ONNXC_E_INVALID, "batch dims of %s and %s do not broadcast",
                           oc_dims_str(A->dims, ra, b1, sizeof b1), oc_dims_str(B->dims, rb, b2, sizeof b2));
        }
        g->batch[i] = da == 1 ? db : da;
    }
    batch_strides(bra, A->dims, g->br, g->a_bs);
    batch_strides(brb, B->dims, g->br, g->b_bs);
    for (int i = 0; i < g->br; i++)
        g->out[g->out_rank++] = g->batch[i];
    if (ra >= 2)
        g->out[g->out_rank++] = g->m;
    if (rb >= 2)
        g->out[g->out_rank++] = g->n;
    if (!oc_numel(g->batch, g->br, &g->nb) || !oc_numel(A->dims, bra, &g->nb_a) || !oc_numel(B->dims, brb, &g->nb_b))
        return oc_kerr(c, ONNXC_E_INVALID, "batch size overflows");
    if (qlinear) {
        if ((st = oc_q_param(c, 1, 2, false, A->dtype, g->m, "a_scale", "a_zero_point", &g->as)) != ONNXC_OK ||
            (st = oc_q_param(c, 4, 5, false, B->dtype, g->n, "b_scale", "b_zero_point", &g->bs)) != ONNXC_OK ||
            (st = oc_q_param(c, 6, 7, false, 0, g->m, "y_scale", "y_zero_point", &g->ys)) != ONNXC_OK)
            return st;
        g->ydt = g->ys.zp_dtype;
    } else {
        if ((st = qmm_zp(c, 2, A, true, g->m, &g->azp)) != ONNXC_OK ||
            (st = qmm_zp(c, 3, B, false, g->n, &g->bzp)) != ONNXC_OK)
            return st;
        g->ydt = ONNXC_INT32;
    }
    /* columns per item: a B block of at most 256 KiB */
    int64_t nc = (256 * 1024 / 2) / g->kp / NR * NR;
    nc = nc < NR ? NR : nc > 512 ? 512 : nc;
    g->nc = nc;
    return ONNXC_OK;
}

static size_t qmm_slot_bytes(const qmm_geom *g)
{
    return align64((size_t)(g->kp * g->nc) * 2) + align64((size_t)(g->m * g->nc) * 4) + align64((size_t)g->nc * 4);
}

static onnxc_status qmm_infer(oc_kctx *c, bool qlinear)
{
    qmm_geom g;
    onnxc_status st = qmm_geometry(c, qlinear, &g);
    if (st != ONNXC_OK)
        return st;
    int slots = c->pool ? oc_pool_threads(c->pool) : 1;
    /* in double first: the products below may not fit int64 for absurd shapes */
    double need = (double)g.nb_a * (double)g.m * (double)g.kp * 2 + (double)g.m * 4 + 128 +
                  (double)slots * ((double)g.kp * (double)g.nc * 2 + (double)g.m * (double)g.nc * 4 +
                                   (double)g.nc * 4 + 192);
    if (need > 4e9)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "needs %.0f bytes of scratch", need);
    c->scratch_size = (size_t)need;
    if (!c->out[0])
        return ONNXC_OK;
    return oc_kset_shape(c, c->out[0], g.ydt, g.out_rank, g.out);
}

static onnxc_status mmi_infer(oc_kctx *c) { return qmm_infer(c, false); }
static onnxc_status qlmm_infer(oc_kctx *c) { return qmm_infer(c, true); }

typedef struct qmm_job {
    const qmm_geom *g;
    const oc_kctx *c;
    const int16_t *apack;
    uint8_t *slots;
    size_t slot_bytes;
    int64_t chunks;
} qmm_job;

static void qmm_item(void *arg, int64_t item, int slot)
{
    const qmm_job *j = arg;
    const qmm_geom *g = j->g;
    const oc_kctx *c = j->c;
    int64_t bo = item / j->chunks, n0 = (item % j->chunks) * g->nc;
    int64_t nc = g->n - n0 < g->nc ? g->n - n0 : g->nc;
    int64_t ncp = (nc + NR - 1) / NR * NR;
    /* the A and B matrices of output matrix bo */
    int64_t ia = 0, ib = 0, rem = bo;
    for (int d = g->br - 1; d >= 0; d--) {
        int64_t idx = rem % g->batch[d];
        rem /= g->batch[d];
        ia += idx * g->a_bs[d];
        ib += idx * g->b_bs[d];
    }
    uint8_t *sb = j->slots + (size_t)slot * j->slot_bytes;
    int16_t *bp = (int16_t *)sb;
    int32_t *cm = (int32_t *)(sb + align64((size_t)(g->kp * g->nc) * 2));
    int32_t *zpc = (int32_t *)((uint8_t *)cm + align64((size_t)(g->m * g->nc) * 4));
    const onnxc_tensor *B = c->in[g->ib];
    /* the column zero points of this block */
    const onnxc_tensor *bz = g->qlinear ? c->in[5] : g->bzp;
    int64_t bzn = bz ? onnxc_tensor_numel(bz) : 1;
    for (int64_t jn = 0; jn < nc; jn++)
        zpc[jn] = !bz ? 0 : oc_q_load(bz->dtype, bz->data, bzn == 1 ? 0 : bzn == g->n ? n0 + jn : ib * g->n + n0 + jn);
    const void *bsrc = (const uint8_t *)B->data + (size_t)(ib * g->k * g->n);
    pack_cols(B->dtype, (const uint8_t *)bsrc + n0, g->n, g->k, g->kp, nc, zpc, bp);
    oc_qgemm(j->apack + ia * g->m * g->kp, g->m, g->kp, bp, nc, cm, ncp);
    int64_t ybase = bo * g->m * g->n;
    if (!g->qlinear) {
        int32_t *y = (int32_t *)c->out[0]->data + ybase;
        for (int64_t i = 0; i < g->m; i++)
            memcpy(y + i * g->n + n0, cm + i * ncp, (size_t)nc * sizeof *y);
        return;
    }
    int32_t lo = oc_q_min(g->ydt), hi = oc_q_max(g->ydt);
    for (int64_t i = 0; i < g->m; i++) {
        float as = oc_q_scale(&g->as, i), ys = oc_q_scale(&g->ys, i);
        int32_t yzp = oc_q_zp(&g->ys, i);
        const int32_t *ci = cm + i * ncp;
        if (g->bs.n == 1) {
            float mult = as * g->bs.scale[0] / ys;
            if (g->ydt == ONNXC_UINT8) {
                uint8_t *y = (uint8_t *)c->out[0]->data + ybase + i * g->n + n0;
                for (int64_t jn = 0; jn < nc; jn++)
                    y[jn] = (uint8_t)oc_q_requant((float)ci[jn] * mult, yzp, lo, hi);
            } else {
                int8_t *y = (int8_t *)c->out[0]->data + ybase + i * g->n + n0;
                for (int64_t jn = 0; jn < nc; jn++)
                    y[jn] = (int8_t)oc_q_requant((float)ci[jn] * mult, yzp, lo, hi);
            }
        } else {
            for (int64_t jn = 0; jn < nc; jn++) {
                float mult = as * g->bs.scale[n0 + jn] / ys;
                int32_t q = oc_q_requant((float)ci[jn] * mult, yzp, lo, hi);
                if (g->ydt == ONNXC_UINT8)
                    ((uint8_t *)c->out[0]->data)[ybase + i * g->n + n0 + jn] = (uint8_t)q;
                else
                    ((int8_t *)c->out[0]->data)[ybase + i * g->n + n0 + jn] = (int8_t)q;
            }
        }
    }
}

static onnxc_status qmm_run(oc_kctx *c, bool qlinear)
{
    qmm_geom g;
    onnxc_status st = qmm_geometry(c, qlinear, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    const onnxc_tensor *A = c->in[g.ia];
    uint8_t *s = c->scratch;
    int16_t *apack = (int16_t *)s;
    s += align64((size_t)(g.nb_a * g.m * g.kp) * 2);
    int32_t *zpr = (int32_t *)s;
    s += align64((size_t)g.m * 4);
    const onnxc_tensor *az = qlinear ? c->in[2] : g.azp;
    int64_t azn = az ? onnxc_tensor_numel(az) : 1;
    for (int64_t b = 0; b < g.nb_a; b++) {
        for (int64_t i = 0; i < g.m; i++)
            zpr[i] = !az ? 0 : oc_q_load(az->dtype, az->data, azn == 1 ? 0 : azn == g.m ? i : b * g.m + i);
        pack_rows(A->dtype, (const uint8_t *)A->data + (size_t)(b * g.m * g.k), g.k, g.m, g.k, g.kp, zpr, 0,
                  apack + b * g.m * g.kp);
    }
    if (g.m == 0 || g.n == 0 || g.nb == 0)
        return ONNXC_OK;
    qmm_job j = {&g, c, apack, s, qmm_slot_bytes(&g), (g.n + g.nc - 1) / g.nc};
    oc_pool_run(c->pool, g.nb * j.chunks, qmm_item, &j);
    return ONNXC_OK;
}

static onnxc_status mmi_run(oc_kctx *c) { return qmm_run(c, false); }
static onnxc_status qlmm_run(oc_kctx *c) { return qmm_run(c, true); }

/* ---------------------------------------------------------------- ConvInteger / QLinearConv */

typedef struct qconv_plan {
    oc_window w;
    int64_t n, c_in, m, group, cg, mg, depth, kp, nc, chunks;
    int64_t mblocks, mrows;     /* output channels of a group cut into blocks of mrows (a multiple of 4) */
    int64_t pin[OC_WIN_DIMS];   /* padded input sizes (pad0 + in + pad1) */
    int64_t pvol;               /* their product: values per channel of the padded copy */
    bool qlinear;
    int ix, iw;                 /* inputs X and W */
    int32_t xdt, wdt, ydt;
    oc_qparam xs, ws, ys;       /* QLinearConv; for ConvInteger only the zero points (scale NULL) */
    const onnxc_tensor *xzp, *wzp, *bias;
    int16_t *wpack;             /* prepare's packing of a constant W (and zero point), or NULL */
} qconv_plan;

static onnxc_status qconv_zp(const oc_kctx *c, int i, int32_t dt, int64_t per_len, const char *name,
                             const onnxc_tensor **out)
{
    *out = i < c->n_in ? c->in[i] : NULL;
    const onnxc_tensor *z = *out;
    if (!z)
        return ONNXC_OK;
    if (z->dtype != dt)
        return oc_kerr(c, ONNXC_E_INVALID, "%s is %s; expected %s like its input", name, onnxc_dtype_name(z->dtype),
                       onnxc_dtype_name(dt));
    int64_t n = onnxc_tensor_numel(z);
    if (z->rank > 1 || (n != 1 && n != per_len)) {
        char b[64];
        return oc_kerr(c, ONNXC_E_INVALID, "%s of shape %s must be a scalar%s", name,
                       oc_dims_str(z->dims, z->rank, b, sizeof b), per_len > 1 ? " or one per output channel" : "");
    }
    return ONNXC_OK;
}

static onnxc_status qconv_make_plan(const oc_kctx *c, bool qlinear, qconv_plan *p)
{
    memset(p, 0, sizeof *p);
    p->qlinear = qlinear;
    p->ix = 0;
    p->iw = qlinear ? 3 : 1;
    onnxc_status st = qlinear ? need_inputs(c, 8, "x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, "
                                               "y_zero_point")
                              : need_inputs(c, 2, "x and w");
    if (st == ONNXC_OK)
        st = need8(c, p->ix, "x");
    if (st == ONNXC_OK)
        st = need8(c, p->iw, "w");
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *X = c->in[p->ix], *W = c->in[p->iw];
    p->xdt = X->dtype;
    p->wdt = W->dtype;
    if (X->rank < 3 || X->rank > 2 + OC_WIN_DIMS)
        return oc_kerr(c, ONNXC_E_INVALID, "input x has rank %d; expected N x C x 1 to 3 spatial dims", X->rank);
    if (W->rank != X->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "weight w has rank %d but x has rank %d", W->rank, X->rank);
    p->group = oc_attr_int(c->node, "group", 1);
    if (p->group < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "group = %lld; must be >= 1", (long long)p->group);
    p->n = X->dims[0];
    p->c_in = X->dims[1];
    p->m = W->dims[0];
    p->cg = W->dims[1];
    int64_t cin_w;
    if (!oc_mul_i64(p->cg, p->group, &cin_w) || cin_w != p->c_in)
        return oc_kerr(c, ONNXC_E_INVALID, "x has %lld channels but w expects %lld x group %lld", (long long)p->c_in,
                       (long long)p->cg, (long long)p->group);
    if (p->m % p->group != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "w has %lld output channels, not a multiple of group %lld",
                       (long long)p->m, (long long)p->group);
    p->mg = p->m / p->group;
    int nsp = X->rank - 2;
    st = oc_window_attrs(c, nsp, W->dims + 2, &p->w);
    if (st == ONNXC_OK)
        st = oc_window_forward(c, X->dims + 2, false, &p->w);
    if (st != ONNXC_OK)
        return st;
    if (!oc_mul_i64(p->cg, p->w.k_vol, &p->depth) || p->depth > ((int64_t)1 << 30))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "convolution depth too large");
    p->kp = oc_qg_kp(p->depth);
    p->pvol = 1;
    for (int i = 0; i < OC_WIN_DIMS; i++) {
        if (p->w.pad0[i] < 0 || p->w.pad1[i] < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "negative pads");
        p->pin[i] = p->w.pad0[i] + p->w.in[i] + p->w.pad1[i];
        if (!oc_mul_i64(p->pvol, p->pin[i], &p->pvol))
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "padded input too large");
    }
    if (qlinear) {
        if ((st = oc_q_param(c, 1, 2, false, p->xdt, -1, "x_scale", "x_zero_point", &p->xs)) != ONNXC_OK ||
            (st = oc_q_param(c, 4, 5, false, p->wdt, p->m, "w_scale", "w_zero_point", &p->ws)) != ONNXC_OK ||
            (st = oc_q_param(c, 6, 7, false, 0, -1, "y_scale", "y_zero_point", &p->ys)) != ONNXC_OK)
            return st;
        p->xzp = c->in[2];
        p->wzp = c->in[5];
        p->ydt = p->ys.zp_dtype;
        p->bias = c->n_in > 8 ? c->in[8] : NULL;
        if (p->bias && (p->bias->dtype != ONNXC_INT32 || p->bias->rank != 1 || p->bias->dims[0] != p->m))
            return oc_kerr(c, ONNXC_E_INVALID, "bias B must be int32 with one value per output channel (%lld)",
                           (long long)p->m);
    } else {
        if ((st = qconv_zp(c, 2, p->xdt, 1, "x_zero_point", &p->xzp)) != ONNXC_OK ||
            (st = qconv_zp(c, 3, p->wdt, p->m, "w_zero_point", &p->wzp)) != ONNXC_OK)
            return st;
        p->ydt = ONNXC_INT32;
    }
    int64_t nc = (256 * 1024 / 2) / p->kp / NR * NR;
    nc = nc < NR ? NR : nc > 256 ? 256 : nc;
    int64_t ov = p->w.out_vol;
    int64_t ovp = (ov + NR - 1) / NR * NR;
    p->nc = nc < ovp ? nc : ovp;
    p->chunks = ov ? (ov + p->nc - 1) / p->nc : 0;
    /* few column blocks (small outputs, layer 4 of a ResNet has one): also cut the output channels, so every
     * thread has work; each channel block builds its own B block, so only as many as needed */
    int slots = c->pool ? oc_pool_threads(c->pool) : 1;
    int64_t base, want = 2 * (int64_t)slots;
    if (!oc_mul_i64(p->n, p->group, &base) || !oc_mul_i64(base, p->chunks, &base))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "convolution too large");
    p->mblocks = 1;
    if (slots > 1 && base > 0 && base < want) {
        int64_t mb = (want + base - 1) / base, most = (p->mg + 15) / 16;
        p->mblocks = mb < most ? mb : most < 1 ? 1 : most;
    }
    p->mrows = (p->mg + p->mblocks - 1) / p->mblocks;
    p->mrows = (p->mrows + 3) / 4 * 4;
    p->mblocks = p->mrows ? (p->mg + p->mrows - 1) / p->mrows : 1;
    return ONNXC_OK;
}

static size_t qconv_slot_bytes(const qconv_plan *p)
{
    return 2 * align64((size_t)(p->kp * p->nc) * 2) + align64((size_t)(p->mg * p->nc) * 4);
}

static onnxc_status qconv_infer(oc_kctx *c, bool qlinear)
{
    qconv_plan p;
    onnxc_status st = qconv_make_plan(c, qlinear, &p);
    if (st != ONNXC_OK)
        return st;
    int slots = c->pool ? oc_pool_threads(c->pool) : 1;
    double need = (double)p.m * (double)p.kp * 2 + 64 + (double)p.n * (double)p.c_in * (double)p.pvol * 2 + 64 +
                  (double)slots * (2 * (double)p.kp * (double)p.nc * 2 + (double)p.mg * (double)p.nc * 4 + 192);
    if (need > 4e9)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "needs %.0f bytes of scratch", need);
    c->scratch_size = (size_t)need;
    if (!c->out[0])
        return ONNXC_OK;
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = p.n;
    dims[1] = p.m;
    for (int i = 0; i < p.w.nsp; i++)
        dims[2 + i] = p.w.out[OC_WIN_DIMS - p.w.nsp + i];
    return oc_kset_shape(c, c->out[0], p.ydt, 2 + p.w.nsp, dims);
}

static onnxc_status ci_infer(oc_kctx *c) { return qconv_infer(c, false); }
static onnxc_status qlc_infer(oc_kctx *c) { return qconv_infer(c, true); }

static void qconv_pack_w(const qconv_plan *p, const onnxc_tensor *W, const onnxc_tensor *wzp, int16_t *dst)
{
    int64_t zn = wzp ? onnxc_tensor_numel(wzp) : 0;
    for (int64_t o = 0; o < p->m; o++) {
        int32_t zp = wzp ? oc_q_load(wzp->dtype, wzp->data, zn == 1 ? 0 : o) : 0;
        pack_rows(p->wdt, (const uint8_t *)W->data + (size_t)(o * p->depth), p->depth, 1, p->depth, p->kp, NULL, zp,
                  dst + o * p->kp);
    }
}

static void qconv_release(void *state)
{
    qconv_plan *p = state;
    if (p) {
        free(p->wpack);
        free(p);
    }
}

static onnxc_status qconv_prepare(oc_kctx *c, bool qlinear)
{
    qconv_plan *p = calloc(1, sizeof *p);
    if (!p)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    onnxc_status st = qconv_make_plan(c, qlinear, p);
    if (st != ONNXC_OK) {
        free(p);
        return st;
    }
    int izp = qlinear ? 5 : 3;
    bool wconst = (c->const_inputs >> p->iw & 1u) && c->in[p->iw]->data;
    bool zconst = izp >= c->n_in || !c->in[izp] || ((c->const_inputs >> izp & 1u) && c->in[izp]->data);
    if (wconst && zconst) {
        p->wpack = malloc((size_t)(p->m * p->kp) * 2 + 1);
        if (!p->wpack) {
            free(p);
            return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for packed weights");
        }
        qconv_pack_w(p, c->in[p->iw], p->wzp, p->wpack);
    }
    c->state = p;
    return ONNXC_OK;
}

static onnxc_status ci_prepare(oc_kctx *c) { return qconv_prepare(c, false); }
static onnxc_status qlc_prepare(oc_kctx *c) { return qconv_prepare(c, true); }

typedef struct qconv_job {
    const qconv_plan *p;
    const oc_kctx *c;
    const int16_t *wpack;
    uint8_t *slots;
    size_t slot_bytes;
    int32_t xzp;
    int16_t *xpad;              /* the input minus its zero point, zero-padded: [n][c_in][pin...] */
} qconv_job;

/* Channels [lo, hi) (of all images) of the padded copy. */
static void qconv_pad_item(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const qconv_job *j = arg;
    const qconv_plan *p = j->p;
    const oc_window *w = &p->w;
    const void *x = j->c->in[p->ix]->data;
    for (int64_t ch = lo; ch < hi; ch++) {
        int16_t *d = j->xpad + ch * p->pvol;
        memset(d, 0, (size_t)p->pvol * sizeof *d);
        for (int64_t a = 0; a < w->in[0]; a++)
            for (int64_t b = 0; b < w->in[1]; b++) {
                int16_t *o = d + ((a + w->pad0[0]) * p->pin[1] + b + w->pad0[1]) * p->pin[2] + w->pad0[2];
                int64_t off = ch * w->in_vol + (a * w->in[1] + b) * w->in[2];
                if (p->xdt == ONNXC_UINT8) {
                    const uint8_t *src = (const uint8_t *)x + off;
                    for (int64_t t = 0; t < w->in[2]; t++)
                        o[t] = (int16_t)((int32_t)src[t] - j->xzp);
                } else {
                    const int8_t *src = (const int8_t *)x + off;
                    for (int64_t t = 0; t < w->in[2]; t++)
                        o[t] = (int16_t)((int32_t)src[t] - j->xzp);
                }
            }
    }
}

/* One im2col row: tap (k0, k1, k2) of padded channel plane xp at output positions [n0, n0 + nc). */
static void im2col_row(const qconv_plan *p, const int16_t *xp, int64_t k0, int64_t k1, int64_t k2, int64_t n0,
                       int64_t nc, int16_t *row)
{
    const oc_window *w = &p->w;
    int64_t o1 = w->out[1] * w->out[2], o2 = w->out[2];
    int64_t s = w->stride[2];
    int64_t pos = n0, end = n0 + nc;
    while (pos < end) {
        int64_t od = pos / o1, oh = pos / o2 % w->out[1], ow0 = pos % o2;
        int64_t run = o2 - ow0 < end - pos ? o2 - ow0 : end - pos; /* positions left in this output row */
        const int16_t *src = xp + ((od * w->stride[0] + k0 * w->dil[0]) * p->pin[1] + oh * w->stride[1] +
                                   k1 * w->dil[1]) * p->pin[2] + ow0 * s + k2 * w->dil[2];
        int16_t *r = row + (pos - n0);
        if (s == 1)
            memcpy(r, src, (size_t)run * sizeof *r);
        else
            for (int64_t t = 0; t < run; t++)
                r[t] = src[t * s];
        pos += run;
    }
}

/* im2col of output positions [n0, n0 + nc) of image n, group g into the panel layout: rows built plainly in
 * tmp (kp rows of ncp) from the padded copy, then interleaved by pairs. */
static void qconv_im2col(const qconv_job *j, int64_t n, int64_t g, int64_t n0, int64_t nc, int16_t *dst,
                         int16_t *tmp)
{
    const qconv_plan *p = j->p;
    const oc_window *w = &p->w;
    int64_t ncp = (nc + NR - 1) / NR * NR;
    for (int64_t k = 0; k < p->kp; k++) {
        int16_t *row = tmp + k * ncp;
        if (k >= p->depth) {
            memset(row, 0, (size_t)ncp * sizeof *row);
            continue;
        }
        int64_t ci = k / w->k_vol, r = k % w->k_vol;
        int64_t k0 = r / (w->k[1] * w->k[2]), k1 = r / w->k[2] % w->k[1], k2 = r % w->k[2];
        im2col_row(p, j->xpad + (n * p->c_in + g * p->cg + ci) * p->pvol, k0, k1, k2, n0, nc, row);
        for (int64_t t = nc; t < ncp; t++)
            row[t] = 0;
    }
    for (int64_t k = 0; k < p->kp; k += 2)
        interleave_pair(tmp + k * ncp, tmp + (k + 1) * ncp, ncp, p->kp, dst + (k / 2) * 2 * NR);
}

static void qconv_item(void *arg, int64_t item, int slot)
{
    const qconv_job *j = arg;
    const qconv_plan *p = j->p;
    const oc_kctx *c = j->c;
    int64_t mb = item % p->mblocks, rest = item / p->mblocks;
    int64_t chunk = rest % p->chunks, ng = rest / p->chunks, g = ng % p->group, n = ng / p->group;
    int64_t m0 = mb * p->mrows, rows = p->mg - m0 < p->mrows ? p->mg - m0 : p->mrows;
    int64_t n0 = chunk * p->nc, ov = p->w.out_vol;
    int64_t nc = ov - n0 < p->nc ? ov - n0 : p->nc;
    int64_t ncp = (nc + NR - 1) / NR * NR;
    uint8_t *sb = j->slots + (size_t)slot * j->slot_bytes;
    int16_t *bp = (int16_t *)sb;
    int16_t *tmp = (int16_t *)(sb + align64((size_t)(p->kp * p->nc) * 2));
    int32_t *cm = (int32_t *)(sb + 2 * align64((size_t)(p->kp * p->nc) * 2));
    qconv_im2col(j, n, g, n0, nc, bp, tmp);
    oc_qgemm(j->wpack + (g * p->mg + m0) * p->kp, rows, p->kp, bp, nc, cm, ncp);
    for (int64_t mm = 0; mm < rows; mm++) {
        int64_t oc = g * p->mg + m0 + mm;
        int64_t ybase = (n * p->m + oc) * ov + n0;
        const int32_t *ci = cm + mm * ncp;
        if (!p->qlinear) {
            memcpy((int32_t *)c->out[0]->data + ybase, ci, (size_t)nc * sizeof(int32_t));
            continue;
        }
        float mult = oc_q_scale(&p->xs, 0) * oc_q_scale(&p->ws, oc) / oc_q_scale(&p->ys, 0);
        uint32_t b = p->bias ? (uint32_t)((const int32_t *)p->bias->data)[oc] : 0u;
        int32_t yzp = oc_q_zp(&p->ys, 0), lo = oc_q_min(p->ydt), hi = oc_q_max(p->ydt);
        if (p->ydt == ONNXC_UINT8) {
            uint8_t *y = (uint8_t *)c->out[0]->data + ybase;
            for (int64_t t = 0; t < nc; t++)
                y[t] = (uint8_t)oc_q_requant((float)(int32_t)((uint32_t)ci[t] + b) * mult, yzp, lo, hi);
        } else {
            int8_t *y = (int8_t *)c->out[0]->data + ybase;
            for (int64_t t = 0; t < nc; t++)
                y[t] = (int8_t)oc_q_requant((float)(int32_t)((uint32_t)ci[t] + b) * mult, yzp, lo, hi);
        }
    }
}

static onnxc_status qconv_run(oc_kctx *c, bool qlinear)
{
    qconv_plan p;
    onnxc_status st = qconv_make_plan(c, qlinear, &p);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    const qconv_plan *pp = c->state;
    uint8_t *s = c->scratch;
    const int16_t *wpack = pp ? pp->wpack : NULL;
    if (!wpack) {
        qconv_pack_w(&p, c->in[p.iw], p.wzp, (int16_t *)s);
        wpack = (const int16_t *)s;
    }
    s += align64((size_t)(p.m * p.kp) * 2);
    if (p.n == 0 || p.m == 0 || p.chunks == 0)
        return ONNXC_OK;
    int16_t *xpad = (int16_t *)s;
    s += align64((size_t)(p.n * p.c_in * p.pvol) * 2);
    qconv_job j = {&p, c, wpack, s, qconv_slot_bytes(&p), p.xzp ? oc_q_load(p.xdt, p.xzp->data, 0) : 0, xpad};
    oc_par_for(c->pool, p.n * p.c_in, p.n * p.c_in * p.pvol, qconv_pad_item, &j);
    oc_pool_run(c->pool, p.n * p.group * p.chunks * p.mblocks, qconv_item, &j);
    return ONNXC_OK;
}

static onnxc_status ci_run(oc_kctx *c) { return qconv_run(c, false); }
static onnxc_status qlc_run(oc_kctx *c) { return qconv_run(c, true); }

const oc_kernel oc_kernels_qgemm[] = {
    {"MatMulInteger", NULL, 10, 0, 0, mmi_infer, NULL, mmi_run, NULL, 0},
    {"QLinearMatMul", NULL, 10, 20, 0, qlmm_infer, NULL, qlmm_run, NULL, 0},
    {"ConvInteger", NULL, 10, 0, 0, ci_infer, ci_prepare, ci_run, qconv_release, 0},
    {"QLinearConv", NULL, 10, 0, 0, qlc_infer, qlc_prepare, qlc_run, qconv_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
