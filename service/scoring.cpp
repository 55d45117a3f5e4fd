#include "service/scoring.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "service/records.h"
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
  size_t line = 0;
};

std::string where(const ScoreRequest& r, size_t line) { return r.completions_path + ":" + std::to_string(line) + ": "; }

std::string quoted(const std::string& text) { return "'" + text.substr(0, 80) + (text.size() > 80 ? "...'" : "'"); }

std::string field_list(const nlohmann::json& object) {
  std::string out;
  size_t n = 0;
  for (const auto& [key, value] : object.items()) {
    if (n++ == 12) return out + ", ...";
    out += (out.empty() ? "" : ", ") + quoted(key);
  }
  return out.empty() ? "none" : out;
}

// What the loop over the completion lines saw, for the errors that judge the file as a whole.
struct LineCounts {
  uint64_t lines = 0, objects = 0, without_id = 0, unknown_id = 0, matched = 0, without_completion = 0;
  std::string first_fields;              // the fields of the first JSON object line
  std::string unknown_example;           // "line 3 has id 'x'"
};

void require_file(const std::string& path, const char* flag) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw FileError(path + ": is a folder; " + flag + " takes a file");
}

void judge_lines(const ScoreRequest& request, const LineCounts& c, const pb::Task& first_task) {
  const std::string id_field = quoted(request.id_field);
  const std::string task_example = "task ids in " + request.tasks_path + " look like " + quoted(first_task.id());
  if (c.lines == 0) throw FileError(request.completions_path + ": holds no completions (the file is empty)");
  if (c.objects == 0)
    throw FileError(request.completions_path + ": no line is a JSON object (one {\"" + request.id_field +
                    "\": ..., \"" + request.completion_field + "\": ...} per line)");
  if (c.matched == 0) {
    if (c.without_id == c.objects)
      throw FileError(request.completions_path + ": no line has a string field " + id_field +
                      " (choose the id field with --id-field; the first line's fields are " + c.first_fields + ")");
    throw FileError(request.completions_path + ": no line names a task of " + request.tasks_path + " by its " +
                    id_field + " field: " + c.unknown_example + ", while " + task_example +
                    " (are these completions of this tasks file? is --id-field right?)");
  }
  if (c.without_completion == c.matched)
    throw FileError(request.completions_path + ": no line has a string field " + quoted(request.completion_field) +
                    " (choose the completion field with --completion-field; the first line's fields are " +
                    c.first_fields + ")");
  if (2 * c.matched < c.lines && !request.allow_partial) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", 100.0 * c.matched / c.lines);
    throw FileError(request.completions_path + ": only " + std::to_string(c.matched) + " of " +
                    std::to_string(c.lines) + " lines (" + share + ") name a task of " + request.tasks_path +
                    " by " + id_field + (c.unknown_example.empty() ? "" : "; e.g. " + c.unknown_example) + ", while " +
                    task_example + "; pass --allow-partial to score those " + std::to_string(c.matched) +
                    " anyway");
  }
}

}  // namespace

