/* Type and shape inference over the IR: one static rule per op (the operator versions cited where a rule
 * changed), symbolic dims kept as dim_param names or simple products, and the small integer values that decide
 * shapes (Reshape's shape, Slice's starts, Expand, Tile, Resize, ConstantOfShape, Shape -> Gather -> Concat)
 * followed through constants and partly known shape values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

#define MAXR ONNXC_MAX_RANK
#define BIG_END (INT64_MAX / 4)

typedef struct sym_chunk {
    struct sym_chunk *next;
    char s[];
} sym_chunk;

struct oc_infer {
    const oc_graph *g;
    oc_vshape *vs;    /* by value id */
    char **conflict;  /* by value id, or NULL */
    int n;
    sym_chunk *syms;
    int64_t opset;
    bool nomem;
};

static const oc_vshape unknown_vs = {false, 0, -1, NULL, -1, NULL, false, false};

/* ---------------------------------------------------------------- small helpers */

static const char *sym_new(oc_infer *I, const char *fmt, ...) OC_PRINTF(2, 3);
static const char *sym_new(oc_infer *I, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    sym_chunk *c = oc_malloc(sizeof *c + len + 1);
    if (!c) {
        I->nomem = true;
        return NULL;
    }
    memcpy(c->s, buf, len + 1);
    c->next = I->syms;
    I->syms = c;
    return c->s;
}

static bool dknown(oc_sdim d) { return d.v >= 0; }
static bool dsame(oc_sdim a, oc_sdim b)
{
    if (a.v >= 0 || b.v >= 0)
        return a.v == b.v;
    return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
}
static oc_sdim dval(int64_t v) { return (oc_sdim){v, NULL}; }
static oc_sdim dunk(void) { return (oc_sdim){-1, NULL}; }

static bool is_int_type(int32_t t) { return t == ONNXC_INT64 || t == ONNXC_INT32; }

static void vs_clear(oc_vshape *s)
{
    oc_free(s->d);
    oc_free(s->val);
    *s = unknown_vs;
}

static bool vs_rank(oc_infer *I, oc_vshape *s, int r)
{
    oc_free(s->d);
    s->d = NULL;
    s->rank = -1;
    if (r < 0 || r > MAXR)
        return false;
    s->d = oc_calloc((size_t)(r ? r : 1), sizeof *s->d);
    if (!s->d) {
        I->nomem = true;
        return false;
    }
    for (int i = 0; i < r; i++)
        s->d[i] = dunk();
    s->rank = r;
    return true;
}

static bool vs_val(oc_infer *I, oc_vshape *s, int n)
{
    oc_free(s->val);
    s->val = NULL;
    s->nval = -1;
    if (n < 0 || n > MAXR)
        return false;
    s->val = oc_calloc((size_t)(n ? n : 1), sizeof *s->val);
    if (!s->val) {
        I->nomem = true;
        return false;
    }
    s->nval = n;
    return true;
}

static const oc_vshape *IN(const oc_infer *I, const oc_node *n, int k)
{
    if (k >= n->n_inputs || !n->inputs[k])
        return &unknown_vs;
    const oc_value *v = n->inputs[k];
    if (v->graph != I->g || v->id < 0 || v->id >= I->n)
        return &unknown_vs;
    return &I->vs[v->id];
}
static bool has_in(const oc_node *n, int k) { return k < n->n_inputs && n->inputs[k]; }

static oc_vshape *OUT(oc_infer *I, const oc_node *n, int k)
{
    if (k >= n->n_outputs || !n->outputs[k])
        return NULL;
    return &I->vs[n->outputs[k]->id];
}

static void copy_shape(oc_infer *I, oc_vshape *o, const oc_vshape *a)
{
    if (a->rank < 0 || !vs_rank(I, o, a->rank))
        return;
    memcpy(o->d, a->d, (size_t)a->rank * sizeof *o->d);
}

static void set_elem(oc_vshape *o, const oc_vshape *a)
{
    if (a->has_elem) {
        o->has_elem = true;
        o->elem = a->elem;
    }
}
static void set_elem_t(oc_vshape *o, int32_t t)
{
    o->has_elem = true;
    o->elem = t;
}

/* The integer elements of input k when all are static (a constant, or a fully known shape value). */
static bool in_ints(const oc_infer *I, const oc_node *n, int k, int64_t *out, int cap, int *count)
{
    if (!has_in(n, k))
        return false;
    const oc_tensor *t = oc_value_constant(n->inputs[k]);
    if (t) {
        int64_t ne = onnxc_tensor_numel(&t->t);
        if (t->t.rank > 1 || ne < 0 || ne > cap || (ne && !t->t.data))
            return false;
        for (int64_t i = 0; i < ne; i++) {
            if (t->t.dtype == ONNXC_INT64)
                out[i] = ((const int64_t *)t->t.data)[i];
            else if (t->t.dtype == ONNXC_INT32)
                out[i] = ((const int32_t *)t->t.data)[i];
            else
                return false;
        }
        *count = (int)ne;
        return true;
    }
    const oc_vshape *s = IN(I, n, k);
    if (s->nval < 0)
        return false;
    for (int i = 0; i < s->nval; i++) {
        if (!dknown(s->val[i]))
            return false;
        out[i] = s->val[i].v;
    }
    *count = s->nval;
    return true;
}

/* Input k's floats when constant (Resize scales). */
static bool in_floats(const oc_node *n, int k, double *out, int cap, int *count)
{
    if (!has_in(n, k))
        return false;
    const oc_tensor *t = oc_value_constant(n->inputs[k]);
    if (!t || t->t.rank > 1)
        return false;
    int64_t ne = onnxc_tensor_numel(&t->t);
    if (ne < 0 || ne > cap || (ne && !t->t.data))
        return false;
    for (int64_t i = 0; i < ne; i++) {
        if (t->t.dtype == ONNXC_FLOAT)
            out[i] = ((const float *)t->t.data)[i];
        else if (t->t.dtype == ONNXC_DOUBLE)
            out[i] = ((const double *)t->t.data)[i];
        else
            return false;
    }
    *count = (int)ne;
    return true;
}

/* Input k's elements as dims (static or symbolic), from a constant or a partly known shape value. */
static bool in_dims(const oc_infer *I, const oc_node *n, int k, oc_sdim *out, int *count)
{
    int64_t iv[MAXR];
    int c;
    if (in_ints(I, n, k, iv, MAXR, &c)) {
        for (int i = 0; i < c; i++)
            out[i] = dval(iv[i]);
        *count = c;
        return true;
    }
    const oc_vshape *s = IN(I, n, k);
    if (s->nval < 0)
        return false;
    memcpy(out, s->val, (size_t)s->nval * sizeof *out);
    *count = s->nval;
    return true;
}

static bool norm_axis(int64_t *a, int r)
{
    if (*a < 0)
        *a += r;
    return *a >= 0 && *a < r;
}

static void conflict(oc_infer *I, const oc_node *n, const char *fmt, ...) OC_PRINTF(3, 4);
static void conflict(oc_infer *I, const oc_node *n, const char *fmt, ...)
{
    if (!n->n_outputs || !n->outputs[0])
        return;
    int id = n->outputs[0]->id;
    if (I->conflict[id])
        return;
    char msg[400], nl[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[600];
    snprintf(full, sizeof full, "node %s: %s", oc_node_label(n, nl, sizeof nl), msg);
    I->conflict[id] = oc_strdup(full);
}

/* d1 * d2 with symbols kept as "N*2" */
static oc_sdim dmul(oc_infer *I, oc_sdim a, oc_sdim b)
{
    if (dknown(a) && dknown(b)) {
        if (a.v && b.v > INT64_MAX / a.v)
            return dunk();
        return dval(a.v * b.v);
    }
    if (dknown(a) && a.v == 1)
        return b;
    if (dknown(b) && b.v == 1)
        return a;
    if (dknown(a) && a.v == 0)
        return dval(0);
    if (dknown(b) && b.v == 0)
        return dval(0);
    if (a.sym && dknown(b))
        return (oc_sdim){-1, sym_new(I, "%s*%lld", a.sym, (long long)b.v)};
    if (b.sym && dknown(a))
        return (oc_sdim){-1, sym_new(I, "%s*%lld", b.sym, (long long)a.v)};
    return dunk();
}

static oc_sdim dadd(oc_infer *I, oc_sdim a, oc_sdim b)
{
    if (dknown(a) && dknown(b))
        return dval(a.v + b.v);
    if (dknown(a) && a.v == 0)
        return b;
    if (dknown(b) && b.v == 0)
        return a;
    if (a.sym && b.sym && strlen(a.sym) + strlen(b.sym) < 100)
        return (oc_sdim){-1, sym_new(I, "%s+%s", a.sym, b.sym)};
    return dunk();
}

/* ---------------------------------------------------------------- broadcasting */

static bool broadcast(oc_infer *I, const oc_node *n, const oc_vshape *const *in, int k, oc_vshape *o)
{
    int r = 0;
    for (int i = 0; i < k; i++) {
        if (in[i]->rank < 0)
            return false;
        if (in[i]->rank > r)
            r = in[i]->rank;
    }
    if (!vs_rank(I, o, r))
        return false;
    for (int j = 0; j < r; j++) {
        oc_sdim best = dval(1);
        bool unknown = false, have_sym = false;
        for (int i = 0; i < k; i++) {
            int off = j - (r - in[i]->rank);
            if (off < 0)
                continue;
            oc_sdim d = in[i]->d[off];
            if (dknown(d)) {
                if (d.v == 1)
                    continue;
                if (dknown(best) && best.v != 1 && best.v != d.v) {
                    conflict(I, n, "dims %lld and %lld do not broadcast", (long long)best.v, (long long)d.v);
                    vs_clear(o);
                    return false;
                }
                best = d;
            } else if (d.sym) {
                if (!dknown(best))
                    ;
                else if (best.v == 1) {
                    if (have_sym && !dsame(best, d))
                        unknown = true;
                    if (!have_sym)
                        best = d;
                    have_sym = true;
                }
                if (!dknown(best) && best.sym && !dsame(best, d))
                    unknown = true;
            } else {
                unknown = true;
            }
        }
        /* a static dim > 1 wins over symbols (they must broadcast to it); several symbols only when equal */
        if (!dknown(best) && unknown)
            best = dunk();
        else if (dknown(best) && best.v == 1 && unknown)
            best = dunk();
        o->d[j] = best;
    }
    return true;
}

/* ---------------------------------------------------------------- op rules */

typedef void (*rule_fn)(oc_infer *I, const oc_node *n);

static void r_same(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *a = IN(I, n, 0);
    set_elem(o, a);
    copy_shape(I, o, a);
}

static void r_same_bool(oc_infer *I, const oc_node *n)
{
    r_same(I, n);
    oc_vshape *o = OUT(I, n, 0);
    if (o)
        set_elem_t(o, ONNXC_BOOL);
}

static void r_identity(oc_infer *I, const oc_node *n)
{
    r_same(I, n);
    oc_vshape *o = OUT(I, n, 0);
    const oc_vshape *a = IN(I, n, 0);
    if (o && a->nval >= 0 && vs_val(I, o, a->nval))
        memcpy(o->val, a->val, (size_t)a->nval * sizeof *o->val);
}

static void r_dropout(oc_infer *I, const oc_node *n)
{
    r_same(I, n);
    oc_vshape *m = OUT(I, n, 1);
    if (m) {
        copy_shape(I, m, IN(I, n, 0));
        set_elem_t(m, ONNXC_BOOL);
    }
}

/* elementwise over all inputs; out_type 0: the first input's type */
static void bcast_rule(oc_infer *I, const oc_node *n, int32_t out_type, int first_type_input)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *in[16];
    int k = 0;
    for (int i = 0; i < n->n_inputs && k < 16; i++)
        in[k++] = IN(I, n, i);
    if (out_type)
        set_elem_t(o, out_type);
    else
        set_elem(o, IN(I, n, first_type_input));
    if (k)
        broadcast(I, n, in, k, o);
}

