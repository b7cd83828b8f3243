/* Comparison of a model under test (B) against a reference (A) on the same inputs: error metrics between two
 * tensors, node-by-node observation of a session run, and the comparison engine (outputs, and with per_node
 * every value both graphs produce under the same name) with its table and JSON report. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "compare_det.h"
#include "ir.h"
#include "json.h"
#include "kutil.h"
#include "session_internal.h"
#include "util.h"

/* ---------------------------------------------------------------- metrics */

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Hoare selection: afterwards v[k] is the k-th smallest and v[0..k) <= v[k] <= v(k..n). v holds no NaN. */
static double select_kth(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot keeps sorted and reversed data linear */
        if (v[mid] < v[lo])
            swap_d(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap_d(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap_d(&v[hi], &v[mid]);
        double pivot = v[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swap_d(&v[i], &v[j]);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break; /* v(j..i) all equal the pivot */
    }
    return v[k];
}

double oc_median(double *v, int64_t n)
{
    if (n <= 0)
        return 0.0;
    int64_t k = n / 2;
    double hi = select_kth(v, n, k);
    if (n % 2)
        return hi;
    /* after selection everything before k is <= v[k]: the lower middle value is their maximum */
    double lo = v[0];
    for (int64_t i = 1; i < k; i++)
        if (v[i] > lo)
            lo = v[i];
    return lo + (hi - lo) / 2;
}

/* Indices of the (up to) k largest values of row[0..c), largest first; NaN ranks below everything and ties
 * go to the lower index. Returns how many were found. */
static int top_k(int32_t dtype, const void *data, int64_t off, int64_t c, int k, int64_t *idx)
{
    double val[5];
    int have = 0;
    for (int64_t j = 0; j < c; j++) {
        double x = oc_load_f64(dtype, data, off + j);
        if (isnan(x))
            x = -INFINITY;
        int pos = have;
        while (pos > 0 && x > val[pos - 1])
            pos--;
        if (pos >= k)
            continue;
        int last = have < k ? have : k - 1;
        for (int q = last; q > pos; q--) {
            val[q] = val[q - 1];
            idx[q] = idx[q - 1];
        }
        val[pos] = x;
        idx[pos] = j;
        if (have < k)
            have++;
    }
    return have;
}

static int same_set(const int64_t *a, const int64_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < n && !found; j++)
            found = a[i] == b[j];
        if (!found)
            return 0;
    }
    return 1;
}

static int comparable_dtype(int32_t dtype)
{
    return dtype != ONNXC_STRING && dtype != ONNXC_COMPLEX64 && dtype != ONNXC_COMPLEX128 &&
           onnxc_dtype_size(dtype) != 0;
}

onnxc_status onnxc_metrics_compute(const onnxc_tensor *a, const onnxc_tensor *b, double atol, double rtol,
                                   onnxc_metrics *out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "metrics: no output");
    memset(out, 0, sizeof *out);
    if (!a || !b)
        return oc_err(ONNXC_E_ARG, "metrics: no tensor");
    if (!(atol >= 0) || !(rtol >= 0))
        return oc_err(ONNXC_E_ARG, "metrics: tolerances must be non-negative (atol %g, rtol %g)", atol, rtol);
    out->samples = 1;
    if (a->dtype != b->dtype || a->rank != b->rank)
        return ONNXC_OK;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return ONNXC_OK;
    if (a->dtype != ONNXC_STRING && !comparable_dtype(a->dtype))
        return oc_err(ONNXC_E_UNSUPPORTED, "metrics: cannot compare %s tensors", onnxc_dtype_name(a->dtype));
    int64_t n;
    size_t need; /* (onnxc_dtype_size gives a string element's size for STRING) */
    if (a->rank < 0 || a->rank > ONNXC_MAX_RANK || !oc_numel(a->dims, a->rank, &n) ||
        !oc_mul_size((size_t)n, onnxc_dtype_size(a->dtype), &need))
        return oc_err(ONNXC_E_ARG, "metrics: bad tensor shape");
    if (need && (!a->data || !b->data || a->nbytes < need || b->nbytes < need))
        return oc_err(ONNXC_E_ARG, "metrics: tensor holds fewer bytes than its shape needs");
    if (a->dtype == ONNXC_STRING) {
        /* strings compare exactly: each unequal element fails; nmse 0 when all agree, else INFINITY */
        const onnxc_string *sa = a->data, *sb = b->data;
        out->comparable = 1;
        out->n = out->n_finite = n;
        for (int64_t i = 0; i < n; i++)
            if (sa[i].len != sb[i].len || (sa[i].len && memcmp(sa[i].data, sb[i].data, sa[i].len) != 0))
                out->n_fail++;
        out->nmse = out->n_fail ? INFINITY : 0.0;
        out->cosine = out->n_fail ? 0.0 : 1.0;
        return ONNXC_OK;
    }
    double *err = NULL;
    if (n > 0 && !(err = oc_malloc((size_t)n * sizeof *err)))
        return oc_err(ONNXC_E_NOMEM, "metrics: out of memory for %lld elements", (long long)n);
    out->comparable = 1;
    out->n = n;
    double sum_abs = 0, sum_d2 = 0, sum_a2 = 0, sum_b2 = 0, sum_ab = 0;
    int64_t k = 0;
    /* The output's magnitude, its RMS over finite elements: float rounding in a sum of products is relative to
     * the terms, not to the result, so an element near zero in an output of large values may round by
     * rtol * RMS without anything being wrong (an exactly folded ResNet's logits). */
    double rms_a2 = 0;
    int64_t rms_n = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = oc_load_f64(a->dtype, a->data, i);
        if (isfinite(x)) {
            rms_a2 += x * x;
            rms_n++;
        }
    }
    const double rms = rms_n ? sqrt(rms_a2 / (double)rms_n) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x = oc_load_f64(a->dtype, a->data, i), y = oc_load_f64(b->dtype, b->data, i);
        out->nan_a += isnan(x) != 0;
        out->nan_b += isnan(y) != 0;
        out->inf_a += isinf(x) != 0;
        out->inf_b += isinf(y) != 0;
        if (isfinite(x) && isfinite(y)) {
            double d = fabs(y - x);
            if (!(d <= atol + rtol * fmax(fabs(x), rms)))
                out->n_fail++;
            if (d > out->max_abs)
                out->max_abs = d;
            if (x != 0 && d / fabs(x) > out->max_rel)
                out->max_rel = d / fabs(x);
            sum_abs += d;
            sum_d2 += d * d;
            sum_a2 += x * x;
            sum_b2 += y * y;
            sum_ab += x * y;
            err[k++] = d;
        } else {
            /* numpy.isclose with equal_nan=False: a NaN never passes, equal infinities do */
            int both_nan = isnan(x) && isnan(y);
            int same_inf = isinf(x) && isinf(y) && x == y;
            if (!same_inf)
                out->n_fail++;
            if (!both_nan && !same_inf)
                out->n_nonfinite_mismatch++;
        }
    }
    out->n_finite = k;
    out->mean_abs = k ? sum_abs / (double)k : 0.0;
    out->median_abs = oc_median(err, k);
    oc_free(err);
    if (sum_d2 == 0)
        out->nmse = 0;
    else
        out->nmse = sum_a2 > 0 ? sum_d2 / sum_a2 : INFINITY;
    if (sum_a2 == 0 && sum_b2 == 0)
        out->cosine = 1;
    else if (sum_a2 == 0 || sum_b2 == 0)
        out->cosine = 0;
    else {
        out->cosine = sum_ab / sqrt(sum_a2 * sum_b2);
        if (out->cosine > 1)
            out->cosine = 1;
        if (out->cosine < -1)
            out->cosine = -1;
    }
    /* [N, classes]: how often the predicted class (and the top-5 set) survives */
    if (a->rank == 2 && a->dims[1] >= 2) {
        int64_t rows = a->dims[0], c = a->dims[1];
        for (int64_t r = 0; r < rows; r++) {
            int64_t ia[5], ib[5];
            int ka = top_k(a->dtype, a->data, r * c, c, c > 5 ? 5 : 1, ia);
            int kb = top_k(b->dtype, b->data, r * c, c, c > 5 ? 5 : 1, ib);
            out->top1_rows++;
            out->top1_agree += ka > 0 && kb > 0 && ia[0] == ib[0];
            if (c > 5) {
                out->top5_rows++;
                out->top5_agree += ka == 5 && kb == 5 && same_set(ia, ib, 5);
            }
        }
    }
    return ONNXC_OK;
}

void onnxc_metrics_merge(onnxc_metrics *acc, const onnxc_metrics *s)
{
    if (!acc || !s)
        return;
    if (acc->samples == 0) {
        *acc = *s;
        if (acc->samples == 0)
            acc->samples = 1;
        return;
    }
    acc->comparable = acc->comparable && s->comparable;
    acc->samples += s->samples ? s->samples : 1;
    acc->n += s->n;
    acc->n_finite += s->n_finite;
    acc->n_fail += s->n_fail;
    acc->n_nonfinite_mismatch += s->n_nonfinite_mismatch;
    acc->nan_a += s->nan_a;
    acc->nan_b += s->nan_b;
    acc->inf_a += s->inf_a;
    acc->inf_b += s->inf_b;
    acc->top1_rows += s->top1_rows;
    acc->top1_agree += s->top1_agree;
    acc->top5_rows += s->top5_rows;
    acc->top5_agree += s->top5_agree;
    if (s->max_abs > acc->max_abs)
        acc->max_abs = s->max_abs;
    if (s->max_rel > acc->max_rel)
        acc->max_rel = s->max_rel;
    if (s->mean_abs > acc->mean_abs)
        acc->mean_abs = s->mean_abs;
    if (s->median_abs > acc->median_abs)
        acc->median_abs = s->median_abs;
    if (s->nmse > acc->nmse)
        acc->nmse = s->nmse;
    if (s->cosine < acc->cosine)
        acc->cosine = s->cosine;
}

