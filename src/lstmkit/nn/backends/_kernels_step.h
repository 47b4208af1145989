/* One step of the fast backend's cells, forward and backward, for one floating type.
 *
 * Included by _kernels.c once per type with REAL (float or double), SUFFIX (f32 or f64), EXP_LO, EXP_HI,
 * EXP_DEGREE, UINT and the rounding SHIFT / EXP_BIAS / MANTISSA_BITS of that type defined. Everything here
 * is the math of lstmkit.reference (lstm.py, peephole.py, coupled.py, layernorm.py), written as one pass
 * over each batch row so that a step is one call instead of a dozen tensor operations.
 *
 * Shapes (all C-contiguous): acts, dA, dHW, hw_hat (T, N, G*H); h_seq, c_seq (T+1, N, H) with the initial
 * state at index 0; c_new, tanh_c, c_hat, h_in, keep_h, keep_c, dout (T, N, H); hw_rstd, c_rstd (T, N);
 * mask, carry, dc, rec (N, H). G is 4 (i, f, g, o) or 3 for the coupled cell (i, g, o; f = 1 - i).
 */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

typedef union {
    REAL real;
    UINT bits;
} FN(pun);

/* exp(x): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor series (error below the type's
 * epsilon), 2^n written into the exponent bits. Plain arithmetic, so the compiler vectorizes it. */
static inline REAL FN(exp)(REAL x) {
    x = x < EXP_LO ? EXP_LO : (x > EXP_HI ? EXP_HI : x);
    FN(pun) k = {.real = x * (REAL)1.4426950408889634 + SHIFT}; /* round(x / ln2) in the low bits */
    const REAL n = k.real - SHIFT;
    const REAL r = (x - n * (REAL)0.693145751953125) - n * (REAL)1.4286068203094173e-06;
    REAL poly = (REAL)INVERSE_FACTORIALS[EXP_DEGREE]; /* Horner: sum of r^k / k!, k = 0 .. EXP_DEGREE */
    for (int k = EXP_DEGREE - 1; k >= 0; --k) poly = poly * r + (REAL)INVERSE_FACTORIALS[k];
    FN(pun) scale = {.bits = (UINT)((k.bits << MANTISSA_BITS) + ((UINT)EXP_BIAS << MANTISSA_BITS))};
    return poly * scale.real;
}

static inline REAL FN(sigmoid)(REAL x) { return (REAL)1.0 / ((REAL)1.0 + FN(exp)(-x)); }

/* tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): absolute error a few epsilon. */
static inline REAL FN(tanh)(REAL x) {
    const REAL e = FN(exp)((REAL)-2.0 * (x < 0 ? -x : x));
    const REAL y = ((REAL)1.0 - e) / ((REAL)1.0 + e);
    return x < 0 ? -y : y;
}

/* Sums over a row in PARTS independent partial sums, so that they vectorize (a single running sum
 * cannot be reordered by the compiler). */
#define PARTS 16
static inline REAL FN(dot)(const REAL *a, const REAL *b, Py_ssize_t n) {
    REAL part[PARTS] = {0}, total = 0;
    Py_ssize_t j = 0;
    for (; j + PARTS <= n; j += PARTS)
        for (int l = 0; l < PARTS; ++l) part[l] += a[j + l] * b[j + l];
    for (; j < n; ++j) total += a[j] * b[j];
    for (int l = 0; l < PARTS; ++l) total += part[l];
    return total;
}

static inline REAL FN(sum)(const REAL *a, Py_ssize_t n) {
    REAL part[PARTS] = {0}, total = 0;
    Py_ssize_t j = 0;
    for (; j + PARTS <= n; j += PARTS)
        for (int l = 0; l < PARTS; ++l) part[l] += a[j + l];
    for (; j < n; ++j) total += a[j];
    for (int l = 0; l < PARTS; ++l) total += part[l];
    return total;
}

/* hat = (v - mean) / sqrt(var + eps) over v[0..n), as torch.native_layer_norm; returns 1 / sqrt(var + eps). */
static inline REAL FN(normalize)(const REAL *restrict v, Py_ssize_t n, double eps, REAL *restrict hat) {
    const REAL mean = FN(sum)(v, n) / (REAL)n;
    IVDEP
    for (Py_ssize_t j = 0; j < n; ++j) hat[j] = v[j] - mean;
    const REAL rstd = (REAL)(1.0 / sqrt((double)(FN(dot)(hat, hat, n) / (REAL)n) + eps));
    IVDEP
    for (Py_ssize_t j = 0; j < n; ++j) hat[j] *= rstd;
    return rstd;
}

