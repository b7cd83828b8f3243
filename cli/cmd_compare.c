/* onnxc compare A.onnx B.onnx: run a model and its rewritten form on the same inputs (files, or seeded random
 * samples) and report per output, optionally per shared intermediate value, how far B drifts from A. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc compare A.onnx B.onnx [--input NAME=FILE]... [--shape NAME=DIMS]... [--samples N] [--seed S]\n"
    "                     [--range NAME=LO,HI]... [--atol X] [--rtol Y] [--nmse Z] [--per-node] [--json]\n"
    "                     [--threads N] [--report FILE.html] [--detections SPEC]... [--iou X] [--score-threshold T]\n"
    "       onnxc compare MODEL --reference DIR --input NAME=FILE... [--atol X] [--rtol Y] [--nmse Z] [--json]\n"
    "                     [--threads N] [--report FILE.html] [--detections SPEC]... [--iou X] [--score-threshold T]\n"
    "\n"
    "Run A (the reference) and B (e.g. A after 'onnxc optimize' or 'onnxc swap-norm') with onnxc's executor on\n"
    "the same inputs and report, for each output, how far B is from A: max abs error, max relative error\n"
    "(|B - A| / |A| where A != 0), mean and median abs error, NMSE = sum (B - A)^2 / sum A^2, cosine similarity,\n"
    "the count of elements failing the tolerance, NaN and Inf counts, and for [N, classes] outputs the top-1\n"
    "and top-5 agreement (rows whose largest class, or set of 5 largest, is the same). Outputs are matched by\n"
    "name; when the models share no output name, by position (said so). With several samples each figure is\n"
    "the worst sample's, counts are totals.\n"
    "\n"
    "Pass/fail (\"equal within float rounding\", the same test as 'onnxc optimize --verify'): an element passes\n"
    "when |B - A| <= atol + rtol*max(|A|, rms(A)), rms(A) being the root mean square of the output's reference\n"
    "values (rounding scales with the output's magnitude, so an element near zero may move by rtol*rms); a NaN\n"
    "never passes, equal infinities do. An output passes when no element fails AND its NMSE <= Z. A comparison\n"
    "of zero elements (every output empty, e.g. --shape N=0) is not a pass: exit 2.\n"
    "\n"
    "Detections: outputs whose rows are detections - boxes [K,4] (x1,y1,x2,y2) with scores [K] and labels [K]\n"
    "as torchvision's detectors and NMS tails emit them, dets [K,5|6] (box, score, label), NonMaxSuppression's\n"
    "selected_indices [K,3], and masks [K,1,H,W] / keypoints [K,17,3] that follow the same K - are compared by\n"
    "matching, not element by element, so a float tie that reorders two boxes agrees and one box more above a\n"
    "threshold is one unmatched detection, not a shape mismatch. They are found by name (a boxes/bbox/dets/\n"
    "selected_indices output of that shape with the scores, labels, masks, keypoints outputs whose names\n"
    "differ only in that word: boxes_kept, scores_kept, labels_kept), else by shape (outputs whose size\n"
    "depends on the data, sharing K: one float [K,4], one float [K] as scores, one integer [K] as labels), or\n"
    "as given with --detections; the output says which and how. Matching: A's detections by decreasing score\n"
    "each take B's unmatched detection of the same label with the highest IoU >= X (default 0.5, the usual\n"
    "'same object' overlap); rows of selected_indices match when equal. A set passes when every detection on\n"
    "both sides is matched and every matched box coordinate, score and mask / keypoint element passes the\n"
    "element test above (NMSE does not apply). Reported: detections in A and B, matched, unmatched on each\n"
    "side, relabelled boxes, the smallest IoU and the largest box, score and mask differences of matched pairs.\n"
    "\n"
    "  --input NAME=FILE   input NAME from a NumPy .npy or ONNX TensorProto .pb file (FILE alone: the name\n"
    "                      stored in the .pb, or the models' only input); the same tensor feeds every sample\n"
    "  --shape NAME=DIMS   shape of a generated input (--shape images=1x3x224x224), or the value of a symbolic\n"
    "                      dim (--shape N=4); symbolic dims not given are 1\n"
    "  --samples N         random samples to run (default 1); sample k uses seed S+k\n"
    "  --seed S            seed of the generated inputs (default 0)\n"
    "  --range NAME=LO,HI  values of generated input NAME: float types uniform in [LO, HI) (default [-1, 1)),\n"
    "                      integer types uniform in [LO, HI] (whole numbers; default 0..9)\n"
    "  --atol X            absolute tolerance per element (default 1e-5)\n"
    "  --rtol Y            relative tolerance per element, times |A| (default 1e-4)\n"
    "  --nmse Z            largest NMSE an output may have (default 1e-7; 'inf' turns this criterion off)\n"
    "                      With all three at their defaults, float16 outputs use atol 1e-4, rtol 1e-2, NMSE\n"
    "                      1e-5 and bfloat16 outputs atol 1e-3, rtol 8e-2, NMSE 6.4e-4 (about 20 units of\n"
    "                      the type's rounding); tolerances given otherwise apply to every type as they are\n"
    "  --per-node          also compare every value both graphs produce under the same name, in B's execution\n"
    "                      order, and name the first node whose output is beyond tolerance\n"
    "  --json              print one JSON object on stdout instead of the table\n"
    "  --threads N         worker threads (default: number of cores)\n"
    "  --report FILE.html  also write the result as one self-contained HTML page (no script, nothing fetched):\n"
    "                      the outputs' table and, with --per-node, each shared value's NMSE along B's\n"
    "                      execution order on a log scale with the first divergence marked\n"
    "  --reference DIR     compare MODEL against saved outputs instead of a second model (as Polygraphy's\n"
    "                      --load-outputs): DIR holds one file per output, NAME.npy or a TensorProto .pb (matched\n"
    "                      by the name stored in it, else NAME.pb), e.g. written by PyTorch; DIR plays A. Give\n"
    "                      with --input every input the reference was computed from (no random inputs, one\n"
    "                      sample, no --per-node); a file for a name MODEL lacks is noted and not compared\n"
    "  --detections SPEC   the outputs of one detection set, ROLE=OUTPUT,... with the roles boxes, dets, indices,\n"
    "                      scores, labels, masks, keypoints (extra: any other [K,...] output); repeat for more\n"
    "                      sets; only the sets given are matched. 'none': compare every output element-wise\n"
    "  --iou X             IoU a pair of boxes needs to match, in (0, 1] (default 0.5)\n"
    "  --score-threshold T the score threshold the model applies: a detection found on one side only whose\n"
    "                      score is within the tolerance of T (|score - T| <= atol + rtol*max(|T|, rms)) is\n"
    "                      reported as 'at the threshold' and does not fail the set (default: none, every\n"
    "                      unmatched detection fails)\n"
    "\n"
    "Generated inputs use the generator of 'onnxc run': without --range, 'onnxc run A.onnx --seed S+k' sees\n"
    "the inputs of sample k. A float range maps those values affinely onto [LO, HI); an integer range draws\n"
    "its own values from the same seed.\n"
    "\n"
    "--per-node memory: A runs first and each value it shares with B is written to an unlinked temporary file\n"
    "(in $TMPDIR, else /tmp); B then runs and each shared value is compared with A's copy the moment B\n"
    "produces it. Memory holds the two sessions plus one copy of the largest shared value and 8 bytes per\n"
    "element of it for the median; the disk holds A's shared values of one sample.\n"
    "\n"
    "exit status: 0 every output within tolerance, 1 B differs from A beyond tolerance (a measurement, e.g. the\n"
    "expected drift after swap-norm), 2 error (bad usage, models with different inputs or no outputs in common,\n"
    "an input file of the wrong type or shape, a model that does not run).\n";

typedef struct range_opt {
    char *name;
    double lo, hi;
} range_opt;

typedef struct cmp_state {
    const char *path_a, *path_b;
    const char *reference; /* --reference DIR: path_a is DIR, ma aliases mb */
    const char *report;    /* --report FILE.html */
    onnxc_model *ma, *mb;
    onnxc_comparison *c;
    onnxc_io_info *infos; /* A's real inputs, with dims B declares static filled in */
    int n_in;
    cli_given *given;
    int n_given;
    range_opt *ranges;
    int n_ranges;
    cli_dims dims;
    int json;
    cli_det_opts det;
    /* progress bar */
    int tty;
    struct timespec start;
    double last_draw;
    int bar_shown; /* characters of the bar on screen, 0 when none */
    int sample, samples;
    int32_t *gen_rank; /* shape each generated input took, for the header */
    int64_t (*gen_dims)[ONNXC_MAX_RANK];
} cmp_state;

