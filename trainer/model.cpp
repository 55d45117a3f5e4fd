// The transformer, sampler, GRPO math and the Model handle.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <malloc.h>
#include <unistd.h>
#include <numeric>
#include <stdexcept>

#include <ATen/autocast_mode.h>

#include "trainer/tokenizer.h"
#include "trainer/torch_model.h"

extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char* openblas_get_config(void) __attribute__((weak));
extern "C" char* openblas_get_corename(void) __attribute__((weak));

namespace verity::trainer {

// glibc hands every allocation above its mmap threshold (128 KiB, raised only slowly) a fresh mapping
// and unmaps it on free, so each activation and gradient of a training step page-faults its memory in
// again: measured, 15% of the time in page faults and training at half the tokens/s of the same model
// in Python. Keeping freed memory in the heap (no mmap below 32 MiB, trim only above 512 MiB) doubles it.
static void keep_freed_memory_in_the_heap() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
    return true;
  }();
  (void)done;
}

void configure_threads(int threads) {
  keep_freed_memory_in_the_heap();
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  setenv("OMP_NUM_THREADS", threads > 0 ? std::to_string(threads).c_str() : "2", 0);
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

// OpenBLAS chooses its kernels by CPU model when it loads. Debian 12's 0.3.21 does not know the CPUs
// released after it (Emerald Rapids, family 6 model 207, the VMs this project ran on in December 2026)
// and falls back to its Prescott (SSE3) kernels: measured, the knights demo trained on one thread at
// 8.6k tokens/s on them and 22.3k on SkylakeX's.
// The library reads OPENBLAS_CORETYPE only as it loads, so the fix is to run the program again with it set.
static const char* fitting_blas_core() {
  if (!openblas_get_corename || std::getenv("OPENBLAS_CORETYPE")) return nullptr;
  if (std::string(openblas_get_corename()) != "Prescott") return nullptr;  // it knew the CPU
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void use_fitting_blas_kernels(char** argv) {
  const char* core = fitting_blas_core();
  if (!core) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then train on the slow kernels
  unsetenv("OPENBLAS_CORETYPE");
}

std::string runtime_summary() {
  std::string blas = openblas_get_config ? std::string(openblas_get_config()) : "libtorch's own BLAS";  // "OpenBLAS 0.3.21 ..."
  return std::string("libtorch ") + TORCH_VERSION + ", " + std::to_string(torch::get_num_threads()) + " threads, " +
         blas;
}

// ---------------- device and precision ----------------

torch::Device resolve_device(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "cpu" || (name == "auto" && !cuda)) return torch::kCPU;
  if (name == "cuda" || name == "auto") {
    if (!cuda)
      throw std::invalid_argument(std::string("--device cuda: no CUDA device is usable (this build's libtorch ") +
                                  TORCH_VERSION + " was built without CUDA, or no GPU is visible); use --device cpu, "
                                  "or build against a CUDA libtorch as scripts/gpu-check.sh does");
    return torch::Device(torch::kCUDA, 0);
  }
  throw std::invalid_argument("--device must be cpu | cuda | auto, got " + name);
}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
static void set_cuda_autocast(bool on) {
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
}
#else  // LibTorch 1.13 (Debian 12): the CUDA switches carry no device type
static bool cuda_autocast_enabled() { return at::autocast::is_enabled(); }
static void set_cuda_autocast(bool on) {
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(on);
}
#endif

CudaAutocast::CudaAutocast(bool on) : on_(on) {
  if (!on_) return;
  was_enabled_ = cuda_autocast_enabled();
  set_cuda_autocast(true);
  at::autocast::increment_nesting();
}

CudaAutocast::~CudaAutocast() {
  if (!on_) return;
  // the cast weights are cached while any autocast region is open: free them with the outermost one
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cuda_autocast(was_enabled_);
}

Layout Layout::to(torch::Device device) const {
  if (tokens.device() == device) return *this;
  Layout out = *this;
  out.tokens = tokens.to(device, /*non_blocking=*/true);
  out.positions = positions.to(device, true);
  out.valid = valid.to(device, true);
  out.target_mask = target_mask.to(device, true);
  return out;
}

Packed Packed::to(torch::Device device) const {
  if (tokens.device() == device) return *this;
  Packed out = *this;
  for (torch::Tensor* t : {&out.tokens, &out.positions, &out.segments, &out.valid, &out.comp_index, &out.comp_target,
                           &out.comp_seq, &out.prompt_index, &out.prompt_target})
    *t = t->to(device, /*non_blocking=*/true);
  return out;
}

nlohmann::json ModelConfig::to_json() const {
  return {{"vocab", vocab}, {"layers", layers}, {"width", width}, {"heads", heads}, {"max_len", max_len},
          {"pos_encoding", pos_encoding}, {"init", init}};
}
ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  ModelConfig c;
  c.vocab = j.at("vocab");
  c.layers = j.at("layers");
  c.width = j.at("width");
  c.heads = j.at("heads");
  c.max_len = j.at("max_len");
  c.pos_encoding = j.at("pos_encoding");
  c.init = j.value("init", "fan_in");  // checkpoints written before the key: weights are loaded anyway
  return c;
}

