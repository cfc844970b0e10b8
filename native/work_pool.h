/*
 * A second thread for the native backend's loops around the matrix products (the
 * optimiser updates, ReLU, pooling, im2col, ...), which otherwise run on one core while
 * the BLAS's threads wait.
 *
 * A job is a range of `units` (elements, planes, filters: whatever the loop can split
 * without changing what any one unit computes), cut into chunks of `chunk` units. The
 * calling thread and the helper each claim chunks until none is left, so a helper that is
 * slow to wake costs nothing but its share. Every unit is computed by one thread, by the
 * same code, in the same order as without the helper: the results are the same bits
 * whatever the number of threads.
 */
#ifndef DLT_WORK_POOL_H
#define DLT_WORK_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Computes units [lo, hi) of a job whose arguments are `args`. */
typedef void (*range_body)(const void *args, size_t lo, size_t hi);

/*
 * How many threads run_range may use: 1 (the caller alone) or 2 (the caller and the
 * helper, started on first use). Set with the BLAS's count (setThreads), capped at 2.
 * `spin`: the helper waits for the next job awake for a short while before it sleeps;
 * only for when no other threads (the BLAS's own) need the core between jobs.
 */
void work_pool_set_threads(int threads, bool spin);

/*
 * body(args, lo, hi) over [0, units), in chunks of `chunk` units, shared with the helper
 * when there are at least two chunks and the pool has two threads; returns when all are
 * done. Called from one JavaScript thread at a time in practice; a second caller while
 * a job runs simply runs its own job alone.
 */
void run_range(range_body body, const void *args, size_t units, size_t chunk);

/* Chunks the helper thread has computed since the addon loaded: for tests and the bench. */
uint64_t work_pool_helper_chunks(void);

#endif
