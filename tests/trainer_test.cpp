// Trainer tests: tokenizer, transformer, KV-cache sampling, GRPO math, SQLite store, curriculum,
// checkpoints and a tiny end-to-end run with a resume. Built only with the trainer.
#ifdef VERITY_HAVE_TRAINER
#include <algorithm>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "curriculum/store.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "test_support.h"
#include "trainer/tokenizer.h"
#include "trainer/trainer.h"

namespace {

using namespace verity;
using namespace verity::trainer;
using namespace verity::curriculum;
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return verity::testing::fresh_temp_dir("verity_trainer_test", name); }

// A shipped train config (configs/...), read as `verity train --config` reads JSON.
TrainConfig config_file(const std::string& relative) {
  std::ifstream in(std::string(VERITY_SOURCE_DIR) + "/" + relative);
  if (!in) throw std::runtime_error("cannot read " + relative);
  return TrainConfig::from_json(nlohmann::json::parse(in));
}

// A shipped config run in `dir` without logging, periodic evals or checkpoints (the quality tests), on
// one torch thread (ctest runs two tests at a time on two cores).
TrainConfig quiet_run(TrainConfig c, const fs::path& dir) {
  c.run_dir = dir.string();
  c.threads = 1;
  c.log_every = 0;
  c.eval_every = 0;
  c.checkpoint_every = 0;
  return c;
}

std::vector<pb::Task> some_tasks(int level, int n, uint64_t seed = 3) {
  const Generator& f = find_family("causal_transitivity").generator;
  const Knobs knobs = resolve_knobs(f, level, {});
  std::vector<pb::Task> out;
  for (int i = 0; i < n; ++i) out.push_back(make_task(f, knobs, level, seed, i));
  return out;
}

const Tokenizer& ct_tokenizer() {
  static const Tokenizer tok = Tokenizer::build_for_families({"causal_transitivity"}, 20);
  return tok;
}

TEST(Tokenizer, RoundTripsTasksAndArbitraryBytes) {
  const Tokenizer& tok = ct_tokenizer();
  for (const auto& t : some_tasks(6, 30)) {
    std::vector<std::string> trace;
    for (const auto& s : t.trace()) trace.push_back(s.text());
    for (const std::string& text : {t.prompt(), gold_completion(t.answer(), trace, true)}) {
      const auto ids = tok.encode(text);
      EXPECT_EQ(tok.decode(ids), text);
      EXPECT_LT(ids.size(), text.size());  // fixed words compress
    }
  }
  const std::string odd = std::string("caus\xc3\xa9s  <answer>\tYes</answer>\n\x01\xff end", 32);
  EXPECT_EQ(tok.decode(tok.encode(odd)), odd);
  EXPECT_EQ(tok.decode(tok.encode("")), "");
}

TEST(Tokenizer, FixedWordsAreWholeTokensNamesAreCharacters) {
  const Tokenizer& tok = ct_tokenizer();
  EXPECT_EQ(tok.encode(" causes").size(), 1u);
  EXPECT_EQ(tok.encode("<answer>").size(), 1u);
  EXPECT_EQ(tok.encode("Yes").size(), 1u);
  const auto name = tok.encode("qZ7");  // a random node name: one token per character
  ASSERT_EQ(name.size(), 3u);
  EXPECT_EQ(tok.token_text(name[0]), "q");
  // saved and loaded with the checkpoint: same ids
  const Tokenizer back = Tokenizer::from_json(nlohmann::json::parse(tok.to_json().dump()));
  const std::string text = some_tasks(3, 1)[0].prompt();
  EXPECT_EQ(back.encode(text), tok.encode(text));
  EXPECT_EQ(back.vocab_size(), tok.vocab_size());
}

