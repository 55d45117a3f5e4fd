// Training loops (SFT, GRPO), checkpoints, evaluation.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <numeric>
#include <iostream>
#include <mutex>
#include <sstream>

#include "curriculum/store.h"
#include "service/recipe.h"
#include "service/scoring.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "tasks/rng.h"
#include "trainer/distributed.h"
#include "trainer/tokenizer.h"
#include "trainer/torch_model.h"
#include "trainer/train_data.h"

namespace verity::trainer {
namespace fs = std::filesystem;
using namespace verity::curriculum;  // the curriculum library: policy and SQLite store

// ---------------- config ----------------

// The one table of train settings: each key's JSON name and its help text (defaults come from
// TrainConfig's initialisers). The CLI makes one --flag per row, config files use the same keys.
#define VERITY_TRAIN_FIELDS(X)                                                                                    \
  X(family, "family to train on; a comma list mixes several, name:weight sets a mixing weight")                   \
  X(knobs, "knob overrides name=value,... on top of every level's knobs")                                         \
  X(train_recipe, "SFT on this recipe's built training split (datasets/*.json) instead of streamed tasks")        \
  X(train_data, "where train_recipe is built (reused while unchanged); empty = <run_dir>/train_data")            \
  X(train_scale, "multiplies every part's count of train_recipe, as verity generate --recipe --scale")           \
  X(train_parts, "comma list of train_recipe's parts to train on (a curriculum stage); empty = all")             \
  X(level, "starting level of every family")                                                                      \
  X(min_level, "lowest level the curriculum may move to")                                                         \
  X(max_level, "highest level the curriculum may move to")                                                        \
  X(seed, "seed of the task stream, the initial weights and the sampling")                                       \
  X(sft_trace, "SFT target = gold trace + answer (else the answer alone)")                                        \
  X(sft_prompt_loss, "weight of the next-token loss on the prompt tokens too (0 = answer tokens only)")          \
  X(mode, "sft | grpo | sft+grpo")                                                                                \
  X(max_steps, "optimiser steps in all (both phases)")                                                            \
  X(sft_steps, "sft+grpo: SFT steps before GRPO (-1 = half of max_steps)")                                        \
  X(run_dir, "the run folder: checkpoints, verity.sqlite, metrics.csv")                                           \
  X(resume, "continue the run in run_dir from its last checkpoint")                                               \
  X(overwrite, "start over in a run_dir that holds an earlier run, deleting its checkpoints and statistics")     \
  X(init_checkpoint, "start from these weights (and tokenizer) with a fresh optimiser")                          \
  X(checkpoint_every, "steps between checkpoints")                                                                \
  X(eval_every, "steps between held-out evaluations (0 = only before and after)")                                 \
  X(eval_tasks, "held-out evaluation tasks (another seed than the training stream)")                              \
  X(log_every, "steps between progress lines")                                                                    \
  X(threads, "torch intra-op threads (1 is fastest on 2 busy cores)")                                             \
  X(device, "cpu | cuda | auto (cuda when this libtorch has CUDA and sees a GPU)")                                 \
  X(precision, "auto (bf16 autocast on CUDA, fp32 on the CPU) | fp32 | bf16")                                     \
  X(layers, "transformer layers")                                                                                 \
  X(width, "model width (a multiple of 2 x heads)")                                                               \
  X(heads, "attention heads")                                                                                     \
  X(max_len, "longest sequence for learned positions (other encodings extrapolate)")                              \
  X(pos_encoding, "none | learned | sinusoidal | rope")                                                           \
  X(tokenizer, "word | char (characters, except the axiomatic paper's whole words and markers)")                 \
  X(init, "initial weights: fan_in (N(0, 1/fan_in)) | gpt2 (N(0, 0.02))")                                         \
  X(batch_size, "SFT sequences per step")                                                                         \
  X(lr, "SFT learning rate (AdamW)")                                                                              \
  X(lr_schedule, "cosine (warm-up, cosine to 10%) | constant (warm-up, then lr: the axiomatic paper's)")          \
  X(grpo_lr, "GRPO learning rate")                                                                                \
  X(weight_decay, "AdamW weight decay")                                                                           \
  X(warmup, "linear warm-up steps of each phase")                                                                 \
  X(grad_clip, "gradient norm clip (0 = none)")                                                                   \
  X(packing, "padding-free batches (sequences packed into rows); false = padded")                                 \
  X(pack_len, "tokens per packed row (0 = the batch's longest sequence)")                                         \
  X(prompts_per_step, "GRPO prompts per step")                                                                    \
  X(group_size, "GRPO samples per prompt")                                                                        \
  X(max_new_tokens, "longest GRPO completion, in tokens")                                                         \
  X(temperature, "GRPO sampling temperature")                                                                     \
  X(top_p, "GRPO nucleus sampling mass (1 = off)")                                                                \
  X(advantage, "grpo | drgrpo (no std) | rloo (leave-one-out)")                                                   \
  X(clip_low, "PPO ratio clip below 1")                                                                           \
  X(clip_high, "PPO ratio clip above 1")                                                                          \
  X(kl_coef, "KL penalty (k3) against the frozen start-of-GRPO weights")                                          \
  X(ppo_epochs, "updates per GRPO batch")                                                                         \
  X(dynamic_sampling, "drop groups whose rewards are all equal")                                                  \
  X(gold_injection, "a group with no correct sample gets the gold completion as one sample")                      \
  X(reward_outcome, "reward weight of a correct answer")                                                          \
  X(reward_format, "reward weight of a well-formed answer")                                                       \
  X(reward_process, "reward weight of the process score (paid only with a correct answer)")                      \
  X(curriculum, "move levels by the edge of competence (else stay at level)")                                     \
  X(band_low, "curriculum: below this pass rate the level goes down")                                             \
  X(band_high, "curriculum: above this pass rate the level goes up")                                              \
  X(min_samples, "curriculum: attempts at a level before it may move")                                            \
  X(ema_alpha, "curriculum: smoothing of the pass rate")                                                          \
  X(review_frac, "curriculum: share of a batch drawn from lower levels")                                          \
  X(world_size, "data-parallel processes (CPU, c10d Gloo); verity launches the others")                          \
  X(rank, "this process's rank (set by the launcher)")                                                            \
  X(rendezvous, "where ranks meet: a directory or host:port (empty = run_dir)")

const std::vector<std::pair<std::string, std::string>>& train_field_help() {
  static const std::vector<std::pair<std::string, std::string>> fields = {
#define X(f, help) {#f, help},
      VERITY_TRAIN_FIELDS(X)
#undef X
  };
  return fields;
}

nlohmann::json TrainConfig::to_json() const {
  nlohmann::json j;
#define X(f, help) j[#f] = f;
  VERITY_TRAIN_FIELDS(X)
#undef X
  return j;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  TrainConfig c;
  const nlohmann::json known = c.to_json();
  for (const auto& [k, v] : j.items())
    if (!known.contains(k)) throw std::invalid_argument("unknown train config key: " + k);
  // every value must have the default's JSON type, so a typo like max_steps: "abc" names its key
  for (const auto& [k, v] : j.items()) {
    const auto& d = known.at(k);
    const bool ok = d.is_boolean() ? v.is_boolean() : d.is_number() ? v.is_number() : v.is_string();
    if (!ok || (d.is_number_integer() && !v.is_number_integer()))
      throw std::invalid_argument("train config key " + k + ": expected " +
                                  (d.is_boolean() ? "true or false" : d.is_number_integer() ? "an integer"
                                                                    : d.is_number() ? "a number" : "a string") +
                                  ", got " + v.dump());
  }
#define X(f, help) \
  if (j.contains(#f)) j.at(#f).get_to(c.f);
  VERITY_TRAIN_FIELDS(X)
#undef X
  if (c.mode != "sft" && c.mode != "grpo" && c.mode != "sft+grpo")
    throw std::invalid_argument("mode must be sft | grpo | sft+grpo, got " + c.mode);
  parse_advantage(c.advantage);
  if (c.max_steps < 0 || c.batch_size < 1 || c.group_size < 1 || c.prompts_per_step < 1)
    throw std::invalid_argument("train config: steps and batch sizes must be positive");
  if (c.device != "cpu" && c.device != "cuda" && c.device != "auto")
    throw std::invalid_argument("device must be cpu | cuda | auto, got " + c.device);
  if (c.precision != "auto" && c.precision != "fp32" && c.precision != "bf16")
    throw std::invalid_argument("precision must be auto | fp32 | bf16, got " + c.precision);
  if (c.world_size < 1 || c.rank < 0 || c.rank >= c.world_size)
    throw std::invalid_argument("train config: need world_size >= 1 and 0 <= rank < world_size");
  if (c.lr_schedule != "cosine" && c.lr_schedule != "constant")
    throw std::invalid_argument("train config key lr_schedule: expected cosine | constant, got " + c.lr_schedule);
  if (c.tokenizer != "word" && c.tokenizer != "char")
    throw std::invalid_argument("train config key tokenizer: expected word | char, got " + c.tokenizer);
  return c;
}

ModelConfig TrainConfig::model(int vocab) const {
  ModelConfig m;
  m.vocab = vocab;
  m.layers = layers;
  m.width = width;
  m.heads = heads;
  m.max_len = max_len;
  m.pos_encoding = pos_encoding;
  m.init = init;
  return m;
}

namespace {

std::vector<std::pair<std::string, double>> parse_families(const std::string& spec) {
  std::vector<std::pair<std::string, double>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    double w = 1.0;
    const auto colon = item.find(':');
    if (colon != std::string::npos) {
      w = std::stod(item.substr(colon + 1));
      item = item.substr(0, colon);
    }
    find_family(item);  // throws naming the known families
    out.emplace_back(item, w);
  }
  if (out.empty()) throw std::invalid_argument("no family given");
  return out;
}

KnobMap knob_overrides(const std::string& spec) {
  KnobMap out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) parse_knob_assignment(item, out);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int> prompt_ids(const Tokenizer& tok, const std::string& prompt) {
  std::vector<int> ids{Tokenizer::kBos};
  auto body = tok.encode(prompt);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(Tokenizer::kSep);
  return ids;
}

std::vector<int> gold_ids(const Tokenizer& tok, const pb::Task& task, bool with_trace) {
  auto ids = tok.encode(tok.completion(task, with_trace));
  ids.push_back(Tokenizer::kEos);
  return ids;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Streams tasks: task `index` of (family, level knobs, seed), index running over the whole run.
struct TaskSource {
  uint64_t seed = 0;
  KnobMap overrides;
  uint64_t next_index = 0;
  std::map<std::pair<std::string, int>, Knobs> knobs;
  const Knobs& knobs_for(const std::string& family, int level) {
    auto key = std::make_pair(family, level);
    auto it = knobs.find(key);
    if (it == knobs.end()) it = knobs.emplace(key, resolve_knobs(find_family(family).generator, level, overrides)).first;
    return it->second;
  }
  pb::Task next(const std::string& family, int level) {
    return make_task(find_family(family).generator, knobs_for(family, level), level, seed, next_index++);
  }
  pb::Task at(const std::string& family, int level, uint64_t index) {
    return make_task(find_family(family).generator, knobs_for(family, level), level, seed, index);
  }
};

struct EvalItem {
  pb::Task task;
  std::vector<int> prompt;
};

// Called once per evaluated task with the decoded completion and its score.
using EvalSink = std::function<void(const pb::Task&, const std::string&, const pb::Score&)>;

EvalResult eval_model(GPT& model, const Tokenizer& tok, const std::vector<pb::Task>& tasks, int batch, int max_new,
                      const EvalSink& sink = nullptr) {
  EvalResult r;
  auto gen = at::detail::createCPUGenerator(0);
  SampleOptions o;
  o.max_new = max_new;
  o.temperature = 0;
  o.eos = Tokenizer::kEos;
  std::vector<std::vector<int>> all_prompts;
  for (const auto& t : tasks) all_prompts.push_back(prompt_ids(tok, t.prompt()));
  // Batches of similar prompt length waste little compute on left padding; greedy decoding of a
  // prompt does not depend on its batch mates (padding is masked; only float rounding can differ),
  // so the order does not matter. Results are reported in the tasks' own order.
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return all_prompts[a].size() < all_prompts[b].size(); });
  std::vector<std::vector<int>> outs(tasks.size());
  model->eval();
  for (size_t start = 0; start < order.size(); start += batch) {
    const size_t end = std::min(order.size(), start + batch);
    std::vector<std::vector<int>> prompts;
    for (size_t i = start; i < end; ++i) prompts.push_back(all_prompts[order[i]]);
    auto batch_outs = sample(model, prompts, o, gen);
    for (size_t i = start; i < end; ++i) outs[order[i]] = std::move(batch_outs[i - start]);
  }
  model->train();
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string text = tok.decode(outs[i]);
    const pb::Score s = score_completion(tasks[i], text);
    r.add(s);
    if (sink) sink(tasks[i], text, s);
  }
  return r;
}

// One JSONL line. Model text may hold invalid UTF-8 (byte tokens): replaced by U+FFFD, never a throw.
std::string dump_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

EvalSink completions_sink(std::ostream* out) {
  if (!out) return nullptr;
  return [out](const pb::Task& task, const std::string& text, const pb::Score&) {
    *out << dump_line({{"id", task.id()}, {"completion", text}});
  };
}

// ---------------- checkpoints ----------------

struct RunState {
  int64_t step = 0;
  uint64_t data_index = 0;
  std::string phase = "sft";
  int64_t tokens = 0;
  double seconds = 0;
};

void save_checkpoint(const fs::path& run_dir, GPT& model, torch::optim::Optimizer& opt, GPT* ref,
                     const Tokenizer& tok, const TrainConfig& cfg, const Curriculum& cur, const RunState& st) {
  char name[32];
  std::snprintf(name, sizeof name, "ckpt-%08lld", static_cast<long long>(st.step));
  const fs::path final_dir = run_dir / name;
  const fs::path tmp = run_dir / (std::string(name) + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  torch::save(model, (tmp / "model.pt").string());
  torch::save(opt, (tmp / "optim.pt").string());
  if (ref) torch::save(*ref, (tmp / "ref.pt").string());
  nlohmann::json state{{"step", st.step},       {"data_index", st.data_index},
                       {"phase", st.phase},     {"tokens", st.tokens},
                       {"seconds", st.seconds}, {"config", cfg.to_json()},
                       {"model", model->cfg.to_json()},
                       {"curriculum", cur.to_json()},
                       {"has_ref", ref != nullptr},
                       {"rng", "per-step generators seeded from (seed, step): nothing else to restore"}};
  std::ofstream(tmp / "tokenizer.json") << tok.to_json().dump(1);
  std::ofstream(tmp / "state.json") << state.dump(1);
  ::sync();
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  // point run_dir/ckpt at it atomically (symlink renamed over the old one)
  const fs::path link_tmp = run_dir / "ckpt.link.tmp";
  fs::remove(link_tmp);
  fs::create_directory_symlink(name, link_tmp);
  fs::rename(link_tmp, run_dir / "ckpt");
  // keep the newest two
  std::vector<fs::path> old;
  for (const auto& e : fs::directory_iterator(run_dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt-", 0) == 0 && n.find(".tmp") == std::string::npos && n != name) old.push_back(e.path());
  }
  std::sort(old.begin(), old.end());
  for (size_t i = 0; i + 1 < old.size(); ++i) fs::remove_all(old[i]);
}

Tokenizer load_tokenizer(const fs::path& ckpt) {
  return Tokenizer::from_json(nlohmann::json::parse(read_text((ckpt / "tokenizer.json").string())));
}

GPT load_model(const fs::path& ckpt, const nlohmann::json& state) {
  GPT m(ModelConfig::from_json(state.at("model")));
  torch::load(m, (ckpt / "model.pt").string(), torch::Device(torch::kCPU));  // saved on any device
  return m;
}

double lr_at(double base, int64_t step_in_phase, int64_t phase_steps, int warmup) {
  if (warmup > 0 && step_in_phase < warmup) return base * double(step_in_phase + 1) / double(warmup);
  const double t = phase_steps > warmup ? double(step_in_phase - warmup) / double(phase_steps - warmup) : 1.0;
  return base * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, t))));  // cosine to 10%
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

