/* Unit tests of the Conv, ConvTranspose, Gemm, MatMul and pooling kernels: tiny hand-computed cases, and
 * random cases checked against naive direct loops written here independently of im2col/col2im and BLAS. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "kutil.h"
#include "threadpool.h"

#include "kernel_case.h"

/* ---- harness: one node, run through infer / prepare / run / release like the session does ---- */

typedef struct kcase {
    onnxc_model *model;
    oc_node *node;
    int n_in, n_out;
    onnxc_tensor in_t[4];
    onnxc_tensor *in[4];
    onnxc_tensor out_t[2];
    onnxc_tensor *out[2];
} kcase;

static const oc_kernel *find_kernel(const char *op)
{
    const oc_kernel *tables[] = {oc_kernels_conv, oc_kernels_gemm, oc_kernels_pool};
    for (size_t t = 0; t < 3; t++)
        for (const oc_kernel *k = tables[t]; k->op_type; k++)
            if (strcmp(k->op_type, op) == 0)
                return k;
    return NULL;
}

static void kc_init(kcase *kc, const char *op)
{
    memset(kc, 0, sizeof *kc);
    kc->model = oc_model_new();
    assert_non_null(kc->model);
    kc->node = oc_graph_add_node(kc->model->graph, op, NULL, "n0");
    assert_non_null(kc->node);
    kc->n_out = 1;
}

static void kc_free(kcase *kc)
{
    for (int i = 0; i < 2; i++)
        free(kc->out_t[i].data);
    onnxc_model_free(kc->model);
}

/* Input slot i: dtype, dims, data (not copied; NULL data leaves the input omitted). */
static void kc_input(kcase *kc, int i, int32_t dtype, int rank, const int64_t *dims, const void *data)
{
    onnxc_tensor *t = &kc->in_t[i];
    kt_tensor(t, dtype, rank, dims, data);
    kc->in[i] = data ? t : NULL;
    if (i + 1 > kc->n_in)
        kc->n_in = i + 1;
}

static void kc_ints(kcase *kc, const char *name, int n, const int64_t *v)
{
    assert_int_equal(oc_node_set_attr_ints(kc->node, name, v, (size_t)n), ONNXC_OK);
}

static void kc_int(kcase *kc, const char *name, int64_t v)
{
    assert_int_equal(oc_node_set_attr_int(kc->node, name, v), ONNXC_OK);
}

static onnxc_status kc_run(kcase *kc)
{
    const oc_kernel *k = find_kernel(kc->node->op_type);
    assert_non_null(k);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = kc->node;
    c.opset = 17;
    c.n_in = kc->n_in;
    c.in = kc->in;
    c.n_out = kc->n_out;
    for (int i = 0; i < kc->n_out; i++) {
        kc->out[i] = &kc->out_t[i];
        memset(kc->out[i], 0, sizeof *kc->out[i]);
    }
    c.out = kc->out;
    /* a real pool, as a session's */
    oc_threadpool *pool = NULL;
    assert_int_equal(oc_pool_create(3, &pool), ONNXC_OK);
    c.pool = pool;
    onnxc_status st = k->infer(&c);
    if (st != ONNXC_OK) {
        oc_pool_free(pool);
        return st;
    }
    for (int i = 0; i < kc->n_out; i++) {
        onnxc_tensor *t = kc->out[i];
        int64_t n = onnxc_tensor_numel(t);
        t->nbytes = (size_t)n * onnxc_dtype_size(t->dtype);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        assert_non_null(t->data);
        memset(t->data, 0xff, t->nbytes); /* NaN for floats: unwritten outputs show */
    }
    if (k->prepare) {
        st = k->prepare(&c);
        if (st != ONNXC_OK) {
            oc_pool_free(pool);
            return st;
        }
    }
    void *scratch = NULL;
    if (c.scratch_size) {
        scratch = aligned_alloc(64, (c.scratch_size + 63) / 64 * 64);
        assert_non_null(scratch);
        memset(scratch, 0xff, c.scratch_size);
    }
    c.scratch = scratch;
    st = k->run(&c);
    free(scratch);
    if (c.state && k->release)
        k->release(c.state);
    oc_pool_free(pool);
    return st;
}

static void expect_dims(const onnxc_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

static void expect_f32(const onnxc_tensor *t, const float *want, int64_t n, double tol)
{
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    assert_int_equal(onnxc_tensor_numel(t), n);
    const float *y = t->data;
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs((double)y[i] - (double)want[i]) <= tol * (1.0 + fabs((double)want[i])))) {
            print_error("element %lld: got %g, want %g\n", (long long)i, (double)y[i], (double)want[i]);
            fail();
        }
    }
}

static uint32_t rng_state = 12345u;