static void arith_val(oc_infer *I, const oc_node *n)
{
    /* elementwise integer arithmetic on shape values (Shape(x)[2] * 2 and the like) */
    oc_vshape *o = OUT(I, n, 0);
    const oc_vshape *a = IN(I, n, 0), *b = IN(I, n, 1);
    if (!o || o->rank > 1 || !o->has_elem || !is_int_type(o->elem))
        return;
    oc_sdim av[MAXR], bv[MAXR];
    int na, nb;
    if (!in_dims(I, n, 0, av, &na) || !in_dims(I, n, 1, bv, &nb))
        return;
    int nn = na > nb ? na : nb;
    if ((na != nn && na != 1) || (nb != nn && nb != 1))
        return;
    if (o->rank == 0 && nn != 1)
        return;
    if (o->rank == 1 && dknown(o->d[0]) && o->d[0].v != nn)
        return;
    (void)a;
    (void)b;
    oc_sdim res[MAXR];
    for (int i = 0; i < nn; i++) {
        oc_sdim x = av[na == 1 ? 0 : i], y = bv[nb == 1 ? 0 : i];
        oc_sdim r = dunk();
        if (oc_node_is_op(n, "Mul"))
            r = dmul(I, x, y);
        else if (oc_node_is_op(n, "Add"))
            r = dadd(I, x, y);
        else if (dknown(x) && dknown(y)) {
            if (oc_node_is_op(n, "Sub"))
                r = dval(x.v - y.v);
            else if (oc_node_is_op(n, "Div") && y.v)
                r = dval(x.v / y.v); /* integer Div truncates; shape values are >= 0 here */
        } else if (oc_node_is_op(n, "Div") && dknown(y) && y.v == 1)
            r = x;
        else if (oc_node_is_op(n, "Sub") && dknown(y) && y.v == 0)
            r = x;
        res[i] = r;
    }
    if (vs_val(I, o, nn))
        memcpy(o->val, res, (size_t)nn * sizeof *res);
}

static void r_bcast(oc_infer *I, const oc_node *n)
{
    bcast_rule(I, n, 0, 0);
    if (oc_node_is_op(n, "Add") || oc_node_is_op(n, "Sub") || oc_node_is_op(n, "Mul") || oc_node_is_op(n, "Div"))
        arith_val(I, n);
}
static void r_bcast_bool(oc_infer *I, const oc_node *n) { bcast_rule(I, n, ONNXC_BOOL, 0); }
static void r_where(oc_infer *I, const oc_node *n) { bcast_rule(I, n, 0, 1); }

static void r_cast(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *a = IN(I, n, 0);
    copy_shape(I, o, a);
    if (oc_node_is_op(n, "CastLike"))
        set_elem(o, IN(I, n, 1));
    else if (oc_node_attr(n, "to"))
        set_elem_t(o, (int32_t)oc_attr_int(n, "to", 0));
    if (a->nval >= 0 && o->has_elem && is_int_type(o->elem) && a->has_elem && is_int_type(a->elem) &&
        vs_val(I, o, a->nval))
        memcpy(o->val, a->val, (size_t)a->nval * sizeof *o->val);
}

static void r_clip_like(oc_infer *I, const oc_node *n) { r_same(I, n); }

/* --- convolution and pooling */

static void spatial(oc_infer *I, const oc_node *n, const oc_vshape *x, const int64_t *kernel, int ns, oc_vshape *o,
                    bool ceil_mode)
{
    char buf[32];
    const char *ap = oc_attr_string(n, "auto_pad", "NOTSET", buf, sizeof buf);
    size_t np_, nst, ndl;
    const int64_t *pads = oc_attr_ints(n, "pads", &np_);
    const int64_t *strides = oc_attr_ints(n, "strides", &nst);
    const int64_t *dil = oc_attr_ints(n, "dilations", &ndl);
    for (int i = 0; i < ns; i++) {
        oc_sdim in = x->d[2 + i];
        int64_t s = (strides && (size_t)i < nst) ? strides[i] : 1;
        int64_t dl = (dil && (size_t)i < ndl) ? dil[i] : 1;
        if (s <= 0 || dl <= 0 || kernel[i] <= 0) {
            o->d[2 + i] = dunk();
            continue;
        }
        int64_t ek = (kernel[i] - 1) * dl + 1;
        if (!dknown(in)) {
            /* a symbolic extent passes through an identity window */
            bool ident = ek == 1 && s == 1 && (!pads || (pads[i] == 0 && pads[i + ns] == 0));
            o->d[2 + i] = ident ? in : dunk();
            continue;
        }
        int64_t out;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"))
            out = (in.v + s - 1) / s;
        else if (!strcmp(ap, "VALID"))
            out = (in.v - ek) / s + 1;
        else {
            int64_t p = (pads && np_ >= (size_t)(2 * ns)) ? pads[i] + pads[i + ns] : 0;
            int64_t num = in.v + p - ek;
            if (num < 0) {
                conflict(I, n, "kernel extent %lld exceeds padded input %lld", (long long)ek, (long long)(in.v + p));
                o->d[2 + i] = dunk();
                continue;
            }
            out = ceil_mode ? (num + s - 1) / s + 1 : num / s + 1;
            /* ceil mode: the last window must start inside the input or left padding (ONNX, PyTorch) */
            if (ceil_mode && (out - 1) * s >= in.v + (pads ? pads[i] : 0))
                out--;
        }
        o->d[2 + i] = dval(out < 0 ? 0 : out);
    }
}

static void r_conv(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    bool q = oc_node_is_op(n, "QLinearConv");
    bool integer = oc_node_is_op(n, "ConvInteger");
    const oc_vshape *x = IN(I, n, 0), *w = IN(I, n, q ? 3 : 1);
    if (q)
        set_elem(o, IN(I, n, 7));
    else if (integer)
        set_elem_t(o, ONNXC_INT32);
    else
        set_elem(o, x);
    int r = x->rank >= 0 ? x->rank : w->rank;
    if (r < 3 || !vs_rank(I, o, r))
        return;
    if (x->rank >= 0)
        o->d[0] = x->d[0];
    if (w->rank == r)
        o->d[1] = w->d[0];
    int ns = r - 2;
    int64_t k[MAXR];
    size_t nk;
    const int64_t *ks = oc_attr_ints(n, "kernel_shape", &nk);
    for (int i = 0; i < ns; i++) {
        if (ks && (size_t)i < nk)
            k[i] = ks[i];
        else if (w->rank == r && dknown(w->d[2 + i]))
            k[i] = w->d[2 + i].v;
        else
            k[i] = -1;
    }
    if (x->rank == r)
        spatial(I, n, x, k, ns, o, false);
}

static void r_convtranspose(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0), *w = IN(I, n, 1);
    set_elem(o, x);
    if (x->rank < 3 || !vs_rank(I, o, x->rank))
        return;
    int r = x->rank, ns = r - 2;
    o->d[0] = x->d[0];
    int64_t group = oc_attr_int(n, "group", 1);
    if (w->rank == r)
        o->d[1] = dmul(I, w->d[1], dval(group));
    size_t nos, np_, nst, ndl, nop, nk;
    const int64_t *os = oc_attr_ints(n, "output_shape", &nos);
    const int64_t *pads = oc_attr_ints(n, "pads", &np_);
    const int64_t *st = oc_attr_ints(n, "strides", &nst);
    const int64_t *dl = oc_attr_ints(n, "dilations", &ndl);
    const int64_t *op = oc_attr_ints(n, "output_padding", &nop);
    const int64_t *ks = oc_attr_ints(n, "kernel_shape", &nk);
    char buf[32];
    const char *ap = oc_attr_string(n, "auto_pad", "NOTSET", buf, sizeof buf);
    for (int i = 0; i < ns; i++) {
        if (os && nos >= (size_t)ns) {
            o->d[2 + i] = dval(os[nos - (size_t)ns + (size_t)i]);
            continue;
        }
        int64_t k = ks && (size_t)i < nk ? ks[i] : (w->rank == r && dknown(w->d[2 + i]) ? w->d[2 + i].v : -1);
        oc_sdim in = x->d[2 + i];
        if (k < 0 || !dknown(in))
            continue;
        int64_t s = st && (size_t)i < nst ? st[i] : 1, d = dl && (size_t)i < ndl ? dl[i] : 1;
        int64_t opad = op && (size_t)i < nop ? op[i] : 0;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            o->d[2 + i] = dval(in.v * s);
            continue;
        }
        int64_t p = pads && np_ >= (size_t)(2 * ns) ? pads[i] + pads[i + ns] : 0;
        o->d[2 + i] = dval(s * (in.v - 1) + opad + (k - 1) * d + 1 - p);
    }
}