/* A failed library call is an error of the comparison (exit 2), never a finding. */
static int fail(onnxc_status st)
{
    cli_fail(st);
    return CLI_EXIT_USAGE;
}

/* ---------------------------------------------------------------- progress */

static double elapsed(const cmp_state *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - s->start.tv_sec) + (double)(now.tv_nsec - s->start.tv_nsec) * 1e-9;
}

/* A bar on a terminal once the comparison has taken more than a second, redrawn at most ten times a second. */
static void progress(void *user, int64_t done, int64_t total)
{
    cmp_state *s = user;
    if (!s->tty || total <= 0)
        return;
    double t = elapsed(s);
    if (t < 1.0 || (s->bar_shown && t - s->last_draw < 0.1 && done < total))
        return;
    s->last_draw = t;
    double frac = ((double)s->sample + (double)done / (double)total) / (double)s->samples;
    int width = 30, fill = (int)(frac * width + 0.5);
    char bar[40];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    int len = fprintf(stderr, "\r[%s] %3d%%  sample %d/%d  %.0fs", bar, (int)(frac * 100), s->sample + 1, s->samples,
                      t);
    fflush(stderr);
    if (len > s->bar_shown)
        s->bar_shown = len;
}

static void progress_clear(cmp_state *s)
{
    if (s->bar_shown) {
        fprintf(stderr, "\r%*s\r", s->bar_shown, "");
        fflush(stderr);
        s->bar_shown = 0;
    }
}

