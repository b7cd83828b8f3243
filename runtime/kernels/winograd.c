/* Winograd F(2x2, 3x3) convolution (see winograd.h). With d a 4 x 4 input tile, g a 3 x 3 kernel and
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 * A^T = [1 1 1 0; 0 1 -1 -1], the 2 x 2 output tile is A^T [(G g G^T) .* (B^T d B)] A, summed over channels.
 * The transforms work on 8 tiles of a tile row at once (AVX2), the products are packed GEMMs. */
#include <math.h>
#include <string.h>

#include "util.h"
#include "winograd.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "simd.h"
#define OC_WINO_AVX2 1
#endif

#define MR OC_GEMM_MR

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

bool oc_wino_available(void)
{
#ifdef OC_WINO_AVX2
    return true;
#else
    return false;
#endif
}

onnxc_status oc_wino_plan(oc_wino *wz, int64_t c, int64_t m, int64_t h, int64_t w, int64_t pt, int64_t pb,
                          int64_t pl, int64_t pr, int slots)
{
    memset(wz, 0, sizeof *wz);
    wz->c = c;
    wz->m = m;
    wz->h = h;
    wz->w = w;
    wz->pt = pt;
    wz->pl = pl;
    wz->ho = h + pt + pb - 2;
    wz->wo = w + pl + pr - 2;
    if (wz->ho < 1 || wz->wo < 1 || c < 1 || m < 1)
        return oc_err(ONNXC_E_INVALID, "winograd: empty convolution");
    wz->th = ceil_div(wz->ho, 2);
    wz->tw = ceil_div(wz->wo, 2);
    /* a block's V [16][c][tiles] and M [16][m][tiles] should stay near L2 (~384 KiB) */
    int64_t tiles = 6144 / (c + m);
    tiles = tiles < 16 ? 16 : tiles > 256 ? 256 : tiles;
    int64_t rows = (tiles + wz->tw / 2) / wz->tw;
    rows = rows < 1 ? 1 : rows > wz->th ? wz->th : rows;
    /* blocks of whole 16-tile GEMM panels where a few more rows give them (up to 128 tiles): a last panel of 8
     * or 12 tiles costs nearly a whole one (1 thread: 64 channels on 56 x 56 with 4 tile rows of 28, 0.94x;
     * 128 on 28 x 28 with 8 rows of 14, 0.88x); the split for several threads below may cut them again */
    for (int64_t r = rows; r <= wz->th && r <= 4 * rows && r * wz->tw <= 128; r++)
        if ((r * wz->tw) % 16 == 0 || r == wz->th) {
            rows = r;
            break;
        }
    wz->mpad = ceil_div(m, MR) * MR;
    wz->mc = wz->mpad;
    /* enough items for every thread to claim several: first finer tile blocks, then channel blocks */
    const int64_t want = slots > 1 ? 4 * (int64_t)slots : 1;
    while (ceil_div(wz->th, rows) * ceil_div(wz->mpad, wz->mc) < want) {
        if (rows > 1 && rows * wz->tw > 32)
            rows = ceil_div(rows, 2);
        else if (wz->mc >= 4 * MR)
            wz->mc = ceil_div(ceil_div(wz->mc, 2), MR) * MR;
        else
            break;
    }
    wz->rows_per_blk = rows;
    wz->n_blk = ceil_div(wz->th, rows);
    wz->n_mb = ceil_div(wz->mpad, wz->mc);
    wz->tblk = rows * wz->tw;
    /* B rows of a GEMM panel at an odd number of 64-byte lines apart spread over the L1 sets */
    /* (+ 7: the input transform stores whole vectors of 8 tiles, see wino_input8) */
    wz->ldv = ceil_div(wz->tblk + 7, 16) * 16;
    if ((wz->ldv / 16) % 2 == 0)
        wz->ldv += 16;
    wz->ldm = ceil_div(wz->tblk, 16) * 16;
    wz->koff = oc_calloc((size_t)c + 1, sizeof *wz->koff);
    if (!wz->koff)
        return oc_err(ONNXC_E_NOMEM, "out of memory for the winograd plan");
    for (int64_t k = 0; k < c; k++)
        wz->koff[k] = k * wz->ldv;
    for (int xi = 0; xi < 16; xi++) {
        onnxc_status st = oc_pack_a_alloc(m, c, &wz->u[xi]);
        if (st != ONNXC_OK)
            return st;
    }
    /* the 16 planes of V and of M one 64-byte line further than a whole number of rows apart: ldv is a multiple
     * of 16 and so are the usual channel counts, so planes of c x ldv floats would start on the same L1 set and at the same 4 KiB offset,
     * and the input transform's 16 stores per tile vector (one per plane) would evict each other (measured: a
     * quarter of a 64-channel 56 x 56 layer's time in that transform) */
    int64_t v, mm, vall;
    if (!oc_mul_i64(c, wz->ldv, &wz->vplane) || !oc_mul_i64(wz->mpad, wz->ldm, &wz->mplane))
        return oc_err(ONNXC_E_NOMEM, "winograd buffers overflow");
    wz->vplane += 16;
    wz->mplane += 16;
    if (!oc_mul_i64(16, wz->vplane, &v) || !oc_mul_i64(16, wz->mplane, &mm) || !oc_mul_i64(v, wz->n_blk, &vall))
        return oc_err(ONNXC_E_NOMEM, "winograd buffers overflow");
    wz->v_floats = v;
    /* output channels split over items: each item would transform its block's whole input again (ResNet's
     * 7 x 7 and 14 x 14 planes: 8 and 2 copies at 2 threads), so the blocks are transformed once, by channel
     * chunks, into one buffer the items share; from two channel blocks on (GoogLeNet's 96 -> 128 and 32 -> 96
     * on 28 x 28 at 2 threads: 0.60 -> 0.51 and 0.181 -> 0.161 ms, single-layer, alternating) */
    wz->shared = wz->n_mb > 1;
    if (wz->shared) {
        wz->n_cc = ceil_div(want, wz->n_blk);
        wz->n_cc = wz->n_cc > c ? c : wz->n_cc;
        wz->shared_floats = vall;
        v = 0;
    }
    /* + slack: the output transform reads 8 tiles from the last tile of a row */
    wz->work_floats = ceil_div(v + mm + 16, 16) * 16;
    return ONNXC_OK;
}