/* Back through y = gain * hat + bias, hat = normalize(v): given dy, adds dy * hat to g_gain and writes
 * dv = rstd (u - mean(u) - hat mean(u hat)), u = gain dy, to ``dv`` (which may be dy itself). */
static inline void FN(normalize_backward)(const REAL *dy, const REAL *restrict gain, const REAL *restrict hat, REAL rstd,
                                          Py_ssize_t n, REAL *restrict g_gain, REAL *dv) {
    IVDEP
    for (Py_ssize_t j = 0; j < n; ++j) {
        g_gain[j] += dy[j] * hat[j];
        dv[j] = dy[j] * gain[j];
    }
    const REAL mean_u = FN(sum)(dv, n) / (REAL)n, mean_u_hat = FN(dot)(dv, hat, n) / (REAL)n;
    IVDEP
    for (Py_ssize_t j = 0; j < n; ++j) dv[j] = rstd * (dv[j] - mean_u - hat[j] * mean_u_hat);
}

/* Step t forward. On entry acts[t] holds W_ih x_t + b_ih + b_hh (layernorm: W_ih x_t alone), and hw
 * (N, G*H) is W_hh (m * h_{t-1}), or NULL when that product is already in acts[t]. On return acts[t]
 * holds the activated gates (i, f, g, o; coupled: i, g, o with f = 1 - i), and the step's c_new, tanh_c,
 * h_t, c_t (after held units), h_in[t+1] = m * h_t, and for layernorm the normalized x, hw and c with
 * their 1 / std. */
