/* lstmkit.nn.backends._kernels: the fast backend's time loop, and the streams' single step, in C.
 *
 * Python (lstmkit/nn/backends/kernels.py) allocates every tensor, then builds a plan from their addresses
 * (``plan(kind, dtype, T, N, H, G, input_size, eps, products, wide, pointers)``) and runs steps on it
 * (``forward(plan, t0, t1, hw)``, ``backward(plan, t0, t1, rec)``). A step's recurrent product comes either
 * from Python (``hw`` / ``rec``: the address of a product torch made, one step per call) or, for a plan
 * made with ``products`` true, from here (_kernels_gemm.h), for all steps in one call. A stream
 * (``stream(plans)``, ``stream_step(stream, x, out)``, _kernels_stream.h) chains one plan per layer with T = 1
 * and advances them all one step per call, both products included. The module knows no torch: addresses
 * and sizes are all it takes, and kernels.py checks them.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The time loop runs the first four; a stream runs all seven. */
enum {
    KIND_LSTM = 0,
    KIND_PEEPHOLE = 1,
    KIND_COUPLED = 2,
    KIND_LAYERNORM = 3,
    KIND_GRU = 4,
    KIND_RNN_TANH = 5,
    KIND_RNN_RELU = 6
};
enum { DTYPE_FLOAT32 = 0, DTYPE_FLOAT64 = 1 };

typedef struct {
    int kind, dtype;
    Py_ssize_t T, N, H, G, input_size, proj_size; /* proj_size: P of a projected layer, else 0 */
    Py_ssize_t n0, n1;       /* the batch rows the steps run over (a thread's share, or all N) */
    double eps;
    int products;            /* make the recurrent products here */
    int wide;                /* with 512-bit vectors (asked for, and the CPU has them) */
    void *packed_forward;    /* W_hh^T in panels, packed on first use */
    void *packed_backward;   /* W_hh in panels */
    void *step_pack;         /* one step's inputs in panels, for the weight gradients */
    void *packed_input, *packed_projection; /* a stream's W_ih^T and W_hr^T in panels, packed on first use */
    /* forward */
    void *acts, *h_seq, *c_seq, *c_new, *tanh_c, *h_in, *mask, *weight_hh, *scratch;
    void *recurrent_inputs; /* (T, N, H): what W_hh multiplies, h_in with a mask, else h_seq[:-1] */
    const unsigned char *keep_h, *keep_c;
    void *w_ci, *w_cf, *w_co, *ln_hh, *bias_hh, *ln_c, *ln_bias_c, *hw_hat, *hw_rstd, *c_hat, *c_rstd;
    void *x, *ln_ih, *bias_ih, *xw_hat, *xw_rstd;
    /* a stream's layer: its other weights, the bias its input product starts from, its state (N, P) */
    void *weight_ih, *weight_hr, *gate_bias, *state_h;
    /* backward */
    void *dA, *dHW, *dXW, *dout, *carry, *dc, *rec;
    void *g_ci, *g_cf, *g_co, *g_ln_c, *g_ln_bias_c, *g_ln_hh, *g_ln_ih, *g_bias, *g_weight_ih, *g_weight_hh;
    /* owned: two rows of scratch, zeros standing in for absent parameters (the plain cell is the
     * peephole cell with zero peepholes), and a sink for the gradients of absent parameters */
    void *row_tmp, *zeros, *ones, *sink;
    unsigned char *never; /* keep flags of a layer that holds nothing */
} Plan;

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
/* One build for every x86-64 CPU: the loader picks the AVX-512, AVX2 or baseline copy of each step. */
#define KERNEL_TARGETS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL_TARGETS
#endif
#if defined(__GNUC__) && !defined(__clang__)
/* The rows a loop touches never overlap (distinct tensors, or distinct slices of one). */
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_WIDE 1
#define WIDE_TARGET __attribute__((target("arch=x86-64-v4")))
#else
#define HAVE_WIDE 0
#endif
/* 1 / k!, k = 0 .. 13: the Taylor coefficients of exp (13 terms reach double precision on |r| <= ln2 / 2). */
static const double INVERSE_FACTORIALS[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
    1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
};
static int cpu_wide = 0; /* the CPU has 512-bit vectors: set at import */

