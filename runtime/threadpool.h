/* The session's worker pool: a job is a count of independent items that the caller and the workers claim one
 * at a time, so a worker the OS has not scheduled never holds the caller back (it only waits for items
 * already started). OpenBLAS runs single-threaded inside it, so there is one pool and no oversubscription. */
#ifndef ONNXC_THREADPOOL_H
#define ONNXC_THREADPOOL_H

#include <stdint.h>

#include "onnxc/onnxc.h"

typedef struct oc_threadpool oc_threadpool;

/* fn(arg, item, slot): item in [0, n_items); slot in [0, threads) tells which thread runs it (0 = the caller),
 * to index per-thread scratch. */
typedef void (*oc_pool_fn)(void *arg, int64_t item, int slot);

/* A pool of threads - 1 workers (none for threads <= 1). */
onnxc_status oc_pool_create(int threads, oc_threadpool **out);
void oc_pool_free(oc_threadpool *p);

/* Threads that may run items at once (workers + the caller); 1 for a NULL pool. */
int oc_pool_threads(const oc_threadpool *p);

/* Run fn for every item and return when all are done. The items are cut into one contiguous range per thread
 * (the caller's first): each thread runs its own range first, in order, then helps with what is left of the
 * others', so in a balanced job thread s runs items [n s / T, n (s + 1) / T) of every job. A NULL pool, one
 * thread or one item runs them on the caller. Safe from several threads at once: one caller's job has the workers, and a caller that finds them
 * taken (or an item calling back in) runs all its items itself, with slot 0, instead of waiting. */
void oc_pool_run(oc_threadpool *p, int64_t n_items, oc_pool_fn fn, void *arg);

/* Where part i of [0, n) starts when it is cut into `parts` parts of nearly equal size at multiples of q (part
 * parts ends at n): items of equal work, so that no thread waits on the others for a larger last item. */
static inline int64_t oc_pool_split(int64_t n, int64_t parts, int64_t i, int64_t q)
{
    if (i >= parts)
        return n;
    const int64_t at = (n * i / parts + q / 2) / q * q;
    return at < n ? at : n;
}

#endif
