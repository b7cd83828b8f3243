/* Gemm (transA/transB, alpha, beta, C broadcast to [M, N]) and MatMul (numpy batching and 1-D promotion)
 * through cblas_sgemm / cblas_dgemm, or against weights packed at plan time (sgemm_packb.c) when B is a
 * constant float matrix; integer MatMul by plain loops with wrap-around arithmetic. Float products
 * take a fused epilogue (a bias Add, a residual Add, Relu/Clip or an activation, GELU included) applied to each
 * block of the output by the thread that computed it. */
#include <stdint.h>
#include <string.h>

#include "act.h"
#include "kutil.h"
#include "linalg.h"
#include "sgemm_packb.h"
#include "threadpool.h"

/* ---- the fused epilogue of a float product ---- */

typedef struct mm_epilogue {
    const oc_kctx *c;
    const float *y; /* out[0]'s first element: a block's offset from it is the residual's */
} mm_epilogue;

/* out[0] rows [r0, r1) x columns [c0, c1) of the C at cb: + fuse_bias[column], + fuse_res, then the clamp (as
 * Clip computes it: NaN passes) or the activation, each step the one IEEE operation the unfused node does. */
static void mm_epilogue_block(void *ctx, float *cb, int64_t ldc, int64_t r0, int64_t r1, int64_t c0, int64_t c1)
{
    const mm_epilogue *e = ctx;
    const oc_kctx *c = e->c;
    const float *bias = c->fuse_bias ? c->fuse_bias + c0 : NULL;
    const float *res = c->fuse_res ? c->fuse_res->data : NULL;
    const float lo = c->fuse_lo, hi = c->fuse_hi;
    const int64_t n = c1 - c0;
    for (int64_t r = r0; r < r1; r++) {
        float *yr = cb + r * ldc + c0;
        if (bias)
            for (int64_t i = 0; i < n; i++)
                yr[i] = yr[i] + bias[i];
        if (res) {
            const float *rr = res + (yr - e->y);
            for (int64_t i = 0; i < n; i++)
                yr[i] = yr[i] + rr[i];
        }
        if (c->fuse_clamp)
            for (int64_t i = 0; i < n; i++)
                yr[i] = yr[i] < lo ? lo : yr[i] > hi ? hi : yr[i];
        else if (c->fuse_act != OC_ACT_NONE)
            oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, c->fuse_slope ? c->fuse_slope[0] : 0.0f, yr, n);
    }
}

static bool mm_has_epilogue(const oc_kctx *c)
{
    return c->fuse_bias || c->fuse_res || c->fuse_clamp || c->fuse_act != OC_ACT_NONE;
}


/* ---- Gemm ---- */

typedef struct gemm_geom {
    int64_t m, n, k;
    int64_t c0, c1; /* C's shape as [c0, c1] (1 where broadcast) */
    bool ta, tb, has_c;
    float alpha, beta;
} gemm_geom;

static onnxc_status gemm_geometry(const oc_kctx *c, gemm_geom *g)
{
    memset(g, 0, sizeof *g);
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs inputs A and B");
    const onnxc_tensor *A = c->in[0], *B = c->in[1], *C = c->n_in > 2 ? c->in[2] : NULL;
    if (A->dtype != ONNXC_FLOAT && A->dtype != ONNXC_DOUBLE)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input A is %s; float and double are supported",
                       onnxc_dtype_name(A->dtype));
    if (B->dtype != A->dtype || (C && C->dtype != A->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "B%s must have the type of A (%s)", C ? " and C" : "",
                       onnxc_dtype_name(A->dtype));
    if (A->rank != 2 || B->rank != 2)
        return oc_kerr(c, ONNXC_E_INVALID, "A and B must be matrices (ranks are %d and %d)", A->rank, B->rank);
    g->ta = oc_attr_int(c->node, "transA", 0) != 0;
    g->tb = oc_attr_int(c->node, "transB", 0) != 0;
    g->alpha = oc_attr_float(c->node, "alpha", 1.0f);
    g->beta = oc_attr_float(c->node, "beta", 1.0f);
    g->m = g->ta ? A->dims[1] : A->dims[0];
    g->k = g->ta ? A->dims[0] : A->dims[1];
    int64_t kb = g->tb ? B->dims[1] : B->dims[0];
    g->n = g->tb ? B->dims[0] : B->dims[1];
    if (kb != g->k)
        return oc_kerr(c, ONNXC_E_INVALID, "inner dims differ: A gives %lld (transA=%d), B gives %lld (transB=%d)",
                       (long long)g->k, g->ta, (long long)kb, g->tb);
    g->has_c = C != NULL;
    g->c0 = g->c1 = 1;
    if (C) {
        /* Gemm-7+: C is unidirectionally broadcast to [M, N] */
        if (C->rank > 2)
            return oc_kerr(c, ONNXC_E_INVALID, "C has rank %d; at most 2", C->rank);
        g->c0 = C->rank == 2 ? C->dims[0] : 1;
        g->c1 = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        if ((g->c0 != 1 && g->c0 != g->m) || (g->c1 != 1 && g->c1 != g->n)) {
            char buf[64];
            return oc_kerr(c, ONNXC_E_INVALID, "C of shape %s does not broadcast to [%lld, %lld]",
                           oc_dims_str(C->dims, C->rank, buf, sizeof buf), (long long)g->m, (long long)g->n);
        }
    }
    if (!oc_blas_fits(g->m) || !oc_blas_fits(g->n) || !oc_blas_fits(g->k) || !oc_blas_fits(A->dims[1]) ||
        !oc_blas_fits(B->dims[1]))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "matrices too large for BLAS int sizes");
    return ONNXC_OK;
}

