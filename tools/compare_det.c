/* Detection-aware comparison: outputs whose rows are detections (boxes/scores/labels, dets, NMS indices, masks
 * and keypoints that follow the same K) are grouped into sets and compared by matching A's detections with B's
 * (greedy by A's score, same label, box IoU >= a threshold) instead of element by element, so a float tie that
 * reorders two boxes agrees and one box more is one unmatched detection. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare_det.h"
#include "dtype.h"
#include "json.h"
#include "util.h"

/* ---------------------------------------------------------------- shapes */

static int is_float(int32_t t)
{
    return t == ONNXC_FLOAT || t == ONNXC_DOUBLE || t == ONNXC_FLOAT16 || t == ONNXC_BFLOAT16;
}

static int is_numeric(int32_t t)
{
    return t != ONNXC_STRING && t != ONNXC_COMPLEX64 && t != ONNXC_COMPLEX128 && onnxc_dtype_size(t) != 0;
}

static int is_integer(int32_t t) { return is_numeric(t) && !is_float(t) && t != ONNXC_BOOL; }

/* The rows of a boxes-like output of the form, -1 when t is not one. */
static int64_t main_rows(int form, const onnxc_tensor *t)
{
    if (!t || t->rank != 2)
        return -1;
    if (form == OC_DET_BOXES && is_float(t->dtype) && t->dims[1] == 4)
        return t->dims[0];
    if (form == OC_DET_DETS && is_float(t->dtype) && (t->dims[1] == 5 || t->dims[1] == 6))
        return t->dims[0];
    if (form == OC_DET_INDICES && is_integer(t->dtype) && t->dims[1] == 3)
        return t->dims[0];
    return -1;
}

/* role 1 scores, 2 labels, 3 extra: does t have K rows of that kind? */
static int fits_role(int role, const onnxc_tensor *t, int64_t k)
{
    if (!t || t->rank < 1 || t->dims[0] != k || !is_numeric(t->dtype))
        return 0;
    if (role == 1)
        return t->rank == 1 && is_float(t->dtype);
    if (role == 2)
        return t->rank == 1;
    return 1;
}

