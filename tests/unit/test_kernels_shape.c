/* Unit tests of the shape-manipulation kernels (runtime/kernels/shape.c) and of Pad/Resize/Upsample
 * (runtime/kernels/resize.c): tiny cases whose expected values are worked out by hand in the comments, error
 * paths that must name the node, and a large transpose checked against a naive loop written here. */
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

/* ---- harness: one node through infer then run, as the session calls a kernel ---- */

#define KMAX_IN 160 /* Concat of more inputs than its offset table on the stack holds */
#define KMAX_OUT 4

typedef struct kcase {
    onnxc_model *model;
    oc_node *node;
    int64_t opset;
    int n_in, n_out;
    onnxc_tensor in_t[KMAX_IN];
    onnxc_tensor *in[KMAX_IN];
    onnxc_tensor out_t[KMAX_OUT];
    onnxc_tensor *out[KMAX_OUT];
    void *scratch;
} kcase;

static const oc_kernel *find_kernel(const char *op, int64_t opset)
{
    const oc_kernel *tables[] = {oc_kernels_shape, oc_kernels_resize};
    for (size_t t = 0; t < 2; t++)
        for (const oc_kernel *k = tables[t]; k->op_type; k++)
            if (strcmp(k->op_type, op) == 0 && opset >= k->since && (!k->until || opset <= k->until))
                return k;
    return NULL;
}

static void kc_init(kcase *kc, const char *op, int64_t opset, int n_out)
{
    memset(kc, 0, sizeof *kc);
    kc->model = oc_model_new();
    assert_non_null(kc->model);
    kc->node = oc_graph_add_node(kc->model->graph, op, NULL, "n0");
    assert_non_null(kc->node);
    kc->opset = opset;
    kc->n_out = n_out;
}

static void kc_free(kcase *kc)
{
    for (int i = 0; i < KMAX_OUT; i++)
        free(kc->out_t[i].data);
    free(kc->scratch);
    onnxc_model_free(kc->model);
}

/* Input slot i: dtype, dims, data (not copied). An omitted optional input: kc_omit. */
static void kc_input(kcase *kc, int i, int32_t dtype, int rank, const int64_t *dims, const void *data)
{
    onnxc_tensor *t = &kc->in_t[i];
    kt_tensor(t, dtype, rank, dims, data);
    kc->in[i] = t;
    if (i + 1 > kc->n_in)
        kc->n_in = i + 1;
}

static void kc_omit(kcase *kc, int i)
{
    kc->in[i] = NULL;
    if (i + 1 > kc->n_in)
        kc->n_in = i + 1;
}

static void kc_f32(kcase *kc, int i, int rank, const int64_t *dims, const float *v)
{
    kc_input(kc, i, ONNXC_FLOAT, rank, dims, v);
}

static void kc_i64(kcase *kc, int i, int n, const int64_t *v)
{
    int64_t d = n;
    kc_input(kc, i, ONNXC_INT64, 1, &d, v);
}

static void kc_ints(kcase *kc, const char *name, int n, const int64_t *v)
{
    assert_int_equal(oc_node_set_attr_ints(kc->node, name, v, (size_t)n), ONNXC_OK);
}

static void kc_int(kcase *kc, const char *name, int64_t v)
{
    assert_int_equal(oc_node_set_attr_int(kc->node, name, v), ONNXC_OK);
}

static void kc_float(kcase *kc, const char *name, float v)
{
    assert_int_equal(oc_node_set_attr_float(kc->node, name, v), ONNXC_OK);
}

static void kc_floats(kcase *kc, const char *name, int n, const float *v)
{
    oc_attr *a = kt_retype(kc->node, name, OC_ATTR_FLOATS);
    a->floats = oc_malloc((size_t)n * sizeof(float));
    assert_non_null(a->floats);
    memcpy(a->floats, v, (size_t)n * sizeof(float));
    a->n_floats = (size_t)n;
}

static void kc_tensor_attr(kcase *kc, const char *name, int32_t dtype, int rank, const int64_t *dims, const void *v)
{
    oc_attr *a = kt_retype(kc->node, name, OC_ATTR_TENSOR);
    a->t = oc_calloc(1, sizeof *a->t);
    assert_non_null(a->t);
    onnxc_tensor *t = &a->t->t;
    kt_tensor(t, dtype, rank, dims, NULL);
    t->data = oc_malloc(t->nbytes ? t->nbytes : 1);
    assert_non_null(t->data);
    memcpy(t->data, v, t->nbytes);
    t->owns_data = 1;
}

/* infer (every input's data is visible, as for constants), allocate the outputs and scratch, run */
static onnxc_status kc_run(kcase *kc)
{
    const oc_kernel *k = find_kernel(kc->node->op_type, kc->opset);
    assert_non_null(k);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = kc->node;
    c.opset = kc->opset;
    c.n_in = kc->n_in;
    c.in = kc->in;
    c.n_out = kc->n_out;
    for (int i = 0; i < kc->n_out; i++) {
        free(kc->out_t[i].data);
        memset(&kc->out_t[i], 0, sizeof kc->out_t[i]);
        kc->out[i] = &kc->out_t[i];
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
        kc->out_t[i].data = calloc(1, kc->out_t[i].nbytes + 1);
        assert_non_null(kc->out_t[i].data);
    }
    free(kc->scratch);
    kc->scratch = NULL;
    if (c.scratch_size) {
        kc->scratch = calloc(1, c.scratch_size);
        assert_non_null(kc->scratch);
        c.scratch = kc->scratch;
    }
    st = k->run(&c);
    oc_pool_free(pool);
    return st;
}

