/* The harness the plan-rewrite unit tests share (test_plan_concat.c, test_plan_bnfuse.c): each case of a folder
 * written by a numpy generator (CASES/manifest.txt: "NAME N_OUT WANT" per line; NAME.onnx, NAME.in.npy with
 * input "x", NAME.outK.npy numpy's float64 outputs as float32) runs with the normal plan and with the plain plan
 * (every node alone), at 1 and 2 threads, twice per plan; the normal plan must count WANT rewrites, the plain one
 * none, every output must match numpy within `bound` (relative to 1 + |expected|) and equal the plain plan's bit
 * for bit. Include after cmocka.h and session_internal.h; static functions only. */
#ifndef ONNXC_TESTS_PLAN_CASES_H
#define ONNXC_TESTS_PLAN_CASES_H

/* An output copied out of its session. */
typedef struct out_copy {
    float *data;
    int64_t n;
} out_copy;

/* How many of a planned session's nodes the rewrite under test changed. */
typedef int (*plan_count_fn)(const onnxc_session *s);

static out_copy copy_out(const onnxc_tensor *t)
{
    assert_int_equal(t->dtype, ONNXC_FLOAT);
    out_copy c = {malloc(t->nbytes ? t->nbytes : 1), onnxc_tensor_numel(t)};
    assert_non_null(c.data);
    memcpy(c.data, t->data, t->nbytes);
    return c;
}

/* Run case NAME of DIR on its input (plain plan or not), twice; outs[run * n_out + i] get copies of the outputs
 * of each run. Returns count(session) after the runs. */
static int run_plan_case(const char *dir, const char *name, int n_out, bool plain, int threads, out_copy *outs,
                         plan_count_fn count)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(path, &m), ONNXC_OK);
    snprintf(path, sizeof path, "%s/%s.in.npy", dir, name);
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
    const int counted = count(s);
    onnxc_session_free(s);
    onnxc_tensor_free(x);
    onnxc_model_free(m);
    return counted;
}

static bool near_numpy(const out_copy *got, const out_copy *want, double bound, const char *what)
{
    assert_int_equal(got->n, want->n);
    for (int64_t i = 0; i < want->n; i++) {
        const double d = fabs((double)got->data[i] - (double)want->data[i]);
        if (!(d <= bound * (1.0 + fabs((double)want->data[i])))) {
            print_error("%s: element %lld: %.9g, numpy %.9g\n", what, (long long)i, got->data[i], want->data[i]);
            return false;
        }
    }
    return true;
}

/* Every case of DIR as the header comment says; WHAT names the counted rewrite in messages. At least min_cases
 * cases and min_total counted rewrites in all, so an emptied folder fails. */
static void check_plan_cases(const char *dir, const char *what_counted, plan_count_fn count, double bound,
                             int min_cases, int min_total)
{
    char path[512];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char name[128];
    int n_out, want, cases = 0, total = 0;
    bool ok = true;
    while (fscanf(f, "%127s %d %d", name, &n_out, &want) == 3) {
        assert_true(n_out >= 1 && n_out <= 4);
        cases++;
        total += want;
        for (int threads = 1; threads <= 2; threads++) {
            out_copy got[8], plain[8];
            const int nv = run_plan_case(dir, name, n_out, false, threads, got, count);
            const int np = run_plan_case(dir, name, n_out, true, threads, plain, count);
            if (nv != want || np != 0) {
                print_error("%s (%d threads): %d %s (plain plan %d), want %d\n", name, threads, nv, what_counted,
                            np, want);
                ok = false;
            }
            for (int i = 0; i < 2 * n_out; i++) {
                char what[256];
                snprintf(path, sizeof path, "%s/%s.out%d.npy", dir, name, i % n_out);
                onnxc_tensor *want_t = NULL;
                assert_int_equal(onnxc_tensor_read(path, &want_t, NULL), ONNXC_OK);
                const out_copy want_c = copy_out(want_t);
                onnxc_tensor_free(want_t);
                snprintf(what, sizeof what, "%s output %d run %d (%d threads)", name, i % n_out, i / n_out, threads);
                ok &= near_numpy(&got[i], &want_c, bound, what);
                if (got[i].n != plain[i].n || memcmp(got[i].data, plain[i].data, (size_t)plain[i].n * sizeof(float))) {
                    print_error("%s: not bit for bit the plain plan's\n", what);
                    ok = false;
                }
                free(want_c.data);
                free(got[i].data);
                free(plain[i].data);
            }
        }
    }
    fclose(f);
    assert_true(cases >= min_cases);
    assert_true(total >= min_total);
    assert_true(ok);
}

#endif
