/* Sequence and Optional ops over the values of src/seqval.h (a sequence or optional held as one byte block in a
 * tensor of dtype ONNXC_SEQUENCE / ONNXC_OPTIONAL): SequenceEmpty, SequenceConstruct, SequenceInsert,
 * SequenceErase, SequenceAt, SequenceLength, ConcatFromSequence, SplitToSequence, Optional, OptionalHasElement,
 * OptionalGetElement. All OC_KF_DATA_SHAPE: a block's size is known only once its items are. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "seqval.h"

/* Input j as a block of kind (ONNXC_SEQUENCE / ONNXC_OPTIONAL), checked when its data is there. */
static onnxc_status need_kind(const oc_kctx *c, int j, int32_t kind, const char *what)
{
    const onnxc_tensor *t = j < c->n_in ? c->in[j] : NULL;
    if (!t)
        return oc_kerr(c, ONNXC_E_INVALID, "missing input '%s'", what);
    if (t->dtype != kind)
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' must be %s, not %s", what,
                       kind == ONNXC_SEQUENCE ? "a sequence" : "an optional", onnxc_dtype_name(t->dtype));
    if (t->data && !oc_seq_valid(t))
        return oc_kerr(c, ONNXC_E_INVALID, "input '%s' is not a valid %s value", what, onnxc_dtype_name(kind));
    return ONNXC_OK;
}

/* Output o as a block of n items. */
static onnxc_status emit(oc_kctx *c, int o, int32_t kind, int32_t elem, int64_t n, const onnxc_tensor *const *items)
{
    if (o >= c->n_out || !c->out[o])
        return ONNXC_OK;
    size_t bytes = 0;
    const char *why = NULL;
    if (!oc_seq_bytes(n, items, &bytes, &why))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output %d: %s", o, why);
    const int64_t d = (int64_t)bytes;
    onnxc_status st = oc_kset_shape(c, c->out[o], kind, 1, &d);
    if (st == ONNXC_OK)
        st = c->alloc_out(c, o);
    if (st == ONNXC_OK)
        oc_seq_write(c->out[o]->data, kind, elem, n, items);
    return st;
}

/* Output o as a copy of tensor (or block) t. */
static onnxc_status emit_copy(oc_kctx *c, int o, const onnxc_tensor *t)
{
    if (o >= c->n_out || !c->out[o])
        return ONNXC_OK;
    onnxc_status st = oc_kset_shape(c, c->out[o], t->dtype, t->rank, t->dims);
    if (st == ONNXC_OK)
        st = c->alloc_out(c, o);
    if (st == ONNXC_OK && c->out[o]->nbytes)
        memcpy(c->out[o]->data, t->data, c->out[o]->nbytes);
    return st;
}

/* The items of block t as views (n of them, into *views: free with free()). */
static onnxc_status views_of(const oc_kctx *c, const onnxc_tensor *t, int64_t extra, onnxc_tensor **views,
                             const onnxc_tensor ***ptrs, int64_t *n)
{
    *n = oc_seq_len(t);
    *views = calloc((size_t)(*n + extra) + 1, sizeof **views);
    *ptrs = calloc((size_t)(*n + extra) + 1, sizeof **ptrs);
    if (!*views || !*ptrs) {
        free(*views);
        free(*ptrs);
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < *n; i++)
        oc_seq_at(t, i, &(*views)[i]);
    return ONNXC_OK;
}

static void set_out_kind(oc_kctx *c, int o, int32_t kind)
{
    if (o < c->n_out && c->out[o])
        c->out[o]->dtype = kind;
}