static void assert_dims(const onnxc_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

static void assert_f32(const onnxc_tensor *t, int n, const float *want)
{
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    assert_int_equal(onnxc_tensor_numel(t), n);
    const float *got = t->data;
    for (int i = 0; i < n; i++) {
        if (fabsf(got[i] - want[i]) > 1e-5f * (1 + fabsf(want[i]))) {
            print_error("element %d: got %.9g, want %.9g\n", i, (double)got[i], (double)want[i]);
            fail();
        }
    }
}

static void assert_i64(const onnxc_tensor *t, int n, const int64_t *want)
{
    assert_int_equal(t->dtype, ONNXC_INT64);
    assert_int_equal(onnxc_tensor_numel(t), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(((const int64_t *)t->data)[i], want[i]);
}

/* The status and a message that names the node and says what is wrong. */
static void assert_err(onnxc_status got, onnxc_status want, const char *needle)
{
    assert_int_equal(got, want);
    const char *m = onnxc_last_error();
    if (!strstr(m, "n0") || !strstr(m, needle)) {
        print_error("message '%s' lacks the node name or '%s'\n", m, needle);
        fail();
    }
}

static const float seq6[] = {1, 2, 3, 4, 5, 6};

/* ---- Reshape, Flatten, Squeeze, Unsqueeze ---- */

static void test_reshape(void **state)
{
    (void)state;
    kcase kc;
    int64_t d23[] = {2, 3}, s[] = {3, -1};
    kc_init(&kc, "Reshape", 14, 1);
    kc_f32(&kc, 0, 2, d23, seq6);
    kc_i64(&kc, 1, 2, s);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){3, 2});
    assert_f32(kc.out[0], 6, seq6);

    /* 0 copies the input dim (allowzero unset) */
    int64_t s0[] = {0, 3, -1};
    kc_i64(&kc, 1, 3, s0);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 3, (int64_t[]){2, 3, 1});

    int64_t two_neg[] = {-1, -1}, bad[] = {4, 2};
    kc_i64(&kc, 1, 2, two_neg);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "-1");
    kc_i64(&kc, 1, 2, bad);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "cannot reshape");
    kc_free(&kc);

    /* allowzero=1: a 0 is a real zero dim, so 0x3 -> 3x0 */
    int64_t d03[] = {0, 3}, s30[] = {3, 0};
    kc_init(&kc, "Reshape", 14, 1);
    kc_int(&kc, "allowzero", 1);
    kc_f32(&kc, 0, 2, d03, seq6);
    kc_i64(&kc, 1, 2, s30);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){3, 0});
    kc_free(&kc);

    /* Reshape-1: shape attribute */
    kc_init(&kc, "Reshape", 1, 1);
    kc_ints(&kc, "shape", 1, (int64_t[]){-1});
    kc_f32(&kc, 0, 2, d23, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 1, (int64_t[]){6});
    kc_free(&kc);
}

static void test_flatten(void **state)
{
    (void)state;
    kcase kc;
    int64_t d[] = {2, 3, 4};
    float x[24] = {0};
    kc_init(&kc, "Flatten", 13, 1);
    kc_f32(&kc, 0, 3, d, x);
    kc_int(&kc, "axis", -1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){6, 4});
    kc_int(&kc, "axis", 3);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){24, 1});
    kc_int(&kc, "axis", 0);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){1, 24});
    kc_int(&kc, "axis", 4);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "axis");
    kc_free(&kc);
}

static void test_squeeze_unsqueeze(void **state)
{
    (void)state;
    kcase kc;
    int64_t d[] = {1, 3, 1};
    /* Squeeze-11: axes attribute, negative */
    kc_init(&kc, "Squeeze", 11, 1);
    kc_f32(&kc, 0, 3, d, seq6);
    kc_ints(&kc, "axes", 1, (int64_t[]){-1});
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){1, 3});
    assert_f32(kc.out[0], 3, seq6);
    kc_ints(&kc, "axes", 1, (int64_t[]){1});
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "squeeze");
    kc_free(&kc);

    /* Squeeze-13 without axes drops every 1 */
    kc_init(&kc, "Squeeze", 13, 1);
    kc_f32(&kc, 0, 3, d, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 1, (int64_t[]){3});
    kc_free(&kc);

    /* Unsqueeze-13: axes against the output rank: [3] with {0, -1} -> 1x3x1 */
    int64_t d3[] = {3}, ax[] = {0, -1}, dup[] = {1, -2};
    kc_init(&kc, "Unsqueeze", 13, 1);
    kc_f32(&kc, 0, 1, d3, seq6);
    kc_i64(&kc, 1, 2, ax);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 3, (int64_t[]){1, 3, 1});
    kc_i64(&kc, 1, 2, dup); /* 1 and -2 are the same axis of a rank-3 output */
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "repeated");
    kc_free(&kc);
}

/* ---- Transpose ---- */

