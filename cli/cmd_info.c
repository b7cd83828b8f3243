/* onnxc info MODEL [--json]: print the model summary from onnxc_model_print_info. */
#include <stdio.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc info MODEL [--json]\n"
    "\n"
    "Summarise an ONNX model: IR version and opset imports, producer, graph name, inputs and outputs with\n"
    "element type and shape (symbolic dims by name), node count, op histogram (most frequent first),\n"
    "parameters (elements of float initializers, of all initializers, and their bytes) and the number of\n"
    "BatchNormalization nodes that look foldable into a preceding Conv/ConvTranspose/Gemm/MatMul.\n"
    "\n"
    "  --json    print one JSON object instead of text\n"
    "\n"
    "exit status: 0 success, 2 bad usage or a model that cannot be loaded.\n";

int cmd_info(int argc, char **argv)
{
    const char *path;
    int json = 0, rc;
    if (!cli_model_args("info", usage, argc, argv, "--json", &json, &path, &rc))
        return rc;
    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load(path, &m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    st = onnxc_model_print_info(m, stdout, json);
    onnxc_model_free(m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    return CLI_EXIT_OK;
}
