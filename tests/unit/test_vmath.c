/* Error bounds of runtime/kernels/vmath.c (the ones vmath.h states) against double-precision libm, over a dense
 * sweep of every float bit pattern (a fixed stride through all 2^32, both signs, subnormals, huge values) plus
 * the special values, and odd array lengths / in-place use. Exercises the build's path (AVX2 or portable). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernels/vmath.h"

#define BATCH 4093 /* odd: every batch ends in a partial vector */
#define STRIDE 241u /* bit-pattern step: 17.8 million inputs of each function */
#define DENORM_Q 1.401298464324817e-45 /* 2^-149, the subnormal quantum */

typedef double (*ref_fn)(double);
typedef void (*vm_fn)(float *, const float *, int64_t);

static double ref_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
static double ref_silu(double x) { return x * ref_sigmoid(x); }
static double ref_gelu(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }

static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN, 1e-45f, -1e-45f,
                                 1e-40f, -1e-40f, FLT_MAX, -FLT_MAX, 88.72f, 88.73f, 89.0f, -87.33f, -87.34f,
                                 -103.97f, -104.0f, -200.0f, 1e-3f, -1e-3f, 0.0625f, -0.0625f, 0.06249f, 4.0f,
                                 -4.0f, 3.6f, 1.0f, -1.0f, 0.5f, 6.0f, -3.0f, 3.0f};

/* Worst error of f against ref over the sweep and the specials: relative where the exact result is a normal
 * float, in units of 2^-149 below; non-finite exact results must come out identical (inf) or NaN (NaN). */
typedef struct err {
    double rel, abs_q, abs;
    long bad_special;
} err;

static void check_one(float x, float y, double e, err *w)
{
    if (isnan(e)) {
        if (!isnan(y))
            w->bad_special++;
        return;
    }
    if (e > FLT_MAX || e < -FLT_MAX) {
        if (y != (float)e) /* overflow must be inf of the right sign */
            w->bad_special++;
        return;
    }
    double d = fabs((double)y - e);
    if (isnan(y) || isinf(y)) {
        w->bad_special++;
        return;
    }
    if (d > w->abs)
        w->abs = d;
    if (fabs(e) >= FLT_MIN) {
        if (d / fabs(e) > w->rel)
            w->rel = d / fabs(e);
    } else if (d / DENORM_Q > w->abs_q) {
        w->abs_q = d / DENORM_Q;
    }
    (void)x;
}

static err sweep(vm_fn f, ref_fn ref, double lo, double hi)
{
    err w = {0, 0, 0, 0};
    float xs[BATCH], ys[BATCH];
    int k = 0;
    uint64_t b = 0;
    for (;;) {
        int last = b > 0xFFFFFFFFull;
        if (!last) {
            uint32_t u = (uint32_t)b;
            float x;
            memcpy(&x, &u, sizeof x);
            if (!isnan(x) && x >= lo && x <= hi)
                xs[k++] = x;
            b += STRIDE;
        }
        if (k == BATCH || (last && k)) {
            f(ys, xs, k);
            for (int i = 0; i < k; i++)
                check_one(xs[i], ys[i], ref((double)xs[i]), &w);
            k = 0;
        }
        if (last)
            break;
    }
    int ns = (int)(sizeof specials / sizeof specials[0]);
    for (int i = 0; i < ns; i++)
        xs[i] = specials[i];
    f(ys, xs, ns);
    for (int i = 0; i < ns; i++)
        if (!isnan(xs[i]) && (xs[i] < lo || xs[i] > hi))
            continue;
        else
            check_one(xs[i], ys[i], ref((double)xs[i]), &w);
    return w;
}

static void report(const char *name, err w)
{
    printf("%-8s max rel %.3g (normal results), max abs %.3g, max %.2f x 2^-149 (subnormal results), %ld bad "
           "special\n",
           name, w.rel, w.abs, w.abs_q, w.bad_special);
}