static void test_transpose_small(void **state)
{
    (void)state;
    kcase kc;
    int64_t d23[] = {2, 3};
    kc_init(&kc, "Transpose", 13, 1);
    kc_f32(&kc, 0, 2, d23, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK); /* default perm reverses */
    assert_dims(kc.out[0], 2, (int64_t[]){3, 2});
    assert_f32(kc.out[0], 6, (const float[]){1, 4, 2, 5, 3, 6});
    kc_free(&kc);

    /* 2x3x2 with perm {1, 2, 0}: y[j][k][i] = x[i][j][k], x = 0..11 */
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t d[] = {2, 3, 2};
    kc_init(&kc, "Transpose", 13, 1);
    kc_f32(&kc, 0, 3, d, x);
    kc_ints(&kc, "perm", 3, (int64_t[]){1, 2, 0});
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 3, (int64_t[]){3, 2, 2});
    assert_f32(kc.out[0], 12, (const float[]){0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11});
    kc_ints(&kc, "perm", 3, (int64_t[]){0, 0, 1});
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "perm");
    kc_free(&kc);
}

/* A transpose big enough for the tiled path, in 2-byte elements, against a naive index loop. */
static void test_transpose_tiled(void **state)
{
    (void)state;
    enum { A = 3, B = 45, C = 70 };
    static int16_t x[A * B * C];
    for (int i = 0; i < A * B * C; i++)
        x[i] = (int16_t)(i * 7 - 3000);
    int64_t d[] = {A, B, C};
    kcase kc;
    kc_init(&kc, "Transpose", 13, 1);
    kc_input(&kc, 0, ONNXC_INT16, 3, d, x);
    kc_ints(&kc, "perm", 3, (int64_t[]){2, 0, 1});
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 3, (int64_t[]){C, A, B});
    const int16_t *y = kc.out[0]->data;
    for (int c = 0; c < C; c++)
        for (int a = 0; a < A; a++)
            for (int b = 0; b < B; b++)
                assert_int_equal(y[(c * A + a) * B + b], x[(a * B + b) * C + c]);
    kc_free(&kc);
}

/* ---- Concat, Split ---- */

static void test_concat(void **state)
{
    (void)state;
    kcase kc;
    int64_t d21[] = {2, 1}, d22[] = {2, 2}, d32[] = {3, 2};
    const float a[] = {1, 2}, b[] = {3, 4, 5, 6};
    kc_init(&kc, "Concat", 13, 1);
    kc_int(&kc, "axis", -1);
    kc_f32(&kc, 0, 2, d21, a);
    kc_f32(&kc, 1, 2, d22, b);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){2, 3});
    assert_f32(kc.out[0], 6, (const float[]){1, 3, 4, 2, 5, 6});
    kc_f32(&kc, 1, 2, d32, seq6);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "incompatible");
    kc_free(&kc);
}

/* More inputs than Concat keeps offsets for on the stack (64): 150 inputs of widths 1, 2, 3, ... along axis 1 of
 * 2 rows; output row r is every input's row r in turn. */
static void test_concat_many(void **state)
{
    (void)state;
    enum { N = 150, ROWS = 2 };
    static float vals[N][ROWS * 3];
    int64_t dims[N][2];
    kcase kc;
    kc_init(&kc, "Concat", 13, 1);
    kc_int(&kc, "axis", 1);
    int64_t width = 0;
    for (int i = 0; i < N; i++) {
        dims[i][0] = ROWS;
        dims[i][1] = 1 + i % 3;
        for (int k = 0; k < ROWS * dims[i][1]; k++)
            vals[i][k] = (float)(i * 10 + k);
        kc_f32(&kc, i, 2, dims[i], vals[i]);
        width += dims[i][1];
    }
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){ROWS, width});
    const float *y = kc.out[0]->data;
    for (int r = 0; r < ROWS; r++) {
        int64_t col = 0;
        for (int i = 0; i < N; i++)
            for (int64_t k = 0; k < dims[i][1]; k++, col++)
                if (y[r * width + col] != vals[i][r * dims[i][1] + k])
                    fail_msg("row %d column %lld: %g, want input %d's %g", r, (long long)col,
                             (double)y[r * width + col], i, (double)vals[i][r * dims[i][1] + k]);
    }
    kc_free(&kc);
}

static void test_split(void **state)
{
    (void)state;
    kcase kc;
    int64_t d[] = {3}, sp[] = {1, 2};
    /* Split-13: sizes as input */
    kc_init(&kc, "Split", 13, 2);
    kc_f32(&kc, 0, 1, d, seq6);
    kc_i64(&kc, 1, 2, sp);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 1, (const float[]){1});
    assert_f32(kc.out[1], 2, (const float[]){2, 3});
    /* equal parts must divide the axis */
    kc_omit(&kc, 1);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "equal parts");
    kc_free(&kc);

    /* Split-18: num_outputs=3 on 7 -> chunks of ceil(7/3) = 3, last smaller: 3, 3, 1 */
    float x7[] = {0, 1, 2, 3, 4, 5, 6};
    int64_t d7[] = {7};
    kc_init(&kc, "Split", 18, 3);
    kc_int(&kc, "num_outputs", 3);
    kc_f32(&kc, 0, 1, d7, x7);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, (const float[]){0, 1, 2});
    assert_f32(kc.out[1], 3, (const float[]){3, 4, 5});
    assert_f32(kc.out[2], 1, (const float[]){6});
    kc_free(&kc);

    /* Split-11: sizes attribute along a negative axis of 2x3 */
    int64_t d23[] = {2, 3};
    kc_init(&kc, "Split", 11, 2);
    kc_int(&kc, "axis", -1);
    kc_ints(&kc, "split", 2, (int64_t[]){2, 1});
    kc_f32(&kc, 0, 2, d23, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){1, 2, 4, 5});
    assert_f32(kc.out[1], 2, (const float[]){3, 6});
    kc_ints(&kc, "split", 2, (int64_t[]){2, 2});
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "add up");
    kc_free(&kc);
}