/* What prepare keeps: op(B) packed once when B is a float matrix constant for the plan (sgemm_packb.h). */
typedef struct mm_state {
    oc_packed_b b;
} mm_state;

static void mm_release(void *state)
{
    mm_state *st = state;
    if (!st)
        return;
    oc_packed_b_free(&st->b);
    oc_free(st);
}

/* Pack op(B) (k x n; B is n x k when trans) into c->state. */
static onnxc_status mm_pack_b(oc_kctx *c, bool trans, int64_t k, int64_t n)
{
    mm_state *st = oc_calloc(1, sizeof *st);
    if (!st)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the packed weights");
    const onnxc_tensor *B = c->in[1];
    onnxc_status r = oc_pack_b(B->data, B->dims[1], trans, k, n, &st->b);
    if (r != ONNXC_OK) {
        mm_release(st);
        return oc_kerr(c, r, "%s", onnxc_last_error());
    }
    c->state = st;
    return ONNXC_OK;
}

/* A float product accepts the planner's epilogue (a PRelu slope only when it is one number: see plan_fuse.c). A
 * constant float matrix B is packed for oc_sgemm_packb: Gemm's when alpha is 1 and A is not transposed, MatMul's
 * when B is one matrix (A's batches then stack into rows); not for one row of A (a classifier head at batch 1:
 * a matrix-vector product that streams B once, where BLAS's sgemv measured as fast or faster). */
static onnxc_status mm_prepare(oc_kctx *c)
{
    if (!c->in[0] || c->in[0]->dtype != ONNXC_FLOAT || !c->out[0])
        return ONNXC_OK;
    c->accepts_epilogue = true;
    /* a 1-D B drops the column axis from the output: its last dim is then not the product's columns */
    c->accepts_bias = c->in[1] && c->in[1]->rank >= 2;
    const onnxc_tensor *B = c->in[1];
    if (!oc_packb_available() || !(c->const_inputs & 2u) || !B || !B->data || B->rank != 2 || c->state)
        return ONNXC_OK;
    if (strcmp(c->node->op_type, "Gemm") == 0) {
        gemm_geom g;
        if (gemm_geometry(c, &g) != ONNXC_OK || g.ta || g.alpha != 1.0f || g.m < 2)
            return ONNXC_OK;
        return mm_pack_b(c, g.tb, g.k, g.n);
    }
    const onnxc_tensor *A = c->in[0];
    int64_t rows = 1;
    for (int i = 0; i + 1 < A->rank; i++)
        rows *= A->dims[i];
    if (rows < 2)
        return ONNXC_OK;
    return mm_pack_b(c, false, B->dims[0], B->dims[1]);
}

