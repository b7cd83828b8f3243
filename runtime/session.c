/* Sessions: plan a graph once for given input shapes (topological order, kernel choice, shape inference,
 * plan-time evaluation of shape arithmetic and constant subgraphs, liveness-based memory plan in one arena),
 * then run it with no allocation. A run whose inputs change a planned shape (or a value the plan depended on)
 * re-plans. */
#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir.h"
#include "kernel.h"
#include "session_internal.h"
#include "threadpool.h"
#include "util.h"

#define OC_ALIGN 64

/* Kernel errors made with oc_kerr already name the node; others get the node label in front. */
static onnxc_status oc_node_error(onnxc_status st, const oc_node *nd)
{
    if (strncmp(onnxc_last_error(), "node ", 5) == 0)
        return st;
    char lbl[200];
    return oc_err_prefix(st, "node %s", oc_node_label(nd, lbl, sizeof lbl));
}

static size_t oc_align_up(size_t n) { return (n + OC_ALIGN - 1) & ~(size_t)(OC_ALIGN - 1); }

static void *oc_aligned_alloc(size_t n)
{
    return aligned_alloc(OC_ALIGN, oc_align_up(n ? n : 1));
}

/* ---------------------------------------------------------------- create */

/* Topological order of the graph's nodes without touching the (const) model. */
static onnxc_status oc_session_order(onnxc_session *s)
{
    const oc_graph *g = s->g;
    int n = g->n_nodes;
    int *indeg = oc_calloc((size_t)n + 1, sizeof *indeg);
    int *pos = oc_calloc((size_t)n + 1, sizeof *pos);
    s->order = oc_calloc((size_t)n + 1, sizeof *s->order);
    if (!indeg || !pos || !s->order) {
        oc_free(indeg);
        oc_free(pos);
        return oc_err(ONNXC_E_NOMEM, "out of memory planning the session");
    }
    for (int i = 0; i < n; i++) {
        oc_node *nd = g->nodes[i];
        pos[i] = i;
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_value *v = nd->inputs[j];
            if (v && v->producer && v->producer->graph == g)
                indeg[i]++;
        }
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            s->order[tail++] = g->nodes[i];
    while (head < tail) {
        oc_node *nd = s->order[head++];
        for (int o = 0; o < nd->n_outputs; o++) {
            oc_value *v = nd->outputs[o];
            if (!v)
                continue;
            for (int u = 0; u < v->n_uses; u++) {
                oc_node *c = v->uses[u].node;
                if (c->graph != g)
                    continue;
                /* node ids index g->nodes for a freshly loaded or compacted graph */
                int ci = c->id;
                if (ci < 0 || ci >= n || g->nodes[ci] != c) {
                    for (ci = 0; ci < n && g->nodes[ci] != c; ci++)
                        ;
                }
                if (--indeg[ci] == 0)
                    s->order[tail++] = c;
            }
        }
    }
    if (tail < n) {
        /* name one node on the cycle (or behind it): the first one that never became ready */
        const oc_node *bad = NULL;
        for (int i = 0; i < n && !bad; i++)
            if (indeg[i] > 0)
                bad = g->nodes[i];
        char lbl[200];
        oc_free(indeg);
        oc_free(pos);
        return oc_err(ONNXC_E_INVALID, "graph '%s' has a cycle through node %s (%d of %d nodes cannot be ordered)",
                      g->name ? g->name : "", oc_node_label(bad, lbl, sizeof lbl), n - tail, n);
    }
    oc_free(indeg);
    oc_free(pos);
    s->n_order = n;
    return ONNXC_OK;
}

/* Find every node's kernel; list all unsupported ops in one message. */
static onnxc_status oc_session_kernels(onnxc_session *s)
{
    s->kern = oc_calloc((size_t)s->n_order + 1, sizeof *s->kern);
    if (!s->kern)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    char msg[900] = "";
    size_t off = 0;
    int missing = 0;
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        int64_t opset = oc_model_opset(s->model, nd->domain);
        s->kern[i] = oc_kernel_find(nd->domain, nd->op_type, opset);
        if (s->kern[i])
            continue;
        /* one entry per distinct op */
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            if (!s->kern[j] && strcmp(s->order[j]->op_type, nd->op_type) == 0)
                seen = true;
        missing++;
        if (seen || off >= sizeof msg - 1)
            continue;
        char lbl[200];
        const char *dom = nd->domain && *nd->domain ? nd->domain : NULL;
        if (oc_kernel_known_op(nd->domain, nd->op_type))
            off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s%s%s-%lld (opset not supported, node %s)",
                                    off ? ", " : "", dom ? dom : "", dom ? "." : "", nd->op_type,
                                    (long long)opset, oc_node_label(nd, lbl, sizeof lbl));
        else
            off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s%s%s (node %s)", off ? ", " : "",
                                    dom ? dom : "", dom ? "." : "", nd->op_type, oc_node_label(nd, lbl, sizeof lbl));
    }
    if (missing)
        return oc_err(ONNXC_E_UNSUPPORTED, "%d node%s with unsupported ops: %s", missing, missing > 1 ? "s" : "",
                      msg);
    return ONNXC_OK;
}

