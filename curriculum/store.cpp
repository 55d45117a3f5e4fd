#include "curriculum/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace verity::curriculum {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, int v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  void run() { step(); sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double f64(int c) const { return sqlite3_column_double(s_, c); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS runs(run_id INTEGER PRIMARY KEY, name TEXT, mode TEXT, started_at REAL,
  updated_at REAL, status TEXT);
CREATE TABLE IF NOT EXISTS configs(run_id INTEGER, created_at REAL, json TEXT);
CREATE TABLE IF NOT EXISTS steps(run_id INTEGER, step INTEGER, phase TEXT, loss REAL, reward REAL,
  pass_rate REAL, kl REAL, entropy REAL, tokens_per_s REAL, lr REAL, seconds REAL, PRIMARY KEY(run_id, step));
CREATE TABLE IF NOT EXISTS level_stats(run_id INTEGER, family TEXT, level INTEGER, attempts INTEGER,
  successes INTEGER, ema_pass REAL, mean_abs_adv REAL, last_step INTEGER, PRIMARY KEY(run_id, family, level));
CREATE TABLE IF NOT EXISTS level_changes(run_id INTEGER, step INTEGER, family TEXT, from_level INTEGER,
  to_level INTEGER, ema_pass REAL);
CREATE TABLE IF NOT EXISTS curriculum_state(run_id INTEGER PRIMARY KEY, json TEXT);
CREATE TABLE IF NOT EXISTS issued(task_id TEXT PRIMARY KEY, family TEXT, level INTEGER, batch INTEGER);
CREATE TABLE IF NOT EXISTS reports(seq INTEGER PRIMARY KEY, request_id TEXT, task_id TEXT, family TEXT,
  level INTEGER, reward REAL, success INTEGER, at REAL);
CREATE TABLE IF NOT EXISTS requests(request_id TEXT PRIMARY KEY, at REAL);
)SQL";

}  // namespace

Store::Store(const std::string& path, Durability durability) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL;");
  // FULL: the WAL is fsynced at every commit, so a committed transaction survives kill -9 and power loss.
  exec(durability == Durability::full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
  if (journal_mode() != "wal") throw std::runtime_error(path + ": SQLite cannot use WAL mode on this file system");
  exec(kSchema);
}

int Store::synchronous() const {
  Stmt s(db_, "PRAGMA synchronous;");
  return s.step() ? static_cast<int>(s.i64(0)) : -1;
}

template <class Fn>
void Store::transaction(Fn&& fn) {
  exec("BEGIN IMMEDIATE;");
  try {
    fn();
    exec("COMMIT;");
  } catch (...) {
    exec("ROLLBACK;");
    throw;
  }
}

Store::~Store() { sqlite3_close(db_); }

void Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + msg);
  }
}

std::string Store::journal_mode() const {
  Stmt s(db_, "PRAGMA journal_mode;");
  return s.step() ? s.text(0) : "";
}

int64_t Store::open_run(const std::string& name, const std::string& mode, const std::string& config_json) {
  exec("BEGIN IMMEDIATE;");
  try {
    Stmt q(db_, "SELECT run_id FROM runs ORDER BY run_id LIMIT 1;");
    if (q.step()) {
      run_id_ = q.i64(0);
      Stmt u(db_, "UPDATE runs SET updated_at=?, status='running', mode=? WHERE run_id=?;");
      u.bind(1, now_seconds()).bind(2, mode).bind(3, run_id_).run();
    } else {
      Stmt ins(db_, "INSERT INTO runs(name, mode, started_at, updated_at, status) VALUES(?,?,?,?, 'running');");
      ins.bind(1, name).bind(2, mode).bind(3, now_seconds()).bind(4, now_seconds()).run();
      run_id_ = sqlite3_last_insert_rowid(db_);
    }
    Stmt c(db_, "INSERT INTO configs(run_id, created_at, json) VALUES(?,?,?);");
    c.bind(1, run_id_).bind(2, now_seconds()).bind(3, config_json).run();
    exec("COMMIT;");
  } catch (...) {
    exec("ROLLBACK;");
    throw;
  }
  return run_id_;
}

void Store::set_status(const std::string& status) {
  Stmt u(db_, "UPDATE runs SET updated_at=?, status=? WHERE run_id=?;");
  u.bind(1, now_seconds()).bind(2, status).bind(3, run_id_).run();
}

static void upsert_stats(sqlite3* db, int64_t run_id, const std::vector<LevelStat>& stats) {
  Stmt up(db,
          "INSERT INTO level_stats(run_id, family, level, attempts, successes, ema_pass, mean_abs_adv, last_step) "
          "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(run_id, family, level) DO UPDATE SET attempts=excluded.attempts, "
          "successes=excluded.successes, ema_pass=excluded.ema_pass, mean_abs_adv=excluded.mean_abs_adv, "
          "last_step=excluded.last_step;");
  for (const auto& s : stats)
    up.bind(1, run_id).bind(2, s.family).bind(3, s.level).bind(4, s.attempts).bind(5, s.successes)
        .bind(6, s.ema_pass).bind(7, s.mean_abs_adv).bind(8, s.last_step).run();
}

