// The trainer tests' main: gtest's, after the BLAS kernels are made to fit the CPU (the whole-run
// quality tests take minutes on OpenBLAS's fallback kernels; see use_fitting_blas_kernels).
#include <gtest/gtest.h>

#include "trainer/trainer.h"

int main(int argc, char** argv) {
  verity::trainer::use_fitting_blas_kernels(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