// ---------------- model ----------------

BlockImpl::BlockImpl(int width, int heads_) : heads(heads_), head_dim(width / heads_) {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  qkv = register_module("qkv", torch::nn::Linear(width, 3 * width));
  proj = register_module("proj", torch::nn::Linear(width, width));
  fc1 = register_module("fc1", torch::nn::Linear(width, 4 * width));
  fc2 = register_module("fc2", torch::nn::Linear(4 * width, width));
}

static torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t h = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, h), x2 = x.narrow(-1, h, h);
  return torch::cat({x1 * cos - x2 * sin, x1 * sin + x2 * cos}, -1);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                 const torch::Tensor& mask, torch::Tensor* k_cache, torch::Tensor* v_cache) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  auto qkv_out = qkv(ln1(x)).view({B, T, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});  // [3,B,H,T,Dh]
  auto q = qkv_out[0], k = qkv_out[1], v = qkv_out[2];
  if (cos.defined()) {
    q = rotate(q, cos, sin);
    k = rotate(k, cos, sin);
  }
  if (k_cache) {
    if (k_cache->defined()) {
      k = torch::cat({*k_cache, k}, 2);
      v = torch::cat({*v_cache, v}, 2);
    }
    *k_cache = k;
    *v_cache = v;
  }
  auto att = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(head_dim))) + mask;
  att = torch::softmax(att, -1);
  auto y = torch::matmul(att, v).transpose(1, 2).reshape({B, T, C});
  auto h = x + proj(y);
  return h + fc2(torch::gelu(fc1(ln2(h))));
}

GPTImpl::GPTImpl(const ModelConfig& config) : cfg(config) {
  if (cfg.vocab <= 0) throw std::invalid_argument("model: vocab must be > 0");
  if (cfg.width % cfg.heads != 0 || (cfg.width / cfg.heads) % 2 != 0)
    throw std::invalid_argument("model: width must be a multiple of 2*heads");
  if (cfg.pos_encoding != "none" && cfg.pos_encoding != "learned" && cfg.pos_encoding != "sinusoidal" &&
      cfg.pos_encoding != "rope")
    throw std::invalid_argument("model: pos_encoding must be none|learned|sinusoidal|rope, got " + cfg.pos_encoding);
  if (cfg.init != "fan_in" && cfg.init != "gpt2")
    throw std::invalid_argument("model: init must be fan_in|gpt2, got " + cfg.init);
  tok = register_module("tok", torch::nn::Embedding(cfg.vocab, cfg.width));
  if (cfg.pos_encoding == "learned") pos = register_module("pos", torch::nn::Embedding(cfg.max_len, cfg.width));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < cfg.layers; ++i) blocks->push_back(Block(cfg.width, cfg.heads));
  lnf = register_module("lnf", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.width})));
  head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(cfg.width, cfg.vocab).bias(false)));
  // Initialisation (issue 13): embeddings N(0, 1) and every weight matrix N(0, 1 / fan_in), biases 0,
  // LayerNorms (1, 0). The GPT-2 scheme used before (every matrix N(0, 0.02), residual projections
  // N(0, 0.02 / sqrt(2 layers))) makes attention logits ~0.03 at the start, so attention is uniform, the
  // answer position sees a bag of tokens that carries no order, and answer-only SFT on 2-node chains sat
  // at chance: 0 of 5 seeds left it by step 3,000 (lr 1e-3). With this scheme the logits start at ~1 and
  // seeds 1-3 reach 1.000 / 0.945 / 0.980 at step 3,000 (tests/trainer_test.cpp,
  // AnswerOnlySftLearnsTwoNodeChainsOnEverySeed; the plain-PyTorch reference: 0.90 / 0.93 / 0.955).
  torch::NoGradGuard ng;
  if (cfg.init == "gpt2") {
    for (auto& p : named_parameters()) {
      if (p.key().find("ln") != std::string::npos) continue;
      if (p.value().dim() >= 2) p.value().normal_(0.0, 0.02);
      else p.value().zero_();
    }
    const double scale = 0.02 / std::sqrt(2.0 * cfg.layers);
    for (auto& m : *blocks) {
      auto b = std::dynamic_pointer_cast<BlockImpl>(m);
      b->proj->weight.normal_(0.0, scale);
      b->fc2->weight.normal_(0.0, scale);
    }
    return;
  }
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    auto& w = p.value();
    if (name.rfind("ln", 0) == 0 || name.find(".ln") != std::string::npos) continue;
    if (name == "tok.weight" || name == "pos.weight") w.normal_(0.0, 1.0);
    else if (w.dim() >= 2) w.normal_(0.0, 1.0 / std::sqrt(double(w.size(1))));
    else w.zero_();
  }
}