static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_buf(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

/* ---- naive references (direct loops over every output and tap) ---- */

/* Shapes normalised to 3 spatial dims by leading 1s, as plain arrays. */
typedef struct geo {
    int nsp;
    int64_t in[3], out[3], k[3], s[3], d[3], p0[3];
} geo;

static geo geo_make(int nsp, const int64_t *in, const int64_t *k, const int64_t *s, const int64_t *d,
                    const int64_t *p0, const int64_t *out)
{
    geo g;
    g.nsp = nsp;
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp);
        g.in[i] = j >= 0 ? in[j] : 1;
        g.out[i] = j >= 0 ? out[j] : 1;
        g.k[i] = j >= 0 ? k[j] : 1;
        g.s[i] = j >= 0 ? s[j] : 1;
        g.d[i] = j >= 0 ? d[j] : 1;
        g.p0[i] = j >= 0 ? p0[j] : 0;
    }
    return g;
}

static int64_t vol3(const int64_t *v)
{
    return v[0] * v[1] * v[2];
}

static void ref_conv(const geo *g, int64_t n, int64_t cin, int64_t m, int64_t group, const float *x, const float *w,
                     const float *b, float *y)
{
    int64_t cg = cin / group, mg = m / group, iv = vol3(g->in), ov = vol3(g->out), kv = vol3(g->k);
    for (int64_t b0 = 0; b0 < n; b0++)
        for (int64_t oc = 0; oc < m; oc++)
            for (int64_t o0 = 0; o0 < g->out[0]; o0++)
                for (int64_t o1 = 0; o1 < g->out[1]; o1++)
                    for (int64_t o2 = 0; o2 < g->out[2]; o2++) {
                        double acc = b ? b[oc] : 0.0;
                        int64_t grp = oc / mg;
                        for (int64_t ic = 0; ic < cg; ic++)
                            for (int64_t k0 = 0; k0 < g->k[0]; k0++)
                                for (int64_t k1 = 0; k1 < g->k[1]; k1++)
                                    for (int64_t k2 = 0; k2 < g->k[2]; k2++) {
                                        int64_t i0 = o0 * g->s[0] - g->p0[0] + k0 * g->d[0];
                                        int64_t i1 = o1 * g->s[1] - g->p0[1] + k1 * g->d[1];
                                        int64_t i2 = o2 * g->s[2] - g->p0[2] + k2 * g->d[2];
                                        if (i0 < 0 || i0 >= g->in[0] || i1 < 0 || i1 >= g->in[1] || i2 < 0 ||
                                            i2 >= g->in[2])
                                            continue;
                                        double xv = x[(b0 * cin + grp * cg + ic) * iv +
                                                      (i0 * g->in[1] + i1) * g->in[2] + i2];
                                        double wv = w[(oc * cg + ic) * kv + (k0 * g->k[1] + k1) * g->k[2] + k2];
                                        acc += xv * wv;
                                    }
                        y[(b0 * m + oc) * ov + (o0 * g->out[1] + o1) * g->out[2] + o2] = (float)acc;
                    }
}

/* ConvTranspose by scattering every input value through every tap. */
static void ref_convt(const geo *g, int64_t n, int64_t cin, int64_t m, int64_t group, const float *x,
                      const float *w, const float *b, float *y)
{
    int64_t cg = cin / group, mg = m / group, iv = vol3(g->in), ov = vol3(g->out), kv = vol3(g->k);
    double *acc = calloc((size_t)(n * m * ov), sizeof *acc);
    assert_non_null(acc);
    for (int64_t b0 = 0; b0 < n; b0++)
        for (int64_t ic = 0; ic < cin; ic++)
            for (int64_t i0 = 0; i0 < g->in[0]; i0++)
                for (int64_t i1 = 0; i1 < g->in[1]; i1++)
                    for (int64_t i2 = 0; i2 < g->in[2]; i2++) {
                        double xv = x[(b0 * cin + ic) * iv + (i0 * g->in[1] + i1) * g->in[2] + i2];
                        int64_t grp = ic / cg;
                        for (int64_t om = 0; om < mg; om++)
                            for (int64_t k0 = 0; k0 < g->k[0]; k0++)
                                for (int64_t k1 = 0; k1 < g->k[1]; k1++)
                                    for (int64_t k2 = 0; k2 < g->k[2]; k2++) {
                                        int64_t o0 = i0 * g->s[0] - g->p0[0] + k0 * g->d[0];
                                        int64_t o1 = i1 * g->s[1] - g->p0[1] + k1 * g->d[1];
                                        int64_t o2 = i2 * g->s[2] - g->p0[2] + k2 * g->d[2];
                                        if (o0 < 0 || o0 >= g->out[0] || o1 < 0 || o1 >= g->out[1] || o2 < 0 ||
                                            o2 >= g->out[2])
                                            continue;
                                        double wv = w[(ic * mg + om) * kv + (k0 * g->k[1] + k1) * g->k[2] + k2];
                                        acc[(b0 * m + grp * mg + om) * ov + (o0 * g->out[1] + o1) * g->out[2] + o2] +=
                                            xv * wv;
                                    }
                    }
    for (int64_t b0 = 0; b0 < n; b0++)
        for (int64_t oc = 0; oc < m; oc++)
            for (int64_t i = 0; i < ov; i++)
                y[(b0 * m + oc) * ov + i] = (float)(acc[(b0 * m + oc) * ov + i] + (b ? b[oc] : 0.0));
    free(acc);
}