/* ---- Slice ---- */

static void test_slice(void **state)
{
    (void)state;
    kcase kc;
    float x[10];
    for (int i = 0; i < 10; i++)
        x[i] = (float)i;
    int64_t d[] = {10};
    /* start -1 (= 9), end INT64_MIN (clamped to -1), step -3: 9, 6, 3, 0 */
    int64_t st[] = {-1}, en[] = {INT64_MIN}, ax[] = {0}, sp[] = {-3};
    kc_init(&kc, "Slice", 13, 1);
    kc_f32(&kc, 0, 1, d, x);
    kc_i64(&kc, 1, 1, st);
    kc_i64(&kc, 2, 1, en);
    kc_i64(&kc, 3, 1, ax);
    kc_i64(&kc, 4, 1, sp);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){9, 6, 3, 0});

    /* start 2, end INT64_MAX, default step: 2..9 */
    int64_t st2[] = {2}, en2[] = {INT64_MAX};
    kc_i64(&kc, 1, 1, st2);
    kc_i64(&kc, 2, 1, en2);
    kc_omit(&kc, 4);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 8, (const float[]){2, 3, 4, 5, 6, 7, 8, 9});

    /* start past end with a positive step: empty */
    int64_t st3[] = {7}, en3[] = {3};
    kc_i64(&kc, 1, 1, st3);
    kc_i64(&kc, 2, 1, en3);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 1, (int64_t[]){0});

    int64_t zero[] = {0};
    kc_i64(&kc, 4, 1, zero);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "step 0");
    kc_free(&kc);

    /* 2-D, negative axis: x[:, 1:3] of a 2x3 */
    int64_t d23[] = {2, 3}, s1[] = {1}, e1[] = {3}, am1[] = {-1};
    kc_init(&kc, "Slice", 13, 1);
    kc_f32(&kc, 0, 2, d23, seq6);
    kc_i64(&kc, 1, 1, s1);
    kc_i64(&kc, 2, 1, e1);
    kc_i64(&kc, 3, 1, am1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){2, 2});
    assert_f32(kc.out[0], 4, (const float[]){2, 3, 5, 6});
    kc_free(&kc);

    /* Slice-1: attributes; x[1:, -2:] */
    kc_init(&kc, "Slice", 1, 1);
    kc_ints(&kc, "starts", 2, (int64_t[]){1, -2});
    kc_ints(&kc, "ends", 2, (int64_t[]){1000, 3});
    kc_f32(&kc, 0, 2, d23, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 2, (const float[]){5, 6});
    kc_free(&kc);
}

/* ---- Gather, GatherElements, GatherND, ScatterND, ScatterElements ---- */

static void test_gather(void **state)
{
    (void)state;
    kcase kc;
    int64_t d23[] = {2, 3}, di[] = {2};
    const int64_t idx[] = {-1, 0};
    kc_init(&kc, "Gather", 13, 1);
    kc_int(&kc, "axis", 1);
    kc_f32(&kc, 0, 2, d23, seq6);
    kc_input(&kc, 1, ONNXC_INT64, 1, di, idx);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){2, 2});
    assert_f32(kc.out[0], 4, (const float[]){3, 1, 6, 4});

    const int32_t idx32[] = {1, 3};
    kc_input(&kc, 1, ONNXC_INT32, 1, di, idx32);
    assert_err(kc_run(&kc), ONNXC_E_RUNTIME, "out of range");
    kc_free(&kc);

    /* GatherElements axis 1 (ONNX's example): [[1,2],[3,4]], [[0,0],[1,0]] -> [[1,1],[4,3]] */
    int64_t d22[] = {2, 2};
    const float g[] = {1, 2, 3, 4};
    const int64_t gi[] = {0, 0, 1, 0};
    kc_init(&kc, "GatherElements", 13, 1);
    kc_int(&kc, "axis", 1);
    kc_f32(&kc, 0, 2, d22, g);
    kc_input(&kc, 1, ONNXC_INT64, 2, d22, gi);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){1, 1, 4, 3});
    kc_free(&kc);

    /* GatherND: [[0,1],[2,3]] with [[1],[0]] -> rows 1 then 0 */
    const int64_t ni[] = {1, 0};
    int64_t dni[] = {2, 1};
    kc_init(&kc, "GatherND", 13, 1);
    kc_f32(&kc, 0, 2, d22, g);
    kc_input(&kc, 1, ONNXC_INT64, 2, dni, ni);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){3, 4, 1, 2});
    kc_free(&kc);
}