/* Mark values whose data some kernel needs at plan time (shape inputs), and everything they derive from. */
static void oc_session_mark_needed(onnxc_session *s)
{
    for (int i = s->n_order - 1; i >= 0; i--) {
        const oc_node *nd = s->order[i];
        const oc_kernel *k = s->kern[i];
        bool out_needed = false;
        for (int o = 0; o < nd->n_outputs; o++)
            if (nd->outputs[o] && s->rv[nd->outputs[o]->id].needed)
                out_needed = true;
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_value *v = nd->inputs[j];
            if (!v || v->graph != s->g)
                continue;
            bool shape_only = j < 32 && ((k->shape_only_inputs >> j) & 1u);
            if ((out_needed && !shape_only) || (j < 32 && (k->value_inputs >> j) & 1u))
                s->rv[v->id].needed = true;
        }
    }
}

/* OpenBLAS's pthread build starts its worker threads when it loads, and they spin (sched_yield) for a while
 * whenever they have been idle briefly: stop them, since every BLAS call we make runs on the calling thread.
 * blas_thread_shutdown_ is an exported symbol of that build (absent elsewhere: then the weak reference is
 * NULL); a later multi-threaded BLAS call would start the threads again. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static void oc_blas_single_thread(void)
{
    static atomic_flag done = ATOMIC_FLAG_INIT;
    openblas_set_num_threads(1);
    if (!atomic_flag_test_and_set(&done) && blas_thread_shutdown_)
        blas_thread_shutdown_();
}

onnxc_status onnxc_session_create(const onnxc_model *m, const onnxc_session_options *opts, onnxc_session **out)
{
    *out = NULL;
    if (!m || !m->graph)
        return oc_err(ONNXC_E_ARG, "session: no model");
    onnxc_session *s = oc_calloc(1, sizeof *s);
    if (!s)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    if (oc_model_calls_functions(m)) {
        /* run the functions' bodies: plan a copy with the calls inlined */
        onnxc_status ist = oc_model_inlined_copy(m, &s->own_model);
        if (ist != ONNXC_OK) {
            oc_free(s);
            return oc_err_prefix(ist, "session: inlining the model's functions");
        }
        if (s->own_model)
            m = s->own_model;
    }
    s->model = m;
    s->g = m->graph;
    s->threads = opts && opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->threads < 1)
        s->threads = 1;
    onnxc_status st = oc_session_order(s);
    if (st == ONNXC_OK)
        st = oc_session_kernels(s);
    if (st == ONNXC_OK) {
        s->n_rv = s->g->n_values;
        s->rv = oc_calloc((size_t)s->n_rv + 1, sizeof *s->rv);
        s->nodes = oc_calloc((size_t)s->n_order + 1, sizeof *s->nodes);
        if (!s->rv || !s->nodes)
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    if (st == ONNXC_OK) {
        for (int i = 0; i < s->n_rv; i++)
            if (s->g->values[i]->id != i)
                st = oc_err(ONNXC_E_INVALID, "session: graph value ids are stale (compact the graph first)");
    }
    if (st == ONNXC_OK) {
        /* real inputs: graph inputs that are not initializers (IR <= 3 lists initializers as inputs too; a
         * caller may still override those by name) */
        for (int i = 0; i < s->g->n_outputs; i++)
            s->n_outputs++;
        s->outputs = oc_calloc((size_t)s->n_outputs + 1, sizeof *s->outputs);
        if (!s->outputs)
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    if (st == ONNXC_OK)
        oc_session_mark_needed(s);
    if (st == ONNXC_OK)
        st = oc_pool_create(s->threads, &s->pool);
    if (st != ONNXC_OK) {
        onnxc_session_free(s);
        return st;
    }
    /* One pool: our kernels split work across the session's workers and call OpenBLAS inside them, so
     * OpenBLAS's own threads would only compete with ours (and spin while they wait). */
    oc_blas_single_thread();
    *out = s;
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- plan */

static void oc_plan_release(onnxc_session *s)
{
    for (int i = 0; i < s->n_order; i++) {
        oc_snode *sn = &s->nodes[i];
        if (sn->ctx.state && s->kern[i]->release)
            s->kern[i]->release(sn->ctx.state);
        oc_free(sn->in);
        oc_free(sn->out);
        memset(sn, 0, sizeof *sn);
    }
    for (int i = 0; i < s->n_rv; i++) {
        oc_rvalue *r = &s->rv[i];
        if (r->owned)
            free(r->owned);
        bool needed = r->needed;
        memset(r, 0, sizeof *r);
        r->needed = needed;
    }
    free(s->arena);
    s->arena = NULL;
    free(s->scratch);
    s->scratch = NULL;
    for (int i = 0; i < s->n_keys; i++)
        oc_free(s->keys[i].data);
    oc_free(s->keys);
    s->keys = NULL;
    s->n_keys = 0;
    s->planned = false;
}

static const onnxc_tensor *oc_find_input(const char *name, int n, const char *const *names,
                                         const onnxc_tensor *const *inputs)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return inputs[i];
    return NULL;
}

/* Check a provided input against the declared type. */
static onnxc_status oc_check_input(const oc_vinfo *vi, const onnxc_tensor *t)
{
    const oc_type *ty = &vi->type;
    char got[128], want[128];
    if (t->rank < 0 || t->rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_ARG, "input '%s': bad rank %d", vi->value->name, (int)t->rank);
    int64_t n;
    if (!oc_numel(t->dims, t->rank, &n))
        return oc_err(ONNXC_E_ARG, "input '%s': bad dims %s", vi->value->name,
                      oc_dims_str(t->dims, t->rank, got, sizeof got));
    size_t need;
    if (!oc_mul_size((size_t)n, onnxc_dtype_size(t->dtype), &need) || (need && (!t->data || t->nbytes < need)))
        return oc_err(ONNXC_E_ARG, "input '%s': %zu bytes of data for %s %s", vi->value->name, t->nbytes,
                      onnxc_dtype_name(t->dtype), oc_dims_str(t->dims, t->rank, got, sizeof got));
    if (ty->kind != OC_TYPE_TENSOR)
        return ONNXC_OK;
    if (ty->has_elem_type && ty->elem_type != t->dtype)
        return oc_err(ONNXC_E_ARG, "input '%s': expected %s, got %s", vi->value->name,
                      onnxc_dtype_name(ty->elem_type), onnxc_dtype_name(t->dtype));
    if (ty->rank >= 0) {
        bool ok = ty->rank == t->rank;
        for (int i = 0; ok && i < ty->rank; i++)
            if (ty->dims[i].has_value && ty->dims[i].value >= 0 && ty->dims[i].value != t->dims[i])
                ok = false;
        if (!ok) {
            size_t off = 0;
            want[0] = 0;
            for (int i = 0; i < ty->rank && off < sizeof want; i++) {
                if (ty->dims[i].has_value)
                    off += (size_t)snprintf(want + off, sizeof want - off, "%s%lld", i ? "x" : "",
                                            (long long)ty->dims[i].value);
                else
                    off += (size_t)snprintf(want + off, sizeof want - off, "%s%s", i ? "x" : "",
                                            ty->dims[i].param ? ty->dims[i].param : "?");
            }
            if (ty->rank == 0)
                snprintf(want, sizeof want, "scalar");
            return oc_err(ONNXC_E_ARG, "input '%s': expected shape %s, got %s", vi->value->name, want,
                          oc_dims_str(t->dims, t->rank, got, sizeof got));
        }
    }
    return ONNXC_OK;
}

static onnxc_status oc_set_meta(onnxc_tensor *dst, const onnxc_tensor *src)
{
    dst->dtype = src->dtype;
    dst->rank = src->rank;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    dst->nbytes = src->nbytes;
    dst->data = src->data;
    dst->owns_data = 0;
    return ONNXC_OK;
}

static size_t oc_meta_bytes(const onnxc_tensor *t)
{
    int64_t n = 0;
    if (!oc_numel(t->dims, t->rank, &n))
        return 0;
    return (size_t)n * onnxc_dtype_size(t->dtype);
}

/* ---------------------------------------------------------------- plan-level fusion and aliasing */

/* Index of a node in g->nodes (ids index it for a freshly loaded or compacted graph). */
static int oc_node_index(const oc_graph *g, const oc_node *nd)
{
    if (nd->id >= 0 && nd->id < g->n_nodes && g->nodes[nd->id] == nd)
        return nd->id;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == nd)
            return i;
    return -1;
}

