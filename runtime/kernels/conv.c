/* Conv and ConvTranspose (1-D to 3-D, groups, strides, dilations, pads, auto_pad) for float32: im2col +
 * cblas_sgemm, a direct kernel for depthwise convolutions, conv_stem.c's for few input channels, GEMM + col2im for
 * ConvTranspose. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "blocked.h"
#include "conv_stem.h"
#include "conv_vec.h"
#include "dwconv3.h"
#include "dwconv7.h"
#include "kutil.h"
#include "linalg.h"
#include "sgemm_packb.h"
#include "threadpool.h"
#include "winograd.h"
#include "window.h"

#if defined(__AVX2__)
#include <immintrin.h>

#include "simd.h"
#endif

typedef enum conv_algo {
    CONV_IM2COL,    /* general case: each B block unfolded from the input patch by patch */
    CONV_IMPLICIT,  /* 1-D and 2-D: GEMM reading B straight from a padded, stride-phase-split input copy */
    CONV_WINOGRAD,  /* 2-D 3 x 3, stride 1, no dilation, enough channels: Winograd F(2x2, 3x3) */
    CONV_POINTWISE, /* 1x1 kernel, stride 1, no padding: B is the input itself, copied a block at a time */
    CONV_DEPTHWISE, /* one input channel per group: direct loops, GEMM would have depth k_vol only */
    CONV_STEM       /* 2-D, group 1, few input channels, constant weights: direct tiles (conv_stem.c) */
} conv_algo;

/* Everything run needs, worked out once from the shapes and attributes (kept in c->state by prepare). */
typedef struct conv_plan {
    oc_window w;            /* for ConvTranspose: in = its input, out = its output, pads may be negative */
    int64_t n, c_in, m;     /* batch, input channels, output channels */
    int64_t group, cg, mg;  /* groups, input and output channels per group */
    conv_algo algo;
    bool has_bias;
    /* GEMM algorithms: per group, W_g [mg, cg * k_vol] packed; the output is cut into work items of nc columns
     * (output positions) x mc rows (output channels) */
    oc_packed_a *packed;    /* group entries, NULL for depthwise */
    bool packed_const;      /* packed at prepare from a constant W; else packed again by each run */
    int64_t nc, mc, n_chunks, n_mblocks;
    int64_t mc_fill;        /* filled-B paths: rows per A block inside an item of mc rows (conv_group_rows) */
    int64_t work_floats;    /* per thread, a multiple of 16 */
    /* depthwise, 2-D: each input plane copied into a zero-padded buffer whose rows are split into stride
     * phases (element i * stride + q of a padded row at phase q, index i), so every tap reads contiguously */
    bool dw_padded;
    int64_t dw_rows, dw_phase_len, dw_row_len, dw_acc_len;
    int64_t dw_lo[8], dw_hi[8]; /* per column phase q: entries [lo, hi) come from the input row */
    /* implicit GEMM: the input copied zero-padded and split by stride phases (phase (a, b) holds padded rows
     * r * sh + a and columns c * sw + b, hq x wq of them), so output position (oh, ow) seen through tap (kh, kw)
     * sits at a fixed offset from oh * wq + ow: B row k is a contiguous run of the copy (np = ho * wq padded
     * positions; a tile never crosses an output row). */
    int64_t sh, sw, hq, wq, chan_stride, np;
    uint8_t *phase_used;    /* sh * sw flags: phases some tap reads (a 1 x 1 stride-2 kernel reads one of 4) */
    bool subsample;         /* 1 x 1, unpadded, strided: phase (0, 0) is the compact subsampled input, which the
                             * pointwise path then multiplies (block copies read it row by row, TLB-friendly) */
    bool compact;           /* narrow outputs: B gathered once from the phase copy into [depth][ldcb] rows (all
                             * positions contiguous), then tiles of 16 positions regardless of output rows */
    int64_t ldcb, cbuf_floats;
    int64_t *koff_c;        /* k * ldcb */
    int64_t *koff;          /* per k of a group: offset of B row k from the group's first channel */
    int64_t xph_floats;     /* scratch floats of the copy */
    oc_wino *wino;          /* Winograd: one plan per group */
    float *blk_w;           /* weights repacked for a blocked mode at its first run (conv_blocked_weights), or NULL */
    bool dw_nchw;           /* depthwise on plain planes through blocked rows (oc_blk_dw_nchw_run) */
    float *vec_w;           /* 1 x 1 planes: constant weights packed by oc_conv_vec_pack at the first run, or NULL */
    /* pointwise on small planes (conv_pw_small_ok): W^T packed for oc_sgemm_packb_ex, rows = output positions,
     * the product [positions][channels] in scratch, then transposed into the output */
    bool pw_small;
    oc_packed_b pwb;
    int64_t pw_gate_floats; /* scratch floats before the product: the gated input copy (0 without a gate) */
    oc_stem stem;           /* CONV_STEM: its plan and packed weights */
} conv_plan;

/* ---- shared checks ---- */

static onnxc_status conv_check_inputs(const oc_kctx *c, const onnxc_tensor **x, const onnxc_tensor **wt,
                                      const onnxc_tensor **b)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs inputs X and W");
    *x = c->in[0];
    *wt = c->in[1];
    *b = c->n_in > 2 ? c->in[2] : NULL;
    const onnxc_tensor *X = *x, *W = *wt, *B = *b;
    if (X->dtype != ONNXC_FLOAT)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input X is %s; only float is supported",
                       onnxc_dtype_name(X->dtype));
    if (W->dtype != X->dtype || (B && B->dtype != X->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "W%s must have the type of X (%s)", B ? " and B" : "",
                       onnxc_dtype_name(X->dtype));
    if (X->rank < 3)
        return oc_kerr(c, ONNXC_E_INVALID, "input X has rank %d; expected N x C x spatial dims (rank >= 3)",
                       X->rank);
    if (W->rank != X->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "weight W has rank %d but X has rank %d", W->rank, X->rank);
    if (B && B->rank != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has rank %d; expected 1", B->rank);
    return ONNXC_OK;
}

static onnxc_status conv_check_group(const oc_kctx *c, int64_t *group)
{
    *group = oc_attr_int(c->node, "group", 1);
    if (*group < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "group = %lld; must be >= 1", (long long)*group);
    return ONNXC_OK;
}

/* ---- Conv ---- */

/* The implicit GEMM reads B rows in place from a zero-padded copy of the input: fast while that copy stays in
 * L2. Rows at least a tile wide, 16 or more channels per group and a copy above 256 KiB (ResNet's stride-2
 * 3 x 3 convolutions at 56 x 56) measured 1.2-1.5x faster through block-wise im2col, whose blocks do stay in
 * cache; narrower rows gather B compactly instead, 1 x 1 kernels subsample, and a 3-channel stem measured
 * faster implicit, so those keep the implicit path. */
static bool implicit_too_big(const conv_plan *p)
{
    const oc_window *w = &p->w;
    if (w->k_vol == 1 || w->out[2] < 16 || p->cg < 16)
        return false;
    const double hp = (double)(w->pad0[1] + w->in[1] + w->pad1[1]), wp = (double)(w->pad0[2] + w->in[2] + w->pad1[2]);
    return (double)p->c_in * hp * wp * sizeof(float) > 256.0 * 1024;
}

static onnxc_status conv_make_plan(const oc_kctx *c, conv_plan *p)
{
    memset(p, 0, sizeof *p);
    const onnxc_tensor *X = NULL, *W = NULL, *B = NULL;
    onnxc_status st = conv_check_inputs(c, &X, &W, &B);
    if (st == ONNXC_OK)
        st = conv_check_group(c, &p->group);
    if (st != ONNXC_OK)
        return st;
    p->n = X->dims[0];
    p->c_in = X->dims[1];
    p->m = W->dims[0];
    p->has_bias = B != NULL;
    int64_t cin_w;
    if (!oc_mul_i64(W->dims[1], p->group, &cin_w) || cin_w != p->c_in)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels but W expects %lld x group %lld",
                       (long long)p->c_in, (long long)W->dims[1], (long long)p->group);
    if (p->m % p->group != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "W has %lld output channels, not a multiple of group %lld",
                       (long long)p->m, (long long)p->group);
    if (B && B->dims[0] != p->m)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has %lld values but there are %lld output channels",
                       (long long)B->dims[0], (long long)p->m);
    p->cg = W->dims[1];
    p->mg = p->m / p->group;
    int nsp = X->rank - 2;
    st = oc_window_attrs(c, nsp, W->dims + 2, &p->w);
    if (st == ONNXC_OK)
        st = oc_window_forward(c, X->dims + 2, false, &p->w);
    if (st != ONNXC_OK)
        return st;
    const oc_window *w = &p->w;
    bool unit = w->k_vol == 1;
    for (int i = 0; i < OC_WIN_DIMS; i++)
        unit = unit && w->stride[i] == 1 && w->pad0[i] == 0 && w->pad1[i] == 0;
    if (p->cg == 1 && p->group > 1)
        p->algo = CONV_DEPTHWISE;
    else if (unit)
        p->algo = CONV_POINTWISE;
    else if (w->k[0] == 1 && w->in[0] == 1 && w->out[0] == 1 && !implicit_too_big(p))
        p->algo = CONV_IMPLICIT;
    else
        p->algo = CONV_IM2COL;
    int64_t depth;
    if (!oc_mul_i64(p->cg, w->k_vol, &depth) || !oc_blas_fits(depth) || !oc_blas_fits(p->mg) ||
        !oc_blas_fits(w->out_vol))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "convolution too large for BLAS int sizes");
    return ONNXC_OK;
}

static onnxc_status conv_infer(oc_kctx *c)
{
    conv_plan p;
    onnxc_status st = conv_make_plan(c, &p);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[ONNXC_MAX_RANK];
    dims[0] = p.n;
    dims[1] = p.m;
    for (int i = 0; i < p.w.nsp; i++)
        dims[2 + i] = p.w.out[OC_WIN_DIMS - p.w.nsp + i];
    c->scratch_size = 0; /* prepare sizes the per-thread B blocks */
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], c->in[0]->dtype, 2 + p.w.nsp, dims);
}