static void test_scatter(void **state)
{
    (void)state;
    kcase kc;
    /* ScatterND-16 add: data 0..3, updates 10 and 20 both at index 1 -> [0, 31, 2, 3] */
    const float data[] = {0, 1, 2, 3}, upd[] = {10, 20};
    const int64_t ind[] = {1, 1};
    int64_t d4[] = {4}, di[] = {2, 1}, du[] = {2};
    kc_init(&kc, "ScatterND", 16, 1);
    kt_string(kc.node, "reduction", "add");
    kc_f32(&kc, 0, 1, d4, data);
    kc_input(&kc, 1, ONNXC_INT64, 2, di, ind);
    kc_f32(&kc, 2, 1, du, upd);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){0, 31, 2, 3});
    kc_free(&kc);

    /* ScatterElements axis 0 with a negative index: data zeros 3, indices [-1, 0], updates [5, 6] -> [6, 0, 5] */
    const float z[] = {0, 0, 0}, u2[] = {5, 6};
    const int64_t i2[] = {-1, 0};
    int64_t d3[] = {3}, d2[] = {2};
    kc_init(&kc, "ScatterElements", 13, 1);
    kc_f32(&kc, 0, 1, d3, z);
    kc_input(&kc, 1, ONNXC_INT64, 1, d2, i2);
    kc_f32(&kc, 2, 1, d2, u2);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, (const float[]){6, 0, 5});
    const int64_t bad[] = {3, 0};
    kc_input(&kc, 1, ONNXC_INT64, 1, d2, bad);
    assert_err(kc_run(&kc), ONNXC_E_RUNTIME, "out of range");
    kc_free(&kc);
}

/* ---- Shape, Size, Constant, ConstantOfShape, Identity, Dropout ---- */

static void test_shape_size(void **state)
{
    (void)state;
    kcase kc;
    int64_t d[] = {2, 3, 4, 5};
    kc_init(&kc, "Shape", 15, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, NULL); /* Shape never reads data */
    kc_int(&kc, "start", 1);
    kc_int(&kc, "end", -1);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_i64(kc.out[0], 2, (const int64_t[]){3, 4});
    kc_int(&kc, "start", -10); /* clamped to 0 */
    kc_int(&kc, "end", 100);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_i64(kc.out[0], 4, d);
    kc_free(&kc);

    kc_init(&kc, "Size", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, NULL);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->rank, 0);
    assert_i64(kc.out[0], 1, (const int64_t[]){120});
    kc_free(&kc);
}

static void test_constant(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Constant", 13, 1);
    kc_ints(&kc, "value_ints", 3, (int64_t[]){7, -8, 9});
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_i64(kc.out[0], 3, (const int64_t[]){7, -8, 9});
    kc_free(&kc);

    kc_init(&kc, "Constant", 13, 1);
    kc_float(&kc, "value_float", 2.5f);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->rank, 0);
    assert_f32(kc.out[0], 1, (const float[]){2.5f});
    kc_free(&kc);

    const uint8_t b[] = {1, 0, 1};
    int64_t d3[] = {3};
    kc_init(&kc, "Constant", 13, 1);
    kc_tensor_attr(&kc, "value", ONNXC_BOOL, 1, d3, b);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->dtype, ONNXC_BOOL);
    assert_memory_equal(kc.out[0]->data, b, 3);
    kc_free(&kc);

    kc_init(&kc, "Constant", 13, 1);
    kt_retype(kc.node, "sparse_value", OC_ATTR_SPARSE_TENSOR);
    assert_err(kc_run(&kc), ONNXC_E_UNSUPPORTED, "sparse");
    kc_free(&kc);
}

static void test_constant_of_shape(void **state)
{
    (void)state;
    kcase kc;
    int64_t shape[] = {2, 2};
    kc_init(&kc, "ConstantOfShape", 9, 1);
    kc_i64(&kc, 0, 2, shape);
    assert_int_equal(kc_run(&kc), ONNXC_OK); /* default: float 0 */
    assert_dims(kc.out[0], 2, shape);
    assert_f32(kc.out[0], 4, (const float[]){0, 0, 0, 0});
    kc_free(&kc);

    const int32_t v = -3;
    int64_t one[] = {1}, neg[] = {2, -1};
    kc_init(&kc, "ConstantOfShape", 9, 1);
    kc_tensor_attr(&kc, "value", ONNXC_INT32, 1, one, &v);
    kc_i64(&kc, 0, 2, shape);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->dtype, ONNXC_INT32);
    for (int i = 0; i < 4; i++)
        assert_int_equal(((const int32_t *)kc.out[0]->data)[i], -3);
    kc_i64(&kc, 0, 2, neg);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "negative");
    kc_free(&kc);
}

static void test_dropout(void **state)
{
    (void)state;
    kcase kc;
    int64_t d[] = {3};
    /* Dropout-13 at inference: copy, mask all true */
    kc_init(&kc, "Dropout", 13, 2);
    kc_f32(&kc, 0, 1, d, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, seq6);
    assert_int_equal(kc.out[1]->dtype, ONNXC_BOOL);
    assert_memory_equal(kc.out[1]->data, ((const uint8_t[]){1, 1, 1}), 3);
    /* training mode with a non-zero ratio would be random: refused */
    const float ratio = 0.5f;
    const uint8_t train = 1;
    kc_input(&kc, 1, ONNXC_FLOAT, 0, NULL, &ratio);
    kc_input(&kc, 2, ONNXC_BOOL, 0, NULL, &train);
    assert_err(kc_run(&kc), ONNXC_E_UNSUPPORTED, "training");
    kc_free(&kc);

    /* Dropout-7: the mask has the data's type */
    kc_init(&kc, "Dropout", 7, 2);
    kc_f32(&kc, 0, 1, d, seq6);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[1], 3, (const float[]){1, 1, 1});
    kc_free(&kc);
}