/* An optional position input (an int32 or int64 scalar) as a value, or dflt when absent. */
static onnxc_status position(const oc_kctx *c, int j, int64_t dflt, int64_t *pos)
{
    *pos = dflt;
    const onnxc_tensor *p = j < c->n_in ? c->in[j] : NULL;
    if (!p)
        return ONNXC_OK;
    if ((p->dtype != ONNXC_INT32 && p->dtype != ONNXC_INT64) || onnxc_tensor_numel(p) != 1)
        return oc_kerr(c, ONNXC_E_INVALID, "position must be one int32 or int64, not %lld elements of %s",
                       (long long)onnxc_tensor_numel(p), onnxc_dtype_name(p->dtype));
    if (p->data)
        *pos = p->dtype == ONNXC_INT32 ? ((const int32_t *)p->data)[0] : ((const int64_t *)p->data)[0];
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- SequenceEmpty / Construct / Insert / Erase */

static onnxc_status seq_out_infer(oc_kctx *c)
{
    set_out_kind(c, 0, ONNXC_SEQUENCE);
    return ONNXC_OK;
}

static onnxc_status seq_empty_run(oc_kctx *c)
{
    int32_t dt = (int32_t)oc_attr_int(c->node, "dtype", ONNXC_FLOAT);
    return emit(c, 0, ONNXC_SEQUENCE, dt, 0, NULL);
}

static onnxc_status seq_construct_infer(oc_kctx *c)
{
    if (c->n_in < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs at least one input");
    for (int j = 0; j < c->n_in; j++) {
        if (!c->in[j])
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is empty", j);
        if (c->in[j]->dtype != c->in[0]->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is %s, input 0 %s: a sequence holds one type", j,
                           onnxc_dtype_name(c->in[j]->dtype), onnxc_dtype_name(c->in[0]->dtype));
        if (oc_is_seqval(c->in[j]->dtype))
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input %d: sequences of sequences or optionals", j);
    }
    return seq_out_infer(c);
}

static onnxc_status seq_construct_run(oc_kctx *c)
{
    return emit(c, 0, ONNXC_SEQUENCE, c->in[0]->dtype, c->n_in, (const onnxc_tensor *const *)c->in);
}

/* The element type a sequence holds: its declared one, else its first item's. */
static int32_t seq_elem(const onnxc_tensor *s)
{
    int32_t e = oc_seq_elem(s);
    if (!e && oc_seq_len(s) > 0) {
        onnxc_tensor v;
        oc_seq_at(s, 0, &v);
        e = v.dtype;
    }
    return e;
}

static onnxc_status seq_insert_infer(oc_kctx *c)
{
    onnxc_status st = need_kind(c, 0, ONNXC_SEQUENCE, "input_sequence");
    if (st != ONNXC_OK)
        return st;
    if (c->n_in < 2 || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'tensor'");
    int64_t pos;
    if ((st = position(c, 2, 0, &pos)) != ONNXC_OK)
        return st;
    return seq_out_infer(c);
}

static onnxc_status seq_insert_run(oc_kctx *c)
{
    const onnxc_tensor *s = c->in[0], *t = c->in[1];
    int64_t n = oc_seq_len(s), pos;
    onnxc_status st = position(c, 2, n, &pos);
    if (st != ONNXC_OK)
        return st;
    if (pos < -n || pos > n)
        return oc_kerr(c, ONNXC_E_INVALID, "position %lld is outside [-%lld, %lld] for a sequence of %lld",
                       (long long)pos, (long long)n, (long long)n, (long long)n);
    if (pos < 0)
        pos += n;
    const int32_t e = seq_elem(s);
    if (e && e != t->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "inserting %s into a sequence of %s", onnxc_dtype_name(t->dtype),
                       onnxc_dtype_name(e));
    onnxc_tensor *v;
    const onnxc_tensor **p;
    int64_t k;
    if ((st = views_of(c, s, 1, &v, &p, &k)) != ONNXC_OK)
        return st;
    for (int64_t i = 0, w = 0; i <= n; i++)
        p[i] = i == pos ? t : &v[w++];
    st = emit(c, 0, ONNXC_SEQUENCE, t->dtype, n + 1, p);
    free(v);
    free(p);
    return st;
}

static onnxc_status seq_erase_infer(oc_kctx *c)
{
    onnxc_status st = need_kind(c, 0, ONNXC_SEQUENCE, "input_sequence");
    int64_t pos;
    if (st == ONNXC_OK)
        st = position(c, 1, -1, &pos);
    return st == ONNXC_OK ? seq_out_infer(c) : st;
}

static onnxc_status seq_erase_run(oc_kctx *c)
{
    const onnxc_tensor *s = c->in[0];
    int64_t n = oc_seq_len(s), pos;
    onnxc_status st = position(c, 1, -1, &pos);
    if (st != ONNXC_OK)
        return st;
    if (pos < -n || pos >= n)
        return oc_kerr(c, ONNXC_E_INVALID, "position %lld is out of range for a sequence of %lld", (long long)pos,
                       (long long)n);
    if (pos < 0)
        pos += n;
    onnxc_tensor *v;
    const onnxc_tensor **p;
    int64_t k;
    if ((st = views_of(c, s, 0, &v, &p, &k)) != ONNXC_OK)
        return st;
    for (int64_t i = 0, w = 0; i < n; i++)
        if (i != pos)
            p[w++] = &v[i];
    st = emit(c, 0, ONNXC_SEQUENCE, oc_seq_elem(s), n - 1, p);
    free(v);
    free(p);
    return st;
}

/* ---------------------------------------------------------------- SequenceAt / SequenceLength */

static onnxc_status seq_at_infer(oc_kctx *c)
{
    onnxc_status st = need_kind(c, 0, ONNXC_SEQUENCE, "input_sequence");
    if (st != ONNXC_OK)
        return st;
    if (c->n_in < 2 || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'position'");
    int64_t pos;
    if ((st = position(c, 1, 0, &pos)) != ONNXC_OK)
        return st;
    int32_t e = c->in[0]->data ? seq_elem(c->in[0]) : 0;
    set_out_kind(c, 0, e ? e : ONNXC_FLOAT); /* the run sets the item's type */
    return ONNXC_OK;
}

static onnxc_status seq_at_run(oc_kctx *c)
{
    const onnxc_tensor *s = c->in[0];
    int64_t n = oc_seq_len(s), pos;
    onnxc_status st = position(c, 1, 0, &pos);
    if (st != ONNXC_OK)
        return st;
    if (pos < -n || pos >= n)
        return oc_kerr(c, ONNXC_E_INVALID, "position %lld is out of range for a sequence of %lld", (long long)pos,
                       (long long)n);
    onnxc_tensor v;
    oc_seq_at(s, pos < 0 ? pos + n : pos, &v);
    return emit_copy(c, 0, &v);
}

static onnxc_status seq_length_infer(oc_kctx *c)
{
    onnxc_status st = need_kind(c, 0, ONNXC_SEQUENCE, "input_sequence");
    set_out_kind(c, 0, ONNXC_INT64);
    return st;
}

static onnxc_status seq_length_run(oc_kctx *c)
{
    int64_t n = oc_seq_len(c->in[0]);
    onnxc_tensor t = {.dtype = ONNXC_INT64, .rank = 0, .data = &n, .nbytes = sizeof n};
    return emit_copy(c, 0, &t);
}

/* ---------------------------------------------------------------- ConcatFromSequence / SplitToSequence */

static onnxc_status concat_seq_infer(oc_kctx *c)
{
    onnxc_status st = need_kind(c, 0, ONNXC_SEQUENCE, "input_sequence");
    if (st != ONNXC_OK)
        return st;
    if (!oc_node_attr(c->node, "axis"))
        return oc_kerr(c, ONNXC_E_INVALID, "attribute axis is required");
    int32_t e = c->in[0]->data ? seq_elem(c->in[0]) : 0;
    set_out_kind(c, 0, e ? e : ONNXC_FLOAT);
    return ONNXC_OK;
}

static onnxc_status concat_seq_run(oc_kctx *c)
{
    const onnxc_tensor *s = c->in[0];
    const int64_t n = oc_seq_len(s);
    const bool new_axis = oc_attr_int(c->node, "new_axis", 0) != 0;
    if (n == 0)
        return oc_kerr(c, ONNXC_E_INVALID, "the sequence is empty: nothing to concatenate");
    onnxc_tensor first;
    oc_seq_at(s, 0, &first);
    const int r = first.rank + (new_axis ? 1 : 0);
    if (r > ONNXC_MAX_RANK || r < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "items of rank %d cannot be concatenated%s", first.rank,
                       new_axis ? "" : " (a scalar has no axis)");
    int ax = 0;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), r, &ax);
    if (st != ONNXC_OK)
        return st;
    /* each item as [outer][len][inner] (len 1 with new_axis) */
    int64_t dims[ONNXC_MAX_RANK], total = 0;
    const int64_t outer = oc_dims_prod(first.dims, 0, ax);
    const int64_t inner = oc_dims_prod(first.dims, new_axis ? ax : ax + 1, first.rank);
    for (int64_t i = 0; i < n; i++) {
        onnxc_tensor v;
        oc_seq_at(s, i, &v);
        bool ok = v.dtype == first.dtype && v.rank == first.rank;
        for (int d = 0; ok && d < v.rank; d++)
            ok = d == ax && !new_axis ? true : v.dims[d] == first.dims[d];
        if (!ok)
            return oc_kerr(c, ONNXC_E_INVALID, "item %lld does not match item 0 outside axis %d", (long long)i, ax);
        total += new_axis ? 1 : v.dims[ax];
    }
    for (int d = 0, k = 0; d < r; d++)
        dims[d] = d == ax ? total : new_axis ? first.dims[k++] : first.dims[d];
    if ((st = oc_kset_shape(c, c->out[0], first.dtype, r, dims)) != ONNXC_OK || (st = c->alloc_out(c, 0)) != ONNXC_OK)
        return st;
    const size_t es = onnxc_dtype_size(first.dtype);
    size_t off = 0; /* along the axis, in elements of inner */
    for (int64_t i = 0; i < n; i++) {
        onnxc_tensor v;
        oc_seq_at(s, i, &v);
        const int64_t len = new_axis ? 1 : v.dims[ax];
        const size_t chunk = (size_t)(len * inner) * es;
        for (int64_t q = 0; q < outer && chunk; q++)
            memcpy((char *)c->out[0]->data + ((size_t)(q * total) * (size_t)inner + off * (size_t)inner) * es,
                   (const char *)v.data + (size_t)q * chunk, chunk);
        off += (size_t)len;
    }
    return ONNXC_OK;
}

static onnxc_status split_seq_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'input'");
    if (oc_is_seqval(c->in[0]->dtype) || c->in[0]->dtype == ONNXC_STRING)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "input is %s", onnxc_dtype_name(c->in[0]->dtype));
    if (c->in[0]->rank < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "input must have rank 1 or more");
    const onnxc_tensor *sp = c->n_in > 1 ? c->in[1] : NULL;
    if (sp && ((sp->dtype != ONNXC_INT32 && sp->dtype != ONNXC_INT64) || sp->rank > 1))
        return oc_kerr(c, ONNXC_E_INVALID, "split must be an int32 or int64 scalar or 1-D tensor");
    int ax = 0;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), c->in[0]->rank, &ax);
    return st == ONNXC_OK ? seq_out_infer(c) : st;
}