/* Max / average over windows; average divides by in-bounds taps (or taps inside the padded extent p1). */
static void ref_pool(const geo *g, const int64_t *p1, int64_t planes, const float *x, float *y, int64_t *ind,
                     int avg, int include_pad)
{
    int64_t iv = vol3(g->in), ov = vol3(g->out);
    int64_t pe[3];
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - g->nsp);
        pe[i] = j >= 0 ? p1[j] : 0;
    }
    for (int64_t p = 0; p < planes; p++)
        for (int64_t o0 = 0; o0 < g->out[0]; o0++)
            for (int64_t o1 = 0; o1 < g->out[1]; o1++)
                for (int64_t o2 = 0; o2 < g->out[2]; o2++) {
                    double best = -INFINITY, sum = 0;
                    int64_t bi = -1, cnt = 0, cnt_pad = 0;
                    for (int64_t k0 = 0; k0 < g->k[0]; k0++)
                        for (int64_t k1 = 0; k1 < g->k[1]; k1++)
                            for (int64_t k2 = 0; k2 < g->k[2]; k2++) {
                                int64_t i0 = o0 * g->s[0] - g->p0[0] + k0 * g->d[0];
                                int64_t i1 = o1 * g->s[1] - g->p0[1] + k1 * g->d[1];
                                int64_t i2 = o2 * g->s[2] - g->p0[2] + k2 * g->d[2];
                                if (i0 < g->in[0] + pe[0] && i1 < g->in[1] + pe[1] && i2 < g->in[2] + pe[2])
                                    cnt_pad++;
                                if (i0 < 0 || i0 >= g->in[0] || i1 < 0 || i1 >= g->in[1] || i2 < 0 ||
                                    i2 >= g->in[2])
                                    continue;
                                int64_t at = (i0 * g->in[1] + i1) * g->in[2] + i2;
                                double v = x[p * iv + at];
                                cnt++;
                                sum += v;
                                if (v > best) {
                                    best = v;
                                    bi = at;
                                }
                            }
                    int64_t oi = p * ov + (o0 * g->out[1] + o1) * g->out[2] + o2;
                    if (avg)
                        y[oi] = (float)(sum / (double)(include_pad ? cnt_pad : cnt));
                    else
                        y[oi] = (float)best;
                    if (ind)
                        ind[oi] = p * iv + bi;
                }
}

/* ---- Conv: hand-computed ---- */

static void test_conv_hand(void **state)
{
    (void)state;
    /* x = 1..9 (3x3), 2x2 kernel of ones, no padding: sums of 2x2 blocks */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1};
    int64_t dx[] = {1, 1, 3, 3}, dw[] = {1, 1, 2, 2};
    kcase kc;
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw, w);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    int64_t dy[] = {1, 1, 2, 2};
    expect_dims(kc.out[0], 4, dy);
    float want[] = {12, 16, 24, 28};
    expect_f32(kc.out[0], want, 4, 1e-6);
    kc_free(&kc);

    /* ones 3x3, 3x3 ones kernel, pads 1, bias 0.5: counts of in-bounds taps + 0.5 */
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, bias[1] = {0.5f};
    int64_t dw3[] = {1, 1, 3, 3}, db[] = {1}, pads[] = {1, 1, 1, 1};
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, ones);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw3, ones);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, db, bias);
    kc_ints(&kc, "pads", 4, pads);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    int64_t dy3[] = {1, 1, 3, 3};
    expect_dims(kc.out[0], 4, dy3);
    float want3[] = {4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f};
    expect_f32(kc.out[0], want3, 9, 1e-6);
    kc_free(&kc);
}

/* SAME padding of 1 with a 2-tap kernel: SAME_UPPER pads at the end, SAME_LOWER at the start. */
static void test_conv_auto_pad(void **state)
{
    (void)state;
    float x[4] = {1, 2, 3, 4}, w[2] = {1, 1};
    int64_t dx[] = {1, 1, 4}, dw[] = {1, 1, 2}, dy[] = {1, 1, 4};
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER"};
    float want[2][4] = {{3, 5, 7, 4}, {1, 3, 5, 7}};
    for (int i = 0; i < 2; i++) {
        kcase kc;
        kc_init(&kc, "Conv");
        kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
        kc_input(&kc, 1, ONNXC_FLOAT, 3, dw, w);
        kt_string(kc.node, "auto_pad", modes[i]);
        assert_int_equal(kc_run(&kc), ONNXC_OK);
        expect_dims(kc.out[0], 3, dy);
        expect_f32(kc.out[0], want[i], 4, 1e-6);
        kc_free(&kc);
    }
    /* VALID with stride 2 on 5 values, kernel 2: floor((5-2)/2)+1 = 2 outputs */
    float x5[5] = {1, 2, 3, 4, 5};
    int64_t dx5[] = {1, 1, 5}, s2[] = {2}, dy2[] = {1, 1, 2};
    kcase kc;
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx5, x5);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw, w);
    kt_string(kc.node, "auto_pad", "VALID");
    kc_ints(&kc, "strides", 1, s2);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 3, dy2);
    float want5[] = {3, 7};
    expect_f32(kc.out[0], want5, 2, 1e-6);
    kc_free(&kc);
}

