/* Loop, Scan and SequenceMap: the body planned once as a session of its own over the body graph (re-planned by
 * that session only when the shapes it is given change), run once per iteration with the loop-carried values
 * copied from one iteration's outputs to the next one's inputs and the scan outputs stacked (SequenceMap: each
 * output gathered into a sequence); all OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS, since their output shapes are known
 * only once the loop has run. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "seqval.h"
#include "session_internal.h"

#ifdef ONNXC_FUZZ_LIMITS
/* The fuzz build (-DONNXC_FUZZ=ON) refuses longer loops, so a mutated trip count or a condition that stays true
 * cannot stall the fuzzer; a Loop's length is otherwise the model's to choose. */
#define OC_LOOP_FUZZ_MAX_ITER 4096
#endif

/* A growable byte buffer with the dtype and shape of what it holds. */
typedef struct held {
    onnxc_tensor t; /* t.data is buf */
    void *buf;
    size_t cap;
} held;

static bool held_reserve(held *h, size_t n)
{
    if (h->buf && n <= h->cap)
        return true;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap = cap * 2 > cap ? cap * 2 : n;
    void *p = realloc(h->buf, cap);
    if (!p)
        return false;
    h->buf = p;
    h->cap = cap;
    return true;
}

/* A copy of src's dtype, shape and bytes into h. */
static onnxc_status held_set(const oc_kctx *c, held *h, const onnxc_tensor *src)
{
    if (!held_reserve(h, src->nbytes))
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    h->t = *src;
    h->t.data = h->buf;
    h->t.owns_data = 0;
    if (src->nbytes)
        memcpy(h->buf, src->data, src->nbytes);
    return ONNXC_OK;
}

/* The body of a Loop or Scan: its session, and the names and tensors it is run with (its graph inputs, then the
 * values it reads from enclosing graphs, which the node's kctx.implicit holds: pointers stable for the plan). */
typedef struct body {
    onnxc_session *s;
    int n_in;
    int n;
    const char **names;
    const onnxc_tensor **ts;
} body;

static void body_free(body *b)
{
    onnxc_session_free(b->s);
    free(b->names);
    free(b->ts);
    memset(b, 0, sizeof *b);
}

static const oc_graph *body_graph(const oc_kctx *c)
{
    const oc_attr *a = oc_node_attr(c->node, "body");
    return a ? a->g : NULL;
}

static onnxc_status body_create(oc_kctx *c, body *b)
{
    const oc_graph *g = body_graph(c);
    char lbl[200];
    onnxc_status st = oc_session_create_sub(c->model, g, 1, c->pool, &b->s);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "node %s: body", oc_node_label(c->node, lbl, sizeof lbl));
    b->n_in = g->n_inputs;
    b->n = g->n_inputs + b->s->n_outer;
    b->names = calloc((size_t)b->n + 1, sizeof *b->names);
    b->ts = calloc((size_t)b->n + 1, sizeof *b->ts);
    if (!b->names || !b->ts)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    for (int i = 0; i < g->n_inputs; i++)
        b->names[i] = g->inputs[i].value->name;
    for (int k = 0; k < b->s->n_outer; k++) {
        const char *name = b->s->outer[k]->name;
        b->names[b->n_in + k] = name;
        for (int j = 0; j < c->n_implicit && !b->ts[b->n_in + k]; j++)
            if (strcmp(c->implicit_names[j], name) == 0)
                b->ts[b->n_in + k] = c->implicit[j];
        if (!b->ts[b->n_in + k])
            return oc_kerr(c, ONNXC_E_INVALID, "body reads '%s', which the graph does not define", name);
    }
    return ONNXC_OK;
}

/* Run the body once with b->ts[0..n_in) set by the caller. */
static onnxc_status body_run(const oc_kctx *c, body *b, int64_t iter)
{
    onnxc_status st = onnxc_session_run(b->s, b->n, b->names, b->ts);
    if (st != ONNXC_OK) {
        char lbl[200];
        return oc_err_prefix(st, "node %s: body, iteration %lld", oc_node_label(c->node, lbl, sizeof lbl),
                             (long long)iter);
    }
    return ONNXC_OK;
}

/* The dims of body output o when the loop ran no iteration: what the body's plan infers for inputs like the
 * first iteration's (the caller has set b->ts), else the declared dims (0 where unknown). onnxc_last_error may
 * be left set by a failed attempt. */
static void body_output_guess(const oc_kctx *c, body *b, int o, int32_t *dtype, int *rank, int64_t *dims)
{
    const oc_graph *g = body_graph(c);
    const oc_type *ty = &g->outputs[o].type;
    *dtype = ty->has_elem_type && ty->elem_type ? ty->elem_type : ONNXC_FLOAT;
    *rank = ty->kind == OC_TYPE_TENSOR && ty->rank > 0 && ty->rank <= ONNXC_MAX_RANK ? ty->rank : 0;
    for (int d = 0; d < *rank; d++)
        dims[d] = ty->dims[d].has_value && ty->dims[d].value >= 0 ? ty->dims[d].value : 0;
    if (oc_session_plan(b->s, b->n, b->names, b->ts) != ONNXC_OK)
        return; /* the declared type is all there is */
    const onnxc_tensor *t = &b->s->rv[g->outputs[o].value->id].t;
    if (b->s->rv[g->outputs[o].value->id].dynamic) {
        /* known only once the body runs: run it once on those inputs (a body that fails on them, as one indexing
         * an empty tensor by the iteration number would, leaves the declared type) */
        if (onnxc_session_run(b->s, b->n, b->names, b->ts) != ONNXC_OK || !(t = onnxc_session_output(b->s, o)))
            return;
    }
    if (!t->dtype)
        return;
    *dtype = t->dtype;
    *rank = t->rank;
    memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
}