static void r_pool(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 3 || !vs_rank(I, o, x->rank))
        return;
    o->d[0] = x->d[0];
    o->d[1] = x->d[1];
    size_t nk;
    const int64_t *ks = oc_attr_ints(n, "kernel_shape", &nk);
    int ns = x->rank - 2;
    if (!ks || nk != (size_t)ns) {
        conflict(I, n, "kernel_shape has %zu values for %d spatial dims", ks ? nk : 0, ns);
        vs_clear(o);
        set_elem(o, x);
        return;
    }
    spatial(I, n, x, ks, ns, o, oc_attr_int(n, "ceil_mode", 0) != 0);
    oc_vshape *idx = OUT(I, n, 1); /* MaxPool Indices */
    if (idx) {
        copy_shape(I, idx, o);
        set_elem_t(idx, ONNXC_INT64);
    }
}

static void r_global_pool(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 2 || !vs_rank(I, o, x->rank))
        return;
    o->d[0] = x->d[0];
    o->d[1] = x->d[1];
    for (int i = 2; i < x->rank; i++)
        o->d[i] = dval(1);
}

/* --- matrix products */

static void r_gemm(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *a = IN(I, n, 0), *b = IN(I, n, 1);
    set_elem(o, a);
    if (!vs_rank(I, o, 2))
        return;
    bool ta = oc_attr_int(n, "transA", 0) != 0, tb = oc_attr_int(n, "transB", 0) != 0;
    if (a->rank == 2)
        o->d[0] = a->d[ta ? 1 : 0];
    if (b->rank == 2)
        o->d[1] = b->d[tb ? 0 : 1];
}

static void r_matmul(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    bool q = oc_node_is_op(n, "QLinearMatMul");
    const oc_vshape *a = IN(I, n, 0), *b = IN(I, n, q ? 3 : 1);
    if (q)
        set_elem(o, IN(I, n, 7));
    else if (oc_node_is_op(n, "MatMulInteger"))
        set_elem_t(o, ONNXC_INT32);
    else
        set_elem(o, a);
    if (a->rank < 1 || b->rank < 1)
        return;
    /* batch dims broadcast; 1-D operands are promoted and the added dim dropped (numpy matmul) */
    oc_vshape ba = unknown_vs, bb = unknown_vs, bo = unknown_vs;
    int ra = a->rank >= 2 ? a->rank - 2 : 0, rb = b->rank >= 2 ? b->rank - 2 : 0;
    if (!vs_rank(I, &ba, ra) || !vs_rank(I, &bb, rb)) {
        vs_clear(&ba);
        vs_clear(&bb);
        return;
    }
    memcpy(ba.d, a->d, (size_t)ra * sizeof *ba.d);
    memcpy(bb.d, b->d, (size_t)rb * sizeof *bb.d);
    const oc_vshape *pair[2] = {&ba, &bb};
    if (broadcast(I, n, pair, 2, &bo)) {
        if (dknown(a->d[a->rank - 1]) && dknown(b->d[b->rank >= 2 ? b->rank - 2 : 0]) &&
            a->d[a->rank - 1].v != b->d[b->rank >= 2 ? b->rank - 2 : 0].v)
            conflict(I, n, "inner dims %lld and %lld differ", (long long)a->d[a->rank - 1].v,
                     (long long)b->d[b->rank >= 2 ? b->rank - 2 : 0].v);
        else {
            int r = bo.rank + (a->rank >= 2) + (b->rank >= 2);
            if (vs_rank(I, o, r)) {
                memcpy(o->d, bo.d, (size_t)bo.rank * sizeof *o->d);
                int k = bo.rank;
                if (a->rank >= 2)
                    o->d[k++] = a->d[a->rank - 2];
                if (b->rank >= 2)
                    o->d[k++] = b->d[b->rank - 1];
            }
        }
    }
    vs_clear(&ba);
    vs_clear(&bb);
    vs_clear(&bo);
}

/* --- shape ops */

static void r_shape(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, ONNXC_INT64);
    const oc_vshape *a = IN(I, n, 0);
    if (!vs_rank(I, o, 1) || a->rank < 0)
        return;
    int64_t s = oc_attr_int(n, "start", 0), e = oc_attr_int(n, "end", a->rank); /* Shape-15 start/end */
    if (s < 0)
        s += a->rank;
    if (e < 0)
        e += a->rank;
    s = s < 0 ? 0 : s > a->rank ? a->rank : s;
    e = e < 0 ? 0 : e > a->rank ? a->rank : e;
    int len = e > s ? (int)(e - s) : 0;
    o->d[0] = dval(len);
    if (vs_val(I, o, len))
        memcpy(o->val, a->d + s, (size_t)len * sizeof *o->val);
}

static void r_size(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, ONNXC_INT64);
    vs_rank(I, o, 0);
    const oc_vshape *a = IN(I, n, 0);
    if (a->rank < 0)
        return;
    oc_sdim p = dval(1);
    for (int i = 0; i < a->rank; i++)
        p = dmul(I, p, a->d[i]);
    if (vs_val(I, o, 1))
        o->val[0] = p;
}

static void set_from_tensor(oc_infer *I, oc_vshape *o, const onnxc_tensor *t)
{
    set_elem_t(o, t->dtype);
    if (!vs_rank(I, o, t->rank))
        return;
    for (int i = 0; i < t->rank; i++)
        o->d[i] = dval(t->dims[i]);
    int64_t ne = onnxc_tensor_numel(t);
    if (t->rank <= 1 && ne <= MAXR && t->data && is_int_type(t->dtype) && vs_val(I, o, (int)ne))
        for (int64_t i = 0; i < ne; i++)
            o->val[i] = dval(t->dtype == ONNXC_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i]);
}

static void r_constant(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_tensor *t = oc_value_constant(n->outputs[0]);
    if (t) {
        set_from_tensor(I, o, &t->t);
        return;
    }
    const oc_attr *a;
    size_t c;
    if ((a = oc_node_attr(n, "value_float"))) {
        set_elem_t(o, ONNXC_FLOAT);
        vs_rank(I, o, 0);
    } else if ((a = oc_node_attr(n, "value_int"))) {
        set_elem_t(o, ONNXC_INT64);
        vs_rank(I, o, 0);
        if (vs_val(I, o, 1))
            o->val[0] = dval(a->i);
    } else if ((a = oc_node_attr(n, "value_floats"))) {
        set_elem_t(o, ONNXC_FLOAT);
        if (vs_rank(I, o, 1))
            o->d[0] = dval((int64_t)a->n_floats);
    } else if (oc_attr_ints(n, "value_ints", &c)) {
        const int64_t *v = oc_attr_ints(n, "value_ints", &c);
        set_elem_t(o, ONNXC_INT64);
        if (vs_rank(I, o, 1))
            o->d[0] = dval((int64_t)c);
        if (c <= MAXR && vs_val(I, o, (int)c))
            for (size_t i = 0; i < c; i++)
                o->val[i] = dval(v[i]);
    } else if ((a = oc_node_attr(n, "value_string"))) {
        set_elem_t(o, ONNXC_STRING);
        vs_rank(I, o, 0);
    } else if ((a = oc_node_attr(n, "value_strings"))) {
        set_elem_t(o, ONNXC_STRING);
        if (vs_rank(I, o, 1))
            o->d[0] = dval((int64_t)a->n_strings);
    }
}

static void r_constant_of_shape(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_attr *a = oc_node_attr(n, "value");
    set_elem_t(o, a && a->t ? a->t->t.dtype : ONNXC_FLOAT);
    oc_sdim d[MAXR];
    int c;
    if (in_dims(I, n, 0, d, &c)) {
        if (vs_rank(I, o, c))
            memcpy(o->d, d, (size_t)c * sizeof *d);
    } else {
        const oc_vshape *s = IN(I, n, 0);
        if (s->rank == 1 && dknown(s->d[0]))
            vs_rank(I, o, (int)s->d[0].v);
    }
}

static void r_reshape(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    oc_sdim d[MAXR];
    int c;
    if (!in_dims(I, n, 1, d, &c)) {
        const oc_vshape *s = IN(I, n, 1);
        if (s->rank == 1 && dknown(s->d[0]))
            vs_rank(I, o, (int)s->d[0].v);
        return;
    }
    if (!vs_rank(I, o, c))
        return;
    bool allowzero = oc_attr_int(n, "allowzero", 0) != 0;
    int minus = -1;
    /* in_dims keeps a negative element as "unknown" (v < 0), so -1 and invalid values are read from the
     * integers themselves when they are all known */
    int64_t raw[MAXR];
    int rc = 0;
    bool have_raw = in_ints(I, n, 1, raw, MAXR, &rc) && rc == c;
    for (int i = 0; i < c; i++) {
        if (dknown(d[i]) && d[i].v == 0 && !allowzero) {
            o->d[i] = x->rank > i ? x->d[i] : dunk();
        } else if (have_raw && raw[i] == -1) {
            minus = i;
            o->d[i] = dunk();
        } else if (have_raw && raw[i] < -1) {
            conflict(I, n, "shape value %lld", (long long)raw[i]);
            vs_clear(o);
            return;
        } else {
            o->d[i] = d[i];
        }
    }
    if (minus < 0 || x->rank < 0)
        return;
    /* -1: input elements over the other output dims, symbols cancelling by name */
    int64_t pin = 1, pout = 1;
    const char *sin[MAXR], *sout[MAXR];
    int nsin = 0, nsout = 0;
    for (int i = 0; i < x->rank; i++) {
        if (dknown(x->d[i]))
            pin *= x->d[i].v;
        else if (x->d[i].sym && !strchr(x->d[i].sym, '*') && !strchr(x->d[i].sym, '+'))
            sin[nsin++] = x->d[i].sym;
        else
            return;
    }
    for (int i = 0; i < c; i++) {
        if (i == minus)
            continue;
        if (dknown(o->d[i]))
            pout *= o->d[i].v;
        else if (o->d[i].sym && !strchr(o->d[i].sym, '*') && !strchr(o->d[i].sym, '+'))
            sout[nsout++] = o->d[i].sym;
        else
            return;
    }
    for (int j = 0; j < nsout; j++) {
        int k;
        for (k = 0; k < nsin; k++)
            if (sin[k] && strcmp(sin[k], sout[j]) == 0)
                break;
        if (k == nsin)
            return;
        sin[k] = NULL;
    }
    const char *left = NULL;
    for (int k = 0; k < nsin; k++)
        if (sin[k]) {
            if (left)
                return;
            left = sin[k];
        }
    if (pout == 0 || pin % pout) {
        if (!left)
            conflict(I, n, "%lld elements do not reshape with -1 into a multiple of %lld", (long long)pin,
                     (long long)pout);
        return;
    }
    o->d[minus] = left ? dmul(I, (oc_sdim){-1, left}, dval(pin / pout)) : dval(pin / pout);
}