std::unique_ptr<torch::optim::AdamW> make_optimizer(GPT& model, double lr, double wd) {
  return std::make_unique<torch::optim::AdamW>(
      model->parameters(), torch::optim::AdamWOptions(lr).betas({0.9, 0.99}).weight_decay(wd));
}

// ---------------- one optimiser step ----------------
// Each SFT / GRPO update exists twice: on padded [prompt | completion] layouts (the original, kept
// for `packing: false` and as the reference the packed version is tested against) and on packed rows.
// Both compute the same loss; they return the number of real (non-padding) tokens processed.

using Draws = std::vector<std::pair<std::string, int>>;
constexpr double kLogHalf = -0.69314718055994530942;

// With several ranks each loss is (sum over this rank's tokens) / (token count over all ranks), so the
// summed gradients equal those of one process holding the whole batch. A rank with nothing to learn
// from this step (loss undefined) still joins the all-reduce with zeros and takes the same step.
void optimiser_step(GPT& model, torch::optim::Optimizer& opt, const TrainConfig& cfg, torch::Tensor loss,
                    Distributed& dist) {
  opt.zero_grad();
  if (loss.defined()) loss.backward();
  dist.sum_gradients(model->parameters());
  if (cfg.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), cfg.grad_clip);
  opt.step();
}

