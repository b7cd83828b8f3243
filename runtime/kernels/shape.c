/* Shape-manipulation kernels (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Gather and
 * friends, Scatter*, Shape, Size, Constant, ConstantOfShape, Identity, Dropout, Expand, Range, Tile). They move
 * bytes, so they serve every fixed-size element type by element size; string tensors are refused. */
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"

#define MAXR ONNXC_MAX_RANK

/* ---------------------------------------------------------------- shared helpers */

static const onnxc_tensor *opt_in(const oc_kctx *c, int i)
{
    return i < c->n_in ? c->in[i] : NULL;
}

static onnxc_tensor *opt_out(const oc_kctx *c, int i)
{
    return i < c->n_out ? c->out[i] : NULL;
}

/* Required input i must be present. */
static onnxc_status need_in(const oc_kctx *c, int i, const char *what)
{
    if (!opt_in(c, i))
        return oc_kerr(c, ONNXC_E_INVALID, "missing required input %d (%s)", i, what);
    return ONNXC_OK;
}

/* The prologue of every infer here: the required inputs named in0, in1, in2 (NULL: none) are present, and
 * input 0 has a type these kernels can move. */
static onnxc_status need_inputs(const oc_kctx *c, const char *in0, const char *in1, const char *in2)
{
    const char *names[3] = {in0, in1, in2};
    for (int i = 0; i < 3 && names[i]; i++) {
        onnxc_status st = need_in(c, i, names[i]);
        if (st != ONNXC_OK)
            return st;
    }
    size_t es;
    return oc_kmove_size(c, c->in[0]->dtype, &es);
}

static bool is_index_type(int32_t dtype)
{
    return dtype == ONNXC_INT64 || dtype == ONNXC_INT32;
}

/* Read the elements of value input i (int32/int64, scalar or 1-D) into v[0..max). */
static onnxc_status read_ints(const oc_kctx *c, int i, const char *what, int64_t *v, int max, int *n)
{
    const onnxc_tensor *t = c->in[i];
    if (!is_index_type(t->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be int64 or int32, got %s", what,
                       onnxc_dtype_name(t->dtype));
    if (t->rank > 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be 1-D, got rank %d", what, (int)t->rank);
    int64_t cnt = onnxc_tensor_numel(t);
    if (cnt > 0 && !t->data)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has no data at plan time", what);
    if (cnt < 0 || cnt > max)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' has %lld values, at most %d allowed", what, (long long)cnt,
                       max);
    for (int64_t k = 0; k < cnt; k++)
        v[k] = oc_get_i64(t, k);
    *n = (int)cnt;
    return ONNXC_OK;
}

/* Copy an int list attribute into v[0..max); *present tells whether the attribute exists. */
static onnxc_status read_attr_ints(const oc_kctx *c, const char *name, int64_t *v, int max, int *n, bool *present)
{
    size_t cnt;
    const int64_t *a = oc_attr_ints(c->node, name, &cnt);
    *present = a != NULL;
    *n = 0;
    if (!a)
        return ONNXC_OK;
    if (cnt > (size_t)max)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute '%s' has %zu values, at most %d allowed", name, cnt, max);
    if (cnt)
        memcpy(v, a, cnt * sizeof *v);
    *n = (int)cnt;
    return ONNXC_OK;
}

/* Copy n elements of es bytes spaced st elements apart in src to contiguous dst. */
static void copy_row(char *dst, const char *src, int64_t n, int64_t st, size_t es)
{
    if (st == 1) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[i * st];
        break;
    case 2: {
        uint16_t *d = (uint16_t *)dst;
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i * st];
        break;
    }
    case 4: {
        uint32_t *d = (uint32_t *)dst;
        const uint32_t *s = (const uint32_t *)src;
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i * st];
        break;
    }
    case 8: {
        uint64_t *d = (uint64_t *)dst;
        const uint64_t *s = (const uint64_t *)src;
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i * st];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * es, src + (ptrdiff_t)(i * st) * (ptrdiff_t)es, es);
        break;
    }
}

/* Merge the dims of a strided view: drop size-1 dims, join neighbours that are contiguous in the source.
 * Returns the new rank (0 for a single element), or -1 when the view is empty. */
static int merge_dims(int rank, const int64_t *dims, const int64_t *strides, int64_t *d, int64_t *s)
{
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0)
            return -1;
        if (dims[i] == 1)
            continue;
        if (r > 0 && s[r - 1] == strides[i] * dims[i]) {
            d[r - 1] *= dims[i];
            s[r - 1] = strides[i];
        } else {
            d[r] = dims[i];
            s[r] = strides[i];
            r++;
        }
    }
    return r;
}

/* Elements a split copy hands out at once when rows are few and long (64 KiB of floats), and the least
 * bytes it splits at all: a copy is cheap per element, so it needs more of them than OC_PAR_MIN to win. */
#define COPY_BLOCK 16384
#define COPY_PAR_MIN_BYTES ((int64_t)OC_PAR_MIN * 8)

/* Source element offset of row o of a merged view (every dim but the last). */
static int64_t view_row_offset(int r, const int64_t *d, const int64_t *s, int64_t o)
{
    int64_t off = 0;
    for (int k = r - 2; k >= 0; k--) {
        off += (o % d[k]) * s[k];
        o /= d[k];
    }
    return off;
}

/* copy_strided's split loop: task t is block t % nb (of blk elements) of output row t / nb. */
typedef struct strided_job {
    char *dst;
    const char *src;
    int r;
    const int64_t *d, *s;
    int64_t inner, blk, nb;
    size_t es;
} strided_job;

static void strided_tasks(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const strided_job *j = arg;
    const int64_t ist = j->s[j->r - 1];
    for (int64_t t = lo; t < hi; t++) {
        int64_t o = t / j->nb, b0 = (t % j->nb) * j->blk;
        int64_t len = j->inner - b0 < j->blk ? j->inner - b0 : j->blk;
        int64_t off = view_row_offset(j->r, j->d, j->s, o) + b0 * ist;
        copy_row(j->dst + (size_t)(o * j->inner + b0) * j->es, j->src + (ptrdiff_t)off * (ptrdiff_t)j->es, len,
                 ist, j->es);
    }
}

/* Copy the view of src with the given dims and element strides (0 broadcasts, negative walks backwards) into
 * contiguous dst, split over pool by rows (by blocks of a row when rows are fewer than chunks): the innermost
 * dim goes through copy_row. */
static void copy_strided(struct oc_threadpool *pool, void *dst, const void *src, int rank, const int64_t *dims,
                         const int64_t *strides, size_t es)
{
    int64_t d[MAXR], s[MAXR];
    int r = merge_dims(rank, dims, strides, d, s);
    if (r < 0)
        return;
    if (r == 0) {
        memcpy(dst, src, es);
        return;
    }
    int64_t inner = d[r - 1], outer = oc_dims_prod(d, 0, r - 1);
    strided_job j = {dst, src, r, d, s, inner, inner, 1, es};
    if (outer < 64 && inner > 2 * COPY_BLOCK)
        j.blk = COPY_BLOCK;
    j.nb = (inner + j.blk - 1) / j.blk;
    int64_t bytes = outer * inner * (int64_t)es;
    oc_par_for(pool, outer * j.nb, bytes >= COPY_PAR_MIN_BYTES ? bytes : 0, strided_tasks, &j);
}

/* Concat and Split copy parts: part p moves rows[p] bytes for each of outer rows, from src_p + o * src_step_p
 * to dst_p + o * dst_step_p. A task is one block (up to COPY_BLOCK * 4 bytes) of one part's row, so a few
 * large parts still split. */
typedef struct parts_copy {
    char *dst;
    const char *src;
    size_t row, dst_step, src_step;
} parts_copy;

typedef struct parts_job {
    int n_parts;
    int64_t outer, blocks_per_row; /* blocks of all parts for one o */
    void (*part)(const void *ctx, int p, parts_copy *pc);
    const void *ctx;
} parts_job;

#define PART_BLOCK_BYTES ((size_t)COPY_BLOCK * 4)

static int64_t part_blocks(size_t row)
{
    return (int64_t)((row + PART_BLOCK_BYTES - 1) / PART_BLOCK_BYTES);
}

static void parts_tasks(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const parts_job *j = arg;
    int64_t o = lo / j->blocks_per_row, b = lo % j->blocks_per_row;
    int p = 0;
    parts_copy pc;
    j->part(j->ctx, p, &pc);
    while (b >= part_blocks(pc.row)) {
        b -= part_blocks(pc.row);
        j->part(j->ctx, ++p, &pc);
    }
    for (int64_t t = lo; t < hi; t++) {
        size_t at = (size_t)b * PART_BLOCK_BYTES, len = pc.row - at < PART_BLOCK_BYTES ? pc.row - at : PART_BLOCK_BYTES;
        memcpy(pc.dst + (size_t)o * pc.dst_step + at, pc.src + (size_t)o * pc.src_step + at, len);
        /* next block: of this part's row, else the next part with bytes, else the next row's first */
        if (++b < part_blocks(pc.row))
            continue;
        b = 0;
        do {
            if (++p == j->n_parts) {
                p = 0;
                o++;
            }
            if (t + 1 >= hi)
                return;
            j->part(j->ctx, p, &pc);
        } while (pc.row == 0);
    }
}

