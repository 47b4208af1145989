/* The products of one step, C (N, M) (+)= A (N, K) B (K, M), with B packed into panels.
 *
 * Included by _kernels.c once per floating type and vector width, with REAL, SUFFIX, WIDTH (a name for
 * this width), VEC_BYTES, ROWS (rows of A per tile) and GEMM_TARGET defined. B is copied into panels of
 * PANEL columns (K x PANEL each, zero beyond M): W_hh^T (forward) or W_hh (backward) once per sequence,
 * a step's inputs (for the weight gradients) once per step. Each tile of ROWS x PANEL outputs keeps its
 * 2 ROWS accumulator vectors in registers while it runs over K. A is read through strides, so the
 * weight gradients dW += dA_t^T h_t take dA_t (N, G*H) as A^T without a transposed copy. Written with GCC vector extensions, so each x86-64 clone
 * and other CPUs get their own instructions from the same source.
 */

#define GCAT_(a, b, c) a##_##b##_##c
#define GCAT(a, b, c) GCAT_(a, b, c)
#define GN(name) GCAT(name, SUFFIX, WIDTH)
#define LANES ((Py_ssize_t)(VEC_BYTES / sizeof(REAL)))
#define PANEL (2 * LANES)

typedef REAL GN(vec) __attribute__((vector_size(VEC_BYTES)));

/* ROWS rows of C from ROWS rows of A, A[r][k] being A[r * row_stride + k * k_stride]. */
GEMM_TARGET static void GN(tile)(Py_ssize_t K, const REAL *A, Py_ssize_t row_stride, Py_ssize_t k_stride,
                                 const REAL *panel, REAL *C, Py_ssize_t ldc, Py_ssize_t cols, int accumulate) {
    GN(vec) acc[ROWS][2];
    const REAL *a[ROWS];
    for (int r = 0; r < ROWS; ++r) {
        acc[r][0] = acc[r][1] = (GN(vec)){0};
        a[r] = A + r * row_stride;
    }
    for (Py_ssize_t k = 0; k < K; ++k) {
        GN(vec) b0, b1;
        __builtin_memcpy(&b0, panel + k * PANEL, sizeof b0);
        __builtin_memcpy(&b1, panel + k * PANEL + LANES, sizeof b1);
        for (int r = 0; r < ROWS; ++r) { /* scalar times vector: a broadcast multiply-add */
            acc[r][0] += a[r][k * k_stride] * b0;
            acc[r][1] += a[r][k * k_stride] * b1;
        }
    }
    for (int r = 0; r < ROWS; ++r) {
        REAL *c = C + r * ldc;
        if (cols == PANEL) {
            GN(vec) c0 = acc[r][0], c1 = acc[r][1];
            if (accumulate) {
                GN(vec) old0, old1;
                __builtin_memcpy(&old0, c, sizeof old0);
                __builtin_memcpy(&old1, c + LANES, sizeof old1);
                c0 += old0;
                c1 += old1;
            }
            __builtin_memcpy(c, &c0, sizeof c0);
            __builtin_memcpy(c + LANES, &c1, sizeof c1);
        } else {
            for (Py_ssize_t j = 0; j < cols; ++j) {
                const REAL v = j < LANES ? acc[r][0][j] : acc[r][1][j - LANES];
                c[j] = accumulate ? c[j] + v : v;
            }
        }
    }
}

/* c (M) = a (K) B, or c += a B, for a single row a[k] = a[k * k_stride]. A tile would compute ROWS rows
 * for it; here four panels run side by side instead, so that eight accumulator vectors hide the latency
 * of the multiply-adds (one panel's two cannot). Panels past the last repeat it (computed, never stored). */