// The char scheme (the axiomatic paper's): names one token per character, the paper's whole words and
// markers one token each with their spaces, and exact round trips of prompts in every format, gold
// completions and arbitrary bytes.
TEST(Tokenizer, CharSchemeSpellsNamesAndKeepsThePapersWholeWords) {
  const Tokenizer tok = Tokenizer::characters();
  EXPECT_EQ(tok.scheme(), "char");
  auto texts = [&](const std::vector<int>& ids) {
    std::vector<std::string> out;
    for (int id : ids) out.push_back(tok.token_text(id));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(texts(tok.encode("Does Ab cause C? [SOC] Ab causes B. B causes C. [EOC]")),
            (V{"Does ", "A", "b", " cause ", "C", "? ", "[SOC] ", "A", "b", " causes ", "B", ". ", "B", " causes ",
               "C", ". ", "[EOC]"}));
  EXPECT_EQ(texts(tok.encode("<answer>Yes</answer>")), (V{"<answer>", "Yes", "</answer>"}));
  EXPECT_EQ(texts(tok.encode("Are X and Y d-separated given {Z}?")),
            (V{"Are ", "X", " and ", "Y", " d-separated ", "g", "i", "v", "e", "n", " ", "{", "Z", "}", "?"}));
  // a whole word is never cut out of a longer name, and a name is never read as a word
  EXPECT_EQ(texts(tok.encode("Nob causes xNo. No")), (V{"N", "o", "b", " causes ", "x", "N", "o", ". ", "No"}));
  EXPECT_EQ(texts(tok.encode("qZ7")), (V{"q", "Z", "7"}));
  for (const char* family : {"causal_transitivity", "d_separation"}) {
    const Generator& f = find_family(family).generator;
    for (const char* format : {"axiomatic", "natural", "symbolic"})
      for (int level : {1, 5, 10}) {
        const Knobs knobs = resolve_knobs(f, level, {{"format", format}});
        for (uint64_t i = 0; i < 20; ++i) {
          const pb::Task t = make_task(f, knobs, level, 9, i);
          std::vector<std::string> trace;
          for (const auto& s : t.trace()) trace.push_back(s.text());
          for (const std::string& text : {t.prompt(), gold_completion(t.answer(), trace, true)})
            ASSERT_EQ(tok.decode(tok.encode(text)), text) << family << " " << format;
        }
      }
  }
  const std::string odd = std::string("caus\xc3\xa9s  <answer>\tYes</answer>\n\x01\xff end[SOC]", 37);
  EXPECT_EQ(tok.decode(tok.encode(odd)), odd);
  // the scheme and ids travel with the checkpoint; checkpoints from before the scheme existed are word
  const Tokenizer back = Tokenizer::from_json(nlohmann::json::parse(tok.to_json().dump()));
  EXPECT_EQ(back.scheme(), "char");
  EXPECT_EQ(back.vocab_size(), tok.vocab_size());
  EXPECT_EQ(back.encode(odd), tok.encode(odd));
  nlohmann::json old = ct_tokenizer().to_json();
  old.erase("scheme");
  EXPECT_EQ(Tokenizer::from_json(old).scheme(), "word");
  EXPECT_EQ(Tokenizer::for_scheme("char", {}).pieces(), tok.pieces());
  EXPECT_EQ(Tokenizer::for_scheme("word", {"causal_transitivity"}).scheme(), "word");
  EXPECT_THROW(Tokenizer::for_scheme("bpe", {}), std::invalid_argument);
}

// The paper's format in word tokens too: the word vocabulary does not depend on the axiomatic rendering
// (it is built from the natural and symbolic ones), and the terse prompts still round-trip.
TEST(Tokenizer, WordSchemeRoundTripsTheAxiomaticFormat) {
  const Tokenizer& tok = ct_tokenizer();
  const Generator& f = find_family("causal_transitivity").generator;
  const Knobs knobs = resolve_knobs(f, 3, {{"format", "axiomatic"}});
  for (uint64_t i = 0; i < 50; ++i) {
    const std::string p = make_task(f, knobs, 3, 4, i).prompt();
    ASSERT_EQ(tok.decode(tok.encode(p)), p);
  }
  for (const auto& piece : tok.pieces()) EXPECT_EQ(piece.find("SOC"), std::string::npos) << piece;
}

// The word scheme trains on "<answer> Elena: knave, ..." so every name of the answer is the token the
// prompt shows it as (" Elena" after "inhabitants:"): copying a name is copying a token. Without the
// space the answer's first name is another token ("Elena") and the 2-person knights demo learned about
// 1,000 steps later. Categorical answers (the task's label: Yes, PROVED) and the char scheme (the
// axiomatic paper's) keep "<answer>Yes</answer>".
TEST(Tokenizer, AnswerNamesAreTheTokensThePromptShows) {
  const Tokenizer tok = Tokenizer::build_for_families({"knights_knaves"});
  const Generator& f = find_family("knights_knaves").generator;
  const Knobs knobs = resolve_knobs(f, 1, {{"people", "2"}});
  for (uint64_t i = 0; i < 200; ++i) {
    const pb::Task t = make_task(f, knobs, 1, 5, i);
    const std::vector<int> prompt = tok.encode(t.prompt());
    const std::string completion = tok.completion(t, false);
    ASSERT_EQ(completion, "<answer> " + t.answer() + "</answer>");
    const std::vector<int> answer = tok.encode(completion);
    std::set<int> answer_names;  // "Name: role": the token before each ":"
    for (size_t k = 1; k < answer.size(); ++k)
      if (tok.token_text(answer[k]) == ":") answer_names.insert(answer[k - 1]);
    ASSERT_EQ(answer_names.size(), 2u) << completion;
    for (int name : answer_names)
      EXPECT_NE(std::find(prompt.begin(), prompt.end(), name), prompt.end())
          << "'" << tok.token_text(name) << "' of " << completion << " is not a token of the prompt";
  }
  pb::Task label;  // a categorical answer: written as before
  label.set_answer("Yes");
  label.set_label("Yes");
  label.add_trace()->set_text("step");
  EXPECT_EQ(tok.completion(label, true), "step\n<answer>Yes</answer>");
  pb::Task number;  // an answer that starts with no letter keeps its form
  number.set_answer("[1, 2]");
  EXPECT_EQ(tok.completion(number, false), "<answer>[1, 2]</answer>");
  pb::Task names = label;
  names.set_answer("Ann: knight");
  EXPECT_EQ(tok.completion(names, false), "<answer> Ann: knight</answer>");
  EXPECT_EQ(Tokenizer::characters().completion(names, false), "<answer>Ann: knight</answer>");
}

ModelConfig tiny(const std::string& pos, int vocab = 40) {
  ModelConfig c;
  c.vocab = vocab;
  c.layers = 2;
  c.width = 32;
  c.heads = 4;
  c.max_len = 64;
  c.pos_encoding = pos;
  return c;
}

const std::vector<std::string> kPositions = {"none", "learned", "sinusoidal", "rope"};

TEST(Model, ForwardShapesForEveryPositionalEncoding) {
  for (const auto& pos : kPositions) {
    Model m(tiny(pos), 1);
    const auto out = m.logits({{1, 5, 6, 7, 8}, {1, 9, 10, 11, 12, 13, 14}});
    ASSERT_EQ(out.size(), 2u * 7u * 40u) << pos;
    for (float x : out) ASSERT_TRUE(std::isfinite(x)) << pos;
  }
  EXPECT_THROW(Model(tiny("alibi")), std::invalid_argument);
}

// Training speed depends on freed activations staying in the heap (see configure_threads): without it
// glibc maps and unmaps every large tensor, and each forward pass page-faults all of its memory again.
TEST(Model, ForwardPassesReuseFreedMemoryWithoutPageFaults) {
  verity::trainer::configure_threads(1);
  ModelConfig c = tiny("rope");
  c.width = 64;
  Model m(c, 1);
  std::vector<std::vector<int>> batch(32, std::vector<int>(96, 5));
  m.logits(batch);  // warm-up: the heap grows once
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  for (int i = 0; i < 10; ++i) m.logits(batch);
  getrusage(RUSAGE_SELF, &after);
  const long faults = after.ru_minflt - before.ru_minflt;
  // measured: ~2,100 faults with freed memory kept in the heap, ~44,500 without (each pass maps its
  // ~17 MiB of activations afresh)
  EXPECT_LT(faults, 10000) << "minor page faults in 10 forward passes";
}

TEST(Model, PositionsMatterExceptWithoutEncoding) {
  // one layer without positional encoding is order-blind over the prefix: the last position of
  // [5 6 7] and [6 5 7] get the same logits; every encoding tells them apart
  for (const auto& pos : kPositions) {
    ModelConfig c = tiny(pos);
    c.layers = 1;
    Model m(c, 2);
    const auto a = m.logits({{5, 6, 7}}), b = m.logits({{6, 5, 7}});
    double diff = 0;
    for (int v = 0; v < 40; ++v) diff += std::fabs(a[2 * 40 + v] - b[2 * 40 + v]);
    if (pos == "none") EXPECT_LT(diff, 1e-4) << pos;
    else EXPECT_GT(diff, 1e-4) << pos;
  }
}

TEST(Model, KvCacheSamplingEqualsFullRecompute) {
  const std::vector<std::vector<int>> prompts = {{1, 5, 6, 7}, {1, 9, 10, 11, 12, 13, 14, 15}, {1, 20}};
  for (const auto& pos : kPositions) {
    Model m(tiny(pos), 3);
    std::vector<float> with_cache, without;
    const auto a = m.generate(prompts, 8, 0.0, 1.0, true, 0, -1, &with_cache);
    const auto b = m.generate(prompts, 8, 0.0, 1.0, false, 0, -1, &without);
    EXPECT_EQ(a, b) << pos;
    ASSERT_EQ(with_cache.size(), without.size());
    ASSERT_EQ(with_cache.size(), 8u * 3u * 40u);
    double worst = 0;
    for (size_t i = 0; i < with_cache.size(); ++i) worst = std::max<double>(worst, std::fabs(with_cache[i] - without[i]));
    EXPECT_LT(worst, 1e-4) << pos;
    // temperature + top-p sampling: same seed, same tokens, with or without the cache
    EXPECT_EQ(m.generate(prompts, 8, 1.0, 0.9, true, 42), m.generate(prompts, 8, 1.0, 0.9, false, 42)) << pos;
    // left padding: a prompt decoded alone equals the same prompt inside a batch
    std::vector<float> alone;
    m.generate({prompts[2]}, 8, 0.0, 1.0, true, 0, -1, &alone);
    for (int s = 0; s < 8; ++s)
      for (int v = 0; v < 40; ++v)
        ASSERT_NEAR(alone[s * 40 + v], with_cache[(s * 3 + 2) * 40 + v], 1e-4) << pos << " step " << s;
  }
}

TEST(Model, PackedRowsGiveTheSameLogprobsAsPaddedBatches) {
  // sequences of very different prompt and completion lengths, so padded layouts waste a lot and
  // several sequences share a packed row
  std::vector<std::vector<int>> prompts, comps;
  for (int i = 0; i < 9; ++i) {
    std::vector<int> p{1}, c;
    for (int j = 0; j < 2 + (i * 5) % 11; ++j) p.push_back(4 + (i * 7 + j * 3) % 36);
    p.push_back(3);
    for (int j = 0; j < 1 + (i * 3) % 7; ++j) c.push_back(4 + (i + j * 5) % 36);
    c.push_back(2);
    prompts.push_back(p);
    comps.push_back(c);
  }
  for (const auto& pos : kPositions) {
    Model m(tiny(pos), 6);
    const auto padded = m.completion_logprobs(prompts, comps, false);
    for (int pack_len : {0, 24, 64}) {
      const auto packed = m.completion_logprobs(prompts, comps, true, pack_len);
      ASSERT_EQ(packed.size(), padded.size());
      for (size_t b = 0; b < padded.size(); ++b) {
        ASSERT_EQ(packed[b].size(), comps[b].size()) << pos << " row " << b;
        for (size_t j = 0; j < comps[b].size(); ++j)
          EXPECT_NEAR(packed[b][j], padded[b][j], 2e-4) << pos << " pack_len " << pack_len << " row " << b;
      }
    }
    // and each equals the sequence scored alone (batch of one, nothing to pad)
    const auto alone = m.completion_logprobs({prompts[4]}, {comps[4]}, false);
    for (size_t j = 0; j < comps[4].size(); ++j) EXPECT_NEAR(alone[0][j], padded[4][j], 2e-4) << pos;
  }
}

TEST(Model, TinyModelOverfitsAFixedBatch) {
  Model m(tiny("rope"), 4);
  const std::vector<std::vector<int>> batch = {{1, 5, 9, 13, 17, 21, 25, 2}, {1, 6, 10, 14, 18, 22, 26, 2},
                                               {1, 7, 11, 15, 19, 23, 27, 2}};
  const auto losses = m.fit(batch, 80, 1e-2);
  EXPECT_GT(losses.front(), 3.0);                 // ~ log(40) at init
  EXPECT_LT(losses.back(), 0.25 * losses.front());
}

TEST(Model, SaveLoadRestoresIdenticalOutputs) {
  const fs::path dir = temp_dir("saveload");
  Model a(tiny("learned"), 5);
  a.fit({{1, 3, 4, 5, 6, 2}}, 5, 1e-2);
  a.save((dir / "m.pt").string());
  Model b(tiny("learned"), 99);
  const auto seq = std::vector<std::vector<int>>{{1, 3, 4, 5}};
  EXPECT_NE(a.logits(seq), b.logits(seq));
  b.load((dir / "m.pt").string());
  EXPECT_EQ(a.logits(seq), b.logits(seq));
  fs::remove_all(dir);
}

TEST(Grpo, AdvantagesOnKnownInputs) {
  const std::vector<double> r = {1, 0, 0, 1};
  const double sd = std::sqrt(1.0 / 3.0);  // sample std of {1,0,0,1}
  auto g = group_advantages(r, AdvantageKind::Grpo);
  EXPECT_NEAR(g[0], 0.5 / (sd + 1e-4), 1e-9);
  EXPECT_NEAR(g[1], -0.5 / (sd + 1e-4), 1e-9);
  auto d = group_advantages(r, AdvantageKind::DrGrpo);
  EXPECT_DOUBLE_EQ(d[0], 0.5);
  EXPECT_DOUBLE_EQ(d[2], -0.5);
  auto l = group_advantages({1, 0, 0, 0}, AdvantageKind::Rloo);
  EXPECT_NEAR(l[0], 1.0, 1e-12);         // 1 - mean(0,0,0)
  EXPECT_NEAR(l[1], -1.0 / 3.0, 1e-12);  // 0 - mean(1,0,0)
  auto eq = group_advantages({0.5, 0.5, 0.5}, AdvantageKind::Grpo);
  for (double x : eq) EXPECT_DOUBLE_EQ(x, 0.0);
  EXPECT_TRUE(all_equal({0.5, 0.5}));
  EXPECT_FALSE(all_equal({0.5, 0.4}));
  EXPECT_EQ(parse_advantage("rloo"), AdvantageKind::Rloo);
  EXPECT_THROW(parse_advantage("ppo"), std::invalid_argument);
}

TEST(Grpo, ClippedSurrogateWithSeparateBoundsAndK3) {
  const double up = std::log(1.5), down = std::log(0.5);
  // ratio 1.5: A>0 clipped at 1+0.28 (no gradient); A<0 unclipped (pessimistic min)
  // ratio 0.5: A<0 clipped at 1-0.2 (no gradient); A>0 unclipped
  auto t = policy_token_loss({up, up, down, down, 0.0}, {0, 0, 0, 0, 0}, {}, {1, -1, -1, 1, 2}, 0.2, 0.28, 0.0);
  EXPECT_NEAR(t.loss[0], -1.28, 1e-9);
  EXPECT_NEAR(t.grad_logp[0], 0.0, 1e-12);
  EXPECT_NEAR(t.loss[1], 1.5, 1e-9);
  EXPECT_NEAR(t.grad_logp[1], 1.5, 1e-9);
  EXPECT_NEAR(t.loss[2], 0.8, 1e-9);
  EXPECT_NEAR(t.grad_logp[2], 0.0, 1e-12);
  EXPECT_NEAR(t.loss[3], -0.5, 1e-9);
  EXPECT_NEAR(t.grad_logp[3], -0.5, 1e-9);
  EXPECT_NEAR(t.loss[4], -2.0, 1e-9);      // ratio 1: plain policy gradient
  EXPECT_NEAR(t.grad_logp[4], -2.0, 1e-9);
  // k3 = exp(ref - logp) - (ref - logp) - 1
  auto k = policy_token_loss({0.0}, {0.0}, {std::log(2.0)}, {0.0}, 0.2, 0.28, 0.1);
  EXPECT_NEAR(k.loss[0], 0.1 * (2.0 - std::log(2.0) - 1.0), 1e-9);
  EXPECT_NEAR(k.grad_logp[0], 0.1 * (1.0 - 2.0), 1e-9);  // d/dlogp of k3 = 1 - exp(ref - logp)
}

TEST(Store, RoundTripRewindAndWal) {
  const fs::path dir = temp_dir("store");
  const std::string db = (dir / "verity.sqlite").string();
  {
    Store s(db);
    EXPECT_EQ(s.journal_mode(), "wal");
    s.open_run("x", "sft", "{}");
    for (int step = 1; step <= 3; ++step) {
      StepRow r;
      r.step = step;
      r.phase = "sft";
      r.loss = 1.0 / step;
      LevelStat st{"causal_transitivity", 1, 10L * step, 5L * step, 0.5, 0.1, step};
      s.log_step(r, {st}, step == 3 ? std::vector<LevelChange>{{3, "causal_transitivity", 1, 2, 0.9}}
                                    : std::vector<LevelChange>{});
    }
  }
  {
    Store s(db);
    s.open_run("x", "sft", "{}");
    auto steps = s.steps();
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_DOUBLE_EQ(steps[1].loss, 0.5);
    auto stats = s.level_stats();
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_EQ(stats[0].attempts, 30);
    EXPECT_EQ(stats[0].successes, 15);
    EXPECT_EQ(s.level_changes().size(), 1u);
    s.rewind(2, {{"causal_transitivity", 1, 20, 10, 0.5, 0.1, 2}});
    EXPECT_EQ(s.steps().size(), 2u);
    EXPECT_EQ(s.level_stats()[0].attempts, 20);
    EXPECT_TRUE(s.level_changes().empty());
  }
  const std::string shown = format_curriculum(db);
  EXPECT_NE(shown.find("causal_transitivity"), std::string::npos);
  EXPECT_THROW(format_curriculum((dir / "missing.sqlite").string()), std::runtime_error);
  fs::remove_all(dir);
}

TEST(Curriculum, PromotesAboveBandDemotesBelowAfterMinSamples) {
  CurriculumConfig cc;
  cc.min_samples = 10;
  cc.ema_alpha = 0.5;
  Curriculum c(cc, {{"causal_transitivity", 1.0}}, 1);
  auto batch = [&](int level, int n, bool ok) {
    std::vector<Curriculum::Outcome> o(n, {"causal_transitivity", level, ok, 0.0});
    return o;
  };
  c.record(batch(1, 6, true), 1);
  EXPECT_TRUE(c.update_levels(1).empty());  // too few samples yet
  c.record(batch(1, 6, true), 2);
  auto ch = c.update_levels(2);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].to_level, 2);
  EXPECT_EQ(c.level("causal_transitivity"), 2);
  for (const auto& d : c.next_batch(20, 7)) EXPECT_EQ(d.second, 2);
  c.record(batch(2, 12, false), 3);
  ch = c.update_levels(3);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].to_level, 1);
  // inside the band: stays
  Curriculum mid(cc, {{"causal_transitivity", 1.0}}, 3);
  std::vector<Curriculum::Outcome> half;
  for (int i = 0; i < 20; ++i) half.push_back({"causal_transitivity", 3, i % 2 == 0, 0.0});
  mid.record(half, 1);
  EXPECT_TRUE(mid.update_levels(1).empty());
  // JSON round trip keeps levels and statistics
  const Curriculum back = Curriculum::from_json(c.to_json());
  EXPECT_EQ(back.level("causal_transitivity"), 1);
  ASSERT_EQ(back.stats().size(), 2u);
  EXPECT_EQ(back.stats()[0].attempts, 12);
  EXPECT_EQ(back.stats()[1].successes, 0);
}