static bool oc_is_op(const oc_node *nd, const char *op)
{
    return strcmp(nd->op_type, op) == 0 && (!nd->domain || !*nd->domain || strcmp(nd->domain, "ai.onnx") == 0);
}

static bool oc_is_graph_output(const oc_graph *g, const oc_value *v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i].value == v)
            return true;
    return false;
}

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

/* Fuse into each node whose kernel accepts an epilogue (Conv) what follows it alone: an Add of a same-shape
 * tensor that is ready by then (a residual), then Relu or Clip with constant bounds. The user's graph is not
 * touched: the head's output pointer moves to the chain's last value and the other nodes are skipped. */
/* Position in the run order of each graph node (by oc_node_index; -1 for none), or NULL without memory. */
static int *oc_node_positions(const onnxc_session *s)
{
    const oc_graph *g = s->g;
    int *pos = oc_calloc((size_t)g->n_nodes + 1, sizeof *pos);
    if (!pos)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        pos[i] = -1;
    for (int i = 0; i < s->n_order; i++) {
        int idx = oc_node_index(g, s->order[i]);
        if (idx >= 0)
            pos[idx] = i;
    }
    return pos;
}

/* The plan entry of a value from its tensor (a kernel's in/out pointers point into s->rv). */
static oc_rvalue *oc_rv_of(const onnxc_tensor *t)
{
    return (oc_rvalue *)(void *)((char *)t - offsetof(oc_rvalue, t));
}

