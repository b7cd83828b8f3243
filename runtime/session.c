/* Sessions: create (order and kernels, fixed once), plan for given input shapes (oc_plan runs the steps of
 * plan.h), run with no allocation, free. A run whose inputs change a planned shape (or a value the plan
 * depended on) re-plans. */
#include <cblas.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir.h"
#include "kernel.h"
#include "plan.h"
#include "session_internal.h"
#include "threadpool.h"
#include "util.h"

/* Kernel errors made with oc_kerr already name the node; others get the node label in front. */
onnxc_status oc_node_error(onnxc_status st, const oc_node *nd)
{
    if (strncmp(onnxc_last_error(), "node ", 5) == 0)
        return st;
    char lbl[200];
    return oc_err_prefix(st, "node %s", oc_node_label(nd, lbl, sizeof lbl));
}

/* ---------------------------------------------------------------- create */

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

/* A session of m (of its subgraph sub when not NULL: a branch or body, whose references to enclosing graphs
 * are given like inputs); pool NULL: its own pool of threads, else it borrows that pool (a spare run context,
 * a subgraph's session). */
static onnxc_status oc_session_new(const onnxc_model *m, const oc_graph *sub, int threads,
                                   struct oc_threadpool *pool, onnxc_session **out)
{
    *out = NULL;
    if (!m || !m->graph)
        return oc_err(ONNXC_E_ARG, "session: no model");
    onnxc_session *s = oc_calloc(1, sizeof *s);
    if (!s)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    s->range_last = -1;
    s->sub = sub;
    if (!sub && oc_model_calls_functions(m)) {
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
    s->g = sub ? sub : m->graph;
    s->threads = threads;
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
        st = oc_session_scopes(s);
    if (st == ONNXC_OK)
        oc_session_mark_needed(s);
    if (st == ONNXC_OK) {
        if (pool) {
            s->pool = pool;
            s->pool_borrowed = true;
        } else {
            st = oc_pool_create(s->threads, &s->pool);
        }
    }
    if (st == ONNXC_OK) {
        if (pthread_mutex_init(&s->ctx_mu, NULL) != 0)
            st = oc_err(ONNXC_E_NOMEM, "session: cannot create its lock");
        else if (pthread_cond_init(&s->ctx_cv, NULL) != 0) {
            pthread_mutex_destroy(&s->ctx_mu);
            st = oc_err(ONNXC_E_NOMEM, "session: cannot create its condition variable");
        } else
            s->ctx_sync = true;
    }
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

onnxc_status onnxc_session_create(const onnxc_model *m, const onnxc_session_options *opts, onnxc_session **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return oc_err(ONNXC_E_ARG, "session: no output pointer");
    int threads = opts && opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return oc_session_new(m, NULL, threads < 1 ? 1 : threads, NULL, out);
}

onnxc_status oc_session_create_sub(const onnxc_model *m, const oc_graph *sub, int threads,
                                   struct oc_threadpool *pool, onnxc_session **out)
{
    return oc_session_new(m, sub, threads < 1 ? 1 : threads, pool, out);
}

/* ---------------------------------------------------------------- run contexts */

/* Wait until the session itself is free and take it (onnxc_session_run, plan, the tools' hooks). */
static void oc_ctx_take_primary(onnxc_session *s)
{
    pthread_mutex_lock(&s->ctx_mu);
    while (s->busy)
        pthread_cond_wait(&s->ctx_cv, &s->ctx_mu);
    s->busy = true;
    pthread_mutex_unlock(&s->ctx_mu);
}

/* Any free context of s, the session itself first; a new spare when all are busy (never waits). */
static onnxc_status oc_ctx_take_any(onnxc_session *s, onnxc_session **ctx)
{
    *ctx = NULL;
    pthread_mutex_lock(&s->ctx_mu);
    onnxc_session *c = !s->busy ? s : NULL;
    for (int i = 0; !c && i < s->n_spares; i++)
        if (!s->spares[i]->busy)
            c = s->spares[i];
    if (c)
        c->busy = true;
    pthread_mutex_unlock(&s->ctx_mu);
    if (c) {
        *ctx = c;
        return ONNXC_OK;
    }
    /* planning the spare reads only the model (shared read-only), so it happens outside the lock */
    onnxc_session *spare = NULL;
    onnxc_status st = oc_session_new(s->model, s->sub, s->threads, s->pool, &spare);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "session: a run context for a concurrent run");
    spare->busy = true;
    pthread_mutex_lock(&s->ctx_mu);
    onnxc_session **grown = realloc(s->spares, (size_t)(s->n_spares + 1) * sizeof *grown);
    if (grown) {
        s->spares = grown;
        s->spares[s->n_spares++] = spare;
    }
    pthread_mutex_unlock(&s->ctx_mu);
    if (!grown) {
        onnxc_session_free(spare);
        return oc_err(ONNXC_E_NOMEM, "session: out of memory for a run context");
    }
    *ctx = spare;
    return ONNXC_OK;
}

static void oc_ctx_give_back(onnxc_session *s, onnxc_session *ctx)
{
    pthread_mutex_lock(&s->ctx_mu);
    ctx->busy = false;
    pthread_cond_broadcast(&s->ctx_cv);
    pthread_mutex_unlock(&s->ctx_mu);
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
        oc_free(sn->ctx.fuse_bn_ab);
        free(sn->sig);
        oc_half_free(sn->half);
        memset(sn, 0, sizeof *sn);
    }
    for (int i = 0; i < s->n_rv; i++) {
        oc_rvalue *r = &s->rv[i];
        if (r->owned)
            free(r->owned);
        free(r->dyn_buf);
        bool needed = r->needed, wanted = r->wanted;
        memset(r, 0, sizeof *r);
        r->needed = needed;
        r->wanted = wanted;
    }
    free(s->arena);
    s->arena = NULL;
    free(s->scratch);
    s->scratch = NULL;
    free(s->dyn_scratch);
    s->dyn_scratch = NULL;
    s->dyn_scratch_cap = 0;
    s->has_dynamic = false;
    for (int i = 0; i < s->n_keys; i++)
        oc_free(s->keys[i].data);
    oc_free(s->keys);
    s->keys = NULL;
    s->n_keys = 0;
    s->planned = false;
}