static torch::Tensor inv_freq(int64_t dim, torch::Device device) {
  return torch::pow(10000.0, -torch::arange(0, dim, 2, torch::TensorOptions(torch::kFloat).device(device)) /
                                 double(dim));  // [dim/2]
}

torch::Tensor GPTImpl::forward(const torch::Tensor& tokens, const torch::Tensor& positions,
                               const torch::Tensor& key_valid, KVCache* cache, const torch::Tensor& segments) {
  const bool autocast = bf16 && tokens.is_cuda();
  CudaAutocast scope(autocast);
  auto logits = head(hidden(tokens, positions, key_valid, cache, segments));
  return autocast ? logits.to(torch::kFloat) : logits;  // softmaxes downstream run in fp32
}

torch::Tensor GPTImpl::hidden(const torch::Tensor& tokens, const torch::Tensor& positions,
                              const torch::Tensor& key_valid, KVCache* cache, const torch::Tensor& segments) {
  const int64_t B = tokens.size(0), T = tokens.size(1), Tk = key_valid.size(1);
  const torch::Device device = tokens.device();
  CudaAutocast autocast(bf16 && device.is_cuda());
  auto x = tok(tokens);
  torch::Tensor cos, sin;
  if (cfg.pos_encoding == "learned") {
    x = x + pos(positions.clamp(0, cfg.max_len - 1));
  } else if (cfg.pos_encoding == "sinusoidal") {
    auto ang = positions.to(torch::kFloat).unsqueeze(-1) * inv_freq(cfg.width, device);  // [B,T,C/2]
    x = x + torch::cat({ang.sin(), ang.cos()}, -1);
  } else if (cfg.pos_encoding == "rope") {
    auto ang = (positions.to(torch::kFloat).unsqueeze(-1) * inv_freq(cfg.width / cfg.heads, device)).unsqueeze(1);
    cos = ang.cos();
    sin = ang.sin();
  }
  // query i (absolute index Tk-T+i) sees key j when j <= that index and key j is valid
  const auto longs = torch::TensorOptions(torch::kLong).device(device);
  auto qi = torch::arange(Tk - T, Tk, longs).unsqueeze(1);
  auto kj = torch::arange(0, Tk, longs).unsqueeze(0);
  auto allowed = (kj <= qi).unsqueeze(0) & key_valid.unsqueeze(1);             // [B,T,Tk]
  if (segments.defined()) {
    if (cache) throw std::invalid_argument("model: packed segments cannot use a KV cache");
    allowed = allowed & (segments.unsqueeze(2) == segments.unsqueeze(1));
  }
  auto mask = torch::zeros({B, 1, T, Tk}, torch::TensorOptions(torch::kFloat).device(device)).masked_fill(allowed.logical_not().unsqueeze(1), -1e9);
  if (cache && cache->k.empty()) {
    cache->k.resize(blocks->size());
    cache->v.resize(blocks->size());
  }
  for (size_t i = 0; i < blocks->size(); ++i) {
    auto b = blocks->ptr<BlockImpl>(i);
    x = b->forward(x, cos, sin, mask, cache ? &cache->k[i] : nullptr, cache ? &cache->v[i] : nullptr);
  }
  return lnf(x);
}

