/* float16 / bfloat16 nodes run on the float32 kernels: per plan, the node's kernel sees float32 copies of its
 * half inputs (constants converted once here, at plan time; activations converted into scratch at each run) and
 * writes float32 outputs into scratch, which are rounded once (to nearest even) into the node's own outputs. */
#include <string.h>

#include "dtype.h"
#include "plan.h"
#include "util.h"

/* Which inputs of an op are of its type T (all the same dtype, converted; a mix of float16 and float is an
 * error), which other float inputs are converted when they are half (BatchNormalization's statistics, Resize's
 * roi), and which outputs are of type T (the others, indices or LayerNormalization's float statistics, are
 * written by the kernel as they are). */
typedef struct {
    const char *op;
    uint32_t t_in, f_in, t_out;
} oc_half_rule;

#define ALL 0xffffffffu
static const oc_half_rule oc_half_rules[] = {
    {"Conv", 7, 0, 1}, {"ConvTranspose", 7, 0, 1}, {"Gemm", 7, 0, 1}, {"MatMul", 3, 0, 1},
    {"MaxPool", 1, 0, 1}, {"AveragePool", 1, 0, 1}, {"GlobalAveragePool", 1, 0, 1}, {"GlobalMaxPool", 1, 0, 1},
    {"LpPool", 1, 0, 1},
    {"BatchNormalization", 1, 0x1e, 7}, {"InstanceNormalization", 7, 0, 1}, {"LayerNormalization", 7, 0, 1},
    {"GroupNormalization", 7, 0, 1},
    {"Softmax", 1, 0, 1}, {"LogSoftmax", 1, 0, 1}, {"Hardmax", 1, 0, 1},
    {"ReduceMean", 1, 0, 1}, {"ReduceSum", 1, 0, 1}, {"ReduceMax", 1, 0, 1}, {"ReduceMin", 1, 0, 1},
    {"ReduceProd", 1, 0, 1}, {"ReduceL1", 1, 0, 1}, {"ReduceL2", 1, 0, 1}, {"ReduceLogSum", 1, 0, 1},
    {"ReduceLogSumExp", 1, 0, 1}, {"ReduceSumSquare", 1, 0, 1}, {"ArgMax", 1, 0, 0}, {"ArgMin", 1, 0, 0},
    {"Add", 3, 0, 1}, {"Sub", 3, 0, 1}, {"Mul", 3, 0, 1}, {"Div", 3, 0, 1}, {"PRelu", 3, 0, 1},
    {"Max", ALL, 0, 1}, {"Min", ALL, 0, 1}, {"Sum", ALL, 0, 1}, {"Mean", ALL, 0, 1},
    {"Relu", 1, 0, 1}, {"LeakyRelu", 1, 0, 1}, {"Sigmoid", 1, 0, 1}, {"HardSigmoid", 1, 0, 1},
    {"HardSwish", 1, 0, 1}, {"Tanh", 1, 0, 1}, {"Clip", 7, 0, 1}, {"Elu", 1, 0, 1}, {"Selu", 1, 0, 1},
    {"Softplus", 1, 0, 1}, {"Erf", 1, 0, 1}, {"Exp", 1, 0, 1}, {"Sqrt", 1, 0, 1},
    {"Resize", 1, 2, 1},
};
#undef ALL

struct oc_half_node {
    int32_t dtype;              /* ONNXC_FLOAT16 or ONNXC_BFLOAT16 */
    onnxc_tensor **in, **out;   /* what the kernel sees (kctx.in / kctx.out) */
    onnxc_tensor *tin, *tout;   /* the float32 tensors among them */
    uint8_t *in_mode;           /* per input: 0 the node's own, 1 converted at plan time, 2 converted each run */
    uint8_t *out_mode;          /* per output: 0 the node's own (written by the kernel), 1 rounded on store */
    void **owned;               /* per input in mode 1: its float32 data */
    size_t *off_in, *off_out;   /* offsets in scratch of inputs in mode 2 and outputs in mode 1 */
    size_t kscratch;            /* the kernel's own scratch, at the start of scratch */
    int n_in, n_out;
    /* A kernel that accepts an epilogue may get a fused residual (plan_fuse.c, after this plan step): a half
     * tensor of out[0]'s shape, converted into scratch at off_res (reserved for it) for the run. */
    onnxc_tensor tres;
    size_t off_res;
};

