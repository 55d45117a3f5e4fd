// A curriculum that outside trainers draw tasks from and report rewards to: the trainer's Curriculum
// (curriculum/curriculum.h) and SQLite store, made durable and safe for many callers. `verity serve
// --curriculum db.sqlite` puts it behind HTTP, verity.Curriculum behind Python.
//
//   next_batch(n)   n tasks at the families' current levels: task i of (family, level, seed) exactly as
//                   `verity generate --family F --level L --seed S` makes it, each (family, level) taking
//                   the next unused indices; which families and levels is a pure function of the
//                   curriculum's state and the batch's seed. The batch is recorded before it is returned.
//   report(...)     outcomes by task id (a task this curriculum issued) or with family and level; it
//                   returns only once the outcomes are committed to disk (WAL, synchronous=FULL), so a
//                   crash of the process, kill -9 included, loses nothing it acknowledged. A request id
//                   makes a retried report a no-op.
//
// Concurrency: callers on any threads. Writes go through one writer thread that commits whatever
// is queued in one transaction (group commit): one fsync serves every report waiting for it.
// Restart: a database that holds a curriculum is continued (levels, statistics, cursors, counters).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "curriculum/curriculum.h"
#include "curriculum/store.h"
#include "schemas/verity.pb.h"

namespace verity {

struct CurriculumServiceOptions {
  std::string db_path;
  // Families and weights. Empty: continue the curriculum the database holds (an error if it holds none).
  std::vector<std::pair<std::string, double>> families;
  curriculum::CurriculumConfig config;
  bool config_given = false;     // true: must equal the database's config when it already holds one
  int start_level = 1;
  uint64_t seed = 0;             // task seed, and the root of every batch's draw seed
  double success_threshold = 0.5;  // a reward at or above it counts as a success in the statistics
};

// A request the caller got wrong (unknown task id or family, reward outside [0, 1], ...): nothing of
// it was recorded. HTTP answers 400, Python raises ValueError.
class CurriculumRequestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct CurriculumOutcome {
  std::string task_id;           // a task this curriculum issued, or any id with family and level
  std::string family;            // optional for issued tasks (must agree when given)
  int level = 0;
  double reward = 0;             // in [0, 1]
  int correct = -1;              // 1 / 0 overrides reward >= success_threshold; -1 = use the threshold
};

struct CurriculumBatch {
  int64_t batch = 0;             // 1, 2, ... in the order batches were drawn
  uint64_t seed = 0;             // the draw seed
  std::vector<pb::Task> tasks;
};

struct CurriculumReportResult {
  size_t accepted = 0;
  bool duplicate = false;        // the request id was committed before: nothing recorded again
  int64_t last_seq = 0;          // reports.seq of its last outcome (0 for a duplicate)
  std::vector<curriculum::LevelChange> changes;
};

// As the HTTP endpoints and verity.Curriculum return them: level changes as {step, family, from_level,
// to_level, evidence}, reports as {seq, request_id, task_id, family, level, reward, success, at}.
nlohmann::json level_changes_json(const std::vector<curriculum::LevelChange>& changes);
nlohmann::json reports_json(const std::vector<curriculum::ReportRow>& rows);

class CurriculumService {
 public:
  explicit CurriculumService(const CurriculumServiceOptions& options);
  ~CurriculumService();          // commits whatever is queued, then stops the writer
  CurriculumService(const CurriculumService&) = delete;
  CurriculumService& operator=(const CurriculumService&) = delete;

  // seed: the draw seed; none = derived from the curriculum seed and the batch number.
  CurriculumBatch next_batch(int n, std::optional<uint64_t> seed = {});
  CurriculumReportResult report(const std::string& request_id, const std::vector<CurriculumOutcome>& outcomes);

  // Config, counters, and per family its weight, level, difficulty and per-level statistics.
  nlohmann::json state() const;
  std::vector<curriculum::LevelChange> level_changes() const;
  std::vector<curriculum::ReportRow> history(int64_t after_seq, int64_t limit) const;
  const std::string& db_path() const { return db_path_; }

 private:
  struct Group;                  // what one group commit writes
  struct Op {
    std::function<void(Group&)> apply;  // validates (throws without changing state), then changes state
    std::promise<void> done;
  };
  void submit_and_wait(std::function<void(Group&)> apply);
  void writer_loop();
  void commit(std::vector<Op>& ops);
  void load_or_create(const CurriculumServiceOptions& options);
  nlohmann::json state_json() const;
  void resolve(CurriculumOutcome& o, const Group& group) const;

  std::string db_path_;
  int lock_fd_ = -1;             // flock on <db>.lock: one process per curriculum
  std::unique_ptr<curriculum::Store> store_;
  // The state, guarded by state_mutex_ (held by the writer while it applies and commits a group).
  mutable std::mutex state_mutex_;
  curriculum::Curriculum curriculum_;
  uint64_t seed_ = 0;
  double success_threshold_ = 0.5;
  int64_t batches_ = 0, report_requests_ = 0, reports_ = 0;
  std::map<std::string, uint64_t> cursors_;  // "family|level" -> next task index

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Op> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace verity
