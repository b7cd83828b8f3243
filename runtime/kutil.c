/* Helpers shared by kernels: shape setting with checks, numpy broadcasting and the broadcast walker, axis
 * normalisation and node-labelled errors. */
#include "kutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

onnxc_status oc_set_shape(onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims)
{
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

void oc_walk_run(const oc_walk *w, void *out, int32_t out_dtype, const void *const *in, const int32_t *in_dtype,
                 oc_row_fn f, const void *ctx, int threads)
{
    int r = w->rank;
    int64_t inner = w->dims[r - 1];
    int64_t outer = 1;
    for (int d = 0; d < r - 1; d++)
        outer *= w->dims[d];
    int64_t total = outer * inner; /* the output's element count, checked when it was shaped */
    if (total == 0)
        return;
    size_t oes = onnxc_dtype_size(out_dtype);
    size_t ies[OC_WALK_MAXIN];
    for (int k = 0; k < w->n; k++)
        ies[k] = onnxc_dtype_size(in_dtype[k]);
    int nt = threads > 1 && total >= OC_PAR_MIN ? threads : 1;
    /* With few rows, split rows into blocks so every thread gets work. */
    int64_t blk = inner;
    if (nt > 1 && outer < 4 * (int64_t)nt) {
        int64_t parts = 4 * (int64_t)nt / outer + 1;
        blk = (inner + parts - 1) / parts;
        blk = (blk + 63) / 64 * 64;
        if (blk < 4096)
            blk = 4096;
        if (blk > inner)
            blk = inner;
    }
    int64_t nb = (inner + blk - 1) / blk;
    int64_t tasks = outer * nb;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / nb, b0 = (t % nb) * blk;
        int64_t len = inner - b0 < blk ? inner - b0 : blk;
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
            ptr[k] = (const char *)in[k] + (size_t)(off[k] + b0 * ist[k]) * ies[k];
        }
        f((char *)out + (size_t)(o * inner + b0) * oes, ptr, ist, len, ctx);
    }
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
