/* onnxc optimize MODEL -o OUT: run the exact passes (or a chosen list), print what changed and what was skipped
 * and why, optionally prove the result against the original on seeded inputs before writing it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc optimize MODEL -o OUT [--passes LIST] [--list-passes] [--dry-run] [--verify [--write-diverged]]\n"
    "                      [--force] [-q] [--json] [--stop-after N] [--bn-mul-add] [--eval-mode]\n"
    "                      [--set NAME=VALUE]... [--shape DIM=VALUE]...\n"
    "                      [--seed S] [--external-data [MIN_BYTES]]\n"
    "                      [--detections SPEC]... [--iou X] [--score-threshold T]\n"
    "                      [--input [NAME=]FILE]... [--atol X] [--rtol Y] [--nmse Z]\n"
    "\n"
    "Rewrite MODEL with graph passes and write the result to OUT (through a temporary file; MODEL is not\n"
    "touched unless --force names it as OUT). The default pipeline is every exact pass: cleanup, const-fold,\n"
    "fold-shapes, remove-noops, merge-chains, fold-pad, fold-bn, fold-affine, drop-bias-before-bn, cse, cleanup,\n"
    "run again while a round changed the graph (at most 8 rounds). The report (what changed, what was skipped and why, op counts and\n"
    "parameter bytes before and after) goes to stderr, or as JSON to stdout with --json: the report's object\n"
    "(passes, changes, events with pass, kind, node (label), node_name, op, message; before/after) plus\n"
    "\"output\" (the file written, null for --dry-run or when nothing was written) and, with --verify,\n"
    "\"verify\": {\"passed\": bool, \"seed\": S, \"comparison\": the object of 'onnxc compare --json'}.\n"
    "OUT is checked (its folder exists and is writable, it is not a folder, not MODEL without --force)\n"
    "before any pass runs.\n"
    "\n"
    "  -o, --output OUT    where to write the optimized model\n"
    "  --passes LIST       comma-separated passes to run instead of the default pipeline\n"
    "  --list-passes       print the passes with their options (type, default, help) and exit\n"
    "  --dry-run           run the passes and print the report, write nothing\n"
    "  --verify            run the original and the result on seeded random inputs with onnxc's executor and\n"
    "                      refuse to write unless every output is equal within float rounding, the test of\n"
    "                      'onnxc compare' with its defaults (each element |B - A| <= 1e-5 + 1e-4*max(|A|,\n"
    "                      rms(A)), NMSE <= 1e-7; float16 outputs: 1e-4 + 1e-2*max(|A|, rms(A)), NMSE <= 1e-5;\n"
    "                      bfloat16: 1e-3 + 8e-2*max(|A|, rms(A)), NMSE <= 6.4e-4); its table goes to stderr\n"
    "                      (with --json, into the JSON).\n"
    "                      Detection outputs (boxes/scores/labels, dets, NMS selected_indices, masks and\n"
    "                      keypoints, found as 'onnxc compare' finds them) are matched instead: the check\n"
    "                      passes only when every detection of each side is matched (same label, IoU >= 0.9\n"
    "                      by default: an exact rewrite moves a box by rounding only, and at 0.9 no two boxes\n"
    "                      that survived NMS can claim one partner) and every matched box coordinate, score\n"
    "                      and mask / keypoint element passes the element test above. One box more or less\n"
    "                      fails, unless --score-threshold names the model's threshold and its score is\n"
    "                      within the tolerance of it (a tie at the threshold, not a divergence)\n"
    "  --detections SPEC   --verify: the outputs of a detection set (ROLE=OUTPUT,...; 'none': element-wise);\n"
    "                      see 'onnxc compare --help'\n"
    "  --iou X             --verify: IoU a pair of boxes needs to match (default 0.9)\n"
    "  --score-threshold T --verify: the model's score threshold (see above)\n"
    "  --input [NAME=]FILE --verify: input NAME from a .npy / .npz / .pb file instead of seeded random data\n"
    "                      (repeatable; the others stay seeded): a detector verified on a real image, where\n"
    "                      random data makes near-tied proposals that float rounding reorders\n"
    "  --atol X, --rtol Y, --nmse Z\n"
    "                      --verify: the tolerances of the element and output tests above, as for 'onnxc\n"
    "                      compare' (a deep detector amplifies the rounding of a fold: state what you accept)\n"
    "  --write-diverged    with --verify: write even when an output diverges\n"
    "  --force             allow OUT to be MODEL itself (as for convert and swap-norm: 'optimize m.onnx -o\n"
    "                      m.onnx --force' replaces it, through a temporary file)\n"
    "  -q, --quiet         print nothing but errors, warnings and a one-line summary with the elapsed time\n"
    "  --stop-after N      apply only the first N rewrites (to find a bad rewrite by bisection)\n"
    "  --bn-mul-add        replace a BatchNormalization that has nothing to fold into by a per-channel\n"
    "                      Mul + Add, for targets without BatchNormalization (default: it stays one node);\n"
    "                      the same as --set fold-bn.mul-add=true\n"
    "  --keep-bn           the default (a BatchNormalization with nothing to fold into stays); kept for old\n"
    "                      scripts: the same as --set fold-bn.mul-add=false\n"
    "  --eval-mode         for a model exported in training mode (model.train() left on): run the eval-mode\n"
    "                      pass first, so every BatchNormalization uses the running mean and variance it\n"
    "                      carries instead of its batch's statistics and Dropout becomes Identity; then fold\n"
    "                      as usual. The outputs change on purpose (to what the framework's eval mode gives).\n"
    "                      Refused when the statistics outputs are used (a training graph) or the running\n"
    "                      statistics are not constants. The same as --set eval-mode=true\n"
    "  --set NAME=VALUE    set any pass or pipeline option by name, e.g. --set swap-norm.groups=16 (see\n"
    "                      --list-passes); --passes and --stop-after set 'passes' and 'stop-after'\n"
    "  --shape DIM=VALUE   value of a symbolic input dim for --verify (default 1), e.g. --shape N=2\n"
    "  --seed S            seed of the --verify inputs (default 0)\n"
    "  --external-data [N] store tensors of at least N bytes (default 1024) in OUT's file name + \".data\"\n"
    "                      beside it (for models near protobuf's 2 GB limit); without it, all inline\n"
    "\n"
    "exit status: 0 written (or dry run done), 1 --verify found a divergence (nothing written unless\n"
    "--write-diverged), 2 bad usage or bad input (an OUT that cannot be written, a model that does not load\n"
    "or run).\n";

/* Run the original and the optimized model on the same seeded inputs through onnxc_compare, the one
 * definition of "equal within float rounding" that 'onnxc compare' uses (onnxc.h, ONNXC_COMPARE_*).
 * 0 when every output is within it, 1 when one is not, 2 on error; *out (freed by the caller) holds the
 * comparison for printing. */
