/* The session's memory plan: each run-time value's lifetime in run positions, then offsets in one arena where
 * values never alive at the same time share memory (oc_memplan_place, usable without a session). */
#include <limits.h>
#include <stdint.h>

#include "ir.h"
#include "memplan.h"
#include "plan.h"

/* ---------------------------------------------------------------- placement */

typedef struct oc_by_size {
    size_t size;
    int idx;
} oc_by_size;

static int oc_by_size_cmp(const void *pa, const void *pb)
{
    const oc_by_size *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1; /* largest first */
    return (a->idx > b->idx) - (a->idx < b->idx);
}

typedef struct oc_by_first {
    int first;
    int idx;
} oc_by_first;

static int oc_by_first_cmp(const void *pa, const void *pb)
{
    const oc_by_first *a = pa, *b = pb;
    if (a->first != b->first)
        return (a->first > b->first) - (a->first < b->first);
    return (a->idx > b->idx) - (a->idx < b->idx);
}

typedef struct oc_span {
    size_t begin, end;
} oc_span;

static int oc_span_cmp(const void *pa, const void *pb)
{
    const oc_span *a = pa, *b = pb;
    return (a->begin > b->begin) - (a->begin < b->begin);
}

/* The placed blocks, searchable by lifetime: a binary search tree over all blocks ordered by first, laid out
 * implicitly (the node of a range of tree[] is its middle element, its subtrees the halves either side), where
 * each node keeps the latest `last` among the placed blocks of its subtree. Every block is in the tree from
 * the start; placing one only raises those maxima on its path, so the tree stays balanced without rotations. */
typedef struct oc_ltree {
    const oc_mblock *b;
    int n;
    int *tree;     /* block indices in order of (first, index) */
    int *rank;     /* per block: its place in tree[] */
    int *max_last; /* per place in tree[]: latest last of a placed block in that node's subtree, INT_MIN: none */
    bool *placed;  /* per block */
} oc_ltree;

static void oc_ltree_place(oc_ltree *t, int i)
{
    const int r = t->rank[i], last = t->b[i].last;
    int lo = 0, hi = t->n - 1;
    for (;;) {
        const int m = lo + (hi - lo) / 2;
        if (t->max_last[m] < last)
            t->max_last[m] = last;
        if (m == r)
            break;
        if (r < m)
            hi = m - 1;
        else
            lo = m + 1;
    }
    t->placed[i] = true;
}

/* Append to out the placed blocks alive at some position of [first, last]: those with b.first <= last and
 * b.last >= first. A subtree whose placed blocks all end before first is skipped, and so is everything right
 * of a node that starts after last. */
static void oc_ltree_alive(const oc_ltree *t, int lo, int hi, int first, int last, int *out, int *n_out)
{
    while (lo <= hi) {
        const int m = lo + (hi - lo) / 2;
        if (t->max_last[m] < first)
            return;
        oc_ltree_alive(t, lo, m - 1, first, last, out, n_out);
        const int i = t->tree[m];
        if (t->b[i].first > last)
            return;
        if (t->placed[i] && t->b[i].last >= first)
            out[(*n_out)++] = i;
        lo = m + 1;
    }
}

