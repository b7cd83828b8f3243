/* Measure this machine's OpenBLAS sgemm rate (GFLOP/s), the yardstick bench.py sets each model's GFLOP/s
 * against: square products of growing size, best of several repetitions, for 1 and for N threads.
 * Build: cc -O2 sgemm_peak.c $(pkg-config --cflags --libs openblas) -o sgemm_peak
 * Usage: sgemm_peak [THREADS] [--json]   (prints the peak for 1 thread and for THREADS threads) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best GFLOP/s over sizes 256..2048 for C[n,n] = A[n,n] B[n,n]. */
static double peak(int threads, float *a, float *b, float *c)
{
    openblas_set_num_threads(threads);
    static const int sizes[] = {256, 512, 1024, 1536, 2048};
    double best = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        double flops = 2.0 * n * n * n;
        /* repeat for at least ~0.2 s, keep the fastest repetition (the machine may be shared) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double spent = 0;
        for (int rep = 0; rep < 50 && spent < 0.2; rep++) {
            double t0 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            double dt = now_s() - t0;
            spent += dt;
            if (flops / dt * 1e-9 > best)
                best = flops / dt * 1e-9;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    int threads = 2, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if ((threads = atoi(argv[i])) < 1) {
            fprintf(stderr, "usage: sgemm_peak [THREADS] [--json]\n");
            return 2;
        }
    }
    const size_t n = 2048;
    float *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b), *c = malloc(n * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "sgemm_peak: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (float)(i % 7) * 0.25f - 0.5f;
        b[i] = (float)(i % 5) * 0.125f - 0.25f;
    }
    double p1 = peak(1, a, b, c);
    double pn = threads == 1 ? p1 : peak(threads, a, b, c);
    if (json)
        printf("{\"threads\": %d, \"gflops_1\": %.2f, \"gflops_n\": %.2f, \"openblas\": \"%s\"}\n", threads, p1, pn,
               openblas_get_config());
    else
        printf("OpenBLAS sgemm peak: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads (%s)\n", p1, pn, threads,
               openblas_get_config());
    free(a);
    free(b);
    free(c);
    return 0;
}
