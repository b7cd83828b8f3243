/* ONNX backend node-test runner: runs every test folder (model.onnx + test_data_set_N/{input,output}_K.pb, tensors
 * or, where the model declares them, SequenceProto / OptionalProto values) in one
 * process with our executor and compares with the ONNX reference outputs (rtol 1e-3, atol 1e-7, as the ONNX
 * backend test does). With --manifest, the tests listed there must pass; the others are reported, not failed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnxc/onnxc.h"

#define MAX_IO 64

typedef struct manifest {
    char **names;
    int n;
} manifest;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int manifest_has(const manifest *m, const char *name)
{
    return m->n && bsearch(&name, m->names, (size_t)m->n, sizeof *m->names, cmp_str) != NULL;
}

/* Manifest: one test name per line; '#' starts a comment (known failures are listed as comments with a reason). */
static int manifest_load(const char *path, manifest *m)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "node_tests: cannot open manifest %s\n", path);
        return -1;
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || !*p)
            continue;
        char *e = p;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '#')
            e++;
        *e = 0;
        m->names = realloc(m->names, (size_t)(m->n + 1) * sizeof *m->names);
        m->names[m->n++] = strdup(p);
    }
    fclose(f);
    qsort(m->names, (size_t)m->n, sizeof *m->names, cmp_str);
    return 0;
}

static double get_f64(const onnxc_tensor *t, int64_t i);

