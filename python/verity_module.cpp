// The compiled half of the Python package `verity` (imported as verity._verity).
// It exchanges tasks as JSON text (protobuf's JSON mapping, the same bytes as a JSONL line) and
// returns scores as dicts; python/verity/__init__.py turns this into the public API.
// Heavy loops (generate, score_batch) release the GIL and run on oneTBB.
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "service/curriculum_service.h"
#include "service/family_info.h"
#include "service/generate.h"
#include "service/records.h"
#include "service/scoring.h"
#include "tasks/answer_extraction.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace py = pybind11;

namespace verity::python {
namespace {

// Runs fn inside an arena of `threads` workers (0 = all cores) so callers can bound the parallelism.
template <class Fn>
void in_arena(int threads, Fn&& fn) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::info::default_concurrency());
  arena.execute(std::forward<Fn>(fn));
}

TaskRecordCache& task_cache() {
  static TaskRecordCache cache;
  return cache;
}

py::dict score_to_dict(const pb::Score& s) {
  py::dict d;
  d["task_id"] = s.task_id();
  d["family"] = s.family();
  d["level"] = s.level();
  d["reward"] = s.reward();
  d["correct"] = s.correct();
  d["format_ok"] = s.format_ok();
  // Extracted text comes from the model: decode leniently so invalid UTF-8 never raises.
  d["extracted_answer"] = py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(s.extracted_answer().data(), s.extracted_answer().size(), "replace"));
  d["steps_checked"] = s.steps_checked();
  d["steps_valid"] = s.steps_valid();
  d["steps_required"] = s.steps_required();  // results of the required derivation (0: no process score)
  d["steps_covered"] = s.steps_covered();
  d["process"] = s.process();
  d["reason"] = py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(s.reason().data(), s.reason().size(), "replace"));
  return d;
}

py::list family_names() {
  py::list names;
  for (const Family& f : all_families()) names.append(f.name());
  return names;
}

// service/family_info's JSON as Python objects, with the level ladder keyed by int.
py::dict describe(const std::string& name) {
  const nlohmann::json info = family_json(find_family(name));
  py::dict d = py::module_::import("json").attr("loads")(info.dump());
  py::dict levels;
  for (const auto& [level, knobs] : info["levels"].items())
    levels[py::int_(std::stoi(level))] = py::module_::import("json").attr("loads")(knobs.dump());
  d["levels"] = levels;
  return d;
}

// Positions [start, start + n) of the dataset `verity generate -n start+n` writes for (family, knobs,
// seed), as JSON lines: the same tasks in the same order (repeated questions skipped, labels kept in
// their shares), for any thread count. Too few distinct questions raise ValueError with the CLI's message.
std::vector<std::string> generate_json(const std::string& family_name, uint64_t n, uint64_t seed, int level,
                                       const KnobMap& overrides, uint64_t start, int threads) {
  const Generator& family = find_family(family_name).generator;
  resolve_knobs(family, level, overrides);  // throws KnobError before any work
  GenerateRequest request;
  request.family = family_name;
  request.level = level;
  request.knobs = overrides;
  request.seed = seed;
  request.count = start + n;
  request.threads = threads;
  py::gil_scoped_release release;
  return dataset_json_lines(request, start, start + n);
}

// Task `index` of the index stream of (family, knobs, seed), as a JSON line: the candidate a written
// task's `index` field names, and what the curriculum issues.
std::string task_json(const std::string& family_name, uint64_t index, uint64_t seed, int level,
                      const KnobMap& overrides) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  py::gil_scoped_release release;
  return to_json_line(make_task(family, knobs, level, seed, index));
}

// The task is trusted data (a bad record is a pipeline bug: raise); the completion is untrusted
// model text (never raises: score_completion turns every problem into a zero Score with a reason).
py::dict score_one(const std::string& task_json, const std::string& completion, double process_weight) {
  const ScoreOptions options{process_weight};
  pb::Score score;
  std::string error;
  {
    py::gil_scoped_release release;
    if (const auto task = task_cache().get(task_json, error)) score = score_completion(*task, completion, options);
  }
  if (!error.empty()) throw py::value_error(error);
  return score_to_dict(score);
}

