/* Plan steps that change how nodes run without touching the user's graph: fusion of Add, Relu/Clip and the
 * exporters' activation patterns into a Conv's, MatMul's or Gemm's epilogue, the blocked (NCHW8c) layout between kernels that take it, and Reshape-like outputs aliased to their
 * inputs. */
#include <math.h>
#include <string.h>

#include "ir.h"
#include "plan.h"

static bool oc_same_shape(const onnxc_tensor *a, const onnxc_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

/* A plan-time float scalar input (Clip-11's min and max), or the default when omitted. */
static bool oc_const_scalar(const onnxc_session *s, const oc_node *nd, int j, float dflt, float *out)
{
    *out = dflt;
    if (j >= nd->n_inputs || !nd->inputs[j])
        return true;
    const oc_rvalue *r = &s->rv[nd->inputs[j]->id];
    if (!r->known || r->t.dtype != ONNXC_FLOAT || !r->t.data)
        return false;
    int64_t n = 0;
    if (!oc_numel(r->t.dims, r->t.rank, &n) || n != 1)
        return false;
    *out = *(const float *)r->t.data;
    return true;
}

/* May node cn at position cp join the chain of the head at h (runs later, not already taken)? */
static bool oc_joinable(const onnxc_session *s, int h, const oc_node *cn, int cp)
{
    return cp > h && !s->nodes[cp].folded && !s->nodes[cp].fused && !s->nodes[cp].dynamic && cn->n_outputs >= 1 && cn->outputs[0];
}

/* A value only the chain sees: not a graph output, not read at plan time, with exactly `uses` uses. */
static bool oc_private(const onnxc_session *s, const oc_value *v, int uses)
{
    return v->n_uses == uses && !s->rv[v->id].is_output && !s->rv[v->id].needed;
}

/* The gated forms exporters write for SiLU and HardSwish (opset < 14): v's two uses are g = Sigmoid(v) or
 * HardSigmoid(v), whose output only m reads, and m = Mul(v, g) in either order. On a match, *gate and *mul are
 * their positions and *act, *alpha, *beta the activation. */
static bool oc_match_gated(const onnxc_session *s, int h, const oc_value *v, const onnxc_tensor *shape, int *gate,
                           int *mul, int *act, float *alpha, float *beta)
{
    if (!oc_private(s, v, 2))
        return false;
    for (int k = 0; k < 2; k++) {
        const oc_node *gn = v->uses[k].node, *mn = v->uses[1 - k].node;
        const int gp = oc_plan_pos(s, gn), mp = oc_plan_pos(s, mn);
        const bool sig = oc_node_is_op(gn, "Sigmoid"), hsig = oc_node_is_op(gn, "HardSigmoid");
        if ((!sig && !hsig) || !oc_node_is_op(mn, "Mul") || gn->n_inputs != 1 || mn->n_inputs != 2 ||
            !oc_joinable(s, h, gn, gp) || !oc_joinable(s, h, mn, mp))
            continue;
        const oc_value *gv = gn->outputs[0];
        if (!oc_private(s, gv, 1) || gv->uses[0].node != mn || !oc_same_shape(&s->rv[gv->id].t, shape) ||
            !oc_same_shape(&s->rv[mn->outputs[0]->id].t, shape) ||
            !((mn->inputs[0] == v && mn->inputs[1] == gv) || (mn->inputs[0] == gv && mn->inputs[1] == v)))
            continue;
        *gate = gp;
        *mul = mp;
        *act = sig ? OC_ACT_SILU : OC_ACT_HARDSWISH;
        *alpha = sig ? 0.0f : oc_attr_float(gn, "alpha", 0.2f);
        *beta = sig ? 0.0f : oc_attr_float(gn, "beta", 0.5f);
        return true;
    }
    return false;
}

/* The one float of a plan-time constant value (of any rank), when it is one. */
static bool oc_scalar_value(const onnxc_session *s, const oc_value *v, float *out)
{
    if (!v)
        return false;
    const oc_rvalue *r = &s->rv[v->id];
    int64_t n = 0;
    if (!r->known || r->t.dtype != ONNXC_FLOAT || !r->t.data || !oc_numel(r->t.dims, r->t.rank, &n) || n != 1)
        return false;
    *out = *(const float *)r->t.data;
    return true;
}

/* Node cn = Op(v, K) or Op(K, v) (commutative ops) with K a plan-time float scalar, op one of op_a/op_b
 * (op_b may be NULL): its constant, and which op matched. Div only as Div(v, K). */
static bool oc_op_with_scalar(const onnxc_session *s, const oc_node *cn, const oc_value *v, const char *op_a,
                              const char *op_b, float *k, bool *is_a)
{
    const bool a = oc_node_is_op(cn, op_a), b = op_b && oc_node_is_op(cn, op_b);
    if ((!a && !b) || cn->n_inputs != 2 || !cn->inputs[0] || !cn->inputs[1])
        return false;
    const bool comm = !oc_node_is_op(cn, "Div");
    if (cn->inputs[0] == v && cn->inputs[1] != v && oc_scalar_value(s, cn->inputs[1], k)) {
        *is_a = a;
        return true;
    }
    if (comm && cn->inputs[1] == v && cn->inputs[0] != v && oc_scalar_value(s, cn->inputs[0], k)) {
        *is_a = a;
        return true;
    }
    return false;
}

/* The only use of value v, when the chain may take it: a node at a later position that is not taken, whose
 * output has v's shape; its position, or -1. */
static int oc_sole_use(const onnxc_session *s, int h, const oc_value *v, const onnxc_tensor *shape)
{
    if (!oc_private(s, v, 1))
        return -1;
    const oc_node *cn = v->uses[0].node;
    const int cp = oc_plan_pos(s, cn);
    if (!oc_joinable(s, h, cn, cp) || !oc_same_shape(&s->rv[cn->outputs[0]->id].t, shape))
        return -1;
    return cp;
}

/* The exact GELU as exporters write it (torch.nn.GELU, approximate='none'): v's two uses are d = Div(v, K1) (or
 * Mul(v, K1)) and m = Mul(v, a), with a = Add(Erf(d), 1) and the chain's end Mul(m, 0.5), each intermediate used
 * once. On a match, pos[0..5) are the positions of d, Erf, Add, m and the last Mul, *k1 and *div the first
 * node's constant and op. */
static bool oc_match_gelu(const onnxc_session *s, int h, const oc_value *v, const onnxc_tensor *shape, int pos[5],
                          float *k1, bool *div)
{
    if (!oc_private(s, v, 2))
        return false;
    for (int k = 0; k < 2; k++) {
        const oc_node *dn = v->uses[k].node, *mn = v->uses[1 - k].node;
        const int dp = oc_plan_pos(s, dn), mp = oc_plan_pos(s, mn);
        float kc, one, half;
        bool is_div, is_add;
        if (!oc_joinable(s, h, dn, dp) || !oc_joinable(s, h, mn, mp) ||
            !oc_op_with_scalar(s, dn, v, "Div", "Mul", &kc, &is_div) ||
            !oc_same_shape(&s->rv[dn->outputs[0]->id].t, shape))
            continue;
        const int ep = oc_sole_use(s, h, dn->outputs[0], shape);
        if (ep < 0 || !oc_node_is_op(s->order[ep], "Erf") || s->order[ep]->n_inputs != 1)
            continue;
        const oc_node *en = s->order[ep];
        const int ap = oc_sole_use(s, h, en->outputs[0], shape);
        if (ap < 0 || !oc_op_with_scalar(s, s->order[ap], en->outputs[0], "Add", NULL, &one, &is_add) || one != 1.0f)
            continue;
        const oc_value *av = s->order[ap]->outputs[0];
        if (!oc_node_is_op(mn, "Mul") || mn->n_inputs != 2 ||
            !((mn->inputs[0] == v && mn->inputs[1] == av) || (mn->inputs[0] == av && mn->inputs[1] == v)) ||
            oc_sole_use(s, h, av, shape) != mp || !oc_same_shape(&s->rv[mn->outputs[0]->id].t, shape))
            continue;
        const int lp = oc_sole_use(s, h, mn->outputs[0], shape);
        bool is_mul;
        if (lp < 0 || !oc_op_with_scalar(s, s->order[lp], mn->outputs[0], "Mul", NULL, &half, &is_mul) ||
            half != 0.5f)
            continue;
        pos[0] = dp;
        pos[1] = ep;
        pos[2] = ap;
        pos[3] = mp;
        pos[4] = lp;
        *k1 = kc;
        *div = is_div;
        return true;
    }
    return false;
}

/* Node cn = Add(v, b) or Add(b, v) with b a plan-time float constant that is one value per column of v's last
 * axis ([N] or [1, ..., 1, N]): b's data, else NULL. */
static const float *oc_col_bias(const onnxc_session *s, const oc_node *cn, const oc_value *v,
                                const onnxc_tensor *shape)
{
    if (!oc_node_is_op(cn, "Add") || cn->n_inputs != 2 || !cn->inputs[0] || !cn->inputs[1] || shape->rank < 1)
        return NULL;
    const oc_value *b = cn->inputs[0] == v ? cn->inputs[1] : cn->inputs[0];
    if (b == v)
        return NULL;
    const oc_rvalue *r = &s->rv[b->id];
    if (!r->known || r->t.dtype != ONNXC_FLOAT || !r->t.data || r->t.rank < 1 || r->t.rank > shape->rank ||
        r->t.dims[r->t.rank - 1] != shape->dims[shape->rank - 1])
        return NULL;
    for (int i = 0; i + 1 < r->t.rank; i++)
        if (r->t.dims[i] != 1)
            return NULL;
    return r->t.data;
}

static void oc_plan_fuse_gate(onnxc_session *s);
static void oc_plan_fuse_bn(onnxc_session *s);

/* PRelu's slope when it is a plan-time float constant that varies along the channel axis (1) of x at most:
 * its data and count (1 or the channel count). Slopes broadcast from the right (PRelu-7), so [C, 1, 1] is per
 * channel of an N x C x H x W x, while [C] would be per column. */
static bool oc_prelu_slope(const onnxc_session *s, const oc_node *cn, const onnxc_tensor *x, const float **data,
                           int64_t *n)
{
    if (cn->n_inputs != 2 || !cn->inputs[1] || x->rank < 2)
        return false;
    const oc_rvalue *r = &s->rv[cn->inputs[1]->id];
    if (!r->known || r->t.dtype != ONNXC_FLOAT || !r->t.data || r->t.rank > x->rank)
        return false;
    int64_t count = 1;
    for (int i = 0; i < r->t.rank; i++) {
        const int64_t d = r->t.dims[i];
        const int axis = x->rank - r->t.rank + i;
        if (d == 1)
            continue;
        if (axis != 1 || d != x->dims[1])
            return false;
        count = d;
    }
    *data = r->t.data;
    *n = count;
    return true;
}

/* Fuse into each node whose kernel accepts an epilogue (Conv, float MatMul and Gemm) what follows it alone: for
 * a MatMul or Gemm an Add of a constant per-column bias first, an Add of a same-shape tensor that is ready by
 * then (a residual), then Relu or Clip with constant bounds, or an activation (Sigmoid, HardSigmoid, HardSwish,
 * LeakyRelu, PRelu with a per-channel slope, the gated x * Sigmoid(x) and x * HardSigmoid(x), and the exported
 * Erf form of GELU). The user's graph is not touched: the head's output pointer moves to the chain's last
 * value and the other nodes are skipped. An intermediate value that is a graph output or has another use
 * stops the chain before it. */
void oc_plan_fuse(onnxc_session *s)
{
    for (int h = 0; h < s->n_order; h++) {
        oc_snode *head = &s->nodes[h];
        const oc_node *hn = s->order[h];
        if (head->folded || head->fused || head->dynamic || !head->ctx.accepts_epilogue || hn->n_outputs < 1 || !hn->outputs[0] ||
            !head->out[0] || (head->out[0]->dtype != ONNXC_FLOAT && !head->half))
            continue;
        const oc_value *v = hn->outputs[0];
        const onnxc_tensor *shape = &s->rv[v->id].t;
        const bool product = oc_node_is_op(hn, "MatMul") || oc_node_is_op(hn, "Gemm");
        bool have_res = false, have_bias = false;
        for (;;) {
            int gp, mp, act, gelu[5];
            float alpha, beta, k1;
            bool div;
            if (oc_match_gelu(s, h, v, shape, gelu, &k1, &div)) {
                head->ctx.fuse_act = OC_ACT_GELU_ERF;
                head->ctx.fuse_alpha = k1;
                head->ctx.fuse_beta = div ? 1.0f : 0.0f;
                for (int k = 0; k < 5; k++) {
                    s->nodes[gelu[k]].fused = true;
                    s->nodes[gelu[k]].fuse_head = h;
                }
                head->out[0] = &s->rv[s->order[gelu[4]]->outputs[0]->id].t;
                break;
            }
            if (oc_match_gated(s, h, v, shape, &gp, &mp, &act, &alpha, &beta)) {
                head->ctx.fuse_act = act;
                head->ctx.fuse_alpha = alpha;
                head->ctx.fuse_beta = beta;
                s->nodes[gp].fused = s->nodes[mp].fused = true;
                s->nodes[gp].fuse_head = s->nodes[mp].fuse_head = h;
                head->out[0] = &s->rv[s->order[mp]->outputs[0]->id].t;
                break;
            }
            if (v->n_uses != 1 || s->rv[v->id].is_output || s->rv[v->id].needed)
                break;
            const oc_node *cn = v->uses[0].node;
            const int cp = oc_plan_pos(s, cn);
            if (cp <= h || s->nodes[cp].folded || s->nodes[cp].fused || s->nodes[cp].dynamic || cn->n_outputs < 1 || !cn->outputs[0])
                break;
            const oc_value *cv = cn->outputs[0];
            if (!oc_same_shape(&s->rv[cv->id].t, shape))
                break;
            bool last = false;
            const float *bias =
                head->ctx.accepts_bias && !have_bias && !have_res ? oc_col_bias(s, cn, v, shape) : NULL;
            if (bias) {
                /* before a residual: (x + bias) + res is the unfused order */
                head->ctx.fuse_bias = bias;
                have_bias = true;
            } else if (!have_res && oc_node_is_op(cn, "Add") && cn->n_inputs == 2 && cn->inputs[0] && cn->inputs[1]) {
                const oc_value *other = cn->inputs[0] == v ? cn->inputs[1] : cn->inputs[0];
                const oc_rvalue *ro = &s->rv[other->id];
                if (other == v || !oc_same_shape(&ro->t, shape))
                    break;
                /* ready when the head runs: an input, a constant, or produced earlier */
                bool ready = ro->known || ro->is_input;
                if (!ready && other->producer) {
                    /* a fused producer's value is written by its chain's head (an intermediate value of a
                     * chain has its one use inside the chain, so it cannot be this Add's input) */
                    int op = oc_plan_pos(s, other->producer);
                    if (op >= 0 && s->nodes[op].fused)
                        op = s->nodes[op].fuse_head;
                    ready = op >= 0 && op < h;
                }
                if (!ready)
                    break;
                head->ctx.fuse_res = &ro->t;
                have_res = true;
            } else if (oc_node_is_op(cn, "Relu")) {
                head->ctx.fuse_clamp = true;
                head->ctx.fuse_lo = 0.0f;
                head->ctx.fuse_hi = INFINITY;
                last = true;
            } else if (oc_node_is_op(cn, "Clip")) {
                float lo, hi;
                if (s->nodes[cp].ctx.opset < 11) {
                    /* Clip-6: bounds are attributes */
                    lo = oc_attr_float(cn, "min", -3.402823466e+38f);
                    hi = oc_attr_float(cn, "max", 3.402823466e+38f);
                } else if (!oc_const_scalar(s, cn, 1, -INFINITY, &lo) || !oc_const_scalar(s, cn, 2, INFINITY, &hi)) {
                    break;
                }
                head->ctx.fuse_clamp = true;
                head->ctx.fuse_lo = lo;
                head->ctx.fuse_hi = hi;
                last = true;
            } else if (oc_node_is_op(cn, "Sigmoid") && cn->n_inputs == 1) {
                head->ctx.fuse_act = OC_ACT_SIGMOID;
                last = true;
            } else if (oc_node_is_op(cn, "HardSigmoid") && cn->n_inputs == 1) {
                head->ctx.fuse_act = OC_ACT_HARDSIGMOID;
                head->ctx.fuse_alpha = oc_attr_float(cn, "alpha", 0.2f);
                head->ctx.fuse_beta = oc_attr_float(cn, "beta", 0.5f);
                last = true;
            } else if (oc_node_is_op(cn, "HardSwish") && cn->n_inputs == 1) {
                head->ctx.fuse_act = OC_ACT_HARDSWISH14;
                head->ctx.fuse_beta = 0.5f;
                last = true;
            } else if (oc_node_is_op(cn, "LeakyRelu") && cn->n_inputs == 1) {
                head->ctx.fuse_act = OC_ACT_LEAKYRELU;
                head->ctx.fuse_alpha = oc_attr_float(cn, "alpha", 0.01f);
                last = true;
            } else if (oc_node_is_op(cn, "PRelu") && cn->inputs[0] == v) {
                const float *slope;
                int64_t n_slope;
                if (!oc_prelu_slope(s, cn, shape, &slope, &n_slope) || (product && n_slope > 1))
                    break; /* a product's epilogue runs on column blocks: one slope only */
                head->ctx.fuse_act = OC_ACT_PRELU;
                head->ctx.fuse_slope = slope;
                head->ctx.fuse_slope_n = n_slope;
                last = true;
            } else {
                break;
            }
            s->nodes[cp].fused = true;
            s->nodes[cp].fuse_head = h;
            head->out[0] = &s->rv[cv->id].t;
            v = cv;
            if (last)
                break;
        }
    }
    oc_plan_fuse_gate(s);
    oc_plan_fuse_bn(s);
}

/* Is t a 4-D float [N, C, 1, 1] gate for the [N, C, H, W] x? */
static bool oc_gate_shape(const onnxc_tensor *t, const onnxc_tensor *x)
{
    return t->dtype == ONNXC_FLOAT && x->dtype == ONNXC_FLOAT && t->rank == 4 && x->rank == 4 &&
           t->dims[0] == x->dims[0] && t->dims[1] == x->dims[1] && t->dims[2] == 1 && t->dims[3] == 1;
}

/* The squeeze-excite gate: a Mul of x [N, C, H, W] by a gate [N, C, 1, 1] whose product only a pointwise Conv
 * (kctx.accepts_gate) reads, through its input 0, is fused into that Conv's input read: the Mul is skipped and
 * the Conv multiplies as it fills its GEMM blocks (the same products, so the same bits). The Conv then writes
 * plainly (no blocked layout), and the memory plan keeps x and the gate alive to it (memplan.c). */
static void oc_plan_fuse_gate(onnxc_session *s)
{
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *mn = s->order[i];
        const oc_snode *ms = &s->nodes[i];
        if (ms->folded || ms->fused || ms->dynamic || !oc_node_is_op(mn, "Mul") || mn->n_inputs != 2 ||
            !mn->inputs[0] || !mn->inputs[1] || mn->inputs[0] == mn->inputs[1] || mn->n_outputs < 1 ||
            !mn->outputs[0])
            continue;
        const oc_value *o = mn->outputs[0];
        if (!oc_private(s, o, 1) || o->uses[0].slot != 0 || s->rv[o->id].dynamic)
            continue;
        const oc_node *cn = o->uses[0].node;
        const int cp = oc_plan_pos(s, cn);
        if (cp <= i || s->nodes[cp].folded || s->nodes[cp].fused || s->nodes[cp].dynamic ||
            !s->nodes[cp].ctx.accepts_gate || s->nodes[cp].ctx.fuse_gate_x)
            continue;
        bool dup = false; /* the product read twice by the Conv (as weights too) */
        for (int j = 1; j < cn->n_inputs; j++)
            dup = dup || cn->inputs[j] == o;
        const onnxc_tensor *ot = &s->rv[o->id].t;
        int xi = -1;
        for (int k = 0; k < 2 && xi < 0; k++) {
            const oc_rvalue *rx = &s->rv[mn->inputs[k]->id], *rg = &s->rv[mn->inputs[1 - k]->id];
            if (!rx->dynamic && !rg->dynamic && oc_same_shape(&rx->t, ot) && oc_gate_shape(&rg->t, ot))
                xi = k;
        }
        if (dup || xi < 0)
            continue;
        oc_snode *cs = &s->nodes[cp];
        cs->ctx.fuse_gate_x = &s->rv[mn->inputs[xi]->id].t;
        cs->ctx.fuse_gate = &s->rv[mn->inputs[1 - xi]->id].t;
        cs->ctx.blocked_modes = 0;
        s->nodes[i].fused = true;
        s->nodes[i].fuse_head = cp;
    }
}

