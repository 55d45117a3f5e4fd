#include "service/curriculum_service.h"

#include <fcntl.h>
#include <oneapi/tbb/parallel_for.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "tasks/rng.h"

namespace verity {

using curriculum::Curriculum;
using curriculum::IssuedRow;
using curriculum::LevelChange;
using nlohmann::json;

struct CurriculumService::Group {
  curriculum::ServiceWrite write;
  std::unordered_map<std::string, std::pair<std::string, int>> issued;  // issued in this group, not yet committed
  std::unordered_set<std::string> request_ids;                         // likewise
};

namespace {

std::string cursor_key(const std::string& family, int level) { return family + "|" + std::to_string(level); }

// The knobs of a family's level (the ladder, no overrides), looked up once per (family, level).
const Knobs& level_knobs(const Generator& generator, int level) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, int>, Knobs> cache;
  std::lock_guard lock(mutex);
  auto [it, added] = cache.try_emplace({generator.name(), level});
  if (added) it->second = resolve_knobs(generator, level, {});
  return it->second;
}

void check_families(const std::vector<std::pair<std::string, double>>& families, int max_level) {
  for (const auto& [name, weight] : families) {
    const Generator& generator = find_family(name).generator;  // throws naming the known families
    if (generator.max_level() < max_level)
      throw std::invalid_argument("curriculum: " + name + " has levels 1.." + std::to_string(generator.max_level()) +
                                  ", below max_level " + std::to_string(max_level));
  }
}

// One process at a time: two would each keep the curriculum in memory and overwrite each other's
// state. An advisory lock on <db>.lock, released by the kernel when the holder dies (kill -9 too).
int lock_database(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error(db_path + " is in use by another process (a `verity serve --curriculum` or a "
                             "verity.Curriculum): share it through the server (verity.RemoteCurriculum), or stop "
                             "that process first");
  }
  return fd;
}

}  // namespace

CurriculumService::CurriculumService(const CurriculumServiceOptions& options) : db_path_(options.db_path) {
  lock_fd_ = lock_database(options.db_path);
  try {
    store_ = std::make_unique<curriculum::Store>(options.db_path, curriculum::Durability::full);
    load_or_create(options);
  } catch (...) {
    store_.reset();
    ::close(lock_fd_);
    throw;
  }
  writer_ = std::thread([this] { writer_loop(); });
}

CurriculumService::~CurriculumService() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_.join();
  store_.reset();
  ::close(lock_fd_);
}

// A database holding a curriculum is continued; settings given with it must agree with it, so a
// restart with the first start's command line continues and a changed one is an error, not a silent mix.
void CurriculumService::load_or_create(const CurriculumServiceOptions& o) {
  const std::string saved = store_->service_state();
  if (saved.empty()) {
    if (o.families.empty())
      throw std::invalid_argument(db_path_ + " holds no curriculum yet: give the families to start one");
    if (!(o.success_threshold >= 0 && o.success_threshold <= 1))
      throw std::invalid_argument("curriculum: success_threshold must be in [0, 1]");
    check_families(o.families, o.config.max_level);
    curriculum_ = Curriculum(o.config, o.families, o.start_level);
    seed_ = o.seed;
    success_threshold_ = o.success_threshold;
    store_->open_run("served curriculum", "serve", state_json().dump());
    curriculum::ServiceWrite first;
    first.state_json = state_json().dump();
    store_->write_service(first);
    return;
  }
  try {
    const json j = json::parse(saved);
    curriculum_ = Curriculum::from_json(j.at("curriculum"));
    seed_ = j.at("seed").get<uint64_t>();
    success_threshold_ = j.at("success_threshold");
    batches_ = j.at("batches");
    report_requests_ = j.at("report_requests");
    reports_ = j.at("reports");
    cursors_ = j.at("cursors").get<std::map<std::string, uint64_t>>();
  } catch (const json::exception& e) {
    throw std::runtime_error(db_path_ + ": the saved curriculum (table curriculum_state) cannot be read: " + e.what());
  }
  auto differs = [&](const std::string& what) {
    return std::invalid_argument(db_path_ + " holds a curriculum with other " + what +
                                 ": start without them to continue it, or give a new database to start another");
  };
  if (!o.families.empty() && o.families != curriculum_.weights()) throw differs("families or weights");
  if (o.config_given) {
    const json mine = Curriculum(o.config, curriculum_.weights(), 1).to_json().at("config");
    if (mine != curriculum_.to_json().at("config")) throw differs("policy settings");
  }
  store_->open_run("served curriculum", "serve", saved);
}