/* A body output as a plain tensor, or an error naming it. */
static onnxc_status body_output(const oc_kctx *c, const body *b, int o, int64_t iter, const onnxc_tensor **out)
{
    const onnxc_tensor *t = onnxc_session_output(b->s, o);
    if (!t || (!t->data && t->nbytes))
        return oc_kerr(c, ONNXC_E_RUNTIME, "body output %d is missing in iteration %lld", o, (long long)iter);
    if (t->dtype == ONNXC_STRING)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "body output %d: string tensors cannot be carried or stacked", o);
    *out = t;
    return ONNXC_OK;
}

static bool same_shape(const onnxc_tensor *a, const onnxc_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

static void shape_text(const onnxc_tensor *t, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s [", onnxc_dtype_name(t->dtype));
    for (int d = 0; d < t->rank && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, d ? ",%lld" : "%lld", (long long)t->dims[d]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
}

/* Scan outputs stacked: each iteration's tensor appended to bytes (all of the first one's dtype and shape). */
typedef struct stack {
    onnxc_tensor elem; /* dtype and dims of one iteration's tensor (data unused) */
    int64_t count;
    void *bytes;
    size_t cap;
} stack;

static onnxc_status stack_push(const oc_kctx *c, stack *sk, const onnxc_tensor *t, int o, int64_t iter)
{
    if (sk->count == 0) {
        sk->elem = *t;
        sk->elem.data = NULL;
    } else if (!same_shape(&sk->elem, t)) {
        char a[200], b[200];
        shape_text(&sk->elem, a, sizeof a);
        shape_text(t, b, sizeof b);
        return oc_kerr(c, ONNXC_E_INVALID, "body output %d (a scan output) is %s in iteration %lld, %s before", o, b,
                       (long long)iter, a);
    }
    size_t need = (size_t)(sk->count + 1) * t->nbytes;
    if (t->nbytes && need / t->nbytes != (size_t)(sk->count + 1))
        return oc_kerr(c, ONNXC_E_NOMEM, "scan output %d is too large", o);
    if (need > sk->cap) {
        size_t cap = sk->cap ? sk->cap : 256;
        while (cap < need)
            cap = cap * 2 > cap ? cap * 2 : need;
        void *p = realloc(sk->bytes, cap);
        if (!p)
            return oc_kerr(c, ONNXC_E_NOMEM, "out of memory for scan output %d", o);
        sk->bytes = p;
        sk->cap = cap;
    }
    if (t->nbytes)
        memcpy((char *)sk->bytes + (size_t)sk->count * t->nbytes, t->data, t->nbytes);
    sk->count++;
    return ONNXC_OK;
}

/* Write node output out of a stack: the iterations along axis (of the output's rank), in reverse order when
 * reverse. elem gives the shape when nothing was pushed. */
static onnxc_status stack_write(oc_kctx *c, int out, const stack *sk, int64_t axis, bool reverse)
{
    onnxc_tensor *o = c->out[out];
    if (!o)
        return ONNXC_OK;
    const onnxc_tensor *e = &sk->elem;
    int rank = e->rank + 1;
    if (rank > ONNXC_MAX_RANK)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "scan output %d would have rank %d", out, rank);
    int ax = 0;
    onnxc_status st = oc_norm_axis(c, axis, rank, &ax);
    if (st != ONNXC_OK)
        return st;
    int64_t dims[ONNXC_MAX_RANK];
    for (int d = 0, k = 0; d < rank; d++)
        dims[d] = d == ax ? sk->count : e->dims[k++];
    if ((st = oc_kset_shape(c, o, e->dtype, rank, dims)) != ONNXC_OK || (st = c->alloc_out(c, out)) != ONNXC_OK)
        return st;
    if (!o->nbytes)
        return ONNXC_OK;
    const size_t es = onnxc_dtype_size(e->dtype);
    const int64_t outer = oc_dims_prod(e->dims, 0, ax);
    const size_t inner = (size_t)oc_dims_prod(e->dims, ax, e->rank) * es, elem = (size_t)outer * inner;
    const int64_t L = sk->count;
    for (int64_t t = 0; t < L; t++) {
        const char *src = (const char *)sk->bytes + (size_t)t * elem;
        const int64_t p = reverse ? L - 1 - t : t;
        for (int64_t q = 0; q < outer; q++)
            memcpy((char *)o->data + ((size_t)(q * L + p)) * inner, src + (size_t)q * inner, inner);
    }
    return ONNXC_OK;
}

static onnxc_status write_out(oc_kctx *c, int o, const onnxc_tensor *t)
{
    if (!c->out[o])
        return ONNXC_OK;
    onnxc_status st = oc_kset_shape(c, c->out[o], t->dtype, t->rank, t->dims);
    if (st == ONNXC_OK)
        st = c->alloc_out(c, o);
    if (st == ONNXC_OK && c->out[o]->nbytes)
        memcpy(c->out[o]->data, t->data, c->out[o]->nbytes);
    return st;
}

/* What a Loop or Scan keeps between runs: the body, the carried values (two sets, one iteration's inputs and the
 * next one's), the stacks, the slices of Scan inputs. */
typedef struct loop_state {
    body b;
    int n_carried, n_scan;
    held *carried[2];
    stack *stacks;
    held *slices;
    int n_slices;
    const onnxc_tensor **cur; /* n_carried: this iteration's carried inputs */
} loop_state;

static void loop_release(void *p)
{
    loop_state *s = p;
    if (!s)
        return;
    body_free(&s->b);
    for (int h = 0; h < 2; h++) {
        for (int i = 0; s->carried[h] && i < s->n_carried; i++)
            free(s->carried[h][i].buf);
        free(s->carried[h]);
    }
    for (int i = 0; s->stacks && i < s->n_scan; i++)
        free(s->stacks[i].bytes);
    free(s->stacks);
    for (int i = 0; s->slices && i < s->n_slices; i++)
        free(s->slices[i].buf);
    free(s->slices);
    free(s->cur);
    free(s);
}

static onnxc_status loop_state_new(oc_kctx *c, int n_carried, int n_scan, int n_slices)
{
    loop_state *s = calloc(1, sizeof *s);
    if (!s)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    s->n_carried = n_carried;
    s->n_scan = n_scan;
    s->n_slices = n_slices;
    s->carried[0] = calloc((size_t)n_carried + 1, sizeof(held));
    s->carried[1] = calloc((size_t)n_carried + 1, sizeof(held));
    s->stacks = calloc((size_t)n_scan + 1, sizeof(stack));
    s->slices = calloc((size_t)n_slices + 1, sizeof(held));
    s->cur = calloc((size_t)n_carried + 1, sizeof *s->cur);
    onnxc_status st = ONNXC_OK;
    if (!s->carried[0] || !s->carried[1] || !s->stacks || !s->slices || !s->cur)
        st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    if (st == ONNXC_OK)
        st = body_create(c, &s->b);
    if (st != ONNXC_OK) {
        loop_release(s);
        return st;
    }
    c->state = s;
    return ONNXC_OK;
}

/* Carried value j of this iteration's outputs (t) becomes the next iteration's input; its type must stay the
 * initial value's (init). */
static onnxc_status carry(const oc_kctx *c, loop_state *s, int j, int flip, const onnxc_tensor *t,
                          const onnxc_tensor *init, int o, int64_t iter)
{
    /* a value may replace an optional that holds one (Loop-16 carries optionals) */
    if (t->dtype != init->dtype && init->dtype != ONNXC_OPTIONAL && t->dtype != ONNXC_OPTIONAL)
        return oc_kerr(c, ONNXC_E_INVALID, "body output %d (loop-carried) is %s in iteration %lld, %s before", o,
                       onnxc_dtype_name(t->dtype), (long long)iter, onnxc_dtype_name(init->dtype));
    held *h = &s->carried[flip][j];
    onnxc_status st = held_set(c, h, t);
    if (st == ONNXC_OK)
        s->cur[j] = &h->t;
    return st;
}

/* ---------------------------------------------------------------- Loop */

/* Loop-1/11/13/16: inputs M (trip count), cond, N carried values; the body takes (iteration, cond, N carried)
 * and gives (cond, N carried, K scan outputs); the node gives the N final values and the K stacks. */
static onnxc_status loop_infer(oc_kctx *c)
{
    const oc_graph *g = body_graph(c);
    if (!g)
        return oc_kerr(c, ONNXC_E_INVALID, "no body graph");
    if (c->n_in < 2)
        return oc_kerr(c, ONNXC_E_INVALID, "needs the inputs M and cond (either may be empty), got %d inputs", c->n_in);
    const onnxc_tensor *M = c->in[0], *cond = c->in[1];
    if (!M && !cond)
        return oc_kerr(c, ONNXC_E_INVALID, "has neither a trip count M nor a condition: it would never end");
    if (M && (onnxc_tensor_numel(M) != 1 || M->dtype != ONNXC_INT64))
        return oc_kerr(c, ONNXC_E_INVALID, "trip count M must be one int64, not %lld elements of %s",
                       (long long)onnxc_tensor_numel(M), onnxc_dtype_name(M->dtype));
    if (cond && (onnxc_tensor_numel(cond) != 1 || cond->dtype != ONNXC_BOOL))
        return oc_kerr(c, ONNXC_E_INVALID, "cond must be one bool, not %lld elements of %s",
                       (long long)onnxc_tensor_numel(cond), onnxc_dtype_name(cond->dtype));
    const int N = c->n_in - 2, K = c->n_out - N;
    if (K < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "has %d loop-carried inputs but only %d outputs", N, c->n_out);
    if (g->n_inputs != N + 2)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d inputs, the Loop needs %d (iteration, cond and %d carried)",
                       g->n_inputs, N + 2, N);
    if (g->n_outputs != 1 + N + K)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d outputs, the Loop needs %d (cond, %d carried, %d scan)",
                       g->n_outputs, 1 + N + K, N, K);
    for (int j = 0; j < N; j++) {
        if (!c->in[2 + j])
            return oc_kerr(c, ONNXC_E_INVALID, "loop-carried input %d is empty", j);
        const oc_type *ty = &g->outputs[1 + j].type;
        if (ty->kind == OC_TYPE_TENSOR && ty->has_elem_type && ty->elem_type && ty->elem_type != c->in[2 + j]->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "body output %d is declared %s, the carried value it replaces is %s",
                           1 + j, onnxc_dtype_name(ty->elem_type), onnxc_dtype_name(c->in[2 + j]->dtype));
        if (c->out[j])
            c->out[j]->dtype = c->in[2 + j]->dtype;
    }
    for (int k = 0; k < K; k++) {
        const oc_type *ty = &g->outputs[1 + N + k].type;
        if (c->out[N + k])
            c->out[N + k]->dtype = ty->has_elem_type && ty->elem_type ? ty->elem_type : ONNXC_FLOAT;
    }
    return ONNXC_OK;
}

