// Internal to trainer/: the torch transformer, KV cache, batched sampler and loss pieces.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "trainer/trainer.h"

namespace verity::trainer {

struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer [B, H, Tc, Dh]
};

struct BlockImpl : torch::nn::Module {
  BlockImpl(int width, int heads);
  // x [B,T,C]; cos/sin [B,1,T,Dh/2] (RoPE) or undefined; mask [B,1,T,Tk] additive.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, torch::Tensor* k_cache, torch::Tensor* v_cache);
  int heads, head_dim;
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Block);

struct GPTImpl : torch::nn::Module {
  explicit GPTImpl(const ModelConfig& config);
  // tokens [B,T] int64; positions [B,T] int64; key_valid [B, Tc+T] bool (Tc = cached length).
  // Returns logits [B,T,V]. With a cache, appends this chunk's keys/values.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& key_valid,
                        KVCache* cache = nullptr);
  ModelConfig cfg;
  torch::nn::Embedding tok{nullptr}, pos{nullptr};
  torch::nn::ModuleList blocks;
  torch::nn::LayerNorm lnf{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(GPT);

// A batch laid out as [left-padded prompt | right-padded completion]; the layout used for sampling and
// for scoring sampled completions.
struct Layout {
  torch::Tensor tokens;       // [B, P+L] int64
  torch::Tensor positions;    // [B, P+L]
  torch::Tensor valid;        // [B, P+L] bool
  torch::Tensor target_mask;  // [B, L] float: 1 on completion tokens (eos included)
  int prompt_len = 0;         // P
};
Layout make_layout(const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& completions);
// log p(completion token) under the model: [B, L]; also the mean entropy over target tokens if asked.
torch::Tensor completion_logprobs(GPT& model, const Layout& layout, torch::Tensor* entropy = nullptr);

struct SampleOptions {
  int max_new = 16;
  double temperature = 1.0;    // 0 = greedy
  double top_p = 1.0;
  bool use_cache = true;
  int eos = -1;
};
// Batched decoding; returns the new tokens per row (eos included when produced).
std::vector<std::vector<int>> sample(GPT& model, const std::vector<std::vector<int>>& prompts,
                                     const SampleOptions& options, torch::Generator& gen,
                                     std::vector<torch::Tensor>* step_logits = nullptr);

// Per-token GRPO loss (see policy_token_loss in trainer.h); tensors of equal shape.
torch::Tensor grpo_token_loss(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                              const torch::Tensor& adv, double clip_low, double clip_high, double kl_coef);

struct Model::Impl {
  GPT net{nullptr};
};

}  // namespace verity::trainer