/* Input j of BatchNormalization node nd as plan-time float data of ch values, or NULL. */
static const float *oc_bn_param(const onnxc_session *s, const oc_node *nd, int j, int64_t ch)
{
    if (j >= nd->n_inputs || !nd->inputs[j])
        return NULL;
    const oc_rvalue *r = &s->rv[nd->inputs[j]->id];
    int64_t n = 0;
    if (!r->known || r->t.dtype != ONNXC_FLOAT || !r->t.data || r->t.rank != 1 ||
        !oc_numel(r->t.dims, r->t.rank, &n) || n != ch)
        return NULL;
    return r->t.data;
}

/* DenseNet's BatchNormalization + Relu in front of each 1 x 1 Conv: an inference BatchNormalization with
 * plan-time float parameters (its kernel accepts an epilogue: float, spatial, not training), with at most a
 * fused Relu or Clip, whose value only a pointwise Conv (kctx.accepts_gate, no gate taken) reads through its
 * input 0, is applied by that Conv as it fills its GEMM blocks (kctx.fuse_bn_ab): one pass over the
 * concatenated input instead of two. The folded affine is nm_bn_run's (norm.c), in the same float
 * operations, so the bits are the unfused plan's; the memory plan keeps x alive to the Conv (memplan.c). */
static void oc_plan_fuse_bn(onnxc_session *s)
{
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *bn = s->order[i];
        oc_snode *bs = &s->nodes[i];
        if (bs->folded || bs->fused || bs->dynamic || bs->half || !oc_node_is_op(bn, "BatchNormalization") ||
            !bs->ctx.accepts_epilogue || bs->ctx.fuse_res || bs->ctx.fuse_act != OC_ACT_NONE || bn->n_inputs != 5 ||
            !bn->inputs[0] || bn->n_outputs < 1 || !bn->outputs[0] || !bs->out[0])
            continue;
        bool extra = false;
        for (int k = 1; k < bn->n_outputs; k++)
            extra = extra || (bn->outputs[k] && bn->outputs[k]->n_uses > 0);
        const oc_rvalue *rx = &s->rv[bn->inputs[0]->id];
        if (extra || rx->dynamic || rx->t.dtype != ONNXC_FLOAT || rx->t.rank != 4)
            continue;
        /* the chain's last value: Y, or the fused Relu / Clip's output */
        const oc_value *v = bn->outputs[0];
        if (&s->rv[v->id].t != bs->out[0]) {
            if (v->n_uses != 1 || !v->uses[0].node->outputs || v->uses[0].node->n_outputs < 1)
                continue;
            v = v->uses[0].node->outputs[0];
            if (!v || &s->rv[v->id].t != bs->out[0])
                continue;
        }
        if (!oc_private(s, v, 1) || v->uses[0].slot != 0 || s->rv[v->id].dynamic ||
            !oc_same_shape(&s->rv[v->id].t, &rx->t))
            continue;
        const oc_node *cn = v->uses[0].node;
        const int cp = oc_plan_pos(s, cn);
        if (cp <= i || s->nodes[cp].folded || s->nodes[cp].fused || s->nodes[cp].dynamic ||
            !s->nodes[cp].ctx.accepts_gate || s->nodes[cp].ctx.fuse_gate_x)
            continue;
        bool dup = false; /* the value read twice by the Conv (as weights too) */
        for (int j = 1; j < cn->n_inputs; j++)
            dup = dup || cn->inputs[j] == v;
        const int64_t ch = rx->t.dims[1];
        const float *sc = oc_bn_param(s, bn, 1, ch), *bb = oc_bn_param(s, bn, 2, ch),
                    *mean = oc_bn_param(s, bn, 3, ch), *var = oc_bn_param(s, bn, 4, ch);
        if (dup || !sc || !bb || !mean || !var)
            continue;
        float *ab = oc_malloc((size_t)(2 * ch) * sizeof *ab);
        if (!ab)
            continue; /* no memory: the nodes run unfused */
        const double eps = oc_attr_float(bn, "epsilon", 1e-5f);
        for (int64_t c = 0; c < ch; c++) { /* nm_bn_run's folded affine, rounded to float as nm_bn_plane_f32 */
            const double inv = 1.0 / sqrt((double)var[c] + eps);
            const double a = (double)sc[c] * inv;
            ab[c] = (float)a;
            ab[ch + c] = (float)((double)bb[c] - (double)mean[c] * a);
        }
        oc_snode *cs = &s->nodes[cp];
        cs->ctx.fuse_gate_x = &rx->t;
        cs->ctx.fuse_gate = NULL;
        cs->ctx.fuse_bn_ab = ab;
        cs->ctx.fuse_bn_clamp = bs->ctx.fuse_clamp;
        cs->ctx.fuse_bn_lo = bs->ctx.fuse_lo;
        cs->ctx.fuse_bn_hi = bs->ctx.fuse_hi;
        cs->ctx.blocked_modes = 0;
        bs->fused = true;
        bs->fuse_head = cp;
    }
}

