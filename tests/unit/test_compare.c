/* Comparison metrics (onnxc_metrics_compute/merge/within, oc_median) on hand-computed vectors: errors, NMSE,
 * cosine, median, NaN/Inf handling, top-1/top-5 agreement; and the comparison engine through the public API on
 * a committed model compared with itself (every figure exactly zero), under allocation failures, and against
 * PyTorch's saved outputs given in memory. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare.h"
#include "onnxc/onnxc.h"
#include "util.h"

/* |got - want| <= eps (equal infinities too), reporting both values when not. */
static void assert_near_at(double got, double want, double eps, const char *file, int line)
{
    if (got == want || fabs(got - want) <= eps)
        return;
    print_error("got %.17g, want %.17g (tolerance %g)\n", got, want, eps);
    _fail(file, line);
}
#define assert_near(got, want, eps) assert_near_at((got), (want), (eps), __FILE__, __LINE__)

static onnxc_tensor vec(int32_t dtype, int rank, const int64_t *dims, void *data, size_t nbytes)
{
    onnxc_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    t.data = data;
    t.nbytes = nbytes;
    return t;
}

#define F32(name, n, ...)                                                                                         \
    float name##_data[n] = {__VA_ARGS__};                                                                         \
    int64_t name##_dims[1] = {n};                                                                                 \
    onnxc_tensor name = vec(ONNXC_FLOAT, 1, name##_dims, name##_data, sizeof name##_data)

/* a = [1, 2, 3, 4], b = [1, 2.5, 2, 4]: |b - a| = [0, 0.5, 1, 0]. */
static void test_basic_errors(void **state)
{
    (void)state;
    F32(a, 4, 1, 2, 3, 4);
    F32(b, 4, 1, 2.5f, 2, 4);
    onnxc_metrics m;
    assert_int_equal(onnxc_metrics_compute(&a, &b, 0.1, 0.1, &m), ONNXC_OK);
    assert_true(m.comparable);
    assert_int_equal(m.n, 4);
    assert_int_equal(m.n_finite, 4);
    assert_near(m.max_abs, 1.0, 0);
    assert_near(m.max_rel, 1.0 / 3.0, 1e-15);        /* max(0.5/2, 1/3) */
    assert_near(m.mean_abs, 1.5 / 4, 0);             /* (0 + 0.5 + 1 + 0) / 4 */
    assert_near(m.median_abs, 0.25, 0);              /* sorted 0, 0, 0.5, 1: (0 + 0.5) / 2 */
    assert_near(m.nmse, 1.25 / 30.0, 1e-15);         /* (0.25 + 1) / (1 + 4 + 9 + 16) */
    assert_near(m.cosine, 28.0 / sqrt(30.0 * 27.25), 1e-15); /* (1 + 5 + 6 + 16) / sqrt(30 * 27.25) */
    /* atol + rtol*|a| = 0.2, 0.3, 0.4, 0.5: elements 1 (0.5) and 2 (1) fail */
    assert_int_equal(m.n_fail, 2);
    assert_int_equal(m.nan_a + m.nan_b + m.inf_a + m.inf_b + m.n_nonfinite_mismatch, 0);
    assert_int_equal(m.top1_rows, 0); /* rank 1: no top-k */
    assert_false(onnxc_metrics_within(&m, 1.0));
    /* tolerances loose enough: within */
    assert_int_equal(onnxc_metrics_compute(&a, &b, 1.0, 0, &m), ONNXC_OK);
    assert_int_equal(m.n_fail, 0);
    assert_true(onnxc_metrics_within(&m, 0.05));
    assert_false(onnxc_metrics_within(&m, 0.04)); /* NMSE 0.041666... decides */
    /* the boundary passes: |b - a| == atol exactly */
    assert_int_equal(onnxc_metrics_compute(&a, &b, 1.0, 0, &m), ONNXC_OK);
    assert_int_equal(m.n_fail, 0);
    assert_int_equal(onnxc_metrics_compute(&a, &b, 0.5, 0, &m), ONNXC_OK);
    assert_int_equal(m.n_fail, 1);
}

/* a NaN never passes (not even against NaN), equal infinities pass, and neither enters the error figures. */
static void test_nan_inf(void **state)
{
    (void)state;
    F32(a, 6, NAN, 1, INFINITY, -INFINITY, 2, NAN);
    F32(b, 6, NAN, NAN, INFINITY, INFINITY, 2, 1);
    onnxc_metrics m;
    assert_int_equal(onnxc_metrics_compute(&a, &b, 1e-5, 1e-4, &m), ONNXC_OK);
    assert_int_equal(m.nan_a, 2);
    assert_int_equal(m.nan_b, 2);
    assert_int_equal(m.inf_a, 2);
    assert_int_equal(m.inf_b, 2);
    assert_int_equal(m.n_finite, 1);             /* only (2, 2) */
    assert_int_equal(m.n_fail, 4);               /* NaN/NaN, 1/NaN, -inf/inf, NaN/1 */
    assert_int_equal(m.n_nonfinite_mismatch, 3); /* 1/NaN, -inf/inf, NaN/1 */
    assert_near(m.max_abs, 0, 0);
    assert_near(m.nmse, 0, 0);
    assert_near(m.cosine, 1, 0);
    assert_false(onnxc_metrics_within(&m, INFINITY));
    /* the same NaN pattern on both sides still fails */
    F32(c, 2, NAN, 1);
    assert_int_equal(onnxc_metrics_compute(&c, &c, 1, 1, &m), ONNXC_OK);
    assert_int_equal(m.n_fail, 1);
    assert_int_equal(m.n_nonfinite_mismatch, 0);
    /* equal infinities alone are within */
    F32(d, 2, INFINITY, 3);
    assert_int_equal(onnxc_metrics_compute(&d, &d, 0, 0, &m), ONNXC_OK);
    assert_int_equal(m.n_fail, 0);
    assert_true(onnxc_metrics_within(&m, 0));
}

static void test_cosine_and_zero_cases(void **state)
{
    (void)state;
    onnxc_metrics m;
    F32(x, 2, 1, 0);
    F32(y, 2, 0, 1);
    assert_int_equal(onnxc_metrics_compute(&x, &y, 0, 0, &m), ONNXC_OK);
    assert_near(m.cosine, 0, 0); /* orthogonal */
    assert_near(m.nmse, 2.0, 0); /* (1 + 1) / 1 */
    F32(p, 2, 1, 2);
    F32(q, 2, -1, -2);
    assert_int_equal(onnxc_metrics_compute(&p, &q, 0, 0, &m), ONNXC_OK);
    assert_near(m.cosine, -1, 1e-15);
    assert_near(m.nmse, 4.0, 1e-15); /* (4 + 16) / (1 + 4) */
    assert_near(m.max_rel, 2.0, 0);
    F32(z, 2, 0, 0);
    assert_int_equal(onnxc_metrics_compute(&z, &z, 0, 0, &m), ONNXC_OK);
    assert_near(m.cosine, 1, 0); /* both all zero: identical */
    assert_near(m.nmse, 0, 0);
    assert_near(m.max_rel, 0, 0);
    assert_int_equal(onnxc_metrics_compute(&z, &p, 0, 0, &m), ONNXC_OK);
    assert_near(m.cosine, 0, 0);
    assert_true(isinf(m.nmse));          /* reference all zero, b not */
    assert_near(m.max_rel, 0, 0); /* no element with a != 0 */
    assert_near(m.max_abs, 2, 0);
    assert_int_equal(onnxc_metrics_compute(&p, &z, 0, 0, &m), ONNXC_OK);
    assert_near(m.cosine, 0, 0);
    assert_near(m.nmse, 1.0, 0); /* b = 0: everything lost */
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void test_median(void **state)
{
    (void)state;
    double v1[] = {3, 1, 2};
    assert_near(oc_median(v1, 3), 2, 0);
    double v2[] = {4, 1, 3, 2};
    assert_near(oc_median(v2, 4), 2.5, 0);
    double v3[] = {5, 5, 5, 1, 5};
    assert_near(oc_median(v3, 5), 5, 0);
    double v4[] = {7};
    assert_near(oc_median(v4, 1), 7, 0);
    assert_near(oc_median(NULL, 0), 0, 0);
    double v5[] = {2, 2, 1, 1};
    assert_near(oc_median(v5, 4), 1.5, 0);
    /* many sizes, with duplicates, sorted and reversed runs, against qsort */
    uint64_t st = 12345;
    for (int n = 1; n < 300; n += 7) {
        double *v = malloc((size_t)n * sizeof *v), *w = malloc((size_t)n * sizeof *w);
        assert_non_null(v);
        assert_non_null(w);
        for (int i = 0; i < n; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            v[i] = (n % 3 == 0) ? i : (n % 3 == 1) ? (double)(n - i) : (double)((st >> 33) % 17);
            w[i] = v[i];
        }
        qsort(w, (size_t)n, sizeof *w, cmp_double);
        double want = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
        assert_near(oc_median(v, n), want, 0);
        free(v);
        free(w);
    }
}

/* [3, 7] logits: row 0 top-1 moves (6 -> 5 at index 1 vs 2) but the top-5 set stays; row 1 a tie at the top
 * goes to the lower index (0), which changes both; row 2 is equal. */
static void test_topk(void **state)
{
    (void)state;
    float a[21] = {0, 6, 5, 4, 3, 2, 1, /**/ 1, 2, 3, 4, 5, 6, 7, /**/ 9, 8, 7, 6, 5, 4, 3};
    float b[21] = {0, 5, 6, 4, 3, 2, 1, /**/ 7, 2, 3, 4, 5, 6, 7, /**/ 9, 8, 7, 6, 5, 4, 3};
    int64_t dims[2] = {3, 7};
    onnxc_tensor ta = vec(ONNXC_FLOAT, 2, dims, a, sizeof a), tb = vec(ONNXC_FLOAT, 2, dims, b, sizeof b);
    onnxc_metrics m;
    assert_int_equal(onnxc_metrics_compute(&ta, &tb, 0, 0, &m), ONNXC_OK);
    assert_int_equal(m.top1_rows, 3);
    assert_int_equal(m.top1_agree, 1); /* row 2 */
    assert_int_equal(m.top5_rows, 3);
    assert_int_equal(m.top5_agree, 2); /* rows 0 and 2 */
    /* 4 classes: top-1 only */
    float c[8] = {1, 2, 3, 4, 4, 3, 2, 1};
    float d[8] = {1, 2, 4, 3, 4, 3, 2, 1};
    int64_t dims2[2] = {2, 4};
    onnxc_tensor tc = vec(ONNXC_FLOAT, 2, dims2, c, sizeof c), td = vec(ONNXC_FLOAT, 2, dims2, d, sizeof d);
    assert_int_equal(onnxc_metrics_compute(&tc, &td, 0, 0, &m), ONNXC_OK);
    assert_int_equal(m.top1_rows, 2);
    assert_int_equal(m.top1_agree, 1);
    assert_int_equal(m.top5_rows, 0);
    /* a NaN ranks lowest */
    float e[6] = {NAN, 1, 0, 0, 0, 0};
    int64_t dims3[2] = {1, 6};
    onnxc_tensor te = vec(ONNXC_FLOAT, 2, dims3, e, sizeof e);
    float f[6] = {-5, 1, 0, 0, 0, 0};
    onnxc_tensor tf = vec(ONNXC_FLOAT, 2, dims3, f, sizeof f);
    assert_int_equal(onnxc_metrics_compute(&te, &tf, 0, 0, &m), ONNXC_OK);
    assert_int_equal(m.top1_agree, 1);
    assert_int_equal(m.top5_agree, 1); /* both {1, 2, 3, 4, 5}: NaN and -5 are the smallest */
}

static void test_types_and_shapes(void **state)
{
    (void)state;
    onnxc_metrics m;
    F32(a, 3, 1, 2, 3);
    F32(b4, 4, 1, 2, 3, 4);
    assert_int_equal(onnxc_metrics_compute(&a, &b4, 0, 0, &m), ONNXC_OK);
    assert_false(m.comparable);
    assert_int_equal(m.n, 0);
    assert_false(onnxc_metrics_within(&m, INFINITY));
    double dd[3] = {1, 2, 3};
    int64_t d3[1] = {3};
    onnxc_tensor td = vec(ONNXC_DOUBLE, 1, d3, dd, sizeof dd);
    assert_int_equal(onnxc_metrics_compute(&a, &td, 0, 0, &m), ONNXC_OK);
    assert_false(m.comparable);
    /* integers: compared as numbers */
    int64_t ia[3] = {1, 2, 3}, ib[3] = {1, 2, 5};
    onnxc_tensor tia = vec(ONNXC_INT64, 1, d3, ia, sizeof ia), tib = vec(ONNXC_INT64, 1, d3, ib, sizeof ib);
    assert_int_equal(onnxc_metrics_compute(&tia, &tib, 0, 0, &m), ONNXC_OK);
    assert_true(m.comparable);
    assert_near(m.max_abs, 2, 0);
    assert_int_equal(m.n_fail, 1);
    assert_near(m.nmse, 4.0 / 14.0, 1e-15);
    /* float16: 1.0 = 0x3C00, 1.5 = 0x3E00, -2 = 0xC000 */
    uint16_t ha[2] = {0x3C00, 0xC000}, hb[2] = {0x3E00, 0xC000};
    int64_t d2[1] = {2};
    onnxc_tensor tha = vec(ONNXC_FLOAT16, 1, d2, ha, sizeof ha), thb = vec(ONNXC_FLOAT16, 1, d2, hb, sizeof hb);
    assert_int_equal(onnxc_metrics_compute(&tha, &thb, 0, 0, &m), ONNXC_OK);
    assert_near(m.max_abs, 0.5, 0);
    assert_near(m.nmse, 0.25 / 5.0, 1e-15);
    /* a scalar */
    float s1 = 2, s2 = 3;
    onnxc_tensor ts1 = vec(ONNXC_FLOAT, 0, NULL, &s1, sizeof s1), ts2 = vec(ONNXC_FLOAT, 0, NULL, &s2, sizeof s2);
    assert_int_equal(onnxc_metrics_compute(&ts1, &ts2, 0, 0, &m), ONNXC_OK);
    assert_int_equal(m.n, 1);
    assert_near(m.max_rel, 0.5, 0);
    /* empty tensors compare equal */
    int64_t d0[1] = {0};
    onnxc_tensor te = vec(ONNXC_FLOAT, 1, d0, NULL, 0);
    assert_int_equal(onnxc_metrics_compute(&te, &te, 0, 0, &m), ONNXC_OK);
    assert_true(onnxc_metrics_within(&m, 0));
    /* strings compare exactly, element by element; complex tensors are not compared */
    onnxc_string sx[3] = {{1, "a"}, {2, "bc"}, {0, ""}}, sy[3] = {{1, "a"}, {2, "bd"}, {0, ""}};
    int64_t ds[1] = {3};
    onnxc_tensor tsx = vec(ONNXC_STRING, 1, ds, sx, sizeof sx), tsy = vec(ONNXC_STRING, 1, ds, sy, sizeof sy);
    assert_int_equal(onnxc_metrics_compute(&tsx, &tsx, 0, 0, &m), ONNXC_OK);
    assert_true(onnxc_metrics_within(&m, 0));
    assert_int_equal(m.n, 3);
    assert_int_equal(onnxc_metrics_compute(&tsx, &tsy, 0, 0, &m), ONNXC_OK);
    assert_false(onnxc_metrics_within(&m, 1e30));
    assert_int_equal(m.n_fail, 1);
    onnxc_tensor tca = vec(ONNXC_COMPLEX64, 1, d0, NULL, 0);
    assert_int_equal(onnxc_metrics_compute(&tca, &tca, 0, 0, &m), ONNXC_E_UNSUPPORTED);
    /* bad arguments are refused */
    assert_int_equal(onnxc_metrics_compute(&a, &a, -1, 0, &m), ONNXC_E_ARG);
    assert_int_equal(onnxc_metrics_compute(&a, &a, NAN, 0, &m), ONNXC_E_ARG);
    onnxc_tensor short_data = a;
    short_data.nbytes = 4;
    assert_int_equal(onnxc_metrics_compute(&short_data, &a, 0, 0, &m), ONNXC_E_ARG);
    assert_string_not_equal(onnxc_last_error(), "");
}

/* Merging samples: counts add up, errors keep the worst, cosine the smallest. */
static void test_merge(void **state)
{
    (void)state;
    F32(a, 4, 1, 2, 3, 4);
    F32(b, 4, 1, 2.5f, 2, 4);
    F32(c, 4, 1, 2, 3, 4.25f);
    onnxc_metrics s1, s2, acc;
    assert_int_equal(onnxc_metrics_compute(&a, &b, 0.1, 0.1, &s1), ONNXC_OK);
    assert_int_equal(onnxc_metrics_compute(&a, &c, 0.1, 0.1, &s2), ONNXC_OK);
    memset(&acc, 0, sizeof acc);
    onnxc_metrics_merge(&acc, &s2);
    onnxc_metrics_merge(&acc, &s1);
    assert_int_equal(acc.samples, 2);
    assert_int_equal(acc.n, 8);
    assert_int_equal(acc.n_fail, 2);                 /* 0.25 <= 0.5 passes in s2 */
    assert_near(acc.max_abs, 1, 0);          /* s1 */
    assert_near(acc.nmse, 1.25 / 30.0, 1e-15); /* s1 is worse than 0.0625/30 */
    assert_near(acc.cosine, s1.cosine, 0);
    assert_near(acc.mean_abs, 0.375, 0);
    assert_true(acc.comparable);
    F32(d, 3, 1, 2, 3);
    onnxc_metrics s3;
    assert_int_equal(onnxc_metrics_compute(&a, &d, 0, 0, &s3), ONNXC_OK);
    onnxc_metrics_merge(&acc, &s3);
    assert_false(acc.comparable);
    assert_int_equal(acc.samples, 3);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    F32(a, 4, 1, 2, 3, 4);
    onnxc_metrics m;
    oc_alloc_fail_after(1);
    onnxc_status st = onnxc_metrics_compute(&a, &a, 0, 0, &m);
    oc_alloc_fail_after(0);
    assert_int_equal(st, ONNXC_E_NOMEM);
}

/* The engine through the public API: a model against itself is exact, value by value. */
static void test_engine_self(void **state)
{
    (void)state;
    onnxc_model *a = NULL, *b = NULL;
    assert_int_equal(onnxc_model_load(ONNXC_SOURCE_DIR "/models/resnet_like.onnx", &a), ONNXC_OK);
    assert_int_equal(onnxc_model_load(ONNXC_SOURCE_DIR "/models/resnet_like.onnx", &b), ONNXC_OK);
    onnxc_compare_options o;
    onnxc_compare_options_init(&o);
    assert_near(o.atol, 1e-5, 0);
    assert_near(o.rtol, 1e-4, 0);
    assert_near(o.nmse, 1e-7, 0);
    o.per_node = 1;
    o.threads = 1;
    onnxc_comparison *c = NULL;
    assert_int_equal(onnxc_compare_create(a, b, &o, &c), ONNXC_OK);
    assert_int_equal(onnxc_compare_within(c), 0); /* nothing run yet */
    int64_t dims[4] = {2, 3, 32, 32};
    onnxc_tensor *x = NULL;
    assert_int_equal(onnxc_tensor_create(ONNXC_FLOAT, 4, dims, &x), ONNXC_OK);
    for (int64_t i = 0; i < onnxc_tensor_numel(x); i++)
        ((float *)x->data)[i] = (float)sin((double)i * 0.37);
    const char *names[1] = {"input"};
    const onnxc_tensor *in[1] = {x};
    for (int s = 0; s < 2; s++)
        assert_int_equal(onnxc_compare_run(c, 1, names, in), ONNXC_OK);
    assert_int_equal(onnxc_compare_num_samples(c), 2);
    assert_int_equal(onnxc_compare_num_outputs(c), 1);
    const onnxc_compare_entry *e = onnxc_compare_output(c, 0);
    assert_string_equal(e->name, "logits");
    assert_int_equal(e->metrics.n, 2 * 2 * 10);
    assert_near(e->metrics.max_abs, 0, 0);
    assert_int_equal(e->metrics.top1_rows, 4);
    assert_int_equal(e->metrics.top1_agree, 4);
    assert_true(e->within);
    assert_true(onnxc_compare_within(c));
    /* every node output of the (unchanged) graph is shared: 23 nodes, one output each */
    assert_int_equal(onnxc_compare_num_nodes(c), 23);
    for (int i = 0; i < onnxc_compare_num_nodes(c); i++) {
        const onnxc_compare_entry *v = onnxc_compare_node(c, i);
        assert_near(v->metrics.max_abs, 0, 0);
        assert_int_equal(v->metrics.samples, 2);
        assert_string_equal(v->op_type, v->op_type_a);
    }
    assert_string_equal(onnxc_compare_node(c, 0)->op_type, "Conv");
    assert_int_equal(onnxc_compare_first_divergence(c), -1);
    assert_null(onnxc_compare_node(c, 23));
    assert_null(onnxc_compare_output(c, 1));
    assert_int_equal(onnxc_compare_by_position(c), 0);
    assert_int_equal(onnxc_compare_num_unmatched(c, 0), 0);
    /* a wrong input shape is the session's one-line error, prefixed with the model's label */
    int64_t bad[4] = {1, 3, 16, 16};
    onnxc_tensor *y = NULL;
    assert_int_equal(onnxc_tensor_create(ONNXC_FLOAT, 4, bad, &y), ONNXC_OK);
    in[0] = y;
    assert_int_not_equal(onnxc_compare_run(c, 1, names, in), ONNXC_OK);
    assert_non_null(strstr(onnxc_last_error(), "A: "));
    assert_non_null(strstr(onnxc_last_error(), "input"));
    onnxc_tensor_free(y);
    onnxc_tensor_free(x);
    onnxc_compare_free(c);
    onnxc_model_free(a);
    onnxc_model_free(b);
}

/* Allocation failures while running a comparison (plans, the per-node copy, the metrics' scratch) give
 * ONNXC_E_NOMEM, never a crash. */
static void test_engine_allocation_failures(void **state)
{
    (void)state;
    onnxc_model *a = NULL;
    assert_int_equal(onnxc_model_load(ONNXC_SOURCE_DIR "/models/linear_bn1d.onnx", &a), ONNXC_OK);
    onnxc_io_info info;
    assert_int_equal(onnxc_model_input_info(a, 0, &info), ONNXC_OK);
    int64_t dims[ONNXC_MAX_RANK];
    for (int d = 0; d < info.rank; d++)
        dims[d] = info.dims[d] < 0 ? 2 : info.dims[d];
    onnxc_tensor *x = NULL;
    assert_int_equal(onnxc_tensor_create(info.dtype, info.rank, dims, &x), ONNXC_OK);
    const char *names[1] = {info.name};
    const onnxc_tensor *in[1] = {x};
    onnxc_compare_options o;
    onnxc_compare_options_init(&o);
    o.per_node = 1;
    o.threads = 1;
    int saw_ok = 0;
    for (size_t k = 1; k < 400 && !saw_ok; k++) {
        onnxc_comparison *c = NULL;
        /* creation is not under injection: a session whose creation fails an allocation is freed by
         * runtime/session.c in a way that crashes (reported to its owner) */
        assert_int_equal(onnxc_compare_create(a, a, &o, &c), ONNXC_OK);
        oc_alloc_fail_after(k);
        onnxc_status st = onnxc_compare_run(c, 1, names, in);
        oc_alloc_fail_after(0);
        if (st == ONNXC_OK) {
            assert_true(onnxc_compare_within(c));
            saw_ok = 1;
        } else {
            assert_int_equal(st, ONNXC_E_NOMEM);
        }
        onnxc_compare_free(c);
    }
    assert_true(saw_ok);
    onnxc_tensor_free(x);
    onnxc_model_free(a);
}

/* Saved outputs in memory (onnxc_compare_create_reference_tensors): PyTorch's outputs of detector_small
 * (models/expected) as the reference, copied at creation (the caller's tensors are freed before the run), a
 * name the model lacks kept as unmatched, a missing output and a name given twice refused. */
static void test_reference_tensors(void **state)
{
    (void)state;
    onnxc_model *b = NULL;
    assert_int_equal(onnxc_model_load(ONNXC_SOURCE_DIR "/models/detector_small.onnx", &b), ONNXC_OK);
    onnxc_tensor *x = NULL, *o0 = NULL, *o1 = NULL;
    assert_int_equal(onnxc_tensor_read(ONNXC_SOURCE_DIR "/models/expected/detector_small/input_0.npy", &x, NULL),
                     ONNXC_OK);
    assert_int_equal(onnxc_tensor_read(ONNXC_SOURCE_DIR "/models/expected/detector_small/output_0.npy", &o0, NULL),
                     ONNXC_OK);
    assert_int_equal(onnxc_tensor_read(ONNXC_SOURCE_DIR "/models/expected/detector_small/output_1.npy", &o1, NULL),
                     ONNXC_OK);
    const char *rn[3] = {"cls_logits", "box_regression", "extra"};
    const onnxc_tensor *rt[3] = {o0, o1, o0};
    onnxc_compare_options o;
    onnxc_compare_options_init(&o);
    o.threads = 1;
    onnxc_comparison *c = NULL;
    /* an output with no reference, a name twice */
    assert_int_equal(onnxc_compare_create_reference_tensors(b, 1, rn, rt, "ref", &o, &c), ONNXC_E_INVALID);
    assert_null(c);
    assert_non_null(strstr(onnxc_last_error(), "no reference for output 'box_regression'"));
    const char *twice[2] = {"cls_logits", "cls_logits"};
    assert_int_equal(onnxc_compare_create_reference_tensors(b, 2, twice, rt, NULL, &o, &c), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "given twice"));
    o.per_node = 1;
    assert_int_equal(onnxc_compare_create_reference_tensors(b, 3, rn, rt, NULL, &o, &c), ONNXC_E_ARG);
    o.per_node = 0;
    assert_int_equal(onnxc_compare_create_reference_tensors(b, 3, rn, rt, NULL, &o, &c), ONNXC_OK);
    onnxc_tensor_free(o0); /* copied: the comparison no longer needs them */
    onnxc_tensor_free(o1);
    assert_string_equal(onnxc_compare_reference_dir(c), "<arrays>");
    assert_int_equal(onnxc_compare_num_unmatched(c, 0), 1);
    assert_string_equal(onnxc_compare_unmatched(c, 0, 0), "extra");
    const char *names[1] = {"input"};
    const onnxc_tensor *in[1] = {x};
    assert_int_equal(onnxc_compare_run(c, 1, names, in), ONNXC_OK);
    assert_int_equal(onnxc_compare_num_outputs(c), 2);
    for (int k = 0; k < 2; k++) {
        const onnxc_compare_entry *e = onnxc_compare_output(c, k);
        assert_string_equal(e->name, rn[k]);
        assert_true(e->metrics.comparable);
        assert_true(e->metrics.nmse <= 1e-10);
        assert_true(e->within);
    }
    assert_true(onnxc_compare_within(c));
    /* one sample only: the reference holds the outputs of one */
    assert_int_equal(onnxc_compare_run(c, 1, names, in), ONNXC_E_ARG);
    onnxc_compare_free(c);
    onnxc_tensor_free(x);
    onnxc_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_errors),
        cmocka_unit_test(test_nan_inf),
        cmocka_unit_test(test_cosine_and_zero_cases),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_types_and_shapes),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_allocation_failure),
        cmocka_unit_test(test_engine_self),
        cmocka_unit_test(test_engine_allocation_failures),
        cmocka_unit_test(test_reference_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
