/* Shared by the quantized kernels (quant.c: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear; qgemm.c:
 * MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv): checks of scales and zero points naming the node, the
 * ONNX rounding (half to even) and saturation, and the integer GEMM on int16 operands with int32 accumulation. */
#ifndef ONNXC_KERNELS_QUANT_H
#define ONNXC_KERNELS_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "kutil.h"

/* int8 / uint8: the element types of quantized tensors. */
static inline bool oc_q_is8(int32_t dt) { return dt == ONNXC_INT8 || dt == ONNXC_UINT8; }
static inline int32_t oc_q_min(int32_t dt) { return dt == ONNXC_INT8 ? -128 : 0; }
static inline int32_t oc_q_max(int32_t dt) { return dt == ONNXC_INT8 ? 127 : 255; }

/* Element i of an int8 / uint8 / int32 buffer as int32. */
static inline int32_t oc_q_load(int32_t dt, const void *p, int64_t i)
{
    switch (dt) {
    case ONNXC_INT8: return ((const int8_t *)p)[i];
    case ONNXC_UINT8: return ((const uint8_t *)p)[i];
    default: return ((const int32_t *)p)[i];
    }
}

/* round half to even of v (|v| < 2^22, which the callers ensure by clamping first), without the rounding mode
 * or a float to int conversion, so loops calling it vectorize: adding 1.5 * 2^23 leaves the rounded value in
 * the low mantissa bits. */
static inline float oc_q_rint_small(float v)
{
    return (v + 12582912.0f) - 12582912.0f;
}

/* saturate(round_half_even(v) + zp) into [lo, hi], computed as ONNX Runtime does (clamp v to [lo - zp, hi - zp]
 * in float, round, add zp), so NaN gives lo. */
static inline int32_t oc_q_requant(float v, int32_t zp, int32_t lo, int32_t hi)
{
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    v = oc_selectf(v >= flo, v, flo);
    v = oc_selectf(v <= fhi, v, fhi);
    return (int32_t)oc_q_rint_small(v) + zp;
}

/* How a scale / zero point pair applies to a tensor: one value, or one per index along an axis. */
typedef struct oc_qparam {
    const float *scale;     /* the values; NULL at plan time when they are not known yet */
    const void *zp;         /* NULL: no zero point (0), or not known yet at plan time */
    int32_t zp_dtype;
    int64_t n;              /* scales: 1 or the size of the axis */
    int64_t zp_n;           /* zero points: 1 or n */
} oc_qparam;

/* Check a scale input (float, n values: 1 for per tensor, or axis_len along an axis; axis_len < 0: per tensor
 * only) and its zero point (optional when zp_optional; of type zp_dtype, or int8 / uint8 when zp_dtype is 0;
 * one value or one per scale) of node c; scale_name / zp_name name the inputs in messages ("y_scale"). When the
 * data are known, every scale must be finite and non-zero and an int32 zero point 0. Fills *q; errors name the
 * node. */
onnxc_status oc_q_param(const oc_kctx *c, int scale_in, int zp_in, bool zp_optional, int32_t zp_dtype,
                        int64_t axis_len, const char *scale_name, const char *zp_name, oc_qparam *q);

/* Zero point k of q as int32 (0 when absent). */
static inline int32_t oc_q_zp(const oc_qparam *q, int64_t k)
{
    return q->zp ? oc_q_load(q->zp_dtype, q->zp, q->zp_n == 1 ? 0 : k) : 0;
}

static inline float oc_q_scale(const oc_qparam *q, int64_t k) { return q->scale[q->n == 1 ? 0 : k]; }

/* ---- integer GEMM (qgemm.c): C[m][n] = sum_k A[m][k] * B[k][n] in int32 (wrapping), on int16 operands that
 * hold zero-point-subtracted int8 / uint8 values ([-255, 255]) ---- */

#define OC_QG_NR 16 /* columns per packed B panel */

/* Packed A: m rows of kp = k rounded up to even int16 values (the pad 0). */
static inline int64_t oc_qg_kp(int64_t k) { return (k + 1) & ~(int64_t)1; }

/* B packed for the GEMM: panels of OC_QG_NR columns, each kp / 2 pairs of rows with the two values of a pair
 * adjacent for each column: element (k, j) of panel p at p * kp * NR + (k / 2) * 2 * NR + j * 2 + k % 2. */
static inline int64_t oc_qg_bidx(int64_t kp, int64_t k, int64_t n)
{
    return (n / OC_QG_NR) * kp * OC_QG_NR + (k / 2) * 2 * OC_QG_NR + (n % OC_QG_NR) * 2 + (k & 1);
}

/* C (m x ldc int32, ldc a multiple of OC_QG_NR, at least ncols rounded up) = A (m x kp) times packed B holding
 * ncols columns (padded columns computed too). */
void oc_qgemm(const int16_t *a, int64_t m, int64_t kp, const int16_t *bp, int64_t ncols, int32_t *cm, int64_t ldc);

/* Which instruction set oc_qgemm uses ("avx2" or "c"). */
const char *oc_qgemm_isa(void);

#endif
