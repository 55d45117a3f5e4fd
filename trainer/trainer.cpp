#include "trainer/trainer.h"

#include <torch/torch.h>

namespace verity::trainer {

std::string runtime_summary() {
  return std::string("libtorch ") + TORCH_VERSION + ", " + std::to_string(torch::get_num_threads()) + " threads";
}

}  // namespace verity::trainer