int onnxc_metrics_within(const onnxc_metrics *m, double nmse_limit)
{
    return m && m->comparable && m->n_fail == 0 && m->nmse <= nmse_limit;
}

/* ---------------------------------------------------------------- observed runs */

typedef struct oc_observe {
    onnxc_session *s;
    oc_value_observer fn;
    void *user;
    int cursor; /* next position in s->order not reported yet */
} oc_observe;

static onnxc_status report_node(oc_observe *o, int i)
{
    const oc_node *nd = o->s->order[i];
    const oc_snode *sn = &o->s->nodes[i];
    for (int k = 0; k < nd->n_outputs; k++) {
        if (!nd->outputs[k] || !sn->out || !sn->out[k])
            continue;
        const oc_value *v = nd->outputs[k];
        /* in a fused plan the head of a chain writes the chain's last value: report that one */
        const oc_rvalue *r = (const oc_rvalue *)(const void *)sn->out[k];
        if (k == 0 && sn->out[0] != &o->s->rv[v->id].t && r >= o->s->rv && r < o->s->rv + o->s->n_rv)
            v = o->s->g->values[r - o->s->rv];
        onnxc_status st = o->fn(o->user, nd, v, sn->out[k]);
        if (st != ONNXC_OK)
            return st;
    }
    return ONNXC_OK;
}

/* Plan-time (folded) nodes before position `upto` come first, so the order seen is the execution order. */
static onnxc_status report_folded(oc_observe *o, int upto)
{
    for (; o->cursor < upto; o->cursor++)
        if (o->s->nodes[o->cursor].folded) {
            onnxc_status st = report_node(o, o->cursor);
            if (st != ONNXC_OK)
                return st;
        }
    return ONNXC_OK;
}

static onnxc_status observe_after(void *user, const oc_node *n, const onnxc_tensor *const *outs)
{
    (void)outs;
    oc_observe *o = user;
    int pos = o->cursor;
    while (pos < o->s->n_order && o->s->order[pos] != n)
        pos++;
    if (pos >= o->s->n_order)
        return ONNXC_OK; /* not a node of this order: nothing to report */
    onnxc_status st = report_folded(o, pos);
    if (st == ONNXC_OK)
        st = report_node(o, pos);
    o->cursor = pos + 1;
    return st;
}

static onnxc_status run_observed(onnxc_session *s, int n, const char *const *names,
                                 const onnxc_tensor *const *inputs, oc_value_observer fn, void *user, bool plain)
{
    if (!s || !fn)
        return oc_err(ONNXC_E_ARG, "run_observed: no session or observer");
    oc_observe o = {.s = s, .fn = fn, .user = user, .cursor = 0};
    void *old_user = s->hook;
    void (*old_before)(void *, const oc_node *) = s->hook_before;
    onnxc_status (*old_after)(void *, const oc_node *, const onnxc_tensor *const *) = s->hook_after;
    if (plain) {
        oc_session_set_hook(s, &o, NULL, observe_after);
    } else { /* the hook without making the plan plain */
        s->hook = &o;
        s->hook_before = NULL;
        s->hook_after = observe_after;
    }
    onnxc_status st = onnxc_session_run(s, n, names, inputs);
    oc_session_set_hook(s, old_user, old_before, old_after);
    if (st == ONNXC_OK)
        st = report_folded(&o, s->n_order);
    return st;
}

onnxc_status oc_run_observed(onnxc_session *s, int n, const char *const *names, const onnxc_tensor *const *inputs,
                             oc_value_observer fn, void *user)
{
    return run_observed(s, n, names, inputs, fn, user, true);
}

onnxc_status oc_run_observed_kept(onnxc_session *s, int n, const char *const *names,
                                  const onnxc_tensor *const *inputs, oc_value_observer fn, void *user)
{
    return run_observed(s, n, names, inputs, fn, user, false);
}

int oc_session_num_nodes(const onnxc_session *s) { return s ? s->n_order : 0; }

typedef struct oc_public_observe {
    onnxc_observer fn;
    void *user;
} oc_public_observe;

static onnxc_status public_observer(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    oc_public_observe *p = user;
    return p->fn(p->user, n->name ? n->name : "", n->op_type ? n->op_type : "", v->name ? v->name : "", t);
}

onnxc_status onnxc_session_run_observed(onnxc_session *s, int n, const char *const *names,
                                        const onnxc_tensor *const *inputs, onnxc_observer fn, void *user)
{
    if (!fn)
        return oc_err(ONNXC_E_ARG, "run_observed: no observer");
    oc_public_observe p = {fn, user};
    return oc_run_observed(s, n, names, inputs, public_observer, &p);
}

int onnxc_model_produces(const onnxc_model *m, const char *name)
{
    if (!m || !m->graph || !name)
        return 0;
    const oc_value *v = oc_graph_find(m->graph, name);
    return v && v->producer && v->graph == m->graph;
}

/* ---------------------------------------------------------------- the comparison */

/* A's copy of one shared value for the current sample, in the spill file. */
typedef struct oc_spill {
    int present;
    int64_t offset;
    int32_t dtype, rank;
    int64_t dims[ONNXC_MAX_RANK];
    size_t nbytes;
} oc_spill;

/* One saved output of a reference folder: its file name and the output name it stands for. */
typedef struct oc_ref_file {
    char *file; /* file name inside the folder */
    char *key;  /* output name: a .pb's stored name, else the file name without .npy / .pb */
    onnxc_tensor *t;
    int used;
} oc_ref_file;

struct onnxc_comparison {
    const onnxc_model *ma, *mb;
    onnxc_session *sa, *sb;
    onnxc_compare_options o;
    char *label_a, *label_b;
    int samples;
    /* outputs */
    int n_out;
    onnxc_compare_entry *out;
    int *out_a, *out_b; /* output index in each model */
    int by_position;
    const char **unmatched[2];
    int n_unmatched[2];
    /* per node: entries in B's execution order; slot_a/slot_b map value ids to entries (-1: not shared) */
    int n_nodes;
    onnxc_compare_entry *nodes;
    oc_spill *spill;
    int *slot_a, *slot_b;
    int n_slot_a, n_slot_b;
    int fd;
    int64_t spill_end;
    void *buf;
    size_t buf_cap;
    /* progress of the current sample */
    int64_t done, total;
    /* reference mode (onnxc_compare_create_reference): no model A; ref[k] is the saved tensor output k is
     * compared with, read from ref_dir; refs holds every file read (the unmatched ones are notes) */
    int reference;
    int ref_mem; /* the saved outputs were given in memory (onnxc_compare_create_reference_tensors) */
    char *ref_dir;
    int n_refs;
    oc_ref_file *refs;
    int *ref_idx; /* refs index of output k */
    /* detection sets (tools/compare_det.c): given (det_spec), or found on the first sample (det_decided) */
    char *det_spec;
    int det_off; /* "none": every output element by element */
    int det_decided;
    int n_dets;
    oc_det_set *dets;
};

void onnxc_compare_options_init(onnxc_compare_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->atol = ONNXC_COMPARE_ATOL;
    o->rtol = ONNXC_COMPARE_RTOL;
    o->nmse = ONNXC_COMPARE_NMSE;
    o->iou = ONNXC_COMPARE_IOU;
    o->score_threshold = NAN;
}

/* The detection options: checked, the spec copied and parsed against the matched outputs' names. */
static onnxc_status setup_detections(onnxc_comparison *c)
{
    for (int k = 0; k < c->n_out; k++)
        c->out[k].detection_set = -1;
    if (!(c->o.iou > 0 && c->o.iou <= 1))
        return oc_err(ONNXC_E_ARG, "compare: the IoU threshold for matching detections must be in (0, 1], not %g",
                      c->o.iou);
    if (!isnan(c->o.score_threshold) && !isfinite(c->o.score_threshold))
        return oc_err(ONNXC_E_ARG, "compare: the score threshold must be a finite number (NaN: none)");
    if (c->o.detections && !(c->det_spec = oc_strdup(c->o.detections)))
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    c->o.detections = c->det_spec;
    const char **names = oc_calloc((size_t)c->n_out + 1, sizeof *names);
    if (!names)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int k = 0; k < c->n_out; k++)
        names[k] = c->out[k].name;
    onnxc_status st = oc_det_parse(c->det_spec, c->n_out, names, &c->dets, &c->n_dets, &c->det_off);
    oc_free(names);
    for (int i = 0; i < c->n_dets; i++) {
        c->dets[i].pub.iou_threshold = c->o.iou;
        c->dets[i].pub.score_threshold = c->o.score_threshold;
    }
    return st;
}


