/* Unit tests of the executor's fast paths: the thread pool (every item exactly once), the packed GEMM and its
 * micro-kernel tails, every Conv algorithm (pointwise, subsampled 1x1, implicit, gathered, Winograd, both
 * depthwise kernels, im2col for 3-D) with and without a fused residual and clamp, with constant and run-time
 * weights, on 1 and 3 threads, checked against naive double-precision loops written here; and sessions whose
 * plan fuses and aliases nodes, checked against PyTorch's outputs for the models in models/. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "kernels/linalg.h"
#include "kutil.h"
#include "session_internal.h"
#include "threadpool.h"

#include "kernel_case.h"

static uint32_t rng_state = 2024u;

static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_buf(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

/* |got - want| <= tol * (1 + |want|) everywhere */
static void expect_close(const float *got, const double *want, int64_t n, double tol, const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs((double)got[i] - want[i]) <= tol * (1.0 + fabs(want[i])))) {
            print_error("%s: element %lld: got %.9g, want %.9g\n", what, (long long)i, (double)got[i], want[i]);
            fail();
        }
    }
}

/* ---- thread pool ---- */

typedef struct count_job {
    _Atomic int *hits;
    _Atomic int bad_slot;
    int threads;
} count_job;

static void count_item(void *arg, int64_t item, int slot)
{
    count_job *j = arg;
    if (slot < 0 || slot >= j->threads)
        atomic_store(&j->bad_slot, 1);
    atomic_fetch_add(&j->hits[item], 1);
}

static void test_pool_items_once(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        oc_threadpool *p = NULL;
        assert_int_equal(oc_pool_create(threads, &p), ONNXC_OK);
        assert_int_equal(oc_pool_threads(p), threads);
        static const int64_t sizes[] = {0, 1, 2, 7, 64, 1000};
        for (int round = 0; round < 50; round++) {
            int64_t n = sizes[round % 6];
            _Atomic int *hits = calloc((size_t)n + 1, sizeof *hits);
            assert_non_null(hits);
            count_job j = {hits, 0, threads};
            oc_pool_run(p, n, count_item, &j);
            for (int64_t i = 0; i < n; i++)
                assert_int_equal(atomic_load(&hits[i]), 1);
            assert_int_equal(atomic_load(&j.bad_slot), 0);
            free(hits);
        }
        oc_pool_free(p);
    }
    /* a NULL pool runs on the caller */
    _Atomic int hits[3] = {0, 0, 0};
    count_job j = {hits, 0, 1};
    oc_pool_run(NULL, 3, count_item, &j);
    assert_int_equal(atomic_load(&hits[0]) + atomic_load(&hits[1]) + atomic_load(&hits[2]), 3);
}

/* ---- packed GEMM ---- */

typedef struct rows_src {
    const float *b;
    int64_t ldb;
} rows_src;

static void fill_rows(const void *ctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst, int64_t ldb)
{
    const rows_src *s = ctx;
    for (int64_t r = 0; r < kcb; r++) {
        memcpy(dst + r * ldb, s->b + (k0 + r) * s->ldb + n0, (size_t)nc * sizeof *dst);
        for (int64_t j = nc; j < (nc + OC_GEMM_NR - 1) / OC_GEMM_NR * OC_GEMM_NR; j++)
            dst[r * ldb + j] = 0.0f;
    }
}

/* C = A B + bias, + res, clamped, for shapes that exercise every tail (rows 1..5 of a panel, 1..15 columns,
 * depths across several blocks), through the block-filling driver and through offsets (koff). */