int64_t sft_step_padded(GPT& model, torch::optim::Optimizer& opt, const TrainConfig& cfg, Distributed& dist,
                        const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& comps,
                        const Draws& draws, StepRow& row, std::vector<Curriculum::Outcome>& outcomes) {
  const Layout host = make_layout(prompts, comps);
  const Layout lay = host.to(device_of(model));
  const int64_t T = lay.tokens.size(1), P = lay.prompt_len, L = lay.target_mask.size(1);
  auto logits = model->forward(lay.tokens, lay.positions, lay.valid);
  auto lsm = torch::log_softmax(logits.narrow(1, 0, T - 1), -1);  // position t predicts token t+1
  auto lp_all = lsm.gather(2, lay.tokens.narrow(1, 1, T - 1).unsqueeze(-1)).squeeze(-1);
  auto lp = lp_all.narrow(1, P - 1, L);
  const bool prompt_loss = cfg.sft_prompt_loss > 0 && P > 1;
  torch::Tensor pm = prompt_loss ? (lay.valid.narrow(1, 1, P - 1) & lay.valid.narrow(1, 0, P - 1)).to(torch::kFloat)
                                 : torch::Tensor();
  torch::Tensor denom = lay.target_mask.sum(), pdenom = prompt_loss ? pm.sum().clamp_min(1) : torch::Tensor();
  if (dist.active()) {  // token counts over all ranks
    auto n = dist.sum({denom.item<double>(), prompt_loss ? pm.sum().item<double>() : 0.0});
    denom = torch::tensor(float(n[0]));
    pdenom = torch::tensor(float(std::max(1.0, n[1])));
  }
  auto loss = -(lp * lay.target_mask).sum() / denom;
  const auto answer_loss = loss.detach();  // logged: the loss on the completion tokens only
  if (prompt_loss) loss = loss - cfg.sft_prompt_loss * (lp_all.narrow(1, 0, P - 1) * pm).sum() / pdenom;
  torch::Tensor ent;
  {
    torch::NoGradGuard ng;
    auto cl = lsm.narrow(1, P - 1, L);
    ent = (-(cl.exp() * cl).sum(-1) * lay.target_mask).sum() / lay.target_mask.sum().clamp_min(1);
  }
  optimiser_step(model, opt, cfg, loss, dist);
  // teacher-forced pass: every target token has probability > 1/2 (so it is the argmax)
  auto ok = ((lp.detach() > kLogHalf).to(torch::kFloat) * lay.target_mask + (1 - lay.target_mask)).amin(1);
  // one copy to the host per step: loss, entropy and the per-sequence outcomes together
  auto h = torch::cat({answer_loss.reshape(1), ent.reshape(1), ok}).to(torch::kCPU, torch::kDouble).contiguous();
  const double* v = h.data_ptr<double>();
  row.loss = v[0];
  row.entropy = v[1];
  for (size_t i = 0; i < draws.size(); ++i) outcomes.push_back({draws[i].first, draws[i].second, v[2 + i] > 0.5, 0.0});
  return host.valid.sum().item<int64_t>();
}

int64_t sft_step_packed(GPT& model, torch::optim::Optimizer& opt, const TrainConfig& cfg, Distributed& dist,
                        const std::vector<std::vector<int>>& prompts, const std::vector<std::vector<int>>& comps,
                        const Draws& draws, StepRow& row, std::vector<Curriculum::Outcome>& outcomes) {
  const Packed p = pack(prompts, comps, cfg.pack_len).to(device_of(model));
  const bool with_prompt = cfg.sft_prompt_loss > 0 && p.prompt_index.size(0) > 0;
  auto lp = packed_logprobs(model, p, with_prompt, true);
  torch::Tensor loss, answer_loss;
  if (dist.active()) {  // means over the tokens of all ranks
    auto n = dist.sum({double(lp.completion.size(0)), with_prompt ? double(lp.prompt.size(0)) : 0.0});
    loss = -lp.completion.sum() / std::max(1.0, n[0]);
    answer_loss = loss.detach();
    if (with_prompt) loss = loss - cfg.sft_prompt_loss * lp.prompt.sum() / std::max(1.0, n[1]);
  } else {
    loss = -lp.completion.mean();
    answer_loss = loss.detach();  // logged: the loss on the completion tokens only
    if (with_prompt) loss = loss - cfg.sft_prompt_loss * lp.prompt.mean();
  }
  optimiser_step(model, opt, cfg, loss, dist);
  // teacher-forced pass: every target token has probability > 1/2 (so it is the argmax)
  // one copy to the host per step: loss, entropy and which completion tokens are already the argmax
  auto h = torch::cat({answer_loss.reshape(1), lp.entropy.reshape(1), (lp.completion.detach() > kLogHalf).to(torch::kFloat)})
               .to(torch::kCPU, torch::kDouble)
               .contiguous();
  const double* v = h.data_ptr<double>();
  row.loss = v[0];
  row.entropy = v[1];
  std::vector<bool> ok(draws.size(), true);
  auto seq = p.comp_seq.to(torch::kCPU).contiguous();
  const int64_t* sq = seq.data_ptr<int64_t>();
  for (int64_t i = 0; i < seq.size(0); ++i)
    if (v[2 + i] < 0.5) ok[size_t(sq[i])] = false;
  for (size_t i = 0; i < draws.size(); ++i) outcomes.push_back({draws[i].first, draws[i].second, ok[i], 0.0});
  return p.real_tokens;
}