/* Comma-separated quoted names of m's inputs (side 0) or outputs (side 1) into buf. */
static void io_names(const onnxc_model *m, int outputs, char *buf, size_t cap)
{
    int n = outputs ? onnxc_model_num_outputs(m) : onnxc_model_num_inputs(m);
    size_t k = 0;
    buf[0] = 0;
    if (n == 0)
        snprintf(buf, cap, "none");
    for (int i = 0; i < n && k < cap; i++) {
        onnxc_io_info info;
        onnxc_status st = outputs ? onnxc_model_output_info(m, i, &info) : onnxc_model_input_info(m, i, &info);
        if (st != ONNXC_OK)
            continue;
        k += (size_t)snprintf(buf + k, cap - k, "%s'%s'", i ? ", " : "", info.name);
    }
}

/* Same real inputs: names, element types, declared shapes agreeing where both dims are static. */
static onnxc_status check_inputs(onnxc_comparison *c)
{
    const onnxc_model *m[2] = {c->ma, c->mb};
    const char *lbl[2] = {c->label_a, c->label_b};
    char names[512], ta[256], tb[256];
    for (int side = 0; side < 2; side++) {
        const onnxc_model *x = m[side], *y = m[1 - side];
        int nx = onnxc_model_num_inputs(x), ny = onnxc_model_num_inputs(y);
        for (int i = 0; i < nx; i++) {
            onnxc_io_info ix;
            onnxc_status st = onnxc_model_input_info(x, i, &ix);
            if (st != ONNXC_OK)
                return st;
            int found = 0;
            for (int j = 0; j < ny && !found; j++) {
                onnxc_io_info iy;
                if ((st = onnxc_model_input_info(y, j, &iy)) != ONNXC_OK)
                    return st;
                if (strcmp(ix.name, iy.name) != 0)
                    continue;
                found = 1;
                if (side == 1)
                    continue; /* pairs were checked from A's side */
                if (ix.dtype != ONNXC_UNDEFINED && iy.dtype != ONNXC_UNDEFINED && ix.dtype != iy.dtype)
                    return oc_err(ONNXC_E_INVALID, "input '%s' differs in type: %s takes %s, %s takes %s", ix.name,
                                  lbl[0], onnxc_dtype_name(ix.dtype), lbl[1], onnxc_dtype_name(iy.dtype));
                int same = ix.rank < 0 || iy.rank < 0 || ix.rank == iy.rank;
                for (int d = 0; same && ix.rank >= 0 && iy.rank >= 0 && d < ix.rank; d++)
                    same = ix.dims[d] < 0 || iy.dims[d] < 0 || ix.dims[d] == iy.dims[d];
                if (!same) {
                    onnxc_io_info_shape_text(&ix, ta, sizeof ta);
                    onnxc_io_info_shape_text(&iy, tb, sizeof tb);
                    return oc_err(ONNXC_E_INVALID, "input '%s' differs in shape: %s declares %s, %s declares %s",
                                  ix.name, lbl[0], ta, lbl[1], tb);
                }
            }
            if (!found) {
                io_names(y, 0, names, sizeof names);
                return oc_err(ONNXC_E_INVALID, "the models have different inputs: '%s' is an input of %s but not of "
                              "%s (whose inputs are %s)", ix.name, lbl[side], lbl[1 - side], names);
            }
        }
    }
    return ONNXC_OK;
}

/* Outputs by name; by position when no name is shared and the counts and declared types agree. */
static onnxc_status match_outputs(onnxc_comparison *c)
{
    int na = onnxc_model_num_outputs(c->ma), nb = onnxc_model_num_outputs(c->mb);
    onnxc_io_info *ia = oc_calloc((size_t)na + 1, sizeof *ia), *ib = oc_calloc((size_t)nb + 1, sizeof *ib);
    int *used_a = oc_calloc((size_t)na + 1, sizeof *used_a);
    c->out = oc_calloc((size_t)(na < nb ? na : nb) + 1, sizeof *c->out);
    c->out_a = oc_calloc((size_t)nb + 1, sizeof *c->out_a);
    c->out_b = oc_calloc((size_t)nb + 1, sizeof *c->out_b);
    c->unmatched[0] = oc_calloc((size_t)na + 1, sizeof *c->unmatched[0]);
    c->unmatched[1] = oc_calloc((size_t)nb + 1, sizeof *c->unmatched[1]);
    onnxc_status st = ONNXC_OK;
    if (!ia || !ib || !used_a || !c->out || !c->out_a || !c->out_b || !c->unmatched[0] || !c->unmatched[1]) {
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        goto done;
    }
    for (int i = 0; i < na && st == ONNXC_OK; i++)
        st = onnxc_model_output_info(c->ma, i, &ia[i]);
    for (int i = 0; i < nb && st == ONNXC_OK; i++)
        st = onnxc_model_output_info(c->mb, i, &ib[i]);
    if (st != ONNXC_OK)
        goto done;
    for (int j = 0; j < nb; j++) {
        for (int i = 0; i < na; i++)
            if (!used_a[i] && strcmp(ia[i].name, ib[j].name) == 0) {
                used_a[i] = 1;
                c->out_a[c->n_out] = i;
                c->out_b[c->n_out++] = j;
                break;
            }
    }
    if (c->n_out == 0 && na == nb && na > 0) {
        int fit = 1;
        for (int i = 0; i < na && fit; i++) {
            if (ia[i].dtype != ONNXC_UNDEFINED && ib[i].dtype != ONNXC_UNDEFINED && ia[i].dtype != ib[i].dtype)
                fit = 0;
            if (ia[i].rank >= 0 && ib[i].rank >= 0 && ia[i].rank != ib[i].rank)
                fit = 0;
        }
        if (fit) {
            c->by_position = 1;
            for (int i = 0; i < na; i++) {
                used_a[i] = 1;
                c->out_a[i] = c->out_b[i] = i;
            }
            c->n_out = na;
        }
    }
    if (c->n_out == 0) {
        char a[512], b[512];
        io_names(c->ma, 1, a, sizeof a);
        io_names(c->mb, 1, b, sizeof b);
        st = oc_err(ONNXC_E_INVALID, "the models have no outputs in common: %s has %s, %s has %s (no shared name, "
                    "and their counts or declared types differ, so they cannot be matched by position)",
                    c->label_a, a, c->label_b, b);
        goto done;
    }
    for (int i = 0; i < na; i++)
        if (!used_a[i])
            c->unmatched[0][c->n_unmatched[0]++] = ia[i].name;
    for (int j = 0; j < nb; j++) {
        int used = 0;
        for (int k = 0; k < c->n_out && !used; k++)
            used = c->out_b[k] == j;
        if (!used)
            c->unmatched[1][c->n_unmatched[1]++] = ib[j].name;
    }
    for (int k = 0; k < c->n_out; k++) {
        c->out[k].name = ib[c->out_b[k]].name;
        c->out[k].name_a = ia[c->out_a[k]].name;
    }
done:
    oc_free(ia);
    oc_free(ib);
    oc_free(used_a);
    return st;
}

/* Values produced by a node in both graphs under the same name, as entries in B's execution order. */
static onnxc_status plan_per_node(onnxc_comparison *c)
{
    const oc_graph *ga = c->ma->graph, *gb = c->mb->graph;
    c->n_slot_a = ga->n_values;
    c->n_slot_b = gb->n_values;
    c->slot_a = oc_malloc(((size_t)c->n_slot_a + 1) * sizeof *c->slot_a);
    c->slot_b = oc_malloc(((size_t)c->n_slot_b + 1) * sizeof *c->slot_b);
    if (!c->slot_a || !c->slot_b)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int i = 0; i < c->n_slot_a; i++)
        c->slot_a[i] = -1;
    for (int i = 0; i < c->n_slot_b; i++)
        c->slot_b[i] = -1;
    int cap = 0;
    for (int i = 0; i < c->sb->n_order; i++)
        cap += c->sb->order[i]->n_outputs;
    c->nodes = oc_calloc((size_t)cap + 1, sizeof *c->nodes);
    c->spill = oc_calloc((size_t)cap + 1, sizeof *c->spill);
    if (!c->nodes || !c->spill)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int i = 0; i < c->sb->n_order; i++) {
        const oc_node *nb = c->sb->order[i];
        for (int k = 0; k < nb->n_outputs; k++) {
            const oc_value *vb = nb->outputs[k];
            if (!vb || !vb->name || !*vb->name || vb->id < 0 || vb->id >= c->n_slot_b || c->slot_b[vb->id] >= 0)
                continue;
            const oc_value *va = oc_graph_find(ga, vb->name);
            if (!va || !va->producer || va->graph != ga || va->id < 0 || va->id >= c->n_slot_a)
                continue;
            onnxc_compare_entry *e = &c->nodes[c->n_nodes];
            e->name = vb->name;
            e->name_a = va->name;
            e->node = nb->name ? nb->name : "";
            e->op_type = nb->op_type;
            e->op_type_a = va->producer->op_type;
            e->detection_set = -1;
            c->slot_a[va->id] = c->n_nodes;
            c->slot_b[vb->id] = c->n_nodes;
            c->n_nodes++;
        }
    }
    /* an unlinked file: it disappears with the process whatever happens */
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t len = strlen(dir) + 32;
    char *path = oc_malloc(len);
    if (!path)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    snprintf(path, len, "%s/onnxc-compare-XXXXXX", dir);
    c->fd = mkstemp(path);
    if (c->fd < 0) {
        onnxc_status st = oc_err(ONNXC_E_IO, "compare: cannot create a temporary file in %s: %s", dir, strerror(errno));
        oc_free(path);
        return st;
    }
    unlink(path);
    oc_free(path);
    return ONNXC_OK;
}

