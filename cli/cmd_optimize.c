/* onnxc optimize MODEL -o OUT: run the exact passes (or a chosen list), print what changed and what was skipped
 * and why, optionally prove the result against the original on seeded inputs before writing it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc optimize MODEL -o OUT [--passes LIST] [--list-passes] [--dry-run] [--verify] [--force]\n"
    "                      [--json] [--stop-after N] [--keep-bn] [--eval-mode]\n"
    "                      [--set NAME=VALUE]... [--shape DIM=VALUE]...\n"
    "                      [--seed S] [--external-data [MIN_BYTES]]\n"
    "\n"
    "Rewrite MODEL with graph passes and write the result to OUT (through a temporary file; MODEL is never\n"
    "touched). The default pipeline is every exact pass: cleanup, const-fold, fold-bn, fold-affine,\n"
    "drop-bias-before-bn, cleanup. The report (what changed, what was skipped and why, op counts and\n"
    "parameter bytes before and after) goes to stderr, or as JSON to stdout with --json.\n"
    "\n"
    "  -o, --output OUT    where to write the optimized model\n"
    "  --passes LIST       comma-separated passes to run instead of the default pipeline\n"
    "  --list-passes       print the passes with their options (type, default, help) and exit\n"
    "  --dry-run           run the passes and print the report, write nothing\n"
    "  --verify            run the original and the result on seeded random inputs with onnxc's executor and\n"
    "                      refuse to write when an output diverges (normalized mean squared error above 1e-10\n"
    "                      for float32, 1e-5 for float16/bfloat16)\n"
    "  --force             write even when --verify finds a divergence\n"
    "  --stop-after N      apply only the first N rewrites (to find a bad rewrite by bisection)\n"
    "  --keep-bn           keep a BatchNormalization that has nothing to fold into (default: Mul + Add);\n"
    "                      the same as --set fold-bn.keep-bn=true\n"
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
    "exit status: 0 written (or dry run done), 1 --verify found a divergence (nothing written), 2 bad usage\n"
    "or bad input.\n";

/* NMSE of the optimized output b against the original a (onnxc_metrics_compute, the one implementation shared
 * with 'onnxc compare'); a type or shape mismatch, NaN/Inf where the other side differs, or any difference in
 * an integer or bool output counts as a divergence (returns INFINITY). */
static double nmse(const onnxc_tensor *a, const onnxc_tensor *b)
{
    onnxc_metrics m;
    if (onnxc_metrics_compute(a, b, 0, 0, &m) != ONNXC_OK || !m.comparable || m.n_nonfinite_mismatch)
        return INFINITY;
    int is_float = a->dtype == ONNXC_FLOAT || a->dtype == ONNXC_DOUBLE || a->dtype == ONNXC_FLOAT16 ||
                   a->dtype == ONNXC_BFLOAT16;
    if (!is_float && m.max_abs != 0)
        return INFINITY;
    return m.nmse;
}

/* Run both models on the same seeded inputs; 0 when every output agrees, 1 when one diverges, 2 on error. */
static int verify(const onnxc_model *orig, const onnxc_model *opt, const cli_dims *dims, uint64_t seed, int json)
{
    cli_inputs in = {0};
    onnxc_session *s1 = NULL, *s2 = NULL;
    int rc = 2;
    onnxc_status st = cli_inputs_generate(orig, dims, seed, &in);
    if (st != ONNXC_OK) {
        rc = cli_fail(st);
        goto out;
    }
    onnxc_session_options so = {0};
    if ((st = onnxc_session_create(orig, &so, &s1)) != ONNXC_OK ||
        (st = onnxc_session_run(s1, in.n, (const char *const *)in.names, (const onnxc_tensor *const *)in.tensors)) != ONNXC_OK) {
        cli_error("verify: the original model does not run: %s", onnxc_last_error());
        goto out;
    }
    if ((st = onnxc_session_create(opt, &so, &s2)) != ONNXC_OK ||
        (st = onnxc_session_run(s2, in.n, (const char *const *)in.names, (const onnxc_tensor *const *)in.tensors)) != ONNXC_OK) {
        cli_error("verify: the optimized model does not run: %s", onnxc_last_error());
        rc = 1;
        goto out;
    }
    rc = 0;
    int n = onnxc_session_num_outputs(s1);
    if (n != onnxc_session_num_outputs(s2)) {
        cli_error("verify: the optimized model has %d outputs, the original %d", onnxc_session_num_outputs(s2), n);
        rc = 1;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const onnxc_tensor *a = onnxc_session_output(s2, i), *b = onnxc_session_output(s1, i);
        double e = nmse(b, a);
        double tol = b->dtype == ONNXC_FLOAT16 || b->dtype == ONNXC_BFLOAT16 ? 1e-5 : 1e-10;
        int ok = e <= tol;
        fprintf(json ? stderr : stderr, "verify: output '%s': nmse %.3g (limit %.0e) %s\n",
                onnxc_session_output_name(s1, i), e, tol, ok ? "ok" : "DIVERGES");
        if (!ok)
            rc = 1;
    }
out:
    onnxc_session_free(s1);
    onnxc_session_free(s2);
    cli_inputs_free(&in);
    return rc;
}

/* The flags that stand for options; their values are checked by the library's option tables. */
static const cli_opt_flag optimize_flags[] = {
    {"--passes", "passes", NULL},
    {"--stop-after", "stop-after", NULL},
    {"--keep-bn", "fold-bn.keep-bn", "true"},
    {"--eval-mode", "eval-mode", "true"},
    {NULL, NULL, NULL},
};

int cmd_optimize(int argc, char **argv)
{
    const char *model = NULL, *out = NULL;
    int dry = 0, do_verify = 0, force = 0, json = 0, external = 0;
    int64_t ext_min = -1;
    uint64_t seed = 0;
    cli_dims dims = {0};
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
    if (out && cli_same_file(model, out)) {
        cli_error("optimize: the output '%s' is the input model; choose another path", out);
        goto done;
    }

    onnxc_model *m = NULL, *orig = NULL;
    st = onnxc_model_load(model, &m);
    if (st != ONNXC_OK) {
        rc = cli_fail(st);
        goto done;
    }
    if (do_verify && (st = onnxc_model_load(model, &orig)) != ONNXC_OK) {
        rc = cli_fail(st);
        onnxc_model_free(m);
        goto done;
    }
    onnxc_report *rep = NULL;
    st = onnxc_optimize(m, po.opts, &rep);
    if (rep)
        onnxc_report_print(rep, json ? stdout : stderr, json);
    onnxc_report_free(rep);
    if (st != ONNXC_OK) {
        rc = cli_fail(st);
        goto free_models;
    }
    rc = CLI_EXIT_OK;
    if (do_verify) {
        int v = verify(orig, m, &dims, seed, json);
        if (v != 0 && !(v == 1 && force)) {
            if (v == 1)
                cli_error("optimize: --verify: the optimized model diverges from the original; nothing written "
                          "(--force writes it anyway)");
            rc = v;
            goto free_models;
        }
        if (v == 1)
            cli_warn("optimize: --verify found a divergence; writing anyway (--force)");
    }
    if (!dry) {
        onnxc_save_options so;
        cli_save_options(&so, external, ext_min, NULL);
        st = onnxc_model_save(m, out, &so);
        if (st != ONNXC_OK) {
            rc = cli_fail(st);
            goto free_models;
        }
        if (!json)
            fprintf(stderr, "wrote %s\n", out);
    }
free_models:
    onnxc_model_free(m);
    onnxc_model_free(orig);
done:
    cli_dims_free(&dims);
    onnxc_optimize_options_free(po.opts);
    return rc;
}