void oc_wino_free(oc_wino *wz)
{
    for (int xi = 0; xi < 16; xi++)
        oc_packed_a_free(&wz->u[xi]);
    oc_free(wz->koff);
    wz->koff = NULL;
}

void oc_wino_set_weights(oc_wino *wz, const float *wt)
{
    /* U = G g G^T per channel pair, written straight into the packed panels: row mo of u[xi] is output
     * channel mo, column ci input channel ci */
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    for (int64_t mo = 0; mo < wz->m; mo++) {
        for (int64_t ci = 0; ci < wz->c; ci++) {
            const float *g = wt + (mo * wz->c + ci) * 9;
            double gg[4][3], u[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    gg[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u[i][j] = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2];
            for (int xi = 0; xi < 16; xi++) {
                const oc_packed_a *p = &wz->u[xi];
                /* the packed layout of oc_pack_a_fill: block of k, panel of rows, [k][MR] */
                const int64_t b = ci / p->kc, k0 = b * p->kc, kcb = p->k - k0 < p->kc ? p->k - k0 : p->kc;
                float *pan = p->data + k0 * p->mp * MR + (mo / MR) * kcb * MR;
                pan[(ci - k0) * MR + mo % MR] = (float)u[xi / 4][xi % 4];
            }
        }
    }
    /* rows past m in the last panel are zero */
    for (int xi = 0; xi < 16; xi++) {
        const oc_packed_a *p = &wz->u[xi];
        for (int64_t mo = wz->m; mo < p->mp * MR; mo++)
            for (int64_t ci = 0; ci < wz->c; ci++) {
                const int64_t b = ci / p->kc, k0 = b * p->kc, kcb = p->k - k0 < p->kc ? p->k - k0 : p->kc;
                p->data[k0 * p->mp * MR + (mo / MR) * kcb * MR + (ci - k0) * MR + mo % MR] = 0.0f;
            }
    }
}

#ifdef OC_WINO_AVX2

static inline __m256i lanes_below(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Eight floats of row r from column c, zeros outside [0, n) (masked lanes are not read). */
static inline __m256 load_row8(const float *r, int64_t c, int64_t n)
{
    if (c >= 0 && c + 8 <= n)
        return _mm256_loadu_ps(r + c);
    const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)),
                                        _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx));
    return _mm256_maskload_ps(r + c, in);
}

