/* Vector float32 e^x, sigmoid, tanh, erf and the activations on them (see vmath.h for the error bounds): AVX2 + FMA
 * intrinsics when the build targets them (the sigmoid family sixteen lanes wide under AVX-512, its own reciprocal
 * there), else portable loops with the same formulas that the compiler vectorizes for its target. Sigmoid has an
 * exponential of its own, for arguments <= 0 only (a shorter polynomial, no overflow path); Exp, tanh and
 * Softmax use the general one. */
#include "vmath.h"

#include "kutil.h" /* oc_selectf */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "simd.h"
#define OC_VM_AVX2 1
#else
#define OC_VM_AVX2 0
#endif

/* ---- constants shared by both paths ----
 * exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by Cephes' degree-7 polynomial (its
 * minimax error on that interval is under 1 ulp), then 2^n applied as two factors 2^(n/2) and 2^(n - n/2), each
 * a normal float over the whole clamped range, so subnormal results round once (in the last multiply) and
 * results past float's range overflow to +inf by themselves. The clamp keeps n in [-150, 129]. */
#define OC_EXP_LO (-104.0f)  /* e^-104 < 2^-150: the product underflows to 0 below */
#define OC_EXP_HI 89.0f      /* e^89 > FLT_MAX: the product overflows to +inf above */
#define OC_LOG2E 1.44269504088896341f
#define OC_LN2_HI 0.693359375f
#define OC_LN2_LO (-2.12194440e-4f)
#define OC_ROUND_MAGIC 12582912.0f /* 1.5 * 2^23: x + it leaves round(x) in the low mantissa bits */
#define OC_E7 1.9875691500e-4f
#define OC_E6 1.3981999507e-3f
#define OC_E5 8.3334519073e-3f
#define OC_E4 4.1665795894e-2f
#define OC_E3 1.6666665459e-1f
#define OC_E2 5.0000001201e-1f
/* sigmoid's e^a, a = -|x| <= 0 only: no upper clamp; the lower one (-104, where e^a < 2^-150 rounds to 0) keeps
 * the reduction finite (-inf, huge |a|) and, written max(-104, a), passes NaN on (max returns its second operand
 * when one is NaN), so no NaN blend. The same reduction as exp, then e^r ~ 1 + q, q = r (1 + r (S2 + ... r S6)):
 * a degree-6 polynomial fitted by runtime/kernels/vmath_fit.py (numpy, toward the minimax relative error on
 * [-ln2/2, ln2/2]: 1.7e-8 with these float coefficients). 2^n (n in [-150, 0]) is applied as s + q s, one FMA,
 * so e^a rounds once: AVX-512 makes s = 2^n exactly by vscalefps (a subnormal too, 0 for 2^-150); AVX2 and the
 * portable code make s = 2^(n+64) from n's bits (one shift, one add) and multiply by 2^-64 after (rounding twice
 * for a subnormal result). */
#define OC_SE6 0x1.6ae702p-10f
#define OC_SE5 0x1.12678ap-7f
#define OC_SE4 0x1.555822p-5f
#define OC_SE3 0x1.55541ap-3f
#define OC_SE2 0x1.fffffcp-2f
#define OC_SE_BIAS (191 << 23) /* (127 + 64) << 23: added to n << 23 gives the bits of 2^(n+64) */
#define OC_SE_DOWN 0x1p-64f
/* erf: Eigen's float rational approximation on [-4, 4]; outside, float erf is +-1 within 1.6e-8 */
#define OC_ERF_A13 (-2.72614225801306e-10f)
#define OC_ERF_A11 2.77068142495902e-08f
#define OC_ERF_A9 (-2.10102402082508e-06f)
#define OC_ERF_A7 (-5.69250639462346e-05f)
#define OC_ERF_A5 (-7.34990630326855e-04f)
#define OC_ERF_A3 (-2.95459980854025e-03f)
#define OC_ERF_A1 (-1.60960333262415e-02f)
#define OC_ERF_B8 (-1.45660718464996e-05f)
#define OC_ERF_B6 (-2.13374055278905e-04f)
#define OC_ERF_B4 (-1.68282697438203e-03f)
#define OC_ERF_B2 (-7.37332916720468e-03f)
#define OC_ERF_B0 (-1.42647390514189e-02f)
/* tanh: below |x| = 1/16, where 1 - e^-2|x| cancels, the odd Taylor series to x^7 (error < 1e-12 relative) */
#define OC_TANH_SMALL 0.0625f

