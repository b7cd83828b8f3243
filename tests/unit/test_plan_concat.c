/* Unit tests of Concat planned in place (runtime/plan_concat.c): for each model written by
 * tests/concat/gen_concat_cases.py, the plan makes the expected number of Concats views of their output (the
 * others copy), its outputs match numpy's float64 ones, and equal the plain plan's (every Concat copies) bit for
 * bit, at 1 and 2 threads, on the first run and on a second one of the same plan. */
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
#include "session_internal.h"

#define CASES ONNXC_SOURCE_DIR "/tests/concat/cases"

/* float32 sums of at most 16 terms against float64: relative to 1 + |expected| */
static const double NUMPY_BOUND = 1e-5;

typedef struct out_copy {
    float *data;
    int64_t n;
} out_copy;

static out_copy copy_out(const onnxc_tensor *t)
{
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    out_copy c = {malloc(t->nbytes ? t->nbytes : 1), onnxc_tensor_numel(t)};
    assert_non_null(c.data);
    memcpy(c.data, t->data, t->nbytes);
    return c;
}

/* Run the case on its input (plain plan or not), twice; outs[run * n_out + i] get copies of the outputs of each
 * run. Returns how many Concats of the plan run as views. */
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
    for (int r = 0; r < 2; r++) {
        assert_int_equal(onnxc_session_run(s, 1, names, ins), ONNXC_OK);
        for (int i = 0; i < n_out; i++)
            outs[r * n_out + i] = copy_out(onnxc_session_output(s, i));
    }
    int views = 0;
    for (int i = 0; i < s->n_order; i++)
        views += s->nodes[i].aliased && oc_node_is_op(s->order[i], "Concat");
    onnxc_session_free(s);
    onnxc_tensor_free(x);
    onnxc_model_free(m);
    return views;
}

static bool near_numpy(const out_copy *got, const out_copy *want, const char *what)
{
    assert_int_equal(got->n, want->n);
    for (int64_t i = 0; i < want->n; i++) {
        const double d = fabs((double)got->data[i] - (double)want->data[i]);
        if (!(d <= NUMPY_BOUND * (1.0 + fabs((double)want->data[i])))) {
            print_error("%s: element %lld: %.9g, numpy %.9g\n", what, (long long)i, got->data[i], want->data[i]);
            return false;
        }
    }
    return true;
}

static void test_concat_in_place(void **state)
{
    (void)state;
    FILE *f = fopen(CASES "/manifest.txt", "r");
    assert_non_null(f);
    char name[128];
    int n_out, want_views, cases = 0, views_total = 0;
    bool ok = true;
    while (fscanf(f, "%127s %d %d", name, &n_out, &want_views) == 3) {
        assert_true(n_out >= 1 && n_out <= 4);
        cases++;
        views_total += want_views;
        for (int threads = 1; threads <= 2; threads++) {
            out_copy got[8], plain[8];
            const int nv = run_case(name, n_out, false, threads, got);
            const int np = run_case(name, n_out, true, threads, plain);
            if (nv != want_views || np != 0) {
                print_error("%s (%d threads): %d Concats in place (plain plan %d), want %d\n", name, threads, nv,
                            np, want_views);
                ok = false;
            }
            for (int i = 0; i < 2 * n_out; i++) {
                char path[512], what[256];
                snprintf(path, sizeof path, CASES "/%s.out%d.npy", name, i % n_out);
                onnxc_tensor *want_t = NULL;
                assert_int_equal(onnxc_tensor_read(path, &want_t, NULL), ONNXC_OK);
                const out_copy want = copy_out(want_t);
                onnxc_tensor_free(want_t);
                snprintf(what, sizeof what, "%s output %d run %d (%d threads)", name, i % n_out, i / n_out, threads);
                ok &= near_numpy(&got[i], &want, what);
                if (got[i].n != plain[i].n || memcmp(got[i].data, plain[i].data, (size_t)plain[i].n * sizeof(float))) {
                    print_error("%s: not bit for bit the plain plan's\n", what);
                    ok = false;
                }
                free(want.data);
                free(got[i].data);
                free(plain[i].data);
            }
        }
    }
    fclose(f);
    assert_true(cases >= 13);
    assert_true(views_total >= 12);
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