static onnxc_status loop_prepare(oc_kctx *c)
{
    const int N = c->n_in - 2;
    return loop_state_new(c, N, c->n_out - N, 0);
}

static onnxc_status loop_run(oc_kctx *c)
{
    loop_state *s = c->state;
    const int N = s->n_carried, K = s->n_scan;
    const onnxc_tensor *M = c->in[0], *cond = c->in[1];
    int64_t trips = -1;
    if (M) {
        trips = ((const int64_t *)M->data)[0];
        if (trips < 0)
            return oc_kerr(c, ONNXC_E_INVALID, "trip count M is %lld: it must not be negative", (long long)trips);
    }
    uint8_t go = cond ? ((const uint8_t *)cond->data)[0] != 0 : 1;
    int64_t iter = 0;
    onnxc_tensor it_t = {.dtype = ONNXC_INT64, .rank = 0, .data = &iter, .nbytes = sizeof iter};
    onnxc_tensor cond_t = {.dtype = ONNXC_BOOL, .rank = 0, .data = &go, .nbytes = 1};
    body *b = &s->b;
    b->ts[0] = &it_t;
    b->ts[1] = &cond_t;
    for (int j = 0; j < N; j++)
        s->cur[j] = c->in[2 + j];
    for (int k = 0; k < K; k++)
        s->stacks[k].count = 0;
    onnxc_status st = ONNXC_OK;
    int flip = 0;
    for (; (trips < 0 || iter < trips) && (!cond || go); iter++) {
#ifdef OC_LOOP_FUZZ_MAX_ITER
        if (iter >= OC_LOOP_FUZZ_MAX_ITER)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "more than %d iterations (the fuzz build's limit)",
                           OC_LOOP_FUZZ_MAX_ITER);
#endif
        for (int j = 0; j < N; j++)
            b->ts[2 + j] = s->cur[j];
        if ((st = body_run(c, b, iter)) != ONNXC_OK)
            return st;
        const onnxc_tensor *t = NULL;
        if ((st = body_output(c, b, 0, iter, &t)) != ONNXC_OK)
            return st;
        if (onnxc_tensor_numel(t) != 1 || (t->dtype != ONNXC_BOOL && !oc_dtype_is_int(t->dtype)))
            return oc_kerr(c, ONNXC_E_INVALID, "body output 0 (cond) must be one bool, not %lld elements of %s",
                           (long long)onnxc_tensor_numel(t), onnxc_dtype_name(t->dtype));
        const uint8_t next_go =
            t->dtype == ONNXC_BOOL ? ((const uint8_t *)t->data)[0] != 0 : oc_load_f64(t->dtype, t->data, 0) != 0.0;
        for (int j = 0; j < N; j++) {
            if ((st = body_output(c, b, 1 + j, iter, &t)) != ONNXC_OK ||
                (st = carry(c, s, j, flip, t, c->in[2 + j], 1 + j, iter)) != ONNXC_OK)
                return st;
        }
        for (int k = 0; k < K; k++)
            if ((st = body_output(c, b, 1 + N + k, iter, &t)) != ONNXC_OK ||
                (st = stack_push(c, &s->stacks[k], t, 1 + N + k, iter)) != ONNXC_OK)
                return st;
        flip ^= 1;
        go = next_go;
    }
    if (iter == 0 && K > 0) {
        /* no iteration: empty stacks of the shape one iteration would give */
        for (int j = 0; j < N; j++)
            b->ts[2 + j] = s->cur[j];
        for (int k = 0; k < K; k++) {
            stack *sk = &s->stacks[k];
            memset(&sk->elem, 0, sizeof sk->elem);
            int rank = 0;
            body_output_guess(c, b, 1 + N + k, &sk->elem.dtype, &rank, sk->elem.dims);
            sk->elem.rank = rank;
        }
    }
    for (int j = 0; j < N; j++)
        if ((st = write_out(c, j, s->cur[j])) != ONNXC_OK)
            return st;
    for (int k = 0; k < K; k++)
        if ((st = stack_write(c, N + k, &s->stacks[k], 0, false)) != ONNXC_OK)
            return st;
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- Scan */

