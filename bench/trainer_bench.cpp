// Throughput of the C++ trainer's model: training tokens/s (forward, backward, Adam) and
// sampling tokens/s with and without the KV cache. bench/trainer_reference.py runs the same model,
// shapes and measurements in Python PyTorch; bench/trainer_compare.sh runs both and prints ratios.
//
//   verity_trainer_bench [--layers 2] [--width 64] [--heads 4] [--vocab 320] [--pos rope]
//                        [--batch 32] [--seq 64] [--train-steps 20] [--prompt 48] [--new 32]
//                        [--threads 1] [--repeats 3]
// Prints one JSON object. Every figure is the best of `repeats` timed runs (the machine is shared).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/trainer.h"

namespace {

using verity::trainer::Model;
using verity::trainer::ModelConfig;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Token ids in [4, vocab) from a fixed LCG: the same batch on every run (and in the Python script).
std::vector<std::vector<int>> tokens(int rows, int len, int vocab, uint64_t seed) {
  std::vector<std::vector<int>> out(rows, std::vector<int>(len));
  uint64_t x = seed;
  for (auto& row : out)
    for (int& t : row) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      t = 4 + static_cast<int>((x >> 33) % uint64_t(vocab - 4));
    }
  return out;
}

template <class F>
double best_seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  verity::trainer::use_fitting_blas_kernels(argv);
  std::map<std::string, std::string> a = {{"layers", "2"},  {"width", "64"},        {"heads", "4"},  {"vocab", "320"},
                                          {"pos", "rope"},  {"batch", "32"},        {"seq", "64"},   {"train-steps", "20"},
                                          {"prompt", "48"}, {"new", "32"},          {"threads", "1"}, {"repeats", "3"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || !a.count(k.substr(2))) {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
    a[k.substr(2)] = argv[i + 1];
  }
  auto num = [&](const char* k) { return std::atoi(a.at(k).c_str()); };
  verity::trainer::configure_threads(num("threads"));
  ModelConfig mc;
  mc.vocab = num("vocab");
  mc.layers = num("layers");
  mc.width = num("width");
  mc.heads = num("heads");
  mc.pos_encoding = a.at("pos");
  Model model(mc, 1);
  const int B = num("batch"), T = num("seq"), steps = num("train-steps"), repeats = num("repeats");
  const int P = num("prompt"), N = num("new");

  const auto batch = tokens(B, T, mc.vocab, 1);
  model.fit(batch, 2, 1e-3);  // warm-up: allocator, thread pool
  const double train_s = best_seconds(repeats, [&] { model.fit(batch, steps, 1e-3); });

  const auto prompts = tokens(B, P, mc.vocab, 2);
  auto sample = [&](bool cache) {
    return best_seconds(repeats, [&] { model.generate(prompts, N, 0.0, 1.0, cache, 0); });
  };
  model.generate(prompts, 2, 0.0, 1.0, true, 0);  // warm-up
  const double cache_s = sample(true), nocache_s = sample(false);

  nlohmann::json out = {{"impl", "cpp"},
                        {"runtime", verity::trainer::runtime_summary()},
                        {"parameters", model.parameter_count()},
                        {"train_tokens_per_s", double(B) * T * steps / train_s},
                        {"sample_cache_tokens_per_s", double(B) * N / cache_s},
                        {"sample_nocache_tokens_per_s", double(B) * N / nocache_s}};
  std::cout << out.dump() << std::endl;
  return 0;
}
