/* GridSample (opset 16, 4-D): X [N, C, H, W] sampled at grid [N, Hout, Wout, 2] (x, y normalized to [-1, 1]),
 * bilinear / nearest / bicubic, zeros / border / reflection padding, align_corners both ways, with PyTorch's
 * grid_sampler arithmetic (which the ONNX spec and its expected values follow): the padding mode moves the
 * sampling coordinate for bilinear and nearest, and each of the 16 taps for bicubic (A = -0.75). Output rows
 * are split over the pool. */
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"

enum { GS_BILINEAR, GS_NEAREST, GS_BICUBIC };
enum { GS_ZEROS, GS_BORDER, GS_REFLECTION };

typedef struct gs_args {
    int mode, pad;
    bool align;
} gs_args;

static onnxc_status gs_attrs(const oc_kctx *c, gs_args *a)
{
    char b1[32], b2[32];
    const char *m = oc_attr_string(c->node, "mode", "bilinear", b1, sizeof b1);
    const char *p = oc_attr_string(c->node, "padding_mode", "zeros", b2, sizeof b2);
    if (strcmp(m, "bilinear") == 0 || strcmp(m, "linear") == 0)
        a->mode = GS_BILINEAR;
    else if (strcmp(m, "nearest") == 0)
        a->mode = GS_NEAREST;
    else if (strcmp(m, "bicubic") == 0 || strcmp(m, "cubic") == 0)
        a->mode = GS_BICUBIC;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown mode '%s'", m);
    if (strcmp(p, "zeros") == 0)
        a->pad = GS_ZEROS;
    else if (strcmp(p, "border") == 0)
        a->pad = GS_BORDER;
    else if (strcmp(p, "reflection") == 0)
        a->pad = GS_REFLECTION;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown padding_mode '%s'", p);
    a->align = oc_attr_int(c->node, "align_corners", 0) != 0;
    return ONNXC_OK;
}

static onnxc_status gs_infer(oc_kctx *c)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs inputs X and grid");
    const onnxc_tensor *x = c->in[0], *g = c->in[1];
    gs_args a;
    onnxc_status st = gs_attrs(c, &a);
    if (st != ONNXC_OK)
        return st;
    if (!oc_dtype_is_float(x->dtype) || !oc_dtype_is_float(g->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "X and grid must be float tensors");
    if (x->rank != 4)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "X of rank %d (4-D [N, C, H, W] is supported)", (int)x->rank);
    if (g->rank != 4 || g->dims[0] != x->dims[0] || g->dims[3] != 2)
        return oc_kerr(c, ONNXC_E_INVALID, "grid must be [N, H_out, W_out, 2] with X's N");
    int64_t dims[4] = {x->dims[0], x->dims[1], g->dims[1], g->dims[2]};
    return oc_kset_shape(c, c->out[0], x->dtype, 4, dims);
}

static double gs_unnorm(double v, int64_t size, bool align)
{
    return align ? (v + 1) / 2 * (double)(size - 1) : ((v + 1) * (double)size - 1) / 2;
}

static double gs_clip(double v, int64_t size)
{
    double hi = (double)(size - 1);
    return v < 0 ? 0 : v > hi ? hi : v;
}

static double gs_reflect(double v, double twice_lo, double twice_hi)
{
    if (twice_lo == twice_hi)
        return 0;
    double mn = twice_lo / 2, span = (twice_hi - twice_lo) / 2;
    v = fabs(v - mn);
    double extra = fmod(v, span);
    double flips = floor(v / span);
    return fmod(flips, 2) == 0 ? extra + mn : span - extra + mn;
}

/* the coordinate after the padding mode (PyTorch's compute_coordinates) */
static double gs_pad(double v, int64_t size, const gs_args *a)
{
    if (a->pad == GS_BORDER)
        return gs_clip(v, size);
    if (a->pad == GS_REFLECTION) {
        v = a->align ? gs_reflect(v, 0, 2.0 * (double)(size - 1)) : gs_reflect(v, -1, 2.0 * (double)size - 1);
        return gs_clip(v, size);
    }
    return v;
}

typedef struct gs_job {
    const onnxc_tensor *x, *g;
    onnxc_tensor *y;
    gs_args a;
    int64_t C, H, W, Ho, Wo;
} gs_job;