static inline __m256 even8(__m256 a, __m256 b)
{
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __m256 odd8(__m256 a, __m256 b)
{
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

/* V[xi][ci][t..t+n) for the n <= 8 tiles of tile row ty from tile tx0 (columns 2 tx - pl ..). */
static void wino_input8(const oc_wino *wz, const float *xc, int64_t ty, int64_t tx0, int n, float *v, int64_t t,
                        int64_t ci)
{
    __m256 d[4][4];
    const int64_t c0 = 2 * tx0 - wz->pl;
    for (int i = 0; i < 4; i++) {
        const int64_t r = 2 * ty - wz->pt + i;
        if (r < 0 || r >= wz->h) {
            d[i][0] = d[i][1] = d[i][2] = d[i][3] = _mm256_setzero_ps();
            continue;
        }
        const float *xr = xc + r * wz->w;
        const __m256 a = load_row8(xr, c0, wz->w), b = load_row8(xr, c0 + 8, wz->w);
        const __m256 a2 = load_row8(xr, c0 + 2, wz->w), b2 = load_row8(xr, c0 + 10, wz->w);
        d[i][0] = even8(a, b);
        d[i][1] = odd8(a, b);
        d[i][2] = even8(a2, b2);
        d[i][3] = odd8(a2, b2);
    }
    __m256 s[4][4];
    for (int j = 0; j < 4; j++) {
        s[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
        s[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
        s[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
        s[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
    }
    const int64_t plane = wz->vplane;
    float *base = v + ci * wz->ldv + t;
    (void)n;
    for (int i = 0; i < 4; i++) {
        __m256 o[4];
        o[0] = _mm256_sub_ps(s[i][0], s[i][2]);
        o[1] = _mm256_add_ps(s[i][1], s[i][2]);
        o[2] = _mm256_sub_ps(s[i][2], s[i][1]);
        o[3] = _mm256_sub_ps(s[i][1], s[i][3]);
        /* whole vectors even for n < 8 tiles (a masked store costs several plain ones on AMD cores): the
         * lanes past them are the next tile row's, stored later, or slack past the block's tiles (ldv leaves
         * 7 columns of it; those the GEMM reads are zeroed after the transform) */
        for (int j = 0; j < 4; j++)
            _mm256_storeu_ps(base + (i * 4 + j) * plane, o[j]);
    }
}

/* Output tiles t..t+n (n <= 8) of tile row ty from tile tx0, channel mo: y rows 2 ty, 2 ty + 1. */
static void wino_output8(const oc_wino *wz, const float *mrow, int64_t mstride, int64_t ty, int64_t tx0, float bias,
                         float *yc, const float *rc, bool clamp, float lo, float hi, int64_t spill_rows)
{
    __m256 mm[4][4];
    for (int xi = 0; xi < 16; xi++)
        mm[xi / 4][xi % 4] = _mm256_loadu_ps(mrow + xi * mstride);
    __m256 s[2][4];
    for (int j = 0; j < 4; j++) {
        s[0][j] = _mm256_add_ps(_mm256_add_ps(mm[0][j], mm[1][j]), mm[2][j]);
        s[1][j] = _mm256_sub_ps(_mm256_sub_ps(mm[1][j], mm[2][j]), mm[3][j]);
    }
    const __m256 vb = _mm256_set1_ps(bias);
    const int64_t c0 = 2 * tx0;
    for (int i = 0; i < 2; i++) {
        const int64_t oy = 2 * ty + i;
        if (oy >= wz->ho)
            break;
        const __m256 y0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), s[i][2]), vb);
        const __m256 y1 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[i][1], s[i][2]), s[i][3]), vb);
        /* interleave: outputs 2 tx, 2 tx + 1 of the 8 tiles */
        const __m256 lo4 = _mm256_unpacklo_ps(y0, y1), hi4 = _mm256_unpackhi_ps(y0, y1);
        __m256 out[2] = {_mm256_permute2f128_ps(lo4, hi4, 0x20), _mm256_permute2f128_ps(lo4, hi4, 0x31)};
        float *yr = yc + oy * wz->wo;
        const float *rr = rc ? rc + oy * wz->wo : NULL;
        for (int h = 0; h < 2; h++) {
            const int64_t col = c0 + 8 * h, left = wz->wo - col;
            if (left <= 0)
                break;
            __m256 vv = out[h];
            const __m256i mask = lanes_below(left < 8 ? left : 8);
            /* a vector past the row end goes whole into the next row when that row's first columns are stored
             * later by the same caller (rows below spill_rows; row 2 ty + 1's first columns come after row
             * 2 ty's last only when a tile row is one call): a masked store costs several plain ones on AMD */
            const bool whole = left >= 8 || (oy + 1 < spill_rows && (i == 1 || wz->tw <= 8));
            if (rr)
                vv = _mm256_add_ps(vv, whole ? _mm256_loadu_ps(rr + col) : _mm256_maskload_ps(rr + col, mask));
            if (clamp) /* max(lo, x), min(hi, x) keep a NaN x, as Relu and Clip do */
                vv = _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), vv));
            if (whole)
                _mm256_storeu_ps(yr + col, vv);
            else
                oc_maskstore8(yr + col, mask, vv);
        }
    }
}

