/* Unit tests of the kernel helpers (runtime/kutil.c): broadcasting, strides, half/bfloat16 rounding, generic
 * element access and node-labelled errors, against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kutil.h"

static onnxc_tensor mk(int32_t dtype, int rank, const int64_t *dims, void *data)
{
    onnxc_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    t.data = data;
    return t;
}

static void test_broadcast_shapes(void **state)
{
    (void)state;
    int64_t da[] = {2, 3, 4}, db[] = {3, 1}, dc[] = {1, 1, 1, 4};
    onnxc_tensor a = mk(ONNXC_FLOAT, 3, da, NULL), b = mk(ONNXC_FLOAT, 2, db, NULL), cc = mk(ONNXC_FLOAT, 4, dc, NULL);
    const onnxc_tensor *ts[] = {&a, &b, NULL, &cc};
    int rank = -1;
    int64_t dims[ONNXC_MAX_RANK];
    assert_int_equal(oc_broadcast_shapes(NULL, 4, ts, &rank, dims), ONNXC_OK);
    assert_int_equal(rank, 4);
    assert_int_equal(dims[0], 1);
    assert_int_equal(dims[1], 2);
    assert_int_equal(dims[2], 3);
    assert_int_equal(dims[3], 4);

    /* a scalar broadcasts to anything; zero-size dims stay zero against 1 */
    int64_t dz[] = {0, 1};
    int64_t dw[] = {5};
    onnxc_tensor s = mk(ONNXC_FLOAT, 0, NULL, NULL), z = mk(ONNXC_FLOAT, 2, dz, NULL), w = mk(ONNXC_FLOAT, 1, dw, NULL);
    const onnxc_tensor *ts2[] = {&s, &z, &w};
    assert_int_equal(oc_broadcast_shapes(NULL, 3, ts2, &rank, dims), ONNXC_OK);
    assert_int_equal(rank, 2);
    assert_int_equal(dims[0], 0);
    assert_int_equal(dims[1], 5);

    /* 2x3 against 4 clashes */
    int64_t de[] = {2, 3}, df[] = {4};
    onnxc_tensor e = mk(ONNXC_FLOAT, 2, de, NULL), f = mk(ONNXC_FLOAT, 1, df, NULL);
    const onnxc_tensor *ts3[] = {&e, &f};
    assert_int_equal(oc_broadcast_shapes(NULL, 2, ts3, &rank, dims), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "broadcast"));
}

static void test_strides(void **state)
{
    (void)state;
    int64_t out[] = {2, 3, 4};
    int64_t s[3];
    oc_strides(3, out, s);
    assert_int_equal(s[0], 12);
    assert_int_equal(s[1], 4);
    assert_int_equal(s[2], 1);

    int64_t db[] = {3, 1};
    onnxc_tensor b = mk(ONNXC_FLOAT, 2, db, NULL);
    oc_broadcast_strides(&b, 3, out, s);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 1);
    assert_int_equal(s[2], 0);

    int64_t dc[] = {2, 1, 4};
    onnxc_tensor c = mk(ONNXC_FLOAT, 3, dc, NULL);
    oc_broadcast_strides(&c, 3, out, s);
    assert_int_equal(s[0], 4);
    assert_int_equal(s[1], 0);
    assert_int_equal(s[2], 1);
}

static void test_set_shape(void **state)
{
    (void)state;
    onnxc_tensor t;
    memset(&t, 0, sizeof t);
    int64_t d[] = {2, 3, 5};
    assert_int_equal(oc_set_shape(&t, ONNXC_INT64, 3, d), ONNXC_OK);
    assert_int_equal(t.nbytes, 2 * 3 * 5 * 8);
    assert_int_equal(t.rank, 3);
    assert_int_equal(t.dims[2], 5);
    int64_t neg[] = {2, -1};
    assert_int_not_equal(oc_set_shape(&t, ONNXC_FLOAT, 2, neg), ONNXC_OK);
    int64_t huge[] = {INT64_MAX / 2, 4};
    assert_int_not_equal(oc_set_shape(&t, ONNXC_FLOAT, 2, huge), ONNXC_OK);
    assert_int_not_equal(oc_set_shape(&t, ONNXC_FLOAT, ONNXC_MAX_RANK + 1, d), ONNXC_OK);
}