/* ---- Conv: random cases against the direct loops ---- */

typedef struct conv_cfg {
    int nsp;
    int64_t n, cin, m, group;
    int64_t in[3], k[3], s[3], d[3], p0[3], p1[3];
    int bias;
} conv_cfg;

static void check_conv(const conv_cfg *cf)
{
    int64_t out[3];
    for (int i = 0; i < cf->nsp; i++)
        out[i] = (cf->in[i] + cf->p0[i] + cf->p1[i] - ((cf->k[i] - 1) * cf->d[i] + 1)) / cf->s[i] + 1;
    int64_t dx[5] = {cf->n, cf->cin}, dw[5] = {cf->m, cf->cin / cf->group}, dy[5] = {cf->n, cf->m}, db[1] = {cf->m};
    int64_t nx = cf->n * cf->cin, nw = cf->m * (cf->cin / cf->group), ny = cf->n * cf->m;
    for (int i = 0; i < cf->nsp; i++) {
        dx[2 + i] = cf->in[i];
        dw[2 + i] = cf->k[i];
        dy[2 + i] = out[i];
        nx *= cf->in[i];
        nw *= cf->k[i];
        ny *= out[i];
    }
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf(cf->m), *want = rand_buf(ny);
    int64_t pads[6];
    for (int i = 0; i < cf->nsp; i++) {
        pads[i] = cf->p0[i];
        pads[cf->nsp + i] = cf->p1[i];
    }
    kcase kc;
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 2 + cf->nsp, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 2 + cf->nsp, dw, w);
    if (cf->bias)
        kc_input(&kc, 2, ONNXC_FLOAT, 1, db, b);
    kc_ints(&kc, "strides", cf->nsp, cf->s);
    kc_ints(&kc, "dilations", cf->nsp, cf->d);
    kc_ints(&kc, "pads", 2 * cf->nsp, pads);
    kc_ints(&kc, "kernel_shape", cf->nsp, cf->k);
    kc_int(&kc, "group", cf->group);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 2 + cf->nsp, dy);
    geo g = geo_make(cf->nsp, cf->in, cf->k, cf->s, cf->d, cf->p0, out);
    ref_conv(&g, cf->n, cf->cin, cf->m, cf->group, x, w, cf->bias ? b : NULL, want);
    expect_f32(kc.out[0], want, ny, 1e-4);
    kc_free(&kc);
    free(x);
    free(w);
    free(b);
    free(want);
}

static void test_conv_random(void **state)
{
    (void)state;
    const conv_cfg cases[] = {
        /* 2-D, groups, asymmetric pads, stride and dilation differing per axis */
        {2, 2, 4, 6, 2, {7, 6}, {3, 2}, {2, 1}, {1, 2}, {1, 0}, {2, 1}, 1},
        /* 1-D with stride and dilation */
        {1, 1, 3, 2, 1, {10}, {3}, {2}, {2}, {2}, {1}, 0},
        /* 3-D */
        {3, 1, 2, 3, 1, {4, 5, 3}, {2, 3, 2}, {1, 2, 1}, {1, 1, 1}, {1, 0, 1}, {0, 1, 1}, 1},
        /* depthwise, stride 1 and 2, and a channel multiplier of 2 */
        {2, 2, 5, 5, 5, {6, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1},
        {2, 1, 5, 5, 5, {9, 8}, {3, 3}, {2, 2}, {1, 2}, {1, 2}, {0, 1}, 0},
        {2, 1, 3, 6, 3, {5, 6}, {2, 3}, {1, 2}, {2, 1}, {0, 1}, {1, 1}, 1},
        /* pointwise (GEMM on the input itself) and 1x1 with stride 2 (needs im2col) */
        {2, 2, 8, 4, 1, {5, 5}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1},
        {2, 1, 8, 4, 1, {5, 5}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, 0},
        /* a single input channel with group 1 takes the GEMM path */
        {2, 1, 1, 4, 1, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_conv(&cases[i]);
}

static void test_conv_errors(void **state)
{
    (void)state;
    float buf[64] = {0};
    int64_t dx[] = {1, 4, 3, 3}, dw_bad_c[] = {2, 3, 2, 2}, dw_rank[] = {2, 4, 2}, dw[] = {3, 2, 2, 2}, db[] = {5};
    kcase kc;

    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw_bad_c, buf);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "n0"));
    assert_non_null(strstr(onnxc_last_error(), "channels"));
    kc_free(&kc);

    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw_rank, buf);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "rank"));
    kc_free(&kc);

    /* group 2: C_in = 2 * 2 matches, but 3 output channels do not split into 2 groups */
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw, buf);
    kc_int(&kc, "group", 2);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "group"));
    kc_free(&kc);

    int64_t dw4[] = {4, 4, 2, 2};
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw4, buf);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, db, buf);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "bias"));
    kc_free(&kc);

    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw4, buf);
    kt_string(kc.node, "auto_pad", "SAME");
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "auto_pad"));
    kc_free(&kc);

    /* kernel larger than the input, and a kernel_shape that disagrees with W */
    int64_t dw_big[] = {4, 4, 4, 4}, ks[] = {3, 3};
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw_big, buf);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    kc_free(&kc);
    kc_init(&kc, "Conv");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, buf);
    kc_input(&kc, 1, ONNXC_FLOAT, 4, dw4, buf);
    kc_ints(&kc, "kernel_shape", 2, ks);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "kernel_shape"));
    kc_free(&kc);
}