/* May value id be stored blocked (NCHW8c)? A 4-D float run-time value with whole blocks of 8 channels that no
 * one outside the kernels sees: not a graph output, not read at plan time. */
static bool oc_blockable(const onnxc_session *s, int id)
{
    const oc_rvalue *r = &s->rv[id];
    return r->t.dtype == ONNXC_FLOAT && r->t.rank == 4 && r->t.dims[1] > 0 && r->t.dims[1] % 8 == 0 &&
           !r->known && !r->is_input && !r->needed && !r->is_output && !r->dynamic;
}

/* Node position that reads value id through its input 0 only, running in a mode of `modes`, or -1. */
static int oc_blocked_reader(const onnxc_session *s, const oc_use *u, uint8_t modes)
{
    const oc_node *cn = u->node;
    const int cp = oc_plan_pos(s, cn);
    if (cp < 0 || u->slot != 0 || s->nodes[cp].folded || s->nodes[cp].fused || s->nodes[cp].dynamic ||
        !(s->nodes[cp].ctx.blocked_modes & modes))
        return -1;
    for (int j = 1; j < cn->n_inputs; j++)
        if (cn->inputs[j] == cn->inputs[0])
            return -1;
    return cp;
}

/* Does the node's fused epilogue depend on the channel (a PRelu slope per channel)? Such an output stays NCHW. */
static bool oc_by_channel(const oc_snode *n)
{
    return n->ctx.fuse_act == OC_ACT_PRELU && n->ctx.fuse_slope_n > 1;
}