py::list score_many(const std::vector<std::string>& task_jsons, const std::vector<std::string>& completions,
                    int threads, double process_weight) {
  const ScoreOptions options{process_weight};
  if (task_jsons.size() != completions.size())
    throw py::value_error("score_batch: " + std::to_string(task_jsons.size()) + " tasks but " +
                          std::to_string(completions.size()) + " completions");
  const size_t n = task_jsons.size();
  std::vector<pb::Score> scores(n);
  std::vector<std::string> errors(n);
  {
    py::gil_scoped_release release;
    in_arena(threads, [&] {
      tbb::parallel_for(size_t{0}, n, [&](size_t i) {
        if (const auto task = task_cache().get(task_jsons[i], errors[i]))
          scores[i] = score_completion(*task, completions[i], options);
      });
    });
  }
  for (size_t i = 0; i < n; ++i)
    if (!errors[i].empty()) throw py::value_error("task " + std::to_string(i) + ": " + errors[i]);
  py::list out;
  for (const auto& s : scores) out.append(score_to_dict(s));
  return out;
}

std::vector<std::string> task_field_names() {
  std::vector<std::string> names;
  const auto* descriptor = pb::Task::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) names.push_back(descriptor->field(i)->name());
  return names;
}

// verity.Curriculum's engine: the same CurriculumService `verity serve --curriculum` runs.
// close() releases the database (the writer commits what is queued first).
class PyCurriculum {
 public:
  PyCurriculum(const std::string& db_path, const std::vector<std::pair<std::string, double>>& families,
               const py::dict& settings, bool settings_given, int start_level, uint64_t seed, double success_threshold) {
    CurriculumServiceOptions o;
    o.db_path = db_path;
    o.families = families;
    o.config = config_from(settings);
    o.config_given = settings_given;
    o.start_level = start_level;
    o.seed = seed;
    o.success_threshold = success_threshold;
    py::gil_scoped_release release;
    service_ = std::make_unique<CurriculumService>(o);
  }

  py::tuple next_batch(int n, std::optional<uint64_t> seed) {
    CurriculumBatch batch;
    std::vector<std::string> lines;
    {
      py::gil_scoped_release release;
      batch = get().next_batch(n, seed);
      lines.reserve(batch.tasks.size());
      for (const auto& t : batch.tasks) lines.push_back(to_json_line(t));
    }
    return py::make_tuple(batch.batch, batch.seed, lines);
  }

  // outcomes: (task_id, family, level, reward, correct: -1 / 0 / 1). Returns the result as JSON text.
  std::string report(const std::string& request_id,
                     const std::vector<std::tuple<std::string, std::string, int, double, int>>& outcomes) {
    std::vector<CurriculumOutcome> items;
    items.reserve(outcomes.size());
    for (const auto& [id, family, level, reward, correct] : outcomes) items.push_back({id, family, level, reward, correct});
    py::gil_scoped_release release;
    const CurriculumReportResult r = get().report(request_id, items);
    return nlohmann::json{{"accepted", r.accepted}, {"duplicate", r.duplicate}, {"seq", r.last_seq},
                          {"level_changes", verity::level_changes_json(r.changes)}}.dump();
  }

  std::string state_json() const { return get().state().dump(); }

  std::string history_json(int64_t after_seq, int64_t limit) const {
    py::gil_scoped_release release;
    return reports_json(get().history(after_seq, limit)).dump();
  }

  std::string level_changes_json() const { return verity::level_changes_json(get().level_changes()).dump(); }

  void close() {
    py::gil_scoped_release release;
    service_.reset();
  }

 private:
  CurriculumService& get() const {
    if (!service_) throw std::runtime_error("this Curriculum is closed");
    return *service_;
  }