static void test_half(void **state)
{
    (void)state;
    assert_int_equal(oc_float_to_half(1.0f), 0x3c00);
    assert_int_equal(oc_float_to_half(-2.0f), 0xc000);
    assert_int_equal(oc_float_to_half(0.0f), 0x0000);
    assert_int_equal(oc_float_to_half(-0.0f), 0x8000);
    assert_int_equal(oc_float_to_half(65504.0f), 0x7bff);      /* largest half */
    assert_int_equal(oc_float_to_half(65519.0f), 0x7bff);      /* below the halfway point */
    assert_int_equal(oc_float_to_half(65520.0f), 0x7c00);      /* tie rounds to even = inf */
    assert_int_equal(oc_float_to_half(1e6f), 0x7c00);
    assert_int_equal(oc_float_to_half(-INFINITY), 0xfc00);
    assert_int_equal(oc_float_to_half(0.1f), 0x2e66);          /* 0.0999755859375 */
    /* ties: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> even (1); 1 + 3*2^-11 -> 1 + 2*2^-10 */
    assert_int_equal(oc_float_to_half(1.0f + ldexpf(1.0f, -11)), 0x3c00);
    assert_int_equal(oc_float_to_half(1.0f + 3.0f * ldexpf(1.0f, -11)), 0x3c02);
    /* subnormals: 2^-24 is the smallest; 2^-25 ties to 0; 1.5 * 2^-24 ties to 2 * 2^-24 */
    assert_int_equal(oc_float_to_half(ldexpf(1.0f, -24)), 0x0001);
    assert_int_equal(oc_float_to_half(ldexpf(1.0f, -25)), 0x0000);
    assert_int_equal(oc_float_to_half(1.5f * ldexpf(1.0f, -24)), 0x0002);
    assert_int_equal(oc_float_to_half(ldexpf(1.0f, -14)), 0x0400); /* smallest normal */
    assert_int_equal(oc_float_to_half(1023.0f * ldexpf(1.0f, -24)), 0x03ff);
    uint16_t n = oc_float_to_half(NAN);
    assert_int_equal(n & 0x7c00, 0x7c00);
    assert_int_not_equal(n & 0x03ff, 0);

    assert_true(oc_half_to_float(0x3555) == 0.333251953125f);
    assert_true(oc_half_to_float(0x0001) == ldexpf(1.0f, -24));
    assert_true(oc_half_to_float(0x03ff) == 1023.0f * ldexpf(1.0f, -24));
    assert_true(oc_half_to_float(0x7bff) == 65504.0f);
    assert_true(oc_half_to_float(0xc000) == -2.0f);
    assert_true(isinf(oc_half_to_float(0xfc00)) && oc_half_to_float(0xfc00) < 0);
    assert_true(isnan(oc_half_to_float(0x7e00)));
    assert_true(signbit(oc_half_to_float(0x8000)));
}

static void test_bf16(void **state)
{
    (void)state;
    assert_int_equal(oc_float_to_bf16(1.0f), 0x3f80);
    assert_int_equal(oc_float_to_bf16(-2.0f), 0xc000);
    /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> even (1); 1 + 3*2^-8 -> 1 + 2*2^-7 */
    assert_int_equal(oc_float_to_bf16(1.0f + ldexpf(1.0f, -8)), 0x3f80);
    assert_int_equal(oc_float_to_bf16(1.0f + 3.0f * ldexpf(1.0f, -8)), 0x3f82);
    assert_int_equal(oc_float_to_bf16(1.0f + 1.5f * ldexpf(1.0f, -8)), 0x3f81);
    assert_int_equal(oc_float_to_bf16(INFINITY), 0x7f80);
    uint16_t n = oc_float_to_bf16(NAN);
    assert_true(isnan(oc_bf16_to_float(n)));
    assert_true(oc_bf16_to_float(0x4049) == 3.140625f);
}

/* double -> half/bfloat16 round once: values just above a float-level tie must round up, which a detour through
 * float (landing exactly on the tie, then ties-to-even) would not. */
static void test_double_single_rounding(void **state)
{
    (void)state;
    assert_int_equal(oc_double_to_half(1.0 + ldexp(1, -11) + ldexp(1, -40)), 0x3c01);
    assert_int_equal(oc_double_to_half(1.0 + ldexp(1, -11)), 0x3c00); /* an exact tie stays even */
    assert_int_equal(oc_double_to_half(-(1.0 + 3 * ldexp(1, -11))), 0xbc02);
    assert_int_equal(oc_double_to_bf16(1.0 + ldexp(1, -8) + ldexp(1, -40)), 0x3f81);
    assert_int_equal(oc_double_to_bf16(1.0 + ldexp(1, -8)), 0x3f80);
    assert_int_equal(oc_double_to_half(1e10), 0x7c00);
    assert_int_equal(oc_double_to_half(ldexp(1, -26)), 0x0000); /* a quarter of the smallest subnormal */
    assert_int_equal(oc_double_to_half(ldexp(1, -25) + ldexp(1, -60)), 0x0001); /* just above half of it */
}

