/* onnxc check MODEL [--json]: structural validation through onnxc_model_check; exit 1 when problems are found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const char usage[] =
    "usage: onnxc check MODEL [--json] [-q]\n"
    "\n"
    "Validate a model's structure and print each problem on one line: nodes out of topological order,\n"
    "cycles, undefined inputs, graph inputs or initializers also produced by a node, graph outputs nobody\n"
    "produces, declared types that disagree (value_info, inputs, outputs, initializers) with each other or\n"
    "with what shape inference derives from the nodes (a graph output declared int64 but made by a float Conv),\n"
    "shapes that do not fit an op (dims that do not broadcast), attributes given twice, of the wrong type or\n"
    "missing where the op requires them, opset imports missing\n"
    "for a domain in use, and, in one line, every op (with its opset) that onnxc's runtime cannot run, the\n"
    "same list run, bench, compare and optimize --verify give. Subgraphs (If/Loop/Scan bodies) are checked\n"
    "too. A model the loader rejects as malformed is reported as a problem.\n"
    "\n"
    "  --json    one JSON object on stdout: {\"model\": path, \"ok\": bool, \"problems\": [line, ...],\n"
    "            \"notes\": [line, ...]}\n"
    "\n"
    "exit status: 0 no problems, 1 problems found, 2 bad usage or a file that is not an ONNX model.\n";

/* The problems as JSON: the lines onnxc_model_check wrote ("note: ..." lines apart). */
static void print_json(const char *path, const char *lines, int n_problems)
{
    printf("{\"model\": ");
    onnxc_json_write_string(stdout, path);
    printf(", \"ok\": %s", n_problems == 0 ? "true" : "false");
    for (int pass = 0; pass < 2; pass++) {
        printf(pass ? ", \"notes\": [" : ", \"problems\": [");
        int k = 0;
        for (const char *p = lines; p && *p;) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            int note = strncmp(p, "note: ", 6) == 0;
            if (len && note == pass) {
                char *line = strndup(p, len);
                printf("%s", k++ ? ", " : "");
                onnxc_json_write_string(stdout, line ? line : "");
                free(line);
            }
            p = e ? e + 1 : p + len;
        }
        printf("]");
    }
    printf("}\n");
}

int cmd_check(int argc, char **argv)
{
    const char *path;
    int rc, json = 0;
    if (!cli_model_args("check", usage, argc, argv, "--json", &json, &path, &rc))
        return rc;
    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load_for_check(path, &m);
    if (st == ONNXC_E_INVALID || st == ONNXC_E_UNSUPPORTED) {
        /* The loader refuses some malformed graphs (a value produced twice, bad dims...): that is what check
         * looks for, so report it as the model's problem rather than as a usage error. */
        if (json) {
            char line[2100];
            snprintf(line, sizeof line, "%s\n", onnxc_last_error());
            print_json(path, line, 1);
        } else {
            printf("%s\n", onnxc_last_error());
            printf("%s: 1 problem (the model could not be loaded)\n", path);
        }
        cli_summary("%s: 1 problem (the model could not be loaded)", path);
        return CLI_EXIT_PROBLEMS;
    }
    if (st != ONNXC_OK)
        return cli_fail(st);
    int n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = json ? open_memstream(&buf, &len) : NULL;
    if (json && !mem) {
        onnxc_model_free(m);
        cli_error("check: out of memory");
        return CLI_EXIT_USAGE;
    }
    st = onnxc_model_check(m, json ? mem : stdout, &n);
    if (mem)
        fclose(mem);
    onnxc_model_free(m);
    if (st != ONNXC_OK) {
        free(buf);
        return cli_fail(st);
    }
    if (json)
        print_json(path, buf, n);
    free(buf);
    if (n == 0) {
        if (!json)
            printf("%s: ok\n", path);
        cli_summary("%s: ok", path);
        return CLI_EXIT_OK;
    }
    if (!json)
        printf("%s: %d problem%s\n", path, n, n == 1 ? "" : "s");
    cli_summary("%s: %d problem%s", path, n, n == 1 ? "" : "s");
    return CLI_EXIT_PROBLEMS;
}