static void conv_release(void *state)
{
    conv_plan *p = state;
    if (!p)
        return;
    if (p->packed)
        for (int64_t g = 0; g < p->group; g++)
            oc_packed_a_free(&p->packed[g]);
    oc_free(p->packed);
    oc_free(p->koff);
    oc_free(p->phase_used);
    oc_free(p->koff_c);
    if (p->wino)
        for (int64_t g = 0; g < p->group; g++)
            oc_wino_free(&p->wino[g]);
    oc_free(p->wino);
    oc_free(p->blk_w);
    oc_free(p->vec_w);
    oc_packed_b_free(&p->pwb);
    oc_stem_free(&p->stem);
    oc_free(p);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int conv_slots(const oc_kctx *c)
{
    return c->pool ? oc_pool_threads(c->pool) : 1;
}

/* Work items a GEMM convolution is cut into: four per thread for large products (a finer share for when one
 * core is slowed), two below 32 M multiply-adds (MobileNet's layers), where four measured 3-4 % slower on the
 * whole network (the extra items' B blocks and A re-reads cost more than the balance saved; ResNets' layers
 * measured 2 % faster with four). Measured with both builds alternating in one process. */
static int64_t conv_items_wanted(const conv_plan *p, int slots)
{
    const double macs = (double)p->n * (double)p->m * (double)p->cg * (double)p->w.k_vol * (double)p->w.out_vol;
    return slots > 1 ? (macs >= 32e6 ? 4 : 2) * (int64_t)slots : 1;
}

/* Cut the output of a GEMM algorithm into work items: column chunks sized so a B block (kc x nc) stays in L2
 * beside an A block of mc rows, then cut finer until there are conv_items_wanted() items. */
static void conv_plan_items(conv_plan *p, int slots, int64_t ov)
{
    const int64_t kc = p->packed[0].kc > 0 ? p->packed[0].kc : 1;
    const int64_t mg = p->mg;
    int64_t nc = (96 * 1024 / (int64_t)sizeof(float) / kc) / OC_GEMM_NR * OC_GEMM_NR;
    if (nc < OC_GEMM_NR)
        nc = OC_GEMM_NR;
    if (nc > ov)
        nc = ov > 0 ? ov : 1;
    int64_t mc = (128 * 1024 / (int64_t)sizeof(float) / kc) / OC_GEMM_MR * OC_GEMM_MR;
    if (mc < OC_GEMM_MR)
        mc = OC_GEMM_MR;
    if (mc > mg)
        mc = mg > 0 ? ceil_div(mg, OC_GEMM_MR) * OC_GEMM_MR : OC_GEMM_MR;
    int64_t chunks = ov > 0 ? ceil_div(ov, nc) : 1, mblocks = mg > 0 ? ceil_div(mg, mc) : 1;
    const int64_t outer = p->n * p->group, want = conv_items_wanted(p, slots);
    while (outer * chunks * mblocks < want) {
        if (nc >= 4 * OC_GEMM_NR) {
            nc = ceil_div(ceil_div(nc, 2), OC_GEMM_NR) * OC_GEMM_NR;
            chunks = ceil_div(ov, nc);
        } else if (mc >= 4 * OC_GEMM_MR) {
            mc = ceil_div(ceil_div(mc, 2), OC_GEMM_MR) * OC_GEMM_MR;
            mblocks = ceil_div(mg, mc);
        } else {
            break;
        }
    }
    /* even chunks: no small remainder */
    if (chunks > 1) {
        nc = ceil_div(ceil_div(ov, chunks), OC_GEMM_NR) * OC_GEMM_NR;
        chunks = ceil_div(ov, nc);
    }
    if (mblocks > 1) {
        mc = ceil_div(ceil_div(mg, mblocks), OC_GEMM_MR) * OC_GEMM_MR;
        mblocks = ceil_div(mg, mc);
    }
    /* a count of items every thread gets as many of: 5 or 9 equal items on 2 threads leave one idle for a whole
     * item (MobileNetV2 and EfficientNet-B0 had a tenth of such jobs idle). The column chunks first, the count
     * nearest the one above that the threads divide (196 positions: 4 chunks of 4, 4, 4 and 1 tiles, not 5 of
     * 3); channel blocks only for a single chunk, as splitting them fills each B block once per block (a 240 ->
     * 48 pointwise layer on 14 x 14 took longer on 2 threads than on 1 so) */
    if (slots > 1 && (outer * chunks * mblocks) % slots != 0) {
        const int64_t tiles = ceil_div(ov, OC_GEMM_NR);
        int64_t best = -1, best_nc = nc;
        for (int64_t t2 = chunks - slots + 1; t2 <= chunks + slots; t2++) {
            if (t2 < 1 || t2 > tiles)
                continue;
            const int64_t nc2 = ceil_div(tiles, t2) * OC_GEMM_NR, ch2 = ceil_div(ov, nc2);
            if ((outer * ch2 * mblocks) % slots == 0 && outer * ch2 * mblocks >= slots &&
                (best < 0 || llabs(ch2 - chunks) < llabs(best - chunks))) {
                best = ch2;
                best_nc = nc2;
            }
        }
        if (best > 0) {
            nc = best_nc;
            chunks = best;
        }
    }
    for (int64_t b2 = mblocks; slots > 1 && chunks == 1 && (outer * mblocks) % slots != 0 && b2 < mblocks + slots;
         b2++) {
        const int64_t mc2 = ceil_div(ceil_div(mg, b2 + 1), OC_GEMM_MR) * OC_GEMM_MR, mb2 = ceil_div(mg, mc2);
        if ((outer * mb2) % slots == 0) {
            mc = mc2;
            mblocks = mb2;
        }
    }
    if (p->algo == CONV_IM2COL && p->w.in[0] == 1 && p->w.out[2] > 1 && nc < ov) {
        /* im2col blocks of whole output rows (a multiple of the row and of a tile, 112 for rows of 7, 14, 28 or
         * 56): every run of a B row is then a whole row, copied with masks worked out once per block; only
         * where that keeps the items wanted (one thread, or blocks enough) */
        const int64_t o2 = p->w.out[2];
        int64_t l = o2;
        while (l % OC_GEMM_NR != 0)
            l += o2;
        if (l <= 2 * nc) {
            const int64_t anc = (nc + l / 2) / l * l, ach = ceil_div(ov, anc);
            if ((outer * ach * mblocks >= want && (outer * ach * mblocks) % slots == 0) || want == 1) {
                nc = anc;
                chunks = ach;
            }
        }
    }
    p->nc = nc;
    p->mc = mc;
    p->mc_fill = mc;
    p->n_chunks = chunks;
    p->n_mblocks = mblocks;
    p->work_floats = ceil_div(oc_gemm_work_floats(&p->packed[0], nc), 16) * 16;
}

/* For the paths that fill B blocks (im2col, pointwise, subsampled 1 x 1) on one thread: an item takes every
 * block of mc output channels, its B blocks filled once for all of them (each was filled again per channel
 * block: ResNet's 1 x 1 downsampling convolutions, 512 to 2048 channels in blocks of 128, filled each block 4 to
 * 16 times). Not on more threads: items of two or more channel blocks (as many as kept twice the items wanted)
 * measured RegNetY-400MF 1.04-1.05x slower at 2 threads. */
static void conv_group_rows(conv_plan *p, int slots)
{
    const int64_t per = slots > 1 ? 1 : p->n_mblocks;
    p->mc_fill = p->mc;
    p->mc *= per;
    p->n_mblocks = ceil_div(p->n_mblocks, per);
}

/* Sizes of the padded-plane buffers for 2-D depthwise convolutions of planes up to ~1 MiB (others take the
 * direct loops). */
static onnxc_status conv_dw_prepare(oc_kctx *c, conv_plan *p)
{
    const oc_window *w = &p->w;
    if (w->k[0] != 1 || w->in[0] != 1 || w->out[0] != 1)
        return ONNXC_OK;
    const int64_t s = w->stride[2];
    const int64_t wp = w->pad0[2] + w->in[2] + w->pad1[2];             /* padded row */
    const int64_t acc = ceil_div(w->out[2], 8) * 8;                     /* output row, whole vectors */
    const int64_t max_off = ((w->k[2] - 1) * w->dil[2]) / s;            /* furthest tap, in phase elements */
    int64_t phase = ceil_div(wp, s);
    if (phase < acc + max_off)
        phase = acc + max_off;
    const int64_t rows = w->pad0[1] + w->in[1] + w->pad1[1];
    if (s > 8 || phase * s * rows + acc > (1 << 18))
        return ONNXC_OK;
    for (int64_t q = 0; q < s; q++) {
        /* phase q holds padded positions idx * s + q, input element idx * s + q - pad */
        const int64_t pl = w->pad0[2], in2 = w->in[2];
        int64_t lo = q >= pl ? 0 : ceil_div(pl - q, s);
        int64_t hi = in2 - 1 + pl - q < 0 ? 0 : (in2 - 1 + pl - q) / s + 1;
        if (hi > phase)
            hi = phase;
        if (lo > hi)
            lo = hi;
        p->dw_lo[q] = lo;
        p->dw_hi[q] = hi;
    }
    p->dw_padded = true;
    p->dw_rows = rows;
    p->dw_phase_len = phase;
    p->dw_row_len = phase * s;
    p->dw_acc_len = acc;
    p->work_floats = ceil_div(rows * p->dw_row_len + acc, 16) * 16;
    c->scratch_size = (size_t)p->work_floats * sizeof(float) * (size_t)conv_slots(c);
    return ONNXC_OK;
}

/* Geometry of the implicit GEMM, its offset table and its scratch (phase buffer + C), one image at a time. */
static onnxc_status conv_implicit_prepare(oc_kctx *c, conv_plan *p, int slots)
{
    const oc_window *w = &p->w;
    const int64_t hp = w->pad0[1] + w->in[1] + w->pad1[1], wp = w->pad0[2] + w->in[2] + w->pad1[2];
    p->sh = w->stride[1];
    p->sw = w->stride[2];
    p->hq = ceil_div(hp, p->sh);
    p->wq = ceil_div(wp, p->sw);
    int64_t t;
    if (!oc_mul_i64(p->sh * p->sw, p->hq, &t) || !oc_mul_i64(t, p->wq, &p->chan_stride) ||
        !oc_mul_i64(w->out[1], p->wq, &p->np))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution buffer size overflows");
    const int64_t depth = p->cg * w->k_vol;
    p->koff = oc_calloc((size_t)depth + 1, sizeof *p->koff);
    if (!p->koff)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    p->phase_used = oc_calloc((size_t)(p->sh * p->sw), 1);
    if (!p->phase_used)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    int64_t max_off = 0;
    for (int64_t k = 0; k < depth; k++) {
        const int64_t ci = k / w->k_vol, kk = k % w->k_vol, kh = kk / w->k[2], kw = kk % w->k[2];
        const int64_t th = kh * w->dil[1], tw = kw * w->dil[2];
        p->phase_used[(th % p->sh) * p->sw + tw % p->sw] = 1;
        p->koff[k] = ci * p->chan_stride + ((th % p->sh) * p->sw + tw % p->sw) * p->hq * p->wq +
                     (th / p->sh) * p->wq + tw / p->sw;
        if (p->koff[k] > max_off)
            max_off = p->koff[k];
    }
    /* the last group's furthest B row is read up to the last output row's last tile, 16 columns wide */
    int64_t xph = p->c_in * p->chan_stride,
            reach = (p->group - 1) * p->cg * p->chan_stride + max_off + p->np + OC_GEMM_NR;
    if (reach > xph)
        xph = reach;
    p->xph_floats = ceil_div(xph, 16) * 16;
    /* items are blocks of whole output rows (nc of them) x blocks of channels */
    conv_plan_items(p, slots, w->out_vol);
    const int64_t o1 = w->out[1], want = conv_items_wanted(p, slots);
    int64_t rows = p->nc / w->out[2];
    rows = rows < 1 ? 1 : rows > o1 ? o1 : rows;
    while (rows > 1 && ceil_div(o1, rows) * p->n_mblocks < want)
        rows = ceil_div(rows, 2);
    p->nc = rows;
    p->n_chunks = ceil_div(o1, rows);
    p->work_floats = 0;
    p->subsample = w->k_vol == 1 && w->pad0[1] == 0 && w->pad0[2] == 0 && w->pad1[1] == 0 && w->pad1[2] == 0 &&
                   p->wq == w->out[2] && p->hq == w->out[1];
    if (p->subsample) {
        /* column chunks of the pointwise path, and its per-thread block buffers after the phase buffer */
        conv_plan_items(p, slots, w->out_vol);
        conv_group_rows(p, slots);
    } else if (w->out[2] < 16 && depth * w->out_vol <= (1 << 22)) {
        /* rows narrower than a tile: gather the compact B after the phase buffer */
        p->compact = true;
        conv_plan_items(p, slots, w->out_vol);
        p->nc = ceil_div(p->nc, OC_GEMM_NR) * OC_GEMM_NR;
        p->n_chunks = ceil_div(w->out_vol, p->nc);
        p->work_floats = 0;
        p->ldcb = oc_gemm_ldb(w->out_vol);
        p->koff_c = oc_calloc((size_t)depth + 1, sizeof *p->koff_c);
        if (!p->koff_c)
            return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
        for (int64_t k = 0; k < depth; k++)
            p->koff_c[k] = k * p->ldcb;
        if (!oc_mul_i64(p->group * depth, p->ldcb, &p->cbuf_floats))
            return oc_kerr(c, ONNXC_E_NOMEM, "convolution buffer size overflows");
        p->xph_floats += p->cbuf_floats; /* one scratch region: the phase copy, then the gathered B */
    }
    int64_t total;
    if (!oc_mul_i64(p->work_floats, slots, &total) || !oc_mul_i64(p->xph_floats + total, (int64_t)sizeof(float),
                                                                  &total))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution buffer size overflows");
    c->scratch_size = (size_t)total;
    return ONNXC_OK;
}

/* Winograd F(2x2, 3x3) pays where the transforms are cheap next to the products: 3 x 3, stride 1, undilated
 * 2-D convolutions with at least 16 input and output channels per group, and at least 49 output positions
 * (ResNet's last stage, 512 channels on 7 x 7: 16 tiles, one whole GEMM panel; measured 0.6x the gathered
 * direct product at 1 and 2 threads once the input transform is shared between the items of a split). */
static bool conv_wino_ok(const conv_plan *p)
{
    const oc_window *w = &p->w;
    /* 2-D (the implicit or im2col algorithm), 3 x 3, stride 1, at least 16 input and 16 output channels per group */
    return oc_wino_available() && (p->algo == CONV_IMPLICIT || p->algo == CONV_IM2COL) && w->k[0] == 1 &&
           w->in[0] == 1 && w->out[0] == 1 && w->out_vol >= 49 && w->k[1] == 3 && w->k[2] == 3 &&
           w->stride[1] == 1 &&
           w->stride[2] == 1 && w->dil[1] == 1 && w->dil[2] == 1 && p->cg >= 16 && p->mg >= 16 &&
           w->in[2] < (1 << 30) && w->out[2] < (1 << 30);
}

static onnxc_status conv_wino_prepare(oc_kctx *c, conv_plan *p, int slots)
{
    const oc_window *w = &p->w;
    p->wino = oc_calloc((size_t)p->group, sizeof *p->wino);
    if (!p->wino)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    for (int64_t g = 0; g < p->group; g++) {
        onnxc_status st = oc_wino_plan(&p->wino[g], p->cg, p->mg, w->in[1], w->in[2], w->pad0[1], w->pad1[1],
                                       w->pad0[2], w->pad1[2], slots);
        if (st != ONNXC_OK)
            return oc_kerr(c, st, "%s", onnxc_last_error());
        if (p->packed_const)
            oc_wino_set_weights(&p->wino[g], (const float *)c->in[1]->data + g * p->mg * p->cg * 9);
    }
    int64_t bytes;
    if (!oc_mul_i64(p->wino[0].work_floats, slots, &bytes) ||
        !oc_mul_i64(p->wino[0].shared_floats + bytes, (int64_t)sizeof(float), &bytes))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution buffer size overflows");
    c->scratch_size = (size_t)bytes;
    p->algo = CONV_WINOGRAD;
    return ONNXC_OK;
}

/* The blocked-layout modes this convolution can run in (kernel.h): a 3 x 3 depthwise convolution (one channel
 * per group, stride 1 or 2, padding 0 or 1) or a 5 x 5 one (padding 0 to 2, on the padded plain kernel's planes)
 * blocked in and out; a 2-D pointwise one reading plain and writing
 * blocked, or reading blocked through the GEMM's B gather. Constant weights only. */
static onnxc_status conv_blocked_prepare(oc_kctx *c, conv_plan *p)
{
#ifdef OC_BLK_KERNELS
    const oc_window *w = &p->w;
    const bool const_w = ((c->const_inputs >> 1) & 1u) && c->in[1]->data;
    if (!const_w || w->nsp != 2 || c->in[0]->dtype != ONNXC_FLOAT)
        return ONNXC_OK;
    if (p->algo == CONV_DEPTHWISE) {
        const bool common = p->m == p->c_in && p->c_in % 8 == 0 && w->dil[1] == 1 && w->dil[2] == 1 &&
                            w->stride[1] <= 2 && w->stride[2] <= 2;
        if (common && w->k[1] == 3 && w->k[2] == 3 && w->pad0[1] <= 1 && w->pad0[2] <= 1)
            c->blocked_modes = OC_BLK_BOTH;
        /* 5 x 5: only where the plain kernel is the padded one (the blocked kernel keeps its operations) */
        if (common && w->k[1] == 5 && w->k[2] == 5 && w->pad0[1] <= 2 && w->pad0[2] <= 2 && p->dw_padded &&
            (w->out[2] - 1) * w->stride[2] + 5 <= OC_BLK_DW5_MAX_W)
            c->blocked_modes = OC_BLK_BOTH;
        /* 5 x 5 on plain planes: through blocked rows too, any channel count (the same operations; measured
         * slower than the direct plain kernel for 3 x 3) */
        p->dw_nchw = p->m == p->c_in && w->dil[1] == 1 && w->dil[2] == 1 && w->stride[1] <= 2 && w->stride[2] <= 2 &&
                     w->k[1] == 5 && w->k[2] == 5 && w->pad0[1] <= 2 && w->pad0[2] <= 2 && p->dw_padded &&
                     (w->out[2] - 1) * w->stride[2] + 5 <= OC_BLK_DW5_MAX_W;
    } else if (p->algo == CONV_POINTWISE && p->group == 1) {
        if (p->m % 8 == 0)
            c->blocked_modes |= OC_BLK_OUT;
        if (p->c_in % 8 == 0)
            c->blocked_modes |= OC_BLK_IN;
    }
#else
    (void)c, (void)p;
#endif
    return ONNXC_OK;
}

#ifdef OC_BLK_KERNELS
/* The weights of a blocked mode, repacked at the first run in it (the planner picks modes after prepare; most
 * convolutions that could run blocked never do, and their copies would only cost memory). A pointwise
 * convolution writing blocked keeps that mode for the plan's life, so its GEMM panels are freed. */
static onnxc_status conv_blocked_weights(oc_kctx *c, conv_plan *p)
{
    if (p->blk_w)
        return ONNXC_OK;
    const onnxc_status st = p->algo == CONV_DEPTHWISE ? oc_blk_dw_pack(c->in[1]->data, p->c_in, (int)p->w.k[1], &p->blk_w)
                                                      : oc_blk_pw_pack(c->in[1]->data, p->m, p->c_in, &p->blk_w);
    if (st != ONNXC_OK)
        return oc_kerr(c, st, "%s", onnxc_last_error());
    if (p->packed)
        oc_packed_a_free(&p->packed[0]); /* group 1 */
    return ONNXC_OK;
}
#endif

/* Pointwise convolutions on small planes (ResNet-50's and MobileNets' last stages, 7 x 7 and 14 x 14) run as
 * products with the output positions as rows: the 49 or 196 positions cut into register tiles of up to 12
 * with no padding, the channels (multiples of 32 mostly) in panels of 32, the weights packed once here; the
 * GEMM path's 16-position tiles would waste a quarter of the 7 x 7 ones. */
#define PW_SMALL_MAX_PLANE 196

static bool conv_pw_small_ok(const oc_kctx *c, const conv_plan *p)
{
    /* output channels filling their panels of 32 to within 10 % (EfficientNet-B0's 14 x 14 layers to 80 and
     * 112 channels, a sixth and an eighth of their last panel idle, measured slower on the whole network) */
    const int64_t lanes = ceil_div(p->m, 32) * 32;
    return p->algo == CONV_POINTWISE && p->group == 1 && p->w.out_vol > 1 && p->w.out_vol <= PW_SMALL_MAX_PLANE &&
           (lanes - p->m) * 10 <= lanes &&
           ((c->const_inputs >> 1) & 1u) && c->in[1]->data && oc_packb_available();
}

static onnxc_status conv_pw_small_prepare(oc_kctx *c, conv_plan *p)
{
    onnxc_status st = oc_pack_b(c->in[1]->data, p->c_in, true, p->c_in, p->m, &p->pwb);
    if (st != ONNXC_OK)
        return oc_kerr(c, st, "%s", onnxc_last_error());
    p->pw_small = true;
    const int64_t hw = p->w.out_vol;
    /* the gated copy (a squeeze-excite gate may be fused later, accepts_gate) and the product */
    int64_t gate_floats, prod_floats, total;
    if (!oc_mul_i64(p->c_in, hw, &gate_floats) || !oc_mul_i64(p->m, hw, &prod_floats) ||
        !oc_mul_i64(ceil_div(gate_floats, 16) * 16 + prod_floats, (int64_t)sizeof(float), &total))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution buffer size overflows");
    p->pw_gate_floats = ceil_div(gate_floats, 16) * 16;
    c->scratch_size = (size_t)total;
    return ONNXC_OK;
}

/* The few-input-channel direct kernel (conv_stem.c) for a network's first convolutions: 2-D, group 1, not 1 x 1
 * unit-stride, constant weights, shapes oc_stem_ok takes. */
static bool conv_stem_wanted(const oc_kctx *c, const conv_plan *p)
{
    const oc_window *w = &p->w;
    return p->group == 1 && (p->algo == CONV_IMPLICIT || p->algo == CONV_IM2COL) && w->k[0] == 1 &&
           w->in[0] == 1 && w->out[0] == 1 && ((c->const_inputs >> 1) & 1u) && c->in[1]->data &&
           oc_stem_ok(p->c_in, p->m, w->k[1], w->k[2], w->stride[1], w->stride[2], w->dil[1], w->dil[2]);
}

static onnxc_status conv_stem_prepare(oc_kctx *c, conv_plan *p)
{
    const oc_window *w = &p->w;
    onnxc_status st = oc_stem_plan(&p->stem, c->in[1]->data, p->c_in, p->m, w->in[1], w->in[2], w->out[1],
                                   w->out[2], w->k[1], w->k[2], w->stride[1], w->stride[2], w->dil[1], w->dil[2],
                                   w->pad0[1], w->pad0[2]);
    if (st != ONNXC_OK)
        return oc_kerr(c, st, "%s", onnxc_last_error());
    int64_t bytes;
    if (!oc_mul_i64(oc_stem_work_floats(&p->stem) * (int64_t)sizeof(float), conv_slots(c), &bytes))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution work buffer size overflows");
    c->scratch_size = (size_t)bytes;
    p->algo = CONV_STEM;
    return ONNXC_OK;
}

static onnxc_status conv_prepare(oc_kctx *c)
{
    conv_plan *p = oc_calloc(1, sizeof *p);
    if (!p)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    c->state = p;
    onnxc_status st = conv_make_plan(c, p);
    if (st != ONNXC_OK)
        return st;
    c->scratch_size = 0;
    c->accepts_epilogue = true;
    /* the squeeze-excite Mul in front (plan_fuse.c), applied while the GEMM's B blocks are filled */
    c->accepts_gate = p->algo == CONV_POINTWISE && p->w.out_vol > 1;
    if (p->algo == CONV_DEPTHWISE) {
        st = conv_dw_prepare(c, p); /* first: the blocked 5 x 5 mode follows the padded plain kernel */
        return st != ONNXC_OK ? st : conv_blocked_prepare(c, p);
    }
    st = conv_blocked_prepare(c, p);
    if (st != ONNXC_OK)
        return st;
    if (conv_pw_small_ok(c, p))
        return conv_pw_small_prepare(c, p);
    const onnxc_tensor *W = c->in[1];
    const int64_t depth = p->cg * p->w.k_vol;
    if (conv_stem_wanted(c, p))
        return conv_stem_prepare(c, p);
    if (conv_wino_ok(p)) {
        p->packed_const = ((c->const_inputs >> 1) & 1u) && W->data;
        return conv_wino_prepare(c, p, conv_slots(c));
    }
    p->packed = oc_calloc((size_t)p->group, sizeof *p->packed);
    if (!p->packed)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the packed weights");
    /* weights known for the plan's life are packed once; others by every run */
    p->packed_const = ((c->const_inputs >> 1) & 1u) && W->data;
    for (int64_t g = 0; g < p->group; g++) {
        st = oc_pack_a_alloc(p->mg, depth, &p->packed[g]);
        if (st != ONNXC_OK)
            return oc_kerr(c, st, "%s", onnxc_last_error());
        if (p->packed_const)
            oc_pack_a_fill((const float *)W->data + g * p->mg * depth, depth, &p->packed[g]);
    }
    const int slots = conv_slots(c);
    if (p->algo == CONV_IMPLICIT)
        return conv_implicit_prepare(c, p, slots);
    conv_plan_items(p, slots, p->w.out_vol);
    conv_group_rows(p, slots);
    int64_t bytes;
    if (!oc_mul_i64(p->work_floats * (int64_t)sizeof(float), slots, &bytes))
        return oc_kerr(c, ONNXC_E_NOMEM, "convolution work buffer size overflows");
    c->scratch_size = (size_t)bytes;
    return ONNXC_OK;
}

/* Valid range [lo, hi) of output positions o for which o * s + off lies in [0, n). */
static inline void tap_range(int64_t off, int64_t s, int64_t n, int64_t n_out, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = off >= n ? 0 : (n - 1 - off) / s + 1;
    if (h > n_out)
        h = n_out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Where the B blocks of one image and group come from. */
typedef struct conv_fill {
    const oc_window *w;
    const float *x;      /* the group's first input channel */
    int64_t row_stride;  /* pointwise: floats from one channel to the next */
    const float *gate;   /* pointwise: the fused squeeze-excite gate of the group's first channel, or NULL */
    const float *bn_a, *bn_b; /* pointwise: the fused BatchNormalization's a, b of that channel, or NULL */
    bool bn_clamp;
    float bn_lo, bn_hi;
} conv_fill;

static void zero_tail(float *row, int64_t nc)
{
    const int64_t padded = ceil_div(nc, OC_GEMM_NR) * OC_GEMM_NR;
    for (int64_t j = nc; j < padded; j++)
        row[j] = 0.0f;
}

/* Pointwise: row k of B is input channel k, so a block is rows of the input. */
static void fill_pointwise(const void *vctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst, int64_t ldb)
{
    const conv_fill *f = vctx;
    for (int64_t r = 0; r < kcb; r++) {
        float *d = dst + r * ldb;
        memcpy(d, f->x + (k0 + r) * f->row_stride + n0, (size_t)nc * sizeof *d);
        zero_tail(d, nc);
    }
}

/* Pointwise with the fused squeeze-excite gate: row k of B is input channel k times its gate, as the Mul
 * computes it. */
static void fill_pointwise_gated(const void *vctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst,
                                 int64_t ldb)
{
    const conv_fill *f = vctx;
    for (int64_t r = 0; r < kcb; r++) {
        float *d = dst + r * ldb;
        const float *xr = f->x + (k0 + r) * f->row_stride + n0;
        const float gv = f->gate[k0 + r];
        for (int64_t i = 0; i < nc; i++)
            d[i] = xr[i] * gv;
        zero_tail(d, nc);
    }
}

/* Pointwise with the fused BatchNormalization (and its Relu / Clip): row k of B is input channel k as
 * nm_bn_plane_f32 (norm.c) writes it, x * a + b in float (a product, then a sum), then clamped. */
static void fill_pointwise_bn(const void *vctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst,
                              int64_t ldb)
{
    const conv_fill *f = vctx;
    const float lo = f->bn_lo, hi = f->bn_hi;
    for (int64_t r = 0; r < kcb; r++) {
        float *d = dst + r * ldb;
        const float *xr = f->x + (k0 + r) * f->row_stride + n0;
        oc_bn_span(xr, f->bn_a[k0 + r], f->bn_b[k0 + r], f->bn_clamp, lo, hi, d, nc);
        zero_tail(d, nc);
    }
}

#ifdef OC_BLK_KERNELS
/* Pointwise over a blocked input: rows of B gathered from the channel blocks. */
static void fill_blocked(const void *vctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst, int64_t ldb)
{
    const conv_fill *f = vctx;
    oc_blk_gather(f->x, f->w->in_vol, k0, kcb, n0, nc, dst, ldb);
}
#endif

/* im2col of a block: row k = (channel, kd, kh, kw) holds, for each output position of the block, the input
 * value that position sees through that tap (0 in padding). Output positions are walked as runs along the
 * last spatial dim. */
/* d[i] = src[2 i] for i in [0, n), reading src[0 .. 2 n - 2] only: the stride-2 taps of an im2col row (ResNet's
 * 3 x 3 stride-2 convolutions spent a third of their time in the scalar loop). */
static void gather_stride2(float *d, const float *src, int64_t n)
{
    int64_t i = 0;
#if defined(__AVX2__)
    /* 16 floats read per 8 written: whole vectors while src[2 i + 15] is inside the run */
    for (; i + 8 <= n - 1; i += 8) {
        const __m256 a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
        const __m256 e = _mm256_shuffle_ps(a, b, 0x88); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
        _mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    }
#endif
    for (; i < n; i++)
        d[i] = src[2 * i];
}

#if defined(__AVX512F__)
/* The masks of 16 stride-2 outputs q0 .. q0 + n - 1 of a tap whose valid outputs are [lo, hi): lm the input
 * elements [2 s, 2 e - 1) of the 32 from 2 q0 (a load mask per half), om the outputs [s, e) kept by the permute
 * of the even elements. */
static inline void s2_masks(int64_t lo, int64_t hi, int64_t q0, int64_t n, __mmask16 *m0, __mmask16 *m1,
                            __mmask16 *om)
{
    int64_t s = lo - q0, e = hi - q0;
    s = s < 0 ? 0 : s > n ? n : s;
    e = e < 0 ? 0 : e > n ? n : e;
    const uint64_t lm = e > s ? ((1ull << (2 * e - 1)) - 1u) & ~((1ull << (2 * s)) - 1u) : 0;
    *m0 = (__mmask16)(lm & 0xffffu);
    *m1 = (__mmask16)(lm >> 16);
    *om = (__mmask16)(e > s ? ((1u << e) - 1u) & ~((1u << s) - 1u) : 0);
}

/* dd[q - ow] = src[2 q + off] for q in [lo, hi), 0 elsewhere, over q in [ow, ow + len): one im2col run of a
 * stride-2 tap. 16 outputs a step from two masked loads (only the elements between the first and the last
 * valid tap are read) and one permute of the even elements; the zeros of the padding come from the mask, so
 * there is no scalar edge. */
static void im2col_run_s2(float *dd, const float *src, int64_t off, int64_t ow, int64_t len, int64_t lo, int64_t hi,
                          const float *limit)
{
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const int64_t end = ow + len;
    for (int64_t q = ow; q < end; q += 16) {
        const int64_t n = end - q < 16 ? end - q : 16;
        __mmask16 m0, m1, om;
        s2_masks(lo, hi, q, n, &m0, &m1, &om);
        __m512 r = _mm512_setzero_ps();
        if (om) {
            /* only elements inside the input row are loaded */
            const float *base = src + (2 * q + off);
            r = _mm512_maskz_permutex2var_ps(om, _mm512_maskz_loadu_ps(m0, base), evens,
                                             _mm512_maskz_loadu_ps(m1, base + 16));
        }
        /* a masked store costs several plain ones here: a whole vector where the floats past the run may be
         * overwritten (the caller's later runs or unread columns, up to limit) */
        if (dd + (q - ow) + 16 <= limit)
            _mm512_storeu_ps(dd + (q - ow), r);
        else
            _mm512_mask_storeu_ps(dd + (q - ow), (__mmask16)((1u << n) - 1u), r);
    }
}

/* The masks im2col_run_s2 computes for whole output rows (ow 0, len o2) of up to 64 positions, per column tap
 * of up to 11: worked out once per block, so a whole row costs two loads, a permute and a store per 16
 * positions. */
#define S2_MAX_KW 11
#define S2_MAX_VEC 4
typedef struct s2_rows {
    int nv; /* vectors per row */
    __mmask16 m0[S2_MAX_KW][S2_MAX_VEC], m1[S2_MAX_KW][S2_MAX_VEC], om[S2_MAX_KW][S2_MAX_VEC], sm;
    int64_t lo[S2_MAX_KW], hi[S2_MAX_KW]; /* tap_range of each column tap */
} s2_rows;

static bool s2_rows_init(s2_rows *t, const oc_window *w)
{
    const int64_t o2 = w->out[2];
    if (w->k[2] > S2_MAX_KW || o2 > 16 * S2_MAX_VEC)
        return false;
    t->nv = (int)ceil_div(o2, 16);
    t->sm = (__mmask16)(o2 % 16 == 0 ? 0xffffu : (1u << (o2 % 16)) - 1u);
    for (int64_t kw = 0; kw < w->k[2]; kw++) {
        int64_t lo, hi;
        tap_range(kw * w->dil[2] - w->pad0[2], 2, w->in[2], o2, &lo, &hi);
        t->lo[kw] = lo;
        t->hi[kw] = hi;
        for (int v = 0; v < t->nv; v++) {
            const int64_t q = 16 * (int64_t)v, n = o2 - q < 16 ? o2 - q : 16;
            s2_masks(lo, hi, q, n, &t->m0[kw][v], &t->m1[kw][v], &t->om[kw][v]);
        }
    }
    return true;
}

/* One whole output row of column tap kw: im2col_run_s2(dd, src, off, 0, o2, lo, hi, ...) with the masks of t;
 * room: the floats up to the next whole vector past the row may be overwritten (plain stores only). */
static inline void s2_row(const s2_rows *t, int64_t kw, float *dd, const float *src, int64_t off, bool room)
{
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const int nv = t->nv;
    for (int v = 0; v < nv; v++) {
        const float *base = src + (32 * (int64_t)v + off);
        const __m512 v0 = _mm512_maskz_loadu_ps(t->m0[kw][v], base);
        const __m512 v1 = _mm512_maskz_loadu_ps(t->m1[kw][v], base + 16);
        const __m512 r = _mm512_maskz_permutex2var_ps(t->om[kw][v], v0, evens, v1);
        if (v + 1 < nv || room)
            _mm512_storeu_ps(dd + 16 * v, r);
        else
            _mm512_mask_storeu_ps(dd + 16 * v, t->sm, r);
    }
}
#endif

#if defined(__AVX512F__)
/* rows consecutive whole output rows of column tap kw (rows of at most 32 positions: one or two vectors), the
 * masks held in registers across them: s2_row's values, a row per rstride floats of the input from src (the
 * row's first input element), a row per o2 floats of B from dd, plain stores while they stay below limit. */
static inline void s2_rows_short(const s2_rows *t, int64_t kw, float *dd, const float *src, int64_t rstride, int64_t o2,
                                 int64_t rows, const float *limit)
{
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __mmask16 a0 = t->m0[kw][0], a1 = t->m1[kw][0], p0 = t->om[kw][0];
    const __mmask16 b0 = t->m0[kw][1], b1 = t->m1[kw][1], p1 = t->om[kw][1], sm = t->sm;
    if (t->nv == 1) {
        for (int64_t i = 0; i < rows; i++, dd += o2, src += rstride) {
            const __m512 r0 = _mm512_maskz_permutex2var_ps(p0, _mm512_maskz_loadu_ps(a0, src), evens,
                                                           _mm512_maskz_loadu_ps(a1, src + 16));
            if (dd + 16 <= limit)
                _mm512_storeu_ps(dd, r0);
            else
                _mm512_mask_storeu_ps(dd, sm, r0);
        }
        return;
    }
    for (int64_t i = 0; i < rows; i++, dd += o2, src += rstride) {
        const __m512 r0 = _mm512_maskz_permutex2var_ps(p0, _mm512_maskz_loadu_ps(a0, src), evens,
                                                       _mm512_maskz_loadu_ps(a1, src + 16));
        const __m512 r1 = _mm512_maskz_permutex2var_ps(p1, _mm512_maskz_loadu_ps(b0, src + 32), evens,
                                                       _mm512_maskz_loadu_ps(b1, src + 48));
        _mm512_storeu_ps(dd, r0);
        if (dd + 32 <= limit)
            _mm512_storeu_ps(dd + 16, r1);
        else
            _mm512_mask_storeu_ps(dd + 16, sm, r1);
    }
}

/* fill_im2col for 2-D kernels of column stride 2 (what s2_rows_init accepts): the same values, whole output
 * rows through s2_row, the partial rows at a block's ends through im2col_run_s2, per-tap ranges from t. */
static void fill_im2col_s2(const conv_fill *f, const s2_rows *t, int64_t k0, int64_t kcb, int64_t n0, int64_t nc,
                           float *dst, int64_t ldb)
{
    const oc_window *w = f->w;
    const int64_t o2 = w->out[2], in1 = w->in[1], in2 = w->in[2], sh = w->stride[1];
    const int64_t oh0 = n0 / o2, ow0 = n0 % o2, kvol = w->k_vol;
    int64_t ci = k0 / kvol, kh = k0 % kvol / w->k[2], kw = k0 % w->k[2];
    for (int64_t r = 0; r < kcb; r++) {
        if (r > 0 && ++kw == w->k[2]) {
            kw = 0;
            if (++kh == w->k[1]) {
                kh = 0;
                ci++;
            }
        }
        const float *xc = f->x + ci * w->in_vol;
        float *d = dst + r * ldb;
        const float *limit = d + ldb; /* columns past the block's panels are never read */
        const int64_t off_w = kw * w->dil[2] - w->pad0[2], lo = t->lo[kw], hi = t->hi[kw];
        int64_t ih = oh0 * sh - w->pad0[1] + kh * w->dil[1], ow = ow0, j = 0;
        while (j < nc) {
            const int64_t len = o2 - ow < nc - j ? o2 - ow : nc - j;
            float *dd = d + j;
            if (t->nv <= 2 && len == o2 && ih >= 0 && ih < in1) {
                /* the whole rows from here that read input rows */
                int64_t rows = (nc - j) / o2, valid = (in1 - 1 - ih) / sh + 1;
                rows = rows < valid ? rows : valid;
                s2_rows_short(t, kw, dd, xc + ih * in2 + off_w, sh * in2, o2, rows, limit);
                j += rows * o2;
                ih += rows * sh;
                ow = 0;
                continue;
            }
            if (ih < 0 || ih >= in1)
                memset(dd, 0, (size_t)len * sizeof *dd);
            else if (len == o2)
                s2_row(t, kw, dd, xc + ih * in2, off_w, dd + 16 * t->nv <= limit);
            else
                im2col_run_s2(dd, xc + ih * in2, off_w, ow, len, lo, hi, limit);
            j += len;
            ow = 0;
            ih += sh;
        }
        zero_tail(d, nc);
    }
}
#endif

static void fill_im2col(const void *vctx, int64_t k0, int64_t kcb, int64_t n0, int64_t nc, float *dst, int64_t ldb)
{
    const conv_fill *f = vctx;
    const oc_window *w = f->w;
    const int64_t o1 = w->out[1], o2 = w->out[2], sw = w->stride[2];
    const int64_t od0 = n0 / (o1 * o2), oh0 = n0 / o2 % o1, ow0 = n0 % o2;
#if defined(__AVX512F__)
    if (sw == 2 && w->in[0] == 1 && w->k[0] == 1 && w->out[0] == 1) {
        s2_rows s2;
        if (s2_rows_init(&s2, w)) {
            fill_im2col_s2(f, &s2, k0, kcb, n0, nc, dst, ldb);
            return;
        }
    }
#endif
    /* the tap of row k0, then counted on row by row */
    int64_t ci = k0 / w->k_vol, kk0 = k0 % w->k_vol;
    int64_t kd = kk0 / (w->k[1] * w->k[2]), kh = kk0 / w->k[2] % w->k[1], kw = kk0 % w->k[2];
    for (int64_t r = 0; r < kcb; r++) {
        if (r > 0 && ++kw == w->k[2]) {
            kw = 0;
            if (++kh == w->k[1]) {
                kh = 0;
                if (++kd == w->k[0]) {
                    kd = 0;
                    ci++;
                }
            }
        }
        const float *xc = f->x + ci * w->in_vol;
        float *d = dst + r * ldb;
        const int64_t off_w = kw * w->dil[2] - w->pad0[2];
        int64_t lo, hi;
        tap_range(off_w, sw, w->in[2], o2, &lo, &hi);
        int64_t od = od0, oh = oh0, ow = ow0, j = 0;
        while (j < nc) {
            const int64_t len = o2 - ow < nc - j ? o2 - ow : nc - j;
            const int64_t id = od * w->stride[0] - w->pad0[0] + kd * w->dil[0];
            const int64_t ih = oh * w->stride[1] - w->pad0[1] + kh * w->dil[1];
            float *dd = d + j; /* dd[q - ow] is output position ow..ow + len of this row */
            if (id < 0 || id >= w->in[0] || ih < 0 || ih >= w->in[1]) {
                memset(dd, 0, (size_t)len * sizeof *dd);
#if defined(__AVX512F__)
            } else if (sw == 2) {
                im2col_run_s2(dd, xc + (id * w->in[1] + ih) * w->in[2], off_w, ow, len, lo, hi, d + ldb);
#endif
            } else {
                const float *src = xc + (id * w->in[1] + ih) * w->in[2];
                int64_t a = ow > lo ? ow : lo, b = ow + len < hi ? ow + len : hi;
                if (a > b)
                    a = b = ow;
                for (int64_t q = ow; q < a; q++)
                    dd[q - ow] = 0.0f;
                if (sw == 1) {
                    memcpy(dd + (a - ow), src + a + off_w, (size_t)(b - a) * sizeof *dd);
                } else if (sw == 2) {
                    gather_stride2(dd + (a - ow), src + 2 * a + off_w, b - a);
                } else {
                    for (int64_t q = a; q < b; q++)
                        dd[q - ow] = src[q * sw + off_w];
                }
                for (int64_t q = b; q < ow + len; q++)
                    dd[q - ow] = 0.0f;
            }
            j += len;
            ow = 0;
            if (++oh == o1) {
                oh = 0;
                od++;
            }
        }
        zero_tail(d, nc);
    }
}

/* One run's arguments, shared by the work items. */
typedef struct conv_job {
    const conv_plan *p;
    const float *x, *wt, *bias, *res;
    float *y;
    float *work;
    bool clamp;
    float lo, hi;
    int64_t dw_per_item; /* depthwise: planes per item */
    bool in_blocked;     /* pointwise: x is blocked, B is gathered from it */
    const float *gate;   /* pointwise: the fused squeeze-excite gate [N, C], or NULL */
    const float *bn_ab;  /* pointwise: the fused BatchNormalization's a [C] then b [C], or NULL */
    bool bn_clamp;       /* and its clamp to [bn_lo, bn_hi] */
    float bn_lo, bn_hi;
    const oc_kctx *c;    /* its fused activation (fuse_act), applied by each item to the block it wrote */
    float *wino_v;       /* Winograd, shared mode: the transformed input of image / group wino_ng */
    int64_t wino_ng;
} conv_job;

/* The fused activation over rows x cols of the output at y (row stride ld), row r being output channel
 * ch0 + r (for a per-channel PRelu slope), while the item's block is still in cache. Rows that follow each other
 * (small planes) go as one span when the activation is the same for every channel: each element's result is
 * the same (vmath computes elements alone), without a call and a partial vector per row. */
static void conv_act_block(const conv_job *j, int64_t ch0, float *y, int64_t rows, int64_t cols, int64_t ld)
{
    const oc_kctx *c = j->c;
    if (!c || c->fuse_act == OC_ACT_NONE)
        return;
    if (ld == cols && (!c->fuse_slope || c->fuse_slope_n <= 1)) {
        oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, c->fuse_slope ? c->fuse_slope[0] : 0.0f, y,
                    rows * cols);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float slope = !c->fuse_slope ? 0.0f : c->fuse_slope_n > 1 ? c->fuse_slope[ch0 + r] : c->fuse_slope[0];
        oc_act_span(c->fuse_act, c->fuse_alpha, c->fuse_beta, slope, y + r * ld, cols);
    }
}

/* Phase split of one input channel for the implicit GEMM. */
static void conv_phase_item(void *arg, int64_t ci, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t in1 = w->in[1], in2 = w->in[2], pt = w->pad0[1], pl = w->pad0[2];
    const float *src = j->x + ci * w->in_vol;
    float *dst = j->work + ci * p->chan_stride;
    for (int64_t a = 0; a < p->sh; a++) {
        for (int64_t b = 0; b < p->sw; b++) {
            float *plane = dst + (a * p->sw + b) * p->hq * p->wq;
            if (!p->phase_used[a * p->sw + b]) {
                /* no tap reads it, but the masked-off lanes of a used plane's last tile may read up to 15
                 * floats on: keep those finite */
                memset(plane, 0, (size_t)(p->hq * p->wq < OC_GEMM_NR ? p->hq * p->wq : OC_GEMM_NR) * sizeof *plane);
                continue;
            }
            /* columns c' whose input column c' * sw + b - pl lies in [0, in2) */
            int64_t lo = b >= pl ? 0 : ceil_div(pl - b, p->sw);
            int64_t hi = in2 - 1 + pl - b < 0 ? 0 : (in2 - 1 + pl - b) / p->sw + 1;
            if (hi > p->wq)
                hi = p->wq;
            if (lo > hi)
                lo = hi;
            for (int64_t r = 0; r < p->hq; r++) {
                float *row = plane + r * p->wq;
                const int64_t ih = r * p->sh + a - pt;
                if (ih < 0 || ih >= in1) {
                    memset(row, 0, (size_t)p->wq * sizeof *row);
                    continue;
                }
                const float *sr = src + ih * in2 + (lo * p->sw + b - pl);
                memset(row, 0, (size_t)lo * sizeof *row);
                if (p->sw == 1) {
                    memcpy(row + lo, sr, (size_t)(hi - lo) * sizeof *row);
                } else if (p->sw == 2) {
#if defined(__AVX512F__)
                    im2col_run_s2(row + lo, sr, 0, 0, hi - lo, 0, hi - lo, row + hi);
#else
                    for (int64_t i = 0; i < hi - lo; i++) /* a constant stride GCC vectorises */
                        row[lo + i] = sr[2 * i];
#endif
                } else {
                    for (int64_t i = 0; i < hi - lo; i++)
                        row[lo + i] = sr[i * p->sw];
                }
                memset(row + hi, 0, (size_t)(p->wq - hi) * sizeof *row);
            }
        }
    }
}

/* A GEMM work item's place: its column chunk (or block of output rows), its outer index (group, or image x
 * groups + group) and its output channels [m0, m1) of the group. Items count channel blocks fastest. */
typedef struct item_pos {
    int64_t chunk, outer, m0, m1;
} item_pos;

static item_pos conv_item_pos(const conv_plan *p, int64_t item)
{
    item_pos r;
    const int64_t mb = item % p->n_mblocks;
    item /= p->n_mblocks;
    r.chunk = item % p->n_chunks;
    r.outer = item / p->n_chunks;
    r.m0 = mb * p->mc;
    r.m1 = r.m0 + p->mc < p->mg ? r.m0 + p->mc : p->mg;
    return r;
}

/* One block of output rows x output channels of the implicit GEMM: tiles of up to 16 positions of one output
 * row (the last one masked) and up to 6 channels, written to the output with their epilogue. */
static void conv_implicit_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const item_pos ip = conv_item_pos(p, item);
    const int64_t chunk = ip.chunk, g = ip.outer, m0 = ip.m0, m1 = ip.m1;
    const int64_t oh0 = chunk * p->nc, oh1 = oh0 + p->nc < w->out[1] ? oh0 + p->nc : w->out[1];
    const int64_t wo = w->out[2], wq = p->wq, ov = w->out_vol;
    const oc_packed_a *a = &p->packed[g];
    const float *xg = j->work + g * p->cg * p->chan_stride;
    const float *bias = j->bias ? j->bias + g * p->mg : NULL;
    float *yg = j->y + g * p->mg * ov;
    const float *rg = j->res ? j->res + g * p->mg * ov : NULL;
    for (int64_t blk = 0; blk < a->nkb; blk++) {
        const int64_t k0 = blk * a->kc, kcb = a->k - k0 < a->kc ? a->k - k0 : a->kc;
        const bool first = blk == 0, last = blk == a->nkb - 1;
        const float *ab = a->data + k0 * a->mp * OC_GEMM_MR;
        for (int64_t oh = oh0; oh < oh1; oh++) {
            for (int64_t ow = 0; ow < wo; ow += OC_GEMM_NR) {
                const int cols = (int)(wo - ow < OC_GEMM_NR ? wo - ow : OC_GEMM_NR);
                const float *bp = xg + oh * wq + ow;
                const int64_t off = oh * wo + ow;
                oc_gemm_rows_koff(kcb, ab, m0, m1, bp, p->koff + k0, yg + off, ov, cols, first, last, bias,
                                  rg ? rg + off : NULL, ov, j->clamp, j->lo, j->hi);
            }
        }
    }
    conv_act_block(j, g * p->mg + m0, yg + m0 * ov + oh0 * wo, m1 - m0, (oh1 - oh0) * wo, ov);
}

