/* One step of a stream (lstmkit.nn.streaming): both products and the cell's step for one layer, for one
 * floating type. Included by _kernels.c after _kernels_products.h and _kernels_step.h, with REAL and
 * SUFFIX defined.
 *
 * A stream's layer is a plan with T = 1 that also holds weight_ih (G*H, I), weight_hh (G*H, P), weight_hr
 * (P, H) with a projection, gate_bias and state_h (N, P): the state W_hh multiplies and the layer's output.
 * Its three weights are packed into panels when the stream is made (a copy: read once).
 * The LSTM kinds run _kernels_step.h's forward_step on acts, h_seq, c_seq (2, N, H) and tanh_c, so a
 * stream computes exactly what the time loop does; the GRU and the vanilla RNN have their step here:
 *
 *   GRU:  r = sigmoid(a_r + hw_r), z = sigmoid(a_z + hw_z), n = tanh(a_n + r hw_n), h = (1 - z) n + z h
 *         with a = W_ih x + b_ih and hw = W_hh h + b_hh;
 *   RNN:  h = tanh(a) or relu(a), a = W_ih x + W_hh h + b_ih + b_hh.
 */

#define SCAT_(a, b) a##_##b
#define SCAT(a, b) SCAT_(a, b)
#define SN(name) SCAT(name, SUFFIX)

/* Pack W (rows, cols) row-major as B = W^T (cols x rows) panels, into fresh memory at *slot; 0 when out of it. */
static int SN(pack_transposed)(void **slot, const REAL *weight, Py_ssize_t rows, Py_ssize_t cols, int wide) {
    if (!*slot) *slot = SN(packed_copy)(weight, cols, rows, 1, cols, wide);
    return *slot != NULL;
}

/* dest (N, M) = bias (M) in every row, or zeros without a bias. */
static void SN(fill_rows)(REAL *dest, const REAL *bias, Py_ssize_t N, Py_ssize_t M) {
    for (Py_ssize_t n = 0; n < N; ++n) {
        if (bias) memcpy(dest + n * M, bias, (size_t)M * sizeof(REAL));
        else memset(dest + n * M, 0, (size_t)M * sizeof(REAL));
    }
}

KERNEL_TARGETS static void SN(gru_step)(const Plan *p) {
    const Py_ssize_t N = p->N, H = p->H;
    for (Py_ssize_t n = 0; n < N; ++n) {
        const REAL *restrict a = (const REAL *)p->acts + n * 3 * H, *restrict hw = (const REAL *)p->scratch + n * 3 * H;
        REAL *restrict h = (REAL *)p->state_h + n * H;
        IVDEP
        for (Py_ssize_t j = 0; j < H; ++j) {
            const REAL r = SN(sigmoid)(a[j] + hw[j]), z = SN(sigmoid)(a[H + j] + hw[H + j]);
            const REAL candidate = SN(tanh)(a[2 * H + j] + r * hw[2 * H + j]);
            h[j] = ((REAL)1.0 - z) * candidate + z * h[j];
        }
    }
}

KERNEL_TARGETS static void SN(rnn_step)(const Plan *p) {
    const Py_ssize_t NH = p->N * p->H;
    const REAL *restrict a = p->acts;
    REAL *restrict h = p->state_h;
    if (p->kind == KIND_RNN_RELU) {
        IVDEP
        for (Py_ssize_t j = 0; j < NH; ++j) h[j] = a[j] > 0 ? a[j] : (REAL)0;
    } else {
        IVDEP
        for (Py_ssize_t j = 0; j < NH; ++j) h[j] = SN(tanh)(a[j]);
    }
}

/* Pack the layer's weights (once, when the stream is made); 0 when out of memory. */
static int SN(stream_layer_pack)(Plan *p) {
    const Py_ssize_t H = p->H, GH = p->G * p->H, P = p->proj_size ? p->proj_size : H;
    return SN(pack_transposed)(&p->packed_input, p->weight_ih, GH, p->input_size, p->wide) &&
           SN(pack_transposed)(&p->packed_forward, p->weight_hh, GH, P, p->wide) &&
           (!p->proj_size || SN(pack_transposed)(&p->packed_projection, p->weight_hr, P, H, p->wide));
}

/* The layer's two products: acts = W_ih x (+ biases), and W_hh h added to it or, for the GRU and
 * layernorm, in scratch. */
static void SN(stream_layer_products)(const Plan *p, const REAL *x) {
    const Py_ssize_t N = p->N, GH = p->G * p->H, I = p->input_size, P = p->proj_size ? p->proj_size : p->H;
    REAL *acts = p->acts, *state = p->state_h;
    if (p->kind == KIND_LAYERNORM) { /* both products raw: the step normalizes each and adds the biases */
        SN(product)(N, GH, I, x, I, 1, p->packed_input, acts, 0, p->wide);
        SN(product)(N, GH, P, state, P, 1, p->packed_forward, p->scratch, 0, p->wide);
    } else {
        SN(fill_rows)(acts, p->gate_bias, N, GH);
        SN(product)(N, GH, I, x, I, 1, p->packed_input, acts, 1, p->wide);
        REAL *recurrent = acts;
        if (p->kind == KIND_GRU) { /* b_hh stays with W_hh h: the reset gate scales both */
            recurrent = p->scratch;
            SN(fill_rows)(recurrent, p->bias_hh, N, GH);
        }
        SN(product)(N, GH, P, state, P, 1, p->packed_forward, recurrent, 1, p->wide);
    }
}

/* The layer's step: x (N, I) in, state_h (N, P) (and for the LSTM kinds c_seq[0]) advanced. */
static void SN(stream_layer_step)(const Plan *p, const REAL *x) {
    const Py_ssize_t N = p->N, H = p->H, NH = p->N * p->H, P = p->proj_size ? p->proj_size : H;
    SN(stream_layer_products)(p, x);
    switch (p->kind) {
    case KIND_GRU:
        SN(gru_step)(p);
        return;
    case KIND_RNN_TANH:
    case KIND_RNN_RELU:
        SN(rnn_step)(p);
        return;
    default:
        break;
    }
    SN(forward_step)(p, 0, p->kind == KIND_LAYERNORM ? p->scratch : NULL);
    REAL *h_seq = p->h_seq, *c_seq = p->c_seq, *state = p->state_h;
    memcpy(c_seq, c_seq + NH, (size_t)NH * sizeof(REAL));
    if (p->proj_size) SN(product)(N, P, H, h_seq + NH, H, 1, p->packed_projection, state, 0, p->wide);
    else memcpy(state, h_seq + NH, (size_t)NH * sizeof(REAL));
}

#undef SN
#undef SCAT
#undef SCAT_
