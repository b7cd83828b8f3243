/* Unit tests of the kernels that split their work over the session's pool: each runs on a shape big enough to
 * split, with pools of 1, 2 and 3 threads; every run is checked against a naive reference written here
 * (double precision where the op rounds), and the runs must be bitwise equal whatever the thread count. */
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ir.h"
#include "kutil.h"
#include "threadpool.h"

#include "kernel_case.h"

/* ---- harness: one node run like the session runs it, on a pool of a given size ---- */

#define KC_IN 5
#define KC_OUT 3

typedef struct kcase {
    onnxc_model *model;
    oc_node *node;
    int64_t opset;
    int n_in, n_out;
    onnxc_tensor in_t[KC_IN];
    onnxc_tensor *in[KC_IN];
    onnxc_tensor out_t[KC_OUT];
    onnxc_tensor *out[KC_OUT];
} kcase;

static const oc_kernel *find_kernel(const char *op, int64_t opset)
{
    const oc_kernel *tables[] = {oc_kernels_binary, oc_kernels_unary, oc_kernels_reduce, oc_kernels_norm,
                                 oc_kernels_pool,   oc_kernels_resize, oc_kernels_shape};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const oc_kernel *k = tables[t]; k->op_type; k++)
            if (strcmp(k->op_type, op) == 0 && opset >= k->since && (!k->until || opset <= k->until))
                return k;
    return NULL;
}

static void kc_init(kcase *kc, const char *op, int64_t opset, int n_out)
{
    memset(kc, 0, sizeof *kc);
    kc->model = oc_model_new();
    assert_non_null(kc->model);
    kc->node = oc_graph_add_node(kc->model->graph, op, NULL, "n0");
    assert_non_null(kc->node);
    kc->opset = opset;
    kc->n_out = n_out;
}

static void kc_free(kcase *kc)
{
    for (int i = 0; i < KC_OUT; i++)
        free(kc->out_t[i].data);
    onnxc_model_free(kc->model);
}

/* Input slot i (data not copied; NULL data leaves the input omitted). */
static void kc_input(kcase *kc, int i, int32_t dtype, int rank, const int64_t *dims, const void *data)
{
    kt_tensor(&kc->in_t[i], dtype, rank, dims, data);
    kc->in[i] = data ? &kc->in_t[i] : NULL;
    if (i + 1 > kc->n_in)
        kc->n_in = i + 1;
}

static void kc_int(kcase *kc, const char *name, int64_t v)
{
    assert_int_equal(oc_node_set_attr_int(kc->node, name, v), ONNXC_OK);
}

static void kc_ints(kcase *kc, const char *name, int n, const int64_t *v)
{
    assert_int_equal(oc_node_set_attr_ints(kc->node, name, v, (size_t)n), ONNXC_OK);
}

static void kc_float(kcase *kc, const char *name, float v)
{
    assert_int_equal(oc_node_set_attr_float(kc->node, name, v), ONNXC_OK);
}

/* A job of one item per thread whose items wait for each other (up to 50 ms: a worker that started after the
 * job was published sits it out), so the kernel run right after finds the workers awake and spinning. Without
 * it a fresh pool's workers may still be starting, or asleep, while the caller runs every item itself, and the
 * split would go untested. */
typedef struct kc_barrier {
    atomic_int arrived;
    int threads;
} kc_barrier;

static double kc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void kc_barrier_item(void *arg, int64_t item, int slot)
{
    (void)item;
    (void)slot;
    kc_barrier *b = arg;
    atomic_fetch_add(&b->arrived, 1);
    double until = kc_now() + 0.05;
    while (atomic_load(&b->arrived) < b->threads && kc_now() < until)
        sched_yield();
}

static void kc_wake(oc_threadpool *pool)
{
    kc_barrier b = {0, oc_pool_threads(pool)};
    oc_pool_run(pool, b.threads, kc_barrier_item, &b);
}

/* infer, allocate the outputs (NaN-filled: an unwritten output shows) and scratch, prepare, run */
static void kc_run(kcase *kc, int threads)
{
    const oc_kernel *k = find_kernel(kc->node->op_type, kc->opset);
    assert_non_null(k);
    oc_threadpool *pool = NULL;
    assert_int_equal(oc_pool_create(threads, &pool), ONNXC_OK);
    oc_kctx c;
    memset(&c, 0, sizeof c);
    c.node = kc->node;
    c.opset = kc->opset;
    c.n_in = kc->n_in;
    c.in = kc->in;
    c.n_out = kc->n_out;
    for (int i = 0; i < kc->n_out; i++) {
        free(kc->out_t[i].data);
        memset(&kc->out_t[i], 0, sizeof kc->out_t[i]);
        kc->out[i] = &kc->out_t[i];
    }
    c.out = kc->out;
    c.pool = pool;
    assert_int_equal(k->infer(&c), ONNXC_OK);
    for (int i = 0; i < kc->n_out; i++) {
        onnxc_tensor *t = &kc->out_t[i];
        t->nbytes = (size_t)onnxc_tensor_numel(t) * onnxc_dtype_size(t->dtype);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        assert_non_null(t->data);
        memset(t->data, 0xff, t->nbytes);
    }
    if (k->prepare)
        assert_int_equal(k->prepare(&c), ONNXC_OK);
    void *scratch = NULL;
    if (c.scratch_size) {
        scratch = aligned_alloc(64, (c.scratch_size + 63) / 64 * 64);
        assert_non_null(scratch);
        memset(scratch, 0xff, c.scratch_size);
        c.scratch = scratch;
    }
    kc_wake(pool);
    assert_int_equal(k->run(&c), ONNXC_OK);
    free(scratch);
    if (c.state && k->release)
        k->release(c.state);
    oc_pool_free(pool);
}

