/*
 * dlt's native kernels: a Node-API addon that hands matrix products to the system's
 * CBLAS (OpenBLAS on Linux, Accelerate on macOS) and runs the other hot loops in C.
 *
 * Every entry point takes typed arrays that JavaScript owns; nothing is allocated or
 * retained here. Sizes are checked against the arrays before any memory is touched, so
 * a wrong call from JavaScript is a thrown RangeError, never a corrupted heap.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "work_pool.h"

#ifdef DLT_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#ifdef DLT_OPENBLAS
/* Declared by OpenBLAS's cblas.h; restated so that the intent is visible here. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
#endif

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) return throw_last(env);                                       \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "Node-API call failed");
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* A float typed array argument: its element type, data pointer and length. */
typedef struct {
  napi_typedarray_type type;
  void *data;
  size_t length;
} float_array;

static bool get_float_array(napi_env env, napi_value value, float_array *out) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return false;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, &buffer, &offset) != napi_ok)
    return false;
  return out->type == napi_float32_array || out->type == napi_float64_array;
}

static bool get_int(napi_env env, napi_value value, int64_t *out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

#ifdef DLT_OPENBLAS
/* The thread count setThreads gave: OpenBLAS's own, or, at 2, dlt's split (see gemm). */
static int blas_threads = 1;
/* The largest m×n of a product that counts as a small result when k is longer (see gemm). */
#define SMALL_RESULT 2048
/* A small result over a long k: a convolution's weight gradient. */
static bool small_result_long_k(int64_t m, int64_t n, int64_t k) { return m * n <= SMALL_RESULT && k > m * n; }
/* The fewest multiply-adds (m·n·k) of a product that dlt splits between two threads, and by columns. */
#define SPLIT_WORK (1 << 18)
#define SPLIT_COLUMNS (1 << 20)
/* Whether dlt splits products itself on `threads` threads (see gemm). */
static bool dlt_splits(int threads) { return threads == 2; }
/* OpenBLAS's own thread count while dlt runs on `threads`. */
static int openblas_threads(int threads) { return dlt_splits(threads) ? 1 : threads; }
#endif

/*
 * The element-by-element loops of this file are compiled three times on x86-64 Linux, for
 * AVX-512, AVX2 and the baseline, and the CPU picks one when the addon loads (GCC's
 * target_clones). Only the vector width differs: binding.gyp turns contraction off, so
 * no multiply and add are fused into one rounding, and all versions give the same bits.
 * The optimisers' loops convert every float to double and back, and are bound by those
 * conversions: on an AMD EPYC (family 26), one SGD-with-momentum update of 117,000
 * floats took 0.37 ns an element with AVX2 and 0.21 with AVX-512; the reference MLP's
 * Adam update, 169 against 92 µs.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

/* Defines NAME_float and NAME_double from one body written in T. */
#define FOR_BOTH_TYPES(DEFINE) DEFINE(float) DEFINE(double)

/* How a product is cut into parts: by rows of C, by its columns, or along k. */
typedef enum { CUT_ROWS, CUT_COLUMNS, CUT_DEPTH } gemm_cut;

/*
 * What is done to each entry of C once its sum is complete (gemmBias, gemmReluGrad): a
 * dense layer's bias and the ReLU after it, or the mask of the ReLU before it. Done in
 * each part of a product as soon as that part is computed, by the thread that computed
 * it, while the part is still in that core's cache; the values are those of addBias,
 * relu and reluGrad run after the product.
 */
typedef struct {
  const void *bias; /* n entries, added to every row of C, or NULL */
  bool relu;        /* then C = C > 0 ? C : 0 */
  const void *y;    /* or, when not NULL, [m×n]: C = y > 0 ? C : 0 */
} gemm_epilogue;

/*
 * A product C = op(A)·op(B) cut into two parts (gemm_body computes a part). Each part is
 * a product of its own: by rows or columns, a block of C with every k-sum whole; along
 * k, the first half of every sum into C and the second into `spare`, for the caller to
 * add to C.
 */
typedef struct {
  bool f32, trans_a, trans_b, accumulate;
  gemm_cut cut;
  int m, n, k, lda, ldb;
  const void *a, *b;
  void *c, *spare;
  size_t part; /* rows, columns or k per part */
  gemm_epilogue then;
} gemm_args;

/* The epilogue on rows [r0, r1) × columns [c0, c1) of the product's C (defined with the loops it reuses, below). */
static void epilogue(const gemm_args *g, size_t r0, size_t r1, size_t c0, size_t c1);

/* The product restricted to rows, columns or k [lo, hi) (the whole product when cut by rows from 0 to m). */
static void gemm_range(const gemm_args *g, size_t lo, size_t hi) {
  const size_t size = g->f32 ? sizeof(float) : sizeof(double);
  const char *a = g->a, *b = g->b;
  char *c = g->c;
  int m = g->m, n = g->n, k = g->k;
  bool accumulate = g->accumulate;
  switch (g->cut) {
    case CUT_ROWS:
      a += size * (g->trans_a ? lo : lo * (size_t)g->lda); /* A is [k×m] when transposed */
      c += size * lo * (size_t)g->n;
      m = (int)(hi - lo);
      break;
    case CUT_COLUMNS:
      b += size * (g->trans_b ? lo * (size_t)g->ldb : lo); /* B is [n×k] when transposed */
      c += size * lo;
      n = (int)(hi - lo);
      break;
    case CUT_DEPTH:
      a += size * (g->trans_a ? lo * (size_t)g->lda : lo);
      b += size * (g->trans_b ? lo : lo * (size_t)g->ldb);
      if (lo > 0) c = g->spare, accumulate = false;
      k = (int)(hi - lo);
      break;
  }
  const enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans, tb = g->trans_b ? CblasTrans : CblasNoTrans;
  if (g->f32) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, (const float *)a, g->lda, (const float *)b, g->ldb,
                accumulate ? 1.0f : 0.0f, (float *)c, g->n);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, (const double *)a, g->lda, (const double *)b, g->ldb,
                accumulate ? 1.0 : 0.0, (double *)c, g->n);
  }
  /* A block of rows or columns holds finished sums; a cut along k is finished by the caller. */
  if (g->cut == CUT_ROWS) epilogue(g, lo, hi, 0, (size_t)g->n);
  else if (g->cut == CUT_COLUMNS) epilogue(g, 0, (size_t)g->m, lo, hi);
}

#ifdef DLT_OPENBLAS
/*
 * run_range's body: the parts inside [lo, hi), one product each, so that the parts are
 * the same whether the helper took one or the caller did both.
 */
static void gemm_body(const void *args, size_t lo, size_t hi) {
  const gemm_args *g = args;
  for (size_t start = lo; start < hi; start += g->part) gemm_range(g, start, start + g->part < hi ? start + g->part : hi);
}

/* Adds the second half's sums of a cut along k (in `spare`) to the first's, in C. */
static void add_spare(const gemm_args *g) {
  const size_t count = (size_t)g->m * (size_t)g->n;
  if (g->f32) {
    float *sum = g->c;
    const float *second = g->spare;
    for (size_t i = 0; i < count; i++) sum[i] += second[i];
  } else {
    double *sum = g->c;
    const double *second = g->spare;
    for (size_t i = 0; i < count; i++) sum[i] += second[i];
  }
}
#endif

/*
 * Reads a product's arguments, (transA, transB, m, n, k, a, b, c), into `g`: row-major,
 * contiguous, all three arrays of one element type; C is written, not added to. Returns
 * an error message, or NULL.
 */
