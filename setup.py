"""Builds the fast backend's optional C kernels (lstmkit.nn.backends._kernels); metadata is in pyproject.toml.

The extension needs only a C compiler and Python's headers (no torch, no BLAS at build time). It is built with
OpenMP where the compiler has it (the time loop then splits its batch rows over torch's threads), else without
(one thread). If it cannot be built at all, installation goes on without it and the fast backend runs its time
loop in Python.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

FLAGS = ["-O3", "-std=c11", "-ffp-contract=fast", "-fno-math-errno", "-fno-trapping-math"]


class BuildKernels(build_ext):
    def build_extension(self, extension):
        if self.compiler.compiler_type != "unix":
            return super().build_extension(extension)
        extension.extra_compile_args, extension.extra_link_args = [*FLAGS, "-fopenmp"], ["-fopenmp"]
        try:
            return super().build_extension(extension)
        except (CompileError, LinkError):  # no OpenMP with this compiler: one thread
            extension.extra_compile_args, extension.extra_link_args = FLAGS, []
            return super().build_extension(extension)


KERNELS = Extension(
    "lstmkit.nn.backends._kernels",
    sources=["src/lstmkit/nn/backends/_kernels.c"],
    depends=[
        "src/lstmkit/nn/backends/_kernels_step.h",
        "src/lstmkit/nn/backends/_kernels_products.h",
        "src/lstmkit/nn/backends/_kernels_gemm.h",
        "src/lstmkit/nn/backends/_kernels_stream.h",
    ],
    optional=True,
)

setup(ext_modules=[KERNELS], cmdclass={"build_ext": BuildKernels})