#define ROW_PANELS 4
GEMM_TARGET static void GN(row)(Py_ssize_t M, Py_ssize_t K, const REAL *a, Py_ssize_t k_stride, const REAL *packed,
                                REAL *c, int accumulate) {
    const Py_ssize_t panels = (M + PANEL - 1) / PANEL;
    for (Py_ssize_t q0 = 0; q0 < panels; q0 += ROW_PANELS) {
        GN(vec) acc[ROW_PANELS][2];
        const REAL *panel[ROW_PANELS];
        for (int q = 0; q < ROW_PANELS; ++q) {
            acc[q][0] = acc[q][1] = (GN(vec)){0};
            panel[q] = packed + (q0 + q < panels ? q0 + q : panels - 1) * K * PANEL;
        }
        for (Py_ssize_t k = 0; k < K; ++k) {
            const REAL ak = a[k * k_stride];
            for (int q = 0; q < ROW_PANELS; ++q) {
                GN(vec) b0, b1;
                __builtin_memcpy(&b0, panel[q] + k * PANEL, sizeof b0);
                __builtin_memcpy(&b1, panel[q] + k * PANEL + LANES, sizeof b1);
                acc[q][0] += ak * b0;
                acc[q][1] += ak * b1;
            }
        }
        for (int q = 0; q < ROW_PANELS && q0 + q < panels; ++q) {
            const Py_ssize_t m0 = (q0 + q) * PANEL, cols = M - m0 < PANEL ? M - m0 : PANEL;
            for (Py_ssize_t j = 0; j < cols; ++j) {
                const REAL v = j < LANES ? acc[q][0][j] : acc[q][1][j - LANES];
                c[m0 + j] = accumulate ? c[m0 + j] + v : v;
            }
        }
    }
}
#undef ROW_PANELS

/* C (N, M) = A (N, K) B, or C += A B with ``accumulate``; A through strides as in GN(tile), ``packed``
 * from GN(pack). Panels outermost, so one panel of B stays in cache while every row of A passes over it.
 * Rows short of a whole tile go through GN(row) one by one (same sums in the same order). */
GEMM_TARGET static void GN(gemm)(Py_ssize_t N, Py_ssize_t M, Py_ssize_t K, const REAL *A, Py_ssize_t row_stride,
                                 Py_ssize_t k_stride, const REAL *packed, REAL *C, int accumulate) {
    const Py_ssize_t tiled = N / ROWS * ROWS;
    for (Py_ssize_t p0 = 0; p0 < M; p0 += PANEL) {
        const REAL *panel = packed + (p0 / PANEL) * K * PANEL;
        const Py_ssize_t cols = M - p0 < PANEL ? M - p0 : PANEL;
        for (Py_ssize_t n0 = 0; n0 < tiled; n0 += ROWS) {
            GN(tile)(K, A + n0 * row_stride, row_stride, k_stride, panel, C + n0 * M + p0, M, cols, accumulate);
        }
    }
    for (Py_ssize_t n = tiled; n < N; ++n) GN(row)(M, K, A + n * row_stride, k_stride, packed, C + n * M, accumulate);
}

/* Elements of the packed form of a K x M matrix. */
static Py_ssize_t GN(packed_size)(Py_ssize_t K, Py_ssize_t M) { return (M + PANEL - 1) / PANEL * K * PANEL; }

/* B[k][m] = src[k * k_stride + m * m_stride] into panels at ``packed`` (GN(packed_size) elements). */
static void GN(pack)(const REAL *src, Py_ssize_t K, Py_ssize_t M, Py_ssize_t k_stride, Py_ssize_t m_stride,
                     REAL *packed) {
    const Py_ssize_t panels = (M + PANEL - 1) / PANEL;
    for (Py_ssize_t p = 0; p < panels; ++p) {
        for (Py_ssize_t k = 0; k < K; ++k) {
            for (Py_ssize_t j = 0; j < PANEL; ++j) {
                const Py_ssize_t m = p * PANEL + j;
                packed[(p * K + k) * PANEL + j] = m < M ? src[k * k_stride + m * m_stride] : (REAL)0;
            }
        }
    }
}

#undef GN
#undef LANES
#undef PANEL