/* The attribute list name (n entries, default 0 each) into v, checked against n. */
static onnxc_status scan_attr_list(const oc_kctx *c, const char *name, int n, int64_t *v)
{
    size_t len = 0;
    const int64_t *a = oc_attr_ints(c->node, name, &len);
    for (int i = 0; i < n; i++)
        v[i] = 0;
    if (!a)
        return ONNXC_OK;
    if (len != (size_t)n)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute %s has %zu entries, not %d", name, len, n);
    for (int i = 0; i < n; i++)
        v[i] = a[i];
    return ONNXC_OK;
}

/* Scan-8 takes sequence_lens first and a batch axis 0 on every input and output; Scan-9 has neither. */
static bool scan_batched(const oc_kctx *c) { return c->opset < 9; }

static onnxc_status scan_infer(oc_kctx *c)
{
    const oc_graph *g = body_graph(c);
    if (!g)
        return oc_kerr(c, ONNXC_E_INVALID, "no body graph");
    const int first = scan_batched(c) ? 1 : 0;
    const int64_t M = oc_attr_int(c->node, "num_scan_inputs", -1);
    if (M < 1 || M > c->n_in - first)
        return oc_kerr(c, ONNXC_E_INVALID, "num_scan_inputs is %lld, the node has %d state and scan inputs",
                       (long long)M, c->n_in - first);
    const int N = c->n_in - first - (int)M, K = c->n_out - N;
    if (K < 0)
        return oc_kerr(c, ONNXC_E_INVALID, "has %d state inputs but only %d outputs", N, c->n_out);
    if (g->n_inputs != N + (int)M)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d inputs, the Scan needs %d (%d states, %lld scan inputs)",
                       g->n_inputs, N + (int)M, N, (long long)M);
    if (g->n_outputs != N + K)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d outputs, the Scan needs %d (%d states, %d scan outputs)",
                       g->n_outputs, N + K, N, K);
    if (first && c->in[0] && c->in[0]->dtype != ONNXC_INT32 && c->in[0]->dtype != ONNXC_INT64)
        return oc_kerr(c, ONNXC_E_INVALID, "sequence_lens must be int32 or int64");
    for (int i = first; i < c->n_in; i++)
        if (!c->in[i])
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is empty", i);
    int64_t lists[ONNXC_MAX_RANK * 8];
    if (M > (int64_t)(sizeof lists / sizeof lists[0]) || K > (int)(sizeof lists / sizeof lists[0]))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "more than %zu scan inputs or outputs", sizeof lists / sizeof lists[0]);
    onnxc_status st = ONNXC_OK;
    if (!first) {
        if ((st = scan_attr_list(c, "scan_input_axes", (int)M, lists)) != ONNXC_OK)
            return st;
        for (int j = 0; j < M; j++) {
            int ax = 0;
            if ((st = oc_norm_axis(c, lists[j], c->in[N + j]->rank, &ax)) != ONNXC_OK)
                return st;
        }
        if ((st = scan_attr_list(c, "scan_input_directions", (int)M, lists)) != ONNXC_OK ||
            (st = scan_attr_list(c, "scan_output_axes", K, lists)) != ONNXC_OK ||
            (st = scan_attr_list(c, "scan_output_directions", K, lists)) != ONNXC_OK)
            return st;
    } else {
        if ((st = scan_attr_list(c, "directions", (int)M, lists)) != ONNXC_OK)
            return st;
        for (int i = 1; i < c->n_in; i++)
            if (c->in[i]->rank < (i > N ? 2 : 1))
                return oc_kerr(c, ONNXC_E_INVALID, "input %d has rank %d: Scan-8 needs a batch axis%s", i,
                               c->in[i]->rank, i > N ? " and a sequence axis" : "");
    }
    for (int j = 0; j < N; j++)
        if (c->out[j])
            c->out[j]->dtype = c->in[first + j]->dtype;
    for (int k = 0; k < K; k++) {
        const oc_type *ty = &g->outputs[N + k].type;
        if (c->out[N + k])
            c->out[N + k]->dtype = ty->has_elem_type && ty->elem_type ? ty->elem_type : ONNXC_FLOAT;
    }
    return ONNXC_OK;
}