static void test_element_access(void **state)
{
    (void)state;
    int64_t d[] = {4};
    int32_t i32[4] = {0};
    onnxc_tensor t = mk(ONNXC_INT32, 1, d, i32);
    oc_set_f64(&t, 0, 2.7);
    oc_set_f64(&t, 1, -2.7);
    oc_set_i64(&t, 2, -5);
    oc_set_f64(&t, 3, NAN);
    assert_int_equal(i32[0], 2);
    assert_int_equal(i32[1], -2);
    assert_int_equal(i32[2], -5);
    assert_int_equal(i32[3], 0);
    assert_true(oc_get_f64(&t, 2) == -5.0);
    assert_int_equal(oc_get_i64(&t, 1), -2);

    uint16_t h[2] = {0x3c00, 0xc500}; /* 1.0, -5.0 */
    onnxc_tensor th = mk(ONNXC_FLOAT16, 1, d, h);
    assert_true(oc_get_f64(&th, 0) == 1.0);
    assert_int_equal(oc_get_i64(&th, 1), -5);
    oc_set_f64(&th, 0, 0.5);
    assert_int_equal(h[0], 0x3800);

    uint8_t b[2] = {0, 7};
    onnxc_tensor tb = mk(ONNXC_BOOL, 1, d, b);
    assert_true(oc_get_f64(&tb, 1) == 1.0);
    oc_set_f64(&tb, 0, -0.25);
    assert_int_equal(b[0], 1);

    int64_t big[1] = {0};
    onnxc_tensor tl = mk(ONNXC_INT64, 1, d, big);
    oc_set_f64(&tl, 0, 1e300); /* saturates instead of undefined behaviour */
    assert_true(big[0] == INT64_MAX);
}

static void test_axis_and_errors(void **state)
{
    (void)state;
    int ax = -1;
    assert_int_equal(oc_norm_axis(NULL, -1, 4, &ax), ONNXC_OK);
    assert_int_equal(ax, 3);
    assert_int_equal(oc_norm_axis(NULL, 2, 4, &ax), ONNXC_OK);
    assert_int_equal(ax, 2);
    assert_int_equal(oc_norm_axis(NULL, 4, 4, &ax), ONNXC_E_INVALID);
    assert_int_equal(oc_norm_axis(NULL, -5, 4, &ax), ONNXC_E_INVALID);

    oc_node node;
    memset(&node, 0, sizeof node);
    node.name = "soft_1";
    node.op_type = "Softmax";
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = &node;
    assert_int_equal(oc_norm_axis(&c, 9, 2, &ax), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "soft_1"));
    assert_non_null(strstr(onnxc_last_error(), "axis 9"));
    assert_int_equal(oc_kerr(&c, ONNXC_E_RUNTIME, "bad %d", 42), ONNXC_E_RUNTIME);
    assert_non_null(strstr(onnxc_last_error(), "bad 42"));
}

/* The vectorizable exp/sigmoid/tanh against libm in double, on a sweep of float inputs. */
static void test_fast_transcendentals(void **state)
{
    (void)state;
    double worst_exp = 0, worst_tanh = 0, worst_sig = 0;
    for (float x = -100.0f; x < 100.0f; x += 0.000731f * (1.0f + fabsf(x))) {
        double t = tanh((double)x), sg = 1.0 / (1.0 + exp(-(double)x));
        if (x > -87.0f && x < 88.0f) {
            double e = exp((double)x);
            double r = fabs(oc_fast_expf(x) - e) / e;
            worst_exp = r > worst_exp ? r : worst_exp;
        }
        double rt = fabs(oc_fast_tanhf(x) - t) / fmax(fabs(t), 1e-30);
        worst_tanh = rt > worst_tanh ? rt : worst_tanh;
        double rs = fabs(oc_fast_sigmoidf(x) - sg); /* absolute: below e^-87 the result is clamped near 0 */
        rs = sg > 1e-30 && x > -80 ? rs / sg : rs;
        worst_sig = rs > worst_sig ? rs : worst_sig;
    }
    assert_true(worst_exp < 2e-7);
    assert_true(worst_tanh < 5e-7);
    assert_true(worst_sig < 5e-7);
    /* tiny arguments keep tanh's relative accuracy (the series branch) */
    assert_float_equal(oc_fast_tanhf(1e-6f) / 1e-6f, 1.0, 1e-6);
    assert_true(oc_fast_tanhf(-0.0f) == 0.0f);
    assert_true(isnan(oc_fast_expf(NAN)) && isnan(oc_fast_tanhf(NAN)) && isnan(oc_fast_sigmoidf(NAN)));
    assert_true(oc_fast_tanhf(INFINITY) == 1.0f && oc_fast_tanhf(-INFINITY) == -1.0f);
    assert_true(oc_fast_sigmoidf(INFINITY) == 1.0f && oc_fast_sigmoidf(-INFINITY) == 0.0f);
    assert_true(oc_fast_expf(-INFINITY) < 1.2e-38f && oc_fast_expf(0.0f) == 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_shapes), cmocka_unit_test(test_strides),
        cmocka_unit_test(test_set_shape),        cmocka_unit_test(test_half),
        cmocka_unit_test(test_bf16), cmocka_unit_test(test_double_single_rounding),             cmocka_unit_test(test_element_access),
        cmocka_unit_test(test_axis_and_errors),  cmocka_unit_test(test_fast_transcendentals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