static onnxc_status split_seq_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0], *sp = c->n_in > 1 ? c->in[1] : NULL;
    int ax = 0;
    onnxc_status st = oc_norm_axis(c, oc_attr_int(c->node, "axis", 0), x->rank, &ax);
    if (st != ONNXC_OK)
        return st;
    const int64_t D = x->dims[ax];
    const bool keep = oc_attr_int(c->node, "keepdims", 1) != 0;
    int64_t n = 0;
    int64_t *sizes = NULL;
    bool squeeze = false;
    if (!sp) {
        n = D;
        squeeze = !keep;
    } else if (sp->rank == 0) {
        int64_t k = (int64_t)oc_load_f64(sp->dtype, sp->data, 0);
        if (k <= 0)
            return oc_kerr(c, ONNXC_E_INVALID, "split is %lld: it must be positive", (long long)k);
        n = (D + k - 1) / k;
    } else {
        n = onnxc_tensor_numel(sp);
    }
    sizes = calloc((size_t)n + 1, sizeof *sizes);
    onnxc_tensor *parts = calloc((size_t)n + 1, sizeof *parts);
    const onnxc_tensor **p = calloc((size_t)n + 1, sizeof *p);
    if (!sizes || !parts || !p) {
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        goto out;
    }
    int64_t sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!sp)
            sizes[i] = 1;
        else if (sp->rank == 0) {
            int64_t k = (int64_t)oc_load_f64(sp->dtype, sp->data, 0);
            sizes[i] = D - i * k < k ? D - i * k : k;
        } else
            sizes[i] = (int64_t)oc_load_f64(sp->dtype, sp->data, i);
        if (sizes[i] < 0) {
            st = oc_kerr(c, ONNXC_E_INVALID, "split[%lld] is negative", (long long)i);
            goto out;
        }
        sum += sizes[i];
    }
    if (sum != D) {
        st = oc_kerr(c, ONNXC_E_INVALID, "split sums to %lld, the axis has %lld", (long long)sum, (long long)D);
        goto out;
    }
    /* parts as views would need contiguous memory: each part copied into one buffer of x's bytes */
    const size_t es = onnxc_dtype_size(x->dtype);
    const int64_t outer = oc_dims_prod(x->dims, 0, ax), inner = oc_dims_prod(x->dims, ax + 1, x->rank);
    char *buf = malloc(x->nbytes ? x->nbytes : 1);
    if (!buf) {
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        goto out;
    }
    size_t boff = 0;
    int64_t start = 0;
    for (int64_t i = 0; i < n; i++) {
        onnxc_tensor *t = &parts[i];
        t->dtype = x->dtype;
        t->rank = x->rank;
        memcpy(t->dims, x->dims, sizeof t->dims);
        t->dims[ax] = sizes[i];
        if (squeeze) {
            for (int d = ax; d + 1 < x->rank; d++)
                t->dims[d] = t->dims[d + 1];
            t->rank--;
        }
        const size_t chunk = (size_t)(sizes[i] * inner) * es;
        t->data = buf + boff;
        t->nbytes = (size_t)outer * chunk;
        for (int64_t q = 0; q < outer && chunk; q++)
            memcpy(buf + boff + (size_t)q * chunk,
                   (const char *)x->data + ((size_t)(q * D + start) * (size_t)inner) * es, chunk);
        boff += t->nbytes;
        start += sizes[i];
        p[i] = t;
    }
    st = emit(c, 0, ONNXC_SEQUENCE, x->dtype, n, p);
    free(buf);
