/* Einsum (opset 12): any equation of numpy's grammar (explicit or implicit output, repeated letters in a term:
 * diagonals, '...' broadcast across operands, letters summed away). The operands are folded left to right:
 * each pair becomes one batched matrix product C[b] = A[b] B[b] through BLAS (sgemm for float32, dgemm for the
 * other types), with A [batch, kept-left, contracted] and B [batch, contracted, kept-right] gathered from the
 * operands (diagonals, broadcast and letters no one else uses summed while gathering); the last step gathers
 * into the output's order; an operand that already has the product's layout (or its transpose) is read in place,
 * and the last product is written straight into the output when that is its layout. Integer operands are
 * computed in double (exact while the values and partial sums stay below 2^53 in magnitude). */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "kutil.h"
#include "linalg.h"

#define MAXR ONNXC_MAX_RANK
#define EIN_MAXIN 16      /* operands */
#define EIN_NL (52 + MAXR) /* labels: A-Z, a-z (ASCII order), then one per ellipsis dim */
#define EIN_MAXEL ((int64_t)1 << 40)

typedef struct ein_plan {
    int n_in;
    int rank[EIN_MAXIN];
    int lab[EIN_MAXIN][MAXR]; /* each input dim's label */
    int n_out;
    int out_lab[MAXR];
    int64_t size[EIN_NL];     /* each label's size (broadcast: the largest) */
    bool used[EIN_NL];
    bool in_out[EIN_NL];
    int last_in[EIN_NL];      /* last operand that has the label */
    int64_t max_a, max_b, max_c; /* elements of the gathered buffers, largest over the steps */
} ein_plan;

static int ein_letter(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return 26 + ch - 'a';
    return -1;
}

/* Parse one term (up to ',', '-' or the end) into labels: letters, and -1 for the ellipsis; *n letters + one per
 * ellipsis. Returns the position after the term, or NULL on a syntax error. */
static const char *ein_term(const char *s, int *labs, int *n, bool *ell, int *ell_at)
{
    *n = 0;
    *ell = false;
    for (; *s && *s != ',' && *s != '-'; s++) {
        if (*s == ' ')
            continue;
        if (*s == '.') {
            if (*ell || s[1] != '.' || s[2] != '.')
                return NULL;
            *ell = true;
            *ell_at = *n;
            s += 2;
            continue;
        }
        int l = ein_letter(*s);
        if (l < 0 || *n >= MAXR)
            return NULL;
        labs[(*n)++] = l;
    }
    return s;
}