KERNEL_TARGETS static void FN(forward_step)(const Plan *p, Py_ssize_t t, const REAL *hw_all) {
    const Py_ssize_t N = p->N, H = p->H, GH = p->G * p->H, NH = p->N * p->H;
    const int coupled = p->kind == KIND_COUPLED, layernorm = p->kind == KIND_LAYERNORM;
    const REAL *w_ci = p->w_ci, *w_cf = p->w_cf, *w_co = p->w_co, *mask = p->mask;
    const REAL *ln_hh = p->ln_hh, *bias_hh = p->bias_hh, *ln_c = p->ln_c, *ln_bias_c = p->ln_bias_c;
    const REAL *ln_ih = p->ln_ih, *bias_ih = p->bias_ih;
    for (Py_ssize_t n = p->n0; n < p->n1; ++n) {
        const Py_ssize_t row = t * NH + n * H, grow = (t * N + n) * GH;
        REAL *restrict a = (REAL *)p->acts + grow;
        const REAL *restrict hw = hw_all ? hw_all + n * GH : NULL;
        const REAL *restrict c_prev = (const REAL *)p->c_seq + row;
        const REAL *restrict h_prev = (const REAL *)p->h_seq + row;
        REAL *restrict c_new = (p->c_new ? (REAL *)p->c_new : (REAL *)p->c_seq + NH) + row;
        REAL *restrict tanh_c = (REAL *)p->tanh_c + row;
        REAL *restrict h_next = (REAL *)p->h_seq + NH + row;
        if (layernorm) { /* a = g_ih LN(W_ih x) + b_ih + g_hh LN(hw) + b_hh */
            REAL *restrict xw_hat = (REAL *)p->xw_hat + grow, *restrict hw_hat = (REAL *)p->hw_hat + grow;
            ((REAL *)p->xw_rstd)[t * N + n] = FN(normalize)(a, GH, p->eps, xw_hat);
            ((REAL *)p->hw_rstd)[t * N + n] = FN(normalize)(hw, GH, p->eps, hw_hat);
            IVDEP
            for (Py_ssize_t k = 0; k < GH; ++k)
                a[k] = ln_ih[k] * xw_hat[k] + bias_ih[k] + ln_hh[k] * hw_hat[k] + bias_hh[k];
        } else if (hw) { /* (products made here were added in place) */
            IVDEP
            for (Py_ssize_t k = 0; k < GH; ++k) a[k] += hw[k];
        }
        if (coupled) {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                const REAL i = FN(sigmoid)(a[j]), g = FN(tanh)(a[H + j]);
                a[j] = i;
                a[H + j] = g;
                a[2 * H + j] = FN(sigmoid)(a[2 * H + j]);
                c_new[j] = ((REAL)1.0 - i) * c_prev[j] + i * g;
            }
        } else {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                const REAL cp = c_prev[j];
                const REAL i = FN(sigmoid)(a[j] + w_ci[j] * cp);
                const REAL f = FN(sigmoid)(a[H + j] + w_cf[j] * cp);
                const REAL g = FN(tanh)(a[2 * H + j]);
                const REAL c = f * cp + i * g;
                a[j] = i;
                a[H + j] = f;
                a[2 * H + j] = g;
                a[3 * H + j] = FN(sigmoid)(a[3 * H + j] + w_co[j] * c);
                c_new[j] = c;
            }
        }
        const REAL *restrict o = a + (GH - H);
        if (layernorm) { /* h = o tanh(g_c LN(c) + b_c) */
            REAL *restrict c_hat = (REAL *)p->c_hat + row;
            ((REAL *)p->c_rstd)[t * N + n] = FN(normalize)(c_new, H, p->eps, c_hat);
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                tanh_c[j] = FN(tanh)(ln_c[j] * c_hat[j] + ln_bias_c[j]);
                h_next[j] = o[j] * tanh_c[j];
            }
        } else {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                tanh_c[j] = FN(tanh)(c_new[j]);
                h_next[j] = o[j] * tanh_c[j];
            }
        }
        if (p->keep_h) { /* held units (padding, zoneout) keep the previous state */
            const unsigned char *keep_h = p->keep_h + row, *keep_c = p->keep_c + row;
            REAL *restrict c_next = (REAL *)p->c_seq + NH + row;
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                const REAL h_old = h_prev[j], h_new = h_next[j], c_old = c_prev[j], c_fresh = c_new[j];
                h_next[j] = keep_h[j] ? h_old : h_new;
                c_next[j] = keep_c[j] ? c_old : c_fresh;
            }
        }
        if (mask && t + 1 < p->T) {
            REAL *restrict h_in = (REAL *)p->h_in + row + NH;
            const REAL *restrict m = mask + n * H;
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) h_in[j] = h_next[j] * m[j];
        }
    }
}

/* Step t backward. On entry ``carry`` holds the gradient reaching h_t from later steps through held
 * units (or dL/dh_T), ``rec`` (or NULL) the gradient dHW[t+1] W_hh reaching h_t through the next step's
 * recurrent product, and ``dc`` dL/dc_t. Writes dA[t] (pre-activation gradients), dHW[t] (gradient of
 * W_hh (m * h_{t-1}); dA[t] itself except for layernorm), leaves dL/dc_{t-1} in dc and the held part of
 * dL/dh_{t-1} in carry, and adds the step's share to the small parameters' gradients. */
