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
  // Returns logits [B,T,V]. With a cache, appends this chunk's keys/values. `segments` [B,T] int64
  // (packed rows, no cache): a token attends only to earlier tokens of its own segment.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& key_valid,
                        KVCache* cache = nullptr, const torch::Tensor& segments = {});
  // The last hidden states [B,T,C] (before the output head); forward = head(hidden).
  torch::Tensor hidden(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& key_valid,
                       KVCache* cache = nullptr, const torch::Tensor& segments = {});
  ModelConfig cfg;
  torch::nn::Embedding tok{nullptr}, pos{nullptr};
  torch::nn::ModuleList blocks;
  torch::nn::LayerNorm lnf{nullptr};
  torch::nn::Linear head{nullptr};
  // Run the forward pass under bf16 autocast when the weights are on a CUDA device (set by the
  // trainer from --precision; not part of the checkpoint: the weights stay fp32).
  bool bf16 = false;
};
TORCH_MODULE(GPT);

// Where the model's weights live: every input is moved there before a forward pass.
inline torch::Device device_of(const GPT& model) { return model->tok->weight.device(); }

// --device cpu | cuda | auto (cuda when this LibTorch was built with CUDA and sees a GPU); a clear
// error when cuda is asked for and cannot be had.
torch::Device resolve_device(const std::string& name);

// bf16 autocast for CUDA ops while alive (a no-op when `on` is false). LibTorch 1.13 and 2.x name the
// switches differently; this is the one place that knows both.
class CudaAutocast {
 public:
  explicit CudaAutocast(bool on);
  ~CudaAutocast();
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool on_, was_enabled_ = false;
};

// A batch laid out as [left-padded prompt | right-padded completion]; the layout used for sampling and
// for scoring sampled completions.
struct Layout {
  torch::Tensor tokens;       // [B, P+L] int64
  torch::Tensor positions;    // [B, P+L]
  torch::Tensor valid;        // [B, P+L] bool
  torch::Tensor target_mask;  // [B, L] float: 1 on completion tokens (eos included)
  int prompt_len = 0;         // P
  Layout to(torch::Device device) const;  // the same layout on `device` (itself when already there)
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

// Padding-free batches: every sequence (prompt + completion) lies whole in one row of `capacity`
// tokens, rows filled first-fit decreasing (capacity = the longest sequence at least); a token attends
// only to its own sequence and positions restart at 0 per sequence, so each sequence's logits equal
// those of a batch of one. Only the positions whose next token is a target are sent through the
// output head and the softmax.
struct Packed {
  torch::Tensor tokens, positions, segments, valid;  // [R, C]
  int64_t sequences = 0;
  int64_t real_tokens = 0;       // sum of the sequences' lengths
  int64_t slots = 0;             // R * C
  // flat indices (into R*C) of the positions predicting a completion token, those tokens, and
  // the sequence each belongs to; the same for next-token pairs inside the prompts
  torch::Tensor comp_index, comp_target, comp_seq;
  torch::Tensor prompt_index, prompt_target;
  Packed to(torch::Device device) const;  // the same rows on `device` (itself when already there)
};
Packed pack(const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& completions,
            int capacity = 0);
struct PackedLogprobs {
  torch::Tensor completion;      // [Nc] log p of each completion token (Packed::comp_* order)
  torch::Tensor prompt;          // [Np] log p of each prompt token after the first (if asked)
  torch::Tensor entropy;         // mean entropy over completion tokens (no grad), if asked
};
PackedLogprobs packed_logprobs(GPT& model, const Packed& packed, bool with_prompt, bool with_entropy);

// Per-token GRPO loss (see policy_token_loss in trainer.h); tensors of equal shape.
torch::Tensor grpo_token_loss(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                              const torch::Tensor& adv, double clip_low, double clip_high, double kl_coef);

struct Model::Impl {
  GPT net{nullptr};
};

}  // namespace verity::trainer