int64_t grpo_update_padded(GPT& model, GPT& ref, torch::optim::Optimizer& opt, const TrainConfig& cfg, Distributed& dist,
                           const std::vector<std::vector<int>>& kp, const std::vector<std::vector<int>>& kc,
                           const std::vector<double>& kadv, StepRow& row) {
  const Layout host = make_layout(kp, kc);
  const Layout lay = host.to(device_of(model));
  auto adv = torch::tensor(kadv, torch::kDouble).to(lay.tokens.device(), torch::kFloat).unsqueeze(1).expand_as(lay.target_mask);
  torch::Tensor old_lp, ref_lp;
  if (cfg.ppo_epochs > 1) {
    torch::NoGradGuard ng;
    old_lp = completion_logprobs(model, lay);
  }
  if (!ref.is_empty()) {
    torch::NoGradGuard ng;
    ref_lp = completion_logprobs(ref, lay);
  }
  auto denom = lay.target_mask.sum().clamp_min(1);
  if (dist.active()) denom = torch::tensor(float(std::max(1.0, dist.sum({lay.target_mask.sum().item<double>()})[0])));
  for (int e = 0; e < std::max(1, cfg.ppo_epochs); ++e) {
    torch::Tensor ent;
    auto lp = completion_logprobs(model, lay, &ent);
    auto old = cfg.ppo_epochs > 1 ? old_lp : lp.detach();
    auto per_tok = grpo_token_loss(lp, old, ref_lp, adv, cfg.clip_low, cfg.clip_high, cfg.kl_coef);
    auto loss = (per_tok * lay.target_mask).sum() / denom;  // token-level aggregation
    optimiser_step(model, opt, cfg, loss, dist);
    row.loss = loss.item<double>();
    row.entropy = ent.item<double>();
    if (ref_lp.defined()) {
      auto d = (ref_lp - lp.detach());
      row.kl = (((d.exp() - d - 1) * lay.target_mask).sum() / denom).item<double>();
    }
  }
  return host.valid.sum().item<int64_t>();
}

int64_t grpo_update_packed(GPT& model, GPT& ref, torch::optim::Optimizer& opt, const TrainConfig& cfg, Distributed& dist,
                           const std::vector<std::vector<int>>& kp, const std::vector<std::vector<int>>& kc,
                           const std::vector<double>& kadv, StepRow& row) {
  const Packed p = pack(kp, kc, cfg.pack_len).to(device_of(model));
  // one advantage per sequence, spread over its completion tokens
  auto adv = torch::tensor(kadv, torch::kDouble).to(p.tokens.device(), torch::kFloat).index_select(0, p.comp_seq);
  torch::Tensor old_lp, ref_lp;
  if (cfg.ppo_epochs > 1) {
    torch::NoGradGuard ng;
    old_lp = packed_logprobs(model, p, false, false).completion;
  }
  if (!ref.is_empty()) {
    torch::NoGradGuard ng;
    ref_lp = packed_logprobs(ref, p, false, false).completion;
  }
  const double global_tokens = dist.active() ? std::max(1.0, dist.sum({double(p.comp_target.size(0))})[0]) : 0.0;
  for (int e = 0; e < std::max(1, cfg.ppo_epochs); ++e) {
    auto lp = packed_logprobs(model, p, false, true);
    auto old = cfg.ppo_epochs > 1 ? old_lp : lp.completion.detach();
    auto per_tok = grpo_token_loss(lp.completion, old, ref_lp, adv, cfg.clip_low, cfg.clip_high, cfg.kl_coef);
    // token-level aggregation: every completion token of the step (on every rank) weighs the same
    auto loss = dist.active() ? per_tok.sum() / global_tokens : per_tok.mean();
    optimiser_step(model, opt, cfg, loss, dist);
    row.loss = loss.item<double>();
    row.entropy = lp.entropy.item<double>();
    if (ref_lp.defined()) {
      auto d = (ref_lp - lp.completion.detach());
      row.kl = (d.exp() - d - 1).mean().item<double>();
    }
  }
  return p.real_tokens;
}

// A rank whose groups were all dropped this step while other ranks' were not: it joins the same
// collectives as grpo_update_* (the token count, then one gradient all-reduce per epoch) with nothing.
void grpo_update_idle(GPT& model, torch::optim::Optimizer& opt, const TrainConfig& cfg, Distributed& dist) {
  dist.sum({0.0});
  for (int e = 0; e < std::max(1, cfg.ppo_epochs); ++e) optimiser_step(model, opt, cfg, torch::Tensor(), dist);
}

}  // namespace

// ---------------- the run ----------------

double sample_reward(const TrainConfig& cfg, bool correct, bool format_ok, double process) {
  const double outcome = correct ? 1.0 : 0.0;
  return cfg.reward_outcome * outcome + cfg.reward_process * outcome * process + cfg.reward_format * (format_ok ? 1.0 : 0.0);
}

