/* The session's worker pool (see threadpool.h). A job's items are cut into one contiguous range per thread;
 * each range is claimed through its own 64-bit ticket holding the job's generation and the range's next item, so
 * a late worker can never claim an item of a job it did not read. A thread claims its own range first, then
 * what is left of the others': in the usual balanced case thread s runs the same part of every job (the same
 * output columns of consecutive convolutions), so what it wrote stays in its own cache for the next op, and
 * each ticket's line stays with its owner. (On this project's 2-vCPU machine a cache line written by the other
 * core costs ~3x as much to store over and ~1.6x to read, and one claim through a shared ticket bounced it.)
 * Idle workers spin briefly (ops follow each other within microseconds), then sleep on a condition variable. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "threadpool.h"
#include "util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OC_PAUSE() _mm_pause()
#else
#define OC_PAUSE() ((void)0)
#endif

/* Pause-loop iterations an idle worker spins before sleeping (on the order of 100 microseconds), and a caller
 * spins between yields while it waits for items started by workers. */
#define OC_IDLE_SPINS 4096
#define OC_WAIT_SPINS 256

/* One thread's range of the current job: its ticket (generation << 32 | next item) and its end, on a cache
 * line of their own. */
typedef struct oc_range {
    _Alignas(64) _Atomic uint64_t ticket;
    _Atomic int64_t end;
} oc_range;

typedef struct oc_worker {
    oc_threadpool *pool;
    pthread_t thread;
    int slot;
    bool started;
} oc_worker;

struct oc_threadpool {
    int threads;
    oc_worker *workers;
    int n_workers;
    /* the job: written by the caller before the ticket publishes it */
    _Atomic(oc_pool_fn) fn;
    _Atomic(void *) arg;
    oc_range *ranges; /* threads of them */
    _Atomic int64_t done;      /* items finished in the current job */
    _Atomic uint32_t gen;      /* generation of the latest job; workers wait for it to change */
    _Atomic int sleeping;
    _Atomic bool stop;
    pthread_mutex_t submit; /* held by the one caller whose job the workers serve */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Claim and run items of generation g until none are left, from this thread's range first, then from the
 * others' in turn; returns how many this thread ran. The job's fields are read after a ticket shows generation
 * g and before the claim: the caller closes every ticket before it rewrites them, so a successful claim proves
 * they were g's (all accesses are sequentially consistent). */
static int64_t oc_pool_drain(oc_threadpool *p, uint32_t g, int slot)
{
    int64_t ran = 0;
    for (int k = 0; k < p->threads; k++) {
        oc_range *r = &p->ranges[(slot + k) % p->threads];
        for (;;) {
            uint64_t t = atomic_load(&r->ticket);
            if ((uint32_t)(t >> 32) != g)
                return ran; /* the job is over (or not this one) */
            int64_t idx = (int64_t)(t & 0xffffffffu);
            if (idx >= atomic_load(&r->end))
                break;
            oc_pool_fn fn = atomic_load(&p->fn);
            void *arg = atomic_load(&p->arg);
            if (!atomic_compare_exchange_strong(&r->ticket, &t, t + 1))
                continue;
            fn(arg, idx, slot);
            ran++;
        }
    }
    return ran;
}

static void *oc_worker_main(void *vp)
{
    oc_worker *w = vp;
    oc_threadpool *p = w->pool;
    /* the generation the pool was created with: a worker that starts after the first job was published still
     * serves it */
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
            if (++spins < OC_IDLE_SPINS) {
                OC_PAUSE();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleeping, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop))
            break;
        seen = g;
        int64_t ran = oc_pool_drain(p, g, w->slot);
        if (ran)
            atomic_fetch_add_explicit(&p->done, ran, memory_order_release);
    }
    return NULL;
}

