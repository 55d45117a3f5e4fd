// The embedded LibTorch trainer: public, torch-free API. Only trainer/*.cpp and
// trainer/torch_model.h include torch headers; cli/ and tests/ use this header, tokenizer.h and store.h.
//
//   TrainConfig  every knob of a run (JSON round trip; the CLI generates one flag per key)
//   run_training SFT / GRPO / SFT then GRPO on tasks streamed from the generators, curriculum in SQLite,
//                atomic checkpoints, --resume
//   evaluate     greedy decoding of a checkpoint on a task file, scored with the verifiers
//   Model        a pimpl handle on the transformer, for tests and tools (forward, sampling, save/load)
//   advantages / policy_token_loss: the GRPO math on plain vectors (the same code the trainer runs)
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/scoring.h"

namespace verity::trainer {

// "libtorch <version>, <threads> threads, <blas>": proves the torch link and reports the runtime.
std::string runtime_summary();
// Sets the BLAS pool to 1 thread (OpenBLAS fights OpenMP: measured, see bench/trainer_compare.sh) and torch's intra-op pool
// to `threads` (0 = keep torch's default). Called by every entry point; cheap to call again.
void configure_threads(int threads);
// First thing in main() of a program that trains: when OpenBLAS did not know this CPU and fell back to its
// slowest kernels, runs the program again (same arguments) with OPENBLAS_CORETYPE naming kernels the CPU can
// run. Does nothing when OpenBLAS knew the CPU, when OPENBLAS_CORETYPE is set, or with another BLAS.
void use_fitting_blas_kernels(char** argv);

struct ModelConfig {
  int vocab = 0;
  int layers = 2;
  int width = 128;
  int heads = 4;
  int max_len = 1024;                  // learned positions only; others extrapolate
  std::string pos_encoding = "rope";   // none | learned | sinusoidal | rope
  // initial weights: fan_in (embeddings N(0,1), matrices N(0,1/fan_in)) | gpt2 (N(0,0.02), the scheme
  // before issue 13, kept for configs measured with it); a checkpoint's weights do not depend on it
  std::string init = "fan_in";
  nlohmann::json to_json() const;
  static ModelConfig from_json(const nlohmann::json& j);
};

struct TrainConfig;
// Every train setting's key and help text, in the order of the config table (defaults: TrainConfig()).
const std::vector<std::pair<std::string, std::string>>& train_field_help();

struct TrainConfig {
  // data
  std::string family = "causal_transitivity";  // comma list; "name:weight" sets a mixing weight
  std::string knobs;             // "name=value,..." overrides on top of every level's knobs
  int level = 1;                 // starting level of every family
  int min_level = 1;
  int max_level = 10;
  uint64_t seed = 1;
  bool sft_trace = false;        // SFT target = gold trace + answer (else the answer only)
  double sft_prompt_loss = 1.0;  // weight of next-token loss on the prompt too (helps form copy heads)
  // SFT on a recipe's built training split instead of streamed tasks (trainer/train_data.h): batches
  // cycle through its tasks in a seed-shuffled order per epoch (resume-safe via the data index)
  std::string train_recipe;      // recipe file (datasets/*.json); empty = stream from the generators
  std::string train_data;        // where it is built (reused while unchanged); empty = <run_dir>/train_data
  double train_scale = 1.0;      // multiplies every part's count, as `verity generate --recipe --scale`
  std::string train_parts;       // comma-separated parts of train_recipe to train on (a curriculum stage); empty = all
  // run
  std::string mode = "sft";      // sft | grpo | sft+grpo
  int max_steps = 60;            // total optimiser steps (both phases)
  int sft_steps = -1;            // sft+grpo: steps of SFT before GRPO (-1 = half of max_steps)
  std::string run_dir = "runs/default";
  bool resume = false;
  bool overwrite = false;        // a fresh start in a run_dir holding an earlier run deletes it (else refused)
  // data parallelism (c10d Gloo): ranks split every step's batch, gradients are summed token-weighted
  int world_size = 1;            // processes; verity-train launches the other ranks itself (see README)
  int rank = 0;                  // this process (set by the launcher, or by hand with --rendezvous)
  std::string rendezvous;        // directory (c10d FileStore) or host:port (TCPStore); empty = run_dir
  std::string init_checkpoint;   // start from these weights (tokenizer too), fresh optimiser
  int checkpoint_every = 50;
  int eval_every = 0;            // 0 = only before and after
  int eval_tasks = 200;
  int log_every = 10;
  int threads = 1;               // 1 measured fastest on 2 busy cores (OpenMP spins when oversubscribed)
  // where the weights, optimiser state, batches and sampling live: cpu | cuda | auto (cuda when this
  // libtorch has CUDA and sees a GPU); checkpoints load on any device
  std::string device = "auto";
  std::string precision = "auto";  // auto (bf16 autocast on CUDA, fp32 on CPU) | fp32 | bf16
  // model
  int layers = 2, width = 64, heads = 4, max_len = 1024;
  std::string pos_encoding = "rope";
  std::string init = "fan_in";   // fan_in | gpt2 (ModelConfig::init)
  std::string tokenizer = "word";  // word | char (trainer/tokenizer.h; char = the axiomatic paper's)
  std::string lr_schedule = "cosine";  // cosine (warm-up, cosine to 10%) | constant (warm-up, then lr: the paper's)
  // optimiser
  int batch_size = 32;           // SFT sequences per step
  double lr = 5e-3;
  double grpo_lr = 3e-4;
  double weight_decay = 0.0;
  int warmup = 20;
  double grad_clip = 1.0;
  bool packing = true;           // padding-free batches (sequences packed into rows, see Packed); false = padded
  int pack_len = 0;              // tokens per packed row; 0 = the batch's longest sequence
  // GRPO
  int prompts_per_step = 16;     // 8 was measurably noisier (see configs/grpo_demo.json)
  int group_size = 8;
  int max_new_tokens = 8;
  double temperature = 1.0;
  double top_p = 1.0;
  std::string advantage = "grpo";  // grpo | drgrpo (no std) | rloo (leave-one-out)
  double clip_low = 0.2, clip_high = 0.28;
  double kl_coef = 0.0;          // k3 estimator against the frozen start-of-GRPO weights
  int ppo_epochs = 1;
  bool dynamic_sampling = true;  // drop groups whose rewards are all equal
  bool gold_injection = false;   // a group with no correct sample gets the gold completion as one sample
  // reward = outcome x correct + process x correct x Score.process + format x format_ok: Score.process is
  // the verifier's coverage of the required derivation x the share of valid steps (service/scoring.h
  // process_reward); the process term is gated by the outcome, so steps never pay for a wrong answer
  double reward_outcome = 1.0, reward_format = 0.0, reward_process = 0.0;
  // curriculum
  bool curriculum = true;
  double band_low = 0.2, band_high = 0.8;
  int min_samples = 256;         // attempts at the current level before the curriculum may move it
  double ema_alpha = 0.1;
  double review_frac = 0.0;      // share of a batch drawn from lower levels

