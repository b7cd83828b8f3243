/* onnxc bench --callers N (bench_callers.c): one session from N threads against N sessions, outputs checked. */
#ifndef ONNXC_CLI_BENCH_CALLERS_H
#define ONNXC_CLI_BENCH_CALLERS_H

#include "onnxc/onnxc.h"

typedef struct bench_callers_args {
    const char *path;        /* the model's file, for the printout */
    int threads;             /* session option (0 = cores) */
    int callers;
    long runs, warmup;       /* per caller */
    int json;
    int n_in;
    const char *const *names;
    const onnxc_tensor *const *inputs;
    int n_out;
} bench_callers_args;

/* Print both throughputs; CLI_EXIT_OK, or CLI_EXIT_PROBLEMS when a run failed or any output differed from a
 * single-threaded run. */
int bench_callers(const onnxc_model *m, const bench_callers_args *a);

#endif