static void test_exp(void **state)
{
    (void)state;
    err w = sweep(oc_vm_exp, exp, -INFINITY, INFINITY);
    report("exp", w);
    assert_true(w.rel <= 2.5e-7);
    assert_true(w.abs_q <= 1.0);
    assert_int_equal(w.bad_special, 0);
    float x[4] = {-INFINITY, INFINITY, 0.0f, -0.0f}, y[4];
    oc_vm_exp(y, x, 4);
    assert_true(y[0] == 0.0f && y[1] == INFINITY && y[2] == 1.0f && y[3] == 1.0f);
}

static void test_sigmoid(void **state)
{
    (void)state;
    err w = sweep(oc_vm_sigmoid, ref_sigmoid, -INFINITY, INFINITY);
    report("sigmoid", w);
    assert_true(w.rel <= 2.5e-7);
    assert_true(w.abs_q <= 1.0);
    assert_int_equal(w.bad_special, 0);
    float x[3] = {-INFINITY, INFINITY, 0.0f}, y[3];
    oc_vm_sigmoid(y, x, 3);
    assert_true(y[0] == 0.0f && y[1] == 1.0f && y[2] == 0.5f);
    /* the reciprocal (AVX-512: an approximation and a Newton step) never leaves [0, 1], and gives exactly 1 from
     * x = 18 on (1 - e^-x is within half an ulp of 1 there), where a relative bound alone would allow 1 - 2^-24 */
    float xs[BATCH], ys[BATCH];
    long outside = 0, not_one = 0;
    for (int i = 0; i < BATCH; i++)
        xs[i] = -120.0f + 240.0f * (float)i / (float)(BATCH - 1);
    oc_vm_sigmoid(ys, xs, BATCH);
    for (int i = 0; i < BATCH; i++) {
        outside += !(ys[i] >= 0.0f && ys[i] <= 1.0f);
        not_one += xs[i] >= 18.0f && ys[i] != 1.0f;
    }
    assert_int_equal(outside, 0);
    assert_int_equal(not_one, 0);
}

static void test_tanh(void **state)
{
    (void)state;
    err w = sweep(oc_vm_tanh, tanh, -INFINITY, INFINITY);
    report("tanh", w);
    assert_true(w.rel <= 8e-7);
    assert_true(w.abs_q <= 1.0);
    assert_int_equal(w.bad_special, 0);
    float x[4] = {-INFINITY, INFINITY, -0.0f, 1e-30f}, y[4];
    oc_vm_tanh(y, x, 4);
    assert_true(y[0] == -1.0f && y[1] == 1.0f && y[2] == 0.0f && signbit(y[2]) && y[3] == 1e-30f);
}

static void test_erf(void **state)
{
    (void)state;
    err w = sweep(oc_vm_erf, erf, -INFINITY, INFINITY);
    report("erf", w);
    assert_true(w.abs <= 5e-7);
    assert_int_equal(w.bad_special, 0);
    /* relative accuracy near 0, where erf(x) ~ 2x / sqrt(pi) */
    err t = sweep(oc_vm_erf, erf, 1e-30, 1e-3);
    err tn = sweep(oc_vm_erf, erf, -1e-3, -1e-30);
    report("erf~0", t);
    assert_true(t.rel <= 1e-6 && tn.rel <= 1e-6);
}

static void test_silu_gelu(void **state)
{
    (void)state;
    /* relative where sigmoid(x) is a normal float; below, x times sigmoid's subnormal quantum */
    err s = sweep(oc_vm_silu, ref_silu, -87.0, INFINITY);
    err sl = sweep(oc_vm_silu, ref_silu, -INFINITY, -87.0);
    report("silu", s);
    report("silu<-87", sl);
    assert_true(s.rel <= 3e-7);
    assert_true(sl.abs <= 104 * DENORM_Q);
    assert_int_equal(s.bad_special + sl.bad_special, 0);
    /* GELU cancels in 1 + erf for x < 0: bounded as |x| / 2 times erf's absolute error, plus a rounding */
    float xs[BATCH], ys[BATCH];
    double worst = 0;
    for (int i = 0; i < BATCH; i++)
        xs[i] = -12.0f + 24.0f * (float)i / (float)(BATCH - 1);
    oc_vm_gelu(ys, xs, BATCH);
    for (int i = 0; i < BATCH; i++) {
        double e = ref_gelu(xs[i]);
        double d = fabs(ys[i] - e) / (0.5 * fabs(xs[i]) * 5e-7 + 2.4e-7 * fabs(e) + 1e-38);
        worst = d > worst ? d : worst;
    }
    printf("gelu     worst error / bound %.3f\n", worst);
    assert_true(worst <= 1.0);
}