static void copy_parts(struct oc_threadpool *pool, int n_parts, int64_t outer,
                       void (*part)(const void *ctx, int p, parts_copy *pc), const void *ctx)
{
    parts_job j = {n_parts, outer, 0, part, ctx};
    size_t row_bytes = 0;
    for (int p = 0; p < n_parts; p++) {
        parts_copy pc;
        part(ctx, p, &pc);
        j.blocks_per_row += part_blocks(pc.row);
        row_bytes += pc.row;
    }
    if (j.blocks_per_row == 0)
        return;
    int64_t bytes = outer * (int64_t)row_bytes;
    oc_par_for(pool, outer * j.blocks_per_row, bytes >= COPY_PAR_MIN_BYTES ? bytes : 0, parts_tasks, &j);
}

static onnxc_status copy_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (y && y->nbytes && y->data != x->data)
        memcpy(y->data, x->data, y->nbytes);
    return ONNXC_OK;
}

/* Output 0 takes X's type with a new shape. */
static onnxc_status set_out0(oc_kctx *c, int rank, const int64_t *dims)
{
    if (!c->out[0])
        return ONNXC_OK;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, rank, dims);
}

/* ---------------------------------------------------------------- Reshape */

static onnxc_status reshape_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t shape[MAXR];
    int n = 0;
    if (c->opset < 5) { /* Reshape-1 took the shape as an attribute */
        bool present;
        st = read_attr_ints(c, "shape", shape, MAXR, &n, &present);
        if (st == ONNXC_OK && !present)
            st = oc_kerr(c, ONNXC_E_INVALID, "missing attribute 'shape'");
    } else {
        st = need_in(c, 1, "shape");
        if (st == ONNXC_OK)
            st = read_ints(c, 1, "shape", shape, MAXR, &n);
    }
    if (st != ONNXC_OK)
        return st;
    /* Reshape-14 added allowzero: 0 then means a real zero dim instead of "copy the input dim". */
    bool allowzero = c->opset >= 14 && oc_attr_int(c->node, "allowzero", 0) != 0;
    int64_t dims[MAXR], known = 1, numel = onnxc_tensor_numel(x);
    int infer_at = -1;
    bool has_zero = false;
    for (int i = 0; i < n; i++) {
        int64_t v = shape[i];
        if (v == -1) {
            if (infer_at >= 0)
                return oc_kerr(c, ONNXC_E_INVALID, "shape has more than one -1");
            infer_at = i;
            continue;
        }
        if (v < -1)
            return oc_kerr(c, ONNXC_E_INVALID, "shape value %lld at %d is invalid", (long long)v, i);
        if (v == 0) {
            has_zero = true;
            if (!allowzero) {
                if (i >= x->rank)
                    return oc_kerr(c, ONNXC_E_INVALID, "shape has 0 at %d (copy the input dim) but the input has "
                                   "rank %d", i, (int)x->rank);
                v = x->dims[i];
            }
        }
        dims[i] = v;
        if (!oc_mul_i64(known, v, &known))
            return oc_kerr(c, ONNXC_E_INVALID, "shape element count overflows");
    }
    char a[128], b[128];
    if (infer_at >= 0) {
        if (allowzero && has_zero)
            return oc_kerr(c, ONNXC_E_INVALID, "shape has both 0 and -1 with allowzero=1");
        if (known == 0 || numel % known != 0)
            return oc_kerr(c, ONNXC_E_INVALID, "cannot reshape %s (%lld elements): the -1 dim cannot be inferred",
                           oc_dims_str(x->dims, x->rank, a, sizeof a), (long long)numel);
        dims[infer_at] = numel / known;
    } else if (known != numel) {
        return oc_kerr(c, ONNXC_E_INVALID, "cannot reshape %s (%lld elements) into %s (%lld elements)",
                       oc_dims_str(x->dims, x->rank, a, sizeof a), (long long)numel,
                       oc_dims_str(dims, n, b, sizeof b), (long long)known);
    }
    return set_out0(c, n, dims);
}

/* ---------------------------------------------------------------- Flatten */

static onnxc_status flatten_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "input", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t axis = oc_attr_int(c->node, "axis", 1);
    /* Flatten-11 allows a negative axis; the axis may equal the rank (output [numel, 1]). */
    if (axis < 0 && c->opset >= 11)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "axis %lld is out of range for rank %d",
                       (long long)oc_attr_int(c->node, "axis", 1), (int)x->rank);
    int64_t dims[2] = {oc_dims_prod(x->dims, 0, (int)axis), oc_dims_prod(x->dims, (int)axis, x->rank)};
    return set_out0(c, 2, dims);
}

/* ---------------------------------------------------------------- Transpose */

static onnxc_status transpose_perm(const oc_kctx *c, int rank, int *perm)
{
    size_t n;
    const int64_t *p = oc_attr_ints(c->node, "perm", &n);
    if (!p) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return ONNXC_OK;
    }
    if ((int64_t)n != rank)
        return oc_kerr(c, ONNXC_E_INVALID, "perm has %zu entries for an input of rank %d", n, rank);
    bool seen[MAXR] = {false};
    for (int i = 0; i < rank; i++) {
        if (p[i] < 0 || p[i] >= rank || seen[p[i]])
            return oc_kerr(c, ONNXC_E_INVALID, "perm is not a permutation of 0..%d", rank - 1);
        seen[p[i]] = true;
        perm[i] = (int)p[i];
    }
    return ONNXC_OK;
}

static onnxc_status transpose_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int perm[MAXR];
    st = transpose_perm(c, x->rank, perm);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[MAXR];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[perm[i]];
    return set_out0(c, x->rank, dims);
}

#define TILE 32

/* Tiled copy for a transpose whose innermost output dim is not contiguous in the source: the plane made of
 * that dim and the source's contiguous dim j is copied in TILE x TILE blocks so both sides stay in cache, one
 * strip (rows a0 .. a0 + TILE of dim j) at a time. */
#define TRANSPOSE_TILE(T)                                                                                     \
    do {                                                                                                      \
        T *q = (T *)j->dst + doff;                                                                           \
        const T *p = (const T *)j->src + soff;                                                                \
        int64_t a1 = a0 + TILE < na ? a0 + TILE : na;                                                         \
        for (int64_t b0 = 0; b0 < nb; b0 += TILE) {                                                           \
            int64_t b1 = b0 + TILE < nb ? b0 + TILE : nb;                                                     \
            for (int64_t a = a0; a < a1; a++)                                                                 \
                for (int64_t b = b0; b < b1; b++)                                                             \
                    q[a * oa + b] = p[a + b * sb];                                                            \
        }                                                                                                     \
    } while (0)

#if defined(__AVX2__)
#include <immintrin.h>

/* The 4-byte case of TRANSPOSE_TILE: 8 x 8 blocks through registers (eight 8-element loads along a, the
 * standard unpack / shuffle / lane-swap transpose, eight stores along b; moves of bits, so any float, NaN
 * payloads included, and any 4-byte integer copy unchanged), the edges of the strip element by element.
 * NCHW <-> NHWC of ConvNeXt's [96, 3136] planes ran ~3x faster than element by element. */
static void transpose_tile4(uint32_t *q, const uint32_t *p, int64_t a0, int64_t na, int64_t nb, int64_t oa,
                            int64_t sb)
{
    const int64_t a1 = a0 + TILE < na ? a0 + TILE : na;
    for (int64_t b0 = 0; b0 < nb; b0 += TILE) {
        const int64_t b1 = b0 + TILE < nb ? b0 + TILE : nb;
        int64_t a = a0;
        for (; a + 8 <= a1; a += 8) {
            int64_t b = b0;
            for (; b + 8 <= b1; b += 8) {
                const float *src = (const float *)(const void *)(p + a + b * sb);
                const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + sb),
                             r2 = _mm256_loadu_ps(src + 2 * sb), r3 = _mm256_loadu_ps(src + 3 * sb),
                             r4 = _mm256_loadu_ps(src + 4 * sb), r5 = _mm256_loadu_ps(src + 5 * sb),
                             r6 = _mm256_loadu_ps(src + 6 * sb), r7 = _mm256_loadu_ps(src + 7 * sb);
                const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
                             t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
                             t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                             t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee),
                             u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee),
                             u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
                             u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
                float *dst = (float *)(void *)(q + a * oa + b);
                _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
                _mm256_storeu_ps(dst + oa, _mm256_permute2f128_ps(u1, u5, 0x20));
                _mm256_storeu_ps(dst + 2 * oa, _mm256_permute2f128_ps(u2, u6, 0x20));
                _mm256_storeu_ps(dst + 3 * oa, _mm256_permute2f128_ps(u3, u7, 0x20));
                _mm256_storeu_ps(dst + 4 * oa, _mm256_permute2f128_ps(u0, u4, 0x31));
                _mm256_storeu_ps(dst + 5 * oa, _mm256_permute2f128_ps(u1, u5, 0x31));
                _mm256_storeu_ps(dst + 6 * oa, _mm256_permute2f128_ps(u2, u6, 0x31));
                _mm256_storeu_ps(dst + 7 * oa, _mm256_permute2f128_ps(u3, u7, 0x31));
            }
            for (int64_t i = a; i < a + 8; i++)
                for (int64_t bb = b; bb < b1; bb++)
                    q[i * oa + bb] = p[i + bb * sb];
        }
        for (; a < a1; a++)
            for (int64_t b = b0; b < b1; b++)
                q[a * oa + b] = p[a + b * sb];
    }
}
#endif