static int64_t numel(const onnxc_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* ---------------------------------------------------------------- grouping */

static void set_init(oc_det_set *s, int form, int k_boxes, const char *name, const char *how, double iou,
                     double score_threshold)
{
    memset(s, 0, sizeof *s);
    s->form = form;
    s->k_boxes = k_boxes;
    s->k_scores = s->k_labels = -1;
    for (int i = 0; i < ONNXC_DET_MAX_EXTRA; i++)
        s->k_extra[i] = -1;
    s->pub.name = s->pub.boxes = name;
    s->pub.grouped_by = how;
    s->pub.form = form == OC_DET_BOXES ? "boxes" : form == OC_DET_DETS ? "dets" : "indices";
    s->pub.iou_threshold = iou;
    s->pub.score_threshold = score_threshold;
    s->pub.min_iou = 1.0;
    s->pub.within = 1;
}

static int find_name(int n, const char *const *names, const char *name, size_t len)
{
    for (int k = 0; k < n; k++)
        if (strlen(names[k]) == len && strncmp(names[k], name, len) == 0)
            return k;
    return -1;
}

onnxc_status oc_det_parse(const char *spec, int n, const char *const *names, oc_det_set **sets, int *n_sets,
                          int *off)
{
    *sets = NULL;
    *n_sets = 0;
    *off = 0;
    if (!spec)
        return ONNXC_OK;
    if (strcmp(spec, "none") == 0) {
        *off = 1;
        return ONNXC_OK;
    }
    int cap = 0;
    onnxc_status st = ONNXC_OK;
    const char *p = spec;
    while (*p && st == ONNXC_OK) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if (end == p) {
            p = *end ? end + 1 : end;
            continue;
        }
        if ((st = oc_grow((void **)sets, &cap, *n_sets + 1, sizeof **sets)) != ONNXC_OK)
            break;
        oc_det_set *s = &(*sets)[*n_sets];
        set_init(s, OC_DET_BOXES, -1, NULL, "option", ONNXC_COMPARE_IOU, NAN);
        const char *q = p;
        while (q < end && st == ONNXC_OK) {
            const char *comma = memchr(q, ',', (size_t)(end - q));
            if (!comma)
                comma = end;
            const char *eq = memchr(q, '=', (size_t)(comma - q));
            if (!eq || eq == q || eq + 1 == comma) {
                st = oc_err(ONNXC_E_ARG, "detections: '%.*s' is not ROLE=OUTPUT (roles: boxes, dets, indices, "
                            "scores, labels, masks, keypoints, extra)", (int)(comma - q), q);
                break;
            }
            size_t rl = (size_t)(eq - q);
            int k = find_name(n, names, eq + 1, (size_t)(comma - eq - 1));
            if (k < 0) {
                st = oc_err(ONNXC_E_ARG, "detections: '%.*s' is not an output compared (give an output name of "
                            "the model under test)", (int)(comma - eq - 1), eq + 1);
                break;
            }
#define ROLE_IS(w) (rl == strlen(w) && strncmp(q, w, rl) == 0)
            if (ROLE_IS("boxes") || ROLE_IS("dets") || ROLE_IS("indices")) {
                if (s->k_boxes >= 0) {
                    st = oc_err(ONNXC_E_ARG, "detections: a set has one boxes, dets or indices output ('%s' and "
                                "'%s' given)", names[s->k_boxes], names[k]);
                    break;
                }
                s->form = ROLE_IS("boxes") ? OC_DET_BOXES : ROLE_IS("dets") ? OC_DET_DETS : OC_DET_INDICES;
                s->pub.form = s->form == OC_DET_BOXES ? "boxes" : s->form == OC_DET_DETS ? "dets" : "indices";
                s->k_boxes = k;
                s->pub.name = s->pub.boxes = names[k];
            } else if (ROLE_IS("scores")) {
                s->k_scores = k;
                s->pub.scores = names[k];
            } else if (ROLE_IS("labels")) {
                s->k_labels = k;
                s->pub.labels = names[k];
            } else if (ROLE_IS("masks") || ROLE_IS("keypoints") || ROLE_IS("extra")) {
                if (s->pub.n_extra == ONNXC_DET_MAX_EXTRA) {
                    st = oc_err(ONNXC_E_ARG, "detections: at most %d extra outputs per set", ONNXC_DET_MAX_EXTRA);
                    break;
                }
                s->k_extra[s->pub.n_extra] = k;
                s->pub.extra[s->pub.n_extra++] = names[k];
            } else {
                st = oc_err(ONNXC_E_ARG, "detections: unknown role '%.*s' (roles: boxes, dets, indices, scores, "
                            "labels, masks, keypoints, extra)", (int)rl, q);
                break;
            }
#undef ROLE_IS
            q = comma < end ? comma + 1 : end;
        }
        if (st == ONNXC_OK && s->k_boxes < 0)
            st = oc_err(ONNXC_E_ARG, "detections: the set '%.*s' names no boxes, dets or indices output",
                        (int)(end - p), p);
        if (st == ONNXC_OK && s->form == OC_DET_INDICES && s->k_scores >= 0)
            st = oc_err(ONNXC_E_ARG, "detections: an indices set has no scores (NonMaxSuppression's rows are "
                        "matched when equal)");
        if (st == ONNXC_OK)
            (*n_sets)++;
        p = *end ? end + 1 : end;
    }
    /* an output belongs to one set */
    int *seen = st == ONNXC_OK ? oc_calloc((size_t)n + 1, sizeof *seen) : NULL;
    if (st == ONNXC_OK && !seen)
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
    for (int i = 0; st == ONNXC_OK && i < *n_sets; i++) {
        const oc_det_set *s = &(*sets)[i];
        int ks[3 + ONNXC_DET_MAX_EXTRA] = {s->k_boxes, s->k_scores, s->k_labels};
        for (int e = 0; e < s->pub.n_extra; e++)
            ks[3 + e] = s->k_extra[e];
        for (int x = 0; st == ONNXC_OK && x < 3 + s->pub.n_extra; x++)
            if (ks[x] >= 0 && seen[ks[x]]++)
                st = oc_err(ONNXC_E_ARG, "detections: output '%s' is given twice", names[ks[x]]);
    }
    oc_free(seen);
    if (st == ONNXC_OK && *n_sets == 0)
        st = oc_err(ONNXC_E_ARG, "detections: no set given ('%s')", spec);
    if (st != ONNXC_OK) {
        oc_free(*sets);
        *sets = NULL;
        *n_sets = 0;
    }
    return st;
}

/* Roles by name: 0 boxes, 1 scores, 2 labels, 3 extra, 4 dets, 5 indices; -1 none. key gets the name, lower
 * case, without the keyword: outputs of one set share it ("boxes_kept", "scores_kept" -> "_kept"). */
static int name_role(const char *name, char *key, size_t cap)
{
    static const struct {
        const char *word;
        int role;
    } words[] = {
        {"keypoints_scores", 3}, {"keypoint_scores", 3}, {"keypoints", 3}, {"keypoint", 3}, {"masks", 3},
        {"mask", 3}, {"selected_indices", 5}, {"detections", 4}, {"dets", 4}, {"bboxes", 0}, {"boxes", 0},
        {"bbox", 0}, {"box", 0}, {"scores", 1}, {"score", 1}, {"labels", 2}, {"label", 2}, {"class_ids", 2},
        {"classes", 2}, {"class", 2},
    };
    size_t n = strlen(name);
    if (n + 1 > cap)
        return -1;
    for (size_t i = 0; i <= n; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        char *hit = strstr(key, words[w].word);
        if (!hit)
            continue;
        size_t wl = strlen(words[w].word);
        memmove(hit, hit + wl, strlen(hit + wl) + 1);
        return words[w].role;
    }
    return -1;
}