static void test_packed_gemm(void **state)
{
    (void)state;
    static const int64_t shapes[][3] = {{1, 1, 1},   {5, 3, 7},    {6, 16, 256}, {7, 17, 257},
                                        {13, 49, 300}, {64, 196, 40}, {16, 4, 600}, {11, 2, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = rand_buf(m * k), *b = rand_buf(k * n), *bias = rand_buf(m), *res = rand_buf(m * n);
        float *c = malloc((size_t)(m * n) * sizeof *c), *c2 = malloc((size_t)(m * (n + 16)) * sizeof *c2);
        double *want = malloc((size_t)(m * n) * sizeof *want);
        assert_true(c && c2 && want);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = bias[i];
                for (int64_t p = 0; p < k; p++)
                    acc += (double)a[i * k + p] * b[p * n + j];
                acc += res[i * n + j];
                want[i * n + j] = acc < -0.5 ? -0.5 : acc > 2.0 ? 2.0 : acc;
            }
        oc_packed_a pa;
        assert_int_equal(oc_pack_a(a, k, m, k, &pa), ONNXC_OK);
        float *work = aligned_alloc(64, (size_t)((oc_gemm_work_floats(&pa, n) + 16) * 4 + 64));
        assert_non_null(work);
        rows_src src = {b, n};
        oc_epilogue ep = {bias, res, n, true, -0.5f, 2.0f};
        oc_gemm_packed(&pa, 0, m, 0, n, fill_rows, &src, c, n, &ep, work);
        expect_close(c, want, m * n, 1e-5, "oc_gemm_packed");
        /* the same through B row offsets, a column of tiles at a time (rows split at 6 so that both halves
         * start on a panel), B padded to whole panels */
        const int64_t ldp = (n + 15) / 16 * 16 + 16;
        float *bp = calloc((size_t)(k * ldp), sizeof *bp);
        int64_t *koff = malloc((size_t)k * sizeof *koff);
        assert_true(bp && koff);
        for (int64_t p = 0; p < k; p++) {
            memcpy(bp + p * ldp, b + p * n, (size_t)n * sizeof *bp);
            koff[p] = p * ldp;
        }
        for (int64_t blk = 0; blk < pa.nkb; blk++) {
            const int64_t k0 = blk * pa.kc, kcb = k - k0 < pa.kc ? k - k0 : pa.kc;
            for (int64_t j0 = 0; j0 < n; j0 += OC_GEMM_NR) {
                const int cols = (int)(n - j0 < OC_GEMM_NR ? n - j0 : OC_GEMM_NR);
                const int64_t split = m < OC_GEMM_MR ? m : OC_GEMM_MR;
                const int64_t ranges[2][2] = {{0, split}, {split, m}};
                for (int h = 0; h < 2; h++)
                    oc_gemm_rows_koff(kcb, pa.data + k0 * pa.mp * OC_GEMM_MR, ranges[h][0], ranges[h][1], bp + j0,
                                      koff + k0, c2 + j0, n, cols, blk == 0, blk == pa.nkb - 1, bias, res + j0, n,
                                      true, -0.5f, 2.0f);
            }
        }
        expect_close(c2, want, m * n, 1e-5, "oc_gemm_rows_koff");
        oc_packed_a_free(&pa);
        free(bp);
        free(koff);
        free(work);
        free(a);
        free(b);
        free(bias);
        free(res);
        free(c);
        free(c2);
        free(want);
    }
}

/* ---- Conv through the kernel, as a session plans it ---- */

static const oc_kernel *conv_kernel(void)
{
    for (const oc_kernel *k = oc_kernels_conv; k->op_type; k++)
        if (strcmp(k->op_type, "Conv") == 0)
            return k;
    return NULL;
}

typedef struct conv_case {
    int64_t n, c, h, w, m, group, k, stride, pad, dil;
    bool depth3;      /* a 3-D convolution (depth 3, kernel depth 2) */
    bool res, clamp;  /* fused epilogue */
} conv_case;