/* Checks one run's outputs against the test's reference. */
typedef void (*kc_check)(const kcase *kc, const void *ref);

/* Run on pools of 1, 2 and 3 threads: each run passes check, and every output's bytes equal the 1-thread run's. */
static void kc_run_split(kcase *kc, kc_check check, const void *ref)
{
    void *first[KC_OUT] = {NULL};
    for (int threads = 1; threads <= 3; threads++) {
        kc_run(kc, threads);
        check(kc, ref);
        for (int i = 0; i < kc->n_out; i++) {
            const onnxc_tensor *t = &kc->out_t[i];
            if (threads == 1) {
                first[i] = malloc(t->nbytes ? t->nbytes : 1);
                assert_non_null(first[i]);
                memcpy(first[i], t->data, t->nbytes);
            } else if (memcmp(first[i], t->data, t->nbytes) != 0) {
                fail_msg("%s: output %d on %d threads differs from the 1-thread run", kc->node->op_type, i, threads);
            }
        }
    }
    for (int i = 0; i < kc->n_out; i++)
        free(first[i]);
}

/* A deterministic pseudo-random float in [-1, 1) (xorshift). */
static float rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

static float *rnd_floats(int64_t n, uint32_t seed)
{
    float *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = rnd(&seed);
    return v;
}

/* Reference values in double, compared within a relative tolerance. */
typedef struct fref {
    const double *want;
    int64_t n;
    double tol;
    int out;
} fref;

static void check_close(const kcase *kc, const void *ref)
{
    const fref *r = ref;
    const onnxc_tensor *t = &kc->out_t[r->out];
    assert_int_equal(onnxc_tensor_numel(t), r->n);
    for (int64_t i = 0; i < r->n; i++) {
        double got = t->dtype == ONNXC_DOUBLE ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
        if (!(fabs(got - r->want[i]) <= r->tol * (1.0 + fabs(r->want[i]))))
            fail_msg("%s output %d element %lld: %.9g, want %.9g", kc->node->op_type, r->out, (long long)i, got,
                     r->want[i]);
    }
}

/* Reference bytes compared exactly (copies, selections, exact float ops). */
typedef struct bref {
    const void *want;
    size_t nbytes;
} bref;

static void check_bytes(const kcase *kc, const void *ref)
{
    const bref *r = ref;
    assert_int_equal(kc->out_t[0].nbytes, r->nbytes);
    assert_memory_equal(kc->out_t[0].data, r->want, r->nbytes);
}

static double *new_doubles(int64_t n)
{
    double *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    return v;
}

/* ---- element-wise: the broadcast walker and the unary loops ---- */

static void test_split_binary(void **state)
{
    (void)state;
    /* many rows (split by rows) and few long rows (split into blocks of a row) */
    const int64_t shapes[2][2] = {{700, 301}, {2, 90001}};
    for (int s = 0; s < 2; s++) {
        const int64_t R = shapes[s][0], C = shapes[s][1];
        float *a = rnd_floats(R * C, 1u + (uint32_t)s), *row = rnd_floats(C, 7), *col = rnd_floats(R, 9);
        float *want = malloc((size_t)(R * C) * sizeof *want);
        assert_non_null(want);
        int64_t da[] = {R, C}, dr[] = {C}, dc[] = {R, 1};
        kcase kc;
        /* Mul by a broadcast row, then Sub of a column from it, each exact in float */
        for (int64_t i = 0; i < R * C; i++)
            want[i] = a[i] * row[i % C];
        kc_init(&kc, "Mul", 14, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 2, da, a);
        kc_input(&kc, 1, ONNXC_FLOAT, 1, dr, row);
        kc_run_split(&kc, check_bytes, &(bref){want, (size_t)(R * C) * sizeof *want});
        kc_free(&kc);
        for (int64_t i = 0; i < R * C; i++)
            want[i] = col[i / C] - a[i];
        kc_init(&kc, "Sub", 14, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 2, dc, col);
        kc_input(&kc, 1, ONNXC_FLOAT, 2, da, a);
        kc_run_split(&kc, check_bytes, &(bref){want, (size_t)(R * C) * sizeof *want});
        kc_free(&kc);
        /* Where(a > 0 as bool, a, row): three inputs */
        bool *cond = malloc((size_t)(R * C));
        assert_non_null(cond);
        for (int64_t i = 0; i < R * C; i++) {
            cond[i] = a[i] > 0;
            want[i] = cond[i] ? a[i] : row[i % C];
        }
        kc_init(&kc, "Where", 16, 1);
        kc_input(&kc, 0, ONNXC_BOOL, 2, da, cond);
        kc_input(&kc, 1, ONNXC_FLOAT, 2, da, a);
        kc_input(&kc, 2, ONNXC_FLOAT, 1, dr, row);
        kc_run_split(&kc, check_bytes, &(bref){want, (size_t)(R * C) * sizeof *want});
        kc_free(&kc);
        free(cond);
        free(a);
        free(row);
        free(col);
        free(want);
    }
}

