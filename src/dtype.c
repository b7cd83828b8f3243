/* Element types: access to one element of any numeric dtype as double or int64 (saturating, no undefined
 * behaviour), dtype classes, and IEEE half / bfloat16 conversions. Core: the passes, the runtime and the tools
 * all convert through these. */
#include "dtype.h"

#include <math.h>
#include <string.h>
#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

double oc_load_f64(int32_t dtype, const void *p, int64_t i)
{
    switch (dtype) {
    case ONNXC_FLOAT: return ((const float *)p)[i];
    case ONNXC_DOUBLE: return ((const double *)p)[i];
    case ONNXC_UINT8: return ((const uint8_t *)p)[i];
    case ONNXC_INT8: return ((const int8_t *)p)[i];
    case ONNXC_UINT16: return ((const uint16_t *)p)[i];
    case ONNXC_INT16: return ((const int16_t *)p)[i];
    case ONNXC_INT32: return ((const int32_t *)p)[i];
    case ONNXC_INT64: return (double)((const int64_t *)p)[i];
    case ONNXC_UINT32: return ((const uint32_t *)p)[i];
    case ONNXC_UINT64: return (double)((const uint64_t *)p)[i];
    case ONNXC_BOOL: return ((const uint8_t *)p)[i] ? 1.0 : 0.0;
    case ONNXC_FLOAT16: return oc_half_to_float(((const uint16_t *)p)[i]);
    case ONNXC_BFLOAT16: return oc_bf16_to_float(((const uint16_t *)p)[i]);
    default: return 0.0;
    }
}

/* Float to int64 the way a C cast does for in-range values (truncation); NaN and out-of-range values saturate
 * instead of invoking undefined behaviour. */
static int64_t oc_f2i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

int64_t oc_load_i64(int32_t dtype, const void *p, int64_t i)
{
    switch (dtype) {
    case ONNXC_INT64: return ((const int64_t *)p)[i];
    case ONNXC_INT32: return ((const int32_t *)p)[i];
    case ONNXC_UINT8: return ((const uint8_t *)p)[i];
    case ONNXC_INT8: return ((const int8_t *)p)[i];
    case ONNXC_UINT16: return ((const uint16_t *)p)[i];
    case ONNXC_INT16: return ((const int16_t *)p)[i];
    case ONNXC_UINT32: return ((const uint32_t *)p)[i];
    case ONNXC_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case ONNXC_BOOL: return ((const uint8_t *)p)[i] ? 1 : 0;
    case ONNXC_FLOAT: return oc_f2i64(((const float *)p)[i]);
    case ONNXC_DOUBLE: return oc_f2i64(((const double *)p)[i]);
    case ONNXC_FLOAT16: return oc_f2i64(oc_half_to_float(((const uint16_t *)p)[i]));
    case ONNXC_BFLOAT16: return oc_f2i64(oc_bf16_to_float(((const uint16_t *)p)[i]));
    default: return 0;
    }
}

/* Unsigned targets take the low bits of the truncated value (what numpy's astype does for in-range floats). */
static uint64_t oc_f2u64(double v)
{
    if (v != v)
        return 0;
    if (v >= 18446744073709551616.0)
        return UINT64_MAX;
    if (v >= 9223372036854775808.0)
        return (uint64_t)v;
    return (uint64_t)oc_f2i64(v);
}

void oc_store_f64(int32_t dtype, void *p, int64_t i, double v)
{
    switch (dtype) {
    case ONNXC_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNXC_DOUBLE: ((double *)p)[i] = v; break;
    case ONNXC_UINT8: ((uint8_t *)p)[i] = (uint8_t)oc_f2u64(v); break;
    case ONNXC_INT8: ((int8_t *)p)[i] = (int8_t)oc_f2i64(v); break;
    case ONNXC_UINT16: ((uint16_t *)p)[i] = (uint16_t)oc_f2u64(v); break;
    case ONNXC_INT16: ((int16_t *)p)[i] = (int16_t)oc_f2i64(v); break;
    case ONNXC_INT32: ((int32_t *)p)[i] = (int32_t)oc_f2i64(v); break;
    case ONNXC_INT64: ((int64_t *)p)[i] = oc_f2i64(v); break;
    case ONNXC_UINT32: ((uint32_t *)p)[i] = (uint32_t)oc_f2u64(v); break;
    case ONNXC_UINT64: ((uint64_t *)p)[i] = oc_f2u64(v); break;
    case ONNXC_BOOL: ((uint8_t *)p)[i] = v != 0.0; break;
    case ONNXC_FLOAT16: ((uint16_t *)p)[i] = oc_double_to_half(v); break;
    case ONNXC_BFLOAT16: ((uint16_t *)p)[i] = oc_double_to_bf16(v); break;
    default: break;
    }
}

void oc_store_i64(int32_t dtype, void *p, int64_t i, int64_t v)
{
    switch (dtype) {
    case ONNXC_INT64: ((int64_t *)p)[i] = v; break;
    case ONNXC_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case ONNXC_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case ONNXC_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case ONNXC_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case ONNXC_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case ONNXC_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case ONNXC_UINT64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case ONNXC_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case ONNXC_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNXC_DOUBLE: ((double *)p)[i] = (double)v; break;
    case ONNXC_FLOAT16: ((uint16_t *)p)[i] = oc_double_to_half((double)v); break;
    case ONNXC_BFLOAT16: ((uint16_t *)p)[i] = oc_double_to_bf16((double)v); break;
    default: break;
    }
}

