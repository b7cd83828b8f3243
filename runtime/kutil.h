/* Helpers shared by kernels: shape checks, broadcasting, element access across dtypes, half-precision
 * conversions. Hot loops should not use the generic element accessors. */
#ifndef ONNXC_KUTIL_H
#define ONNXC_KUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

/* Set t's dtype and shape (rank dims) with checks; nbytes is computed. ONNXC_E_INVALID on bad dims. */
onnxc_status oc_set_shape(onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims);

/* Numpy-style multidirectional broadcast of a set of shapes. ONNXC_E_INVALID naming the node if they clash. */
onnxc_status oc_broadcast_shapes(const oc_kctx *c, int n, const onnxc_tensor *const *ts, int *rank, int64_t *dims);

/* Strides (in elements) of t broadcast to an output of rank/dims: 0 along broadcast dims. */
void oc_broadcast_strides(const onnxc_tensor *t, int rank, const int64_t *dims, int64_t *strides);

/* Contiguous row-major strides of a shape. */
void oc_strides(int rank, const int64_t *dims, int64_t *strides);

/* Generic element access (slow path): value i of t as double / int64; set value i from double / int64. */
double oc_get_f64(const onnxc_tensor *t, int64_t i);
int64_t oc_get_i64(const onnxc_tensor *t, int64_t i);
void oc_set_f64(onnxc_tensor *t, int64_t i, double v);
void oc_set_i64(onnxc_tensor *t, int64_t i, int64_t v);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float oc_half_to_float(uint16_t h);
uint16_t oc_float_to_half(float f);
float oc_bf16_to_float(uint16_t h);
uint16_t oc_float_to_bf16(float f);

/* Normalise an axis attribute against rank (negative counts from the end). ONNXC_E_INVALID naming the node
 * when out of range. */
onnxc_status oc_norm_axis(const oc_kctx *c, int64_t axis, int rank, int *out);

/* Error for this node: "node 'name' (Op): message". Returns st. */
onnxc_status oc_kerr(const oc_kctx *c, onnxc_status st, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
