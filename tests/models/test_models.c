/* End-to-end model test: runs every case listed in models/MANIFEST.txt through the public API and compares each
 * output with the PyTorch-computed expectation by NMSE = sum((got - want)^2) / sum(want^2). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc.h"

#define MAX_IO 16

static double elem(const onnxc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ONNXC_FLOAT:
        return ((const float *)t->data)[i];
    case ONNXC_DOUBLE:
        return ((const double *)t->data)[i];
    case ONNXC_INT64:
        return (double)((const int64_t *)t->data)[i];
    case ONNXC_INT32:
        return ((const int32_t *)t->data)[i];
    default:
        return NAN;
    }
}

static const char *shape_str(const onnxc_tensor *t, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < t->rank && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
    if (t->rank == 0)
        snprintf(buf, cap, "scalar");
    return buf;
}

/* Compare one output; prints a line and returns 0 when within tolerance. */
static int compare(const char *label, const onnxc_tensor *got, const onnxc_tensor *want, double tol)
{
    char b1[128], b2[128];
    if (!got) {
        printf("  FAIL %s: no output\n", label);
        return 1;
    }
    if (got->dtype != want->dtype || got->rank != want->rank ||
        memcmp(got->dims, want->dims, sizeof(int64_t) * (size_t)want->rank) != 0) {
        printf("  FAIL %s: got %s %s, expected %s %s\n", label, onnxc_dtype_name(got->dtype),
               shape_str(got, b1, sizeof b1), onnxc_dtype_name(want->dtype), shape_str(want, b2, sizeof b2));
        return 1;
    }
    int64_t n = onnxc_tensor_numel(want);
    double num = 0.0, den = 0.0, maxabs = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double a = elem(got, i), b = elem(want, i);
        double d = a - b;
        num += d * d;
        den += b * b;
        if (!(fabs(d) <= maxabs))
            maxabs = fabs(d);
    }
    double nmse = den > 0.0 ? num / den : num;
    int ok = nmse <= tol; /* false for NaN */
    printf("  %s %s [%s]: nmse %.3e (max |diff| %.3e, tolerance %.0e)\n", ok ? "ok  " : "FAIL", label,
           shape_str(want, b1, sizeof b1), nmse, maxabs, tol);
    return ok ? 0 : 1;
}

/* Run one case directory against an existing session. Returns the number of failures. */
static int run_case(onnxc_model *m, onnxc_session *s, const char *dir, int n_in, int n_out, double tol)
{
    char path[4096];
    onnxc_tensor *in[MAX_IO] = {0}, *want[MAX_IO] = {0};
    const char *names[MAX_IO];
    int fails = 0;
    onnxc_status st = ONNXC_OK;
    if (n_in > MAX_IO || n_out > MAX_IO || n_in != onnxc_model_num_inputs(m) ||
        n_out != onnxc_session_num_outputs(s)) {
        printf("  FAIL %s: manifest says %d inputs / %d outputs, model has %d / %d\n", dir, n_in, n_out,
               onnxc_model_num_inputs(m), onnxc_session_num_outputs(s));
        return 1;
    }
    for (int i = 0; i < n_in && st == ONNXC_OK; i++) {
        onnxc_io_info info;
        if (snprintf(path, sizeof path, "%s/input_%d.npy", dir, i) >= (int)sizeof path) {
            printf("  FAIL %s: path too long\n", dir);
            return 1;
        }
        st = onnxc_tensor_read(path, &in[i], NULL);
        if (st == ONNXC_OK)
            st = onnxc_model_input_info(m, i, &info);
        if (st == ONNXC_OK)
            names[i] = info.name;
    }
    for (int i = 0; i < n_out && st == ONNXC_OK; i++) {
        if (snprintf(path, sizeof path, "%s/output_%d.npy", dir, i) >= (int)sizeof path) {
            printf("  FAIL %s: path too long\n", dir);
            return 1;
        }
        st = onnxc_tensor_read(path, &want[i], NULL);
    }
    if (st != ONNXC_OK) {
        printf("  FAIL %s: %s\n", dir, onnxc_last_error());
        fails = 1;
    } else if ((st = onnxc_session_run(s, n_in, names, (const onnxc_tensor *const *)in)) != ONNXC_OK) {
        printf("  FAIL %s: run: %s\n", dir, onnxc_last_error());
        fails = 1;
    } else {
        for (int i = 0; i < n_out; i++) {
            char label[8192];
            snprintf(label, sizeof label, "%s output %d '%s'", dir, i, onnxc_session_output_name(s, i));
            fails += compare(label, onnxc_session_output(s, i), want[i], tol);
        }
    }
    for (int i = 0; i < MAX_IO; i++) {
        onnxc_tensor_free(in[i]);
        onnxc_tensor_free(want[i]);
    }
    return fails;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODELS_DIR [MANIFEST.txt] [THREADS]\n", argv[0]);
        return 2;
    }
    const char *root = argv[1];
    char path[4096], cdir[4096];
    if (argc >= 3)
        snprintf(path, sizeof path, "%s", argv[2]);
    else
        snprintf(path, sizeof path, "%s/MANIFEST.txt", root);
    onnxc_session_options opts = {0};
    if (argc == 4)
        opts.threads = atoi(argv[3]);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    char line[4096], cur[1024] = "";
    onnxc_model *m = NULL;
    onnxc_session *s = NULL;
    int cases = 0, failed = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char file[1024], dir[1024];
        int n_in, n_out;
        double tol;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0)
            continue;
        if (sscanf(line, "%1023s %1023s %d %d %lf", file, dir, &n_in, &n_out, &tol) != 5) {
            fprintf(stderr, "%s:%d: malformed line\n", path, lineno);
            failed++;
            continue;
        }
        cases++;
        /* consecutive cases of one model share a session, so a new batch size exercises re-planning */
        if (strcmp(file, cur) != 0) {
            onnxc_session_free(s);
            onnxc_model_free(m);
            s = NULL;
            m = NULL;
            snprintf(cur, sizeof cur, "%s", file);
            printf("%s\n", file);
            snprintf(path, sizeof path, "%s/%s", root, file);
            onnxc_status st = onnxc_model_load(path, &m);
            if (st == ONNXC_OK)
                st = onnxc_session_create(m, &opts, &s);
            if (st != ONNXC_OK) {
                printf("  FAIL %s: %s\n", file, onnxc_last_error());
                onnxc_model_free(m);
                m = NULL;
            }
        }
        if (!s) {
            failed++;
            continue;
        }
        snprintf(cdir, sizeof cdir, "%s/%s", root, dir);
        if (run_case(m, s, cdir, n_in, n_out, tol))
            failed++;
    }
    fclose(f);
    onnxc_session_free(s);
    onnxc_model_free(m);
    printf("%d of %d model cases passed\n", cases - failed, cases);
    return failed || cases == 0 ? 1 : 0;
}
