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

/* A[r][k] is A[r * row_stride + k * k_stride]. Rows beyond ``rows`` repeat the last one (computed,
 * never stored), so every tile has the same shape. */
GEMM_TARGET static void GN(tile)(Py_ssize_t K, const REAL *A, Py_ssize_t row_stride, Py_ssize_t k_stride,
                                 Py_ssize_t rows, const REAL *panel, REAL *C, Py_ssize_t ldc, Py_ssize_t cols,
                                 int accumulate) {
    GN(vec) acc[ROWS][2];
    const REAL *a[ROWS];
    for (int r = 0; r < ROWS; ++r) {
        acc[r][0] = acc[r][1] = (GN(vec)){0};
        a[r] = A + (r < rows ? r : rows - 1) * row_stride;
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
    for (int r = 0; r < ROWS && r < rows; ++r) {
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

/* C (N, M) = A (N, K) B, or C += A B with ``accumulate``; A through strides as in GN(tile), ``packed``
 * from GN(pack). Panels outermost, so one panel of B stays in cache while every row of A passes over it. */
GEMM_TARGET static void GN(gemm)(Py_ssize_t N, Py_ssize_t M, Py_ssize_t K, const REAL *A, Py_ssize_t row_stride,
                                 Py_ssize_t k_stride, const REAL *packed, REAL *C, int accumulate) {
    for (Py_ssize_t p0 = 0; p0 < M; p0 += PANEL) {
        const REAL *panel = packed + (p0 / PANEL) * K * PANEL;
        const Py_ssize_t cols = M - p0 < PANEL ? M - p0 : PANEL;
        for (Py_ssize_t n0 = 0; n0 < N; n0 += ROWS) {
            GN(tile)(K, A + n0 * row_stride, row_stride, k_stride, N - n0 < ROWS ? N - n0 : ROWS, panel,
                     C + n0 * M + p0, M, cols, accumulate);
        }
    }
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