static onnxc_status gemm_infer(oc_kctx *c)
{
    gemm_geom g;
    onnxc_status st = gemm_geometry(c, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    int64_t dims[2] = {g.m, g.n};
    return oc_set_shape(c->out[0], c->in[0]->dtype, 2, dims);
}

static onnxc_status gemm_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    gemm_geom g;
    onnxc_status st = gemm_geometry(c, &g);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *A = c->in[0], *B = c->in[1], *C = g.has_c ? c->in[2] : NULL;
    bool use_c = C && g.beta != 0.0f;
    const int64_t cs0 = g.c0 == 1 ? 0 : g.c1, cs1 = g.c1 == 1 ? 0 : 1;
    if (A->dtype == ONNXC_FLOAT) {
        float *y = c->out[0]->data;
        if (use_c) {
            const float *cv = C->data;
            for (int64_t i = 0; i < g.m; i++)
                for (int64_t j = 0; j < g.n; j++)
                    y[i * g.n + j] = cv[i * cs0 + j * cs1];
        }
        mm_epilogue ep = {c, y};
        const mm_state *ms = c->state;
        if (ms) {
            /* beta C is in y first when it counts; the products are added to it */
            if (use_c && g.beta != 1.0f)
                for (int64_t i = 0; i < g.m * g.n; i++)
                    y[i] = g.beta * y[i];
            oc_sgemm_packb(c->pool, g.m, A->data, A->dims[1], &ms->b, y, g.n, use_c,
                           mm_has_epilogue(c) ? mm_epilogue_block : NULL, &ep);
            return ONNXC_OK;
        }
        oc_sgemm_pool_ep(c->pool, g.ta, g.tb, g.m, g.n, g.k, g.alpha, A->data, A->dims[1], B->data, B->dims[1],
                         use_c ? g.beta : 0.0f, y, g.n, mm_has_epilogue(c) ? mm_epilogue_block : NULL, &ep);
    } else {
        double *y = c->out[0]->data;
        if (use_c) {
            const double *cv = C->data;
            for (int64_t i = 0; i < g.m; i++)
                for (int64_t j = 0; j < g.n; j++)
                    y[i * g.n + j] = cv[i * cs0 + j * cs1];
        }
        oc_dgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, A->data, A->dims[1], B->data, B->dims[1],
                 use_c ? (double)g.beta : 0.0, y, g.n);
    }
    return ONNXC_OK;
}

/* ---- MatMul ---- */

typedef struct matmul_geom {
    int64_t m, n, k;
    int br;                            /* output batch rank */
    int64_t batch[ONNXC_MAX_RANK];     /* output batch dims */
    int64_t a_bs[ONNXC_MAX_RANK];      /* A's batch strides in matrices, 0 where broadcast */
    int64_t b_bs[ONNXC_MAX_RANK];
    int64_t nb, nb_b;                  /* output batch count, B's batch count */
    int out_rank;
    int64_t out[ONNXC_MAX_RANK];
} matmul_geom;

static bool matmul_dtype_ok(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_INT32 || dt == ONNXC_INT64 ||
           dt == ONNXC_UINT32 || dt == ONNXC_UINT64;
}

/* Batch strides (in matrices) of an operand whose batch dims are bd[0..r) against the output batch. */
static void matmul_batch_strides(int r, const int64_t *bd, int br, int64_t *bs)
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

static onnxc_status matmul_geometry(const oc_kctx *c, matmul_geom *g)
{
    memset(g, 0, sizeof *g);
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs inputs A and B");
    const onnxc_tensor *A = c->in[0], *B = c->in[1];
    if (!matmul_dtype_ok(A->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input A is %s; float, double and 32/64-bit integers are supported",
                       onnxc_dtype_name(A->dtype));
    if (B->dtype != A->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "A is %s but B is %s", onnxc_dtype_name(A->dtype),
                       onnxc_dtype_name(B->dtype));
    if (A->rank < 1 || B->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "operands must have rank >= 1 (ranks are %d and %d)", A->rank, B->rank);
    int ra = A->rank, rb = B->rank;
    /* numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; the added dim is removed from the result */
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
    int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    g->br = bra > brb ? bra : brb;
    for (int i = 0; i < g->br; i++) {
        int ia = i - (g->br - bra), ib = i - (g->br - brb);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char b1[64], b2[64];
            return oc_kerr(c, ONNXC_E_INVALID, "batch dims of %s and %s do not broadcast",
                           oc_dims_str(A->dims, ra, b1, sizeof b1), oc_dims_str(B->dims, rb, b2, sizeof b2));
        }
        g->batch[i] = da == 1 ? db : da;
    }
    matmul_batch_strides(bra, A->dims, g->br, g->a_bs);
    matmul_batch_strides(brb, B->dims, g->br, g->b_bs);
    g->out_rank = 0;
    for (int i = 0; i < g->br; i++)
        g->out[g->out_rank++] = g->batch[i];
    if (ra >= 2)
        g->out[g->out_rank++] = g->m;
    if (rb >= 2)
        g->out[g->out_rank++] = g->n;
    if (!oc_numel(g->batch, g->br, &g->nb) || !oc_numel(B->dims, brb, &g->nb_b))
        return oc_kerr(c, ONNXC_E_INVALID, "batch size overflows");
    int64_t rows;
    if (!oc_mul_i64(g->nb, g->m, &rows) || !oc_blas_fits(rows) || !oc_blas_fits(g->n) || !oc_blas_fits(g->k))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "matrices too large for BLAS int sizes");
    return ONNXC_OK;
}

static onnxc_status matmul_infer(oc_kctx *c)
{
    matmul_geom g;
    onnxc_status st = matmul_geometry(c, &g);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return oc_set_shape(c->out[0], c->in[0]->dtype, g.out_rank, g.out);
}