/* Plan for these inputs. inputs may carry data (a run) or not (planning at create time). The steps, each in
 * its own file (plan.h), read and fill s->rv and s->nodes in this order. */
static onnxc_status oc_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    oc_plan_release(s);
    size_t scratch = 0;
    onnxc_status st = oc_plan_bind(s, n, names, inputs);
    if (st == ONNXC_OK)
        st = oc_plan_infer(s, &scratch);
    if (st != ONNXC_OK)
        return st;
    if (!s->plain_plan) {
        oc_plan_fuse(s);
        oc_plan_blocked(s);
    }
    st = oc_plan_liveness(s);
    if (st != ONNXC_OK)
        return st;
    if (!s->plain_plan) {
        oc_plan_alias(s);
        oc_plan_concat(s);
    }
    st = oc_plan_arena(s, scratch);
    if (st != ONNXC_OK)
        return st;
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

int onnxc_session_plan_fits(const onnxc_session *s, int n, const char *const *names,
                            const onnxc_tensor *const *inputs)
{
    if (!s || n < 0 || (n > 0 && (!names || !inputs)))
        return 0;
    for (int i = 0; i < n; i++)
        if (!names[i] || !inputs[i])
            return 0;
    return oc_plan_matches(s, n, names, inputs) ? 1 : 0;
}