// ---------------- layout, log-probs, sampling ----------------

Layout make_layout(const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& completions) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  size_t P = 0, L = 0;
  for (const auto& p : prompts) P = std::max(P, p.size());
  for (const auto& c : completions) L = std::max(L, c.size());
  Layout out;
  out.prompt_len = static_cast<int>(P);
  auto tokens = torch::zeros({B, int64_t(P + L)}, torch::kLong);
  auto valid = torch::zeros({B, int64_t(P + L)}, torch::kBool);
  auto tmask = torch::zeros({B, int64_t(L)}, torch::kFloat);
  auto ta = tokens.accessor<int64_t, 2>();
  auto va = valid.accessor<bool, 2>();
  auto ma = tmask.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const size_t off = P - p.size();
    for (size_t i = 0; i < p.size(); ++i) ta[b][off + i] = p[i], va[b][off + i] = true;
    if (b < static_cast<int64_t>(completions.size()))
      for (size_t i = 0; i < completions[b].size(); ++i)
        ta[b][P + i] = completions[b][i], va[b][P + i] = true, ma[b][i] = 1.0f;
  }
  out.tokens = tokens;
  out.valid = valid;
  out.positions = (valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
  out.target_mask = tmask;
  return out;
}

torch::Tensor completion_logprobs(GPT& model, const Layout& layout, torch::Tensor* entropy) {
  const int64_t P = layout.prompt_len, L = layout.target_mask.size(1);
  auto logits = model->forward(layout.tokens, layout.positions, layout.valid);
  auto lp = torch::log_softmax(logits.narrow(1, P - 1, L), -1);  // predicts tokens P..P+L-1
  auto targets = layout.tokens.narrow(1, P, L);
  if (entropy) {
    torch::NoGradGuard ng;
    auto ent = -(lp.exp() * lp).sum(-1);
    *entropy = (ent * layout.target_mask).sum() / layout.target_mask.sum().clamp_min(1);
  }
  return lp.gather(2, targets.unsqueeze(-1)).squeeze(-1);
}

Packed pack(const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& completions,
            int capacity) {
  const size_t n = prompts.size();
  if (completions.size() != n) throw std::invalid_argument("pack: one completion per prompt");
  std::vector<int64_t> len(n);
  int64_t longest = 1;
  for (size_t i = 0; i < n; ++i) {
    len[i] = int64_t(prompts[i].size() + completions[i].size());
    longest = std::max(longest, len[i]);
  }
  const int64_t C = std::max<int64_t>(capacity, longest);
  // first-fit decreasing: longest sequences first, each into the first row with room
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return len[a] > len[b]; });
  std::vector<int64_t> fill;                 // tokens used per row
  std::vector<int64_t> row(n), start(n);
  for (size_t i : order) {
    size_t r = 0;
    while (r < fill.size() && fill[r] + len[i] > C) ++r;
    if (r == fill.size()) fill.push_back(0);
    row[i] = int64_t(r);
    start[i] = fill[r];
    fill[r] += len[i];
  }
  const int64_t R = std::max<int64_t>(1, int64_t(fill.size()));
  Packed p;
  p.sequences = int64_t(n);
  p.slots = R * C;
  p.tokens = torch::zeros({R, C}, torch::kLong);
  p.positions = torch::zeros({R, C}, torch::kLong);
  p.segments = torch::full({R, C}, -1, torch::kLong);
  p.valid = torch::zeros({R, C}, torch::kBool);
  auto ta = p.tokens.accessor<int64_t, 2>();
  auto pa = p.positions.accessor<int64_t, 2>();
  auto sa = p.segments.accessor<int64_t, 2>();
  auto va = p.valid.accessor<bool, 2>();
  std::vector<int64_t> ci, ct, cs, pi, pt;
  for (size_t i = 0; i < n; ++i) {
    const int64_t r = row[i], s0 = start[i], a = int64_t(prompts[i].size());
    for (int64_t j = 0; j < len[i]; ++j) {
      ta[r][s0 + j] = j < a ? prompts[i][j] : completions[i][j - a];
      pa[r][s0 + j] = j;
      sa[r][s0 + j] = int64_t(i);
      va[r][s0 + j] = true;
      if (j == 0) continue;
      // position s0+j-1 predicts token j
      if (j < a) pi.push_back(r * C + s0 + j - 1), pt.push_back(ta[r][s0 + j]);
      else ci.push_back(r * C + s0 + j - 1), ct.push_back(ta[r][s0 + j]), cs.push_back(int64_t(i));
    }
    p.real_tokens += len[i];
  }
  auto t = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); };
  p.comp_index = t(ci);
  p.comp_target = t(ct);
  p.comp_seq = t(cs);
  p.prompt_index = t(pi);
  p.prompt_target = t(pt);
  return p;
}