static void test_hard(void **state)
{
    (void)state;
    float xs[BATCH], ys[BATCH], zs[BATCH];
    for (int i = 0; i < BATCH; i++)
        xs[i] = -9.0f + 18.0f * (float)i / (float)(BATCH - 1);
    oc_vm_hardsigmoid(ys, xs, BATCH, 0.2f, 0.5f);
    oc_vm_hardswish(zs, xs, BATCH);
    for (int i = 0; i < BATCH; i++) {
        double v = fmin(1.0, fmax(0.0, 0.2f * (double)xs[i] + 0.5f));
        assert_true(fabs(ys[i] - v) <= 1.2e-7 * (fabs(0.2 * xs[i]) + 0.5));
        double h = xs[i] * fmin(1.0, fmax(0.0, xs[i] / 6.0 + 0.5));
        assert_true(fabs(zs[i] - h) <= 2.4e-7 * fabs(xs[i]) * (fabs(xs[i] / 6.0) + 0.5));
    }
    float n[2] = {NAN, -INFINITY}, m[2];
    oc_vm_hardsigmoid(m, n, 2, 0.2f, 0.5f);
    assert_true(isnan(m[0]) && m[1] == 0.0f);
}

/* Every length 0..40 (all tail sizes), in place and out of place, agrees element by element with the same
 * function on one element at a time: where an array ends or is split never changes a result. */
static void test_lengths_in_place(void **state)
{
    (void)state;
    float x[41], y[41], z[41], one;
    for (int i = 0; i < 41; i++)
        x[i] = (float)(i - 20) * 0.37f;
    for (int n = 0; n <= 40; n++) {
        y[n] = 123.0f; /* past the end: must stay */
        oc_vm_sigmoid(y, x, n);
        assert_true(y[n] == 123.0f);
        memcpy(z, x, sizeof z);
        oc_vm_sigmoid(z, z, n);
        for (int i = 0; i < n; i++) {
            oc_vm_sigmoid(&one, &x[i], 1);
            assert_true(y[i] == one && z[i] == one);
        }
        oc_vm_mul_sigmoid(y, x, x, n);
        oc_vm_silu(z, x, n);
        for (int i = 0; i < n; i++) {
            oc_vm_silu(&one, &x[i], 1);
            assert_true(y[i] == z[i] && z[i] == one);
        }
        /* a * sigmoid(b) is the unfused Sigmoid then Mul, bit for bit (a fused gate or SiLU gives their bits) */
        oc_vm_mul_sigmoid(y, z, x, n);
        for (int i = 0; i < n; i++) {
            oc_vm_sigmoid(&one, &x[i], 1);
            assert_true(y[i] == z[i] * one);
        }
        oc_vm_mul_hardsigmoid(y, x, x, n, 1.0f / 6.0f, 0.5f);
        oc_vm_hardswish(z, x, n);
        for (int i = 0; i < n; i++)
            assert_true(fabsf(y[i] - z[i]) <= 2.4e-7f * fabsf(z[i]));
    }
}

int main(void)
{
    printf("vmath path: %s\n", oc_vm_isa());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp),       cmocka_unit_test(test_sigmoid),   cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_erf),       cmocka_unit_test(test_silu_gelu), cmocka_unit_test(test_hard),
        cmocka_unit_test(test_lengths_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