static void r_flatten(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (!vs_rank(I, o, 2) || x->rank < 0)
        return;
    int64_t ax = oc_attr_int(n, "axis", 1);
    if (ax < 0)
        ax += x->rank;
    if (ax < 0 || ax > x->rank)
        return;
    oc_sdim a = dval(1), b = dval(1);
    for (int i = 0; i < x->rank; i++) {
        if (i < ax)
            a = dmul(I, a, x->d[i]);
        else
            b = dmul(I, b, x->d[i]);
    }
    o->d[0] = a;
    o->d[1] = b;
}

static void r_transpose(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0 || !vs_rank(I, o, x->rank))
        return;
    size_t np_;
    const int64_t *p = oc_attr_ints(n, "perm", &np_);
    for (int i = 0; i < x->rank; i++) {
        int64_t src = p ? ((size_t)i < np_ ? p[i] : -1) : x->rank - 1 - i;
        if (src < 0 || src >= x->rank) {
            conflict(I, n, "perm does not fit rank %d", x->rank);
            vs_clear(o);
            set_elem(o, x);
            return;
        }
        o->d[i] = x->d[src];
    }
}

/* axes from the attribute (before the op moved them to an input) or from input k */
static bool get_axes(const oc_infer *I, const oc_node *n, int k, int64_t *axes, int *na)
{
    size_t c;
    const int64_t *a = oc_attr_ints(n, "axes", &c);
    if (a) {
        if (c > MAXR)
            return false;
        memcpy(axes, a, c * sizeof *a);
        *na = (int)c;
        return true;
    }
    if (has_in(n, k))
        return in_ints(I, n, k, axes, MAXR, na);
    *na = 0;
    return true;
}

static void r_unsqueeze(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    int64_t ax[MAXR];
    int na;
    if (x->rank < 0 || !get_axes(I, n, 1, ax, &na))
        return;
    int r = x->rank + na;
    if (r > MAXR || !vs_rank(I, o, r))
        return;
    bool mark[MAXR] = {0};
    for (int i = 0; i < na; i++) {
        if (!norm_axis(&ax[i], r) || mark[ax[i]]) {
            conflict(I, n, "bad axes for output rank %d", r);
            vs_clear(o);
            return;
        }
        mark[ax[i]] = true;
    }
    for (int i = 0, k = 0; i < r; i++)
        o->d[i] = mark[i] ? dval(1) : x->d[k++];
    if (x->nval >= 0 && (x->rank == 0 || x->rank == 1) && r <= 1 && vs_val(I, o, x->nval))
        memcpy(o->val, x->val, (size_t)x->nval * sizeof *o->val);
}

static void r_squeeze(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    int64_t ax[MAXR];
    int na;
    if (x->rank < 0 || !get_axes(I, n, 1, ax, &na))
        return;
    bool mark[MAXR] = {0};
    int r = x->rank;
    if (na == 0) {
        for (int i = 0; i < x->rank; i++) {
            if (!dknown(x->d[i]))
                return;
            if (x->d[i].v == 1)
                mark[i] = true, r--;
        }
    } else {
        for (int i = 0; i < na; i++) {
            if (!norm_axis(&ax[i], x->rank) || mark[ax[i]])
                return;
            if (dknown(x->d[ax[i]]) && x->d[ax[i]].v != 1) {
                conflict(I, n, "axis %lld has size %lld, not 1", (long long)ax[i], (long long)x->d[ax[i]].v);
                return;
            }
            mark[ax[i]] = true;
            r--;
        }
    }
    if (!vs_rank(I, o, r))
        return;
    for (int i = 0, k = 0; i < x->rank; i++)
        if (!mark[i])
            o->d[k++] = x->d[i];
    if (x->nval == 1 && r == 0 && vs_val(I, o, 1))
        o->val[0] = x->val[0];
}

static void r_concat(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    int r = -1;
    for (int i = 0; i < n->n_inputs; i++) {
        const oc_vshape *s = IN(I, n, i);
        if (!o->has_elem)
            set_elem(o, s);
        if (s->rank >= 0)
            r = s->rank;
    }
    if (r < 0 || !vs_rank(I, o, r))
        return;
    int64_t ax = oc_attr_int(n, "axis", 0);
    if (!norm_axis(&ax, r))
        return;
    oc_sdim sum = dval(0);
    bool first = true;
    for (int i = 0; i < n->n_inputs; i++) {
        const oc_vshape *s = IN(I, n, i);
        if (s->rank < 0) {
            sum = dunk();
            continue;
        }
        if (s->rank != r) {
            conflict(I, n, "inputs of rank %d and %d", r, s->rank);
            vs_clear(o);
            return;
        }
        sum = sum.v == -1 && !sum.sym ? sum : dadd(I, sum, s->d[ax]);
        for (int j = 0; j < r; j++) {
            if (j == ax)
                continue;
            if (first || (!dknown(o->d[j]) && dknown(s->d[j])))
                o->d[j] = s->d[j];
            else if (dknown(o->d[j]) && dknown(s->d[j]) && o->d[j].v != s->d[j].v) {
                conflict(I, n, "dim %d differs (%lld and %lld)", j, (long long)o->d[j].v, (long long)s->d[j].v);
                vs_clear(o);
                return;
            }
        }
        first = false;
    }
    o->d[ax] = sum;
    /* shape values: concatenated */
    if (r == 1) {
        oc_sdim v[MAXR];
        int tot = 0;
        for (int i = 0; i < n->n_inputs; i++) {
            oc_sdim e[MAXR];
            int c;
            if (!in_dims(I, n, i, e, &c) || tot + c > MAXR)
                return;
            memcpy(v + tot, e, (size_t)c * sizeof *e);
            tot += c;
        }
        if (vs_val(I, o, tot))
            memcpy(o->val, v, (size_t)tot * sizeof *v);
    }
}

static void r_split(oc_infer *I, const oc_node *n)
{
    const oc_vshape *x = IN(I, n, 0);
    int no = n->n_outputs;
    for (int k = 0; k < no; k++) {
        oc_vshape *o = OUT(I, n, k);
        if (o) {
            set_elem(o, x);
            copy_shape(I, o, x);
        }
    }
    if (x->rank < 0 || no < 1)
        return;
    int64_t ax = oc_attr_int(n, "axis", 0);
    if (!norm_axis(&ax, x->rank))
        return;
    int64_t sp[64];
    int ns = 0;
    size_t c;
    const int64_t *a = oc_attr_ints(n, "split", &c);
    bool have = false;
    if (a && c <= 64) {
        memcpy(sp, a, c * sizeof *a);
        ns = (int)c;
        have = true;
    } else if (has_in(n, 1)) {
        have = in_ints(I, n, 1, sp, 64, &ns);
        if (!have) {
            for (int k = 0; k < no; k++)
                if (OUT(I, n, k) && OUT(I, n, k)->rank > ax)
                    OUT(I, n, k)->d[ax] = dunk();
            return;
        }
    }
    if (have && ns != no) {
        conflict(I, n, "split has %d values for %d outputs", ns, no);
        return;
    }
    for (int k = 0; k < no; k++) {
        oc_vshape *o = OUT(I, n, k);
        if (!o || o->rank <= ax)
            continue;
        if (have)
            o->d[ax] = dval(sp[k]);
        else if (dknown(x->d[ax])) {
            int64_t dim = x->d[ax].v, chunk = (dim + no - 1) / no; /* Split-18: the last chunk may be smaller */
            int64_t left = dim - chunk * k;
            o->d[ax] = dval(left < 0 ? 0 : left < chunk ? left : chunk);
        } else
            o->d[ax] = dunk();
    }
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Elements a slice of a dim keeps (Slice-10 clamping rules). */
static int64_t slice_len(int64_t dim, int64_t s, int64_t e, int64_t st, int64_t *start_out)
{
    if (s < 0)
        s += dim;
    if (e < 0)
        e += dim;
    if (st > 0) {
        s = clamp64(s, 0, dim);
        e = clamp64(e, 0, dim);
    } else {
        s = clamp64(s, 0, dim - 1);
        e = clamp64(e, -1, dim - 1);
    }
    *start_out = s;
    int64_t len = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
    return len < 0 ? 0 : len;
}

static void r_slice(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0)
        return;
    int64_t s[MAXR], e[MAXR], ax[MAXR], st[MAXR];
    int ns, ne, na, nst;
    if (I->opset < 10 && oc_node_attr(n, "starts")) {
        size_t c1, c2, c3;
        const int64_t *a1 = oc_attr_ints(n, "starts", &c1), *a2 = oc_attr_ints(n, "ends", &c2);
        const int64_t *a3 = oc_attr_ints(n, "axes", &c3);
        if (!a1 || !a2 || c1 != c2 || c1 > MAXR || (a3 && c3 != c1))
            return;
        ns = ne = (int)c1;
        memcpy(s, a1, c1 * sizeof *s);
        memcpy(e, a2, c2 * sizeof *e);
        na = a3 ? (int)c3 : 0;
        if (a3)
            memcpy(ax, a3, c3 * sizeof *ax);
        nst = 0;
    } else {
        if (!in_ints(I, n, 1, s, MAXR, &ns) || !in_ints(I, n, 2, e, MAXR, &ne)) {
            vs_rank(I, o, x->rank);
            return;
        }
        na = 0, nst = 0;
        if (has_in(n, 3) && !in_ints(I, n, 3, ax, MAXR, &na)) {
            vs_rank(I, o, x->rank);
            return;
        }
        if (has_in(n, 4) && !in_ints(I, n, 4, st, MAXR, &nst)) {
            vs_rank(I, o, x->rank);
            return;
        }
    }
    if (ns != ne || (na && na != ns) || (nst && nst != ns))
        return;
    if (!vs_rank(I, o, x->rank))
        return;
    memcpy(o->d, x->d, (size_t)x->rank * sizeof *o->d);
    int64_t start0 = 0, len0 = -1, step0 = 1;
    for (int i = 0; i < ns; i++) {
        int64_t a = na ? ax[i] : i, step = nst ? st[i] : 1;
        if (!norm_axis(&a, x->rank) || step == 0) {
            vs_clear(o);
            return;
        }
        oc_sdim d = x->d[a];
        if (!dknown(d)) {
            bool whole = step == 1 && s[i] == 0 && e[i] >= BIG_END;
            o->d[a] = whole ? d : dunk();
            continue;
        }
        int64_t st0;
        int64_t len = slice_len(d.v, s[i], e[i], step, &st0);
        o->d[a] = dval(len);
        if (a == 0)
            start0 = st0, len0 = len, step0 = step;
    }
    /* a shape value sliced */
    if (x->rank == 1 && x->nval >= 0 && len0 >= 0 && len0 <= MAXR && vs_val(I, o, (int)len0))
        for (int64_t i = 0; i < len0; i++)
            o->val[i] = x->val[start0 + i * step0];
    else if (x->rank == 1 && x->nval >= 0 && ns == 0 && vs_val(I, o, x->nval))
        memcpy(o->val, x->val, (size_t)x->nval * sizeof *o->val);
}