static const char *get_gemm_args(napi_env env, napi_value *argv, gemm_args *g) {
  bool trans_a, trans_b;
  if (napi_get_value_bool(env, argv[0], &trans_a) != napi_ok || napi_get_value_bool(env, argv[1], &trans_b) != napi_ok)
    return "transA and transB must be booleans";
  int64_t m, n, k;
  if (!get_int(env, argv[2], &m) || !get_int(env, argv[3], &n) || !get_int(env, argv[4], &k)) return "m, n and k must be integers";
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return "m, n and k must be between 0 and 2^31-1";
  float_array a, b, c;
  if (!get_float_array(env, argv[5], &a) || !get_float_array(env, argv[6], &b) || !get_float_array(env, argv[7], &c))
    return "a, b and c must be Float32Array or Float64Array";
  if (a.type != b.type || a.type != c.type) return "a, b and c must have the same element type";
  if ((uint64_t)a.length < (uint64_t)(m * k) || (uint64_t)b.length < (uint64_t)(k * n) || (uint64_t)c.length < (uint64_t)(m * n))
    return "an array is shorter than its matrix";
  *g = (gemm_args){.f32 = c.type == napi_float32_array, .trans_a = trans_a, .trans_b = trans_b,
                   .cut = CUT_ROWS, .m = (int)m, .n = (int)n, .k = (int)k, .lda = (int)(trans_a ? m : k),
                   .ldb = (int)(trans_b ? k : n), .a = a.data, .b = b.data, .c = c.data};
  return NULL;
}

/* Computes the product `g` describes, and its epilogue. */
static void run_gemm(gemm_args *g) {
  const int64_t m = g->m, n = g->n, k = g->k;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!g->accumulate) memset(g->c, 0, (size_t)(m * n) * (g->f32 ? sizeof(float) : sizeof(double)));
    epilogue(g, 0, (size_t)m, 0, (size_t)n);
    return;
  }
#ifdef DLT_OPENBLAS
  if (dlt_splits(blas_threads)) {
    /*
     * On two threads dlt splits the product itself, and OpenBLAS runs single-threaded:
     * its own split of batch-64 products scaled poorly here (one run of the MLP's
     * forward product, 64×256×784: 300 µs on one thread, 194 µs on OpenBLAS's two,
     * 171 µs as two halves; its weight gradient, 784×256 over 64: 274, 263 and 132 µs),
     * and its worker threads spun on the core the loops around the products share
     * (work_pool.h).
     *
     * Products of fewer than SPLIT_WORK multiply-adds stay whole, and a small result
     * over a long k is cut along k (below). The others are cut by rows of C, or by
     * columns when C is more than four times wider than tall (at least four times when
     * B is transposed), A is not transposed and the product has at least SPLIT_COLUMNS
     * multiply-adds. That rule was fitted by timing both cuts of the reference networks'
     * 22 other float32 shapes on their own: its pick is within 2% of the faster cut on
     * all of them, and SPLIT_COLUMNS keeps 64×500×10 by rows, where the columns took 3.3×
     * as long. The MLP's A·B at 64×256×128 took 37 µs by columns and 30 by rows; its
     * forward product A·Bᵀ at 64×256×784 took the same either way alone, but the MLP's
     * epoch ran faster with it cut by columns, each thread reading a contiguous half of
     * the weights (83,300–84,900 against 76,200–80,000 samples/s, three alternations).
     * With A·B by rows as well, the MLP's step took 2% less time than with it by columns
     * (in-process alternation, two runs). The cut depends on the shape alone, so a given
     * thread count gives the same bits every time.
     */
    if (m * n * k < SPLIT_WORK) {
      gemm_range(g, 0, (size_t)m);
      return;
    }
    if (small_result_long_k(m, n, k)) {
      /*
       * A small result over a long k (a convolution's weight gradient) is cut along k:
       * by rows or columns, each thread would pack all of the long operand. The second
       * half's sums are added to the first's, element by element, after both. LeNet's
       * first weight gradient, 20×25 over 36,864: 750 µs on one thread, 800 by rows,
       * 433 along k.
       */
      double spare[SMALL_RESULT]; /* room for m·n floats or doubles */
      g->cut = CUT_DEPTH;
      g->spare = spare;
      g->part = (size_t)(k + 1) / 2;
      run_range(gemm_body, g, (size_t)k, g->part);
      add_spare(g);
      epilogue(g, 0, (size_t)m, 0, (size_t)n);
      return;
    }
    const bool wide = g->trans_b ? n >= 4 * m : n > 4 * m;
    g->cut = g->trans_a || !wide || m * n * k < SPLIT_COLUMNS ? CUT_ROWS : CUT_COLUMNS;
    const size_t units = (size_t)(g->cut == CUT_ROWS ? m : n);
    g->part = (units + 1) / 2;
    run_range(gemm_body, g, units, g->part);
    return;
  }
  /*
   * With OpenBLAS's own threads, a product with a small m×n result and a long k (a
   * convolution's weight gradient: LeNet's first is 20×25 over 36,864 positions) ran
   * slower on two threads than on one: OpenBLAS splits m and n, so each thread packs all
   * of B for a sliver of C. Such products run on one thread. The choice depends on the
   * shape alone, so a given thread count still gives the same bits every time.
   */
  const bool one_thread = blas_threads > 1 && small_result_long_k(m, n, k);
  if (one_thread) openblas_set_num_threads(1);
#endif
  gemm_range(g, 0, (size_t)m);
#ifdef DLT_OPENBLAS
  if (one_thread) openblas_set_num_threads(blas_threads);
#endif
}

/* Reads a product kernel's `count` arguments, the first eight gemm's, into `argv` and `g`; throws and returns false when they are wrong. */
static bool read_gemm_call(napi_env env, napi_callback_info info, const char *name, size_t count, napi_value *argv, gemm_args *g) {
  size_t argc = count;
  char message[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_last(env);
    return false;
  }
  const char *problem = argc == count ? get_gemm_args(env, argv, g) : NULL;
  if (argc != count) snprintf(message, sizeof message, "%s: expected %zu arguments", name, count);
  else if (problem) snprintf(message, sizeof message, "%s: %s", name, problem);
  else return true;
  throw_range(env, message);
  return false;
}

/* An epilogue's array: of C's element type, at least `length` long, into `data`; throws and returns false when it is not. */
static bool get_epilogue_array(napi_env env, napi_value value, const gemm_args *g, size_t length, const char *what, const void **data) {
  float_array arr;
  char message[160];
  if (!get_float_array(env, value, &arr) || (arr.type == napi_float32_array) != g->f32)
    snprintf(message, sizeof message, "%s must be an array of C's element type", what);
  else if (arr.length < length)
    snprintf(message, sizeof message, "%s has fewer than %zu entries", what, length);
  else {
    *data = arr.data;
    return true;
  }
  throw_range(env, message);
  return false;
}

/*
 * gemm(transA, transB, m, n, k, a, b, c, accumulate)
 * C[m×n] = op(A)·op(B) (+ C when accumulate); row-major, contiguous, the same contract
 * as the JavaScript kernel. All three arrays must share one element type.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  gemm_args g;
  if (!read_gemm_call(env, info, "gemm", 9, argv, &g)) return NULL;
  CHECK(napi_get_value_bool(env, argv[8], &g.accumulate));
  run_gemm(&g);
  return NULL;
}

/*
 * gemmBias(transA, transB, m, n, k, a, b, c, bias, relu)
 * C = op(A)·op(B) + bias on every row, then max(C, 0) when relu: gemm, addBias and relu
 * in turn, with the same values (src/tensor/gemmEpilogues.ts).
 */
static napi_value gemm_bias(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  gemm_args g;
  if (!read_gemm_call(env, info, "gemmBias", 10, argv, &g)) return NULL;
  if (!get_epilogue_array(env, argv[8], &g, (size_t)g.n, "gemmBias: bias", &g.then.bias)) return NULL;
  CHECK(napi_get_value_bool(env, argv[9], &g.then.relu));
  run_gemm(&g);
  return NULL;
}

/*
 * gemmReluGrad(transA, transB, m, n, k, a, b, c, y)
 * C = op(A)·op(B) where y > 0, else 0: gemm, then reluGrad(y, C, C), with the same values
 * (src/tensor/gemmEpilogues.ts). y is [m×n]: the output of the ReLU whose gradient C is.
 */
static napi_value gemm_relu_grad(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  gemm_args g;
  if (!read_gemm_call(env, info, "gemmReluGrad", 9, argv, &g)) return NULL;
  if (!get_epilogue_array(env, argv[8], &g, (size_t)g.m * (size_t)g.n, "gemmReluGrad: y", &g.then.y)) return NULL;
  run_gemm(&g);
  return NULL;
}

static bool get_double(napi_env env, napi_value value, double *out) {
  return napi_get_value_double(env, value, out) == napi_ok;
}

/*
 * Reads `count` float arrays of one element type, each at least as long as the first,
 * into `arrays`. Returns an error message, or NULL when they are fine.
 */
