/* Helpers shared by kernels: shape setting with checks, numpy broadcasting and the broadcast walker, splitting
 * a loop over the session's pool, axis
 * normalisation and node-labelled errors. */
#include "kutil.h"
#include "threadpool.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

onnxc_status oc_set_shape(onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims)
{
    if (!t)
        return oc_err(ONNXC_E_INVALID, "an output the op requires is missing from the node");
    if (rank < 0 || rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_INVALID, "rank %d outside 0..%d", rank, ONNXC_MAX_RANK);
    size_t es = onnxc_dtype_size(dtype);
    if (es == 0)
        return oc_err(ONNXC_E_UNSUPPORTED, "unsupported element type %d", (int)dtype);
    int64_t n;
    if (!oc_numel(dims, rank, &n))
        return oc_err(ONNXC_E_INVALID, "output dims are negative or their product overflows");
    size_t bytes;
    if (!oc_mul_size((size_t)n, es, &bytes))
        return oc_err(ONNXC_E_NOMEM, "output of %lld elements overflows the byte count", (long long)n);
    t->dtype = dtype;
    t->rank = rank;
    memset(t->dims, 0, sizeof t->dims);
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->nbytes = bytes;
    return ONNXC_OK;
}

onnxc_status oc_broadcast_shapes(const oc_kctx *c, int n, const onnxc_tensor *const *ts, int *rank, int64_t *dims)
{
    int r = 0;
    for (int k = 0; k < n; k++)
        if (ts[k] && ts[k]->rank > r)
            r = ts[k]->rank;
    if (r > ONNXC_MAX_RANK)
        return oc_kerr(c, ONNXC_E_INVALID, "rank %d exceeds %d", r, ONNXC_MAX_RANK);
    for (int i = 0; i < r; i++)
        dims[i] = 1;
    for (int k = 0; k < n; k++) {
        const onnxc_tensor *t = ts[k];
        if (!t)
            continue;
        int off = r - t->rank;
        for (int i = 0; i < t->rank; i++) {
            int64_t d = t->dims[i];
            int64_t *o = &dims[off + i];
            if (d < 0)
                return oc_kerr(c, ONNXC_E_INVALID, "input %d has a negative dim", k);
            if (d == *o || d == 1)
                continue;
            if (*o == 1) {
                *o = d;
                continue;
            }
            char a[128], b[128];
            return oc_kerr(c, ONNXC_E_INVALID, "input shapes do not broadcast: input %d is %s, others give %s", k,
                           oc_dims_str(t->dims, t->rank, a, sizeof a), oc_dims_str(dims, r, b, sizeof b));
        }
    }
    *rank = r;
    return ONNXC_OK;
}

void oc_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

int64_t oc_dims_prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= d[i];
    return p;
}

onnxc_status oc_kset_shape(const oc_kctx *c, onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims)
{
    onnxc_status st = oc_set_shape(t, dtype, rank, dims);
    if (st != ONNXC_OK) {
        char lbl[256];
        return oc_err_prefix(st, "node %s", oc_node_label(c->node, lbl, sizeof lbl));
    }
    return ONNXC_OK;
}

onnxc_status oc_kmove_size(const oc_kctx *c, int32_t dtype, size_t *es)
{
    if (dtype == ONNXC_STRING)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "string tensors are not supported");
    size_t s = onnxc_dtype_size(dtype);
    if (s == 0)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(dtype));
    *es = s;
    return ONNXC_OK;
}

