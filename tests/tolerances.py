"""Every numerical tolerance the tests use, in one place, with the reason for each."""

# Central differences in float64 with eps = 1e-6 are good to about 1e-9 relative on smooth losses.
FINITE_DIFFERENCE_REL = 1e-6
# The reference against torch.nn in float64: only summation order differs.
TORCH_FLOAT64_ABS = 1e-10
# Rearranging the same float64 computation (step by step vs whole, padded vs alone).
SAME_MATH_ABS = 1e-12
# lstmkit.nn against the reference in float64: same math, different summation order and sigmoid formula.
NN_VS_REFERENCE_FLOAT64_ABS = 1e-9
# float32 layers against torch.nn: a few ulps of O(1) values, accumulated over T steps.
FLOAT32_ABS = 1e-5