TrainConfig tiny_run(const fs::path& dir) {
  TrainConfig c;
  c.run_dir = dir.string();
  c.mode = "sft+grpo";
  c.max_steps = 6;
  c.sft_steps = 3;
  c.layers = 1;
  c.width = 32;
  c.heads = 2;
  c.batch_size = 8;
  c.prompts_per_step = 2;
  c.group_size = 4;
  c.max_new_tokens = 6;
  c.eval_tasks = 8;
  c.checkpoint_every = 4;
  c.kl_coef = 0.05;
  c.gold_injection = true;
  c.log_every = 0;
  return c;
}

// lr_schedule constant: warm-up, then the base lr at every step, so a run cut into --resume'd segments
// (the study's learning curves: 4 steps, then on to 8) logs the same lr and losses as one run of 8 steps;
// with the default cosine the schedule depends on max_steps and the two differ.
TEST(Training, ConstantLrRunInSegmentsIsOneRun) {
  auto column = [](const fs::path& dir, int col) {
    std::ifstream csv(dir / "metrics.csv");
    std::vector<std::string> out;
    std::string line;
    std::getline(csv, line);  // header
    while (std::getline(csv, line)) {
      std::stringstream ss(line);
      std::string cell;
      for (int i = 0; i <= col; ++i) std::getline(ss, cell, ',');
      out.push_back(cell);
    }
    return out;
  };
  for (const std::string schedule : {"constant", "cosine"}) {
    const fs::path a = temp_dir("lr_one_" + schedule), b = temp_dir("lr_seg_" + schedule);
    std::ostringstream log;
    TrainConfig c = tiny_run(a);
    c.mode = "sft";
    c.max_steps = 8;
    c.warmup = 2;
    c.lr = 1e-3;
    c.eval_tasks = 0;
    c.log_every = 1;
    c.lr_schedule = schedule;
    run_training(c, log);
    c.run_dir = b.string();
    c.max_steps = 4;
    run_training(c, log);
    c.max_steps = 8;
    c.resume = true;
    run_training(c, log);
    const auto lr_a = column(a, 8), lr_b = column(b, 8), loss_a = column(a, 2), loss_b = column(b, 2);
    ASSERT_EQ(lr_a.size(), 8u);
    ASSERT_EQ(lr_b.size(), 8u);
    if (schedule == "constant") {
      EXPECT_EQ(lr_a, lr_b);
      EXPECT_EQ(loss_a, loss_b);
      EXPECT_DOUBLE_EQ(std::stod(lr_a[0]), 0.5e-3);  // warm-up step 1 of 2
      for (size_t i = 1; i < 8; ++i) EXPECT_DOUBLE_EQ(std::stod(lr_a[i]), 1e-3) << "step " << i + 1;
    } else {
      EXPECT_NE(lr_a, lr_b);
    }
    fs::remove_all(a);
    fs::remove_all(b);
  }
  TrainConfig bad;
  bad.lr_schedule = "linear";
  EXPECT_THROW(TrainConfig::from_json(bad.to_json()), std::invalid_argument);
}