onnxc_status onnxc_compare_create(const onnxc_model *a, const onnxc_model *b, const onnxc_compare_options *opts,
                                  onnxc_comparison **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "compare: no output");
    *out = NULL;
    if (!a || !b || !a->graph || !b->graph)
        return oc_err(ONNXC_E_ARG, "compare: no model");
    onnxc_compare_options o;
    if (opts)
        o = *opts;
    else
        onnxc_compare_options_init(&o);
    if (!(o.atol >= 0) || !(o.rtol >= 0) || !(o.nmse >= 0))
        return oc_err(ONNXC_E_ARG, "compare: tolerances must be non-negative (atol %g, rtol %g, nmse %g)", o.atol,
                      o.rtol, o.nmse);
    onnxc_comparison *c = oc_calloc(1, sizeof *c);
    if (!c)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    c->fd = -1;
    c->ma = a;
    c->mb = b;
    c->o = o;
    c->label_a = oc_strdup(o.label_a ? o.label_a : "A");
    c->label_b = oc_strdup(o.label_b ? o.label_b : "B");
    c->o.label_a = c->label_a;
    c->o.label_b = c->label_b;
    onnxc_status st = ONNXC_OK;
    if (!c->label_a || !c->label_b)
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    if (st == ONNXC_OK)
        st = check_inputs(c);
    if (st == ONNXC_OK)
        st = match_outputs(c);
    if (st == ONNXC_OK)
        st = setup_detections(c);
    onnxc_session_options so = {.threads = o.threads};
    if (st == ONNXC_OK && (st = onnxc_session_create(a, &so, &c->sa)) != ONNXC_OK)
        oc_err_prefix(st, "%s", c->label_a);
    if (st == ONNXC_OK && (st = onnxc_session_create(b, &so, &c->sb)) != ONNXC_OK)
        oc_err_prefix(st, "%s", c->label_b);
    if (st == ONNXC_OK && o.per_node)
        st = plan_per_node(c);
    if (st != ONNXC_OK) {
        onnxc_compare_free(c);
        return st;
    }
    *out = c;
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- reference folder */

static int ref_cmp(const void *x, const void *y)
{
    return strcmp(((const oc_ref_file *)x)->file, ((const oc_ref_file *)y)->file);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n > k && strcmp(s + n - k, suf) == 0;
}

/* Every .npy and .pb file of dir, read and keyed by the output name it stands for, in file-name order. */
static onnxc_status read_reference_dir(onnxc_comparison *c, const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return oc_err(ONNXC_E_IO, "%s: cannot open the reference folder: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return oc_err(ONNXC_E_IO, "%s: the reference is not a folder (give the folder holding one .npy or .pb "
                      "per output)", dir);
    DIR *d = opendir(dir);
    if (!d)
        return oc_err(ONNXC_E_IO, "%s: cannot open the reference folder: %s", dir, strerror(errno));
    onnxc_status st = ONNXC_OK;
    int cap = 0;
    struct dirent *de;
    while (st == ONNXC_OK && (de = readdir(d)) != NULL) {
        const char *fn = de->d_name;
        size_t ext = has_suffix(fn, ".npy") ? 4 : has_suffix(fn, ".pb") ? 3 : 0;
        if (!ext || fn[0] == '.')
            continue;
        if ((st = oc_grow((void **)&c->refs, &cap, c->n_refs + 1, sizeof *c->refs)) != ONNXC_OK)
            break;
        oc_ref_file *r = &c->refs[c->n_refs];
        memset(r, 0, sizeof *r);
        if (!(r->file = oc_strdup(fn)) || !(r->key = oc_strdup(fn))) {
            oc_free(r->file);
            st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
            break;
        }
        r->key[strlen(fn) - ext] = 0;
        c->n_refs++;
    }
    closedir(d);
    if (st != ONNXC_OK)
        return st;
    if (c->n_refs > 1)
        qsort(c->refs, (size_t)c->n_refs, sizeof *c->refs, ref_cmp);
    for (int i = 0; i < c->n_refs && st == ONNXC_OK; i++) {
        oc_ref_file *r = &c->refs[i];
        size_t len = strlen(dir) + strlen(r->file) + 2;
        char *path = oc_malloc(len), *stored = NULL;
        if (!path)
            return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        snprintf(path, len, "%s/%s", dir, r->file);
        st = onnxc_tensor_read(path, &r->t, &stored);
        oc_free(path);
        /* a TensorProto names itself: an output called "/fc/Gemm_output_0" cannot be a file name */
        if (st == ONNXC_OK && stored && *stored && has_suffix(r->file, ".pb")) {
            char *k = oc_strdup(stored);
            if (!k)
                st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
            else {
                oc_free(r->key);
                r->key = k;
            }
        }
        free(stored);
    }
    for (int i = 0; i < c->n_refs && st == ONNXC_OK; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(c->refs[i].key, c->refs[j].key) == 0)
                return oc_err(ONNXC_E_INVALID, "%s: both %s and %s hold output '%s': keep one", dir,
                              c->refs[j].file, c->refs[i].file, c->refs[i].key);
    return st;
}

/* Each of B's outputs gets its file; files for names B lacks are noted (unmatched side 0). */
static onnxc_status match_reference(onnxc_comparison *c)
{
    int nb = onnxc_model_num_outputs(c->mb);
    c->out = oc_calloc((size_t)nb + 1, sizeof *c->out);
    c->out_b = oc_calloc((size_t)nb + 1, sizeof *c->out_b);
    c->ref_idx = oc_calloc((size_t)nb + 1, sizeof *c->ref_idx);
    c->unmatched[0] = oc_calloc((size_t)c->n_refs + 1, sizeof *c->unmatched[0]);
    c->unmatched[1] = oc_calloc(1, sizeof *c->unmatched[1]);
    if (!c->out || !c->out_b || !c->ref_idx || !c->unmatched[0] || !c->unmatched[1])
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int j = 0; j < nb; j++) {
        onnxc_io_info ib;
        onnxc_status st = onnxc_model_output_info(c->mb, j, &ib);
        if (st != ONNXC_OK)
            return st;
        int found = -1;
        for (int i = 0; i < c->n_refs && found < 0; i++)
            if (strcmp(c->refs[i].key, ib.name) == 0)
                found = i;
        if (found < 0) {
            char have[1024];
            size_t k = 0;
            have[0] = 0;
            for (int i = 0; i < c->n_refs && k < sizeof have; i++)
                k += (size_t)snprintf(have + k, sizeof have - k, "%s%s", i ? ", " : "", c->refs[i].file);
            if (c->ref_mem)
                return oc_err(ONNXC_E_INVALID, "%s: no reference for output '%s' of %s (given: %s)", c->ref_dir,
                              ib.name, c->label_b, c->n_refs ? have : "nothing");
            if (c->n_refs == 0)
                snprintf(have, sizeof have, "no .npy or .pb file");
            return oc_err(ONNXC_E_INVALID, "%s: no reference for output '%s' of %s (want %s.npy, or a .pb holding "
                          "a tensor named '%s'; the folder holds %s)", c->ref_dir, ib.name, c->label_b, ib.name,
                          ib.name, have);
        }
        c->refs[found].used = 1;
        c->out_b[c->n_out] = j;
        c->ref_idx[c->n_out] = found;
        c->out[c->n_out].name = ib.name;
        c->out[c->n_out].name_a = c->refs[found].key;
        c->n_out++;
    }
    if (c->n_out == 0)
        return oc_err(ONNXC_E_INVALID, "%s: the model has no outputs to compare", c->label_b);
    for (int i = 0; i < c->n_refs; i++)
        if (!c->refs[i].used)
            c->unmatched[0][c->n_unmatched[0]++] = c->refs[i].key;
    return ONNXC_OK;
}

/* The saved outputs given in memory, copied as refs keyed by their names. */
static onnxc_status copy_reference_tensors(onnxc_comparison *c, int n, const char *const *names,
                                           const onnxc_tensor *const *tensors)
{
    if (n > 0 && !(c->refs = oc_calloc((size_t)n, sizeof *c->refs)))
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int i = 0; i < n; i++) {
        if (!names[i] || !tensors[i])
            return oc_err(ONNXC_E_ARG, "compare: reference %d has no name or no tensor", i);
        oc_ref_file *r = &c->refs[c->n_refs];
        if (!(r->file = oc_strdup(names[i])) || !(r->key = oc_strdup(names[i]))) {
            oc_free(r->file);
            r->file = NULL;
            return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        }
        c->n_refs++;
        onnxc_status st = onnxc_tensor_clone(tensors[i], &r->t);
        if (st != ONNXC_OK)
            return st;
        for (int j = 0; j < i; j++)
            if (strcmp(c->refs[j].key, r->key) == 0)
                return oc_err(ONNXC_E_INVALID, "%s: output '%s' given twice", c->ref_dir, r->key);
    }
    return ONNXC_OK;
}