void Store::log_step(const StepRow& r, const std::vector<LevelStat>& stats, const std::vector<LevelChange>& changes) {
  exec("BEGIN IMMEDIATE;");
  try {
    Stmt s(db_,
           "INSERT OR REPLACE INTO steps(run_id, step, phase, loss, reward, pass_rate, kl, entropy, tokens_per_s, lr, "
           "seconds) VALUES(?,?,?,?,?,?,?,?,?,?,?);");
    s.bind(1, run_id_).bind(2, r.step).bind(3, r.phase).bind(4, r.loss).bind(5, r.reward).bind(6, r.pass_rate)
        .bind(7, r.kl).bind(8, r.entropy).bind(9, r.tokens_per_s).bind(10, r.lr).bind(11, r.seconds).run();
    upsert_stats(db_, run_id_, stats);
    Stmt c(db_, "INSERT INTO level_changes(run_id, step, family, from_level, to_level, ema_pass) VALUES(?,?,?,?,?,?);");
    for (const auto& ch : changes)
      c.bind(1, run_id_).bind(2, ch.step).bind(3, ch.family).bind(4, ch.from_level).bind(5, ch.to_level)
          .bind(6, ch.ema_pass).run();
    exec("COMMIT;");
  } catch (...) {
    exec("ROLLBACK;");
    throw;
  }
}

void Store::rewind(int64_t step, const std::vector<LevelStat>& stats) {
  exec("BEGIN IMMEDIATE;");
  try {
    Stmt d(db_, "DELETE FROM steps WHERE run_id=? AND step>?;");
    d.bind(1, run_id_).bind(2, step).run();
    Stmt dc(db_, "DELETE FROM level_changes WHERE run_id=? AND step>?;");
    dc.bind(1, run_id_).bind(2, step).run();
    Stmt dl(db_, "DELETE FROM level_stats WHERE run_id=?;");
    dl.bind(1, run_id_).run();
    upsert_stats(db_, run_id_, stats);
    exec("COMMIT;");
  } catch (...) {
    exec("ROLLBACK;");
    throw;
  }
}

std::vector<StepRow> Store::steps() const {
  Stmt s(db_,
         "SELECT step, phase, loss, reward, pass_rate, kl, entropy, tokens_per_s, lr, seconds FROM steps "
         "WHERE run_id=? ORDER BY step;");
  s.bind(1, run_id_);
  std::vector<StepRow> out;
  while (s.step())
    out.push_back({s.i64(0), s.text(1), s.f64(2), s.f64(3), s.f64(4), s.f64(5), s.f64(6), s.f64(7), s.f64(8), s.f64(9)});
  return out;
}

std::vector<LevelStat> Store::level_stats() const {
  Stmt s(db_,
         "SELECT family, level, attempts, successes, ema_pass, mean_abs_adv, last_step FROM level_stats "
         "WHERE run_id=? ORDER BY family, level;");
  s.bind(1, run_id_);
  std::vector<LevelStat> out;
  while (s.step())
    out.push_back({s.text(0), static_cast<int>(s.i64(1)), s.i64(2), s.i64(3), s.f64(4), s.f64(5), s.i64(6)});
  return out;
}

std::vector<LevelChange> Store::level_changes() const {
  Stmt s(db_, "SELECT step, family, from_level, to_level, ema_pass FROM level_changes WHERE run_id=? ORDER BY rowid;");
  s.bind(1, run_id_);
  std::vector<LevelChange> out;
  while (s.step())
    out.push_back({s.i64(0), s.text(1), static_cast<int>(s.i64(2)), static_cast<int>(s.i64(3)), s.f64(4)});
  return out;
}

int64_t Store::report_count() const {
  Stmt s(db_, "SELECT COALESCE(MAX(seq), 0) FROM reports;");
  return s.step() ? s.i64(0) : 0;
}