static void conv_wino_item(void *arg, int64_t item, int slot)
{
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t per = oc_wino_items(&p->wino[0]);
    /* shared mode: the items of one image and group (j->wino_ng) */
    const int64_t ng = j->wino_v ? j->wino_ng : item / per, it = j->wino_v ? item : item % per;
    const int64_t g = ng % p->group, n = ng / p->group;
    const int64_t yoff = (n * p->m + g * p->mg) * w->out_vol;
    oc_wino_item(&p->wino[g], it, j->x + (n * p->c_in + g * p->cg) * w->in_vol, j->y + yoff,
                 j->bias ? j->bias + g * p->mg : NULL, j->res ? j->res + yoff : NULL, j->clamp, j->lo, j->hi,
                 j->work + (int64_t)slot * p->wino[0].work_floats, j->wino_v);
}

/* Winograd, shared mode: input transform item of image / group j->wino_ng. */
static void conv_wino_input_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const int64_t g = j->wino_ng % p->group, n = j->wino_ng / p->group;
    oc_wino_input_item(&p->wino[g], item, j->x + (n * p->c_in + g * p->cg) * p->w.in_vol, j->wino_v);
}

/* Subsampled 1 x 1: the pointwise product of one image over the compact phase plane (0, 0). */
static void conv_subsample_item(void *arg, int64_t item, int slot)
{
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const item_pos ip = conv_item_pos(p, item);
    const int64_t chunk = ip.chunk, g = ip.outer, m0 = ip.m0, m1 = ip.m1;
    conv_fill f = {w, j->work + g * p->cg * p->chan_stride, p->chan_stride, NULL, NULL, NULL, false, 0.0f, 0.0f};
    const int64_t yoff = g * p->mg * w->out_vol;
    oc_epilogue ep = {j->bias ? j->bias + g * p->mg : NULL, j->res ? j->res + yoff : NULL, w->out_vol, j->clamp,
                      j->lo, j->hi};
    const int64_t n0 = chunk * p->nc, n1 = n0 + p->nc < w->out_vol ? n0 + p->nc : w->out_vol;
    oc_gemm_packed_mc(&p->packed[g], m0, m1, p->mc_fill, n0, n1, fill_pointwise, &f, j->y + yoff, w->out_vol, &ep,
                      j->work + p->xph_floats + (int64_t)slot * p->work_floats);
    conv_act_block(j, g * p->mg + m0, j->y + yoff + m0 * w->out_vol + n0, m1 - m0, n1 - n0, w->out_vol);
}

