/* Signal-processing ops of opset 17: HannWindow, HammingWindow, BlackmanWindow (size a plan-time value),
 * MelWeightMatrix (every input a plan-time value), DFT (dft_length a plan-time value) and STFT (frame_step and
 * frame_length plan-time values). Computed in double and stored in the output's float type; DFT and STFT lines
 * go through a radix-2 FFT (power-of-two lengths), Bluestein's chirp-z transform (other lengths above 64) or a
 * direct sum (short lengths), lines split over the pool. */
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
    if (!(a->lo >= 0) || !(a->hi > a->lo) || !isfinite(a->hi) || a->bins > (1 << 24))
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
        double bin = floor((double)(a.dft + 1) * hz / (double)a.rate);
        pt[i] = bin < 0 ? 0 : bin > 4e15 ? (int64_t)4e15 : (int64_t)bin; /* finite for any edge given */
    }
    for (int64_t i = 0; i < rows * nb; i++)
        oc_store_f64(y->dtype, y->data, i, 0.0);
    for (int64_t i = 0; i < nb; i++) {
        int64_t l = pt[i], m = pt[i + 1], h = pt[i + 2];
        if (m - l == 0) {
            if (m >= 0 && m < rows)
                oc_store_f64(y->dtype, y->data, m * nb + i, 1.0);
        } else
            for (int64_t j = l; j <= m && j < rows; j++)
                oc_store_f64(y->dtype, y->data, j * nb + i, (double)(j - l) / (double)(m - l));
        if (h - m > 0)
            for (int64_t j = m; j < h && j < rows; j++)
                oc_store_f64(y->dtype, y->data, j * nb + i, (double)(h - j) / (double)(h - m));
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- DFT */

/* ---- the transform of one line: radix-2 FFT for a power-of-two length, Bluestein's chirp-z (a convolution by
 * power-of-two FFTs) for other lengths above FFT_DIRECT_MAX, a direct sum below it. Tables in double. ---- */

#define FFT_DIRECT_MAX 64

enum { FFT_DIRECT, FFT_RADIX2, FFT_BLUESTEIN };

typedef struct fft_plan {
    int algo;
    int64_t n, L;     /* transform length; the length of the work buffer (n, or Bluestein's power of two) */
    bool inverse;
    double *tw;       /* 2L: cos, sin of 2 pi k / L (direct: L = n) */
    double *chirp;    /* Bluestein: 2n, e^(-+ i pi k^2 / n) */
    double *bf;       /* Bluestein: 2L, the FFT of the conjugate chirp */
} fft_plan;

static bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

static int fft_algo(int64_t n)
{
    return is_pow2(n) ? FFT_RADIX2 : n <= FFT_DIRECT_MAX ? FFT_DIRECT : FFT_BLUESTEIN;
}

static int64_t fft_len(int64_t n)
{
    if (fft_algo(n) != FFT_BLUESTEIN)
        return n;
    int64_t m = 1;
    while (m < 2 * n - 1)
        m *= 2;
    return m;
}

/* doubles of scratch a plan of length n needs, with one work buffer per slot */
static size_t fft_scratch(int64_t n, int slots)
{
    int64_t L = fft_len(n);
    return (size_t)(2 * L + 2 * n + 2 * L) + (size_t)slots * (size_t)(2 * L);
}

static void twiddles(double *tw, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        double t = 2.0 * SIG_PI * (double)k / (double)n;
        tw[2 * k] = cos(t);
        tw[2 * k + 1] = sin(t);
    }
}

/* in-place radix-2 transform of L = 2^p complex values; sgn -1 forward, +1 backward (unscaled) */
static void fft_radix2(double *a, int64_t L, const double *tw, double sgn)
{
    for (int64_t i = 1, j = 0; i < L; i++) {
        int64_t bit = L >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t0 = a[2 * i], t1 = a[2 * i + 1];
            a[2 * i] = a[2 * j];
            a[2 * i + 1] = a[2 * j + 1];
            a[2 * j] = t0;
            a[2 * j + 1] = t1;
        }
    }
    for (int64_t len = 2; len <= L; len <<= 1) {
        int64_t half = len >> 1, step = L / len;
        for (int64_t i = 0; i < L; i += len)
            for (int64_t k = 0; k < half; k++) {
                double wr = tw[2 * k * step], wi = sgn * tw[2 * k * step + 1];
                double *u = a + 2 * (i + k), *v = a + 2 * (i + k + half);
                double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
                v[0] = u[0] - vr;
                v[1] = u[1] - vi;
                u[0] += vr;
                u[1] += vi;
            }
    }
}