#if OC_VM_AVX2

#ifdef __AVX512F__
const char *oc_vm_isa(void) { return "avx2+fma, avx512f (sigmoid family)"; }
#else
const char *oc_vm_isa(void) { return "avx2+fma"; }
#endif

static inline __m256 oc_v_exp(__m256 x)
{
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(OC_EXP_LO)), _mm256_set1_ps(OC_EXP_HI));
    __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(OC_LOG2E), _mm256_set1_ps(OC_ROUND_MAGIC));
    __m256 n = _mm256_sub_ps(t, _mm256_set1_ps(OC_ROUND_MAGIC));
    __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(OC_LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(OC_LN2_LO), r);
    __m256 p = _mm256_set1_ps(OC_E7);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_E6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_E5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_E4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_E3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_E2));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); /* NaN stays NaN */
}

/* e^a for a <= 0 or NaN (see OC_SE6) */
static inline __m256 oc_v_exp_neg(__m256 a)
{
    __m256 ac = _mm256_max_ps(_mm256_set1_ps(OC_EXP_LO), a); /* NaN passes */
    __m256 t = _mm256_fmadd_ps(ac, _mm256_set1_ps(OC_LOG2E), _mm256_set1_ps(OC_ROUND_MAGIC));
    __m256 n = _mm256_sub_ps(t, _mm256_set1_ps(OC_ROUND_MAGIC));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(OC_LN2_HI), ac);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(OC_LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(OC_SE6), r, _mm256_set1_ps(OC_SE5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_SE4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_SE3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(OC_SE2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256 q = _mm256_mul_ps(p, r);
    /* t's low mantissa bits hold n: shifted to the exponent field, plus the bias, they make 2^(n+64) */
    __m256 s = _mm256_castsi256_ps(
        _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23), _mm256_set1_epi32(OC_SE_BIAS)));
    return _mm256_mul_ps(_mm256_fmadd_ps(q, s, s), _mm256_set1_ps(OC_SE_DOWN));
}

/* 1 / (1 + e^-|x|), times e^-|x| for x < 0: the correctly rounded divide (AVX2 has only a 12-bit reciprocal) */
static inline __m256 oc_v_sigmoid(__m256 x)
{
    __m256 e = oc_v_exp_neg(_mm256_or_ps(x, _mm256_set1_ps(-0.0f))); /* e^-|x| <= 1 */
    __m256 r = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    __m256 neg = _mm256_mul_ps(e, r); /* e^x / (1 + e^x) for x < 0 */
    return _mm256_blendv_ps(r, neg, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

static inline __m256 oc_v_tanh(__m256 x)
{
    __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign, x);
    __m256 e = oc_v_exp(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)));
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 s = _mm256_fmadd_ps(x2, _mm256_set1_ps(-17.0f / 315.0f), _mm256_set1_ps(2.0f / 15.0f));
    s = _mm256_fmadd_ps(x2, s, _mm256_set1_ps(-1.0f / 3.0f));
    s = _mm256_fmadd_ps(_mm256_mul_ps(x, x2), s, x);
    __m256 y = _mm256_blendv_ps(t, s, _mm256_cmp_ps(a, _mm256_set1_ps(OC_TANH_SMALL), _CMP_LT_OQ));
    return _mm256_or_ps(_mm256_andnot_ps(sign, y), _mm256_and_ps(x, sign)); /* odd, -0 stays -0 */
}