/* ---------------------------------------------------------------- inputs */

static const onnxc_io_info *find_info(const cmp_state *s, const char *name)
{
    for (int i = 0; i < s->n_in; i++)
        if (strcmp(s->infos[i].name, name) == 0)
            return &s->infos[i];
    return NULL;
}

static int dim_given(const cli_dims *d, const char *name)
{
    for (int i = 0; name && i < d->n_opts; i++)
        if (d->opts[i].rank == 1 && strcmp(d->opts[i].name, name) == 0)
            return 1;
    return 0;
}

/* A's inputs, completed from B: a dim symbolic in A but static in B takes B's value, a symbol only B's
 * --shape names takes B's name. onnxc_compare_create has checked the two agree where both are static. */
static int merge_inputs(cmp_state *s)
{
    s->n_in = onnxc_model_num_inputs(s->ma);
    if (!(s->infos = calloc((size_t)s->n_in + 1, sizeof *s->infos))) {
        cli_error("compare: out of memory");
        return CLI_EXIT_USAGE;
    }
    int nb = onnxc_model_num_inputs(s->mb);
    onnxc_status st;
    for (int i = 0; i < s->n_in; i++) {
        onnxc_io_info *a = &s->infos[i];
        if ((st = onnxc_model_input_info(s->ma, i, a)) != ONNXC_OK)
            return fail(st);
        for (int j = 0; j < nb; j++) {
            onnxc_io_info b;
            if ((st = onnxc_model_input_info(s->mb, j, &b)) != ONNXC_OK)
                return fail(st);
            if (strcmp(a->name, b.name) != 0)
                continue;
            if (a->dtype == ONNXC_UNDEFINED)
                a->dtype = b.dtype;
            if (a->rank < 0) {
                *a = b;
                break;
            }
            for (int d = 0; b.rank == a->rank && d < a->rank; d++) {
                if (a->dims[d] >= 0)
                    continue;
                if (b.dims[d] >= 0) {
                    a->dims[d] = b.dims[d];
                    a->dim_params[d] = NULL;
                } else if (!dim_given(&s->dims, a->dim_params[d]) && dim_given(&s->dims, b.dim_params[d])) {
                    a->dim_params[d] = b.dim_params[d];
                }
            }
            break;
        }
    }
    return 0;
}

