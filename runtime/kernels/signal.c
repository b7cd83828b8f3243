/* Signal-processing ops of opset 17: HannWindow, HammingWindow, BlackmanWindow (size a plan-time value),
 * MelWeightMatrix (every input a plan-time value), DFT (dft_length a plan-time value) and STFT (frame_step and
 * frame_length plan-time values). Computed in double and stored in the output's float type; DFT and STFT are
 * direct sums over a table of twiddles (exact indices, no accumulated angle error), rows split over the pool. */
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "threadpool.h"

#define MAXR ONNXC_MAX_RANK
#define SIG_PI 3.14159265358979323846

static onnxc_status need(const oc_kctx *c, int n)
{
    for (int i = 0; i < n; i++)
        if (i >= c->n_in || !c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "missing required input %d", i);
    return ONNXC_OK;
}

/* A scalar (or one-element) integer input known at plan time. */
static onnxc_status int_scalar(const oc_kctx *c, int i, const char *name, int64_t *v)
{
    const onnxc_tensor *t = c->in[i];
    if (!oc_dtype_is_int(t->dtype) || onnxc_tensor_numel(t) != 1 || t->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be an integer scalar", name);
    if (!t->data)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input '%s' is not known at plan time", name);
    *v = oc_get_i64(t, 0);
    return ONNXC_OK;
}

static onnxc_status float_scalar(const oc_kctx *c, int i, const char *name, double *v)
{
    const onnxc_tensor *t = c->in[i];
    if (!oc_dtype_is_float(t->dtype) || onnxc_tensor_numel(t) != 1 || t->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be a float scalar", name);
    if (!t->data)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input '%s' is not known at plan time", name);
    *v = oc_get_f64(t, 0);
    return ONNXC_OK;
}

static onnxc_status out_dtype(const oc_kctx *c, int32_t *dt)
{
    *dt = (int32_t)oc_attr_int(c->node, "output_datatype", ONNXC_FLOAT);
    if (!oc_dtype_is_float(*dt) && !oc_dtype_is_int(*dt))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output_datatype %d", (int)*dt);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- windows */

enum { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN };

static onnxc_status window_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    int64_t n;
    int32_t dt;
    if (st != ONNXC_OK || (st = int_scalar(c, 0, "size", &n)) != ONNXC_OK || (st = out_dtype(c, &dt)) != ONNXC_OK)
        return st;
    if (n < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "size = %lld is negative", (long long)n);
    return oc_kset_shape(c, c->out[0], dt, 1, &n);
}

static onnxc_status window_run(oc_kctx *c, int kind)
{
    onnxc_tensor *y = c->out[0];
    int64_t size = y->dims[0];
    bool periodic = oc_attr_int(c->node, "periodic", 1) != 0;
    double N = (double)(periodic ? size : size - 1);
    for (int64_t i = 0; i < size; i++) {
        /* a symmetric window of one point is its centre value */
        double t = N > 0 ? 2.0 * SIG_PI * (double)i / N : 0.0, v;
        if (kind == WIN_HANN)
            v = 0.5 - 0.5 * cos(t);
        else if (kind == WIN_HAMMING)
            v = 25.0 / 46.0 - (21.0 / 46.0) * cos(t);
        else
            v = 0.42 - 0.5 * cos(t) + 0.08 * cos(2.0 * t);
        if (N <= 0)
            v = 1.0;
        oc_store_f64(y->dtype, y->data, i, v);
    }
    return ONNXC_OK;
}

static onnxc_status hann_run(oc_kctx *c) { return window_run(c, WIN_HANN); }
static onnxc_status hamming_run(oc_kctx *c) { return window_run(c, WIN_HAMMING); }
static onnxc_status blackman_run(oc_kctx *c) { return window_run(c, WIN_BLACKMAN); }

/* ---------------------------------------------------------------- MelWeightMatrix */

typedef struct mel_args {
    int64_t bins, dft, rate;
    double lo, hi;
} mel_args;

static onnxc_status mel_read(const oc_kctx *c, mel_args *a)
{
    onnxc_status st = need(c, 5);
    if (st == ONNXC_OK)
        st = int_scalar(c, 0, "num_mel_bins", &a->bins);
    if (st == ONNXC_OK)
        st = int_scalar(c, 1, "dft_length", &a->dft);
    if (st == ONNXC_OK)
        st = int_scalar(c, 2, "sample_rate", &a->rate);
    if (st == ONNXC_OK)
        st = float_scalar(c, 3, "lower_edge_hertz", &a->lo);
    if (st == ONNXC_OK)
        st = float_scalar(c, 4, "upper_edge_hertz", &a->hi);
    if (st != ONNXC_OK)
        return st;
    if (a->bins < 1 || a->dft < 1 || a->rate < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "num_mel_bins, dft_length and sample_rate must be positive");
    if (!(a->lo >= 0) || !(a->hi > a->lo) || a->bins > (1 << 24))
        return oc_kerr(c, ONNXC_E_INVALID, "need 0 <= lower_edge_hertz < upper_edge_hertz (got %g, %g)", a->lo, a->hi);
    return ONNXC_OK;
}

static onnxc_status mel_infer(oc_kctx *c)
{
    mel_args a;
    int32_t dt;
    onnxc_status st = mel_read(c, &a);
    if (st != ONNXC_OK || (st = out_dtype(c, &dt)) != ONNXC_OK)
        return st;
    int64_t dims[2] = {a.dft / 2 + 1, a.bins};
    if ((st = oc_kset_shape(c, c->out[0], dt, 2, dims)) != ONNXC_OK)
        return st;
    c->scratch_size = (size_t)(a.bins + 2) * sizeof(int64_t);
    return ONNXC_OK;
}

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }

/* The triangular filters of the ONNX reference: num_mel_bins + 2 points evenly spaced in mel between the edges
 * (step (high - low) / (num_mel_bins + 2), as the reference computes it), each mapped to the spectrogram bin
 * floor((dft_length + 1) * hz / sample_rate); filter i rises from point i to point i+1 and falls to i+2. */
static onnxc_status mel_run(oc_kctx *c)
{
    mel_args a;
    mel_read(c, &a);
    onnxc_tensor *y = c->out[0];
    int64_t rows = y->dims[0], nb = a.bins, *pt = c->scratch;
    double lm = hz_to_mel(a.lo), step = (hz_to_mel(a.hi) - lm) / (double)(nb + 2);
    for (int64_t i = 0; i < nb + 2; i++) {
        double hz = 700.0 * (pow(10.0, ((double)i * step + lm) / 2595.0) - 1.0);
        pt[i] = (int64_t)floor((double)(a.dft + 1) * hz / (double)a.rate);
    }
    for (int64_t i = 0; i < rows * nb; i++)
        oc_store_f64(y->dtype, y->data, i, 0.0);
    for (int64_t i = 0; i < nb; i++) {
        int64_t l = pt[i], m = pt[i + 1], h = pt[i + 2];
        if (m - l == 0) {
            if (m >= 0 && m < rows)
                oc_store_f64(y->dtype, y->data, m * nb + i, 1.0);
        } else
            for (int64_t j = l; j <= m; j++)
                if (j >= 0 && j < rows)
                    oc_store_f64(y->dtype, y->data, j * nb + i, (double)(j - l) / (double)(m - l));
        if (h - m > 0)
            for (int64_t j = m; j < h; j++)
                if (j >= 0 && j < rows)
                    oc_store_f64(y->dtype, y->data, j * nb + i, (double)(h - j) / (double)(h - m));
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- DFT */

/* cos and sin of 2 pi k / n for k in [0, n), into tw[2k], tw[2k+1] */
static void twiddles(double *tw, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        double t = 2.0 * SIG_PI * (double)k / (double)n;
        tw[2 * k] = cos(t);
        tw[2 * k + 1] = sin(t);
    }
}

/* One transform: n_in complex inputs at x (stride xs complex elements; im NULL-able through cplx == false),
 * treated as zero-padded or truncated to n points, n_out of the n outputs written at y (stride ys). */
typedef struct dft_job {
    const onnxc_tensor *x;
    onnxc_tensor *y;
    const double *tw;   /* 2n */
    const double *win;  /* STFT: window of n points, or NULL */
    int64_t n, n_src, n_out;
    bool cplx_in, inverse;
    /* DFT: outer x inner lines along the axis; STFT: batch x frames */
    int64_t outer, inner, frames, step;
    int64_t x_axis_len, y_axis_len;
    bool stft;
    double *bufs;       /* 2n doubles per pool slot */
} dft_job;

static int slots(const oc_kctx *c) { return c->pool ? oc_pool_threads(c->pool) : 1; }

static void dft_line(const dft_job *j, int64_t xbase, int64_t xstride, int64_t ybase, int64_t ystride,
                     double *buf)
{
    int64_t n = j->n, ns = j->n_src < n ? j->n_src : n;
    int ci = j->cplx_in ? 2 : 1;
    for (int64_t t = 0; t < ns; t++) {
        double w = j->win ? j->win[t] : 1.0;
        buf[2 * t] = w * oc_load_f64(j->x->dtype, j->x->data, (xbase + t * xstride) * ci);
        buf[2 * t + 1] = j->cplx_in ? w * oc_load_f64(j->x->dtype, j->x->data, (xbase + t * xstride) * 2 + 1) : 0.0;
    }
    double sgn = j->inverse ? 1.0 : -1.0, scale = j->inverse ? 1.0 / (double)n : 1.0;
    for (int64_t k = 0; k < j->n_out; k++) {
        double re = 0, im = 0;
        int64_t idx = 0; /* k * t mod n, kept exact */
        for (int64_t t = 0; t < ns; t++) {
            double cr = j->tw[2 * idx], si = sgn * j->tw[2 * idx + 1];
            re += buf[2 * t] * cr - buf[2 * t + 1] * si;
            im += buf[2 * t] * si + buf[2 * t + 1] * cr;
            idx += k;
            if (idx >= n)
                idx %= n;
        }
        oc_store_f64(j->y->dtype, j->y->data, (ybase + k * ystride) * 2, re * scale);
        oc_store_f64(j->y->dtype, j->y->data, (ybase + k * ystride) * 2 + 1, im * scale);
    }
}

static void dft_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    const dft_job *j = arg;
    double *buf = j->bufs + (size_t)slot * 2 * (size_t)j->n; /* this thread's copy of one line */
    for (int64_t l = lo; l < hi; l++) {
        if (j->stft) {
            int64_t b = l / j->frames, f = l % j->frames;
            dft_line(j, b * j->x_axis_len + f * j->step, 1, l * j->n_out, 1, buf);
        } else {
            int64_t o = l / j->inner, in = l % j->inner;
            dft_line(j, o * j->x_axis_len * j->inner + in, j->inner, o * j->y_axis_len * j->inner + in, j->inner,
                     buf);
        }
    }
}

static onnxc_status dft_geom(const oc_kctx *c, int *axis, int64_t *n, int64_t *n_out)
{
    const onnxc_tensor *x = c->in[0];
    if (!oc_dtype_is_float(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    if (x->rank < 3 || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
        return oc_kerr(c, ONNXC_E_INVALID, "input must be [batch, signal dims..., 1 or 2], got rank %d",
                       (int)x->rank);
    int64_t a = oc_attr_int(c->node, "axis", 1);
    if (a < 0)
        a += x->rank;
    if (a < 1 || a > x->rank - 2)
        return oc_kerr(c, ONNXC_E_INVALID, "axis %lld is not a signal dim of the rank-%d input",
                       (long long)oc_attr_int(c->node, "axis", 1), (int)x->rank);
    *axis = (int)a;
    *n = x->dims[a];
    if (c->n_in > 1 && c->in[1]) {
        onnxc_status st = int_scalar(c, 1, "dft_length", n);
        if (st != ONNXC_OK)
            return st;
    }
    if (*n < 1 || *n > (1 << 26))
        return oc_kerr(c, ONNXC_E_INVALID, "dft_length %lld is out of range", (long long)*n);
    bool onesided = oc_attr_int(c->node, "onesided", 0) != 0;
    if (onesided && oc_attr_int(c->node, "inverse", 0))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "onesided with inverse");
    *n_out = onesided ? *n / 2 + 1 : *n;
    return ONNXC_OK;
}

static onnxc_status dft_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 1);
    int axis;
    int64_t n, n_out;
    if (st != ONNXC_OK || (st = dft_geom(c, &axis, &n, &n_out)) != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t dims[MAXR];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = n_out;
    dims[x->rank - 1] = 2;
    if ((st = oc_kset_shape(c, c->out[0], x->dtype, x->rank, dims)) != ONNXC_OK)
        return st;
    c->scratch_size = (size_t)n * 2 * (size_t)(1 + slots(c)) * sizeof(double);
    return ONNXC_OK;
}

static onnxc_status dft_run(oc_kctx *c)
{
    int axis;
    int64_t n, n_out;
    dft_geom(c, &axis, &n, &n_out);
    const onnxc_tensor *x = c->in[0];
    dft_job j = {0};
    j.x = x;
    j.y = c->out[0];
    j.tw = c->scratch;
    j.bufs = (double *)c->scratch + 2 * n;
    twiddles(c->scratch, n);
    j.n = n;
    j.n_src = x->dims[axis];
    j.n_out = n_out;
    j.cplx_in = x->dims[x->rank - 1] == 2;
    j.inverse = oc_attr_int(c->node, "inverse", 0) != 0;
    j.outer = oc_dims_prod(x->dims, 0, axis);
    j.inner = oc_dims_prod(x->dims, axis + 1, x->rank - 1);
    j.x_axis_len = x->dims[axis];
    j.y_axis_len = n_out;
    int64_t lines = j.outer * j.inner;
    oc_par_for(c->pool, lines, lines * n * n_out, dft_range, &j);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- STFT */

static onnxc_status stft_geom(const oc_kctx *c, int64_t *step, int64_t *len, int64_t *frames, int64_t *bins)
{
    const onnxc_tensor *x = c->in[0], *w = c->n_in > 2 ? c->in[2] : NULL;
    if (!oc_dtype_is_float(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input type %s", onnxc_dtype_name(x->dtype));
    if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
        return oc_kerr(c, ONNXC_E_INVALID, "signal must be [batch, length, 1 or 2], got rank %d", (int)x->rank);
    onnxc_status st = int_scalar(c, 1, "frame_step", step);
    if (st != ONNXC_OK)
        return st;
    *len = -1;
    if (w) {
        if (w->rank != 1 || !oc_dtype_is_float(w->dtype))
            return oc_kerr(c, ONNXC_E_INVALID, "window must be a 1-D float tensor");
        *len = w->dims[0];
    }
    if (c->n_in > 3 && c->in[3]) {
        int64_t fl;
        if ((st = int_scalar(c, 3, "frame_length", &fl)) != ONNXC_OK)
            return st;
        if (*len >= 0 && fl != *len)
            return oc_kerr(c, ONNXC_E_INVALID, "frame_length %lld differs from the window's length %lld",
                           (long long)fl, (long long)*len);
        *len = fl;
    }
    if (*len < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "neither a window nor frame_length is given");
    if (*step < 1 || *len < 1 || *len > x->dims[1] || *len > (1 << 26))
        return oc_kerr(c, ONNXC_E_INVALID, "frame_step %lld / frame_length %lld out of range for a signal of %lld",
                       (long long)*step, (long long)*len, (long long)x->dims[1]);
    *frames = (x->dims[1] - *len) / *step + 1;
    bool onesided = oc_attr_int(c->node, "onesided", 1) != 0;
    *bins = onesided ? *len / 2 + 1 : *len;
    return ONNXC_OK;
}

static onnxc_status stft_infer(oc_kctx *c)
{
    onnxc_status st = need(c, 2);
    int64_t step, len, frames, bins;
    if (st != ONNXC_OK || (st = stft_geom(c, &step, &len, &frames, &bins)) != ONNXC_OK)
        return st;
    int64_t dims[4] = {c->in[0]->dims[0], frames, bins, 2};
    if ((st = oc_kset_shape(c, c->out[0], c->in[0]->dtype, 4, dims)) != ONNXC_OK)
        return st;
    c->scratch_size = (size_t)len * (3 + 2 * (size_t)slots(c)) * sizeof(double);
    return ONNXC_OK;
}

static onnxc_status stft_run(oc_kctx *c)
{
    int64_t step, len, frames, bins;
    stft_geom(c, &step, &len, &frames, &bins);
    const onnxc_tensor *x = c->in[0], *w = c->n_in > 2 ? c->in[2] : NULL;
    double *tw = c->scratch, *win = tw + 2 * len;
    twiddles(tw, len);
    if (w)
        for (int64_t i = 0; i < len; i++)
            win[i] = oc_get_f64(w, i);
    dft_job j = {0};
    j.x = x;
    j.y = c->out[0];
    j.tw = tw;
    j.win = w ? win : NULL;
    j.bufs = win + len;
    j.n = len;
    j.n_src = len;
    j.n_out = bins;
    j.cplx_in = x->dims[2] == 2;
    j.stft = true;
    j.frames = frames;
    j.step = step;
    j.x_axis_len = x->dims[1];
    int64_t lines = x->dims[0] * frames;
    oc_par_for(c->pool, lines, lines * len * bins, dft_range, &j);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_signal[] = {
    {"HannWindow", NULL, 17, 0, B(0), window_infer, NULL, hann_run, NULL, 0},
    {"HammingWindow", NULL, 17, 0, B(0), window_infer, NULL, hamming_run, NULL, 0},
    {"BlackmanWindow", NULL, 17, 0, B(0), window_infer, NULL, blackman_run, NULL, 0},
    {"MelWeightMatrix", NULL, 17, 0, B(0) | B(1) | B(2) | B(3) | B(4), mel_infer, NULL, mel_run, NULL, 0},
    {"DFT", NULL, 17, 0, B(1), dft_infer, NULL, dft_run, NULL, 0},
    {"STFT", NULL, 17, 0, B(1) | B(3), stft_infer, NULL, stft_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
