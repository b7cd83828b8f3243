/* Unit tests of the element-wise, unary, softmax and reduction kernels on cases the ONNX 1.12 node tests do not
 * cover: legacy broadcasting, integer edge cases, opset-18 axes inputs, long reductions, threaded loops.
 * Expected values are hand-computed (or closed-form) here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "kutil.h"
#include "threadpool.h"

#include "kernel_case.h"

/* ---- harness: one node run through infer and run like the session does ---- */
typedef struct kcase {
    onnxc_model *model;
    oc_node *node;
    int64_t opset;
    int n_in;
    onnxc_tensor in_t[4];
    onnxc_tensor *in[4];
    onnxc_tensor out_t;
    onnxc_tensor *out[1];
} kcase;

static const oc_kernel *find_kernel(const char *op, int64_t opset)
{
    const oc_kernel *tables[] = {oc_kernels_binary, oc_kernels_unary, oc_kernels_reduce};
    for (size_t t = 0; t < 3; t++)
        for (const oc_kernel *k = tables[t]; k->op_type; k++)
            if (strcmp(k->op_type, op) == 0 && opset >= k->since && (!k->until || opset <= k->until))
                return k;
    return NULL;
}

static void kc_init(kcase *kc, const char *op, int64_t opset)
{
    memset(kc, 0, sizeof *kc);
    kc->model = oc_model_new();
    assert_non_null(kc->model);
    kc->node = oc_graph_add_node(kc->model->graph, op, NULL, "n0");
    assert_non_null(kc->node);
    kc->opset = opset;
}

static void kc_free(kcase *kc)
{
    free(kc->out_t.data);
    onnxc_model_free(kc->model);
}

static void kc_input(kcase *kc, int i, int32_t dtype, int rank, const int64_t *dims, const void *data)
{
    onnxc_tensor *t = &kc->in_t[i];
    kt_tensor(t, dtype, rank, dims, data);
    kc->in[i] = data ? t : NULL;
    if (i + 1 > kc->n_in)
        kc->n_in = i + 1;
}

static void kc_int(kcase *kc, const char *name, int64_t v)
{
    assert_int_equal(oc_node_set_attr_int(kc->node, name, v), ONNXC_OK);
}

static void kc_float(kcase *kc, const char *name, float v)
{
    assert_int_equal(oc_node_set_attr_float(kc->node, name, v), ONNXC_OK);
}

static void kc_ints(kcase *kc, const char *name, int n, const int64_t *v)
{
    assert_int_equal(oc_node_set_attr_ints(kc->node, name, v, (size_t)n), ONNXC_OK);
}

/* threads: the size of the pool the kernel gets, as a session's */
static onnxc_status kc_run(kcase *kc, int threads)
{
    const oc_kernel *k = find_kernel(kc->node->op_type, kc->opset);
    assert_non_null(k);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = kc->node;
    c.opset = kc->opset;
    c.n_in = kc->n_in;
    c.in = kc->in;
    c.n_out = 1;
    kc->out[0] = &kc->out_t;
    memset(&kc->out_t, 0, sizeof kc->out_t);
    c.out = kc->out;
    oc_threadpool *pool = NULL;
    assert_int_equal(oc_pool_create(threads, &pool), ONNXC_OK);
    c.pool = pool;
    onnxc_status st = k->infer(&c);
    if (st == ONNXC_OK) {
        onnxc_tensor *t = &kc->out_t;
        t->nbytes = (size_t)onnxc_tensor_numel(t) * onnxc_dtype_size(t->dtype);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        assert_non_null(t->data);
        memset(t->data, 0xff, t->nbytes); /* NaN for floats: unwritten outputs show */
        st = k->run(&c);
    }
    oc_pool_free(pool);
    return st;
}