static onnxc_status oc_ctx_plan(onnxc_session *s, int n, const char *const *names,
                                const onnxc_tensor *const *inputs)
{
    if (!s || n < 0 || (n > 0 && (!names || !inputs)))
        return oc_err(ONNXC_E_ARG, "session_run: bad arguments");
    const oc_graph *g = s->g;
    for (int i = 0; i < n; i++) {
        if (!names[i] || !inputs[i])
            return oc_err(ONNXC_E_ARG, "session_run: input %d has no name or tensor", i);
        oc_value *v = oc_graph_find(g, names[i]);
        bool is_input = v && (v->flags & OC_V_OUTER) && s->sub;
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

/* One run on a context its caller holds. */
static onnxc_status oc_ctx_run(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    onnxc_status st = oc_ctx_plan(s, n, names, inputs);
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
    for (int i = 0; i < s->n_outer; i++) {
        const onnxc_tensor *t = oc_find_input(s->outer[i]->name, n, names, inputs);
        if (t)
            s->rv[s->outer[i]->id].t.data = t->data;
    }
    int first = s->range_last >= 0 ? s->range_first : 0;
    int last = s->range_last >= 0 && s->range_last < s->n_order ? s->range_last + 1 : s->n_order;
    for (int i = first; i < last; i++) {
        oc_snode *sn = &s->nodes[i];
        if (sn->fused && sn->fuse_head < first)
            return oc_err(ONNXC_E_RUNTIME, "session: node %d of a partial run is fused into an earlier one", i);
        if (sn->fused && sn->fuse_head >= last) /* a squeeze-excite Mul read by a later Conv */
            return oc_err(ONNXC_E_RUNTIME, "session: node %d of a partial run is fused into a later one", i);
        if (sn->folded || sn->fused || sn->aliased)
            continue;
        if (s->hook && s->hook_before)
            s->hook_before(s->hook, s->order[i]);
        st = sn->dynamic ? oc_run_dynamic_node(s, i) : oc_snode_run(sn, s->kern[i]);
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

onnxc_status oc_session_plan(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    if (!s)
        return oc_err(ONNXC_E_ARG, "session_run: bad arguments");
    oc_ctx_take_primary(s);
    onnxc_status st = oc_ctx_plan(s, n, names, inputs);
    oc_ctx_give_back(s, s);
    return st;
}

onnxc_status onnxc_session_run(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs)
{
    if (!s)
        return oc_err(ONNXC_E_ARG, "session_run: bad arguments");
    oc_ctx_take_primary(s);
    onnxc_status st = oc_ctx_run(s, n, names, inputs);
    oc_ctx_give_back(s, s);
    return st;
}

onnxc_status onnxc_session_run_outputs(onnxc_session *s, int n, const char *const *names,
                                       const onnxc_tensor *const *inputs, int n_out, onnxc_tensor **outs)
{
    if (!s || !outs || n_out != s->g->n_outputs)
        return oc_err(ONNXC_E_ARG, "session_run_outputs: bad arguments (outs must have room for the %d outputs)",
                      s ? s->g->n_outputs : 0);
    for (int i = 0; i < n_out; i++)
        outs[i] = NULL;
    onnxc_session *ctx = NULL;
    onnxc_status st = oc_ctx_take_any(s, &ctx);
    if (st != ONNXC_OK)
        return st;
    st = oc_ctx_run(ctx, n, names, inputs);
    for (int i = 0; st == ONNXC_OK && i < n_out; i++)
        st = onnxc_tensor_clone(ctx->outputs[i], &outs[i]);
    oc_ctx_give_back(s, ctx);
    if (st != ONNXC_OK)
        for (int i = 0; i < n_out; i++) {
            onnxc_tensor_free(outs[i]);
            outs[i] = NULL;
        }
    return st;
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

int onnxc_session_output_dynamic(const onnxc_session *s, int i)
{
    if (!s || !s->planned || i < 0 || i >= s->g->n_outputs)
        return 0;
    return s->rv[s->g->outputs[i].value->id].dynamic ? 1 : 0;
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
    oc_free(s->kflags);
    oc_free(s->outer);
    for (int i = 0; s->implicit && i < s->n_order; i++)
        oc_free(s->implicit[i].t);
    oc_free(s->implicit);
    free(s->sig_tmp);
    onnxc_model_free(s->own_model);
    oc_free(s->order);
    oc_free(s->pos);
    oc_node_index_free(&s->nix);
    oc_free(s->outputs);
    oc_free(s->keep);
    for (int i = 0; i < s->n_spares; i++)
        onnxc_session_free(s->spares[i]);
    free(s->spares);
    if (!s->pool_borrowed)
        oc_pool_free(s->pool);
    if (s->ctx_sync) {
        pthread_cond_destroy(&s->ctx_cv);
        pthread_mutex_destroy(&s->ctx_mu);
    }
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

onnxc_status oc_session_keep_values(onnxc_session *s, const oc_value *const *v, int n)
{
    oc_free(s->keep);
    s->keep = NULL;
    s->planned = false;
    if (n <= 0)
        return ONNXC_OK;
    s->keep = oc_calloc((size_t)s->g->n_values + 1, 1);
    if (!s->keep)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        if (!v[i] || v[i]->graph != s->g)
            return oc_err(ONNXC_E_ARG, "keep_values: value %d is not of the session's graph", i);
        s->keep[v[i]->id] = 1;
    }
    return ONNXC_OK;
}

void oc_session_set_range(onnxc_session *s, int first, int last)
{
    s->range_first = first > 0 ? first : 0;
    s->range_last = last;
}

void *oc_session_value_data(onnxc_session *s, const oc_value *v)
{
    if (!s || !v || !s->planned || v->id < 0 || v->id >= s->n_rv || s->rv[v->id].known)
        return NULL;
    return s->rv[v->id].t.data;
}

void oc_session_set_plain(onnxc_session *s, bool plain)
{
    if (s->plain_plan != plain)
        s->planned = false;
    s->plain_plan = plain;
}

size_t oc_session_arena_bytes(const onnxc_session *s) { return s ? s->arena_size + s->scratch_size : 0; }