static void oc_plan_fuse(onnxc_session *s)
{
    const oc_graph *g = s->g;
    int *pos = oc_node_positions(s);
    if (!pos)
        return; /* fusion is an optimisation: without memory for it, plan plainly */
    for (int h = 0; h < s->n_order; h++) {
        oc_snode *head = &s->nodes[h];
        const oc_node *hn = s->order[h];
        if (head->folded || head->fused || !head->ctx.accepts_epilogue || hn->n_outputs < 1 || !hn->outputs[0] ||
            !head->out[0] || head->out[0]->dtype != ONNXC_FLOAT)
            continue;
        const oc_value *v = hn->outputs[0];
        const onnxc_tensor *shape = &s->rv[v->id].t;
        bool have_res = false;
        for (;;) {
            if (v->n_uses != 1 || oc_is_graph_output(g, v) || s->rv[v->id].needed)
                break;
            const oc_node *cn = v->uses[0].node;
            int ci = cn->graph == g ? oc_node_index(g, cn) : -1;
            int cp = ci >= 0 ? pos[ci] : -1;
            if (cp <= h || s->nodes[cp].folded || s->nodes[cp].fused || cn->n_outputs < 1 || !cn->outputs[0])
                break;
            const oc_value *cv = cn->outputs[0];
            if (!oc_same_shape(&s->rv[cv->id].t, shape))
                break;
            bool last = false;
            if (!have_res && oc_is_op(cn, "Add") && cn->n_inputs == 2 && cn->inputs[0] && cn->inputs[1]) {
                const oc_value *other = cn->inputs[0] == v ? cn->inputs[1] : cn->inputs[0];
                const oc_rvalue *ro = &s->rv[other->id];
                if (other == v || !oc_same_shape(&ro->t, shape))
                    break;
                /* ready when the head runs: an input, a constant, or produced earlier */
                bool ready = ro->known || ro->is_input;
                if (!ready && other->producer && other->producer->graph == g) {
                    /* a fused producer's value is written by its chain's head (an intermediate value of a
                     * chain has its one use inside the chain, so it cannot be this Add's input) */
                    int oi = oc_node_index(g, other->producer);
                    int op = oi >= 0 ? pos[oi] : -1;
                    if (op >= 0 && s->nodes[op].fused)
                        op = s->nodes[op].fuse_head;
                    ready = op >= 0 && op < h;
                }
                if (!ready)
                    break;
                head->ctx.fuse_res = &ro->t;
                have_res = true;
            } else if (oc_is_op(cn, "Relu")) {
                head->ctx.fuse_clamp = true;
                head->ctx.fuse_lo = 0.0f;
                head->ctx.fuse_hi = INFINITY;
                last = true;
            } else if (oc_is_op(cn, "Clip")) {
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
    oc_free(pos);
}

/* May value id be stored blocked (NCHW8c)? A 4-D float run-time value with whole blocks of 8 channels that no
 * one outside the kernels sees: not a graph output, not read at plan time. */
static bool oc_blockable(const onnxc_session *s, int id)
{
    const oc_rvalue *r = &s->rv[id];
    const oc_value *v = s->g->values[id];
    return r->t.dtype == ONNXC_FLOAT && r->t.rank == 4 && r->t.dims[1] > 0 && r->t.dims[1] % 8 == 0 &&
           !r->known && !r->is_input && !r->needed && !oc_is_graph_output(s->g, v);
}

/* Node position that reads value id through its input 0 only, running in a mode of `modes`, or -1. */
static int oc_blocked_reader(const onnxc_session *s, const int *pos, const oc_use *u, uint8_t modes)
{
    const oc_node *cn = u->node;
    const int ci = cn->graph == s->g ? oc_node_index(s->g, cn) : -1;
    const int cp = ci >= 0 ? pos[ci] : -1;
    if (cp < 0 || u->slot != 0 || s->nodes[cp].folded || s->nodes[cp].fused ||
        !(s->nodes[cp].ctx.blocked_modes & modes))
        return -1;
    for (int j = 1; j < cn->n_inputs; j++)
        if (cn->inputs[j] == cn->inputs[0])
            return -1;
    return cp;
}

/* Blocked layout between kernels that can use it (see oc_kctx): for a node that runs blocked in and out (a
 * depthwise convolution), its input is stored blocked when its one writer can write it so (a pointwise
 * convolution, with Relu/Clip fused), and its output when every reader can read it so. Values outside the
 * kernels (graph outputs, per-node hooks: plain plans) stay NCHW. */
static void oc_plan_blocked(onnxc_session *s)
{
    const oc_graph *g = s->g;
    int *pos = oc_node_positions(s), *writer = oc_calloc((size_t)s->n_rv + 1, sizeof *writer);
    if (!pos || !writer) {
        oc_free(pos);
        oc_free(writer);
        return; /* an optimisation: without memory for it, plan plainly */
    }
    for (int i = 0; i < s->n_rv; i++)
        writer[i] = -1;
    for (int i = 0; i < s->n_order; i++) /* the node that writes each value: a fused chain's head writes its last */
        if (!s->nodes[i].folded && !s->nodes[i].fused && s->nodes[i].out && s->nodes[i].out[0])
            writer[oc_rv_of(s->nodes[i].out[0]) - s->rv] = i;
    for (int d = 0; d < s->n_order; d++) {
        oc_snode *dn = &s->nodes[d];
        const oc_node *nd = s->order[d];
        if (dn->folded || dn->fused || !(dn->ctx.blocked_modes & OC_BLK_BOTH) || dn->ctx.fuse_res ||
            nd->n_inputs < 1 || !nd->inputs[0] || !dn->out[0])
            continue;
        const oc_value *a = nd->inputs[0];
        const int ida = a->id, idd = (int)(oc_rv_of(dn->out[0]) - s->rv);
        const int w = writer[ida];
        if (w < 0 || !oc_blockable(s, ida) || !oc_blockable(s, idd) || a->n_uses != 1 ||
            !(s->nodes[w].ctx.blocked_modes & OC_BLK_OUT) || s->nodes[w].ctx.fuse_res || s->nodes[w].ctx.in_blocked)
            continue;
        const oc_value *dv = g->values[idd];
        bool ok = dv->n_uses > 0;
        for (int u = 0; ok && u < dv->n_uses; u++) {
            const int r = oc_blocked_reader(s, pos, &dv->uses[u], OC_BLK_IN);
            ok = r >= 0 && !s->nodes[r].ctx.out_blocked;
        }
        if (!ok || oc_blocked_reader(s, pos, &a->uses[0], OC_BLK_BOTH) != d)
            continue;
        s->nodes[w].ctx.out_blocked = true;
        dn->ctx.in_blocked = dn->ctx.out_blocked = true;
        for (int u = 0; u < dv->n_uses; u++)
            s->nodes[oc_blocked_reader(s, pos, &dv->uses[u], OC_BLK_IN)].ctx.in_blocked = true;
    }
    oc_free(pos);
    oc_free(writer);
}

/* Ops whose output is their first input's bytes under another shape. */
static bool oc_alias_op(const oc_node *nd)
{
    if (oc_is_op(nd, "Reshape") || oc_is_op(nd, "Flatten") || oc_is_op(nd, "Squeeze") ||
        oc_is_op(nd, "Unsqueeze") || oc_is_op(nd, "Identity"))
        return true;
    /* inference Dropout: no training_mode input, no mask output */
    return oc_is_op(nd, "Dropout") && nd->n_inputs <= 2 && (nd->n_outputs < 2 || !nd->outputs[1]);
}

/* Let a Reshape-like node's output share its input's memory: its run would only copy. The shared buffer
 * lives as long as the longest-lived of them. Graph outputs keep their own memory. */
static void oc_plan_alias(onnxc_session *s)
{
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        oc_snode *sn = &s->nodes[i];
        if (sn->folded || sn->fused || !oc_alias_op(nd) || nd->n_inputs < 1 || !nd->inputs[0] ||
            nd->n_outputs < 1 || !nd->outputs[0])
            continue;
        oc_rvalue *ro = &s->rv[nd->outputs[0]->id];
        int root = nd->inputs[0]->id;
        while (s->rv[root].alias >= 0)
            root = s->rv[root].alias;
        oc_rvalue *ri = &s->rv[root];
        if (ri->known || ri->is_input || ri->first < 0 || ro->first != i || oc_is_graph_output(s->g, nd->outputs[0]) ||
            ri->t.dtype != ro->t.dtype || ri->t.nbytes != ro->t.nbytes || ri->t.dtype == ONNXC_STRING)
            continue;
        ro->alias = root;
        if (ro->last > ri->last)
            ri->last = ro->last;
        sn->aliased = true;
    }
}

/* Plan for these inputs. inputs may carry data (a run) or not (planning at create time). */
static onnxc_status oc_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    const oc_graph *g = s->g;
    oc_plan_release(s);
    onnxc_status st = ONNXC_OK;
    char lbl[200];

    /* constants */
    for (int i = 0; i < g->n_initializers; i++) {
        oc_value *v = g->initializers[i];
        oc_rvalue *r = &s->rv[v->id];
        oc_set_meta(&r->t, &v->init->t);
        r->known = r->is_static = true;
    }
    /* graph inputs (may override an IR<=3 initializer of the same name) */
    s->keys = oc_calloc((size_t)g->n_inputs + 1, sizeof *s->keys);
    if (!s->keys)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < g->n_inputs; i++) {
        const oc_vinfo *vi = &g->inputs[i];
        oc_value *v = vi->value;
        const onnxc_tensor *t = oc_find_input(v->name, n, names, inputs);
        oc_rvalue *r = &s->rv[v->id];
        if (!t) {
            if (v->init)
                continue; /* IR <= 3 default */
            return oc_err(ONNXC_E_ARG, "input '%s' was not given", v->name);
        }
        st = oc_check_input(vi, t);
        if (st != ONNXC_OK)
            return st;
        oc_set_meta(&r->t, t);
        r->is_input = true;
        r->known = r->needed && t->data != NULL;
        r->is_static = false;
        oc_pkey *k = &s->keys[s->n_keys++];
        k->value = v;
        k->dtype = t->dtype;
        k->rank = t->rank;
        memcpy(k->dims, t->dims, sizeof k->dims);
        if (r->needed) {
            if (!t->data)
                return oc_err(ONNXC_E_ARG, "input '%s': its values decide shapes; give data to plan", v->name);
            k->data = oc_malloc(t->nbytes ? t->nbytes : 1);
            if (!k->data)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
            memcpy(k->data, t->data, t->nbytes);
            k->nbytes = t->nbytes;
        }
    }

    /* shape inference and plan-time evaluation, node by node */
    size_t scratch = 0;
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        const oc_kernel *k = s->kern[i];
        oc_snode *sn = &s->nodes[i];
        sn->in = oc_calloc((size_t)nd->n_inputs + 1, sizeof *sn->in);
        sn->out = oc_calloc((size_t)nd->n_outputs + 1, sizeof *sn->out);
        if (!sn->in || !sn->out)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        bool all_known = true, all_static = true, any_needed = false;
        for (int j = 0; j < nd->n_inputs; j++) {
            oc_value *v = nd->inputs[j];
            if (!v)
                continue;
            if (v->graph != g)
                return oc_err(ONNXC_E_UNSUPPORTED, "node %s: uses outer-scope value '%s'",
                              oc_node_label(nd, lbl, sizeof lbl), v->name);
            oc_rvalue *r = &s->rv[v->id];
            if (!r->t.dtype && !r->known && !r->is_input && !v->producer) {
                if (v->flags & OC_V_SPARSE)
                    return oc_err(ONNXC_E_UNSUPPORTED, "node %s: input '%s' is a sparse initializer, which onnxc "
                                  "does not run", oc_node_label(nd, lbl, sizeof lbl), v->name);
                return oc_err(ONNXC_E_INVALID, "node %s: input '%s' has no producer and is not a graph input or "
                              "initializer", oc_node_label(nd, lbl, sizeof lbl), v->name);
            }
            sn->in[j] = &r->t;
            bool shape_only = j < 32 && ((k->shape_only_inputs >> j) & 1u);
            if (!r->known && !shape_only)
                all_known = false;
            if (!r->is_static)
                all_static = false;
            if (j < 32 && ((k->value_inputs >> j) & 1u) && !r->known)
                return oc_err(ONNXC_E_UNSUPPORTED, "node %s: input '%s' decides the output shape but is computed "
                              "from run-time data", oc_node_label(nd, lbl, sizeof lbl), v->name);
        }
        for (int o = 0; o < nd->n_outputs; o++) {
            oc_value *v = nd->outputs[o];
            if (!v)
                continue;
            sn->out[o] = &s->rv[v->id].t;
            if (s->rv[v->id].needed)
                any_needed = true;
        }
        oc_kctx *c = &sn->ctx;
        c->node = nd;
        c->opset = oc_model_opset(s->model, nd->domain);
        c->n_in = nd->n_inputs;
        c->n_out = nd->n_outputs;
        c->in = sn->in;
        c->out = sn->out;
        c->pool = s->pool;
        c->const_inputs = 0;
        for (int j = 0; j < nd->n_inputs && j < 32; j++) {
            const oc_value *v = nd->inputs[j];
            if (v && s->rv[v->id].known && s->rv[v->id].is_static && !s->rv[v->id].is_input)
                c->const_inputs |= 1u << j;
        }
        st = k->infer(c);
        if (st != ONNXC_OK)
            return oc_node_error(st, nd);
        for (int o = 0; o < nd->n_outputs; o++) {
            if (!sn->out[o])
                continue;
            if (!sn->out[o]->dtype)
                return oc_err(ONNXC_E_RUNTIME, "node %s: kernel did not set output %d's type",
                              oc_node_label(nd, lbl, sizeof lbl), o);
            sn->out[o]->nbytes = oc_meta_bytes(sn->out[o]);
        }
        if (k->prepare) {
            st = k->prepare(c);
            if (st != ONNXC_OK)
                return oc_node_error(st, nd);
        }
        /* Evaluate now when every input is known and the result is needed for shapes or comes from constants
         * alone (constant folding inside the plan). */
        sn->folded = all_known && (any_needed || all_static) && nd->n_inputs > 0;
        if (!sn->folded && nd->n_inputs == 0)
            sn->folded = true; /* Constant, and other input-less producers */
        if (sn->folded) {
            void *tmp = NULL;
            if (c->scratch_size) {
                tmp = oc_aligned_alloc(c->scratch_size);
                if (!tmp)
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
            }
            c->scratch = tmp;
            for (int o = 0; o < nd->n_outputs; o++) {
                oc_value *v = nd->outputs[o];
                if (!v)
                    continue;
                oc_rvalue *r = &s->rv[v->id];
                r->owned = oc_aligned_alloc(r->t.nbytes);
                if (!r->owned) {
                    free(tmp);
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
                }
                r->t.data = r->owned;
            }
            st = k->run(c);
            free(tmp);
            c->scratch = NULL;
            if (st != ONNXC_OK)
                return oc_node_error(st, nd);
            for (int o = 0; o < nd->n_outputs; o++) {
                oc_value *v = nd->outputs[o];
                if (!v)
                    continue;
                s->rv[v->id].known = true;
                s->rv[v->id].is_static = all_static;
            }
        } else if (c->scratch_size > scratch) {
            scratch = c->scratch_size;
        }
    }

    /* liveness of run-time values: [first, last] in node positions */
    for (int i = 0; i < s->n_rv; i++) {
        s->rv[i].first = -1;
        s->rv[i].last = -1;
        s->rv[i].alias = -1;
    }
    if (!s->plain_plan) {
        oc_plan_fuse(s);
        oc_plan_blocked(s);
    }
    for (int i = 0; i < s->n_order; i++) {
        const oc_node *nd = s->order[i];
        const oc_snode *sn = &s->nodes[i];
        if (sn->folded)
            continue;
        /* a fused node's outputs are never materialised (a fusion head writes the chain's last value in
         * place of its own output), but its inputs (a residual) must live until then */
        if (!sn->fused)
            for (int o = 0; o < nd->n_outputs; o++)
                if (nd->outputs[o] && (o > 0 || sn->out[0] == &s->rv[nd->outputs[0]->id].t))
                    s->rv[nd->outputs[o]->id].first = i;
        if (!sn->fused && nd->n_outputs > 0 && nd->outputs[0] && sn->out[0] &&
            sn->out[0] != &s->rv[nd->outputs[0]->id].t)
            oc_rv_of(sn->out[0])->first = i;
        for (int j = 0; j < nd->n_inputs; j++)
            if (nd->inputs[j])
                s->rv[nd->inputs[j]->id].last = i;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        oc_rvalue *r = &s->rv[g->outputs[i].value->id];
        if (!r->t.dtype) {
            if (g->outputs[i].value->flags & OC_V_SPARSE)
                return oc_err(ONNXC_E_UNSUPPORTED, "graph output '%s' is a sparse initializer, which onnxc does not "
                              "run", g->outputs[i].value->name);
            return oc_err(ONNXC_E_INVALID, "graph output '%s' is not produced by any node, input or initializer",
                          g->outputs[i].value->name);
        }
        r->last = s->n_order;
    }
    if (!s->plain_plan)
        oc_plan_alias(s);

    /* best-fit offsets, largest first (XNNPACK's memory planner idea) */
    int *ids = oc_calloc((size_t)s->n_rv + 1, sizeof *ids);
    if (!ids)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    int nids = 0;
    for (int i = 0; i < s->n_rv; i++) {
        oc_rvalue *r = &s->rv[i];
        if (r->known || r->is_input || r->first < 0 || r->alias >= 0)
            continue;
        if (r->last < r->first)
            r->last = r->first; /* produced, never used: lives through its producer only */
        ids[nids++] = i;
    }
    for (int a = 1; a < nids; a++) { /* insertion sort by size, descending */
        int x = ids[a], b = a - 1;
        while (b >= 0 && s->rv[ids[b]].t.nbytes < s->rv[x].t.nbytes) {
            ids[b + 1] = ids[b];
            b--;
        }
        ids[b + 1] = x;
    }
    size_t arena = 0;
    for (int a = 0; a < nids; a++) {
        oc_rvalue *r = &s->rv[ids[a]];
        size_t size = oc_align_up(r->t.nbytes);
        size_t off = 0;
        /* find the lowest offset that does not collide with placed values alive at the same time */
        bool moved = true;
        while (moved) {
            moved = false;
            for (int b = 0; b < a; b++) {
                oc_rvalue *q = &s->rv[ids[b]];
                if (q->last < r->first || r->last < q->first)
                    continue;
                size_t qs = oc_align_up(q->t.nbytes);
                if (off < q->offset + qs && q->offset < off + size) {
                    off = q->offset + qs;
                    moved = true;
                }
            }
        }
        r->offset = off;
        if (off + size > arena)
            arena = off + size;
    }
    s->arena_size = arena;
    s->arena = oc_aligned_alloc(arena);
    s->scratch_size = scratch;
    s->scratch = scratch ? oc_aligned_alloc(scratch) : NULL;
    if (!s->arena || (scratch && !s->scratch)) {
        oc_free(ids);
        return oc_err(ONNXC_E_NOMEM, "out of memory for the %zu-byte arena", arena + scratch);
    }
    for (int a = 0; a < nids; a++) {
        oc_rvalue *r = &s->rv[ids[a]];
        r->t.data = s->arena + r->offset;
    }
    for (int i = 0; i < s->n_rv; i++)
        if (s->rv[i].alias >= 0)
            s->rv[i].t.data = s->rv[s->rv[i].alias].t.data;
    oc_free(ids);
    for (int i = 0; i < s->n_order; i++)
        s->nodes[i].ctx.scratch = s->scratch;
    s->planned = true;
    return ONNXC_OK;
}

