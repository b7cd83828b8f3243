/* Concurrency stress test (issue 16), through the public header only: one session shared by 4 threads
 * (onnxc_session_run_outputs) and 4 sessions of one model run on 4 threads at once, hundreds of runs that
 * alternate two batch sizes (so contexts re-plan while others run), every output compared bit for bit with a
 * single-threaded run of a separate one-thread session. CI also runs it under ThreadSanitizer.
 * usage: concurrency_stress [RUNS_PER_THREAD] MODEL... */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc.h"

#define N_THREADS 4
#define N_BATCHES 2 /* batch sizes 1 and 2 */

typedef struct ref_set {
    onnxc_tensor *input;
    int n_out;
    onnxc_tensor **outs;
} ref_set;

typedef struct job {
    onnxc_session *s;        /* the shared session (mode 0) or this thread's own (mode 1) */
    int mode;
    int runs, tid;
    const char *input_name;
    const ref_set *refs;     /* N_BATCHES sets */
    int failures;
    char msg[512];
} job;

static int same_tensor(const onnxc_tensor *a, const onnxc_tensor *b)
{
    if (!a || !b || a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return memcmp(a->data, b->data, a->nbytes) == 0;
}

/* Seeded float input: the model's declared shape with the symbolic batch dim set to batch. */
static onnxc_tensor *make_input(const onnxc_io_info *info, int64_t batch, uint32_t seed)
{
    int64_t dims[ONNXC_MAX_RANK];
    for (int d = 0; d < info->rank; d++)
        dims[d] = info->dims[d] < 0 ? batch : info->dims[d];
    onnxc_tensor *t = NULL;
    if (onnxc_tensor_create(ONNXC_FLOAT, info->rank, dims, &t) != ONNXC_OK)
        return NULL;
    float *x = t->data;
    uint32_t r = seed * 2654435761u + 1;
    for (int64_t i = 0; i < onnxc_tensor_numel(t); i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)((double)(r >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
    return t;
}

static void *worker(void *vp)
{
    job *j = vp;
    for (int r = 0; r < j->runs && !j->failures; r++) {
        const ref_set *ref = &j->refs[(r + j->tid) % N_BATCHES];
        const char *names[1] = {j->input_name};
        const onnxc_tensor *ins[1] = {ref->input};
        if (j->mode == 0) {
            onnxc_tensor *outs[8] = {0};
            if (onnxc_session_run_outputs(j->s, 1, names, ins, ref->n_out, outs) != ONNXC_OK) {
                snprintf(j->msg, sizeof j->msg, "run %d failed: %s", r, onnxc_last_error());
                j->failures++;
                break;
            }
            for (int o = 0; o < ref->n_out; o++) {
                if (!same_tensor(outs[o], ref->outs[o]) && !j->failures) {
                    snprintf(j->msg, sizeof j->msg, "run %d: output %d differs from the single-threaded run", r, o);
                    j->failures++;
                }
                onnxc_tensor_free(outs[o]);
            }
        } else {
            if (onnxc_session_run(j->s, 1, names, ins) != ONNXC_OK) {
                snprintf(j->msg, sizeof j->msg, "run %d failed: %s", r, onnxc_last_error());
                j->failures++;
                break;
            }
            for (int o = 0; o < ref->n_out; o++)
                if (!same_tensor(onnxc_session_output(j->s, o), ref->outs[o]) && !j->failures) {
                    snprintf(j->msg, sizeof j->msg, "run %d: output %d differs from the single-threaded run", r, o);
                    j->failures++;
                }
        }
    }
    return NULL;
}

static int run_threads(job *jobs, const char *what, const char *model)
{
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        if (pthread_create(&th[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "%s: cannot start thread %d\n", model, t);
            for (int u = 0; u < t; u++)
                pthread_join(th[u], NULL);
            return 1;
        }
    int bad = 0;
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].failures) {
            fprintf(stderr, "%s: %s, thread %d: %s\n", model, what, t, jobs[t].msg);
            bad = 1;
        }
    }
    if (!bad)
        printf("%s: %s: %d runs, every output bit-identical to the single-threaded run\n", model, what,
               N_THREADS * jobs[0].runs);
    return bad;
}

static int stress_model(const char *path, int runs)
{
    onnxc_model *m = NULL;
    if (onnxc_model_load(path, &m) != ONNXC_OK) {
        fprintf(stderr, "%s: %s\n", path, onnxc_last_error());
        return 1;
    }
    onnxc_io_info info;
    int bad = 0;
    ref_set refs[N_BATCHES] = {{0}};
    onnxc_session *one = NULL, *shared = NULL, *own[N_THREADS] = {0};
    onnxc_session_options o1 = {.threads = 1}, o2 = {.threads = 2};
    if (onnxc_model_num_inputs(m) != 1 || onnxc_model_input_info(m, 0, &info) != ONNXC_OK ||
        onnxc_model_num_outputs(m) > 8) {
        fprintf(stderr, "%s: the stress test wants one input and at most 8 outputs\n", path);
        bad = 1;
        goto done;
    }
    /* reference: a single-threaded session, one run at a time */
    if (onnxc_session_create(m, &o1, &one) != ONNXC_OK)
        goto fail;
    for (int b = 0; b < N_BATCHES; b++) {
        refs[b].input = make_input(&info, b + 1, (uint32_t)b + 7);
        refs[b].n_out = onnxc_model_num_outputs(m);
        refs[b].outs = calloc((size_t)refs[b].n_out, sizeof *refs[b].outs);
        const char *names[1] = {info.name};
        const onnxc_tensor *ins[1] = {refs[b].input};
        if (!refs[b].input || !refs[b].outs || onnxc_session_run(one, 1, names, ins) != ONNXC_OK)
            goto fail;
        for (int o = 0; o < refs[b].n_out; o++)
            if (onnxc_tensor_clone(onnxc_session_output(one, o), &refs[b].outs[o]) != ONNXC_OK)
                goto fail;
    }
    /* one session, 4 threads */
    if (onnxc_session_create(m, &o2, &shared) != ONNXC_OK)
        goto fail;
    job jobs[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        jobs[t] = (job){.s = shared, .mode = 0, .runs = runs, .tid = t, .input_name = info.name, .refs = refs};
    bad |= run_threads(jobs, "one session, 4 threads (onnxc_session_run_outputs)", path);
    /* 4 sessions of the model, one per thread */
    for (int t = 0; t < N_THREADS; t++) {
        if (onnxc_session_create(m, &o2, &own[t]) != ONNXC_OK)
            goto fail;
        jobs[t] = (job){.s = own[t], .mode = 1, .runs = runs, .tid = t, .input_name = info.name, .refs = refs};
    }
    bad |= run_threads(jobs, "4 sessions, 4 threads (onnxc_session_run)", path);
    goto done;
fail:
    fprintf(stderr, "%s: %s\n", path, onnxc_last_error());
    bad = 1;
done:
    for (int t = 0; t < N_THREADS; t++)
        onnxc_session_free(own[t]);
    onnxc_session_free(shared);
    onnxc_session_free(one);
    for (int b = 0; b < N_BATCHES; b++) {
        for (int o = 0; refs[b].outs && o < refs[b].n_out; o++)
            onnxc_tensor_free(refs[b].outs[o]);
        free(refs[b].outs);
        onnxc_tensor_free(refs[b].input);
    }
    onnxc_model_free(m);
    return bad;
}

int main(int argc, char **argv)
{
    int first = 1, runs = 50;
    if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
        runs = atoi(argv[1]);
        first = 2;
    }
    if (first >= argc || runs < 1) {
        fprintf(stderr, "usage: concurrency_stress [RUNS_PER_THREAD] MODEL...\n");
        return 2;
    }
    int bad = 0;
    for (int i = first; i < argc; i++)
        bad |= stress_model(argv[i], runs);
    return bad;
}
