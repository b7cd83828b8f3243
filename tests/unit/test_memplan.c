/* Unit tests of the arena placement alone (runtime/memplan.c): a hand-worked case, random lifetimes and sizes
 * checked by an independent sweep and (by size) against a brute-force placement, and wide sets of n parallel
 * branches, which the placement by size alone took quadratic time over. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memplan.h"

static size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

/* Worked by hand, align 64: by size C (256), A (128), B (64), D (10 -> 64). C takes 0; A [0,1] is never alive
 * with C [2,3], so it takes 0 too; B [1,2] meets A and C, so it goes past C's 256 bytes; D [0,3] meets all
 * three and goes past B, to 320. At position 2, C + B + D = 384 bytes are alive: the arena can be no smaller. */
static void test_worked_example(void **state)
{
    (void)state;
    oc_mblock b[] = {
        {0, 1, 100, 99}, /* A */
        {1, 2, 64, 99},  /* B */
        {2, 3, 200, 99}, /* C */
        {0, 3, 10, 99},  /* D */
    };
    size_t arena = 1;
    assert_int_equal(oc_memplan_place(b, 4, 64, &arena), ONNXC_OK);
    assert_int_equal(b[0].offset, 0);
    assert_int_equal(b[1].offset, 256);
    assert_int_equal(b[2].offset, 0);
    assert_int_equal(b[3].offset, 320);
    assert_int_equal(arena, 384);
}

static void test_empty(void **state)
{
    (void)state;
    size_t arena = 7;
    assert_int_equal(oc_memplan_place(NULL, 0, 64, &arena), ONNXC_OK);
    assert_int_equal(arena, 0);
}

/* A chain of a million buffers, each alive while it is written and read by the next step, needs two of them. */
static void test_long_chain(void **state)
{
    (void)state;
    const int n = 1000000;
    oc_mblock *b = calloc((size_t)n, sizeof *b);
    assert_non_null(b);
    for (int i = 0; i < n; i++)
        b[i] = (oc_mblock){i, i + 1, 1000, 0};
    size_t arena = 0;
    assert_int_equal(oc_memplan_place(b, n, 64, &arena), ONNXC_OK);
    assert_int_equal(arena, 2 * 1024);
    for (int i = 0; i + 1 < n; i++)
        assert_true(b[i].offset != b[i + 1].offset);
    free(b);
}

/* An independent check of a placement, by a sweep over positions: at each position where blocks are born,
 * the live blocks (born at or before it, not yet dead) sorted by offset must not overlap, every offset is a
 * multiple of align and inside the arena, and the arena is no larger than the blocks' ends. Returns the number
 * of faults (printing the first). O(n log n) per sweep step with live blocks, so usable on wide sets. */
typedef struct live_ref {
    size_t begin, end;
    int idx;
} live_ref;

static int live_cmp(const void *pa, const void *pb)
{
    const live_ref *a = pa, *b = pb;
    return (a->begin > b->begin) - (a->begin < b->begin);
}

static const oc_mblock *cmp_blocks;

static int by_first(const void *pa, const void *pb)
{
    const int a = *(const int *)pa, b = *(const int *)pb;
    return (cmp_blocks[a].first > cmp_blocks[b].first) - (cmp_blocks[a].first < cmp_blocks[b].first);
}

