/* Vector float32 math for the elementwise kernels and the fused Conv/Gemm epilogues: e^x, sigmoid, tanh, erf and
 * the activations built on them, over arrays, with stated error bounds (checked against double-precision libm
 * over a sweep of the whole float range by tests/unit/test_vmath.c).
 *
 * The instruction set is the build's (as conv.c and sgemm_packed.c do): AVX2 + FMA intrinsics when the compiler
 * targets them (-DONNXC_NATIVE=ON on such a CPU; the sigmoid family in AVX-512 where the build has it, with a
 * 14-bit reciprocal and a Newton step for its divide), else portable C loops that the compiler vectorizes for
 * whatever it targets (SSE2 at -DONNXC_NATIVE=OFF). The portable code computes the same formulas; results can
 * differ in the last bits (FMA rounds once; the reciprocal) but all stay inside the bounds below.
 *
 * Every array function takes o == x (in place). Elements are computed independently with the same code (the
 * tail is a masked vector, not a scalar loop), so an element's result never depends on where a thread split an
 * array.
 *
 * Error bounds (ulp of the float result; "rel" = |got - exact| / |exact|, exact from double libm):
 *   exp      rel <= 2.5e-7 where e^x is a normal float (x in [-87.33, 88.72]); below, subnormal results within
 *            2^-149 absolute, 0 under e^-103.98; +inf above 88.73; exp(-inf) = 0, exp(+inf) = +inf, NaN -> NaN.
 *   sigmoid  rel <= 2.5e-7 where the result is a normal float (measured 1.9e-7); subnormal results within 2^-149
 *            absolute; 0 <= sigmoid(x) <= 1, exactly 1 for x >= 18; NaN -> NaN. (Its own e^-|x|, see vmath.c.)
 *   tanh     rel <= 8e-7 for all x (measured 5.9e-7) (odd: tanh(-0) = -0; +-1 at +-inf), NaN -> NaN.
 *   erf      abs <= 5e-7 for all x (measured 3.8e-7), and rel <= 1e-6 for 1e-30 <= |x| <= 1e-3; NaN -> NaN.
 *   silu     x * sigmoid(x): rel <= 3e-7 for x >= -87 (sigmoid normal; measured 2.3e-7); below,
 *            abs <= 104 * 2^-149. mul_sigmoid(a, b) is a * sigmoid(b) with sigmoid's bits, one multiply after.
 *   gelu     x/2 (1 + erf(x/sqrt2)): abs <= |x|/2 * 5e-7 + 2.4e-7 |gelu(x)| (1 + erf cancels for x < 0).
 *   hardsigmoid, hardswish: exact to one rounding of alpha*x+beta (NaN passes through, as numpy.clip). */
#ifndef OC_VMATH_H
#define OC_VMATH_H

#include <stdint.h>

/* Which code the functions below run: "avx2+fma" (with ", avx512f (sigmoid family)" where built), "portable". */
const char *oc_vm_isa(void);

/* o[i] = f(x[i]) for i < n. */
void oc_vm_exp(float *o, const float *x, int64_t n);
void oc_vm_sigmoid(float *o, const float *x, int64_t n);
void oc_vm_tanh(float *o, const float *x, int64_t n);
void oc_vm_erf(float *o, const float *x, int64_t n);
/* x * sigmoid(x) (SiLU / Swish) */
void oc_vm_silu(float *o, const float *x, int64_t n);
/* x/2 * (1 + erf(x / sqrt(2))) (GELU, the exact form) */
void oc_vm_gelu(float *o, const float *x, int64_t n);
/* min(1, max(0, alpha * x + beta)) (HardSigmoid-6) */
void oc_vm_hardsigmoid(float *o, const float *x, int64_t n, float alpha, float beta);
/* x * hardsigmoid(x) with alpha 1/6, beta 1/2 (HardSwish-14) */
void oc_vm_hardswish(float *o, const float *x, int64_t n);
/* o[i] = a[i] * hardsigmoid(b[i]) and o[i] = a[i] * sigmoid(b[i]): the exporters' x * act(x) pairs and the
 * squeeze-excite gate, for a fused caller (o may be a or b). */
void oc_vm_mul_hardsigmoid(float *o, const float *a, const float *b, int64_t n, float alpha, float beta);
void oc_vm_mul_sigmoid(float *o, const float *a, const float *b, int64_t n);

#endif