#define REAL float
#define UINT uint32_t
#define SUFFIX f32
#define EXP_LO (-87.0f)
#define EXP_HI (88.0f)
#define EXP_DEGREE 7
#define SHIFT 12582912.0f /* 1.5 * 2^23 */
#define EXP_BIAS 127
#define MANTISSA_BITS 23
#include "_kernels_products.h"
#include "_kernels_step.h"
#include "_kernels_stream.h"
#undef REAL
#undef UINT
#undef SUFFIX
#undef EXP_LO
#undef EXP_HI
#undef EXP_DEGREE
#undef SHIFT
#undef EXP_BIAS
#undef MANTISSA_BITS

#define REAL double
#define UINT uint64_t
#define SUFFIX f64
#define EXP_LO (-708.0)
#define EXP_HI (709.0)
#define EXP_DEGREE 13
#define SHIFT 6755399441055744.0 /* 1.5 * 2^52 */
#define EXP_BIAS 1023
#define MANTISSA_BITS 52
#include "_kernels_products.h"
#include "_kernels_step.h"
#include "_kernels_stream.h"

static const char *PLAN_NAME = "lstmkit.nn.backends._kernels.plan";

static void plan_release(Plan *p) {
    free(p->row_tmp);
    free(p->zeros);
    free(p->ones);
    free(p->never);
    free(p->sink);
    free(p->packed_forward);
    free(p->packed_backward);
    free(p->step_pack);
    free(p->packed_input);
    free(p->packed_projection);
    free(p);
}

static void plan_free(PyObject *capsule) {
    Plan *p = PyCapsule_GetPointer(capsule, PLAN_NAME);
    if (p) plan_release(p);
}

/* The address under ``name`` in ``pointers`` (an int), or NULL when absent or None. */
static int take(PyObject *pointers, const char *name, void **out) {
    PyObject *value = PyDict_GetItemString(pointers, name);
    *out = NULL;
    if (value == NULL || value == Py_None) return 0;
    *out = PyLong_AsVoidPtr(value);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *make_plan(PyObject *self, PyObject *args) {
    int kind, dtype, products, wide;
    Py_ssize_t T, N, H, G, input_size, proj_size;
    double eps;
    PyObject *pointers;
    if (!PyArg_ParseTuple(args, "iinnnnnndppO!", &kind, &dtype, &T, &N, &H, &G, &input_size, &proj_size, &eps,
                          &products, &wide, &PyDict_Type, &pointers))
        return NULL;
    if (kind < KIND_LSTM || kind > KIND_RNN_RELU || (dtype != DTYPE_FLOAT32 && dtype != DTYPE_FLOAT64) || T < 0 ||
        N < 1 || H < 1 || (G != 1 && G != 3 && G != 4) || input_size < 1 || proj_size < 0 || proj_size >= H) {
        PyErr_SetString(PyExc_ValueError, "plan: kind, dtype or sizes out of range");
        return NULL;
    }
    Plan *p = calloc(1, sizeof(Plan));
    if (!p) return PyErr_NoMemory();
    p->kind = kind, p->dtype = dtype, p->T = T, p->N = N, p->H = H, p->G = G, p->input_size = input_size, p->eps = eps;
    p->proj_size = proj_size;
    p->n0 = 0, p->n1 = N;
    p->products = products;
    p->wide = wide && cpu_wide;
    p->row_tmp = malloc(2 * (size_t)H * sizeof(double));
    p->zeros = calloc((size_t)(G * H), sizeof(double));
    p->sink = calloc((size_t)(G * H), sizeof(double));
    p->ones = malloc((size_t)H * sizeof(double));
    p->never = calloc((size_t)H, 1);
    if (p->ones) {
        for (Py_ssize_t j = 0; j < H; ++j) {
            if (dtype == DTYPE_FLOAT32) ((float *)p->ones)[j] = 1.0f;
            else ((double *)p->ones)[j] = 1.0;
        }
    }
    void *keep_h, *keep_c;
    struct {
        const char *name;
        void **slot;
    } fields[] = {
        {"acts", &p->acts},     {"h_seq", &p->h_seq},       {"c_seq", &p->c_seq},     {"c_new", &p->c_new},
        {"tanh_c", &p->tanh_c}, {"h_in", &p->h_in},         {"mask", &p->mask},       {"weight_hh", &p->weight_hh},
        {"scratch", &p->scratch}, {"keep_h", &keep_h},      {"keep_c", &keep_c},      {"w_ci", &p->w_ci},
        {"w_cf", &p->w_cf},     {"w_co", &p->w_co},         {"ln_hh", &p->ln_hh},     {"bias_hh", &p->bias_hh},
        {"ln_c", &p->ln_c},     {"ln_bias_c", &p->ln_bias_c}, {"hw_hat", &p->hw_hat}, {"hw_rstd", &p->hw_rstd},
        {"c_hat", &p->c_hat},   {"c_rstd", &p->c_rstd},     {"dA", &p->dA},           {"dHW", &p->dHW},
        {"dout", &p->dout},     {"carry", &p->carry},       {"dc", &p->dc},           {"rec", &p->rec},
        {"g_ci", &p->g_ci},     {"g_cf", &p->g_cf},         {"g_co", &p->g_co},       {"g_ln_c", &p->g_ln_c},
        {"g_ln_bias_c", &p->g_ln_bias_c}, {"g_ln_hh", &p->g_ln_hh}, {"x", &p->x}, {"recurrent_inputs", &p->recurrent_inputs},  {"ln_ih", &p->ln_ih},
        {"bias_ih", &p->bias_ih}, {"xw_hat", &p->xw_hat}, {"xw_rstd", &p->xw_rstd}, {"dXW", &p->dXW},
        {"g_ln_ih", &p->g_ln_ih}, {"g_bias", &p->g_bias}, {"g_weight_ih", &p->g_weight_ih},
        {"g_weight_hh", &p->g_weight_hh}, {"weight_ih", &p->weight_ih}, {"weight_hr", &p->weight_hr},
        {"gate_bias", &p->gate_bias}, {"state_h", &p->state_h},
    };
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); ++k) {
        if (take(pointers, fields[k].name, fields[k].slot) < 0) {
            plan_release(p);
            return NULL;
        }
    }
    p->keep_h = keep_h, p->keep_c = keep_c;
    if (!p->row_tmp || !p->zeros || !p->ones || !p->sink || !p->never) {
        plan_release(p);
        return PyErr_NoMemory();
    }
    if ((p->keep_h == NULL) != (p->keep_c == NULL)) {
        plan_release(p);
        PyErr_SetString(PyExc_ValueError, "plan: keep_h and keep_c come together");
        return NULL;
    }
    void **absent_parameters[] = {&p->w_ci, &p->w_cf, &p->w_co, &p->bias_hh, &p->bias_ih, &p->ln_bias_c};
    for (size_t k = 0; k < sizeof(absent_parameters) / sizeof(absent_parameters[0]); ++k)
        if (!*absent_parameters[k]) *absent_parameters[k] = p->zeros;
    void **absent_gradients[] = {&p->g_ci, &p->g_cf, &p->g_co, &p->g_ln_bias_c, &p->g_bias};
    for (size_t k = 0; k < sizeof(absent_gradients) / sizeof(absent_gradients[0]); ++k)
        if (!*absent_gradients[k]) *absent_gradients[k] = p->sink;
    if (!p->dHW) p->dHW = p->dA;
    if (!p->dXW) p->dXW = p->dA;
    PyObject *capsule = PyCapsule_New(p, PLAN_NAME, plan_free);
    if (!capsule) plan_release(p);
    return capsule;
}

