/* Raising a model's default-domain opset (see opset_raise.h). The rules come from the ONNX operator changelog
 * and from the forward adapters registered in onnx/version_converter/convert.h: every op whose adapter is not
 * "compatible" either gets the same mechanical rewrite here or blocks the raise with the reason. */
#include "opset_raise.h"

#include <stdio.h>
#include <string.h>

#include "affine.h"
#include "dtype.h"

typedef enum {
    RULE_BLOCK,         /* the op changes meaning or disappears: refuse */
    RULE_BLOCK_IF_MODE, /* refuse only when string attribute `attr` equals `value` */
    RULE_TO_INPUTS,     /* attributes became inputs: move them (int64 lists) */
    RULE_TO_SCALARS,    /* attributes became scalar inputs of the data's type (Clip min/max, Pad value) */
    RULE_RATIO,         /* Dropout-12: ratio became a float input */
    RULE_SOFTMAX,       /* Softmax-13 family: same meaning only when the old axis is the last one */
    RULE_RENAME,        /* same meaning under another name */
    RULE_SPLIT18,       /* Split-18: without a split input it needs num_outputs */
    RULE_BN_OUTPUTS,    /* BatchNormalization-14: extra outputs are invalid in inference mode */
    RULE_BN_SPATIAL     /* BatchNormalization-9 dropped spatial (1 was the default: remove it; 0: refuse) */
} rule_kind;

typedef struct {
    const char *op;
    int since;          /* the opset where the meaning or the signature changed */
    rule_kind kind;
    const char *attr;   /* RULE_BLOCK_IF_MODE: the attribute; RULE_TO_*: comma-separated "name:slot" list;
                         * RULE_RENAME: the new name */
    const char *value;  /* RULE_BLOCK_IF_MODE: the value that blocks */
    const char *why;
} rule;

