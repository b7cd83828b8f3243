/* onnxc swap-norm MODEL -o OUT --to group|instance|layer: replace every selected BatchNormalization by a per-sample
 * normalizer (the swap-norm pass), report each BN's fate, and write the result for fine-tuning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"

/* A printf format: the defaults (%s) come from the library's option table. */
static const char usage[] =
    "usage: onnxc swap-norm MODEL -o OUT [--to group|instance|layer] [--groups G] [--only REGEX]\n"
    "                       [--exclude REGEX] [--form auto|op|decomposed] [--strict] [--set NAME=VALUE]...\n"
    "                       [--calibrate DATA | --calibrate NAME=DIR... | --calibrate-random N] [--calibrate-head on|off]\n"
    "                       [--calibrate-fit bn|act]\n"
    "                       [--threads N] [--report FILE.html]\n"
    "                       [--list-passes] [--dry-run] [--json] [--force] [-q] [--external-data [MIN_BYTES]]\n"
    "\n"
    "Replace BatchNormalization by a normalization over each sample, so the model can be fine-tuned with one\n"
    "or two images per step. The new scale and bias start from the BN's gamma and beta, epsilon carries over;\n"
    "the running mean and variance are dropped, so the outputs change (fine-tune before use; 'onnxc compare\n"
    "MODEL OUT' shows how far). Conv biases before a swapped BN are kept. OUT is written through a temporary\n"
    "file; MODEL is not touched unless --force names it as OUT. OUT is checked before the pass runs. The\n"
    "report (every BN: swapped to what, with how many groups, or skipped and why) goes to stderr, or as JSON\n"
    "to stdout with --json.\n"
    "\n"
    "  -o, --output OUT    where to write the result\n"
    "  --to KIND           group: G groups of channels, like nn.GroupNorm(G, C); instance: one group per\n"
    "                      channel (G = C); layer: one group (G = 1, statistics over C and the spatial dims,\n"
    "                      scale and bias per channel). Default: %s\n"
    "  --groups G          group count for --to group (default %s). When G does not divide a layer's channel\n"
    "                      count C, the largest divisor of C not above G is used and reported\n"
    "  --strict            make such a layer an error instead\n"
    "  --only REGEX        swap only BNs whose node name or output name matches (POSIX extended regex)\n"
    "  --exclude REGEX     leave BNs whose node name or output name matches\n"
    "  --form FORM         auto: GroupNormalization-21 when the model's opset is 21 or more, else the\n"
    "                      decomposition; op: GroupNormalization-21, raising an older model's opset to 21 after\n"
    "                      checking that no other op changes meaning (it refuses with the reason otherwise);\n"
    "                      decomposed: Reshape [N,G,-1] -> InstanceNormalization -> Reshape -> Mul gamma -> Add\n"
    "                      beta, what PyTorch exports for nn.GroupNorm, valid from opset 6. Default: %s\n"
    "  --set NAME=VALUE    set an option by name: the flags above are swap-norm.to, .groups, .strict, .only,\n"
    "                      .exclude and .form (see --list-passes)\n"
    "  --calibrate DATA    fit each swapped layer's scale and bias by least squares so that it reproduces the\n"
    "                      original BN's output on these samples, layer by layer in execution order, each on\n"
    "                      the swapped model's own upstream activations; the model then starts fine-tuning\n"
    "                      where the pretrained model was. DATA is a folder with one .npy or .pb file per\n"
    "                      sample (single-input model) or one sub-folder per input name with matching file\n"
    "                      names; or give --calibrate NAME=DIR for each input. The report adds the residual\n"
    "                      of each layer before and after the fit and the drift of every output\n"
    "  --calibrate-random N  the same on N seeded random inputs (sample k = 'onnxc run MODEL --seed k'): for\n"
    "                      when there is no data; real samples of the task are much better\n"
    "  --calibrate-head on|off  on (default): after the layer fits, refit each final linear layer that makes a\n"
    "                      model output (Gemm, MatMul [+ Add] with constant weight and bias, fed by a swapped\n"
    "                      layer) by ridge regression toward its carried weights, so that the calibrated model's\n"
    "                      outputs match the ORIGINAL model's outputs on the samples (not labels); the ridge\n"
    "                      strength is chosen by the left-out-sample residual. off: leave those layers as they are\n"
    "  --calibrate-fit bn|act  what each layer's fit matches: bn (default): the original BN's output (one\n"
    "                      pass); act: where the swapped layer's only reader is Relu, LeakyRelu or Clip, the\n"
    "                      original's output after that activation (damped Gauss-Newton steps from the bn fit,\n"
    "                      on the layer's values kept in a temporary file); other layers as bn\n"
    "  --threads N         threads of the calibration's sessions (default: number of cores)\n"
    "  --report FILE.html  with --calibrate(-random): also write the calibration as one self-contained HTML\n"
    "                      page (no script, nothing fetched): each layer's residual before and after the fit\n"
    "                      along the execution order on a log scale, the table of layers, the drift of every\n"
    "                      output. Checked before the pass runs, written through a temporary file\n"
    "  --list-passes       print the passes with their options (type, default, help) and exit\n"
    "  --dry-run           print the report, write nothing\n"
    "  --json              print the report as JSON on stdout; each swapped BN's event has \"groups\" and\n"
    "                      \"channels\", every event \"node_name\" and \"op\"\n"
    "  --force             allow OUT to be MODEL itself (as for convert and optimize)\n"
    "  -q, --quiet         print nothing but errors, warnings and a one-line summary with the elapsed time\n"
    "  --external-data [N] store tensors of at least N bytes (default 1024) in OUT's file name + \".data\"\n"
    "                      beside it; without it, all inline\n"
    "\n"
    "exit status: 0 written (also for a model without BatchNormalization: an unchanged copy), 1 nothing swapped\n"
    "(--only/--exclude matched no BN, or every selected BN was skipped; nothing written), 2 bad usage or bad\n"
    "input (including a layer --strict refuses and --form op on a model whose opset cannot be raised).\n";