static void test_split_unary(void **state)
{
    (void)state;
    const int64_t n = 300007;
    int64_t d[] = {n};
    float *x = rnd_floats(n, 3);
    for (int64_t i = 0; i < n; i++)
        x[i] *= 8.0f;
    double *want = new_doubles(n);
    kcase kc;
    for (int64_t i = 0; i < n; i++)
        want[i] = 1.0 / (1.0 + exp(-(double)x[i]));
    kc_init(&kc, "Sigmoid", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
    kc_run_split(&kc, check_close, &(fref){want, n, 1e-6, 0});
    kc_free(&kc);
    for (int64_t i = 0; i < n; i++)
        want[i] = erf((double)x[i]);
    kc_init(&kc, "Erf", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
    kc_run_split(&kc, check_close, &(fref){want, n, 1e-6, 0});
    kc_free(&kc);
    /* Cast float -> double is exact */
    for (int64_t i = 0; i < n; i++)
        want[i] = x[i];
    kc_init(&kc, "Cast", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
    kc_int(&kc, "to", ONNXC_DOUBLE);
    kc_run_split(&kc, check_close, &(fref){want, n, 0, 0});
    kc_free(&kc);
    /* PRelu with a slope per channel goes through the walker */
    const int64_t C = 24, S = 4096;
    int64_t dx[] = {1, C, 64, 64}, dsl[] = {C, 1, 1};
    float *slope = rnd_floats(C, 5);
    float *wantf = malloc((size_t)(C * S) * sizeof *wantf);
    assert_non_null(wantf);
    for (int64_t i = 0; i < C * S; i++)
        wantf[i] = x[i] < 0 ? x[i] * slope[i / S] : x[i];
    kc_init(&kc, "PRelu", 16, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 3, dsl, slope);
    kc_run_split(&kc, check_bytes, &(bref){wantf, (size_t)(C * S) * sizeof *wantf});
    kc_free(&kc);
    free(slope);
    free(wantf);
    free(x);
    free(want);
}

/* ---- the vector kernels (vmath, lane folds) at lengths that are not a multiple of the vector width ---- */

static double ref_hsig(double x, double a, double b) { return fmin(1.0, fmax(0.0, a * x + b)); }

/* Sigmoid, Tanh, Erf, Exp, HardSigmoid (default and custom alpha/beta), HardSwish on lengths 1, 7, 9, 33 and
 * 300007 (one element, a partial vector, one vector and a tail, a thread split), against double libm. */
static void test_split_vector_unary(void **state)
{
    (void)state;
    const int64_t lens[] = {1, 7, 9, 33, 300007};
    const char *ops[] = {"Sigmoid", "Tanh", "Erf", "Exp", "HardSigmoid", "HardSigmoid", "HardSwish"};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const int64_t n = lens[l];
        int64_t d[] = {n};
        float *x = rnd_floats(n, 11u + (uint32_t)l);
        for (int64_t i = 0; i < n; i++)
            x[i] *= 9.0f;
        double *want = new_doubles(n);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            const bool custom = o == 5;
            for (int64_t i = 0; i < n; i++) {
                double v = x[i];
                switch (o) {
                case 0: want[i] = 1.0 / (1.0 + exp(-v)); break;
                case 1: want[i] = tanh(v); break;
                case 2: want[i] = erf(v); break;
                case 3: want[i] = exp(v); break;
                case 4: want[i] = ref_hsig(v, 0.2f, 0.5f); break;
                case 5: want[i] = ref_hsig(v, 0.3f, 0.25f); break;
                default: want[i] = v * ref_hsig(v, 1.0 / 6.0, 0.5); break;
                }
            }
            kcase kc;
            kc_init(&kc, ops[o], o == 6 ? 14 : 13, 1);
            kc_input(&kc, 0, ONNXC_FLOAT, 1, d, x);
            if (custom) {
                kc_float(&kc, "alpha", 0.3f);
                kc_float(&kc, "beta", 0.25f);
            }
            kc_run_split(&kc, check_close, &(fref){want, n, 1e-6, 0});
            kc_free(&kc);
        }
        free(x);
        free(want);
    }
}

/* Mul by an [N, C, 1, 1] gate (the squeeze-excite broadcast), by a scalar, and 1-element by 1-element, with C
 * and planes of odd sizes: exact in float, so compared bitwise. */
static void test_split_channel_broadcast(void **state)
{
    (void)state;
    const int64_t shapes[][3] = {{37, 13, 13}, {24, 113, 113}, {5, 1, 1}, {1, 1, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t C = shapes[s][0], H = shapes[s][1], W = shapes[s][2], n = C * H * W;
        float *x = rnd_floats(n, 21u + (uint32_t)s), *g = rnd_floats(C, 23u + (uint32_t)s);
        float *want = malloc((size_t)n * sizeof *want);
        assert_non_null(want);
        int64_t dx[] = {1, C, H, W}, dg[] = {1, C, 1, 1};
        for (int64_t i = 0; i < n; i++)
            want[i] = g[i / (H * W)] * x[i];
        kcase kc;
        kc_init(&kc, "Mul", 14, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 4, dg, g); /* gate first: the broadcast operand on the left */
        kc_input(&kc, 1, ONNXC_FLOAT, 4, dx, x);
        kc_run_split(&kc, check_bytes, &(bref){want, (size_t)n * sizeof *want});
        kc_free(&kc);
        /* Add of a rank-0 scalar */
        float sc = 0.375f;
        for (int64_t i = 0; i < n; i++)
            want[i] = x[i] + sc;
        kc_init(&kc, "Add", 14, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 4, dx, x);
        kc_input(&kc, 1, ONNXC_FLOAT, 0, NULL, &sc);
        kc_run_split(&kc, check_bytes, &(bref){want, (size_t)n * sizeof *want});
        kc_free(&kc);
        free(x);
        free(g);
        free(want);
    }
}

/* GlobalAveragePool / GlobalMaxPool on float32 planes of 1, 7 x 7, 13 x 13 and 113 x 113 elements (lane tails,
 * one-element planes, a split), and GlobalMaxPool propagating a NaN; ReduceMean / ReduceMax over the contiguous
 * last axis of odd lengths. References in double. */
static void test_split_global_pools_lanes(void **state)
{
    (void)state;
    const int64_t shapes[][2] = {{3, 1}, {37, 7}, {17, 13}, {24, 113}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t C = shapes[s][0], H = shapes[s][1], V = H * H;
        float *x = rnd_floats(C * V, 31u + (uint32_t)s);
        double *wa = new_doubles(C), *wm = new_doubles(C);
        for (int64_t c = 0; c < C; c++) {
            double sum = 0, m = -INFINITY;
            for (int64_t i = 0; i < V; i++) {
                sum += x[c * V + i];
                m = fmax(m, x[c * V + i]);
            }
            wa[c] = sum / (double)V;
            wm[c] = m;
        }
        int64_t d[] = {1, C, H, H};
        kcase kc;
        kc_init(&kc, "GlobalAveragePool", 1, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
        kc_run_split(&kc, check_close, &(fref){wa, C, 1e-6, 0});
        kc_free(&kc);
        kc_init(&kc, "GlobalMaxPool", 1, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
        kc_run_split(&kc, check_close, &(fref){wm, C, 0, 0});
        kc_free(&kc);
        /* ReduceMean and ReduceMax over the last axis (rows of length H * H) */
        int64_t dr[] = {C, V}, ax[] = {1}, dax[] = {1};
        kc_init(&kc, "ReduceMean", 18, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 2, dr, x);
        kc_input(&kc, 1, ONNXC_INT64, 1, dax, ax);
        kc_run_split(&kc, check_close, &(fref){wa, C, 1e-6, 0});
        kc_free(&kc);
        kc_init(&kc, "ReduceMax", 18, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 2, dr, x);
        kc_input(&kc, 1, ONNXC_INT64, 1, dax, ax);
        kc_run_split(&kc, check_close, &(fref){wm, C, 0, 0});
        kc_free(&kc);
        if (V > 40) {
            /* a NaN in the middle of one plane (past the first lanes): that plane's max is NaN (numpy.max) */
            x[V + 40] = NAN;
            kc_init(&kc, "GlobalMaxPool", 1, 1);
            kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
            kc_run(&kc, 2);
            const float *y = kc.out_t[0].data;
            assert_true(isnan(y[1]) && (float)wm[0] == y[0]);
            kc_free(&kc);
            kc_init(&kc, "ReduceMax", 18, 1);
            kc_input(&kc, 0, ONNXC_FLOAT, 2, dr, x);
            kc_input(&kc, 1, ONNXC_INT64, 1, dax, ax);
            kc_run(&kc, 2);
            y = kc.out_t[0].data;
            assert_true(isnan(y[1]) && (float)wm[0] == y[0]);
            kc_free(&kc);
        }
        free(x);
        free(wa);
        free(wm);
    }
}

/* ---- Softmax, LogSoftmax, Reduce*, ArgMax ---- */

static void test_split_softmax(void **state)
{
    (void)state;
    const int64_t R = 300, C = 257;
    int64_t d[] = {R, C};
    float *x = rnd_floats(R * C, 11);
    for (int64_t i = 0; i < R * C; i++)
        x[i] *= 10.0f;
    double *want = new_doubles(R * C);
    /* axis 1: rows contiguous; axis 0: columns C apart */
    for (int axis = 0; axis < 2; axis++) {
        int64_t outer = axis ? R : C, len = axis ? C : R, st = axis ? 1 : C, step = axis ? C : 1;
        for (int logsm = 0; logsm < 2; logsm++) {
            for (int64_t o = 0; o < outer; o++) {
                const float *p = x + o * step;
                double m = -INFINITY, sum = 0;
                for (int64_t i = 0; i < len; i++)
                    m = fmax(m, p[i * st]);
                for (int64_t i = 0; i < len; i++)
                    sum += exp(p[i * st] - m);
                for (int64_t i = 0; i < len; i++)
                    want[o * step + i * st] = logsm ? p[i * st] - m - log(sum) : exp(p[i * st] - m) / sum;
            }
            kcase kc;
            kc_init(&kc, logsm ? "LogSoftmax" : "Softmax", 13, 1);
            kc_input(&kc, 0, ONNXC_FLOAT, 2, d, x);
            kc_int(&kc, "axis", axis);
            kc_run_split(&kc, check_close, &(fref){want, R * C, 1e-5, 0});
            kc_free(&kc);
        }
    }
    free(x);
    free(want);
}

static void test_split_reduce(void **state)
{
    (void)state;
    const int64_t A = 40, B = 500, C = 6;
    int64_t d[] = {A, B, C}, ax[] = {1}, dax[] = {1};
    float *x = rnd_floats(A * B * C, 13);
    double *want = new_doubles(A * C);
    for (int64_t a = 0; a < A; a++)
        for (int64_t c = 0; c < C; c++) {
            double s = 0;
            for (int64_t b = 0; b < B; b++)
                s += x[(a * B + b) * C + c];
            want[a * C + c] = s / (double)B;
        }
    kcase kc;
    kc_init(&kc, "ReduceMean", 18, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, d, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, dax, ax);
    kc_run_split(&kc, check_close, &(fref){want, A * C, 1e-6, 0});
    kc_free(&kc);

    /* ArgMax along B: every value distinct, so the index is unique */
    int64_t *wanti = malloc((size_t)(A * C) * sizeof *wanti);
    assert_non_null(wanti);
    for (int64_t a = 0; a < A; a++)
        for (int64_t c = 0; c < C; c++) {
            int64_t bi = 0;
            for (int64_t b = 1; b < B; b++)
                if (x[(a * B + b) * C + c] > x[(a * B + bi) * C + c])
                    bi = b;
            wanti[a * C + c] = bi;
        }
    kc_init(&kc, "ArgMax", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, d, x);
    kc_int(&kc, "axis", 1);
    kc_int(&kc, "keepdims", 0);
    kc_run_split(&kc, check_bytes, &(bref){wanti, (size_t)(A * C) * sizeof *wanti});
    kc_free(&kc);
    free(wanti);
    free(x);
    free(want);
}

/* ---- normalization ---- */

static void test_split_batchnorm(void **state)
{
    (void)state;
    const int64_t N = 2, C = 64, S = 32 * 32;
    int64_t d[] = {N, C, 32, 32}, dc[] = {C};
    float *x = rnd_floats(N * C * S, 17), *sc = rnd_floats(C, 18), *bi = rnd_floats(C, 19), *mu = rnd_floats(C, 20);
    float *var = rnd_floats(C, 21);
    for (int64_t c = 0; c < C; c++)
        var[c] = var[c] + 1.5f;
    double *want = new_doubles(N * C * S), *rmean = new_doubles(C), *rvar = new_doubles(C);
    const double eps = 1e-5f, mom = 0.9f;
    /* inference: running statistics */
    for (int64_t i = 0; i < N * C * S; i++) {
        int64_t c = i / S % C;
        want[i] = (x[i] - mu[c]) / sqrt(var[c] + eps) * sc[c] + bi[c];
    }
    kcase kc;
    kc_init(&kc, "BatchNormalization", 15, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dc, sc);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dc, bi);
    kc_input(&kc, 3, ONNXC_FLOAT, 1, dc, mu);
    kc_input(&kc, 4, ONNXC_FLOAT, 1, dc, var);
    kc_run_split(&kc, check_close, &(fref){want, N * C * S, 1e-5, 0});
    kc_free(&kc);
    /* training: batch statistics over N and the spatial dims, and the updated running ones */
    for (int64_t c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++)
                s += x[(n * C + c) * S + i];
        double m = s / (double)(N * S);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++)
                q += (x[(n * C + c) * S + i] - m) * (x[(n * C + c) * S + i] - m);
        double v = q / (double)(N * S);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++)
                want[(n * C + c) * S + i] = (x[(n * C + c) * S + i] - m) / sqrt(v + eps) * sc[c] + bi[c];
        rmean[c] = mu[c] * mom + m * (1 - mom);
        rvar[c] = var[c] * mom + v * (1 - mom);
    }
    kc_init(&kc, "BatchNormalization", 15, 3);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dc, sc);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dc, bi);
    kc_input(&kc, 3, ONNXC_FLOAT, 1, dc, mu);
    kc_input(&kc, 4, ONNXC_FLOAT, 1, dc, var);
    kc_int(&kc, "training_mode", 1);
    kc_run_split(&kc, check_close, &(fref){want, N * C * S, 1e-5, 0});
    check_close(&kc, &(fref){rmean, C, 1e-6, 1});
    check_close(&kc, &(fref){rvar, C, 1e-6, 2});
    kc_free(&kc);
    free(x);
    free(sc);
    free(bi);
    free(mu);
    free(var);
    free(want);
    free(rmean);
    free(rvar);
}

