/* swap-norm under allocation failures: the k-th allocation of a swap (both forms, with and without an opset raise)
 * fails for every k until one succeeds; each failure must come back as a status (never a crash), and the graph
 * must stay consistent and serializable whatever was done before the failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
                          "others recovered or skipped a layer)\n", model, form, to, k - 1, failures);
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

int main(int argc, char **argv)
{
    snprintf(model_dir, sizeof model_dir, "%s", argc > 1 ? argv[1] : "models");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decomposed_resnet),
        cmocka_unit_test(test_op_form_with_opset_raise),
        cmocka_unit_test(test_layer_decomposed_rank2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