static int is_float(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static double get_f64(const onnxc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ONNXC_FLOAT: return ((const float *)t->data)[i];
    case ONNXC_DOUBLE: return ((const double *)t->data)[i];
    case ONNXC_FLOAT16: return half_to_float(((const uint16_t *)t->data)[i]);
    case ONNXC_BFLOAT16: {
        uint32_t b = (uint32_t)((const uint16_t *)t->data)[i] << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    default: return 0;
    }
}

static int compare(const onnxc_tensor *got, const onnxc_tensor *want, char *msg, size_t cap);

/* Sequences and optionals: the same number of items, each compared as a tensor (or again as a sequence). */
static int compare_items(const onnxc_tensor *got, const onnxc_tensor *want, char *msg, size_t cap)
{
    int64_t ng = onnxc_value_items(got), nw = onnxc_value_items(want);
    if (ng < 0 || nw < 0) {
        snprintf(msg, cap, "not a valid %s value", onnxc_dtype_name(want->dtype));
        return 0;
    }
    if (ng != nw) {
        snprintf(msg, cap, "%lld items, expected %lld", (long long)ng, (long long)nw);
        return 0;
    }
    for (int64_t i = 0; i < nw; i++) {
        onnxc_tensor a, b;
        char why[300];
        if (onnxc_value_item(got, i, &a) != ONNXC_OK || onnxc_value_item(want, i, &b) != ONNXC_OK ||
            !compare(&a, &b, why, sizeof why)) {
            snprintf(msg, cap, "item %lld: %s", (long long)i, why);
            return 0;
        }
    }
    return 1;
}

/* Compare got against want; on mismatch print why into msg. */
static int compare(const onnxc_tensor *got, const onnxc_tensor *want, char *msg, size_t cap)
{
    if (got->dtype == want->dtype && (want->dtype == ONNXC_SEQUENCE || want->dtype == ONNXC_OPTIONAL))
        return compare_items(got, want, msg, cap);
    if (got->dtype != want->dtype) {
        snprintf(msg, cap, "dtype %s, expected %s", onnxc_dtype_name(got->dtype), onnxc_dtype_name(want->dtype));
        return 0;
    }
    int same_shape = got->rank == want->rank;
    for (int d = 0; same_shape && d < got->rank; d++)
        same_shape = got->dims[d] == want->dims[d];
    if (!same_shape) {
        snprintf(msg, cap, "shape rank %d [%lld,%lld,...], expected rank %d [%lld,%lld,...]", (int)got->rank,
                 got->rank > 0 ? (long long)got->dims[0] : 0LL, got->rank > 1 ? (long long)got->dims[1] : 0LL,
                 (int)want->rank, want->rank > 0 ? (long long)want->dims[0] : 0LL,
                 want->rank > 1 ? (long long)want->dims[1] : 0LL);
        return 0;
    }
    int64_t n = onnxc_tensor_numel(want);
    if (is_float(want->dtype)) {
        int64_t bad = 0, first = -1;
        for (int64_t i = 0; i < n; i++) {
            double a = get_f64(got, i), b = get_f64(want, i);
            int ok;
            if (isnan(a) || isnan(b))
                ok = isnan(a) && isnan(b);
            else if (isinf(a) || isinf(b))
                ok = a == b;
            else
                ok = fabs(a - b) <= 1e-7 + 1e-3 * fabs(b);
            if (!ok) {
                if (first < 0)
                    first = i;
                bad++;
            }
        }
        if (bad) {
            snprintf(msg, cap, "%lld of %lld values differ; first at %lld: got %.9g, expected %.9g", (long long)bad,
                     (long long)n, (long long)first, get_f64(got, first), get_f64(want, first));
            return 0;
        }
        return 1;
    }
    if (want->dtype == ONNXC_STRING) {
        const onnxc_string *a = got->data, *b = want->data;
        for (int64_t i = 0; i < n; i++)
            if (a[i].len != b[i].len || memcmp(a[i].data, b[i].data, a[i].len) != 0) {
                snprintf(msg, cap, "string %lld differs", (long long)i);
                return 0;
            }
        return 1;
    }
    size_t es = onnxc_dtype_size(want->dtype);
    for (int64_t i = 0; i < n; i++)
        if (memcmp((const char *)got->data + i * es, (const char *)want->data + i * es, es) != 0) {
            snprintf(msg, cap, "element %lld differs (exact compare for %s)", (long long)i,
                     onnxc_dtype_name(want->dtype));
            return 0;
        }
    return 1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int g_threads = 1; /* --threads: the sessions' thread count */

/* Run one test folder. Returns 1 pass, 0 fail; msg says why. */
static int run_test(const char *dir, char *msg, size_t cap)
{
    char path[8192];
    onnxc_model *m = NULL;
    if (snprintf(path, sizeof path, "%s/model.onnx", dir) >= (int)sizeof path) {
        snprintf(msg, cap, "path too long");
        return 0;
    }
    onnxc_session *s = NULL;
    int ok = 0;
    if (onnxc_model_load(path, &m) != ONNXC_OK) {
        snprintf(msg, cap, "load: %s", onnxc_last_error());
        return 0;
    }
    onnxc_session_options so = {.threads = g_threads};
    if (onnxc_session_create(m, &so, &s) != ONNXC_OK) {
        snprintf(msg, cap, "session: %s", onnxc_last_error());
        goto out;
    }
    int n_in = onnxc_model_num_inputs(m);
    if (n_in > MAX_IO) {
        snprintf(msg, cap, "too many inputs");
        goto out;
    }
    ok = 1;
    for (int set = 0; ok; set++) {
        if (snprintf(path, sizeof path, "%s/test_data_set_%d", dir, set) >= (int)sizeof path || !file_exists(path)) {
            if (set == 0) {
                snprintf(msg, cap, "no test_data_set_0");
                ok = 0;
            }
            break;
        }
        onnxc_tensor *ins[MAX_IO] = {0};
        const char *names[MAX_IO];
        int k = 0;
        for (; k < n_in; k++) {
            onnxc_io_info info;
            onnxc_model_input_info(m, k, &info);
            names[k] = info.name;
            if (snprintf(path, sizeof path, "%s/test_data_set_%d/input_%d.pb", dir, set, k) >= (int)sizeof path ||
                !file_exists(path))
                break; /* optional inputs left out */
            if (onnxc_value_read(path, info.dtype, &ins[k]) != ONNXC_OK) {
                snprintf(msg, cap, "input %d: %s", k, onnxc_last_error());
                ok = 0;
                break;
            }
            /* onnx 1.12 writes bfloat16 test data as uint16 (numpy has no bfloat16): same bits, relabel */
            if (info.dtype == ONNXC_BFLOAT16 && ins[k]->dtype == ONNXC_UINT16)
                ins[k]->dtype = ONNXC_BFLOAT16;
        }
        if (ok && onnxc_session_run(s, k, names, (const onnxc_tensor *const *)ins) != ONNXC_OK) {
            snprintf(msg, cap, "run: %s", onnxc_last_error());
            ok = 0;
        }
        for (int o = 0; ok && o < onnxc_session_num_outputs(s); o++) {
            onnxc_tensor *want = NULL;
            if (snprintf(path, sizeof path, "%s/test_data_set_%d/output_%d.pb", dir, set, o) >= (int)sizeof path) {
                snprintf(msg, cap, "path too long");
                ok = 0;
                break;
            }
            onnxc_io_info oinfo;
            onnxc_model_output_info(m, o, &oinfo);
            if (onnxc_value_read(path, oinfo.dtype, &want) != ONNXC_OK) {
                snprintf(msg, cap, "expected output %d: %s", o, onnxc_last_error());
                ok = 0;
                break;
            }
            char why[400];
            if (want->dtype == ONNXC_UINT16 && onnxc_session_output(s, o)->dtype == ONNXC_BFLOAT16)
                want->dtype = ONNXC_BFLOAT16; /* the same onnx 1.12 bfloat16-as-uint16 quirk */
            if (!compare(onnxc_session_output(s, o), want, why, sizeof why)) {
                snprintf(msg, cap, "set %d output %d '%s': %s", set, o, onnxc_session_output_name(s, o), why);
                ok = 0;
            }
            onnxc_tensor_free(want);
        }
        for (int j = 0; j < k; j++)
            onnxc_tensor_free(ins[j]);
    }
out:
    onnxc_session_free(s);
    onnxc_model_free(m);
    return ok;
}

static void usage(void)
{
    printf("usage: onnxc_node_tests --data DIR [--manifest FILE] [--only SUBSTR] [--verbose] [--write-manifest FILE]\n"
           "                        [--threads N]\n"
           "  DIR holds one folder per test (model.onnx, test_data_set_N/).\n"
           "  --manifest: tests listed there must pass; others are run and reported but do not fail the run.\n"
           "  --only: run the tests whose name contains SUBSTR.\n"
           "  --write-manifest: write the names of the passing tests to FILE.\n"
           "  --threads: run every session on N threads (default 1).\n");
}

int main(int argc, char **argv)
{
    const char *data = NULL, *mpath = NULL, *only = NULL, *wpath = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--manifest") && i + 1 < argc)
            mpath = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--write-manifest") && i + 1 < argc)
            wpath = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            g_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            verbose = 1;
        else {
            usage();
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (!data) {
        usage();
        return 2;
    }
    manifest man = {0};
    if (mpath && manifest_load(mpath, &man) != 0)
        return 2;
    DIR *d = opendir(data);
    if (!d) {
        fprintf(stderr, "node_tests: cannot open %s\n", data);
        return 2;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "test_", 5) != 0)
            continue;
        if (only && !strstr(e->d_name, only))
            continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    FILE *wf = wpath ? fopen(wpath, "w") : NULL;
    int passed = 0, failed = 0, other_pass = 0, other_fail = 0;
    for (int i = 0; i < n; i++) {
        char dir[8192], msg[1200] = "";
        if (snprintf(dir, sizeof dir, "%s/%s", data, names[i]) >= (int)sizeof dir) {
            printf("FAIL %s: path too long\n", names[i]);
            failed++;
            continue;
        }
        int required = !mpath || manifest_has(&man, names[i]);
        int ok = run_test(dir, msg, sizeof msg);
        if (ok && wf)
            fprintf(wf, "%s\n", names[i]);
        if (required) {
            if (ok)
                passed++;
            else
                failed++;
            if (!ok)
                printf("FAIL %s: %s\n", names[i], msg);
            else if (verbose)
                printf("ok   %s\n", names[i]);
        } else {
            if (ok)
                other_pass++;
            else
                other_fail++;
            if (verbose)
                printf("%s %s%s%s\n", ok ? "ok*  " : "skip ", names[i], ok ? " (passes but not in manifest)" : ": ",
                       ok ? "" : msg);
        }
        fflush(stdout);
    }
    if (wf)
        fclose(wf);
    if (mpath) {
        for (int i = 0; i < man.n; i++) {
            int found = 0;
            for (int j = 0; j < n && !found; j++)
                found = !strcmp(man.names[i], names[j]);
            if (!found && !only) {
                printf("FAIL %s: listed in the manifest but not in %s\n", man.names[i], data);
                failed++;
            }
        }
        printf("not in the manifest: %d pass, %d fail\n", other_pass, other_fail);
    }
    printf("%d passed, %d failed\n", passed, failed);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    for (int i = 0; i < man.n; i++)
        free(man.names[i]);
    free(man.names);
    return failed ? 1 : 0;
}
