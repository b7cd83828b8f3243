/* Run-time shapes through the public API: outputs whose size depends on the data (onnxc_session_output_dynamic),
 * a K computed from input data that does not make the plan depend on it (onnxc_session_plan_fits stays true),
 * outputs that shrink to zero elements and grow again on one session, and onnxc_session_run_outputs from several
 * threads at once. Models and expected outputs (numpy) come from tests/dyn/gen_dyn_cases.py in the build tree. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "onnxc/onnxc.h"

#define CASES ONNXC_BINARY_DIR "/dyn-cases/"

typedef struct dataset {
    int n_in, n_out;
    onnxc_tensor *in[8], *out[8];
    char *in_name[8];
} dataset;

static void load_set(const char *test, int set, dataset *d)
{
    memset(d, 0, sizeof *d);
    char path[512];
    for (int k = 0; k < 8; k++) {
        snprintf(path, sizeof path, CASES "%s/test_data_set_%d/input_%d.pb", test, set, k);
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        fclose(f);
        assert_int_equal(onnxc_tensor_read(path, &d->in[k], &d->in_name[k]), ONNXC_OK);
        d->n_in++;
    }
    for (int k = 0; k < 8; k++) {
        snprintf(path, sizeof path, CASES "%s/test_data_set_%d/output_%d.pb", test, set, k);
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        fclose(f);
        assert_int_equal(onnxc_tensor_read(path, &d->out[k], NULL), ONNXC_OK);
        d->n_out++;
    }
    assert_true(d->n_in > 0 && d->n_out > 0);
}

static void free_set(dataset *d)
{
    for (int k = 0; k < 8; k++) {
        onnxc_tensor_free(d->in[k]);
        onnxc_tensor_free(d->out[k]);
        onnxc_free(d->in_name[k]);
    }
}

/* got equals want: same dtype, shape, and values within float rounding */
static int same(const onnxc_tensor *got, const onnxc_tensor *want)
{
    if (!got || got->dtype != want->dtype || got->rank != want->rank)
        return 0;
    for (int d = 0; d < got->rank; d++)
        if (got->dims[d] != want->dims[d])
            return 0;
    for (int64_t i = 0; i < onnxc_tensor_numel(want); i++) {
        double a = onnxc_tensor_get_f64(got, i), b = onnxc_tensor_get_f64(want, i);
        if (!(a == b || (a - b < 1e-5 && b - a < 1e-5)))
            return 0;
    }
    return 1;
}

static void test_k_from_data_does_not_replan(void **state)
{
    (void)state;
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(CASES "test_topk_k_from_data/model.onnx", &m), ONNXC_OK);
    onnxc_session_options o = {.threads = 1};
    onnxc_session *s = NULL;
    assert_int_equal(onnxc_session_create(m, &o, &s), ONNXC_OK);
    for (int set = 0; set < 4; set++) {
        dataset d;
        load_set("test_topk_k_from_data", set, &d);
        const char *names[8];
        for (int k = 0; k < d.n_in; k++)
            names[k] = d.in_name[k];
        /* after the first run, other values of K fit the plan: it was not made for one K */
        if (set > 0)
            assert_int_equal(onnxc_session_plan_fits(s, d.n_in, names, (const onnxc_tensor *const *)d.in), 1);
        assert_int_equal(onnxc_session_run(s, d.n_in, names, (const onnxc_tensor *const *)d.in), ONNXC_OK);
        for (int k = 0; k < d.n_out; k++) {
            assert_true(same(onnxc_session_output(s, k), d.out[k]));
            assert_int_equal(onnxc_session_output_dynamic(s, k), 1);
        }
        free_set(&d);
    }
    assert_int_equal(onnxc_session_output_dynamic(s, 7), 0);
    onnxc_session_free(s);
    onnxc_model_free(m);
}

static void test_static_output_beside_dynamic(void **state)
{
    (void)state;
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(CASES "test_detect_postprocess/model.onnx", &m), ONNXC_OK);
    onnxc_session *s = NULL;
    assert_int_equal(onnxc_session_create(m, NULL, &s), ONNXC_OK);
    assert_int_equal(onnxc_session_output_dynamic(s, 0), 0); /* not planned yet */
    /* the sets keep 4, some, none, then 4 boxes again: memory shrinks to nothing and grows back */
    for (int rep = 0; rep < 2; rep++)
        for (int set = 0; set < 4; set++) {
            dataset d;
            load_set("test_detect_postprocess", set, &d);
            const char *names[8];
            for (int k = 0; k < d.n_in; k++)
                names[k] = d.in_name[k];
            assert_int_equal(onnxc_session_run(s, d.n_in, names, (const onnxc_tensor *const *)d.in), ONNXC_OK);
            for (int k = 0; k < d.n_out; k++)
                assert_true(same(onnxc_session_output(s, k), d.out[k]));
            for (int k = 0; k < 4; k++)
                assert_int_equal(onnxc_session_output_dynamic(s, k), 1);
            assert_int_equal(onnxc_session_output_dynamic(s, 4), 0); /* ReduceSum of the input: planned */
            free_set(&d);
        }
    onnxc_session_free(s);
    onnxc_model_free(m);
}

typedef struct worker {
    onnxc_session *s;
    int set;
    int ok;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    dataset d;
    load_set("test_detect_mask_head", w->set, &d);
    const char *names[8];
    for (int k = 0; k < d.n_in; k++)
        names[k] = d.in_name[k];
    w->ok = 1;
    for (int it = 0; it < 20 && w->ok; it++) {
        onnxc_tensor *outs[1] = {NULL};
        if (onnxc_session_run_outputs(w->s, d.n_in, names, (const onnxc_tensor *const *)d.in, 1, outs) != ONNXC_OK ||
            !same(outs[0], d.out[0]))
            w->ok = 0;
        onnxc_tensor_free(outs[0]);
    }
    free_set(&d);
    return NULL;
}

static void test_run_outputs_threads(void **state)
{
    (void)state;
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(CASES "test_detect_mask_head/model.onnx", &m), ONNXC_OK);
    onnxc_session_options o = {.threads = 2};
    onnxc_session *s = NULL;
    assert_int_equal(onnxc_session_create(m, &o, &s), ONNXC_OK);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){s, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 1);
    }
    onnxc_session_free(s);
    onnxc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k_from_data_does_not_replan),
        cmocka_unit_test(test_static_output_beside_dynamic),
        cmocka_unit_test(test_run_outputs_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
