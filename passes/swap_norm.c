/* swap-norm: replace BatchNormalization by a per-sample normalizer (group, instance or layer norm) so a pretrained
 * model can be fine-tuned with tiny batches. Changes outputs on purpose: the running statistics are dropped. */
#include <float.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "bn_match.h"
#include "dtype.h"
#include "opset_raise.h"
#include "pass.h"

/* GroupNormalization-21 (per-channel scale and bias, like PyTorch's nn.GroupNorm) is the op form; it needs the
 * default opset at 21. GroupNormalization-18's per-group scale and bias mean something else and are never
 * emitted. */
#define OP_FORM_OPSET 21
/* The decomposition needs Reshape with a shape input (opset 5) and InstanceNormalization-6. */
#define DECOMPOSED_MIN_OPSET 6

typedef struct swap_item {
    oc_node *bn;
    int64_t C, G;
    int rank;      /* rank of X, -1 when unknown */
    int32_t dt;    /* element type of X */
} swap_item;

/* Constants the decompositions share (one [0, G, -1] shape, one ones[G] and one zeros[G] per group count). */
typedef struct shared_const {
    char kind;     /* 's' shape [0, n, -1], '1' ones[n], '0' zeros[n] */
    int64_t n;
    int32_t dt;
    oc_value *v;
} shared_const;

typedef struct swap_run {
    oc_graph *g;
    bool op_form;
    shared_const cache[64];
    int n_cache;
    oc_node *inserted[16]; /* nodes made for the current BN, removed again if its swap fails */
    int n_inserted;
} swap_run;

static bool is_float_type(int32_t dt)
{
    return dt == ONNXC_FLOAT || dt == ONNXC_DOUBLE || dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16;
}

static bool matches(const regex_t *re, const oc_node *bn)
{
    return (bn->name && regexec(re, bn->name, 0, NULL, 0) == 0) ||
           (bn->outputs[0] && regexec(re, bn->outputs[0]->name, 0, NULL, 0) == 0);
}

static int64_t largest_divisor_at_most(int64_t c, int64_t g)
{
    for (int64_t d = g < c ? g : c; d > 1; d--)
        if (c % d == 0)
            return d;
    return 1;
}

/* BatchNormalization nodes inside subgraphs: reported, not swapped. */
static void report_nested(oc_pass_ctx *ctx, const oc_graph *g, const oc_node *owner, int *count)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        if (owner && oc_is_batchnorm(n)) {
            char lbl[200];
            (*count)++;
            oc_report_skipped(ctx, n, "not swapped: it sits in a subgraph of %s; only the main graph is rewritten",
                              oc_node_label(owner, lbl, sizeof lbl));
        }
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            for (size_t k = 0; k < 1 + at->n_graphs; k++) {
                const oc_graph *sg = k == 0 ? at->g : at->graphs[k - 1];
                if (sg)
                    report_nested(ctx, sg, owner ? owner : n, count);
            }
        }
    }
}

/* Rank of a value: what oc_value_rank finds, else through the ops between a Linear layer and its BatchNorm1d
 * that oc_value_rank does not follow: MatMul (numpy-style: the larger operand rank when both are at least 2,
 * one less when one is a vector), Transpose and Cast (the input's), elementwise binary ops (the larger). */
static int value_rank(const oc_value *v, int depth)
{
    int r = oc_value_rank(v);
    const oc_node *p = v ? v->producer : NULL;
    if (r >= 0 || !p || depth > 64 || !oc_domain_is_default(p->domain) || p->n_inputs < 1 || !p->inputs[0])
        return r;
    const char *op = p->op_type;
    if (!strcmp(op, "Transpose") || !strcmp(op, "Cast") || !strcmp(op, "Relu") || !strcmp(op, "Identity"))
        return value_rank(p->inputs[0], depth + 1);
    static const char *const binary[] = {"MatMul", "Add", "Sub", "Mul", "Div", NULL};
    int k = 0;
    while (binary[k] && strcmp(op, binary[k]))
        k++;
    if (!binary[k] || p->n_inputs < 2 || !p->inputs[1])
        return -1;
    int ra = value_rank(p->inputs[0], depth + 1), rb = value_rank(p->inputs[1], depth + 1);
    if (ra < 0 || rb < 0)
        return -1;
    if (k == 0 && (ra == 1 || rb == 1))
        return (ra > rb ? ra : rb) - 1;
    return ra > rb ? ra : rb;
}