TEST(Training, ResumeAfterCrashLosesAndDoubleCountsNothing) {
  const fs::path a = temp_dir("run_a"), b = temp_dir("run_b");
  std::ostringstream log;
  // run A: 8 steps straight
  TrainConfig ca = tiny_run(a);
  ca.max_steps = 8;
  auto sa = run_training(ca, log);
  EXPECT_EQ(sa.steps_done, 8);
  // run B: 6 steps (checkpoints at 4 and 6), then "crash" back to the step-4 checkpoint, then resume to 8
  TrainConfig cb = tiny_run(b);
  run_training(cb, log);
  ASSERT_TRUE(fs::exists(b / "ckpt-00000004"));
  fs::remove(b / "ckpt");
  fs::create_directory_symlink("ckpt-00000004", b / "ckpt");
  cb.max_steps = 8;
  cb.resume = true;
  auto sb = run_training(cb, log);
  EXPECT_EQ(sb.steps_done, 8);
  EXPECT_NE(log.str().find("resuming"), std::string::npos);
  Store da((a / "verity.sqlite").string()), db((b / "verity.sqlite").string());
  const auto steps_a = da.steps(), steps_b = db.steps();
  ASSERT_EQ(steps_b.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(steps_b[i].step, int64_t(i + 1));
    EXPECT_EQ(steps_b[i].phase, steps_a[i].phase);
  }
  const auto la = da.level_stats(), lb = db.level_stats();
  ASSERT_EQ(la.size(), lb.size());
  int64_t attempts = 0;
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i].attempts, lb[i].attempts);
    attempts += lb[i].attempts;
  }
  EXPECT_EQ(attempts, 3 * 8 + 5 * 2 * 4);  // 3 SFT steps of 8 + 5 GRPO steps of 2 prompts x 4 samples
  {  // the CSV too: a header and steps 1..8 once each
    std::ifstream csv(b / "metrics.csv");
    std::string line;
    std::vector<std::string> firsts;
    while (std::getline(csv, line)) firsts.push_back(line.substr(0, line.find(',')));
    ASSERT_EQ(firsts.size(), 9u);
    EXPECT_EQ(firsts[0], "step");
    for (int i = 1; i <= 8; ++i) EXPECT_EQ(firsts[i], std::to_string(i));
  }
  // the checkpoint evaluates from the CLI path too
  const std::string tasks = (b / "eval.jsonl").string();
  {
    std::ofstream out(tasks);
    for (const auto& t : some_tasks(1, 5)) out << to_json_line(t) << "\n";
  }
  const EvalResult r = evaluate_checkpoint((b / "ckpt").string(), tasks, 4, 0);
  EXPECT_EQ(r.overall.scored, 5u);
  fs::remove_all(a);
  fs::remove_all(b);
}