onnxc_status oc_memplan_place(oc_mblock *b, int n, size_t align, size_t *arena)
{
    *arena = 0;
    if (n <= 0)
        return ONNXC_OK;
    const size_t mask = align - 1;
    for (int i = 0; i < n; i++)
        if (b[i].size > SIZE_MAX - mask)
            return oc_err(ONNXC_E_NOMEM, "memory plan: a %zu-byte buffer does not fit the address space", b[i].size);
    oc_by_size *order = oc_calloc((size_t)n, sizeof *order);
    oc_by_first *byf = oc_calloc((size_t)n, sizeof *byf);
    oc_span *spans = oc_calloc((size_t)n, sizeof *spans);
    int *alive = oc_calloc((size_t)n, sizeof *alive);
    oc_ltree t = {b, n, oc_calloc((size_t)n, sizeof(int)), oc_calloc((size_t)n, sizeof(int)),
                  oc_calloc((size_t)n, sizeof(int)), oc_calloc((size_t)n, sizeof(bool))};
    onnxc_status st = ONNXC_OK;
    if (!order || !byf || !spans || !alive || !t.tree || !t.rank || !t.max_last || !t.placed) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory for the memory plan of %d buffers", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        order[i] = (oc_by_size){b[i].size, i};
        byf[i] = (oc_by_first){b[i].first, i};
    }
    qsort(order, (size_t)n, sizeof *order, oc_by_size_cmp);
    qsort(byf, (size_t)n, sizeof *byf, oc_by_first_cmp);
    for (int k = 0; k < n; k++) {
        t.tree[k] = byf[k].idx;
        t.rank[byf[k].idx] = k;
        t.max_last[k] = INT_MIN;
    }
    size_t top = 0;
    for (int k = 0; k < n; k++) {
        oc_mblock *r = &b[order[k].idx];
        const size_t size = (r->size + mask) & ~mask;
        int n_alive = 0;
        oc_ltree_alive(&t, 0, n - 1, r->first, r->last, alive, &n_alive);
        for (int a = 0; a < n_alive; a++) {
            const oc_mblock *q = &b[alive[a]];
            spans[a] = (oc_span){q->offset, q->offset + ((q->size + mask) & ~mask)};
        }
        qsort(spans, (size_t)n_alive, sizeof *spans, oc_span_cmp);
        /* The lowest offset clear of every span: walking them by start, off only moves to the end of a span it
         * collides with, and stops at the first span that starts past off + size (so do all the later ones). */
        size_t off = 0;
        for (int a = 0; a < n_alive && spans[a].begin < off + size; a++)
            if (spans[a].end > off)
                off = spans[a].end;
        if (off > SIZE_MAX - size) {
            st = oc_err(ONNXC_E_NOMEM, "memory plan: the arena would not fit the address space");
            goto done;
        }
        r->offset = off;
        if (off + size > top)
            top = off + size;
        oc_ltree_place(&t, order[k].idx);
    }
    *arena = top;
done:
    oc_free(order);
    oc_free(byf);
    oc_free(spans);
    oc_free(alive);
    oc_free(t.tree);
    oc_free(t.rank);
    oc_free(t.max_last);
    oc_free(t.placed);
    return st;
}

/* ---------------------------------------------------------------- the session's values */

onnxc_status oc_plan_liveness(onnxc_session *s)
{
    const oc_graph *g = s->g;
    for (int i = 0; i < s->n_rv; i++) {
        s->rv[i].first = -1;
        s->rv[i].last = -1;
        s->rv[i].alias = -1;
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
    /* the caller reads graph outputs after the last node */
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
    return ONNXC_OK;
}

onnxc_status oc_plan_arena(onnxc_session *s, size_t scratch)
{
    int *ids = oc_calloc((size_t)s->n_rv + 1, sizeof *ids);
    oc_mblock *blk = oc_calloc((size_t)s->n_rv + 1, sizeof *blk);
    if (!ids || !blk) {
        oc_free(ids);
        oc_free(blk);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    /* values with arena memory: computed at run time, not the caller's, not sharing another value's memory */
    int nids = 0;
    for (int i = 0; i < s->n_rv; i++) {
        oc_rvalue *r = &s->rv[i];
        if (r->known || r->is_input || r->first < 0 || r->alias >= 0)
            continue;
        if (r->last < r->first)
            r->last = r->first; /* produced, never used: lives through its producer only */
        blk[nids] = (oc_mblock){r->first, r->last, r->t.nbytes, 0};
        ids[nids++] = i;
    }
    size_t arena = 0;
    onnxc_status st = oc_memplan_place(blk, nids, OC_ALIGN, &arena);
    if (st == ONNXC_OK) {
        s->arena_size = arena;
        s->arena = oc_aligned_alloc(arena);
        s->scratch_size = scratch;
        s->scratch = scratch ? oc_aligned_alloc(scratch) : NULL;
        if (!s->arena || (scratch && !s->scratch))
            st = oc_err(ONNXC_E_NOMEM, "out of memory for the %zu-byte arena", arena + scratch);
    }
    if (st == ONNXC_OK) {
        for (int a = 0; a < nids; a++) {
            s->rv[ids[a]].offset = blk[a].offset;
            s->rv[ids[a]].t.data = s->arena + blk[a].offset;
        }
        for (int i = 0; i < s->n_rv; i++)
            if (s->rv[i].alias >= 0)
                s->rv[i].t.data = s->rv[s->rv[i].alias].t.data;
        for (int i = 0; i < s->n_order; i++)
            s->nodes[i].ctx.scratch = s->scratch;
    }
    oc_free(ids);
    oc_free(blk);
    return st;
}