static const rule rules[] = {
    /* opset 9 */
    {"BatchNormalization", 9, RULE_BN_SPATIAL, "spatial", NULL, "BatchNormalization-9 removed spatial"},
    {"Scan", 9, RULE_BLOCK, NULL, NULL, "changed its inputs (no batch axis, scan_input_axes) in opset 9"},
    {"MeanVarianceNormalization", 9, RULE_BLOCK, NULL, NULL, "replaced its attributes by axes in opset 9"},
    /* opset 10: experimental ops removed; Upsample deprecated; attributes that became inputs */
    {"Upsample", 10, RULE_BLOCK, NULL, NULL, "was deprecated in opset 10 (Resize replaces it, with other "
                                             "coordinate rules)"},
    {"ATen", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"Affine", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"ConstantFill", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"Crop", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"DynamicSlice", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"GRUUnit", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"GivenTensorFill", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"ImageScaler", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"ParametricSoftplus", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"Scale", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"ScaledTanh", 10, RULE_BLOCK, NULL, NULL, "was an experimental op, removed in opset 10"},
    {"Slice", 10, RULE_TO_INPUTS, "starts:1,ends:2,axes:3", NULL, "takes starts/ends/axes as inputs from opset 10"},
    {"TopK", 10, RULE_TO_INPUTS, "k:1", NULL, "takes k as an input from opset 10"},
    /* opset 11 */
    {"Scatter", 11, RULE_RENAME, "ScatterElements", NULL, "was deprecated in opset 11 for ScatterElements"},
    {"Clip", 11, RULE_TO_SCALARS, "min:1,max:2", NULL, "takes min/max as inputs from opset 11"},
    {"Pad", 11, RULE_TO_INPUTS, "pads:1", NULL, "takes pads as an input from opset 11"},
    {"Pad", 11, RULE_TO_SCALARS, "value:2", NULL, "takes the pad value as an input from opset 11"},
    {"Resize", 11, RULE_BLOCK, NULL, NULL, "Resize-10 used asymmetric coordinates; Resize-11 added roi and "
                                           "coordinate_transformation_mode (default half_pixel)"},
    /* opset 12 */
    {"Dropout", 12, RULE_RATIO, "ratio", NULL, "takes ratio as an input from opset 12"},
    /* opset 13 */
    {"Softmax", 13, RULE_SOFTMAX, NULL, NULL, "normalizes one axis instead of a 2-D coercion from opset 13"},
    {"LogSoftmax", 13, RULE_SOFTMAX, NULL, NULL, "normalizes one axis instead of a 2-D coercion from opset 13"},
    {"Hardmax", 13, RULE_SOFTMAX, NULL, NULL, "works on one axis instead of a 2-D coercion from opset 13"},
    {"Squeeze", 13, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 13"},
    {"Unsqueeze", 13, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 13"},
    {"ReduceSum", 13, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 13"},
    {"Split", 13, RULE_TO_INPUTS, "split:1", NULL, "takes split as an input from opset 13"},
    {"Resize", 13, RULE_BLOCK_IF_MODE, "coordinate_transformation_mode", "tf_half_pixel_for_nn",
     "lost coordinate_transformation_mode 'tf_half_pixel_for_nn' in opset 13"},
    /* opset 14 */
    {"BatchNormalization", 14, RULE_BN_OUTPUTS, NULL, NULL, "BatchNormalization-14 allows only Y in inference "
                                                            "mode"},
    /* opset 16 */
    {"RoiAlign", 16, RULE_BLOCK, NULL, NULL, "changed its default coordinate_transformation_mode in opset 16"},
    /* opset 18 */
    {"ReduceMean", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceMax", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceMin", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceProd", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceL1", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceL2", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceLogSum", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceLogSumExp", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"ReduceSumSquare", 18, RULE_TO_INPUTS, "axes:1", NULL, "takes axes as an input from opset 18"},
    {"Split", 18, RULE_SPLIT18, NULL, NULL, "needs num_outputs without a split input from opset 18"},
    /* opset 20 */
    {"GridSample", 20, RULE_BLOCK_IF_MODE, "mode", "bilinear", "renamed mode 'bilinear' to 'linear' in opset 20"},
    {"GridSample", 20, RULE_BLOCK_IF_MODE, "mode", "bicubic", "renamed mode 'bicubic' to 'cubic' in opset 20"},
    {"DFT", 20, RULE_BLOCK, NULL, NULL, "takes axis as an input, with another default, from opset 20"},
    /* opset 21 */
    {"GroupNormalization", 21, RULE_BLOCK, NULL, NULL, "changed scale/bias from per-group to per-channel in "
                                                       "opset 21"},
};


/* IR version an opset needs (onnx/helper.py VERSION_TABLE). */
static int64_t ir_for_opset(int64_t opset)
{
    return opset >= 23 ? 11 : opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 12 ? 7
         : opset >= 11 ? 6 : opset >= 10 ? 5 : opset >= 9 ? 4 : 3;
}

static const char *const same_type_ops[] = {
    "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "GroupNormalization",
    "LayerNormalization", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Softplus", "Softsign", "Clip", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "Gemm", "MatMul", "Pad", "Reshape",
    "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze", "Slice", "Resize", "Upsample", "Identity",
    "Dropout", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "Neg", "Abs", "Exp",
    "Log", "Sqrt", "Erf", "Expand", "Tile", "Gather", "DepthToSpace", "SpaceToDepth", NULL,
};

int32_t oc_value_elem_type(const oc_value *v)
{
    for (int depth = 0; v && depth < 10000; depth++) {
        const oc_type *ty = oc_value_type(v);
        if (ty && ty->kind == OC_TYPE_TENSOR && ty->has_elem_type && ty->elem_type)
            return ty->elem_type;
        if (v->init)
            return v->init->t.dtype;
        const oc_tensor *c = oc_value_constant(v);
        if (c)
            return c->t.dtype;
        const oc_node *p = v->producer;
        if (!p || !oc_domain_is_default(p->domain) || p->n_inputs < 1 || v->producer_slot != 0)
            return ONNXC_UNDEFINED;
        bool same = false;
        for (int i = 0; same_type_ops[i] && !same; i++)
            same = !strcmp(p->op_type, same_type_ops[i]);
        if (!same)
            return ONNXC_UNDEFINED;
        v = p->inputs[0];
    }
    return ONNXC_UNDEFINED;
}

/* ------------------------------------------------------------------------------------------------ check */

static bool set_why(char *why, size_t cap, const oc_node *n, const char *fmt, const char *a, const char *b)
{
    char lbl[200], msg[300];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    snprintf(why, cap, "node %s: %s", oc_node_label(n, lbl, sizeof lbl), msg);
    return false;
}

/* The attribute names of a "name:slot,name:slot" list, one at a time. */
static const char *next_spec(const char *s, char *name, size_t cap, int *slot)
{
    if (!s || !*s)
        return NULL;
    const char *colon = strchr(s, ':'), *comma = strchr(s, ',');
    size_t len = (size_t)(colon - s);
    snprintf(name, cap, "%.*s", (int)len, s);
    *slot = (int)(colon[1] - '0');
    return comma ? comma + 1 : s + strlen(s);
}

static bool input_present(const oc_node *n, int slot) { return slot < n->n_inputs && n->inputs[slot]; }

/* Can rule r be honoured for node n? */
static bool rule_ok(const rule *r, const oc_node *n, char *why, size_t cap)
{
    char buf[128];
    switch (r->kind) {
    case RULE_BLOCK:
        return set_why(why, cap, n, "%s%s", r->why, NULL);
    case RULE_BLOCK_IF_MODE: {
        const char *mode = oc_attr_string(n, r->attr, "", buf, sizeof buf);
        return strcmp(mode, r->value) != 0 ? true : set_why(why, cap, n, "%s%s", r->why, NULL);
    }
    case RULE_TO_INPUTS:
    case RULE_TO_SCALARS: {
        char name[32];
        int slot;
        for (const char *s = next_spec(r->attr, name, sizeof name, &slot); s;
             s = next_spec(s, name, sizeof name, &slot)) {
            const oc_attr *a = oc_node_attr(n, name);
            if (!a)
                continue;
            if (input_present(n, slot))
                return set_why(why, cap, n, "has both attribute %s and input %s", name, name);
            if (r->kind == RULE_TO_INPUTS && a->type != OC_ATTR_INTS && a->type != OC_ATTR_INT)
                return set_why(why, cap, n, "attribute %s is not an integer list%s", name, NULL);
            if (r->kind == RULE_TO_SCALARS) {
                if (a->type != OC_ATTR_FLOAT)
                    return set_why(why, cap, n, "attribute %s is not a float%s", name, NULL);
                /* the scalar input takes the data's type; a zero pad value can simply be left out */
                bool zero_pad = !strcmp(name, "value") && a->f == 0.0f;
                int32_t dt = n->inputs[0] ? oc_value_elem_type(n->inputs[0]) : 0;
                if (!zero_pad && dt != ONNXC_FLOAT && dt != ONNXC_DOUBLE && dt != ONNXC_FLOAT16)
                    return set_why(why, cap, n, "the type of its input is unknown or not float, so attribute %s "
                                   "cannot become an input (%s)", name, r->why);
            }
        }
        return true;
    }
    case RULE_RATIO: {
        const oc_attr *a = oc_node_attr(n, "ratio");
        if (a && input_present(n, 1))
            return set_why(why, cap, n, "has both attribute ratio and input ratio%s", "", NULL);
        return true;
    }
    case RULE_SOFTMAX: {
        /* before 13 the input is coerced to 2-D at axis (default 1) and normalized over the flattened tail;
         * from 13 over the single axis (default -1): the same thing only when axis is the last dim */
        int rank = n->inputs[0] ? oc_value_rank(n->inputs[0]) : -1;
        if (rank < 0)
            return set_why(why, cap, n, "%s, and its input rank is unknown%s", r->why, NULL);
        int64_t axis = oc_attr_int(n, "axis", 1);
        if (axis < 0)
            axis += rank;
        if (axis != rank - 1) {
            snprintf(buf, sizeof buf, "%s; its axis %lld is not the last of rank %d", r->why, (long long)axis,
                     rank);
            return set_why(why, cap, n, "%s%s", buf, NULL);
        }
        return true;
    }
    case RULE_RENAME:
    case RULE_SPLIT18:
        return true;
    case RULE_BN_OUTPUTS:
        for (int o = 1; o < n->n_outputs; o++)
            if (n->outputs[o])
                return set_why(why, cap, n, "lists output '%s'; %s", n->outputs[o]->name, r->why);
        return true;
    case RULE_BN_SPATIAL:
        return oc_attr_int(n, "spatial", 1) != 0 ? true
               : set_why(why, cap, n, "has spatial=0 (per-activation statistics), which %s", r->why, NULL);
    }
    return true;
}

typedef struct {
    int64_t from, to;
    oc_opset_ignore_fn ignore;
    void *arg;
} raise_ctx;

static bool check_graph(const oc_graph *g, const raise_ctx *rc, char *why, size_t cap)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs; a++) {
            const oc_attr *at = &n->attrs[a];
            if (at->g && !check_graph(at->g, rc, why, cap))
                return false;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] && !check_graph(at->graphs[k], rc, why, cap))
                    return false;
        }
        if (!oc_domain_is_default(n->domain) || (rc->ignore && rc->ignore(n, rc->arg)))
            continue;
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
            const rule *r = &rules[k];
            if (rc->from < r->since && r->since <= rc->to && !strcmp(n->op_type, r->op) &&
                !rule_ok(r, n, why, cap))
                return false;
        }
    }
    return true;
}