static onnxc_status ein_build(const oc_kctx *c, ein_plan *p)
{
    char buf[1024];
    const char *eq = oc_attr_string(c->node, "equation", "", buf, sizeof buf);
    if (!oc_node_attr(c->node, "equation") || strlen(eq) >= sizeof buf - 1)
        return oc_kerr(c, ONNXC_E_INVALID, "attribute equation is missing or longer than %zu bytes", sizeof buf - 2);
    memset(p, 0, sizeof *p);
    p->n_in = c->n_in;
    if (c->n_in < 1 || c->n_in > EIN_MAXIN)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "%d operands (1 to %d are supported)", c->n_in, EIN_MAXIN);
    int letters[EIN_MAXIN][MAXR], nl[EIN_MAXIN], ell_at[EIN_MAXIN], ell_n[EIN_MAXIN], max_ell = 0;
    bool ell[EIN_MAXIN];
    const char *s = eq;
    int32_t dt = 0;
    for (int i = 0; i < c->n_in; i++) {
        const onnxc_tensor *x = c->in[i];
        if (!x)
            return oc_kerr(c, ONNXC_E_INVALID, "operand %d is missing", i);
        if (i == 0)
            dt = x->dtype;
        else if (x->dtype != dt)
            return oc_kerr(c, ONNXC_E_INVALID, "operand %d is %s, operand 0 %s", i, onnxc_dtype_name(x->dtype),
                           onnxc_dtype_name(dt));
        if (i > 0) {
            if (*s != ',')
                return oc_kerr(c, ONNXC_E_INVALID, "equation '%s' has fewer terms than the %d operands", eq, c->n_in);
            s++;
        }
        s = ein_term(s, letters[i], &nl[i], &ell[i], &ell_at[i]);
        if (!s || (*s == '-' && s[1] != '>'))
            return oc_kerr(c, ONNXC_E_INVALID, "cannot parse equation '%s'", eq);
        ell_n[i] = ell[i] ? x->rank - nl[i] : 0;
        if (ell_n[i] < 0 || (!ell[i] && nl[i] != x->rank))
            return oc_kerr(c, ONNXC_E_INVALID, "term %d of '%s' has %d letters but operand %d has rank %d", i, eq,
                           nl[i], i, (int)x->rank);
        if (ell_n[i] > max_ell)
            max_ell = ell_n[i];
    }
    bool explicit_out = false;
    int olabs[MAXR], onl = 0, oell_at = 0;
    bool oell = false;
    if (*s == '-') {
        if (s[1] != '>')
            return oc_kerr(c, ONNXC_E_INVALID, "cannot parse equation '%s'", eq);
        s = ein_term(s + 2, olabs, &onl, &oell, &oell_at);
        if (!s || *s)
            return oc_kerr(c, ONNXC_E_INVALID, "cannot parse the output of equation '%s'", eq);
        explicit_out = true;
    } else if (*s)
        return oc_kerr(c, ONNXC_E_INVALID, "equation '%s' has more terms than the %d operands", eq, c->n_in);
    /* labels of every input dim, sizes */
    int count[EIN_NL] = {0};
    for (int i = 0; i < c->n_in; i++) {
        const onnxc_tensor *x = c->in[i];
        p->rank[i] = x->rank;
        for (int d = 0, li = 0; d < x->rank; d++) {
            int l;
            if (ell[i] && d >= ell_at[i] && d < ell_at[i] + ell_n[i])
                l = 52 + (max_ell - ell_n[i]) + (d - ell_at[i]);
            else
                l = letters[i][li++];
            p->lab[i][d] = l;
            int64_t sz = x->dims[d];
            if (!p->used[l] || p->size[l] == 1)
                p->size[l] = sz;
            else if (sz != p->size[l] && sz != 1)
                return oc_kerr(c, ONNXC_E_INVALID, "label '%c' has sizes %lld and %lld",
                               l < 52 ? (l < 26 ? 'A' + l : 'a' + l - 26) : '.', (long long)p->size[l],
                               (long long)sz);
            p->used[l] = true;
            p->last_in[l] = i;
            count[l]++;
        }
        /* a letter repeated within one term (a diagonal) must have one size there */
        for (int d = 0; d < x->rank; d++)
            for (int e = d + 1; e < x->rank; e++)
                if (p->lab[i][d] == p->lab[i][e] && x->dims[d] != x->dims[e])
                    return oc_kerr(c, ONNXC_E_INVALID, "operand %d repeats a letter over dims of sizes %lld and %lld",
                                   i, (long long)x->dims[d], (long long)x->dims[e]);
    }
    /* output labels */
    if (explicit_out) {
        for (int k = 0, li = 0; k < onl + (oell ? max_ell : 0); k++) {
            int l;
            if (oell && k >= oell_at && k < oell_at + max_ell)
                l = 52 + k - oell_at;
            else
                l = olabs[li++];
            if (!p->used[l] || p->in_out[l])
                return oc_kerr(c, ONNXC_E_INVALID, "output of '%s' has a letter no operand has, or one twice", eq);
            if (p->n_out >= MAXR)
                return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output of rank > %d", MAXR);
            p->in_out[l] = true;
            p->out_lab[p->n_out++] = l;
        }
    } else {
        for (int k = 0; k < max_ell; k++) {
            p->in_out[52 + k] = true;
            p->out_lab[p->n_out++] = 52 + k;
        }
        for (int l = 0; l < 52; l++)
            if (count[l] == 1) {
                if (p->n_out >= MAXR)
                    return oc_kerr(c, ONNXC_E_UNSUPPORTED, "output of rank > %d", MAXR);
                p->in_out[l] = true;
                p->out_lab[p->n_out++] = l;
            }
    }
    return ONNXC_OK;
}

/* The labels of a step's product: batch (both, needed later), m (left only, later), k (both, not later), n (right
 * only, later), given the left operand's label set. */
typedef struct ein_step {
    int nb, nm, nk, nn;
    int b[EIN_NL], m[EIN_NL], k[EIN_NL], n[EIN_NL];
    int64_t B, M, K, N;
} ein_step;

static bool ein_later(const ein_plan *p, int l, int i) { return p->in_out[l] || p->last_in[l] > i; }

static bool has_label(const ein_plan *p, int i, int l)
{
    for (int d = 0; d < p->rank[i]; d++)
        if (p->lab[i][d] == l)
            return true;
    return false;
}