#else

/* Portable transforms, one tile at a time (the same arithmetic as the AVX2 ones). */
static void wino_input8(const oc_wino *wz, const float *xc, int64_t ty, int64_t tx0, int n, float *v, int64_t t,
                        int64_t ci)
{
    const int64_t plane = wz->vplane;
    for (int q = 0; q < n; q++) {
        float d[4][4], s[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const int64_t r = 2 * ty - wz->pt + i, cc = 2 * (tx0 + q) - wz->pl + j;
                d[i][j] = r >= 0 && r < wz->h && cc >= 0 && cc < wz->w ? xc[r * wz->w + cc] : 0.0f;
            }
        for (int j = 0; j < 4; j++) {
            s[0][j] = d[0][j] - d[2][j];
            s[1][j] = d[1][j] + d[2][j];
            s[2][j] = d[2][j] - d[1][j];
            s[3][j] = d[1][j] - d[3][j];
        }
        float *base = v + ci * wz->ldv + t + q;
        for (int i = 0; i < 4; i++) {
            base[(i * 4 + 0) * plane] = s[i][0] - s[i][2];
            base[(i * 4 + 1) * plane] = s[i][1] + s[i][2];
            base[(i * 4 + 2) * plane] = s[i][2] - s[i][1];
            base[(i * 4 + 3) * plane] = s[i][1] - s[i][3];
        }
    }
}

static void wino_output8(const oc_wino *wz, const float *mrow, int64_t mstride, int64_t ty, int64_t tx0, float bias,
                         float *yc, const float *rc, bool clamp, float lo, float hi, int64_t spill_rows)
{
    (void)spill_rows;
    for (int q = 0; q < 8 && tx0 + q < wz->tw; q++) {
        float mm[4][4], s[2][4];
        for (int xi = 0; xi < 16; xi++)
            mm[xi / 4][xi % 4] = mrow[xi * mstride + q];
        for (int j = 0; j < 4; j++) {
            s[0][j] = mm[0][j] + mm[1][j] + mm[2][j];
            s[1][j] = mm[1][j] - mm[2][j] - mm[3][j];
        }
        for (int i = 0; i < 2; i++) {
            const float yv[2] = {s[i][0] + s[i][1] + s[i][2] + bias, s[i][1] - s[i][2] - s[i][3] + bias};
            const int64_t oy = 2 * ty + i;
            for (int jj = 0; jj < 2; jj++) {
                const int64_t ox = 2 * (tx0 + q) + jj;
                if (oy >= wz->ho || ox >= wz->wo)
                    continue;
                float vv = yv[jj];
                if (rc)
                    vv += rc[oy * wz->wo + ox];
                if (clamp) {
                    vv = vv < lo ? lo : vv;
                    vv = vv > hi ? hi : vv;
                }
                yc[oy * wz->wo + ox] = vv;
            }
        }
    }
}

#endif

/* Input tiles of block blk, channels [ci0, ci1), into its V [16][c][ldv] at v; the columns past the tiles up to
 * a whole panel are zeroed (the GEMM reads them). */