bool oc_opset_raise_check(const onnxc_model *m, int64_t to, oc_opset_ignore_fn ignore, void *arg, char *why,
                          size_t cap)
{
    int64_t from = oc_model_opset(m, NULL);
    if (from <= 0) {
        snprintf(why, cap, "the model imports no default-domain opset");
        return false;
    }
    if (from >= to)
        return true;
    if (from < 7) {
        /* opset 7 replaced the legacy broadcast/axis attributes of Add, Mul, ... by numpy broadcasting and
         * dropped is_test and consumed_inputs: too many ops change for a table */
        snprintf(why, cap, "opset %lld predates numpy-style broadcasting (opset 7); convert the model with "
                 "onnx.version_converter first", (long long)from);
        return false;
    }
    if (m->n_functions > 0) {
        snprintf(why, cap, "the model carries %d local function%s with their own opset imports", m->n_functions,
                 m->n_functions == 1 ? "" : "s");
        return false;
    }
    raise_ctx rc = {from, to, ignore, arg};
    return check_graph(m->graph, &rc, why, cap);
}

/* ------------------------------------------------------------------------------------------------ apply */

static onnxc_status attr_to_input(oc_graph *g, oc_node *n, const char *name, int slot, bool scalar)
{
    const oc_attr *a = oc_node_attr(n, name);
    if (!a)
        return ONNXC_OK;
    char base[300];
    snprintf(base, sizeof base, "%s_%s", n->name && *n->name ? n->name : n->op_type, name);
    oc_value *v = NULL;
    if (scalar) {
        if (!strcmp(name, "value") && a->f == 0.0f) {
            oc_node_remove_attr(n, name); /* Pad-11's constant_value defaults to 0 */
            return ONNXC_OK;
        }
        int32_t dt = oc_value_elem_type(n->inputs[0]);
        double d = a->f;
        float f = a->f;
        uint16_t h = oc_float_to_half(f);
        v = oc_add_const(g, base, dt, 0, NULL, dt == ONNXC_DOUBLE ? (const void *)&d
                                                : dt == ONNXC_FLOAT16 ? (const void *)&h : (const void *)&f);
    } else if (a->type == OC_ATTR_INT) {
        int64_t one = 1;
        v = oc_add_const(g, base, ONNXC_INT64, 1, &one, &a->i); /* TopK-10's k is a 1-element tensor */
    } else {
        int64_t cnt = (int64_t)a->n_ints;
        v = oc_add_const(g, base, ONNXC_INT64, 1, &cnt, a->ints);
    }
    if (!v)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    onnxc_status st = oc_node_set_input(n, slot, v);
    if (st == ONNXC_OK)
        oc_node_remove_attr(n, name);
    return st;
}