void oc_fill_elems(void *dst, const void *v, int64_t n, size_t es)
{
    switch (es) {
    case 1:
        memset(dst, *(const uint8_t *)v, (size_t)n);
        break;
    case 2: {
        uint16_t x, *d = dst;
        memcpy(&x, v, 2);
        for (int64_t i = 0; i < n; i++)
            d[i] = x;
        break;
    }
    case 4: {
        uint32_t x, *d = dst;
        memcpy(&x, v, 4);
        for (int64_t i = 0; i < n; i++)
            d[i] = x;
        break;
    }
    case 8: {
        uint64_t x, *d = dst;
        memcpy(&x, v, 8);
        for (int64_t i = 0; i < n; i++)
            d[i] = x;
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy((char *)dst + (size_t)i * es, v, es);
        break;
    }
}

void oc_broadcast_strides(const onnxc_tensor *t, int rank, const int64_t *dims, int64_t *strides)
{
    (void)dims; /* the output dims are implied: broadcast_shapes already checked compatibility */
    int64_t own[ONNXC_MAX_RANK];
    oc_strides(t->rank, t->dims, own);
    int off = rank - t->rank;
    for (int i = 0; i < rank; i++) {
        if (i < off) {
            strides[i] = 0;
            continue;
        }
        /* a size-1 dim never advances, whatever the output dim */
        strides[i] = t->dims[i - off] == 1 ? 0 : own[i - off];
    }
}

void oc_walk_init(oc_walk *w, const onnxc_tensor *out, int n, const onnxc_tensor *const *in)
{
    int64_t st[OC_WALK_MAXIN][ONNXC_MAX_RANK];
    for (int k = 0; k < n; k++)
        oc_broadcast_strides(in[k], out->rank, out->dims, st[k]);
    w->n = n;
    w->rank = 0;
    for (int i = 0; i < out->rank; i++) {
        int64_t d = out->dims[i];
        if (d == 1)
            continue; /* a size-1 output dim adds nothing to any offset */
        if (w->rank > 0) {
            /* merge with the previous kept dim when every input steps through both as one run */
            int j = w->rank - 1;
            bool merge = true;
            for (int k = 0; k < n; k++)
                if (w->st[k][j] != st[k][i] * d)
                    merge = false;
            if (merge) {
                w->dims[j] *= d;
                for (int k = 0; k < n; k++)
                    w->st[k][j] = st[k][i];
                continue;
            }
        }
        w->dims[w->rank] = d;
        for (int k = 0; k < n; k++)
            w->st[k][w->rank] = st[k][i];
        w->rank++;
    }
    if (w->rank == 0) {
        w->rank = 1;
        w->dims[0] = 1;
        for (int k = 0; k < n; k++)
            w->st[k][0] = 0;
    }
}

typedef struct oc_par_job {
    oc_range_fn fn;
    void *arg;
    int64_t n, chunk;
} oc_par_job;

static void oc_par_item(void *arg, int64_t item, int slot)
{
    const oc_par_job *j = arg;
    int64_t lo = item * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    j->fn(j->arg, lo, hi, slot);
}

void oc_par_for(struct oc_threadpool *pool, int64_t n, int64_t work, oc_range_fn fn, void *arg)
{
    if (n <= 0)
        return;
    int threads = oc_pool_threads(pool);
    if (threads <= 1 || n < 2 || work < OC_PAR_MIN) {
        fn(arg, 0, n, 0);
        return;
    }
    int64_t want = (int64_t)OC_PAR_CHUNKS * threads;
    if (want > n)
        want = n;
    oc_par_job j = {fn, arg, n, (n + want - 1) / want};
    oc_pool_run(pool, (n + j.chunk - 1) / j.chunk, oc_par_item, &j);
}

/* A walk cut into tasks: task t is block t % nb (of blk elements) of output row t / nb. */
typedef struct oc_walk_job {
    const oc_walk *w;
    void *out;
    const void *const *in;
    oc_row_fn f;
    const void *ctx;
    size_t oes, ies[OC_WALK_MAXIN];
    int64_t inner, blk, nb;
} oc_walk_job;

static void oc_walk_tasks(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const oc_walk_job *j = arg;
    const oc_walk *w = j->w;
    const int r = w->rank;
    for (int64_t t = lo; t < hi; t++) {
        int64_t o = t / j->nb, b0 = (t % j->nb) * j->blk;
        int64_t len = j->inner - b0 < j->blk ? j->inner - b0 : j->blk;
        int64_t off[OC_WALK_MAXIN] = {0};
        int64_t rem = o;
        for (int d = r - 2; d >= 0; d--) {
            int64_t idx = rem % w->dims[d];
            rem /= w->dims[d];
            for (int k = 0; k < w->n; k++)
                off[k] += idx * w->st[k][d];
        }
        const void *ptr[OC_WALK_MAXIN];
        int64_t ist[OC_WALK_MAXIN];
        for (int k = 0; k < w->n; k++) {
            ist[k] = w->st[k][r - 1];
            ptr[k] = (const char *)j->in[k] + (size_t)(off[k] + b0 * ist[k]) * j->ies[k];
        }
        j->f((char *)j->out + (size_t)(o * j->inner + b0) * j->oes, ptr, ist, len, j->ctx);
    }
}

void oc_walk_run(const oc_walk *w, void *out, int32_t out_dtype, const void *const *in, const int32_t *in_dtype,
                 oc_row_fn f, const void *ctx, struct oc_threadpool *pool)
{
    int r = w->rank;
    int64_t inner = w->dims[r - 1];
    int64_t outer = 1;
    for (int d = 0; d < r - 1; d++)
        outer *= w->dims[d];
    int64_t total = outer * inner; /* the output's element count, checked when it was shaped */
    if (total == 0)
        return;
    oc_walk_job j = {.w = w, .out = out, .in = in, .f = f, .ctx = ctx, .oes = onnxc_dtype_size(out_dtype),
                     .inner = inner, .blk = inner};
    for (int k = 0; k < w->n; k++)
        j.ies[k] = onnxc_dtype_size(in_dtype[k]);
    int threads = total >= OC_PAR_MIN ? oc_pool_threads(pool) : 1;
    /* With fewer rows than chunks, cut rows into blocks (of whole cache lines, not too short for the row loop's
     * vector body) so every thread gets its share. A block computes each of its elements as the whole row
     * would: row loops are elementwise. */
    if (threads > 1 && outer < (int64_t)OC_PAR_CHUNKS * threads) {
        int64_t parts = (int64_t)OC_PAR_CHUNKS * threads / outer + 1;
        int64_t blk = (inner + parts - 1) / parts;
        blk = (blk + 63) / 64 * 64;
        if (blk < 4096)
            blk = 4096;
        j.blk = blk < inner ? blk : inner;
    }
    j.nb = (inner + j.blk - 1) / j.blk;
    oc_par_for(pool, outer * j.nb, total, oc_walk_tasks, &j);
}

onnxc_status oc_norm_axis(const oc_kctx *c, int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return oc_kerr(c, ONNXC_E_INVALID, "axis %lld is outside [%d, %d]", (long long)axis, -rank, rank - 1);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return ONNXC_OK;
}

onnxc_status oc_kerr(const oc_kctx *c, onnxc_status st, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c && c->node) {
        char lbl[256];
        return oc_err(st, "node %s: %s", oc_node_label(c->node, lbl, sizeof lbl), msg);
    }
    return oc_err(st, "%s", msg);
}
