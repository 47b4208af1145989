"""Builds the fast backend's optional C kernels (lstmkit.nn.backends._kernels); metadata is in pyproject.toml.

The extension needs only a C compiler and Python's headers (no torch, no BLAS at build time). If it
cannot be built, installation goes on without it and the fast backend runs its time loop in Python.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildKernels(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args = ["-O3", "-std=c11", "-ffp-contract=fast", "-fno-math-errno", "-fno-trapping-math"]
        super().build_extensions()


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