static void expect_dims(const onnxc_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

/* ---- binary ---- */

/* Add-6 with broadcast=1, axis=1: B of shape 3 lines up with A's dim 1 (not numpy's trailing alignment). */
static void test_add_legacy_axis(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Add", 6);
    float a[24], b[3] = {100, 200, 300};
    for (int i = 0; i < 24; i++)
        a[i] = (float)i;
    int64_t da[] = {2, 3, 4}, db[] = {3};
    kc_input(&kc, 0, ONNXC_FLOAT, 3, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, db, b);
    kc_int(&kc, "broadcast", 1);
    kc_int(&kc, "axis", 1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    expect_dims(&kc.out_t, 3, da);
    const float *y = kc.out_t.data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_true(y[(i * 3 + j) * 4 + k] == a[(i * 3 + j) * 4 + k] + b[j]);
    kc_free(&kc);

    /* broadcast=0 (the default) refuses different shapes */
    kc_init(&kc, "Add", 6);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, db, b);
    assert_int_equal(kc_run(&kc, 3), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "n0"));
    kc_free(&kc);
}

static void test_broadcast_mismatch(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Mul", 14);
    float a[6] = {0}, b[4] = {0};
    int64_t da[] = {2, 3}, db[] = {4};
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, db, b);
    assert_int_equal(kc_run(&kc, 3), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "n0"));
    kc_free(&kc);
}

static void test_int_div(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Div", 14);
    int32_t a[] = {7, -7, INT32_MIN, 9}, b[] = {2, 2, -1, -4};
    int64_t d[] = {4};
    kc_input(&kc, 0, ONNXC_INT32, 1, d, a);
    kc_input(&kc, 1, ONNXC_INT32, 1, d, b);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const int32_t *y = kc.out_t.data;
    assert_int_equal(y[0], 3);          /* truncation toward zero, as C and ONNX Runtime */
    assert_int_equal(y[1], -3);
    assert_int_equal(y[2], INT32_MIN);  /* wraps instead of trapping */
    assert_int_equal(y[3], -2);
    kc_free(&kc);

    kc_init(&kc, "Div", 14);
    int32_t z[] = {1, 0, 1, 1};
    kc_input(&kc, 0, ONNXC_INT32, 1, d, a);
    kc_input(&kc, 1, ONNXC_INT32, 1, d, z);
    assert_int_equal(kc_run(&kc, 3), ONNXC_E_RUNTIME);
    assert_non_null(strstr(onnxc_last_error(), "division by zero"));
    kc_free(&kc);
}

static void test_mod(void **state)
{
    (void)state;
    int64_t a[] = {-7, 7, -7, 7}, b[] = {3, 3, -3, -3};
    int64_t d[] = {4};
    kcase kc;
    kc_init(&kc, "Mod", 13);
    kc_input(&kc, 0, ONNXC_INT64, 1, d, a);
    kc_input(&kc, 1, ONNXC_INT64, 1, d, b);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const int64_t *y = kc.out_t.data;
    /* fmod=0: sign of the divisor, like Python's % */
    assert_int_equal(y[0], 2);
    assert_int_equal(y[1], 1);
    assert_int_equal(y[2], -1);
    assert_int_equal(y[3], -2);
    kc_free(&kc);

    kc_init(&kc, "Mod", 13);
    kc_input(&kc, 0, ONNXC_INT64, 1, d, a);
    kc_input(&kc, 1, ONNXC_INT64, 1, d, b);
    kc_int(&kc, "fmod", 1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    /* fmod=1: sign of the dividend, like C */
    assert_int_equal(y[0], -1);
    assert_int_equal(y[1], 1);
    assert_int_equal(y[2], -1);
    assert_int_equal(y[3], 1);
    kc_free(&kc);
}

static void test_pow_types(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Pow", 15);
    int64_t a[] = {3, -2, 2}, b[] = {39, 3, -1};
    int64_t d[] = {3};
    kc_input(&kc, 0, ONNXC_INT64, 1, d, a);
    kc_input(&kc, 1, ONNXC_INT64, 1, d, b);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const int64_t *y = kc.out_t.data;
    assert_true(y[0] == 4052555153018976267LL); /* 3^39, beyond double's 2^53 */
    assert_int_equal(y[1], -8);
    assert_int_equal(y[2], 0);                   /* 1/2 truncated */
    kc_free(&kc);

    kc_init(&kc, "Pow", 15);
    float fa[] = {2.0f, 9.0f, -3.0f};
    int32_t ib[] = {-1, 2, 3};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, fa);
    kc_input(&kc, 1, ONNXC_INT32, 1, d, ib);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_int_equal(kc.out_t.dtype, ONNXC_FLOAT);
    const float *fy = kc.out_t.data;
    assert_true(fy[0] == 0.5f);
    assert_true(fy[1] == 81.0f);
    assert_true(fy[2] == -27.0f);
    kc_free(&kc);
}