/* Gather rows of the compact B (item: a block of 64 rows of one group's depth x groups) from the phase copy:
 * row k holds, for every output position in order, the value tap k sees; zeros up to a whole panel. */
static void conv_gather_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t depth = p->cg * w->k_vol, wo = w->out[2], wq = p->wq, nv = w->out_vol;
    const int64_t per = 64, blocks = ceil_div(depth, per);
    const int64_t g = item / blocks, k0 = item % blocks * per, k1 = k0 + per < depth ? k0 + per : depth;
    const float *xg = j->work + g * p->cg * p->chan_stride;
    float *cb = j->work + (p->xph_floats - p->cbuf_floats) + g * depth * p->ldcb;
    const int64_t pad_end = ceil_div(nv, OC_GEMM_NR) * OC_GEMM_NR;
    for (int64_t k = k0; k < k1; k++) {
        const float *src = xg + p->koff[k];
        float *dst = cb + k * p->ldcb;
        int64_t oh = 0;
#if defined(__AVX512F__)
        /* rows narrower than a vector: one whole-vector copy a row, each overwriting the start of the next
         * row, which is copied after it, while the vector ends inside this B row (its floats past nv are zeroed
         * below or never read); the phase copy is readable 16 floats past every row a tap reads */
        for (; oh < w->out[1] && oh * wo + 16 <= p->ldcb; oh++)
            _mm512_storeu_ps(dst + oh * wo, _mm512_loadu_ps(src + oh * wq));
#endif
        for (; oh < w->out[1]; oh++)
            for (int64_t ow = 0; ow < wo; ow++)
                dst[oh * wo + ow] = src[oh * wq + ow];
        for (int64_t q = nv; q < pad_end; q++)
            dst[q] = 0.0f;
    }
}

/* Tiles of 16 output positions x 6 channels over the gathered B, written with their epilogue. */
static void conv_compact_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const item_pos ip = conv_item_pos(p, item);
    const int64_t chunk = ip.chunk, g = ip.outer, m0 = ip.m0, m1 = ip.m1;
    const int64_t ov = w->out_vol, depth = p->cg * w->k_vol;
    const int64_t n0 = chunk * p->nc, n1 = n0 + p->nc < ov ? n0 + p->nc : ov;
    const oc_packed_a *a = &p->packed[g];
    const float *cb = j->work + (p->xph_floats - p->cbuf_floats) + g * depth * p->ldcb;
    const float *bias = j->bias ? j->bias + g * p->mg : NULL;
    float *yg = j->y + g * p->mg * ov;
    const float *rg = j->res ? j->res + g * p->mg * ov : NULL;
    for (int64_t blk = 0; blk < a->nkb; blk++) {
        const int64_t k0 = blk * a->kc, kcb = a->k - k0 < a->kc ? a->k - k0 : a->kc;
        const bool first = blk == 0, last = blk == a->nkb - 1;
        const float *ab = a->data + k0 * a->mp * OC_GEMM_MR;
        for (int64_t jp = n0; jp < n1; jp += OC_GEMM_NR) {
            const int cols = (int)(n1 - jp < OC_GEMM_NR ? n1 - jp : OC_GEMM_NR);
            oc_gemm_rows_koff(kcb, ab, m0, m1, cb + jp, p->koff_c + k0, yg + jp, ov, cols, first, last, bias,
                              rg ? rg + jp : NULL, ov, j->clamp, j->lo, j->hi);
        }
    }
    conv_act_block(j, g * p->mg + m0, yg + m0 * ov + n0, m1 - m0, n1 - n0, ov);
}

static void conv_gemm_item(void *arg, int64_t item, int slot)
{
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const item_pos ip = conv_item_pos(p, item);
    const int64_t chunk = ip.chunk, g = ip.outer % p->group, n = ip.outer / p->group, m0 = ip.m0, m1 = ip.m1;
    conv_fill f = {w, j->x + (n * p->c_in + g * p->cg) * w->in_vol, w->in_vol,
                   j->gate ? j->gate + n * p->c_in + g * p->cg : NULL, NULL, NULL, false, 0.0f, 0.0f};
    if (j->bn_ab) {
        f.bn_a = j->bn_ab + g * p->cg;
        f.bn_b = j->bn_ab + p->c_in + g * p->cg;
        f.bn_clamp = j->bn_clamp;
        f.bn_lo = j->bn_lo;
        f.bn_hi = j->bn_hi;
    }
    const int64_t yoff = (n * p->m + g * p->mg) * w->out_vol;
    oc_epilogue ep = {j->bias ? j->bias + g * p->mg : NULL, j->res ? j->res + yoff : NULL, w->out_vol, j->clamp,
                      j->lo, j->hi};
    const int64_t n0 = chunk * p->nc, n1 = n0 + p->nc < w->out_vol ? n0 + p->nc : w->out_vol;
    oc_bfill_fn fill = p->algo != CONV_POINTWISE ? fill_im2col
                       : f.gate                  ? fill_pointwise_gated
                       : f.bn_a                  ? fill_pointwise_bn
                                                 : fill_pointwise;
#ifdef OC_BLK_KERNELS
    if (j->in_blocked)
        fill = fill_blocked;
#endif
    oc_gemm_packed_mc(&p->packed[g], m0, m1, p->mc_fill, n0, n1, fill, &f, j->y + yoff, w->out_vol, &ep,
                      j->work + (int64_t)slot * p->work_floats);
    conv_act_block(j, g * p->mg + m0, j->y + yoff + m0 * w->out_vol + n0, m1 - m0, n1 - n0, w->out_vol);
}