/* dir != NULL: read the folder; else the n tensors, labelled dir_or_label. */
static onnxc_status create_reference(const onnxc_model *b, const char *dir, const char *label, int n,
                                     const char *const *names, const onnxc_tensor *const *tensors,
                                     const onnxc_compare_options *opts, onnxc_comparison **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "compare: no output");
    *out = NULL;
    if (!b || !b->graph || (!dir && (n < 0 || (n > 0 && (!names || !tensors)))))
        return oc_err(ONNXC_E_ARG, "compare: no model or no reference");
    const char *where = dir ? dir : label ? label : "<arrays>";
    onnxc_compare_options o;
    if (opts)
        o = *opts;
    else
        onnxc_compare_options_init(&o);
    if (!(o.atol >= 0) || !(o.rtol >= 0) || !(o.nmse >= 0))
        return oc_err(ONNXC_E_ARG, "compare: tolerances must be non-negative (atol %g, rtol %g, nmse %g)", o.atol,
                      o.rtol, o.nmse);
    if (o.per_node)
        return oc_err(ONNXC_E_ARG, "compare: per-node comparison needs two models; saved outputs have no "
                      "intermediate values");
    onnxc_comparison *c = oc_calloc(1, sizeof *c);
    if (!c)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    c->fd = -1;
    c->reference = 1;
    c->ref_mem = dir == NULL;
    c->mb = b;
    c->o = o;
    c->ref_dir = oc_strdup(where);
    c->label_a = oc_strdup(o.label_a ? o.label_a : where);
    c->label_b = oc_strdup(o.label_b ? o.label_b : "B");
    c->o.label_a = c->label_a;
    c->o.label_b = c->label_b;
    onnxc_status st = ONNXC_OK;
    if (!c->ref_dir || !c->label_a || !c->label_b)
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    if (st == ONNXC_OK)
        st = dir ? read_reference_dir(c, dir) : copy_reference_tensors(c, n, names, tensors);
    if (st == ONNXC_OK)
        st = match_reference(c);
    if (st == ONNXC_OK)
        st = setup_detections(c);
    onnxc_session_options so = {.threads = o.threads};
    if (st == ONNXC_OK && (st = onnxc_session_create(b, &so, &c->sb)) != ONNXC_OK)
        oc_err_prefix(st, "%s", c->label_b);
    if (st != ONNXC_OK) {
        onnxc_compare_free(c);
        return st;
    }
    *out = c;
    return ONNXC_OK;
}

onnxc_status onnxc_compare_create_reference(const onnxc_model *b, const char *dir, const onnxc_compare_options *opts,
                                            onnxc_comparison **out)
{
    if (!dir) {
        if (out)
            *out = NULL;
        return oc_err(ONNXC_E_ARG, "compare: no model or no reference folder");
    }
    return create_reference(b, dir, NULL, 0, NULL, NULL, opts, out);
}

onnxc_status onnxc_compare_create_reference_tensors(const onnxc_model *b, int n, const char *const *names,
                                                    const onnxc_tensor *const *tensors, const char *label,
                                                    const onnxc_compare_options *opts, onnxc_comparison **out)
{
    return create_reference(b, NULL, label, n, names, tensors, opts, out);
}

const onnxc_compare_options *oc_compare_options(const onnxc_comparison *c) { return c ? &c->o : NULL; }

const char *onnxc_compare_reference_dir(const onnxc_comparison *c) { return c && c->reference ? c->ref_dir : NULL; }

static void tick(onnxc_comparison *c)
{
    c->done++;
    if (c->o.progress)
        c->o.progress(c->o.progress_user, c->done, c->total);
}

static onnxc_status write_all(int fd, const void *data, size_t n, int64_t off)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return oc_err(ONNXC_E_IO, "compare: cannot write the temporary copy of a value: %s",
                          w < 0 ? strerror(errno) : "disk full");
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return ONNXC_OK;
}

static onnxc_status read_all(int fd, void *data, size_t n, int64_t off)
{
    char *p = data;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return oc_err(ONNXC_E_IO, "compare: cannot read back the temporary copy of a value: %s",
                          r < 0 ? strerror(errno) : "file too short");
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return ONNXC_OK;
}

/* A's side: keep a copy of each shared value in the spill file. */
static onnxc_status observe_a(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    onnxc_comparison *c = user;
    tick(c);
    if (!c->o.per_node || v->id < 0 || v->id >= c->n_slot_a || c->slot_a[v->id] < 0)
        return ONNXC_OK;
    oc_spill *sp = &c->spill[c->slot_a[v->id]];
    int64_t numel;
    size_t need;
    if (!comparable_dtype(t->dtype) || t->rank < 0 || t->rank > ONNXC_MAX_RANK || !oc_numel(t->dims, t->rank, &numel) ||
        !oc_mul_size((size_t)numel, onnxc_dtype_size(t->dtype), &need) || (need && (!t->data || t->nbytes < need)))
        return ONNXC_OK; /* nothing comparable: it stays out of the table */
    onnxc_status st = write_all(c->fd, t->data, need, c->spill_end);
    if (st != ONNXC_OK)
        return st;
    sp->present = 1;
    sp->offset = c->spill_end;
    sp->dtype = t->dtype;
    sp->rank = t->rank;
    memcpy(sp->dims, t->dims, sizeof sp->dims);
    sp->nbytes = need;
    c->spill_end += (int64_t)need;
    return ONNXC_OK;
}

/* The tolerances for an output of these types: the options' own, or when those are the defaults and a side is
 * float16 / bfloat16, the defaults of that type (onnxc.h). */
typedef struct oc_tol {
    double atol, rtol, nmse;
} oc_tol;

static oc_tol tol_for(const onnxc_comparison *c, int32_t da, int32_t db)
{
    oc_tol t = {c->o.atol, c->o.rtol, c->o.nmse};
    if (c->o.atol != ONNXC_COMPARE_ATOL || c->o.rtol != ONNXC_COMPARE_RTOL || c->o.nmse != ONNXC_COMPARE_NMSE)
        return t;
    if (da == ONNXC_BFLOAT16 || db == ONNXC_BFLOAT16)
        return (oc_tol){ONNXC_COMPARE_ATOL_BF16, ONNXC_COMPARE_RTOL_BF16, ONNXC_COMPARE_NMSE_BF16};
    if (da == ONNXC_FLOAT16 || db == ONNXC_FLOAT16)
        return (oc_tol){ONNXC_COMPARE_ATOL_F16, ONNXC_COMPARE_RTOL_F16, ONNXC_COMPARE_NMSE_F16};
    return t;
}

static onnxc_status metrics_for(const onnxc_comparison *c, const onnxc_tensor *a, const onnxc_tensor *b,
                                onnxc_metrics *m)
{
    oc_tol t = tol_for(c, a->dtype, b->dtype);
    return onnxc_metrics_compute(a, b, t.atol, t.rtol, m);
}

/* Fold one sample's metrics into an entry, remembering the worst sample. */
static void entry_fold(onnxc_comparison *c, onnxc_compare_entry *e, const onnxc_metrics *m,
                       const onnxc_tensor *ta, const onnxc_tensor *tb)
{
    const onnxc_metrics *acc = &e->metrics;
    if (acc->samples == 0 || (acc->comparable && !m->comparable) ||
        (acc->comparable && m->comparable && m->nmse > acc->nmse))
        e->worst_sample = c->samples;
    onnxc_metrics_merge(&e->metrics, m);
    e->within = onnxc_metrics_within(&e->metrics, tol_for(c, ta->dtype, tb->dtype).nmse);
    e->dtype_a = ta->dtype;
    e->rank_a = ta->rank;
    memcpy(e->dims_a, ta->dims, sizeof e->dims_a);
    e->dtype_b = tb->dtype;
    e->rank_b = tb->rank;
    memcpy(e->dims_b, tb->dims, sizeof e->dims_b);
}

/* B's side: compare each shared value against A's copy as B produces it. */
static onnxc_status observe_b(void *user, const oc_node *n, const oc_value *v, const onnxc_tensor *t)
{
    (void)n;
    onnxc_comparison *c = user;
    tick(c);
    if (!c->o.per_node || v->id < 0 || v->id >= c->n_slot_b || c->slot_b[v->id] < 0)
        return ONNXC_OK;
    int slot = c->slot_b[v->id];
    oc_spill *sp = &c->spill[slot];
    if (!sp->present || !comparable_dtype(t->dtype))
        return ONNXC_OK;
    if (sp->nbytes > c->buf_cap) {
        void *nb = oc_realloc(c->buf, sp->nbytes);
        if (!nb)
            return oc_err(ONNXC_E_NOMEM, "compare: out of memory for a copy of '%s' (%zu bytes)", v->name,
                          sp->nbytes);
        c->buf = nb;
        c->buf_cap = sp->nbytes;
    }
    onnxc_status st = read_all(c->fd, c->buf, sp->nbytes, sp->offset);
    if (st != ONNXC_OK)
        return st;
    onnxc_tensor ta;
    memset(&ta, 0, sizeof ta);
    ta.dtype = sp->dtype;
    ta.rank = sp->rank;
    memcpy(ta.dims, sp->dims, sizeof ta.dims);
    ta.data = c->buf;
    ta.nbytes = sp->nbytes;
    onnxc_metrics m;
    st = metrics_for(c, &ta, t, &m);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "compare: value '%s'", v->name);
    entry_fold(c, &c->nodes[slot], &m, &ta, t);
    return ONNXC_OK;
}

/* After a sample's outputs: find the detection sets on the first one (unless given or turned off), match each
 * set's detections, and give the set's verdict to its outputs. */
