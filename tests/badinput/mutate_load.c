/* Mutation test of the loader: seeded random damage (bit flips, byte overwrites, truncation, inserted and deleted
 * runs) applied to real models, each loaded from a buffer. A load may succeed or fail, but must never crash or
 * leak (run it under -DONNXC_SANITIZE=ON), a failure must come with a one-line message, and a model that loads
 * must serialize, reload and sort (or report a cycle) without trouble.
 * Usage: mutate_load ITERATIONS SEED MODEL... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "onnxc/onnxc.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a given seed, so a failure can be replayed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf)
        *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Damage a copy of src; the result is malloc'd with room for insertions. */
static uint8_t *mutate(const uint8_t *src, size_t len, size_t *out_len)
{
    size_t cap = len + 64;
    uint8_t *b = malloc(cap);
    memcpy(b, src, len);
    size_t n = len;
    int edits = 1 + (int)(rnd() % 4);
    for (int e = 0; e < edits && n > 0; e++) {
        size_t at = (size_t)(rnd() % n);
        switch (rnd() % 6) {
        case 0: b[at] ^= (uint8_t)(1u << (rnd() % 8)); break;           /* bit flip */
        case 1: b[at] = (uint8_t)rnd(); break;                          /* random byte */
        case 2: b[at] = (uint8_t[]){0x00, 0x7f, 0x80, 0xff}[rnd() % 4]; break; /* boundary byte */
        case 3: n = at; break;                                          /* truncate */
        case 4:                                                         /* insert up to 8 bytes */
            if (n + 8 <= cap) {
                size_t k = 1 + (size_t)(rnd() % 8);
                memmove(b + at + k, b + at, n - at);
                for (size_t i = 0; i < k; i++)
                    b[at + i] = (uint8_t)rnd();
                n += k;
            }
            break;
        default: {                                                      /* delete up to 8 bytes */
            size_t k = 1 + (size_t)(rnd() % 8);
            if (at + k > n)
                k = n - at;
            memmove(b + at, b + at + k, n - at - k);
            n -= k;
        }
        }
    }
    *out_len = n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s ITERATIONS SEED MODEL...\n", argv[0]);
        return 2;
    }
    long iterations = atol(argv[1]);
    /* spread the seed so neighbouring seeds give unrelated streams; xorshift needs a non-zero state */
    rng_state = (uint64_t)strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (!rng_state)
        rng_state = 1;
    int n_models = argc - 3;
    uint8_t **models = calloc((size_t)n_models, sizeof *models);
    size_t *lens = calloc((size_t)n_models, sizeof *lens);
    for (int i = 0; i < n_models; i++) {
        models[i] = slurp(argv[3 + i], &lens[i]);
        if (!models[i]) {
            fprintf(stderr, "%s: cannot read\n", argv[3 + i]);
            return 2;
        }
    }
    long loaded = 0, refused = 0, bad = 0;
    for (long it = 0; it < iterations; it++) {
        int which = (int)(rnd() % (uint64_t)n_models);
        size_t len;
        uint8_t *buf = mutate(models[which], lens[which], &len);
        onnxc_model *m = NULL;
        onnxc_status st = onnxc_model_load_buffer(buf, len, NULL, "mutant", &m);
        if (st != ONNXC_OK) {
            const char *msg = onnxc_last_error();
            if (m || !*msg || strchr(msg, '\n') || !strstr(msg, "mutant")) {
                printf("iteration %ld (%s): bad refusal: status %d, message '%s'\n", it, argv[3 + which], st, msg);
                bad++;
            }
            refused++;
        } else {
            loaded++;
            void *out;
            size_t out_len;
            onnxc_status s2 = onnxc_model_serialize(m, &out, &out_len);
            if (s2 == ONNXC_OK) {
                onnxc_model *again = NULL;
                if (onnxc_model_load_buffer(out, out_len, NULL, "again", &again) != ONNXC_OK) {
                    printf("iteration %ld (%s): a loaded mutant does not reload after saving: %s\n", it,
                           argv[3 + which], onnxc_last_error());
                    bad++;
                }
                onnxc_model_free(again);
                free(out);
            } else if (s2 != ONNXC_E_UNSUPPORTED) {
                printf("iteration %ld (%s): a loaded mutant does not serialize: %s\n", it, argv[3 + which],
                       onnxc_last_error());
                bad++;
            }
            if (m->graph->n_nodes > 0)
                oc_graph_toposort(m->graph); /* a cycle is a fine outcome; crashing is not */
            onnxc_model_free(m);
        }
        free(buf);
    }
    for (int i = 0; i < n_models; i++)
        free(models[i]);
    free(models);
    free(lens);
    printf("%ld mutants: %ld loaded, %ld refused, %ld mishandled\n", iterations, loaded, refused, bad);
    return bad ? 1 : 0;
}