static onnxc_status ein_step_make(const oc_kctx *c, const ein_plan *p, const bool *left, int i, ein_step *s)
{
    memset(s, 0, sizeof *s);
    s->B = s->M = s->K = s->N = 1;
    for (int l = 0; l < EIN_NL; l++) {
        bool inl = left[l], inr = has_label(p, i, l), later = ein_later(p, l, i);
        int64_t *prod;
        if (inl && inr && later)
            s->b[s->nb++] = l, prod = &s->B;
        else if (inl && inr)
            s->k[s->nk++] = l, prod = &s->K;
        else if (inl && later)
            s->m[s->nm++] = l, prod = &s->M;
        else if (inr && later)
            s->n[s->nn++] = l, prod = &s->N;
        else
            continue;
        if (!oc_mul_i64(*prod, p->size[l], prod) || *prod > EIN_MAXEL)
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "an intermediate product is too large");
    }
    if (s->nb + s->nm + s->nn > MAXR)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "an intermediate product of rank > %d", MAXR);
    int64_t t;
    if (!oc_mul_i64(s->B, s->M, &t) || !oc_mul_i64(t, s->N, &t) || t > EIN_MAXEL || !oc_mul_i64(s->B, s->K, &t) ||
        !oc_mul_i64(t, s->M > s->N ? s->M : s->N, &t) || t > EIN_MAXEL || !oc_blas_fits(s->M * s->K) ||
        !oc_blas_fits(s->K * s->N) || !oc_blas_fits(s->M * s->N))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "an intermediate product is too large");
    return ONNXC_OK;
}

static onnxc_status ein_infer(oc_kctx *c)
{
    ein_plan p;
    onnxc_status st = ein_build(c, &p);
    if (st != ONNXC_OK)
        return st;
    int32_t dt = c->in[0]->dtype;
    if (!oc_dtype_is_float(dt) && !oc_dtype_is_int(dt))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "operand type %s", onnxc_dtype_name(dt));
    int64_t dims[MAXR];
    for (int k = 0; k < p.n_out; k++)
        dims[k] = p.size[p.out_lab[k]];
    if ((st = oc_kset_shape(c, c->out[0], dt, p.n_out, dims)) != ONNXC_OK)
        return st;
    /* scratch: the gathered A, B and the product C of the largest step */
    bool left[EIN_NL] = {false};
    for (int d = 0; d < p.rank[0]; d++)
        left[p.lab[0][d]] = true;
    int64_t ma = 0, mb = 0, mc = 0;
    for (int i = 1; i < p.n_in; i++) {
        ein_step s;
        if ((st = ein_step_make(c, &p, left, i, &s)) != ONNXC_OK)
            return st;
        int64_t a = s.B * s.M * s.K, b = s.B * s.K * s.N, cc = s.B * s.M * s.N;
        ma = a > ma ? a : ma;
        mb = b > mb ? b : mb;
        mc = cc > mc ? cc : mc;
        memset(left, 0, sizeof left);
        for (int q = 0; q < s.nb; q++)
            left[s.b[q]] = true;
        for (int q = 0; q < s.nm; q++)
            left[s.m[q]] = true;
        for (int q = 0; q < s.nn; q++)
            left[s.n[q]] = true;
    }
    size_t es = dt == ONNXC_FLOAT ? sizeof(float) : sizeof(double);
    c->scratch_size = (size_t)(ma + mb + 2 * mc) * es + 5 * 64; /* A, B, two products (ping-pong) */
    return ONNXC_OK;
}

/* ---- gathering: dst[o...] = sum over s... of src[o..., s...], labels with source strides (0: broadcast) ---- */

typedef struct ein_view {
    int32_t dtype;     /* ONNXC_FLOAT / ONNXC_DOUBLE for work buffers, else the input's */
    const void *data;
    int64_t stride[EIN_NL]; /* per label, in elements; 0 when the label is absent or broadcast */
} ein_view;

static void view_of_input(const ein_plan *p, const onnxc_tensor *x, int i, ein_view *v)
{
    memset(v, 0, sizeof *v);
    v->dtype = x->dtype;
    v->data = x->data;
    int64_t st[MAXR];
    oc_strides(x->rank, x->dims, st);
    for (int d = 0; d < x->rank; d++)
        if (x->dims[d] != 1 || p->size[p->lab[i][d]] == 1)
            v->stride[p->lab[i][d]] += st[d]; /* a repeated label sums its strides: the diagonal */
}