static const char *get_parallel_arrays(napi_env env, napi_value *argv, size_t count, float_array *arrays) {
  for (size_t i = 0; i < count; i++) {
    if (!get_float_array(env, argv[i], &arrays[i])) return "expected Float32Array or Float64Array arguments";
    if (arrays[i].type != arrays[0].type) return "all arrays must have the same element type";
    if (arrays[i].length < arrays[0].length) return "an array is shorter than the parameter";
  }
  return NULL;
}

/*
 * The loops share their work with a second thread (work_pool.h) in chunks of about this
 * many elements: enough that handing one out costs little, few enough per call (the
 * MLP's first weight matrix makes 13) that both threads stay busy.
 */
#define ELEMENT_CHUNK 16384

/* Units per chunk when a unit is `unit_size` elements: about `elements`, at least one. */
static size_t chunk_of(size_t elements, size_t unit_size) { return unit_size == 0 || unit_size >= elements ? 1 : elements / unit_size; }

/*
 * The arguments of an elementwise kernel: its arrays in order (offset by the chunk's
 * start), its scalars and its flag. The *_body functions run a kernel over a chunk.
 */
typedef struct {
  bool f32;
  void *p[4];
  double s[5];
  bool flag;
} elementwise_args;

#define AT(T, a, i, lo) ((T *)(a)->p[i] + (lo))

/*
 * The optimisers' elementwise updates. The arithmetic is JavaScript's, step for step,
 * in doubles, so the native and JavaScript backends produce the same bits; see
 * src/tensor/elementwise.ts.
 */
#define DEFINE_SGD_MOMENTUM(T)                                                                        \
  HOT static void sgd_momentum_##T(T *w, const T *g, T *v, size_t n, double lr, double momentum, bool nesterov) { \
    if (nesterov) {                                                                                   \
      for (size_t i = 0; i < n; i++) {                                                                \
        const double step = lr * (double)g[i];                                                        \
        const double vi = momentum * (double)v[i] + step;                                             \
        v[i] = (T)vi;                                                                                 \
        w[i] = (T)((double)w[i] - (momentum * vi + step));                                            \
      }                                                                                               \
    } else {                                                                                          \
      for (size_t i = 0; i < n; i++) {                                                                \
        const double vi = momentum * (double)v[i] + lr * (double)g[i];                                \
        v[i] = (T)vi;                                                                                 \
        w[i] = (T)((double)w[i] - vi);                                                                \
      }                                                                                               \
    }                                                                                                 \
  }
FOR_BOTH_TYPES(DEFINE_SGD_MOMENTUM)

static void sgd_momentum_body(const void *args, size_t lo, size_t hi) {
  const elementwise_args *a = args;
  if (a->f32) sgd_momentum_float(AT(float, a, 0, lo), AT(float, a, 1, lo), AT(float, a, 2, lo), hi - lo, a->s[0], a->s[1], a->flag);
  else sgd_momentum_double(AT(double, a, 0, lo), AT(double, a, 1, lo), AT(double, a, 2, lo), hi - lo, a->s[0], a->s[1], a->flag);
}

/*
 * The optimisers update all their parameters in one call, as lists with one entry per
 * parameter (w, g and the state slots). One job covers them all, so the helper thread is
 * woken once per step rather than once per tensor: two units, each half of every
 * parameter (tensor_halves_body), or for fewer than two chunks' worth of elements, the
 * parameters laid end to end in chunks (tensor_list_body).
 */
typedef struct {
  bool f32;
  size_t count;        /* parameters */
  void *(*data)[4];    /* data[i][j]: parameter i's j-th array */
  size_t *start;       /* start[i]: parameter i's first index in the joined range; start[count] the total */
  double s[5];
  bool flag;
  range_body each;     /* the single-tensor body, run on each parameter's piece of a chunk */
} tensor_list_args;

/* Parameter i's arrays and the job's scalars, as a single-tensor body takes them. */
static elementwise_args tensor_args(const tensor_list_args *a, size_t i) {
  return (elementwise_args){a->f32, {a->data[i][0], a->data[i][1], a->data[i][2], a->data[i][3]}, {a->s[0], a->s[1], a->s[2], a->s[3], a->s[4]}, a->flag};
}

static void tensor_list_body(const void *args, size_t lo, size_t hi) {
  const tensor_list_args *a = args;
  for (size_t i = 0; i < a->count; i++) {
    if (a->start[i + 1] <= lo) continue;
    if (a->start[i] >= hi) break;
    const elementwise_args one = tensor_args(a, i);
    const size_t from = lo > a->start[i] ? lo - a->start[i] : 0;
    const size_t to = (hi < a->start[i + 1] ? hi : a->start[i + 1]) - a->start[i];
    a->each(&one, from, to);
  }
}

/*
 * Unit 0: the first half of every parameter; unit 1: the second half. On two threads the
 * caller takes the first half and the helper, usually, the second: the halves of the
 * weights and their gradients that each one's part of the products read and wrote (a
 * dense layer's weight gradient is cut by rows, its forward product by columns: the same
 * halves of memory), so fewer cache lines move between the cores. The reference MLP, one
 * epoch, seven alternations against end-to-end chunks: 0.3% to 10% faster in each.
 */
static void tensor_halves_body(const void *args, size_t lo, size_t hi) {
  const tensor_list_args *a = args;
  for (size_t u = lo; u < hi; u++)
    for (size_t i = 0; i < a->count; i++) {
      const elementwise_args one = tensor_args(a, i);
      const size_t n = a->start[i + 1] - a->start[i], half = (n + 1) / 2;
      if (u == 0) a->each(&one, 0, half);
      else a->each(&one, half, n);
    }
}

/*
 * Reads `arrays` lists of float arrays of equal length (one entry per parameter) into
 * `a`, allocating its tables; every array of a parameter must be at least as long as its
 * first, and all must share one element type. Returns an error message, or NULL.
 */
static const char *get_tensor_lists(napi_env env, napi_value *lists, size_t arrays, tensor_list_args *a) {
  uint32_t count = 0;
  for (size_t j = 0; j < arrays; j++) {
    bool is_array = false;
    uint32_t length;
    if (napi_is_array(env, lists[j], &is_array) != napi_ok || !is_array || napi_get_array_length(env, lists[j], &length) != napi_ok)
      return "expected arrays of Float32Array or Float64Array, one entry per parameter";
    if (j == 0) count = length;
    else if (length != count) return "the lists must have one entry per parameter each";
  }
  a->count = count;
  a->data = malloc((count ? count : 1) * sizeof *a->data);
  a->start = malloc((count + 1) * sizeof *a->start);
  if (!a->data || !a->start) return "out of memory";
  a->start[0] = 0;
  for (uint32_t i = 0; i < count; i++) {
    float_array first = {0};
    for (size_t j = 0; j < arrays; j++) {
      napi_value element;
      float_array arr;
      if (napi_get_element(env, lists[j], i, &element) != napi_ok || !get_float_array(env, element, &arr))
        return "expected arrays of Float32Array or Float64Array, one entry per parameter";
      if (j == 0) first = arr;
      if (i == 0 && j == 0) a->f32 = arr.type == napi_float32_array;
      if (arr.type != (a->f32 ? napi_float32_array : napi_float64_array)) return "all arrays must have the same element type";
      if (arr.length < first.length) return "an array is shorter than the parameter";
      a->data[i][j] = arr.data;
    }
    for (size_t j = arrays; j < 4; j++) a->data[i][j] = NULL;
    a->start[i + 1] = a->start[i] + first.length;
  }
  return NULL;
}

/* Runs a tensor-list job over lists argv[0 .. arrays), or throws what is wrong with them. */
static napi_value run_tensor_lists(napi_env env, napi_value *argv, size_t arrays, tensor_list_args *a, const char *name) {
  const char *problem = get_tensor_lists(env, argv, arrays, a);
  if (!problem) {
    if (a->start[a->count] >= 2 * ELEMENT_CHUNK) run_range(tensor_halves_body, a, 2, 1);
    else run_range(tensor_list_body, a, a->start[a->count], ELEMENT_CHUNK);
  }
  free(a->data);
  free(a->start);
  if (!problem) return NULL;
  char message[160];
  snprintf(message, sizeof message, "%s: %s", name, problem);
  return throw_range(env, message);
}