ScoreReport score_files(const ScoreRequest& given) {
  if (!given.dedupe.empty() && given.dedupe != "first" && given.dedupe != "last")
    throw std::invalid_argument("--dedupe " + given.dedupe + ": use first or last");
  if (is_standard_input(given.tasks_path) && is_standard_input(given.completions_path))
    throw std::invalid_argument("--tasks - and --completions -: only one of the two can be standard input");
  require_file(given.tasks_path, "--tasks");
  require_file(given.completions_path, "--completions");
  ScoreReport report;
  const std::vector<pb::Task> tasks = read_tasks(given.tasks_path);
  std::ifstream file;
  if (!is_standard_input(given.completions_path)) {
    file.open(given.completions_path, std::ios::binary);
    if (!file) throw FileError(given.completions_path + ": cannot open (does the file exist?)");
  }
  std::istream& in = is_standard_input(given.completions_path) ? std::cin : file;
  // From here on the paths only name the inputs in messages.
  const ScoreRequest request = [&] {
    ScoreRequest named = given;
    for (std::string* path : {&named.tasks_path, &named.completions_path})
      if (is_standard_input(*path)) *path = kStandardInput;
    return named;
  }();
  if (tasks.empty())
    throw FileError(request.tasks_path + ": holds no tasks (the file is empty); write one with `verity generate`");
  std::unordered_map<std::string, const pb::Task*> by_id;
  for (const auto& t : tasks) {
    if (const std::string problem = task_record_problem(t); !problem.empty())
      throw FileError(request.tasks_path + ": task " + quoted(t.id()) + ": " + problem);
    by_id.emplace(t.id(), &t);
  }

  std::vector<PendingScore> pending;
  std::unordered_map<std::string, size_t> pending_of_id;
  LineCounts counts;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++counts.lines;
    if (line.size() > 4 * kMaxCompletionBytes) {
      report.problems.push_back(where(request, number) + "line is " + std::to_string(line.size()) +
                                " bytes, over the limit; skipped");
      continue;
    }
    if (const size_t bad = invalid_utf8_at(line); bad != std::string_view::npos) {
      report.problems.push_back(where(request, number) + "not valid UTF-8 (byte " + std::to_string(bad + 1) +
                                "); JSON text must be UTF-8, escape other bytes as \\u00XX; skipped");
      continue;
    }
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      report.problems.push_back(where(request, number) + "not a JSON object; skipped");
      continue;
    }
    if (counts.objects++ == 0) counts.first_fields = field_list(json);
    const auto id_it = json.find(request.id_field);
    if (id_it == json.end() || !id_it->is_string()) {
      ++counts.without_id;
      report.problems.push_back(where(request, number) + "no string field " + quoted(request.id_field) +
                                " (choose another with --id-field); skipped");
      continue;
    }
    const std::string id = id_it->get<std::string>();
    const auto task_it = by_id.find(id);
    if (task_it == by_id.end()) {
      if (counts.unknown_id++ == 0) counts.unknown_example = "line " + std::to_string(number) + " has id " + quoted(id);
      report.problems.push_back(where(request, number) + "id " + quoted(id) + " is not in " + request.tasks_path +
                                "; skipped");
      continue;
    }
    ++counts.matched;
    PendingScore p;
    p.task = task_it->second;
    p.line = number;
    const auto text_it = json.find(request.completion_field);
    if (text_it == json.end() || !text_it->is_string()) {
      ++counts.without_completion;
      report.problems.push_back(where(request, number) + "no string field " + quoted(request.completion_field) +
                                " (choose another with --completion-field); scored 0");
      p.use_preset = true;
      p.preset = score_for(*p.task);
      p.preset.set_reason("missing completion");
    } else {
      p.completion = text_it->get<std::string>();
    }
    const auto [seen, added] = pending_of_id.emplace(id, pending.size());
    if (!added) {
      if (request.dedupe.empty())
        throw FileError(where(request, number) + "id " + quoted(id) + " was already on line " +
                        std::to_string(pending[seen->second].line) +
                        ": each task is scored once; remove the repeats or keep one line per id with "
                        "--dedupe first|last");
      ++report.duplicates_dropped;
      if (request.dedupe == "last") pending[seen->second] = std::move(p);
      continue;
    }
    pending.push_back(std::move(p));
  }
  report.lines = counts.lines;
  judge_lines(request, counts, tasks.front());

  report.scores.resize(pending.size());
  tbb::task_arena arena(request.threads > 0 ? request.threads : tbb::info::default_concurrency());
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, pending.size(), [&](size_t i) {
      const auto& p = pending[i];
      report.scores[i] = p.use_preset ? p.preset : score_completion(*p.task, p.completion, request.options);
    });
  });
  for (const auto& s : report.scores) report.add(s);
  report.tasks_without_completion = tasks.size() - pending.size();

  if (!request.output.empty()) {
    std::string out;
    for (const auto& s : report.scores) out += to_json_line(s) + "\n";
    write_file_atomically(request.output, out);
  }
  return report;
}

std::string format_problems(const ScoreReport& report, size_t shown) {
  std::string out;
  for (size_t i = 0; i < report.problems.size() && i < shown; ++i) out += "warning: " + report.problems[i] + "\n";
  if (report.problems.size() > shown)
    out += "warning: ... and " + std::to_string(report.problems.size() - shown) + " more problem lines (" +
           std::to_string(report.problems.size()) + " in all, the first " + std::to_string(shown) + " shown)\n";
  return out;
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
