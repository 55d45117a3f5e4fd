#include "trainer/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "tasks/rng.h"

namespace verity::trainer {
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
)SQL";

}  // namespace

Store::Store(const std::string& path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL;");
  exec("PRAGMA synchronous=NORMAL;");
  exec(kSchema);
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

// ---------------- curriculum ----------------

Curriculum::Curriculum(CurriculumConfig config, const std::vector<std::pair<std::string, double>>& family_weights,
                       int start_level)
    : config_(config), weights_(family_weights) {
  if (weights_.empty()) throw std::invalid_argument("curriculum: no families");
  for (const auto& [f, w] : weights_) {
    if (!(w > 0)) throw std::invalid_argument("curriculum: weight of " + f + " must be > 0");
    current_[f].level = std::clamp(start_level, config_.min_level, config_.max_level);
  }
}

std::vector<std::pair<std::string, int>> Curriculum::next_batch(int n, uint64_t seed) const {
  double total = 0;
  for (const auto& [f, w] : weights_) total += w;
  std::vector<std::pair<std::string, int>> out;
  out.reserve(n);
  uint64_t state = seed;
  auto uniform = [&] { return double(splitmix64(state) >> 11) * 0x1.0p-53; };
  for (int i = 0; i < n; ++i) {
    // families: stratified by weight (deterministic shares), remainder drawn at random
    double u = weights_.size() == 1 ? 0.0 : uniform() * total;
    size_t k = 0;
    while (k + 1 < weights_.size() && u >= weights_[k].second) u -= weights_[k++].second;
    const std::string& family = weights_[k].first;
    int level = current_.at(family).level;
    if (config_.review_frac > 0 && level > config_.min_level && uniform() < config_.review_frac)
      level = config_.min_level + static_cast<int>(uniform() * (level - config_.min_level));
    out.emplace_back(family, level);
  }
  return out;
}

std::vector<LevelStat> Curriculum::record(const std::vector<Outcome>& outcomes, int64_t step) {
  struct Acc { int64_t n = 0, ok = 0; double adv = 0; };
  std::map<std::pair<std::string, int>, Acc> batch;
  for (const auto& o : outcomes) {
    auto& a = batch[{o.family, o.level}];
    ++a.n;
    a.ok += o.success ? 1 : 0;
    a.adv += std::fabs(o.abs_advantage);
  }
  std::vector<LevelStat> touched;
  for (const auto& [key, a] : batch) {
    LevelStat& s = stats_[key];
    s.family = key.first;
    s.level = key.second;
    const double rate = double(a.ok) / double(a.n);
    s.ema_pass = s.attempts == 0 ? rate : (1 - config_.ema_alpha) * s.ema_pass + config_.ema_alpha * rate;
    s.mean_abs_adv = (s.mean_abs_adv * double(s.attempts) + a.adv) / double(s.attempts + a.n);
    s.attempts += a.n;
    s.successes += a.ok;
    s.last_step = step;
    auto cur = current_.find(key.first);
    if (cur != current_.end() && cur->second.level == key.second) cur->second.attempts_since_change += a.n;
    touched.push_back(s);
  }
  return touched;
}

std::vector<LevelChange> Curriculum::update_levels(int64_t step) {
  std::vector<LevelChange> changes;
  if (!config_.adaptive) return changes;
  for (auto& [family, cur] : current_) {
    if (cur.attempts_since_change < config_.min_samples) continue;
    auto it = stats_.find({family, cur.level});
    if (it == stats_.end()) continue;
    const double ema = it->second.ema_pass;
    int to = cur.level;
    if (ema > config_.band_high && cur.level < config_.max_level) to = cur.level + 1;
    else if (ema < config_.band_low && cur.level > config_.min_level) to = cur.level - 1;
    if (to == cur.level) continue;
    changes.push_back({step, family, cur.level, to, ema});
    cur.level = to;
    cur.attempts_since_change = 0;
  }
  return changes;
}

std::vector<LevelStat> Curriculum::stats() const {
  std::vector<LevelStat> out;
  for (const auto& [k, s] : stats_) out.push_back(s);
  return out;
}

nlohmann::json Curriculum::to_json() const {
  nlohmann::json j;
  j["config"] = {{"band_low", config_.band_low}, {"band_high", config_.band_high},
                 {"min_samples", config_.min_samples}, {"ema_alpha", config_.ema_alpha},
                 {"review_frac", config_.review_frac}, {"min_level", config_.min_level},
                 {"max_level", config_.max_level}, {"adaptive", config_.adaptive}};
  j["weights"] = nlohmann::json::array();
  for (const auto& [f, w] : weights_) j["weights"].push_back({f, w});
  j["current"] = nlohmann::json::object();
  for (const auto& [f, c] : current_) j["current"][f] = {{"level", c.level}, {"attempts_since_change", c.attempts_since_change}};
  j["stats"] = nlohmann::json::array();
  for (const auto& [k, s] : stats_)
    j["stats"].push_back({{"family", s.family}, {"level", s.level}, {"attempts", s.attempts},
                          {"successes", s.successes}, {"ema_pass", s.ema_pass}, {"mean_abs_adv", s.mean_abs_adv},
                          {"last_step", s.last_step}});
  return j;
}

Curriculum Curriculum::from_json(const nlohmann::json& j) {
  Curriculum c;
  const auto& cf = j.at("config");
  c.config_.band_low = cf.at("band_low");
  c.config_.band_high = cf.at("band_high");
  c.config_.min_samples = cf.at("min_samples");
  c.config_.ema_alpha = cf.at("ema_alpha");
  c.config_.review_frac = cf.at("review_frac");
  c.config_.min_level = cf.at("min_level");
  c.config_.max_level = cf.at("max_level");
  c.config_.adaptive = cf.at("adaptive");
  for (const auto& w : j.at("weights")) c.weights_.emplace_back(w.at(0).get<std::string>(), w.at(1).get<double>());
  for (const auto& [f, v] : j.at("current").items())
    c.current_[f] = {v.at("level").get<int>(), v.at("attempts_since_change").get<int64_t>()};
  for (const auto& s : j.at("stats")) {
    LevelStat st{s.at("family"), s.at("level"), s.at("attempts"), s.at("successes"), s.at("ema_pass"),
                 s.at("mean_abs_adv"), s.at("last_step")};
    c.stats_[{st.family, st.level}] = st;
  }
  return c;
}

}  // namespace verity::trainer