KERNEL_TARGETS static void FN(backward_step)(const Plan *p, Py_ssize_t t, const REAL *rec_all) {
    const Py_ssize_t N = p->N, H = p->H, GH = p->G * p->H, NH = p->N * p->H;
    const int coupled = p->kind == KIND_COUPLED, layernorm = p->kind == KIND_LAYERNORM;
    const REAL *w_ci = p->w_ci, *w_cf = p->w_cf, *w_co = p->w_co, *ln_hh = p->ln_hh, *ln_c = p->ln_c;
    REAL *g_ci = p->g_ci, *g_cf = p->g_cf, *g_co = p->g_co;
    REAL *g_ln_c = p->g_ln_c, *g_ln_bias_c = p->g_ln_bias_c, *g_ln_hh = p->g_ln_hh, *g_bias = p->g_bias;
    REAL *restrict dh = p->row_tmp, *restrict dc_held = (REAL *)p->row_tmp + H;
    for (Py_ssize_t n = p->n0; n < p->n1; ++n) {
        const Py_ssize_t row = t * NH + n * H, grow = (t * N + n) * GH;
        const REAL *restrict a = (const REAL *)p->acts + grow;
        REAL *restrict da = (REAL *)p->dA + grow;
        const REAL *restrict c_prev = (const REAL *)p->c_seq + row;
        const REAL *restrict c_new = (p->c_new ? (const REAL *)p->c_new : (const REAL *)p->c_seq + NH) + row;
        const REAL *restrict tanh_c = (const REAL *)p->tanh_c + row;
        const REAL *restrict dout = p->dout ? (const REAL *)p->dout + row : (const REAL *)p->zeros;
        const REAL *restrict rec = rec_all ? rec_all + n * H : (const REAL *)p->zeros;
        const REAL *restrict m = p->mask ? (const REAL *)p->mask + n * H : (const REAL *)p->ones;
        REAL *restrict carry = (REAL *)p->carry + n * H, *restrict dc = (REAL *)p->dc + n * H;
        const unsigned char *keep_h = p->keep_h ? p->keep_h + row : p->never, *keep_c = p->keep_c ? p->keep_c + row : p->never;
        IVDEP
        for (Py_ssize_t j = 0; j < H; ++j) { /* dL/dh_t, split into the held part and the part for the cell */
            const REAL d = carry[j] + rec[j] * m[j] + dout[j], dcj = dc[j];
            const int kh = keep_h[j], kc = keep_c[j];
            carry[j] = kh ? d : (REAL)0;
            dh[j] = kh ? (REAL)0 : d;
            dc_held[j] = kc ? dcj : (REAL)0;
            dc[j] = kc ? (REAL)0 : dcj;
        }
        const REAL *restrict o = a + (GH - H);
        REAL *restrict da_o = da + (GH - H);
        IVDEP
        for (Py_ssize_t j = 0; j < H; ++j) { /* through h_t = o tanh_c: da_o, and dL/d tanh_c into dh */
            da_o[j] = dh[j] * tanh_c[j] * o[j] * ((REAL)1.0 - o[j]);
            dh[j] = dh[j] * o[j] * ((REAL)1.0 - tanh_c[j] * tanh_c[j]);
        }
        if (layernorm) { /* tanh_c = tanh(g_c c_hat + b_c), c_hat = (c - mean) rstd */
            const REAL *restrict c_hat = (const REAL *)p->c_hat + row;
            const REAL rstd = ((const REAL *)p->c_rstd)[t * N + n];
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) g_ln_bias_c[j] += dh[j];
            FN(normalize_backward)(dh, ln_c, c_hat, rstd, H, g_ln_c, dh);
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) dc[j] += dh[j];
        } else {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) dc[j] += dh[j];
        }
        if (coupled) {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                const REAL i = a[j], g = a[H + j], dct = dc[j];
                da[j] = dct * (g - c_prev[j]) * i * ((REAL)1.0 - i);
                da[H + j] = dct * i * ((REAL)1.0 - g * g);
                dc[j] = dct * ((REAL)1.0 - i) + dc_held[j];
            }
        } else {
            IVDEP
            for (Py_ssize_t j = 0; j < H; ++j) {
                const REAL i = a[j], f = a[H + j], g = a[2 * H + j], cp = c_prev[j];
                const REAL dct = dc[j] + da_o[j] * w_co[j];
                g_co[j] += da_o[j] * c_new[j];
                const REAL di = dct * g * i * ((REAL)1.0 - i), df = dct * cp * f * ((REAL)1.0 - f);
                da[j] = di;
                da[H + j] = df;
                da[2 * H + j] = dct * i * ((REAL)1.0 - g * g);
                g_ci[j] += di * cp;
                g_cf[j] += df * cp;
                dc[j] = dct * f + di * w_ci[j] + df * w_cf[j] + dc_held[j];
            }
        }
        IVDEP
        for (Py_ssize_t k = 0; k < GH; ++k) g_bias[k] += da[k];
        if (layernorm) { /* a = g_ih xw_hat + b_ih + g_hh hw_hat + b_hh: back through both normalizations */
            const Py_ssize_t at = t * N + n;
            FN(normalize_backward)(da, ln_hh, (const REAL *)p->hw_hat + grow, ((const REAL *)p->hw_rstd)[at], GH,
                                   g_ln_hh, (REAL *)p->dHW + grow);
            FN(normalize_backward)(da, p->ln_ih, (const REAL *)p->xw_hat + grow, ((const REAL *)p->xw_rstd)[at], GH,
                                   p->g_ln_ih, (REAL *)p->dXW + grow);
        }
    }
}