static void r_gather(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0), *idx = IN(I, n, 1);
    set_elem(o, x);
    if (x->rank < 1 || idx->rank < 0)
        return;
    int64_t ax = oc_attr_int(n, "axis", 0);
    if (!norm_axis(&ax, x->rank))
        return;
    int r = x->rank - 1 + idx->rank;
    if (!vs_rank(I, o, r))
        return;
    int k = 0;
    for (int i = 0; i < ax; i++)
        o->d[k++] = x->d[i];
    for (int i = 0; i < idx->rank; i++)
        o->d[k++] = idx->d[i];
    for (int i = (int)ax + 1; i < x->rank; i++)
        o->d[k++] = x->d[i];
    if (x->rank == 1 && x->nval >= 0 && idx->rank <= 1) {
        int64_t iv[MAXR];
        int c;
        if (!in_ints(I, n, 1, iv, MAXR, &c) || !vs_val(I, o, c))
            return;
        for (int i = 0; i < c; i++) {
            int64_t j = iv[i] < 0 ? iv[i] + x->nval : iv[i];
            if (j < 0 || j >= x->nval) {
                vs_clear(o);
                conflict(I, n, "index %lld out of range for %d elements", (long long)iv[i], x->nval);
                return;
            }
            o->val[i] = x->val[j];
        }
    }
}

static void r_gather_elements(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem(o, IN(I, n, 0));
    copy_shape(I, o, IN(I, n, 1));
}

static void r_expand(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    oc_sdim d[MAXR];
    int c;
    if (!in_dims(I, n, 1, d, &c)) {
        const oc_vshape *s = IN(I, n, 1);
        if (s->rank == 1 && dknown(s->d[0]) && x->rank >= 0)
            vs_rank(I, o, (int)(s->d[0].v > x->rank ? s->d[0].v : x->rank));
        return;
    }
    oc_vshape sh = unknown_vs;
    if (!vs_rank(I, &sh, c))
        return;
    memcpy(sh.d, d, (size_t)c * sizeof *d);
    const oc_vshape *pair[2] = {x, &sh};
    broadcast(I, n, pair, 2, o);
    vs_clear(&sh);
}

static void r_tile(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0 || !vs_rank(I, o, x->rank))
        return;
    int64_t rep[MAXR];
    int c;
    if (!in_ints(I, n, 1, rep, MAXR, &c) || c != x->rank)
        return;
    for (int i = 0; i < c; i++)
        o->d[i] = dmul(I, x->d[i], dval(rep[i]));
}

static void r_pad(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0 || !vs_rank(I, o, x->rank))
        return;
    int64_t p[2 * MAXR], ax[MAXR];
    int c, na = 0;
    size_t cp;
    const int64_t *pa = oc_attr_ints(n, "pads", &cp);
    if (pa && cp <= 2 * MAXR) {
        memcpy(p, pa, cp * sizeof *pa);
        c = (int)cp;
    } else if (!in_ints(I, n, 1, p, 2 * MAXR, &c))
        return;
    if (has_in(n, 3) && !in_ints(I, n, 3, ax, MAXR, &na))
        return;
    int m = na ? na : x->rank;
    if (c != 2 * m)
        return;
    memcpy(o->d, x->d, (size_t)x->rank * sizeof *o->d);
    for (int i = 0; i < m; i++) {
        int64_t a = na ? ax[i] : i;
        if (!norm_axis(&a, x->rank))
            return;
        int64_t add = p[i] + p[i + m];
        o->d[a] = dknown(x->d[a]) ? dval(x->d[a].v + add) : add == 0 ? x->d[a] : dunk();
    }
}

static void r_resize(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0 || !vs_rank(I, o, x->rank))
        return;
    double sc[MAXR];
    int64_t sz[MAXR], ax[MAXR];
    int c, na = 0;
    size_t cax;
    const int64_t *axa = oc_attr_ints(n, "axes", &cax); /* Resize-18 */
    if (axa && cax <= MAXR) {
        memcpy(ax, axa, cax * sizeof *axa);
        na = (int)cax;
    }
    bool up = oc_node_is_op(n, "Upsample");
    int sc_in = up || I->opset < 11 ? 1 : 2;
    const float *fa;
    size_t cf;
    memcpy(o->d, x->d, (size_t)x->rank * sizeof *o->d);
    int m = na ? na : x->rank;
    if (up && (fa = oc_attr_floats(n, "scales", &cf)) && cf <= MAXR) { /* Upsample-7 */
        c = (int)cf;
        for (int i = 0; i < c; i++)
            sc[i] = fa[i];
    } else if (!up && I->opset >= 11 && has_in(n, 3) && in_ints(I, n, 3, sz, MAXR, &c)) {
        if (c != m)
            return;
        for (int i = 0; i < m; i++) {
            int64_t a = na ? ax[i] : i;
            if (!norm_axis(&a, x->rank))
                return;
            o->d[a] = dval(sz[i]);
        }
        return;
    } else if (!in_floats(n, sc_in, sc, MAXR, &c) || c == 0) {
        for (int i = 0; i < x->rank; i++)
            o->d[i] = dunk();
        return;
    }
    if (c != m)
        return;
    for (int i = 0; i < m; i++) {
        int64_t a = na ? ax[i] : i;
        if (!norm_axis(&a, x->rank))
            return;
        if (sc[i] == 1.0)
            continue;
        o->d[a] = dknown(x->d[a]) ? dval((int64_t)((double)x->d[a].v * sc[i])) : dunk();
    }
}

static void r_reduce(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 0)
        return;
    int64_t ax[MAXR];
    int na;
    if (!get_axes(I, n, 1, ax, &na))
        return;
    bool keep = oc_attr_int(n, "keepdims", 1) != 0;
    bool mark[MAXR] = {0};
    if (na == 0) {
        if (oc_attr_int(n, "noop_with_empty_axes", 0)) {
            copy_shape(I, o, x);
            return;
        }
        for (int i = 0; i < x->rank; i++)
            mark[i] = true;
    }
    for (int i = 0; i < na; i++) {
        if (!norm_axis(&ax[i], x->rank))
            return;
        mark[ax[i]] = true;
    }
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        r += keep || !mark[i];
    if (!vs_rank(I, o, r))
        return;
    for (int i = 0, k = 0; i < x->rank; i++) {
        if (mark[i] && keep)
            o->d[k++] = dval(1);
        else if (!mark[i])
            o->d[k++] = x->d[i];
    }
}

static void r_argmax(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem_t(o, ONNXC_INT64);
    if (x->rank < 0)
        return;
    int64_t ax = oc_attr_int(n, "axis", 0);
    bool keep = oc_attr_int(n, "keepdims", 1) != 0;
    if (!norm_axis(&ax, x->rank) || !vs_rank(I, o, x->rank - !keep))
        return;
    for (int i = 0, k = 0; i < x->rank; i++) {
        if (i == ax) {
            if (keep)
                o->d[k++] = dval(1);
        } else
            o->d[k++] = x->d[i];
    }
}

static void r_topk(oc_infer *I, const oc_node *n)
{
    const oc_vshape *x = IN(I, n, 0);
    int64_t k = -1;
    int64_t kv[1];
    int c;
    if (oc_node_attr(n, "k"))
        k = oc_attr_int(n, "k", -1);
    else if (in_ints(I, n, 1, kv, 1, &c) && c == 1)
        k = kv[0];
    int64_t ax = oc_attr_int(n, "axis", -1);
    for (int j = 0; j < 2; j++) {
        oc_vshape *o = OUT(I, n, j);
        if (!o)
            continue;
        if (j == 0)
            set_elem(o, x);
        else
            set_elem_t(o, ONNXC_INT64);
        copy_shape(I, o, x);
        if (o->rank > 0 && norm_axis(&ax, o->rank))
            o->d[ax] = k >= 0 ? dval(k) : dunk();
    }
}

static void r_norm(oc_infer *I, const oc_node *n)
{
    /* BatchNormalization / LayerNormalization / GroupNormalization: Y like X; extra outputs sized by op */
    r_same(I, n);
    const oc_vshape *x = IN(I, n, 0);
    if (oc_node_is_op(n, "LayerNormalization")) {
        int64_t ax = oc_attr_int(n, "axis", -1);
        for (int j = 1; j < 3; j++) {
            oc_vshape *o = OUT(I, n, j);
            if (!o)
                continue;
            set_elem_t(o, (int32_t)oc_attr_int(n, "stash_type", ONNXC_FLOAT));
            copy_shape(I, o, x);
            if (o->rank > 0 && norm_axis(&ax, o->rank))
                for (int i = (int)ax; i < o->rank; i++)
                    o->d[i] = dval(1);
        }
    } else if (oc_node_is_op(n, "BatchNormalization")) {
        for (int j = 1; j < n->n_outputs; j++) {
            oc_vshape *o = OUT(I, n, j);
            if (o) {
                set_elem(o, IN(I, n, 3));
                copy_shape(I, o, IN(I, n, 3));
            }
        }
    }
}