static onnxc_status fold_detections(onnxc_comparison *c)
{
    if (c->det_off)
        return ONNXC_OK;
    size_t n = (size_t)c->n_out + 1;
    const onnxc_tensor **ta = oc_calloc(n, sizeof *ta), **tb = oc_calloc(n, sizeof *tb);
    int *dyn = oc_calloc(n, sizeof *dyn);
    const char **dim0 = oc_calloc(n, sizeof *dim0), **names = oc_calloc(n, sizeof *names);
    onnxc_status st = ONNXC_OK;
    if (!ta || !tb || !dyn || !dim0 || !names) {
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        goto done;
    }
    for (int k = 0; k < c->n_out; k++) {
        ta[k] = c->reference ? c->refs[c->ref_idx[k]].t : onnxc_session_output(c->sa, c->out_a[k]);
        tb[k] = onnxc_session_output(c->sb, c->out_b[k]);
        if (!ta[k] || !tb[k]) {
            st = oc_err(ONNXC_E_RUNTIME, "compare: output '%s' is missing after the run", c->out[k].name);
            goto done;
        }
        names[k] = c->out[k].name;
    }
    if (!c->det_decided) {
        if (!c->det_spec) {
            for (int k = 0; k < c->n_out; k++) {
                onnxc_io_info info;
                dyn[k] = onnxc_session_output_dynamic(c->sb, c->out_b[k]);
                if (onnxc_model_output_info(c->mb, c->out_b[k], &info) == ONNXC_OK && info.rank >= 1 &&
                    info.dims[0] < 0 && info.dim_params[0] && *info.dim_params[0])
                    dim0[k] = info.dim_params[0];
            }
            oc_det_view v = {c->n_out, names, ta, tb, dyn, dim0};
            if ((st = oc_det_group(&v, c->o.iou, c->o.score_threshold, &c->dets, &c->n_dets)) != ONNXC_OK)
                goto done;
        }
        c->det_decided = 1;
        for (int i = 0; i < c->n_dets; i++) {
            const oc_det_set *d = &c->dets[i];
            c->out[d->k_boxes].detection_set = i;
            if (d->k_scores >= 0)
                c->out[d->k_scores].detection_set = i;
            if (d->k_labels >= 0)
                c->out[d->k_labels].detection_set = i;
            for (int e = 0; e < d->pub.n_extra; e++)
                c->out[d->k_extra[e]].detection_set = i;
        }
    }
    for (int i = 0; i < c->n_dets && st == ONNXC_OK; i++)
        st = oc_det_sample(&c->dets[i], ta, tb, c->o.atol, c->o.rtol);
    for (int k = 0; k < c->n_out; k++) {
        onnxc_compare_entry *e = &c->out[k];
        if (e->detection_set < 0)
            continue;
        e->within = c->dets[e->detection_set].pub.within;
        /* a [K,4] box list is no [N, classes] row set: no top-1 figures */
        e->metrics.top1_rows = e->metrics.top1_agree = e->metrics.top5_rows = e->metrics.top5_agree = 0;
    }
done:
    oc_free(ta);
    oc_free(tb);
    oc_free(dyn);
    oc_free(dim0);
    oc_free(names);
    return st;
}

/* Reference mode: run B alone and compare its outputs with the saved ones. */
static onnxc_status run_reference(onnxc_comparison *c, int n, const char *const *names,
                                  const onnxc_tensor *const *inputs)
{
    if (c->samples > 0)
        return oc_err(ONNXC_E_ARG, "compare: %s holds the outputs of one sample, which was compared already",
                      c->ref_dir);
    c->done = 0;
    c->total = c->sb->n_order;
    onnxc_status st = oc_run_observed(c->sb, n, names, inputs, observe_b, c);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "%s", c->label_b);
    for (int k = 0; k < c->n_out; k++) {
        const onnxc_tensor *ta = c->refs[c->ref_idx[k]].t;
        const onnxc_tensor *tb = onnxc_session_output(c->sb, c->out_b[k]);
        if (!tb)
            return oc_err(ONNXC_E_RUNTIME, "compare: output '%s' is missing after the run", c->out[k].name);
        onnxc_metrics m;
        if ((st = metrics_for(c, ta, tb, &m)) != ONNXC_OK)
            return oc_err_prefix(st, "compare: output '%s' against %s/%s", c->out[k].name, c->ref_dir,
                                 c->refs[c->ref_idx[k]].file);
        entry_fold(c, &c->out[k], &m, ta, tb);
    }
    if ((st = fold_detections(c)) != ONNXC_OK)
        return st;
    c->samples++;
    return ONNXC_OK;
}

onnxc_status onnxc_compare_run(onnxc_comparison *c, int n, const char *const *names,
                               const onnxc_tensor *const *inputs)
{
    if (!c)
        return oc_err(ONNXC_E_ARG, "compare: no comparison");
    if (c->reference)
        return run_reference(c, n, names, inputs);
    c->done = 0;
    c->total = (int64_t)c->sa->n_order + c->sb->n_order;
    c->spill_end = 0;
    for (int i = 0; i < c->n_nodes; i++)
        c->spill[i].present = 0;
    onnxc_status st = oc_run_observed(c->sa, n, names, inputs, observe_a, c);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "%s", c->label_a);
    st = oc_run_observed(c->sb, n, names, inputs, observe_b, c);
    if (st != ONNXC_OK)
        return oc_err_prefix(st, "%s", c->label_b);
    if (c->fd >= 0 && ftruncate(c->fd, 0) != 0) {
        /* only disk space is at stake; the next sample overwrites from offset 0 anyway */
    }
    for (int k = 0; k < c->n_out; k++) {
        const onnxc_tensor *ta = onnxc_session_output(c->sa, c->out_a[k]);
        const onnxc_tensor *tb = onnxc_session_output(c->sb, c->out_b[k]);
        if (!ta || !tb)
            return oc_err(ONNXC_E_RUNTIME, "compare: output '%s' is missing after the run", c->out[k].name);
        onnxc_metrics m;
        if ((st = metrics_for(c, ta, tb, &m)) != ONNXC_OK)
            return oc_err_prefix(st, "compare: output '%s'", c->out[k].name);
        entry_fold(c, &c->out[k], &m, ta, tb);
    }
    if ((st = fold_detections(c)) != ONNXC_OK)
        return st;
    c->samples++;
    return ONNXC_OK;
}

int onnxc_compare_num_samples(const onnxc_comparison *c) { return c ? c->samples : 0; }
int onnxc_compare_num_outputs(const onnxc_comparison *c) { return c ? c->n_out : 0; }
const onnxc_compare_entry *onnxc_compare_output(const onnxc_comparison *c, int i)
{
    return c && i >= 0 && i < c->n_out ? &c->out[i] : NULL;
}
int onnxc_compare_by_position(const onnxc_comparison *c) { return c ? c->by_position : 0; }
int onnxc_compare_num_unmatched(const onnxc_comparison *c, int side)
{
    return c && (side == 0 || side == 1) ? c->n_unmatched[side] : 0;
}
const char *onnxc_compare_unmatched(const onnxc_comparison *c, int side, int i)
{
    if (!c || (side != 0 && side != 1) || i < 0 || i >= c->n_unmatched[side])
        return NULL;
    return c->unmatched[side][i];
}

/* Per-node entries that were compared at least once, in B's order; i-th of them. */
static const onnxc_compare_entry *compared_node(const onnxc_comparison *c, int i, int *index_out)
{
    int k = 0;
    for (int j = 0; c && j < c->n_nodes; j++) {
        if (c->nodes[j].metrics.samples == 0)
            continue;
        if (k++ == i) {
            if (index_out)
                *index_out = j;
            return &c->nodes[j];
        }
    }
    return NULL;
}

int onnxc_compare_num_nodes(const onnxc_comparison *c)
{
    int k = 0;
    for (int j = 0; c && j < c->n_nodes; j++)
        k += c->nodes[j].metrics.samples > 0;
    return k;
}

const onnxc_compare_entry *onnxc_compare_node(const onnxc_comparison *c, int i)
{
    return compared_node(c, i, NULL);
}

int onnxc_compare_first_divergence(const onnxc_comparison *c)
{
    int k = 0;
    for (int j = 0; c && j < c->n_nodes; j++) {
        if (c->nodes[j].metrics.samples == 0)
            continue;
        if (!c->nodes[j].within)
            return k;
        k++;
    }
    return -1;
}

int onnxc_compare_reference_nonfinite(const onnxc_comparison *c)
{
    for (int k = 0; c && k < c->n_out; k++)
        if (c->out[k].metrics.nan_a || c->out[k].metrics.inf_a)
            return 1;
    return 0;
}

int64_t onnxc_compare_num_elements(const onnxc_comparison *c)
{
    int64_t n = 0;
    for (int k = 0; c && k < c->n_out; k++)
        if (c->out[k].detection_set < 0)
            n += c->out[k].metrics.n;
    for (int i = 0; c && i < c->n_dets; i++)
        n += c->dets[i].elements;
    return n;
}

int onnxc_compare_num_detection_sets(const onnxc_comparison *c) { return c && c->det_decided ? c->n_dets : 0; }

const onnxc_compare_detections *onnxc_compare_detection_set(const onnxc_comparison *c, int i)
{
    return c && c->det_decided && i >= 0 && i < c->n_dets ? &c->dets[i].pub : NULL;
}