out:
    free(sizes);
    free(parts);
    free(p);
    return st;
}

/* ---------------------------------------------------------------- Optional */

static onnxc_status optional_infer(oc_kctx *c)
{
    set_out_kind(c, 0, ONNXC_OPTIONAL);
    return ONNXC_OK;
}

static onnxc_status optional_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->n_in > 0 ? c->in[0] : NULL;
    if (x && x->dtype == ONNXC_OPTIONAL)
        return oc_kerr(c, ONNXC_E_INVALID, "an optional of an optional");
    return emit(c, 0, ONNXC_OPTIONAL, x ? x->dtype : ONNXC_UNDEFINED, x ? 1 : 0, &x);
}

/* OptionalHasElement and OptionalGetElement also take a plain tensor or sequence, as an optional that holds it
 * (as Optional*-18 do; a Loop-16 whose carried optional the body replaces by its element passes one). */
static onnxc_status opt_has_infer(oc_kctx *c)
{
    set_out_kind(c, 0, ONNXC_BOOL);
    return ONNXC_OK;
}

static onnxc_status opt_has_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->n_in > 0 ? c->in[0] : NULL;
    if (x && x->dtype == ONNXC_OPTIONAL && !oc_seq_valid(x))
        return oc_kerr(c, ONNXC_E_INVALID, "input is not a valid optional value");
    uint8_t has = x && (x->dtype != ONNXC_OPTIONAL || oc_seq_len(x) > 0);
    onnxc_tensor t = {.dtype = ONNXC_BOOL, .rank = 0, .data = &has, .nbytes = 1};
    return emit_copy(c, 0, &t);
}