static void r_depth_space(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank != 4 || !vs_rank(I, o, 4))
        return;
    int64_t b = oc_attr_int(n, "blocksize", 0);
    if (b <= 0)
        return;
    o->d[0] = x->d[0];
    bool d2s = oc_node_is_op(n, "DepthToSpace");
    oc_sdim c = x->d[1];
    o->d[1] = d2s ? (dknown(c) ? dval(c.v / (b * b)) : dunk()) : dmul(I, c, dval(b * b));
    for (int i = 2; i < 4; i++)
        o->d[i] = d2s ? dmul(I, x->d[i], dval(b)) : (dknown(x->d[i]) ? dval(x->d[i].v / b) : dunk());
}

static void r_range(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem(o, IN(I, n, 0));
    if (!vs_rank(I, o, 1))
        return;
    int64_t a[1], b[1], d[1];
    int c1, c2, c3;
    if (in_ints(I, n, 0, a, 1, &c1) && in_ints(I, n, 1, b, 1, &c2) && in_ints(I, n, 2, d, 1, &c3) && c1 == 1 &&
        c2 == 1 && c3 == 1 && d[0] != 0) {
        int64_t num = b[0] - a[0];
        int64_t len = d[0] > 0 ? (num + d[0] - 1) / d[0] : (num + d[0] + 1) / d[0];
        o->d[0] = dval(len < 0 ? 0 : len);
    }
}

static void r_nonzero(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, ONNXC_INT64);
    const oc_vshape *x = IN(I, n, 0);
    if (vs_rank(I, o, 2) && x->rank >= 0)
        o->d[0] = dval(x->rank);
}

static void r_eyelike(oc_infer *I, const oc_node *n)
{
    r_same(I, n);
    oc_vshape *o = OUT(I, n, 0);
    if (o && oc_node_attr(n, "dtype"))
        set_elem_t(o, (int32_t)oc_attr_int(n, "dtype", ONNXC_FLOAT));
}

static void r_quantize(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    copy_shape(I, o, IN(I, n, 0));
    if (oc_node_attr(n, "output_dtype") && oc_attr_int(n, "output_dtype", 0)) /* QuantizeLinear-21 */
        set_elem_t(o, (int32_t)oc_attr_int(n, "output_dtype", 0));
    else if (has_in(n, 2))
        set_elem(o, IN(I, n, 2));
    else
        set_elem_t(o, ONNXC_UINT8);
}

static void r_dequantize(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    copy_shape(I, o, IN(I, n, 0));
    set_elem(o, IN(I, n, 1));
}

static void r_onehot(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *ind = IN(I, n, 0);
    set_elem(o, IN(I, n, 2));
    if (ind->rank < 0 || !vs_rank(I, o, ind->rank + 1))
        return;
    int64_t ax = oc_attr_int(n, "axis", -1);
    if (!norm_axis(&ax, ind->rank + 1))
        return;
    int64_t dv[1];
    int c;
    oc_sdim depth = dunk();
    const oc_tensor *t = has_in(n, 1) ? oc_value_constant(n->inputs[1]) : NULL;
    if (in_ints(I, n, 1, dv, 1, &c) && c == 1)
        depth = dval(dv[0]);
    else if (t && onnxc_tensor_numel(&t->t) == 1 && t->t.data && t->t.dtype == ONNXC_FLOAT)
        depth = dval((int64_t)((const float *)t->t.data)[0]);
    for (int i = 0, k = 0; i <= ind->rank; i++)
        o->d[i] = i == ax ? depth : ind->d[k++];
}

static void r_einsum_free(oc_infer *I, const oc_node *n)
{
    /* ops whose output shape depends on data: only the type (of the first input) */
    oc_vshape *o = OUT(I, n, 0);
    if (o)
        set_elem(o, IN(I, n, 0));
}

static void r_nms(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, ONNXC_INT64);
    if (vs_rank(I, o, 2))
        o->d[1] = dval(3);
}

static void r_roialign(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0), *rois = IN(I, n, 1);
    set_elem(o, x);
    if (!vs_rank(I, o, 4))
        return;
    if (rois->rank == 2)
        o->d[0] = rois->d[0];
    if (x->rank == 4)
        o->d[1] = x->d[1];
    o->d[2] = dval(oc_attr_int(n, "output_height", 1));
    o->d[3] = dval(oc_attr_int(n, "output_width", 1));
}

static void r_scatter(oc_infer *I, const oc_node *n) { r_same(I, n); }

static void r_random(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, (int32_t)oc_attr_int(n, "dtype", ONNXC_FLOAT));
    size_t c;
    const int64_t *s = oc_attr_ints(n, "shape", &c);
    if (s && c <= MAXR && vs_rank(I, o, (int)c))
        for (size_t i = 0; i < c; i++)
            o->d[i] = dval(s[i]);
}

static void r_random_like(oc_infer *I, const oc_node *n)
{
    r_same(I, n);
    oc_vshape *o = OUT(I, n, 0);
    if (o && oc_node_attr(n, "dtype"))
        set_elem_t(o, (int32_t)oc_attr_int(n, "dtype", ONNXC_FLOAT));
}

static void r_grid_sample(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0), *gr = IN(I, n, 1);
    set_elem(o, x);
    if (x->rank < 3 || !vs_rank(I, o, x->rank))
        return;
    o->d[0] = x->d[0];
    o->d[1] = x->d[1];
    if (gr->rank == x->rank)
        for (int i = 2; i < x->rank; i++)
            o->d[i] = gr->d[i - 1];
}

static void r_lrn(oc_infer *I, const oc_node *n) { r_same(I, n); }

/* LSTM / GRU / RNN (layout from 14): Y [seq, dirs, batch, hidden] or [batch, seq, dirs, hidden]; Y_h and Y_c
 * [dirs, batch, hidden] or [batch, dirs, hidden]. hidden_size from the attribute, else from R. */
static void r_recurrent(oc_infer *I, const oc_node *n)
{
    const oc_vshape *x = IN(I, n, 0), *r = IN(I, n, 2);
    char buf[32];
    const char *dir = oc_attr_string(n, "direction", "forward", buf, sizeof buf);
    int64_t dirs = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
    int64_t layout = I->opset >= 14 ? oc_attr_int(n, "layout", 0) : 0;
    oc_sdim hid = dunk(), seq = dunk(), batch = dunk();
    if (oc_node_attr(n, "hidden_size"))
        hid = dval(oc_attr_int(n, "hidden_size", 0));
    else if (r->rank == 3)
        hid = r->d[2];
    if (x->rank == 3) {
        seq = x->d[layout ? 1 : 0];
        batch = x->d[layout ? 0 : 1];
    }
    int n_out = oc_node_is_op(n, "LSTM") ? 3 : 2;
    for (int j = 0; j < n_out; j++) {
        oc_vshape *o = OUT(I, n, j);
        if (!o)
            continue;
        set_elem(o, x);
        if (j == 0) {
            if (!vs_rank(I, o, 4))
                continue;
            oc_sdim y0[4] = {seq, dval(dirs), batch, hid}, y1[4] = {batch, seq, dval(dirs), hid};
            memcpy(o->d, layout ? y1 : y0, sizeof y0);
        } else {
            if (!vs_rank(I, o, 3))
                continue;
            oc_sdim h0[3] = {dval(dirs), batch, hid}, h1[3] = {batch, dval(dirs), hid};
            memcpy(o->d, layout ? h1 : h0, sizeof h0);
        }
    }
}

/* NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss: the loss is shaped like the target for reduction none,
 * else a scalar; SoftmaxCrossEntropyLoss's log_prob like the scores. */
static void r_loss(oc_infer *I, const oc_node *n)
{
    const oc_vshape *x = IN(I, n, 0), *t = IN(I, n, 1);
    char buf[16];
    const char *red = oc_attr_string(n, "reduction", "mean", buf, sizeof buf);
    oc_vshape *o = OUT(I, n, 0);
    if (o) {
        set_elem(o, x);
        if (strcmp(red, "none") == 0)
            copy_shape(I, o, t);
        else
            vs_rank(I, o, 0);
    }
    if ((o = OUT(I, n, 1)) != NULL) {
        set_elem(o, x);
        copy_shape(I, o, x);
    }
}

/* TfIdfVectorizer: float [C_out] or [N, C_out], C_out = max(ngram_indexes) + 1. */
static void r_tfidf(oc_infer *I, const oc_node *n)
{
    const oc_vshape *x = IN(I, n, 0);
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, ONNXC_FLOAT);
    size_t k = 0;
    const int64_t *ix = oc_attr_ints(n, "ngram_indexes", &k);
    int64_t m = -1;
    for (size_t i = 0; i < k; i++)
        m = ix[i] > m ? ix[i] : m;
    if ((x->rank != 1 && x->rank != 2) || !vs_rank(I, o, x->rank))
        return;
    if (x->rank == 2)
        o->d[0] = x->d[0];
    o->d[x->rank - 1] = m >= 0 ? dval(m + 1) : dunk();
}

static void r_det(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank >= 2 && vs_rank(I, o, x->rank - 2))
        for (int i = 0; i < x->rank - 2; i++)
            o->d[i] = x->d[i];
}

static void r_maxunpool(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 3 || !vs_rank(I, o, x->rank))
        return;
    int64_t v[MAXR];
    int c;
    if (in_ints(I, n, 2, v, MAXR, &c) && c == x->rank) {
        for (int i = 0; i < c; i++)
            o->d[i] = dval(v[i]);
        return;
    }
    o->d[0] = x->d[0];
    o->d[1] = x->d[1];
    if (has_in(n, 2))
        return;
    size_t nk, np, ns;
    const int64_t *k = oc_attr_ints(n, "kernel_shape", &nk), *p = oc_attr_ints(n, "pads", &np),
                  *st = oc_attr_ints(n, "strides", &ns);
    int nsp = x->rank - 2;
    if (!k || nk != (size_t)nsp || (p && np != (size_t)(2 * nsp)) || (st && ns != (size_t)nsp))
        return;
    for (int i = 0; i < nsp; i++)
        if (dknown(x->d[2 + i]))
            o->d[2 + i] = dval((x->d[2 + i].v - 1) * (st ? st[i] : 1) - (p ? p[i] + p[nsp + i] : 0) + k[i]);
}

static void r_window(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, (int32_t)oc_attr_int(n, "output_datatype", ONNXC_FLOAT));
    int64_t v[1];
    int c;
    if (vs_rank(I, o, 1) && in_ints(I, n, 0, v, 1, &c) && c == 1)
        o->d[0] = dval(v[0]);
}

