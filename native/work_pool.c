/*
 * The helper thread behind run_range (see work_pool.h).
 *
 * Jobs are announced through one 64-bit ticket: the job's generation (16 bits), its
 * number of chunks (24 bits) and the next chunk to hand out (24 bits). A thread claims a
 * chunk by advancing the ticket with a compare-and-swap, so a claim can only succeed for
 * the job the thread believes it is working on, and only while chunks are left. The
 * job's fields are written before its ticket is published and stay unchanged until all
 * its chunks are done, which the caller waits for: a thread that holds a claim reads
 * them safely.
 *
 * Between jobs the helper sleeps on a condition variable, and the caller starts on the
 * chunks at once, so the time the helper takes to wake costs only its share. Where the
 * BLAS runs its own threads it does not spin first: that took the core from them during
 * the products in between, even when yielding on every turn (LeNet, one epoch at batch
 * 64 on 2 vCPUs: 2,612 and 2,756 samples/s with a 50 µs spin, 3,122 and 3,137 without).
 * Where dlt splits the products itself, the helper is the only other thread at work, and
 * it waits awake for SPIN_NS first: the next job usually comes within microseconds.
 */
#define _POSIX_C_SOURCE 200809L
#include "work_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* How long the helper waits awake for the next job, when it spins. */
#define SPIN_NS 100000

/* A hint to the CPU that this thread is spinning. */
#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define CHUNK_BITS 24
#define MAX_CHUNKS ((1u << CHUNK_BITS) - 1)

static uint64_t make_ticket(uint32_t generation, uint32_t chunks, uint32_t next) {
  return ((uint64_t)generation << (2 * CHUNK_BITS)) | ((uint64_t)chunks << CHUNK_BITS) | next;
}
static uint32_t ticket_generation(uint64_t t) { return (uint32_t)(t >> (2 * CHUNK_BITS)); }
static uint32_t ticket_chunks(uint64_t t) { return (uint32_t)(t >> CHUNK_BITS) & MAX_CHUNKS; }
static uint32_t ticket_next(uint64_t t) { return (uint32_t)t & MAX_CHUNKS; }

static _Atomic uint64_t ticket;
/* Chunks of the current job that have been computed. */
static _Atomic uint32_t done;
/* Chunks the helper has computed since the addon loaded (for tests and the bench). */
static _Atomic uint64_t helper_chunks;
/* Set by the helper while it sleeps, so that the caller knows to wake it. */
static _Atomic bool sleeping;

static struct {
  range_body body;
  const void *args;
  size_t units;
  size_t chunk;
} job;

static uint32_t generation; /* the newest job's; changed only by the thread holding `owner` */
static _Atomic int pool_threads = 1;
static _Atomic bool spin;
static bool started;
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

/* Claims and computes chunks of job `gen` until none is left; counts them when `helper`. */
static void work(uint32_t gen, bool helper) {
  uint64_t t = atomic_load(&ticket);
  for (;;) {
    if (ticket_generation(t) != gen || ticket_next(t) >= ticket_chunks(t)) return;
    if (!atomic_compare_exchange_weak(&ticket, &t, t + 1)) continue; /* t now holds the current ticket */
    const size_t lo = (size_t)ticket_next(t) * job.chunk;
    const size_t hi = lo + job.chunk < job.units ? lo + job.chunk : job.units;
    job.body(job.args, lo, hi);
    if (helper) atomic_fetch_add(&helper_chunks, 1);
    atomic_fetch_add(&done, 1);
    t = atomic_load(&ticket);
  }
}

static int64_t monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The generation of a job newer than `seen` if one comes within SPIN_NS, else `seen`. */
static uint32_t spin_for_job(uint32_t seen) {
  const int64_t until = monotonic_ns() + SPIN_NS;
  for (unsigned turn = 1;; turn++) {
    const uint32_t gen = ticket_generation(atomic_load(&ticket));
    if (gen != seen) return gen;
    CPU_RELAX();
    if (turn % 64 == 0 && monotonic_ns() > until) return seen;
  }
}

/* Returns the generation of a job newer than `seen`, spinning first when asked, then sleeping. */
static uint32_t wait_for_job(uint32_t seen) {
  if (atomic_load(&spin)) {
    const uint32_t gen = spin_for_job(seen);
    if (gen != seen) return gen;
  }
  pthread_mutex_lock(&sleep_lock);
  atomic_store(&sleeping, true);
  uint32_t gen;
  while ((gen = ticket_generation(atomic_load(&ticket))) == seen) pthread_cond_wait(&wake, &sleep_lock);
  atomic_store(&sleeping, false);
  pthread_mutex_unlock(&sleep_lock);
  return gen;
}

/*
 * The caller's wait for the chunk the helper may still be computing. Where the helper
 * spins between jobs, the caller waits awake too, for up to SPIN_NS, before it yields its
 * core on every turn: sched_yield is a system call, slow in this VM, and a turn of it
 * often came back well after the helper had finished. A 32,768-element ReLU in two chunks
 * took 3.5–4.1 µs yielding and 2.6–2.8 µs spinning; the reference MLP's training step,
 * 2–3% less time.
 */
static void wait_until_done(uint32_t chunks) {
  const bool awake = atomic_load(&spin);
  const int64_t until = awake ? monotonic_ns() + SPIN_NS : 0;
  for (unsigned turn = 1; atomic_load(&done) < chunks; turn++) {
    if (awake && (turn % 64 != 0 || monotonic_ns() <= until)) CPU_RELAX();
    else sched_yield();
  }
}

static void *helper_main(void *unused) {
  (void)unused;
  uint32_t seen = ticket_generation(atomic_load(&ticket));
  for (;;) {
    seen = wait_for_job(seen);
    work(seen, true);
  }
  return NULL;
}

uint64_t work_pool_helper_chunks(void) { return atomic_load(&helper_chunks); }

void work_pool_set_threads(int threads, bool spin_first) {
  atomic_store(&pool_threads, threads >= 2 ? 2 : 1);
  atomic_store(&spin, spin_first);
}

void run_range(range_body body, const void *args, size_t units, size_t chunk) {
  if (units == 0) return;
  const size_t chunks = chunk == 0 ? 1 : (units + chunk - 1) / chunk;
  if (atomic_load(&pool_threads) < 2 || chunks < 2 || chunks > MAX_CHUNKS || pthread_mutex_trylock(&owner) != 0) {
    body(args, 0, units);
    return;
  }
  if (!started) {
    pthread_t thread;
    started = true; /* tried once: without a helper, the caller does every chunk */
    if (pthread_create(&thread, NULL, helper_main, NULL) == 0) pthread_detach(thread);
  }
  job.body = body;
  job.args = args;
  job.units = units;
  job.chunk = chunk;
  atomic_store(&done, 0);
  generation = (generation + 1) & 0xffff;
  atomic_store(&ticket, make_ticket(generation, (uint32_t)chunks, 0));
  if (atomic_load(&sleeping)) {
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&sleep_lock);
  }
  work(generation, false);
  wait_until_done((uint32_t)chunks);
  pthread_mutex_unlock(&owner);
}