json CurriculumService::state_json() const {
  return {{"curriculum", curriculum_.to_json()}, {"seed", seed_}, {"success_threshold", success_threshold_},
          {"batches", batches_}, {"report_requests", report_requests_}, {"reports", reports_},
          {"cursors", cursors_}};
}

void CurriculumService::submit_and_wait(std::function<void(Group&)> apply) {
  std::future<void> done;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) throw std::runtime_error("the curriculum is shutting down");
    queue_.push_back({std::move(apply), {}});
    done = queue_.back().done.get_future();
  }
  queue_cv_.notify_one();
  done.get();  // rethrows the op's error, or the commit's
}

void CurriculumService::writer_loop() {
  for (;;) {
    std::vector<Op> ops;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty()) {
        ops.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit(ops);
  }
}

// Applies every op to the state, writes the group in one transaction, then answers the callers.
// An op that throws changed nothing; a failed commit restores the state and fails every op.
void CurriculumService::commit(std::vector<Op>& ops) {
  std::vector<std::exception_ptr> errors(ops.size());
  {
    std::lock_guard lock(state_mutex_);
    const Curriculum before = curriculum_;
    const auto cursors_before = cursors_;
    const int64_t batches_before = batches_, requests_before = report_requests_, reports_before = reports_;
    Group group;
    for (size_t i = 0; i < ops.size(); ++i) {
      try {
        ops[i].apply(group);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    try {
      group.write.stats = curriculum_.stats();
      group.write.state_json = state_json().dump();
      store_->write_service(group.write);
    } catch (...) {
      curriculum_ = before;
      cursors_ = cursors_before;
      batches_ = batches_before;
      report_requests_ = requests_before;
      reports_ = reports_before;
      for (auto& e : errors) e = std::current_exception();
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (errors[i]) ops[i].done.set_exception(errors[i]);
    else ops[i].done.set_value();
  }
}

CurriculumBatch CurriculumService::next_batch(int n, std::optional<uint64_t> seed) {
  if (n < 1 || n > 100'000) throw CurriculumRequestError("a batch holds 1..100000 tasks, not " + std::to_string(n));
  struct Draw {
    std::string family;
    int level;
    uint64_t index;
  };
  std::vector<Draw> draws;
  CurriculumBatch batch;
  // Which tasks: reserved and recorded (issued rows, cursors) in the writer; made after the commit.
  submit_and_wait([&](Group& group) {
    // Worked out on copies, so an exception leaves the state as it was.
    const int64_t number = batches_ + 1;
    const uint64_t draw_seed = seed ? *seed : mix_seed({seed_, 0x63757272ULL, static_cast<uint64_t>(number)});
    auto cursors = cursors_;
    std::vector<IssuedRow> issued;
    for (const auto& [family, level] : curriculum_.next_batch(n, draw_seed)) {
      const uint64_t index = cursors[cursor_key(family, level)]++;
      const Generator& generator = find_family(family).generator;
      issued.push_back({task_id(family, level_knobs(generator, level), seed_, index), family, level, number});
      draws.push_back({family, level, index});
    }
    batches_ = number;
    cursors_ = std::move(cursors);
    batch.batch = number;
    batch.seed = draw_seed;
    for (auto& row : issued) {
      group.issued[row.task_id] = {row.family, row.level};
      group.write.issued.push_back(std::move(row));
    }
  });
  batch.tasks.resize(draws.size());
  tbb::parallel_for(size_t{0}, draws.size(), [&](size_t i) {
    const Generator& generator = find_family(draws[i].family).generator;
    batch.tasks[i] = make_task(generator, level_knobs(generator, draws[i].level), draws[i].level, seed_,
                               draws[i].index);
  });
  return batch;
}

// Fills family and level from the issued tasks when the outcome names only a task id.
void CurriculumService::resolve(CurriculumOutcome& o, const Group& group) const {
  std::string family;
  int level = 0;
  bool issued = false;
  if (!o.task_id.empty()) {
    if (auto it = group.issued.find(o.task_id); it != group.issued.end()) {
      std::tie(family, level) = it->second;
      issued = true;
    } else {
      issued = store_->find_issued(o.task_id, family, level);
    }
  }
  if (issued) {
    if (!o.family.empty() && (o.family != family || (o.level != 0 && o.level != level)))
      throw CurriculumRequestError("task " + o.task_id + " was issued as " + family + " level " +
                                   std::to_string(level) + ", not " + o.family + " level " + std::to_string(o.level));
    o.family = family;
    o.level = level;
    return;
  }
  if (o.family.empty())
    throw CurriculumRequestError(o.task_id.empty() ? "an outcome needs a task_id or a family and level"
                                                   : "task_id '" + o.task_id.substr(0, 80) +
                                                         "' was not issued by this curriculum: give its family "
                                                         "and level with it");
}

CurriculumReportResult CurriculumService::report(const std::string& request_id,
                                                 const std::vector<CurriculumOutcome>& outcomes) {
  if (outcomes.empty()) throw CurriculumRequestError("a report needs at least one outcome");
  if (request_id.size() > 200) throw CurriculumRequestError("request_id is over 200 characters");
  for (const auto& o : outcomes)
    if (!std::isfinite(o.reward) || o.reward < 0 || o.reward > 1)
      throw CurriculumRequestError("reward " + std::to_string(o.reward) + " of task '" + o.task_id.substr(0, 80) +
                                   "' is outside [0, 1]");
  CurriculumReportResult result;
  submit_and_wait([&](Group& group) {
    if (!request_id.empty() && (group.request_ids.count(request_id) || store_->has_request(request_id))) {
      result.duplicate = true;
      return;
    }
    std::vector<CurriculumOutcome> resolved = outcomes;
    std::vector<Curriculum::Outcome> learned;
    for (auto& o : resolved) {
      resolve(o, group);
      if (!curriculum_.weights().empty() &&
          std::none_of(curriculum_.weights().begin(), curriculum_.weights().end(),
                       [&](const auto& w) { return w.first == o.family; }))
        throw CurriculumRequestError("family '" + o.family.substr(0, 80) + "' is not in this curriculum");
      const bool success = o.correct >= 0 ? o.correct == 1 : o.reward >= success_threshold_;
      learned.push_back({o.family, o.level, success, 0.0, o.reward});
    }
    // Validated: from here on the state changes.
    const int64_t step = ++report_requests_;
    curriculum_.record(learned, step);
    result.changes = curriculum_.update_levels(step);
    for (size_t i = 0; i < resolved.size(); ++i)
      group.write.reports.push_back({0, request_id, resolved[i].task_id, resolved[i].family, resolved[i].level,
                                     resolved[i].reward, learned[i].success, 0});
    reports_ += static_cast<int64_t>(resolved.size());
    result.accepted = resolved.size();
    result.last_seq = reports_;
    group.write.changes.insert(group.write.changes.end(), result.changes.begin(), result.changes.end());
    if (!request_id.empty()) {
      group.write.request_ids.push_back(request_id);
      group.request_ids.insert(request_id);
    }
  });
  return result;
}

json CurriculumService::state() const {
  std::lock_guard lock(state_mutex_);
  const json config = curriculum_.to_json().at("config");
  json families = json::array();
  const auto stats = curriculum_.stats();
  for (const auto& [family, weight] : curriculum_.weights()) {
    json levels = json::array();
    for (const auto& s : stats) {
      if (s.family != family) continue;
      levels.push_back({{"level", s.level}, {"attempts", s.attempts}, {"successes", s.successes},
                        {"pass_rate", s.attempts ? double(s.successes) / double(s.attempts) : 0.0},
                        {"ema_pass", s.ema_pass}, {"last_step", s.last_step}});
    }
    families.push_back({{"family", family}, {"weight", weight}, {"level", curriculum_.level(family)},
                        {"difficulty", curriculum_.difficulty(family)}, {"levels", levels}});
  }
  return {{"db", db_path_}, {"durability", "SQLite WAL, synchronous=FULL: a report is on disk before it is acknowledged"},
          {"policy", config.at("policy")}, {"config", config}, {"seed", seed_},
          {"success_threshold", success_threshold_}, {"batches", batches_}, {"report_requests", report_requests_},
          {"reports", reports_}, {"families", families}};
}

json level_changes_json(const std::vector<LevelChange>& changes) {
  json out = json::array();
  for (const auto& c : changes)
    out.push_back({{"step", c.step}, {"family", c.family}, {"from_level", c.from_level}, {"to_level", c.to_level},
                   {"evidence", c.ema_pass}});
  return out;
}

json reports_json(const std::vector<curriculum::ReportRow>& rows) {
  json out = json::array();
  for (const auto& r : rows)
    out.push_back({{"seq", r.seq}, {"request_id", r.request_id}, {"task_id", r.task_id}, {"family", r.family},
                   {"level", r.level}, {"reward", r.reward}, {"success", r.success}, {"at", r.at}});
  return out;
}

std::vector<LevelChange> CurriculumService::level_changes() const {
  std::lock_guard lock(state_mutex_);
  return store_->level_changes();
}

std::vector<curriculum::ReportRow> CurriculumService::history(int64_t after_seq, int64_t limit) const {
  std::lock_guard lock(state_mutex_);
  return store_->reports(after_seq, limit);
}

}  // namespace verity
