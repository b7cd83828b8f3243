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

/* The same on raw data of a dtype (element i of data). Float to integer truncates toward zero; NaN gives 0 and
 * out-of-range values saturate (no undefined behaviour). Unknown dtypes read 0 and write nothing. */
double oc_load_f64(int32_t dtype, const void *data, int64_t i);
int64_t oc_load_i64(int32_t dtype, const void *data, int64_t i);
void oc_store_f64(int32_t dtype, void *data, int64_t i, double v);
void oc_store_i64(int32_t dtype, void *data, int64_t i, int64_t v);

/* dtype classes: float (float, double, float16, bfloat16); integer (signed and unsigned, not bool). */
bool oc_dtype_is_float(int32_t dtype);
bool oc_dtype_is_int(int32_t dtype);
bool oc_dtype_is_signed_int(int32_t dtype);

/* IEEE half and bfloat16 conversions (round to nearest even). */
float oc_half_to_float(uint16_t h);
uint16_t oc_float_to_half(float f);
float oc_bf16_to_float(uint16_t h);
uint16_t oc_float_to_bf16(float f);
/* double to half / bfloat16 with a single rounding (no double rounding through float). */
uint16_t oc_double_to_half(double d);
uint16_t oc_double_to_bf16(double d);

/* ---- the broadcasting element walker: collapses an output and up to three broadcast inputs into the fewest
 * dims, then hands rows of contiguous output to a typed row loop (threads on big work) ---- */

#define OC_WALK_MAXIN 3

/* Below this many output elements a kernel runs single-threaded: thread start-up costs more than it saves. */
#define OC_PAR_MIN 65536

/* A row loop: writes n contiguous outputs at o from inputs in[k] read with element strides st[k] (0 when the
 * input is broadcast along the row). ctx is whatever the op needs (attributes, dtypes). */
typedef void (*oc_row_fn)(void *o, const void *const *in, const int64_t *st, int64_t n, const void *ctx);

typedef struct oc_walk {
    int rank;  /* collapsed rank, >= 1 */
    int n;     /* inputs */
    int64_t dims[ONNXC_MAX_RANK];
    int64_t st[OC_WALK_MAXIN][ONNXC_MAX_RANK];
} oc_walk;

/* Prepare a walk of out (already shaped) over n inputs broadcast to it. */
void oc_walk_init(oc_walk *w, const onnxc_tensor *out, int n, const onnxc_tensor *const *in);

/* Run f over every row of the walk: out data of out_dtype, input k's data in[k] of dtype in_dtype[k]. */
void oc_walk_run(const oc_walk *w, void *out, int32_t out_dtype, const void *const *in, const int32_t *in_dtype,
                 oc_row_fn f, const void *ctx, int threads);

/* Normalise an axis attribute against rank (negative counts from the end). ONNXC_E_INVALID naming the node
 * when out of range. */
onnxc_status oc_norm_axis(const oc_kctx *c, int64_t axis, int rank, int *out);

/* Error for this node: "node 'name' (Op): message". Returns st. */
onnxc_status oc_kerr(const oc_kctx *c, onnxc_status st, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