/* ---- ConvTranspose ---- */

static void test_convt_hand(void **state)
{
    (void)state;
    /* x = [1, 2], w = [1, 1, 1], stride 2: x0 covers 0..2, x1 covers 2..4 */
    float x[2] = {1, 2}, w[3] = {1, 1, 1};
    int64_t dx[] = {1, 1, 2}, dw[] = {1, 1, 3}, s[] = {2}, dy[] = {1, 1, 5};
    kcase kc;
    kc_init(&kc, "ConvTranspose");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw, w);
    kc_ints(&kc, "strides", 1, s);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 3, dy);
    float want[] = {1, 1, 3, 2, 2};
    expect_f32(kc.out[0], want, 5, 1e-6);
    kc_free(&kc);

    /* output_shape 4 (full length 5): total padding 1; without auto_pad it goes to the start */
    int64_t os[] = {4}, dy4[] = {1, 1, 4};
    kc_init(&kc, "ConvTranspose");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw, w);
    kc_ints(&kc, "strides", 1, s);
    kc_ints(&kc, "output_shape", 1, os);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 3, dy4);
    float want4[] = {1, 3, 2, 2};
    expect_f32(kc.out[0], want4, 4, 1e-6);
    kc_free(&kc);

    /* SAME_UPPER: output = in * stride = 4, the odd padding unit at the end */
    kc_init(&kc, "ConvTranspose");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw, w);
    kc_ints(&kc, "strides", 1, s);
    kt_string(kc.node, "auto_pad", "SAME_UPPER");
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 3, dy4);
    float want_u[] = {1, 1, 3, 2};
    expect_f32(kc.out[0], want_u, 4, 1e-6);
    kc_free(&kc);

    /* W's first dim must be C_in */
    int64_t dw_bad[] = {2, 1, 3};
    kc_init(&kc, "ConvTranspose");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dw_bad, w);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "n0"));
    kc_free(&kc);
}

typedef struct convt_cfg {
    int nsp;
    int64_t n, cin, m, group;
    int64_t in[3], k[3], s[3], d[3], p0[3], p1[3], op[3];
    int bias;
} convt_cfg;

static void check_convt(const convt_cfg *cf)
{
    int64_t out[3];
    for (int i = 0; i < cf->nsp; i++)
        out[i] = cf->s[i] * (cf->in[i] - 1) + cf->op[i] + (cf->k[i] - 1) * cf->d[i] + 1 - cf->p0[i] - cf->p1[i];
    int64_t mg = cf->m / cf->group;
    int64_t dx[5] = {cf->n, cf->cin}, dw[5] = {cf->cin, mg}, dy[5] = {cf->n, cf->m}, db[1] = {cf->m};
    int64_t nx = cf->n * cf->cin, nw = cf->cin * mg, ny = cf->n * cf->m;
    for (int i = 0; i < cf->nsp; i++) {
        dx[2 + i] = cf->in[i];
        dw[2 + i] = cf->k[i];
        dy[2 + i] = out[i];
        nx *= cf->in[i];
        nw *= cf->k[i];
        ny *= out[i];
    }
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf(cf->m), *want = rand_buf(ny);
    int64_t pads[6];
    for (int i = 0; i < cf->nsp; i++) {
        pads[i] = cf->p0[i];
        pads[cf->nsp + i] = cf->p1[i];
    }
    kcase kc;
    kc_init(&kc, "ConvTranspose");
    kc_input(&kc, 0, ONNXC_FLOAT, 2 + cf->nsp, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 2 + cf->nsp, dw, w);
    if (cf->bias)
        kc_input(&kc, 2, ONNXC_FLOAT, 1, db, b);
    kc_ints(&kc, "strides", cf->nsp, cf->s);
    kc_ints(&kc, "dilations", cf->nsp, cf->d);
    kc_ints(&kc, "pads", 2 * cf->nsp, pads);
    kc_ints(&kc, "output_padding", cf->nsp, cf->op);
    kc_int(&kc, "group", cf->group);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 2 + cf->nsp, dy);
    geo g = geo_make(cf->nsp, cf->in, cf->k, cf->s, cf->d, cf->p0, out);
    ref_convt(&g, cf->n, cf->cin, cf->m, cf->group, x, w, cf->bias ? b : NULL, want);
    expect_f32(kc.out[0], want, ny, 1e-4);
    kc_free(&kc);
    free(x);
    free(w);
    free(b);
    free(want);
}