  nlohmann::json to_json() const;
  static TrainConfig from_json(const nlohmann::json& j);  // unknown keys throw std::invalid_argument
  ModelConfig model(int vocab) const;
};

// Greedy decoding scored by the verifiers, tallied as `verity score` tallies (service/scoring.h):
// overall and per (family, level).
struct EvalResult : Tallies {
  double accuracy() const { return overall.accuracy(); }
};

struct TrainSummary {
  int steps_done = 0;
  double first_eval_accuracy = -1, last_eval_accuracy = -1;
  double grpo_start_eval_accuracy = -1;    // sft+grpo: accuracy when GRPO takes over from SFT
  double seconds = 0, tokens_per_s = 0;   // tokens summed over all ranks
  std::vector<float> final_parameters;     // every parameter at the end, flattened (tests compare ranks)
};

// Whether this build has PyTorch's c10d Gloo process group (world_size > 1 needs it).
bool distributed_available();

// Runs a whole training job; progress lines go to `log` (stdout by the CLI).
TrainSummary run_training(const TrainConfig& config, std::ostream& log);

// Greedy decoding of every task with the checkpoint, scored by verity::score_completion.
EvalResult evaluate_checkpoint(const std::string& checkpoint, const std::string& tasks_path, int batch,
                               int max_new_tokens, std::ostream* completions_jsonl = nullptr,
                               const std::string& device = "auto");  // cpu | cuda | auto
std::string format_eval(const EvalResult& result);

// ---- evaluation on every split of a dataset recipe (service/recipe.h, datasets/*.json) ----
struct RecipeEvalOptions {
  int batch = 64;
  int max_new_tokens = 0;      // 0 = per split, from the gold completions' length
  double scale = 1.0;          // multiplies every part's count, as `verity generate --recipe --scale`
  std::string data_dir;        // where the recipe is built (kept); empty = a temporary directory, removed
  int threads = 2;             // generation threads for the build
  int torch_threads = 2;       // torch intra-op threads for decoding (1 is faster on busy cores)
  std::ostream* completions_jsonl = nullptr;  // one line per task: split, id, completion, correct
  std::string device = "auto";  // cpu | cuda | auto, as TrainConfig::device
  bool reuse_build = false;    // data_dir already built at this scale (train_data.h stamp): do not rebuild
  uint64_t max_per_split = 0;  // evaluate only the first n tasks of every split (0 = all)
  // question keys (tasks/registry/registry.h question_key) never to evaluate, e.g. the questions of a training set
  const std::unordered_set<std::string>* exclude_questions = nullptr;
};
struct SplitEval {
  std::string name, family;
  int level = 0;
  std::map<std::string, std::string> knobs;  // the part's knob overrides, as written in the recipe
  EvalResult result;
};
struct RecipeEval {
  std::string checkpoint, recipe_path, recipe_name, description;
  double scale = 1.0;
  std::string model;           // "2 layers, width 64, 4 heads, rope; 12345 parameters"
  std::vector<SplitEval> splits;
  EvalResult total;            // all splits together
  double seconds = 0;
};
// Builds the recipe exactly as `verity generate --recipe` does (same tasks, same disjointness), then
// greedy-decodes every split with the checkpoint and scores it with the verifiers.
RecipeEval evaluate_recipe(const std::string& checkpoint, const std::string& recipe_path,
                           const RecipeEvalOptions& options);
// One line per split: "<split>  accuracy 0.750 (15/20)".
std::string format_recipe_eval(const RecipeEval& eval);
// Markdown: a header (checkpoint, recipe, model), one table row per split with its item count,
// accuracy and a 95% Wilson interval, format-ok rate and mean reward, then the total.
std::string recipe_eval_markdown(const RecipeEval& eval);
// The 95% Wilson score interval of `correct` successes out of `n` (n = 0 gives [0, 1]).
std::pair<double, double> wilson_interval(uint64_t correct, uint64_t n);

// ---- GRPO math (plain vectors; the trainer calls the same functions) ----
enum class AdvantageKind { Grpo, DrGrpo, Rloo };
AdvantageKind parse_advantage(const std::string& name);
// Rewards of one group -> advantages. Grpo: (r - mean) / (std + 1e-4), std with Bessel's correction;
// DrGrpo: r - mean; Rloo: r_i - mean of the others.
std::vector<double> group_advantages(const std::vector<double>& rewards, AdvantageKind kind);
bool all_equal(const std::vector<double>& rewards);
// One sample's GRPO reward from its score (TrainConfig's reward_* weights; the process term is gated by
// the outcome). `process` = process_reward(score) (service/scoring.h): 0 for families without a process score.
double sample_reward(const TrainConfig& config, bool correct, bool format_ok, double process);

struct TokenLoss {
  std::vector<double> loss;        // per token
  std::vector<double> grad_logp;   // d loss / d logp (autograd through the torch implementation)
};
// Per-token clipped surrogate: -min(r A, clip(r, 1-low, 1+high) A) + kl_coef * k3(ref, logp).
TokenLoss policy_token_loss(const std::vector<double>& logp, const std::vector<double>& old_logp,
                            const std::vector<double>& ref_logp, const std::vector<double>& advantage,
                            double clip_low, double clip_high, double kl_coef);

// ---- Model handle ----
class Tokenizer;
class Model {
 public:
  explicit Model(const ModelConfig& config, uint64_t seed = 0);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  const ModelConfig& config() const;
  int64_t parameter_count() const;
  // Logits of right-padded sequences: returns [B, T, V] flattened row-major; T = longest sequence.
  std::vector<float> logits(const std::vector<std::vector<int>>& batch) const;
  // Greedy/temperature decoding of left-padded prompts; per row the new tokens (eos included if hit).
  std::vector<std::vector<int>> generate(const std::vector<std::vector<int>>& prompts, int max_new,
                                         double temperature, double top_p, bool use_cache, uint64_t seed,
                                         int eos = -1, std::vector<float>* step_logits = nullptr) const;
  // log p of each completion token given its prompt, per row: the trainer's two layouts, padded
  // [prompt | completion] (packed = false) or padding-free packed rows of `pack_len` tokens.
  std::vector<std::vector<float>> completion_logprobs(const std::vector<std::vector<int>>& prompts,
                                                      const std::vector<std::vector<int>>& completions, bool packed,
                                                      int pack_len = 0) const;
  // Trains on one fixed batch for `steps` Adam steps (next-token loss on every token); returns losses.
  std::vector<double> fit(const std::vector<std::vector<int>>& batch, int steps, double lr);
  void save(const std::string& path) const;
  void load(const std::string& path);

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace verity::trainer