/* Tolerances given on the command line (NAN: the default of onnxc_compare_options_init). */
typedef struct verify_tols {
    double atol, rtol, nmse;
} verify_tols;

/* Read the --input files given[0..n_given), name each and check it against orig's declared inputs, before any
 * pass runs. 0, or the exit code after a message. */
static int read_given(const onnxc_model *orig, cli_given **given, int *n_given)
{
    int k = cli_given_expand("optimize", given, n_given);
    if (k != 0)
        return k;
    const int n_in = onnxc_model_num_inputs(orig);
    onnxc_io_info *infos = calloc((size_t)n_in + 1, sizeof *infos);
    if (!infos) {
        cli_error("optimize: out of memory");
        return CLI_EXIT_USAGE;
    }
    onnxc_status st = ONNXC_OK;
    for (int i = 0; i < n_in && st == ONNXC_OK; i++)
        st = onnxc_model_input_info(orig, i, &infos[i]);
    int rc = st == ONNXC_OK ? 0 : cli_fail(st);
    for (int i = 0; rc == 0 && i < *n_given; i++) {
        cli_given *g = &(*given)[i];
        if (cli_given_read("optimize", *given, i, infos, n_in, 0) != 0) {
            rc = CLI_EXIT_USAGE;
            break;
        }
        int j = 0;
        while (j < n_in && strcmp(infos[j].name, g->name) != 0)
            j++;
        if (j == n_in) {
            char names[512];
            size_t len = 0;
            names[0] = 0;
            for (int q = 0; q < n_in && len < sizeof names; q++)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s'%s'", q ? ", " : "", infos[q].name);
            cli_error("optimize: --input %s: the model has no input '%s' (its inputs: %s)", g->file, g->name,
                      n_in ? names : "none");
            rc = CLI_EXIT_USAGE;
            break;
        }
        if (cli_given_fits("optimize", &infos[j], g, 0) != 0) {
            rc = CLI_EXIT_USAGE;
            break;
        }
    }
    free(infos);
    return rc;
}

