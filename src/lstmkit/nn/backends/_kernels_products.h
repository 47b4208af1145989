/* The recurrent products for one floating type: the matrix kernel at two vector widths (512-bit for
 * CPUs that have it, 256-bit for the rest) and the function that picks one. Included by _kernels.c with
 * REAL and SUFFIX defined. */

#define WIDTH wide
#define VEC_BYTES 64
#define ROWS 8
#if HAVE_WIDE
#define GEMM_TARGET WIDE_TARGET
#include "_kernels_gemm.h"
#endif
#undef WIDTH
#undef VEC_BYTES
#undef ROWS
#undef GEMM_TARGET

#define WIDTH narrow
#define VEC_BYTES 32
#define ROWS 4
#define GEMM_TARGET KERNEL_TARGETS
#include "_kernels_gemm.h"
#undef WIDTH
#undef VEC_BYTES
#undef ROWS
#undef GEMM_TARGET

#define PCAT_(a, b) a##_##b
#define PCAT(a, b) PCAT_(a, b)

/* W_hh (GH, H) packed as B for C = A B: forward B = W_hh^T (K = H, M = GH), backward B = W_hh (K = GH,
 * M = H), in the layout of the width ``wide`` names. */
static REAL *PCAT(pack, SUFFIX)(const REAL *weight_hh, Py_ssize_t GH, Py_ssize_t H, int backward, int wide) {
    const Py_ssize_t K = backward ? GH : H, M = backward ? H : GH;
    const Py_ssize_t k_stride = backward ? H : 1, m_stride = backward ? 1 : H;
#if HAVE_WIDE
    if (wide) return PCAT(pack, PCAT(SUFFIX, wide))(weight_hh, K, M, k_stride, m_stride);
#endif
    return PCAT(pack, PCAT(SUFFIX, narrow))(weight_hh, K, M, k_stride, m_stride);
}

static void PCAT(product, SUFFIX)(Py_ssize_t N, Py_ssize_t M, Py_ssize_t K, const REAL *A, const REAL *packed,
                                  REAL *C, int accumulate, int wide) {
#if HAVE_WIDE
    if (wide) {
        PCAT(gemm, PCAT(SUFFIX, wide))(N, M, K, A, packed, C, accumulate);
        return;
    }
#endif
    PCAT(gemm, PCAT(SUFFIX, narrow))(N, M, K, A, packed, C, accumulate);
}