static onnxc_status scan_prepare(oc_kctx *c)
{
    const int first = scan_batched(c) ? 1 : 0;
    const int M = (int)oc_attr_int(c->node, "num_scan_inputs", 1);
    const int N = c->n_in - first - M;
    return loop_state_new(c, N, c->n_out - N, M);
}

/* Slice t of in along axis (the input as [outer][L][inner]) into h. */
static onnxc_status scan_slice(const oc_kctx *c, held *h, const onnxc_tensor *in, int axis, int64_t t)
{
    const size_t es = onnxc_dtype_size(in->dtype);
    const int64_t L = in->dims[axis], outer = oc_dims_prod(in->dims, 0, axis);
    const size_t inner = (size_t)oc_dims_prod(in->dims, axis + 1, in->rank) * es;
    if (!held_reserve(h, (size_t)outer * inner))
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    h->t.dtype = in->dtype;
    h->t.rank = in->rank - 1;
    for (int d = 0, k = 0; d < in->rank; d++)
        if (d != axis)
            h->t.dims[k++] = in->dims[d];
    h->t.data = h->buf;
    h->t.nbytes = (size_t)outer * inner;
    h->t.owns_data = 0;
    for (int64_t q = 0; q < outer; q++)
        memcpy((char *)h->buf + (size_t)q * inner, (const char *)in->data + ((size_t)(q * L + t)) * inner, inner);
    return ONNXC_OK;
}