static onnxc_status add_set(oc_det_set **sets, int *n_sets, int *cap, const oc_det_set *s)
{
    onnxc_status st = oc_grow((void **)sets, cap, *n_sets + 1, sizeof **sets);
    if (st == ONNXC_OK)
        (*sets)[(*n_sets)++] = *s;
    return st;
}

/* Does output k join set s in role (1 scores, 2 labels, 3 extra) on both sides? */
static int joins(const oc_det_view *v, const oc_det_set *s, int role, int k)
{
    int64_t ka = main_rows(s->form, v->a[s->k_boxes]), kb = main_rows(s->form, v->b[s->k_boxes]);
    if (role == 3 && s->pub.n_extra == ONNXC_DET_MAX_EXTRA)
        return 0;
    if (role == 1 && (s->k_scores >= 0 || s->form == OC_DET_INDICES))
        return 0;
    if (role == 2 && s->k_labels >= 0)
        return 0;
    return fits_role(role, v->a[k], ka) && fits_role(role, v->b[k], kb) && v->a[k]->dtype == v->b[k]->dtype;
}

static void join(oc_det_set *s, const oc_det_view *v, int role, int k, int *used)
{
    used[k] = 1;
    if (role == 1) {
        s->k_scores = k;
        s->pub.scores = v->names[k];
    } else if (role == 2) {
        s->k_labels = k;
        s->pub.labels = v->names[k];
    } else {
        s->k_extra[s->pub.n_extra] = k;
        s->pub.extra[s->pub.n_extra++] = v->names[k];
    }
}

onnxc_status oc_det_group(const oc_det_view *v, double iou, double score_threshold, oc_det_set **sets,
                          int *n_sets)
{
    *sets = NULL;
    *n_sets = 0;
    int cap = 0, n = v->n;
    onnxc_status st = ONNXC_OK;
    int *role = oc_calloc((size_t)n + 1, sizeof *role), *used = oc_calloc((size_t)n + 1, sizeof *used);
    char **key = oc_calloc((size_t)n + 1, sizeof *key);
    if (!role || !used || !key) {
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        goto done;
    }
    /* by name: a boxes / dets / indices output of the right shape, and the scores, labels and extras that
     * share the rest of its name and its K on both sides */
    for (int k = 0; k < n && st == ONNXC_OK; k++) {
        size_t len = strlen(v->names[k]) + 1;
        if (!(key[k] = oc_malloc(len)))
            st = oc_err(ONNXC_E_NOMEM, "compare: out of memory");
        else
            role[k] = name_role(v->names[k], key[k], len);
    }
    for (int k = 0; k < n && st == ONNXC_OK; k++) {
        int form = role[k] == 0 ? OC_DET_BOXES : role[k] == 4 ? OC_DET_DETS : role[k] == 5 ? OC_DET_INDICES : -1;
        if (form < 0 || main_rows(form, v->a[k]) < 0 || main_rows(form, v->b[k]) < 0 ||
            v->a[k]->dtype != v->b[k]->dtype)
            continue;
        oc_det_set s;
        set_init(&s, form, k, v->names[k], "name", iou, score_threshold);
        used[k] = 1;
        for (int j = 0; j < n; j++)
            if (!used[j] && role[j] >= 1 && role[j] <= 3 && strcmp(key[j], key[k]) == 0 && joins(v, &s, role[j], j))
                join(&s, v, role[j], j, used);
        st = add_set(sets, n_sets, &cap, &s);
    }
    /* masks or keypoints named apart from the boxes ("masks" beside "boxes_kept") join the only set */
    if (*n_sets == 1)
        for (int j = 0; j < n; j++)
            if (!used[j] && role[j] == 3 && joins(v, &(*sets)[0], 3, j))
                join(&(*sets)[0], v, 3, j, used);
    /* by shape: outputs whose size depends on the data (in B's session), grouped by the symbol declared for
     * their first dim, else by their row counts in A and B; a group holding exactly one float [K,4] (or else
     * one integer [K,3], NonMaxSuppression's rows) is a set, with its one float [K] as scores, its one
     * integer [K] as labels and its other [K,...] outputs as extras */
    for (int k = 0; k < n && st == ONNXC_OK; k++) {
        if (used[k] || !v->dynamic[k] || v->a[k]->rank < 1 || v->b[k]->rank < 1)
            continue;
        int members[64], nm = 0;
        for (int j = k; j < n && nm < 64; j++) {
            if (used[j] || !v->dynamic[j] || v->a[j]->rank < 1 || v->b[j]->rank < 1)
                continue;
            int same = v->dim0[k] && v->dim0[j] ? strcmp(v->dim0[k], v->dim0[j]) == 0
                                                : v->a[j]->dims[0] == v->a[k]->dims[0] &&
                                                      v->b[j]->dims[0] == v->b[k]->dims[0];
            if (same)
                members[nm++] = j;
        }
        int nbox = 0, nidx = 0, ibox = -1, iidx = -1;
        for (int m = 0; m < nm; m++) {
            int j = members[m];
            if (main_rows(OC_DET_BOXES, v->a[j]) >= 0 && main_rows(OC_DET_BOXES, v->b[j]) >= 0)
                nbox++, ibox = j;
            if (main_rows(OC_DET_INDICES, v->a[j]) >= 0 && main_rows(OC_DET_INDICES, v->b[j]) >= 0)
                nidx++, iidx = j;
        }
        int form = nbox == 1 ? OC_DET_BOXES : nbox == 0 && nidx == 1 ? OC_DET_INDICES : -1;
        if (form < 0) {
            for (int m = 0; m < nm; m++)
                used[members[m]] = 1; /* looked at: no set here */
            continue;
        }
        int kb = form == OC_DET_BOXES ? ibox : iidx;
        oc_det_set s;
        set_init(&s, form, kb, v->names[kb], "shape", iou, score_threshold);
        used[kb] = 1;
        int nsc = 0, nlb = 0, isc = -1, ilb = -1;
        for (int m = 0; m < nm; m++) {
            int j = members[m];
            if (used[j])
                continue;
            if (joins(v, &s, 1, j))
                nsc++, isc = j;
            else if (v->a[j]->rank == 1 && is_integer(v->a[j]->dtype) && joins(v, &s, 2, j))
                nlb++, ilb = j;
        }
        if (nsc == 1)
            join(&s, v, 1, isc, used);
        if (nlb == 1)
            join(&s, v, 2, ilb, used);
        for (int m = 0; m < nm; m++) {
            int j = members[m];
            if (!used[j] && v->a[j]->rank >= 2 && joins(v, &s, 3, j))
                join(&s, v, 3, j, used);
            used[j] = 1;
        }
        st = add_set(sets, n_sets, &cap, &s);
    }
done:
    for (int k = 0; key && k < n; k++)
        oc_free(key[k]);
    oc_free(key);
    oc_free(role);
    oc_free(used);
    if (st != ONNXC_OK) {
        oc_free(*sets);
        *sets = NULL;
        *n_sets = 0;
    }
    return st;
}