double oc_get_f64(const onnxc_tensor *t, int64_t i) { return oc_load_f64(t->dtype, t->data, i); }
int64_t oc_get_i64(const onnxc_tensor *t, int64_t i) { return oc_load_i64(t->dtype, t->data, i); }
void oc_set_f64(onnxc_tensor *t, int64_t i, double v) { oc_store_f64(t->dtype, t->data, i, v); }
void oc_set_i64(onnxc_tensor *t, int64_t i, int64_t v) { oc_store_i64(t->dtype, t->data, i, v); }

bool oc_dtype_is_float(int32_t dtype)
{
    return dtype == ONNXC_FLOAT || dtype == ONNXC_DOUBLE || dtype == ONNXC_FLOAT16 || dtype == ONNXC_BFLOAT16;
}

bool oc_dtype_is_int(int32_t dtype)
{
    switch (dtype) {
    case ONNXC_INT8: case ONNXC_INT16: case ONNXC_INT32: case ONNXC_INT64:
    case ONNXC_UINT8: case ONNXC_UINT16: case ONNXC_UINT32: case ONNXC_UINT64: return true;
    default: return false;
    }
}

bool oc_dtype_is_signed_int(int32_t dtype)
{
    return dtype == ONNXC_INT8 || dtype == ONNXC_INT16 || dtype == ONNXC_INT32 || dtype == ONNXC_INT64;
}

static uint32_t oc_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float oc_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float oc_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) /* inf / NaN: keep the payload */
        return oc_bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in float */
        float v = (float)man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return oc_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t oc_float_to_half(float f)
{
    uint32_t u = oc_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) { /* inf or NaN (NaN stays quiet NaN) */
        if (abs == 0x7f800000u)
            return sign | 0x7c00u;
        return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    }
    if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return sign | 0x7c00u;
    if (abs < 0x38800000u) {
        /* result is subnormal or zero: value / 2^-24, rounded to nearest even */
        if (abs < 0x33000000u) /* below half of the smallest subnormal: +-0 */
            return sign;
        uint32_t e = abs >> 23;
        uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        /* value = m * 2^(e-150); in units of the smallest subnormal 2^-24 that is m >> (126 - e) */
        uint32_t shift = 126u - e;
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u)))
            q++;
        return (uint16_t)(sign | q);
    }
    /* normal: rebias exponent and round the 13 dropped mantissa bits to nearest even */
    uint32_t r = abs - 0x38000000u; /* exponent bias 127 -> 15 */
    uint32_t q = r >> 13;
    uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u)))
        q++; /* a carry into the exponent is the correct result */
    return (uint16_t)(sign | q);
}

float oc_bf16_to_float(uint16_t h)
{
    return oc_bits_f32((uint32_t)h << 16);
}

uint16_t oc_float_to_bf16(float f)
{
    uint32_t u = oc_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN, never round it into inf */
        return (uint16_t)((u >> 16) | 0x40u);
    uint32_t lsb = (u >> 16) & 1u;
    u += 0x7fffu + lsb;
    return (uint16_t)(u >> 16);
}

/* double -> float rounded to odd: when inexact, the float's last bit is forced to 1 by picking the neighbour
 * with an odd significand. A second rounding of that float to a format at least two bits shorter (half: 11,
 * bfloat16: 8 of float's 24) then equals one correct rounding of the double. */
static float oc_double_to_float_odd(double d)
{
    float f = (float)d;
    if (!(f == f) || isinf(f) || (double)f == d)
        return f;
    uint32_t u = oc_f32_bits(f);
    if ((u & 1u) == 0) {
        if (fabs((double)f) > fabs(d))
            u -= 1; /* toward zero */
        else
            u += 1; /* away from zero */
    }
    return oc_bits_f32(u);
}

uint16_t oc_double_to_half(double d)
{
    return oc_float_to_half(oc_double_to_float_odd(d));
}

uint16_t oc_double_to_bf16(double d)
{
    return oc_float_to_bf16(oc_double_to_float_odd(d));
}

/* ---- conversion loops ---- */

void oc_half_to_float_n(int32_t dtype, const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
    if (dtype == ONNXC_FLOAT) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    if (dtype == ONNXC_BFLOAT16) {
        for (; i < n; i++) /* a shift: the compiler vectorises it */
            dst[i] = oc_bits_f32((uint32_t)src[i] << 16);
        return;
    }
#if defined(__F16C__) && defined(__AVX__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
#endif
    for (; i < n; i++)
        dst[i] = oc_half_to_float(src[i]);
}

void oc_float_to_half_n(int32_t dtype, const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    if (dtype == ONNXC_FLOAT) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    if (dtype == ONNXC_BFLOAT16) {
        for (; i < n; i++)
            dst[i] = oc_float_to_bf16(src[i]);
        return;
    }
#if defined(__F16C__) && defined(__AVX__)
    /* vcvtps2ph with imm 0: round to nearest even, NaN stays NaN (quiet), overflow to inf: as oc_float_to_half */
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), 0));
#endif
    for (; i < n; i++)
        dst[i] = oc_float_to_half(src[i]);
}

/* ---- the public conversions (onnxc.h) ---- */

double onnxc_tensor_get_f64(const onnxc_tensor *t, int64_t i)
{
    if (!t || !t->data)
        return 0;
    return oc_load_f64(t->dtype, t->data, i);
}

float onnxc_half_to_float(uint16_t h) { return oc_half_to_float(h); }
uint16_t onnxc_float_to_half(float f) { return oc_float_to_half(f); }
float onnxc_bfloat16_to_float(uint16_t h) { return oc_bf16_to_float(h); }
uint16_t onnxc_float_to_bfloat16(float f) { return oc_float_to_bf16(f); }
