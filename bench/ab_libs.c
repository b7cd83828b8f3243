/* ab_libs LIB_A LIB_B MODEL [THREADS] [ROUNDS]: two builds of libonnxc (shared objects without a SONAME, so both
 * load) run the same model in one process, in alternating blocks of 10 runs (which build goes first alternates
 * too). Prints each build's median and fastest run and the median over rounds of the paired ratio B / A.
 *
 * Why: on a shared machine the speed changes in spells of seconds and differs between processes; two builds
 * timed in turn within one process see the same spells, so a 2-3 % change shows, where separate `onnxc bench`
 * processes scatter by 10-40 %. bench/ab.sh builds the libraries and runs this in both orders.
 * Inputs: the model's first input, static dims (symbolic ones 1), deterministic values in [-0.5, 0.5). */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onnxc/onnxc.h"

typedef struct build {
    onnxc_status (*load)(const char *, onnxc_model **);
    onnxc_status (*create)(const onnxc_model *, const onnxc_session_options *, onnxc_session **);
    onnxc_status (*run)(onnxc_session *, int, const char *const *, const onnxc_tensor *const *);
    onnxc_status (*input_info)(const onnxc_model *, int, onnxc_io_info *);
    const char *(*last_error)(void);
    onnxc_session *s;
} build;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int open_build(const char *lib, const char *model, int threads, build *b, onnxc_io_info *in)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ab_libs: %s\n", dlerror());
        return 1;
    }
    *(void **)&b->load = dlsym(h, "onnxc_model_load");
    *(void **)&b->create = dlsym(h, "onnxc_session_create");
    *(void **)&b->run = dlsym(h, "onnxc_session_run");
    *(void **)&b->input_info = dlsym(h, "onnxc_model_input_info");
    *(void **)&b->last_error = dlsym(h, "onnxc_last_error");
    if (!b->load || !b->create || !b->run || !b->input_info || !b->last_error) {
        fprintf(stderr, "ab_libs: %s does not export the onnxc API\n", lib);
        return 1;
    }
    onnxc_model *m = NULL;
    onnxc_session_options o = {threads};
    if (b->load(model, &m) != ONNXC_OK || b->create(m, &o, &b->s) != ONNXC_OK || b->input_info(m, 0, in) != ONNXC_OK) {
        fprintf(stderr, "ab_libs: %s: %s\n", lib, b->last_error());
        return 1;
    }
    return 0; /* the model stays loaded for the process's life */
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ab_libs LIB_A LIB_B MODEL [THREADS] [ROUNDS]\n");
        return 2;
    }
    const int threads = argc > 4 ? atoi(argv[4]) : 2, rounds = argc > 5 ? atoi(argv[5]) : 30, per = 10;
    if (threads < 1 || rounds < 1) {
        fprintf(stderr, "ab_libs: THREADS and ROUNDS must be positive\n");
        return 2;
    }
    build b[2];
    onnxc_io_info in;
    memset(b, 0, sizeof b);
    for (int k = 0; k < 2; k++)
        if (open_build(argv[1 + k], argv[3], threads, &b[k], &in))
            return 1;
    onnxc_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = ONNXC_FLOAT;
    t.rank = in.rank < 0 ? 0 : in.rank;
    size_t n = 1;
    for (int i = 0; i < t.rank; i++) {
        t.dims[i] = in.dims[i] > 0 ? in.dims[i] : 1;
        n *= (size_t)t.dims[i];
    }
    float *x = malloc(n * sizeof *x);
    double *lat[2] = {malloc(sizeof(double) * (size_t)rounds * per), malloc(sizeof(double) * (size_t)rounds * per)};
    double *ratio = malloc(sizeof(double) * (size_t)rounds);
    if (!x || !lat[0] || !lat[1] || !ratio) {
        fprintf(stderr, "ab_libs: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u) % 1000u) / 1000.0f - 0.5f;
    t.data = x;
    t.nbytes = n * sizeof *x;
    const char *names[1] = {in.name};
    const onnxc_tensor *inputs[1] = {&t};
    for (int w = 0; w < 5; w++)
        for (int k = 0; k < 2; k++)
            if (b[k].run(b[k].s, 1, names, inputs) != ONNXC_OK) {
                fprintf(stderr, "ab_libs: %s: %s\n", argv[1 + k], b[k].last_error());
                return 1;
            }
    for (int r = 0; r < rounds; r++) {
        double sum[2] = {0, 0};
        for (int q = 0; q < 2; q++) {
            const int k = (r & 1) ? 1 - q : q;
            for (int i = 0; i < per; i++) {
                const double t0 = now_ms();
                b[k].run(b[k].s, 1, names, inputs);
                lat[k][r * per + i] = now_ms() - t0;
                sum[k] += lat[k][r * per + i];
            }
        }
        ratio[r] = sum[1] / sum[0];
    }
    for (int k = 0; k < 2; k++) {
        qsort(lat[k], (size_t)rounds * per, sizeof(double), cmp_double);
        printf("%s %s: median %.3f ms, fastest %.3f ms\n", k ? "B" : "A", argv[1 + k], lat[k][rounds * per / 2],
               lat[k][0]);
    }
    qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
    printf("B / A paired ratio: median %.3f (quartiles %.3f, %.3f) over %d rounds\n", ratio[rounds / 2],
           ratio[rounds / 4], ratio[3 * rounds / 4], rounds);
    return 0;
}