static void test_bitshift(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "BitShift", 11);
    uint8_t a[] = {1, 255, 255}, b[] = {7, 8, 3};
    int64_t d[] = {3};
    kc_input(&kc, 0, ONNXC_UINT8, 1, d, a);
    kc_input(&kc, 1, ONNXC_UINT8, 1, d, b);
    kt_string(kc.node, "direction", "LEFT");
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const uint8_t *y = kc.out_t.data;
    assert_int_equal(y[0], 128);
    assert_int_equal(y[1], 0);   /* shifting out every bit */
    assert_int_equal(y[2], 248);
    kc_free(&kc);
}

static void test_where_three_way(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Where", 16);
    uint8_t cnd[] = {1, 0};
    int64_t x[] = {1, 2, 3}, yv[] = {9};
    int64_t dc[] = {2, 1}, dx[] = {3};
    kc_input(&kc, 0, ONNXC_BOOL, 2, dc, cnd);
    kc_input(&kc, 1, ONNXC_INT64, 1, dx, x);
    kc_input(&kc, 2, ONNXC_INT64, 0, NULL, yv);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    int64_t dy[] = {2, 3};
    expect_dims(&kc.out_t, 2, dy);
    const int64_t *y = kc.out_t.data;
    int64_t want[] = {1, 2, 3, 9, 9, 9};
    for (int i = 0; i < 6; i++)
        assert_int_equal(y[i], want[i]);
    kc_free(&kc);
}

static void test_variadic(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Sum", 13);
    float a[] = {1, 2}, b[] = {10, 20, 30}, s[] = {100};
    int64_t da[] = {2, 1}, db[] = {1, 3};
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 2, db, b);
    kc_input(&kc, 2, ONNXC_FLOAT, 0, NULL, s);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const float *y = kc.out_t.data;
    float want[] = {111, 121, 131, 112, 122, 132};
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == want[i]);
    kc_free(&kc);

    /* Mean of float16 inputs: (1 + 2 + 4) / 3 = 2.3333 -> nearest half 0x40ab (2.333984375; 0x40aa is 2.33203125) */
    kc_init(&kc, "Mean", 13);
    uint16_t h1[] = {0x3c00}, h2[] = {0x4000}, h3[] = {0x4400};
    int64_t d1[] = {1};
    kc_input(&kc, 0, ONNXC_FLOAT16, 1, d1, h1);
    kc_input(&kc, 1, ONNXC_FLOAT16, 1, d1, h2);
    kc_input(&kc, 2, ONNXC_FLOAT16, 1, d1, h3);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_int_equal(((const uint16_t *)kc.out_t.data)[0], 0x40ab);
    kc_free(&kc);

    /* Max propagates NaN like numpy.maximum */
    kc_init(&kc, "Max", 13);
    float m1[] = {NAN, 1, 5}, m2[] = {0, NAN, 3};
    int64_t d3[] = {3};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d3, m1);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, d3, m2);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    assert_true(isnan(y[0]) && isnan(y[1]) && y[2] == 5);
    kc_free(&kc);
}