static void test_convt_random(void **state)
{
    (void)state;
    const convt_cfg cases[] = {
        {2, 2, 4, 6, 2, {3, 4}, {3, 2}, {2, 3}, {1, 2}, {1, 0}, {0, 1}, {1, 0}, 1},
        {1, 1, 3, 2, 1, {5}, {4}, {3}, {1}, {1}, {2}, {2}, 0},
        {3, 1, 2, 2, 1, {2, 3, 2}, {2, 2, 3}, {2, 1, 2}, {1, 2, 1}, {0, 1, 1}, {1, 0, 0}, {1, 0, 0}, 1},
        /* depthwise-style transposed conv */
        {2, 1, 3, 3, 3, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1},
        /* 1x1, stride 1 */
        {2, 2, 3, 5, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {0, 0}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_convt(&cases[i]);
}

/* ---- Gemm and MatMul ---- */

static void test_gemm(void **state)
{
    (void)state;
    /* A = [[1,2],[3,4],[5,6]] (3x2) used as A^T = [[1,3,5],[2,4,6]]; B = [[1,0,0],[1,1,1]] (2x3) used as B^T */
    float a[6] = {1, 2, 3, 4, 5, 6};
    float b[6] = {1, 0, 0, 1, 1, 1};
    float cvec[2] = {10, 20};
    int64_t da[] = {3, 2}, db[] = {2, 3}, dc[] = {2};
    kcase kc;
    kc_init(&kc, "Gemm");
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 2, db, b);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dc, cvec);
    kc_int(&kc, "transA", 1);
    kc_int(&kc, "transB", 1);
    assert_int_equal(oc_node_set_attr_float(kc.node, "alpha", 2.0f), ONNXC_OK);
    assert_int_equal(oc_node_set_attr_float(kc.node, "beta", 0.5f), ONNXC_OK);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    /* A^T (2x3) x B^T (3x2) with B^T = [[1,1],[0,1],[0,1]]: [[1, 1+3+5],[2, 2+4+6]] = [[1,9],[2,12]];
     * times 2 plus 0.5 * [10, 20] on each row */
    int64_t dy[] = {2, 2};
    expect_dims(kc.out[0], 2, dy);
    float want[] = {7, 28, 9, 34};
    expect_f32(kc.out[0], want, 4, 1e-6);
    kc_free(&kc);

    /* C of shape [3, 1] does not broadcast to [2, 2] */
    int64_t dc_bad[] = {3, 1};
    kc_init(&kc, "Gemm");
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 2, db, b);
    kc_input(&kc, 2, ONNXC_FLOAT, 2, dc_bad, a);
    kc_int(&kc, "transA", 1);
    kc_int(&kc, "transB", 1);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "broadcast"));
    kc_free(&kc);

    /* inner dims disagree */
    kc_init(&kc, "Gemm");
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 2, da, b);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    kc_free(&kc);
}

static void naive_matmul(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)a[i * k + p] * b[p * n + j];
            y[i * n + j] = (float)acc;
        }
}

static void test_matmul(void **state)
{
    (void)state;
    /* 1-D x 1-D: a dot product, rank 0 */
    float v[3] = {1, 2, 3}, u[3] = {4, 5, 6};
    int64_t d3[] = {3};
    kcase kc;
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d3, v);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, d3, u);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->rank, 0);
    float dot[] = {32};
    expect_f32(kc.out[0], dot, 1, 1e-6);
    kc_free(&kc);

    /* [2,1,3,4] x [5,4,2] -> [2,5,3,2]: A broadcast over B's batch of 5, B over A's 2 */
    int64_t da[] = {2, 1, 3, 4}, db[] = {5, 4, 2}, dy[] = {2, 5, 3, 2};
    float *a = rand_buf(24), *b = rand_buf(40), want[60];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 5; j++)
            naive_matmul(a + i * 12, b + j * 8, want + (i * 5 + j) * 6, 3, 2, 4);
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, db, b);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 4, dy);
    expect_f32(kc.out[0], want, 60, 1e-5);
    kc_free(&kc);

    /* [2,3,4] x [4] -> [2,3]: a 1-D B is a column, removed from the result */
    int64_t da3[] = {2, 3, 4}, db1[] = {4}, dy2[] = {2, 3};
    float want2[6];
    naive_matmul(a, b, want2, 6, 1, 4);
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, da3, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, db1, b);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 2, dy2);
    expect_f32(kc.out[0], want2, 6, 1e-5);
    kc_free(&kc);

    /* [4] x [2,4,3] -> [2,3] */
    int64_t db3[] = {2, 4, 3};
    float want3[6];
    naive_matmul(a, b, want3, 1, 3, 4);
    naive_matmul(a, b + 12, want3 + 3, 1, 3, 4);
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_FLOAT, 1, db1, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, db3, b);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 2, dy2);
    expect_f32(kc.out[0], want3, 6, 1e-5);
    kc_free(&kc);

    /* int64, hand-computed: [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]] */
    int64_t ia[] = {1, 2, 3, 4}, ib[] = {5, 6, 7, 8}, d22[] = {2, 2};
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_INT64, 2, d22, ia);
    kc_input(&kc, 1, ONNXC_INT64, 2, d22, ib);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    const int64_t *iy = kc.out[0]->data;
    assert_int_equal(iy[0], 19);
    assert_int_equal(iy[1], 22);
    assert_int_equal(iy[2], 43);
    assert_int_equal(iy[3], 50);
    kc_free(&kc);

    /* batch dims 2 and 3 do not broadcast */
    int64_t dbad[] = {3, 4, 2};
    kc_init(&kc, "MatMul");
    kc_input(&kc, 0, ONNXC_FLOAT, 3, da3, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dbad, b);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "n0"));
    kc_free(&kc);
    free(a);
    free(b);
}