namespace {

// One training run, as named stages with one job each. run_training() calls them in this order:
//
//   setup      open_run_dir, load_train_data, restore_or_initialise (resume / init checkpoint / fresh),
//              open_statistics (SQLite + metrics.csv), start_phase (optimiser, KL reference),
//              join_ranks (rendezvous + broadcast), build_eval_set, then evaluate("start")
//   each step  enter_grpo_if_due, set_step_lr, then sft_step (draw_sft_batch + one SFT update) or
//              grpo_step (draw_grpo_prompts, sample, score_groups, group advantages, one GRPO update),
//              share_outcomes (data parallel), record_step (curriculum, SQLite, metrics.csv, log),
//              evaluate("during") and save_checkpoint when due
//   end        finish (final evaluation, summary)
//
// Adding a device, a loss or a stage touches the one stage that owns it.
class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, std::ostream& main_log)
      : cfg(config), run_dir(config.run_dir), ckpt(run_dir / "ckpt"), world(config.world_size),
        rank(config.rank), lead(config.rank == 0), log(lead ? main_log : quiet) {}

  TrainSummary run() {
    open_run_dir();
    families = parse_families(cfg.family);
    load_train_data();
    restore_or_initialise();
    place_model();
    open_statistics();
    sft_steps = cfg.mode == "sft" ? cfg.max_steps
                : cfg.mode == "grpo" ? 0
                : (cfg.sft_steps >= 0 ? cfg.sft_steps : cfg.max_steps / 2);
    grpo_steps = cfg.max_steps - sft_steps;
    start_phase(st.phase, resuming);
    join_ranks();
    build_eval_set();
    log << "run " << run_dir.string() << ": mode " << cfg.mode << ", " << parameter_count() << " parameters ("
        << cfg.layers << " layers, width " << cfg.width << ", " << cfg.heads << " heads, " << cfg.pos_encoding
        << "), vocab " << tok.vocab_size() << ", " << runtime_summary() << ", on " << device_name() << "\n";
    summary.first_eval_accuracy = evaluate("start");

    src.overrides = knob_overrides(cfg.knobs);
    src.seed = cfg.seed;
    src.next_index = st.data_index;
    run_t0 = now();
    seconds_before = st.seconds;
    tokens_before = st.tokens;
    while (st.step < cfg.max_steps) train_one_step();
    return finish();
  }

 private:
  // The work and figures of one optimiser step.
  struct Step {
    int64_t number = 0;
    bool sft = true;
    StepRow row;
    std::vector<Curriculum::Outcome> outcomes;
    int64_t tokens = 0;
    int dropped_groups = 0, injected_groups = 0;
  };

  // ---------------- setup ----------------

  // A fresh start never deletes an earlier run by surprise: --resume continues it, --overwrite replaces it.
  void open_run_dir() {
    fs::create_directories(run_dir);
    resuming = cfg.resume && fs::exists(ckpt);
    if (cfg.resume && !resuming) log << "no checkpoint in " << run_dir.string() << ": starting fresh\n";
    const std::string earlier = lead && !cfg.resume ? earlier_run(run_dir) : "";
    if (earlier.empty()) return;
    if (!cfg.overwrite)
      throw std::invalid_argument("run folder " + run_dir.string() + " holds an earlier run (" + earlier +
                                  "): pass --resume to continue it, --overwrite to replace it, or another --run-dir");
    log << "starting over in " << run_dir.string() << " (--overwrite): the earlier run's checkpoints and statistics are deleted\n";
  }

  // What marks `dir` as holding a run: "" when nothing does.
  static std::string earlier_run(const fs::path& dir) {
    if (fs::exists(dir / "ckpt")) return "a checkpoint";
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind("ckpt-", 0) == 0) return "a checkpoint";
    if (fs::exists(dir / "metrics.csv") && fs::file_size(dir / "metrics.csv") > 0) return "metrics.csv";
    if (fs::exists(dir / "verity.sqlite")) return "verity.sqlite";
    return "";
  }

  // SFT on a recipe's built training split (train_data.h) instead of streamed tasks.
  void load_train_data() {
    if (cfg.train_recipe.empty() || cfg.mode == "grpo") return;
    const std::string dir = cfg.train_data.empty() ? (run_dir / "train_data").string() : cfg.train_data;
    recipe_data = std::make_unique<RecipeTrainData>(
        RecipeTrainData::load(cfg.train_recipe, dir, cfg.train_scale, cfg.seed, std::max(2, cfg.threads),
                              split_list(cfg.train_parts)));
    for (const auto& f : recipe_data->families())
      if (std::none_of(families.begin(), families.end(), [&](const auto& w) { return w.first == f; }))
        throw std::invalid_argument("train_recipe " + cfg.train_recipe + " holds " + f +
                                    " tasks: add that family to --family (" + cfg.family + ")");
    log << "SFT data: recipe " << recipe_data->recipe_name()
        << (cfg.train_parts.empty() ? "" : " (parts " + cfg.train_parts + ")") << ", " << recipe_data->size()
        << " tasks in " << dir << " (shuffled per epoch)\n";
  }

  // Tokenizer, model, run state and curriculum: from the run's checkpoint (resume), from
  // init_checkpoint (weights and tokenizer, fresh everything else) or fresh.
  void restore_or_initialise() {
    if (resuming) {
      state = nlohmann::json::parse(read_text((ckpt / "state.json").string()));
      tok = load_tokenizer(ckpt);
      model = load_model(ckpt, state);
      st.step = state.at("step");
      st.data_index = state.at("data_index");
      st.phase = state.at("phase");
      st.tokens = state.at("tokens");
      st.seconds = state.at("seconds");
      cur = Curriculum::from_json(state.at("curriculum"));
      log << "resuming " << fs::canonical(ckpt).filename().string() << " at step " << st.step << "\n";
      return;
    }
    if (!cfg.init_checkpoint.empty()) {
      const fs::path init = cfg.init_checkpoint;
      auto s = nlohmann::json::parse(read_text((init / "state.json").string()));
      tok = load_tokenizer(init);
      model = load_model(init, s);
      log << "initialised from " << init.string() << "\n";
    } else {
      std::vector<std::string> names;
      for (const auto& f : families) names.push_back(f.first);
      tok = Tokenizer::for_scheme(cfg.tokenizer, names);
      // torch's default generator is process-wide: ranks run as threads of one process (tests) must not
      // interleave their draws, or rank 0's initial weights would depend on the others
      static std::mutex init_mutex;
      std::lock_guard<std::mutex> lock(init_mutex);
      torch::manual_seed(cfg.seed);
      model = GPT(cfg.model(tok.vocab_size()));
    }
    CurriculumConfig cc;
    cc.band_low = cfg.band_low;
    cc.band_high = cfg.band_high;
    cc.min_samples = cfg.min_samples;
    cc.ema_alpha = cfg.ema_alpha;
    cc.review_frac = cfg.review_frac;
    cc.min_level = cfg.min_level;
    cc.max_level = cfg.max_level;
    cc.adaptive = cfg.curriculum;
    cur = Curriculum(cc, families, cfg.level);
    st.phase = cfg.mode == "grpo" ? "grpo" : "sft";
  }

  // The weights (and so the optimiser state, the batches and the sampling) on --device, bf16 autocast
  // there when --precision allows it.
  void place_model() {
    device = resolve_device(cfg.device);
    if (device.is_cuda() && world > 1)
      throw std::invalid_argument("--device cuda with --world-size " + std::to_string(world) +
                                  ": data parallelism runs CPU ranks only (c10d Gloo); train on one GPU with --world-size 1");
    if (cfg.precision == "bf16" && !device.is_cuda())
      throw std::invalid_argument("--precision bf16 needs --device cuda (on the CPU the trainer runs fp32)");
    model->to(device);
    model->bf16 = device.is_cuda() && cfg.precision != "fp32";
  }

  std::string device_name() const {
    if (!device.is_cuda()) return "cpu";
    return std::string("cuda") + (model->bf16 ? " (bf16 autocast)" : " (fp32)");
  }

  // Rank 0 alone writes the run directory's statistics: the SQLite store (rewound to the checkpoint on
  // resume, replaced on a fresh start) and metrics.csv (rows after the checkpoint dropped).
  void open_statistics() {
    if (!lead) return;
    store = std::make_unique<Store>((run_dir / "verity.sqlite").string());
    store->open_run(run_dir.filename().string(), cfg.mode, cfg.to_json().dump());
    if (resuming) {
      store->rewind(st.step, cur.stats());
    } else if (!store->steps().empty() || fs::exists(run_dir / "metrics.csv")) {
      // a fresh start in a used run directory (--overwrite, checked in open_run_dir) replaces its statistics
      store->rewind(0, {});
      fs::remove(run_dir / "metrics.csv");
    }
    if (!resuming) {  // (an --init-checkpoint is already in memory)
      fs::remove(run_dir / "ckpt");
      for (const auto& e : fs::directory_iterator(run_dir))
        if (e.path().filename().string().rfind("ckpt-", 0) == 0) fs::remove_all(e.path());
    }
    if (resuming && fs::exists(run_dir / "metrics.csv")) {
      // drop the rows of steps after the checkpoint: they are about to be redone
      std::istringstream in(read_text((run_dir / "metrics.csv").string()));
      std::string line, kept;
      while (std::getline(in, line)) {
        const bool header = line.rfind("step,", 0) == 0;
        if (header || (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= st.step)) kept += line + "\n";
      }
      write_file_atomically((run_dir / "metrics.csv").string(), kept);
    }
    const bool csv_exists = fs::exists(run_dir / "metrics.csv") && fs::file_size(run_dir / "metrics.csv") > 0;
    csv.open(run_dir / "metrics.csv", std::ios::app);
    if (!csv_exists) csv << "step,phase,loss,reward,pass_rate,kl,entropy,tokens_per_s,lr,seconds,levels\n";
  }

  // A phase's optimiser (and, for GRPO with a KL term, the frozen reference weights), restored from the
  // checkpoint when resuming inside that phase.
  void start_phase(const std::string& phase, bool load_saved) {
    st.phase = phase;
    opt = make_optimizer(model, phase == "sft" ? cfg.lr : cfg.grpo_lr, cfg.weight_decay);
    ref = GPT{nullptr};
    if (phase == "grpo" && cfg.kl_coef > 0) {
      ref = GPT(model->cfg);
      ref->to(device);
      ref->bf16 = model->bf16;
      if (load_saved && state.value("has_ref", false)) {
        torch::load(ref, (ckpt / "ref.pt").string(), device);
      } else {
        torch::NoGradGuard ng;
        auto src_params = model->named_parameters();
        for (auto& p : ref->named_parameters()) p.value().copy_(src_params[p.key()]);
      }
      ref->eval();
    }
    if (load_saved) torch::load(*opt, (ckpt / "optim.pt").string(), device);
  }

  // Rendezvous (after every rank has read the checkpoint: rank 0 may replace it from now on), then
  // every rank starts from rank 0's weights.
  void join_ranks() {
    dist = std::make_unique<Distributed>(rank, world, cfg.rendezvous.empty() ? run_dir.string() : cfg.rendezvous);
    dist->broadcast(model->parameters());
    if (!ref.is_empty()) dist->broadcast(ref->parameters());
    if (world > 1)
      log << "data parallel: " << world << " ranks (c10d Gloo), global batch "
          << (st.phase == "sft" ? cfg.batch_size : cfg.prompts_per_step) * world << "\n";
  }

  // Held-out evaluation set: another seed than the training stream.
  void build_eval_set() {
    TaskSource es;
    es.overrides = knob_overrides(cfg.knobs);
    es.seed = mix_seed({cfg.seed, 0xe7a1ull});
    for (int i = 0; i < cfg.eval_tasks; ++i) {
      const auto& f = families[static_cast<size_t>(i) % families.size()].first;
      eval_set.push_back(es.next(f, cfg.level));
    }
    eval_new = cfg.max_new_tokens;
    for (const auto& t : eval_set) eval_new = std::max<int>(eval_new, int(gold_ids(tok, t, cfg.sft_trace).size()) + 8);
  }

  // ---------------- evaluation and checkpoints ----------------

  // Greedy accuracy on the held-out set (rank 0 only; -1 elsewhere or without an eval set).
  double evaluate(const char* when) {
    if (eval_set.empty() || !lead) return -1.0;
    const double t0 = now();
    auto r = eval_model(model, tok, eval_set, 64, eval_new);
    log << "eval " << when << " step " << st.step << ": accuracy " << std::fixed << std::setprecision(3)
        << r.accuracy() << " (" << r.overall.correct << "/" << r.overall.scored << "), format " << r.overall.format_ok_rate()
        << ", level " << cfg.level << ", " << std::setprecision(1) << now() - t0 << " s\n";
    log.unsetf(std::ios::floatfield);
    return r.accuracy();
  }

  void checkpoint() { save_checkpoint(run_dir, model, *opt, ref.is_empty() ? nullptr : &ref, tok, cfg, cur, st); }

  // ---------------- one step ----------------

  void train_one_step() {
    enter_grpo_if_due();
    const double t0 = now();
    Step s;
    s.number = st.step + 1;
    s.sft = st.phase == "sft";
    s.row.step = s.number;
    s.row.phase = st.phase;
    set_step_lr(s);
    if (s.sft) sft_step(s);
    else grpo_step(s);
    share_outcomes(s);
    record_step(s, t0);
    const int64_t step = s.number;
    const bool grpo_next = s.sft && step == sft_steps && step < cfg.max_steps;  // evaluated as "grpo start"
    if (cfg.eval_every > 0 && step % cfg.eval_every == 0 && step != cfg.max_steps && !grpo_next) evaluate("during");
    if (lead && ((cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) || step == cfg.max_steps)) checkpoint();
  }

  void enter_grpo_if_due() {
    if (st.phase != "sft" || st.step < sft_steps) return;
    start_phase("grpo", false);
    log << "-- phase grpo from step " << st.step << "\n";
    summary.grpo_start_eval_accuracy = evaluate("grpo start");
  }

  // Linear warm-up, then cosine, per phase.
  void set_step_lr(Step& s) {
    const int64_t in_phase = s.sft ? st.step : st.step - sft_steps;
    double lr = lr_at(s.sft ? cfg.lr : cfg.grpo_lr, in_phase, s.sft ? sft_steps : grpo_steps, cfg.warmup);
    if (cfg.lr_schedule == "constant")  // warm-up, then flat: a run cut into --resume'd segments is one run
      lr = (s.sft ? cfg.lr : cfg.grpo_lr) * (in_phase < cfg.warmup ? double(in_phase + 1) / cfg.warmup : 1.0);
    set_lr(*opt, lr);
    s.row.lr = lr;
  }

  // This rank's share of the step's global batch: the global batch is drawn alike on every rank; rank r
  // takes items [r n, (r+1) n) of it (task indices data_index + i), so N ranks of n see one rank's N n.
  Draws draw_this_ranks_share(int per_rank, uint64_t stream, uint64_t& base) {
    const auto all = cur.next_batch(per_rank * world, mix_seed({cfg.seed, static_cast<uint64_t>(st.step + 1), stream}));
    base = src.next_index + uint64_t(per_rank) * uint64_t(rank);
    src.next_index += all.size();
    return Draws(all.begin() + per_rank * rank, all.begin() + per_rank * (rank + 1));
  }

  // SFT data: gold completions of the drawn tasks (the recipe's tasks with train_recipe; the stream index
  // is then the data index and the curriculum's draws are not used).
  struct SftBatch {
    std::vector<std::vector<int>> prompts, completions;
    Draws draws;  // (family, level) of each item, for the curriculum
  };
  SftBatch draw_sft_batch() {
    uint64_t base = 0;
    const Draws draws = draw_this_ranks_share(cfg.batch_size, 1, base);
    SftBatch b;
    for (size_t i = 0; i < draws.size(); ++i) {
      const pb::Task t = recipe_data ? recipe_data->at(base + i) : src.at(draws[i].first, draws[i].second, base + i);
      b.draws.emplace_back(recipe_data ? std::make_pair(t.family(), t.level()) : draws[i]);
      b.prompts.push_back(prompt_ids(tok, t.prompt()));
      b.completions.push_back(gold_ids(tok, t, cfg.sft_trace));
    }
    return b;
  }

  void sft_step(Step& s) {
    const SftBatch b = draw_sft_batch();
    s.tokens = cfg.packing ? sft_step_packed(model, *opt, cfg, *dist, b.prompts, b.completions, b.draws, s.row, s.outcomes)
                           : sft_step_padded(model, *opt, cfg, *dist, b.prompts, b.completions, b.draws, s.row, s.outcomes);
  }

  // GRPO: group_size samples of each drawn prompt, scored by the verifiers; group advantages; one update
  // on the groups whose rewards differ (dynamic sampling).
  void grpo_step(Step& s) {
    const int G = cfg.group_size;
    uint64_t base = 0;
    const Draws draws = draw_this_ranks_share(cfg.prompts_per_step, 2, base);
    std::vector<pb::Task> tasks;
    std::vector<std::vector<int>> prompts;
    for (size_t i = 0; i < draws.size(); ++i) {
      tasks.push_back(src.at(draws[i].first, draws[i].second, base + i));
      for (int g = 0; g < G; ++g) prompts.push_back(prompt_ids(tok, tasks.back().prompt()));
    }
    auto comps = sample_groups(s, prompts);
    std::vector<double> rewards;
    std::vector<bool> correct;
    score_groups(tasks, comps, rewards, correct, s);
    const AdvantageKind kind = parse_advantage(cfg.advantage);
    std::vector<std::vector<int>> kp, kc;
    std::vector<double> kadv;
    double reward_sum = 0;
    for (size_t p = 0; p < tasks.size(); ++p) {
      std::vector<double> r(rewards.begin() + p * G, rewards.begin() + (p + 1) * G);
      auto adv = group_advantages(r, kind);
      for (int g = 0; g < G; ++g) {
        reward_sum += r[g];
        s.outcomes.push_back({draws[p].first, draws[p].second, bool(correct[p * G + g]), std::fabs(adv[g])});
      }
      if (cfg.dynamic_sampling && all_equal(r)) {
        ++s.dropped_groups;
        continue;
      }
      for (int g = 0; g < G; ++g) {
        kp.push_back(prompts[p * G + g]);
        kc.push_back(comps[p * G + g]);
        kadv.push_back(adv[g]);
      }
    }
    s.row.reward = reward_sum / double(comps.size());
    // with several ranks the update runs when any rank kept a group (the others join with nothing)
    const double kept = dist->active() ? dist->sum({double(kp.size())})[0] : double(kp.size());
    if (!kp.empty()) {
      s.tokens += cfg.packing ? grpo_update_packed(model, ref, *opt, cfg, *dist, kp, kc, kadv, s.row)
                              : grpo_update_padded(model, ref, *opt, cfg, *dist, kp, kc, kadv, s.row);
    } else if (kept > 0) {
      grpo_update_idle(model, *opt, cfg, *dist);
    }
  }

  // Samples every prompt (each rank with its own generator; rank 0 keeps the single-process one).
  std::vector<std::vector<int>> sample_groups(Step& s, const std::vector<std::vector<int>>& prompts) {
    const auto step = static_cast<uint64_t>(s.number);
    auto gen = rank > 0 ? at::detail::createCPUGenerator(mix_seed({cfg.seed, step, 0x5a3b1eull, static_cast<uint64_t>(rank)}))
                        : at::detail::createCPUGenerator(mix_seed({cfg.seed, step, 0x5a3b1eull}));
    SampleOptions so;
    so.max_new = cfg.max_new_tokens;
    so.temperature = cfg.temperature;
    so.top_p = cfg.top_p;
    so.eos = Tokenizer::kEos;
    model->eval();
    auto comps = sample(model, prompts, so, gen);
    model->train();
    for (const auto& c : comps) s.tokens += static_cast<int64_t>(c.size());
    return comps;
  }

  // Rewards from the verifiers; with gold_injection a group with no correct sample gets the gold
  // completion as its first sample.
  void score_groups(const std::vector<pb::Task>& tasks, std::vector<std::vector<int>>& comps,
                    std::vector<double>& rewards, std::vector<bool>& correct, Step& s) {
    const int G = cfg.group_size;
    rewards.assign(comps.size(), 0.0);
    correct.assign(comps.size(), false);
    auto score = [&](size_t i) {
      const pb::Score sc = score_completion(tasks[i / G], tok.decode(comps[i]));
      // the verifier's process score (coverage of the required derivation x precision of the steps), as
      // `verity score --process-weight` pays it: no steps, or valid steps that skip the derivation, earn 0
      rewards[i] = sample_reward(cfg, sc.correct(), sc.format_ok(), process_reward(sc));
      correct[i] = sc.correct();
    };
    for (size_t i = 0; i < comps.size(); ++i) score(i);
    if (!cfg.gold_injection) return;
    for (size_t p = 0; p < tasks.size(); ++p) {
      bool any = false;
      for (int g = 0; g < G; ++g) any = any || correct[p * G + g];
      if (!any) {
        comps[p * G] = gold_ids(tok, tasks[p], cfg.sft_trace);
        score(p * G);
        ++s.injected_groups;
      }
    }
  }

  // Data parallel: every rank's outcomes, in rank order, recorded by every rank (rank 0 stores them), so
  // no statistic is lost and all ranks' curricula stay identical; the logged figures become global too.
  void share_outcomes(Step& s) {
    if (!dist->active()) return;
    std::vector<double> rows;
    for (const auto& o : s.outcomes) {
      size_t fi = 0;
      while (fi < families.size() && families[fi].first != o.family) ++fi;
      rows.insert(rows.end(), {double(fi), double(o.level), o.success ? 1.0 : 0.0, o.abs_advantage});
    }
    const auto gathered = dist->all_gather_rows(rows, 4);
    s.outcomes.clear();
    for (size_t i = 0; i + 3 < gathered.size(); i += 4)
      s.outcomes.push_back({families.at(size_t(gathered[i])).first, int(gathered[i + 1]), gathered[i + 2] > 0.5,
                            gathered[i + 3]});
    const auto g = dist->sum({s.row.loss, s.row.entropy, s.row.kl, s.row.reward, double(s.tokens),
                              double(s.dropped_groups), double(s.injected_groups)});
    s.row.loss = g[0];  // per-rank losses are already shares of the global token mean
    s.row.entropy = g[1] / world;
    s.row.kl = g[2] / world;
    s.row.reward = g[3] / world;
    s.tokens = int64_t(g[4]);
    s.dropped_groups = int(g[5]);
    s.injected_groups = int(g[6]);
  }

  // The curriculum learns the outcomes; the run state advances; SQLite, metrics.csv and the log get the row.
  void record_step(Step& s, double t0) {
    StepRow& row = s.row;
    auto touched = cur.record(s.outcomes, s.number);
    auto changes = cur.update_levels(s.number);
    int64_t ok = 0;
    for (const auto& o : s.outcomes) ok += o.success;
    row.pass_rate = s.outcomes.empty() ? 0 : double(ok) / double(s.outcomes.size());
    if (s.sft) row.reward = row.pass_rate;
    const double dt = now() - t0;
    row.seconds = dt;
    row.tokens_per_s = dt > 0 ? double(s.tokens) / dt : 0;
    st.step = s.number;
    st.tokens += s.tokens;
    st.seconds += dt;
    st.data_index = src.next_index;
    if (store) store->log_step(row, touched, changes);
    std::string levels;
    for (const auto& [f, w] : families) levels += (levels.empty() ? "" : " ") + f + ":" + std::to_string(cur.level(f));
    if (lead)
      csv << row.step << "," << row.phase << "," << row.loss << "," << row.reward << "," << row.pass_rate << ","
          << row.kl << "," << row.entropy << "," << row.tokens_per_s << "," << row.lr << "," << row.seconds << ","
          << levels << std::endl;
    for (const auto& c : changes)
      log << "curriculum: " << c.family << " level " << c.from_level << " -> " << c.to_level << " (ema pass "
          << c.ema_pass << ") at step " << c.step << "\n";
    if (cfg.log_every > 0 && (s.number % cfg.log_every == 0 || s.number == 1 || s.number == cfg.max_steps)) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "step %5lld %-4s loss %.4f reward %.3f pass %.3f kl %.4f ent %.3f tok/s %.0f  %s",
                    static_cast<long long>(s.number), row.phase.c_str(), row.loss, row.reward, row.pass_rate, row.kl,
                    row.entropy, row.tokens_per_s, levels.c_str());
      log << buf;
      if (!s.sft) log << "  (groups skipped " << s.dropped_groups << ", gold-injected " << s.injected_groups << ")";
      log << std::endl;
    }
  }

  // ---------------- end ----------------

  TrainSummary finish() {
    if (lead) csv.flush();
    summary.last_eval_accuracy = evaluate("end");
    if (store) store->set_status("finished");
    for (const auto& p : model->parameters()) {
      auto c = p.detach().to(torch::kCPU, torch::kFloat).contiguous().reshape(-1);
      summary.final_parameters.insert(summary.final_parameters.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
    summary.steps_done = static_cast<int>(st.step);
    summary.seconds = now() - run_t0;
    const double train_s = st.seconds - seconds_before;
    summary.tokens_per_s = train_s > 0 ? double(st.tokens - tokens_before) / train_s : 0;
    char buf[256];
    std::snprintf(buf, sizeof buf, "done: %d steps, %.1f s wall, %.0f tokens/s; accuracy %.3f -> %.3f; checkpoint %s\n",
                  summary.steps_done, summary.seconds, summary.tokens_per_s, summary.first_eval_accuracy,
                  summary.last_eval_accuracy, ckpt.string().c_str());
    log << buf;
    return summary;
  }

  int64_t parameter_count() const {
    int64_t n = 0;
    for (const auto& p : model->parameters()) n += p.numel();
    return n;
  }

  // configuration and where the run lives
  const TrainConfig cfg;
  const fs::path run_dir, ckpt;
  const int world, rank;
  const bool lead;  // rank 0: writes the run directory and evaluates
  std::ostringstream quiet;
  std::ostream& log;
  bool resuming = false;
  std::vector<std::pair<std::string, double>> families;
  std::unique_ptr<RecipeTrainData> recipe_data;
  // what a checkpoint holds
  Tokenizer tok;
  GPT model{nullptr};
  RunState st;
  Curriculum cur;
  nlohmann::json state;  // the checkpoint's state.json when resuming
  // statistics (rank 0)
  std::unique_ptr<Store> store;
  std::ofstream csv;
  // phases
  int64_t sft_steps = 0, grpo_steps = 0;
  std::unique_ptr<torch::optim::AdamW> opt;
  torch::Device device{torch::kCPU};
  GPT ref{nullptr};
  std::unique_ptr<Distributed> dist;
  // data and evaluation
  TaskSource src;
  std::vector<pb::Task> eval_set;
  int eval_new = 0;
  TrainSummary summary;
  double run_t0 = 0, seconds_before = 0;
  int64_t tokens_before = 0;
};

}  // namespace