/* Pack W_hh for the products made here, and the step buffer of the weight gradients (before any thread
 * starts: the packed copies are shared). Returns 0 when out of memory. */
static int FN(prepare)(Plan *p, int backward) {
    const Py_ssize_t H = p->H, GH = p->G * p->H, I = p->input_size, widest = H > I ? H : I;
    if (!p->products) return 1;
    if (!backward)
        return p->packed_forward || (p->packed_forward = FN(packed_copy)(p->weight_hh, H, GH, 1, H, p->wide));
    if (!p->packed_backward && !(p->packed_backward = FN(packed_copy)(p->weight_hh, GH, H, H, 1, p->wide))) return 0;
    return p->step_pack || (p->step_pack = malloc((size_t)FN(packed_size)(p->N, widest, p->wide) * sizeof(REAL)));
}

/* Steps t0 .. t1-1 forward over the plan's rows n0 .. n1-1 (prepared). With hw given (one step), it is that
 * step's recurrent product; without, each step's product is made here, straight into acts[t] when nothing
 * comes between it and the pre-activation (every cell but layernorm). */
static void FN(forward_steps)(const Plan *p, Py_ssize_t t0, Py_ssize_t t1, const REAL *hw) {
    const Py_ssize_t N = p->N, H = p->H, GH = p->G * p->H, n0 = p->n0, rows = p->n1 - p->n0;
    const int direct = p->kind != KIND_LAYERNORM;
    for (Py_ssize_t t = t0; t < t1; ++t) {
        if (p->products) {
            const REAL *src = (const REAL *)p->recurrent_inputs + (t * N + n0) * H;
            REAL *dest = direct ? (REAL *)p->acts + (t * N + n0) * GH : (REAL *)p->scratch + n0 * GH;
            FN(product)(rows, GH, H, src, H, 1, p->packed_forward, dest, direct, p->wide);
        }
        FN(forward_step)(p, t, p->products ? (direct ? NULL : p->scratch) : hw);
    }
}

/* dW (G*H, K) += dP_t^T inputs_t over the plan's rows: dP_t (rows, G*H) read as A^T through strides,
 * inputs_t (rows, K) packed into the plan's step buffer. */
static void FN(add_weight_gradient)(const Plan *p, const REAL *dP_t, const REAL *inputs_t, Py_ssize_t K, REAL *dW) {
    const Py_ssize_t GH = p->G * p->H, rows = p->n1 - p->n0;
    FN(pack)(inputs_t, rows, K, K, 1, p->step_pack, p->wide);
    FN(product)(GH, K, rows, dP_t, 1, GH, p->step_pack, dW, 1, p->wide);
}

/* Steps t1-1 down to t0 backward over the plan's rows (prepared); ``rec`` as in backward_step for the first
 * of them. With products made here, each step's dHW[t] W_hh goes to the plan's rec buffer for the step
 * before, and the rows' share of dW_hh and dW_ih is added to g_weight_hh and g_weight_ih. */
static void FN(backward_steps)(const Plan *p, Py_ssize_t t0, Py_ssize_t t1, const REAL *rec) {
    const Py_ssize_t N = p->N, H = p->H, GH = p->G * p->H, I = p->input_size, n0 = p->n0, rows = p->n1 - p->n0;
    for (Py_ssize_t t = t1 - 1; t >= t0; --t) {
        FN(backward_step)(p, t, rec);
        if (p->products) {
            const REAL *dhw = (const REAL *)p->dHW + (t * N + n0) * GH, *dxw = (const REAL *)p->dXW + (t * N + n0) * GH;
            FN(product)(rows, H, GH, dhw, GH, 1, p->packed_backward, (REAL *)p->rec + n0 * H, 0, p->wide);
            rec = p->rec;
            FN(add_weight_gradient)(p, dhw, (const REAL *)p->recurrent_inputs + (t * N + n0) * H, H, p->g_weight_hh);
            FN(add_weight_gradient)(p, dxw, (const REAL *)p->x + (t * N + n0) * I, I, p->g_weight_ih);
        }
    }
}

#undef FN
#undef PARTS
