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

/* Which width's kernels run: ``wide`` names 512-bit vectors. */
#if HAVE_WIDE
#define PICK(name, wide) ((wide) ? PCAT(name, PCAT(SUFFIX, wide)) : PCAT(name, PCAT(SUFFIX, narrow)))
#else
#define PICK(name, wide) PCAT(name, PCAT(SUFFIX, narrow))
#endif

/* Elements of the packed form of a K x M matrix. */
static Py_ssize_t PCAT(packed_size, SUFFIX)(Py_ssize_t K, Py_ssize_t M, int wide) {
    return PICK(packed_size, wide)(K, M);
}

/* B[k][m] = src[k * k_stride + m * m_stride] (K x M) into panels at ``packed``. */
static void PCAT(pack, SUFFIX)(const REAL *src, Py_ssize_t K, Py_ssize_t M, Py_ssize_t k_stride, Py_ssize_t m_stride,
                               REAL *packed, int wide) {
    PICK(pack, wide)(src, K, M, k_stride, m_stride, packed);
}

/* A packed copy of src (as above) in fresh memory, or NULL when out of it. */
static REAL *PCAT(packed_copy, SUFFIX)(const REAL *src, Py_ssize_t K, Py_ssize_t M, Py_ssize_t k_stride,
                                       Py_ssize_t m_stride, int wide) {
    REAL *packed = malloc((size_t)PCAT(packed_size, SUFFIX)(K, M, wide) * sizeof(REAL));
    if (packed) PCAT(pack, SUFFIX)(src, K, M, k_stride, m_stride, packed, wide);
    return packed;
}

/* C (N, M) (+)= A (N, K) B with A[n][k] = A[n * row_stride + k * k_stride] and B packed. */
static void PCAT(product, SUFFIX)(Py_ssize_t N, Py_ssize_t M, Py_ssize_t K, const REAL *A, Py_ssize_t row_stride,
                                  Py_ssize_t k_stride, const REAL *packed, REAL *C, int accumulate, int wide) {
    PICK(gemm, wide)(N, M, K, A, row_stride, k_stride, packed, C, accumulate);
}

#undef PICK