TrainSummary run_training(const TrainConfig& config, std::ostream& log) {
  configure_threads(config.threads);
  return TrainingRun(config, log).run();
}

namespace {

struct LoadedCheckpoint {
  Tokenizer tok;
  GPT model{nullptr};
  bool sft_trace = false;
};

LoadedCheckpoint load_for_eval(const std::string& checkpoint, const std::string& device = "auto") {
  const fs::path ck = checkpoint;
  if (!fs::exists(ck / "state.json"))
    throw std::runtime_error("no checkpoint in " + checkpoint + " (expected " + (ck / "state.json").string() +
                             "; a run keeps its latest one in runs/<name>/ckpt)");
  auto state = nlohmann::json::parse(read_text((ck / "state.json").string()));
  LoadedCheckpoint out;
  out.tok = load_tokenizer(ck);
  out.model = load_model(ck, state);
  out.model->to(resolve_device(device));
  out.sft_trace = state.at("config").value("sft_trace", false);
  return out;
}

// Room for the longest gold completion of these tasks, plus slack.
int default_max_new(const LoadedCheckpoint& ck, const std::vector<pb::Task>& tasks) {
  int max_new = 16;
  for (const auto& t : tasks) max_new = std::max<int>(max_new, int(gold_ids(ck.tok, t, ck.sft_trace).size()) + 8);
  return max_new;
}

}  // namespace

EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& tasks_path, int batch, int max_new,
                               std::ostream* completions, const std::string& device) {
  configure_threads(2);
  LoadedCheckpoint ck = load_for_eval(checkpoint, device);
  const auto tasks = read_tasks(tasks_path);
  if (max_new <= 0) max_new = default_max_new(ck, tasks);
  return eval_model(ck.model, ck.tok, tasks, batch, max_new, completions_sink(completions));
}

RecipeEval evaluate_recipe(const std::string& checkpoint, const std::string& recipe_path,
                           const RecipeEvalOptions& options) {
  configure_threads(options.torch_threads);
  const double t0 = now();
  LoadedCheckpoint ck = load_for_eval(checkpoint, options.device);
  const Recipe recipe = load_recipe(recipe_path);
  // Build the recipe with the library's own builder, so the evaluated tasks are byte for byte the
  // ones `verity generate --recipe` writes (disjointness from the training split included).
  const bool temporary = options.data_dir.empty();
  const fs::path dir = temporary ? fs::temp_directory_path() / ("verity_eval_" + std::to_string(::getpid()) + "_" +
                                                                std::to_string(static_cast<uint64_t>(t0 * 1e6)))
                                 : fs::path(options.data_dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove_all(dir, ignored);
    }
  } cleanup{temporary ? dir : fs::path()};
  if (options.reuse_build && !temporary) {
    ensure_recipe_built(recipe_path, dir.string(), options.scale, options.threads);
  } else {
    RecipeBuildOptions build;
    build.output_dir = dir.string();
    build.scale = options.scale;
    build.threads = options.threads;
    build_recipe(recipe, build);
  }

  RecipeEval out;
  out.checkpoint = checkpoint;
  out.recipe_path = recipe_path;
  out.recipe_name = recipe.name;
  out.description = recipe.description;
  out.scale = options.scale;
  const auto& m = ck.model->cfg;
  int64_t params = 0;
  for (const auto& p : ck.model->parameters()) params += p.numel();
  out.model = std::to_string(m.layers) + " layers, width " + std::to_string(m.width) + ", " +
              std::to_string(m.heads) + " heads, " + m.pos_encoding + "; " + std::to_string(params) + " parameters";
  for (const auto& part : recipe.parts) {
    auto tasks = read_tasks((dir / (part.name + ".jsonl")).string());
    if (options.exclude_questions)
      std::erase_if(tasks, [&](const pb::Task& t) { return options.exclude_questions->count(question_key(t)) > 0; });
    if (options.max_per_split > 0 && tasks.size() > options.max_per_split) tasks.resize(options.max_per_split);
    const int max_new = options.max_new_tokens > 0 ? options.max_new_tokens : default_max_new(ck, tasks);
    EvalSink sink;
    if (options.completions_jsonl)
      sink = [&, name = part.name](const pb::Task& task, const std::string& text, const pb::Score& s) {
        *options.completions_jsonl << dump_line({{"split", name},
                                                 {"id", task.id()},
                                                 {"completion", text},
                                                 {"correct", s.correct()},
                                                 {"reward", s.reward()}});
      };
    SplitEval split{part.name, part.family, part.level, part.knobs,
                    eval_model(ck.model, ck.tok, tasks, options.batch, max_new, sink)};
    out.total.merge(split.result);
    out.splits.push_back(std::move(split));
  }
  out.seconds = now() - t0;
  return out;
}