/* Integer product with wrap-around (unsigned) arithmetic, as numpy and ONNX Runtime compute it. */
#define DEFINE_MATMUL_INT(NAME, T)                                                                  \
    static void NAME(const T *a, const T *b, T *y, int64_t m, int64_t n, int64_t k)                 \
    {                                                                                               \
        for (int64_t i = 0; i < m; i++)                                                             \
            for (int64_t j = 0; j < n; j++) {                                                       \
                uint64_t acc = 0;                                                                   \
                for (int64_t p = 0; p < k; p++)                                                     \
                    acc += (uint64_t)a[i * k + p] * (uint64_t)b[p * n + j];                         \
                y[i * n + j] = (T)acc;                                                              \
            }                                                                                       \
    }
DEFINE_MATMUL_INT(matmul_i32, int32_t)
DEFINE_MATMUL_INT(matmul_i64, int64_t)
DEFINE_MATMUL_INT(matmul_u32, uint32_t)
DEFINE_MATMUL_INT(matmul_u64, uint64_t)

/* One [m, k] x [k, n] product; offsets are in elements. ep: a float product's fused epilogue, or NULL. */
static void matmul_one(oc_threadpool *pool, int32_t dt, const void *a, const void *b, void *y, int64_t m, int64_t n,
                       int64_t k, mm_epilogue *ep)
{
    switch (dt) {
    case ONNXC_FLOAT:
        oc_sgemm_pool_ep(pool, false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, y, n, ep ? mm_epilogue_block : NULL,
                         ep);
        break;
    case ONNXC_DOUBLE:
        oc_dgemm(false, false, m, n, k, 1.0, a, k, b, n, 0.0, y, n);
        break;
    case ONNXC_INT32:
        matmul_i32(a, b, y, m, n, k);
        break;
    case ONNXC_INT64:
        matmul_i64(a, b, y, m, n, k);
        break;
    case ONNXC_UINT32:
        matmul_u32(a, b, y, m, n, k);
        break;
    default:
        matmul_u64(a, b, y, m, n, k);
        break;
    }
}

static onnxc_status matmul_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    matmul_geom g;
    onnxc_status st = matmul_geometry(c, &g);
    if (st != ONNXC_OK)
        return st;
    const int32_t dt = c->in[0]->dtype;
    const size_t es = onnxc_dtype_size(dt);
    const char *a = c->in[0]->data, *b = c->in[1]->data;
    char *y = c->out[0]->data;
    const int64_t a_mat = g.m * g.k, b_mat = g.k * g.n, y_mat = g.m * g.n;
    mm_epilogue epv = {c, (const float *)y}, *ep = dt == ONNXC_FLOAT && mm_has_epilogue(c) ? &epv : NULL;
    if (g.nb_b == 1) {
        /* B is one matrix shared by every batch: A's batches stacked are one [nb * m, k] operand, and the
         * output rows follow in the same order */
        const mm_state *ms = c->state;
        if (ms && dt == ONNXC_FLOAT)
            oc_sgemm_packb(c->pool, g.nb * g.m, (const float *)(const void *)a, g.k, &ms->b, (float *)(void *)y, g.n, false, ep ? mm_epilogue_block : NULL,
                           ep);
        else
            matmul_one(c->pool, dt, a, b, y, g.nb * g.m, g.n, g.k, ep);
        return ONNXC_OK;
    }
    int64_t idx[ONNXC_MAX_RANK] = {0};
    int64_t ao = 0, bo = 0;
    for (int64_t t = 0; t < g.nb; t++) {
        matmul_one(c->pool, dt, a + (size_t)(ao * a_mat) * es, b + (size_t)(bo * b_mat) * es, y + (size_t)(t * y_mat) * es,
                   g.m, g.n, g.k, ep);
        /* advance the batch index like an odometer, keeping the operand offsets in step */
        for (int i = g.br - 1; i >= 0; i--) {
            idx[i]++;
            ao += g.a_bs[i];
            bo += g.b_bs[i];
            if (idx[i] < g.batch[i])
                break;
            ao -= g.a_bs[i] * idx[i];
            bo -= g.b_bs[i] * idx[i];
            idx[i] = 0;
        }
    }
    return ONNXC_OK;
}

const oc_kernel oc_kernels_gemm[] = {
    /* Gemm-1..6 had a 'broadcast' flag; broadcasting C always is the superset Gemm-7 made the rule */
    {"Gemm", NULL, 1, 0, 0, gemm_infer, mm_prepare, gemm_run, mm_release, 0},
    {"MatMul", NULL, 1, 0, 0, matmul_infer, mm_prepare, matmul_run, mm_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