/* The flags that stand for options; their values are checked by the library's option tables. */
static const cli_opt_flag swap_norm_flags[] = {
    {"--to", "swap-norm.to", NULL},
    {"--groups", "swap-norm.groups", NULL},
    {"--strict", "swap-norm.strict", "true"},
    {"--only", "swap-norm.only", NULL},
    {"--exclude", "swap-norm.exclude", NULL},
    {"--form", "swap-norm.form", NULL},
    {NULL, NULL, NULL},
};

/* "calibrating: layers 3-4 of 20, sample 5/16" on a terminal, redrawn in place. */
typedef struct calib_view {
    int tty, shown;
} calib_view;

static void calib_progress(void *user, const onnxc_calib_progress *p)
{
    calib_view *v = user;
    if (!v->tty)
        return;
    if (p->phase == 0 && p->layer_first == p->layer_last)
        fprintf(stderr, "\rcalibrating: layer %d of %d, sample %d/%d   ", p->layer_first + 1, p->n_layers,
                p->sample, p->n_samples);
    else if (p->phase == 4)
        fprintf(stderr, "\rcalibrating: layer %d of %d through its activation        ", p->layer_first + 1,
                p->n_layers);
    else if (p->phase == 0)
        fprintf(stderr, "\rcalibrating: layers %d-%d of %d, sample %d/%d   ", p->layer_first + 1,
                p->layer_last + 1, p->n_layers, p->sample, p->n_samples);
    else if (p->phase == 3)
        fprintf(stderr, "\rcalibrating: the final linear layers, sample %d/%d        ", p->sample, p->n_samples);
    else if (p->phase == 2)
        fprintf(stderr, "\rcalibrating: the original's targets, sample %d/%d        ", p->sample, p->n_samples);
    else
        fprintf(stderr, "\rcalibrating: drift of the outputs, sample %d/%d        ", p->sample, p->n_samples);
    v->shown = 1;
}