/* ---------------------------------------------------------------- matching */

/* Overlap of intervals [a0, a1] and [b0, b1] along one axis, as a fraction of their union; two intervals of no
 * length overlap fully (1) when they sit at the same place within float rounding, else not at all. */
static double axis_iou(double a0, double a1, double b0, double b1)
{
    const double la = fmax(a1 - a0, 0), lb = fmax(b1 - b0, 0);
    if (la == 0 && lb == 0)
        return fabs(a0 - b0) <= 1e-6 * fmax(1.0, fabs(a0)) ? 1.0 : 0.0;
    const double inter = fmax(fmin(a1, b1) - fmax(a0, b0), 0), uni = la + lb - inter;
    return uni > 0 && isfinite(uni) ? inter / uni : 0.0;
}

/* IoU of corner boxes; boxes with x2 < x1 or y2 < y1 have no area; two equal boxes have IoU 1 even when empty.
 * Two boxes without area (clipped to a border, as detectors with random weights emit them: x1 = x2) have no
 * area IoU; theirs is the product of the axes' overlaps, so the same segment moved by rounding still matches. */
static double box_iou(const double *a, const double *b)
{
    if (a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3])
        return 1.0;
    double aw = fmax(a[2] - a[0], 0), ah = fmax(a[3] - a[1], 0), bw = fmax(b[2] - b[0], 0), bh = fmax(b[3] - b[1], 0);
    if (aw * ah == 0 && bw * bh == 0)
        return axis_iou(a[0], a[2], b[0], b[2]) * axis_iou(a[1], a[3], b[1], b[3]);
    double iw = fmax(fmin(a[2], b[2]) - fmax(a[0], b[0]), 0), ih = fmax(fmin(a[3], b[3]) - fmax(a[1], b[1]), 0);
    double inter = iw * ih, uni = aw * ah + bw * bh - inter;
    return uni > 0 && isfinite(uni) ? inter / uni : 0.0;
}

/* One side's detections as doubles: rows x w "box" values (4 coords, or the 3 indices), scores, labels. */
typedef struct det_side {
    int64_t n;
    int w;
    double *box, *score, *label;
    double rms_box, rms_score;
} det_side;

static double rms_of(const double *v, int64_t n)
{
    double s = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i] * v[i];
            m++;
        }
    return m ? sqrt(s / (double)m) : 0.0;
}