/* transpose_copy's split loop: task t is the strip of TILE rows of dim j starting at a0 = (t % strips) *
 * TILE, for outer position t / strips (an index over every dim but j and r-1). */
typedef struct transpose_job {
    char *dst;
    const char *src;
    int r, j;
    const int64_t *d, *s, *os;
    int64_t strips;
    size_t es;
} transpose_job;

static void transpose_tasks(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const transpose_job *j = arg;
    const int r = j->r;
    const int64_t na = j->d[j->j], nb = j->d[r - 1], oa = j->os[j->j], sb = j->s[r - 1];
    for (int64_t t = lo; t < hi; t++) {
        int64_t o = t / j->strips, a0 = (t % j->strips) * TILE;
        int64_t soff = 0, doff = 0;
        for (int k = r - 2; k >= 0; k--) {
            if (k == j->j)
                continue;
            soff += (o % j->d[k]) * j->s[k];
            doff += (o % j->d[k]) * j->os[k];
            o /= j->d[k];
        }
        switch (j->es) {
        case 1: TRANSPOSE_TILE(uint8_t); break;
        case 2: TRANSPOSE_TILE(uint16_t); break;
#if defined(__AVX2__)
        case 4: transpose_tile4((uint32_t *)(void *)j->dst + doff, (const uint32_t *)(const void *)j->src + soff, a0, na, nb, oa, sb); break;
#else
        case 4: TRANSPOSE_TILE(uint32_t); break;
#endif
        default: TRANSPOSE_TILE(uint64_t); break;
        }
    }
}

static void transpose_copy(struct oc_threadpool *pool, void *dst, const void *src, int rank, const int64_t *dims,
                           const int64_t *strides, size_t es)
{
    int64_t d[MAXR], s[MAXR];
    int r = merge_dims(rank, dims, strides, d, s);
    if (r < 0)
        return;
    int j = -1;
    for (int i = 0; i < r - 1; i++)
        if (s[i] == 1)
            j = i;
    if (r < 2 || s[r - 1] == 1 || j < 0 || (es != 1 && es != 2 && es != 4 && es != 8)) {
        copy_strided(pool, dst, src, rank, dims, strides, es);
        return;
    }
    /* output strides (contiguous); tasks are strips of TILE rows of dim j for each outer position */
    int64_t os[MAXR];
    oc_strides(r, d, os);
    int64_t outer = oc_dims_prod(d, 0, r - 1) / d[j], strips = (d[j] + TILE - 1) / TILE;
    transpose_job job = {dst, src, r, j, d, s, os, strips, es};
    int64_t bytes = oc_dims_prod(d, 0, r) * (int64_t)es;
    oc_par_for(pool, outer * strips, bytes >= COPY_PAR_MIN_BYTES / 2 ? bytes : 0, transpose_tasks, &job);
}

static onnxc_status transpose_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int perm[MAXR];
    onnxc_status st = transpose_perm(c, x->rank, perm);
    if (st != ONNXC_OK)
        return st;
    int64_t xs[MAXR], s[MAXR];
    oc_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++)
        s[i] = xs[perm[i]];
    transpose_copy(c->pool, y->data, x->data, y->rank, y->dims, s, onnxc_dtype_size(x->dtype));
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Squeeze / Unsqueeze */

/* Axes of Squeeze/Unsqueeze: an attribute before opset 13, the optional input 1 since. */
static onnxc_status squeeze_axes(const oc_kctx *c, int64_t *axes, int *n, bool *present)
{
    if (c->opset < 13)
        return read_attr_ints(c, "axes", axes, MAXR, n, present);
    *n = 0;
    *present = opt_in(c, 1) != NULL;
    if (!*present)
        return ONNXC_OK;
    return read_ints(c, 1, "axes", axes, MAXR, n);
}

static onnxc_status squeeze_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t axes[MAXR];
    int n;
    bool present, drop[MAXR] = {false};
    st = squeeze_axes(c, axes, &n, &present);
    if (st != ONNXC_OK)
        return st;
    if (!present || n == 0) { /* no axes (or an empty list, as ONNX Runtime reads it): every 1 goes */
        for (int i = 0; i < x->rank; i++)
            drop[i] = x->dims[i] == 1;
    }
    for (int i = 0; i < n; i++) {
        int a;
        st = oc_norm_axis(c, axes[i], x->rank, &a);
        if (st != ONNXC_OK)
            return st;
        if (x->dims[a] != 1)
            return oc_kerr(c, ONNXC_E_INVALID, "cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
        drop[a] = true;
    }
    int64_t dims[MAXR];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i])
            dims[r++] = x->dims[i];
    return set_out0(c, r, dims);
}

static onnxc_status unsqueeze_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t axes[MAXR];
    int n;
    bool present, ins[MAXR] = {false};
    st = squeeze_axes(c, axes, &n, &present);
    if (st != ONNXC_OK)
        return st;
    if (!present)
        return oc_kerr(c, ONNXC_E_INVALID, "missing axes");
    int r = x->rank + n;
    if (r > MAXR)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output rank %d exceeds %d", r, MAXR);
    /* Unsqueeze-11: negative axes count from the end of the output. */
    for (int i = 0; i < n; i++) {
        int a;
        st = oc_norm_axis(c, axes[i], r, &a);
        if (st != ONNXC_OK)
            return st;
        if (ins[a])
            return oc_kerr(c, ONNXC_E_INVALID, "axis %d is repeated", a);
        ins[a] = true;
    }
    int64_t dims[MAXR];
    for (int i = 0, k = 0; i < r; i++)
        dims[i] = ins[i] ? 1 : x->dims[k++];
    return set_out0(c, r, dims);
}

/* ---------------------------------------------------------------- Concat */

static onnxc_status concat_axis(const oc_kctx *c, int rank, int *axis)
{
    const oc_attr *a = oc_node_attr(c->node, "axis");
    /* Concat-1 defaulted axis to 1; Concat-4 made it required. */
    if (!a && c->opset >= 4)
        return oc_kerr(c, ONNXC_E_INVALID, "missing attribute 'axis'");
    return oc_norm_axis(c, oc_attr_int(c->node, "axis", 1), rank, axis);
}