static inline __m256 oc_v_erf(__m256 x)
{
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    __m256 x2 = _mm256_mul_ps(xc, xc);
    __m256 p = _mm256_set1_ps(OC_ERF_A13);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A11));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A9));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A7));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A5));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A3));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(OC_ERF_A1));
    p = _mm256_mul_ps(p, xc);
    __m256 q = _mm256_set1_ps(OC_ERF_B8);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(OC_ERF_B6));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(OC_ERF_B4));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(OC_ERF_B2));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(OC_ERF_B0));
    __m256 y = _mm256_div_ps(p, q);
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

#ifdef __AVX512F__
/* Sigmoid sixteen lanes at a time, for the sigmoid family's loops (their tails too, as masked vectors, so every
 * element of an AVX-512 build runs this code): 20 vector operations per 16 elements (the general exp and the
 * divide took 30). e^a for a <= 0 or NaN as oc_v_exp_neg, with s = 2^n by vscalefps. */
static inline __m512 oc_z_exp_neg(__m512 a)
{
    __m512 ac = _mm512_max_ps(_mm512_set1_ps(OC_EXP_LO), a); /* NaN passes */
    __m512 t = _mm512_fmadd_ps(ac, _mm512_set1_ps(OC_LOG2E), _mm512_set1_ps(OC_ROUND_MAGIC));
    __m512 n = _mm512_sub_ps(t, _mm512_set1_ps(OC_ROUND_MAGIC));
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(OC_LN2_HI), ac);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(OC_LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(OC_SE6), r, _mm512_set1_ps(OC_SE5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(OC_SE4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(OC_SE3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(OC_SE2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n); /* 2^n, exact down to 2^-149 */
    return _mm512_fmadd_ps(_mm512_mul_ps(p, r), s, s);
}

/* 1 / d, d = 1 + e^-|x| in [1, 2], by the 14-bit reciprocal and one Newton step r + r (1 - d r) (relative error
 * about 2^-28 before the last rounding); times e^-|x| for x < 0 as a masked multiply. NaN: e is NaN, so is r. */
static inline __m512 oc_z_sigmoid(__m512 x)
{
    __m512 e = oc_z_exp_neg(_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));
    __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), e);
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
    return _mm512_mask_mul_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), e, r);
}
/* The loops' whole part: 16-lane vectors, then the rest as one masked vector (masked-off lanes read as 0 and are
 * not written); i ends at n. */
#define OC_VM_Z_UNARY(E)                                                                                  \
    for (; i + 16 <= n; i += 16) {                                                                        \
        __m512 z = _mm512_loadu_ps(x + i);                                                                \
        _mm512_storeu_ps(o + i, (E));                                                                     \
    }                                                                                                     \
    if (i < n) {                                                                                          \
        __mmask16 zm = (__mmask16)((1u << (n - i)) - 1);                                                  \
        __m512 z = _mm512_maskz_loadu_ps(zm, x + i);                                                      \
        _mm512_mask_storeu_ps(o + i, zm, (E));                                                            \
        i = n;                                                                                            \
    }
#define OC_VM_Z_BINARY(E)                                                                                 \
    for (; i + 16 <= n; i += 16) {                                                                        \
        __m512 za = _mm512_loadu_ps(a + i), zb = _mm512_loadu_ps(b + i);                                  \
        _mm512_storeu_ps(o + i, (E));                                                                     \
    }                                                                                                     \
    if (i < n) {                                                                                          \
        __mmask16 zm = (__mmask16)((1u << (n - i)) - 1);                                                  \
        __m512 za = _mm512_maskz_loadu_ps(zm, a + i), zb = _mm512_maskz_loadu_ps(zm, b + i);              \
        _mm512_mask_storeu_ps(o + i, zm, (E));                                                            \
        i = n;                                                                                            \
    }