/* Big same-shape, row and column broadcasts on 2 threads: every element checked. */
static void test_threaded_broadcast(void **state)
{
    (void)state;
    const int64_t R = 1000, C = 301;
    float *a = malloc((size_t)(R * C) * sizeof *a), *row = malloc((size_t)C * sizeof *row);
    float *col = malloc((size_t)R * sizeof *col);
    assert_true(a && row && col);
    for (int64_t i = 0; i < R * C; i++)
        a[i] = (float)(i % 977);
    for (int64_t j = 0; j < C; j++)
        row[j] = (float)j * 1000.0f;
    for (int64_t i = 0; i < R; i++)
        col[i] = (float)i * -2.0f;
    int64_t da[] = {R, C}, dr[] = {C}, dc[] = {R, 1};

    kcase kc;
    kc_init(&kc, "Sub", 14);
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dr, row);
    assert_int_equal(kc_run(&kc, 2), ONNXC_OK);
    const float *y = kc.out_t.data;
    for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < C; j++)
            assert_true(y[i * C + j] == a[i * C + j] - row[j]);
    kc_free(&kc);

    kc_init(&kc, "Sub", 14);
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dc, col);
    kc_input(&kc, 1, ONNXC_FLOAT, 2, da, a);
    assert_int_equal(kc_run(&kc, 2), ONNXC_OK);
    y = kc.out_t.data;
    for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < C; j++)
            assert_true(y[i * C + j] == col[i] - a[i * C + j]);
    kc_free(&kc);

    kc_init(&kc, "Relu", 14);
    for (int64_t i = 0; i < R * C; i++)
        a[i] = (i & 1) ? (float)i : -(float)i;
    kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
    assert_int_equal(kc_run(&kc, 2), ONNXC_OK);
    y = kc.out_t.data;
    for (int64_t i = 0; i < R * C; i++)
        assert_true(y[i] == ((i & 1) ? (float)i : 0.0f));
    kc_free(&kc);
    free(a);
    free(row);
    free(col);
}

/* ---- unary ---- */

static void test_clip(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "Clip", 13);
    int8_t x[] = {-128, -5, 0, 5, 127};
    int8_t lo = -3, hi = 4;
    int64_t d[] = {5};
    kc_input(&kc, 0, ONNXC_INT8, 1, d, x);
    kc_input(&kc, 1, ONNXC_INT8, 0, NULL, &lo);
    kc_input(&kc, 2, ONNXC_INT8, 0, NULL, &hi);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const int8_t *y = kc.out_t.data;
    int8_t want[] = {-3, -3, 0, 4, 4};
    for (int i = 0; i < 5; i++)
        assert_int_equal(y[i], want[i]);
    kc_free(&kc);

    /* only max given: min stays open */
    kc_init(&kc, "Clip", 13);
    kc_input(&kc, 0, ONNXC_INT8, 1, d, x);
    kc_input(&kc, 1, ONNXC_INT8, 0, NULL, NULL);
    kc_input(&kc, 2, ONNXC_INT8, 0, NULL, &hi);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    int8_t want2[] = {-128, -5, 0, 4, 4};
    for (int i = 0; i < 5; i++)
        assert_int_equal(y[i], want2[i]);
    kc_free(&kc);

    /* Clip-6: attributes */
    kc_init(&kc, "Clip", 6);
    float fx[] = {-2.0f, 0.25f, 9.0f};
    int64_t d3[] = {3};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d3, fx);
    kc_float(&kc, "min", -1.0f);
    kc_float(&kc, "max", 6.0f);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const float *fy = kc.out_t.data;
    assert_true(fy[0] == -1.0f && fy[1] == 0.25f && fy[2] == 6.0f);
    kc_free(&kc);
}