static int placement_errors(const oc_mblock *b, int n, size_t align, size_t arena)
{
    int faults = 0;
    size_t top = 0;
    for (int i = 0; i < n; i++) {
        const size_t end = b[i].offset + round_up(b[i].size, align);
        if (b[i].offset % align || (b[i].size && end > arena)) {
            if (!faults++)
                print_error("block %d at %zu+%zu: misaligned or past the %zu-byte arena\n", i, b[i].offset,
                            b[i].size, arena);
        }
        if (b[i].size && end > top)
            top = end;
    }
    if (top != arena && !faults++)
        print_error("arena %zu, blocks end at %zu\n", arena, top);
    /* two blocks alive together are both alive at the later one's first position: check there */
    int *ids = calloc((size_t)n + 1, sizeof *ids);
    live_ref *live = calloc((size_t)n + 1, sizeof *live);
    for (int i = 0; i < n; i++)
        ids[i] = i;
    cmp_blocks = b;
    qsort(ids, (size_t)n, sizeof *ids, by_first);
    for (int k = 0; k < n;) {
        const int pos = b[ids[k]].first;
        int n_live = 0;
        for (int i = 0; i < n; i++)
            if (b[i].size && b[i].first <= pos && pos <= b[i].last)
                live[n_live++] = (live_ref){b[i].offset, b[i].offset + round_up(b[i].size, align), i};
        qsort(live, (size_t)n_live, sizeof *live, live_cmp);
        size_t reach = 0;
        int reach_idx = -1;
        for (int a = 0; a < n_live; a++) {
            if (reach_idx >= 0 && live[a].begin < reach && !faults++)
                print_error("at position %d blocks %d and %d overlap\n", pos, reach_idx, live[a].idx);
            if (live[a].end > reach) {
                reach = live[a].end;
                reach_idx = live[a].idx;
            }
        }
        while (k < n && b[ids[k]].first == pos)
            k++;
    }
    free(ids);
    free(live);
    return faults;
}

/* n parallel branches of one input into one Concat: every branch output is alive from its producer to the
 * Concat at position n, and the Concat's output after it. They can share nothing: the arena is their sum. */
static void test_wide(void **state)
{
    (void)state;
    const int n = 200000;
    oc_mblock *b = calloc((size_t)n + 1, sizeof *b);
    assert_non_null(b);
    for (int i = 0; i < n; i++)
        b[i] = (oc_mblock){i, n, 16 + (size_t)(i % 3) * 64, 0};
    b[n] = (oc_mblock){n, n + 1, 1000, 0};
    size_t arena = 0, want = 0;
    assert_int_equal(oc_memplan_place(b, n + 1, 64, &arena), ONNXC_OK);
    for (int i = 0; i <= n; i++)
        want += round_up(b[i].size, 64);
    assert_int_equal(arena, want);
    /* the checker's sweep is quadratic in the positions; check the plan of a smaller wide set the same way */
    free(b);
    const int m = 3000;
    b = calloc((size_t)m + 1, sizeof *b);
    assert_non_null(b);
    for (int i = 0; i < m; i++)
        b[i] = (oc_mblock){i, m, 16 + (size_t)(i % 5) * 100, 0};
    b[m] = (oc_mblock){m, m + 1, (size_t)m * 50, 0};
    assert_int_equal(oc_memplan_place(b, m + 1, 64, &arena), ONNXC_OK);
    assert_int_equal(placement_errors(b, m + 1, 64, arena), 0);
    free(b);
}

/* The placement rule done the slow way: largest first (ties by index: a stable insertion sort), each at the
 * lowest offset clear of every placed block alive with it, found by bumping past collisions until none is
 * left, scanning all placed blocks each time. */