/* A share of a time loop for one thread: a copy of the plan restricted to rows n0 .. n1-1, with its own
 * scratch row, step buffer and gradient sums (added to the plan's after the threads are joined). */
typedef struct {
    Plan plan;
    Py_ssize_t t0, t1;
    const void *given;
    int backward;
    void *owned[16]; /* what this share allocated, freed after the join */
    int n_owned;
} Share;

/* The gradient sums a backward pass adds to, with their lengths: each share sums its rows' part. */
static int gradient_fields(Plan *p, void ***fields, Py_ssize_t *sizes) {
    const Py_ssize_t H = p->H, GH = p->G * p->H;
    void **all[] = {&p->g_ci, &p->g_cf, &p->g_co, &p->g_ln_c, &p->g_ln_bias_c, &p->g_ln_hh, &p->g_ln_ih, &p->g_bias,
                    &p->g_weight_ih, &p->g_weight_hh};
    const Py_ssize_t lengths[] = {H, H, H, H, H, GH, GH, GH, GH * p->input_size, GH * H};
    for (int k = 0; k < 10; ++k) fields[k] = all[k], sizes[k] = lengths[k];
    return 10;
}

static void run_share(Share *w) {
    Plan *p = &w->plan;
    if (p->dtype == DTYPE_FLOAT32) {
        if (w->backward) backward_steps_f32(p, w->t0, w->t1, w->given);
        else forward_steps_f32(p, w->t0, w->t1, w->given);
    } else {
        if (w->backward) backward_steps_f64(p, w->t0, w->t1, w->given);
        else forward_steps_f64(p, w->t0, w->t1, w->given);
    }
}