static onnxc_status concat_infer(oc_kctx *c)
{
    if (c->n_in < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs at least one input");
    for (int i = 0; i < c->n_in; i++) {
        onnxc_status st = need_in(c, i, "inputs");
        if (st != ONNXC_OK)
            return st;
    }
    const onnxc_tensor *x = c->in[0];
    size_t es;
    onnxc_status st = oc_kmove_size(c, x->dtype, &es);
    if (st != ONNXC_OK)
        return st;
    if (x->rank == 0)
        return oc_kerr(c, ONNXC_E_INVALID, "cannot concatenate scalars");
    int axis;
    st = concat_axis(c, x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[MAXR];
    memcpy(dims, x->dims, sizeof dims);
    for (int i = 1; i < c->n_in; i++) {
        const onnxc_tensor *t = c->in[i];
        char a[128], b[128];
        if (t->dtype != x->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is %s, input 0 is %s", i, onnxc_dtype_name(t->dtype),
                           onnxc_dtype_name(x->dtype));
        bool ok = t->rank == x->rank;
        for (int k = 0; ok && k < x->rank; k++)
            if (k != axis && t->dims[k] != x->dims[k])
                ok = false;
        if (!ok)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d has shape %s, incompatible with %s on axis %d", i,
                           oc_dims_str(t->dims, t->rank, a, sizeof a), oc_dims_str(x->dims, x->rank, b, sizeof b),
                           axis);
        if (!oc_add_i64(dims[axis], t->dims[axis], &dims[axis]))
            return oc_kerr(c, ONNXC_E_INVALID, "concatenated dim overflows");
    }
    return set_out0(c, x->rank, dims);
}

/* Concat's parts: input p's rows go to the output rows at the bytes of the inputs before it. The offsets are
 * prefix sums, kept in a table on the stack for the inputs that fit (CONCAT_PARTS), in an allocated one for
 * more (summing them per part would be quadratic in the inputs), summed per part only if that allocation fails. */
#define CONCAT_PARTS 64

typedef struct concat_parts {
    const oc_kctx *c;
    int axis;
    int64_t inner;
    size_t es, yrow;
    size_t off[CONCAT_PARTS];
    size_t *all_off; /* every input's offset when there are more than CONCAT_PARTS, else NULL */
} concat_parts;

static size_t concat_row(const concat_parts *cp, int p)
{
    return (size_t)(cp->c->in[p]->dims[cp->axis] * cp->inner) * cp->es;
}

static void concat_part(const void *ctx, int p, parts_copy *pc)
{
    const concat_parts *cp = ctx;
    size_t off = 0;
    if (cp->all_off) {
        off = cp->all_off[p];
    } else if (p < CONCAT_PARTS) {
        off = cp->off[p];
    } else {
        off = cp->off[CONCAT_PARTS - 1] + concat_row(cp, CONCAT_PARTS - 1);
        for (int i = CONCAT_PARTS; i < p; i++)
            off += concat_row(cp, i);
    }
    pc->row = concat_row(cp, p);
    pc->src = cp->c->in[p]->data;
    pc->src_step = pc->row;
    pc->dst = (char *)cp->c->out[0]->data + off;
    pc->dst_step = cp->yrow;
}

static onnxc_status concat_run(oc_kctx *c)
{
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    int axis;
    onnxc_status st = concat_axis(c, y->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    concat_parts cp = {c, axis, oc_dims_prod(y->dims, axis + 1, y->rank), onnxc_dtype_size(y->dtype), 0, {0}, NULL};
    cp.yrow = (size_t)(y->dims[axis] * cp.inner) * cp.es;
    for (int i = 1; i < c->n_in && i < CONCAT_PARTS; i++)
        cp.off[i] = cp.off[i - 1] + concat_row(&cp, i - 1);
    if (c->n_in > CONCAT_PARTS && (cp.all_off = oc_malloc((size_t)c->n_in * sizeof *cp.all_off)) != NULL) {
        cp.all_off[0] = 0;
        for (int i = 1; i < c->n_in; i++)
            cp.all_off[i] = cp.all_off[i - 1] + concat_row(&cp, i - 1);
    }
    copy_parts(c->pool, c->n_in, oc_dims_prod(y->dims, 0, axis), concat_part, &cp);
    oc_free(cp.all_off);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Split */

/* Size of output k along the split axis of length dim: from the split list (attribute before opset 13, input 1
 * since), else equal parts (Split-18: num_outputs with a smaller last chunk). */
static onnxc_status split_size(const oc_kctx *c, int k, int64_t dim, int64_t *size)
{
    int n = c->n_out;
    /* Split-1 also took the sizes as an optional input; Split-2 moved them to the attribute, Split-13 back */
    const onnxc_tensor *sp = c->opset >= 13 || c->opset < 2 ? opt_in(c, 1) : NULL;
    if (sp && onnxc_tensor_numel(sp) > 0) {
        if (!is_index_type(sp->dtype) || sp->rank != 1 || sp->dims[0] != n)
            return oc_kerr(c, ONNXC_E_INVALID, "input 'split' must be a 1-D int64 list of %d sizes", n);
        if (!sp->data)
            return oc_kerr(c, ONNXC_E_INVALID, "input 'split' has no data at plan time");
        *size = oc_get_i64(sp, k);
        return ONNXC_OK;
    }
    size_t cnt;
    const int64_t *a = c->opset < 13 ? oc_attr_ints(c->node, "split", &cnt) : NULL;
    if (a && cnt > 0) {
        if (cnt != (size_t)n)
            return oc_kerr(c, ONNXC_E_INVALID, "attribute 'split' has %zu sizes for %d outputs", cnt, n);
        *size = a[k];
        return ONNXC_OK;
    }
    if (n < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "no outputs");
    if (c->opset >= 18 && oc_node_attr(c->node, "num_outputs")) {
        int64_t no = oc_attr_int(c->node, "num_outputs", 0);
        if (no != n)
            return oc_kerr(c, ONNXC_E_INVALID, "num_outputs is %lld but the node has %d outputs", (long long)no, n);
        int64_t chunk = (dim + n - 1) / n, left = dim - chunk * k;
        *size = left < 0 ? 0 : left < chunk ? left : chunk;
        return ONNXC_OK;
    }
    if (dim % n != 0)
        return oc_kerr(c, ONNXC_E_INVALID, "dim %lld cannot be split into %d equal parts", (long long)dim, n);
    *size = dim / n;
    return ONNXC_OK;
}

static onnxc_status split_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "input", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int axis;
    st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    int64_t total = 0;
    for (int k = 0; k < c->n_out; k++) {
        int64_t sz = 0;
        st = split_size(c, k, x->dims[axis], &sz);
        if (st != ONNXC_OK)
            return st;
        if (sz < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "split size %lld of output %d is negative", (long long)sz, k);
        if (!oc_add_i64(total, sz, &total))
            return oc_kerr(c, ONNXC_E_INVALID, "split sizes overflow");
        if (c->out[k]) {
            int64_t dims[MAXR];
            memcpy(dims, x->dims, sizeof dims);
            dims[axis] = sz;
            st = oc_kset_shape(c, c->out[k], x->dtype, x->rank, dims);
            if (st != ONNXC_OK)
                return st;
        }
    }
    if (total != x->dims[axis])
        return oc_kerr(c, ONNXC_E_INVALID, "split sizes add up to %lld, the axis has %lld", (long long)total,
                       (long long)x->dims[axis]);
    return ONNXC_OK;
}

/* Split's parts: output p's rows come from the input rows at the elements of the outputs before it (sizes
 * and offsets read once into the table; outputs not requested copy nothing). */
typedef struct split_parts {
    const oc_kctx *c;
    const char *src;
    size_t xrow;
    size_t row[CONCAT_PARTS], off[CONCAT_PARTS];
} split_parts;

static void split_part(const void *ctx, int p, parts_copy *pc)
{
    const split_parts *sp = ctx;
    onnxc_tensor *y = sp->c->out[p];
    pc->row = y ? sp->row[p] : 0;
    pc->src = sp->src + sp->off[p];
    pc->src_step = sp->xrow;
    pc->dst = y ? y->data : NULL;
    pc->dst_step = pc->row;
}

static onnxc_status split_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    int axis;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t outer = oc_dims_prod(x->dims, 0, axis), inner = oc_dims_prod(x->dims, axis + 1, x->rank), off = 0;
    size_t xrow = (size_t)(x->dims[axis] * inner) * es;
    if (c->n_out <= CONCAT_PARTS) {
        split_parts sp = {c, x->data, xrow, {0}, {0}};
        for (int k = 0; k < c->n_out; k++) {
            int64_t sz = 0;
            if ((st = split_size(c, k, x->dims[axis], &sz)) != ONNXC_OK)
                return st;
            sp.off[k] = (size_t)(off * inner) * es;
            sp.row[k] = (size_t)(sz * inner) * es;
            off += sz;
        }
        copy_parts(c->pool, c->n_out, outer, split_part, &sp);
        return ONNXC_OK;
    }
    for (int k = 0; k < c->n_out; k++) {
        int64_t sz = 0;
        st = split_size(c, k, x->dims[axis], &sz);
        if (st != ONNXC_OK)
            return st;
        onnxc_tensor *y = c->out[k];
        size_t row = (size_t)(sz * inner) * es;
        if (y && row) {
            const char *src = (const char *)x->data + (size_t)(off * inner) * es;
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)y->data + (size_t)o * row, src + (size_t)o * xrow, row);
        }
        off += sz;
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Slice */

/* Per-axis start and step of the slice, and the output dims (Slice-1: attributes starts/ends/axes; Slice-10:
 * inputs starts, ends, axes, steps). Clamping follows Slice-13's rules. */
static onnxc_status slice_params(const oc_kctx *c, int64_t *start, int64_t *step, int64_t *dims)
{
    const onnxc_tensor *x = c->in[0];
    int64_t st_[MAXR], en[MAXR], ax[MAXR], sp[MAXR];
    int ns, ne, na = 0, np = 0;
    bool have_axes = false, have_steps = false;
    onnxc_status st;
    if (c->opset < 10) {
        bool p1, p2;
        st = read_attr_ints(c, "starts", st_, MAXR, &ns, &p1);
        if (st == ONNXC_OK)
            st = read_attr_ints(c, "ends", en, MAXR, &ne, &p2);
        if (st == ONNXC_OK && (!p1 || !p2))
            st = oc_kerr(c, ONNXC_E_INVALID, "missing attribute 'starts' or 'ends'");
        if (st == ONNXC_OK)
            st = read_attr_ints(c, "axes", ax, MAXR, &na, &have_axes);
    } else {
        st = need_in(c, 1, "starts");
        if (st == ONNXC_OK)
            st = need_in(c, 2, "ends");
        if (st == ONNXC_OK)
            st = read_ints(c, 1, "starts", st_, MAXR, &ns);
        if (st == ONNXC_OK)
            st = read_ints(c, 2, "ends", en, MAXR, &ne);
        if (st == ONNXC_OK && opt_in(c, 3)) {
            have_axes = true;
            st = read_ints(c, 3, "axes", ax, MAXR, &na);
        }
        if (st == ONNXC_OK && opt_in(c, 4)) {
            have_steps = true;
            st = read_ints(c, 4, "steps", sp, MAXR, &np);
        }
    }
    if (st != ONNXC_OK)
        return st;
    if (ne != ns || (have_axes && na != ns) || (have_steps && np != ns))
        return oc_kerr(c, ONNXC_E_INVALID, "starts, ends, axes and steps must have the same length");
    bool seen[MAXR] = {false};
    for (int i = 0; i < x->rank; i++) {
        start[i] = 0;
        step[i] = 1;
        dims[i] = x->dims[i];
    }
    for (int i = 0; i < ns; i++) {
        int a = i;
        if (have_axes) {
            st = oc_norm_axis(c, ax[i], x->rank, &a);
            if (st != ONNXC_OK)
                return st;
        } else if (i >= x->rank) {
            return oc_kerr(c, ONNXC_E_INVALID, "%d starts for an input of rank %d", ns, (int)x->rank);
        }
        if (seen[a])
            return oc_kerr(c, ONNXC_E_INVALID, "axis %d is repeated", a);
        seen[a] = true;
        int64_t d = x->dims[a], s = have_steps ? sp[i] : 1, b = st_[i], e = en[i], len;
        if (s == 0)
            return oc_kerr(c, ONNXC_E_INVALID, "step 0 on axis %d", a);
        if (b < 0)
            b += d;
        if (e < 0)
            e += d;
        if (s > 0) {
            b = b < 0 ? 0 : b > d ? d : b;
            e = e < 0 ? 0 : e > d ? d : e;
            len = e > b ? (e - b - 1) / s + 1 : 0;
        } else {
            b = b < 0 ? 0 : b > d - 1 ? d - 1 : b;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            /* -s overflows for INT64_MIN; such a step takes one element at most */
            len = b > e ? (s == INT64_MIN ? 1 : (b - e - 1) / (-s) + 1) : 0;
        }
        start[a] = len > 0 ? b : 0;
        step[a] = len > 1 ? s : 1;
        dims[a] = len;
    }
    return ONNXC_OK;
}

static onnxc_status slice_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    int64_t start[MAXR], step[MAXR], dims[MAXR];
    st = slice_params(c, start, step, dims);
    if (st != ONNXC_OK)
        return st;
    return set_out0(c, c->in[0]->rank, dims);
}

