/* Run-time shapes: the nodes the plan could not give shapes (an op whose output size depends on data, like
 * NonZero, and everything downstream of one) are inferred when they run, with the same infer functions, and
 * their outputs get memory of their own outside the planned arena, kept and reused by the next runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "plan.h"

/* Bytes for output o as its dims say, or an error naming the node when the dims are not a valid shape. */
static onnxc_status oc_out_bytes(const oc_kctx *c, int o, size_t *bytes)
{
    const onnxc_tensor *t = c->out[o];
    int64_t n = 0;
    size_t b = 0;
    char lbl[200];
    if (t->rank < 0 || t->rank > ONNXC_MAX_RANK || !oc_numel(t->dims, t->rank, &n) ||
        !oc_mul_size((size_t)n, onnxc_dtype_size(t->dtype), &b))
        return oc_err(ONNXC_E_RUNTIME, "node %s: output %d has no valid shape", oc_node_label(c->node, lbl, sizeof lbl),
                      o);
    *bytes = b;
    return ONNXC_OK;
}

onnxc_status oc_alloc_plan_time(oc_kctx *c, int o)
{
    if (o < 0 || o >= c->n_out || !c->out[o])
        return ONNXC_OK;
    size_t bytes = 0;
    onnxc_status st = oc_out_bytes(c, o, &bytes);
    if (st != ONNXC_OK)
        return st;
    oc_rvalue *r = oc_rv_of(c->out[o]);
    free(r->owned);
    r->owned = oc_aligned_alloc(bytes);
    if (!r->owned)
        return oc_err(ONNXC_E_NOMEM, "out of memory for a %zu-byte result", bytes);
    r->t.data = r->owned;
    r->t.nbytes = bytes;
    return ONNXC_OK;
}

onnxc_status oc_alloc_dynamic(oc_kctx *c, int o)
{
    if (o < 0 || o >= c->n_out || !c->out[o])
        return ONNXC_OK;
    size_t bytes = 0;
    onnxc_status st = oc_out_bytes(c, o, &bytes);
    if (st != ONNXC_OK)
        return st;
    oc_rvalue *r = oc_rv_of(c->out[o]);
    if (!r->dyn_buf || bytes > r->dyn_cap) {
        /* grow by half again, so a size creeping up run by run does not reallocate every run */
        size_t cap = bytes + bytes / 2;
        if (cap < bytes)
            cap = bytes;
        void *p = oc_aligned_alloc(cap);
        if (!p)
            return oc_err(ONNXC_E_NOMEM, "out of memory for a %zu-byte run-time result", bytes);
        free(r->dyn_buf);
        r->dyn_buf = p;
        r->dyn_cap = cap;
    }
    r->t.data = r->dyn_buf;
    r->t.nbytes = bytes;
    return ONNXC_OK;
}

/* Make room for n bytes in a growable buffer. */
static bool oc_reserve(void **buf, size_t *cap, size_t n, bool aligned)
{
    if (*buf && n <= *cap)
        return true;
    void *p = aligned ? oc_aligned_alloc(n) : malloc(n ? n : 1);
    if (!p)
        return false;
    free(*buf);
    *buf = p;
    *cap = n;
    return true;
}

/* The node's input description for this run: per input its dtype, rank and dims, and the bytes of the inputs
 * infer reads values of. Into s->sig_tmp; returns the length, or 0 when out of memory. */