/* Blocked layout between kernels that can use it (see oc_kctx): for a node that runs blocked in and out (a
 * depthwise convolution), its input is stored blocked when its one writer can write it so (a pointwise
 * convolution, with Relu/Clip fused), and its output when every reader can read it so. Values outside the
 * kernels (graph outputs, per-node hooks: plain plans) stay NCHW. */
void oc_plan_blocked(onnxc_session *s)
{
    const oc_graph *g = s->g;
    int *writer = oc_calloc((size_t)s->n_rv + 1, sizeof *writer);
    if (!writer)
        return; /* an optimisation: without memory for it, plan plainly */
    for (int i = 0; i < s->n_rv; i++)
        writer[i] = -1;
    for (int i = 0; i < s->n_order; i++) /* the node that writes each value: a fused chain's head writes its last */
        if (!s->nodes[i].folded && !s->nodes[i].fused && s->nodes[i].out && s->nodes[i].out[0])
            writer[oc_rv_of(s->nodes[i].out[0]) - s->rv] = i;
    for (int d = 0; d < s->n_order; d++) {
        oc_snode *dn = &s->nodes[d];
        const oc_node *nd = s->order[d];
        if (dn->folded || dn->fused || !(dn->ctx.blocked_modes & OC_BLK_BOTH) || dn->ctx.fuse_res || oc_by_channel(dn) ||
            nd->n_inputs < 1 || !nd->inputs[0] || !dn->out[0])
            continue;
        const oc_value *a = nd->inputs[0];
        const int ida = a->id, idd = (int)(oc_rv_of(dn->out[0]) - s->rv);
        const int w = writer[ida];
        if (w < 0 || !oc_blockable(s, ida) || !oc_blockable(s, idd) || a->n_uses != 1 ||
            !(s->nodes[w].ctx.blocked_modes & OC_BLK_OUT) || s->nodes[w].ctx.fuse_res || s->nodes[w].ctx.in_blocked ||
            oc_by_channel(&s->nodes[w]))
            continue;
        const oc_value *dv = g->values[idd];
        bool ok = dv->n_uses > 0;
        for (int u = 0; ok && u < dv->n_uses; u++) {
            const int r = oc_blocked_reader(s, &dv->uses[u], OC_BLK_IN);
            ok = r >= 0 && !s->nodes[r].ctx.out_blocked;
        }
        if (!ok || oc_blocked_reader(s, &a->uses[0], OC_BLK_BOTH) != d)
            continue;
        s->nodes[w].ctx.out_blocked = true;
        dn->ctx.in_blocked = dn->ctx.out_blocked = true;
        for (int u = 0; u < dv->n_uses; u++)
            s->nodes[oc_blocked_reader(s, &dv->uses[u], OC_BLK_IN)].ctx.in_blocked = true;
    }
    oc_free(writer);
}