/* Normalize x over groups of glen consecutive elements into want: scale and bias of element i from sc/bi at
 * index pidx(i). */
static void ref_groups(const float *x, int64_t n_groups, int64_t glen, double eps, const float *sc, const float *bi,
                       int64_t pdiv, int64_t pmod, double *want)
{
    for (int64_t g = 0; g < n_groups; g++) {
        const float *p = x + g * glen;
        double s = 0, q = 0;
        for (int64_t i = 0; i < glen; i++)
            s += p[i];
        double m = s / (double)glen;
        for (int64_t i = 0; i < glen; i++)
            q += (p[i] - m) * (p[i] - m);
        double inv = 1.0 / sqrt(q / (double)glen + eps);
        for (int64_t i = 0; i < glen; i++) {
            int64_t k = (g * glen + i) / pdiv % pmod;
            want[g * glen + i] = (p[i] - m) * inv * sc[k] + bi[k];
        }
    }
}

static void test_split_instance_group_norm(void **state)
{
    (void)state;
    const int64_t N = 2, C = 32, S = 40 * 40;
    int64_t d[] = {N, C, 40, 40}, dc[] = {C};
    float *x = rnd_floats(N * C * S, 23), *sc = rnd_floats(C, 24), *bi = rnd_floats(C, 25);
    for (int64_t i = 0; i < N * C * S; i++)
        x[i] = x[i] * 3.0f + 5.0f; /* a mean far from zero: the two-pass variance must not cancel */
    double *want = new_doubles(N * C * S);
    const double eps = 1e-5f;
    ref_groups(x, N * C, S, eps, sc, bi, S, C, want);
    kcase kc;
    kc_init(&kc, "InstanceNormalization", 6, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dc, sc);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dc, bi);
    kc_run_split(&kc, check_close, &(fref){want, N * C * S, 1e-5, 0});
    kc_free(&kc);

    /* GroupNormalization-18: 8 groups of 4 channels, scale and bias per group; -21: per channel */
    const int64_t G = 8;
    int64_t dg[] = {G};
    ref_groups(x, N * G, C / G * S, eps, sc, bi, C / G * S, G, want);
    kc_init(&kc, "GroupNormalization", 18, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dg, sc);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dg, bi);
    kc_int(&kc, "num_groups", G);
    kc_run_split(&kc, check_close, &(fref){want, N * C * S, 1e-5, 0});
    kc_free(&kc);
    ref_groups(x, N * G, C / G * S, eps, sc, bi, S, C, want);
    kc_init(&kc, "GroupNormalization", 21, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, dc, sc);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, dc, bi);
    kc_int(&kc, "num_groups", G);
    kc_run_split(&kc, check_close, &(fref){want, N * C * S, 1e-5, 0});
    kc_free(&kc);
    free(x);
    free(sc);
    free(bi);
    free(want);
}