  static curriculum::CurriculumConfig config_from(const py::dict& settings) {
    curriculum::CurriculumConfig c;
    for (const auto& [key, value] : settings) {
      const std::string name = py::str(key);
      if (name == "policy") c.policy = curriculum::parse_policy(py::str(value));
      else if (name == "band_low") c.band_low = value.cast<double>();
      else if (name == "band_high") c.band_high = value.cast<double>();
      else if (name == "min_samples") c.min_samples = value.cast<int>();
      else if (name == "ema_alpha") c.ema_alpha = value.cast<double>();
      else if (name == "review_frac") c.review_frac = value.cast<double>();
      else if (name == "min_level") c.min_level = value.cast<int>();
      else if (name == "max_level") c.max_level = value.cast<int>();
      else if (name == "adaptive") c.adaptive = value.cast<bool>();
      else if (name == "window") c.window = value.cast<int>();
      else if (name == "promote") c.promote = value.cast<double>();
      else if (name == "demote") c.demote = value.cast<double>();
      else if (name == "target") c.target = value.cast<double>();
      else if (name == "step_size") c.step_size = value.cast<double>();
      else
        throw py::value_error("unknown curriculum setting '" + name +
                              "': policy, band_low, band_high, min_samples, ema_alpha, review_frac, min_level, "
                              "max_level, adaptive, window, promote, demote, target, step_size");
    }
    return c;
  }

  std::unique_ptr<CurriculumService> service_;
};

}  // namespace
}  // namespace verity::python

PYBIND11_MODULE(_verity, m) {
  using namespace verity::python;
  m.doc() = "Verity's C++ core: task generation and verifiers (use the `verity` package, not this module)";
  m.attr("__version__") = verity::kVersion;
  m.attr("MAX_COMPLETION_BYTES") = verity::kMaxCompletionBytes;
  py::register_exception<verity::KnobError>(m, "KnobError", PyExc_ValueError);

  m.def("families", &family_names, "Names of the registered task families.");
  m.def("describe", &describe, py::arg("family"), "Knobs, level ladder and answer format of one family.");
  m.def("task_fields", &task_field_names, "Field names of the Task record (schemas/verity.proto).");
  m.def("generate_json", &generate_json, py::arg("family"), py::arg("n"), py::arg("seed"), py::arg("level") = 0,
        py::arg("knobs") = verity::KnobMap{}, py::arg("start") = 0, py::arg("threads") = 0,
        "Tasks [start, start+n) of the dataset `verity generate` writes for (family, level/knobs, seed), as JSON "
        "lines.");
  m.def("task_json", &task_json, py::arg("family"), py::arg("index"), py::arg("seed"), py::arg("level") = 0,
        py::arg("knobs") = verity::KnobMap{}, "Task `index` of the index stream of (family, level/knobs, seed).");
  m.def("score_json", &score_one, py::arg("task_json"), py::arg("completion"), py::arg("process_weight") = 0.0,
        "Scores one completion (bytes) against one task (JSON text).");
  m.def("score_batch_json", &score_many, py::arg("task_jsons"), py::arg("completions"), py::arg("threads") = 0,
        py::arg("process_weight") = 0.0, "Scores completions[i] against task_jsons[i] in parallel with the GIL released.");

  py::class_<PyCurriculum>(m, "CurriculumService", "The served curriculum's engine (use verity.Curriculum)")
      .def(py::init<const std::string&, const std::vector<std::pair<std::string, double>>&, const py::dict&, bool, int,
                    uint64_t, double>(),
           py::arg("db_path"), py::arg("families"), py::arg("settings"), py::arg("settings_given"),
           py::arg("start_level"), py::arg("seed"), py::arg("success_threshold"))
      .def("next_batch", &PyCurriculum::next_batch, py::arg("n"), py::arg("seed") = std::nullopt,
           "(batch number, draw seed, [task JSON lines])")
      .def("report_json", &PyCurriculum::report, py::arg("request_id"), py::arg("outcomes"))
      .def("state_json", &PyCurriculum::state_json)
      .def("history_json", &PyCurriculum::history_json, py::arg("after_seq"), py::arg("limit"))
      .def("level_changes_json", &PyCurriculum::level_changes_json)
      .def("close", &PyCurriculum::close);
}
