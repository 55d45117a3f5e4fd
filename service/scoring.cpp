#include "service/scoring.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "tasks/answer_extraction.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "verifiers/label_verifier.h"

namespace verity {

double process_reward(const pb::Score& score) {
  return score.steps_required() > 0 ? std::clamp(score.process(), 0.0, 1.0) : 0.0;
}

double blended_reward(const pb::Score& score, double process_weight) {
  const double w = std::clamp(process_weight, 0.0, 1.0);
  // Families without a process score keep their outcome; in the others no steps means process 0.
  if (w == 0.0 || score.steps_required() <= 0) return score.reward();
  return score.reward() * ((1.0 - w) + w * process_reward(score));
}

namespace {

pb::Score verify_bounded(const pb::Task& task, std::string_view completion) {
  try {
    const size_t cap = completion_cap(task, completion.size());
    if (completion.size() > cap) {
      pb::Score score = score_for(task);
      score.set_reason("completion is " + std::to_string(completion.size()) + " bytes, over the " +
                       std::to_string(cap) + "-byte limit");
      return score;
    }
    return find_family(task.family()).verifier.verify(task, completion);
  } catch (const std::exception& e) {
    pb::Score score = score_for(task);
    score.set_reason(std::string("not scored: ") + e.what());
    return score;
  }
}

}  // namespace

pb::Score score_completion(const pb::Task& task, std::string_view completion, const ScoreOptions& options) {
  pb::Score score = verify_bounded(task, completion);
  if (options.process_weight != 0.0) score.set_reward(blended_reward(score, options.process_weight));
  return score;
}

void Tally::add(const pb::Score& score) {
  ++scored;
  correct += score.correct();
  format_ok += score.format_ok();
  reward += score.reward();
}

namespace {

struct PendingScore {
  const pb::Task* task = nullptr;
  std::string completion;
  pb::Score preset;          // used when the line itself is unusable
  bool use_preset = false;
};

std::string where(const ScoreRequest& r, size_t line) { return r.completions_path + ":" + std::to_string(line) + ": "; }

}  // namespace

ScoreReport score_files(const ScoreRequest& request) {
  ScoreReport report;
  const std::vector<pb::Task> tasks = read_tasks(request.tasks_path);
  std::unordered_map<std::string, const pb::Task*> by_id;
  for (const auto& t : tasks) by_id.emplace(t.id(), &t);

  std::ifstream in(request.completions_path, std::ios::binary);
  if (!in) throw FileError(request.completions_path + ": cannot open (does the file exist?)");
  std::vector<PendingScore> pending;
  std::unordered_set<std::string> answered;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > 4 * kMaxCompletionBytes) {
      report.problems.push_back(where(request, number) + "line is " + std::to_string(line.size()) +
                                " bytes, over the limit; skipped");
      continue;
    }
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      report.problems.push_back(where(request, number) + "not a JSON object; skipped");
      continue;
    }
    const auto id_it = json.find(request.id_field);
    if (id_it == json.end() || !id_it->is_string()) {
      report.problems.push_back(where(request, number) + "no string field '" + request.id_field +
                                "' (choose another with --id-field); skipped");
      continue;
    }
    const std::string id = id_it->get<std::string>();
    const auto task_it = by_id.find(id);
    if (task_it == by_id.end()) {
      report.problems.push_back(where(request, number) + "id '" + id.substr(0, 80) + "' is not in " +
                                request.tasks_path + "; skipped");
      continue;
    }
    answered.insert(id);
    PendingScore p;
    p.task = task_it->second;
    const auto text_it = json.find(request.completion_field);
    if (text_it == json.end() || !text_it->is_string()) {
      report.problems.push_back(where(request, number) + "no string field '" + request.completion_field +
                                "' (choose another with --completion-field); scored 0");
      p.use_preset = true;
      p.preset = score_for(*p.task);
      p.preset.set_reason("missing completion");
    } else {
      p.completion = text_it->get<std::string>();
    }
    pending.push_back(std::move(p));
  }

  report.scores.resize(pending.size());
  tbb::task_arena arena(request.threads > 0 ? request.threads : tbb::info::default_concurrency());
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, pending.size(), [&](size_t i) {
      const auto& p = pending[i];
      report.scores[i] = p.use_preset ? p.preset : score_completion(*p.task, p.completion, request.options);
    });
  });
  for (const auto& s : report.scores) report.add(s);
  report.tasks_without_completion = tasks.size() - answered.size();

  if (!request.output.empty()) {
    std::string out;
    for (const auto& s : report.scores) out += to_json_line(s) + "\n";
    write_file_atomically(request.output, out);
  }
  return report;
}

std::string format_report(const ScoreReport& report) {
  auto pct = [](uint64_t part, uint64_t whole) { return whole ? 100.0 * part / whole : 0.0; };
  char buf[256];
  std::string out;
  std::snprintf(buf, sizeof buf, "scored %llu completions: accuracy %.2f%%, mean reward %.4f, format ok %.2f%%\n",
                static_cast<unsigned long long>(report.overall.scored), 100 * report.overall.accuracy(),
                report.overall.mean_reward(), pct(report.overall.format_ok, report.overall.scored));
  out += buf;
  std::snprintf(buf, sizeof buf, "%-28s %5s %8s %9s %8s\n", "family", "level", "n", "accuracy", "reward");
  out += buf;
  for (const auto& [key, t] : report.by_family_level) {
    std::snprintf(buf, sizeof buf, "%-28s %5s %8llu %8.2f%% %8.4f\n", key.first.c_str(),
                  key.second ? std::to_string(key.second).c_str() : "custom", static_cast<unsigned long long>(t.scored),
                  100 * t.accuracy(), t.mean_reward());
    out += buf;
  }
  if (report.tasks_without_completion)
    out += std::to_string(report.tasks_without_completion) + " task(s) had no completion\n";
  return out;
}

}  // namespace verity