static onnxc_status opt_get_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'input'");
    if (c->in[0]->dtype != ONNXC_OPTIONAL) {
        set_out_kind(c, 0, c->in[0]->dtype);
        return ONNXC_OK;
    }
    onnxc_status st = need_kind(c, 0, ONNXC_OPTIONAL, "input");
    if (st != ONNXC_OK)
        return st;
    int32_t e = c->in[0]->data ? oc_seq_elem(c->in[0]) : 0;
    set_out_kind(c, 0, e ? e : ONNXC_FLOAT);
    return ONNXC_OK;
}

static onnxc_status opt_get_run(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    if (x->dtype != ONNXC_OPTIONAL)
        return emit_copy(c, 0, x);
    if (oc_seq_len(x) < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "the optional input holds no value");
    onnxc_tensor v;
    oc_seq_at(x, 0, &v);
    return emit_copy(c, 0, &v);
}

const oc_kernel oc_kernels_sequence[] = {
    {"SequenceEmpty", NULL, 11, 0, 0, seq_out_infer, NULL, seq_empty_run, NULL, 0},
    {"SequenceConstruct", NULL, 11, 0, 0, seq_construct_infer, NULL, seq_construct_run, NULL, 0},
    {"SequenceInsert", NULL, 11, 0, 0, seq_insert_infer, NULL, seq_insert_run, NULL, 0},
    {"SequenceErase", NULL, 11, 0, 0, seq_erase_infer, NULL, seq_erase_run, NULL, 0},
    {"SequenceAt", NULL, 11, 0, 0, seq_at_infer, NULL, seq_at_run, NULL, 0},
    {"SequenceLength", NULL, 11, 0, 0, seq_length_infer, NULL, seq_length_run, NULL, 0},
    {"ConcatFromSequence", NULL, 11, 0, 0, concat_seq_infer, NULL, concat_seq_run, NULL, 0},
    {"SplitToSequence", NULL, 11, 0, 0, split_seq_infer, NULL, split_seq_run, NULL, 0},
    {"Optional", NULL, 15, 0, 0, optional_infer, NULL, optional_run, NULL, 0},
    {"OptionalHasElement", NULL, 15, 0, 0, opt_has_infer, NULL, opt_has_run, NULL, 0},
    {"OptionalGetElement", NULL, 15, 0, 0, opt_get_infer, NULL, opt_get_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