static void test_split_layernorm(void **state)
{
    (void)state;
    /* ConvNeXt's channels-last LayerNorm: 56 x 56 rows of 96 channels, and a length that is no multiple of the
     * statistics' lanes */
    const int64_t shapes[2][2] = {{56 * 56, 96}, {1000, 77}};
    for (int s = 0; s < 2; s++) {
        const int64_t R = shapes[s][0], L = shapes[s][1];
        int64_t d[] = {R, L}, dl[] = {L};
        float *x = rnd_floats(R * L, 29u + (uint32_t)s), *sc = rnd_floats(L, 30), *bi = rnd_floats(L, 31);
        for (int64_t i = 0; i < R * L; i++)
            x[i] = x[i] * 2.0f - 3.0f;
        double *want = new_doubles(R * L), *mean = new_doubles(R), *inv = new_doubles(R);
        const double eps = 1e-6f;
        ref_groups(x, R, L, eps, sc, bi, 1, L, want);
        for (int64_t r = 0; r < R; r++) {
            double sum = 0, q = 0;
            for (int64_t i = 0; i < L; i++)
                sum += x[r * L + i];
            mean[r] = sum / (double)L;
            for (int64_t i = 0; i < L; i++)
                q += (x[r * L + i] - mean[r]) * (x[r * L + i] - mean[r]);
            inv[r] = 1.0 / sqrt(q / (double)L + eps);
        }
        kcase kc;
        kc_init(&kc, "LayerNormalization", 17, 3);
        kc_input(&kc, 0, ONNXC_FLOAT, 2, d, x);
        kc_input(&kc, 1, ONNXC_FLOAT, 1, dl, sc);
        kc_input(&kc, 2, ONNXC_FLOAT, 1, dl, bi);
        kc_float(&kc, "epsilon", 1e-6f);
        kc_run_split(&kc, check_close, &(fref){want, R * L, 1e-5, 0});
        check_close(&kc, &(fref){mean, R, 1e-6, 1});
        check_close(&kc, &(fref){inv, R, 1e-6, 2});
        kc_free(&kc);
        free(x);
        free(sc);
        free(bi);
        free(want);
        free(mean);
        free(inv);
    }
}

