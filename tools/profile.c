/* Per-node timing of a session's runs (onnxc bench --profile): the session's before/after hook times every node
 * the plan runs, fusions kept (a fused chain is timed as its head, named by the value it leaves), with the
 * FLOP count of Conv, ConvTranspose, Gemm and MatMul from the planned shapes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir.h"
#include "session_internal.h"
#include "util.h"

struct onnxc_profile {
    onnxc_session *s;
    onnxc_profile_node *rows; /* in plan order */
    const oc_node **nodes;    /* the IR node of each row */
    char **labels;
    int n;
    int cursor; /* the row the next node most likely is */
    bool active;
    double t0;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void prof_before(void *user, const oc_node *n)
{
    (void)n;
    onnxc_profile *p = user;
    p->t0 = now_ms();
}

static onnxc_status prof_after(void *user, const oc_node *n, const onnxc_tensor *const *outs)
{
    (void)outs;
    onnxc_profile *p = user;
    double dt = now_ms() - p->t0;
    if (!p->active || p->n == 0)
        return ONNXC_OK;
    /* nodes run in plan order, so the next one is almost always at the cursor */
    for (int k = 0; k < p->n; k++) {
        int i = (p->cursor + k) % p->n;
        if (p->nodes[i] == n) {
            p->rows[i].ms += dt;
            p->cursor = (i + 1) % p->n;
            break;
        }
    }
    return ONNXC_OK;
}

static const onnxc_tensor *node_in(const onnxc_session *s, const oc_node *n, int j)
{
    if (j >= n->n_inputs || !n->inputs[j])
        return NULL;
    return &s->rv[n->inputs[j]->id].t;
}

static const onnxc_tensor *node_out(const onnxc_session *s, const oc_node *n, int j)
{
    if (j >= n->n_outputs || !n->outputs[j])
        return NULL;
    return &s->rv[n->outputs[j]->id].t;
}

static double numel(const onnxc_tensor *t)
{
    double v = 1;
    for (int i = 0; i < t->rank; i++)
        v *= (double)t->dims[i];
    return v;
}

/* Multiply-adds count twice. */
static double node_flops(const onnxc_session *s, const oc_node *n)
{
    const onnxc_tensor *x = node_in(s, n, 0), *w = node_in(s, n, 1), *y = node_out(s, n, 0);
    if (!x || !w || !y || x->rank < 1 || w->rank < 1)
        return 0;
    const char *op = n->op_type;
    if (strcmp(op, "Conv") == 0 && w->rank >= 2) {
        /* every output element sums C/group x kernel taps */
        double taps = 1;
        for (int i = 1; i < w->rank; i++)
            taps *= (double)w->dims[i];
        return 2.0 * numel(y) * taps;
    }
    if (strcmp(op, "ConvTranspose") == 0 && w->rank >= 2) {
        /* every input element scatters through C_out/group x kernel taps */
        double taps = 1;
        for (int i = 1; i < w->rank; i++)
            taps *= (double)w->dims[i];
        return 2.0 * numel(x) * taps;
    }
    if (strcmp(op, "Gemm") == 0 && x->rank == 2) {
        double k = oc_attr_int(n, "transA", 0) ? (double)x->dims[0] : (double)x->dims[1];
        return 2.0 * numel(y) * k;
    }
    if (strcmp(op, "MatMul") == 0)
        return 2.0 * numel(y) * (double)x->dims[x->rank - 1];
    return 0;
}

static void prof_clear(onnxc_profile *p)
{
    for (int i = 0; i < p->n; i++)
        oc_free(p->labels[i]);
    oc_free(p->labels);
    oc_free(p->rows);
    oc_free(p->nodes);
    p->labels = NULL;
    p->rows = NULL;
    p->nodes = NULL;
    p->n = 0;
}

onnxc_status onnxc_profile_attach(onnxc_session *s, onnxc_profile **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "profile: no output pointer");
    *out = NULL;
    if (!s)
        return oc_err(ONNXC_E_ARG, "profile: no session");
    onnxc_profile *p = oc_calloc(1, sizeof *p);
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    p->s = s;
    /* only timing: keep the plan's fusions (the after hook alone would make the plan plain) */
    oc_session_set_hook(s, p, prof_before, prof_after);
    oc_session_set_plain(s, false);
    *out = p;
    return ONNXC_OK;
}

onnxc_status onnxc_profile_start(onnxc_profile *p)
{
    if (!p)
        return oc_err(ONNXC_E_ARG, "profile: none given");
    const onnxc_session *s = p->s;
    if (!s->planned)
        return oc_err(ONNXC_E_ARG, "profile: the session has no plan yet (plan or run it first)");
    prof_clear(p);
    p->rows = oc_calloc((size_t)s->n_order + 1, sizeof *p->rows);
    p->nodes = oc_calloc((size_t)s->n_order + 1, sizeof *p->nodes);
    p->labels = oc_calloc((size_t)s->n_order + 1, sizeof *p->labels);
    if (!p->rows || !p->nodes || !p->labels) {
        prof_clear(p);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->n_order; i++) {
        if (s->nodes[i].folded || s->nodes[i].fused || s->nodes[i].aliased)
            continue;
        const oc_node *nd = s->order[i];
        int r = p->n++;
        onnxc_profile_node *row = &p->rows[r];
        char lbl[200];
        p->nodes[r] = nd;
        p->labels[r] = oc_strdup(oc_node_label(nd, lbl, sizeof lbl));
        if (!p->labels[r]) {
            prof_clear(p);
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
        row->name = nd->name ? nd->name : "";
        row->label = p->labels[r];
        row->op_type = nd->op_type;
        row->flops = node_flops(s, nd);
        row->output = nd->n_outputs > 0 && nd->outputs[0] ? nd->outputs[0]->name : "";
        for (int k = i + 1; k < s->n_order; k++)
            if (s->nodes[k].fused && s->nodes[k].fuse_head == i && s->order[k]->n_outputs > 0 &&
                s->order[k]->outputs[0])
                row->output = s->order[k]->outputs[0]->name;
        const onnxc_tensor *y = node_out(s, nd, 0);
        row->rank = y ? y->rank : -1;
        if (y)
            memcpy(row->dims, y->dims, sizeof row->dims);
    }
    p->cursor = 0;
    p->active = true;
    return ONNXC_OK;
}

void onnxc_profile_stop(onnxc_profile *p)
{
    if (p)
        p->active = false;
}

int onnxc_profile_num_nodes(const onnxc_profile *p) { return p ? p->n : 0; }

const onnxc_profile_node *onnxc_profile_get(const onnxc_profile *p, int i)
{
    if (!p || i < 0 || i >= p->n)
        return NULL;
    return &p->rows[i];
}

void onnxc_profile_free(onnxc_profile *p)
{
    if (!p)
        return;
    oc_session_set_hook(p->s, NULL, NULL, NULL);
    prof_clear(p);
    oc_free(p);
}