/* sgdMomentumSteps(ws, gs, vs, lr, momentum, nesterov): sgdMomentumStep on every parameter. */
static napi_value sgd_momentum_steps(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6) return throw_range(env, "sgdMomentumSteps: expected 6 arguments");
  double lr, momentum;
  bool nesterov;
  if (!get_double(env, argv[3], &lr) || !get_double(env, argv[4], &momentum)) return throw_range(env, "sgdMomentumSteps: lr and momentum must be numbers");
  CHECK(napi_get_value_bool(env, argv[5], &nesterov));
  tensor_list_args a = {.s = {lr, momentum, 0, 0, 0}, .flag = nesterov, .each = sgd_momentum_body};
  return run_tensor_lists(env, argv, 3, &a, "sgdMomentumSteps");
}

#define DEFINE_ADAM(T)                                                                                \
  HOT static void adam_##T(T *w, const T *g, T *m, T *v, size_t n, double step_size, double beta1, double beta2, \
                           double sqrt_correction2, double eps) {                                     \
    for (size_t i = 0; i < n; i++) {                                                                  \
      const double gi = (double)g[i];                                                                 \
      const double mi = beta1 * (double)m[i] + (1 - beta1) * gi;                                      \
      const double vi = beta2 * (double)v[i] + (1 - beta2) * (gi * gi);                               \
      m[i] = (T)mi;                                                                                   \
      v[i] = (T)vi;                                                                                   \
      w[i] = (T)((double)w[i] - (step_size * mi) / (sqrt(vi) / sqrt_correction2 + eps));              \
    }                                                                                                 \
  }
FOR_BOTH_TYPES(DEFINE_ADAM)

static void adam_body(const void *args, size_t lo, size_t hi) {
  const elementwise_args *a = args;
  if (a->f32) adam_float(AT(float, a, 0, lo), AT(float, a, 1, lo), AT(float, a, 2, lo), AT(float, a, 3, lo), hi - lo, a->s[0], a->s[1], a->s[2], a->s[3], a->s[4]);
  else adam_double(AT(double, a, 0, lo), AT(double, a, 1, lo), AT(double, a, 2, lo), AT(double, a, 3, lo), hi - lo, a->s[0], a->s[1], a->s[2], a->s[3], a->s[4]);
}

/* adamSteps(ws, gs, ms, vs, stepSize, beta1, beta2, sqrtCorrection2, eps): adamStep on every parameter. */
static napi_value adam_steps(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) return throw_range(env, "adamSteps: expected 9 arguments");
  double step_size, beta1, beta2, sqrt_correction2, eps;
  if (!get_double(env, argv[4], &step_size) || !get_double(env, argv[5], &beta1) || !get_double(env, argv[6], &beta2) ||
      !get_double(env, argv[7], &sqrt_correction2) || !get_double(env, argv[8], &eps))
    return throw_range(env, "adamSteps: the hyperparameters must be numbers");
  tensor_list_args a = {.s = {step_size, beta1, beta2, sqrt_correction2, eps}, .each = adam_body};
  return run_tensor_lists(env, argv, 4, &a, "adamSteps");
}

/* Reads `count` non-negative integers below 2^31 from argv. */
static bool get_dims(napi_env env, napi_value *argv, size_t count, int64_t *out) {
  for (size_t i = 0; i < count; i++) {
    if (!get_int(env, argv[i], &out[i]) || out[i] < 0 || out[i] > INT32_MAX) return false;
  }
  return true;
}

/* A typed array of element type `want`: its data pointer and length. */
static bool get_typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok) return false;
  return type == want;
}

static bool get_int32_array(napi_env env, napi_value value, int32_t **data, size_t *length) {
  void *raw;
  if (!get_typed_array(env, value, napi_int32_array, &raw, length)) return false;
  *data = raw;
  return true;
}

/* weightDecayGrad(w, g, twoL2, l1): g += 2·l2·w + l1·sign(w), as elementwise.ts. */
#define DEFINE_WEIGHT_DECAY(T)                                                               \
  HOT static void weight_decay_##T(const T *w, T *g, size_t n, double two_l2, double l1) {   \
    for (size_t i = 0; i < n; i++) {                                                         \
      const double v = (double)w[i];                                                         \
      g[i] = (T)((double)g[i] + (two_l2 * v + (v > 0 ? l1 : v < 0 ? -l1 : 0)));              \
    }                                                                                        \
  }
FOR_BOTH_TYPES(DEFINE_WEIGHT_DECAY)

static void weight_decay_body(const void *args, size_t lo, size_t hi) {
  const elementwise_args *a = args;
  if (a->f32) weight_decay_float(AT(float, a, 0, lo), AT(float, a, 1, lo), hi - lo, a->s[0], a->s[1]);
  else weight_decay_double(AT(double, a, 0, lo), AT(double, a, 1, lo), hi - lo, a->s[0], a->s[1]);
}

static napi_value weight_decay_grad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) return throw_range(env, "weightDecayGrad: expected 4 arguments");
  float_array arr[2];
  const char *problem = get_parallel_arrays(env, argv, 2, arr);
  if (problem) return throw_range(env, problem);
  double two_l2, l1;
  if (!get_double(env, argv[2], &two_l2) || !get_double(env, argv[3], &l1)) return throw_range(env, "weightDecayGrad: twoL2 and l1 must be numbers");
  const elementwise_args a = {arr[0].type == napi_float32_array, {arr[0].data, arr[1].data, NULL, NULL}, {two_l2, l1, 0, 0, 0}, false};
  run_range(weight_decay_body, &a, arr[0].length, ELEMENT_CHUNK);
  return NULL;
}

/*
 * relu(x, y, count) and reluGrad(y, dy, dx, count), as elementwise.ts. Written as
 * selects of values already loaded, which the compiler turns into vector compares and
 * masks: a branch on the sign of each activation is mispredicted half the time.
 */
#define DEFINE_RELU(T)                                                                 \
  HOT static void relu_##T(const T *x, T *y, size_t count) {                            \
    for (size_t i = 0; i < count; i++) {                                                \
      const T v = x[i];                                                                 \
      y[i] = v > 0 ? v : (T)0;                                                          \
    }                                                                                   \
  }                                                                                     \
  HOT static void relu_grad_##T(const T *y, const T *dy, T *dx, size_t count) {         \
    for (size_t i = 0; i < count; i++) {                                                \
      const T g = dy[i]; /* loaded whatever y says, so that the loop has no branch */   \
      dx[i] = y[i] > 0 ? g : (T)0;                                                      \
    }                                                                                   \
  }
FOR_BOTH_TYPES(DEFINE_RELU)

static void relu_body(const void *args, size_t lo, size_t hi) {
  const elementwise_args *a = args;
  if (a->f32) relu_float(AT(float, a, 0, lo), AT(float, a, 1, lo), hi - lo);
  else relu_double(AT(double, a, 0, lo), AT(double, a, 1, lo), hi - lo);
}

static void relu_grad_body(const void *args, size_t lo, size_t hi) {
  const elementwise_args *a = args;
  if (a->f32) relu_grad_float(AT(float, a, 0, lo), AT(float, a, 1, lo), AT(float, a, 2, lo), hi - lo);
  else relu_grad_double(AT(double, a, 0, lo), AT(double, a, 1, lo), AT(double, a, 2, lo), hi - lo);
}

/* Reads `arrays` float arrays of one element type, then a count no larger than any of them. */
static const char *get_counted_arrays(napi_env env, napi_value *argv, size_t arrays, float_array *arr, size_t *count) {
  for (size_t i = 0; i < arrays; i++) {
    if (!get_float_array(env, argv[i], &arr[i])) return "expected Float32Array or Float64Array arguments";
    if (arr[i].type != arr[0].type) return "all arrays must have the same element type";
  }
  int64_t c;
  if (!get_int(env, argv[arrays], &c) || c < 0) return "count must be a non-negative integer";
  for (size_t i = 0; i < arrays; i++)
    if ((uint64_t)arr[i].length < (uint64_t)c) return "an array is shorter than count";
  *count = (size_t)c;
  return NULL;
}