PackedLogprobs packed_logprobs(GPT& model, const Packed& p, bool with_prompt, bool with_entropy) {
  auto h = model->hidden(p.tokens, p.positions, p.valid, nullptr, p.segments);
  h = h.reshape({-1, h.size(2)});
  const int64_t nc = p.comp_index.size(0);
  auto index = with_prompt ? torch::cat({p.comp_index, p.prompt_index}) : p.comp_index;
  auto target = with_prompt ? torch::cat({p.comp_target, p.prompt_target}) : p.comp_target;
  // the output head and softmax only where a target is predicted: vocab-sized work on no padding
  CudaAutocast autocast(model->bf16 && h.is_cuda());
  auto lsm = torch::log_softmax(model->head(h.index_select(0, index)), -1);
  auto lp = lsm.gather(1, target.unsqueeze(1)).squeeze(1);
  PackedLogprobs out;
  out.completion = lp.narrow(0, 0, nc);
  if (with_prompt) out.prompt = lp.narrow(0, nc, lp.size(0) - nc);
  if (with_entropy) {
    torch::NoGradGuard ng;
    auto cl = lsm.narrow(0, 0, nc);
    out.entropy = nc > 0 ? (-(cl.exp() * cl).sum(-1)).mean() : torch::zeros({}, lsm.options());
  }
  return out;
}

// `gen` draws on the CPU; on a CUDA device the device's own generator draws, seeded from `gen` once
// per sample() call (a CPU generator cannot feed a CUDA kernel).
static torch::Tensor pick(const torch::Tensor& logits, const SampleOptions& o, torch::Generator& gen) {
  if (o.temperature <= 0) return logits.argmax(-1);
  auto draw = [&](const torch::Tensor& p) {
    return p.is_cuda() ? torch::multinomial(p, 1, false) : torch::multinomial(p, 1, false, gen);
  };
  auto probs = torch::softmax(logits / o.temperature, -1);
  if (o.top_p < 1.0) {
    auto [sorted, idx] = probs.sort(-1, true);
    auto cum = sorted.cumsum(-1);
    sorted = sorted.masked_fill((cum - sorted) > o.top_p, 0.0);
    auto choice = draw(sorted);
    return idx.gather(-1, choice).squeeze(-1);
  }
  return draw(probs).squeeze(-1);
}