/* The seeded tensors of in replaced by the given ones (read_given has read them), which move into in. */
static void use_given(cli_given *given, int n_given, cli_inputs *in)
{
    for (int i = 0; i < n_given; i++)
        for (int q = 0; q < in->n; q++)
            if (given[i].t && strcmp(in->names[q], given[i].name) == 0) {
                onnxc_tensor_free(in->tensors[q]);
                in->tensors[q] = given[i].t;
                given[i].t = NULL;
            }
}

/* A --atol / --rtol / --nmse value: 0, or the usage error's exit code. */
static int parse_tol(const char *flag, const char *val, double *out)
{
    char *end;
    const double x = strtod(val, &end);
    if (end == val || *end || !(x >= 0))
        return cli_usage_error("optimize", "%s takes a non-negative number, not '%s'", flag, val);
    *out = x;
    return 0;
}

static int verify(const onnxc_model *orig, const onnxc_model *opt, const cli_dims *dims, uint64_t seed,
                  const cli_det_opts *det, const verify_tols *tols, cli_given *given, int n_given,
                  onnxc_comparison **out)
{
    cli_inputs in = {0};
    onnxc_compare_options co;
    onnxc_compare_options_init(&co);
    co.iou = ONNXC_COMPARE_IOU_SAME_MODEL; /* the same model rewritten exactly: see onnxc.h */
    cli_det_apply(det, &co);
    if (!isnan(tols->atol))
        co.atol = tols->atol;
    if (!isnan(tols->rtol))
        co.rtol = tols->rtol;
    if (!isnan(tols->nmse))
        co.nmse = tols->nmse;
    co.label_a = "verify: the original model";
    co.label_b = "verify: the optimized model";
    onnxc_status st = onnxc_compare_create(orig, opt, &co, out);
    if (st == ONNXC_OK)
        st = cli_inputs_generate(orig, dims, seed, &in);
    if (st == ONNXC_OK)
        use_given(given, n_given, &in);
    if (st == ONNXC_OK)
        st = onnxc_compare_run(*out, in.n, (const char *const *)in.names, (const onnxc_tensor *const *)in.tensors);
    cli_inputs_free(&in);
    if (st != ONNXC_OK) {
        cli_fail(st);
        return 2;
    }
    if (onnxc_compare_num_elements(*out) == 0) {
        cli_error("optimize: --verify compared no element (every output is empty on these inputs%s): not a proof; "
                  "choose other inputs (--input, --shape, --seed)", onnxc_compare_num_detection_sets(*out) ?
                  ", no detection on either side" : "");
        return 2;
    }
    return onnxc_compare_within(*out) ? 0 : 1;
}

/* The report's JSON object with "output" and, with --verify, "verify" added before its closing brace. */
static void print_json(const onnxc_report *rep, const char *written, int did_verify, int v, uint64_t seed,
                       const onnxc_comparison *cmp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        onnxc_report_print(rep, stdout, 1);
        return;
    }
    onnxc_report_print(rep, mem, 1);
    fclose(mem);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    if (len > 0 && buf[len - 1] == '}')
        len--; /* the object stays open for the two keys below */
    fwrite(buf, 1, len, stdout);
    free(buf);
    printf(", \"output\": ");
    if (written)
        onnxc_json_write_string(stdout, written);
    else
        printf("null");
    if (did_verify) {
        printf(", \"verify\": {\"passed\": %s, \"seed\": %llu, \"comparison\": ", v == 0 ? "true" : "false",
               (unsigned long long)seed);
        if (cmp && v != 2)
            onnxc_compare_print(cmp, stdout, 1);
        else
            printf("null");
        printf("}");
    }
    printf("}\n");
}

