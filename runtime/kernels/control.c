/* Control flow: If runs one of its two branches, each planned once as a session of its own over the branch
 * graph (reading the enclosing graph's values it names, kctx.implicit), and copies the branch's outputs out,
 * whose shapes may differ per branch and per run (OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS). */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "session_internal.h"

typedef struct if_state {
    onnxc_session *branch[2]; /* then, else */
} if_state;

static const oc_graph *if_branch(const oc_kctx *c, int which)
{
    const oc_attr *a = oc_node_attr(c->node, which == 0 ? "then_branch" : "else_branch");
    return a ? a->g : NULL;
}

static onnxc_status if_infer(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0])
        return oc_kerr(c, ONNXC_E_INVALID, "missing input 'cond'");
    const onnxc_tensor *cond = c->in[0];
    if (onnxc_tensor_numel(cond) != 1 ||
        (cond->dtype != ONNXC_BOOL && !oc_dtype_is_int(cond->dtype) && !oc_dtype_is_float(cond->dtype)))
        return oc_kerr(c, ONNXC_E_INVALID, "cond must be one bool, not %lld elements of %s",
                       (long long)onnxc_tensor_numel(cond), onnxc_dtype_name(cond->dtype));
    for (int b = 0; b < 2; b++) {
        const oc_graph *g = if_branch(c, b);
        if (!g)
            return oc_kerr(c, ONNXC_E_INVALID, "no %s graph", b ? "else_branch" : "then_branch");
        if (g->n_outputs != c->n_out)
            return oc_kerr(c, ONNXC_E_INVALID, "%s has %d outputs, the node %d", b ? "else_branch" : "then_branch",
                           g->n_outputs, c->n_out);
    }
    const oc_graph *tg = if_branch(c, 0), *eg = if_branch(c, 1);
    for (int o = 0; o < c->n_out; o++) {
        const oc_type *tt = &tg->outputs[o].type, *et = &eg->outputs[o].type;
        if (tt->has_elem_type && et->has_elem_type && tt->elem_type != et->elem_type)
            return oc_kerr(c, ONNXC_E_INVALID, "output %d is %s in then_branch and %s in else_branch", o,
                           onnxc_dtype_name(tt->elem_type), onnxc_dtype_name(et->elem_type));
        if (c->out[o]) /* the branch that runs sets the real type */
            c->out[o]->dtype = tt->has_elem_type ? tt->elem_type : et->has_elem_type ? et->elem_type : ONNXC_FLOAT;
    }
    return ONNXC_OK;
}

static void if_release(void *p)
{
    if_state *s = p;
    if (!s)
        return;
    onnxc_session_free(s->branch[0]);
    onnxc_session_free(s->branch[1]);
    free(s);
}

static onnxc_status if_prepare(oc_kctx *c)
{
    if_state *s = calloc(1, sizeof *s);
    if (!s)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    for (int b = 0; b < 2; b++) {
        onnxc_status st = oc_session_create_sub(c->model, if_branch(c, b), 1, c->pool, &s->branch[b]);
        if (st != ONNXC_OK) {
            if_release(s);
            char lbl[200];
            return oc_err_prefix(st, "node %s: %s", oc_node_label(c->node, lbl, sizeof lbl),
                                 b ? "else_branch" : "then_branch");
        }
    }
    c->state = s;
    return ONNXC_OK;
}

static onnxc_status if_run(oc_kctx *c)
{
    if_state *s = c->state;
    const onnxc_tensor *cond = c->in[0];
    bool yes = cond->dtype == ONNXC_BOOL ? ((const uint8_t *)cond->data)[0] != 0
                                         : oc_load_f64(cond->dtype, cond->data, 0) != 0.0;
    onnxc_session *br = s->branch[yes ? 0 : 1];
    const char *what = yes ? "then_branch" : "else_branch";
    char lbl[200];
    /* the branch's references to enclosing graphs, by name, from the values this node was given */
    const int n = br->n_outer;
    const char **names = calloc((size_t)n + 1, sizeof *names);
    const onnxc_tensor **ts = calloc((size_t)n + 1, sizeof *ts);
    onnxc_status st = ONNXC_OK;
    if (!names || !ts)
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    for (int k = 0; st == ONNXC_OK && k < n; k++) {
        names[k] = br->outer[k]->name;
        for (int j = 0; j < c->n_implicit && !ts[k]; j++)
            if (strcmp(c->implicit_names[j], names[k]) == 0)
                ts[k] = c->implicit[j];
        if (!ts[k])
            st = oc_kerr(c, ONNXC_E_INVALID, "%s reads '%s', which the graph does not define", what, names[k]);
    }
    if (st == ONNXC_OK) {
        st = onnxc_session_run(br, n, names, ts);
        if (st != ONNXC_OK)
            st = oc_err_prefix(st, "node %s: %s", oc_node_label(c->node, lbl, sizeof lbl), what);
    }
    for (int o = 0; st == ONNXC_OK && o < c->n_out; o++) {
        if (!c->out[o])
            continue;
        const onnxc_tensor *t = onnxc_session_output(br, o);
        if (!t || t->dtype == ONNXC_STRING) {
            st = oc_kerr(c, ONNXC_E_UNSUPPORTED, "%s output %d: %s", what, o, t ? "strings" : "missing");
            break;
        }
        if ((st = oc_kset_shape(c, c->out[o], t->dtype, t->rank, t->dims)) != ONNXC_OK ||
            (st = c->alloc_out(c, o)) != ONNXC_OK)
            break;
        if (c->out[o]->nbytes)
            memcpy(c->out[o]->data, t->data, c->out[o]->nbytes);
    }
    free(names);
    free(ts);
    return st;
}

const oc_kernel oc_kernels_control[] = {
    {"If", NULL, 1, 0, 0, if_infer, if_prepare, if_run, if_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