/* One Scan over states[0..N) and scan inputs xs[0..M) (already without a batch axis): the final states in
 * s->cur, the stacks in s->stacks (in iteration order). */
static onnxc_status scan_core(oc_kctx *c, loop_state *s, const onnxc_tensor *const *states,
                              const onnxc_tensor *const *xs, const int64_t *in_axes, const int64_t *in_dirs)
{
    const int N = s->n_carried, K = s->n_scan, M = s->n_slices;
    body *b = &s->b;
    int axes[ONNXC_MAX_RANK * 8];
    int64_t L = -1;
    onnxc_status st = ONNXC_OK;
    for (int j = 0; j < M; j++) {
        if ((st = oc_norm_axis(c, in_axes[j], xs[j]->rank, &axes[j])) != ONNXC_OK)
            return st;
        if (xs[j]->dtype == ONNXC_STRING)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "scan input %d: string tensors cannot be sliced", j);
        const int64_t n = xs[j]->dims[axes[j]];
        if (L < 0)
            L = n;
        else if (n != L)
            return oc_kerr(c, ONNXC_E_INVALID, "scan input %d has %lld entries along axis %d, scan input 0 has %lld", j,
                           (long long)n, axes[j], (long long)L);
    }
    for (int j = 0; j < N; j++)
        s->cur[j] = states[j];
    for (int k = 0; k < K; k++)
        s->stacks[k].count = 0;
    int flip = 0;
    for (int64_t it = 0; it < L; it++) {
        for (int j = 0; j < N; j++)
            b->ts[j] = s->cur[j];
        for (int j = 0; j < M; j++) {
            if ((st = scan_slice(c, &s->slices[j], xs[j], axes[j], in_dirs[j] ? L - 1 - it : it)) != ONNXC_OK)
                return st;
            b->ts[N + j] = &s->slices[j].t;
        }
        if ((st = body_run(c, b, it)) != ONNXC_OK)
            return st;
        const onnxc_tensor *t = NULL;
        for (int j = 0; j < N; j++)
            if ((st = body_output(c, b, j, it, &t)) != ONNXC_OK ||
                (st = carry(c, s, j, flip, t, states[j], j, it)) != ONNXC_OK)
                return st;
        for (int k = 0; k < K; k++)
            if ((st = body_output(c, b, N + k, it, &t)) != ONNXC_OK ||
                (st = stack_push(c, &s->stacks[k], t, N + k, it)) != ONNXC_OK)
                return st;
        flip ^= 1;
    }
    if (L <= 0 && K > 0) {
        /* no iteration: empty stacks of the shape one iteration would give (slices of zero-length inputs) */
        for (int j = 0; j < N; j++)
            b->ts[j] = s->cur[j];
        for (int j = 0; j < M; j++) {
            held *h = &s->slices[j];
            h->t = *xs[j];
            h->t.rank = xs[j]->rank - 1;
            for (int d = 0, k = 0; d < xs[j]->rank; d++)
                if (d != axes[j])
                    h->t.dims[k++] = xs[j]->dims[d];
            h->t.nbytes = (size_t)oc_dims_prod(h->t.dims, 0, h->t.rank) * onnxc_dtype_size(h->t.dtype);
            if (!held_reserve(h, h->t.nbytes + 1))
                return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
            memset(h->buf, 0, h->t.nbytes); /* only planned, never run */
            h->t.data = h->buf;
            h->t.owns_data = 0;
            b->ts[N + j] = &h->t;
        }
        for (int k = 0; k < K; k++) {
            stack *sk = &s->stacks[k];
            memset(&sk->elem, 0, sizeof sk->elem);
            int rank = 0;
            body_output_guess(c, b, N + k, &sk->elem.dtype, &rank, sk->elem.dims);
            sk->elem.rank = rank;
        }
    }
    return ONNXC_OK;
}