static onnxc_status load_side(const oc_det_set *s, const onnxc_tensor *const *t, det_side *d)
{
    memset(d, 0, sizeof *d);
    const onnxc_tensor *tb = t[s->k_boxes];
    d->n = main_rows(s->form, tb);
    d->w = s->form == OC_DET_INDICES ? 3 : 4;
    int64_t cols = tb->dims[1];
    size_t n = (size_t)d->n + 1;
    d->box = oc_malloc(n * (size_t)d->w * sizeof *d->box);
    d->score = oc_malloc(n * sizeof *d->score);
    d->label = oc_malloc(n * sizeof *d->label);
    if (!d->box || !d->score || !d->label)
        return oc_err(ONNXC_E_NOMEM, "compare: out of memory for %lld detections", (long long)d->n);
    const onnxc_tensor *ts = s->k_scores >= 0 ? t[s->k_scores] : NULL, *tl = s->k_labels >= 0 ? t[s->k_labels] : NULL;
    for (int64_t i = 0; i < d->n; i++) {
        for (int c = 0; c < d->w; c++)
            d->box[i * d->w + c] = oc_load_f64(tb->dtype, tb->data, i * cols + c);
        d->score[i] = ts ? oc_load_f64(ts->dtype, ts->data, i) : s->form == OC_DET_DETS ? oc_load_f64(tb->dtype, tb->data, i * cols + 4) : 0.0;
        d->label[i] = tl ? oc_load_f64(tl->dtype, tl->data, i) : s->form == OC_DET_DETS && cols == 6 ? oc_load_f64(tb->dtype, tb->data, i * cols + 5) : 0.0;
    }
    d->rms_box = rms_of(d->box, d->n * d->w);
    d->rms_score = rms_of(d->score, d->n);
    return ONNXC_OK;
}

static void free_side(det_side *d)
{
    oc_free(d->box);
    oc_free(d->score);
    oc_free(d->label);
}

