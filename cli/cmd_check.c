/* onnxc check MODEL: structural validation through onnxc_model_check; exit 1 when problems are found. */
#include <stdio.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc check MODEL\n"
    "\n"
    "Validate a model's structure and print each problem on one line: nodes out of topological order,\n"
    "cycles, undefined inputs, graph inputs or initializers also produced by a node, graph outputs nobody\n"
    "produces, declared types that disagree (value_info, inputs, outputs, initializers), opset imports missing\n"
    "for a domain in use, and, in one line, every op (with its opset) that onnxc's runtime cannot run.\n"
    "Subgraphs (If/Loop/Scan bodies) are checked too. A model the loader rejects as malformed is reported as\n"
    "a problem.\n"
    "\n"
    "exit status: 0 no problems, 1 problems found, 2 bad usage or a file that is not an ONNX model.\n";

int cmd_check(int argc, char **argv)
{
    const char *path;
    int rc;
    if (!cli_model_args("check", usage, argc, argv, NULL, NULL, &path, &rc))
        return rc;
    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load(path, &m);
    if (st == ONNXC_E_INVALID || st == ONNXC_E_UNSUPPORTED) {
        /* The loader refuses some malformed graphs (a value produced twice, bad dims...): that is what check
         * looks for, so report it as the model's problem rather than as a usage error. */
        printf("%s\n", onnxc_last_error());
        printf("%s: 1 problem (the model could not be loaded)\n", path);
        return CLI_EXIT_PROBLEMS;
    }
    if (st != ONNXC_OK)
        return cli_fail(st);
    int n = 0;
    st = onnxc_model_check(m, stdout, &n);
    onnxc_model_free(m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    if (n == 0) {
        printf("%s: ok\n", path);
        return CLI_EXIT_OK;
    }
    printf("%s: %d problem%s\n", path, n, n == 1 ? "" : "s");
    return CLI_EXIT_PROBLEMS;
}