/* ---- pooling (the generic loops: a dilated MaxPool with Indices, a 3-D AveragePool, a double global pool) ---- */

static void test_split_pool(void **state)
{
    (void)state;
    const int64_t P = 2 * 32, H = 40, W = 40, K = 3, D = 2, OH = H - D * (K - 1), OW = W - D * (K - 1);
    int64_t d[] = {2, 32, H, W}, k[] = {K, K}, dil[] = {D, D};
    float *x = rnd_floats(P * H * W, 37);
    float *wantv = malloc((size_t)(P * OH * OW) * sizeof *wantv);
    int64_t *wanti = malloc((size_t)(P * OH * OW) * sizeof *wanti);
    assert_true(wantv && wanti);
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t best = -1;
                for (int64_t i = 0; i < K; i++)
                    for (int64_t j = 0; j < K; j++) {
                        int64_t at = p * H * W + (oh + D * i) * W + ow + D * j;
                        if (best < 0 || x[at] > x[best])
                            best = at;
                    }
                wantv[(p * OH + oh) * OW + ow] = x[best];
                wanti[(p * OH + oh) * OW + ow] = best;
            }
    kcase kc;
    kc_init(&kc, "MaxPool", 12, 2);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_ints(&kc, "kernel_shape", 2, k);
    kc_ints(&kc, "dilations", 2, dil);
    kc_run_split(&kc, check_bytes, &(bref){wantv, (size_t)(P * OH * OW) * sizeof *wantv});
    assert_memory_equal(kc.out_t[1].data, wanti, (size_t)(P * OH * OW) * sizeof *wanti);
    kc_free(&kc);
    free(wantv);
    free(wanti);

    /* AveragePool 2 x 3 x 3 over 16 planes of 8 x 20 x 20, stride 1, no padding */
    const int64_t Q = 16, Z = 8, Y = 20, X = 20, OZ = Z - 1, OY = Y - 2, OX = X - 2;
    int64_t d3[] = {1, Q, Z, Y, X}, k3[] = {2, 3, 3};
    double *want = new_doubles(Q * OZ * OY * OX);
    for (int64_t q = 0; q < Q; q++)
        for (int64_t oz = 0; oz < OZ; oz++)
            for (int64_t oy = 0; oy < OY; oy++)
                for (int64_t ox = 0; ox < OX; ox++) {
                    double s = 0;
                    for (int64_t a = 0; a < 2; a++)
                        for (int64_t b = 0; b < 3; b++)
                            for (int64_t c = 0; c < 3; c++)
                                s += x[((q * Z + oz + a) * Y + oy + b) * X + ox + c];
                    want[((q * OZ + oz) * OY + oy) * OX + ox] = s / 18.0;
                }
    kc_init(&kc, "AveragePool", 11, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 5, d3, x);
    kc_ints(&kc, "kernel_shape", 3, k3);
    kc_run_split(&kc, check_close, &(fref){want, Q * OZ * OY * OX, 1e-6, 0});
    kc_free(&kc);
    free(want);

    double *xd = new_doubles(P * H * W), *wantg = new_doubles(P);
    for (int64_t i = 0; i < P * H * W; i++)
        xd[i] = x[i];
    for (int64_t p = 0; p < P; p++) {
        double s = 0;
        for (int64_t i = 0; i < H * W; i++)
            s += xd[p * H * W + i];
        wantg[p] = s / (double)(H * W);
    }
    kc_init(&kc, "GlobalAveragePool", 1, 1);
    kc_input(&kc, 0, ONNXC_DOUBLE, 4, d, xd);
    kc_run_split(&kc, check_close, &(fref){wantg, P, 1e-12, 0});
    kc_free(&kc);
    free(xd);
    free(wantg);
    free(x);
}