/* ---- Expand, Range, Tile ---- */

static void test_expand(void **state)
{
    (void)state;
    kcase kc;
    int64_t d31[] = {3, 1}, s[] = {2, 1, 2}, bad[] = {2, 2};
    kc_init(&kc, "Expand", 13, 1);
    kc_f32(&kc, 0, 2, d31, seq6);
    kc_i64(&kc, 1, 3, s);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 3, (int64_t[]){2, 3, 2});
    assert_f32(kc.out[0], 12, (const float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
    kc_i64(&kc, 1, 2, bad);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "expand");
    kc_free(&kc);
}

static void test_range(void **state)
{
    (void)state;
    kcase kc;
    /* float: ceil((2.2 - 1) / 0.5) = 3 values: 1, 1.5, 2 */
    const float a = 1, b = 2.2f, dl = 0.5f;
    kc_init(&kc, "Range", 11, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 0, NULL, &a);
    kc_input(&kc, 1, ONNXC_FLOAT, 0, NULL, &b);
    kc_input(&kc, 2, ONNXC_FLOAT, 0, NULL, &dl);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, (const float[]){1, 1.5f, 2});
    kc_free(&kc);

    /* int32, negative delta: 10, 7 (4 is the limit, excluded) */
    const int32_t s = 10, l = 4, d = -3, z = 0;
    kc_init(&kc, "Range", 11, 1);
    kc_input(&kc, 0, ONNXC_INT32, 0, NULL, &s);
    kc_input(&kc, 1, ONNXC_INT32, 0, NULL, &l);
    kc_input(&kc, 2, ONNXC_INT32, 0, NULL, &d);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_int_equal(kc.out[0]->dims[0], 2);
    assert_int_equal(((const int32_t *)kc.out[0]->data)[0], 10);
    assert_int_equal(((const int32_t *)kc.out[0]->data)[1], 7);
    kc_input(&kc, 2, ONNXC_INT32, 0, NULL, &z);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "delta");
    kc_free(&kc);
}

static void test_tile(void **state)
{
    (void)state;
    kcase kc;
    /* [[1,2],[3,4]] tiled 2x3 */
    int64_t d[] = {2, 2}, r[] = {2, 3}, neg[] = {1, -1};
    const float x[] = {1, 2, 3, 4};
    kc_init(&kc, "Tile", 13, 1);
    kc_f32(&kc, 0, 2, d, x);
    kc_i64(&kc, 1, 2, r);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){4, 6});
    assert_f32(kc.out[0], 24, (const float[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                               1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
    kc_i64(&kc, 1, 2, neg);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "negative");
    kc_free(&kc);
}

/* ---- Pad ---- */

static void pad_case(int64_t opset, const char *mode, int n, const float *x, int64_t pb, int64_t pe, int n_out,
                     const float *want)
{
    kcase kc;
    int64_t d[] = {n}, pads[] = {pb, pe};
    const float v = 9;
    kc_init(&kc, "Pad", opset, 1);
    if (mode)
        kt_string(kc.node, "mode", mode);
    kc_f32(&kc, 0, 1, d, x);
    kc_i64(&kc, 1, 2, pads);
    kc_input(&kc, 2, ONNXC_FLOAT, 0, NULL, &v);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], n_out, want);
    kc_free(&kc);
}

static void test_pad(void **state)
{
    (void)state;
    const float x3[] = {1, 2, 3}, x4[] = {1, 2, 3, 4};
    pad_case(13, NULL, 3, x3, 1, 2, 6, (const float[]){9, 1, 2, 3, 9, 9});
    /* reflect mirrors without repeating the edge: ... 3 2 | 1 2 3 | 2 1 */
    pad_case(13, "reflect", 3, x3, 2, 2, 7, (const float[]){3, 2, 1, 2, 3, 2, 1});
    /* past one period the reflection keeps bouncing (numpy's reflect): 2 1 2 3 2 | 1 2 3 */
    pad_case(13, "reflect", 3, x3, 5, 0, 8, (const float[]){2, 1, 2, 3, 2, 1, 2, 3});
    pad_case(13, "edge", 3, x3, 2, 1, 6, (const float[]){1, 1, 1, 2, 3, 3});
    /* a negative pad crops first: drop 1, then edge-pad 1 on the right -> 2 3 4 4 */
    pad_case(13, "edge", 4, x4, -1, 1, 4, (const float[]){2, 3, 4, 4});
    pad_case(13, NULL, 4, x4, -1, -2, 1, (const float[]){2});
    /* Pad-19 wrap: 2 3 | 1 2 3 | 1 */
    pad_case(19, "wrap", 3, x3, 2, 1, 6, (const float[]){2, 3, 1, 2, 3, 1});

    /* Pad-2: attributes, 2-D: 1x2 padded by one row below with value -1 */
    kcase kc;
    int64_t d12[] = {1, 2};
    kc_init(&kc, "Pad", 2, 1);
    kc_ints(&kc, "pads", 4, (int64_t[]){0, 0, 1, 0});
    kc_float(&kc, "value", -1);
    kc_f32(&kc, 0, 2, d12, x3);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){2, 2});
    assert_f32(kc.out[0], 4, (const float[]){1, 2, -1, -1});
    kc_free(&kc);

    /* Pad-18 axes: pad only axis -1 of 2x1 by (1, 0) with edge */
    int64_t d21[] = {2, 1}, pads[] = {1, 0}, axes[] = {-1};
    kc_init(&kc, "Pad", 18, 1);
    kt_string(kc.node, "mode", "edge");
    kc_f32(&kc, 0, 2, d21, x3);
    kc_i64(&kc, 1, 2, pads);
    kc_omit(&kc, 2);
    kc_i64(&kc, 3, 1, axes);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){1, 1, 2, 2});
    kc_free(&kc);

    /* errors: cropping more than the axis has; reflect of an empty axis */
    int64_t d3[] = {3}, crop[] = {-2, -2}, d0[] = {0}, grow[] = {1, 1};
    kc_init(&kc, "Pad", 13, 1);
    kc_f32(&kc, 0, 1, d3, x3);
    kc_i64(&kc, 1, 2, crop);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "crop");
    kt_string(kc.node, "mode", "reflect");
    kc_f32(&kc, 0, 1, d0, x3);
    kc_i64(&kc, 1, 2, grow);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "empty");
    kc_free(&kc);
}