static size_t oc_signature(onnxc_session *s, const oc_kernel *k, const oc_kctx *c)
{
    size_t len = 0;
    for (int j = 0; j < c->n_in; j++) {
        const onnxc_tensor *t = c->in[j];
        len += sizeof(int32_t) * 2;
        if (!t)
            continue;
        len += (size_t)(t->rank > 0 ? t->rank : 0) * sizeof(int64_t);
        if (j < 32 && ((k->value_inputs >> j) & 1u))
            len += sizeof(size_t) + t->nbytes;
    }
    void *buf = s->sig_tmp;
    if (!oc_reserve(&buf, &s->sig_tmp_cap, len + 1, false))
        return 0;
    s->sig_tmp = buf;
    uint8_t *p = s->sig_tmp;
    for (int j = 0; j < c->n_in; j++) {
        const onnxc_tensor *t = c->in[j];
        int32_t hd[2] = {t ? t->dtype : -1, t ? t->rank : -1};
        memcpy(p, hd, sizeof hd);
        p += sizeof hd;
        if (!t)
            continue;
        if (t->rank > 0) {
            memcpy(p, t->dims, (size_t)t->rank * sizeof(int64_t));
            p += (size_t)t->rank * sizeof(int64_t);
        }
        if (j < 32 && ((k->value_inputs >> j) & 1u)) {
            memcpy(p, &t->nbytes, sizeof(size_t));
            p += sizeof(size_t);
            if (t->nbytes)
                memcpy(p, t->data, t->nbytes);
            p += t->nbytes;
        }
    }
    return len + 1;
}

onnxc_status oc_run_dynamic_node(onnxc_session *s, int pos)
{
    oc_snode *sn = &s->nodes[pos];
    const oc_kernel *k = s->kern[pos];
    oc_kctx *c = &sn->ctx;
    const bool data_shape = (s->kflags[pos] & OC_KF_DATA_SHAPE) != 0;
    char lbl[200];
    onnxc_status st = ONNXC_OK;
    const size_t len = oc_signature(s, k, c);
    if (!len)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    if (!sn->dyn_ready || len != sn->sig_len || memcmp(sn->sig, s->sig_tmp, len) != 0) {
        /* new input shapes (or shape-deciding values): infer and prepare again, as the plan does */
        sn->dyn_ready = false;
        if (c->state && k->release)
            k->release(c->state);
        c->state = NULL;
        c->scratch_size = 0;
        for (int o = 0; o < c->n_out; o++)
            if (c->out[o]) {
                c->out[o]->dtype = 0;
                c->out[o]->rank = 0;
            }
        st = k->infer(c);
        if (st != ONNXC_OK)
            return st;
        for (int o = 0; o < c->n_out; o++) {
            if (!c->out[o])
                continue;
            if (!c->out[o]->dtype)
                return oc_err(ONNXC_E_RUNTIME, "node %s: kernel did not set output %d's type",
                              oc_node_label(c->node, lbl, sizeof lbl), o);
            size_t bytes = 0;
            if (!data_shape && (st = oc_out_bytes(c, o, &bytes)) != ONNXC_OK)
                return st;
            c->out[o]->nbytes = bytes;
        }
        if (k->prepare && (st = k->prepare(c)) != ONNXC_OK)
            return st;
        uint8_t *sig = realloc(sn->sig, len);
        if (!sig)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        memcpy(sig, s->sig_tmp, len);
        sn->sig = sig;
        sn->sig_len = len;
        sn->dyn_ready = true;
    }
    if (c->scratch_size > s->scratch_size) {
        if (!oc_reserve(&s->dyn_scratch, &s->dyn_scratch_cap, c->scratch_size, true))
            return oc_err(ONNXC_E_NOMEM, "out of memory for %zu bytes of scratch", c->scratch_size);
        c->scratch = s->dyn_scratch;
    } else {
        c->scratch = s->scratch;
    }
    for (int o = 0; o < c->n_out; o++) {
        if (!c->out[o])
            continue;
        if (data_shape)
            c->out[o]->data = NULL; /* the kernel's run asks for memory once it knows the shape */
        else if ((st = oc_alloc_dynamic(c, o)) != ONNXC_OK)
            return st;
    }
    st = k->run(c);
    if (st != ONNXC_OK)
        return st;
    for (int o = 0; data_shape && o < c->n_out; o++)
        if (c->out[o] && !c->out[o]->data)
            return oc_err(ONNXC_E_RUNTIME, "node %s: kernel gave output %d no memory",
                          oc_node_label(c->node, lbl, sizeof lbl), o);
    return ONNXC_OK;
}