/* Apply rule r to node n; *changed is set when n was rewritten. */
static onnxc_status rule_apply(oc_graph *g, const rule *r, oc_node *n, bool *changed)
{
    onnxc_status st = ONNXC_OK;
    switch (r->kind) {
    case RULE_TO_INPUTS:
    case RULE_TO_SCALARS: {
        char name[32];
        int slot;
        for (const char *s = next_spec(r->attr, name, sizeof name, &slot); s && st == ONNXC_OK;
             s = next_spec(s, name, sizeof name, &slot))
            if (oc_node_attr(n, name)) {
                st = attr_to_input(g, n, name, slot, r->kind == RULE_TO_SCALARS);
                *changed = true;
            }
        return st;
    }
    case RULE_RATIO: {
        const oc_attr *a = oc_node_attr(n, "ratio");
        if (!a)
            return ONNXC_OK;
        char base[300];
        snprintf(base, sizeof base, "%s_ratio", n->name && *n->name ? n->name : "Dropout");
        float f = a->f;
        oc_value *v = oc_add_const(g, base, ONNXC_FLOAT, 0, NULL, &f);
        if (!v)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if ((st = oc_node_set_input(n, 1, v)) == ONNXC_OK)
            oc_node_remove_attr(n, "ratio");
        *changed = true;
        return st;
    }
    case RULE_RENAME: {
        char *nt = oc_strdup(r->attr);
        if (!nt)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        oc_free(n->op_type);
        n->op_type = nt;
        *changed = true;
        return ONNXC_OK;
    }
    case RULE_SPLIT18: {
        if (input_present(n, 1) || oc_node_attr(n, "num_outputs"))
            return ONNXC_OK;
        *changed = true;
        return oc_node_set_attr_int(n, "num_outputs", n->n_outputs);
    }
    case RULE_BN_SPATIAL:
        if (oc_node_attr(n, "spatial")) {
            oc_node_remove_attr(n, "spatial");
            *changed = true;
        }
        return ONNXC_OK;
    default:
        return ONNXC_OK; /* checks only */
    }
}