/* True when these inputs fit the current plan. */
static bool oc_plan_matches(const onnxc_session *s, int n, const char *const *names,
                            const onnxc_tensor *const *inputs)
{
    if (!s->planned)
        return false;
    for (int i = 0; i < s->n_keys; i++) {
        const oc_pkey *k = &s->keys[i];
        const onnxc_tensor *t = oc_find_input(k->value->name, n, names, inputs);
        if (!t || t->dtype != k->dtype || t->rank != k->rank)
            return false;
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] != k->dims[d])
                return false;
        if (k->data && (t->nbytes < k->nbytes || memcmp(t->data, k->data, k->nbytes) != 0))
            return false;
    }
    return true;
}

onnxc_status oc_session_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    if (!s || n < 0 || (n > 0 && (!names || !inputs)))
        return oc_err(ONNXC_E_ARG, "session_run: bad arguments");
    const oc_graph *g = s->g;
    for (int i = 0; i < n; i++) {
        if (!names[i] || !inputs[i])
            return oc_err(ONNXC_E_ARG, "session_run: input %d has no name or tensor", i);
        oc_value *v = oc_graph_find(g, names[i]);
        bool is_input = false;
        for (int j = 0; v && j < g->n_inputs; j++)
            if (g->inputs[j].value == v)
                is_input = true;
        if (!is_input)
            return oc_err(ONNXC_E_ARG, "session_run: the model has no input named '%s'", names[i]);
    }
    if (!oc_plan_matches(s, n, names, inputs)) {
        onnxc_status st = oc_plan(s, n, names, inputs);
        if (st != ONNXC_OK) {
            s->planned = false;
            return st;
        }
    }
    return ONNXC_OK;
}