static void test_cast(void **state)
{
    (void)state;
    kcase kc;
    /* double -> float16 in one rounding: 1 + 2^-11 + 2^-40 is just above the halfway point between 1 and the next
     * half (0x3c01); going through float first would land exactly on the tie and round down to 0x3c00. */
    kc_init(&kc, "Cast", 13);
    double dx[] = {1.0 + ldexp(1, -11) + ldexp(1, -40), -2.5, 65520.0};
    int64_t d3[] = {3};
    kc_input(&kc, 0, ONNXC_DOUBLE, 1, d3, dx);
    kc_int(&kc, "to", ONNXC_FLOAT16);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const uint16_t *h = kc.out_t.data;
    assert_int_equal(h[0], 0x3c01);
    assert_int_equal(h[1], 0xc100);
    assert_int_equal(h[2], 0x7c00);
    kc_free(&kc);

    /* float -> int32 truncates toward zero */
    kc_init(&kc, "Cast", 13);
    float fx[] = {2.7f, -2.7f, 0.0f};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d3, fx);
    kc_int(&kc, "to", ONNXC_INT32);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const int32_t *iy = kc.out_t.data;
    assert_int_equal(iy[0], 2);
    assert_int_equal(iy[1], -2);
    assert_int_equal(iy[2], 0);
    kc_free(&kc);

    /* Cast-1 names the type with a string; int64 -> bool */
    kc_init(&kc, "Cast", 1);
    int64_t lx[] = {0, -5, 1LL << 40};
    kc_input(&kc, 0, ONNXC_INT64, 1, d3, lx);
    kt_string(kc.node, "to", "BOOL");
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_int_equal(kc.out_t.dtype, ONNXC_BOOL);
    const uint8_t *by = kc.out_t.data;
    assert_int_equal(by[0], 0);
    assert_int_equal(by[1], 1);
    assert_int_equal(by[2], 1);
    kc_free(&kc);

    /* float -> string: shortest round-trip digits laid out like numpy's str() */
    kc_init(&kc, "Cast", 13);
    float sx[] = {0.5f, 1e-5f, 100.0f, 0.1f, -INFINITY, 1.5e16f};
    const char *want_s[] = {"0.5", "1e-05", "100.0", "0.1", "-INF", "1.5e+16"};
    int64_t d6[] = {6};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d6, sx);
    kc_int(&kc, "to", ONNXC_STRING);
    const oc_kernel *k = find_kernel("Cast", 13);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = kc.node;
    c.opset = 13;
    c.n_in = 1;
    c.in = kc.in;
    c.n_out = 1;
    kc.out[0] = &kc.out_t;
    c.out = kc.out;
    assert_int_equal(k->infer(&c), ONNXC_OK);
    kc.out_t.data = calloc(6, sizeof(onnxc_string));
    assert_non_null(kc.out_t.data);
    assert_int_equal(k->prepare(&c), ONNXC_OK); /* the text lives in the node's state */
    assert_int_equal(k->run(&c), ONNXC_OK);
    const onnxc_string *so = kc.out_t.data;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(so[i].len, strlen(want_s[i]));
        assert_memory_equal(so[i].data, want_s[i], so[i].len);
    }
    k->release(c.state);
    kc_free(&kc);

    /* string -> int64 reads integers exactly beyond 2^53; junk is an error naming the element */
    kc_init(&kc, "Cast", 13);
    onnxc_string in_s[] = {{17, "12345678901234567"}, {4, "-2.5"}, {3, "abc"}};
    kc_input(&kc, 0, ONNXC_STRING, 1, d3, in_s);
    kc_int(&kc, "to", ONNXC_INT64);
    assert_int_equal(kc_run(&kc, 3), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "abc"));
    const int64_t *ly = kc.out_t.data;
    assert_true(ly[0] == 12345678901234567LL);
    assert_true(ly[1] == -2);
    kc_free(&kc);
}

static void test_prelu_channel(void **state)
{
    (void)state;
    kcase kc;
    kc_init(&kc, "PRelu", 16);
    float x[12], slope[] = {0.5f, 2.0f, -1.0f};
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i - 6);
    int64_t dx[] = {1, 3, 2, 2}, ds[] = {3, 1, 1};
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, ds, slope);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const float *y = kc.out_t.data;
    for (int i = 0; i < 12; i++)
        assert_true(y[i] == (x[i] < 0 ? x[i] * slope[i / 4] : x[i]));
    kc_free(&kc);
}

/* ---- softmax and reductions ---- */