// Runs `world` ranks of one job as threads of this process (each its own c10d Gloo process group
// member, FileStore rendezvous in the run directory); returns every rank's summary.
std::vector<TrainSummary> run_ranks(TrainConfig c, int world) {
  std::vector<TrainSummary> out(static_cast<size_t>(world));
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  c.world_size = world;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      TrainConfig cr = c;
      cr.rank = r;
      std::ostringstream log;
      try {
        out[size_t(r)] = run_training(cr, log);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[size_t(r)], "") << "rank " << r;
  return out;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// 2 ranks of batch B train on exactly the items one rank of batch 2B draws (rank r takes slice r of
// the same global batch; losses are token-weighted so summed gradients equal the big batch's).
TEST(Distributed, TwoRanksOfBatchBEqualOneRankOfBatch2B) {
  if (!distributed_available()) GTEST_SKIP() << "built without c10d Gloo";
  const fs::path a = temp_dir("dp_one"), b = temp_dir("dp_two");
  TrainConfig c = tiny_run(a);
  c.mode = "sft";
  c.max_steps = 4;
  c.eval_tasks = 0;
  c.checkpoint_every = 0;
  c.batch_size = 8;
  std::ostringstream log;
  const auto one = run_training(c, log);
  c.run_dir = b.string();
  c.batch_size = 4;
  const auto two = run_ranks(c, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].final_parameters, two[1].final_parameters);  // bitwise: ranks apply the same update
  const float diff = max_abs_diff(one.final_parameters, two[0].final_parameters);
  std::cout << "max |parameter difference| 1 rank x 8 vs 2 ranks x 4: " << diff << "\n";
  EXPECT_LT(diff, 1e-4f);
  // rank 0 recorded every rank's outcomes: the same statistics and step losses as the single process
  Store da((a / "verity.sqlite").string()), db((b / "verity.sqlite").string());
  const auto la = da.level_stats(), lb = db.level_stats();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i].attempts, lb[i].attempts);
    EXPECT_EQ(la[i].successes, lb[i].successes);
  }
  const auto sa = da.steps(), sb = db.steps();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_NEAR(sa[i].loss, sb[i].loss, 1e-4);
  fs::remove_all(a);
  fs::remove_all(b);
}

// SFT then GRPO (sampling differs per rank, KL, gold injection): the ranks end bitwise identical and
// rank 0 alone wrote statistics for both ranks' samples and a checkpoint.
TEST(Distributed, RanksStayInSyncThroughSftAndGrpo) {
  if (!distributed_available()) GTEST_SKIP() << "built without c10d Gloo";
  const fs::path d = temp_dir("dp_sync");
  TrainConfig c = tiny_run(d);
  c.eval_tasks = 0;
  const auto s = run_ranks(c, 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].steps_done, 6);
  EXPECT_FALSE(s[0].final_parameters.empty());
  EXPECT_EQ(s[0].final_parameters, s[1].final_parameters);
  Store st((d / "verity.sqlite").string());
  EXPECT_EQ(st.steps().size(), 6u);
  int64_t attempts = 0;
  for (const auto& l : st.level_stats()) attempts += l.attempts;
  EXPECT_EQ(attempts, 2 * (3 * 8 + 3 * 2 * 4));  // both ranks: 3 SFT steps of 8 + 3 GRPO steps of 2 x 4
  EXPECT_TRUE(fs::exists(d / "ckpt" / "model.pt"));
  fs::remove_all(d);
}

TEST(Eval, WilsonIntervalOnKnownValues) {
  auto [lo0, hi0] = wilson_interval(0, 0);
  EXPECT_EQ(lo0, 0.0);
  EXPECT_EQ(hi0, 1.0);
  auto [lo, hi] = wilson_interval(5, 10);  // textbook value: [0.2366, 0.7634]
  EXPECT_NEAR(lo, 0.2366, 1e-4);
  EXPECT_NEAR(hi, 0.7634, 1e-4);
  auto [lz, hz] = wilson_interval(0, 20);
  EXPECT_EQ(lz, 0.0);
  EXPECT_NEAR(hz, 0.1611, 1e-4);
}

// A two-split recipe that must stay disjoint from a "training" recipe, as datasets/*_eval.json are.
fs::path write_eval_recipes(const fs::path& dir) {
  std::ofstream(dir / "train.json") << R"({"name": "tiny_train", "parts": [
    {"name": "train_len2", "family": "causal_transitivity", "knobs": {"chain_length": 2, "name_max": 1}, "count": 30, "seed": 1}]})";
  std::ofstream(dir / "eval.json") << R"({"name": "tiny_eval", "description": "two splits",
    "disjoint_from": ["train.json"], "parts": [
    {"name": "len2", "family": "causal_transitivity", "knobs": {"chain_length": 2, "name_max": 1}, "count": 6, "seed": 7},
    {"name": "len4_flip", "family": "causal_transitivity", "level": 2, "knobs": {"chain_length": 4, "flip_prob": 0.5}, "count": 9, "seed": 8}]})";
  return dir / "eval.json";
}

TEST(Eval, EverySplitOfARecipeWithCountsAndAMarkdownReport) {
  const fs::path dir = temp_dir("recipe_eval");
  TrainConfig c = tiny_run(dir / "run");
  c.mode = "sft";
  c.max_steps = 2;
  std::ostringstream log;
  run_training(c, log);
  const fs::path recipe = write_eval_recipes(dir);
  RecipeEvalOptions o;
  o.batch = 4;  // several batches per split
  o.data_dir = (dir / "data").string();
  std::ostringstream completions;
  o.completions_jsonl = &completions;
  const RecipeEval e = evaluate_recipe((dir / "run" / "ckpt").string(), recipe.string(), o);
  ASSERT_EQ(e.splits.size(), 2u);
  EXPECT_EQ(e.recipe_name, "tiny_eval");
  EXPECT_EQ(e.splits[0].name, "len2");
  EXPECT_EQ(e.splits[1].name, "len4_flip");
  EXPECT_EQ(e.splits[1].level, 2);
  EXPECT_EQ(e.splits[0].result.overall.scored, 6u);
  EXPECT_EQ(e.splits[1].result.overall.scored, 9u);
  EXPECT_EQ(e.total.overall.scored, 15u);
  EXPECT_EQ(e.total.overall.correct, e.splits[0].result.overall.correct + e.splits[1].result.overall.correct);
  EXPECT_NEAR(e.total.overall.mean_reward() * 15,
              e.splits[0].result.overall.mean_reward() * 6 + e.splits[1].result.overall.mean_reward() * 9, 1e-9);
  // Each split is exactly its built file: evaluating the file on its own gives the same counts, and
  // the files are the bytes `verity generate --recipe` writes (same builder, disjoint from training).
  for (const auto& s : e.splits) {
    const auto file = (dir / "data" / (s.name + ".jsonl")).string();
    ASSERT_TRUE(fs::exists(file)) << file;
    const EvalResult alone = evaluate_checkpoint((dir / "run" / "ckpt").string(), file, 64, 0);
    EXPECT_EQ(alone.overall.scored, s.result.overall.scored) << s.name;
    EXPECT_EQ(alone.overall.correct, s.result.overall.correct) << s.name;
    EXPECT_EQ(alone.overall.format_ok, s.result.overall.format_ok) << s.name;
    for (const auto& t : read_tasks(file)) EXPECT_EQ(t.family(), "causal_transitivity");
  }
  // one completion line per task, tagged with its split; "correct" agrees with the counts
  std::istringstream lines(completions.str());
  std::string line;
  std::map<std::string, std::pair<int, int>> per_split;  // split -> (lines, correct)
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    auto& p = per_split[j.at("split").get<std::string>()];
    ++p.first;
    p.second += j.at("correct").get<bool>();
  }
  EXPECT_EQ(per_split["len2"].first, 6);
  EXPECT_EQ(per_split["len4_flip"].first, 9);
  EXPECT_EQ(uint64_t(per_split["len4_flip"].second), e.splits[1].result.overall.correct);
  const std::string md = recipe_eval_markdown(e);
  EXPECT_NE(md.find("# Evaluation: tiny_eval"), std::string::npos) << md;
  EXPECT_NE(md.find("| split | family | level | knobs | items |"), std::string::npos) << md;
  EXPECT_NE(md.find("| len2 | causal_transitivity | - | chain_length=2, name_max=1 | 6 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| len4_flip | causal_transitivity | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **total** |  |  |  | 15 |"), std::string::npos) << md;
  const std::string text = format_recipe_eval(e);
  EXPECT_NE(text.find("len4_flip  accuracy"), std::string::npos) << text;
  EXPECT_NE(text.find("/9)"), std::string::npos) << text;
  // --scale halves every split (rounded, at least one item); without data_dir nothing is left behind
  o.scale = 0.5;
  o.data_dir.clear();
  o.completions_jsonl = nullptr;
  const RecipeEval half = evaluate_recipe((dir / "run" / "ckpt").string(), recipe.string(), o);
  EXPECT_EQ(half.splits[0].result.overall.scored, 3u);
  EXPECT_EQ(half.splits[1].result.overall.scored, 5u);
  EXPECT_THROW(evaluate_recipe((dir / "nothing").string(), recipe.string(), o), std::runtime_error);
  fs::remove_all(dir);
}

