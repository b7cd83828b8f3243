/* Winograd F(2x2, 3x3) for 3 x 3, stride-1, undilated 2-D convolutions (Lavin & Gray, 2015): each 2 x 2 output
 * tile costs 16 products per channel pair instead of 36. The 16 products per channel pair become 16 GEMMs of
 * transformed weights (packed once) by transformed input tiles (a block of tile rows at a time). */
#ifndef ONNXC_KERNELS_WINOGRAD_H
#define ONNXC_KERNELS_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "linalg.h"

/* Whether this build has the vectorised transforms (AVX2 + FMA); without them the caller uses another
 * algorithm. */
bool oc_wino_available(void);

typedef struct oc_wino {
    int64_t c, m;                 /* input and output channels of one group */
    int64_t h, w, ho, wo, pt, pl; /* input and output plane, top and left padding */
    int64_t th, tw;               /* output tiles per column and per row */
    int64_t rows_per_blk, n_blk;  /* tile rows per block, blocks */
    int64_t tblk, ldv, ldm;       /* tiles in a full block; row strides of the V and M buffers */
    int64_t vplane, mplane;       /* strides of their 16 planes: c x ldv and mpad x ldm, + 16 floats */
    int64_t mc, n_mb;             /* output channels per item (a multiple of OC_GEMM_MR), their blocks */
    int64_t mpad;                 /* m rounded up to OC_GEMM_MR */
    oc_packed_a u[16];            /* transformed weights: u[xi] is [m, c] */
    int64_t *koff;                /* B row k of a GEMM is V + koff[k] (k * ldv) */
    int64_t v_floats;             /* one block's V [16][vplane] */
    bool shared;                  /* output channels split (n_mb > 1): V of every block made once, shared */
    int64_t n_cc;                 /* shared: channel chunks per block of the input transform */
    int64_t shared_floats;        /* shared: V of all blocks, n_blk x v_floats (else 0) */
    int64_t work_floats;          /* per thread: V [16][vplane] (unless shared) then M [16][mplane] */
} oc_wino;

/* Plan for one group's geometry; slots = threads that will run items (for the item count). */
onnxc_status oc_wino_plan(oc_wino *wz, int64_t c, int64_t m, int64_t h, int64_t w, int64_t pt, int64_t pb,
                          int64_t pl, int64_t pr, int slots);
/* Transform and pack the group's weights wt [m][c][3][3]. */
void oc_wino_set_weights(oc_wino *wz, const float *wt);
void oc_wino_free(oc_wino *wz);

/* Work items of one image and group: blocks of tile rows x blocks of output channels. */
static inline int64_t oc_wino_items(const oc_wino *wz)
{
    return wz->n_blk * wz->n_mb;
}

/* Shared mode: the input transform's items of one image and group (0 when not shared), to run before its
 * oc_wino_item items. */
static inline int64_t oc_wino_input_items(const oc_wino *wz)
{
    return wz->shared ? wz->n_blk * wz->n_cc : 0;
}

/* Shared mode: input transform item of one image and group, x [c][h][w], into vshared (shared_floats, 32-byte
 * aligned); the items write disjoint parts. */
void oc_wino_input_item(const oc_wino *wz, int64_t item, const float *x, float *vshared);

/* Item of one image and group: x [c][h][w], y [m][ho][wo] (and res like y, or NULL) of that group; bias for
 * its m channels (or NULL); then clamp to [lo, hi] when clamp. work: work_floats, 32-byte aligned, the
 * thread's own; vshared: in shared mode the transformed input oc_wino_input_item wrote, else unused. */
void oc_wino_item(const oc_wino *wz, int64_t item, const float *x, float *y, const float *bias, const float *res,
                  bool clamp, float lo, float hi, float *work, const float *vshared);

#endif