/* The swap's own conditions. Unlike folding, the running mean and variance do not matter (they are dropped),
 * and a training-mode BN can be swapped as long as its running-statistics outputs are unused. */
static bool swap_ok(const oc_node *bn, bool op_form, swap_item *it, char *why, size_t cap)
{
    if (bn->n_inputs < 3 || !bn->inputs[0] || !bn->inputs[1] || !bn->inputs[2]) {
        snprintf(why, cap, "scale or B input is missing");
        return false;
    }
    /* BatchNormalization before opset 9: spatial=0 normalizes every activation separately */
    if (oc_attr_int(bn, "spatial", 1) == 0) {
        snprintf(why, cap, "spatial is 0 (per-activation statistics), which has no per-channel counterpart");
        return false;
    }
    for (int i = 1; i < bn->n_outputs; i++) {
        const oc_value *o = bn->outputs[i];
        if (o && (o->n_uses > 0 || (o->flags & OC_V_OUTPUT))) {
            snprintf(why, cap, "its running-statistics output '%s' is used", o->name);
            return false;
        }
    }
    const oc_tensor *p[2] = {oc_value_constant(bn->inputs[1]), oc_value_constant(bn->inputs[2])};
    static const char *const names[2] = {"scale", "B"};
    for (int i = 0; i < 2; i++) {
        const oc_value *v = bn->inputs[1 + i];
        if (!p[i]) {
            snprintf(why, cap, "%s '%s' is not a constant (a graph input or a computed value)", names[i], v->name);
            return false;
        }
        if (!is_float_type(p[i]->t.dtype) || p[i]->t.rank != 1 || p[i]->t.dims[0] < 1) {
            snprintf(why, cap, "%s '%s' is not a non-empty float vector", names[i], v->name);
            return false;
        }
    }
    if (p[0]->t.dims[0] != p[1]->t.dims[0]) {
        snprintf(why, cap, "scale has %lld elements, B %lld", (long long)p[0]->t.dims[0],
                 (long long)p[1]->t.dims[0]);
        return false;
    }
    it->C = p[0]->t.dims[0];
    it->rank = value_rank(bn->inputs[0], 0);
    const oc_type *xt = oc_value_type(bn->inputs[0]);
    if (xt && xt->kind == OC_TYPE_TENSOR && xt->rank >= 2 && xt->dims[1].has_value && xt->dims[1].value != it->C) {
        snprintf(why, cap, "input '%s' has %lld channels, scale has %lld", bn->inputs[0]->name,
                 (long long)xt->dims[1].value, (long long)it->C);
        return false;
    }
    if (it->rank >= 0 && it->rank < 2) {
        snprintf(why, cap, "input '%s' has rank %d; N x C x ... expected", bn->inputs[0]->name, it->rank);
        return false;
    }
    /* BatchNormalization-15 lets scale/B have another float type than X: the new parameters take X's */
    it->dt = oc_value_elem_type(bn->inputs[0]);
    if (!it->dt)
        it->dt = p[0]->t.dtype;
    if (!is_float_type(it->dt)) {
        snprintf(why, cap, "input '%s' has type %s", bn->inputs[0]->name, onnxc_dtype_name(it->dt));
        return false;
    }
    /* the new scale and bias are stored in X's type (float32 for the decomposition of 16-bit inputs) */
    int32_t store = op_form || (it->dt != ONNXC_FLOAT16 && it->dt != ONNXC_BFLOAT16) ? it->dt : ONNXC_FLOAT;
    double limit = store == ONNXC_FLOAT16 ? 65504.0 : store == ONNXC_FLOAT || store == ONNXC_BFLOAT16 ? FLT_MAX
                                                                                                     : DBL_MAX;
    for (int i = 0; i < 2; i++) {
        const onnxc_tensor *t = &p[i]->t;
        for (int64_t k = 0; k < t->dims[0]; k++) {
            double v = oc_get_f64(t, k);
            if (!(fabs(v) <= limit)) {
                snprintf(why, cap, "%s[%lld] = %g does not fit %s", names[i], (long long)k, v,
                         onnxc_dtype_name(store));
                return false;
            }
        }
    }
    return true;
}

