// The embedded LibTorch trainer (issue: trainer). Only trainer/ includes torch headers.
#pragma once
#include <string>

namespace verity::trainer {

// "libtorch <version>, <threads> threads": proves the torch link and reports the runtime.
std::string runtime_summary();

}  // namespace verity::trainer