/* Naive direct convolution in double (NCHW or NCDHW with depth dims d_in/kd), then + res, clamp to [0, 6]. */
static void ref_conv2(const conv_case *cc, int64_t d_in, int64_t kd, const float *x, const float *wt,
                      const float *b, const float *res, int64_t ho, int64_t wo, int64_t d_out, double *y)
{
    const int64_t cg = cc->c / cc->group, mg = cc->m / cc->group;
    for (int64_t n = 0; n < cc->n; n++)
        for (int64_t mo = 0; mo < cc->m; mo++)
            for (int64_t od = 0; od < d_out; od++)
                for (int64_t oh = 0; oh < ho; oh++)
                    for (int64_t ow = 0; ow < wo; ow++) {
                        double acc = b[mo];
                        const int64_t g = mo / mg;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t zd = 0; zd < kd; zd++)
                                for (int64_t kh = 0; kh < cc->k; kh++)
                                    for (int64_t kw = 0; kw < cc->k; kw++) {
                                        const int64_t id = od + zd;
                                        const int64_t ih = oh * cc->stride - cc->pad + kh * cc->dil;
                                        const int64_t iw = ow * cc->stride - cc->pad + kw * cc->dil;
                                        if (ih < 0 || ih >= cc->h || iw < 0 || iw >= cc->w)
                                            continue;
                                        acc += (double)x[(((n * cc->c + g * cg + ci) * d_in + id) * cc->h + ih) * cc->w +
                                                         iw] *
                                               wt[(((mo * cg + ci) * kd + zd) * cc->k + kh) * cc->k + kw];
                                    }
                        const int64_t at = (((n * cc->m + mo) * d_out + od) * ho + oh) * wo + ow;
                        if (res)
                            acc += res[at];
                        if (cc->clamp)
                            acc = acc < 0.0 ? 0.0 : acc > 6.0 ? 6.0 : acc;
                        y[at] = acc;
                    }
}