/* a contiguous work buffer over labels l[0..n) of the plan's sizes */
static void view_of_buffer(const ein_plan *p, int32_t dt, const void *data, const int *l, int n, ein_view *v)
{
    memset(v, 0, sizeof *v);
    v->dtype = dt;
    v->data = data;
    int64_t s = 1;
    for (int k = n - 1; k >= 0; k--) {
        v->stride[l[k]] = s;
        s *= p->size[l[k]];
    }
}

static inline double view_load(const ein_view *v, int64_t at)
{
    if (v->dtype == ONNXC_FLOAT)
        return ((const float *)v->data)[at];
    if (v->dtype == ONNXC_DOUBLE)
        return ((const double *)v->data)[at];
    return oc_load_f64(v->dtype, v->data, at);
}

/* The copy path of gather: no summed labels, source and destination of one type (float32 or float64), rows of
 * the innermost label copied with its stride, rows split over the pool. */
typedef struct ein_copy {
    const ein_plan *p;
    const ein_view *v;
    const int *ol;
    int no;
    size_t es;
    void *dst;
    int64_t row; /* elements per row: the innermost label's size */
} ein_copy;

static void ein_copy_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const ein_copy *j = arg;
    const ein_plan *p = j->p;
    int inner = j->ol[j->no - 1];
    int64_t st = j->v->stride[inner], n = j->row;
    for (int64_t r = lo; r < hi; r++) {
        /* source offset of row r: its coordinates over the outer labels */
        int64_t rest = r, off = 0;
        for (int k = j->no - 2; k >= 0; k--) {
            int64_t sz = p->size[j->ol[k]];
            off += (rest % sz) * j->v->stride[j->ol[k]];
            rest /= sz;
        }
        if (j->es == sizeof(float)) {
            const float *src = (const float *)j->v->data + off;
            float *d = (float *)j->dst + r * n;
            if (st == 1)
                memcpy(d, src, (size_t)n * sizeof *d);
            else
                for (int64_t i = 0; i < n; i++)
                    d[i] = src[i * st];
        } else {
            const double *src = (const double *)j->v->data + off;
            double *d = (double *)j->dst + r * n;
            if (st == 1)
                memcpy(d, src, (size_t)n * sizeof *d);
            else
                for (int64_t i = 0; i < n; i++)
                    d[i] = src[i * st];
        }
    }
}

/* Gather view v into dst (dtype ddt, contiguous over the labels ol[0..no)), summing over labels sl[0..ns). */
static void gather(const ein_plan *p, const ein_view *v, const int *ol, int no, const int *sl, int ns, int32_t ddt,
                   void *dst, struct oc_threadpool *pool)
{
    int64_t total = 1, sum_total = 1;
    for (int k = 0; k < no; k++)
        total *= p->size[ol[k]];
    for (int k = 0; k < ns; k++)
        sum_total *= p->size[sl[k]];
    if (ns == 0 && no > 0 && v->dtype == ddt && (ddt == ONNXC_FLOAT || ddt == ONNXC_DOUBLE)) {
        ein_copy j = {p, v, ol, no, ddt == ONNXC_FLOAT ? sizeof(float) : sizeof(double), dst, p->size[ol[no - 1]]};
        if (j.row > 0)
            oc_par_for(pool, total / j.row, total, ein_copy_range, &j);
        return;
    }
    int64_t oi[EIN_NL] = {0}, si[EIN_NL] = {0};
    int64_t off = 0;
    for (int64_t e = 0; e < total; e++) {
        double acc = 0;
        if (ns == 0)
            acc = view_load(v, off);
        else {
            int64_t soff = 0;
            memset(si, 0, (size_t)ns * sizeof si[0]);
            for (int64_t q = 0; q < sum_total; q++) {
                acc += view_load(v, off + soff);
                for (int k = ns - 1; k >= 0; k--) {
                    soff += v->stride[sl[k]];
                    if (++si[k] < p->size[sl[k]])
                        break;
                    soff -= v->stride[sl[k]] * p->size[sl[k]];
                    si[k] = 0;
                }
            }
        }
        if (ddt == ONNXC_FLOAT)
            ((float *)dst)[e] = (float)acc;
        else if (ddt == ONNXC_DOUBLE)
            ((double *)dst)[e] = acc;
        else
            oc_store_f64(ddt, dst, e, acc);
        for (int k = no - 1; k >= 0; k--) {
            off += v->stride[ol[k]];
            if (++oi[k] < p->size[ol[k]])
                break;
            off -= v->stride[ol[k]] * p->size[ol[k]];
            oi[k] = 0;
        }
    }
}