/* True when X holds one value per channel and sample: rank 2 ([N, C]), or every declared spatial dim is 1. */
static bool one_value_per_channel(const oc_value *x, int rank)
{
    if (rank == 2)
        return true;
    const oc_type *t = oc_value_type(x);
    if (!t || t->kind != OC_TYPE_TENSOR || t->rank < 3)
        return false;
    for (int i = 2; i < t->rank; i++)
        if (!t->dims[i].has_value || t->dims[i].value != 1)
            return false;
    return true;
}

static oc_value *add_tensor(oc_graph *g, const char *name, oc_tensor *t)
{
    oc_value *v = t ? oc_graph_add_initializer(g, name, t) : NULL;
    if (!v)
        oc_tensor_free(t);
    return v;
}

static oc_value *add_f64(oc_graph *g, const char *name, int32_t dt, int rank, const int64_t *dims,
                         const double *vals, char *why, size_t cap)
{
    return add_tensor(g, name, oc_tensor_from_f64(dt, rank, dims, vals, why, cap));
}

static oc_value *add_i64(oc_graph *g, const char *name, int n, const int64_t *vals)
{
    int64_t d = n;
    return oc_add_const(g, name, ONNXC_INT64, 1, &d, vals);
}

/* A shared constant of the decomposition: the shape [0, n, -1], ones[n] or zeros[n]. */
static oc_value *shared(swap_run *sr, char kind, int64_t n, int32_t dt, char *why, size_t cap)
{
    for (int i = 0; i < sr->n_cache; i++)
        if (sr->cache[i].kind == kind && sr->cache[i].n == n && sr->cache[i].dt == dt)
            return sr->cache[i].v;
    char nm[96];
    oc_value *v = NULL;
    if (kind == 's') {
        const int64_t shape[3] = {0, n, -1};
        snprintf(nm, sizeof nm, "swap_norm_shape_0_%lld_-1", (long long)n);
        v = add_i64(sr->g, nm, 3, shape);
    } else {
        double *vals = oc_malloc((size_t)n * sizeof *vals);
        if (!vals)
            return NULL;
        for (int64_t i = 0; i < n; i++)
            vals[i] = kind == '1' ? 1.0 : 0.0;
        snprintf(nm, sizeof nm, "swap_norm_%s_%lld", kind == '1' ? "ones" : "zeros", (long long)n);
        v = add_f64(sr->g, nm, dt, 1, &n, vals, why, cap);
        oc_free(vals);
    }
    if (v && sr->n_cache < (int)(sizeof sr->cache / sizeof sr->cache[0]))
        sr->cache[sr->n_cache++] = (shared_const){kind, n, dt, v};
    return v;
}

static const char *base_name(const oc_node *bn)
{
    return bn->name && *bn->name ? bn->name : bn->outputs[0]->name;
}

/* Insert before the BN a node op(a, b, c) writing a new value "<base>_<sfx>"; sfx NULL marks the last node of
 * the replacement, which takes the BN's own name (and later its output). *out (may be NULL) gets the node. */
static oc_value *emit(swap_run *sr, oc_node *bn, const char *op, const char *sfx, oc_value *a, oc_value *b,
                      oc_value *c, oc_node **out)
{
    char nm[400];
    snprintf(nm, sizeof nm, "%s_%s", base_name(bn), sfx ? sfx : "out");
    oc_node *n = oc_graph_insert_node(sr->g, bn, op, NULL, sfx ? nm : bn->name);
    if (!n)
        return NULL;
    if (sr->n_inserted < (int)(sizeof sr->inserted / sizeof sr->inserted[0]))
        sr->inserted[sr->n_inserted++] = n;
    oc_value *o = oc_graph_new_value(sr->g, nm);
    oc_value *ins[3] = {a, b, c};
    for (int i = 0; o && i < 3 && ins[i]; i++)
        if (oc_node_set_input(n, i, ins[i]) != ONNXC_OK)
            o = NULL;
    if (!o || oc_node_set_output(n, 0, o) != ONNXC_OK)
        return NULL;
    if (out)
        *out = n;
    return o;
}