typedef struct {
    int64_t from, to;
    int n_rewritten;
    const char *ops[32]; /* op types rewritten, with counts, for the summary */
    int counts[32];
    int n_ops;
} apply_ctx;

static void note(apply_ctx *ac, const char *op)
{
    ac->n_rewritten++;
    for (int i = 0; i < ac->n_ops; i++)
        if (!strcmp(ac->ops[i], op)) {
            ac->counts[i]++;
            return;
        }
    if (ac->n_ops < 32) {
        ac->ops[ac->n_ops] = op;
        ac->counts[ac->n_ops++] = 1;
    }
}

static onnxc_status apply_graph(oc_graph *g, apply_ctx *ac)
{
    onnxc_status st = ONNXC_OK;
    for (int i = 0; i < g->n_nodes && st == ONNXC_OK; i++) {
        oc_node *n = g->nodes[i];
        if (n->dead)
            continue;
        for (int a = 0; a < n->n_attrs && st == ONNXC_OK; a++) {
            oc_attr *at = &n->attrs[a];
            if (at->g)
                st = apply_graph(at->g, ac);
            for (size_t k = 0; k < at->n_graphs && st == ONNXC_OK; k++)
                if (at->graphs[k])
                    st = apply_graph(at->graphs[k], ac);
        }
        if (st != ONNXC_OK || !oc_domain_is_default(n->domain))
            continue;
        /* the rules' own op name outlives a rename */
        const char *op = NULL;
        bool changed = false;
        for (size_t k = 0; k < sizeof rules / sizeof rules[0] && st == ONNXC_OK; k++) {
            const rule *r = &rules[k];
            if (ac->from < r->since && r->since <= ac->to && !strcmp(n->op_type, r->op)) {
                op = r->op;
                st = rule_apply(g, r, n, &changed);
            }
        }
        if (changed && op)
            note(ac, op);
    }
    return st;
}

onnxc_status oc_opset_raise_apply(onnxc_model *m, int64_t to, int *n_rewritten, char *summary, size_t cap)
{
    if (n_rewritten)
        *n_rewritten = 0;
    if (summary && cap)
        *summary = 0;
    int64_t from = oc_model_opset(m, NULL);
    if (from <= 0)
        return oc_err(ONNXC_E_INVALID, "the model imports no default-domain opset");
    if (from >= to)
        return ONNXC_OK;
    apply_ctx ac = {.from = from, .to = to};
    onnxc_status st = apply_graph(m->graph, &ac);
    if (st != ONNXC_OK)
        return st;
    for (int i = 0; summary && cap && i < ac.n_ops; i++) {
        size_t len = strlen(summary);
        snprintf(summary + len, cap - len, "%s%s x%d", i ? ", " : "", ac.ops[i], ac.counts[i]);
    }
    /* IR <= 3 listed every initializer among the graph inputs, not overridable; from IR 4 a listed initializer
     * is an overridable input, so those entries go to keep the meaning */
    oc_graph *g = m->graph;
    if (m->has_ir_version && m->ir_version <= 3 && ir_for_opset(to) > 3) {
        int k = 0;
        for (int i = 0; i < g->n_inputs; i++) {
            if (g->inputs[i].value->init) {
                g->inputs[i].value->flags &= ~(unsigned)OC_V_INPUT;
                oc_type_clear(&g->inputs[i].type);
                oc_free(g->inputs[i].doc_string);
                continue;
            }
            g->inputs[k++] = g->inputs[i];
        }
        g->n_inputs = k;
    }
    for (int i = 0; i < m->n_opsets; i++)
        if (oc_domain_is_default(m->opsets[i].domain)) {
            m->opsets[i].version = to;
            m->opsets[i].has_version = true;
        }
    int64_t ir = ir_for_opset(to);
    if (!m->has_ir_version || m->ir_version < ir) {
        m->ir_version = ir;
        m->has_ir_version = true;
    }
    if (n_rewritten)
        *n_rewritten = ac.n_rewritten;
    return ONNXC_OK;
}