/* relu(x, y, count) reads one array and writes one; reluGrad(y, dy, dx, count) reads two. */
static napi_value relu_pass(napi_env env, napi_callback_info info, bool grad) {
  const size_t arrays = grad ? 3 : 2;
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != arrays + 1) return throw_range(env, grad ? "reluGrad: expected (y, dy, dx, count)" : "relu: expected (x, y, count)");
  float_array arr[3];
  size_t count;
  const char *problem = get_counted_arrays(env, argv, arrays, arr, &count);
  if (problem) return throw_range(env, problem);
  const elementwise_args a = {arr[0].type == napi_float32_array, {arr[0].data, arr[1].data, grad ? arr[2].data : NULL, NULL}, {0}, false};
  run_range(grad ? relu_grad_body : relu_body, &a, count, ELEMENT_CHUNK);
  return NULL;
}

static napi_value relu(napi_env env, napi_callback_info info) { return relu_pass(env, info, false); }
static napi_value relu_grad(napi_env env, napi_callback_info info) { return relu_pass(env, info, true); }

/*
 * addBias(y, b, n, width): y[i·width + j] += b[j]; biasGrad(db, dy, n, width):
 * db[j] += dy[i·width + j] for i = 0 … n−1 in that order. As elementwise.ts: each sum
 * in doubles, rounded to the arrays' type.
 */
#define DEFINE_ROW_BIAS(T)                                                               \
  HOT static void add_bias_##T(T *y, const T *b, size_t n, size_t width) {               \
    for (size_t i = 0; i < n; i++) {                                                     \
      T *row = y + i * width;                                                            \
      for (size_t j = 0; j < width; j++) row[j] = (T)((double)row[j] + (double)b[j]);     \
    }                                                                                    \
  }                                                                                      \
  HOT static void bias_grad_##T(T *db, const T *dy, size_t n, size_t width) {            \
    for (size_t i = 0; i < n; i++) {                                                     \
      const T *row = dy + i * width;                                                     \
      for (size_t j = 0; j < width; j++) db[j] = (T)((double)db[j] + (double)row[j]);     \
    }                                                                                    \
  }
FOR_BOTH_TYPES(DEFINE_ROW_BIAS)

/*
 * A product's epilogue (gemm_epilogue), row by row over a block of C whose rows are n
 * long, with the kernels addBias, relu and reluGrad run on each row's stretch.
 */
#define DEFINE_EPILOGUE(T)                                                                                      \
  static void epilogue_##T(T *c, size_t n, size_t r0, size_t r1, size_t c0, size_t c1, const gemm_epilogue *e) { \
    for (size_t i = r0; i < r1; i++) {                                                                          \
      T *row = c + i * n + c0;                                                                                  \
      if (e->bias) add_bias_##T(row, (const T *)e->bias + c0, 1, c1 - c0);                                      \
      if (e->relu) relu_##T(row, row, c1 - c0);                                                                 \
      if (e->y) relu_grad_##T((const T *)e->y + i * n + c0, row, row, c1 - c0);                                 \
    }                                                                                                           \
  }
FOR_BOTH_TYPES(DEFINE_EPILOGUE)

static void epilogue(const gemm_args *g, size_t r0, size_t r1, size_t c0, size_t c1) {
  const gemm_epilogue *e = &g->then;
  if (!e->bias && !e->relu && !e->y) return;
  if (g->f32) epilogue_float(g->c, (size_t)g->n, r0, r1, c0, c1, e);
  else epilogue_double(g->c, (size_t)g->n, r0, r1, c0, c1, e);
}

/* addBias(y, b, n, width) and biasGrad(db, dy, n, width): the matrix is the second array. */
static napi_value row_bias(napi_env env, napi_callback_info info, bool grad) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float_array arr[2];
  int64_t d[2];
  if (argc != 4 || !get_float_array(env, argv[0], &arr[0]) || !get_float_array(env, argv[1], &arr[1]) || !get_dims(env, argv + 2, 2, d))
    return throw_range(env, grad ? "biasGrad: expected (db, dy, n, width)" : "addBias: expected (y, b, n, width)");
  if (arr[0].type != arr[1].type) return throw_range(env, "addBias/biasGrad: both arrays must have the same element type");
  const size_t n = (size_t)d[0], width = (size_t)d[1];
  const float_array *matrix = grad ? &arr[1] : &arr[0], *vector = grad ? &arr[0] : &arr[1];
  if (matrix->length < n * width || vector->length < width) return throw_range(env, "addBias/biasGrad: an array is shorter than its shape");
  const bool f32 = arr[0].type == napi_float32_array;
  if (grad && f32) bias_grad_float(arr[0].data, arr[1].data, n, width);
  else if (grad) bias_grad_double(arr[0].data, arr[1].data, n, width);
  else if (f32) add_bias_float(arr[0].data, arr[1].data, n, width);
  else add_bias_double(arr[0].data, arr[1].data, n, width);
  return NULL;
}

static napi_value add_bias(napi_env env, napi_callback_info info) { return row_bias(env, info, false); }
static napi_value bias_grad(napi_env env, napi_callback_info info) { return row_bias(env, info, true); }

/*
 * gatherBytes(dst, src, rows, n, features, table): row k of dst is row rows[k] of the
 * byte matrix src, each byte b replaced by table[b] (doubles, rounded to dst's type
 * as a JavaScript store rounds them).
 */
/*
 * The rows of a shuffled batch are scattered over the whole training set, so each one
 * is a fresh walk through memory: asking for the rows a few places ahead overlaps
 * those waits with the work on the current row.
 */
#define PREFETCH_ROWS 4
static void prefetch_row(const uint8_t *row, size_t length) {
#if defined(__GNUC__)
  for (size_t offset = 0; offset < length; offset += 64) __builtin_prefetch(row + offset, 0, 0);
#else
  (void)row, (void)length;
#endif
}

#define DEFINE_GATHER(T)                                                                      \
  static void gather_##T(T *out, const uint8_t *bytes, const int32_t *rows, size_t n, size_t features, \
                         const double *table) {                                                     \
    T mapped[256]; /* the table rounded once to T: the same values as rounding each element */     \
    for (int b = 0; b < 256; b++) mapped[b] = (T)table[b];                                          \
    for (size_t k = 0; k < n; k++) {                                                                \
      if (k + PREFETCH_ROWS < n) prefetch_row(bytes + (size_t)rows[k + PREFETCH_ROWS] * features, features); \
      const uint8_t *from = bytes + (size_t)rows[k] * features;                                     \
      T *to = out + k * features;                                                                   \
      for (size_t f = 0; f < features; f++) to[f] = mapped[from[f]];                                \
    }                                                                                               \
  }
FOR_BOTH_TYPES(DEFINE_GATHER)

typedef struct {
  bool f32;
  void *out;
  const uint8_t *bytes;
  const int32_t *rows;
  size_t features;
  const double *table;
} gather_args;

/* The batch rows [lo, hi). */
static void gather_body(const void *args, size_t lo, size_t hi) {
  const gather_args *a = args;
  if (a->f32) gather_float((float *)a->out + lo * a->features, a->bytes, a->rows + lo, hi - lo, a->features, a->table);
  else gather_double((double *)a->out + lo * a->features, a->bytes, a->rows + lo, hi - lo, a->features, a->table);
}

static napi_value gather_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6) return throw_range(env, "gatherBytes: expected 6 arguments");
  float_array dst;
  if (!get_float_array(env, argv[0], &dst)) return throw_range(env, "gatherBytes: dst must be a Float32Array or Float64Array");
  size_t src_length, table_length, rows_length;
  void *raw;
  if (!get_typed_array(env, argv[1], napi_uint8_array, &raw, &src_length)) return throw_range(env, "gatherBytes: src must be a Uint8Array");
  const uint8_t *bytes = raw;
  int32_t *rows;
  if (!get_int32_array(env, argv[2], &rows, &rows_length)) return throw_range(env, "gatherBytes: rows must be an Int32Array");
  int64_t d[2];
  if (!get_dims(env, argv + 3, 2, d)) return throw_range(env, "gatherBytes: n and features must be integers between 0 and 2^31-1");
  const size_t n = (size_t)d[0], features = (size_t)d[1];
  if (!get_typed_array(env, argv[5], napi_float64_array, &raw, &table_length)) return throw_range(env, "gatherBytes: table must be a Float64Array");
  const double *table = raw;
  if (table_length < 256) return throw_range(env, "gatherBytes: table must have 256 entries");
  if (rows_length < n || dst.length < n * features) return throw_range(env, "gatherBytes: rows or dst is shorter than n rows");
  for (size_t k = 0; k < n; k++) {
    if (rows[k] < 0 || ((uint64_t)rows[k] + 1) * features > src_length) return throw_range(env, "gatherBytes: a row index is outside src");
  }
  const gather_args a = {dst.type == napi_float32_array, dst.data, bytes, rows, features, table};
  run_range(gather_body, &a, n, chunk_of(ELEMENT_CHUNK, features));
  return NULL;
}