#else
#define OC_VM_Z_UNARY(E)
#define OC_VM_Z_BINARY(E)
#endif

/* min(1, max(0, v)) with NaN passing through: max/min return their second operand when either is NaN */
static inline __m256 oc_v_unit_clamp(__m256 v)
{
    return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(_mm256_setzero_ps(), v));
}

/* Lane mask of the first k < 8 lanes, for the masked tail. */
static inline __m256i oc_v_tail_mask(int64_t k)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* A unary array loop over vector expression E(v) with a masked tail: the tail lanes run the same code. */
#define OC_VM_UNARY(NAME, PARAMS, E)                                                                      \
    void NAME PARAMS                                                                                      \
    {                                                                                                     \
        int64_t i = 0;                                                                                    \
        for (; i + 8 <= n; i += 8) {                                                                      \
            __m256 v = _mm256_loadu_ps(x + i);                                                            \
            _mm256_storeu_ps(o + i, (E));                                                                 \
        }                                                                                                 \
        if (i < n) {                                                                                      \
            __m256i m = oc_v_tail_mask(n - i);                                                            \
            __m256 v = _mm256_maskload_ps(x + i, m);                                                      \
            oc_maskstore8(o + i, m, (E));                                                                  \
        }                                                                                                 \
    }
/* The same run sixteen lanes at a time where the build has AVX-512, the tail included (Z over z / za, zb). */
#define OC_VM_UNARY_Z(NAME, PARAMS, Z, E)                                                             \
    void NAME PARAMS                                                                                  \
    {                                                                                                 \
        int64_t i = 0;                                                                                \
        OC_VM_Z_UNARY(Z)                                                                              \
        for (; i + 8 <= n; i += 8) {                                                                  \
            __m256 v = _mm256_loadu_ps(x + i);                                                        \
            _mm256_storeu_ps(o + i, (E));                                                             \
        }                                                                                             \
        if (i < n) {                                                                                  \
            __m256i m = oc_v_tail_mask(n - i);                                                        \
            __m256 v = _mm256_maskload_ps(x + i, m);                                                  \
            oc_maskstore8(o + i, m, (E));                                                             \
        }                                                                                             \
    }

#define OC_VM_BINARY(NAME, PARAMS, E)                                                                     \
    void NAME PARAMS                                                                                      \
    {                                                                                                     \
        int64_t i = 0;                                                                                    \
        for (; i + 8 <= n; i += 8) {                                                                      \
            __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);                              \
            _mm256_storeu_ps(o + i, (E));                                                                 \
        }                                                                                                 \
        if (i < n) {                                                                                      \
            __m256i m = oc_v_tail_mask(n - i);                                                            \
            __m256 va = _mm256_maskload_ps(a + i, m), vb = _mm256_maskload_ps(b + i, m);                  \
            oc_maskstore8(o + i, m, (E));                                                                  \
        }                                                                                                 \
    }
/* The same run sixteen lanes at a time where the build has AVX-512, the tail included (Z over za, zb). */
#define OC_VM_BINARY_Z(NAME, PARAMS, Z, E)                                                            \
    void NAME PARAMS                                                                                  \
    {                                                                                                 \
        int64_t i = 0;                                                                                \
        OC_VM_Z_BINARY(Z)                                                                             \
        for (; i + 8 <= n; i += 8) {                                                                  \
            __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);                          \
            _mm256_storeu_ps(o + i, (E));                                                             \
        }                                                                                             \
        if (i < n) {                                                                                  \
            __m256i m = oc_v_tail_mask(n - i);                                                        \
            __m256 va = _mm256_maskload_ps(a + i, m), vb = _mm256_maskload_ps(b + i, m);              \
            oc_maskstore8(o + i, m, (E));                                                             \
        }                                                                                             \
    }