static onnxc_status slice_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    int64_t start[MAXR], step[MAXR], dims[MAXR], xs[MAXR], s[MAXR], off = 0;
    onnxc_status st = slice_params(c, start, step, dims);
    if (st != ONNXC_OK)
        return st;
    oc_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        off += start[i] * xs[i];
        s[i] = step[i] * xs[i];
    }
    size_t es = onnxc_dtype_size(x->dtype);
    copy_strided(c->pool, y->data, (const char *)x->data + (size_t)off * es, x->rank, dims, s, es);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Gather */

static onnxc_status gather_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", "indices", NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    if (!is_index_type(ind->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "indices must be int32 or int64, got %s", onnxc_dtype_name(ind->dtype));
    if (x->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "data must have rank >= 1");
    int axis;
    st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    int r = x->rank - 1 + ind->rank;
    if (r > MAXR)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output rank %d exceeds %d", r, MAXR);
    int64_t dims[MAXR];
    int k = 0;
    for (int i = 0; i < axis; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++)
        dims[k++] = ind->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    return set_out0(c, r, dims);
}

/* Fetch index i of an index tensor, checked against [-dim, dim) and made non-negative. */
static onnxc_status get_index(const oc_kctx *c, const onnxc_tensor *ind, int64_t i, int64_t dim, int axis,
                              int64_t *out)
{
    int64_t v = ind->dtype == ONNXC_INT64 ? ((const int64_t *)ind->data)[i] : ((const int32_t *)ind->data)[i];
    if (v < -dim || v >= dim)
        return oc_kerr(c, ONNXC_E_RUNTIME, "index %lld is out of range [-%lld, %lld) on axis %d", (long long)v,
                       (long long)dim, (long long)dim, axis);
    *out = v < 0 ? v + dim : v;
    return ONNXC_OK;
}

/* Check every index before anything is written, so a bad one leaves no half-written output. */
static onnxc_status check_indices(const oc_kctx *c, const onnxc_tensor *ind, int64_t dim, int axis)
{
    int64_t n = onnxc_tensor_numel(ind), v;
    for (int64_t i = 0; i < n; i++) {
        onnxc_status st = get_index(c, ind, i, dim, axis, &v);
        if (st != ONNXC_OK)
            return st;
    }
    return ONNXC_OK;
}

static onnxc_status gather_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int axis;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t n = onnxc_tensor_numel(ind), dim = x->dims[axis];
    int64_t outer = oc_dims_prod(x->dims, 0, axis), inner = oc_dims_prod(x->dims, axis + 1, x->rank);
    size_t blk = (size_t)inner * es;
    st = check_indices(c, ind, dim, axis);
    if (st != ONNXC_OK)
        return st;
    if (blk == 0)
        return ONNXC_OK;
    char *q = y->data;
    for (int64_t o = 0; o < outer; o++) {
        const char *src = (const char *)x->data + (size_t)(o * dim) * blk;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = 0;
            get_index(c, ind, i, dim, axis, &v);
            memcpy(q, src + (size_t)v * blk, blk);
            q += blk;
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- GatherElements */

/* GatherElements/ScatterElements: the axis, and indices no larger than data on every other dim. */
static onnxc_status elements_axis(const oc_kctx *c, const onnxc_tensor *x, const onnxc_tensor *ind, int *axis)
{
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, axis);
    if (st != ONNXC_OK)
        return st;
    for (int i = 0; i < x->rank; i++)
        if (i != *axis && ind->dims[i] > x->dims[i])
            return oc_kerr(c, ONNXC_E_INVALID, "indices dim %d (%lld) exceeds the data dim (%lld)", i,
                           (long long)ind->dims[i], (long long)x->dims[i]);
    return ONNXC_OK;
}

/* GatherElements/ScatterElements walk the indices in order: step the odometer idx over the indices' shape and
 * keep base, the data offset of idx with the axis coordinate left out (the index value supplies it). */
static void elements_next(const onnxc_tensor *ind, int axis, const int64_t *xs, int64_t *idx, int64_t *base)
{
    for (int k = ind->rank - 1; k >= 0; k--) {
        if (k != axis)
            *base += xs[k];
        if (++idx[k] < ind->dims[k])
            break;
        if (k != axis)
            *base -= xs[k] * ind->dims[k];
        idx[k] = 0;
    }
}

static onnxc_status gather_elements_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", "indices", NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    if (!is_index_type(ind->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "indices must be int32 or int64, got %s", onnxc_dtype_name(ind->dtype));
    if (x->rank < 1 || ind->rank != x->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "data (rank %d) and indices (rank %d) must have the same rank >= 1",
                       (int)x->rank, (int)ind->rank);
    int axis;
    st = elements_axis(c, x, ind, &axis);
    if (st != ONNXC_OK)
        return st;
    if (!c->out[0])
        return ONNXC_OK;
    return oc_kset_shape(c, c->out[0], x->dtype, ind->rank, ind->dims);
}

static onnxc_status gather_elements_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int axis;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t n = onnxc_tensor_numel(ind), xs[MAXR], idx[MAXR] = {0}, base = 0;
    oc_strides(x->rank, x->dims, xs);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = 0;
        st = get_index(c, ind, i, x->dims[axis], axis, &v);
        if (st != ONNXC_OK)
            return st;
        memcpy((char *)y->data + (size_t)i * es, (const char *)x->data + (size_t)(base + v * xs[axis]) * es, es);
        elements_next(ind, axis, xs, idx, &base);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- GatherND */

static onnxc_status gather_nd_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", "indices", NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    if (ind->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_INVALID, "indices must be int64, got %s", onnxc_dtype_name(ind->dtype));
    int64_t b = c->opset >= 12 ? oc_attr_int(c->node, "batch_dims", 0) : 0;
    if (x->rank < 1 || ind->rank < 1 || b < 0 || b >= ind->rank || b >= x->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "bad ranks: data %d, indices %d, batch_dims %lld", (int)x->rank,
                       (int)ind->rank, (long long)b);
    int64_t last = ind->dims[ind->rank - 1];
    if (last < 1 || last > x->rank - b)
        return oc_kerr(c, ONNXC_E_INVALID, "indices' last dim %lld must be in 1..%lld", (long long)last,
                       (long long)(x->rank - b));
    for (int i = 0; i < b; i++)
        if (ind->dims[i] != x->dims[i])
            return oc_kerr(c, ONNXC_E_INVALID, "batch dim %d differs between data and indices", i);
    int r = ind->rank - 1 + x->rank - (int)(b + last);
    if (r > MAXR)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output rank %d exceeds %d", r, MAXR);
    int64_t dims[MAXR];
    int k = 0;
    for (int i = 0; i < ind->rank - 1; i++)
        dims[k++] = ind->dims[i];
    for (int i = (int)(b + last); i < x->rank; i++)
        dims[k++] = x->dims[i];
    return set_out0(c, r, dims);
}