/* Ops whose output is their first input's bytes under another shape. */
static bool oc_alias_op(const oc_node *nd)
{
    if (oc_node_is_op(nd, "Reshape") || oc_node_is_op(nd, "Flatten") || oc_node_is_op(nd, "Squeeze") ||
        oc_node_is_op(nd, "Unsqueeze") || oc_node_is_op(nd, "Identity"))
        return true;
    /* inference Dropout: no training_mode input, no mask output */
    return oc_node_is_op(nd, "Dropout") && nd->n_inputs <= 2 && (nd->n_outputs < 2 || !nd->outputs[1]);
}

/* Let a Reshape-like node's output share its input's memory: its run would only copy. The shared buffer
 * lives as long as the longest-lived of them. Graph outputs keep their own memory. */
void oc_plan_alias(onnxc_session *s)
{
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        oc_snode *sn = &s->nodes[i];
        if (sn->folded || sn->fused || sn->dynamic || !oc_alias_op(nd) || nd->n_inputs < 1 || !nd->inputs[0] ||
            nd->n_outputs < 1 || !nd->outputs[0])
            continue;
        oc_rvalue *ro = &s->rv[nd->outputs[0]->id];
        int root = nd->inputs[0]->id;
        while (s->rv[root].alias >= 0)
            root = s->rv[root].alias;
        oc_rvalue *ri = &s->rv[root];
        if (ri->known || ri->is_input || ri->dynamic || ro->dynamic || ri->first < 0 || ro->first != i || ro->is_output ||
            ri->t.dtype != ro->t.dtype || ri->t.nbytes != ro->t.nbytes || ri->t.dtype == ONNXC_STRING)
            continue;
        ro->alias = root;
        if (ro->last > ri->last)
            ri->last = ro->last;
        sn->aliased = true;
    }
}