/* Every --shape NAME must be an input or a symbolic dim of A or of B. */
static int check_dims(cmp_state *s)
{
    for (int k = 0; k < s->dims.n_opts; k++) {
        cli_dims one = {.opts = &s->dims.opts[k], .n_opts = 1};
        onnxc_status st = cli_dims_check(s->ma, &one);
        if (st != ONNXC_OK)
            st = cli_dims_check(s->mb, &one);
        if (st != ONNXC_OK) {
            cli_fail(st);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

static void input_list(const cmp_state *s, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < s->n_in && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s'%s'", i ? ", " : "", s->infos[i].name);
}

/* A file's tensor against the declared input: type, rank, static dims; binds the symbols of both models. */
static int check_given(cmp_state *s, const onnxc_io_info *info, cli_given *g)
{
    if (cli_given_fits("compare", info, g, 1) != 0)
        return CLI_EXIT_USAGE;
    const onnxc_tensor *t = g->t; /* after cli_given_fits, which may replace g->t (a float64 file cast) */
    if (info->rank < 0)
        return 0;
    const onnxc_model *ms[2] = {s->ma, s->mb};
    for (int m = 0; m < 2; m++) {
        int n = onnxc_model_num_inputs(ms[m]);
        for (int i = 0; i < n; i++) {
            onnxc_io_info x;
            if (onnxc_model_input_info(ms[m], i, &x) != ONNXC_OK || strcmp(x.name, info->name) != 0 ||
                x.rank != t->rank)
                continue;
            for (int d = 0; d < x.rank; d++)
                if (x.dims[d] < 0 && x.dim_params[d] && *x.dim_params[d] &&
                    cli_dims_bind(&s->dims, x.dim_params[d], t->dims[d]) != 0) {
                    cli_error("compare: out of memory");
                    return CLI_EXIT_USAGE;
                }
        }
    }
    return 0;
}

static int read_given(cmp_state *s)
{
    char names[512];
    int k0 = cli_given_expand("compare", &s->given, &s->n_given);
    if (k0 != 0)
        return k0;
    for (int i = 0; i < s->n_given; i++) {
        cli_given *g = &s->given[i];
        /* a file that cannot be read is an error of the comparison (exit 2), like every failure here */
        if (cli_given_read("compare", s->given, i, s->infos, s->n_in, 1) != 0)
            return CLI_EXIT_USAGE;
        const onnxc_io_info *info = find_info(s, g->name);
        if (!info) {
            input_list(s, names, sizeof names);
            cli_error("compare: --input %s: the models have no input '%s' (their inputs: %s)", g->file, g->name,
                      names);
            return CLI_EXIT_USAGE;
        }
        int k = check_given(s, info, g);
        if (k)
            return k;
    }
    return 0;
}

static const cli_given *find_given(const cmp_state *s, const char *name)
{
    for (int i = 0; i < s->n_given; i++)
        if (strcmp(s->given[i].name, name) == 0)
            return &s->given[i];
    return NULL;
}

static const range_opt *find_range(const cmp_state *s, const char *name)
{
    for (int i = 0; i < s->n_ranges; i++)
        if (strcmp(s->ranges[i].name, name) == 0)
            return &s->ranges[i];
    return NULL;
}

static int is_float_type(int32_t t)
{
    return t == ONNXC_FLOAT || t == ONNXC_DOUBLE || t == ONNXC_FLOAT16 || t == ONNXC_BFLOAT16;
}

static int is_int_type(int32_t t)
{
    return t == ONNXC_UINT8 || t == ONNXC_INT8 || t == ONNXC_UINT16 || t == ONNXC_INT16 || t == ONNXC_INT32 ||
           t == ONNXC_INT64 || t == ONNXC_UINT32 || t == ONNXC_UINT64;
}

static int check_ranges(cmp_state *s)
{
    char names[512];
    for (int i = 0; i < s->n_ranges; i++) {
        const range_opt *r = &s->ranges[i];
        const onnxc_io_info *info = find_info(s, r->name);
        if (!info) {
            input_list(s, names, sizeof names);
            return cli_usage_error("compare", "--range %s: the models have no input '%s' (their inputs: %s)",
                                   r->name, r->name, names);
        }
        if (find_given(s, r->name))
            return cli_usage_error("compare", "--range %s: that input comes from a file (--input)", r->name);
        if (is_int_type(info->dtype) && (r->lo != floor(r->lo) || r->hi != floor(r->hi)))
            return cli_usage_error("compare", "--range %s: input '%s' is %s; give whole numbers", r->name, r->name,
                                   onnxc_dtype_name(info->dtype));
        if (!is_float_type(info->dtype) && !is_int_type(info->dtype))
            return cli_usage_error("compare", "--range %s: input '%s' is %s, which takes no range", r->name, r->name,
                                   onnxc_dtype_name(info->dtype));
        if (is_int_type(info->dtype) && (r->lo < -9.0e15 || r->hi > 9.0e15))
            return cli_usage_error("compare", "--range %s: bounds beyond +-9e15 are not supported", r->name);
        if (is_int_type(info->dtype) && (info->dtype == ONNXC_UINT8 || info->dtype == ONNXC_UINT16 ||
                                         info->dtype == ONNXC_UINT32 || info->dtype == ONNXC_UINT64) && r->lo < 0)
            return cli_usage_error("compare", "--range %s: input '%s' is %s; LO must be >= 0", r->name, r->name,
                                   onnxc_dtype_name(info->dtype));
    }
    return 0;
}

/* Put a generated tensor's values into [lo, hi): floats affinely from [-1, 1); integers drawn anew. */
static void apply_range(onnxc_tensor *t, const range_opt *r, uint64_t *rng)
{
    int64_t n = onnxc_tensor_numel(t);
    double scale = (r->hi - r->lo) / 2;
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case ONNXC_FLOAT: {
            float *p = (float *)t->data + i;
            float v = (float)(r->lo + ((double)*p + 1.0) * scale);
            *p = v < (float)r->hi ? v : nextafterf((float)r->hi, -INFINITY);
            break;
        }
        case ONNXC_DOUBLE: {
            double *p = (double *)t->data + i;
            double v = r->lo + (*p + 1.0) * scale;
            *p = v < r->hi ? v : nextafter(r->hi, -INFINITY);
            break;
        }
        case ONNXC_FLOAT16: {
            uint16_t *p = (uint16_t *)t->data + i;
            *p = onnxc_float_to_half((float)(r->lo + ((double)onnxc_half_to_float(*p) + 1.0) * scale));
            break;
        }
        case ONNXC_BFLOAT16: {
            uint16_t *p = (uint16_t *)t->data + i;
            *p = onnxc_float_to_bfloat16((float)(r->lo + ((double)onnxc_bfloat16_to_float(*p) + 1.0) * scale));
            break;
        }
        default: {
            uint64_t span = (uint64_t)((int64_t)r->hi - (int64_t)r->lo) + 1;
            int64_t v = (int64_t)r->lo + (int64_t)(cli_splitmix64(rng) % span);
            switch (t->dtype) {
            case ONNXC_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
            case ONNXC_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
            case ONNXC_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
            case ONNXC_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
            case ONNXC_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
            case ONNXC_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
            case ONNXC_INT64: ((int64_t *)t->data)[i] = v; break;
            case ONNXC_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
            default: break;
            }
        }
        }
    }
}

static int parse_range(cmp_state *s, const char *spec)
{
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec)
        return cli_usage_error("compare", "--range %s: expected NAME=LO,HI", spec);
    char *end;
    double lo = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != ',')
        return cli_usage_error("compare", "--range %s: expected NAME=LO,HI", spec);
    const char *h = end + 1;
    double hi = strtod(h, &end);
    if (end == h || *end || !isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return cli_usage_error("compare", "--range %s: LO and HI must be finite numbers with LO < HI", spec);
    range_opt *r = &s->ranges[s->n_ranges];
    if (!(r->name = strndup(spec, (size_t)(eq - spec)))) {
        cli_error("compare: out of memory");
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < s->n_ranges; i++)
        if (strcmp(s->ranges[i].name, r->name) == 0) {
            free(r->name);
            r->name = NULL;
            return cli_usage_error("compare", "--range for input '%s' given twice", s->ranges[i].name);
        }
    r->lo = lo;
    r->hi = hi;
    s->n_ranges++;
    return 0;
}

