/* Placement of buffers with known lifetimes in one arena, so that buffers never alive at the same time share
 * memory; on its own (no session) so that it can be tested and measured by itself. */
#ifndef ONNXC_MEMPLAN_H
#define ONNXC_MEMPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "onnxc/onnxc.h"

typedef struct oc_mblock {
    int first, last; /* alive from position first through position last (first <= last) */
    size_t size;     /* bytes */
    size_t offset;   /* set by oc_memplan_place */
} oc_mblock;

/* Give each of the n blocks an offset, a multiple of align (a power of two), so that no two blocks alive at a
 * common position share a byte, their sizes rounded up to align; *arena gets the bytes the offsets span.
 * Two placements are made and the smaller arena kept (by size on a tie): by time (oc_memplan_place_by_time),
 * and by size (oc_memplan_place_by_size) with its work capped at 8 n (log2 n + 1) + 4M steps, past which it is
 * dropped, so the whole is O(n log n). ONNXC_E_NOMEM when memory runs out or the arena would not fit a size_t. */
onnxc_status oc_memplan_place(oc_mblock *b, int n, size_t align, size_t *arena);

/* Largest first (ties in index order), each at the lowest offset clear of the blocks placed before it that are
 * alive with it (the order XNNPACK's memory planner uses). Those blocks are found through a search tree over the
 * lifetimes: O(n log n) plus, per block, the placed blocks alive with it (a handful in a network, all the others
 * in n parallel branches). Each tree node visited and each block found costs one unit of work; when work runs
 * out, *finished is false and the offsets are partial. */
onnxc_status oc_memplan_place_by_size(oc_mblock *b, int n, size_t align, long long work, size_t *arena,
                                      bool *finished);

/* In order of first position (larger first among equals), each in the smallest free gap that fits (lowest
 * offset among equals) after the blocks dead before its first position have freed theirs, else at the end of
 * the arena. O(n log n) for any lifetimes. */
onnxc_status oc_memplan_place_by_time(oc_mblock *b, int n, size_t align, size_t *arena);

#endif