/* Indices 0..n-1 by decreasing score, ties (and NaN, last) by index: an insertion sort, stable, thread-safe. */
static void order_by_score(const double *score, int64_t n, int64_t *idx)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i;
        double x = isnan(score[i]) ? -INFINITY : score[i];
        while (j > 0) {
            double y = isnan(score[idx[j - 1]]) ? -INFINITY : score[idx[j - 1]];
            if (!(x > y))
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

static int passes(double a, double b, double atol, double rtol, double rms)
{
    return fabs(b - a) <= atol + rtol * fmax(fabs(a), rms);
}

static int has_scores(const oc_det_set *s) { return s->k_scores >= 0 || s->form == OC_DET_DETS; }
static int has_labels(const oc_det_set *s)
{
    return s->k_labels >= 0 || s->form == OC_DET_INDICES; /* dets' column 5 is checked by the caller */
}

onnxc_status oc_det_sample(oc_det_set *s, const onnxc_tensor *const *a, const onnxc_tensor *const *b, double atol,
                           double rtol)
{
    onnxc_compare_detections *p = &s->pub;
    p->samples++;
    /* shapes: every output of the set with the set's K on its side */
    int64_t ka = main_rows(s->form, a[s->k_boxes]), kb = main_rows(s->form, b[s->k_boxes]);
    int ok = ka >= 0 && kb >= 0 && a[s->k_boxes]->dims[1] == b[s->k_boxes]->dims[1];
    if (ok && s->k_scores >= 0)
        ok = fits_role(1, a[s->k_scores], ka) && fits_role(1, b[s->k_scores], kb);
    if (ok && s->k_labels >= 0)
        ok = fits_role(2, a[s->k_labels], ka) && fits_role(2, b[s->k_labels], kb);
    for (int e = 0; ok && e < p->n_extra; e++) {
        const onnxc_tensor *xa = a[s->k_extra[e]], *xb = b[s->k_extra[e]];
        ok = fits_role(3, xa, ka) && fits_role(3, xb, kb) && xa->rank == xb->rank;
        for (int d = 1; ok && d < xa->rank; d++)
            ok = xa->dims[d] == xb->dims[d];
    }
    if (!ok) {
        p->shape_problems++;
        p->within = 0;
        return ONNXC_OK;
    }
    int ks[3 + ONNXC_DET_MAX_EXTRA] = {s->k_boxes, s->k_scores, s->k_labels};
    for (int e = 0; e < p->n_extra; e++)
        ks[3 + e] = s->k_extra[e];
    for (int x = 0; x < 3 + p->n_extra; x++)
        if (ks[x] >= 0)
            s->elements += numel(a[ks[x]]) + numel(b[ks[x]]);

    det_side da, db;
    onnxc_status st = load_side(s, a, &da);
    if (st == ONNXC_OK)
        st = load_side(s, b, &db);
    else
        memset(&db, 0, sizeof db);
    int64_t *order = oc_malloc(((size_t)da.n + 1) * sizeof *order);
    int64_t *mb = oc_malloc(((size_t)db.n + 1) * sizeof *mb), *ma = oc_malloc(((size_t)da.n + 1) * sizeof *ma);
    if (st == ONNXC_OK && (!order || !ma || !mb))
        st = oc_err(ONNXC_E_NOMEM, "compare: out of memory for %lld detections", (long long)(da.n + db.n));
    if (st != ONNXC_OK)
        goto out;
    const int labelled = has_labels(s) || (s->form == OC_DET_DETS && a[s->k_boxes]->dims[1] == 6);
    const int scored = has_scores(s);
    order_by_score(da.score, da.n, order);
    double rms_extra[ONNXC_DET_MAX_EXTRA]; /* over A's values of each extra in this sample */
    for (int e = 0; e < p->n_extra; e++) {
        const onnxc_tensor *xa = a[s->k_extra[e]];
        double sum = 0;
        int64_t m = 0, total = numel(xa);
        for (int64_t q = 0; q < total; q++) {
            double v = oc_load_f64(xa->dtype, xa->data, q);
            if (isfinite(v)) {
                sum += v * v;
                m++;
            }
        }
        rms_extra[e] = m ? sqrt(sum / (double)m) : 0.0;
    }
    for (int64_t j = 0; j < db.n; j++)
        mb[j] = -1;
    for (int64_t r = 0; r < da.n; r++) {
        int64_t i = order[r], best = -1;
        double best_iou = -1;
        ma[i] = -1;
        for (int64_t j = 0; j < db.n; j++) {
            if (mb[j] >= 0 || (labelled && s->form != OC_DET_INDICES && da.label[i] != db.label[j]))
                continue;
            double iou;
            if (s->form == OC_DET_INDICES)
                iou = da.box[i * 3] == db.box[j * 3] && da.box[i * 3 + 1] == db.box[j * 3 + 1] &&
                              da.box[i * 3 + 2] == db.box[j * 3 + 2]
                          ? 1.0
                          : 0.0;
            else
                iou = box_iou(&da.box[i * 4], &db.box[j * 4]);
            if (!(iou >= p->iou_threshold) || iou < best_iou)
                continue;
            if (iou == best_iou && best >= 0 &&
                !(fabs(db.score[j] - da.score[i]) < fabs(db.score[best] - da.score[i])))
                continue; /* a tie in IoU: the closer score, then the lower index */
            best = j;
            best_iou = iou;
        }
        if (best < 0)
            continue;
        ma[i] = best;
        mb[best] = i;
        p->matched++;
        p->reordered += best != i;
        if (best_iou < p->min_iou)
            p->min_iou = best_iou;
        if (s->form != OC_DET_INDICES) {
            int fail = 0;
            for (int c = 0; c < 4; c++) {
                double x = da.box[i * 4 + c], y = db.box[best * 4 + c], d = fabs(y - x);
                if (d > p->max_box_diff || isnan(d))
                    p->max_box_diff = isnan(d) ? INFINITY : d;
                fail |= !passes(x, y, atol, rtol, da.rms_box);
            }
            p->box_fail += fail;
        }
        if (scored) {
            double d = fabs(db.score[best] - da.score[i]);
            if (d > p->max_score_diff || isnan(d))
                p->max_score_diff = isnan(d) ? INFINITY : d;
            p->score_fail += !passes(da.score[i], db.score[best], atol, rtol, da.rms_score);
        }
        for (int e = 0; e < p->n_extra; e++) {
            const onnxc_tensor *xa = a[s->k_extra[e]], *xb = b[s->k_extra[e]];
            int64_t row = ka ? numel(xa) / ka : 0, fail = 0;
            const double rms = rms_extra[e];
            for (int64_t q = 0; q < row; q++) {
                double x = oc_load_f64(xa->dtype, xa->data, i * row + q), y = oc_load_f64(xb->dtype, xb->data, best * row + q);
                double d = fabs(y - x);
                if (d > p->extra_max_abs[e] || isnan(d))
                    p->extra_max_abs[e] = isnan(d) ? INFINITY : d;
                fail |= !passes(x, y, atol, rtol, rms);
            }
            p->extra_fail[e] += fail;
        }
    }
    /* unmatched: relabelled boxes, and the ones at the score threshold */
    int64_t ua = 0, ub = 0, ata = 0, atb = 0;
    const double thr = p->score_threshold;
    for (int64_t r = 0; r < da.n; r++) {
        int64_t i = order[r];
        if (ma[i] >= 0)
            continue;
        ua++;
        if (scored && isfinite(thr) && passes(thr, da.score[i], atol, rtol, da.rms_score))
            ata++;
        if (!labelled || s->form == OC_DET_INDICES)
            continue;
        for (int64_t j = 0; j < db.n; j++)
            if (mb[j] < 0 && da.label[i] != db.label[j] && box_iou(&da.box[i * 4], &db.box[j * 4]) >= p->iou_threshold) {
                mb[j] = -2 - i; /* taken by this relabelling, still unmatched */
                p->label_changed++;
                break;
            }
    }
    for (int64_t j = 0; j < db.n; j++) {
        if (mb[j] >= 0)
            continue;
        ub++;
        if (scored && isfinite(thr) && passes(thr, db.score[j], atol, rtol, da.rms_score))
            atb++;
    }
    p->n_a += da.n;
    p->n_b += db.n;
    p->unmatched_a += ua;
    p->unmatched_b += ub;
    p->at_threshold_a += ata;
    p->at_threshold_b += atb;
    if (ua > ata || ub > atb || p->box_fail || p->score_fail)
        p->within = 0;
    for (int e = 0; e < p->n_extra; e++)
        if (p->extra_fail[e])
            p->within = 0;
out:
    oc_free(order);
    oc_free(ma);
    oc_free(mb);
    free_side(&da);
    free_side(&db);
    return st;
}

/* ---------------------------------------------------------------- report */

static void roles_text(const oc_det_set *s, char *buf, size_t cap)
{
    const onnxc_compare_detections *p = &s->pub;
    size_t k = (size_t)snprintf(buf, cap, "%s=%s", p->form, p->boxes);
    if (k < cap && p->scores)
        k += (size_t)snprintf(buf + k, cap - k, ", scores=%s", p->scores);
    if (k < cap && p->labels)
        k += (size_t)snprintf(buf + k, cap - k, ", labels=%s", p->labels);
    for (int e = 0; e < p->n_extra && k < cap; e++)
        k += (size_t)snprintf(buf + k, cap - k, ", extra=%s", p->extra[e]);
}

void oc_det_reason(const oc_det_set *s, char *buf, size_t cap)
{
    const onnxc_compare_detections *p = &s->pub;
    if (p->shape_problems) {
        snprintf(buf, cap, "in %lld sample%s an output of the set had no detection shape", (long long)p->shape_problems,
                 p->shape_problems == 1 ? "" : "s");
        return;
    }
    size_t k = 0;
    buf[0] = 0;
    if (p->unmatched_a > p->at_threshold_a || p->unmatched_b > p->at_threshold_b)
        k = (size_t)snprintf(buf, cap, "%lld of %lld detections of A and %lld of %lld of B unmatched",
                             (long long)(p->unmatched_a - p->at_threshold_a), (long long)p->n_a,
                             (long long)(p->unmatched_b - p->at_threshold_b), (long long)p->n_b);
    if (k < cap && p->label_changed)
        k += (size_t)snprintf(buf + k, cap - k, " (%lld relabelled)", (long long)p->label_changed);
    if (k < cap && p->box_fail)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld matched box%s beyond tolerance (max diff %.3g)", k ? ", " : "",
                              (long long)p->box_fail, p->box_fail == 1 ? "" : "es", p->max_box_diff);
    if (k < cap && p->score_fail)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld matched score%s beyond tolerance (max diff %.3g)",
                              k ? ", " : "", (long long)p->score_fail, p->score_fail == 1 ? "" : "s",
                              p->max_score_diff);
    for (int e = 0; e < p->n_extra && k < cap; e++)
        if (p->extra_fail[e])
            k += (size_t)snprintf(buf + k, cap - k, "%s%s beyond tolerance on %lld matched detection%s (max diff %.3g)",
                                  k ? ", " : "",
                                  p->extra[e], (long long)p->extra_fail[e], p->extra_fail[e] == 1 ? "" : "s",
                                  p->extra_max_abs[e]);
}