/* ---- Resize, Pad ---- */

static void test_split_resize_pad(void **state)
{
    (void)state;
    const int64_t P = 16, H = 40, W = 40, OH = 2 * H, OW = 2 * W;
    int64_t d[] = {1, P, H, W}, ds[] = {4};
    float scales[] = {1, 1, 2, 2};
    float *x = rnd_floats(P * H * W, 41);
    double *want = new_doubles(P * OH * OW);
    /* linear, half_pixel (the default): source coordinate (o + 0.5) / 2 - 0.5, clamped to the input */
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                double sy = fmin(fmax((oh + 0.5) / 2 - 0.5, 0), H - 1), sx = fmin(fmax((ow + 0.5) / 2 - 0.5, 0), W - 1);
                int64_t y0 = (int64_t)sy, x0 = (int64_t)sx, y1 = y0 + 1 < H ? y0 + 1 : y0, x1 = x0 + 1 < W ? x0 + 1 : x0;
                double fy = sy - (double)y0, fx = sx - (double)x0;
                const float *b = x + p * H * W;
                want[(p * OH + oh) * OW + ow] = (1 - fy) * ((1 - fx) * b[y0 * W + x0] + fx * b[y0 * W + x1]) +
                                                fy * ((1 - fx) * b[y1 * W + x0] + fx * b[y1 * W + x1]);
            }
    kcase kc;
    kc_init(&kc, "Resize", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_FLOAT, 1, (int64_t[]){0}, NULL);
    kc_input(&kc, 2, ONNXC_FLOAT, 1, ds, scales);
    kt_string(kc.node, "mode", "linear");
    kc_run_split(&kc, check_close, &(fref){want, P * OH * OW, 1e-6, 0});
    kc_free(&kc);
    free(want);

    /* Pad reflect: 2 before and 1 after on H, 3 before and 4 after on W */
    const int64_t PH = H + 3, PW = W + 7;
    int64_t pads[] = {0, 0, 2, 3, 0, 0, 1, 4}, dp[] = {8};
    float *wantf = malloc((size_t)(P * PH * PW) * sizeof *wantf);
    assert_non_null(wantf);
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < PH; i++)
            for (int64_t j = 0; j < PW; j++) {
                int64_t si = i - 2, sj = j - 3;
                si = si < 0 ? -si : si >= H ? 2 * (H - 1) - si : si;
                sj = sj < 0 ? -sj : sj >= W ? 2 * (W - 1) - sj : sj;
                wantf[(p * PH + i) * PW + j] = x[(p * H + si) * W + sj];
            }
    kc_init(&kc, "Pad", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, dp, pads);
    kt_string(kc.node, "mode", "reflect");
    kc_run_split(&kc, check_bytes, &(bref){wantf, (size_t)(P * PH * PW) * sizeof *wantf});
    kc_free(&kc);
    free(wantf);
    free(x);
}

/* ---- copies: Transpose, Concat, Split, Slice, Expand ---- */