/* The flags that stand for options; their values are checked by the library's option tables. */
static const cli_opt_flag optimize_flags[] = {
    {"--passes", "passes", NULL},
    {"--stop-after", "stop-after", NULL},
    {"--bn-mul-add", "fold-bn.mul-add", "true"},
    {"--keep-bn", "fold-bn.mul-add", "false"},
    {"--eval-mode", "eval-mode", "true"},
    {NULL, NULL, NULL},
};

int cmd_optimize(int argc, char **argv)
{
    const char *model = NULL, *out = NULL;
    int dry = 0, do_verify = 0, force = 0, write_diverged = 0, json = 0, external = 0;
    int64_t ext_min = -1;
    uint64_t seed = 0;
    cli_dims dims = {0};
    cli_det_opts det = {.score_threshold = NAN};
    verify_tols tols = {NAN, NAN, NAN};
    cli_given *given = NULL;
    int n_given = 0;
    int rc = CLI_EXIT_USAGE;
    cli_pass_options po = {.flags = optimize_flags};
    onnxc_status st = onnxc_optimize_options_create(&po.opts);
    if (st != ONNXC_OK)
        return cli_fail(st);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (!strcmp(argv[i], "--list-passes")) {
            onnxc_list_passes(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (!strcmp(argv[i], "--dry-run")) {
            dry = 1;
        } else if (!strcmp(argv[i], "--verify")) {
            do_verify = 1;
        } else if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (!strcmp(argv[i], "--write-diverged")) {
            write_diverged = 1;
        } else if ((r = cli_det_flag("optimize", argc, argv, &i, &det)) != 0) {
            if (r < 0)
                goto done;
        } else if ((r = cli_opt_external("optimize", argc, argv, &i, &ext_min)) != 0) {
            if (r < 0)
                goto done;
            external = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((r = cli_pass_options_arg("optimize", &po, argc, argv, &i)) != 0) {
            if (r < 0)
                goto done;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "-o", &v)) != 0 ||
                   (r = cli_opt_value("optimize", argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0)
                goto done;
            out = v;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0)
                goto done;
            if (cli_parse_u64(v, &seed) != 0) {
                rc = cli_usage_error("optimize", "--seed takes a whole number, not '%s'", v);
                goto done;
            }
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--input", &v)) != 0) {
            if (r < 0)
                goto done;
            cli_given *grown = realloc(given, ((size_t)n_given + 1) * sizeof *grown);
            if (!grown) {
                cli_error("optimize: out of memory");
                goto done;
            }
            given = grown;
            memset(&given[n_given], 0, sizeof *given);
            if (cli_given_parse("optimize", v, &given[n_given++]) != 0)
                goto done;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--atol", &v)) != 0) {
            if (r < 0 || (rc = parse_tol("--atol", v, &tols.atol)) != 0)
                goto done;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--rtol", &v)) != 0) {
            if (r < 0 || (rc = parse_tol("--rtol", v, &tols.rtol)) != 0)
                goto done;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--nmse", &v)) != 0) {
            if (r < 0 || (rc = parse_tol("--nmse", v, &tols.nmse)) != 0)
                goto done;
        } else if ((r = cli_opt_value("optimize", argc, argv, &i, "--shape", &v)) != 0) {
            if (r < 0 || cli_dims_add("optimize", &dims, v) != 0)
                goto done;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("optimize", "unknown option '%s'", argv[i]);
            goto done;
        } else if (!model) {
            model = argv[i];
        } else {
            rc = cli_usage_error("optimize", "more than one model given ('%s' and '%s')", model, argv[i]);
            goto done;
        }
    }
    if (!model) {
        rc = cli_usage_error("optimize", "no model given");
        goto done;
    }
    if (!out && !dry) {
        rc = cli_usage_error("optimize", "no output given (-o OUT, or --dry-run)");
        goto done;
    }
    if ((det.spec || det.iou > 0 || !isnan(det.score_threshold)) && !do_verify) {
        rc = cli_usage_error("optimize", "--detections, --iou and --score-threshold need --verify");
        goto done;
    }
    if ((n_given || !isnan(tols.atol) || !isnan(tols.rtol) || !isnan(tols.nmse)) && !do_verify) {
        rc = cli_usage_error("optimize", "--input, --atol, --rtol and --nmse need --verify");
        goto done;
    }
    if (write_diverged && !do_verify) {
        rc = cli_usage_error("optimize", "--write-diverged needs --verify");
        goto done;
    }

    onnxc_model *m = NULL, *orig = NULL;
    onnxc_report *rep = NULL;
    onnxc_comparison *cmp = NULL;
    int v = -1;
    st = onnxc_model_load(model, &m);
    if (st != ONNXC_OK) {
        rc = cli_fail(st);
        goto done;
    }
    onnxc_save_options so;
    cli_save_options(&so, external, ext_min, NULL);
    so.allow_overwrite_input = force;
    /* refuse an OUT that cannot be written now, not after every pass has run */
    if (out && !dry && (st = onnxc_model_check_output(m, out, &so)) != ONNXC_OK) {
        rc = cli_fail(st);
        goto free_models;
    }
    if (do_verify && (st = onnxc_model_load(model, &orig)) != ONNXC_OK) {
        rc = cli_fail(st);
        goto free_models;
    }
    if (n_given && (rc = read_given(orig, &given, &n_given)) != 0)
        goto free_models;
    st = onnxc_optimize(m, po.opts, &rep);
    if (rep && !json)
        onnxc_report_print(rep, stderr, 0);
    if (st != ONNXC_OK) {
        if (json && rep)
            onnxc_report_print(rep, stdout, 1);
        rc = cli_fail(st);
        goto free_models;
    }
    rc = CLI_EXIT_OK;
    int written = 0;
    if (do_verify) {
        v = verify(orig, m, &dims, seed, &det, &tols, given, n_given, &cmp);
        if (cmp && !json && v != 2)
            onnxc_compare_print(cmp, stderr, 0);
        if (v == 1 && !write_diverged)
            cli_error("optimize: --verify: the optimized model diverges from the original; nothing written "
                      "(--write-diverged writes it anyway)");
        else if (v == 1)
            cli_warn("optimize: --verify found a divergence; writing anyway (--write-diverged)");
        if (v != 0 && !(v == 1 && write_diverged))
            rc = v;
    }
    if (!dry && rc == CLI_EXIT_OK) {
        st = onnxc_model_save(m, out, &so);
        if (st != ONNXC_OK)
            rc = cli_fail(st);
        else
            written = 1;
        if (written && !json)
            fprintf(stderr, "wrote %s\n", out);
    }
    if (json && rep)
        print_json(rep, written ? out : NULL, do_verify, v, seed, cmp);
    cli_summary("%d rewrite%s, nodes %d -> %d%s%s%s", onnxc_report_num_changes(rep),
                onnxc_report_num_changes(rep) == 1 ? "" : "s", onnxc_report_num_nodes(rep, 0), onnxc_report_num_nodes(rep, 1),
                do_verify ? (v == 0 ? ", verified" : ", verify FAILED") : "", written ? ", wrote " : "",
                written ? out : "");
free_models:
    onnxc_report_free(rep);
    onnxc_compare_free(cmp);
    onnxc_model_free(m);
    onnxc_model_free(orig);
done:
    for (int i = 0; i < n_given; i++) {
        onnxc_tensor_free(given[i].t);
        free(given[i].name_buf);
    }
    free(given);
    cli_dims_free(&dims);
    free(det.spec);
    onnxc_optimize_options_free(po.opts);
    return rc;
}