// Packing changes the layout, not the maths: the same run with and without it logs the same losses
// (SFT and GRPO steps, KL included) and the same pass rates, step by step.
TEST(Training, PackedAndPaddedRunsLogTheSameLosses) {
  const fs::path a = temp_dir("packed"), b = temp_dir("padded");
  std::ostringstream log;
  TrainConfig ca = tiny_run(a);
  ca.max_steps = 5;
  ca.eval_tasks = 0;
  ca.knobs = "chain_length=3";  // names of 1-3 characters: sequences of different lengths
  TrainConfig cb = ca;
  cb.run_dir = b.string();
  cb.packing = false;
  ca.pack_len = 160;  // several sequences per row
  run_training(ca, log);
  run_training(cb, log);
  Store sa((a / "verity.sqlite").string()), sb((b / "verity.sqlite").string());
  const auto ra = sa.steps(), rb = sb.steps();
  ASSERT_EQ(ra.size(), 5u);
  ASSERT_EQ(rb.size(), 5u);
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].phase, rb[i].phase);
    EXPECT_NEAR(ra[i].loss, rb[i].loss, 2e-3 * (1 + std::fabs(rb[i].loss))) << "step " << i + 1;
    EXPECT_NEAR(ra[i].entropy, rb[i].entropy, 2e-3 * (1 + rb[i].entropy)) << "step " << i + 1;
    EXPECT_NEAR(ra[i].kl, rb[i].kl, 1e-4) << "step " << i + 1;
    EXPECT_EQ(ra[i].pass_rate, rb[i].pass_rate) << "step " << i + 1;
  }
  fs::remove_all(a);
  fs::remove_all(b);
}

// A shipped config's whole run: held-out accuracy starts below `first_below` and ends at `last_at_least`.
void expect_config_learns(const std::string& config, double first_below, double last_at_least) {
  const fs::path dir = temp_dir(fs::path(config).stem().string());
  const TrainConfig c = quiet_run(config_file(config), dir);
  std::ostringstream log;
  const auto s = run_training(c, log);
  EXPECT_LT(s.first_eval_accuracy, first_below) << config;
  EXPECT_GE(s.last_eval_accuracy, last_at_least) << config << "\n" << log.str();
  fs::remove_all(dir);
}

// The quality bar of configs/demo.json (answer-only SFT on 2-node chains, the learning test's setting
// with seed 3, the run docs/gpu.md and scripts/gpu-check.sh use): leaves chance, reaches >= 0.9 (0.99).
// About 1.5 minutes on one core; not timed.
TEST(Training, SftOnShortChainsRisesWellAboveChance) { expect_config_learns("configs/demo.json", 0.6, 0.9); }

// The README's main command trains configs/knights_demo.json: answer-only SFT on 2-person knights &
// knaves puzzles (issue 13's demo bar: >= 0.95 held-out accuracy; 5 of 5 seeds in the README's table).
// The answer names both islanders, so a right answer needs the names copied and the puzzle solved.
// The slowest test (about 3 minutes on one core); not timed.
TEST(Training, KnightsDemoSolvesTwoPersonPuzzles) { expect_config_learns("configs/knights_demo.json", 0.1, 0.95); }

// The learning test of issue 13: answer-only SFT (loss on the answer tokens alone, no prompt loss) on
// 2-node causal chains with 1-character names, in the plain-PyTorch reference's setting and step budget
// (2 layers, width 64, 4 heads, RoPE, AdamW lr 1e-3, 100 warm-up steps, batch 32, 3,000 steps), must
// reach >= 0.9 held-out accuracy on every one of seeds 1-3. Measured: 1.000 / 0.945 / 0.980 (the
// reference: 0.90 / 0.93 / 0.955). With the GPT-2-scale initialisation used before, every seed stayed
// at chance (0.475-0.525) through all 3,000 steps. The seeds run side by side as threads, one torch
// thread each: about 2.5 minutes on 2 idle cores, the one slow trainer test.
TEST(Training, AnswerOnlySftLearnsTwoNodeChainsOnEverySeed) {
  TrainConfig base;
  base.family = "causal_transitivity";
  base.level = 1;
  base.knobs = "chain_length=2,name_max=1";
  base.curriculum = false;
  base.mode = "sft";
  base.max_steps = 3000;
  base.layers = 2;
  base.width = 64;
  base.heads = 4;
  base.pos_encoding = "rope";
  base.batch_size = 32;
  base.lr = 1e-3;
  base.warmup = 100;
  base.sft_prompt_loss = 0.0;
  base.threads = 1;
  base.eval_tasks = 200;
  const std::vector<uint64_t> seeds{1, 2, 3};
  std::vector<TrainSummary> results(seeds.size());
  std::vector<std::string> logs(seeds.size());
  std::vector<fs::path> dirs;
  std::vector<std::thread> runs;
  for (size_t i = 0; i < seeds.size(); ++i) {
    dirs.push_back(temp_dir("learning_seed" + std::to_string(seeds[i])));
    TrainConfig c = quiet_run(base, dirs.back());
    c.seed = seeds[i];
    runs.emplace_back([&, c, i] {
      std::ostringstream log;
      results[i] = run_training(c, log);
      logs[i] = log.str();
    });
  }
  for (auto& t : runs) t.join();
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::cout << "seed " << seeds[i] << ": accuracy " << results[i].first_eval_accuracy << " -> "
              << results[i].last_eval_accuracy << " after " << results[i].steps_done << " steps\n";
    EXPECT_EQ(results[i].steps_done, base.max_steps);
    EXPECT_GE(results[i].last_eval_accuracy, 0.9) << "seed " << seeds[i] << "\n" << logs[i];
    fs::remove_all(dirs[i]);
  }
}