static void r_melweight(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem_t(o, (int32_t)oc_attr_int(n, "output_datatype", ONNXC_FLOAT));
    int64_t v[1];
    int c;
    if (!vs_rank(I, o, 2))
        return;
    if (in_ints(I, n, 1, v, 1, &c) && c == 1)
        o->d[0] = dval(v[0] / 2 + 1);
    if (in_ints(I, n, 0, v, 1, &c) && c == 1)
        o->d[1] = dval(v[0]);
}

static void r_dft(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0);
    set_elem(o, x);
    if (x->rank < 3 || !vs_rank(I, o, x->rank))
        return;
    for (int i = 0; i < x->rank - 1; i++)
        o->d[i] = x->d[i];
    o->d[x->rank - 1] = dval(2);
    int64_t ax = oc_attr_int(n, "axis", 1), v[1];
    int c;
    if (ax < 0)
        ax += x->rank;
    if (ax < 1 || ax > x->rank - 2)
        return;
    oc_sdim len = x->d[ax];
    if (has_in(n, 1))
        len = in_ints(I, n, 1, v, 1, &c) && c == 1 ? dval(v[0]) : dunk();
    if (oc_attr_int(n, "onesided", 0))
        len = dknown(len) ? dval(len.v / 2 + 1) : dunk();
    o->d[ax] = len;
}

static void r_stft(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    const oc_vshape *x = IN(I, n, 0), *w = IN(I, n, 2);
    set_elem(o, x);
    if (!vs_rank(I, o, 4))
        return;
    o->d[3] = dval(2);
    if (x->rank != 3)
        return;
    o->d[0] = x->d[0];
    int64_t v[1], step = -1, len = -1;
    int c;
    if (in_ints(I, n, 1, v, 1, &c) && c == 1)
        step = v[0];
    if (has_in(n, 3) && in_ints(I, n, 3, v, 1, &c) && c == 1)
        len = v[0];
    else if (!has_in(n, 3) && has_in(n, 2) && w->rank == 1 && dknown(w->d[0]))
        len = w->d[0].v;
    if (len > 0)
        o->d[2] = dval(oc_attr_int(n, "onesided", 1) ? len / 2 + 1 : len);
    if (len > 0 && step > 0 && dknown(x->d[1]) && x->d[1].v >= len)
        o->d[1] = dval((x->d[1].v - len) / step + 1);
}

/* Einsum: the output's rank and the dims of its letters, from the equation (numpy's implicit output: the
 * ellipsis dims, then the letters used once, in ASCII order) */
static void r_einsum(oc_infer *I, const oc_node *n)
{
    oc_vshape *o = OUT(I, n, 0);
    if (!o)
        return;
    set_elem(o, IN(I, n, 0));
    char buf[1024];
    const char *eq = oc_attr_string(n, "equation", "", buf, sizeof buf);
    if (strlen(eq) >= sizeof buf - 1)
        return; /* truncated: unknown */
    oc_sdim let[128];
    int count[128] = {0}, max_ell = 0, term = 0;
    for (int i = 0; i < 128; i++)
        let[i] = dunk();
    const char *s = eq;
    for (; *s && !(s[0] == '-' && s[1] == '>'); term++) {
        const oc_vshape *x = IN(I, n, term);
        int nl = 0;
        bool ell = false;
        const char *t = s;
        for (; *t && *t != ',' && *t != '-'; t++)
            if ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z'))
                nl++;
            else if (*t == '.')
                ell = true;
        if (ell && x->rank < 0)
            return;
        int ne = ell ? x->rank - nl : 0, d = 0;
        if (ne < 0)
            return;
        if (ne > max_ell)
            max_ell = ne;
        for (; s < t; s++) {
            if (*s == '.') {
                if (t - s < 3 || s[1] != '.' || s[2] != '.')
                    return; /* malformed: the kernel reports it */
                d += ne;
                s += 2;
                continue;
            }
            if (*s == ' ')
                continue;
            unsigned char ch = (unsigned char)*s;
            if (ch >= 128)
                return;
            count[ch]++;
            if (x->rank >= 0 && d < x->rank && dknown(x->d[d]) && x->d[d].v != 1)
                let[ch] = x->d[d];
            d++;
        }
        if (*s == ',')
            s++;
        else if (*s == '-' && s[1] != '>')
            return;
    }
    int r = 0;
    unsigned char out[MAXR + 1];
    bool oell = false;
    if (*s == '-') {
        for (s += 2; *s; s++) {
            if (*s == '.') {
                if (s[1] != '.' || s[2] != '.')
                    return;
                oell = true;
                s += 2;
                continue;
            }
            if ((unsigned char)*s >= 128)
                return;
            if (*s != ' ' && r < MAXR)
                out[r++] = (unsigned char)*s;
        }
        r += oell ? max_ell : 0;
    } else {
        for (int ch = 0; ch < 128; ch++)
            if (count[ch] == 1 && r < MAXR)
                out[r++] = (unsigned char)ch;
        r += max_ell;
    }
    if (r > MAXR || !vs_rank(I, o, r))
        return;
    /* letters' dims; the ellipsis dims (first in implicit mode) stay unknown */
    if (*eq && !strchr(eq, '.'))
        for (int i = 0; i < r; i++)
            o->d[i] = let[out[i]];
}

typedef struct rule {
    const char *op;
    rule_fn fn;
} rule;

static const rule rules[] = {
    /* unary, same type and shape */
    {"Relu", r_same}, {"Sigmoid", r_same}, {"Tanh", r_same}, {"Exp", r_same}, {"Log", r_same}, {"Abs", r_same},
    {"Neg", r_same}, {"Sqrt", r_same}, {"Reciprocal", r_same}, {"Floor", r_same}, {"Ceil", r_same},
    {"Round", r_same}, {"Erf", r_same}, {"Sin", r_same}, {"Cos", r_same}, {"Tan", r_same}, {"Asin", r_same},
    {"Acos", r_same}, {"Atan", r_same}, {"Sinh", r_same}, {"Cosh", r_same}, {"Asinh", r_same}, {"Acosh", r_same},
    {"Atanh", r_same}, {"LeakyRelu", r_same}, {"Elu", r_same}, {"Selu", r_same}, {"Celu", r_same},
    {"HardSigmoid", r_same}, {"HardSwish", r_same}, {"Softplus", r_same}, {"Softsign", r_same}, {"Mish", r_same},
    {"Gelu", r_same}, {"ThresholdedRelu", r_same}, {"Shrink", r_same}, {"Sign", r_same}, {"Not", r_same},
    {"BitwiseNot", r_same}, {"Clip", r_clip_like}, {"Softmax", r_same}, {"LogSoftmax", r_same},
    {"Hardmax", r_same}, {"LRN", r_lrn}, {"InstanceNormalization", r_same}, {"MeanVarianceNormalization", r_same},
    {"LpNormalization", r_same}, {"CumSum", r_same}, {"Trilu", r_same}, {"ReverseSequence", r_same},
    {"Identity", r_identity}, {"Dropout", r_dropout}, {"IsNaN", r_same_bool}, {"IsInf", r_same_bool},
    {"BatchNormalization", r_norm}, {"LayerNormalization", r_norm}, {"GroupNormalization", r_norm},
    {"ScatterND", r_scatter}, {"ScatterElements", r_scatter}, {"Scatter", r_scatter},
    /* broadcasting */
    {"Add", r_bcast}, {"Sub", r_bcast}, {"Mul", r_bcast}, {"Div", r_bcast}, {"Pow", r_bcast}, {"Mod", r_bcast},
    {"Max", r_bcast}, {"Min", r_bcast}, {"Sum", r_bcast}, {"Mean", r_bcast}, {"PRelu", r_bcast},
    {"BitShift", r_bcast}, {"BitwiseAnd", r_bcast}, {"BitwiseOr", r_bcast}, {"BitwiseXor", r_bcast},
    {"And", r_bcast_bool}, {"Or", r_bcast_bool}, {"Xor", r_bcast_bool}, {"Equal", r_bcast_bool},
    {"Less", r_bcast_bool}, {"Greater", r_bcast_bool}, {"LessOrEqual", r_bcast_bool},
    {"GreaterOrEqual", r_bcast_bool}, {"Where", r_where},
    {"Cast", r_cast}, {"CastLike", r_cast},
    {"Conv", r_conv}, {"ConvInteger", r_conv}, {"QLinearConv", r_conv}, {"ConvTranspose", r_convtranspose},
    {"MaxPool", r_pool}, {"AveragePool", r_pool}, {"LpPool", r_pool},
    {"GlobalAveragePool", r_global_pool}, {"GlobalMaxPool", r_global_pool}, {"GlobalLpPool", r_global_pool},
    {"Gemm", r_gemm}, {"MatMul", r_matmul}, {"MatMulInteger", r_matmul}, {"QLinearMatMul", r_matmul},
    {"Shape", r_shape}, {"Size", r_size}, {"Constant", r_constant}, {"ConstantOfShape", r_constant_of_shape},
    {"Reshape", r_reshape}, {"Flatten", r_flatten}, {"Transpose", r_transpose}, {"Squeeze", r_squeeze},
    {"Unsqueeze", r_unsqueeze}, {"Concat", r_concat}, {"Split", r_split}, {"Slice", r_slice},
    {"Gather", r_gather}, {"GatherElements", r_gather_elements}, {"Expand", r_expand}, {"Tile", r_tile},
    {"Pad", r_pad}, {"Resize", r_resize}, {"Upsample", r_resize},
    {"ReduceSum", r_reduce}, {"ReduceMean", r_reduce}, {"ReduceMax", r_reduce}, {"ReduceMin", r_reduce},
    {"ReduceProd", r_reduce}, {"ReduceL1", r_reduce}, {"ReduceL2", r_reduce}, {"ReduceLogSum", r_reduce},
    {"ReduceLogSumExp", r_reduce}, {"ReduceSumSquare", r_reduce},
    {"ArgMax", r_argmax}, {"ArgMin", r_argmax}, {"TopK", r_topk},
    {"DepthToSpace", r_depth_space}, {"SpaceToDepth", r_depth_space}, {"Range", r_range},
    {"NonZero", r_nonzero}, {"EyeLike", r_eyelike}, {"QuantizeLinear", r_quantize},
    {"DequantizeLinear", r_dequantize}, {"OneHot", r_onehot}, {"Compress", r_einsum_free},
    {"Unique", r_einsum_free}, {"NonMaxSuppression", r_nms}, {"RoiAlign", r_roialign},
    {"RandomNormal", r_random}, {"RandomUniform", r_random}, {"RandomNormalLike", r_random_like},
    {"RandomUniformLike", r_random_like}, {"GridSample", r_grid_sample},
    {"LSTM", r_recurrent}, {"GRU", r_recurrent}, {"RNN", r_recurrent},
    {"NegativeLogLikelihoodLoss", r_loss}, {"SoftmaxCrossEntropyLoss", r_loss}, {"TfIdfVectorizer", r_tfidf},
    {"Det", r_det}, {"MaxUnpool", r_maxunpool}, {"HannWindow", r_window}, {"HammingWindow", r_window},
    {"BlackmanWindow", r_window}, {"MelWeightMatrix", r_melweight}, {"DFT", r_dft}, {"STFT", r_stft},
    {"Einsum", r_einsum},
};