// The decoding loop stays on the model's device: the only host round-trip per token is the "every row
// has ended" test; the tokens come back once at the end.
std::vector<std::vector<int>> sample(GPT& model, const std::vector<std::vector<int>>& prompts,
                                     const SampleOptions& o, torch::Generator& gen,
                                     std::vector<torch::Tensor>* step_logits) {
  torch::NoGradGuard ng;
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int>> out(B);
  if (B == 0 || o.max_new <= 0) return out;
  const torch::Device device = device_of(model);
  if (device.is_cuda() && o.temperature > 0) torch::cuda::manual_seed(gen.current_seed());
  Layout lay = make_layout(prompts, {}).to(device);
  auto tokens = lay.tokens, valid = lay.valid, positions = lay.positions;
  auto last_pos = positions.select(1, positions.size(1) - 1);
  auto done = torch::zeros({B}, torch::TensorOptions(torch::kBool).device(device));
  std::vector<torch::Tensor> drawn;  // [B] per step; a row's tokens after its eos are padding
  KVCache cache;
  torch::Tensor logits = o.use_cache ? model->forward(tokens, positions, valid, &cache)
                                     : model->forward(tokens, positions, valid);
  for (int step = 0; step < o.max_new; ++step) {
    auto last = logits.select(1, logits.size(1) - 1);  // [B,V]
    if (step_logits) step_logits->push_back(last.to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true));
    auto next = pick(last, o, gen).masked_fill(done, Tokenizer::kPad);
    drawn.push_back(next);
    auto nvalid = done.logical_not().unsqueeze(1);
    done = done | (next == o.eos);
    if (step + 1 == o.max_new || done.all().item<bool>()) break;
    last_pos = last_pos + 1;
    valid = torch::cat({valid, nvalid}, 1);
    auto nt = next.unsqueeze(1);
    if (o.use_cache) {
      logits = model->forward(nt, last_pos.unsqueeze(1), valid, &cache);
    } else {
      tokens = torch::cat({tokens, nt}, 1);
      positions = torch::cat({positions, last_pos.unsqueeze(1)}, 1);
      logits = model->forward(tokens, positions, valid);
    }
  }
  auto all = torch::stack(drawn, 1).to(torch::kCPU).contiguous();  // [B, steps]
  auto a = all.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < all.size(1); ++j) {
      out[b].push_back(static_cast<int>(a[b][j]));
      if (a[b][j] == o.eos) break;
    }
  return out;
}

// ---------------- GRPO math ----------------

torch::Tensor grpo_token_loss(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                              const torch::Tensor& adv, double clip_low, double clip_high, double kl_coef) {
  auto ratio = torch::exp(logp - old_logp);
  auto unclipped = ratio * adv;
  auto clipped = torch::clamp(ratio, 1.0 - clip_low, 1.0 + clip_high) * adv;
  auto loss = -torch::min(unclipped, clipped);
  if (kl_coef != 0.0 && ref_logp.defined()) {
    auto d = ref_logp - logp;
    loss = loss + kl_coef * (torch::exp(d) - d - 1.0);  // k3: unbiased, non-negative
  }
  return loss;
}

AdvantageKind parse_advantage(const std::string& name) {
  if (name == "grpo") return AdvantageKind::Grpo;
  if (name == "drgrpo" || name == "dr_grpo" || name == "no-std") return AdvantageKind::DrGrpo;
  if (name == "rloo") return AdvantageKind::Rloo;
  throw std::invalid_argument("advantage must be grpo | drgrpo | rloo, got " + name);
}

bool all_equal(const std::vector<double>& r) {
  for (double x : r)
    if (x != r.front()) return false;
  return true;
}

std::vector<double> group_advantages(const std::vector<double>& r, AdvantageKind kind) {
  const size_t n = r.size();
  std::vector<double> a(n, 0.0);
  if (n == 0) return a;
  const double sum = std::accumulate(r.begin(), r.end(), 0.0);
  const double mean = sum / double(n);
  if (kind == AdvantageKind::Rloo) {
    if (n < 2) return a;
    for (size_t i = 0; i < n; ++i) a[i] = r[i] - (sum - r[i]) / double(n - 1);
    return a;
  }
  for (size_t i = 0; i < n; ++i) a[i] = r[i] - mean;
  if (kind == AdvantageKind::Grpo) {
    double var = 0;
    for (double x : r) var += (x - mean) * (x - mean);
    const double sd = n > 1 ? std::sqrt(var / double(n - 1)) : 0.0;
    for (double& x : a) x /= (sd + 1e-4);
  }
  return a;
}

TokenLoss policy_token_loss(const std::vector<double>& logp, const std::vector<double>& old_logp,
                            const std::vector<double>& ref_logp, const std::vector<double>& advantage,
                            double clip_low, double clip_high, double kl_coef) {
  auto t = [](const std::vector<double>& v) {
    return torch::tensor(std::vector<double>(v), torch::kDouble);
  };
  auto lp = t(logp).requires_grad_(true);
  torch::Tensor ref = ref_logp.empty() ? torch::Tensor() : t(ref_logp);
  auto loss = grpo_token_loss(lp, t(old_logp), ref, t(advantage), clip_low, clip_high, kl_coef);
  loss.sum().backward();
  TokenLoss out;
  auto la = loss.detach();
  auto ga = lp.grad();
  for (int64_t i = 0; i < la.size(0); ++i) {
    out.loss.push_back(la[i].item<double>());
    out.grad_logp.push_back(ga[i].item<double>());
  }
  return out;
}