static int parse_tol(const char *opt, const char *val, double *out)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || !(v >= 0))
        return cli_usage_error("compare", "%s takes a non-negative number, not '%s'", opt, val);
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- output */

static void print_inputs(const cmp_state *s, FILE *f, uint64_t seed, int json)
{
    char d[256];
    for (int i = 0; i < s->n_in; i++) {
        const onnxc_io_info *info = &s->infos[i];
        const cli_given *g = find_given(s, info->name);
        const range_opt *r = find_range(s, info->name);
        if (json) {
            fprintf(f, "%s{\"name\":", i ? "," : "");
            onnxc_json_write_string(f, info->name);
            fprintf(f, ",\"dtype\":\"%s\",\"source\":\"%s\",\"shape\":[", onnxc_dtype_name(info->dtype),
                    g ? "file" : "random");
            const int64_t *dims = g ? g->t->dims : s->gen_dims[i];
            int rank = g ? g->t->rank : s->gen_rank[i];
            for (int k = 0; k < rank; k++)
                fprintf(f, "%s%lld", k ? "," : "", (long long)dims[k]);
            fprintf(f, "]");
            if (g) {
                fprintf(f, ",\"file\":");
                onnxc_json_write_string(f, g->file);
            } else if (r) {
                fprintf(f, ",\"range\":[%.17g,%.17g]", r->lo, r->hi);
            }
            fprintf(f, "}");
            continue;
        }
        if (g) {
            cli_dims_text(g->t->dims, g->t->rank, d, sizeof d);
            fprintf(f, "input  %s: %s [%s] from %s\n", info->name, onnxc_dtype_name(g->t->dtype), d, g->file);
        } else {
            if (s->gen_rank && s->gen_rank[i] >= 0)
                cli_dims_text(s->gen_dims[i], s->gen_rank[i], d, sizeof d);
            else
                onnxc_io_info_shape_text(info, d, sizeof d);
            fprintf(f, "input  %s: %s [%s] random", info->name, onnxc_dtype_name(info->dtype), d);
            if (r)
                fprintf(f, is_int_type(info->dtype) ? " in [%.17g, %.17g]" : " in [%g, %g)", r->lo, r->hi);
            else if (is_float_type(info->dtype))
                fprintf(f, " in [-1, 1)");
            if (s->samples > 1)
                fprintf(f, ", seeds %llu..%llu\n", (unsigned long long)seed,
                        (unsigned long long)(seed + (uint64_t)s->samples - 1));
            else
                fprintf(f, ", seed %llu\n", (unsigned long long)seed);
        }
    }
}

