/* Small AVX2 helpers the kernels share: the partial (masked) stores of 8 floats. Only for files built with AVX2;
 * include it inside their `#ifdef __AVX2__` part. */
#ifndef OC_SIMD_H
#define OC_SIMD_H

#include <immintrin.h>
#include <stdint.h>

/* Store the lanes of v whose mask lane m is set (all bits) at p; the others are not written, and not touched
 * (no fault past the end). AVX-512VL's masked store where the build has it: AVX2's vmaskmovps store measured
 * about ten times slower than a plain store on Zen 4 (about 35 cycles), so a partial row end costs as much as
 * several whole vectors; the bits written are the same. */
static inline void oc_maskstore8(float *p, __m256i m, __m256 v)
{
#ifdef __AVX512VL__
    _mm256_mask_storeu_ps(p, (__mmask8)_mm256_movemask_ps(_mm256_castsi256_ps(m)), v);
#else
    _mm256_maskstore_ps(p, m, v);
#endif
}

/* Store the first n (0 <= n <= 8) lanes of v at p: oc_maskstore8 with the mask of the first n lanes. */
static inline void oc_storen8(float *p, int64_t n, __m256 v)
{
#ifdef __AVX512VL__
    _mm256_mask_storeu_ps(p, (__mmask8)((1u << n) - 1), v);
#else
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), v);
#endif
}

#endif
