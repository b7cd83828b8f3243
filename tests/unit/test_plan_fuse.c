/* Unit tests of the activation fusions in the plan (runtime/plan_fuse.c, kernels/act.c, the MatMul / Gemm
 * epilogue of kernels/gemm.c): for each model written by tests/fuse/gen_fuse_cases.py, the fused plan fuses the expected number of nodes and matches PyTorch's
 * float64 outputs, and equals the unfused (plain) plan bit for bit (the fused activations run the standalone
 * ops' code), except the blocked-layout chains (which must run blocked), whose GEMM sums in another order (within
 * EXP_BOUND); the patterns whose
 * intermediate is a graph output or has another consumer fuse nothing. Also the fused exp's error against
 * double precision. */
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
#include "kernels/act.h"
#include "session_internal.h"

#define CASES ONNXC_SOURCE_DIR "/tests/fuse/cases"

/* Conv sums in float32 against float64: within this of PyTorch, relative to 1 + |expected| */
static const double TORCH_BOUND = 1e-5;
/* fused Sigmoid/SiLU (act.c's exp) against the unfused Sigmoid kernel's, relative to 1 + |value| */
static const double EXP_BOUND = 2e-6;

/* An output copied out of its session. */
typedef struct out_copy {
    float *data;
    int64_t n;
} out_copy;

static bool within(const out_copy *got, const out_copy *want, double bound, const char *what)
{
    const int64_t n = want->n;
    assert_int_equal(got->n, n);
    const float *g = got->data, *w = want->data;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)g[i] - (double)w[i]);
        if (!(d <= bound * (1.0 + fabs((double)w[i])))) {
            print_error("%s: element %lld: %.9g, want %.9g\n", what, (long long)i, g[i], w[i]);
            return false;
        }
    }
    return true;
}

static out_copy copy_out(const onnxc_tensor *t)
{
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    out_copy c = {malloc(t->nbytes ? t->nbytes : 1), onnxc_tensor_numel(t)};
    assert_non_null(c.data);
    memcpy(c.data, t->data, t->nbytes);
    return c;
}

/* Nodes of the last run_case's plan that ran blocked in and out (the depthwise convolutions of a blocked chain). */
static int last_blocked_dw;

/* Run the case's model on its input with a fused or plain plan; outs[i] get copies of the outputs; returns
 * how many nodes the plan fused. */
static int run_case(const char *name, int n_out, bool plain, int threads, out_copy *outs)
{
    char path[512];
    snprintf(path, sizeof path, CASES "/%s.onnx", name);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(path, &m), ONNXC_OK);
    snprintf(path, sizeof path, CASES "/%s.in.npy", name);
    onnxc_tensor *x = NULL;
    assert_int_equal(onnxc_tensor_read(path, &x, NULL), ONNXC_OK);
    onnxc_session_options o = {threads};
    onnxc_session *s = NULL;
    assert_int_equal(onnxc_session_create(m, &o, &s), ONNXC_OK);
    oc_session_set_plain(s, plain);
    const char *names[1] = {"x"};
    const onnxc_tensor *ins[1] = {x};
    for (int r = 0; r < 2; r++) /* twice: the second run reuses the plan */
        assert_int_equal(onnxc_session_run(s, 1, names, ins), ONNXC_OK);
    for (int i = 0; i < n_out; i++)
        outs[i] = copy_out(onnxc_session_output(s, i));
    int fused = 0;
    last_blocked_dw = 0;
    for (int i = 0; i < s->n_order; i++) {
        fused += s->nodes[i].fused;
        last_blocked_dw += s->nodes[i].ctx.in_blocked && s->nodes[i].ctx.out_blocked;
    }
    onnxc_session_free(s);
    onnxc_tensor_free(x);
    onnxc_model_free(m);
    return fused;
}