/* Build the replacement for one BN, attributes included, up to its last node (*last); the BN itself is left in
 * place. False with why set when something fails. */
static bool swap_build(swap_run *sr, const swap_item *it, oc_node **last, char *why, size_t cap)
{
    oc_node *bn = it->bn;
    oc_graph *g = sr->g;
    const int64_t C = it->C, G = it->G;
    const char *base = base_name(bn);
    oc_value *x = bn->inputs[0];
    float eps = oc_attr_float(bn, "epsilon", 1e-5f);
    double *gv = oc_malloc((size_t)C * sizeof *gv), *bv = oc_malloc((size_t)C * sizeof *bv);
    bool ok = false;
    char nm[400];
    if (!gv || !bv || !oc_tensor_to_f64(oc_value_constant(bn->inputs[1]), gv) ||
        !oc_tensor_to_f64(oc_value_constant(bn->inputs[2]), bv)) {
        snprintf(why, cap, gv && bv ? "scale or B is not a float vector" : "out of memory");
        goto out;
    }
    if (sr->op_form) {
        /* GroupNormalization-21: scale and bias per channel, computed in float32 at least (stash_type 1) */
        snprintf(nm, sizeof nm, "%s_gn_scale", base);
        oc_value *sc = add_f64(g, nm, it->dt, 1, &C, gv, why, cap);
        snprintf(nm, sizeof nm, "%s_gn_bias", base);
        oc_value *bi = sc ? add_f64(g, nm, it->dt, 1, &C, bv, why, cap) : NULL;
        ok = bi && emit(sr, bn, "GroupNormalization", NULL, x, sc, bi, last) &&
             oc_node_set_attr_int(*last, "num_groups", G) == ONNXC_OK &&
             oc_node_set_attr_float(*last, "epsilon", eps) == ONNXC_OK;
        goto out;
    }
    /* Reshape [0, G, -1] -> InstanceNormalization(ones[G], zeros[G]) -> Reshape(Shape(x)) -> Mul gamma[C,1..]
     * -> Add beta[C,1..]: what PyTorch's exporter writes for nn.GroupNorm; valid from opset 6, and it keeps a
     * dynamic batch (0 copies N). With an unknown rank the affine step runs on [N, C, -1] before the reshape
     * back. float16/bfloat16 inputs are normalized in float32 (the Casts), as GroupNormalization-21's stash_type
     * does: half-precision instance norm overflows on large reductions. */
    bool half = it->dt == ONNXC_FLOAT16 || it->dt == ONNXC_BFLOAT16;
    int32_t ct = half ? ONNXC_FLOAT : it->dt;
    int prank = it->rank >= 2 ? it->rank - 1 : 2;
    int64_t cdims[ONNXC_MAX_RANK];
    cdims[0] = C;
    for (int i = 1; i < prank; i++)
        cdims[i] = 1;
    oc_value *shape_g = shared(sr, 's', G, ONNXC_INT64, why, cap);
    oc_value *ones = shape_g ? shared(sr, '1', G, ct, why, cap) : NULL;
    oc_value *zeros = ones ? shared(sr, '0', G, ct, why, cap) : NULL;
    oc_value *shape_c = NULL; /* [0, C, -1], only for an unknown rank */
    if (zeros && it->rank < 0 && !(shape_c = shared(sr, 's', C, ONNXC_INT64, why, cap)))
        goto out;
    snprintf(nm, sizeof nm, "%s_gamma", base);
    oc_value *gm = zeros ? add_f64(g, nm, ct, prank, cdims, gv, why, cap) : NULL;
    snprintf(nm, sizeof nm, "%s_beta", base);
    oc_value *bt = gm ? add_f64(g, nm, ct, prank, cdims, bv, why, cap) : NULL;
    if (!bt)
        goto out;
    oc_node *cast_in = NULL, *norm = NULL;
    oc_value *xin = x, *v;
    if (half && (!(xin = emit(sr, bn, "Cast", "to_float", x, NULL, NULL, &cast_in)) ||
                 oc_node_set_attr_int(cast_in, "to", ONNXC_FLOAT) != ONNXC_OK))
        goto out;
    oc_value *s = emit(sr, bn, "Shape", "shape", x, NULL, NULL, NULL);
    v = s ? emit(sr, bn, "Reshape", "group", xin, shape_g, NULL, NULL) : NULL;
    v = v ? emit(sr, bn, "InstanceNormalization", "norm", v, ones, zeros, &norm) : NULL;
    if (!v || oc_node_set_attr_float(norm, "epsilon", eps) != ONNXC_OK)
        goto out;
    if (it->rank >= 0) {
        v = emit(sr, bn, "Reshape", "ungroup", v, s, NULL, NULL);
        v = v ? emit(sr, bn, "Mul", "scale", v, gm, NULL, NULL) : NULL;
        v = v ? emit(sr, bn, "Add", half ? "shift" : NULL, v, bt, NULL, last) : NULL;
    } else {
        v = emit(sr, bn, "Reshape", "channels", v, shape_c, NULL, NULL);
        v = v ? emit(sr, bn, "Mul", "scale", v, gm, NULL, NULL) : NULL;
        v = v ? emit(sr, bn, "Add", "shift", v, bt, NULL, NULL) : NULL;
        v = v ? emit(sr, bn, "Reshape", half ? "ungroup" : NULL, v, s, NULL, last) : NULL;
    }
    if (v && half && (!emit(sr, bn, "Cast", NULL, v, NULL, NULL, last) ||
                      oc_node_set_attr_int(*last, "to", it->dt) != ONNXC_OK))
        v = NULL;
    ok = v != NULL;
out:
    if (!ok && !*why)
        snprintf(why, cap, "out of memory");
    oc_free(gv);
    oc_free(bv);
    return ok;
}

