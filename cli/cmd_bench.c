/* onnxc bench MODEL: time session creation and repeated runs on seeded random inputs (latency min / median /
 * p90, throughput, peak memory); --profile adds a per-op table from the session's per-node hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_callers.h"
#include "cli_common.h"

static const char usage[] =
    "usage: onnxc bench MODEL [--threads N] [--runs N] [--warmup N] [--shape NAME=DIMS]... [--seed S]\n"
    "                   [--json] [--profile] [--top N] [--callers N]\n"
    "\n"
    "Load MODEL, create a session and plan it for seeded random inputs, run it --warmup times untimed, then\n"
    "--runs times timed, and print: session-create time (load + create + plan, split by phase), the first\n"
    "run, latency min / median / p90 / mean over the timed runs, throughput (runs per second at the median),\n"
    "the planned arena and the process's peak resident memory (getrusage), also net of the memory the process\n"
    "held before loading the model.\n"
    "\n"
    "  --threads N         worker threads (default: number of cores)\n"
    "  --runs N            timed runs (default 50)\n"
    "  --warmup N          untimed runs first, the first run included (default 5)\n"
    "  --shape NAME=DIMS   shape of an input, or the value of a symbolic dim (N=4); other symbolic dims are 1\n"
    "  --seed S            seed of the input generator (default 0; the generator is the one 'onnxc run' uses)\n"
    "  --json              print one JSON object instead of text\n"
    "  --profile           time every node during the timed runs and add a table per op type (time per run,\n"
    "                      share, GFLOP/s for Conv, ConvTranspose, Gemm and MatMul) and the slowest nodes\n"
    "  --top N             nodes in the --profile list of slowest nodes (default 15)\n"
    "  --callers N         instead: one session run from N threads at once (onnxc_session_run_outputs), then N\n"
    "                      separate sessions one per thread, each thread making --warmup then --runs runs; prints\n"
    "                      both throughputs (runs per second over all callers) and checks every output of every\n"
    "                      run bit for bit against a single-threaded run (exit 1 on any difference)\n"
    "\n"
    "Benchmarks print figures; they never fail on time. exit status: 0 success, 1 a run failed, 2 bad usage or\n"
    "bad input.\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Resident memory now, in bytes (/proc/self/statm), 0 when unknown. */
static double rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long size = 0, resident = 0;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? (double)resident * (double)sysconf(_SC_PAGESIZE) : 0;
}

/* CPU time of the whole process (user + system), ms. */
static double cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-3;
}

static double rss_peak(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss * 1024.0; /* Linux reports KiB */
}

/* ---------------------------------------------------------------- profile */

typedef struct op_row {
    const char *op;
    int nodes;
    double ms, flops;
} op_row;

static int cmp_op_row(const void *a, const void *b)
{
    double d = ((const op_row *)b)->ms - ((const op_row *)a)->ms;
    return d > 0 ? 1 : d < 0 ? -1 : 0;
}

static int cmp_node_prof(const void *a, const void *b)
{
    double d = (*(const onnxc_profile_node *const *)b)->ms - (*(const onnxc_profile_node *const *)a)->ms;
    return d > 0 ? 1 : d < 0 ? -1 : 0;
}

/* Group node times by op type; rows sorted by time; returns the row count (rows has one entry per node). */
static int prof_by_op(const onnxc_profile *p, op_row *rows)
{
    int n = 0;
    for (int i = 0; i < onnxc_profile_num_nodes(p); i++) {
        const onnxc_profile_node *np = onnxc_profile_get(p, i);
        int r = 0;
        while (r < n && strcmp(rows[r].op, np->op_type) != 0)
            r++;
        if (r == n) {
            rows[n].op = np->op_type;
            rows[n].nodes = 0;
            rows[n].ms = rows[n].flops = 0;
            n++;
        }
        rows[r].nodes++;
        rows[r].ms += np->ms;
        rows[r].flops += np->flops;
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_op_row);
    return n;
}


/* ---------------------------------------------------------------- the command */

static int cmp_double(const void *a, const void *b)
{
    double d = *(const double *)a - *(const double *)b;
    return d > 0 ? 1 : d < 0 ? -1 : 0;
}

/* Nearest-rank quantile of sorted values. */
static double quantile(const double *v, int n, double q)
{
    int i = (int)(q * n + 0.999999) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    return v[i];
}