std::pair<double, double> wilson_interval(uint64_t correct, uint64_t n) {
  if (n == 0) return {0.0, 1.0};
  const double z = 1.959964, nn = double(n), p = double(correct) / nn;
  const double centre = (p + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::string format_recipe_eval(const RecipeEval& e) {
  size_t width = 5;
  for (const auto& s : e.splits) width = std::max(width, s.name.size());
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  auto line = [&](const std::string& name, const EvalResult& r) {
    out << std::left << std::setw(int(width)) << name << std::right << "  accuracy " << r.accuracy() << " ("
        << r.overall.correct << "/" << r.overall.scored << ")\n";
  };
  for (const auto& s : e.splits) line(s.name, s.result);
  line("total", e.total);
  return out.str();
}

std::string recipe_eval_markdown(const RecipeEval& e) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  out << "# Evaluation: " << e.recipe_name << "\n\n";
  if (!e.description.empty()) out << e.description << "\n\n";
  out << "- checkpoint: `" << e.checkpoint << "` (" << e.model << ")\n";
  char scale[32];
  std::snprintf(scale, sizeof scale, "%g", e.scale);
  out << "- recipe: `" << e.recipe_path << "`" << (e.scale != 1.0 ? std::string(", counts scaled by ") + scale : "")
      << "\n";
  out << "- greedy decoding, scored by the verifiers; " << e.total.overall.scored << " items, " << std::setprecision(1)
      << e.seconds << " s\n\n"
      << std::setprecision(3);
  out << "| split | family | level | knobs | items | correct | accuracy | 95% CI | format ok | mean reward |\n";
  out << "|---|---|---:|---|---:|---:|---:|---|---:|---:|\n";
  auto row = [&](const std::string& name, const std::string& family, const std::string& level,
                 const std::string& knobs, const EvalResult& r) {
    const Tally& t = r.overall;
    const auto [lo, hi] = wilson_interval(t.correct, t.scored);
    out << "| " << name << " | " << family << " | " << level << " | " << knobs << " | " << t.scored << " | "
        << t.correct << " | " << t.accuracy() << " | [" << lo << ", " << hi << "] | " << t.format_ok_rate() << " | "
        << t.mean_reward() << " |\n";
  };
  for (const auto& s : e.splits) {
    std::string knobs;
    for (const auto& [k, v] : s.knobs) knobs += (knobs.empty() ? "" : ", ") + k + "=" + v;
    row(s.name, s.family, s.level ? std::to_string(s.level) : "-", knobs, s.result);
  }
  row("**total**", "", "", "", e.total);
  return out.str();
}

std::string format_eval(const EvalResult& r) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  out << "accuracy " << r.accuracy() << " (" << r.overall.correct << "/" << r.overall.scored << "), format ok "
      << r.overall.format_ok_rate() << ", mean reward " << r.overall.mean_reward() << "\n";
  for (const auto& [k, v] : r.by_family_level)
    out << "  " << k.first << " level " << k.second << ": " << v.accuracy() << " (" << v.correct << "/" << v.scored
        << ")\n";
  return out.str();
}

}  // namespace verity::trainer