/* Replace one BN; false with why set when it cannot. The constants come first and their values were checked
 * to fit when planning; the nodes made before a failure (out of memory) are removed again, leaving at most
 * unused initializers and the BN in place. Only a complete replacement takes over the BN's output. */
static bool swap_one(swap_run *sr, const swap_item *it, char *why, size_t cap)
{
    oc_node *last = NULL, *bn = it->bn;
    oc_value *y = bn->outputs[0];
    sr->n_inserted = 0;
    if (!swap_build(sr, it, &last, why, cap)) {
        for (int i = 0; i < sr->n_inserted; i++)
            if (!sr->inserted[i]->dead)
                oc_remove_node(sr->inserted[i]);
        return false;
    }
    /* last's output slot exists, so this cannot fail: y passes from the BN to it (the value last wrote so far
     * is left without producer or use, and the compaction frees it) */
    oc_remove_node(bn);
    oc_node_set_output(last, 0, y);
    return true;
}

/* The BN's old parameters (scale, B, mean, var) once nobody reads them: initializers and Constant nodes go. */
static int64_t drop_orphans(oc_graph *g, oc_value *const *params, int n)
{
    int64_t dropped = 0;
    bool ir3 = g->model && g->model->has_ir_version && g->model->ir_version <= 3;
    for (int i = 0; i < n; i++) {
        oc_value *v = params[i];
        if (!v || v->n_uses > 0 || (v->flags & OC_V_OUTPUT) || oc_name_in_subgraphs(g, v->name))
            continue;
        if (v->init) {
            /* IR >= 4: an initializer listed as an input is the user's to override; keep it */
            if ((v->flags & OC_V_INPUT) && !ir3)
                continue;
            for (int k = 0; k < g->n_inputs; k++)
                if (g->inputs[k].value == v) {
                    oc_type_clear(&g->inputs[k].type);
                    oc_free(g->inputs[k].doc_string);
                    memmove(&g->inputs[k], &g->inputs[k + 1], (size_t)(g->n_inputs - k - 1) * sizeof *g->inputs);
                    g->n_inputs--;
                    k--;
                }
            /* out of the initializer list now: a later failure of the pass skips the compaction that would */
            for (int k = 0; k < g->n_initializers; k++)
                if (g->initializers[k] == v) {
                    memmove(&g->initializers[k], &g->initializers[k + 1],
                            (size_t)(g->n_initializers - k - 1) * sizeof *g->initializers);
                    g->n_initializers--;
                    break;
                }
            v->flags &= ~(unsigned)(OC_V_INPUT | OC_V_INITIALIZER);
            dropped += onnxc_tensor_numel(&v->init->t);
            oc_tensor_free(v->init);
            v->init = NULL;
        } else if (v->producer && !strcmp(v->producer->op_type, "Constant") && v->producer->n_outputs == 1 &&
                   oc_domain_is_default(v->producer->domain)) {
            const oc_tensor *c = oc_value_constant(v);
            dropped += c ? onnxc_tensor_numel(&c->t) : 0;
            oc_remove_node(v->producer);
        }
    }
    return dropped;
}