/* ---- pooling ---- */

static void test_pool_hand(void **state)
{
    (void)state;
    /* 4x4 of 1..16, kernel 3, stride 2, ceil_mode: 2x2 windows, the last ones clipped */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    int64_t dx[] = {1, 1, 4, 4}, k3[] = {3, 3}, s2[] = {2, 2}, dy[] = {1, 1, 2, 2};
    kcase kc;
    kc_init(&kc, "MaxPool");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    kc_ints(&kc, "kernel_shape", 2, k3);
    kc_ints(&kc, "strides", 2, s2);
    kc_int(&kc, "ceil_mode", 1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 4, dy);
    float want_max[] = {11, 12, 15, 16};
    expect_f32(kc.out[0], want_max, 4, 0);
    kc_free(&kc);

    kc_init(&kc, "AveragePool");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    kc_ints(&kc, "kernel_shape", 2, k3);
    kc_ints(&kc, "strides", 2, s2);
    kc_int(&kc, "ceil_mode", 1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 4, dy);
    /* means of {1,2,3,5,6,7,9,10,11}, {3,4,7,8,11,12}, {9,10,11,13,14,15}, {11,12,15,16} */
    float want_avg[] = {6, 7.5f, 12, 13.5f};
    expect_f32(kc.out[0], want_avg, 4, 1e-6);
    kc_free(&kc);

    /* a 2x2 of ones, kernel 2, pads 1: with count_include_pad corners see 1 of 4 */
    float ones[4] = {1, 1, 1, 1};
    int64_t d2[] = {1, 1, 2, 2}, k2[] = {2, 2}, p1[] = {1, 1, 1, 1}, d33[] = {1, 1, 3, 3};
    for (int inc = 0; inc < 2; inc++) {
        kc_init(&kc, "AveragePool");
        kc_input(&kc, 0, ONNXC_FLOAT, 4, d2, ones);
        kc_ints(&kc, "kernel_shape", 2, k2);
        kc_ints(&kc, "pads", 4, p1);
        kc_int(&kc, "count_include_pad", inc);
        assert_int_equal(kc_run(&kc), ONNXC_OK);
        expect_dims(kc.out[0], 4, d33);
        float want_inc[] = {0.25f, 0.5f, 0.25f, 0.5f, 1, 0.5f, 0.25f, 0.5f, 0.25f};
        float want_exc[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        expect_f32(kc.out[0], inc ? want_inc : want_exc, 9, 1e-6);
        kc_free(&kc);
    }

    /* MaxPool Indices: 2 planes of 3x3 (N=1, C=2), kernel 2, stride 1; row-major and column-major */
    float xi[18] = {1, 9, 2, 3, 4, 5, 8, 6, 7, /* plane 1 */ 0, 0, 0, 0, 5, 0, 0, 0, 0};
    int64_t dxi[] = {1, 2, 3, 3};
    for (int order = 0; order < 2; order++) {
        kc_init(&kc, "MaxPool");
        kc.n_out = 2;
        kc_input(&kc, 0, ONNXC_FLOAT, 4, dxi, xi);
        kc_ints(&kc, "kernel_shape", 2, k2);
        kc_int(&kc, "storage_order", order);
        assert_int_equal(kc_run(&kc), ONNXC_OK);
        float want_v[] = {9, 9, 8, 7, 5, 5, 5, 5};
        expect_f32(kc.out[0], want_v, 8, 0);
        assert_int_equal(kc.out[1]->dtype, ONNXC_INT64);
        const int64_t *ind = kc.out[1]->data;
        /* (h, w) of the maxima: (0,1) (0,1) (2,0) (2,2); plane 1: (1,1) everywhere; ties keep the first */
        int64_t rm[] = {1, 1, 6, 8, 13, 13, 13, 13};
        int64_t cm[] = {3, 3, 2, 8, 13, 13, 13, 13};
        for (int i = 0; i < 8; i++)
            assert_int_equal(ind[i], order ? cm[i] : rm[i]);
        kc_free(&kc);
    }

    /* uint8 max pool */
    uint8_t xu[4] = {3, 200, 7, 1};
    int64_t d1[] = {1, 1, 4}, k1[] = {2}, dy1[] = {1, 1, 3};
    kc_init(&kc, "MaxPool");
    kc_input(&kc, 0, ONNXC_UINT8, 3, d1, xu);
    kc_ints(&kc, "kernel_shape", 1, k1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 3, dy1);
    const uint8_t *yu = kc.out[0]->data;
    assert_int_equal(yu[0], 200);
    assert_int_equal(yu[1], 200);
    assert_int_equal(yu[2], 7);
    kc_free(&kc);

    /* kernel_shape is required */
    kc_init(&kc, "MaxPool");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    assert_int_equal(kc_run(&kc), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "kernel_shape"));
    kc_free(&kc);
}

