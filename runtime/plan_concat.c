/* Concat planned in place: the inputs of a Concat whose outer dims (those before the axis) are all 1 are
 * contiguous byte ranges of its output, so their producers write straight into those ranges and the Concat
 * does nothing (DenseNet, SqueezeNet, GoogLeNet, FPNs). A Concat whose inputs all already sit at the right
 * places of one buffer (DenseNet's concatenations of a growing prefix of the same tensors) becomes a view of
 * that buffer too. Runs after liveness and Reshape aliasing, before the arena. */
#include <string.h>

#include "ir.h"
#include "plan.h"

/* The buffer that holds value id's bytes (following aliases) and its byte offset there. */
static int oc_concat_root(const onnxc_session *s, int id, size_t *off)
{
    *off = 0;
    while (s->rv[id].alias >= 0) {
        *off += s->rv[id].alias_off;
        id = s->rv[id].alias;
    }
    return id;
}

/* A value run-time code writes once, that may become part of another buffer: produced by a node that writes
 * plain (NCHW) memory, not the caller's, not a constant, not sharing memory with an earlier value, no one
 * outside the kernels reads it. */
static bool oc_concat_movable(const onnxc_session *s, const int *writer, int id)
{
    const oc_rvalue *r = &s->rv[id];
    if (r->known || r->is_input || r->is_output || r->needed || r->dynamic || r->alias >= 0 || r->first < 0 ||
        r->t.dtype == ONNXC_STRING || writer[id] < 0)
        return false;
    const oc_snode *w = &s->nodes[writer[id]];
    return !w->dynamic && !w->ctx.out_blocked;
}

typedef struct oc_concat_job {
    int pos;
    size_t bytes;
} oc_concat_job;

static int oc_concat_job_cmp(const void *pa, const void *pb)
{
    const oc_concat_job *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1; /* largest first: DenseNet's last Concat takes the slices */
    return (a->pos < b->pos) - (a->pos > b->pos); /* then the later one */
}

/* Is node i a Concat that could be a view of its output: plain, not fused, batch-1 outer dims, no input twice,
 * every input but the last a whole number of OC_ALIGN bytes (so each part starts aligned, as an arena buffer
 * does, and no kernel that writes up to its buffer's aligned end reaches into the next part)? */
static bool oc_concat_candidate(const onnxc_session *s, int i)
{
    const oc_node *nd = s->order[i];
    const oc_snode *sn = &s->nodes[i];
    if (!oc_node_is_op(nd, "Concat") || sn->folded || sn->fused || sn->dynamic || sn->aliased || sn->ctx.in_blocked ||
        sn->ctx.out_blocked || nd->n_outputs < 1 || !nd->outputs[0] || nd->n_inputs < 1 || !sn->out[0] ||
        sn->out[0] != &s->rv[nd->outputs[0]->id].t)
        return false;
    const oc_rvalue *ro = &s->rv[nd->outputs[0]->id];
    if (ro->known || ro->is_input || ro->dynamic || ro->needed || ro->first != i || ro->t.dtype == ONNXC_STRING ||
        ro->t.rank < 1)
        return false;
    int64_t axis = oc_attr_int(nd, "axis", 1);
    if (axis < 0)
        axis += ro->t.rank;
    if (axis < 0 || axis >= ro->t.rank)
        return false;
    for (int d = 0; d < axis; d++)
        if (ro->t.dims[d] != 1)
            return false;
    size_t total = 0;
    for (int j = 0; j < nd->n_inputs; j++) {
        if (!nd->inputs[j])
            return false;
        for (int k = 0; k < j; k++)
            if (nd->inputs[k] == nd->inputs[j])
                return false;
        const onnxc_tensor *t = &s->rv[nd->inputs[j]->id].t;
        if (t->dtype != ro->t.dtype)
            return false;
        if (j + 1 < nd->n_inputs && t->nbytes % OC_ALIGN != 0)
            return false;
        total += t->nbytes;
    }
    return total == ro->t.nbytes;
}

void oc_plan_concat(onnxc_session *s)
{
    int *writer = oc_calloc((size_t)s->n_rv + 1, sizeof *writer);
    oc_concat_job *jobs = oc_calloc((size_t)s->n_order + 1, sizeof *jobs);
    if (!writer || !jobs) { /* an optimisation: without memory for it, Concats copy */
        oc_free(writer);
        oc_free(jobs);
        return;
    }
    for (int i = 0; i < s->n_rv; i++)
        writer[i] = -1;
    /* the node that writes each value's memory: a fused chain's head writes the chain's last value */
    for (int i = 0; i < s->n_order; i++) {
        const oc_snode *sn = &s->nodes[i];
        if (sn->folded || sn->fused || sn->aliased || !sn->out)
            continue;
        for (int o = 0; o < s->order[i]->n_outputs; o++)
            if (sn->out[o])
                writer[oc_rv_of(sn->out[o]) - s->rv] = i;
    }
    int n_jobs = 0;
    for (int i = 0; i < s->n_order; i++)
        if (oc_concat_candidate(s, i))
            jobs[n_jobs++] = (oc_concat_job){i, s->rv[s->order[i]->outputs[0]->id].t.nbytes};
    qsort(jobs, (size_t)n_jobs, sizeof *jobs, oc_concat_job_cmp);
    for (int k = 0; k < n_jobs; k++) {
        const int i = jobs[k].pos;
        const oc_node *nd = s->order[i];
        const int oid = nd->outputs[0]->id;
        size_t base;
        int root = oc_concat_root(s, oid, &base);
        /* the inputs all sit, in order, in one other buffer already (DenseNet's shorter Concats, once the
         * longest has taken the parts): the output becomes a view there */
        size_t at0;
        const int r0 = oc_concat_root(s, nd->inputs[0]->id, &at0);
        if (r0 != root && r0 != nd->inputs[0]->id && oc_concat_movable(s, writer, oid)) {
            bool in_r0 = true;
            size_t off = at0;
            for (int j = 0; in_r0 && j < nd->n_inputs; j++) {
                size_t at;
                in_r0 = oc_concat_root(s, nd->inputs[j]->id, &at) == r0 && at == off;
                off += s->rv[nd->inputs[j]->id].t.nbytes;
            }
            if (in_r0) {
                oc_rvalue *ro = &s->rv[oid];
                ro->alias = r0;
                ro->alias_off = at0;
                if (ro->first < s->rv[r0].first)
                    s->rv[r0].first = ro->first;
                if (ro->last > s->rv[r0].last)
                    s->rv[r0].last = ro->last;
                root = r0;
                base = at0;
            }
        }
        /* every input either sits at its place in root already or can be moved there */
        bool ok = true;
        size_t off = base;
        for (int j = 0; ok && j < nd->n_inputs; j++) {
            const int id = nd->inputs[j]->id;
            size_t at;
            const int r = oc_concat_root(s, id, &at);
            ok = (r == root && at == off && id != root) || (r == id && id != root && oc_concat_movable(s, writer, id));
            off += s->rv[id].t.nbytes;
        }
        if (!ok)
            continue;
        oc_rvalue *rr = &s->rv[root];
        off = base;
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_rvalue *x = &s->rv[nd->inputs[j]->id];
            if (x->alias < 0) { /* moved: its lifetime (extended by its own aliases) now holds root's memory */
                x->alias = root;
                x->alias_off = off;
            }
            if (x->first >= 0 && x->first < rr->first)
                rr->first = x->first;
            if (x->last > rr->last)
                rr->last = x->last;
            off += x->t.nbytes;
        }
        s->nodes[i].aliased = true;
    }
    oc_free(writer);
    oc_free(jobs);
}