static bool planned(const oc_node *n, void *arg)
{
    const swap_item *items = arg;
    for (int i = 0; items[i].bn; i++)
        if (items[i].bn == n)
            return true;
    return false;
}

/* The options; their table is at the end of the file, with the descriptor. */
enum { SN_TO, SN_GROUPS, SN_STRICT, SN_FORM, SN_ONLY, SN_EXCLUDE, SN_N_OPTIONS };
enum { TO_GROUP, TO_INSTANCE, TO_LAYER };
enum { FORM_AUTO, FORM_OP, FORM_DECOMPOSED };

static const char *kind_text(int to)
{
    return to == TO_INSTANCE ? "instance norm" : to == TO_LAYER ? "layer norm" : "group norm";
}

static onnxc_status swap_norm_run(oc_graph *g, oc_pass_ctx *ctx)
{
    int to = oc_pass_opt(ctx, SN_TO)->e, form = oc_pass_opt(ctx, SN_FORM)->e;
    int64_t groups = oc_pass_opt(ctx, SN_GROUPS)->i;
    bool strict = oc_pass_opt(ctx, SN_STRICT)->b;
    /* the patterns were compiled when set */
    const oc_opt_value *only = oc_pass_opt(ctx, SN_ONLY), *excl = oc_pass_opt(ctx, SN_EXCLUDE);
    bool has_only = only->re != NULL, has_excl = excl->re != NULL;
    int64_t opset = oc_model_opset(g->model, NULL);
    swap_run sr = {.g = g};
    sr.op_form = form == FORM_OP || (form == FORM_AUTO && opset >= OP_FORM_OPSET);

    int n_bn = 0, n_nested = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_bn += oc_is_batchnorm(g->nodes[i]);
    report_nested(ctx, g, NULL, &n_nested);
    onnxc_status st = ONNXC_OK;
    swap_item *items = NULL;
    int n_items = 0, n_selected = 0;
    if (n_bn == 0) {
        oc_report_warning(ctx, NULL, "the model has no BatchNormalization%s: nothing to swap",
                          n_nested ? " in its main graph" : "");
        goto out;
    }
    if (opset <= 0) {
        st = oc_err(ONNXC_E_INVALID, "swap-norm: the model has BatchNormalization nodes but imports no default-domain "
                    "opset");
        goto out;
    }
    if (!sr.op_form && opset < DECOMPOSED_MIN_OPSET) {
        st = oc_err(ONNXC_E_UNSUPPORTED, "swap-norm: the decomposed form needs opset %d (Reshape with a shape "
                    "input, InstanceNormalization-6); this model has opset %lld: convert it with "
                    "onnx.version_converter first", DECOMPOSED_MIN_OPSET, (long long)opset);
        goto out;
    }

    /* plan every swap before touching the graph, so --strict and the opset check fail with the model intact */
    items = oc_calloc((size_t)n_bn + 1, sizeof *items);
    if (!items) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        oc_node *bn = g->nodes[i];
        if (!oc_is_batchnorm(bn))
            continue;
        if (has_only && !matches(only->re, bn)) {
            oc_report_skipped(ctx, bn, "not selected: neither its name nor its output matches --only '%s'",
                              only->text);
            continue;
        }
        if (has_excl && matches(excl->re, bn)) {
            oc_report_skipped(ctx, bn, "not selected: excluded by --exclude '%s'", excl->text);
            continue;
        }
        n_selected++;
        char why[400] = "";
        swap_item it = {.bn = bn};
        if (!swap_ok(bn, sr.op_form, &it, why, sizeof why)) {
            oc_report_skipped(ctx, bn, "not swapped: %s", why);
            continue;
        }
        int64_t want = to == TO_INSTANCE ? it.C : to == TO_LAYER ? 1 : groups;
        it.G = want;
        if (it.C % want != 0) {
            char lbl[200];
            it.G = largest_divisor_at_most(it.C, want);
            if (strict) {
                st = oc_err(ONNXC_E_INVALID, "swap-norm: node %s has %lld channels, %s %lld groups (--strict; "
                            "without it %lld groups would be used)", oc_node_label(bn, lbl, sizeof lbl),
                            (long long)it.C, it.C < want ? "fewer than" : "which do not divide into",
                            (long long)want, (long long)it.G);
                goto out;
            }
            oc_report_warning(ctx, bn, "%lld channels %s %lld groups: using %lld group%s (the largest divisor of "
                              "%lld not above %lld)%s", (long long)it.C,
                              it.C < want ? "are fewer than" : "do not divide into", (long long)want,
                              (long long)it.G, it.G == 1 ? "" : "s", (long long)it.C, (long long)want,
                              it.G == it.C ? ", i.e. one channel per group (instance norm)"
                              : it.G == 1 ? ", i.e. layer norm" : "");
        }
        if (it.C / it.G == 1 && one_value_per_channel(bn->inputs[0], it.rank))
            oc_report_warning(ctx, bn, "each of its %lld groups holds a single value per sample (one channel, no "
                              "spatial extent): the normalized value is always 0, so the output is the constant B "
                              "whatever the input; consider fewer groups or --to layer", (long long)it.G);
        items[n_items++] = it;
    }
    if (n_selected == 0) {
        oc_report_warning(ctx, NULL, "no BatchNormalization matched %s%s%s (%d in the model)",
                          has_only ? "--only" : "", has_only && has_excl ? "/" : "", has_excl ? "--exclude" : "",
                          n_bn);
        goto out;
    }
    if (n_items == 0)
        goto out;
    if (sr.op_form && opset < OP_FORM_OPSET) {
        char why[600];
        if (!oc_opset_raise_check(g->model, OP_FORM_OPSET, planned, items, why, sizeof why)) {
            st = oc_err(ONNXC_E_UNSUPPORTED, "swap-norm: --form op needs opset %d, and this model's opset %lld "
                        "cannot be raised: %s; use --form decomposed", OP_FORM_OPSET, (long long)opset, why);
            goto out;
        }
    }

    int n_swapped = 0;
    int64_t dropped = 0;
    for (int k = 0; k < n_items; k++) {
        swap_item *it = &items[k];
        if (!oc_pass_may_rewrite(ctx))
            break;
        oc_node *bn = it->bn;
        char why[400] = "";
        bool training = oc_attr_int(bn, "training_mode", 0) != 0;
        oc_value *params[4] = {0};
        for (int p = 1; p < 5 && p < bn->n_inputs; p++)
            params[p - 1] = bn->inputs[p];
        if (!swap_one(&sr, it, why, sizeof why)) {
            /* the values were checked to fit when planning: what is left is running out of memory */
            char lbl[200];
            st = oc_err(ONNXC_E_NOMEM, "swap-norm: cannot swap %s: %s", oc_node_label(bn, lbl, sizeof lbl), why);
            goto out;
        }
        n_swapped++;
        dropped += drop_orphans(g, params, 4);
        char shape[160];
        if (it->G == 1)
            snprintf(shape, sizeof shape, "1 group: statistics over C and the spatial dims per sample");
        else
            snprintf(shape, sizeof shape, "%lld groups of %lld channel%s", (long long)it->G,
                     (long long)(it->C / it->G), it->C / it->G == 1 ? "" : "s");
        /* bn is detached and marked dead, but lives until the pipeline compacts the graph: its label is fine */
        oc_report_changed(ctx, bn, "swapped to %s (%s, %s); scale/bias = gamma/beta, epsilon %g kept%s",
                          sr.op_form ? "GroupNormalization-21" : "Reshape/InstanceNormalization/Reshape/Mul/Add",
                          kind_text(to), shape, (double)oc_attr_float(bn, "epsilon", 1e-5f),
                          training ? "; it ran in training mode (batch statistics), now per-sample statistics" : "");
        oc_report_detail(ctx, "groups", it->G);
        oc_report_detail(ctx, "channels", it->C);
    }
    if (n_swapped)
        oc_report_warning(ctx, NULL, "running mean and variance of %d swapped layer%s dropped: the outputs "
                          "change, fine-tune before use (%lld old parameter values nothing else reads removed)",
                          n_swapped, n_swapped == 1 ? "" : "s", (long long)dropped);
    if (n_swapped && sr.op_form && opset < OP_FORM_OPSET) {
        int64_t ir_before = g->model->ir_version;
        int n_rw = 0;
        char summary[512] = "";
        st = oc_opset_raise_apply(g->model, OP_FORM_OPSET, &n_rw, summary, sizeof summary);
        if (st != ONNXC_OK)
            goto out;
        oc_report_warning(ctx, NULL, "default opset raised from %lld to %d (IR version %lld -> %lld) for "
                          "GroupNormalization-21%s%s%s", (long long)opset, OP_FORM_OPSET, (long long)ir_before,
                          (long long)g->model->ir_version, n_rw ? "; nodes rewritten to keep their meaning: " : "",
                          summary, "");
    }