static void warn_findings(const cmp_state *s)
{
    const onnxc_comparison *c = s->c;
    if (onnxc_compare_by_position(c))
        cli_warn("the models share no output name: outputs are matched by position");
    for (int i = 0; s->reference && i < onnxc_compare_num_unmatched(c, 0); i++)
        fprintf(stderr, "onnxc: note: compare: %s holds '%s', which is not an output of %s: not compared\n",
                s->reference, onnxc_compare_unmatched(c, 0, i), s->path_b);
    for (int side = 0; !s->reference && side < 2; side++)
        for (int i = 0; i < onnxc_compare_num_unmatched(c, side); i++)
            cli_warn("output '%s' of %s has no counterpart in %s: not compared", onnxc_compare_unmatched(c, side, i),
                     side ? s->path_b : s->path_a, side ? s->path_a : s->path_b);
    for (int k = 0; k < onnxc_compare_num_outputs(c); k++) {
        const onnxc_compare_entry *e = onnxc_compare_output(c, k);
        if (e->metrics.nan_a || e->metrics.inf_a)
            cli_warn("the reference A itself produces %lld NaN and %lld Inf in output '%s' on these inputs; such "
                     "elements never pass%s", (long long)e->metrics.nan_a, (long long)e->metrics.inf_a, e->name_a,
                     s->reference ? "" : " (choose inputs with --range or --input)");
    }
}

/* ---------------------------------------------------------------- the command */

static void state_free(cmp_state *s)
{
    for (int i = 0; i < s->n_given; i++) {
        onnxc_tensor_free(s->given[i].t);
        free(s->given[i].name_buf);
    }
    for (int i = 0; i < s->n_ranges; i++)
        free(s->ranges[i].name);
    free(s->given);
    free(s->ranges);
    free(s->infos);
    free(s->gen_rank);
    free(s->gen_dims);
    cli_dims_free(&s->dims);
    free(s->det.spec);
    onnxc_compare_free(s->c);
    if (s->ma != s->mb)
        onnxc_model_free(s->ma);
    onnxc_model_free(s->mb);
}