/* ---- Resize / Upsample ---- */

/* Resize-13 of a 1-D float input to `n_out` values (sizes input), with attributes set by the caller. */
static void resize_1d(kcase *kc, int n, const float *x, int64_t n_out)
{
    static int64_t d[1], sz[1];
    d[0] = n;
    sz[0] = n_out;
    kc_f32(kc, 0, 1, d, x);
    kc_omit(kc, 1);
    kc_omit(kc, 2);
    kc_i64(kc, 3, 1, sz);
}

static void test_resize_linear_nearest(void **state)
{
    (void)state;
    kcase kc;
    const float x2[] = {1, 2}, x3[] = {1, 2, 3};
    /* linear, half_pixel, 2 -> 4: x' = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1] */
    kc_init(&kc, "Resize", 13, 1);
    kt_string(kc.node, "mode", "linear");
    resize_1d(&kc, 2, x2, 4);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){1, 1.25f, 1.75f, 2});
    /* align_corners, 2 -> 3: x' = x * 1 / 2 */
    kt_string(kc.node, "coordinate_transformation_mode", "align_corners");
    resize_1d(&kc, 2, x2, 3);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, (const float[]){1, 1.5f, 2});
    kc_free(&kc);

    /* tf_crop_and_resize, roi [0.5, 1.5] of 3 -> 3: x' = 0.5 * 2 + x * 1 * 2 / 2 = 1, 2, 3 (3 > 2: extrapolate) */
    const float roi[] = {0.5f, 1.5f};
    int64_t d2[] = {2};
    kc_init(&kc, "Resize", 13, 1);
    kt_string(kc.node, "mode", "linear");
    kt_string(kc.node, "coordinate_transformation_mode", "tf_crop_and_resize");
    kc_float(&kc, "extrapolation_value", 9);
    resize_1d(&kc, 3, x3, 3);
    kc_f32(&kc, 1, 1, d2, roi);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 3, (const float[]){2, 3, 9});
    kc_free(&kc);

    /* nearest rounding on exact ties: tf_half_pixel_for_nearest at scale 1 maps x to x + 0.5 */
    const struct {
        const char *mode;
        float want[3];
    } nm[] = {{"round_prefer_floor", {1, 2, 3}}, {"round_prefer_ceil", {2, 3, 3}},
              {"floor", {1, 2, 3}}, {"ceil", {2, 3, 3}}};
    for (size_t i = 0; i < sizeof nm / sizeof nm[0]; i++) {
        kc_init(&kc, "Resize", 13, 1);
        kt_string(kc.node, "coordinate_transformation_mode", "tf_half_pixel_for_nearest");
        kt_string(kc.node, "nearest_mode", nm[i].mode);
        resize_1d(&kc, 3, x3, 3);
        assert_int_equal(kc_run(&kc), ONNXC_OK);
        assert_f32(kc.out[0], 3, nm[i].want);
        kc_free(&kc);
    }

    /* uint8 linear, align_corners 2 -> 3: 10, 15.5 (truncated to 15), 21 */
    const uint8_t u[] = {10, 21};
    int64_t du[] = {2}, sz[] = {3};
    kc_init(&kc, "Resize", 13, 1);
    kt_string(kc.node, "mode", "linear");
    kt_string(kc.node, "coordinate_transformation_mode", "align_corners");
    kc_input(&kc, 0, ONNXC_UINT8, 1, du, u);
    kc_omit(&kc, 1);
    kc_omit(&kc, 2);
    kc_i64(&kc, 3, 1, sz);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_memory_equal(kc.out[0]->data, ((const uint8_t[]){10, 15, 21}), 3);
    kc_free(&kc);

    /* errors: a non-positive scale, and both scales and sizes */
    const float sc0[] = {0};
    int64_t d1[] = {1};
    kc_init(&kc, "Resize", 13, 1);
    kc_f32(&kc, 0, 1, d2, x2);
    kc_omit(&kc, 1);
    kc_f32(&kc, 2, 1, d1, sc0);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "positive");
    kc_i64(&kc, 3, 1, sz);
    assert_err(kc_run(&kc), ONNXC_E_INVALID, "only one");
    kc_free(&kc);
}