/*
 * im2col(cols, x, n, C, H, W, k, s, p, outH, outW) and col2im(dx, dcols, ...), as
 * src/tensor/spatial.ts: the same values, and col2im's sums in the same order. Instead
 * of testing every column against the padding, the columns [lo, hi) whose input is
 * inside the image are worked out once per kernel offset j.
 */
static void valid_columns(int64_t W, int64_t s, int64_t p, int64_t j, int64_t outW, int64_t *lo, int64_t *hi) {
  /* ix = ox·s − p + j lies in [0, W) for ox in [lo, hi). */
  *lo = p - j > 0 ? (p - j + s - 1) / s : 0;
  *hi = W - 1 + p - j >= 0 ? (W - 1 + p - j) / s + 1 : 0;
  if (*hi > outW) *hi = outW;
  if (*lo > outW) *lo = outW;
  if (*hi < *lo) *hi = *lo;
}

/* The shape of an im2col or col2im, and its two arrays. */
typedef struct {
  bool f32;
  void *out;
  const void *in;
  int64_t n, C, H, W, k, s, p, outH, outW;
} unroll_args;

/* im2col over the rows [r0, r1) of cols, a row being one (c, i, j). */
#define DEFINE_IM2COL(T)                                                                         \
  HOT static void im2col_##T(const unroll_args *a, int64_t r0, int64_t r1) {                         \
    const int64_t n = a->n, C = a->C, H = a->H, W = a->W, k = a->k, s = a->s, p = a->p;          \
    const int64_t outH = a->outH, outW = a->outW, P = outH * outW;                               \
    T *cols = a->out;                                                                            \
    const T *x = a->in;                                                                          \
    for (int64_t r = r0; r < r1; r++) {                                                          \
      const int64_t c = r / (k * k), i = r / k % k, j = r % k;                                   \
      int64_t lo, hi;                                                                            \
      valid_columns(W, s, p, j, outW, &lo, &hi);                                                 \
      for (int64_t sample = 0; sample < n; sample++) {                                           \
        const T *plane = x + (sample * C + c) * H * W;                                           \
        T *dst = cols + r * n * P + sample * P;                                                  \
        for (int64_t oy = 0; oy < outH; oy++, dst += outW) {                                     \
          const int64_t iy = oy * s - p + i;                                                     \
          if (iy < 0 || iy >= H) {                                                               \
            memset(dst, 0, (size_t)outW * sizeof(T));                                            \
            continue;                                                                            \
          }                                                                                      \
          const int64_t line = iy * W - p + j; /* + ox·s, for ox in [lo, hi) */                  \
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;                                       \
          if (s == 1) memcpy(dst + lo, plane + line + lo, (size_t)(hi - lo) * sizeof(T));        \
          else for (int64_t ox = lo; ox < hi; ox++) dst[ox] = plane[line + ox * s];              \
          for (int64_t ox = hi; ox < outW; ox++) dst[ox] = 0;                                    \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }
FOR_BOTH_TYPES(DEFINE_IM2COL)

/*
 * col2im over the channels [c0, c1): each channel's planes of dx are zeroed and then
 * receive the sums of its own rows of dcols, in the JavaScript kernel's order (channels
 * never share an element of dx). It adds in T: a float sum of two floats is the double
 * sum rounded to float (a double holds more than twice a float's digits, so rounding
 * twice changes nothing), as JavaScript's Float32Array computes it.
 */
#define DEFINE_COL2IM(T)                                                                         \
  HOT static void col2im_##T(const unroll_args *a, int64_t c0, int64_t c1) {                         \
    const int64_t n = a->n, C = a->C, H = a->H, W = a->W, k = a->k, s = a->s, p = a->p;          \
    const int64_t outH = a->outH, outW = a->outW, P = outH * outW;                               \
    T *dx = a->out;                                                                              \
    const T *dcols = a->in;                                                                      \
    for (int64_t c = c0; c < c1; c++) {                                                          \
      for (int64_t sample = 0; sample < n; sample++) memset(dx + (sample * C + c) * H * W, 0, (size_t)(H * W) * sizeof(T)); \
      for (int64_t i = 0; i < k; i++)                                                            \
        for (int64_t j = 0; j < k; j++) {                                                        \
          const int64_t row = ((c * k + i) * k + j) * n * P;                                     \
          int64_t lo, hi;                                                                        \
          valid_columns(W, s, p, j, outW, &lo, &hi);                                             \
          for (int64_t sample = 0; sample < n; sample++) {                                       \
            T *plane = dx + (sample * C + c) * H * W;                                            \
            const T *src = dcols + row + sample * P;                                             \
            for (int64_t oy = 0; oy < outH; oy++, src += outW) {                                 \
              const int64_t iy = oy * s - p + i;                                                 \
              if (iy < 0 || iy >= H) continue;                                                   \
              const int64_t line = iy * W - p + j; /* + ox·s, for ox in [lo, hi) */              \
              if (s == 1) {                                                                      \
                T *d = plane + line;                                                             \
                for (int64_t ox = lo; ox < hi; ox++) d[ox] += src[ox];                           \
              } else {                                                                           \
                for (int64_t ox = lo; ox < hi; ox++) plane[line + ox * s] += src[ox];            \
              }                                                                                  \
            }                                                                                    \
          }                                                                                      \
        }                                                                                        \
    }                                                                                            \
  }
FOR_BOTH_TYPES(DEFINE_COL2IM)

/* NAME_body, a run_range body: NAME_float or NAME_double over units [lo, hi), as the arguments say. */
#define DEFINE_RANGE_BODY(NAME, ARGS)                                \
  static void NAME##_body(const void *args, size_t lo, size_t hi) { \
    const ARGS *a = args;                                            \
    if (a->f32) NAME##_float(a, (int64_t)lo, (int64_t)hi);           \
    else NAME##_double(a, (int64_t)lo, (int64_t)hi);                 \
  }
DEFINE_RANGE_BODY(im2col, unroll_args)
DEFINE_RANGE_BODY(col2im, unroll_args)

static napi_value unroll(napi_env env, napi_callback_info info, bool adjoint) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float_array arr[2];
  int64_t d[9];
  if (argc != 11 || !get_float_array(env, argv[0], &arr[0]) || !get_float_array(env, argv[1], &arr[1]) || !get_dims(env, argv + 2, 9, d))
    return throw_range(env, adjoint ? "col2im: expected (dx, dcols, n, C, H, W, k, s, p, outH, outW)" : "im2col: expected (cols, x, n, C, H, W, k, s, p, outH, outW)");
  const int64_t n = d[0], C = d[1], H = d[2], W = d[3], k = d[4], P = d[7] * d[8];
  if (arr[0].type != arr[1].type) return throw_range(env, "im2col/col2im: both arrays must have the same element type");
  const size_t image = (size_t)(n * C * H * W), unrolled = (size_t)(C * k * k * n * P);
  if (arr[adjoint ? 0 : 1].length < image || arr[adjoint ? 1 : 0].length < unrolled)
    return throw_range(env, "im2col/col2im: an array is shorter than its shape");
  const unroll_args a = {arr[0].type == napi_float32_array, arr[0].data, arr[1].data, n, C, H, W, k, d[5], d[6], d[7], d[8]};
  /* a unit is a row of cols (im2col) or a channel of dx (col2im) */
  if (adjoint) run_range(col2im_body, &a, (size_t)C, chunk_of(ELEMENT_CHUNK, (size_t)(k * k * n * P)));
  else run_range(im2col_body, &a, (size_t)(C * k * k), chunk_of(ELEMENT_CHUNK, (size_t)(n * P)));
  return NULL;
}