/* One sample: given tensors, then the remaining inputs generated in A's order from seed. */
static int run_sample(cmp_state *s, uint64_t seed)
{
    size_t cap = (size_t)s->n_in + (size_t)s->n_given + 1;
    const char **names = calloc(cap, sizeof *names);
    const onnxc_tensor **feed = calloc(cap, sizeof *feed);
    onnxc_tensor **gen = calloc(cap, sizeof *gen);
    int n = 0, rc = 0;
    if (!names || !feed || !gen) {
        cli_error("compare: out of memory");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    for (int i = 0; i < s->n_given; i++) {
        names[n] = s->given[i].name;
        feed[n++] = s->given[i].t;
    }
    uint64_t rng = seed;
    for (int i = 0; i < s->n_in; i++) {
        const onnxc_io_info *info = &s->infos[i];
        if (find_given(s, info->name))
            continue;
        onnxc_status st = cli_input_generate(info, &s->dims, &rng, &gen[n]);
        if (st != ONNXC_OK) {
            progress_clear(s);
            cli_fail(st);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        const range_opt *r = find_range(s, info->name);
        if (r) {
            /* integer ranges draw from their own stream so the other inputs keep run's values */
            uint64_t own = seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(i + 1));
            apply_range(gen[n], r, &own);
        }
        s->gen_rank[i] = gen[n]->rank;
        memcpy(s->gen_dims[i], gen[n]->dims, sizeof s->gen_dims[i]);
        names[n] = info->name;
        feed[n] = gen[n];
        n++;
    }
    onnxc_status st = onnxc_compare_run(s->c, n, names, feed);
    if (st != ONNXC_OK) {
        progress_clear(s);
        cli_fail(st);
        rc = CLI_EXIT_USAGE;
    }
out:
    if (gen)
        for (size_t i = 0; i < cap; i++)
            onnxc_tensor_free(gen[i]);
    free(gen);
    free(names);
    free(feed);
    return rc;
}

static int compare_main(cmp_state *s, int argc, char **argv)
{
    uint64_t seed = 0;
    int64_t samples = 1, threads = 0;
    int opts_done = 0, k, samples_set = 0, seed_set = 0;
    const char *paths[3] = {NULL, NULL, NULL};
    int n_paths = 0;
    onnxc_compare_options co;
    onnxc_compare_options_init(&co);
    s->given = calloc((size_t)argc + 1, sizeof *s->given);
    s->ranges = calloc((size_t)argc + 1, sizeof *s->ranges);
    if (!s->given || !s->ranges) {
        cli_error("compare: out of memory");
        return CLI_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (opts_done || a[0] != '-' || !a[1]) {
            if (n_paths == 2)
                return cli_usage_error("compare", "unexpected argument '%s' (compare takes two models, or one "
                                       "with --reference)", a);
            paths[n_paths++] = a;
        } else if (cli_is_help(a)) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (strcmp(a, "--per-node") == 0) {
            co.per_node = 1;
        } else if (strcmp(a, "--json") == 0) {
            s->json = 1;
        } else if ((k = cli_det_flag("compare", argc, argv, &i, &s->det)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--input", &val)) != 0) {
            if (k < 0 || cli_given_parse("compare", val, &s->given[s->n_given++]) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--shape", &val)) != 0) {
            if (k < 0 || cli_dims_add("compare", &s->dims, val) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--samples", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 1000000, &samples) != 0)
                return cli_usage_error("compare", "--samples takes a count from 1 to 1000000, not '%s'", val);
            samples_set = 1;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--seed", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(val, &seed) != 0)
                return cli_usage_error("compare", "--seed takes a non-negative integer, not '%s'", val);
            seed_set = 1;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--report", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            s->report = val;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--reference", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            s->reference = val;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--range", &val)) != 0) {
            if (k < 0 || parse_range(s, val) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--atol", &val)) != 0) {
            if (k < 0 || parse_tol("--atol", val, &co.atol) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--rtol", &val)) != 0) {
            if (k < 0 || parse_tol("--rtol", val, &co.rtol) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--nmse", &val)) != 0) {
            if (k < 0 || parse_tol("--nmse", val, &co.nmse) != 0)
                return CLI_EXIT_USAGE;
        } else if ((k = cli_opt_value("compare", argc, argv, &i, "--threads", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 4096, &threads) != 0)
                return cli_usage_error("compare", "--threads takes a count from 1 to 4096, not '%s'", val);
        } else {
            return cli_usage_error("compare", "unknown option '%s'", a);
        }
    }
    onnxc_status st;
    if (s->reference) {
        if (n_paths != 1)
            return cli_usage_error("compare", "with --reference give one model, the one whose outputs are compared "
                                   "with the saved ones");
        if (co.per_node)
            return cli_usage_error("compare", "--per-node needs two models: saved outputs hold no intermediate "
                                   "values");
        if (samples_set || seed_set || s->n_ranges)
            return cli_usage_error("compare", "--reference compares one sample, made from the inputs given with "
                                   "--input: --samples, --seed and --range do not apply");
        s->path_a = s->reference;
        s->path_b = paths[0];
        if ((st = onnxc_model_load(s->path_b, &s->mb)) != ONNXC_OK)
            return fail(st);
        s->ma = s->mb; /* the inputs are the model's own; check_dims and merge_inputs see it twice */
    } else {
        if (n_paths != 2)
            return cli_usage_error("compare", "give two models: the reference A and the model B to compare with "
                                   "it (or one model and --reference DIR)");
        s->path_a = paths[0];
        s->path_b = paths[1];
        if ((st = onnxc_model_load(s->path_a, &s->ma)) != ONNXC_OK ||
            (st = onnxc_model_load(s->path_b, &s->mb)) != ONNXC_OK)
            return fail(st);
    }
    /* the page's path is checked before anything runs (a folder that is missing or a folder as the path) */
    if (s->report && ((st = onnxc_model_check_output(s->mb, s->report, NULL)) != ONNXC_OK ||
                      (s->ma != s->mb && (st = onnxc_model_check_output(s->ma, s->report, NULL)) != ONNXC_OK)))
        return fail(st);
    co.threads = (int)threads;
    cli_det_apply(&s->det, &co);
    co.label_a = s->path_a;
    co.label_b = s->path_b;
    co.progress = progress;
    co.progress_user = s;
    if (s->reference)
        st = onnxc_compare_create_reference(s->mb, s->reference, &co, &s->c);
    else
        st = onnxc_compare_create(s->ma, s->mb, &co, &s->c);
    if (st != ONNXC_OK)
        return fail(st);
    if ((k = check_dims(s)) != 0 || (k = merge_inputs(s)) != 0 || (k = read_given(s)) != 0 ||
        (k = check_ranges(s)) != 0)
        return k;
    if (s->reference) {
        char missing[512];
        size_t len = 0;
        missing[0] = 0;
        for (int i = 0; i < s->n_in && len < sizeof missing; i++)
            if (!find_given(s, s->infos[i].name))
                len += (size_t)snprintf(missing + len, sizeof missing - len, "%s'%s'", len ? ", " : "",
                                        s->infos[i].name);
        if (len)
            return cli_usage_error("compare", "--reference: give --input NAME=FILE for every input of %s, the "
                                   "inputs %s was computed from (missing: %s)", s->path_b, s->reference, missing);
    }

    s->gen_rank = malloc(((size_t)s->n_in + 1) * sizeof *s->gen_rank);
    s->gen_dims = calloc((size_t)s->n_in + 1, sizeof *s->gen_dims);
    if (!s->gen_rank || !s->gen_dims) {
        cli_error("compare: out of memory");
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < s->n_in; i++)
        s->gen_rank[i] = -1;
    int n_generated = s->n_in;
    for (int i = 0; i < s->n_in; i++)
        n_generated -= find_given(s, s->infos[i].name) != NULL;
    if (n_generated == 0 && samples > 1) {
        if (samples_set)
            cli_warn("every input comes from a file: --samples %lld runs the same sample; running it once",
                     (long long)samples);
        samples = 1;
    }
    s->samples = (int)samples;
    s->tty = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &s->start);
    for (int k2 = 0; k2 < s->samples; k2++) {
        s->sample = k2;
        if ((k = run_sample(s, seed + (uint64_t)k2)) != 0)
            return k;
    }
    progress_clear(s);

    if (s->json) {
        printf("{\"a\":");
        onnxc_json_write_string(stdout, s->path_a);
        printf(",\"reference\":%s", s->reference ? "true" : "false");
        printf(",\"b\":");
        onnxc_json_write_string(stdout, s->path_b);
        printf(",\"seed\":%llu,\"samples\":%d,\"inputs\":[", (unsigned long long)seed, s->samples);
        print_inputs(s, stdout, seed, 1);
        printf("],\"comparison\":");
        onnxc_compare_print(s->c, stdout, 1);
        printf("}\n");
    } else {
        if (s->reference)
            printf("A: %s (saved reference outputs)\nB: %s\n", s->path_a, s->path_b);
        else
            printf("A: %s (reference)\nB: %s\n", s->path_a, s->path_b);
        print_inputs(s, stdout, seed, 0);
        onnxc_compare_print(s->c, stdout, 0);
    }
    fflush(stdout);
    if (s->report && (st = onnxc_compare_write_html(s->c, s->report)) != ONNXC_OK)
        return fail(st);
    warn_findings(s);
    int incomparable = 0; /* an output of another type or shape is a finding (exit 1), not an empty run */
    for (int i = 0; i < onnxc_compare_num_outputs(s->c); i++)
        incomparable += !onnxc_compare_output(s->c, i)->metrics.comparable &&
                        onnxc_compare_output(s->c, i)->detection_set < 0;
    if (onnxc_compare_num_elements(s->c) == 0 && !incomparable) {
        cli_error("compare: no element was compared (every output of the models is empty on these inputs%s%s): "
                  "not a pass", onnxc_compare_num_detection_sets(s->c) ? ", no detection on either side" : "",
                  s->dims.n_opts ? "; see --shape" : "");
        return CLI_EXIT_USAGE;
    }
    int ok = onnxc_compare_within(s->c);
    int nd = onnxc_compare_num_detection_sets(s->c);
    cli_summary("%s: %d output%s%s%s, %s%s%s", s->path_b, onnxc_compare_num_outputs(s->c),
                onnxc_compare_num_outputs(s->c) == 1 ? "" : "s", nd ? (nd == 1 ? " (1 detection set" : " (detection sets") : "",
                nd ? " matched)" : "", ok ? "within tolerance" : "DIFFERS", s->report ? ", wrote " : "",
                s->report ? s->report : "");
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROBLEMS;
}

int cmd_compare(int argc, char **argv)
{
    cmp_state s;
    memset(&s, 0, sizeof s);
    s.det.score_threshold = NAN;
    int rc = compare_main(&s, argc, argv);
    fflush(stdout);
    state_free(&s);
    return rc;
}