static void run_conv_case(const conv_case *cc, int threads, bool const_w)
{
    const oc_kernel *kern = conv_kernel();
    assert_non_null(kern);
    onnxc_model *model = oc_model_new();
    assert_non_null(model);
    oc_node *node = oc_graph_add_node(model->graph, "Conv", NULL, "conv");
    assert_non_null(node);
    const int64_t d_in = cc->depth3 ? 3 : 1, kd = cc->depth3 ? 2 : 1, d_out = d_in - kd + 1;
    const int64_t ks[3] = {kd, cc->k, cc->k}, st[3] = {1, cc->stride, cc->stride}, dl[3] = {1, cc->dil, cc->dil};
    const int64_t pads[6] = {0, cc->pad, cc->pad, 0, cc->pad, cc->pad};
    const int nsp = cc->depth3 ? 3 : 2, off = cc->depth3 ? 0 : 1;
    int64_t p2[4] = {cc->pad, cc->pad, cc->pad, cc->pad};
    assert_int_equal(oc_node_set_attr_ints(node, "kernel_shape", ks + off, (size_t)nsp), ONNXC_OK);
    assert_int_equal(oc_node_set_attr_ints(node, "strides", st + off, (size_t)nsp), ONNXC_OK);
    assert_int_equal(oc_node_set_attr_ints(node, "dilations", dl + off, (size_t)nsp), ONNXC_OK);
    assert_int_equal(oc_node_set_attr_ints(node, "pads", cc->depth3 ? pads : p2, (size_t)(2 * nsp)), ONNXC_OK);
    assert_int_equal(oc_node_set_attr_int(node, "group", cc->group), ONNXC_OK);
    const int64_t span = (cc->k - 1) * cc->dil + 1;
    const int64_t ho = (cc->h + 2 * cc->pad - span) / cc->stride + 1, wo = (cc->w + 2 * cc->pad - span) / cc->stride + 1;
    const int64_t cg = cc->c / cc->group;
    const int64_t nx = cc->n * cc->c * d_in * cc->h * cc->w, nw = cc->m * cg * kd * cc->k * cc->k;
    const int64_t ny = cc->n * cc->m * d_out * ho * wo;
    float *x = rand_buf(nx), *wt = rand_buf(nw), *b = rand_buf(cc->m), *res = cc->res ? rand_buf(ny) : NULL;
    double *want = malloc((size_t)ny * sizeof *want);
    assert_non_null(want);
    ref_conv2(cc, d_in, kd, x, wt, b, res, ho, wo, d_out, want);

    onnxc_tensor in_t[3], out_t, res_t;
    onnxc_tensor *in[3] = {&in_t[0], &in_t[1], &in_t[2]}, *out[1] = {&out_t};
    int64_t xd[5] = {cc->n, cc->c, d_in, cc->h, cc->w}, wd[5] = {cc->m, cg, kd, cc->k, cc->k}, bd[1] = {cc->m};
    if (!cc->depth3) {
        xd[2] = cc->h, xd[3] = cc->w;
        wd[2] = cc->k, wd[3] = cc->k;
    }
    kt_tensor(&in_t[0], ONNXC_FLOAT, 2 + nsp, xd, x);
    kt_tensor(&in_t[1], ONNXC_FLOAT, 2 + nsp, wd, wt);
    kt_tensor(&in_t[2], ONNXC_FLOAT, 1, bd, b);
    memset(&out_t, 0, sizeof out_t);
    oc_threadpool *pool = NULL;
    assert_int_equal(oc_pool_create(threads, &pool), ONNXC_OK);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = node;
    c.opset = 13;
    c.n_in = 3;
    c.in = in;
    c.n_out = 1;
    c.out = out;
    c.pool = pool;
    c.const_inputs = const_w ? 0x6u : 0u;
    assert_int_equal(kern->infer(&c), ONNXC_OK);
    assert_int_equal(onnxc_tensor_numel(&out_t), ny);
    out_t.nbytes = (size_t)ny * sizeof(float);
    out_t.data = malloc(out_t.nbytes);
    assert_non_null(out_t.data);
    memset(out_t.data, 0xff, out_t.nbytes); /* NaN: an output never written shows */
    assert_int_equal(kern->prepare(&c), ONNXC_OK);
    assert_true(c.accepts_epilogue);
    if (cc->res) {
        kt_tensor(&res_t, ONNXC_FLOAT, out_t.rank, out_t.dims, res);
        c.fuse_res = &res_t;
    }
    c.fuse_clamp = cc->clamp;
    c.fuse_lo = 0.0f;
    c.fuse_hi = 6.0f;
    void *scratch = c.scratch_size ? aligned_alloc(64, (c.scratch_size + 63) / 64 * 64) : NULL;
    if (c.scratch_size) {
        assert_non_null(scratch);
        memset(scratch, 0xff, c.scratch_size); /* NaN garbage must never reach an output */
    }
    c.scratch = scratch;
    /* twice: a second run reuses the plan (and, for run-time weights, packs them again) */
    for (int r = 0; r < 2; r++) {
        assert_int_equal(kern->run(&c), ONNXC_OK);
        char what[160];
        snprintf(what, sizeof what, "conv c%lld m%lld %lldx%lld k%lld s%lld p%lld d%lld g%lld%s t%d%s",
                 (long long)cc->c, (long long)cc->m, (long long)cc->h, (long long)cc->w, (long long)cc->k,
                 (long long)cc->stride, (long long)cc->pad, (long long)cc->dil, (long long)cc->group,
                 cc->depth3 ? " 3-D" : "", threads, const_w ? " const" : "");
        /* float rounding grows with the square root of the depth summed (Winograd's transforms add a constant
         * factor): the bound 2e-5 holds up to depth 512 and widens beyond */
        const double depth = (double)(cg * kd * cc->k * cc->k);
        expect_close(out_t.data, want, ny, 2e-5 * (depth > 512 ? sqrt(depth / 512) : 1.0), what);
    }
    kern->release(c.state);
    oc_pool_free(pool);
    free(scratch);
    free(out_t.data);
    free(x);
    free(wt);
    free(b);
    free(res);
    free(want);
    onnxc_model_free(model);
}