static void gs_cubic_w(double t, double *w)
{
    const double A = -0.75;
    double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    w[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

/* The taps of one sampling point: up to 16 (offset in a plane, weight); taps outside the image are dropped,
 * which is zero padding (border and reflection have moved the coordinates inside already). */
typedef struct gs_taps {
    int n;
    int64_t off[16];
    double w[16];
} gs_taps;

static void gs_tap(const gs_job *j, gs_taps *t, double yy, double xx, double w)
{
    /* yy, xx integer-valued (or NaN / far away: dropped) */
    if (!(xx > -1 && yy > -1 && xx < (double)j->W && yy < (double)j->H) || w == 0)
        return;
    t->off[t->n] = (int64_t)yy * j->W + (int64_t)xx;
    t->w[t->n++] = w;
}

static void gs_point(const gs_job *j, double ix, double iy, gs_taps *t)
{
    const gs_args *a = &j->a;
    t->n = 0;
    if (a->mode == GS_BICUBIC) {
        if (!(fabs(ix) < 1e15 && fabs(iy) < 1e15))
            return;
        double fx = floor(ix), fy = floor(iy), wx[4], wy[4];
        gs_cubic_w(ix - fx, wx);
        gs_cubic_w(iy - fy, wy);
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++)
                /* PyTorch pads each tap's coordinate, then reads it (0 outside) */
                gs_tap(j, t, gs_pad(fy - 1 + r, j->H, a), gs_pad(fx - 1 + q, j->W, a), wy[r] * wx[q]);
        return;
    }
    double px = gs_pad(ix, j->W, a), py = gs_pad(iy, j->H, a);
    if (!(fabs(px) < 1e15 && fabs(py) < 1e15))
        return;
    if (a->mode == GS_NEAREST) {
        gs_tap(j, t, nearbyint(py), nearbyint(px), 1.0);
        return;
    }
    double x0 = floor(px), y0 = floor(py), tx = px - x0, ty = py - y0;
    gs_tap(j, t, y0, x0, (1 - tx) * (1 - ty));
    gs_tap(j, t, y0, x0 + 1, tx * (1 - ty));
    gs_tap(j, t, y0 + 1, x0, (1 - tx) * ty);
    gs_tap(j, t, y0 + 1, x0 + 1, tx * ty);
}

/* items: (n, output row) */
static void gs_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const gs_job *j = arg;
    bool f32 = j->x->dtype == ONNXC_FLOAT && j->y->dtype == ONNXC_FLOAT;
    int64_t plane = j->H * j->W, oplane = j->Ho * j->Wo;
    for (int64_t it = lo; it < hi; it++) {
        int64_t n = it / j->Ho, oy = it % j->Ho;
        for (int64_t ox = 0; ox < j->Wo; ox++) {
            int64_t gi = ((n * j->Ho + oy) * j->Wo + ox) * 2;
            double gx = oc_load_f64(j->g->dtype, j->g->data, gi), gy = oc_load_f64(j->g->dtype, j->g->data, gi + 1);
            gs_taps t;
            gs_point(j, gs_unnorm(gx, j->W, j->a.align), gs_unnorm(gy, j->H, j->a.align), &t);
            int64_t obase = n * j->C * oplane + oy * j->Wo + ox;
            if (f32) {
                const float *x = (const float *)j->x->data + n * j->C * plane;
                float *y = (float *)j->y->data + obase;
                for (int64_t ch = 0; ch < j->C; ch++, x += plane, y += oplane) {
                    double v = 0;
                    for (int k = 0; k < t.n; k++)
                        v += t.w[k] * x[t.off[k]];
                    *y = (float)v;
                }
            } else
                for (int64_t ch = 0; ch < j->C; ch++) {
                    int64_t base = (n * j->C + ch) * plane;
                    double v = 0;
                    for (int k = 0; k < t.n; k++)
                        v += t.w[k] * oc_load_f64(j->x->dtype, j->x->data, base + t.off[k]);
                    oc_store_f64(j->y->dtype, j->y->data, obase + ch * oplane, v);
                }
        }
    }
}

static onnxc_status gs_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *g = c->in[1];
    gs_job j = {x, g, c->out[0], {0, 0, false}, x->dims[1], x->dims[2], x->dims[3], g->dims[1], g->dims[2]};
    gs_attrs(c, &j.a);
    int64_t rows = x->dims[0] * j.Ho;
    oc_par_for(c->pool, rows, onnxc_tensor_numel(c->out[0]) * (j.a.mode == GS_BICUBIC ? 16 : 4), gs_range, &j);
    return ONNXC_OK;
}

const oc_kernel oc_kernels_sample[] = {
    {"GridSample", NULL, 16, 0, 0, gs_infer, NULL, gs_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