static void test_resize_cubic(void **state)
{
    (void)state;
    /* cubic (A = -0.75), asymmetric, scale 2 on a unit impulse at 2: x' = x / 2. Keys weights at distance 0.5:
     * ((A+2)0.5 - (A+3))0.25 + 1 = 0.59375; at 1.5: ((1.5A - 5A)1.5 + 8A)1.5 - 4A = -0.09375. Integer x' take
     * the sample itself. */
    const float x[] = {0, 0, 1, 0, 0};
    const float scale[] = {2};
    int64_t d[] = {5}, d1[] = {1};
    kcase kc;
    kc_init(&kc, "Resize", 13, 1);
    kt_string(kc.node, "mode", "cubic");
    kt_string(kc.node, "coordinate_transformation_mode", "asymmetric");
    kc_f32(&kc, 0, 1, d, x);
    kc_omit(&kc, 1);
    kc_f32(&kc, 2, 1, d1, scale);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 10, (const float[]){0, -0.09375f, 0, 0.59375f, 1, 0.59375f, 0, -0.09375f, 0, 0});
    kc_free(&kc);
}

static void test_resize_antialias(void **state)
{
    (void)state;
    /* Resize-18 linear antialias, 4x4 ramp 1..16, scale 0.6 -> 2x2. Per axis, output 0 maps to
     * x' = 0.5 / 0.6 - 0.5 = 1/3; the filter stretched by 1/0.6 has taps at -1..2 with weights
     * 1 - |(k - 1/3) * 0.6| = 0.2, 0.8, 0.6, 0 -> /1.6 = 0.125, 0.5, 0.375, 0 (index -1 repeats the edge): a row
     * 1 2 3 4 gives 1.375, so [0][0] = 0.625 * 1.375 + 0.375 * 5.375 = 2.875. Output 1 maps to x' = 2: taps 1..4
     * at distances 0.6, 0, 0.6, 1.2 weigh 0.4, 1, 0.4, 0 (/1.8), so the row gives 3 and [0][1] = 0.625 * 3 +
     * 0.375 * 7 = 4.5. The ONNX conformance data for this case (onnx >= 1.13) is 2.875, 4.5, 9.375, 11. */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    const float sc[] = {1, 1, 0.6f, 0.6f};
    int64_t d[] = {1, 1, 4, 4}, d4[] = {4};
    kcase kc;
    kc_init(&kc, "Resize", 18, 1);
    kt_string(kc.node, "mode", "linear");
    kc_int(&kc, "antialias", 1);
    kc_f32(&kc, 0, 4, d, x);
    kc_omit(&kc, 1);
    kc_f32(&kc, 2, 1, d4, sc);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 4, (int64_t[]){1, 1, 2, 2});
    assert_f32(kc.out[0], 4, (const float[]){2.875f, 4.5f, 9.375f, 11.0f});
    kc_free(&kc);
}

static void test_resize10_upsample(void **state)
{
    (void)state;
    /* Resize-10 nearest downsampling by 0.6 takes ceil(x / 0.6): columns 0 and ceil(1.67) = 2 of row 0 */
    const float x[] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float sc[] = {1, 1, 0.6f, 0.6f};
    int64_t d[] = {1, 1, 2, 4}, d4[] = {4};
    kcase kc;
    kc_init(&kc, "Resize", 10, 1);
    kc_f32(&kc, 0, 4, d, x);
    kc_f32(&kc, 1, 1, d4, sc);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 4, (int64_t[]){1, 1, 1, 2});
    assert_f32(kc.out[0], 2, (const float[]){1, 3});
    kc_free(&kc);

    /* Upsample-7: scales attribute, nearest repeats: [[1, 2]] by (2, 3) */
    const float u[] = {1, 2};
    int64_t du[] = {1, 2};
    kc_init(&kc, "Upsample", 7, 1);
    kc_floats(&kc, "scales", 2, (const float[]){2, 3});
    kc_f32(&kc, 0, 2, du, u);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_dims(kc.out[0], 2, (int64_t[]){2, 6});
    assert_f32(kc.out[0], 12, (const float[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
    kc_free(&kc);

    /* Upsample-9 linear, asymmetric x' = x / 2 clamped: 1 2 -> 1 1.5 2 2 */
    const float s2[] = {2};
    int64_t d2[] = {2}, d1[] = {1};
    kc_init(&kc, "Upsample", 9, 1);
    kt_string(kc.node, "mode", "linear");
    kc_f32(&kc, 0, 1, d2, u);
    kc_f32(&kc, 1, 1, d1, s2);
    assert_int_equal(kc_run(&kc), ONNXC_OK);
    assert_f32(kc.out[0], 4, (const float[]){1, 1.5f, 2, 2});
    kc_free(&kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_squeeze_unsqueeze),
        cmocka_unit_test(test_transpose_small),
        cmocka_unit_test(test_transpose_tiled),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_concat_many),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_shape_size),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_constant_of_shape),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_tile),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_resize_linear_nearest),
        cmocka_unit_test(test_resize_cubic),
        cmocka_unit_test(test_resize_antialias),
        cmocka_unit_test(test_resize10_upsample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