typedef struct bench_state {
    onnxc_model *m;
    onnxc_session *s;
    cli_dims dims;
    cli_inputs in;
    double *lat;
    onnxc_profile *prof;
    op_row *rows;
    const onnxc_profile_node **slow;
} bench_state;

static void bench_free(bench_state *b)
{
    free(b->rows);
    free(b->slow);
    onnxc_profile_free(b->prof);
    free(b->lat);
    cli_inputs_free(&b->in);
    cli_dims_free(&b->dims);
    onnxc_session_free(b->s);
    onnxc_model_free(b->m);
}

static int bench_main(bench_state *b, int argc, char **argv)
{
    const char *path = NULL, *val;
    int64_t threads = 0, runs = 50, warmup = 5, top = 15, callers = 0;
    uint64_t seed = 0;
    int json = 0, profile = 0, opts_done = 0, k;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || !a[1]) {
            if (path)
                return cli_usage_error("bench", "unexpected argument '%s'", a);
            path = a;
        } else if (cli_is_help(a)) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--profile") == 0) {
            profile = 1;
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--threads", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 4096, &threads) != 0)
                return cli_usage_error("bench", "--threads takes a count from 1 to 4096, not '%s'", val);
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--runs", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 10000000, &runs) != 0)
                return cli_usage_error("bench", "--runs takes a count from 1 to 10000000, not '%s'", val);
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--warmup", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 0, 10000000, &warmup) != 0)
                return cli_usage_error("bench", "--warmup takes a count from 0 to 10000000, not '%s'", val);
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--callers", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 1, 256, &callers) != 0)
                return cli_usage_error("bench", "--callers takes a count from 1 to 256, not '%s'", val);
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--top", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_i64(val, 0, 1000000, &top) != 0)
                return cli_usage_error("bench", "--top takes a count, not '%s'", val);
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--shape", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if ((k = cli_dims_add("bench", &b->dims, val)) != 0)
                return k;
        } else if ((k = cli_opt_value("bench", argc, argv, &i, "--seed", &val)) != 0) {
            if (k < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_u64(val, &seed) != 0)
                return cli_usage_error("bench", "--seed takes a non-negative integer, not '%s'", val);
        } else {
            return cli_usage_error("bench", "unknown option '%s'", a);
        }
    }
    if (!path)
        return cli_usage_error("bench", "no model given");
    if (callers && profile)
        return cli_usage_error("bench", "--callers and --profile cannot be combined (a profile is for one thread)");
    if (!(b->lat = calloc((size_t)runs, sizeof *b->lat))) {
        cli_error("bench: out of memory");
        return CLI_EXIT_PROBLEMS;
    }

    const double base_rss = rss_now();
    double t0 = now_ms();
    onnxc_status st = onnxc_model_load(path, &b->m);
    if (st != ONNXC_OK)
        return cli_fail(st);
    double load_ms = now_ms() - t0;
    /* inputs are made outside the timed phases */
    if ((st = cli_inputs_generate(b->m, &b->dims, seed, &b->in)) != ONNXC_OK)
        return cli_fail(st);
    const char *const *names = (const char *const *)b->in.names;
    const onnxc_tensor *const *tensors = (const onnxc_tensor *const *)b->in.tensors;
    if (callers) {
        bench_callers_args ca = {.path = path, .threads = (int)threads, .callers = (int)callers, .runs = (long)runs,
                                 .warmup = (long)warmup, .json = json, .n_in = b->in.n, .names = names,
                                 .inputs = tensors, .n_out = onnxc_model_num_outputs(b->m)};
        return bench_callers(b->m, &ca);
    }

    onnxc_session_options so;
    memset(&so, 0, sizeof so);
    so.threads = (int)threads;
    t0 = now_ms();
    if ((st = onnxc_session_create(b->m, &so, &b->s)) != ONNXC_OK)
        return cli_fail(st);
    double create_ms = now_ms() - t0;
    /* attached before planning: attaching later would re-plan */
    if (profile && (st = onnxc_profile_attach(b->s, &b->prof)) != ONNXC_OK)
        return cli_fail(st);
    t0 = now_ms();
    if ((st = onnxc_session_plan(b->s, b->in.n, names, tensors)) != ONNXC_OK)
        return cli_fail(st);
    double plan_ms = now_ms() - t0;

    double first_ms = 0;
    for (int64_t i = 0; i < warmup; i++) {
        t0 = now_ms();
        if ((st = onnxc_session_run(b->s, b->in.n, names, tensors)) != ONNXC_OK)
            return cli_fail(st);
        if (i == 0)
            first_ms = now_ms() - t0;
    }
    if (profile) {
        if ((st = onnxc_profile_start(b->prof)) != ONNXC_OK)
            return cli_fail(st);
        int n = onnxc_profile_num_nodes(b->prof);
        b->rows = calloc((size_t)n + 1, sizeof *b->rows);
        b->slow = calloc((size_t)n + 1, sizeof *b->slow);
        if (!b->rows || !b->slow) {
            cli_error("bench: out of memory");
            return CLI_EXIT_PROBLEMS;
        }
    }
    double total_ms = 0;
    const double cpu0 = cpu_ms();
    for (int64_t i = 0; i < runs; i++) {
        t0 = now_ms();
        if ((st = onnxc_session_run(b->s, b->in.n, names, tensors)) != ONNXC_OK)
            return cli_fail(st);
        b->lat[i] = now_ms() - t0;
        total_ms += b->lat[i];
    }
    const double cpu_per_run = (cpu_ms() - cpu0) / (double)runs;
    onnxc_profile_stop(b->prof);
    const double peak = rss_peak();
    const int nr = (int)runs;
    qsort(b->lat, (size_t)nr, sizeof *b->lat, cmp_double);
    const double lmin = b->lat[0], lmed = quantile(b->lat, nr, 0.5), lp90 = quantile(b->lat, nr, 0.9);
    const double lmean = total_ms / (double)nr, lmax = b->lat[nr - 1];
    const double session_ms = load_ms + create_ms + plan_ms;
    const double arena = (double)onnxc_session_arena_bytes(b->s);
    const int nthreads = onnxc_session_threads(b->s);
    const int n_prof = profile ? onnxc_profile_num_nodes(b->prof) : 0;
    double total_flops = 0;
    if (profile)
        for (int i = 0; i < n_prof; i++)
            total_flops += onnxc_profile_get(b->prof, i)->flops;
    int n_rows = profile ? prof_by_op(b->prof, b->rows) : 0;
    double prof_total = 0;
    for (int r = 0; r < n_rows; r++)
        prof_total += b->rows[r].ms;

    const double mb = 1048576.0;
    if (json) {
        printf("{\"model\": ");
        onnxc_json_write_string(stdout, path);
        printf(", \"threads\": %d, \"runs\": %d, \"warmup\": %lld, \"seed\": %llu", nthreads, nr,
               (long long)warmup, (unsigned long long)seed);
        printf(", \"session_create_ms\": %.3f, \"load_ms\": %.3f, \"create_ms\": %.3f, \"plan_ms\": %.3f",
               session_ms, load_ms, create_ms, plan_ms);
        printf(", \"first_run_ms\": %.3f", first_ms);
        printf(", \"latency_ms\": {\"min\": %.3f, \"median\": %.3f, \"p90\": %.3f, \"mean\": %.3f, \"max\": %.3f}",
               lmin, lmed, lp90, lmean, lmax);
        printf(", \"throughput_per_s\": %.3f, \"cpu_ms_per_run\": %.3f", 1000.0 / lmed, cpu_per_run);
        printf(", \"peak_rss_mb\": %.3f, \"base_rss_mb\": %.3f, \"arena_mb\": %.3f", peak / mb, base_rss / mb,
               arena / mb);
        printf(", \"arena_bytes\": %zu", onnxc_session_arena_bytes(b->s));
        if (profile) {
            printf(", \"gflop_per_run\": %.4f, \"profile\": [", total_flops * 1e-9);
            for (int r = 0; r < n_rows; r++) {
                const op_row *o = &b->rows[r];
                double ms = o->ms / nr;
                printf("%s{\"op\": ", r ? ", " : "");
                onnxc_json_write_string(stdout, o->op);
                printf(", \"nodes\": %d, \"ms\": %.4f, \"share\": %.4f", o->nodes, ms,
                       prof_total > 0 ? o->ms / prof_total : 0);
                if (o->flops > 0)
                    printf(", \"gflops\": %.3f", ms > 0 ? o->flops / (ms * 1e6) : 0);
                printf("}");
            }
            /* every node in plan order, with the value it leaves (a fused chain's last one) */
            printf("], \"nodes\": [");
            for (int i = 0; i < n_prof; i++) {
                const onnxc_profile_node *np = onnxc_profile_get(b->prof, i);
                double ms = np->ms / nr;
                printf("%s{\"name\": ", i ? ", " : "");
                onnxc_json_write_string(stdout, np->name);
                printf(", \"op\": ");
                onnxc_json_write_string(stdout, np->op_type);
                printf(", \"output\": ");
                onnxc_json_write_string(stdout, np->output);
                printf(", \"ms\": %.4f", ms);
                if (np->flops > 0)
                    printf(", \"gflops\": %.3f", ms > 0 ? np->flops / (ms * 1e6) : 0);
                printf("}");
            }
            printf("]");
        }
        printf("}\n");
        return CLI_EXIT_OK;
    }

    printf("model            %s\n", path);
    printf("threads          %d\n", nthreads);
    printf("session create   %.2f ms  (load %.2f, create %.2f, plan %.2f)\n", session_ms, load_ms, create_ms,
           plan_ms);
    printf("first run        %.2f ms\n", first_ms);
    printf("latency          min %.3f  median %.3f  p90 %.3f  mean %.3f  max %.3f ms  (%d runs after %lld "
           "warm-up)\n", lmin, lmed, lp90, lmean, lmax, nr, (long long)warmup);
    printf("throughput       %.2f runs/s (at the median); CPU time %.3f ms per run (all threads)\n", 1000.0 / lmed,
           cpu_per_run);
    printf("memory           peak RSS %.1f MB (%.1f MB above the %.1f MB before loading), arena %.1f MB\n",
           peak / mb, (peak - base_rss) / mb, base_rss / mb, arena / mb);
    if (!profile)
        return CLI_EXIT_OK;
    printf("\nper op type (time per run, profiled runs; %.3f GFLOP per run)\n", total_flops * 1e-9);
    printf("  %-22s %6s %10s %7s %9s\n", "op", "nodes", "ms", "share", "GFLOP/s");
    for (int r = 0; r < n_rows; r++) {
        const op_row *o = &b->rows[r];
        double ms = o->ms / nr;
        printf("  %-22s %6d %10.3f %6.1f%%", o->op, o->nodes, ms, prof_total > 0 ? 100.0 * o->ms / prof_total : 0);
        if (o->flops > 0 && ms > 0)
            printf(" %9.2f", o->flops / (ms * 1e6));
        printf("\n");
    }
    printf("  %-22s %6d %10.3f\n", "total", n_prof, prof_total / nr);
    if (top > 0) {
        for (int i = 0; i < n_prof; i++)
            b->slow[i] = onnxc_profile_get(b->prof, i);
        qsort(b->slow, (size_t)n_prof, sizeof *b->slow, cmp_node_prof);
        int shown = (int)(top < n_prof ? top : n_prof);
        printf("\nslowest nodes\n");
        printf("  %-40s %-16s %-18s %9s %7s %9s\n", "node", "op", "output", "ms", "share", "GFLOP/s");
        for (int i = 0; i < shown; i++) {
            const onnxc_profile_node *np = b->slow[i];
            char lbl[200], shp[64];
            /* the end of a long name tells nodes apart (exporters prefix the module path) */
            const char *name = *np->name ? np->name : np->label;
            size_t len = strlen(name);
            snprintf(lbl, sizeof lbl, "%s%s", len > 40 ? "..." : "", len > 40 ? name + len - 37 : name);
            if (np->rank >= 0)
                cli_dims_text(np->dims, np->rank, shp, sizeof shp);
            else
                snprintf(shp, sizeof shp, "-");
            double ms = np->ms / nr;
            printf("  %-40.40s %-16.16s %-18.18s %9.3f %6.1f%%", lbl, np->op_type, shp, ms,
                   prof_total > 0 ? 100.0 * np->ms / prof_total : 0);
            if (np->flops > 0 && ms > 0)
                printf(" %9.2f", np->flops / (ms * 1e6));
            printf("\n");
        }
    }
    return CLI_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    bench_state b;
    memset(&b, 0, sizeof b);
    int rc = bench_main(&b, argc, argv);
    fflush(stdout);
    bench_free(&b);
    return rc;
}