static onnxc_status scan_run(oc_kctx *c)
{
    loop_state *s = c->state;
    const int N = s->n_carried, K = s->n_scan, M = s->n_slices;
    int64_t in_axes[ONNXC_MAX_RANK * 8], in_dirs[ONNXC_MAX_RANK * 8], out_axes[ONNXC_MAX_RANK * 8],
        out_dirs[ONNXC_MAX_RANK * 8];
    onnxc_status st = ONNXC_OK;
    if (!scan_batched(c)) {
        if ((st = scan_attr_list(c, "scan_input_axes", M, in_axes)) != ONNXC_OK ||
            (st = scan_attr_list(c, "scan_input_directions", M, in_dirs)) != ONNXC_OK ||
            (st = scan_attr_list(c, "scan_output_axes", K, out_axes)) != ONNXC_OK ||
            (st = scan_attr_list(c, "scan_output_directions", K, out_dirs)) != ONNXC_OK)
            return st;
        if ((st = scan_core(c, s, (const onnxc_tensor *const *)c->in, (const onnxc_tensor *const *)c->in + N, in_axes,
                            in_dirs)) != ONNXC_OK)
            return st;
        for (int j = 0; j < N; j++)
            if ((st = write_out(c, j, s->cur[j])) != ONNXC_OK)
                return st;
        for (int k = 0; k < K; k++)
            if ((st = stack_write(c, N + k, &s->stacks[k], out_axes[k], out_dirs[k] != 0)) != ONNXC_OK)
                return st;
        return ONNXC_OK;
    }
    /* Scan-8: each batch entry scanned on its own (sequence axis 1 of the inputs: 0 of a batch entry), the
     * results stacked along the batch axis */
    if ((st = scan_attr_list(c, "directions", M, in_dirs)) != ONNXC_OK)
        return st;
    for (int j = 0; j < M; j++)
        in_axes[j] = 0;
    const int64_t B = c->in[1]->dims[0];
    for (int i = 2; i < c->n_in; i++)
        if (c->in[i]->dims[0] != B)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d has batch size %lld, input 1 has %lld", i,
                           (long long)c->in[i]->dims[0], (long long)B);
    const onnxc_tensor *lens = c->in[0];
    if (lens && onnxc_tensor_numel(lens) != B)
        return oc_kerr(c, ONNXC_E_INVALID, "sequence_lens has %lld entries, the batch %lld",
                       (long long)onnxc_tensor_numel(lens), (long long)B);
    const int64_t L = c->in[1 + N]->dims[1];
    for (int64_t bi = 0; lens && bi < B; bi++) {
        int64_t v = (int64_t)oc_load_f64(lens->dtype, lens->data, bi);
        if (v != L)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED,
                           "sequence_lens[%lld] is %lld: only full-length sequences (%lld) "
                           "are supported",
                           (long long)bi, (long long)v, (long long)L);
    }
    onnxc_tensor views[ONNXC_MAX_RANK * 8];
    const onnxc_tensor *vp[ONNXC_MAX_RANK * 8];
    if (N + M > (int)(sizeof views / sizeof views[0]))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "too many inputs");
    onnxc_tensor first_out[ONNXC_MAX_RANK * 8];
    for (int64_t bi = 0; bi < B; bi++) {
        for (int i = 0; i < N + M; i++) {
            const onnxc_tensor *in = c->in[1 + i];
            onnxc_tensor *v = &views[i];
            memset(v, 0, sizeof *v);
            v->dtype = in->dtype;
            v->rank = in->rank - 1;
            memcpy(v->dims, in->dims + 1, sizeof(int64_t) * (size_t)v->rank);
            v->nbytes = B ? in->nbytes / (size_t)B : 0;
            v->data = (char *)in->data + (size_t)bi * v->nbytes;
            vp[i] = v;
        }
        if ((st = scan_core(c, s, vp, vp + N, in_axes, in_dirs)) != ONNXC_OK)
            return st;
        for (int o = 0; o < N + K; o++) {
            onnxc_tensor e;
            if (o < N) {
                e = *s->cur[o];
            } else {
                const stack *sk = &s->stacks[o - N];
                e = sk->elem;
                e.rank = sk->elem.rank + 1;
                e.dims[0] = sk->count;
                memcpy(e.dims + 1, sk->elem.dims, sizeof(int64_t) * (size_t)sk->elem.rank);
                e.nbytes = (size_t)sk->count * (sk->count ? sk->elem.nbytes : 0);
            }
            if (bi == 0) {
                first_out[o] = e;
                int64_t dims[ONNXC_MAX_RANK];
                if (e.rank + 1 > ONNXC_MAX_RANK)
                    return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output %d would have rank %d", o, e.rank + 1);
                dims[0] = B;
                memcpy(dims + 1, e.dims, sizeof(int64_t) * (size_t)e.rank);
                if (c->out[o] &&
                    ((st = oc_kset_shape(c, c->out[o], e.dtype, e.rank + 1, dims)) != ONNXC_OK ||
                     (st = c->alloc_out(c, o)) != ONNXC_OK))
                    return st;
            } else if (!same_shape(&first_out[o], &e)) {
                return oc_kerr(c, ONNXC_E_INVALID, "output %d has another shape for batch entry %lld", o,
                               (long long)bi);
            }
            if (!c->out[o] || !c->out[o]->nbytes)
                continue;
            const size_t part = c->out[o]->nbytes / (size_t)B;
            char *dst = (char *)c->out[o]->data + (size_t)bi * part;
            if (o < N) {
                memcpy(dst, s->cur[o]->data, part);
            } else {
                /* stacks are in iteration order; a reverse direction does not apply to Scan-8 outputs */
                memcpy(dst, s->stacks[o - N].bytes, part);
            }
        }
    }
    if (B == 0)
        for (int o = 0; o < N + K; o++)
            if (c->out[o]) {
                const onnxc_tensor *src = o < N ? c->in[1 + o] : NULL;
                int64_t dims[ONNXC_MAX_RANK] = {0};
                int rank = src ? src->rank : 2;
                if (src)
                    memcpy(dims, src->dims, sizeof(int64_t) * (size_t)rank);
                if ((st = oc_kset_shape(c, c->out[o], c->out[o]->dtype, rank, dims)) != ONNXC_OK ||
                    (st = c->alloc_out(c, o)) != ONNXC_OK)
                    return st;
            }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- SequenceMap */