/* Calibrate m (swapped from the file model) on the samples; the original is loaded again from the file. */
static onnxc_status calibrate(const char *model, onnxc_model *m, int n_specs, const char *const *specs,
                              int64_t n_random, int threads, int keep_head, int objective,
                              onnxc_calibration **out)
{
    onnxc_model *orig = NULL;
    cli_calib data = {0};
    onnxc_status st = onnxc_model_load(model, &orig);
    if (st == ONNXC_OK)
        st = n_random > 0 ? cli_calib_random(orig, (int)n_random, &data)
                          : cli_calib_read(orig, n_specs, specs, &data);
    if (st == ONNXC_OK) {
        calib_view view = {.tty = isatty(STDERR_FILENO)};
        onnxc_calibrate_options co = {.threads = threads,
                                      .sample_labels = (const char *const *)data.labels,
                                      .progress = calib_progress,
                                      .progress_user = &view,
                                      .keep_head = keep_head,
                                      .objective = objective};
        st = onnxc_swap_norm_calibrate(orig, m, data.n_samples, data.n_inputs, (const char *const *)data.names,
                                       (const onnxc_tensor *const *)data.tensors, &co, out);
        if (view.shown)
            fprintf(stderr, "\r%60s\r", "");
    }
    cli_calib_free(&data);
    onnxc_model_free(orig);
    return st;
}