static rule_fn find_rule(const oc_node *n)
{
    if (!oc_domain_is_default(n->domain))
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].op, n->op_type) == 0)
            return rules[i].fn;
    return NULL;
}

/* ---------------------------------------------------------------- driver */

static void from_type(oc_infer *I, oc_vshape *s, const oc_type *ty)
{
    if (!ty || ty->kind != OC_TYPE_TENSOR)
        return;
    if (ty->has_elem_type && ty->elem_type) {
        s->has_elem = true;
        s->elem = ty->elem_type;
    }
    if (ty->rank >= 0 && vs_rank(I, s, ty->rank))
        for (int i = 0; i < ty->rank; i++) {
            if (ty->dims[i].has_value && ty->dims[i].value >= 0)
                s->d[i] = dval(ty->dims[i].value);
            else if (ty->dims[i].param && *ty->dims[i].param)
                s->d[i] = (oc_sdim){-1, ty->dims[i].param};
        }
    s->declared = true;
}

static const oc_type *declared_vi(const oc_graph *g, const oc_value *v)
{
    for (int i = 0; i < g->n_value_infos; i++)
        if (g->value_infos[i].value == v)
            return &g->value_infos[i].type;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == v)
            return &g->outputs[i].type;
    return NULL;
}

onnxc_status oc_infer_graph(const oc_graph *g, bool use_declared, oc_infer **out)
{
    *out = NULL;
    oc_infer *I = oc_calloc(1, sizeof *I);
    if (!I)
        return oc_err(ONNXC_E_NOMEM, "out of memory inferring shapes");
    I->g = g;
    I->n = g->n_values;
    I->vs = oc_calloc((size_t)(I->n ? I->n : 1), sizeof *I->vs);
    I->conflict = oc_calloc((size_t)(I->n ? I->n : 1), sizeof *I->conflict);
    int *order = oc_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *order);
    if (!I->vs || !I->conflict || !order) {
        oc_free(order);
        oc_infer_free(I);
        return oc_err(ONNXC_E_NOMEM, "out of memory inferring shapes");
    }
    for (int i = 0; i < I->n; i++)
        I->vs[i] = unknown_vs;
    I->opset = g->model ? oc_model_opset(g->model, NULL) : 0;
    /* with a sparse handle map, node outputs may meet dim_param names of graph inputs: those names stay */
    for (int i = 0; i < g->n_values; i++) {
        oc_value *v = g->values[i];
        if (v->init) {
            set_from_tensor(I, &I->vs[v->id], &v->init->t);
            I->vs[v->id].inferred = true;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        oc_value *v = g->inputs[i].value;
        if (!v->init) {
            vs_clear(&I->vs[v->id]);
            from_type(I, &I->vs[v->id], &g->inputs[i].type);
        }
    }
    /* values a subgraph reads from enclosing graphs: what those say of them (a constant, a graph input's declared
     * type; a declared value_info only with use_declared, as for the graph's own values) */
    for (int i = 0; g->parent && i < g->n_values; i++) {
        oc_value *v = g->values[i];
        if (!(v->flags & OC_V_OUTER) || v->init || v->producer)
            continue;
        const oc_value *ov = oc_graph_lookup(g->parent, v->name);
        const oc_tensor *c = ov ? oc_value_constant(ov) : NULL;
        if (c)
            set_from_tensor(I, &I->vs[v->id], &c->t);
        else if (ov && ((ov->flags & OC_V_INPUT) || use_declared))
            from_type(I, &I->vs[v->id], oc_value_type(ov));
    }
    if (oc_graph_order(g, order) != ONNXC_OK) {
        oc_err_clear();
        for (int i = 0; i < g->n_nodes; i++)
            order[i] = i;
    }
    for (int k = 0; k < g->n_nodes && !I->nomem; k++) {
        const oc_node *n = g->nodes[order[k]];
        if (n->dead)
            continue;
        rule_fn fn = find_rule(n);
        if (fn)
            fn(I, n);
        for (int j = 0; j < n->n_outputs; j++) {
            oc_value *v = n->outputs[j];
            if (!v)
                continue;
            oc_vshape *s = &I->vs[v->id];
            if (fn && (s->has_elem || s->rank >= 0)) {
                s->inferred = true;
                continue;
            }
            if (use_declared) {
                vs_clear(s);
                from_type(I, s, declared_vi(g, v));
            }
        }
    }
    oc_free(order);
    if (I->nomem) {
        oc_infer_free(I);
        return oc_err(ONNXC_E_NOMEM, "out of memory inferring shapes");
    }
    *out = I;
    return ONNXC_OK;
}

const oc_vshape *oc_infer_get(const oc_infer *inf, const oc_value *v)
{
    if (!inf || !v || v->graph != inf->g || v->id < 0 || v->id >= inf->n)
        return &unknown_vs;
    return &inf->vs[v->id];
}

const char *oc_infer_conflict(const oc_infer *inf, const oc_value *v)
{
    if (!inf || !v || v->graph != inf->g || v->id < 0 || v->id >= inf->n)
        return NULL;
    return inf->conflict[v->id];
}

void oc_infer_free(oc_infer *inf)
{
    if (!inf)
        return;
    if (inf->vs)
        for (int i = 0; i < inf->n; i++)
            vs_clear(&inf->vs[i]);
    if (inf->conflict)
        for (int i = 0; i < inf->n; i++)
            oc_free(inf->conflict[i]);
    oc_free(inf->vs);
    oc_free(inf->conflict);
    while (inf->syms) {
        sym_chunk *c = inf->syms;
        inf->syms = c->next;
        oc_free(c);
    }
    oc_free(inf);
}

const char *oc_vshape_str(const oc_vshape *s, char *buf, size_t cap)
{
    size_t off = (size_t)snprintf(buf, cap, "%s", s->has_elem ? onnxc_dtype_name(s->elem) : "?");
    if (s->rank < 0) {
        if (off < cap)
            snprintf(buf + off, cap - off, "[?]");
        return buf;
    }
    if (off < cap)
        off += (size_t)snprintf(buf + off, cap - off, "[");
    for (int i = 0; i < s->rank && off < cap; i++) {
        if (dknown(s->d[i]))
            off += (size_t)snprintf(buf + off, cap - off, "%s%lld", i ? "," : "", (long long)s->d[i].v);
        else
            off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", s->d[i].sym ? s->d[i].sym : "?");
    }
    if (off < cap)
        snprintf(buf + off, cap - off, "]");
    return buf;
}

/* ---------------------------------------------------------------- value_info */

static onnxc_status to_type(const oc_vshape *s, oc_type *ty, int *unk)
{
    memset(ty, 0, sizeof *ty);
    ty->kind = OC_TYPE_TENSOR;
    ty->has_elem_type = true;
    ty->elem_type = s->elem;
    ty->rank = s->rank;
    if (s->rank > 0) {
        ty->dims = oc_calloc((size_t)s->rank, sizeof *ty->dims);
        if (!ty->dims)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->rank; i++) {
        if (dknown(s->d[i])) {
            ty->dims[i].has_value = true;
            ty->dims[i].value = s->d[i].v;
        } else {
            char nm[32];
            snprintf(nm, sizeof nm, "unk__%d", (*unk)++);
            ty->dims[i].param = oc_strdup(s->d[i].sym ? s->d[i].sym : nm);
            if (!ty->dims[i].param)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
    }
    return ONNXC_OK;
}

onnxc_status oc_infer_write_value_info(oc_graph *g, const oc_infer *inf, int *n_written)
{
    *n_written = 0;
    int cap = g->n_value_infos + g->n_values;
    oc_vinfo *vi = oc_calloc((size_t)(cap ? cap : 1), sizeof *vi);
    if (!vi)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    int k = 0, unk = 0;
    onnxc_status st = ONNXC_OK;
    bool *done = oc_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *done);
    if (!done) {
        oc_free(vi);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    /* inferred node outputs first, in node order */
    for (int i = 0; i < g->n_nodes && st == ONNXC_OK; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int j = 0; j < n->n_outputs && st == ONNXC_OK; j++) {
            oc_value *v = n->outputs[j];
            if (!v || (v->flags & OC_V_OUTPUT) || v->id >= inf->n || done[v->id])
                continue;
            const oc_vshape *s = oc_infer_get(inf, v);
            if (!s->inferred || !s->has_elem)
                continue;
            vi[k].value = v;
            st = to_type(s, &vi[k].type, &unk);
            k++;
            done[v->id] = true;
        }
    }
    if (st != ONNXC_OK) { /* the graph is untouched: only the new declarations are dropped */
        for (int i = 0; i < k; i++)
            oc_type_clear(&vi[i].type);
        oc_free(vi);
        oc_free(done);
        return st;
    }
    /* declarations of values not inferred are kept as they were (moved, no allocation) */
    for (int i = 0; i < g->n_value_infos; i++) {
        oc_vinfo *old = &g->value_infos[i];
        if (old->value && old->value->id < g->n_values && done[old->value->id])
            continue;
        vi[k] = *old;
        memset(old, 0, sizeof *old);
        k++;
    }
    for (int i = 0; i < g->n_value_infos; i++) {
        oc_type_clear(&g->value_infos[i].type);
        oc_free(g->value_infos[i].doc_string);
        oc_free(g->value_infos[i].unknown.data);
    }
    oc_free(g->value_infos);
    g->value_infos = vi;
    g->n_value_infos = k;
    *n_written = k;
    oc_free(done);
    return ONNXC_OK;
}