static size_t brute_place(const oc_mblock *b, int n, size_t align, size_t *off)
{
    int *ids = calloc((size_t)n + 1, sizeof *ids);
    for (int i = 0; i < n; i++)
        ids[i] = i;
    for (int a = 1; a < n; a++) {
        int x = ids[a], c = a - 1;
        while (c >= 0 && b[ids[c]].size < b[x].size) {
            ids[c + 1] = ids[c];
            c--;
        }
        ids[c + 1] = x;
    }
    size_t arena = 0;
    for (int a = 0; a < n; a++) {
        const oc_mblock *r = &b[ids[a]];
        size_t size = round_up(r->size, align), o = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int c = 0; c < a; c++) {
                const oc_mblock *q = &b[ids[c]];
                if (q->last < r->first || r->last < q->first)
                    continue;
                size_t qs = round_up(q->size, align);
                if (o < off[ids[c]] + qs && off[ids[c]] < o + size) {
                    o = off[ids[c]] + qs;
                    moved = 1;
                }
            }
        }
        off[ids[a]] = o;
        if (o + size > arena)
            arena = o + size;
    }
    free(ids);
    return arena;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_sets(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    static const size_t aligns[] = {1, 8, 64};
    for (int trial = 0; trial < 400; trial++) {
        const int n = 1 + (int)(rnd() % 300);
        const int span = 1 + (int)(rnd() % 200);
        const size_t align = aligns[trial % 3];
        oc_mblock *b = calloc((size_t)n, sizeof *b);
        size_t *ref = calloc((size_t)n, sizeof *ref);
        assert_non_null(b);
        assert_non_null(ref);
        for (int i = 0; i < n; i++) {
            const int first = (int)(rnd() % (uint64_t)span);
            /* mostly short lives, some to the end (skip connections, graph outputs) */
            const int len = rnd() % 8 == 0 ? span - first : (int)(rnd() % 4);
            b[i].first = first;
            b[i].last = first + len;
            /* sizes that repeat (ties), zero, and not multiples of the alignment */
            b[i].size = rnd() % 10 == 0 ? 0 : (rnd() % 4 == 0 ? 4096 : (size_t)(rnd() % 5000));
            b[i].offset = (size_t)-1;
        }
        /* the placement by time first: valid on its own; then the combined placement, whose arena is the
         * smaller of the two; then by size, which must match the brute force exactly */
        size_t arena = 0, time_arena = 0, size_arena = 0;
        assert_int_equal(oc_memplan_place_by_time(b, n, align, &time_arena), ONNXC_OK);
        assert_int_equal(placement_errors(b, n, align, time_arena), 0);
        assert_int_equal(oc_memplan_place(b, n, align, &arena), ONNXC_OK);
        assert_int_equal(placement_errors(b, n, align, arena), 0);
        assert_true(arena <= time_arena);
        bool finished = false;
        assert_int_equal(oc_memplan_place_by_size(b, n, align, 1LL << 40, &size_arena, &finished), ONNXC_OK);
        assert_true(finished);
        assert_int_equal(arena, size_arena < time_arena ? size_arena : time_arena);

        size_t top = 0;
        for (int i = 0; i < n; i++) {
            assert_int_equal(b[i].offset % align, 0);
            const size_t end = b[i].offset + round_up(b[i].size, align);
            if (end > top)
                top = end;
            for (int j = 0; j < i; j++) {
                if (b[j].last < b[i].first || b[i].last < b[j].first)
                    continue; /* never alive together */
                const size_t ej = b[j].offset + round_up(b[j].size, align);
                if (b[i].size && b[j].size && b[i].offset < ej && b[j].offset < end)
                    fail_msg("trial %d: blocks %d [%d,%d] at %zu+%zu and %d [%d,%d] at %zu+%zu overlap", trial, i,
                             b[i].first, b[i].last, b[i].offset, b[i].size, j, b[j].first, b[j].last, b[j].offset,
                             b[j].size);
            }
        }
        assert_int_equal(size_arena, top); /* the offsets now are those by size */
        for (int t = 0; t <= 2 * span; t++) {
            size_t live = 0;
            for (int i = 0; i < n; i++)
                if (b[i].first <= t && t <= b[i].last)
                    live += round_up(b[i].size, align);
            assert_true(arena >= live);
            assert_true(size_arena >= live);
        }
        /* the rule by size, done by scanning every placed block: the same offsets */
        const size_t ref_arena = brute_place(b, n, align, ref);
        assert_int_equal(size_arena, ref_arena);
        for (int i = 0; i < n; i++)
            if (b[i].offset != ref[i])
                fail_msg("trial %d: block %d at %zu, brute force %zu", trial, i, b[i].offset, ref[i]);
        free(b);
        free(ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_random_sets),
        cmocka_unit_test(test_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