#ifdef __FMA__
#define MADD(a, b, c) fmaf(a, b, c)
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* Copy input plane xp into the padded, phase-split buffer buf (zeros around it). */
static void dw_pad_plane(const conv_plan *p, const float *xp, float *buf)
{
    const oc_window *w = &p->w;
    const int64_t s = w->stride[2], phase = p->dw_phase_len, in2 = w->in[2], pl = w->pad0[2];
    for (int64_t r = 0; r < p->dw_rows; r++) {
        float *row = buf + r * p->dw_row_len;
        const int64_t ih = r - w->pad0[1];
        if (ih < 0 || ih >= w->in[1]) {
            memset(row, 0, (size_t)p->dw_row_len * sizeof *row);
            continue;
        }
        const float *src = xp + ih * in2;
        if (s == 1) {
            memset(row, 0, (size_t)pl * sizeof *row);
            memcpy(row + pl, src, (size_t)in2 * sizeof *row);
            memset(row + pl + in2, 0, (size_t)(phase - pl - in2) * sizeof *row);
            continue;
        }
        for (int64_t q = 0; q < s; q++) {
            /* phase q holds padded positions idx * s + q, input element idx * s + q - pl: those in [lo, hi) */
            float *dst = row + q * phase;
            const int64_t lo = p->dw_lo[q], hi = p->dw_hi[q];
            for (int64_t idx = 0; idx < lo; idx++)
                dst[idx] = 0.0f;
            const float *sq = src + (lo * s + q - pl);
            if (s == 2) {
                for (int64_t idx = 0; idx < hi - lo; idx++) /* a constant stride GCC vectorises */
                    dst[lo + idx] = sq[2 * idx];
            } else {
                for (int64_t idx = 0; idx < hi - lo; idx++)
                    dst[lo + idx] = sq[idx * s];
            }
            for (int64_t idx = hi; idx < phase; idx++)
                dst[idx] = 0.0f;
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* 32 outputs of one row (all inside it) of a kernel larger than 3 x 3: each tap's weight broadcast once for
 * four vectors, the taps summed in order from the bias as the one-vector loop does (the same results). */
static inline void dw_taps_x4(const float *b, const float *wt, const int64_t *off, int64_t ntaps, __m256 vb,
                              float *yr, const float *rr, bool clamp, __m256 vlo, __m256 vhi)
{
    __m256 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
    for (int64_t t = 0; t < ntaps; t++) {
        const __m256 wv = _mm256_broadcast_ss(wt + t);
        const float *q = b + off[t];
        a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q), a0);
        a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 8), a1);
        a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 16), a2);
        a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 24), a3);
    }
    if (rr) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(rr));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(rr + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(rr + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(rr + 24));
    }
    if (clamp) {
        a0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a0));
        a1 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a1));
        a2 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a2));
        a3 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a3));
    }
    _mm256_storeu_ps(yr, a0);
    _mm256_storeu_ps(yr + 8, a1);
    _mm256_storeu_ps(yr + 16, a2);
    _mm256_storeu_ps(yr + 24, a3);
}

/* The last nv (1 to 4) vectors of a row, the last of them possibly partial, from output column i of row oh:
 * as dw_taps_x4 (taps summed in order from the bias), one FMA chain per vector; stores as the one-vector loop
 * makes them (a whole vector past the row end unless it passes the plane's end, see dw3x3_strip). */
static inline __attribute__((always_inline)) void dw_taps_tail(const float *b, const float *wt, const int64_t *off,
                                                               int64_t ntaps, __m256 vb, int nv, int64_t oh,
                                                               int64_t o1, int64_t o2, int64_t i, float *yr,
                                                               const float *rr, bool clamp, __m256 vlo, __m256 vhi,
                                                               __m256i tail)
{
    __m256 a[4] = {vb, vb, vb, vb};
    for (int64_t t = 0; t < ntaps; t++) {
        const __m256 wv = _mm256_broadcast_ss(wt + t);
        const float *q = b + off[t];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            a[v] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 8 * v), a[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        __m256 acc = a[v];
        const bool whole = oh * o2 + i + 8 * v + 8 <= o1 * o2;
        if (rr)
            acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(rr + 8 * v) : _mm256_maskload_ps(rr + 8 * v, tail));
        if (clamp)
            acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
        if (whole)
            _mm256_storeu_ps(yr + 8 * v, acc);
        else
            oc_maskstore8(yr + 8 * v, tail, acc);
    }
}

/* All output rows of one padded plane, 8 outputs per vector; tap t of output row oh, outputs i.. reads
 * buf + oh * row_step + off[t] + i. The 3 x 3 case keeps its nine weights in registers. */
static void dw_plane_avx2(const conv_plan *p, const float *buf, const float *wt, float bias, float *yp,
                          const float *rp, bool clamp, float lo, float hi)
{
    const oc_window *w = &p->w;
    const int64_t o1 = w->out[1], o2 = w->out[2], s = w->stride[2], phase = p->dw_phase_len;
    const int64_t ntaps = w->k[1] * w->k[2], row_step = w->stride[1] * p->dw_row_len;
    int64_t off[64];
    if (ntaps > 64)
        return;
    for (int64_t kh = 0; kh < w->k[1]; kh++)
        for (int64_t kw = 0; kw < w->k[2]; kw++) {
            const int64_t tw = kw * w->dil[2];
            off[kh * w->k[2] + kw] = kh * w->dil[1] * p->dw_row_len + (tw % s) * phase + tw / s;
        }
    const __m256 vb = _mm256_set1_ps(bias), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const int64_t rem = o2 % 8;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if (w->k[1] == 3 && w->k[2] == 3) {
        /* 3 x 3: three row pointers and three tap offsets in registers, nine weights in registers */
        const __m256 w00 = _mm256_broadcast_ss(wt + 0), w01 = _mm256_broadcast_ss(wt + 1), w02 = _mm256_broadcast_ss(wt + 2);
        const __m256 w10 = _mm256_broadcast_ss(wt + 3), w11 = _mm256_broadcast_ss(wt + 4), w12 = _mm256_broadcast_ss(wt + 5);
        const __m256 w20 = _mm256_broadcast_ss(wt + 6), w21 = _mm256_broadcast_ss(wt + 7), w22 = _mm256_broadcast_ss(wt + 8);
        const int64_t d = w->dil[2], o0 = 0, o1t = (d % s) * phase + d / s, o2t = (2 * d % s) * phase + 2 * d / s;
        const int64_t rstep = w->dil[1] * p->dw_row_len;
        for (int64_t oh = 0; oh < o1; oh++) {
            const float *r0 = buf + oh * row_step, *r1 = r0 + rstep, *r2 = r1 + rstep;
            float *yr = yp + oh * o2;
            const float *rr = rp ? rp + oh * o2 : NULL;
            for (int64_t i = 0; i < o2; i += 8) {
                __m256 a0 = _mm256_mul_ps(w00, _mm256_loadu_ps(r0 + o0 + i));
                __m256 a1 = _mm256_mul_ps(w10, _mm256_loadu_ps(r1 + o0 + i));
                __m256 a2 = _mm256_fmadd_ps(w20, _mm256_loadu_ps(r2 + o0 + i), vb);
                a0 = _mm256_fmadd_ps(w01, _mm256_loadu_ps(r0 + o1t + i), a0);
                a1 = _mm256_fmadd_ps(w11, _mm256_loadu_ps(r1 + o1t + i), a1);
                a2 = _mm256_fmadd_ps(w21, _mm256_loadu_ps(r2 + o1t + i), a2);
                a0 = _mm256_fmadd_ps(w02, _mm256_loadu_ps(r0 + o2t + i), a0);
                a1 = _mm256_fmadd_ps(w12, _mm256_loadu_ps(r1 + o2t + i), a1);
                a2 = _mm256_fmadd_ps(w22, _mm256_loadu_ps(r2 + o2t + i), a2);
                __m256 acc = _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
                const bool whole = oh * o2 + i + 8 <= o1 * o2; /* past the row end: see dw3x3_strip */
                if (rr)
                    acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(rr + i) : _mm256_maskload_ps(rr + i, tail));
                if (clamp)
                    acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
                if (whole)
                    _mm256_storeu_ps(yr + i, acc);
                else
                    oc_maskstore8(yr + i, tail, acc);
            }
        }
        return;
    }
    __m256 wv9[9];
    if (ntaps == 9)
        for (int t = 0; t < 9; t++)
            wv9[t] = _mm256_broadcast_ss(wt + t);
    for (int64_t oh = 0; oh < o1; oh++) {
        const float *base = buf + oh * row_step;
        float *yr = yp + oh * o2;
        const float *rr = rp ? rp + oh * o2 : NULL;
        if (ntaps != 9 && o2 < 32 && oh + 4 <= o1) {
            /* narrow planes (7 x 7, 14 x 14): four rows at once, for four independent FMA chains */
            for (int64_t i = 0; i < o2; i += 8) {
                __m256 a[4] = {vb, vb, vb, vb};
                for (int64_t t = 0; t < ntaps; t++) {
                    const __m256 wv = _mm256_broadcast_ss(wt + t);
                    const float *q = base + off[t] + i;
                    a[0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q), a[0]);
                    a[1] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + row_step), a[1]);
                    a[2] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 2 * row_step), a[2]);
                    a[3] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(q + 3 * row_step), a[3]);
                }
                for (int r = 0; r < 4; r++) {
                    __m256 acc = a[r];
                    const bool whole = (oh + r) * o2 + i + 8 <= o1 * o2;
                    if (rr)
                        acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(rr + r * o2 + i)
                                                       : _mm256_maskload_ps(rr + r * o2 + i, tail));
                    if (clamp)
                        acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
                    if (whole && i + 8 <= o2)
                        _mm256_storeu_ps(yr + r * o2 + i, acc);
                    else
                        oc_maskstore8(yr + r * o2 + i, tail, acc);
                }
            }
            oh += 3;
            continue;
        }
        for (int64_t i = 0; i < o2; i += 8) {
            __m256 acc = vb;
            if (ntaps == 9) {
                const float *b = base + i;
                acc = _mm256_fmadd_ps(wv9[0], _mm256_loadu_ps(b + off[0]), acc);
                acc = _mm256_fmadd_ps(wv9[1], _mm256_loadu_ps(b + off[1]), acc);
                acc = _mm256_fmadd_ps(wv9[2], _mm256_loadu_ps(b + off[2]), acc);
                acc = _mm256_fmadd_ps(wv9[3], _mm256_loadu_ps(b + off[3]), acc);
                acc = _mm256_fmadd_ps(wv9[4], _mm256_loadu_ps(b + off[4]), acc);
                acc = _mm256_fmadd_ps(wv9[5], _mm256_loadu_ps(b + off[5]), acc);
                acc = _mm256_fmadd_ps(wv9[6], _mm256_loadu_ps(b + off[6]), acc);
                acc = _mm256_fmadd_ps(wv9[7], _mm256_loadu_ps(b + off[7]), acc);
                acc = _mm256_fmadd_ps(wv9[8], _mm256_loadu_ps(b + off[8]), acc);
            } else {
                /* up to 4 vectors at once, the row's last ones too (independent FMA chains hide the
                 * latency; one chain per vector would leave the 24 outputs past the last whole 32 of a
                 * 56-wide row taking as long as the 32 before them) */
                const int nv = o2 - i >= 32 ? 4 : (int)((o2 - i + 7) / 8);
                switch (o2 - i >= 32 ? 0 : nv) {
                case 0: /* 32 outputs inside the row */
                    dw_taps_x4(base + i, wt, off, ntaps, vb, yr + i, rr ? rr + i : NULL, clamp, vlo, vhi);
                    break;
                case 4:
                    dw_taps_tail(base + i, wt, off, ntaps, vb, 4, oh, o1, o2, i, yr + i, rr ? rr + i : NULL, clamp,
                                 vlo, vhi, tail);
                    break;
                case 3:
                    dw_taps_tail(base + i, wt, off, ntaps, vb, 3, oh, o1, o2, i, yr + i, rr ? rr + i : NULL, clamp,
                                 vlo, vhi, tail);
                    break;
                case 2:
                    dw_taps_tail(base + i, wt, off, ntaps, vb, 2, oh, o1, o2, i, yr + i, rr ? rr + i : NULL, clamp,
                                 vlo, vhi, tail);
                    break;
                default:
                    dw_taps_tail(base + i, wt, off, ntaps, vb, 1, oh, o1, o2, i, yr + i, rr ? rr + i : NULL, clamp,
                                 vlo, vhi, tail);
                }
                i += 8 * nv - 8;
                continue;
            }
            const bool whole = oh * o2 + i + 8 <= o1 * o2;
            if (rr)
                acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(rr + i) : _mm256_maskload_ps(rr + i, tail));
            if (clamp) /* max(lo, x), min(hi, x) keep a NaN x, as Relu and Clip do */
                acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
            if (whole)
                _mm256_storeu_ps(yr + i, acc);
            else
                oc_maskstore8(yr + i, tail, acc);
        }
    }
}

#if !(defined(__AVX512F__) && defined(__FMA__) && defined(__AVX512VL__)) /* else dwconv3.c's kernels */
/* Lanes of eight columns from c that lie in [0, n). */
static inline __m256i cols_in_row(int64_t c, int64_t n)
{
    const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx));
}

/* One kernel row's three taps for 8 outputs: stride 1 reads columns c.. c + 9, stride 2 columns c.. c + 17,
 * deinterleaved in registers within 128-bit lanes (one shuffle a tap), which leaves the 8 outputs in the order
 * 0 1 4 5 2 3 6 7: the strip puts them back once at the end. LOAD(r, c, mask). */
#define DW3_ROW(ACC, S, LOAD, W0, W1, W2)                                                                   \
    do {                                                                                                    \
        if ((S) == 1) {                                                                                     \
            ACC = _mm256_fmadd_ps(W0, LOAD(xr + c, m0), ACC);                                               \
            ACC = _mm256_fmadd_ps(W1, LOAD(xr + c + 1, m1), ACC);                                           \
            ACC = _mm256_fmadd_ps(W2, LOAD(xr + c + 2, m2), ACC);                                           \
        } else {                                                                                            \
            const __m256 a = LOAD(xr + c, m0), b = LOAD(xr + c + 8, m1);                                    \
            const __m256 a2 = LOAD(xr + c + 2, m2), b2 = LOAD(xr + c + 10, m3);                             \
            ACC = _mm256_fmadd_ps(W0, _mm256_shuffle_ps(a, b, 0x88), ACC);                                  \
            ACC = _mm256_fmadd_ps(W1, _mm256_shuffle_ps(a, b, 0xDD), ACC);                                  \
            ACC = _mm256_fmadd_ps(W2, _mm256_shuffle_ps(a2, b2, 0x88), ACC);                                \
        }                                                                                                   \
    } while (0)
#define DW3_PLAIN(ptr, m) _mm256_loadu_ps(ptr)
/* masked lanes are not read, so the address may lie before the row */
#define DW3_EDGE(ptr, m) _mm256_maskload_ps(ptr, m)

/* One strip of 8 outputs (from ow) of one output row oh. */
static inline void dw3x3_strip(const oc_window *w, const float *xp, const __m256 *wv, float bias, float *yp,
                               const float *rp, bool clamp, float lo, float hi, int64_t oh, int64_t ow,
                               bool inside, const __m256i *m)
{
    const int64_t in1 = w->in[1], in2 = w->in[2], o2 = w->out[2];
    const int64_t s = w->stride[2], c = ow * s - w->pad0[2];
    const int64_t ih0 = oh * w->stride[1] - w->pad0[1];
    const __m256i m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
    /* one accumulator per kernel row: three independent FMA chains */
    __m256 acc = _mm256_set1_ps(bias), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
    const float *xr;
    if (inside) {
        /* the strip reads inside the row: plain loads */
        if (ih0 >= 0 && ih0 < in1 && (xr = xp + ih0 * in2))
            DW3_ROW(acc, s, DW3_PLAIN, wv[0], wv[1], wv[2]);
        if (ih0 + 1 >= 0 && ih0 + 1 < in1 && (xr = xp + (ih0 + 1) * in2))
            DW3_ROW(acc1, s, DW3_PLAIN, wv[3], wv[4], wv[5]);
        if (ih0 + 2 >= 0 && ih0 + 2 < in1 && (xr = xp + (ih0 + 2) * in2))
            DW3_ROW(acc2, s, DW3_PLAIN, wv[6], wv[7], wv[8]);
    } else {
        if (ih0 >= 0 && ih0 < in1 && (xr = xp + ih0 * in2))
            DW3_ROW(acc, s, DW3_EDGE, wv[0], wv[1], wv[2]);
        if (ih0 + 1 >= 0 && ih0 + 1 < in1 && (xr = xp + (ih0 + 1) * in2))
            DW3_ROW(acc1, s, DW3_EDGE, wv[3], wv[4], wv[5]);
        if (ih0 + 2 >= 0 && ih0 + 2 < in1 && (xr = xp + (ih0 + 2) * in2))
            DW3_ROW(acc2, s, DW3_EDGE, wv[6], wv[7], wv[8]);
    }
    acc = _mm256_add_ps(_mm256_add_ps(acc, acc1), acc2);
    if (s == 2) /* the stride-2 taps were deinterleaved within 128-bit lanes only: 64-bit pairs 0 2 1 3 */
        acc = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), 0xD8));
    /* a strip that passes its row end stores a whole vector into the next row unless that passes the plane's
     * end: the callers' order makes the next row's own stores come later and overwrite those lanes (a masked
     * store costs several times a plain one on AMD cores) */
    const bool whole = oh * o2 + ow + 8 <= w->out[1] * o2;
    float *yr = yp + oh * o2 + ow;
    if (rp) {
        const float *rr = rp + oh * o2 + ow;
        acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(rr) : _mm256_maskload_ps(rr, m[5]));
    }
    if (clamp) /* max(lo, x), min(hi, x) keep a NaN x, as Relu and Clip do */
        acc = _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), acc));
    if (whole)
        _mm256_storeu_ps(yr, acc);
    else
        oc_maskstore8(yr, m[5], acc);
}

/* Whether every load of the strip from ow lies inside the row. */
static inline bool dw3x3_inside(const oc_window *w, int64_t ow)
{
    const int64_t c = ow * w->stride[2] - w->pad0[2];
    return c >= 0 && c + (w->stride[2] == 1 ? 10 : 18) <= w->in[2];
}

/* Masks of the strip from ow: m[0..3] the lanes of its loads that lie in the row, m[5] the lanes of its
 * outputs (m[4] unused). */