static void fft_setup(fft_plan *p, double *scratch, int64_t n, bool inverse)
{
    p->algo = fft_algo(n);
    p->n = n;
    p->L = fft_len(n);
    p->inverse = inverse;
    p->tw = scratch;
    p->chirp = scratch + 2 * p->L;
    p->bf = p->chirp + 2 * n;
    twiddles(p->tw, p->L);
    if (p->algo != FFT_BLUESTEIN)
        return;
    double sgn = inverse ? 1.0 : -1.0;
    for (int64_t k = 0; k < n; k++) {
        /* k^2 mod 2n keeps the angle exact for large k */
        int64_t q = (int64_t)(((unsigned __int128)k * (unsigned __int128)k) % (unsigned __int128)(2 * n));
        double t = SIG_PI * (double)q / (double)n;
        p->chirp[2 * k] = cos(t);
        p->chirp[2 * k + 1] = sgn * sin(t);
    }
    memset(p->bf, 0, (size_t)(2 * p->L) * sizeof *p->bf);
    for (int64_t k = 0; k < n; k++) {
        p->bf[2 * k] = p->chirp[2 * k];
        p->bf[2 * k + 1] = -p->chirp[2 * k + 1];
        if (k) {
            p->bf[2 * (p->L - k)] = p->chirp[2 * k];
            p->bf[2 * (p->L - k) + 1] = -p->chirp[2 * k + 1];
        }
    }
    fft_radix2(p->bf, p->L, p->tw, -1.0);
}

/* a: the work buffer (2L doubles), its first n complex values the input; on return the first n hold the
 * transform (the backward one scaled by 1/n). tmp: 2n doubles for the direct sum. */
static void fft_line(const fft_plan *p, double *a, double *tmp)
{
    int64_t n = p->n, L = p->L;
    double sgn = p->inverse ? 1.0 : -1.0, scale = p->inverse ? 1.0 / (double)n : 1.0;
    if (p->algo == FFT_RADIX2)
        fft_radix2(a, n, p->tw, sgn);
    else if (p->algo == FFT_DIRECT) {
        for (int64_t k = 0; k < n; k++) {
            double re = 0, im = 0;
            int64_t idx = 0; /* k * t mod n, kept exact */
            for (int64_t t = 0; t < n; t++) {
                double cr = p->tw[2 * idx], si = sgn * p->tw[2 * idx + 1];
                re += a[2 * t] * cr - a[2 * t + 1] * si;
                im += a[2 * t] * si + a[2 * t + 1] * cr;
                idx += k;
                if (idx >= n)
                    idx -= n;
            }
            tmp[2 * k] = re;
            tmp[2 * k + 1] = im;
        }
        memcpy(a, tmp, (size_t)(2 * n) * sizeof *a);
    } else {
        for (int64_t t = 0; t < n; t++) {
            double xr = a[2 * t], xi = a[2 * t + 1], cr = p->chirp[2 * t], ci = p->chirp[2 * t + 1];
            a[2 * t] = xr * cr - xi * ci;
            a[2 * t + 1] = xr * ci + xi * cr;
        }
        memset(a + 2 * n, 0, (size_t)(2 * (L - n)) * sizeof *a);
        fft_radix2(a, L, p->tw, -1.0);
        for (int64_t k = 0; k < L; k++) {
            double ar = a[2 * k], ai = a[2 * k + 1], br = p->bf[2 * k], bi = p->bf[2 * k + 1];
            a[2 * k] = ar * br - ai * bi;
            a[2 * k + 1] = ar * bi + ai * br;
        }
        fft_radix2(a, L, p->tw, 1.0);
        for (int64_t k = 0; k < n; k++) {
            double cr = a[2 * k] / (double)L, ci = a[2 * k + 1] / (double)L, wr = p->chirp[2 * k],
                   wi = p->chirp[2 * k + 1];
            a[2 * k] = cr * wr - ci * wi;
            a[2 * k + 1] = cr * wi + ci * wr;
        }
    }
    if (scale != 1.0)
        for (int64_t k = 0; k < 2 * n; k++)
            a[k] *= scale;
}

/* DFT and STFT lines: n_src inputs read (zero-padded or truncated to n), n_out outputs written. */
typedef struct dft_job {
    const onnxc_tensor *x;
    onnxc_tensor *y;
    fft_plan fp;
    const double *win;  /* STFT: window of n points, or NULL */
    int64_t n, n_src, n_out;
    bool cplx_in;
    /* DFT: outer x inner lines along the axis; STFT: batch x frames */
    int64_t outer, inner, frames, step;
    int64_t x_axis_len, y_axis_len;
    bool stft;
    double *bufs;       /* per pool slot: 2L doubles of work buffer, 2n of direct-sum temporary */
} dft_job;