out:
    oc_free(items);
    return st;
}

/* A group count only means something for to=group: given with another kind it would be silently ignored. */
static onnxc_status swap_norm_check_options(const oc_opt_slot *o)
{
    if (o[SN_GROUPS].v.set && o[SN_TO].v.e != TO_GROUP)
        return oc_err(ONNXC_E_ARG, "%s applies to %s group only (%s %s fixes the group count)", o[SN_GROUPS].def->name,
                      o[SN_TO].def->name, o[SN_TO].def->name, o[SN_TO].v.text);
    return ONNXC_OK;
}

static const char *const to_choices[] = {[TO_GROUP] = "group", [TO_INSTANCE] = "instance", [TO_LAYER] = "layer",
                                         NULL};
static const char *const form_choices[] = {[FORM_AUTO] = "auto", [FORM_OP] = "op", [FORM_DECOMPOSED] = "decomposed",
                                           NULL};

static const oc_opt_def swap_norm_options[] = {
    [SN_TO] = {.name = "swap-norm.to", .type = OC_OPT_ENUM, .dflt = "group", .choices = to_choices,
               .help = "group: G groups of channels, like nn.GroupNorm(G, C); instance: one group per channel; "
                       "layer: one group (statistics over C and the spatial dims)"},
    /* 32: PyTorch's and the GroupNorm paper's usual choice */
    [SN_GROUPS] = {.name = "swap-norm.groups", .type = OC_OPT_INT, .dflt = "32", .min = 1, .max = 1 << 30,
                   .help = "group count G for to=group; a layer whose channel count G does not divide gets the "
                           "largest divisor not above G (reported)"},
    [SN_STRICT] = {.name = "swap-norm.strict", .type = OC_OPT_BOOL, .dflt = "false",
                   .help = "a layer whose channel count the group count does not divide is an error, not a fallback"},
    [SN_FORM] = {.name = "swap-norm.form", .type = OC_OPT_ENUM, .dflt = "auto", .choices = form_choices,
                 .help = "auto: GroupNormalization-21 from opset 21, else decomposed; op: GroupNormalization-21 "
                         "(raises the opset when no other op changes meaning); decomposed: Reshape/"
                         "InstanceNormalization/Reshape/Mul/Add, opset 6 on"},
    [SN_ONLY] = {.name = "swap-norm.only", .type = OC_OPT_REGEX, .dflt = "",
                 .help = "swap only BNs whose node name or output name matches"},
    [SN_EXCLUDE] = {.name = "swap-norm.exclude", .type = OC_OPT_REGEX, .dflt = "",
                    .help = "leave BNs whose node name or output name matches"},
};
_Static_assert(sizeof swap_norm_options / sizeof swap_norm_options[0] == SN_N_OPTIONS, "one entry per option");

const oc_pass oc_pass_swap_norm = {
    .name = "swap-norm",
    .summary = "replace BatchNormalization by group/instance/layer norm (changes outputs; for fine-tuning)",
    .exact = false,
    .in_default = false,
    .options = swap_norm_options,
    .n_options = SN_N_OPTIONS,
    .check_options = swap_norm_check_options,
    .run = swap_norm_run,
};