static inline void dw3x3_masks(const oc_window *w, int64_t ow, __m256i *m)
{
    const int64_t in2 = w->in[2], s = w->stride[2], c = ow * s - w->pad0[2];
    if (s == 1) {
        m[0] = cols_in_row(c, in2);
        m[1] = cols_in_row(c + 1, in2);
        m[2] = cols_in_row(c + 2, in2);
        m[3] = m[2];
    } else {
        m[0] = cols_in_row(c, in2);
        m[1] = cols_in_row(c + 8, in2);
        m[2] = cols_in_row(c + 2, in2);
        m[3] = cols_in_row(c + 10, in2);
    }
    m[4] = m[0];
    m[5] = cols_in_row(ow, w->out[2]);
}

/* 3 x 3 depthwise, stride 1 or 2, no dilation, straight from the input plane: strips of 8 outputs, rows in the
 * padding skipped, columns in it read as zeros through masked loads (only in the strips at the row ends),
 * stride-2 taps deinterleaved in registers. Narrow planes go strip by strip (masks made once per strip), wide
 * ones row by row (in memory order). */
static void dw3x3_plane_avx2(const oc_window *w, const float *xp, const float *wt, float bias, float *yp,
                             const float *rp, bool clamp, float lo, float hi)
{
    const int64_t o1 = w->out[1], o2 = w->out[2];
    __m256 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm256_broadcast_ss(wt + t);
    __m256i m[6];
    if (o2 <= 16) {
        /* strips right to left, so that stores past a row's end are overwritten by the next row's own */
        for (int64_t ow = (o2 - 1) / 8 * 8; ow >= 0; ow -= 8) {
            dw3x3_masks(w, ow, m);
            const bool inside = dw3x3_inside(w, ow);
            for (int64_t oh = 0; oh < o1; oh++)
                dw3x3_strip(w, xp, wv, bias, yp, rp, clamp, lo, hi, oh, ow, inside, m);
        }
        return;
    }
    /* the strips at the row ends need masks; the masks of the first and the last strip serve every row */
    __m256i mf[6], ml[6];
    const int64_t last = (o2 - 1) / 8 * 8;
    dw3x3_masks(w, 0, mf);
    dw3x3_masks(w, last, ml);
    for (int64_t oh = 0; oh < o1; oh++) {
        for (int64_t ow = 0; ow < o2; ow += 8) {
            const bool inside = dw3x3_inside(w, ow) && ow + 8 <= o2;
            if (inside || ow == 0 || ow == last) {
                dw3x3_strip(w, xp, wv, bias, yp, rp, clamp, lo, hi, oh, ow, inside, ow == 0 ? mf : ml);
            } else {
                dw3x3_masks(w, ow, m);
                dw3x3_strip(w, xp, wv, bias, yp, rp, clamp, lo, hi, oh, ow, false, m);
            }
        }
    }
}

#endif

static bool dw3x3_direct_ok(const oc_window *w)
{
    return w->k[0] == 1 && w->in[0] == 1 && w->out[0] == 1 && w->k[1] == 3 && w->k[2] == 3 && w->dil[1] == 1 &&
           w->dil[2] == 1 && (w->stride[2] == 1 || w->stride[2] == 2) && w->stride[1] <= 2 && w->in[2] < (1 << 30) - 64;
}

typedef void (*dw3_plane_fn)(const oc_window *w, const float *xp, const float *wt, float bias, float *yp,
                             const float *rp, bool clamp, float lo, float hi);

/* The planes of one item of a 3 x 3 depthwise job through one of the plane kernels, then the epilogue. */
static inline __attribute__((always_inline)) void conv_dw3_planes(const conv_job *j, int64_t item,
                                                                   dw3_plane_fn plane)
{
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t planes = p->n * p->m;
    const int64_t pm_end = (item + 1) * j->dw_per_item < planes ? (item + 1) * j->dw_per_item : planes;
    for (int64_t pm = item * j->dw_per_item; pm < pm_end; pm++) {
        const int64_t n = pm / p->m, m = pm % p->m, ci = m / p->mg;
        plane(w, j->x + (n * p->c_in + ci) * w->in_vol, j->wt + m * 9, j->bias ? j->bias[m] : 0.0f,
              j->y + pm * w->out_vol, j->res ? j->res + pm * w->out_vol : NULL, j->clamp, j->lo, j->hi);
        conv_act_block(j, m, j->y + pm * w->out_vol, 1, w->out_vol, w->out_vol);
    }
}

static void conv_dw3x3_item(void *arg, int64_t item, int slot)
{
    (void)slot;
#if defined(__AVX512F__) && defined(__FMA__) && defined(__AVX512VL__)
    conv_dw3_planes(arg, item, oc_dw3_plane16);
#elif defined(__AVX512F__) && defined(__FMA__)
    /* rows of at most 8 outputs fill one 8-lane vector: 16 lanes would only double the multiply-adds */
    const conv_job *j = arg;
    if (j->p->w.out[2] > 8)
        conv_dw3_planes(j, item, oc_dw3_plane16);
    else
        conv_dw3_planes(j, item, dw3x3_plane_avx2);
#else
    conv_dw3_planes(arg, item, dw3x3_plane_avx2);
#endif
}

#if !(defined(__AVX512F__) && defined(__FMA__)) /* AVX-512 builds: oc_dw3s1_plane16 */

/* The sum and epilogue of one vector of dw3s1_row from its nine inputs (the padded kernel's order). */
static inline __attribute__((always_inline)) void dw3s1_out(const __m256 *wv, __m256 vb, __m256 x00, __m256 x01,
                                                            __m256 x02, __m256 x10, __m256 x11, __m256 x12,
                                                            __m256 x20, __m256 x21, __m256 x22, bool whole,
                                                            float *y, const float *r, bool clamp, __m256 vlo,
                                                            __m256 vhi, __m256i tail)
{
    __m256 a0 = _mm256_mul_ps(wv[0], x00);
    __m256 a1 = _mm256_mul_ps(wv[3], x10);
    __m256 a2 = _mm256_fmadd_ps(wv[6], x20, vb);
    a0 = _mm256_fmadd_ps(wv[1], x01, a0);
    a1 = _mm256_fmadd_ps(wv[4], x11, a1);
    a2 = _mm256_fmadd_ps(wv[7], x21, a2);
    a0 = _mm256_fmadd_ps(wv[2], x02, a0);
    a1 = _mm256_fmadd_ps(wv[5], x12, a1);
    a2 = _mm256_fmadd_ps(wv[8], x22, a2);
    __m256 acc = _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
    if (r)
        acc = _mm256_add_ps(acc, whole ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, tail));
    if (clamp)
        acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
    if (whole)
        _mm256_storeu_ps(y, acc);
    else
        oc_maskstore8(y, tail, acc);
}

/* One output row of a 3 x 3 stride-1 depthwise straight from the input plane, with the operations of the
 * padded kernel (dw_plane_avx2's 3 x 3 case: per kernel row a chain, the bias in the third, summed
 * (0 + 1) + 2), a padding row read as a zero vector and padding columns as the zero lanes of masked loads
 * (only in the strips at the row ends), so the same bits without the padded copy. H0 / H2: kernel rows 0 / 2
 * fall inside the plane (row 1 always does: a missing middle row takes the padded kernel). */
static inline __attribute__((always_inline)) void dw3s1_row(const oc_window *w, const float *r0, const float *r1,
                                                            const float *r2, const __m256 *wv, __m256 vb,
                                                            int64_t oh, float *yp, const float *rp, bool clamp,
                                                            __m256 vlo, __m256 vhi, const __m256i tail, bool H0,
                                                            bool H2)
{
    const int64_t in2 = w->in[2], o1 = w->out[1], o2 = w->out[2], pl = w->pad0[2];
    float *yr = yp + oh * o2;
    const float *rr = rp ? rp + oh * o2 : NULL;
    const __m256 z = _mm256_setzero_ps();
    for (int64_t i = 0; i < o2; i += 8) {
        const int64_t c = i - pl;
        __m256 x00, x01, x02, x10, x11, x12, x20, x21, x22;
        if (c >= 0 && c + 10 <= in2) {
            x00 = H0 ? _mm256_loadu_ps(r0 + c) : z;
            x01 = H0 ? _mm256_loadu_ps(r0 + c + 1) : z;
            x02 = H0 ? _mm256_loadu_ps(r0 + c + 2) : z;
            x10 = _mm256_loadu_ps(r1 + c);
            x11 = _mm256_loadu_ps(r1 + c + 1);
            x12 = _mm256_loadu_ps(r1 + c + 2);
            x20 = H2 ? _mm256_loadu_ps(r2 + c) : z;
            x21 = H2 ? _mm256_loadu_ps(r2 + c + 1) : z;
            x22 = H2 ? _mm256_loadu_ps(r2 + c + 2) : z;
        } else { /* masked lanes are not read, so the address may lie outside the row */
            const __m256i m0 = cols_in_row(c, in2), m1 = cols_in_row(c + 1, in2), m2 = cols_in_row(c + 2, in2);
            x00 = H0 ? _mm256_maskload_ps(r0 + c, m0) : z;
            x01 = H0 ? _mm256_maskload_ps(r0 + c + 1, m1) : z;
            x02 = H0 ? _mm256_maskload_ps(r0 + c + 2, m2) : z;
            x10 = _mm256_maskload_ps(r1 + c, m0);
            x11 = _mm256_maskload_ps(r1 + c + 1, m1);
            x12 = _mm256_maskload_ps(r1 + c + 2, m2);
            x20 = H2 ? _mm256_maskload_ps(r2 + c, m0) : z;
            x21 = H2 ? _mm256_maskload_ps(r2 + c + 1, m1) : z;
            x22 = H2 ? _mm256_maskload_ps(r2 + c + 2, m2) : z;
        }
        const bool whole = oh * o2 + i + 8 <= o1 * o2; /* past the row end: see dw3x3_strip */
        dw3s1_out(wv, vb, x00, x01, x02, x10, x11, x12, x20, x21, x22, whole, yr + i, rr ? rr + i : NULL, clamp, vlo,
                  vhi, tail);
    }
}

/* Output rows oh and oh + 1 of dw3s1_row at once, their middle input rows r1, r2 shared (loaded once): the
 * same operations per output. H0 / H3: input rows r0 / r3 lie in the plane. */
static inline __attribute__((always_inline)) void dw3s1_rows2(const oc_window *w, const float *r0, const float *r1,
                                                              const float *r2, const float *r3, const __m256 *wv,
                                                              __m256 vb, int64_t oh, float *yp, const float *rp,
                                                              bool clamp, __m256 vlo, __m256 vhi,
                                                              const __m256i tail, bool H0, bool H3)
{
    const int64_t in2 = w->in[2], o1 = w->out[1], o2 = w->out[2], pl = w->pad0[2];
    float *yr = yp + oh * o2;
    const float *rr = rp ? rp + oh * o2 : NULL;
    const __m256 z = _mm256_setzero_ps();
    for (int64_t i = 0; i < o2; i += 8) {
        const int64_t c = i - pl;
        __m256 x[4][3];
        if (c >= 0 && c + 10 <= in2) {
            for (int k = 0; k < 3; k++) {
                x[0][k] = H0 ? _mm256_loadu_ps(r0 + c + k) : z;
                x[1][k] = _mm256_loadu_ps(r1 + c + k);
                x[2][k] = _mm256_loadu_ps(r2 + c + k);
                x[3][k] = H3 ? _mm256_loadu_ps(r3 + c + k) : z;
            }
        } else {
            for (int k = 0; k < 3; k++) {
                const __m256i m = cols_in_row(c + k, in2);
                x[0][k] = H0 ? _mm256_maskload_ps(r0 + c + k, m) : z;
                x[1][k] = _mm256_maskload_ps(r1 + c + k, m);
                x[2][k] = _mm256_maskload_ps(r2 + c + k, m);
                x[3][k] = H3 ? _mm256_maskload_ps(r3 + c + k, m) : z;
            }
        }
        /* row oh + 1's first columns are stored before row oh's last: that one stores its own lanes only */
        dw3s1_out(wv, vb, x[0][0], x[0][1], x[0][2], x[1][0], x[1][1], x[1][2], x[2][0], x[2][1], x[2][2],
                  i + 8 <= o2, yr + i, rr ? rr + i : NULL, clamp, vlo, vhi, tail);
        dw3s1_out(wv, vb, x[1][0], x[1][1], x[1][2], x[2][0], x[2][1], x[2][2], x[3][0], x[3][1], x[3][2],
                  (oh + 1) * o2 + i + 8 <= o1 * o2, yr + o2 + i, rr ? rr + o2 + i : NULL, clamp, vlo, vhi, tail);
    }
}

#endif

/* Whether dw3s1_plane takes the convolution: 3 x 3, stride 1, no dilation, padding of at most one, planes of
 * two rows or more. */
static bool dw3s1_ok(const oc_window *w)
{
    return dw3x3_direct_ok(w) && w->stride[1] == 1 && w->stride[2] == 1 && w->pad0[1] <= 1 && w->pad1[1] <= 1 &&
           w->pad0[2] <= 1 && w->pad1[2] <= 1 && w->in[1] >= 2 && w->out[1] >= 1 && w->out[2] >= 1;
}

#if !(defined(__AVX512F__) && defined(__FMA__))
/* A whole plane, rows top to bottom, two at a time where their middle input rows lie in the plane (dw3s1_rows2:
 * 12 loads for 2 output vectors instead of 18), else one (dw3s1_row); stores past a row's end are overwritten by
 * the next row's. */
static void dw3s1_plane(const oc_window *w, const float *xp, const float *wt, float bias, float *yp,
                        const float *rp, bool clamp, float lo, float hi)
{
    const int64_t in1 = w->in[1], in2 = w->in[2], o1 = w->out[1], o2 = w->out[2], pt = w->pad0[1];
    __m256 wv[9];
    for (int t = 0; t < 9; t++)
        wv[t] = _mm256_broadcast_ss(wt + t);
    const __m256 vb = _mm256_set1_ps(bias), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i tail = cols_in_row(0, o2 % 8 ? o2 % 8 : 8);
    for (int64_t oh = 0; oh < o1; oh++) {
        const int64_t ih = oh - pt; /* kernel row 0; row 1 (ih + 1) lies in the plane when the padding is <= 1 */
        const float *r1 = xp + (ih + 1) * in2;
        if (oh + 1 < o1 && ih + 2 < in1) { /* two rows at once: input rows ih + 1 and ih + 2 inside */
            if (ih >= 0 && ih + 3 < in1)
                dw3s1_rows2(w, r1 - in2, r1, r1 + in2, r1 + 2 * in2, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail,
                            true, true);
            else if (ih >= 0)
                dw3s1_rows2(w, r1 - in2, r1, r1 + in2, r1, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, true, false);
            else if (ih + 3 < in1)
                dw3s1_rows2(w, r1, r1, r1 + in2, r1 + 2 * in2, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, false,
                            true);
            else
                dw3s1_rows2(w, r1, r1, r1 + in2, r1, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, false, false);
            oh++;
            continue;
        }
        const bool h0 = ih >= 0, h2 = ih + 2 < in1;
        if (h0 && h2)
            dw3s1_row(w, r1 - in2, r1, r1 + in2, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, true, true);
        else if (h2)
            dw3s1_row(w, r1, r1, r1 + in2, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, false, true);
        else if (h0)
            dw3s1_row(w, r1 - in2, r1, r1, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, true, false);
        else
            dw3s1_row(w, r1, r1, r1, wv, vb, oh, yp, rp, clamp, vlo, vhi, tail, false, false);
    }
}

#endif

static void conv_dw3s1_item(void *arg, int64_t item, int slot)
{
    (void)slot;
#if defined(__AVX512F__) && defined(__FMA__)
    conv_dw3_planes(arg, item, oc_dw3s1_plane16);
#else
    conv_dw3_planes(arg, item, dw3s1_plane);
#endif
}
#endif

/* Depthwise over padded planes: an output row sums, over kernel rows and taps, a weight times a contiguous
 * run of a phase row; 3-tap rows in one pass, others tap by tap. */