static onnxc_status gather_nd_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ind = c->in[1];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int b = (int)(c->opset >= 12 ? oc_attr_int(c->node, "batch_dims", 0) : 0);
    int last = (int)ind->dims[ind->rank - 1];
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t xs[MAXR];
    oc_strides(x->rank, x->dims, xs);
    int64_t batches = oc_dims_prod(x->dims, 0, b), per_batch = oc_dims_prod(ind->dims, b, ind->rank - 1);
    int64_t chunk = oc_dims_prod(x->dims, b + last, x->rank), bstride = oc_dims_prod(x->dims, b, x->rank);
    const int64_t *iv = ind->data;
    char *q = y->data;
    for (int64_t bi = 0; bi < batches; bi++) {
        for (int64_t t = 0; t < per_batch; t++, iv += last) {
            int64_t off = bi * bstride;
            for (int k = 0; k < last; k++) {
                int64_t d = x->dims[b + k], v = iv[k];
                if (v < -d || v >= d)
                    return oc_kerr(c, ONNXC_E_RUNTIME, "index %lld is out of range [-%lld, %lld) on axis %d",
                                   (long long)v, (long long)d, (long long)d, b + k);
                off += (v < 0 ? v + d : v) * xs[b + k];
            }
            memcpy(q, (const char *)x->data + (size_t)off * es, (size_t)chunk * es);
            q += (size_t)chunk * es;
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- ScatterElements / Scatter / ScatterND */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static onnxc_status scatter_reduction(const oc_kctx *c, int *red)
{
    char buf[16];
    /* reduction arrived in opset 16 (none, add, mul) and grew max/min in opset 18 */
    const char *r = c->opset >= 16 ? oc_attr_string(c->node, "reduction", "none", buf, sizeof buf) : "none";
    if (strcmp(r, "none") == 0)
        *red = RED_NONE;
    else if (strcmp(r, "add") == 0)
        *red = RED_ADD;
    else if (strcmp(r, "mul") == 0)
        *red = RED_MUL;
    else if (strcmp(r, "max") == 0 && c->opset >= 18)
        *red = RED_MAX;
    else if (strcmp(r, "min") == 0 && c->opset >= 18)
        *red = RED_MIN;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "unknown reduction '%s'", r);
    if (*red != RED_NONE && (c->in[0]->dtype == ONNXC_BOOL || c->in[0]->dtype == ONNXC_COMPLEX64 ||
                             c->in[0]->dtype == ONNXC_COMPLEX128))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "reduction '%s' on %s", r, onnxc_dtype_name(c->in[0]->dtype));
    return ONNXC_OK;
}

static bool is_float_type(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

/* y[i] = reduce(y[i], u[j]) for n consecutive elements (slow path, any numeric type). */
static void scatter_apply(onnxc_tensor *y, int64_t i, const onnxc_tensor *u, int64_t j, int64_t n, int red,
                          size_t es)
{
    if (red == RED_NONE) {
        memcpy((char *)y->data + (size_t)i * es, (const char *)u->data + (size_t)j * es, (size_t)n * es);
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        if (is_float_type(y->dtype)) {
            double a = oc_get_f64(y, i + k), b = oc_get_f64(u, j + k);
            double r = red == RED_ADD ? a + b : red == RED_MUL ? a * b : red == RED_MAX ? fmax(a, b) : fmin(a, b);
            oc_set_f64(y, i + k, r);
        } else {
            int64_t a = oc_get_i64(y, i + k), b = oc_get_i64(u, j + k);
            /* unsigned arithmetic: wraps like the element type instead of overflowing int64 */
            int64_t r = red == RED_ADD   ? (int64_t)((uint64_t)a + (uint64_t)b)
                        : red == RED_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                        : red == RED_MAX ? (a > b ? a : b)
                                         : (a < b ? a : b);
            oc_set_i64(y, i + k, r);
        }
    }
}

static onnxc_status scatter_elements_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", "indices", "updates");
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *ind = c->in[1], *u = c->in[2];
    int red, axis;
    st = scatter_reduction(c, &red);
    if (st != ONNXC_OK)
        return st;
    if (!is_index_type(ind->dtype))
        return oc_kerr(c, ONNXC_E_INVALID, "indices must be int32 or int64, got %s", onnxc_dtype_name(ind->dtype));
    if (u->dtype != x->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "updates are %s, data is %s", onnxc_dtype_name(u->dtype),
                       onnxc_dtype_name(x->dtype));
    bool ok = x->rank >= 1 && ind->rank == x->rank && u->rank == x->rank;
    for (int i = 0; ok && i < ind->rank; i++)
        ok = u->dims[i] == ind->dims[i];
    if (!ok)
        return oc_kerr(c, ONNXC_E_INVALID, "data, indices and updates must have the same rank, and indices and "
                       "updates the same shape");
    st = elements_axis(c, x, ind, &axis);
    if (st != ONNXC_OK)
        return st;
    return set_out0(c, x->rank, x->dims);
}

static onnxc_status scatter_elements_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ind = c->in[1], *u = c->in[2];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int red, axis;
    onnxc_status st = scatter_reduction(c, &red);
    if (st == ONNXC_OK)
        st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int64_t n = onnxc_tensor_numel(ind), xs[MAXR], idx[MAXR] = {0}, base = 0;
    st = check_indices(c, ind, x->dims[axis], axis);
    if (st != ONNXC_OK)
        return st;
    if (y->nbytes)
        memcpy(y->data, x->data, y->nbytes);
    oc_strides(x->rank, x->dims, xs);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = 0;
        get_index(c, ind, i, x->dims[axis], axis, &v);
        scatter_apply(y, base + v * xs[axis], u, i, 1, red, es);
        elements_next(ind, axis, xs, idx, &base);
    }
    return ONNXC_OK;
}

static onnxc_status scatter_nd_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "data", "indices", "updates");
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0], *ind = c->in[1], *u = c->in[2];
    int red;
    st = scatter_reduction(c, &red);
    if (st != ONNXC_OK)
        return st;
    if (ind->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_INVALID, "indices must be int64, got %s", onnxc_dtype_name(ind->dtype));
    if (u->dtype != x->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "updates are %s, data is %s", onnxc_dtype_name(u->dtype),
                       onnxc_dtype_name(x->dtype));
    if (x->rank < 1 || ind->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "data and indices must have rank >= 1");
    int64_t k = ind->dims[ind->rank - 1];
    /* updates must have shape indices.shape[:-1] + data.shape[k:] */
    bool ok = k >= 1 && k <= x->rank && u->rank == ind->rank - 1 + x->rank - k;
    for (int i = 0; ok && i < ind->rank - 1; i++)
        ok = u->dims[i] == ind->dims[i];
    for (int i = 0; ok && i < x->rank - k; i++)
        ok = u->dims[ind->rank - 1 + i] == x->dims[k + i];
    if (!ok)
        return oc_kerr(c, ONNXC_E_INVALID, "updates' shape does not match indices.shape[:-1] + data.shape[k:]");
    return set_out0(c, x->rank, x->dims);
}

static onnxc_status scatter_nd_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *ind = c->in[1], *u = c->in[2];
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int red;
    onnxc_status st = scatter_reduction(c, &red);
    if (st != ONNXC_OK)
        return st;
    size_t es = onnxc_dtype_size(x->dtype);
    int k = (int)ind->dims[ind->rank - 1];
    int64_t xs[MAXR], n = oc_dims_prod(ind->dims, 0, ind->rank - 1), chunk = oc_dims_prod(x->dims, k, x->rank);
    oc_strides(x->rank, x->dims, xs);
    const int64_t *iv = ind->data;
    for (int64_t t = 0; t < n * k; t++) {
        int64_t d = x->dims[t % k], v = iv[t];
        if (v < -d || v >= d)
            return oc_kerr(c, ONNXC_E_RUNTIME, "index %lld is out of range [-%lld, %lld) on axis %d", (long long)v,
                           (long long)d, (long long)d, (int)(t % k));
    }
    if (y->nbytes)
        memcpy(y->data, x->data, y->nbytes);
    for (int64_t t = 0; t < n; t++, iv += k) {
        int64_t off = 0;
        for (int j = 0; j < k; j++)
            off += (iv[j] < 0 ? iv[j] + x->dims[j] : iv[j]) * xs[j];
        scatter_apply(y, off, u, t * chunk, chunk, red, es);
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Shape / Size */

/* Shape-15 slices the shape with start/end (clamped, negative from the end). */
static void shape_range(const oc_kctx *c, int rank, int64_t *b, int64_t *e)
{
    *b = c->opset >= 15 ? oc_attr_int(c->node, "start", 0) : 0;
    *e = c->opset >= 15 ? oc_attr_int(c->node, "end", rank) : rank;
    if (*b < 0)
        *b += rank;
    if (*e < 0)
        *e += rank;
    *b = *b < 0 ? 0 : *b > rank ? rank : *b;
    *e = *e < 0 ? 0 : *e > rank ? rank : *e;
    if (*e < *b)
        *e = *b;
}

static onnxc_status shape_infer(oc_kctx *c)
{
    onnxc_status st = need_in(c, 0, "data");
    if (st != ONNXC_OK || !c->out[0])
        return st;
    int64_t b, e;
    shape_range(c, c->in[0]->rank, &b, &e);
    int64_t n = e - b;
    return oc_kset_shape(c, c->out[0], ONNXC_INT64, 1, &n);
}

static onnxc_status shape_run(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    int64_t b, e;
    shape_range(c, c->in[0]->rank, &b, &e);
    if (e > b)
        memcpy(c->out[0]->data, c->in[0]->dims + b, (size_t)(e - b) * sizeof(int64_t));
    return ONNXC_OK;
}

static onnxc_status size_infer(oc_kctx *c)
{
    onnxc_status st = need_in(c, 0, "data");
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return oc_kset_shape(c, c->out[0], ONNXC_INT64, 0, NULL);
}

static onnxc_status size_run(oc_kctx *c)
{
    if (c->out[0])
        *(int64_t *)c->out[0]->data = onnxc_tensor_numel(c->in[0]);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Constant */

/* Describe the Constant's value: a tensor attribute, or (Constant-12) value_float(s)/value_int(s). */
static onnxc_status constant_value(const oc_kctx *c, int32_t *dtype, int *rank, int64_t *dims, const void **data,
                                   size_t *nbytes)
{
    const oc_node *n = c->node;
    const oc_attr *a;
    if ((a = oc_node_attr(n, "value")) && a->type == OC_ATTR_TENSOR && a->t) {
        const onnxc_tensor *t = &a->t->t;
        size_t es = 0;
        onnxc_status st = oc_kmove_size(c, t->dtype, &es);
        if (st != ONNXC_OK)
            return st;
        int64_t numel = onnxc_tensor_numel(t);
        if (t->rank < 0 || t->rank > MAXR || numel < 0 || (numel > 0 && (!t->data || t->nbytes < (size_t)numel * es)))
            return oc_kerr(c, ONNXC_E_INVALID, "attribute 'value' has inconsistent shape and data");
        *dtype = t->dtype;
        *rank = t->rank;
        memcpy(dims, t->dims, sizeof t->dims);
        *data = t->data;
        *nbytes = (size_t)numel * es;
        return ONNXC_OK;
    }
    if ((a = oc_node_attr(n, "value_float")) && a->type == OC_ATTR_FLOAT) {
        *dtype = ONNXC_FLOAT;
        *rank = 0;
        *data = &a->f;
        *nbytes = sizeof(float);
        return ONNXC_OK;
    }
    if ((a = oc_node_attr(n, "value_floats")) && a->type == OC_ATTR_FLOATS) {
        *dtype = ONNXC_FLOAT;
        *rank = 1;
        dims[0] = (int64_t)a->n_floats;
        *data = a->floats;
        *nbytes = a->n_floats * sizeof(float);
        return ONNXC_OK;
    }
    if ((a = oc_node_attr(n, "value_int")) && a->type == OC_ATTR_INT) {
        *dtype = ONNXC_INT64;
        *rank = 0;
        *data = &a->i;
        *nbytes = sizeof(int64_t);
        return ONNXC_OK;
    }
    if ((a = oc_node_attr(n, "value_ints")) && a->type == OC_ATTR_INTS) {
        *dtype = ONNXC_INT64;
        *rank = 1;
        dims[0] = (int64_t)a->n_ints;
        *data = a->ints;
        *nbytes = a->n_ints * sizeof(int64_t);
        return ONNXC_OK;
    }
    if (oc_node_attr(n, "sparse_value"))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "sparse_value is not supported");
    if (oc_node_attr(n, "value_string") || oc_node_attr(n, "value_strings"))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "string constants are not supported");
    return oc_kerr(c, ONNXC_E_INVALID, "no value attribute");
}