static int slots(const oc_kctx *c) { return c->pool ? oc_pool_threads(c->pool) : 1; }

static void dft_line(const dft_job *j, int64_t xbase, int64_t xstride, int64_t ybase, int64_t ystride, double *buf)
{
    int64_t n = j->n, ns = j->n_src < n ? j->n_src : n;
    int ci = j->cplx_in ? 2 : 1;
    memset(buf, 0, (size_t)(2 * n) * sizeof *buf);
    for (int64_t t = 0; t < ns; t++) {
        double w = j->win ? j->win[t] : 1.0;
        buf[2 * t] = w * oc_load_f64(j->x->dtype, j->x->data, (xbase + t * xstride) * ci);
        buf[2 * t + 1] = j->cplx_in ? w * oc_load_f64(j->x->dtype, j->x->data, (xbase + t * xstride) * 2 + 1) : 0.0;
    }
    fft_line(&j->fp, buf, buf + 2 * j->fp.L);
    for (int64_t k = 0; k < j->n_out; k++) {
        oc_store_f64(j->y->dtype, j->y->data, (ybase + k * ystride) * 2, buf[2 * k]);
        oc_store_f64(j->y->dtype, j->y->data, (ybase + k * ystride) * 2 + 1, buf[2 * k + 1]);
    }
}

static void dft_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    const dft_job *j = arg;
    double *buf = j->bufs + (size_t)slot * (size_t)(2 * j->fp.L + 2 * j->n); /* this thread's */
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

/* work per line for the pool's split */
static int64_t fft_work(int64_t n)
{
    int64_t L = fft_len(n), lg = 1;
    while (((int64_t)1 << lg) < L)
        lg++;
    return fft_algo(n) == FFT_DIRECT ? n * n : 3 * L * lg;
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
    if (*n < 1 || *n > (1 << 24))
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
    c->scratch_size = (fft_scratch(n, slots(c)) + (size_t)(2 * n) * (size_t)slots(c)) * sizeof(double);
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
    fft_setup(&j.fp, c->scratch, n, oc_attr_int(c->node, "inverse", 0) != 0);
    j.bufs = j.fp.bf + 2 * j.fp.L;
    j.n = n;
    j.n_src = x->dims[axis];
    j.n_out = n_out;
    j.cplx_in = x->dims[x->rank - 1] == 2;
    j.outer = oc_dims_prod(x->dims, 0, axis);
    j.inner = oc_dims_prod(x->dims, axis + 1, x->rank - 1);
    j.x_axis_len = x->dims[axis];
    j.y_axis_len = n_out;
    int64_t lines = j.outer * j.inner;
    oc_par_for(c->pool, lines, lines * fft_work(n), dft_range, &j);
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
    if (*step < 1 || *len < 1 || *len > x->dims[1] || *len > (1 << 24))
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
    c->scratch_size = (fft_scratch(len, slots(c)) + (size_t)len + (size_t)(2 * len) * (size_t)slots(c)) * sizeof(double);
    return ONNXC_OK;
}

static onnxc_status stft_run(oc_kctx *c)
{
    int64_t step, len, frames, bins;
    stft_geom(c, &step, &len, &frames, &bins);
    const onnxc_tensor *x = c->in[0], *w = c->n_in > 2 ? c->in[2] : NULL;
    dft_job j = {0};
    fft_setup(&j.fp, c->scratch, len, false);
    double *win = j.fp.bf + 2 * j.fp.L;
    if (w)
        for (int64_t i = 0; i < len; i++)
            win[i] = oc_get_f64(w, i);
    j.x = x;
    j.y = c->out[0];
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
    oc_par_for(c->pool, lines, lines * fft_work(len), dft_range, &j);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_signal[] = {
    {"HannWindow", NULL, 17, 0, B(0), window_infer, NULL, hann_run, NULL, 0},
    {"HammingWindow", NULL, 17, 0, B(0), window_infer, NULL, hamming_run, NULL, 0},
    {"BlackmanWindow", NULL, 17, 0, B(0), window_infer, NULL, blackman_run, NULL, 0},
    {"MelWeightMatrix", NULL, 17, 0, B(0) | B(1) | B(2) | B(3) | B(4), mel_infer, NULL, mel_run, NULL, 0},
    {"DFT", NULL, 17, 19, B(1), dft_infer, NULL, dft_run, NULL, 0}, /* DFT-20 moved axis to an input */
    {"STFT", NULL, 17, 0, B(1) | B(3), stft_infer, NULL, stft_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