static void conv_dw_padded_item(void *arg, int64_t item, int slot)
{
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t planes = p->n * p->m, o1 = w->out[1], o2 = w->out[2], s = w->stride[2];
    const int64_t phase = p->dw_phase_len, acc_len = p->dw_acc_len, k1 = w->k[1], k2 = w->k[2];
    float *buf = j->work + (int64_t)slot * p->work_floats;
    float *restrict acc = buf + p->dw_rows * p->dw_row_len;
    const int64_t pm_end = (item + 1) * j->dw_per_item < planes ? (item + 1) * j->dw_per_item : planes;
    int64_t padded_plane = -1;
    for (int64_t pm = item * j->dw_per_item; pm < pm_end; pm++) {
        const int64_t n = pm / p->m, m = pm % p->m, ci = m / p->mg;
        const int64_t src_plane = n * p->c_in + ci;
        if (src_plane != padded_plane) { /* a channel multiplier > 1 reuses the plane */
            dw_pad_plane(p, j->x + src_plane * w->in_vol, buf);
            padded_plane = src_plane;
        }
        const float *wp = j->wt + m * w->k_vol;
        float *yp = j->y + pm * w->out_vol;
        const float *rp = j->res ? j->res + pm * w->out_vol : NULL;
        const float bias = j->bias ? j->bias[m] : 0.0f;
        if (k1 == 7 && k2 == 7 && s == 1 && w->stride[1] == 1 && w->dil[1] == 1 && w->dil[2] == 1 &&
            oc_dw7_plane(buf, p->dw_row_len, o1, o2, wp, bias, yp, rp, j->clamp, j->lo, j->hi)) {
            conv_act_block(j, m, yp, 1, w->out_vol, w->out_vol);
            continue;
        }
#if defined(__AVX2__) && defined(__FMA__)
        if (k1 * k2 <= 64) {
            dw_plane_avx2(p, buf, wp, bias, yp, rp, j->clamp, j->lo, j->hi);
            conv_act_block(j, m, yp, 1, w->out_vol, w->out_vol);
            continue;
        }
#endif
        for (int64_t oh = 0; oh < o1; oh++) {
            for (int64_t i = 0; i < acc_len; i++)
                acc[i] = bias;
            for (int64_t kh = 0; kh < k1; kh++) {
                const float *row = buf + (oh * w->stride[1] + kh * w->dil[1]) * p->dw_row_len;
                const float *wr = wp + kh * k2;
                if (k2 == 3) {
                    const int64_t t0 = 0, t1 = w->dil[2], t2 = 2 * w->dil[2];
                    const float *restrict a0 = row + (t0 % s) * phase + t0 / s;
                    const float *restrict a1 = row + (t1 % s) * phase + t1 / s;
                    const float *restrict a2 = row + (t2 % s) * phase + t2 / s;
                    const float w0 = wr[0], w1 = wr[1], w2 = wr[2];
                    for (int64_t i = 0; i < acc_len; i++)
                        acc[i] = MADD(w2, a2[i], MADD(w1, a1[i], MADD(w0, a0[i], acc[i])));
                } else {
                    for (int64_t kw = 0; kw < k2; kw++) {
                        const int64_t t = kw * w->dil[2];
                        const float *restrict a0 = row + (t % s) * phase + t / s;
                        const float w0 = wr[kw];
                        for (int64_t i = 0; i < acc_len; i++)
                            acc[i] = MADD(w0, a0[i], acc[i]);
                    }
                }
            }
            float *restrict yr = yp + oh * o2;
            if (rp) {
                const float *restrict rr = rp + oh * o2;
                for (int64_t i = 0; i < o2; i++)
                    acc[i] += rr[i];
            }
            if (j->clamp) {
                const float lo = j->lo, hi = j->hi;
                for (int64_t i = 0; i < o2; i++) {
                    float v = acc[i];
                    v = v < lo ? lo : v;
                    yr[i] = v > hi ? hi : v;
                }
            } else {
                memcpy(yr, acc, (size_t)o2 * sizeof *yr);
            }
        }
        conv_act_block(j, m, yp, 1, w->out_vol, w->out_vol);
    }
}

/* Depthwise (one input channel per group, any channel multiplier): each output row is a sum of shifted,
 * scaled input rows, in loops GCC vectorises when the stride is 1; the epilogue follows row by row. */
static void conv_dw_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const conv_job *j = arg;
    const conv_plan *p = j->p;
    const oc_window *w = &p->w;
    const int64_t planes = p->n * p->m;
    const int64_t o1 = w->out[1], o2 = w->out[2], sw = w->stride[2];
    const int64_t pm_end = (item + 1) * j->dw_per_item < planes ? (item + 1) * j->dw_per_item : planes;
    for (int64_t pm = item * j->dw_per_item; pm < pm_end; pm++) {
        const int64_t n = pm / p->m, m = pm % p->m, ci = m / p->mg;
        const float *xp = j->x + (n * p->c_in + ci) * w->in_vol;
        const float *wp = j->wt + m * w->k_vol;
        float *yp = j->y + pm * w->out_vol;
        const float *rp = j->res ? j->res + pm * w->out_vol : NULL;
        const float bias = j->bias ? j->bias[m] : 0.0f;
        for (int64_t od = 0; od < w->out[0]; od++) {
            for (int64_t oh = 0; oh < o1; oh++) {
                float *restrict yr = yp + (od * o1 + oh) * o2;
                for (int64_t ow = 0; ow < o2; ow++)
                    yr[ow] = bias;
                for (int64_t kd = 0; kd < w->k[0]; kd++) {
                    int64_t id = od * w->stride[0] - w->pad0[0] + kd * w->dil[0];
                    if (id < 0 || id >= w->in[0])
                        continue;
                    for (int64_t kh = 0; kh < w->k[1]; kh++) {
                        int64_t ih = oh * w->stride[1] - w->pad0[1] + kh * w->dil[1];
                        if (ih < 0 || ih >= w->in[1])
                            continue;
                        const float *restrict xr = xp + (id * w->in[1] + ih) * w->in[2];
                        const float *wr = wp + (kd * w->k[1] + kh) * w->k[2];
                        for (int64_t kw = 0; kw < w->k[2]; kw++) {
                            int64_t off = kw * w->dil[2] - w->pad0[2], lo, hi;
                            tap_range(off, sw, w->in[2], o2, &lo, &hi);
                            const float wv = wr[kw];
                            if (sw == 1) {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    yr[ow] += wv * xr[ow + off];
                            } else {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    yr[ow] += wv * xr[ow * sw + off];
                            }
                        }
                    }
                }
                if (rp) {
                    const float *restrict rr = rp + (od * o1 + oh) * o2;
                    for (int64_t ow = 0; ow < o2; ow++)
                        yr[ow] += rr[ow];
                }
                if (j->clamp) {
                    const float lo = j->lo, hi = j->hi;
                    for (int64_t ow = 0; ow < o2; ow++) {
                        float v = yr[ow];
                        v = v < lo ? lo : v;
                        yr[ow] = v > hi ? hi : v;
                    }
                }
            }
        }
        conv_act_block(j, m, yp, 1, w->out_vol, w->out_vol);
    }
}

/* ---- pointwise on small planes (conv_pw_small_ok) ---- */

