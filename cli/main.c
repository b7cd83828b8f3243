/* onnxc command-line entry point: global options (--help, --version) and dispatch to one subcommand. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "summarise a model: versions, inputs/outputs, op histogram, parameters, BatchNormalization"},
    {"check", cmd_check, "validate a model's structure and list every op onnxc cannot run"},
    {"convert", cmd_convert, "load and save a model, moving tensors inline or to an external data file"},
    {"run", cmd_run, "run a model on given or seeded random inputs, print output statistics, write .npy files"},
    {"optimize", cmd_optimize, "rewrite a model with graph passes (fold BatchNormalization, ...) and save it"},
    {"compare", cmd_compare, "run a model and its rewritten form on the same inputs, report drift per output or per node"},
    {"bench", cmd_bench, "time session creation and runs (latency, throughput, peak memory), profile per op"},
    {"swap-norm", cmd_swap_norm, "replace BatchNormalization by group / instance / layer norm for small-batch fine-tuning"},
};

static void print_help(FILE *f)
{
    fprintf(f, "usage: onnxc <command> [options]\n"
               "       onnxc --version | --help\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "'onnxc <command> --help' describes a command. Every command takes -q/--quiet: nothing but errors,\n"
               "warnings and one summary line with the elapsed time (on stderr; --json output still goes to stdout).\n"
               "exit status: 0 success, 1 problems found (check) or a failed run, 2 bad usage or bad input.\n");
}

/* Run a command; with -q/--quiet (taken out of argv before the command parses it, up to a "--") everything it
 * prints goes to /dev/null but errors, warnings and --json output, and one summary line follows. */
static int run_command(const command *c, int argc, char **argv)
{
    int json = 0, k = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            for (; i < argc; i++)
                argv[k++] = argv[i];
            break;
        }
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            cli_quiet = 1;
            continue;
        }
        json |= strcmp(argv[i], "--json") == 0;
        argv[k++] = argv[i];
    }
    argc = k;
    argv[argc] = NULL;
    if (!cli_quiet)
        return c->run(argc, argv);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(stdout);
    fflush(stderr);
    int keep = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    FILE *err = keep >= 0 ? fdopen(keep, "w") : NULL;
    if (!err || null < 0) {
        cli_error("--quiet: cannot open /dev/null");
        return CLI_EXIT_USAGE;
    }
    cli_msg_stream = err;
    dup2(null, STDERR_FILENO);
    if (!json)
        dup2(null, STDOUT_FILENO);
    close(null);
    int rc = c->run(argc, argv);
    fflush(stdout);
    fflush(stderr);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    const char *sum = cli_summary_text();
    if (!*sum)
        sum = rc == CLI_EXIT_OK ? "ok" : rc == CLI_EXIT_PROBLEMS ? "problems found" : "failed";
    fprintf(err, "onnxc %s: %s (exit %d, %.3f s)\n", c->name, sum, rc, s);
    fclose(err);
    cli_msg_stream = NULL;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (cli_is_help(name)) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("onnxc %s\n", ONNXC_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return CLI_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char help[] = "--help";
                char *args[3] = {argv[2], help, NULL};
                return commands[i].run(2, args);
            }
        cli_error("unknown command '%s' (see 'onnxc --help')", argv[2]);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return run_command(&commands[i], argc - 1, argv + 1);
    if (name[0] == '-')
        cli_error("unknown option '%s' (see 'onnxc --help')", name);
    else
        cli_error("unknown command '%s' (see 'onnxc --help')", name);
    return CLI_EXIT_USAGE;
}