/* Give share w (a copy of p) private buffers for what threads must not share; 0 when out of memory. */
static int share_buffers(Share *w, Plan *p) {
    const size_t real = p->dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    const Py_ssize_t H = p->H, GH = p->G * p->H, I = p->input_size, widest = H > I ? H : I;
    Plan *q = &w->plan;
#define OWN(slot, bytes)                                                                                              \
    do {                                                                                                              \
        if (!((slot) = w->owned[w->n_owned++] = calloc(1, (bytes)))) return 0;                                        \
    } while (0)
    OWN(q->row_tmp, 2 * (size_t)H * real);
    OWN(q->sink, (size_t)GH * real);
    if (w->backward && p->products)
        OWN(q->step_pack, (size_t)(p->dtype == DTYPE_FLOAT32 ? packed_size_f32(p->N, widest, p->wide)
                                                             : packed_size_f64(p->N, widest, p->wide)) *
                              real);
    void **fields[10];
    Py_ssize_t sizes[10];
    const int count = gradient_fields(q, fields, sizes);
    for (int k = 0; w->backward && k < count; ++k) {
        if (*fields[k] == p->sink) *fields[k] = q->sink;
        else if (*fields[k]) OWN(*fields[k], (size_t)sizes[k] * real);
    }
#undef OWN
    return 1;
}

/* Add share w's gradient sums into the plan's. */
static void share_reduce(const Share *w, Plan *p) {
    void **mine[10], **theirs[10];
    Py_ssize_t sizes[10];
    Plan *q = (Plan *)&w->plan;
    const int count = gradient_fields(p, mine, sizes);
    gradient_fields(q, theirs, sizes);
    for (int k = 0; k < count; ++k) {
        if (!*mine[k] || *mine[k] == p->sink) continue;
        for (Py_ssize_t j = 0; j < sizes[k]; ++j) {
            if (p->dtype == DTYPE_FLOAT32) ((float *)*mine[k])[j] += ((const float *)*theirs[k])[j];
            else ((double *)*mine[k])[j] += ((const double *)*theirs[k])[j];
        }
    }
}

/* Steps t0 .. t1 (forward, or backward) split over ``threads`` threads by batch rows: in the forward the rows
 * are independent; in the backward each share also sums its rows' part of every parameter gradient, and the
 * parts are added after the join (so the sums are reassociated, as any parallel reduction). The threads are
 * OpenMP's: torch's own pool when torch runs on the same runtime, so that its idle workers, which spin for a
 * while after each of torch's parallel regions, take the shares instead of competing with them. Returns 0
 * when out of memory. */
static int run_shared(Plan *p, Py_ssize_t t0, Py_ssize_t t1, const void *given, int backward, int threads) {
    if (!(p->dtype == DTYPE_FLOAT32 ? prepare_f32(p, backward) : prepare_f64(p, backward))) return 0;
    if (threads > p->N) threads = (int)p->N;
    if (threads < 2 || !p->products) {
        Share whole = {.plan = *p, .t0 = t0, .t1 = t1, .given = given, .backward = backward};
        run_share(&whole);
        return 1;
    }
    Share *shares = calloc((size_t)threads, sizeof(Share));
    int ok = shares != NULL;
    for (int k = 0; ok && k < threads; ++k) {
        Share *w = &shares[k];
        *w = (Share){.plan = *p, .t0 = t0, .t1 = t1, .given = given, .backward = backward};
        w->plan.n0 = p->N * k / threads, w->plan.n1 = p->N * (k + 1) / threads;
        ok = k == 0 || share_buffers(w, p);
    }
    if (ok) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int k = 0; k < threads; ++k) run_share(&shares[k]);
        for (int k = 1; backward && k < threads; ++k) share_reduce(&shares[k], p);
    }
    for (int k = 0; shares && k < threads; ++k)
        for (int j = 0; j < shares[k].n_owned; ++j) free(shares[k].owned[j]);
    free(shares);
    return ok;
}