onnxc_status onnxc_session_run(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    onnxc_status st = oc_session_plan(s, n, names, inputs);
    if (st != ONNXC_OK)
        return st;
    const oc_graph *g = s->g;
    /* bind caller inputs (borrowed for the duration of the run) */
    for (int i = 0; i < g->n_inputs; i++) {
        oc_value *v = g->inputs[i].value;
        const onnxc_tensor *t = oc_find_input(v->name, n, names, inputs);
        if (t)
            s->rv[v->id].t.data = t->data;
    }
    for (int i = 0; i < s->n_order; i++) {
        oc_snode *sn = &s->nodes[i];
        if (sn->folded || sn->fused || sn->aliased)
            continue;
        if (s->hook && s->hook_before)
            s->hook_before(s->hook, s->order[i]);
        st = s->kern[i]->run(&sn->ctx);
        if (st != ONNXC_OK)
            return oc_node_error(st, s->order[i]);
        if (s->hook && s->hook_after) {
            st = s->hook_after(s->hook, s->order[i], (const onnxc_tensor *const *)sn->out);
            if (st != ONNXC_OK)
                return st;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        s->outputs[i] = &s->rv[g->outputs[i].value->id].t;
    s->has_run = true;
    return ONNXC_OK;
}

int onnxc_session_num_outputs(const onnxc_session *s) { return s ? s->g->n_outputs : 0; }

const char *onnxc_session_output_name(const onnxc_session *s, int i)
{
    if (!s || i < 0 || i >= s->g->n_outputs)
        return NULL;
    return s->g->outputs[i].value->name;
}

const onnxc_tensor *onnxc_session_output(const onnxc_session *s, int i)
{
    if (!s || !s->has_run || i < 0 || i >= s->g->n_outputs)
        return NULL;
    return s->outputs[i];
}

void onnxc_session_free(onnxc_session *s)
{
    if (!s)
        return;
    if (s->nodes && s->kern && s->rv)
        oc_plan_release(s);
    oc_free(s->nodes);
    oc_free(s->rv);
    oc_free(s->kern);
    onnxc_model_free(s->own_model);
    oc_free(s->order);
    oc_free(s->outputs);
    oc_pool_free(s->pool);
    oc_free(s);
}

void oc_session_set_hook(onnxc_session *s, void *user, void (*before)(void *, const oc_node *),
                         onnxc_status (*after)(void *, const oc_node *, const onnxc_tensor *const *))
{
    s->hook = user;
    s->hook_before = before;
    s->hook_after = after;
    if (after)
        oc_session_set_plain(s, true);
}

void oc_session_set_plain(onnxc_session *s, bool plain)
{
    if (s->plain_plan != plain)
        s->planned = false;
    s->plain_plan = plain;
}

size_t oc_session_arena_bytes(const onnxc_session *s) { return s ? s->arena_size + s->scratch_size : 0; }