static const oc_half_rule *oc_half_rule_of(const oc_node *nd)
{
    if (!oc_domain_is_default(nd->domain))
        return NULL;
    for (size_t i = 0; i < sizeof oc_half_rules / sizeof oc_half_rules[0]; i++)
        if (strcmp(oc_half_rules[i].op, nd->op_type) == 0)
            return &oc_half_rules[i];
    return NULL;
}

static bool oc_is_half(int32_t dt) { return dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16; }

void oc_half_free(oc_half_node *h)
{
    if (!h)
        return;
    for (int j = 0; h->owned && j < h->n_in; j++)
        free(h->owned[j]);
    oc_free(h->owned);
    oc_free(h->in);
    oc_free(h->out);
    oc_free(h->tin);
    oc_free(h->tout);
    oc_free(h->in_mode);
    oc_free(h->out_mode);
    oc_free(h->off_in);
    oc_free(h->off_out);
    oc_free(h);
}

onnxc_status oc_half_setup(oc_snode *sn, const oc_node *nd)
{
    const oc_half_rule *r = oc_half_rule_of(nd);
    if (!r)
        return ONNXC_OK;
    char lbl[200];
    /* T: the dtype of the first present input of the T group; the node is ours when it is half */
    int first = -1;
    for (int j = 0; j < nd->n_inputs && j < 32; j++)
        if (((r->t_in >> j) & 1u) && sn->in[j]) {
            first = j;
            break;
        }
    if (first < 0 || !oc_is_half(sn->in[first]->dtype))
        return ONNXC_OK;
    const int32_t dt = sn->in[first]->dtype;
    for (int j = first + 1; j < nd->n_inputs && j < 32; j++)
        if (((r->t_in >> j) & 1u) && sn->in[j] && sn->in[j]->dtype != dt)
            return oc_err(ONNXC_E_INVALID, "node %s: input '%s' is %s but input '%s' is %s; the inputs of %s must "
                          "have one type", oc_node_label(nd, lbl, sizeof lbl), nd->inputs[j]->name,
                          onnxc_dtype_name(sn->in[j]->dtype), nd->inputs[first]->name, onnxc_dtype_name(dt),
                          nd->op_type);
    oc_half_node *h = oc_calloc(1, sizeof *h);
    if (!h)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    h->dtype = dt;
    h->n_in = nd->n_inputs;
    h->n_out = nd->n_outputs;
    const size_t ni = (size_t)h->n_in + 1, no = (size_t)h->n_out + 1;
    h->in = oc_calloc(ni, sizeof *h->in);
    h->tin = oc_calloc(ni, sizeof *h->tin);
    h->in_mode = oc_calloc(ni, 1);
    h->owned = oc_calloc(ni, sizeof *h->owned);
    h->off_in = oc_calloc(ni, sizeof *h->off_in);
    h->out = oc_calloc(no, sizeof *h->out);
    h->tout = oc_calloc(no, sizeof *h->tout);
    h->out_mode = oc_calloc(no, 1);
    h->off_out = oc_calloc(no, sizeof *h->off_out);
    if (!h->in || !h->tin || !h->in_mode || !h->owned || !h->off_in || !h->out || !h->tout || !h->out_mode ||
        !h->off_out) {
        oc_half_free(h);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int j = 0; j < h->n_in; j++) {
        onnxc_tensor *x = sn->in[j];
        h->in[j] = x;
        const bool conv = j < 32 && (((r->t_in | r->f_in) >> j) & 1u);
        if (!x || !conv || !oc_is_half(x->dtype))
            continue;
        onnxc_tensor *f = &h->tin[j];
        *f = *x;
        f->dtype = ONNXC_FLOAT;
        f->owns_data = 0;
        f->nbytes = oc_meta_bytes(f);
        f->data = NULL;
        h->in[j] = f;
        const oc_rvalue *rv = oc_rv_of(x);
        if (rv->known && x->data) {
            /* a constant (weights) or a value the plan is keyed on: converted once */
            h->owned[j] = oc_aligned_alloc(f->nbytes);
            if (!h->owned[j]) {
                oc_half_free(h);
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            }
            oc_half_to_float_n(x->dtype, x->data, h->owned[j], (int64_t)(f->nbytes / sizeof(float)));
            f->data = h->owned[j];
            h->in_mode[j] = 1;
        } else {
            h->in_mode[j] = 2;
        }
    }
    for (int o = 0; o < h->n_out; o++)
        h->out[o] = sn->out[o] ? &h->tout[o] : NULL;
    sn->half = h;
    sn->ctx.in = h->in;
    sn->ctx.out = h->out;
    return ONNXC_OK;
}