onnxc_status oc_pool_create(int threads, oc_threadpool **out)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    oc_threadpool *p = oc_calloc(1, sizeof *p);
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory for the thread pool");
    p->threads = threads;
    atomic_init(&p->fn, NULL);
    atomic_init(&p->arg, NULL);
    atomic_init(&p->done, 0);
    atomic_init(&p->gen, 0);
    atomic_init(&p->sleeping, 0);
    atomic_init(&p->stop, false);
    if (threads == 1) {
        *out = p;
        return ONNXC_OK;
    }
    p->workers = oc_calloc((size_t)threads, sizeof *p->workers);
    p->ranges = aligned_alloc(64, (size_t)threads * sizeof *p->ranges);
    if (p->ranges)
        for (int i = 0; i < threads; i++) {
            atomic_init(&p->ranges[i].ticket, 0);
            atomic_init(&p->ranges[i].end, 0);
        }
    if (!p->workers || !p->ranges || pthread_mutex_init(&p->mu, NULL) != 0) {
        oc_free(p->workers);
        free(p->ranges);
        oc_free(p);
        return oc_err(ONNXC_E_NOMEM, "out of memory for the thread pool");
    }
    if (pthread_mutex_init(&p->submit, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        oc_free(p->workers);
        oc_free(p);
        return oc_err(ONNXC_E_NOMEM, "cannot create the thread pool's submission lock");
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->submit);
        pthread_mutex_destroy(&p->mu);
        oc_free(p->workers);
        oc_free(p);
        return oc_err(ONNXC_E_NOMEM, "cannot create the thread pool's condition variable");
    }
    for (int i = 0; i < threads - 1; i++) {
        oc_worker *w = &p->workers[i];
        w->pool = p;
        w->slot = i + 1;
        if (pthread_create(&w->thread, NULL, oc_worker_main, w) != 0) {
            oc_pool_free(p);
            return oc_err(ONNXC_E_RUNTIME, "cannot start worker thread %d of %d", i + 1, threads - 1);
        }
        w->started = true;
        p->n_workers++;
    }
    *out = p;
    return ONNXC_OK;
}

void oc_pool_free(oc_threadpool *p)
{
    if (!p)
        return;
    if (p->workers) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, true);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->threads - 1; i++)
            if (p->workers[i].started)
                pthread_join(p->workers[i].thread, NULL);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->submit);
        pthread_mutex_destroy(&p->mu);
        oc_free(p->workers);
        free(p->ranges);
    }
    oc_free(p);
}

int oc_pool_threads(const oc_threadpool *p)
{
    return p ? p->threads : 1;
}

void oc_pool_run(oc_threadpool *p, int64_t n_items, oc_pool_fn fn, void *arg)
{
    if (n_items <= 0)
        return;
    /* the ticket holds 32-bit item indices; a larger job (no kernel makes one) runs on the caller */
    if (!p || p->n_workers == 0 || n_items == 1 || n_items >= 0xffffffffll) {
        for (int64_t i = 0; i < n_items; i++)
            fn(arg, i, 0);
        return;
    }
    /* another caller's job holds the workers (a second thread running a session that shares this pool, or an
     * item calling back in): run every item here rather than wait, so no caller ever waits for another */
    if (pthread_mutex_trylock(&p->submit) != 0) {
        for (int64_t i = 0; i < n_items; i++)
            fn(arg, i, 0);
        return;
    }
    /* publish: close the tickets (a late worker of the last job can no longer claim anything), write the
     * fields, open the tickets of the new generation, each at the start of its thread's range, then bump the
     * generation workers watch */
    uint32_t g = atomic_load(&p->gen) + 1;
    const int nt = p->threads;
    for (int s = 0; s < nt; s++)
        atomic_store(&p->ranges[s].ticket, ((uint64_t)g << 32) | 0xffffffffu);
    atomic_store(&p->fn, fn);
    atomic_store(&p->arg, arg);
    atomic_store(&p->done, 0);
    for (int s = 0; s < nt; s++)
        atomic_store(&p->ranges[s].end, n_items * (s + 1) / nt);
    for (int s = 0; s < nt; s++)
        atomic_store(&p->ranges[s].ticket, ((uint64_t)g << 32) | (uint64_t)(n_items * s / nt));
    atomic_store(&p->gen, g); /* pairs with the sleeper's increment of sleeping */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    int64_t ran = oc_pool_drain(p, g, 0);
    /* wait only for items workers have started */
    int64_t want = n_items - ran;
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < want) {
        if (++spins < OC_WAIT_SPINS) {
            OC_PAUSE();
        } else {
            sched_yield();
            spins = 0;
        }
    }
    pthread_mutex_unlock(&p->submit);
}