/* True when view v (of the work type, nothing to sum) already is the contiguous tensor over labels l[0..n): the
 * product can read it in place. */
static bool view_contig(const ein_plan *p, const ein_view *v, const int *l, int n, int32_t wdt)
{
    if (v->dtype != wdt)
        return false;
    int64_t s = 1;
    for (int k = n - 1; k >= 0; k--) {
        if (p->size[l[k]] != 1 && v->stride[l[k]] != s)
            return false;
        s *= p->size[l[k]];
    }
    return true;
}

/* labels of an operand (view) that no later step and not the output needs: summed while gathering */
static int summed_labels(const ein_plan *p, const ein_view *v, const bool *present, int i, const bool *other,
                         int *sl)
{
    (void)v;
    int ns = 0;
    for (int l = 0; l < EIN_NL; l++)
        if (present[l] && !(other && other[l]) && !ein_later(p, l, i))
            sl[ns++] = l;
    return ns;
}

typedef struct ein_mm {
    const void *a, *b;
    void *c;
    int64_t M, N, K;
    bool f32, ta, tb; /* A stored [K, M], B stored [N, K] */
} ein_mm;

static void ein_mm_range(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const ein_mm *j = arg;
    for (int64_t b = lo; b < hi; b++) {
        int64_t lda = j->ta ? j->M : j->K, ldb = j->tb ? j->K : j->N;
        if (j->f32)
            oc_sgemm(j->ta, j->tb, j->M, j->N, j->K, 1.0f, (const float *)j->a + b * j->M * j->K, lda,
                     (const float *)j->b + b * j->K * j->N, ldb, 0.0f, (float *)j->c + b * j->M * j->N, j->N);
        else
            oc_dgemm(j->ta, j->tb, j->M, j->N, j->K, 1.0, (const double *)j->a + b * j->M * j->K, lda,
                     (const double *)j->b + b * j->K * j->N, ldb, 0.0, (double *)j->c + b * j->M * j->N, j->N);
    }
}