static void test_conv_paths(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        /* pointwise (1x1, stride 1): row and column tails, several depth blocks */
        {1, 300, 9, 11, 13, 1, 1, 1, 0, 1, false, true, true},
        {2, 16, 7, 7, 20, 1, 1, 1, 0, 1, false, false, false},
        /* 1x1 stride 2 without padding: the subsampled pointwise path */
        {1, 24, 14, 13, 30, 1, 1, 2, 0, 1, false, true, false},
        /* implicit GEMM over the padded copy: wide rows, strides 1 and 2, a dilation, a 7x7 kernel */
        {1, 3, 40, 37, 10, 1, 3, 2, 1, 1, false, false, true},
        {1, 8, 20, 35, 7, 1, 3, 1, 2, 2, false, true, true},
        {1, 3, 40, 40, 8, 1, 7, 2, 3, 1, false, false, false},
        /* 2-D through block-wise im2col: rows at least a tile wide and a padded copy above 256 KiB */
        {1, 40, 64, 64, 18, 1, 3, 2, 1, 1, false, true, true},
        /* the same at stride 2 on odd widths, unpadded, and a 5 x 5 kernel: the vector stride-2 gather's tails */
        {1, 32, 45, 51, 20, 1, 3, 2, 1, 1, false, true, true},
        {1, 32, 47, 51, 20, 1, 3, 2, 0, 1, false, false, true},
        {1, 32, 40, 45, 16, 1, 5, 2, 2, 1, false, true, false},
        /* gathered B for narrow outputs (< 16 wide), stride 2 and stride 1 below Winograd's size (49 outputs) */
        {1, 40, 14, 14, 33, 1, 3, 2, 1, 1, false, true, true},
        {2, 20, 6, 6, 17, 1, 3, 1, 1, 1, false, false, true},
        {1, 24, 8, 6, 20, 1, 3, 1, 0, 1, false, true, false},
        /* Winograd F(2x2, 3x3): odd sizes (partial tiles), several tile rows and channel blocks */
        {1, 16, 17, 19, 16, 1, 3, 1, 1, 1, false, true, true},
        {2, 32, 12, 30, 40, 1, 3, 1, 1, 1, false, false, false},
        {1, 20, 9, 9, 18, 1, 3, 1, 0, 1, false, true, false},
        /* rows at most 16 wide: whole-vector stores past a row end (tile rows split between items when threaded) */
        {1, 16, 14, 14, 16, 1, 3, 1, 1, 1, false, true, true},
        {2, 24, 11, 13, 20, 1, 3, 1, 1, 1, false, true, true},
        /* 7 x 7 planes (ResNet's last stage); at 3 threads the output channels split into more than 2 blocks, so
         * the input is transformed once into the buffer the items share: one image, a batch of 2 with 2 groups,
         * depths over several GEMM depth blocks, an 8 x 7 plane */
        {1, 20, 7, 7, 40, 1, 3, 1, 1, 1, false, true, true},
        {2, 32, 7, 7, 96, 2, 3, 1, 1, 1, false, true, false},
        {1, 288, 7, 7, 64, 1, 3, 1, 1, 1, false, false, true},
        {1, 17, 8, 7, 45, 1, 3, 1, 1, 1, false, true, true},
        /* grouped (not depthwise) and depthwise: narrow planes straight from the input, wide through the
         * padded copy; stride 2; a channel multiplier; a 5x5 kernel */
        {1, 32, 10, 12, 32, 2, 3, 1, 1, 1, false, true, true},
        {1, 8, 7, 7, 8, 8, 3, 1, 1, 1, false, true, true},
        {1, 8, 15, 15, 8, 8, 3, 2, 1, 1, false, false, true},
        {1, 8, 33, 40, 8, 8, 3, 1, 1, 1, false, true, false},
        {1, 6, 33, 41, 12, 6, 3, 2, 1, 1, false, false, true},
        {1, 4, 20, 24, 4, 4, 5, 1, 2, 1, false, true, true},
        /* depthwise rows narrower than a vector, or ending inside one: whole-vector stores spill into the next
         * row, which its own stores overwrite later, and only the plane's last stores are masked */
        {1, 5, 14, 14, 5, 5, 3, 1, 1, 1, false, true, true},
        {2, 3, 3, 3, 3, 3, 3, 1, 1, 1, false, true, true},
        {1, 3, 2, 5, 3, 3, 3, 1, 1, 1, false, false, true},
        {1, 4, 23, 9, 4, 4, 3, 2, 1, 1, false, true, true},
        {1, 3, 6, 26, 3, 3, 3, 1, 1, 1, false, true, true},
        /* 3-D: the im2col path, and depthwise by direct loops */
        {1, 5, 6, 7, 9, 1, 3, 1, 1, 1, true, true, true},
        {1, 4, 6, 7, 4, 4, 3, 1, 1, 1, true, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int threads = 1; threads <= 3; threads += 2)
            for (int cw = 0; cw < 2; cw++)
                run_conv_case(&cases[i], threads, cw != 0);
}

