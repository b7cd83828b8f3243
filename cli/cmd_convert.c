/* onnxc convert MODEL -o OUT [--external-data [MIN_BYTES]] [--external-file NAME] [--force]: load and save a
 * model, with every tensor inline or the large ones in an external data file. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc convert MODEL -o OUT [--external-data [MIN_BYTES]] [--external-file NAME] [--force]\n"
    "\n"
    "Load MODEL (resolving its external data) and save it as OUT. Without --external-data every tensor is\n"
    "written inline, which pulls external data back into the file. OUT is written to a temporary file and\n"
    "renamed, so an interrupted run never leaves half a model.\n"
    "\n"
    "  -o, --output OUT          the file to write (required)\n"
    "  --external-data [N]       store tensors of at least N bytes (default 1024) in an external file beside OUT\n"
    "  --external-file NAME      name of that file (default: OUT's file name + \".data\")\n"
    "  --force                   allow OUT to be MODEL itself (the same flag for optimize and swap-norm)\n"
    "  -q, --quiet               print nothing but errors, warnings and a one-line summary with the elapsed time\n"
    "\n"
    "exit status: 0 success, 2 bad usage, a model that cannot be loaded, or a file that cannot be written.\n";

int cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *ext_name = NULL;
    int external = 0, force = 0, opts_done = 0;
    int64_t min_bytes = -1; /* -1: not given, use the library's default */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        int r;
        if (!opts_done && a[0] == '-' && a[1]) {
            if (cli_is_help(a)) {
                fputs(usage, stdout);
                return CLI_EXIT_OK;
            } else if (strcmp(a, "--") == 0) {
                opts_done = 1;
            } else if (strcmp(a, "--force") == 0) {
                force = 1;
            } else if ((r = cli_opt_value("convert", argc, argv, &i, "-o", &val)) != 0 ||
                       (r = cli_opt_value("convert", argc, argv, &i, "--output", &val)) != 0) {
                if (r < 0)
                    return CLI_EXIT_USAGE;
                if (out)
                    return cli_usage_error("convert", "-o given twice");
                out = val;
            } else if ((r = cli_opt_value("convert", argc, argv, &i, "--external-file", &val)) != 0) {
                if (r < 0)
                    return CLI_EXIT_USAGE;
                ext_name = val;
            } else if ((r = cli_opt_external("convert", argc, argv, &i, &min_bytes)) != 0) {
                if (r < 0)
                    return CLI_EXIT_USAGE;
                external = 1;
            } else {
                return cli_usage_error("convert", "unknown option '%s'", a);
            }
        } else if (!in) {
            in = a;
        } else {
            return cli_usage_error("convert", "unexpected argument '%s'", a);
        }
    }
    if (!in)
        return cli_usage_error("convert", "no model given");
    if (!out)
        return cli_usage_error("convert", "no output given (-o OUT)");
    if (ext_name && !external)
        return cli_usage_error("convert", "--external-file needs --external-data");
    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load(in, &m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    onnxc_save_options opts;
    cli_save_options(&opts, external, min_bytes, ext_name);
    opts.allow_overwrite_input = force;
    st = onnxc_model_check_output(m, out, &opts);
    if (st == ONNXC_OK)
        st = onnxc_model_save(m, out, &opts);
    onnxc_model_free(m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    struct stat sb;
    if (stat(out, &sb) == 0) {
        printf("wrote %s (%lld bytes)\n", out, (long long)sb.st_size);
        cli_summary("wrote %s (%lld bytes)", out, (long long)sb.st_size);
    }
    return CLI_EXIT_OK;
}