typedef struct pool_cfg {
    int nsp;
    int64_t planes;
    int64_t in[3], k[3], s[3], d[3], p0[3], p1[3];
    int ceil_mode;
} pool_cfg;

static void check_pool(const pool_cfg *cf, const char *op, int include_pad)
{
    int64_t out[3];
    for (int i = 0; i < cf->nsp; i++) {
        int64_t span = (cf->k[i] - 1) * cf->d[i] + 1, avail = cf->in[i] + cf->p0[i] + cf->p1[i] - span;
        out[i] = cf->ceil_mode ? (avail + cf->s[i] - 1) / cf->s[i] + 1 : avail / cf->s[i] + 1;
        if (cf->ceil_mode && (out[i] - 1) * cf->s[i] >= cf->in[i] + cf->p0[i])
            out[i]--;
    }
    int64_t dx[5] = {1, cf->planes}, dy[5] = {1, cf->planes}, nx = cf->planes, ny = cf->planes, pads[6];
    for (int i = 0; i < cf->nsp; i++) {
        dx[2 + i] = cf->in[i];
        dy[2 + i] = out[i];
        nx *= cf->in[i];
        ny *= out[i];
        pads[i] = cf->p0[i];
        pads[cf->nsp + i] = cf->p1[i];
    }
    float *x = rand_buf(nx), *want = rand_buf(ny);
    int64_t *want_ind = malloc((size_t)ny * sizeof *want_ind);
    assert_non_null(want_ind);
    int avg = strcmp(op, "AveragePool") == 0;
    kcase kc;
    kc_init(&kc, op);
    if (!avg)
        kc.n_out = 2;
    kc_input(&kc, 0, ONNXC_FLOAT, 2 + cf->nsp, dx, x);
    kc_ints(&kc, "kernel_shape", cf->nsp, cf->k);
    kc_ints(&kc, "strides", cf->nsp, cf->s);
    kc_ints(&kc, "dilations", cf->nsp, cf->d);
    kc_ints(&kc, "pads", 2 * cf->nsp, pads);
    kc_int(&kc, "ceil_mode", cf->ceil_mode);
    kc_int(&kc, "count_include_pad", include_pad);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 2 + cf->nsp, dy);
    geo g = geo_make(cf->nsp, cf->in, cf->k, cf->s, cf->d, cf->p0, out);
    ref_pool(&g, cf->p1, cf->planes, x, want, want_ind, avg, include_pad);
    expect_f32(kc.out[0], want, ny, 1e-5);
    if (!avg) {
        const int64_t *ind = kc.out[1]->data;
        for (int64_t i = 0; i < ny; i++)
            assert_int_equal(ind[i], want_ind[i]);
    }
    kc_free(&kc);
    free(x);
    free(want);
    free(want_ind);
}

static void test_pool_random(void **state)
{
    (void)state;
    const pool_cfg cases[] = {
        {2, 3, {7, 6}, {3, 2}, {2, 1}, {1, 1}, {1, 0}, {1, 1}, 0},
        {2, 2, {7, 8}, {3, 3}, {2, 3}, {1, 1}, {1, 1}, {0, 1}, 1},
        {2, 2, {8, 9}, {2, 3}, {1, 2}, {2, 2}, {1, 0}, {1, 2}, 1},
        {1, 4, {11}, {3}, {2}, {2}, {1}, {2}, 1},
        {3, 2, {4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {1, 1, 2}, {1, 1, 0}, {0, 1, 1}, 0},
        {3, 1, {5, 5, 5}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_pool(&cases[i], "MaxPool", 0);
        check_pool(&cases[i], "AveragePool", 0);
        check_pool(&cases[i], "AveragePool", 1);
    }
}

static void test_global_pool(void **state)
{
    (void)state;
    float x[12] = {1, 2, 3, 4, 5, 6, /* plane 1 */ -1, -2, -3, -4, -5, -9};
    int64_t dx[] = {1, 2, 2, 3}, dy[] = {1, 2, 1, 1};
    kcase kc;
    kc_init(&kc, "GlobalAveragePool");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 4, dy);
    float want_avg[] = {3.5f, -4};
    expect_f32(kc.out[0], want_avg, 2, 1e-6);
    kc_free(&kc);

    kc_init(&kc, "GlobalMaxPool");
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    expect_dims(kc.out[0], 4, dy);
    float want_max[] = {6, -1};
    expect_f32(kc.out[0], want_max, 2, 0);
    kc_free(&kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_hand),   cmocka_unit_test(test_conv_auto_pad), cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_conv_errors), cmocka_unit_test(test_convt_hand),    cmocka_unit_test(test_convt_random),
        cmocka_unit_test(test_gemm),        cmocka_unit_test(test_matmul),        cmocka_unit_test(test_pool_hand),
        cmocka_unit_test(test_pool_random), cmocka_unit_test(test_global_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
