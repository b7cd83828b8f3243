/* swap-norm under allocation failures: the k-th allocation of a swap (both forms, with and without an opset raise)
 * fails for every k until one succeeds; each failure must come back as a status (never a crash), and the graph
 * must stay consistent and serializable whatever was done before the failure. The same for the calibration with
 * both objectives: each failure is ONNXC_E_NOMEM and leaves the swapped model unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pass.h"
#include "util.h"

static char model_dir[1024];

static onnxc_model *load(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", model_dir, name);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(path, &m), ONNXC_OK);
    return m;
}

static void swap_until_success(const char *model, const char *form, const char *to, int expect_bn_left)
{
    int failures = 0;
    for (size_t k = 1;; k++) {
        onnxc_model *m = load(model);
        /* the options are made before the failures start: only the swap itself is under test */
        onnxc_optimize_options *o = NULL;
        assert_int_equal(onnxc_optimize_options_create(&o), ONNXC_OK);
        assert_int_equal(onnxc_optimize_set(o, "passes", "swap-norm"), ONNXC_OK);
        assert_int_equal(onnxc_optimize_set(o, "swap-norm.form", form), ONNXC_OK);
        assert_int_equal(onnxc_optimize_set(o, "swap-norm.to", to), ONNXC_OK);
        onnxc_report *r = NULL;
        oc_alloc_fail_after(k);
        onnxc_status st = onnxc_optimize(m, o, &r);
        size_t used = oc_alloc_fail_after(0);
        /* whatever happened, the IR is consistent and can be written */
        assert_int_equal(oc_graph_verify(m->graph), ONNXC_OK);
        void *buf = NULL;
        size_t len = 0;
        assert_int_equal(onnxc_model_serialize(m, &buf, &len), ONNXC_OK);
        free(buf);
        if (st != ONNXC_OK) {
            assert_int_equal(st, ONNXC_E_NOMEM);
            failures++;
        }
        int done = used < k; /* the k-th allocation never came: this run had no failure */
        if (done) {
            assert_int_equal(st, ONNXC_OK);
            assert_int_equal(onnxc_report_op_count(r, "BatchNormalization", 1), expect_bn_left);
        }
        onnxc_report_free(r);
        onnxc_optimize_options_free(o);
        onnxc_model_free(m);
        if (done) {
            print_message("%s %s %s: %zu allocations, each failed once (%d runs returned ONNXC_E_NOMEM, the "
                          "others recovered or skipped a layer)\n",
                          model, form, to, k - 1, failures);
            break;
        }
    }
    assert_true(failures > 0);
}

static void test_decomposed_resnet(void **state)
{
    (void)state;
    swap_until_success("resnet_like.onnx", "decomposed", "group", 0);
}

static void test_op_form_with_opset_raise(void **state)
{
    (void)state;
    /* opset 13 -> 21: ReduceMean's axes attribute becomes an input on the way */
    swap_until_success("swapnorm_small.onnx", "op", "group", 0);
}

static void test_layer_decomposed_rank2(void **state)
{
    (void)state;
    swap_until_success("linear_bn1d.onnx", "decomposed", "layer", 0);
}

/* The swap of model (group, decomposed form) made before any failure, serialized into *bytes. */
static onnxc_model *swapped_of(const char *model, void **bytes, size_t *len)
{
    onnxc_model *m = load(model);
    onnxc_optimize_options *o = NULL;
    assert_int_equal(onnxc_optimize_options_create(&o), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "passes", "swap-norm"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.to", "group"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "4"), ONNXC_OK);
    onnxc_report *r = NULL;
    assert_int_equal(onnxc_optimize(m, o, &r), ONNXC_OK);
    onnxc_report_free(r);
    onnxc_optimize_options_free(o);
    if (bytes)
        assert_int_equal(onnxc_model_serialize(m, bytes, len), ONNXC_OK);
    return m;
}

/* onnxc_swap_norm_calibrate with both objectives (ACT: the refinement through the Relus) under allocation
 * failures: each failure is ONNXC_E_NOMEM and leaves the swapped model exactly as it was (the carried values
 * restored). */
static void test_calibrate(void **state)
{
    (void)state;
    const char *model = "swapnorm_small.onnx"; /* Conv-BN-Relu x2, Conv-BN-ReduceMean-Gemm-BN: 4 layers */
    onnxc_model *orig = load(model);
    void *ref = NULL;
    size_t ref_len = 0;
    onnxc_model_free(swapped_of(model, &ref, &ref_len));
    enum { NS = 3 };
    onnxc_tensor *smp[NS];
    for (int s = 0; s < NS; s++) {
        int64_t dims[4] = {1, 3, 16, 16};
        assert_int_equal(onnxc_tensor_create(ONNXC_FLOAT, 4, dims, &smp[s]), ONNXC_OK);
        float *f = smp[s]->data;
        for (int64_t i = 0; i < 3 * 16 * 16; i++)
            f[i] = (float)((s + 1) * 0.7 * ((i * 7919 + s * 131) % 1000 / 500.0 - 1.0) + 0.3 * s);
    }
    const char *names[1] = {"input"};
    for (int obj = ONNXC_CALIB_FIT_BN; obj <= ONNXC_CALIB_FIT_ACT; obj++) {
        onnxc_calibrate_options co = {.threads = 1, .objective = obj};
        int failures = 0;
        for (size_t k = 1;; k++) {
            onnxc_model *sw = swapped_of(model, NULL, NULL);
            onnxc_calibration *cal = NULL;
            oc_alloc_fail_after(k);
            onnxc_status st =
                onnxc_swap_norm_calibrate(orig, sw, NS, 1, names, (const onnxc_tensor *const *)smp, &co, &cal);
            size_t used = oc_alloc_fail_after(0);
            int done = used < k;
            if (st != ONNXC_OK) {
                assert_int_equal(st, ONNXC_E_NOMEM);
                assert_null(cal);
                void *buf = NULL;
                size_t len = 0;
                assert_int_equal(onnxc_model_serialize(sw, &buf, &len), ONNXC_OK);
                assert_true(len == ref_len && !memcmp(buf, ref, len));
                free(buf);
                failures++;
            }
            if (done) {
                assert_int_equal(st, ONNXC_OK);
                assert_int_equal(onnxc_calibration_num_layers(cal), 4);
                int through = 0;
                for (int i = 0; i < 4; i++)
                    through += !strcmp(onnxc_calibration_layer(cal, i)->objective, "Relu");
                assert_int_equal(through, obj == ONNXC_CALIB_FIT_ACT ? 2 : 0);
            }
            onnxc_calibration_free(cal);
            onnxc_model_free(sw);
            if (done) {
                print_message("calibrate (%s) %s: %zu allocations, each failed once (%d runs returned ONNXC_E_NOMEM "
                              "with the model unchanged)\n",
                              obj == ONNXC_CALIB_FIT_ACT ? "act" : "bn", model, k - 1, failures);
                break;
            }
        }
        assert_true(failures > 0);
    }
    for (int s = 0; s < NS; s++)
        onnxc_tensor_free(smp[s]);
    free(ref);
    onnxc_model_free(orig);
}

int main(int argc, char **argv)
{
    snprintf(model_dir, sizeof model_dir, "%s", argc > 1 ? argv[1] : "models");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decomposed_resnet),
        cmocka_unit_test(test_op_form_with_opset_raise),
        cmocka_unit_test(test_layer_decomposed_rank2),
        cmocka_unit_test(test_calibrate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
