/* Element types: one element of any numeric dtype read or written as double / int64, dtype classes, and IEEE
 * half / bfloat16 conversions (the core's dtype conversions; kernels, passes and tools share them). */
#ifndef ONNXC_DTYPE_H
#define ONNXC_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "onnxc/onnxc.h"

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

/* n elements of float16 / bfloat16 (dtype) to float32 and back, rounding to nearest even: the conversion loops
 * of the runtime's float16 path (F16C when the build targets it, the scalar conversions above otherwise; both
 * give the same bits). dtype ONNXC_FLOAT copies. */
void oc_half_to_float_n(int32_t dtype, const uint16_t *src, float *dst, int64_t n);
void oc_float_to_half_n(int32_t dtype, const float *src, uint16_t *dst, int64_t n);

#endif