void Store::write_service(const ServiceWrite& w) {
  if (!seq_loaded_) {
    next_seq_ = report_count();
    seq_loaded_ = true;
  }
  int64_t seq = next_seq_;
  transaction([&] {
    const double at = now_seconds();
    Stmt issue(db_, "INSERT OR IGNORE INTO issued(task_id, family, level, batch) VALUES(?,?,?,?);");
    for (const auto& i : w.issued) issue.bind(1, i.task_id).bind(2, i.family).bind(3, i.level).bind(4, i.batch).run();
    Stmt request(db_, "INSERT INTO requests(request_id, at) VALUES(?,?);");
    for (const auto& id : w.request_ids) request.bind(1, id).bind(2, at).run();
    Stmt report(db_,
                "INSERT INTO reports(seq, request_id, task_id, family, level, reward, success, at) "
                "VALUES(?,?,?,?,?,?,?,?);");
    for (const auto& r : w.reports)
      report.bind(1, ++seq).bind(2, r.request_id).bind(3, r.task_id).bind(4, r.family).bind(5, r.level)
          .bind(6, r.reward).bind(7, r.success ? 1 : 0).bind(8, at).run();
    upsert_stats(db_, run_id_, w.stats);
    Stmt change(db_,
                "INSERT INTO level_changes(run_id, step, family, from_level, to_level, ema_pass) VALUES(?,?,?,?,?,?);");
    for (const auto& c : w.changes)
      change.bind(1, run_id_).bind(2, c.step).bind(3, c.family).bind(4, c.from_level).bind(5, c.to_level)
          .bind(6, c.ema_pass).run();
    if (!w.state_json.empty()) {
      Stmt state(db_, "INSERT OR REPLACE INTO curriculum_state(run_id, json) VALUES(?,?);");
      state.bind(1, run_id_).bind(2, w.state_json).run();
    }
  });
  next_seq_ = seq;  // only once committed: a failed transaction reuses its numbers
}

std::string Store::service_state() const {
  Stmt s(db_, "SELECT json FROM curriculum_state WHERE run_id=?;");
  s.bind(1, run_id_);
  return s.step() ? s.text(0) : "";
}

bool Store::has_request(const std::string& request_id) const {
  Stmt s(db_, "SELECT 1 FROM requests WHERE request_id=?;");
  s.bind(1, request_id);
  return s.step();
}

bool Store::find_issued(const std::string& task_id, std::string& family, int& level) const {
  Stmt s(db_, "SELECT family, level FROM issued WHERE task_id=?;");
  s.bind(1, task_id);
  if (!s.step()) return false;
  family = s.text(0);
  level = static_cast<int>(s.i64(1));
  return true;
}

std::vector<ReportRow> Store::reports(int64_t after_seq, int64_t limit) const {
  Stmt s(db_,
         "SELECT seq, request_id, task_id, family, level, reward, success, at FROM reports WHERE seq>? "
         "ORDER BY seq LIMIT ?;");
  s.bind(1, after_seq).bind(2, limit);
  std::vector<ReportRow> out;
  while (s.step())
    out.push_back({s.i64(0), s.text(1), s.text(2), s.text(3), static_cast<int>(s.i64(4)), s.f64(5), s.i64(6) != 0,
                   s.f64(7)});
  return out;
}

std::string format_curriculum(const std::string& db_path, int last_steps) {
  {
    FILE* f = std::fopen(db_path.c_str(), "rb");
    if (!f) throw std::runtime_error("no database at " + db_path);
    std::fclose(f);
  }
  Store store(db_path);
  std::ostringstream out;
  char buf[256];
  out << "family x level (attempts, pass rate overall, EMA pass rate, mean |advantage|, last step)\n";
  std::snprintf(buf, sizeof buf, "%-28s %5s %9s %8s %8s %9s %9s\n", "family", "level", "attempts", "pass", "ema",
                "mean|A|", "last_step");
  out << buf;
  for (const auto& s : store.level_stats()) {
    std::snprintf(buf, sizeof buf, "%-28s %5d %9lld %8.3f %8.3f %9.3f %9lld\n", s.family.c_str(), s.level,
                  static_cast<long long>(s.attempts), s.attempts ? double(s.successes) / double(s.attempts) : 0.0,
                  s.ema_pass, s.mean_abs_adv, static_cast<long long>(s.last_step));
    out << buf;
  }
  const auto changes = store.level_changes();
  if (!changes.empty()) {
    out << "level changes:\n";
    for (const auto& c : changes) {
      std::snprintf(buf, sizeof buf, "  step %lld %s: %d -> %d (ema %.3f)\n", static_cast<long long>(c.step),
                    c.family.c_str(), c.from_level, c.to_level, c.ema_pass);
      out << buf;
    }
  }
  const auto steps = store.steps();
  out << "steps logged: " << steps.size() << "\n";
  const size_t from = steps.size() > static_cast<size_t>(last_steps) ? steps.size() - last_steps : 0;
  for (size_t i = from; i < steps.size(); ++i) {
    const auto& r = steps[i];
    std::snprintf(buf, sizeof buf, "  step %5lld %-4s loss %.4f reward %.3f pass %.3f kl %.4f tok/s %.0f\n",
                  static_cast<long long>(r.step), r.phase.c_str(), r.loss, r.reward, r.pass_rate, r.kl, r.tokens_per_s);
    out << buf;
  }
  return out.str();
}

}  // namespace verity::curriculum
