/* ns per element of vmath's sigmoid family (and exp, for scale) on one core, over arrays of 4 Ki (L1), 64 Ki (L2)
 * and 1 Mi (past L2) floats, values uniform in [-8, 8]: the fastest of several timed repetitions.
 * Build (against any build of the library, e.g. an older revision's, to compare):
 *   cc -std=c11 -O2 -Iruntime bench/vmath_bench.c build/libonnxc.a -lm -o /tmp/vmath_bench
 * Usage: vmath_bench [REPS]   (prints one line per function and size) */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/vmath.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { F_SIGMOID, F_SILU, F_MUL_SIGMOID, F_EXP, F_N };
static const char *const names[F_N] = {"sigmoid", "silu", "mul_sigmoid", "exp"};

static void run(int f, float *o, const float *x, const float *b, int64_t n)
{
    switch (f) {
    case F_SIGMOID:
        oc_vm_sigmoid(o, x, n);
        break;
    case F_SILU:
        oc_vm_silu(o, x, n);
        break;
    case F_MUL_SIGMOID:
        oc_vm_mul_sigmoid(o, x, b, n);
        break;
    default:
        oc_vm_exp(o, x, n);
        break;
    }
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 7;
    const int64_t sizes[] = {4096, 65536, 1048576};
    const int64_t nmax = sizes[2];
    float *x = aligned_alloc(64, (size_t)nmax * sizeof(float));
    float *b = aligned_alloc(64, (size_t)nmax * sizeof(float));
    float *o = aligned_alloc(64, (size_t)nmax * sizeof(float));
    if (!x || !b || !o)
        return 1;
    uint32_t s = 12345u;
    for (int64_t i = 0; i < nmax; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = ((float)(s >> 8) / 16777216.0f) * 16.0f - 8.0f;
        s = s * 1664525u + 1013904223u;
        b[i] = ((float)(s >> 8) / 16777216.0f) * 16.0f - 8.0f;
    }
    printf("vmath path: %s\n", oc_vm_isa());
    double sink = 0;
    for (int f = 0; f < F_N; f++) {
        for (int k = 0; k < 3; k++) {
            const int64_t n = sizes[k];
            const int64_t inner = (int64_t)(8 * 1048576 / n); /* about 8 M elements per timing */
            double best = 1e30;
            for (int r = 0; r < reps; r++) {
                double t0 = now_s();
                for (int64_t j = 0; j < inner; j++)
                    run(f, o, x, b, n);
                double dt = (now_s() - t0) / (double)(inner * n);
                best = dt < best ? dt : best;
                sink += o[n / 2];
            }
            printf("%-12s %8lld floats: %.3f ns/element\n", names[f], (long long)n, best * 1e9);
        }
    }
    free(x);
    free(b);
    free(o);
    return sink == 12345.678 ? 2 : 0; /* keeps the results live */
}
