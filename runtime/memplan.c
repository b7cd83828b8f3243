/* The session's memory plan: each run-time value's lifetime in run positions, then offsets in one arena where
 * values never alive at the same time share memory (oc_memplan_place, usable without a session). */
#include <limits.h>
#include <stdbool.h>
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
static void oc_ltree_alive(const oc_ltree *t, int lo, int hi, int first, int last, int *out, int *n_out,
                           long long *work)
{
    while (lo <= hi && *work > 0) {
        const int m = lo + (hi - lo) / 2;
        (*work)--;
        if (t->max_last[m] < first)
            return;
        oc_ltree_alive(t, lo, m - 1, first, last, out, n_out, work);
        const int i = t->tree[m];
        if (t->b[i].first > last)
            return;
        if (t->placed[i] && t->b[i].last >= first)
            out[(*n_out)++] = i;
        lo = m + 1;
    }
}

onnxc_status oc_memplan_place_by_size(oc_mblock *b, int n, size_t align, long long work, size_t *arena,
                                      bool *finished)
{
    *arena = 0;
    *finished = true;
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
        oc_ltree_alive(&t, 0, n - 1, r->first, r->last, alive, &n_alive, &work);
        work -= n_alive;
        if (work <= 0) {
            *finished = false;
            goto done;
        }
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

/* ---------------------------------------------------------------- placement in order of time */

/* Best fit over time: blocks in order of first use (larger first among those starting together); before a
 * position's blocks are placed, the blocks that died before it give their memory back. The arena is a list of
 * segments in offset order, each used by one block or free; freeing merges a segment with its free neighbours,
 * and the free ones sit in a treap keyed by (size, offset), so "the smallest free segment that fits, lowest
 * offset among equals" is one descent. O(n log n) whatever the lifetimes. */
typedef struct oc_seg {
    size_t off, size;
    int prev, next; /* neighbours in offset order, -1: none */
    int l, r;       /* treap children (free segments only) */
    uint32_t prio;
    bool free;
} oc_seg;

static bool oc_seg_less(const oc_seg *a, const oc_seg *b)
{
    return a->size != b->size ? a->size < b->size : a->off < b->off;
}

static int oc_treap_merge(oc_seg *s, int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    if (s[a].prio > s[b].prio) {
        s[a].r = oc_treap_merge(s, s[a].r, b);
        return a;
    }
    s[b].l = oc_treap_merge(s, a, s[b].l);
    return b;
}

/* Split t into the keys below x's (into *lo) and the rest (into *hi). */
static void oc_treap_split(oc_seg *s, int t, const oc_seg *x, int *lo, int *hi)
{
    if (t < 0) {
        *lo = *hi = -1;
        return;
    }
    if (oc_seg_less(&s[t], x)) {
        oc_treap_split(s, s[t].r, x, &s[t].r, hi);
        *lo = t;
    } else {
        oc_treap_split(s, s[t].l, x, lo, &s[t].l);
        *hi = t;
    }
}

static int oc_treap_insert(oc_seg *s, int t, int x)
{
    if (t < 0) {
        s[x].l = s[x].r = -1;
        return x;
    }
    if (s[x].prio > s[t].prio) {
        oc_treap_split(s, t, &s[x], &s[x].l, &s[x].r);
        return x;
    }
    if (oc_seg_less(&s[x], &s[t]))
        s[t].l = oc_treap_insert(s, s[t].l, x);
    else
        s[t].r = oc_treap_insert(s, s[t].r, x);
    return t;
}

static int oc_treap_erase(oc_seg *s, int t, int x)
{
    if (t == x)
        return oc_treap_merge(s, s[t].l, s[t].r);
    if (oc_seg_less(&s[x], &s[t]))
        s[t].l = oc_treap_erase(s, s[t].l, x);
    else
        s[t].r = oc_treap_erase(s, s[t].r, x);
    return t;
}

typedef struct oc_arena_segs {
    oc_seg *s;
    int n, root, tail;
    size_t top;
    uint32_t rng;
} oc_arena_segs;

static int oc_seg_new(oc_arena_segs *a, size_t off, size_t size, int prev, int next)
{
    const int x = a->n++;
    a->rng ^= a->rng << 13;
    a->rng ^= a->rng >> 17;
    a->rng ^= a->rng << 5;
    a->s[x] = (oc_seg){off, size, prev, next, -1, -1, a->rng, false};
    if (prev >= 0)
        a->s[prev].next = x;
    if (next >= 0)
        a->s[next].prev = x;
    else
        a->tail = x;
    return x;
}

static void oc_seg_unlink(oc_arena_segs *a, int x)
{
    oc_seg *s = a->s;
    if (s[x].prev >= 0)
        s[s[x].prev].next = s[x].next;
    if (s[x].next >= 0)
        s[s[x].next].prev = s[x].prev;
    else
        a->tail = s[x].prev;
}

/* A used segment of size bytes (size > 0, size <= SIZE_MAX - top checked by the caller): the best-fitting free
 * one, split if larger; else the free segment at the end of the arena grown; else a new one at the end. */
static int oc_seg_alloc(oc_arena_segs *a, size_t size)
{
    oc_seg *s = a->s;
    int best = -1;
    for (int t = a->root; t >= 0;)
        if (s[t].size >= size) {
            best = t;
            t = s[t].l;
        } else {
            t = s[t].r;
        }
    if (best >= 0) {
        a->root = oc_treap_erase(s, a->root, best);
        if (s[best].size > size) {
            const int rest = oc_seg_new(a, s[best].off + size, s[best].size - size, best, s[best].next);
            s[rest].free = true;
            a->root = oc_treap_insert(s, a->root, rest);
            s[best].size = size;
        }
        s[best].free = false;
        return best;
    }
    if (a->tail >= 0 && s[a->tail].free) {
        const int t = a->tail;
        a->root = oc_treap_erase(s, a->root, t);
        s[t].size = size;
        s[t].free = false;
        a->top = s[t].off + size;
        return t;
    }
    const int x = oc_seg_new(a, a->top, size, a->tail, -1);
    a->top += size;
    return x;
}

static void oc_seg_release(oc_arena_segs *a, int x)
{
    oc_seg *s = a->s;
    const int p = s[x].prev, q = s[x].next;
    if (p >= 0 && s[p].free) {
        a->root = oc_treap_erase(s, a->root, p);
        s[p].size += s[x].size;
        oc_seg_unlink(a, x);
        x = p;
    }
    if (q >= 0 && s[q].free) {
        a->root = oc_treap_erase(s, a->root, q);
        s[x].size += s[q].size;
        oc_seg_unlink(a, q);
    }
    s[x].free = true;
    a->root = oc_treap_insert(s, a->root, x);
}

typedef struct oc_by_time {
    int key; /* first (placing) or last (freeing) */
    size_t size;
    int idx;
} oc_by_time;

static int oc_by_time_cmp(const void *pa, const void *pb)
{
    const oc_by_time *a = pa, *b = pb;
    if (a->key != b->key)
        return (a->key > b->key) - (a->key < b->key);
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

onnxc_status oc_memplan_place_by_time(oc_mblock *b, int n, size_t align, size_t *arena)
{
    *arena = 0;
    if (n <= 0)
        return ONNXC_OK;
    const size_t mask = align - 1;
    for (int i = 0; i < n; i++)
        if (b[i].size > SIZE_MAX - mask)
            return oc_err(ONNXC_E_NOMEM, "memory plan: a %zu-byte buffer does not fit the address space", b[i].size);
    oc_by_time *starts = oc_calloc((size_t)n, sizeof *starts);
    oc_by_time *ends = oc_calloc((size_t)n, sizeof *ends);
    int *seg_of = oc_calloc((size_t)n, sizeof *seg_of);
    oc_arena_segs a = {oc_calloc((size_t)n + 1, sizeof(oc_seg)), 0, -1, -1, 0, 0x9e3779b9u};
    onnxc_status st = ONNXC_OK;
    if (!starts || !ends || !seg_of || !a.s) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory for the memory plan of %d buffers", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        starts[i] = (oc_by_time){b[i].first, b[i].size, i};
        ends[i] = (oc_by_time){b[i].last, 0, i};
        seg_of[i] = -1;
    }
    qsort(starts, (size_t)n, sizeof *starts, oc_by_time_cmp);
    qsort(ends, (size_t)n, sizeof *ends, oc_by_time_cmp);
    int e = 0;
    for (int k = 0; k < n; k++) {
        oc_mblock *r = &b[starts[k].idx];
        /* every block that died before r is born has been placed (it was born earlier still) */
        for (; e < n && ends[e].key < r->first; e++)
            if (seg_of[ends[e].idx] >= 0)
                oc_seg_release(&a, seg_of[ends[e].idx]);
        const size_t size = (r->size + mask) & ~mask;
        r->offset = 0;
        if (!size)
            continue;
        if (a.top > SIZE_MAX - size) {
            st = oc_err(ONNXC_E_NOMEM, "memory plan: the arena would not fit the address space");
            goto done;
        }
        const int x = oc_seg_alloc(&a, size);
        seg_of[starts[k].idx] = x;
        r->offset = a.s[x].off;
    }
    *arena = a.top;
done:
    oc_free(starts);
    oc_free(ends);
    oc_free(seg_of);
    oc_free(a.s);
    return st;
}

/* ---------------------------------------------------------------- the two together */

onnxc_status oc_memplan_place(oc_mblock *b, int n, size_t align, size_t *arena)
{
    *arena = 0;
    if (n <= 0)
        return ONNXC_OK;
    size_t by_time = 0, by_size = 0;
    onnxc_status st = oc_memplan_place_by_time(b, n, align, &by_time);
    if (st != ONNXC_OK)
        return st;
    size_t *saved = oc_calloc((size_t)n, sizeof *saved);
    if (!saved)
        return oc_err(ONNXC_E_NOMEM, "out of memory for the memory plan of %d buffers", n);
    for (int i = 0; i < n; i++)
        saved[i] = b[i].offset;
    /* by size visits, per block, the placed blocks alive with it: a handful in a network, all of them in a
     * graph of n parallel branches (n^2 in all). Its work is capped at a multiple of n log n; past the cap,
     * the placement by time stands. */
    int log2n = 1;
    while ((1 << log2n) < n && log2n < 31)
        log2n++;
    const long long work = 8LL * n * (log2n + 1) + (1LL << 22);
    bool finished = false;
    st = oc_memplan_place_by_size(b, n, align, work, &by_size, &finished);
    if (st == ONNXC_OK && finished && by_size <= by_time) {
        *arena = by_size;
    } else {
        for (int i = 0; i < n; i++)
            b[i].offset = saved[i];
        *arena = by_time;
        st = ONNXC_OK; /* a failure of the second placement leaves the first one, which is complete */
    }
    oc_free(saved);
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
        s->rv[i].alias_off = 0;
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
        for (int k = 0; k < s->implicit[i].n; k++) /* read by its subgraphs */
            if (s->rv[s->implicit[i].v[k]->id].last < i)
                s->rv[s->implicit[i].v[k]->id].last = i;
    }
    /* a Conv that reads a fused squeeze-excite Mul's inputs, or a fused BatchNormalization's input, in its place
     * (plan_fuse.c) keeps them alive to itself */
    for (int i = 0; i < s->n_order; i++) {
        const oc_kctx *c = &s->nodes[i].ctx;
        if (s->nodes[i].folded || s->nodes[i].fused || !c->fuse_gate_x)
            continue;
        oc_rvalue *rx = oc_rv_of(c->fuse_gate_x), *rg = c->fuse_gate ? oc_rv_of(c->fuse_gate) : NULL;
        if (rx->last < i)
            rx->last = i;
        if (c->fuse_gate && rg->last < i)
            rg->last = i;
    }
    /* the caller reads graph outputs after the last node */
    for (int i = 0; i < g->n_outputs; i++) {
        oc_rvalue *r = &s->rv[g->outputs[i].value->id];
        if (!r->t.dtype && !r->dynamic) {
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
        if (r->known || r->is_input || r->first < 0 || r->alias >= 0 || r->dynamic)
            continue; /* dynamic values get memory when they run (oc_alloc_dynamic) */
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
        if (!s->arena || (scratch && !s->scratch)) {
            int big = -1; /* the largest value, to tell the user what asks for the memory */
            for (int a = 0; a < nids; a++)
                if (big < 0 || blk[a].size > blk[big].size)
                    big = a;
            if (big >= 0 && s->g->values[ids[big]])
                st = oc_err(ONNXC_E_NOMEM, "out of memory for the %zu-byte arena the plan needs (its largest "
                            "value, '%s', takes %zu bytes)", arena + scratch, s->g->values[ids[big]]->name,
                            blk[big].size);
            else
                st = oc_err(ONNXC_E_NOMEM, "out of memory for the %zu-byte arena the plan needs", arena + scratch);
        }
    }
    if (st == ONNXC_OK) {
        for (int a = 0; a < nids; a++) {
            s->rv[ids[a]].offset = blk[a].offset;
            s->rv[ids[a]].t.data = s->arena + blk[a].offset;
        }
        for (int i = 0; i < s->n_rv; i++) { /* an alias's memory: its root's, at the offsets along the way */
            if (s->rv[i].alias < 0)
                continue;
            size_t off = 0;
            int root = i;
            for (; s->rv[root].alias >= 0; root = s->rv[root].alias)
                off += s->rv[root].alias_off;
            s->rv[i].t.data = (char *)s->rv[root].t.data + off;
        }
        for (int i = 0; i < s->n_order; i++)
            s->nodes[i].ctx.scratch = s->scratch;
    }
    oc_free(ids);
    oc_free(blk);
    return st;
}