#if defined(__AVX2__)
/* v[i] = row i of an 8 x 8 block -> v[i] = column i. */
static inline void transpose8(__m256 *v)
{
    const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    v[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    v[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    v[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    v[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    v[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    v[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    v[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    v[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

/* One image's output and its epilogue for pw_small_block. */
typedef struct pw_small_ep {
    const conv_job *j;
    float *y;
    const float *res; /* plain, this image's, or NULL */
    int64_t hw;
    bool out_blocked;
} pw_small_ep;

/* Positions [r0, r1) x channels [c0, c1) of the product ([positions][channels] at cb, the bias already its
 * sums' start): + residual, clamp, as the GEMM path's epilogue; written to the output plain (channel rows of hw)
 * or NCHW8c (the planner gives a blocked output no residual, and c0, c1 are multiples of 8 then), and the fused
 * activation on plain channel rows while they are in cache. */
static void pw_small_block(void *vctx, float *cb, int64_t ldc, int64_t r0, int64_t r1, int64_t c0, int64_t c1)
{
    const pw_small_ep *e = vctx;
    const conv_job *j = e->j;
    const int64_t hw = e->hw;
    float *y = e->y;
    const bool clamp = j->clamp;
    const float lo = j->lo, hi = j->hi;
#if defined(__AVX2__)
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#endif
    if (e->out_blocked) {
        for (int64_t ch = c0; ch < c1; ch += 8) {
            float *yb = y + ch * hw; /* channel block ch / 8 */
            for (int64_t r = r0; r < r1; r++) {
                const float *src = cb + r * ldc + ch;
#if defined(__AVX2__)
                __m256 v = _mm256_loadu_ps(src);
                if (clamp)
                    v = _mm256_min_ps(vhi, _mm256_max_ps(vlo, v));
                _mm256_storeu_ps(yb + r * 8, v);
#else
                for (int i = 0; i < 8; i++) {
                    float v = src[i];
                    if (clamp) {
                        v = v < lo ? lo : v;
                        v = v > hi ? hi : v;
                    }
                    yb[r * 8 + i] = v;
                }
#endif
            }
        }
        return;
    }
    const float *res = e->res;
    int64_t ch = c0;
#if defined(__AVX2__)
    for (; ch + 8 <= c1; ch += 8) {
        int64_t r = r0;
        for (; r + 8 <= r1; r += 8) {
            __m256 v[8];
            for (int i = 0; i < 8; i++)
                v[i] = _mm256_loadu_ps(cb + (r + i) * ldc + ch);
            transpose8(v);
            for (int i = 0; i < 8; i++) {
                __m256 a = v[i];
                if (res)
                    a = _mm256_add_ps(a, _mm256_loadu_ps(res + (ch + i) * hw + r));
                if (clamp)
                    a = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a));
                _mm256_storeu_ps(y + (ch + i) * hw + r, a);
            }
        }
        if (r < r1) {
            /* the last 1 to 7 positions (a block of 12 rows ends in 4): the same transpose, the missing rows
             * zero, each channel's stores masked */
            const int rr = (int)(r1 - r);
            const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(rr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            __m256 v[8];
            for (int i = 0; i < 8; i++)
                v[i] = i < rr ? _mm256_loadu_ps(cb + (r + i) * ldc + ch) : _mm256_setzero_ps();
            transpose8(v);
            for (int i = 0; i < 8; i++) {
                __m256 a = v[i];
                if (res)
                    a = _mm256_add_ps(a, _mm256_maskload_ps(res + (ch + i) * hw + r, lanes));
                if (clamp)
                    a = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a));
                oc_storen8(y + (ch + i) * hw + r, rr, a);
            }
        }
    }
#endif
    for (; ch < c1; ch++)
        for (int64_t r = r0; r < r1; r++) {
            float v = cb[r * ldc + ch];
            if (res)
                v += res[ch * hw + r];
            if (clamp) {
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            }
            y[ch * hw + r] = v;
        }
    conv_act_block(j, c0, y + c0 * hw + r0, c1 - c0, r1 - r0, hw);
}

/* The gated input copy (x times its channel's gate, the Mul's products), or the fused BatchNormalization's
 * (x * a + b, clamped: fill_pointwise_bn's operations), PW_GATE_CHANNELS channels an item. */
#define PW_GATE_CHANNELS 64
typedef struct pw_gate_job {
    const float *x, *g;
    float *dst;
    int64_t hw, channels, per;
    const float *bn_a, *bn_b; /* the BatchNormalization instead of the gate when not NULL */
    bool bn_clamp;
    float bn_lo, bn_hi;
} pw_gate_job;

static void pw_gate_item(void *arg, int64_t item, int slot)
{
    (void)slot;
    const pw_gate_job *gj = arg;
    const int64_t k0 = item * gj->per, k1 = k0 + gj->per < gj->channels ? k0 + gj->per : gj->channels;
    if (gj->bn_a) {
        const float lo = gj->bn_lo, hi = gj->bn_hi;
        for (int64_t k = k0; k < k1; k++)
            oc_bn_span(gj->x + k * gj->hw, gj->bn_a[k], gj->bn_b[k], gj->bn_clamp, lo, hi, gj->dst + k * gj->hw,
                       gj->hw);
        return;
    }
    for (int64_t k = k0; k < k1; k++) {
        const float gv = gj->g[k];
        const float *xr = gj->x + k * gj->hw;
        float *d = gj->dst + k * gj->hw;
        for (int64_t r = 0; r < gj->hw; r++)
            d[r] = xr[r] * gv;
    }
}

/* Each image: the product over its positions (input plain, gated or batch-normalized into scratch first when a
 * gate or a BatchNormalization is fused, or
 * blocked), transposed into the output block by block. */
static onnxc_status conv_pw_small_run(oc_kctx *c, const conv_plan *p, const conv_job *j)
{
    const int64_t hw = p->w.out_vol;
    if (!c->scratch || c->scratch_size < (size_t)(p->pw_gate_floats + p->m * hw) * sizeof(float))
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
    float *gx = c->scratch, *prod = gx + p->pw_gate_floats;
    const bool in_blocked = c->in_blocked;
    for (int64_t n = 0; n < p->n; n++) {
        const float *x = j->x + n * p->c_in * hw;
        if ((j->gate || j->bn_ab) && !in_blocked) {
            pw_gate_job gj = {x, j->gate ? j->gate + n * p->c_in : NULL, gx, hw, p->c_in, PW_GATE_CHANNELS,
                              j->bn_ab, j->bn_ab ? j->bn_ab + p->c_in : NULL, j->bn_clamp, j->bn_lo, j->bn_hi};
            oc_pool_run(p->c_in * hw >= 16384 ? c->pool : NULL, ceil_div(p->c_in, PW_GATE_CHANNELS), pw_gate_item,
                        &gj);
            x = gx;
        }
        pw_small_ep e = {j, j->y + n * p->m * hw, j->res && !c->out_blocked ? j->res + n * p->m * hw : NULL, hw,
                         c->out_blocked};
        oc_sgemm_packb_ex(c->pool, hw, x, in_blocked ? 8 * hw : hw, in_blocked ? OC_PACKB_A_BLK8 : OC_PACKB_A_COLS,
                          &p->pwb, j->bias, prod, p->m, pw_small_block, &e);
    }
    return ONNXC_OK;
}

static onnxc_status conv_run_fused(oc_kctx *c)
{
    conv_plan *p = c->state;
    if (!p)
        return oc_kerr(c, ONNXC_E_RUNTIME, "convolution run without prepare");
    const oc_window *w = &p->w;
    conv_job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    j.x = c->fuse_gate_x ? c->fuse_gate_x->data : c->in[0]->data;
    j.gate = c->fuse_gate ? c->fuse_gate->data : NULL;
    j.bn_ab = c->fuse_bn_ab;
    j.bn_clamp = c->fuse_bn_clamp;
    j.bn_lo = c->fuse_bn_lo;
    j.bn_hi = c->fuse_bn_hi;
    j.wt = c->in[1]->data;
    j.bias = p->has_bias ? c->in[2]->data : NULL;
    j.y = c->out[0]->data;
    j.res = c->fuse_res ? c->fuse_res->data : NULL;
    j.clamp = c->fuse_clamp;
    j.lo = c->fuse_lo;
    j.hi = c->fuse_hi;
    /* the item paths apply a fused activation themselves; the blocked and Winograd paths leave it to conv_run */
    const bool items_act = !c->out_blocked && p->algo != CONV_WINOGRAD;
    j.c = items_act ? c : NULL;
    oc_threadpool *pool = c->pool;
    if (p->algo == CONV_POINTWISE && p->group == 1 && w->out_vol == 1) {
        /* 1 x 1 planes (squeeze-excite): a matrix-vector product; blocked or not, a 1 x 1 plane has the same
         * bytes, and conv_run applies the activation to a blocked output */
        if (!p->vec_w && ((c->const_inputs >> 1) & 1u) && c->in[1]->data) {
            const onnxc_status st = oc_conv_vec_pack(j.wt, p->m, p->c_in, &p->vec_w);
            if (st != ONNXC_OK)
                return oc_kerr(c, st, "%s", onnxc_last_error());
        }
        oc_conv_vec_run(c, j.x, p->vec_w ? p->vec_w : j.wt, p->vec_w != NULL, j.bias, j.y, p->n, p->m, p->c_in,
                        !c->out_blocked);
        return ONNXC_OK;
    }
    if (p->pw_small)
        return conv_pw_small_run(c, p, &j);
#ifdef OC_BLK_KERNELS
    if (c->out_blocked) {
        const onnxc_status st = conv_blocked_weights(c, p);
        if (st != ONNXC_OK)
            return st;
    }
    if (c->out_blocked && p->algo == CONV_DEPTHWISE) {
        const oc_blk_dw g = {p->n, p->c_in, w->in[1], w->in[2], w->out[1], w->out[2], w->stride[1], w->stride[2],
                             w->pad0[1], w->pad0[2], w->stride[2] == 1 && w->out[2] > 16 && p->dw_padded ? 2 : 0,
                             (int)w->k[1]};
        oc_blk_dw_run(pool, &g, j.x, p->blk_w, j.bias, j.y, j.clamp, j.lo, j.hi);
        return ONNXC_OK;
    }
    if (c->out_blocked) {
        oc_blk_pw_run(pool, j.x, p->blk_w, j.bias, j.y, p->n, p->m, p->c_in, w->out_vol, j.clamp, j.lo, j.hi);
        return ONNXC_OK;
    }
    j.in_blocked = c->in_blocked;
    if (p->dw_nchw && !j.res && !(c->fuse_act == OC_ACT_PRELU && c->fuse_slope_n > 1)) {
        const onnxc_status st = conv_blocked_weights(c, p);
        if (st != ONNXC_OK)
            return st;
        const oc_blk_dw g = {p->n, p->c_in, w->in[1], w->in[2], w->out[1], w->out[2], w->stride[1], w->stride[2],
                             w->pad0[1], w->pad0[2], 0, 5};
        oc_blk_dw_nchw_run(pool, &g, j.x, p->blk_w, j.bias, j.y, j.clamp, j.lo, j.hi, c->fuse_act, c->fuse_alpha,
                           c->fuse_beta, c->fuse_slope ? c->fuse_slope[0] : 0.0f);
        return ONNXC_OK;
    }
#endif
    if (p->algo == CONV_STEM) {
        const size_t need = (size_t)oc_stem_work_floats(&p->stem) * sizeof(float);
        if (!c->scratch || c->scratch_size < need)
            return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
        if ((size_t)conv_slots(c) * need > c->scratch_size)
            pool = NULL; /* the pool grew after prepare sized the work buffers: run on the caller alone */
        oc_stem_run(c, pool, &p->stem, j.x, j.bias, j.y, p->n, c->scratch);
        return ONNXC_OK;
    }
    if (p->algo == CONV_DEPTHWISE) {
        const int64_t planes = p->n * p->m, per_plane = w->out_vol * w->k_vol;
        /* items of at least ~16k multiply-adds, so claiming costs little */
        j.dw_per_item = per_plane >= 16384 ? 1 : 16384 / (per_plane > 0 ? per_plane : 1);
#if defined(__AVX2__) && defined(__FMA__)
        /* narrow planes and stride 2 straight from the input (a padded, phase-split copy would cost more
         * than the taps); wide stride-1 planes through the padded copy, whose loads need no masks (measured
         * faster there) */
        if (dw3x3_direct_ok(w) && (w->out[2] <= 16 || w->stride[2] == 2 || !p->dw_padded)) {
            oc_pool_run(pool, ceil_div(planes, j.dw_per_item), conv_dw3x3_item, &j);
            return ONNXC_OK;
        }
        /* wide stride-1 planes: the padded kernel's operations straight from the input (the padded copy
         * measured ~40% of that path's time at 32 x 112 x 112; 0.74-0.88x of it on chains of such layers) */
        if (dw3s1_ok(w)) {
            oc_pool_run(pool, ceil_div(planes, j.dw_per_item), conv_dw3s1_item, &j);
            return ONNXC_OK;
        }
#endif
        if (p->dw_padded) {
            if ((size_t)conv_slots(c) * (size_t)p->work_floats * sizeof(float) > c->scratch_size) {
                if (c->scratch_size < (size_t)p->work_floats * sizeof(float))
                    return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
                pool = NULL;
            }
            j.work = c->scratch;
            oc_pool_run(pool, ceil_div(planes, j.dw_per_item), conv_dw_padded_item, &j);
            return ONNXC_OK;
        }
        oc_pool_run(pool, ceil_div(planes, j.dw_per_item), conv_dw_item, &j);
        return ONNXC_OK;
    }
    if (p->algo == CONV_WINOGRAD) {
        if (!p->packed_const)
            for (int64_t g = 0; g < p->group; g++)
                oc_wino_set_weights(&p->wino[g], j.wt + g * p->mg * p->cg * 9);
        const int slots = conv_slots(c);
        const oc_wino *wz = &p->wino[0];
        const size_t shared = (size_t)wz->shared_floats * sizeof(float), need = (size_t)wz->work_floats * sizeof(float);
        if (!c->scratch || c->scratch_size < shared + need)
            return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
        if (shared + (size_t)slots * need > c->scratch_size)
            pool = NULL;
        if (!wz->shared) {
            j.work = c->scratch;
            oc_pool_run(pool, p->n * p->group * oc_wino_items(wz), conv_wino_item, &j);
            return ONNXC_OK;
        }
        /* the input transformed once per image and group, then the products and output tiles */
        j.wino_v = c->scratch;
        j.work = (float *)c->scratch + wz->shared_floats;
        for (j.wino_ng = 0; j.wino_ng < p->n * p->group; j.wino_ng++) {
            oc_pool_run(pool, oc_wino_input_items(wz), conv_wino_input_item, &j);
            oc_pool_run(pool, oc_wino_items(wz), conv_wino_item, &j);
        }
        return ONNXC_OK;
    }
    if (!p->packed_const) {
        const int64_t depth = p->cg * w->k_vol;
        for (int64_t g = 0; g < p->group; g++)
            oc_pack_a_fill(j.wt + g * p->mg * depth, depth, &p->packed[g]);
    }
    if (p->algo == CONV_IMPLICIT) {
        const int slots = conv_slots(c);
        if (!c->scratch || c->scratch_size < (size_t)(p->xph_floats + p->work_floats) * sizeof(float))
            return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
        if ((size_t)(p->xph_floats + slots * p->work_floats) * sizeof(float) > c->scratch_size)
            pool = NULL; /* the pool grew after prepare sized the work buffers: run on the caller alone */
        j.work = c->scratch;
        /* reads of the last group's garbage columns may reach past the channels: keep that tail finite */
        memset(j.work + p->c_in * p->chan_stride, 0,
               (size_t)(p->xph_floats - p->cbuf_floats - p->c_in * p->chan_stride) * sizeof(float));
        const float *x0 = j.x, *r0 = j.res;
        float *y0 = j.y;
        for (int64_t n = 0; n < p->n; n++) {
            j.x = x0 + n * p->c_in * w->in_vol;
            j.y = y0 + n * p->m * w->out_vol;
            j.res = r0 ? r0 + n * p->m * w->out_vol : NULL;
            oc_pool_run(pool, p->c_in, conv_phase_item, &j);
            if (p->compact) {
                oc_pool_run(pool, p->group * ceil_div(p->cg * w->k_vol, 64), conv_gather_item, &j);
                oc_pool_run(pool, p->group * p->n_chunks * p->n_mblocks, conv_compact_item, &j);
                continue;
            }
            oc_pool_run(pool, p->group * p->n_chunks * p->n_mblocks,
                        p->subsample ? conv_subsample_item : conv_implicit_item, &j);
        }
        return ONNXC_OK;
    }
    const int slots = conv_slots(c);
    if ((size_t)slots * (size_t)p->work_floats * sizeof(float) > c->scratch_size) {
        /* the pool grew after prepare sized the work buffers: run on the caller alone */
        if (c->scratch_size < (size_t)p->work_floats * sizeof(float))
            return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for the convolution");
        pool = NULL;
    }
    if (p->work_floats > 0 && !c->scratch)
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing for the convolution");
    j.work = c->scratch;
    oc_pool_run(pool, p->n * p->group * p->n_chunks * p->n_mblocks, conv_gemm_item, &j);
    return ONNXC_OK;
}

static onnxc_status conv_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    const onnxc_status st = conv_run_fused(c);
    const conv_plan *p = c->state;
    if (st == ONNXC_OK && c->fuse_act != OC_ACT_NONE && p && (c->out_blocked || p->algo == CONV_WINOGRAD)) {
        /* the activation the planner fused, over the whole output (a blocked output only for one that ignores
         * the channel) */
        oc_act_apply(c, c->out[0]->data, p->n * p->m, p->m, p->w.out_vol);
    }
    return st;
}

/* ---- ConvTranspose ---- */

static onnxc_status convt_make_plan(const oc_kctx *c, conv_plan *p)
{
    memset(p, 0, sizeof *p);
    const onnxc_tensor *X = NULL, *W = NULL, *B = NULL;
    onnxc_status st = conv_check_inputs(c, &X, &W, &B);
    if (st == ONNXC_OK)
        st = conv_check_group(c, &p->group);
    if (st != ONNXC_OK)
        return st;
    /* ConvTranspose's weight is [C_in, C_out / group, k...] */
    p->n = X->dims[0];
    p->c_in = X->dims[1];
    p->has_bias = B != NULL;
    if (W->dims[0] != p->c_in)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels but W's first dim is %lld", (long long)p->c_in,
                       (long long)W->dims[0]);
    if (p->c_in % p->group != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "X has %lld channels, not a multiple of group %lld",
                       (long long)p->c_in, (long long)p->group);
    p->cg = p->c_in / p->group;
    p->mg = W->dims[1];
    if (!oc_mul_i64(p->mg, p->group, &p->m))
        return oc_kerr(c, ONNXC_E_INVALID, "output channel count overflows");
    if (B && B->dims[0] != p->m)
        return oc_kerr(c, ONNXC_E_INVALID, "bias B has %lld values but there are %lld output channels",
                       (long long)B->dims[0], (long long)p->m);
    int nsp = X->rank - 2, off = OC_WIN_DIMS - nsp;
    oc_window *w = &p->w;
    st = oc_window_attrs(c, nsp, W->dims + 2, w);
    if (st != ONNXC_OK)
        return st;
    size_t n_op, n_os, n_pads;
    const int64_t *opad = oc_attr_ints(c->node, "output_padding", &n_op);
    const int64_t *oshape = oc_attr_ints(c->node, "output_shape", &n_os);
    const int64_t *pads = oc_attr_ints(c->node, "pads", &n_pads);
    if (opad && n_op != (size_t)nsp)
        return oc_kerr(c, ONNXC_E_INVALID, "output_padding has %zu values, expected %d", n_op, nsp);
    /* output_shape may list the spatial dims only, or (as older exporters wrote it) N and C too */
    if (oshape && n_os != (size_t)nsp && n_os != (size_t)nsp + 2)
        return oc_kerr(c, ONNXC_E_INVALID, "output_shape has %zu values, expected %d", n_os, nsp);
    if (oshape && n_os == (size_t)nsp + 2)
        oshape += 2;
    if (pads && w->auto_pad == OC_PAD_NOTSET && !oshape && n_pads != (size_t)(2 * nsp))
        return oc_kerr(c, ONNXC_E_INVALID, "pads has %zu values, expected %d", n_pads, 2 * nsp);
    for (int i = 0; i < OC_WIN_DIMS; i++) {
        w->in[i] = w->out[i] = 1;
        w->pad0[i] = w->pad1[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int d = off + i;
        int64_t in = X->dims[2 + i], s = w->stride[d], span = (w->k[d] - 1) * w->dil[d] + 1;
        int64_t op = opad ? opad[i] : 0;
        if (in < 1 || in > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "input spatial dim %d is %lld", i, (long long)in);
        if (op < 0 || op > INT32_MAX)
            return oc_kerr(c, ONNXC_E_INVALID, "output_padding[%d] = %lld is out of range", i, (long long)op);
        w->in[d] = in;
        /* full (unpadded) output length; all terms are < 2^31 so this cannot overflow */
        int64_t full = s * (in - 1) + op + span;
        if (oshape || w->auto_pad == OC_PAD_SAME_UPPER || w->auto_pad == OC_PAD_SAME_LOWER) {
            /* ConvTranspose-11: pads derived from the wanted output size; SAME wants in * stride. The odd
             * unit goes to the end for SAME_UPPER, to the start otherwise. */
            int64_t want = oshape ? oshape[i] : in * s;
            if (want < 1 || want > INT32_MAX)
                return oc_kerr(c, ONNXC_E_INVALID, "output_shape[%d] = %lld is out of range", i,
                               (long long)want);
            /* a wanted size beyond the full length gives negative padding; halves round down as in the
             * ONNX reference (Python //), so one extra unit goes to the end */
            int64_t total = full - want;
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            if (w->auto_pad == OC_PAD_SAME_UPPER) {
                w->pad0[d] = half;
                w->pad1[d] = total - half;
            } else {
                w->pad0[d] = total - half;
                w->pad1[d] = half;
            }
            w->out[d] = want;
        } else {
            if (pads && w->auto_pad == OC_PAD_NOTSET) {
                if (pads[i] < 0 || pads[nsp + i] < 0 || pads[i] > INT32_MAX || pads[nsp + i] > INT32_MAX)
                    return oc_kerr(c, ONNXC_E_INVALID, "pads for spatial dim %d are out of range", i);
                w->pad0[d] = pads[i];
                w->pad1[d] = pads[nsp + i];
            }
            w->out[d] = full - w->pad0[d] - w->pad1[d];
            if (w->out[d] < 1)
                return oc_kerr(c, ONNXC_E_INVALID, "output spatial dim %d would be %lld", i,
                               (long long)w->out[d]);
        }
    }
    int64_t t;
    if (!oc_mul_i64(w->in[0], w->in[1], &t) || !oc_mul_i64(t, w->in[2], &w->in_vol) ||
        !oc_mul_i64(w->out[0], w->out[1], &t) || !oc_mul_i64(t, w->out[2], &w->out_vol))
        return oc_kerr(c, ONNXC_E_INVALID, "spatial size overflows");
    int64_t rows;
    if (!oc_mul_i64(p->mg, w->k_vol, &rows) || !oc_blas_fits(rows) || !oc_blas_fits(p->cg) ||
        !oc_blas_fits(w->in_vol))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "transposed convolution too large for BLAS int sizes");
    p->algo = CONV_IM2COL;
    return ONNXC_OK;
}

static onnxc_status convt_infer(oc_kctx *c)
{
    conv_plan p;
    onnxc_status st = convt_make_plan(c, &p);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[ONNXC_MAX_RANK], elems;
    dims[0] = p.n;
    dims[1] = p.m;
    for (int i = 0; i < p.w.nsp; i++)
        dims[2 + i] = p.w.out[OC_WIN_DIMS - p.w.nsp + i];
    if (!oc_mul_i64(p.mg * p.w.k_vol, p.w.in_vol, &elems) || !oc_mul_i64(elems, 4, &elems))
        return oc_kerr(c, ONNXC_E_NOMEM, "col2im buffer size overflows");
    c->scratch_size = (size_t)elems;
    if (!c->out[0])
        return ONNXC_OK;
    return oc_set_shape(c->out[0], c->in[0]->dtype, 2 + p.w.nsp, dims);
}

static onnxc_status convt_prepare(oc_kctx *c)
{
    conv_plan *p = oc_malloc(sizeof *p);
    if (!p)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for the convolution plan");
    onnxc_status st = convt_make_plan(c, p);
    if (st != ONNXC_OK) {
        oc_free(p);
        return st;
    }
    c->state = p;
    return ONNXC_OK;
}

/* Fold col [channels * k_vol, in_vol] back onto y [channels, out_vol], after setting y to the bias: every input
 * position scatters its column through each tap to output position in * stride - pad + k * dil
 * (accumulating). One item per output channel. */
typedef struct col2im_job {
    const oc_window *w;
    const float *col, *bias;
    float *y;
} col2im_job;

static void col2im_item(void *arg, int64_t m, int slot)
{
    (void)slot;
    const col2im_job *j = arg;
    const oc_window *w = j->w;
    const int64_t i1 = w->in[1], i2 = w->in[2], sw = w->stride[2];
    float *ym = j->y + m * w->out_vol;
    const float bv = j->bias ? j->bias[m] : 0.0f;
    for (int64_t i = 0; i < w->out_vol; i++)
        ym[i] = bv;
    for (int64_t kk = 0; kk < w->k_vol; kk++) {
        int64_t kd = kk / (w->k[1] * w->k[2]), kh = kk / w->k[2] % w->k[1], kw = kk % w->k[2];
        const float *src = j->col + (m * w->k_vol + kk) * w->in_vol;
        int64_t off_w = kw * w->dil[2] - w->pad0[2], lo, hi;
        tap_range(off_w, sw, w->out[2], i2, &lo, &hi);
        for (int64_t id = 0; id < w->in[0]; id++) {
            int64_t od = id * w->stride[0] - w->pad0[0] + kd * w->dil[0];
            if (od < 0 || od >= w->out[0])
                continue;
            for (int64_t ih = 0; ih < i1; ih++) {
                int64_t oh = ih * w->stride[1] - w->pad0[1] + kh * w->dil[1];
                if (oh < 0 || oh >= w->out[1])
                    continue;
                const float *s = src + (id * i1 + ih) * i2;
                float *d = ym + (od * w->out[1] + oh) * w->out[2];
                if (sw == 1) {
                    for (int64_t iw = lo; iw < hi; iw++)
                        d[iw + off_w] += s[iw];
                } else {
                    for (int64_t iw = lo; iw < hi; iw++)
                        d[iw * sw + off_w] += s[iw];
                }
            }
        }
    }
}

static onnxc_status convt_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    conv_plan local;
    const conv_plan *p = c->state;
    if (!p) {
        onnxc_status st = convt_make_plan(c, &local);
        if (st != ONNXC_OK)
            return st;
        p = &local;
    }
    const oc_window *w = &p->w;
    const float *x = c->in[0]->data, *wt = c->in[1]->data;
    const float *b = p->has_bias ? c->in[2]->data : NULL;
    float *y = c->out[0]->data;
    const int64_t rows = p->mg * w->k_vol;
    float *col = c->scratch;
    if (rows * w->in_vol > 0 && (!col || c->scratch_size < (size_t)(rows * w->in_vol) * sizeof(float)))
        return oc_kerr(c, ONNXC_E_RUNTIME, "scratch buffer missing or too small for col2im");
    for (int64_t n = 0; n < p->n; n++) {
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c_in + g * p->cg) * w->in_vol;
            float *yg = y + (n * p->m + g * p->mg) * w->out_vol;
            /* col [mg * k_vol, in_vol] = W_g^T [mg * k_vol, cg] x X_g [cg, in_vol] */
            oc_sgemm_pool(c->pool, true, false, rows, w->in_vol, p->cg, 1.0f, wt + g * p->cg * rows, rows, xg,
                          w->in_vol, 0.0f, col, w->in_vol);
            col2im_job cj = {w, col, b ? b + g * p->mg : NULL, yg};
            oc_pool_run(c->pool, p->mg, col2im_item, &cj);
        }
    }
    return ONNXC_OK;
}

/* Conv-1 and ConvTranspose-1 already have every attribute handled here; -11 only refined auto_pad and
 * output_shape wording. */
const oc_kernel oc_kernels_conv[] = {
    {"Conv", NULL, 1, 0, 0, conv_infer, conv_prepare, conv_run, conv_release, 0},
    {"ConvTranspose", NULL, 1, 0, 0, convt_infer, convt_prepare, convt_run, conv_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