static PyObject *run_steps(PyObject *args, int backward) {
    PyObject *capsule, *product;
    Py_ssize_t t0, t1;
    int threads = 1;
    if (!PyArg_ParseTuple(args, "OnnO|i", &capsule, &t0, &t1, &product, &threads)) return NULL;
    Plan *p = PyCapsule_GetPointer(capsule, PLAN_NAME);
    if (!p) return NULL;
    void *given = product == Py_None ? NULL : PyLong_AsVoidPtr(product);
    if (PyErr_Occurred()) return NULL;
    if (p->kind > KIND_LAYERNORM) {
        PyErr_SetString(PyExc_ValueError, "the time loop runs the LSTM kinds; a GRU or RNN plan is for a stream");
        return NULL;
    }
    if (t0 < 0 || t1 > p->T || t0 > t1 || (!p->products && (t1 - t0 > 1 || (!backward && !given))) ||
        (p->products && given) || (p->products && (!p->weight_hh || !p->recurrent_inputs)) ||
        (p->products && backward && (!p->x || !p->g_weight_ih || !p->g_weight_hh))) {
        PyErr_SetString(PyExc_ValueError, "steps out of range, or a product both given and made here, or neither, "
                                         "or products asked of a plan without the tensors they need");
        return NULL;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = run_shared(p, t0, t1, given, backward, threads);
    Py_END_ALLOW_THREADS
    if (!ok) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static const char *STREAM_NAME = "lstmkit.nn.backends._kernels.stream";

/* A stream: one plan per layer (capsules, referenced), layer l's state_h the input of layer l + 1. */
typedef struct {
    Py_ssize_t layers;
    PyObject **capsules;
    Plan **plans;
} Stream;

static void stream_release(Stream *s) {
    for (Py_ssize_t l = 0; l < s->layers; ++l) Py_XDECREF(s->capsules[l]);
    free(s->capsules);
    free(s->plans);
    free(s);
}

static void stream_free(PyObject *capsule) {
    Stream *s = PyCapsule_GetPointer(capsule, STREAM_NAME);
    if (s) stream_release(s);
}

/* Whether plan p can be layer l of a stream whose layers below are s->plans[0 .. l). */
static int stream_fits(const Stream *s, Py_ssize_t l, const Plan *p) {
    const Plan *first = l ? s->plans[0] : p, *below = l ? s->plans[l - 1] : NULL;
    const Py_ssize_t below_size = below ? (below->proj_size ? below->proj_size : below->H) : p->input_size;
    const int lstm_kind = p->kind <= KIND_LAYERNORM, needs_scratch = p->kind == KIND_GRU || p->kind == KIND_LAYERNORM;
    return p->T == 1 && p->N == first->N && p->dtype == first->dtype && p->input_size == below_size && p->weight_ih &&
           p->weight_hh && p->state_h && p->acts && (!p->proj_size || p->weight_hr) && (!needs_scratch || p->scratch) &&
           (!lstm_kind || (p->h_seq && p->c_seq && p->tanh_c));
}

static PyObject *make_stream(PyObject *self, PyObject *args) {
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &list)) return NULL;
    const Py_ssize_t L = PyList_GET_SIZE(list);
    if (L < 1) {
        PyErr_SetString(PyExc_ValueError, "stream: give one plan per layer");
        return NULL;
    }
    Stream *s = calloc(1, sizeof(Stream));
    if (!s) return PyErr_NoMemory();
    s->capsules = calloc((size_t)L, sizeof(PyObject *));
    s->plans = calloc((size_t)L, sizeof(Plan *));
    if (!s->capsules || !s->plans) {
        stream_release(s);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t l = 0; l < L; ++l) {
        PyObject *item = PyList_GET_ITEM(list, l);
        Plan *p = PyCapsule_GetPointer(item, PLAN_NAME);
        if (!p || !stream_fits(s, l, p)) {
            stream_release(s);
            if (p)
                PyErr_SetString(PyExc_ValueError, "stream: plans of one step, one batch size and type, each layer's "
                                                 "input the size of the state below, with the tensors a step needs");
            return NULL;
        }
        if (!(p->dtype == DTYPE_FLOAT32 ? stream_layer_pack_f32(p) : stream_layer_pack_f64(p))) {
            stream_release(s);
            return PyErr_NoMemory();
        }
        Py_INCREF(item);
        s->capsules[l] = item;
        s->plans[l] = p;
        s->layers = l + 1;
    }
    PyObject *capsule = PyCapsule_New(s, STREAM_NAME, stream_free);
    if (!capsule) stream_release(s);
    return capsule;
}

/* stream_step(stream, x, out): x (N, I) into layer 0, every layer one step on, the last layer's state
 * (N, P) copied to out. */