static onnxc_status constant_infer(oc_kctx *c)
{
    int32_t dtype = 0;
    int rank = 0;
    int64_t dims[MAXR];
    const void *data;
    size_t nbytes;
    onnxc_status st = constant_value(c, &dtype, &rank, dims, &data, &nbytes);
    if (st != ONNXC_OK || !opt_out(c, 0))
        return st;
    return oc_kset_shape(c, c->out[0], dtype, rank, dims);
}

static onnxc_status constant_run(oc_kctx *c)
{
    int32_t dtype;
    int rank;
    int64_t dims[MAXR];
    const void *data = NULL;
    size_t nbytes = 0;
    onnxc_status st = constant_value(c, &dtype, &rank, dims, &data, &nbytes);
    if (st != ONNXC_OK || !opt_out(c, 0))
        return st;
    if (nbytes)
        memcpy(c->out[0]->data, data, nbytes);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- ConstantOfShape */

/* The fill value: a one-element tensor attribute, float 0 when absent. */
static onnxc_status cos_value(const oc_kctx *c, int32_t *dtype, const void **v, size_t *es)
{
    static const float zero = 0.0f;
    const oc_attr *a = oc_node_attr(c->node, "value");
    if (!a) {
        *dtype = ONNXC_FLOAT;
        *v = &zero;
        *es = sizeof zero;
        return ONNXC_OK;
    }
    if (a->type != OC_ATTR_TENSOR || !a->t)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'value' must be a tensor");
    const onnxc_tensor *t = &a->t->t;
    onnxc_status st = oc_kmove_size(c, t->dtype, es);
    if (st != ONNXC_OK)
        return st;
    if (onnxc_tensor_numel(t) != 1 || !t->data || t->nbytes < *es)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'value' must hold exactly one element");
    *dtype = t->dtype;
    *v = t->data;
    return ONNXC_OK;
}

static onnxc_status cos_infer(oc_kctx *c)
{
    int32_t dtype = 0;
    const void *v = NULL;
    size_t es = 0;
    onnxc_status st = need_in(c, 0, "input");
    if (st == ONNXC_OK)
        st = cos_value(c, &dtype, &v, &es);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[MAXR];
    int n;
    if (c->in[0]->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be int64, got %s", onnxc_dtype_name(c->in[0]->dtype));
    st = read_ints(c, 0, "input", dims, MAXR, &n);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    for (int i = 0; i < n; i++)
        if (dims[i] < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "negative dim %lld in the shape", (long long)dims[i]);
    return oc_kset_shape(c, c->out[0], dtype, n, dims);
}

static onnxc_status cos_run(oc_kctx *c)
{
    int32_t dtype;
    const void *v = NULL;
    size_t es = 0;
    onnxc_status st = cos_value(c, &dtype, &v, &es);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    oc_fill_elems(c->out[0]->data, v, onnxc_tensor_numel(c->out[0]), es);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Identity / Dropout */

static onnxc_status identity_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "input", NULL, NULL);
    if (st != ONNXC_OK)
        return st;
    return set_out0(c, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status dropout_infer(oc_kctx *c)
{
    onnxc_status st = identity_infer(c);
    onnxc_tensor *mask = opt_out(c, 1);
    if (st != ONNXC_OK || !mask)
        return st;
    /* Dropout-10 made the mask bool; before it had the data's type. */
    int32_t mt = c->opset >= 10 ? ONNXC_BOOL : c->in[0]->dtype;
    return oc_kset_shape(c, mask, mt, c->in[0]->rank, c->in[0]->dims);
}

static onnxc_status dropout_run(oc_kctx *c)
{
    /* Dropout-12 takes ratio and training_mode as inputs. Training mode drops at random, which a comparison
     * runtime cannot reproduce, so only a zero ratio is served there. Before opset 7, is_test=0 also meant
     * training, but exporters left it unset on inference graphs, so those run as inference like other
     * runtimes do. */
    const onnxc_tensor *ratio = opt_in(c, 1), *train = opt_in(c, 2);
    if (c->opset >= 12 && train && onnxc_tensor_numel(train) == 1 && train->dtype == ONNXC_BOOL &&
        *(const uint8_t *)train->data) {
        double r = 0.5;
        if (ratio && onnxc_tensor_numel(ratio) == 1)
            r = oc_get_f64(ratio, 0);
        if (r != 0.0)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "training-mode Dropout (random masks) is not supported");
    }
    copy_run(c);
    onnxc_tensor *mask = opt_out(c, 1);
    if (mask) {
        int64_t n = onnxc_tensor_numel(mask);
        if (mask->dtype == ONNXC_BOOL) {
            memset(mask->data, 1, (size_t)n);
        } else {
            for (int64_t i = 0; i < n; i++)
                oc_set_f64(mask, i, 1.0);
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Expand */

static onnxc_status expand_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "input", "shape", NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t shape[MAXR], dims[MAXR];
    int n;
    st = read_ints(c, 1, "shape", shape, MAXR, &n);
    if (st != ONNXC_OK)
        return st;
    int r = n > x->rank ? n : x->rank;
    for (int i = 0; i < r; i++) {
        int64_t a = i - (r - x->rank) >= 0 ? x->dims[i - (r - x->rank)] : 1;
        int64_t b = i - (r - n) >= 0 ? shape[i - (r - n)] : 1;
        if (b < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "negative dim %lld in the shape", (long long)b);
        if (a == b || b == 1)
            dims[i] = a;
        else if (a == 1)
            dims[i] = b;
        else {
            char s1[128], s2[128];
            return oc_kerr(c, ONNXC_E_INVALID, "cannot expand %s to %s", oc_dims_str(x->dims, x->rank, s1, sizeof s1),
                           oc_dims_str(shape, n, s2, sizeof s2));
        }
    }
    return set_out0(c, r, dims);
}

static onnxc_status expand_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    int64_t s[MAXR];
    oc_broadcast_strides(x, y->rank, y->dims, s);
    copy_strided(c->pool, y->data, x->data, y->rank, y->dims, s, onnxc_dtype_size(x->dtype));
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Range */

static onnxc_status range_count(const oc_kctx *c, int64_t *count)
{
    const onnxc_tensor *s = c->in[0], *l = c->in[1], *d = c->in[2];
    int32_t dt = s->dtype;
    if (l->dtype != dt || d->dtype != dt)
        return oc_kerr(c, ONNXC_E_INVALID, "start, limit and delta must have the same type");
    if (onnxc_tensor_numel(s) != 1 || onnxc_tensor_numel(l) != 1 || onnxc_tensor_numel(d) != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "start, limit and delta must be scalars");
    if (!s->data || !l->data || !d->data)
        return oc_kerr(c, ONNXC_E_INVALID, "start, limit and delta have no data at plan time");
    size_t es = onnxc_dtype_size(dt);
    if (dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE) {
        double a = oc_get_f64(s, 0), b = oc_get_f64(l, 0), dl = oc_get_f64(d, 0);
        if (dl == 0 || !isfinite(a) || !isfinite(b) || !isfinite(dl))
            return oc_kerr(c, ONNXC_E_INVALID, "start, limit and delta must be finite and delta non-zero");
        double n = ceil((b - a) / dl);
        if (!(n < 9.2e18 / (double)es))
            return oc_kerr(c, ONNXC_E_INVALID, "the range has too many elements");
        *count = n > 0 ? (int64_t)n : 0;
    } else if (dt == ONNXC_INT16 || dt == ONNXC_INT32 || dt == ONNXC_INT64) {
        int64_t a = oc_get_i64(s, 0), b = oc_get_i64(l, 0), dl = oc_get_i64(d, 0);
        if (dl == 0)
            return oc_kerr(c, ONNXC_E_INVALID, "delta is 0");
        /* ceil((b - a) / dl) without overflowing: work on the magnitude in unsigned arithmetic */
        uint64_t span, step;
        if (dl > 0) {
            if (b <= a) {
                *count = 0;
                return ONNXC_OK;
            }
            span = (uint64_t)b - (uint64_t)a;
            step = (uint64_t)dl;
        } else {
            if (b >= a) {
                *count = 0;
                return ONNXC_OK;
            }
            span = (uint64_t)a - (uint64_t)b;
            step = (uint64_t)0 - (uint64_t)dl;
        }
        uint64_t n = span / step + (span % step != 0);
        if (n > (uint64_t)INT64_MAX / es)
            return oc_kerr(c, ONNXC_E_INVALID, "the range has too many elements");
        *count = (int64_t)n;
    } else {
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "Range on %s", onnxc_dtype_name(dt));
    }
    return ONNXC_OK;
}

static onnxc_status range_infer(oc_kctx *c)
{
    onnxc_status st = need_in(c, 0, "start");
    if (st == ONNXC_OK)
        st = need_in(c, 1, "limit");
    if (st == ONNXC_OK)
        st = need_in(c, 2, "delta");
    int64_t n;
    if (st == ONNXC_OK)
        st = range_count(c, &n);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    return oc_kset_shape(c, c->out[0], c->in[0]->dtype, 1, &n);
}

static onnxc_status range_run(oc_kctx *c)
{
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    int64_t n = y->dims[0];
    switch (y->dtype) {
    case ONNXC_FLOAT: {
        /* numpy's arange fills start + i * delta; float32 arithmetic as the element type does */
        float a = *(const float *)c->in[0]->data, d = *(const float *)c->in[2]->data, *o = y->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = a + (float)i * d;
        break;
    }
    case ONNXC_DOUBLE: {
        double a = *(const double *)c->in[0]->data, d = *(const double *)c->in[2]->data, *o = y->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = a + (double)i * d;
        break;
    }
    default: {
        int64_t a = oc_get_i64(c->in[0], 0), d = oc_get_i64(c->in[2], 0);
        for (int64_t i = 0; i < n; i++)
            oc_set_i64(y, i, (int64_t)((uint64_t)a + (uint64_t)i * (uint64_t)d));
        break;
    }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Tile */

static onnxc_status tile_infer(oc_kctx *c)
{
    onnxc_status st = need_inputs(c, "input", "repeats", NULL);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *x = c->in[0];
    int64_t rep[MAXR], dims[MAXR];
    int n;
    st = read_ints(c, 1, "repeats", rep, MAXR, &n);
    if (st != ONNXC_OK)
        return st;
    if (n != x->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "repeats has %d values for an input of rank %d", n, (int)x->rank);
    for (int i = 0; i < n; i++) {
        if (rep[i] < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "negative repeat %lld", (long long)rep[i]);
        if (!oc_mul_i64(x->dims[i], rep[i], &dims[i]))
            return oc_kerr(c, ONNXC_E_INVALID, "tiled dim overflows");
    }
    return set_out0(c, n, dims);
}

static onnxc_status tile_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    if (!y || y->nbytes == 0)
        return ONNXC_OK;
    size_t es = onnxc_dtype_size(x->dtype);
    int r = x->rank;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return ONNXC_OK;
    }
    const int64_t *n = x->dims, *m = y->dims;
    int64_t ys[MAXR], idx[MAXR] = {0};
    oc_strides(r, m, ys);
    /* 1. each input row goes to the output block of the same index, repeated along the last axis */
    int64_t rows = oc_dims_prod(n, 0, r - 1), len = n[r - 1], reps = m[r - 1] / len, off = 0;
    size_t rowb = (size_t)len * es;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t o = 0; o < rows; o++, src += rowb) {
        for (int64_t k = 0; k < reps; k++)
            memcpy(dst + (size_t)(off + k * len) * es, src, rowb);
        for (int k = r - 2; k >= 0; k--) {
            off += ys[k];
            if (++idx[k] < n[k])
                break;
            off -= ys[k] * n[k];
            idx[k] = 0;
        }
    }
    /* 2. from the innermost axis outwards, the filled slab out[prefix, 0:n[d], ...] is contiguous; copy it
     * to the other repeats of axis d */
    for (int d = r - 2; d >= 0; d--) {
        int64_t slab = n[d] * ys[d], dreps = m[d] / n[d], pre = oc_dims_prod(n, 0, d);
        memset(idx, 0, sizeof idx);
        off = 0;
        for (int64_t o = 0; o < pre; o++) {
            for (int64_t k = 1; k < dreps; k++)
                memcpy(dst + (size_t)(off + k * slab) * es, dst + (size_t)off * es, (size_t)slab * es);
            for (int k = d - 1; k >= 0; k--) {
                off += ys[k];
                if (++idx[k] < n[k])
                    break;
                off -= ys[k] * n[k];
                idx[k] = 0;
            }
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- the table */

#define B(i) (1u << (i))

const oc_kernel oc_kernels_shape[] = {
    {"Reshape", NULL, 1, 4, 0, reshape_infer, NULL, copy_run, NULL, 0},
    {"Reshape", NULL, 5, 0, B(1), reshape_infer, NULL, copy_run, NULL, 0},
    {"Flatten", NULL, 1, 0, 0, flatten_infer, NULL, copy_run, NULL, 0},
    {"Transpose", NULL, 1, 0, 0, transpose_infer, NULL, transpose_run, NULL, 0},
    {"Squeeze", NULL, 1, 12, 0, squeeze_infer, NULL, copy_run, NULL, 0},
    {"Squeeze", NULL, 13, 0, B(1), squeeze_infer, NULL, copy_run, NULL, 0},
    {"Unsqueeze", NULL, 1, 12, 0, unsqueeze_infer, NULL, copy_run, NULL, 0},
    {"Unsqueeze", NULL, 13, 0, B(1), unsqueeze_infer, NULL, copy_run, NULL, 0},
    {"Concat", NULL, 1, 0, 0, concat_infer, NULL, concat_run, NULL, 0},
    {"Split", NULL, 1, 1, B(1), split_infer, NULL, split_run, NULL, 0},
    {"Split", NULL, 2, 12, 0, split_infer, NULL, split_run, NULL, 0},
    {"Split", NULL, 13, 0, B(1), split_infer, NULL, split_run, NULL, 0},
    {"Slice", NULL, 1, 9, 0, slice_infer, NULL, slice_run, NULL, 0},
    {"Slice", NULL, 10, 0, B(1) | B(2) | B(3) | B(4), slice_infer, NULL, slice_run, NULL, 0},
    {"Gather", NULL, 1, 0, 0, gather_infer, NULL, gather_run, NULL, 0},
    {"GatherElements", NULL, 11, 0, 0, gather_elements_infer, NULL, gather_elements_run, NULL, 0},
    {"GatherND", NULL, 11, 0, 0, gather_nd_infer, NULL, gather_nd_run, NULL, 0},
    {"Scatter", NULL, 9, 10, 0, scatter_elements_infer, NULL, scatter_elements_run, NULL, 0},
    {"ScatterElements", NULL, 11, 0, 0, scatter_elements_infer, NULL, scatter_elements_run, NULL, 0},
    {"ScatterND", NULL, 11, 0, 0, scatter_nd_infer, NULL, scatter_nd_run, NULL, 0},
    {"Shape", NULL, 1, 0, 0, shape_infer, NULL, shape_run, NULL, B(0)},
    {"Size", NULL, 1, 0, 0, size_infer, NULL, size_run, NULL, B(0)},
    {"Constant", NULL, 1, 0, 0, constant_infer, NULL, constant_run, NULL, 0},
    {"ConstantOfShape", NULL, 9, 0, B(0), cos_infer, NULL, cos_run, NULL, 0},
    {"Identity", NULL, 1, 0, 0, identity_infer, NULL, copy_run, NULL, 0},
    {"Dropout", NULL, 1, 0, 0, dropout_infer, NULL, dropout_run, NULL, 0},
    {"Expand", NULL, 8, 0, B(1), expand_infer, NULL, expand_run, NULL, 0},
    {"Range", NULL, 11, 0, B(0) | B(1) | B(2), range_infer, NULL, range_run, NULL, 0},
    {"Tile", NULL, 6, 0, B(1), tile_infer, NULL, tile_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