OC_VM_UNARY(oc_vm_exp, (float *o, const float *x, int64_t n), oc_v_exp(v))
OC_VM_UNARY_Z(oc_vm_sigmoid, (float *o, const float *x, int64_t n), oc_z_sigmoid(z), oc_v_sigmoid(v))
OC_VM_UNARY(oc_vm_tanh, (float *o, const float *x, int64_t n), oc_v_tanh(v))
OC_VM_UNARY(oc_vm_erf, (float *o, const float *x, int64_t n), oc_v_erf(v))
OC_VM_UNARY_Z(oc_vm_silu, (float *o, const float *x, int64_t n), _mm512_mul_ps(z, oc_z_sigmoid(z)),
              _mm256_mul_ps(v, oc_v_sigmoid(v)))
OC_VM_UNARY(oc_vm_gelu, (float *o, const float *x, int64_t n),
            _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)),
                          _mm256_add_ps(_mm256_set1_ps(1.0f),
                                        oc_v_erf(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f))))))
OC_VM_UNARY(oc_vm_hardsigmoid, (float *o, const float *x, int64_t n, float alpha, float beta),
            oc_v_unit_clamp(_mm256_fmadd_ps(v, _mm256_set1_ps(alpha), _mm256_set1_ps(beta))))
OC_VM_UNARY(oc_vm_hardswish, (float *o, const float *x, int64_t n),
            _mm256_mul_ps(v, oc_v_unit_clamp(_mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f),
                                                             _mm256_set1_ps(0.5f)))))
OC_VM_BINARY(oc_vm_mul_hardsigmoid, (float *o, const float *a, const float *b, int64_t n, float alpha, float beta),
             _mm256_mul_ps(va, oc_v_unit_clamp(_mm256_fmadd_ps(vb, _mm256_set1_ps(alpha), _mm256_set1_ps(beta)))))
OC_VM_BINARY_Z(oc_vm_mul_sigmoid, (float *o, const float *a, const float *b, int64_t n),
               _mm512_mul_ps(za, oc_z_sigmoid(zb)), _mm256_mul_ps(va, oc_v_sigmoid(vb)))

#else /* portable */

const char *oc_vm_isa(void) { return "portable"; }

static inline float oc_s_pow2(int32_t n)
{
    uint32_t b = (uint32_t)(n + 127) << 23;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline float oc_s_exp(float x)
{
    float xc = oc_selectf(x >= OC_EXP_LO, x, OC_EXP_LO); /* NaN goes to the bound here, back at the end */
    xc = oc_selectf(xc <= OC_EXP_HI, xc, OC_EXP_HI);
    float t = xc * OC_LOG2E + OC_ROUND_MAGIC;
    float n = t - OC_ROUND_MAGIC;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    int32_t ni = (int32_t)(tb - 0x4B400000u);
    float r = xc - n * OC_LN2_HI;
    r = r - n * OC_LN2_LO;
    float p = OC_E7;
    p = p * r + OC_E6;
    p = p * r + OC_E5;
    p = p * r + OC_E4;
    p = p * r + OC_E3;
    p = p * r + OC_E2;
    p = p * (r * r) + (r + 1.0f);
    int32_t n1 = ni / 2, n2 = ni - n1;
    return oc_selectf(x != x, x, p * oc_s_pow2(n1) * oc_s_pow2(n2));
}

/* e^a for a <= 0 or NaN (see OC_SE6): oc_v_exp_neg's operations */
static inline float oc_s_exp_neg(float a)
{
    float ac = oc_selectf((a >= OC_EXP_LO) | (a != a), a, OC_EXP_LO); /* NaN passes */
    float t = ac * OC_LOG2E + OC_ROUND_MAGIC;
    float n = t - OC_ROUND_MAGIC;
    float r = ac - n * OC_LN2_HI;
    r = r - n * OC_LN2_LO;
    float p = OC_SE6 * r + OC_SE5;
    p = p * r + OC_SE4;
    p = p * r + OC_SE3;
    p = p * r + OC_SE2;
    p = p * r + 1.0f;
    float q = p * r;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    uint32_t sb = (tb << 23) + (uint32_t)OC_SE_BIAS; /* 2^(n+64) */
    float s;
    memcpy(&s, &sb, sizeof s);
    return (q * s + s) * OC_SE_DOWN;
}

static inline float oc_s_sigmoid(float x)
{
    float e = oc_s_exp_neg(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    return oc_selectf(x < 0, e * r, r);
}

static inline float oc_s_tanh(float x)
{
    float a = fabsf(x);
    float e = oc_s_exp(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    float x2 = x * x;
    float s = x + (x * x2) * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f)));
    return copysignf(oc_selectf(a < OC_TANH_SMALL, s, t), x); /* odd, -0 stays -0 */
}