static onnxc_status ein_run(oc_kctx *c)
{
    ein_plan p;
    onnxc_status st = ein_build(c, &p);
    if (st != ONNXC_OK)
        return st;
    onnxc_tensor *y = c->out[0];
    bool f32 = c->in[0]->dtype == ONNXC_FLOAT;
    int32_t wdt = f32 ? ONNXC_FLOAT : ONNXC_DOUBLE;
    size_t es = f32 ? sizeof(float) : sizeof(double);
    ein_view cur;
    bool present[EIN_NL] = {false};
    view_of_input(&p, c->in[0], 0, &cur);
    for (int d = 0; d < p.rank[0]; d++)
        present[p.lab[0][d]] = true;
    int64_t ma = 0, mb = 0, mc = 0;
    /* sizes for the scratch layout, as infer computed them */
    {
        bool left[EIN_NL];
        memcpy(left, present, sizeof left);
        for (int i = 1; i < p.n_in; i++) {
            ein_step s;
            ein_step_make(c, &p, left, i, &s);
            ma = s.B * s.M * s.K > ma ? s.B * s.M * s.K : ma;
            mb = s.B * s.K * s.N > mb ? s.B * s.K * s.N : mb;
            mc = s.B * s.M * s.N > mc ? s.B * s.M * s.N : mc;
            memset(left, 0, sizeof left);
            for (int q = 0; q < s.nb; q++)
                left[s.b[q]] = true;
            for (int q = 0; q < s.nm; q++)
                left[s.m[q]] = true;
            for (int q = 0; q < s.nn; q++)
                left[s.n[q]] = true;
        }
    }
    char *base = (char *)(((uintptr_t)c->scratch + 63) & ~(uintptr_t)63);
    void *abuf = base, *bbuf = base + (((size_t)ma * es + 63) & ~(size_t)63);
    void *cbufs[2];
    cbufs[0] = (char *)bbuf + (((size_t)mb * es + 63) & ~(size_t)63);
    cbufs[1] = (char *)cbufs[0] + (((size_t)mc * es + 63) & ~(size_t)63);
    bool done = false;
    for (int i = 1; i < p.n_in; i++) {
        ein_step s;
        ein_step_make(c, &p, present, i, &s);
        int al[EIN_NL], alt[EIN_NL], bl[EIN_NL], blt[EIN_NL], sl[EIN_NL], na = 0, nb = 0;
        /* [batch, m, k] and its transposed [batch, k, m]; [batch, k, n] and [batch, n, k] */
        for (int q = 0; q < s.nb; q++)
            al[na] = alt[na] = s.b[q], na++, bl[nb] = blt[nb] = s.b[q], nb++;
        for (int q = 0; q < s.nm; q++)
            al[s.nb + q] = s.m[q], alt[s.nb + s.nk + q] = s.m[q];
        for (int q = 0; q < s.nk; q++)
            al[s.nb + s.nm + q] = s.k[q], alt[s.nb + q] = s.k[q], bl[s.nb + q] = s.k[q],
            blt[s.nb + s.nn + q] = s.k[q];
        for (int q = 0; q < s.nn; q++)
            bl[s.nb + s.nk + q] = s.n[q], blt[s.nb + q] = s.n[q];
        na = s.nb + s.nm + s.nk;
        nb = s.nb + s.nk + s.nn;
        bool rpresent[EIN_NL] = {false};
        for (int d = 0; d < p.rank[i]; d++)
            rpresent[p.lab[i][d]] = true;
        /* each operand read in place when it already has one of the two layouts, else gathered */
        bool ta = false, tb = false;
        const void *aptr = abuf, *bptr = bbuf;
        int ns = summed_labels(&p, &cur, present, i, rpresent, sl);
        if (ns == 0 && view_contig(&p, &cur, al, na, wdt))
            aptr = cur.data;
        else if (ns == 0 && view_contig(&p, &cur, alt, na, wdt))
            aptr = cur.data, ta = true;
        else
            gather(&p, &cur, al, na, sl, ns, wdt, abuf, c->pool);
        ein_view rv;
        view_of_input(&p, c->in[i], i, &rv);
        ns = summed_labels(&p, &rv, rpresent, i, present, sl);
        if (ns == 0 && view_contig(&p, &rv, bl, nb, wdt))
            bptr = rv.data;
        else if (ns == 0 && view_contig(&p, &rv, blt, nb, wdt))
            bptr = rv.data, tb = true;
        else
            gather(&p, &rv, bl, nb, sl, ns, wdt, bbuf, c->pool);
        int cl[EIN_NL], ncl = 0;
        memset(present, 0, sizeof present);
        for (int q = 0; q < s.nb; q++)
            cl[ncl++] = s.b[q];
        for (int q = 0; q < s.nm; q++)
            cl[ncl++] = s.m[q];
        for (int q = 0; q < s.nn; q++)
            cl[ncl++] = s.n[q];
        for (int q = 0; q < ncl; q++)
            present[cl[q]] = true;
        /* the last product goes straight to the output when that is its layout and type */
        void *cbuf = cbufs[i & 1];
        if (i == p.n_in - 1 && y->dtype == wdt && ncl == p.n_out && memcmp(cl, p.out_lab, sizeof cl[0] * (size_t)ncl) == 0) {
            cbuf = y->data;
            done = true;
        }
        ein_mm mm = {aptr, bptr, cbuf, s.M, s.N, s.K, f32, ta, tb};
        if (s.B == 1 && f32)
            oc_sgemm_pool(c->pool, ta, tb, s.M, s.N, s.K, 1.0f, aptr, ta ? s.M : s.K, bptr, tb ? s.K : s.N, 0.0f,
                          cbuf, s.N);
        else
            oc_par_for(c->pool, s.B, s.B * s.M * s.N * (s.K + 1), ein_mm_range, &mm);
        view_of_buffer(&p, wdt, cbuf, cl, ncl, &cur);
    }
    if (done)
        return ONNXC_OK;
    /* the output: every label left that the output lacks is summed */
    int sl[EIN_NL], ns = 0;
    for (int l = 0; l < EIN_NL; l++)
        if (present[l] && !p.in_out[l])
            sl[ns++] = l;
    gather(&p, &cur, p.out_lab, p.n_out, sl, ns, y->dtype, y->data, c->pool);
    return ONNXC_OK;
}

const oc_kernel oc_kernels_einsum[] = {
    {"Einsum", NULL, 12, 0, 0, ein_infer, NULL, ein_run, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};