static void test_fused_patterns(void **state)
{
    (void)state;
    FILE *f = fopen(CASES "/manifest.txt", "r");
    assert_non_null(f);
    char name[128];
    int n_out, want_fused, exact, cases = 0;
    bool ok = true;
    while (fscanf(f, "%127s %d %d %d", name, &n_out, &want_fused, &exact) == 4) {
        assert_true(n_out >= 1 && n_out <= 4);
        cases++;
        for (int threads = 1; threads <= 2; threads++) {
            out_copy fused[4], plain[4];
            const int nf = run_case(name, n_out, false, threads, fused);
            const int nblk = last_blocked_dw;
            const int np = run_case(name, n_out, true, threads, plain);
#if defined(__AVX2__) && defined(__FMA__)
            /* the blocked chains must run blocked where the kernels are built: 5 x 5 cases every depthwise */
            const int want_blk = strncmp(name, "blocked5_chain", 14) == 0 ? 2 : strncmp(name, "blocked", 7) == 0;
            if (nblk < want_blk) {
                print_error("%s (%d threads): %d depthwise nodes blocked, want %d\n", name, threads, nblk, want_blk);
                ok = false;
            }
#else
            (void)nblk;
#endif
            if (nf != want_fused || np != 0) {
                print_error("%s (%d threads): %d nodes fused (plain %d), want %d\n", name, threads, nf, np,
                            want_fused);
                ok = false;
            }
            for (int i = 0; i < n_out; i++) {
                char path[512], what[256];
                snprintf(path, sizeof path, CASES "/%s.out%d.npy", name, i);
                onnxc_tensor *want_t = NULL;
                assert_int_equal(onnxc_tensor_read(path, &want_t, NULL), ONNXC_OK);
                const out_copy want = copy_out(want_t);
                onnxc_tensor_free(want_t);
                snprintf(what, sizeof what, "%s output %d (%d threads) against PyTorch", name, i, threads);
                ok &= within(&fused[i], &want, TORCH_BOUND, what);
                snprintf(what, sizeof what, "%s output %d (%d threads) fused against plain", name, i, threads);
                if (exact) {
                    if (fused[i].n != plain[i].n ||
                        memcmp(fused[i].data, plain[i].data, (size_t)plain[i].n * sizeof(float)) != 0) {
                        print_error("%s: not bit for bit\n", what);
                        ok = false;
                    }
                } else {
                    ok &= within(&fused[i], &plain[i], EXP_BOUND, what);
                }
                free(want.data);
                free(fused[i].data);
                free(plain[i].data);
            }
        }
    }
    fclose(f);
    assert_true(cases >= 39);
    assert_true(ok);
}

static double sigmoid_d(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* The fused Sigmoid and SiLU against double precision over [-100, 100], tails (n not a multiple of 8) included:
 * relative error at most 5 x 2^-24 (SiLU 6 x 2^-24) where the sigmoid is a normal float, absolute 1e-37 (SiLU
 * 1e-35) below. */
static void test_fused_exp_bound(void **state)
{
    (void)state;
    const int64_t n = 200001;
    float *y = malloc((size_t)n * sizeof *y), *z = malloc((size_t)n * sizeof *z);
    assert_non_null(y);
    assert_non_null(z);
    for (int64_t i = 0; i < n; i++)
        y[i] = z[i] = (float)(-100.0 + 200.0 * (double)i / (double)(n - 1));
    oc_act_span(OC_ACT_SIGMOID, 0, 0, 0, y, n);
    oc_act_span(OC_ACT_SILU, 0, 0, 0, z, n);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        const double x = (float)(-100.0 + 200.0 * (double)i / (double)(n - 1));
        const double s = sigmoid_d(x), si = x * s;
        const double es = fabs(y[i] - s), esi = fabs(z[i] - si);
        if (s >= 0x1p-126) { /* a normal float */
            assert_true(es <= 5.0 * ldexp(1.0, -24) * s);
            assert_true(esi <= 6.0 * ldexp(1.0, -24) * fabs(si));
            worst = es / s > worst ? es / s : worst;
        } else { /* x below about -87.3: the exp's argument is clamped there */
            assert_true(es <= 1e-37);
            assert_true(esi <= 1e-35);
        }
    }
    print_message("fused sigmoid: worst relative error %.3g (bound %.3g)\n", worst, 5.0 * ldexp(1.0, -24));
    free(y);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_patterns),
        cmocka_unit_test(test_fused_exp_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