static void test_softmax_axes(void **state)
{
    (void)state;
    kcase kc;
    /* Softmax-13 along axis 1 of 1x3x2: column 0 holds ln 1, ln 2, ln 3 -> 1/6, 2/6, 3/6 */
    kc_init(&kc, "Softmax", 13);
    float x[] = {0.0f, logf(4.0f), logf(2.0f), 0.0f, logf(3.0f), 0.0f};
    int64_t dx[] = {1, 3, 2};
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, x);
    kc_int(&kc, "axis", 1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const float *y = kc.out_t.data;
    float want[] = {1.0f / 6, 4.0f / 6, 2.0f / 6, 1.0f / 6, 3.0f / 6, 1.0f / 6};
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-6);
    kc_free(&kc);

    /* Softmax-11 axis 1 coerces 1x3x2 to 1x6: one row of six */
    kc_init(&kc, "Softmax", 11);
    float z[] = {0, 0, 0, 0, 0, logf(6.0f)};
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dx, z);
    kc_int(&kc, "axis", 1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    for (int i = 0; i < 5; i++)
        assert_float_equal(y[i], 1.0f / 11, 1e-6);
    assert_float_equal(y[5], 6.0f / 11, 1e-6);
    kc_free(&kc);

    /* LogSoftmax with huge logits stays finite: log(1/2) for two equal values */
    kc_init(&kc, "LogSoftmax", 13);
    float big[] = {1e30f, 1e30f};
    int64_t d2[] = {2};
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d2, big);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    assert_float_equal(y[0], -logf(2.0f), 1e-6);
    assert_float_equal(y[1], -logf(2.0f), 1e-6);
    kc_free(&kc);
}

static void test_reduce_axes_input(void **state)
{
    (void)state;
    float x[] = {1, 2, 3, 4, 5, 6};
    int64_t dx[] = {2, 3}, d1[] = {1}, d0[] = {0};
    int64_t ax1[] = {1};
    kcase kc;

    /* ReduceSum-13: axes from input 1, keepdims=0 */
    kc_init(&kc, "ReduceSum", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dx, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, d1, ax1);
    kc_int(&kc, "keepdims", 0);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    int64_t want_dims[] = {2};
    expect_dims(&kc.out_t, 1, want_dims);
    const float *y = kc.out_t.data;
    assert_true(y[0] == 6 && y[1] == 15);
    kc_free(&kc);

    /* empty axes + noop_with_empty_axes=1: the input unchanged */
    kc_init(&kc, "ReduceSum", 13);
    int64_t none[1];
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dx, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, d0, none);
    kc_int(&kc, "noop_with_empty_axes", 1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    expect_dims(&kc.out_t, 2, dx);
    y = kc.out_t.data;
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == x[i]);
    kc_free(&kc);

    /* no axes input, noop=0: reduce everything, keepdims gives 1x1 */
    kc_init(&kc, "ReduceSum", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dx, x);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    int64_t one[] = {1, 1};
    expect_dims(&kc.out_t, 2, one);
    assert_true(((const float *)kc.out_t.data)[0] == 21);
    kc_free(&kc);

    /* ReduceMean-18: axes input (here -2), keepdims default 1 */
    kc_init(&kc, "ReduceMean", 18);
    int64_t axm[] = {-2};
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dx, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, d1, axm);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    int64_t md[] = {1, 3};
    expect_dims(&kc.out_t, 2, md);
    y = kc.out_t.data;
    assert_true(y[0] == 2.5f && y[1] == 3.5f && y[2] == 4.5f);
    kc_free(&kc);

    /* repeated axis is an error */
    kc_init(&kc, "ReduceMax", 13);
    int64_t dup[] = {1, -1};
    kc_input(&kc, 0, ONNXC_FLOAT, 2, dx, x);
    kc_ints(&kc, "axes", 2, dup);
    assert_int_equal(kc_run(&kc, 3), ONNXC_E_INVALID);
    kc_free(&kc);
}

/* 200000 x 0.1f summed in double is 20000.000298..., which rounds to 20000.0f; a float accumulator drifts by
 * whole units. Middle-axis reductions use the strided path. */