static void test_split_copies(void **state)
{
    (void)state;
    const int64_t C = 96, H = 56, W = 56;
    int64_t d[] = {1, C, H, W}, perm[] = {0, 2, 3, 1};
    float *x = rnd_floats(C * H * W, 43);
    float *want = malloc((size_t)(C * H * W) * 2 * sizeof *want);
    assert_non_null(want);
    const size_t nb = (size_t)(C * H * W) * sizeof *want;
    /* NCHW -> NHWC (the tiled path) and a permutation that keeps the last dim (the strided-row path) */
    for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < H * W; i++)
            want[i * C + c] = x[c * H * W + i];
    kcase kc;
    kc_init(&kc, "Transpose", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_ints(&kc, "perm", 4, perm);
    kc_run_split(&kc, check_bytes, &(bref){want, nb});
    kc_free(&kc);
    int64_t perm2[] = {0, 2, 1, 3};
    for (int64_t c = 0; c < C; c++)
        for (int64_t h = 0; h < H; h++)
            memcpy(want + (h * C + c) * W, x + (c * H + h) * W, (size_t)W * sizeof *want);
    kc_init(&kc, "Transpose", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_ints(&kc, "perm", 4, perm2);
    kc_run_split(&kc, check_bytes, &(bref){want, nb});
    kc_free(&kc);

    /* Concat on the channels of [1, 96], [1, 0] and [1, 96] channel blocks (an empty part in the middle), and
     * on axis 2 (many rows of each part) */
    int64_t dz[] = {1, 0, H, W};
    for (int axis = 1; axis <= 2; axis++) {
        for (int part = 0; part < 2; part++)
            for (int64_t o = 0; o < (axis == 1 ? 1 : C); o++) {
                int64_t row = axis == 1 ? C * H * W : H * W;
                memcpy(want + (o * 2 + part) * row, x + o * row, (size_t)row * sizeof *want);
            }
        kc_init(&kc, "Concat", 13, 1);
        kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
        kc_input(&kc, 1, ONNXC_FLOAT, 4, dz, x);
        kc.in_t[1].dims[1] = axis == 1 ? 0 : C;
        kc.in_t[1].dims[2] = axis == 1 ? H : 0;
        kc_input(&kc, 2, ONNXC_FLOAT, 4, d, x);
        kc_int(&kc, "axis", axis);
        kc_run_split(&kc, check_bytes, &(bref){want, 2 * nb});
        kc_free(&kc);
    }

    /* Split the channels into 16, 48 and 32: output k must be its channel block on every pool (so the runs
     * are also equal to each other) */
    int64_t parts[] = {16, 48, 32}, dsp[] = {3};
    kc_init(&kc, "Split", 13, 3);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, dsp, parts);
    kc_int(&kc, "axis", 1);
    for (int threads = 1; threads <= 3; threads++) {
        kc_run(&kc, threads);
        int64_t off = 0;
        for (int k = 0; k < 3; k++) {
            size_t bytes = (size_t)(parts[k] * H * W) * sizeof(float);
            assert_int_equal(kc.out_t[k].nbytes, bytes);
            assert_memory_equal(kc.out_t[k].data, x + off * H * W, bytes);
            off += parts[k];
        }
    }
    kc_free(&kc);

    /* Slice every other channel from 1 and every third column */
    int64_t starts[] = {1, 0}, ends[] = {C, W}, axes[] = {1, 3}, steps[] = {2, 3}, d2[] = {2};
    const int64_t SC = C / 2, SW = (W + 2) / 3;
    for (int64_t c = 0; c < SC; c++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < SW; w++)
                want[(c * H + h) * SW + w] = x[((1 + 2 * c) * H + h) * W + 3 * w];
    kc_init(&kc, "Slice", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 4, d, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, d2, starts);
    kc_input(&kc, 2, ONNXC_INT64, 1, d2, ends);
    kc_input(&kc, 3, ONNXC_INT64, 1, d2, axes);
    kc_input(&kc, 4, ONNXC_INT64, 1, d2, steps);
    kc_run_split(&kc, check_bytes, &(bref){want, (size_t)(SC * H * SW) * sizeof *want});
    kc_free(&kc);

    /* Expand a [C, 1, 1] column to [1, C, H, W] */
    int64_t dcol[] = {C, 1, 1}, shape[] = {1, C, H, W}, d4[] = {4};
    for (int64_t i = 0; i < C * H * W; i++)
        want[i] = x[i / (H * W)];
    kc_init(&kc, "Expand", 13, 1);
    kc_input(&kc, 0, ONNXC_FLOAT, 3, dcol, x);
    kc_input(&kc, 1, ONNXC_INT64, 1, d4, shape);
    kc_run_split(&kc, check_bytes, &(bref){want, nb});
    kc_free(&kc);
    free(want);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_binary),    cmocka_unit_test(test_split_unary),
        cmocka_unit_test(test_split_softmax),   cmocka_unit_test(test_split_reduce),
        cmocka_unit_test(test_split_batchnorm), cmocka_unit_test(test_split_instance_group_norm),
        cmocka_unit_test(test_split_layernorm), cmocka_unit_test(test_split_pool),
        cmocka_unit_test(test_split_resize_pad), cmocka_unit_test(test_split_copies),
        cmocka_unit_test(test_split_vector_unary), cmocka_unit_test(test_split_channel_broadcast),
        cmocka_unit_test(test_split_global_pools_lanes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