static inline float oc_s_erf(float x)
{
    float xc = oc_selectf(x >= -4.0f, x, -4.0f);
    xc = oc_selectf(xc <= 4.0f, xc, 4.0f);
    float x2 = xc * xc;
    float p = OC_ERF_A13;
    p = p * x2 + OC_ERF_A11;
    p = p * x2 + OC_ERF_A9;
    p = p * x2 + OC_ERF_A7;
    p = p * x2 + OC_ERF_A5;
    p = p * x2 + OC_ERF_A3;
    p = p * x2 + OC_ERF_A1;
    p = p * xc;
    float q = OC_ERF_B8;
    q = q * x2 + OC_ERF_B6;
    q = q * x2 + OC_ERF_B4;
    q = q * x2 + OC_ERF_B2;
    q = q * x2 + OC_ERF_B0;
    return oc_selectf(x != x, x, p / q);
}

/* min(1, max(0, v)), NaN passing through */
static inline float oc_s_unit_clamp(float v)
{
    v = v < 0.0f ? 0.0f : v;
    return v > 1.0f ? 1.0f : v;
}

#define OC_VM_UNARY(NAME, PARAMS, E)                                                                      \
    void NAME PARAMS                                                                                      \
    {                                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            float v = x[i];                                                                               \
            o[i] = (E);                                                                                   \
        }                                                                                                 \
    }
#define OC_VM_BINARY(NAME, PARAMS, E)                                                                     \
    void NAME PARAMS                                                                                      \
    {                                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            float va = a[i], vb = b[i];                                                                   \
            o[i] = (E);                                                                                   \
        }                                                                                                 \
    }

OC_VM_UNARY(oc_vm_exp, (float *o, const float *x, int64_t n), oc_s_exp(v))
OC_VM_UNARY(oc_vm_sigmoid, (float *o, const float *x, int64_t n), oc_s_sigmoid(v))
OC_VM_UNARY(oc_vm_tanh, (float *o, const float *x, int64_t n), oc_s_tanh(v))
OC_VM_UNARY(oc_vm_erf, (float *o, const float *x, int64_t n), oc_s_erf(v))
OC_VM_UNARY(oc_vm_silu, (float *o, const float *x, int64_t n), v * oc_s_sigmoid(v))
OC_VM_UNARY(oc_vm_gelu, (float *o, const float *x, int64_t n),
            (v * 0.5f) * (1.0f + oc_s_erf(v * 0.70710678118654752f)))
OC_VM_UNARY(oc_vm_hardsigmoid, (float *o, const float *x, int64_t n, float alpha, float beta),
            oc_s_unit_clamp(v * alpha + beta))
OC_VM_UNARY(oc_vm_hardswish, (float *o, const float *x, int64_t n), v * oc_s_unit_clamp(v * (1.0f / 6.0f) + 0.5f))
OC_VM_BINARY(oc_vm_mul_hardsigmoid, (float *o, const float *a, const float *b, int64_t n, float alpha, float beta),
             va * oc_s_unit_clamp(vb * alpha + beta))
OC_VM_BINARY(oc_vm_mul_sigmoid, (float *o, const float *a, const float *b, int64_t n), va * oc_s_sigmoid(vb))

#endif