// ---------------- Model handle ----------------

Model::Model(const ModelConfig& config, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  torch::manual_seed(seed);
  impl_->net = GPT(config);
}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
const ModelConfig& Model::config() const { return impl_->net->cfg; }
int64_t Model::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

static torch::Tensor right_padded(const std::vector<std::vector<int>>& batch) {
  size_t T = 0;
  for (const auto& s : batch) T = std::max(T, s.size());
  auto t = torch::zeros({int64_t(batch.size()), int64_t(T)}, torch::kLong);
  auto a = t.accessor<int64_t, 2>();
  for (size_t b = 0; b < batch.size(); ++b)
    for (size_t i = 0; i < batch[b].size(); ++i) a[b][i] = batch[b][i];
  return t;
}

std::vector<float> Model::logits(const std::vector<std::vector<int>>& batch) const {
  torch::NoGradGuard ng;
  auto tokens = right_padded(batch);
  const int64_t B = tokens.size(0), T = tokens.size(1);
  auto pos = torch::arange(T, torch::kLong).unsqueeze(0).expand({B, T}).contiguous();
  auto out = impl_->net->forward(tokens, pos, torch::ones({B, T}, torch::kBool)).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

std::vector<std::vector<int>> Model::generate(const std::vector<std::vector<int>>& prompts, int max_new,
                                              double temperature, double top_p, bool use_cache, uint64_t seed,
                                              int eos, std::vector<float>* step_logits) const {
  auto gen = at::detail::createCPUGenerator(seed);
  SampleOptions o{max_new, temperature, top_p, use_cache, eos};
  std::vector<torch::Tensor> logs;
  auto out = sample(impl_->net, prompts, o, gen, step_logits ? &logs : nullptr);
  if (step_logits) {
    step_logits->clear();
    for (auto& l : logs) {
      auto c = l.contiguous();
      step_logits->insert(step_logits->end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
  }
  return out;
}

std::vector<std::vector<float>> Model::completion_logprobs(const std::vector<std::vector<int>>& prompts,
                                                           const std::vector<std::vector<int>>& completions,
                                                           bool packed, int pack_len) const {
  torch::NoGradGuard ng;
  std::vector<std::vector<float>> out(prompts.size());
  if (packed) {
    const Packed p = pack(prompts, completions, pack_len);
    auto lp = packed_logprobs(impl_->net, p, false, false).completion.contiguous();
    auto seq = p.comp_seq.contiguous();
    for (int64_t i = 0; i < lp.size(0); ++i) out[size_t(seq[i].item<int64_t>())].push_back(lp[i].item<float>());
    return out;
  }
  const Layout lay = make_layout(prompts, completions);
  auto lp = trainer::completion_logprobs(impl_->net, lay).contiguous();
  for (size_t b = 0; b < prompts.size(); ++b)
    for (size_t j = 0; j < completions[b].size(); ++j) out[b].push_back(lp[int64_t(b)][int64_t(j)].item<float>());
  return out;
}

std::vector<double> Model::fit(const std::vector<std::vector<int>>& batch, int steps, double lr) {
  auto tokens = right_padded(batch);
  const int64_t B = tokens.size(0), T = tokens.size(1);
  auto pos = torch::arange(T, torch::kLong).unsqueeze(0).expand({B, T}).contiguous();
  auto valid = torch::ones({B, T}, torch::kBool);
  torch::optim::Adam opt(impl_->net->parameters(), torch::optim::AdamOptions(lr));
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    auto logits = impl_->net->forward(tokens, pos, valid);
    auto loss = torch::nn::functional::cross_entropy(
        logits.narrow(1, 0, T - 1).reshape({-1, logits.size(2)}), tokens.narrow(1, 1, T - 1).reshape({-1}));
    opt.zero_grad();
    loss.backward();
    opt.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

void Model::save(const std::string& path) const { torch::save(impl_->net, path); }
void Model::load(const std::string& path) { torch::load(impl_->net, path); }

}  // namespace verity::trainer
