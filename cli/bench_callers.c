/* onnxc bench --callers N: one session run from N threads at once (onnxc_session_run_outputs) against N separate
 * sessions run one per thread; every output of every run is compared bit for bit with a single-threaded run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "bench_callers.h"

/* The timed part starts when every caller has warmed up. */
typedef struct start_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    int go;
} start_gate;

typedef struct caller {
    onnxc_session *s;
    const bench_callers_args *a;
    onnxc_tensor *const *ref;
    struct start_gate *gate;
    long mismatches;
    onnxc_status st;
    char err[512];
} caller;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int same_tensor(const onnxc_tensor *x, const onnxc_tensor *y)
{
    if (x->dtype != y->dtype || x->rank != y->rank || x->nbytes != y->nbytes)
        return 0;
    for (int d = 0; d < x->rank; d++)
        if (x->dims[d] != y->dims[d])
            return 0;
    if (x->dtype == ONNXC_STRING) {
        const onnxc_string *p = x->data, *q = y->data;
        for (int64_t i = 0; i < onnxc_tensor_numel(x); i++)
            if (p[i].len != q[i].len || (p[i].len && memcmp(p[i].data, q[i].data, p[i].len) != 0))
                return 0;
        return 1;
    }
    return x->nbytes == 0 || memcmp(x->data, y->data, x->nbytes) == 0;
}

/* One run; outputs compared with the reference (st set on failure). */
static void caller_run(caller *c, onnxc_tensor **outs)
{
    const bench_callers_args *a = c->a;
    c->st = onnxc_session_run_outputs(c->s, a->n_in, a->names, a->inputs, a->n_out, outs);
    if (c->st != ONNXC_OK) {
        snprintf(c->err, sizeof c->err, "%s", onnxc_last_error());
        return;
    }
    for (int o = 0; o < a->n_out; o++) {
        if (!same_tensor(outs[o], c->ref[o]))
            c->mismatches++;
        onnxc_tensor_free(outs[o]);
        outs[o] = NULL;
    }
}

static void *caller_main(void *vp)
{
    caller *c = vp;
    onnxc_tensor **outs = calloc((size_t)c->a->n_out + 1, sizeof *outs);
    if (!outs) {
        c->st = ONNXC_E_NOMEM;
        snprintf(c->err, sizeof c->err, "out of memory");
    }
    for (long i = 0; outs && c->st == ONNXC_OK && i < c->a->warmup; i++)
        caller_run(c, outs);
    pthread_mutex_lock(&c->gate->mu);
    c->gate->ready++;
    pthread_cond_broadcast(&c->gate->cv);
    while (!c->gate->go)
        pthread_cond_wait(&c->gate->cv, &c->gate->mu);
    pthread_mutex_unlock(&c->gate->mu);
    for (long i = 0; outs && c->st == ONNXC_OK && i < c->a->runs; i++)
        caller_run(c, outs);
    free(outs);
    return NULL;
}

/* Run the callers, one thread each, on sessions[i] (all the same session, or one each); runs per second of the
 * timed part in *rate. Returns 0, or 1 when a run failed (message printed). */
static int run_callers(onnxc_session **sessions, const bench_callers_args *a, onnxc_tensor *const *ref,
                       long *mismatches, double *rate)
{
    int n = a->callers;
    caller *cs = calloc((size_t)n, sizeof *cs);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    start_gate gate = {.ready = 0, .go = 0};
    if (!cs || !th || pthread_mutex_init(&gate.mu, NULL) != 0) {
        free(cs);
        free(th);
        cli_error("bench: cannot set up %d callers", n);
        return 1;
    }
    pthread_cond_init(&gate.cv, NULL);
    int started = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        cs[i] = (caller){.s = sessions[i], .a = a, .ref = ref, .gate = &gate, .st = ONNXC_OK};
        if (pthread_create(&th[i], NULL, caller_main, &cs[i]) != 0)
            break;
        started++;
    }
    if (started < n) {
        cli_error("bench: cannot start caller thread %d of %d", started + 1, n);
        bad = 1;
    }
    pthread_mutex_lock(&gate.mu);
    while (gate.ready < started)
        pthread_cond_wait(&gate.cv, &gate.mu);
    gate.go = 1;
    pthread_cond_broadcast(&gate.cv);
    double t0 = now_s();
    pthread_mutex_unlock(&gate.mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double wall = now_s() - t0;
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
    for (int i = 0; i < started; i++) {
        *mismatches += cs[i].mismatches;
        if (cs[i].st != ONNXC_OK && !bad) {
            cli_error("bench: caller %d: %s", i, cs[i].err);
            bad = 1;
        }
    }
    *rate = wall > 0 ? (double)n * (double)a->runs / wall : 0;
    free(cs);
    free(th);
    return bad;
}