static void wino_transform_block(const oc_wino *wz, int64_t blk, int64_t ci0, int64_t ci1, const float *x, float *v)
{
    const int64_t ty0 = blk * wz->rows_per_blk;
    const int64_t ty1 = ty0 + wz->rows_per_blk < wz->th ? ty0 + wz->rows_per_blk : wz->th;
    const int64_t ntiles = (ty1 - ty0) * wz->tw, in_plane = wz->h * wz->w;
    for (int64_t ci = ci0; ci < ci1; ci++) {
        const float *xc = x + ci * in_plane;
        for (int64_t ty = ty0; ty < ty1; ty++)
            for (int64_t tx0 = 0; tx0 < wz->tw; tx0 += 8) {
                const int n = (int)(wz->tw - tx0 < 8 ? wz->tw - tx0 : 8);
                wino_input8(wz, xc, ty, tx0, n, v, (ty - ty0) * wz->tw + tx0, ci);
            }
    }
    const int64_t pad_end = ceil_div(ntiles, 16) * 16;
    if (pad_end > ntiles)
        for (int xi = 0; xi < 16; xi++)
            for (int64_t ci = ci0; ci < ci1; ci++)
                memset(v + xi * wz->vplane + ci * wz->ldv + ntiles, 0, (size_t)(pad_end - ntiles) * sizeof *v);
}

void oc_wino_input_item(const oc_wino *wz, int64_t item, const float *x, float *vshared)
{
    const int64_t blk = item / wz->n_cc, cc = item % wz->n_cc;
    const int64_t ci0 = wz->c * cc / wz->n_cc, ci1 = wz->c * (cc + 1) / wz->n_cc;
    wino_transform_block(wz, blk, ci0, ci1, x, vshared + blk * wz->v_floats);
}

void oc_wino_item(const oc_wino *wz, int64_t item, const float *x, float *y, const float *bias, const float *res,
                  bool clamp, float lo, float hi, float *work, const float *vshared)
{
    const int64_t blk = item / wz->n_mb, mb = item % wz->n_mb;
    const int64_t ty0 = blk * wz->rows_per_blk;
    const int64_t ty1 = ty0 + wz->rows_per_blk < wz->th ? ty0 + wz->rows_per_blk : wz->th;
    const int64_t ntiles = (ty1 - ty0) * wz->tw, ncols = ceil_div(ntiles, 8) * 8;
    const int64_t out_plane = wz->ho * wz->wo;
    /* 1. transformed input tiles, V[xi] = [c][tiles] (shared mode: done by oc_wino_input_item) */
    const float *v;
    float *mbuf;
    if (wz->shared) {
        v = vshared + blk * wz->v_floats;
        mbuf = work;
    } else {
        wino_transform_block(wz, blk, 0, wz->c, x, work);
        v = work;
        mbuf = work + wz->v_floats;
    }
    /* 2. the 16 products M[xi] = U[xi] V[xi] for this item's output channels */
    const int64_t m0 = mb * wz->mc, m1 = m0 + wz->mc < wz->mpad ? m0 + wz->mc : wz->mpad;
    for (int xi = 0; xi < 16; xi++)
        oc_gemm_packed_koff(&wz->u[xi], m0, m1, 0, ncols, v + xi * wz->vplane, wz->koff,
                            mbuf + xi * wz->mplane, wz->ldm, NULL);
    /* 3. output tiles, with the epilogue */
    const int64_t mend = m1 < wz->m ? m1 : wz->m;
    for (int64_t mo = m0; mo < mend; mo++) {
        const float b = bias ? bias[mo] : 0.0f;
        float *yc = y + mo * out_plane;
        const float *rc = res ? res + mo * out_plane : NULL;
        for (int64_t ty = ty0; ty < ty1; ty++)
            for (int64_t tx0 = 0; tx0 < wz->tw; tx0 += 8)
                wino_output8(wz, mbuf + mo * wz->ldm + (ty - ty0) * wz->tw + tx0, wz->mplane, ty, tx0, b,
                             yc, rc, clamp, lo, hi, 2 * ty1 < wz->ho ? 2 * ty1 : wz->ho);
    }
}