/* SequenceMap-17: the body once per item of input_sequence, given item i of every sequence input and the whole
 * of every tensor input; each body output gathered into an output sequence. */
static onnxc_status seqmap_infer(oc_kctx *c)
{
    const oc_graph *g = body_graph(c);
    if (!g)
        return oc_kerr(c, ONNXC_E_INVALID, "no body graph");
    if (c->n_in < 1 || !c->in[0] || c->in[0]->dtype != ONNXC_SEQUENCE)
        return oc_kerr(c, ONNXC_E_INVALID, "input 0 must be a sequence");
    if (g->n_inputs != c->n_in)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d inputs, the node %d", g->n_inputs, c->n_in);
    if (g->n_outputs != c->n_out)
        return oc_kerr(c, ONNXC_E_INVALID, "body has %d outputs, the node %d", g->n_outputs, c->n_out);
    for (int j = 0; j < c->n_in; j++)
        if (!c->in[j])
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is empty", j);
    for (int o = 0; o < c->n_out; o++)
        if (c->out[o])
            c->out[o]->dtype = ONNXC_SEQUENCE;
    return ONNXC_OK;
}

static onnxc_status seqmap_prepare(oc_kctx *c) { return loop_state_new(c, 0, c->n_out, 0); }

static onnxc_status seqmap_run(oc_kctx *c)
{
    loop_state *s = c->state;
    body *b = &s->b;
    const int64_t n = oc_seq_len(c->in[0]);
    for (int j = 0; j < c->n_in; j++) {
        if (c->in[j]->dtype == ONNXC_SEQUENCE && !oc_seq_valid(c->in[j]))
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is not a valid sequence", j);
        if (c->in[j]->dtype == ONNXC_SEQUENCE && oc_seq_len(c->in[j]) != n)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d has %lld items, input 0 %lld", j,
                           (long long)oc_seq_len(c->in[j]), (long long)n);
    }
    const int K = c->n_out;
    onnxc_tensor *views = calloc((size_t)c->n_in + 1, sizeof *views);
    onnxc_tensor **items = calloc((size_t)(K * n) + 1, sizeof *items);
    onnxc_status st = views && items ? ONNXC_OK : oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    for (int64_t i = 0; st == ONNXC_OK && i < n; i++) {
        for (int j = 0; j < c->n_in; j++) {
            if (c->in[j]->dtype == ONNXC_SEQUENCE) {
                oc_seq_at(c->in[j], i, &views[j]);
                b->ts[j] = &views[j];
            } else {
                b->ts[j] = c->in[j];
            }
        }
        if ((st = body_run(c, b, i)) != ONNXC_OK)
            break;
        for (int k = 0; st == ONNXC_OK && k < K; k++) {
            const onnxc_tensor *t = NULL;
            if ((st = body_output(c, b, k, i, &t)) == ONNXC_OK && onnxc_tensor_clone(t, &items[k * n + i]) != ONNXC_OK)
                st = oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
        }
    }
    for (int k = 0; st == ONNXC_OK && k < K; k++) {
        if (!c->out[k])
            continue;
        const onnxc_tensor *const *its = (const onnxc_tensor *const *)items + k * n;
        size_t bytes = 0;
        const char *why = NULL;
        if (!oc_seq_bytes(n, its, &bytes, &why)) {
            st = oc_kerr(c, ONNXC_E_UNSUPPORTED, "output %d: %s", k, why);
            break;
        }
        const int64_t d = (int64_t)bytes;
        if ((st = oc_kset_shape(c, c->out[k], ONNXC_SEQUENCE, 1, &d)) != ONNXC_OK ||
            (st = c->alloc_out(c, k)) != ONNXC_OK)
            break;
        oc_seq_write(c->out[k]->data, ONNXC_SEQUENCE, n ? its[0]->dtype : ONNXC_UNDEFINED, n, its);
    }
    for (int64_t i = 0; items && i < K * n; i++)
        onnxc_tensor_free(items[i]);
    free(items);
    free(views);
    return st;
}

const oc_kernel oc_kernels_loop[] = {
    {"Loop", NULL, 1, 0, 0, loop_infer, loop_prepare, loop_run, loop_release, 0},
    {"Scan", NULL, 8, 0, 0, scan_infer, scan_prepare, scan_run, loop_release, 0},
    {"SequenceMap", NULL, 17, 0, 0, seqmap_infer, seqmap_prepare, seqmap_run, loop_release, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