int bench_callers(const onnxc_model *m, const bench_callers_args *a)
{
    int n = a->callers, rc = CLI_EXIT_PROBLEMS;
    onnxc_session_options so;
    memset(&so, 0, sizeof so);
    so.threads = a->threads;
    onnxc_session **own = calloc((size_t)n, sizeof *own), **shared = calloc((size_t)n, sizeof *shared);
    onnxc_tensor **ref = calloc((size_t)a->n_out + 1, sizeof *ref);
    onnxc_session *one = NULL;
    long mis_shared = 0, mis_own = 0;
    double rate_shared = 0, rate_own = 0;
    onnxc_status st;
    if (!own || !shared || !ref) {
        cli_error("bench: out of memory");
        goto done;
    }
    /* the reference: one run, nothing else running */
    if ((st = onnxc_session_create(m, &so, &one)) != ONNXC_OK ||
        (st = onnxc_session_run_outputs(one, a->n_in, a->names, a->inputs, a->n_out, ref)) != ONNXC_OK) {
        rc = cli_fail(st);
        goto done;
    }
    for (int i = 0; i < n; i++)
        shared[i] = one;
    if (run_callers(shared, a, ref, &mis_shared, &rate_shared) != 0)
        goto done;
    for (int i = 0; i < n; i++)
        if ((st = onnxc_session_create(m, &so, &own[i])) != ONNXC_OK) {
            rc = cli_fail(st);
            goto done;
        }
    if (run_callers(own, a, ref, &mis_own, &rate_own) != 0)
        goto done;
    const int threads = onnxc_session_threads(one);
    if (a->json) {
        printf("{\"model\": ");
        onnxc_json_write_string(stdout, a->path);
        printf(", \"callers\": %d, \"threads\": %d, \"runs_per_caller\": %ld, \"warmup\": %ld", n, threads, a->runs,
               a->warmup);
        printf(", \"one_session_runs_per_s\": %.3f, \"separate_sessions_runs_per_s\": %.3f", rate_shared, rate_own);
        printf(", \"mismatched_outputs\": %ld}\n", mis_shared + mis_own);
    } else {
        printf("model            %s\n", a->path);
        printf("callers          %d threads calling at once, %ld timed runs each after %ld warm-up; sessions of %d "
               "threads\n", n, a->runs, a->warmup, threads);
        printf("one session      %.2f runs/s  (onnxc_session_run_outputs from %d thread%s)\n", rate_shared, n,
               n == 1 ? "" : "s");
        printf("%d session%s      %.2f runs/s  (one session per thread)\n", n, n == 1 ? " " : "s", rate_own);
        printf("outputs          %s\n", mis_shared + mis_own == 0 ? "every output bit-identical to a single-threaded run"
                                                                   : "DIFFER from a single-threaded run");
    }
    if (mis_shared + mis_own) {
        cli_error("bench: %ld outputs of the one session and %ld of the separate sessions differ from a "
                  "single-threaded run", mis_shared, mis_own);
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    for (int i = 0; own && i < n; i++)
        onnxc_session_free(own[i]);
    for (int o = 0; ref && o < a->n_out; o++)
        onnxc_tensor_free(ref[o]);
    onnxc_session_free(one);
    free(own);
    free(shared);
    free(ref);
    return rc;
}