int onnxc_compare_within(const onnxc_comparison *c)
{
    /* zero elements compared (every output empty, e.g. --shape N=0) proves nothing: not a pass */
    if (!c || c->samples == 0 || c->n_out == 0 || onnxc_compare_num_elements(c) == 0)
        return 0;
    for (int k = 0; k < c->n_out; k++)
        if (!c->out[k].within)
            return 0;
    return 1;
}

void onnxc_compare_free(onnxc_comparison *c)
{
    if (!c)
        return;
    onnxc_session_free(c->sa);
    onnxc_session_free(c->sb);
    if (c->fd >= 0)
        close(c->fd);
    oc_free(c->out);
    oc_free(c->out_a);
    oc_free(c->out_b);
    oc_free(c->unmatched[0]);
    oc_free(c->unmatched[1]);
    oc_free(c->nodes);
    oc_free(c->spill);
    oc_free(c->slot_a);
    oc_free(c->slot_b);
    oc_free(c->buf);
    oc_free(c->label_a);
    oc_free(c->label_b);
    for (int i = 0; i < c->n_refs; i++) {
        oc_free(c->refs[i].file);
        oc_free(c->refs[i].key);
        onnxc_tensor_free(c->refs[i].t);
    }
    oc_free(c->refs);
    oc_free(c->ref_idx);
    oc_free(c->ref_dir);
    oc_free(c->dets);
    oc_free(c->det_spec);
    oc_free(c);
}

/* ---------------------------------------------------------------- report */

/* Why an entry is not within tolerance, in a few words. */
static void reason_text(const onnxc_comparison *c, const onnxc_compare_entry *e, char *buf, size_t cap)
{
    const onnxc_metrics *m = &e->metrics;
    char sa[128], sb[128];
    if (e->detection_set >= 0 && e->detection_set < c->n_dets) {
        size_t k = (size_t)snprintf(buf, cap, "detection set '%s': ", c->dets[e->detection_set].pub.name);
        if (k < cap)
            oc_det_reason(&c->dets[e->detection_set], buf + k, cap - k);
        return;
    }
    if (!m->comparable) {
        if (e->dtype_a != e->dtype_b)
            snprintf(buf, cap, "not comparable, type differs: %s in A, %s in B", onnxc_dtype_name(e->dtype_a),
                     onnxc_dtype_name(e->dtype_b));
        else {
            oc_dims_str(e->dims_a, e->rank_a, sa, sizeof sa);
            oc_dims_str(e->dims_b, e->rank_b, sb, sizeof sb);
            snprintf(buf, cap, "not comparable, shape differs: %s in A, %s in B", sa, sb);
        }
        return;
    }
    const double lim = tol_for(c, e->dtype_a, e->dtype_b).nmse;
    size_t k = (size_t)snprintf(buf, cap, "NMSE %.3g%s%.2g", m->nmse, m->nmse > lim ? " > " : " <= ", lim);
    if (k < cap)
        k += (size_t)snprintf(buf + k, cap - k, ", %lld of %lld elements outside atol + rtol*max(|A|, rms(A))",
                              (long long)m->n_fail, (long long)m->n);
    if (k < cap && m->n_nonfinite_mismatch)
        snprintf(buf + k, cap - k, " (%lld where NaN/Inf differ)", (long long)m->n_nonfinite_mismatch);
}

/* One table line; wop > 0 adds the op column (per-node tables). */
static void print_row(FILE *f, const onnxc_compare_entry *e, int wname, int wop)
{
    const onnxc_metrics *m = &e->metrics;
    char shape[128], fails[64];
    if (e->detection_set >= 0) { /* its figures are the set's, below the table */
        char a[64], b[64];
        oc_dims_str(e->dims_a, e->rank_a, a, sizeof a);
        oc_dims_str(e->dims_b, e->rank_b, b, sizeof b);
        if (strcmp(a, b) == 0)
            snprintf(shape, sizeof shape, "%s", b);
        else
            snprintf(shape, sizeof shape, "%s|%s", a, b);
        fprintf(f, "  %-*s %-14s (matched as detections, see below) %s\n", wname, e->name, shape,
                e->within ? "ok" : "DIFFERS");
        return;
    }
    if (m->comparable || e->rank_a == e->rank_b)
        oc_dims_str(e->dims_b, e->rank_b, shape, sizeof shape);
    if (!m->comparable) {
        char a[64], b[64];
        oc_dims_str(e->dims_a, e->rank_a, a, sizeof a);
        oc_dims_str(e->dims_b, e->rank_b, b, sizeof b);
        snprintf(shape, sizeof shape, "%s|%s", a, b);
        fprintf(f, "  %-*s ", wname, e->name);
        if (wop)
            fprintf(f, "%-*s ", wop, e->op_type ? e->op_type : "");
        fprintf(f, "%-14s %s\n", shape,
                e->dtype_a != e->dtype_b ? "DIFFERS (not comparable: type differs)" : "DIFFERS (not comparable: shape differs)");
        return;
    }
    snprintf(fails, sizeof fails, "%lld/%lld", (long long)m->n_fail, (long long)m->n);
    fprintf(f, "  %-*s ", wname, e->name);
    if (wop)
        fprintf(f, "%-*s ", wop, e->op_type ? e->op_type : "");
    fprintf(f, "%-14s %-10.3e %-10.3e %-10.3e %-10.3e %-10.3e %-12.9f %-15s %s\n", shape,
            m->max_abs, m->max_rel, m->mean_abs, m->median_abs, m->nmse, m->cosine, fails,
            e->within ? "ok" : "DIFFERS");
}

static void print_header(FILE *f, int wname, const char *first, int wop)
{
    fprintf(f, "  %-*s ", wname, first);
    if (wop)
        fprintf(f, "%-*s ", wop, "op");
    fprintf(f, "%-14s %-10s %-10s %-10s %-10s %-10s %-12s %-15s %s\n", "shape", "max abs",
            "max rel", "mean abs", "median abs", "NMSE", "cosine", "failing", "result");
}

static void print_human(const onnxc_comparison *c, FILE *f)
{
    fprintf(f, "criterion: an element passes when |B - A| <= atol + rtol*max(|A|, rms(A)) (atol %g, rtol %g; a NaN never "
               "passes); an output passes when no element fails and NMSE <= %g\n",
            c->o.atol, c->o.rtol, c->o.nmse);
    for (int k = 0; k < c->n_out; k++) {
        const onnxc_compare_entry *e = &c->out[k];
        oc_tol t = tol_for(c, e->dtype_a, e->dtype_b);
        if (t.nmse != c->o.nmse) {
            fprintf(f, "  %s outputs: atol %g, rtol %g, NMSE <= %g (the defaults of the type)\n",
                    onnxc_dtype_name(e->dtype_a == ONNXC_BFLOAT16 || e->dtype_b == ONNXC_BFLOAT16 ? ONNXC_BFLOAT16
                                                                                                  : ONNXC_FLOAT16),
                    t.atol, t.rtol, t.nmse);
            break;
        }
    }
    if (c->reference)
        fprintf(f, "outputs (A: the saved outputs in %s, matched by name):\n", c->ref_dir);
    else
        fprintf(f, "outputs (matched by %s; worst case over %d sample%s):\n",
                c->by_position ? "position, the models share no output name" : "name", c->samples,
                c->samples == 1 ? "" : "s");
    int wname = 6;
    for (int k = 0; k < c->n_out; k++)
        if ((int)strlen(c->out[k].name) > wname)
            wname = (int)strlen(c->out[k].name);
    if (wname > 64)
        wname = 64;
    print_header(f, wname, "output", 0);
    for (int k = 0; k < c->n_out; k++)
        print_row(f, &c->out[k], wname, 0);
    for (int k = 0; k < c->n_out; k++) {
        const onnxc_compare_entry *e = &c->out[k];
        const onnxc_metrics *m = &e->metrics;
        if (c->by_position)
            fprintf(f, "  %s: compared with A's output '%s'\n", e->name, e->name_a);
        if (m->nan_a || m->nan_b || m->inf_a || m->inf_b)
            fprintf(f, "  %s: NaN %lld in A, %lld in B; Inf %lld in A, %lld in B\n", e->name, (long long)m->nan_a,
                    (long long)m->nan_b, (long long)m->inf_a, (long long)m->inf_b);
        if (m->top1_rows) {
            fprintf(f, "  %s: top-1 agreement %lld/%lld rows", e->name, (long long)m->top1_agree,
                    (long long)m->top1_rows);
            if (m->top5_rows)
                fprintf(f, ", top-5 %lld/%lld rows", (long long)m->top5_agree, (long long)m->top5_rows);
            fprintf(f, "\n");
        }
    }
    oc_det_print_human(f, c->dets, c->det_decided ? c->n_dets : 0);
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < c->n_unmatched[side]; i++) {
            if (c->reference)
                fprintf(f, "  not compared: the reference holds '%s', which is not an output of B\n",
                        c->unmatched[side][i]);
            else
                fprintf(f, "  not compared: output '%s' of %s has no counterpart in %s\n", c->unmatched[side][i],
                        side ? "B" : "A", side ? "A" : "B");
        }

    if (c->o.per_node) {
        int n = onnxc_compare_num_nodes(c);
        fprintf(f, "\nper node: %d value%s produced under the same name in both graphs, in B's execution order\n", n,
                n == 1 ? "" : "s");
        int wn = 5, wop = 2;
        for (int i = 0; i < n; i++) {
            const onnxc_compare_entry *e = onnxc_compare_node(c, i);
            if ((int)strlen(e->name) > wn)
                wn = (int)strlen(e->name);
            if ((int)strlen(e->op_type) > wop)
                wop = (int)strlen(e->op_type);
        }
        if (wn > 64)
            wn = 64;
        if (wop > 24)
            wop = 24;
        if (n)
            print_header(f, wn, "value", wop);
        for (int i = 0; i < n; i++)
            print_row(f, onnxc_compare_node(c, i), wn, wop);
        int d = onnxc_compare_first_divergence(c);
        if (d >= 0) {
            const onnxc_compare_entry *e = onnxc_compare_node(c, d);
            const onnxc_metrics *m = &e->metrics;
            char why[400];
            reason_text(c, e, why, sizeof why);
            if (*e->node)
                fprintf(f, "first divergence: node '%s' (%s", e->node, e->op_type);
            else
                fprintf(f, "first divergence: an unnamed node (%s", e->op_type);
            if (strcmp(e->op_type, e->op_type_a) != 0)
                fprintf(f, "; produced by %s in A", e->op_type_a);
            fprintf(f, "), output '%s': %s", e->name, why);
            if (m->comparable)
                fprintf(f, "; max abs %.3g, max rel %.3g, mean abs %.3g, cosine %.9f", m->max_abs, m->max_rel,
                        m->mean_abs, m->cosine);
            if (c->samples > 1)
                fprintf(f, " (worst in sample %d)", e->worst_sample);
            fprintf(f, "\n");
        } else if (n) {
            fprintf(f, "per node: every shared value is within tolerance\n");
        }
    }

    fprintf(f, "\n");
    if (c->samples == 0) {
        fprintf(f, "result: nothing compared (no sample was run)\n");
        return;
    }
    int incomparable = 0;
    for (int k = 0; k < c->n_out; k++)
        incomparable += !c->out[k].metrics.comparable && c->out[k].detection_set < 0;
    if (onnxc_compare_num_elements(c) == 0 && !incomparable) {
        fprintf(f, "result: nothing compared (every output is empty): not a pass\n");
        return;
    }
    if (onnxc_compare_within(c)) {
        fprintf(f, "result: B matches A within tolerance on %s%d output%s (%d sample%s)\n", c->n_out > 1 ? "all " : "",
                c->n_out, c->n_out == 1 ? "" : "s", c->samples, c->samples == 1 ? "" : "s");
        return;
    }
    int bad = 0;
    for (int k = 0; k < c->n_out; k++)
        bad += !c->out[k].within;
    fprintf(f, "result: B differs from A beyond tolerance on %d of %d output%s:\n", bad, c->n_out,
            c->n_out == 1 ? "" : "s");
    for (int k = 0; k < c->n_out; k++) {
        if (c->out[k].within)
            continue;
        char why[400];
        reason_text(c, &c->out[k], why, sizeof why);
        fprintf(f, "  %s: %s\n", c->out[k].name, why);
    }
    fprintf(f, "(this is a measurement of how far B's outputs drift from A's, not a failure of the comparison; "
               "drift is expected after output-changing rewrites such as swap-norm)\n");
}