static napi_value im2col(napi_env env, napi_callback_info info) { return unroll(env, info, false); }
static napi_value col2im(napi_env env, napi_callback_info info) { return unroll(env, info, true); }

/*
 * addBiasSampleMajor(y, wm, b, F, n, P): y (n, F, P) ← wm (F, n·P) + b[f].
 * filterMajorBiasGrad(dY, dy, db, F, n, P): dY (F, n·P) ← dy (n, F, P); db[f] += Σ.
 * Both over the filters [f0, f1); each filter's sum is one thread's, in order.
 */
typedef struct {
  bool f32;
  void *out;
  const void *in;
  void *bias;
  int64_t F, n, P;
} conv_bias_args;

#define DEFINE_CONV_BIAS(T)                                                         \
  static void add_bias_sample_major_##T(const conv_bias_args *a, int64_t f0, int64_t f1) { \
    const int64_t F = a->F, n = a->n, P = a->P;                                     \
    T *y = a->out;                                                                  \
    const T *wm = a->in, *b = a->bias;                                              \
    for (int64_t f = f0; f < f1; f++) {                                             \
      const double bf = (double)b[f];                                               \
      for (int64_t i = 0; i < n; i++) {                                             \
        const T *src = wm + f * n * P + i * P;                                      \
        T *dst = y + (i * F + f) * P;                                               \
        for (int64_t q = 0; q < P; q++) dst[q] = (T)((double)src[q] + bf);          \
      }                                                                             \
    }                                                                               \
  }                                                                                 \
  static void filter_major_bias_grad_##T(const conv_bias_args *a, int64_t f0, int64_t f1) { \
    const int64_t F = a->F, n = a->n, P = a->P;                                     \
    T *dY = a->out, *db = a->bias;                                                  \
    const T *dy = a->in;                                                            \
    for (int64_t f = f0; f < f1; f++) {                                             \
      double sum = 0;                                                               \
      for (int64_t i = 0; i < n; i++) {                                             \
        const T *src = dy + (i * F + f) * P;                                        \
        T *dst = dY + f * n * P + i * P;                                            \
        for (int64_t q = 0; q < P; q++) {                                           \
          dst[q] = src[q];                                                          \
          sum += (double)src[q];                                                    \
        }                                                                           \
      }                                                                             \
      db[f] = (T)((double)db[f] + sum);                                             \
    }                                                                               \
  }
FOR_BOTH_TYPES(DEFINE_CONV_BIAS)

DEFINE_RANGE_BODY(add_bias_sample_major, conv_bias_args)
DEFINE_RANGE_BODY(filter_major_bias_grad, conv_bias_args)

static napi_value conv_bias(napi_env env, napi_callback_info info, bool backward) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float_array arr[3];
  int64_t d[3];
  if (argc != 6 || !get_float_array(env, argv[0], &arr[0]) || !get_float_array(env, argv[1], &arr[1]) ||
      !get_float_array(env, argv[2], &arr[2]) || !get_dims(env, argv + 3, 3, d))
    return throw_range(env, "addBiasSampleMajor/filterMajorBiasGrad: expected (out, in, bias, F, n, P)");
  const int64_t F = d[0], n = d[1], P = d[2];
  if (arr[0].type != arr[1].type || arr[0].type != arr[2].type) return throw_range(env, "addBiasSampleMajor/filterMajorBiasGrad: the arrays must have the same element type");
  if (arr[0].length < (size_t)(F * n * P) || arr[1].length < (size_t)(F * n * P) || arr[2].length < (size_t)F)
    return throw_range(env, "addBiasSampleMajor/filterMajorBiasGrad: an array is shorter than its shape");
  const conv_bias_args a = {arr[0].type == napi_float32_array, arr[0].data, arr[1].data, arr[2].data, F, n, P};
  run_range(backward ? filter_major_bias_grad_body : add_bias_sample_major_body, &a, (size_t)F, chunk_of(ELEMENT_CHUNK, (size_t)(n * P)));
  return NULL;
}

static napi_value add_bias_sample_major(napi_env env, napi_callback_info info) { return conv_bias(env, info, false); }
static napi_value filter_major_bias_grad(napi_env env, napi_callback_info info) { return conv_bias(env, info, true); }

/* Whether v replaces best in a max-pooling window: the JavaScript kernel's test (a NaN beats any number). */
#define POOL_BEATS(v, best) (((v) > (best)) | (((v) != (v)) & ((best) == (best))))

/*
 * 2×2 windows with stride 2 over rows of even width (LeNet's and fashion-cnn's pools) go
 * faster in two passes with long loops than in four passes over each short row of
 * outputs: first each pair of neighbours in a row, over many rows at once, then the two
 * rows' winners. The JavaScript kernel keeps the first of the window's values, in the
 * order (0,0), (0,1), (1,0), (1,1), that no later one beats, a NaN beating any number;
 * that test ranks the values, so taking the first best of each row's pair and then the
 * first best of the two picks the same value and index. POOL_PAIRS bounds the pairs
 * held between the passes (on the stack, with their indices).
 */