void oc_det_print_human(FILE *f, const oc_det_set *sets, int n)
{
    if (n == 0)
        return;
    fprintf(f, "detections: %d set%s compared by matching detections, not element by element:\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        char roles[512];
        roles_text(&sets[i], roles, sizeof roles);
        const char *how = !strcmp(sets[i].pub.grouped_by, "option") ? "given with the detections option"
                          : !strcmp(sets[i].pub.grouped_by, "name") ? "grouped by output names"
                                                                     : "grouped by shape: data-dependent outputs sharing K";
        fprintf(f, "  set '%s' (%s): %s\n", sets[i].pub.name, how, roles);
    }
    int w = 4;
    for (int i = 0; i < n; i++)
        if ((int)strlen(sets[i].pub.name) > w)
            w = (int)strlen(sets[i].pub.name);
    if (w > 40)
        w = 40;
    fprintf(f, "  %-*s %-7s %-7s %-8s %-11s %-11s %-8s %-12s %-12s %s\n", w, "set", "A", "B", "matched", "unmatched A",
            "unmatched B", "min IoU", "max box diff", "max score d.", "result");
    for (int i = 0; i < n; i++) {
        const onnxc_compare_detections *p = &sets[i].pub;
        fprintf(f, "  %-*s %-7lld %-7lld %-8lld %-11lld %-11lld ", w, p->name, (long long)p->n_a, (long long)p->n_b,
                (long long)p->matched, (long long)p->unmatched_a, (long long)p->unmatched_b);
        if (p->matched)
            fprintf(f, "%-8.4f ", p->min_iou);
        else
            fprintf(f, "%-8s ", "-");
        if (p->matched && sets[i].form != OC_DET_INDICES)
            fprintf(f, "%-12.3e ", p->max_box_diff);
        else
            fprintf(f, "%-12s ", "-");
        if (p->matched && has_scores(&sets[i]))
            fprintf(f, "%-12.3e ", p->max_score_diff);
        else
            fprintf(f, "%-12s ", "-");
        fprintf(f, "%s\n", p->within ? "ok" : "DIFFERS");
    }
    for (int i = 0; i < n; i++) {
        const onnxc_compare_detections *p = &sets[i].pub;
        for (int e = 0; e < p->n_extra; e++)
            fprintf(f, "  %s: %s on matched detections: max abs diff %.3e, %lld beyond tolerance\n", p->name, p->extra[e],
                    p->extra_max_abs[e], (long long)p->extra_fail[e]);
        if (p->label_changed)
            fprintf(f, "  %s: %lld box%s of A found in B with another label\n", p->name, (long long)p->label_changed,
                    p->label_changed == 1 ? "" : "es");
        if (p->at_threshold_a || p->at_threshold_b)
            fprintf(f, "  %s: unmatched at the score threshold %g (not failures): %lld in A, %lld in B\n", p->name,
                    p->score_threshold, (long long)p->at_threshold_a, (long long)p->at_threshold_b);
        if (p->reordered)
            fprintf(f, "  %s: %lld matched pair%s at another position in B (reordered by ties or by unmatched "
                       "detections)\n", p->name, (long long)p->reordered, p->reordered == 1 ? "" : "s");
        if (p->shape_problems)
            fprintf(f, "  %s: in %lld sample%s an output of the set did not have the set's detection shape\n", p->name,
                    (long long)p->shape_problems, p->shape_problems == 1 ? "" : "s");
    }
    fprintf(f, "  matching: A's detections by decreasing score each take B's unmatched detection of the same label "
               "with the highest IoU >= %g (indices rows: equal rows); a set passes when every detection is matched%s "
               "and every matched box coordinate, score and extra element passes the element test above (no NMSE)\n",
            sets[0].pub.iou_threshold, isfinite(sets[0].pub.score_threshold) ? " or at the score threshold" : "");
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v)) {
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, f);
    } else
        fputs("null", f);
}