/* The report writes a missing string as "". */
static void json_str(FILE *f, const char *s) { oc_json_str(f, s ? s : ""); }

static void json_num(FILE *f, double v)
{
    if (isfinite(v)) {
        /* the shortest form that reads back as v: 1e-05 stays short, a cosine of 1 - 1e-14 stays visible */
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, f);
    } else
        fputs("null", f);
}

static void json_shape(FILE *f, const int64_t *dims, int rank)
{
    fputc('[', f);
    for (int i = 0; i < rank; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)dims[i]);
    fputc(']', f);
}

static void json_entry(FILE *f, const onnxc_compare_entry *e)
{
    const onnxc_metrics *m = &e->metrics;
    fputs("{\"name\":", f);
    json_str(f, e->name);
    fputs(",\"name_a\":", f);
    json_str(f, e->name_a);
    if (e->node) {
        fputs(",\"node\":", f);
        json_str(f, e->node);
        fputs(",\"op\":", f);
        json_str(f, e->op_type);
        fputs(",\"op_a\":", f);
        json_str(f, e->op_type_a);
    }
    fputs(",\"dtype_a\":", f);
    json_str(f, onnxc_dtype_name(e->dtype_a));
    fputs(",\"dtype_b\":", f);
    json_str(f, onnxc_dtype_name(e->dtype_b));
    fputs(",\"shape_a\":", f);
    json_shape(f, e->dims_a, e->rank_a);
    fputs(",\"shape_b\":", f);
    json_shape(f, e->dims_b, e->rank_b);
    fprintf(f, ",\"comparable\":%s,\"samples\":%d,\"elements\":%lld,\"finite\":%lld,\"failing\":%lld,"
               "\"nonfinite_mismatch\":%lld,\"nan_a\":%lld,\"nan_b\":%lld,\"inf_a\":%lld,\"inf_b\":%lld",
            m->comparable ? "true" : "false", m->samples, (long long)m->n, (long long)m->n_finite,
            (long long)m->n_fail, (long long)m->n_nonfinite_mismatch, (long long)m->nan_a, (long long)m->nan_b,
            (long long)m->inf_a, (long long)m->inf_b);
    const char *keys[] = {"max_abs", "max_rel", "mean_abs", "median_abs", "nmse", "cosine"};
    double vals[] = {m->max_abs, m->max_rel, m->mean_abs, m->median_abs, m->nmse, m->cosine};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        fprintf(f, ",\"%s\":", keys[i]);
        if (m->comparable)
            json_num(f, vals[i]);
        else
            fputs("null", f);
    }
    if (m->top1_rows)
        fprintf(f, ",\"top1\":{\"rows\":%lld,\"agree\":%lld}", (long long)m->top1_rows, (long long)m->top1_agree);
    else
        fputs(",\"top1\":null", f);
    if (m->top5_rows)
        fprintf(f, ",\"top5\":{\"rows\":%lld,\"agree\":%lld}", (long long)m->top5_rows, (long long)m->top5_agree);
    else
        fputs(",\"top5\":null", f);
    fprintf(f, ",\"worst_sample\":%d", e->worst_sample);
    if (e->detection_set >= 0)
        fprintf(f, ",\"compared_as\":\"detections\",\"detection_set\":%d", e->detection_set);
    else
        fputs(",\"compared_as\":\"elements\",\"detection_set\":null", f);
    fprintf(f, ",\"within_tolerance\":%s}", e->within ? "true" : "false");
}

static void print_json(const onnxc_comparison *c, FILE *f)
{
    fprintf(f, "{\"samples\":%d,\"atol\":", c->samples);
    json_num(f, c->o.atol);
    fputs(",\"rtol\":", f);
    json_num(f, c->o.rtol);
    fputs(",\"nmse_limit\":", f);
    json_num(f, c->o.nmse);
    fputs(",\"criterion\":\"an element passes when |B - A| <= atol + rtol*max(|A|, rms(A)) (a NaN never passes); an output "
          "passes when no element fails and nmse <= nmse_limit\"",
          f);
    fprintf(f, ",\"matched_by\":\"%s\",\"reference\":", c->by_position ? "position" : "name");
    if (c->reference)
        json_str(f, c->ref_dir);
    else
        fputs("null", f);
    fputs(",\"outputs\":[", f);
    for (int k = 0; k < c->n_out; k++) {
        if (k)
            fputc(',', f);
        json_entry(f, &c->out[k]);
    }
    fputc(']', f);
    fputs(",\"detections\":", f);
    oc_det_print_json(f, c->dets, c->det_decided ? c->n_dets : 0);
    for (int side = 0; side < 2; side++) {
        fprintf(f, ",\"unmatched_%s\":[", side ? "b" : "a");
        for (int i = 0; i < c->n_unmatched[side]; i++) {
            if (i)
                fputc(',', f);
            json_str(f, c->unmatched[side][i]);
        }
        fputc(']', f);
    }
    if (c->o.per_node) {
        int n = onnxc_compare_num_nodes(c), d = onnxc_compare_first_divergence(c);
        fprintf(f, ",\"per_node\":{\"compared\":%d,\"first_divergence\":", n);
        if (d >= 0)
            json_entry(f, onnxc_compare_node(c, d));
        else
            fputs("null", f);
        fputs(",\"values\":[", f);
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', f);
            json_entry(f, onnxc_compare_node(c, i));
        }
        fputs("]}", f);
    }
    fprintf(f, ",\"elements\":%lld", (long long)onnxc_compare_num_elements(c));
    fprintf(f, ",\"reference_nonfinite\":%s,\"within_tolerance\":%s}", onnxc_compare_reference_nonfinite(c) ? "true" : "false",
            onnxc_compare_within(c) ? "true" : "false");
}

void onnxc_compare_print(const onnxc_comparison *c, FILE *f, int json)
{
    if (!c || !f)
        return;
    if (json)
        print_json(c, f);
    else
        print_human(c, f);
}

onnxc_status onnxc_compare_json(const onnxc_comparison *c, char **json)
{
    if (!json || !c) {
        if (json)
            *json = NULL;
        return oc_err(ONNXC_E_ARG, "onnxc_compare_json: NULL argument");
    }
    oc_membuf b;
    onnxc_status st = oc_membuf_open(&b);
    if (st != ONNXC_OK) {
        *json = NULL;
        return st;
    }
    onnxc_compare_print(c, b.f, 1);
    return oc_membuf_take(&b, json);
}