#define POOL_PAIRS 2048
#define DEFINE_MAX_POOL_2X2(T)                                                                     \
  HOT static void max_pool_2x2_##T(const T *x, T *y, int32_t *argmax, int64_t plane0, int64_t plane1, \
                                   int64_t H, int64_t W, int64_t outH, int64_t outW) {             \
    T pair_best[POOL_PAIRS];                                                                       \
    int32_t pair_at[POOL_PAIRS];                                                                   \
    const int64_t rows = POOL_PAIRS / (2 * outW); /* output rows per block, at least 1 */          \
    for (int64_t plane = plane0; plane < plane1; plane++)                                          \
      for (int64_t oy0 = 0; oy0 < outH; oy0 += rows) {                                             \
        const int64_t oy1 = oy0 + rows < outH ? oy0 + rows : outH;                                 \
        const int64_t start = (plane * H + 2 * oy0) * W, pairs = (oy1 - oy0) * W;                  \
        const T *in = x + start;                                                                   \
        for (int64_t t = 0; t < pairs; t++) {                                                      \
          const T left = in[2 * t], right = in[2 * t + 1];                                         \
          const int better = POOL_BEATS(right, left);                                                \
          pair_best[t] = better ? right : left;                                                    \
          pair_at[t] = (int32_t)(start + 2 * t + better);                                          \
        }                                                                                          \
        for (int64_t oy = oy0; oy < oy1; oy++) {                                                   \
          const T *upper = pair_best + 2 * (oy - oy0) * outW, *lower = upper + outW;                \
          const int32_t *upper_at = pair_at + 2 * (oy - oy0) * outW, *lower_at = upper_at + outW;   \
          T *best = y + (plane * outH + oy) * outW;                                                \
          int32_t *at = argmax + (plane * outH + oy) * outW;                                       \
          for (int64_t ox = 0; ox < outW; ox++) {                                                  \
            const int better = POOL_BEATS(lower[ox], upper[ox]);                                  \
            best[ox] = better ? lower[ox] : upper[ox];                                             \
            at[ox] = better ? lower_at[ox] : upper_at[ox];                                         \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
  }
FOR_BOTH_TYPES(DEFINE_MAX_POOL_2X2)

/*
 * maxPool(x, y, argmax, planes, H, W, size, stride, outH, outW), as spatial.ts: the first
 * maximum wins, a NaN wins. Each offset in the window is compared across a whole row
 * of outputs at once, with selects the compiler turns into vector compares and blends
 * (branches on random data mispredict half the time), except where max_pool_2x2 applies.
 */
#define DEFINE_MAX_POOL(T)                                                                         \
  /* One offset of the window across a row of outputs; inlined with constant strides. */           \
  static inline __attribute__((always_inline)) void max_pool_row_##T(const T *x, T *best, int32_t *at, \
                                                                      int64_t line, int64_t stride, int64_t outW) { \
    for (int64_t ox = 0; ox < outW; ox++) {                                                        \
      const T v = x[line + ox * stride], b = best[ox];                                             \
      const int better = POOL_BEATS(v, b);                                                          \
      best[ox] = better ? v : b;                                                                   \
      at[ox] = better ? (int32_t)(line + ox * stride) : at[ox];                                    \
    }                                                                                              \
  }                                                                                                \
  HOT static void max_pool_##T(const T *x, T *y, int32_t *argmax, int64_t plane0, int64_t plane1, int64_t H, \
                               int64_t W, int64_t size, int64_t stride, int64_t outH, int64_t outW) { \
    if (size == 2 && stride == 2 && W == 2 * outW && 2 * outW <= POOL_PAIRS) {                     \
      max_pool_2x2_##T(x, y, argmax, plane0, plane1, H, W, outH, outW);                            \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t plane = plane0; plane < plane1; plane++)                                          \
      for (int64_t oy = 0; oy < outH; oy++) {                                                      \
        T *best = y + (plane * outH + oy) * outW;                                                  \
        int32_t *at = argmax + (plane * outH + oy) * outW;                                         \
        const int64_t top = (plane * H + oy * stride) * W;                                         \
        for (int64_t ox = 0; ox < outW; ox++) {                                                    \
          best[ox] = x[top + ox * stride];                                                         \
          at[ox] = (int32_t)(top + ox * stride);                                                   \
        }                                                                                          \
        for (int64_t i = 0; i < size; i++)                                                         \
          for (int64_t j = 0; j < size; j++) {                                                     \
            const int64_t line = top + i * W + j;                                                  \
            /* the compiler vectorises strided loads only when it knows the stride */              \
            if (stride == 2) max_pool_row_##T(x, best, at, line, 2, outW);                         \
            else if (stride == 1) max_pool_row_##T(x, best, at, line, 1, outW);                    \
            else max_pool_row_##T(x, best, at, line, stride, outW);                                \
          }                                                                                        \
      }                                                                                            \
  }
FOR_BOTH_TYPES(DEFINE_MAX_POOL)

typedef struct {
  bool f32;
  const void *x;
  void *y;
  int32_t *argmax;
  int64_t H, W, size, stride, outH, outW;
} max_pool_args;

/* The planes [lo, hi). */
static void max_pool_body(const void *args, size_t lo, size_t hi) {
  const max_pool_args *a = args;
  if (a->f32) max_pool_float(a->x, a->y, a->argmax, (int64_t)lo, (int64_t)hi, a->H, a->W, a->size, a->stride, a->outH, a->outW);
  else max_pool_double(a->x, a->y, a->argmax, (int64_t)lo, (int64_t)hi, a->H, a->W, a->size, a->stride, a->outH, a->outW);
}

static napi_value max_pool(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float_array arr[2];
  int32_t *argmax;
  size_t argmax_length;
  int64_t d[7];
  if (argc != 10 || !get_float_array(env, argv[0], &arr[0]) || !get_float_array(env, argv[1], &arr[1]) ||
      !get_int32_array(env, argv[2], &argmax, &argmax_length) || !get_dims(env, argv + 3, 7, d))
    return throw_range(env, "maxPool: expected (x, y, argmax: Int32Array, planes, H, W, size, stride, outH, outW)");
  const int64_t planes = d[0], H = d[1], W = d[2], size = d[3], stride = d[4], outH = d[5], outW = d[6];
  if (arr[0].type != arr[1].type) return throw_range(env, "maxPool: x and y must have the same element type");
  if (size < 1 || stride < 1 || (outH > 0 && (outH - 1) * stride + size > H) || (outW > 0 && (outW - 1) * stride + size > W))
    return throw_range(env, "maxPool: a window reaches outside the map");
  const uint64_t inputs = (uint64_t)planes * (uint64_t)(H * W), outputs = (uint64_t)planes * (uint64_t)(outH * outW);
  if (inputs > INT32_MAX) return throw_range(env, "maxPool: x has more than 2^31-1 entries");
  if (arr[0].length < inputs || arr[1].length < outputs || argmax_length < outputs)
    return throw_range(env, "maxPool: an array is shorter than its shape");
  const max_pool_args a = {arr[0].type == napi_float32_array, arr[0].data, arr[1].data, argmax, H, W, size, stride, outH, outW};
  run_range(max_pool_body, &a, (size_t)planes, chunk_of(ELEMENT_CHUNK, (size_t)(H * W)));
  return NULL;
}

/* setThreads(n): the BLAS's thread count (a no-op where the BLAS offers no control). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t threads;
  if (argc != 1 || !get_int(env, argv[0], &threads) || threads < 1 || threads > 1024)
    return throw_range(env, "setThreads: expected an integer from 1 to 1024");
#ifdef DLT_OPENBLAS
  /* At 2, dlt splits each product between its own two threads (see gemm). */
  blas_threads = (int)threads;
  openblas_set_num_threads(openblas_threads(blas_threads));
  work_pool_set_threads(blas_threads, dlt_splits(blas_threads));
#else
  work_pool_set_threads((int)threads, false);
#endif
  return NULL;
}

/* helperChunks(): how many chunks of work the second thread has done (work_pool.h). */
static napi_value helper_chunks(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value result;
  CHECK(napi_create_double(env, (double)work_pool_helper_chunks(), &result));
  return result;
}

/* info(): { blas, config, threads } describing the BLAS this addon was linked with, and the threads its products use. */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value result, value;
  CHECK(napi_create_object(env, &result));
#if defined(DLT_OPENBLAS)
  const char *blas = "openblas";
  const char *config = openblas_get_config();
  int threads = blas_threads; /* the products' threads: OpenBLAS's own, or dlt's two */
#elif defined(DLT_ACCELERATE)
  const char *blas = "accelerate";
  const char *config = "Accelerate";
  int threads = 0;
#else
  const char *blas = "cblas";
  const char *config = "system CBLAS";
  int threads = 0;
#endif
  CHECK(napi_create_string_utf8(env, blas, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "blas", value));
  CHECK(napi_create_string_utf8(env, config ? config : "", NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "config", value));
  CHECK(napi_create_int32(env, threads, &value));
  CHECK(napi_set_named_property(env, result, "threads", value));
  return result;
}

/*
 * blasGflops(size, reps): GFLOP/s of cblas_sgemm on size×size×size float32 matrices
 * that C allocates and times itself, with no Node-API call in the loop: the BLAS's
 * own speed, for `npm run bench` to compare dlt's gemm (call overhead included) with.
 */
static napi_value blas_gflops(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t size, reps;
  if (argc != 2 || !get_int(env, argv[0], &size) || !get_int(env, argv[1], &reps) || size < 1 || size > 8192 || reps < 1)
    return throw_range(env, "blasGflops: expected size (1..8192) and reps (≥ 1)");
  const size_t count = (size_t)(size * size);
  float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float)), *c = malloc(count * sizeof(float));
  if (!a || !b || !c) {
    free(a), free(b), free(c);
    napi_throw_error(env, NULL, "blasGflops: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f, b[i] = (float)((i * 104729) % 1000) / 1000.0f;
  const int n = (int)size;
#ifdef DLT_OPENBLAS
  openblas_set_num_threads(blas_threads); /* OpenBLAS's own threads, even where gemm splits products itself */
#endif
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  clock_gettime(CLOCK_MONOTONIC, &t1);
#ifdef DLT_OPENBLAS
  openblas_set_num_threads(openblas_threads(blas_threads));
#endif
  free(a), free(b), free(c);
  const double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  napi_value result;
  CHECK(napi_create_double(env, 2.0 * (double)size * (double)size * (double)size * (double)reps / seconds / 1e9, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmBias", NULL, gemm_bias, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmReluGrad", NULL, gemm_relu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgdMomentumSteps", NULL, sgd_momentum_steps, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamSteps", NULL, adam_steps, NULL, NULL, NULL, napi_enumerable, NULL},
      {"weightDecayGrad", NULL, weight_decay_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relu", NULL, relu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reluGrad", NULL, relu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addBias", NULL, add_bias, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasGrad", NULL, bias_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gatherBytes", NULL, gather_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2col", NULL, im2col, NULL, NULL, NULL, napi_enumerable, NULL},
      {"col2im", NULL, col2im, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addBiasSampleMajor", NULL, add_bias_sample_major, NULL, NULL, NULL, napi_enumerable, NULL},
      {"filterMajorBiasGrad", NULL, filter_major_bias_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPool", NULL, max_pool, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blasGflops", NULL, blas_gflops, NULL, NULL, NULL, napi_enumerable, NULL},
      {"helperChunks", NULL, helper_chunks, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