static int swap_norm(int argc, char **argv, cli_pass_options *po)
{
    const char *calib_specs[64];
    int n_specs = 0;
    int64_t n_random = 0, threads = 0;
    const char *model = NULL, *out = NULL, *report = NULL;
    int json = 0, dry = 0, external = 0, force = 0, keep_head = 0, objective = ONNXC_CALIB_FIT_DEFAULT;
    int64_t ext_min = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            printf(usage, onnxc_optimize_get(NULL, "swap-norm.to"), onnxc_optimize_get(NULL, "swap-norm.groups"),
                   onnxc_optimize_get(NULL, "swap-norm.form"));
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--list-passes")) {
            onnxc_list_passes(stdout);
            return CLI_EXIT_OK;
        } else if ((r = cli_opt_external("swap-norm", argc, argv, &i, &ext_min)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            external = 1;
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--calibrate", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (n_specs == (int)(sizeof calib_specs / sizeof calib_specs[0]))
                return cli_usage_error("swap-norm", "too many --calibrate values");
            calib_specs[n_specs++] = v;
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--calibrate-random", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(v, 1, 1 << 20, &n_random) != 0)
                return cli_usage_error("swap-norm", "--calibrate-random takes a sample count from 1, not '%s'", v);
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--calibrate-head", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (strcmp(v, "on") && strcmp(v, "off"))
                return cli_usage_error("swap-norm", "--calibrate-head takes on or off, not '%s'", v);
            keep_head = !strcmp(v, "off");
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--calibrate-fit", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (strcmp(v, "bn") && strcmp(v, "act"))
                return cli_usage_error("swap-norm", "--calibrate-fit takes bn or act, not '%s'", v);
            objective = !strcmp(v, "bn") ? ONNXC_CALIB_FIT_BN : ONNXC_CALIB_FIT_ACT;
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(v, 0, 1024, &threads) != 0)
                return cli_usage_error("swap-norm", "--threads takes a number from 0 to 1024, not '%s'", v);
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "--report", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            report = v;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (!strcmp(argv[i], "--dry-run")) {
            dry = 1;
        } else if ((r = cli_pass_options_arg("swap-norm", po, argc, argv, &i)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_opt_value("swap-norm", argc, argv, &i, "-o", &v)) != 0 ||
                   (r = cli_opt_value("swap-norm", argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("swap-norm", "unknown option '%s'", argv[i]);
        } else if (!model) {
            model = argv[i];
        } else {
            return cli_usage_error("swap-norm", "more than one model given ('%s' and '%s')", model, argv[i]);
        }
    }
    if (!model)
        return cli_usage_error("swap-norm", "no model given");
    if (!out && !dry)
        return cli_usage_error("swap-norm", "no output given (-o OUT, or --dry-run)");
    if (n_specs && n_random)
        return cli_usage_error("swap-norm", "give --calibrate or --calibrate-random, not both");
    if (report && !n_specs && !n_random)
        return cli_usage_error("swap-norm", "--report shows a calibration: give --calibrate or --calibrate-random");

    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load(model, &m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    onnxc_save_options so;
    cli_save_options(&so, external, ext_min, NULL);
    so.allow_overwrite_input = force;
    /* an OUT that cannot be written is refused before the pass runs */
    if ((out && !dry && (st = onnxc_model_check_output(m, out, &so)) != ONNXC_OK) ||
        (report && (st = onnxc_model_check_output(m, report, NULL)) != ONNXC_OK)) {
        onnxc_model_free(m);
        return cli_fail(st);
    }
    if (report && out && !dry && !strcmp(report, out)) {
        onnxc_model_free(m);
        return cli_usage_error("swap-norm", "--report '%s' is OUT itself", report);
    }
    onnxc_report *rep = NULL;
    onnxc_calibration *cal = NULL;
    int calibrating = n_specs > 0 || n_random > 0;
    st = onnxc_optimize(m, po->opts, &rep);
    if (rep && calibrating && json)
        fputs("{\"swap\": ", stdout);
    if (rep)
        onnxc_report_print(rep, json ? stdout : stderr, json);
    int rc = CLI_EXIT_OK;
    if (st == ONNXC_OK && calibrating && onnxc_report_num_changes(rep) > 0) {
        st = calibrate(model, m, n_specs, calib_specs, n_random, (int)threads, keep_head, objective, &cal);
    }
    if (rep && calibrating && json)
        fputs(cal ? ", \"calibration\": " : "}\n", stdout);
    if (cal) {
        onnxc_calibration_print(cal, json ? stdout : stderr, json);
        if (json)
            fputs("}\n", stdout);
    }
    if (st != ONNXC_OK) {
        rc = cli_fail(st);
        goto done;
    }
    int before = onnxc_report_op_count(rep, "BatchNormalization", 0);
    int after = onnxc_report_op_count(rep, "BatchNormalization", 1);
    if (before == 0) {
        cli_warn("swap-norm: '%s' has no BatchNormalization in its main graph: nothing to swap%s", model,
                 dry ? "" : "; writing an unchanged copy");
    } else if (onnxc_report_num_changes(rep) == 0) {
        int selecting = *onnxc_optimize_get(po->opts, "swap-norm.only") || *onnxc_optimize_get(po->opts, "swap-norm.exclude");
        cli_warn("swap-norm: none of the %d BatchNormalization nodes was swapped (%s; see the report); nothing "
                 "written", before, selecting ? "--only/--exclude selected none, or only ones that cannot be "
                 "swapped" : "each one was skipped");
        rc = CLI_EXIT_PROBLEMS;
        goto done;
    } else if (!json) {
        fprintf(stderr, "swapped %d of %d BatchNormalization nodes (%s); %d left\n", before - after, before,
                onnxc_optimize_get(po->opts, "swap-norm.to"), after);
    }
    cli_summary("swapped %d of %d BatchNormalization nodes%s%s", before - after, before, dry ? "" : ", wrote ",
                dry ? "" : out);
    if (!dry) {
        st = onnxc_model_save(m, out, &so);
        if (st != ONNXC_OK) {
            rc = cli_fail(st);
            goto done;
        }
        if (!json)
            fprintf(stderr, "wrote %s\n", out);
    }
    if (report && cal) {
        st = onnxc_calibration_write_html(cal, model, dry ? "(dry run, not written)" : out, report);
        if (st != ONNXC_OK) {
            rc = cli_fail(st);
            goto done;
        }
        if (!json)
            fprintf(stderr, "wrote %s\n", report);
    }
done:
    onnxc_calibration_free(cal);
    onnxc_report_free(rep);
    onnxc_model_free(m);
    return rc;
}

int cmd_swap_norm(int argc, char **argv)
{
    /* the command is the swap-norm pass alone: "passes" is fixed before the arguments are read */
    cli_pass_options po = {.flags = swap_norm_flags, .locked = "passes"};
    onnxc_status st = onnxc_optimize_options_create(&po.opts);
    if (st == ONNXC_OK)
        st = onnxc_optimize_set(po.opts, "passes", "swap-norm");
    int rc = st == ONNXC_OK ? swap_norm(argc, argv, &po) : cli_fail(st);
    onnxc_optimize_options_free(po.opts);
    return rc;
}