// The axiomatic paper's setting in small: the terse format (format=axiomatic) in char tokens, loss on the
// answer only, 2-node chains with 1-character names. The run saves its tokenizer's scheme with the
// checkpoint, its evaluation decodes answers the verifier reads, and it learns (>= 0.9 held out).
TEST(Training, CharTokensOnTheAxiomaticFormatLearnTwoNodeChains) {
  TrainConfig c;
  c.family = "causal_transitivity";
  c.knobs = "chain_length=2,name_max=1,format=axiomatic";
  c.tokenizer = "char";
  c.curriculum = false;
  c.max_steps = 1500;
  c.batch_size = 32;
  c.lr = 1e-3;
  c.warmup = 100;
  c.sft_prompt_loss = 0.0;
  c.eval_tasks = 200;
  const fs::path dir = temp_dir("char_axiomatic");
  c = quiet_run(c, dir);
  c.checkpoint_every = 1500;
  std::ostringstream log;
  const auto s = run_training(c, log);
  std::cout << "char tokens, axiomatic format: accuracy " << s.first_eval_accuracy << " -> " << s.last_eval_accuracy
            << " after " << s.steps_done << " steps, " << s.seconds << " s\n";
  EXPECT_GE(s.last_eval_accuracy, 0.9) << log.str();
  std::ifstream in(dir / "ckpt" / "tokenizer.json");
  const auto tok = Tokenizer::from_json(nlohmann::json::parse(in));
  EXPECT_EQ(tok.scheme(), "char");
  EXPECT_EQ(tok.pieces(), Tokenizer::characters().pieces());
  c.tokenizer = "bpe";
  EXPECT_THROW(TrainConfig::from_json(c.to_json()), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(Grpo, ProcessRewardIsGatedByTheOutcome) {
  TrainConfig c;
  c.reward_outcome = 1.0;
  c.reward_process = 0.5;
  c.reward_format = 0.1;
  EXPECT_DOUBLE_EQ(sample_reward(c, true, true, 0.5), 1.0 + 0.25 + 0.1);
  EXPECT_DOUBLE_EQ(sample_reward(c, false, true, 1.0), 0.1);  // perfect steps, wrong answer: format only
  EXPECT_DOUBLE_EQ(sample_reward(c, false, false, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(sample_reward(TrainConfig{}, true, true, 0.0), 1.0);  // default: the outcome alone
}

// GRPO must raise the reward, not only keep it: configs/grpo_demo.json runs SFT until the model is
// barely above chance, then GRPO with the verifier's reward. Greedy accuracy and the mean sampled
// reward must both rise clearly. About 1.5 minutes on one core; not timed.
TEST(Training, GrpoRaisesTheRewardAfterWeakSft) {
  const fs::path dir = temp_dir("grpo_quality");
  const TrainConfig c = quiet_run(config_file("configs/grpo_demo.json"), dir);
  std::ostringstream log;
  const auto s = run_training(c, log);
  ASSERT_GE(s.grpo_start_eval_accuracy, 0.0) << log.str();
  EXPECT_LT(s.grpo_start_eval_accuracy, 0.7) << "SFT left no room for GRPO to show anything";
  EXPECT_GT(s.last_eval_accuracy, s.grpo_start_eval_accuracy + 0.08) << log.str();
  // the sampled reward of the first 25 GRPO steps against the last 50
  std::vector<double> grpo;
  for (const auto& row : Store((dir / "verity.sqlite").string()).steps())
    if (row.phase == "grpo") grpo.push_back(row.reward);
  ASSERT_EQ(grpo.size(), size_t(c.max_steps - c.sft_steps));
  const double early = std::accumulate(grpo.begin(), grpo.begin() + 25, 0.0) / 25;
  const double late = std::accumulate(grpo.end() - 50, grpo.end(), 0.0) / 50;
  EXPECT_GT(late, early + 0.05) << "mean reward, first 25 GRPO steps " << early << ", last 50 " << late;
  fs::remove_all(dir);
}

#ifdef VERITY_BINARY
std::string run_cli(const std::string& args, int* rc = nullptr) {
  auto r = verity::testing::run_verity(args);
  if (rc) *rc = r.status;
  return r.output;
}

// OpenBLAS 0.3.21 (Debian 12) falls back to its SSE3 (Prescott) kernels on CPUs newer than it, such as
// CI's Emerald Rapids, where the knights demo trained 2.6x slower; verity-train then runs itself again
// with kernels the CPU can run. A user's own OPENBLAS_CORETYPE stands.
TEST(TrainCli, BlasKernelsFitTheCpu) {
  const char* before = std::getenv("OPENBLAS_CORETYPE");  // this binary's main may have set it
  const std::string saved = before ? before : "";
  unsetenv("OPENBLAS_CORETYPE");
  const std::string chosen = run_cli("runtime");
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  const std::string forced = run_cli("runtime");
  if (saved.empty()) unsetenv("OPENBLAS_CORETYPE");
  else setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  if (chosen.find("OpenBLAS") == std::string::npos) GTEST_SKIP() << "libtorch does not use OpenBLAS: " << chosen;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) EXPECT_EQ(chosen.find(" Prescott "), std::string::npos) << chosen;
  EXPECT_NE(forced.find(" Haswell "), std::string::npos) << forced;
}

TEST(TrainCli, TrainResumeEvalAndCurriculumShow) {
  const fs::path dir = temp_dir("cli");
  {
    std::ofstream cfg(dir / "cfg.json");
    cfg << R"({"max_steps": 3, "layers": 1, "width": 32, "heads": 2, "batch_size": 4, "eval_tasks": 4,
               "log_every": 1, "knobs": "name_max=1"})";
  }
  const std::string run = (dir / "run").string();
  int rc = -1;
  std::string out = run_cli("train --config " + (dir / "cfg.json").string() + " --run-dir " + run +
                                " --pos-encoding learned --dynamic-sampling false",
                            &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("step     3 sft"), std::string::npos) << out;
  EXPECT_NE(out.find("learned"), std::string::npos) << out;
  // a fresh start in the used run folder is refused, and deletes nothing
  out = run_cli("train --config " + (dir / "cfg.json").string() + " --run-dir " + run, &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("holds an earlier run (a checkpoint): pass --resume to continue it, --overwrite to replace it"),
            std::string::npos) << out;
  ASSERT_TRUE(fs::exists(fs::path(run) / "ckpt-00000003")) << out;
  // --resume takes the run's own settings (knobs, model) and runs on to the new max
  out = run_cli("train --run-dir " + run + " --resume --max-steps 5 --mode sft+grpo --sft-steps 4", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("resuming ckpt-00000003 at step 3"), std::string::npos) << out;
  EXPECT_NE(out.find("step     5 grpo"), std::string::npos) << out;
  out = run_cli("curriculum show --db " + run + "/verity.sqlite", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("steps logged: 5"), std::string::npos) << out;
  {
    std::ofstream t(dir / "t.jsonl");
    for (const auto& task : some_tasks(1, 6)) t << to_json_line(task) << "\n";
  }
  out = run_cli("eval --checkpoint " + run + "/ckpt --tasks " + (dir / "t.jsonl").string() + " --device cpu", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("/6)"), std::string::npos) << out;
  out = run_cli("eval --checkpoint " + run + "/ckpt --tasks " + (dir / "t.jsonl").string() + " --device gpu", &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("--device"), std::string::npos) << out;
  // every split of a recipe, with a Markdown report
  const std::string recipe = write_eval_recipes(dir).string();
  out = run_cli("eval --checkpoint " + run + "/ckpt --recipe " + recipe + " --report " + (dir / "r.md").string(), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("len4_flip"), std::string::npos) << out;
  EXPECT_NE(out.find("/15)"), std::string::npos) << out;
  {
    const std::string md = verity::testing::read_file(dir / "r.md");
    EXPECT_NE(md.find("| len2 | causal_transitivity |"), std::string::npos) << md;
    // --report -: the same report on standard output, alone (the summary goes to standard error)
    out = run_cli("eval --checkpoint " + run + "/ckpt --recipe " + recipe + " --report - 2>/dev/null | cat");
    EXPECT_EQ(out, md);
  }
  out = run_cli("eval --checkpoint " + run + "/ckpt", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--tasks FILE or --recipe FILE"), std::string::npos) << out;
  out = run_cli("eval --checkpoint " + run + "/ckpt --recipe " + recipe + " --tasks " + (dir / "t.jsonl").string(), &rc);
  EXPECT_NE(rc, 0) << out;
  // --overwrite starts over: the earlier run's 5 steps are gone from the statistics
  out = run_cli("train --config " + (dir / "cfg.json").string() + " --run-dir " + run + " --overwrite", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("starting over in"), std::string::npos) << out;
  out = run_cli("curriculum show --db " + run + "/verity.sqlite", &rc);
  EXPECT_NE(out.find("steps logged: 3"), std::string::npos) << out;
  out = run_cli("train --run-dir " + run + " --no-such-flag 1", &rc);
  EXPECT_NE(rc, 0);
  out = run_cli("train --run-dir " + run + " --advantage ppo", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("grpo | drgrpo | rloo"), std::string::npos) << out;
  fs::remove_all(dir);
}
#endif

}  // namespace
// --world-size 2 from the command line: verity-train starts rank 1 itself (FileStore in the run
// directory), rank 0 logs the steps of the global batch, and --resume relaunches both ranks.
// Every shipped config in configs/ loads and trains: two steps of each (one SFT, one GRPO step where the
// config has a GRPO phase), as `verity train --config` runs it. What each one reaches is measured in the
// README (demo.json, knights_demo.json, grpo_demo.json: by the quality tests above).
// `verity train --help`: every setting of the config table as a flag with its help text, type and default.
TEST(TrainCli, HelpDescribesEveryFlag) {
  int rc = -1;
  const std::string out = run_cli("train --help", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Usage: verity train"), std::string::npos) << out;
  EXPECT_EQ(out.find("verity-train"), std::string::npos) << out;
  const nlohmann::json defaults = TrainConfig().to_json();
  EXPECT_EQ(train_field_help().size(), defaults.size());
  for (const auto& [key, help] : train_field_help()) {
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_GT(help.size(), 3u) << key;
    const size_t at = out.find(flag + " ");
    ASSERT_NE(at, std::string::npos) << flag << "\n" << out;
    const std::string line = out.substr(at, out.find('\n', at) - at);
    EXPECT_NE(line.find(help + " (default " + defaults.at(key).dump() + ")"), std::string::npos) << line;
    EXPECT_NE(line.find(defaults.at(key).is_boolean() ? "[BOOL]" : defaults.at(key).is_number() ? "" : "TEXT"),
              std::string::npos) << line;
  }
}

TEST(TrainCli, EveryShippedConfigRunsBriefly) {
  const fs::path dir = temp_dir("configs");
  int seen = 0;
  for (const auto& e : fs::directory_iterator(fs::path(VERITY_SOURCE_DIR) / "configs")) {
    const std::string name = e.path().filename().string();
    if (name == "preset.json") continue;  // a train-experiment preset, not a train config
    if (name.rfind("axiomatic_paper_", 0) == 0) {
      // a scripts/axiomatic_study.sh preset: its base settings with every shape and encoding of its grid
      // are valid train configs (tests/python/test_axiomatic_study.py runs the smoke preset)
      std::ifstream in(e.path());
      const auto preset = nlohmann::json::parse(in);
      for (const auto& shape : preset.at("grid").at("shapes"))
        for (const auto& pe : preset.at("grid").at("pos_encoding")) {
          nlohmann::json j = preset.at("base");
          j.update({{"layers", shape.at(0)}, {"width", shape.at(1)}, {"heads", shape.at(2)}, {"pos_encoding", pe}});
          EXPECT_NO_THROW(TrainConfig::from_json(j)) << name << " " << j.dump();
          EXPECT_EQ(shape.at(1).get<int>() % shape.at(2).get<int>(), 0) << name << ": width not divisible by heads";
        }
      continue;
    }
    int rc = -1;
    const std::string out = run_cli("train --config " + e.path().string() + " --run-dir " + (dir / name).string() +
                                        " --max-steps 2 --sft-steps 1 --eval-tasks 4 --eval-every 0 --log-every 1",
                                    &rc);
    EXPECT_EQ(rc, 0) << name << "\n" << out;
    EXPECT_NE(out.find("step     2"), std::string::npos) << name << "\n" << out;
    ++seen;
  }
  EXPECT_GE(seen, 3);
  fs::remove_all(dir);
}

TEST(TrainCli, YamlConfigsAndConfigErrorsThatNameTheKey) {
  const fs::path dir = temp_dir("yaml");
  {
    std::ofstream y(dir / "cfg.yaml");
    y << "# a comment\nmax_steps: 2\nlayers: 1\nwidth: 32\nheads: 2\nbatch_size: 4\neval_tasks: 4\n"
         "log_every: 1\nknobs: \"name_max=1\"\npos_encoding: sinusoidal\npacking: false\nlr: 0.001\n";
    std::ofstream bad_type(dir / "type.yaml");
    bad_type << "max_steps: abc\n";
    std::ofstream bad_key(dir / "key.yaml");
    bad_key << "max_step: 2\n";
    std::ofstream bad_syntax(dir / "syntax.yaml");
    bad_syntax << "max_steps: 2\nlr: [1\n";
  }
  int rc = -1;
  const std::string run = (dir / "run").string();
  std::string out = run_cli("train --config " + (dir / "cfg.yaml").string() + " --run-dir " + run, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("step     2 sft"), std::string::npos) << out;
  EXPECT_NE(out.find("sinusoidal"), std::string::npos) << out;
  out = run_cli("train --config " + (dir / "type.yaml").string() + " --run-dir " + run, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("type.yaml: train config key max_steps: expected an integer, got \"abc\""), std::string::npos) << out;
  out = run_cli("train --config " + (dir / "key.yaml").string() + " --run-dir " + run, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("unknown train config key: max_step"), std::string::npos) << out;
  out = run_cli("train --config " + (dir / "syntax.yaml").string() + " --run-dir " + run, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("syntax.yaml line"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(TrainCli, WorldSizeTwoLaunchesRanksAndResumes) {
  if (!distributed_available()) GTEST_SKIP() << "built without c10d Gloo";
  const fs::path dir = temp_dir("cli_dp");
  const std::string run = (dir / "run").string();
  int rc = -1;
  const std::string flags = " --max-steps 3 --layers 1 --width 32 --heads 2 --batch-size 4 --eval-tasks 0 --log-every 1";
  std::string out = run_cli("train --run-dir " + run + " --world-size 2" + flags, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("data parallel: 2 ranks"), std::string::npos) << out;
  EXPECT_NE(out.find("step     3 sft"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "run" / "rank-1.log"));
  out = run_cli("train --run-dir " + run + " --resume --max-steps 5", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("step     5 sft"), std::string::npos) << out;
  Store st(run + "/verity.sqlite");
  EXPECT_EQ(st.steps().size(), 5u);
  int64_t attempts = 0;
  for (const auto& l : st.level_stats()) attempts += l.attempts;
  EXPECT_EQ(attempts, 5 * 2 * 4);  // 5 steps, 2 ranks of 4
  fs::remove_all(dir);
}

#endif  // VERITY_HAVE_TRAINER

TEST(Model, SamplingDistributionEqualsTrainingLogprobs) {
  // GRPO's gradient is only unbiased if the tokens were drawn from the distribution the update scores:
  // the sampler's per-step log-softmax (left-padded prompts, KV cache) must equal completion_logprobs
  // of the same tokens in both training layouts
  const std::vector<std::vector<int>> prompts = {{1, 5, 6, 7}, {1, 9, 10, 11, 12, 13, 14, 15}, {1, 20}};
  for (const auto& pos : kPositions) {
    Model m(tiny(pos), 4);
    std::vector<float> steps;
    const auto comps = m.generate(prompts, 6, 1.0, 1.0, true, 7, -1, &steps);
    for (bool packed : {false, true}) {
      const auto lp = m.completion_logprobs(prompts, comps, packed);
      for (size_t b = 0; b < prompts.size(); ++b) {
        ASSERT_EQ(lp[b].size(), comps[b].size());
        for (size_t s = 0; s < comps[b].size(); ++s) {
          const float* row = &steps[(s * prompts.size() + b) * 40];
          double mx = row[0], z = 0;
          for (int v = 0; v < 40; ++v) mx = std::max<double>(mx, row[v]);
          for (int v = 0; v < 40; ++v) z += std::exp(row[v] - mx);
          const double expected = row[comps[b][s]] - mx - std::log(z);
          EXPECT_NEAR(lp[b][s], expected, 2e-4) << pos << " packed " << packed << " row " << b << " step " << s;
        }
      }
    }
  }
}