static PyObject *stream_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "stream_step(stream, x, out) takes 3 arguments");
        return NULL;
    }
    Stream *s = PyCapsule_GetPointer(args[0], STREAM_NAME);
    if (!s) return NULL;
    const void *x = PyLong_AsVoidPtr(args[1]);
    void *out = PyLong_AsVoidPtr(args[2]);
    if (PyErr_Occurred()) return NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t l = 0; l < s->layers; ++l) {
        const Plan *p = s->plans[l];
        if (p->dtype == DTYPE_FLOAT32) stream_layer_step_f32(p, x);
        else stream_layer_step_f64(p, x);
        x = p->state_h;
    }
    const Plan *top = s->plans[s->layers - 1];
    const size_t width = (size_t)(top->proj_size ? top->proj_size : top->H);
    memcpy(out, x, (size_t)top->N * width * (top->dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double)));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* stream_products(stream, x, repeats): each layer's two products alone (the step's first part, its
 * output unused), ``repeats`` times over, inside one call: what a step costs at least (benchmarks). */
static PyObject *stream_products(PyObject *self, PyObject *args) {
    PyObject *capsule, *address;
    Py_ssize_t repeats;
    if (!PyArg_ParseTuple(args, "OOn", &capsule, &address, &repeats)) return NULL;
    Stream *s = PyCapsule_GetPointer(capsule, STREAM_NAME);
    if (!s) return NULL;
    const void *x0 = PyLong_AsVoidPtr(address);
    if (PyErr_Occurred()) return NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < repeats; ++r) {
        const void *x = x0;
        for (Py_ssize_t l = 0; l < s->layers; ++l) {
            const Plan *p = s->plans[l];
            if (p->dtype == DTYPE_FLOAT32) stream_layer_products_f32(p, x);
            else stream_layer_products_f64(p, x);
            x = p->state_h;
        }
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* One 64-bit output of splitmix64 for ``index`` under ``seed``: a counter-based generator, so every
 * element is drawn independently of the others and the loop vectorizes. */
static inline uint64_t mix64(uint64_t seed, uint64_t index) {
    uint64_t z = seed + index * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* out[i] = 1 with probability p (as a 32-bit uniform below p 2^32), else 0, for i < n. */
KERNEL_TARGETS static void fill_bernoulli(unsigned char *out, Py_ssize_t n, double p, uint64_t seed) {
    const uint64_t threshold = (uint64_t)(p * 4294967296.0);
    IVDEP
    for (Py_ssize_t i = 0; i < n; ++i) out[i] = (mix64(seed, (uint64_t)i) >> 32) < threshold;
}

static PyObject *bernoulli(PyObject *self, PyObject *args) {
    PyObject *address;
    Py_ssize_t n;
    double p;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OndK", &address, &n, &p, &seed)) return NULL;
    unsigned char *out = PyLong_AsVoidPtr(address);
    if (PyErr_Occurred()) return NULL;
    if (n < 0 || !(p >= 0.0 && p <= 1.0)) {
        PyErr_SetString(PyExc_ValueError, "bernoulli: n must be >= 0 and p in [0, 1]");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    fill_bernoulli(out, n, p, (uint64_t)seed);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *forward(PyObject *self, PyObject *args) { return run_steps(args, 0); }
static PyObject *backward(PyObject *self, PyObject *args) { return run_steps(args, 1); }

static PyMethodDef methods[] = {
    {"plan", make_plan, METH_VARARGS, "plan(kind, dtype, T, N, H, G, input_size, proj_size, eps, products, wide, pointers)"},
    {"forward", forward, METH_VARARGS, "forward(plan, t0, t1, hw, threads=1): steps t0 .. t1-1"},
    {"backward", backward, METH_VARARGS, "backward(plan, t0, t1, rec, threads=1): steps t1-1 down to t0"},
    {"stream", make_stream, METH_VARARGS, "stream(plans): one plan per layer, each with T = 1"},
    {"stream_step", (PyCFunction)(void (*)(void))stream_step, METH_FASTCALL, "stream_step(stream, x, out): one step"},
    {"stream_products", stream_products, METH_VARARGS, "stream_products(stream, x, repeats): the products alone"},
    {"bernoulli", bernoulli, METH_VARARGS, "bernoulli(address, n, p, seed): n bytes, each 1 with probability p"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) {
#if HAVE_WIDE
    __builtin_cpu_init();
    cpu_wide = __builtin_cpu_supports("avx512f") != 0;
#endif
    PyObject *m = PyModule_Create(&module);
#ifdef _OPENMP
    const int threaded = 1;
#else
    const int threaded = 0;
#endif
    if (m && (PyModule_AddIntConstant(m, "WIDE_VECTORS", cpu_wide) < 0 ||
              PyModule_AddIntConstant(m, "THREADED", threaded) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