/* After the kernel's infer: outputs of type T get the node's dtype, the others are the kernel's to write. */
onnxc_status oc_half_after_infer(oc_snode *sn, const oc_node *nd)
{
    oc_half_node *h = sn->half;
    const oc_half_rule *r = oc_half_rule_of(nd);
    for (int o = 0; o < h->n_out; o++) {
        if (!sn->out[o])
            continue;
        onnxc_tensor *f = &h->tout[o], *y = sn->out[o];
        y->dtype = f->dtype;
        y->rank = f->rank;
        memcpy(y->dims, f->dims, sizeof y->dims);
        if (o < 32 && ((r->t_out >> o) & 1u) && f->dtype == ONNXC_FLOAT) {
            y->dtype = h->dtype;
            f->nbytes = oc_meta_bytes(f);
            h->out_mode[o] = 1;
        } else {
            h->out[o] = y; /* indices and the like: the kernel writes the node's own output */
        }
    }
    (void)nd;
    return ONNXC_OK;
}

size_t oc_half_scratch(oc_snode *sn)
{
    oc_half_node *h = sn->half;
    size_t off = oc_align_up(sn->ctx.scratch_size);
    h->kscratch = sn->ctx.scratch_size;
    for (int j = 0; j < h->n_in; j++)
        if (h->in_mode[j] == 2) {
            h->off_in[j] = off;
            off += oc_align_up(h->tin[j].nbytes);
        }
    for (int o = 0; o < h->n_out; o++)
        if (h->out_mode[o]) {
            h->off_out[o] = off;
            off += oc_align_up(h->tout[o].nbytes);
        }
    if (sn->ctx.accepts_epilogue && h->n_out > 0 && h->out_mode[0]) {
        h->off_res = off;
        off += oc_align_up(h->tout[0].nbytes);
    }
    sn->ctx.scratch_size = off;
    return off;
}

onnxc_status oc_half_run(oc_snode *sn, const oc_kernel *k)
{
    oc_half_node *h = sn->half;
    oc_kctx *c = &sn->ctx;
    char *scratch = c->scratch;
    if (!scratch && c->scratch_size)
        return oc_err(ONNXC_E_RUNTIME, "float16 node: no scratch memory");
    if (!scratch)
        return k->run(c); /* nothing to convert: every converted tensor is empty */
    for (int j = 0; j < h->n_in; j++)
        if (h->in_mode[j] == 2) {
            onnxc_tensor *f = &h->tin[j];
            f->data = scratch + h->off_in[j];
            oc_half_to_float_n(sn->in[j]->dtype, sn->in[j]->data, f->data, (int64_t)(f->nbytes / sizeof(float)));
        }
    for (int o = 0; o < h->n_out; o++)
        if (h->out_mode[o])
            h->tout[o].data = scratch + h->off_out[o];
    const onnxc_tensor *res = c->fuse_res;
    if (res && oc_is_half(res->dtype)) {
        /* the fused residual Add's other input, in the node's half type: float32 for the epilogue */
        h->tres = *res;
        h->tres.dtype = ONNXC_FLOAT;
        h->tres.nbytes = oc_meta_bytes(&h->tres);
        h->tres.data = scratch + h->off_res;
        oc_half_to_float_n(res->dtype, res->data, h->tres.data, (int64_t)(h->tres.nbytes / sizeof(float)));
        c->fuse_res = &h->tres;
    }
    onnxc_status st = k->run(c);
    c->fuse_res = res;
    if (st != ONNXC_OK)
        return st;
    for (int o = 0; o < h->n_out; o++)
        if (h->out_mode[o] && sn->out[o])
            oc_float_to_half_n(h->dtype, h->tout[o].data, sn->out[o]->data,
                               (int64_t)(h->tout[o].nbytes / sizeof(float)));
    return ONNXC_OK;
}