void oc_det_print_json(FILE *f, const oc_det_set *sets, int n)
{
    fputs("[", f);
    for (int i = 0; i < n; i++) {
        const onnxc_compare_detections *p = &sets[i].pub;
        if (i)
            fputc(',', f);
        fputs("{\"name\":", f);
        oc_json_str(f, p->name);
        fputs(",\"grouped_by\":", f);
        oc_json_str(f, p->grouped_by);
        fputs(",\"form\":", f);
        oc_json_str(f, p->form);
        fputs(",\"boxes\":", f);
        oc_json_str(f, p->boxes);
        fputs(",\"scores\":", f);
        oc_json_str(f, p->scores);
        fputs(",\"labels\":", f);
        oc_json_str(f, p->labels);
        fputs(",\"iou_threshold\":", f);
        json_num(f, p->iou_threshold);
        fputs(",\"score_threshold\":", f);
        json_num(f, p->score_threshold);
        fprintf(f, ",\"samples\":%d,\"detections_a\":%lld,\"detections_b\":%lld,\"matched\":%lld,\"unmatched_a\":%lld,"
                   "\"unmatched_b\":%lld,\"at_threshold_a\":%lld,\"at_threshold_b\":%lld,\"label_changed\":%lld,"
                   "\"reordered\":%lld,\"min_iou\":",
                p->samples, (long long)p->n_a, (long long)p->n_b, (long long)p->matched, (long long)p->unmatched_a,
                (long long)p->unmatched_b, (long long)p->at_threshold_a, (long long)p->at_threshold_b,
                (long long)p->label_changed, (long long)p->reordered);
        if (p->matched)
            json_num(f, p->min_iou);
        else
            fputs("null", f);
        fputs(",\"max_box_diff\":", f);
        if (p->matched && sets[i].form != OC_DET_INDICES)
            json_num(f, p->max_box_diff);
        else
            fputs("null", f);
        fprintf(f, ",\"box_failing\":%lld,\"max_score_diff\":", (long long)p->box_fail);
        if (p->matched && has_scores(&sets[i]))
            json_num(f, p->max_score_diff);
        else
            fputs("null", f);
        fprintf(f, ",\"score_failing\":%lld,\"extra\":[", (long long)p->score_fail);
        for (int e = 0; e < p->n_extra; e++) {
            fputs(e ? ",{\"name\":" : "{\"name\":", f);
            oc_json_str(f, p->extra[e]);
            fputs(",\"max_abs\":", f);
            if (p->matched)
                json_num(f, p->extra_max_abs[e]);
            else
                fputs("null", f);
            fprintf(f, ",\"failing\":%lld}", (long long)p->extra_fail[e]);
        }
        fprintf(f, "],\"shape_problems\":%lld,\"within_tolerance\":%s}", (long long)p->shape_problems,
                p->within ? "true" : "false");
    }
    fputs("]", f);
}