/* ---- sessions: fused and aliased plans against PyTorch (after onnxc's exact passes) ---- */

static double nmse(const onnxc_tensor *got, const onnxc_tensor *want)
{
    int64_t n = onnxc_tensor_numel(want);
    assert_int_equal(onnxc_tensor_numel(got), n);
    const float *g = got->data, *w = want->data;
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)g[i] - w[i]) * ((double)g[i] - w[i]);
        den += (double)w[i] * w[i];
    }
    return den > 0 ? num / den : num;
}

static void run_model(const char *name, const char *input_name, bool plain, int threads, int *fused, int *aliased)
{
    char path[512], in_path[512], out_path[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", ONNXC_SOURCE_DIR, name);
    snprintf(in_path, sizeof in_path, "%s/models/expected/%s/input_0.npy", ONNXC_SOURCE_DIR, name);
    snprintf(out_path, sizeof out_path, "%s/models/expected/%s/output_0.npy", ONNXC_SOURCE_DIR, name);
    onnxc_model *m = NULL;
    onnxc_tensor *x = NULL, *want = NULL;
    assert_int_equal(onnxc_model_load(path, &m), ONNXC_OK);
    /* fold the BatchNormalization nodes the export kept (exact passes), so Conv is followed by what the plan
     * can fuse */
    assert_int_equal(onnxc_optimize(m, NULL, NULL), ONNXC_OK);
    assert_int_equal(onnxc_tensor_read(in_path, &x, NULL), ONNXC_OK);
    assert_int_equal(onnxc_tensor_read(out_path, &want, NULL), ONNXC_OK);
    onnxc_session_options o = {threads};
    onnxc_session *s = NULL;
    assert_int_equal(onnxc_session_create(m, &o, &s), ONNXC_OK);
    oc_session_set_plain(s, plain);
    const char *names[1] = {input_name};
    const onnxc_tensor *ins[1] = {x};
    for (int r = 0; r < 2; r++) {
        assert_int_equal(onnxc_session_run(s, 1, names, ins), ONNXC_OK);
        double e = nmse(onnxc_session_output(s, 0), want);
        if (!(e <= 1e-10)) {
            print_error("%s (%s plan, %d threads): NMSE %g against PyTorch\n", name, plain ? "plain" : "fused",
                        threads, e);
            fail();
        }
    }
    *fused = *aliased = 0;
    for (int i = 0; i < s->n_order; i++) {
        *fused += s->nodes[i].fused;
        *aliased += s->nodes[i].aliased;
    }
    onnxc_session_free(s);
    onnxc_tensor_free(x);
    onnxc_tensor_free(want);
    onnxc_model_free(m);
}

static const char *model_input(const char *name)
{
    /* the input name author_models.py gave each model */
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", ONNXC_SOURCE_DIR, name);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(path, &m), ONNXC_OK);
    onnxc_io_info info;
    assert_int_equal(onnxc_model_input_info(m, 0, &info), ONNXC_OK);
    static char buf[256];
    snprintf(buf, sizeof buf, "%s", info.name);
    onnxc_model_free(m);
    return buf;
}

static void test_session_fusion(void **state)
{
    (void)state;
    /* resnet_like: Conv -> Add -> Relu chains and a Flatten; mobilenetv2_like: Conv -> Clip and residual Adds */
    static const char *models[] = {"resnet_like", "mobilenetv2_like", "detector_small"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char input[256];
        snprintf(input, sizeof input, "%s", model_input(models[i]));
        for (int threads = 1; threads <= 2; threads++) {
            int fused = 0, aliased = 0;
            run_model(models[i], input, false, threads, &fused, &aliased);
            assert_true(fused > 0); /* the plan did fuse: the outputs above come from fused epilogues */
            run_model(models[i], input, true, threads, &fused, &aliased);
            assert_int_equal(fused, 0);
            assert_int_equal(aliased, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_items_once),
        cmocka_unit_test(test_packed_gemm),
        cmocka_unit_test(test_conv_paths),
        cmocka_unit_test(test_session_fusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