static void test_reduce_long_and_strided(void **state)
{
    (void)state;
    const int64_t n = 200000;
    float *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = 0.1f;
    int64_t dx[] = {n};
    kcase kc;
    kc_init(&kc, "ReduceSum", 11);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, dx, x);
    assert_int_equal(kc_run(&kc, 2), ONNXC_OK);
    assert_true(((const float *)kc.out_t.data)[0] == 20000.0f);
    kc_free(&kc);
    free(x);

    /* ReduceMax over axes 0 and 2 of 2x3x4 holding i = a*12 + b*4 + c: the max for each b is 12 + 4b + 3 */
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i;
    int64_t dv[] = {2, 3, 4}, axes[] = {0, 2};
    kc_init(&kc, "ReduceMax", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dv, v);
    kc_ints(&kc, "axes", 2, axes);
    kc_int(&kc, "keepdims", 0);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    const float *y = kc.out_t.data;
    assert_true(y[0] == 15 && y[1] == 19 && y[2] == 23);
    kc_free(&kc);

    /* ReduceSumSquare over axis 1 (kept dims on both sides): sum over b of (a*12 + b*4 + c)^2 */
    int64_t ax1[] = {1};
    kc_init(&kc, "ReduceSumSquare", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dv, v);
    kc_ints(&kc, "axes", 1, ax1);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    y = kc.out_t.data;
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++) {
            double s = 0;
            for (int b = 0; b < 3; b++)
                s += (double)(a * 12 + b * 4 + c) * (a * 12 + b * 4 + c);
            assert_true(y[a * 4 + c] == (float)s);
        }
    kc_free(&kc);

    /* int64 ReduceMax stays exact above 2^53 */
    int64_t big[] = {(1LL << 60) + 1, 1LL << 60, -5};
    int64_t d3[] = {3};
    kc_init(&kc, "ReduceMax", 13);
    kc_input(&kc, 0, ONNXC_INT64, 1, d3, big);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_true(((const int64_t *)kc.out_t.data)[0] == (1LL << 60) + 1);
    kc_free(&kc);

    /* LogSumExp of [1000, 1000] = 1000 + ln 2, no overflow */
    float l[] = {1000.0f, 1000.0f};
    int64_t d2[] = {2};
    kc_init(&kc, "ReduceLogSumExp", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d2, l);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_float_equal(((const float *)kc.out_t.data)[0], 1000.6931471805599, 1e-3);
    kc_free(&kc);
}

static void test_argmax_last(void **state)
{
    (void)state;
    float x[] = {1, 3, 3, 2};
    int64_t d[] = {4};
    kcase kc;
    kc_init(&kc, "ArgMax", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_int_equal(((const int64_t *)kc.out_t.data)[0], 1);
    kc_free(&kc);

    kc_init(&kc, "ArgMax", 13);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
    kc_int(&kc, "select_last_index", 1);
    kc_int(&kc, "keepdims", 0);
    assert_int_equal(kc_run(&kc, 3), ONNXC_OK);
    assert_int_equal(kc.out_t.rank, 0);
    assert_int_equal(((const int64_t *)kc.out_t.data)[0], 2);
    kc_free(&kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_legacy_axis),    cmocka_unit_test(test_broadcast_mismatch),
        cmocka_unit_test(test_int_div),            cmocka_unit_test(test_mod),
        cmocka_unit_test(test_pow_types),          cmocka_unit_test(test_bitshift),
        cmocka_unit_test(test_where_three_way),    cmocka_unit_test(test_variadic),
        cmocka_unit_test(test_threaded_broadcast), cmocka_unit_test(test_clip),
        cmocka_unit_test(test_cast),               cmocka_unit_test(test_prelu_channel),
        cmocka_unit_test(test_softmax_axes),       cmocka_unit_test(test_reduce_axes_input),
        cmocka_unit_test(test_reduce_long_and_strided), cmocka_unit_test(test_argmax_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
