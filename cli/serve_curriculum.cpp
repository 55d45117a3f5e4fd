#include "cli/serve_curriculum.h"

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tasks/dataset.h"

namespace verity::cli {
namespace {

using nlohmann::json;

// Settings that define a curriculum; given on a restart they must match the database's.
const char* const kPolicyFlags[] = {"--policy", "--band-low", "--band-high", "--min-samples", "--ema-alpha",
                                    "--window", "--promote", "--demote", "--target", "--step-size",
                                    "--min-level", "--max-level", "--review-frac"};

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

json parse_body(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw CurriculumRequestError("the body must be a JSON object");
  return j;
}

std::vector<std::pair<std::string, double>> parse_families(const std::string& text) {
  std::vector<std::pair<std::string, double>> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    double weight = 1;
    if (eq != std::string::npos) {
      size_t used = 0;
      try {
        weight = std::stod(part.substr(eq + 1), &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != part.size() - eq - 1 || !(weight > 0))
        throw std::invalid_argument("--families: weight of '" + part + "' must be a positive number (f=2.5)");
    }
    out.emplace_back(part.substr(0, eq), weight);
  }
  return out;
}

CurriculumOutcome read_outcome(const json& j, size_t i) {
  const std::string where = "outcome " + std::to_string(i) + ": ";
  if (!j.is_object()) throw CurriculumRequestError(where + "not an object");
  CurriculumOutcome o;
  if (j.contains("task_id")) {
    if (!j["task_id"].is_string()) throw CurriculumRequestError(where + "task_id must be a string");
    o.task_id = j["task_id"];
  }
  if (j.contains("family")) {
    if (!j["family"].is_string() || !j.contains("level") || !j["level"].is_number_integer())
      throw CurriculumRequestError(where + "a family needs an integer level with it");
    o.family = j["family"];
    o.level = j["level"];
  }
  if (!j.contains("reward") || !j["reward"].is_number())
    throw CurriculumRequestError(where + "needs a numeric reward in [0, 1]");
  o.reward = j["reward"];
  if (j.contains("correct")) {
    if (!j["correct"].is_boolean()) throw CurriculumRequestError(where + "correct must be true or false");
    o.correct = j["correct"].get<bool>() ? 1 : 0;
  }
  return o;
}

// {"outcomes": [...]} or the parallel lists {"task_ids": [...], "rewards": [...]}.
std::vector<CurriculumOutcome> read_outcomes(const json& body) {
  std::vector<CurriculumOutcome> out;
  if (body.contains("outcomes")) {
    if (!body["outcomes"].is_array()) throw CurriculumRequestError("outcomes must be a list");
    for (size_t i = 0; i < body["outcomes"].size(); ++i) out.push_back(read_outcome(body["outcomes"][i], i));
    return out;
  }
  const json& ids = body.value("task_ids", json());
  const json& rewards = body.value("rewards", json());
  if (!ids.is_array() || !rewards.is_array() || ids.size() != rewards.size())
    throw CurriculumRequestError("expected {\"outcomes\": [{\"task_id\", \"reward\"}, ...]} or equal-length "
                                 "\"task_ids\" and \"rewards\" lists");
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(read_outcome({{"task_id", ids[i]}, {"reward", rewards[i]}}, i));
  return out;
}

// Runs a handler: a request error is 400 and records nothing, anything else 500.
template <class Fn>
void guarded(httplib::Response& res, Fn&& fn) {
  try {
    fn();
  } catch (const CurriculumRequestError& e) {
    reply(res, 400, {{"error", e.what()}});
  } catch (const std::exception& e) {
    reply(res, 500, {{"error", std::string("not recorded: ") + e.what()}});
  }
}

}  // namespace

void add_curriculum_options(CLI::App& cmd, CurriculumServeOptions& o) {
  o.command = &cmd;
  auto& c = o.service.config;
  cmd.add_option("--curriculum", o.db,
                 "SQLite database of a curriculum to serve (POST /curriculum/batch, /curriculum/report, GET "
                 "/curriculum); an existing one is continued");
  cmd.add_option("--families", o.families, "curriculum families with weights: f1=2,f2 (needed to start one)");
  cmd.add_option("--policy", o.policy, "curriculum policy: band | window | target (docs/curriculum.md)")
      ->check(CLI::IsMember({"band", "window", "target"}));
  cmd.add_option("--start-level", o.service.start_level, "curriculum: every family's first level")
      ->check(integer_in(1, 100));
  cmd.add_option("--seed", o.service.seed, "curriculum: task seed and root of the batches' draw seeds");
  cmd.add_option("--success-threshold", o.service.success_threshold,
                 "curriculum: a reward at or above it counts as a success (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--band-low", c.band_low, "band policy: demote below this EMA pass rate")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--band-high", c.band_high, "band policy: promote above this EMA pass rate")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--min-samples", c.min_samples, "band policy: attempts at a level before it may change")
      ->check(integer_in(1, 1'000'000));
  cmd.add_option("--ema-alpha", c.ema_alpha, "EMA weight of a report's pass rate")->check(positive_up_to(1));
  cmd.add_option("--window", c.window, "window policy: outcomes averaged (default 32)")->check(integer_in(1, 10'000));
  cmd.add_option("--promote", c.promote, "window policy: promote at this mean reward (default 0.7)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--demote", c.demote, "window policy: demote at this mean reward (default 0.3)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--target", c.target, "target policy: the reward to steer to (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--step-size", c.step_size, "target policy: levels per unit of reward error (default 0.05)")
      ->check(positive_up_to(10));
  cmd.add_option("--min-level", c.min_level, "curriculum: lowest level")->check(integer_in(1, 100));
  cmd.add_option("--max-level", c.max_level, "curriculum: highest level")->check(integer_in(1, 100));
  cmd.add_option("--review-frac", c.review_frac, "curriculum: share of draws from lower levels")
      ->check(CLI::Range(0.0, 0.99));
}

std::unique_ptr<CurriculumService> open_curriculum(CurriculumServeOptions& o) {
  bool policy_given = false;
  for (const char* flag : kPolicyFlags) policy_given |= o.command && o.command->count(flag) > 0;
  if (o.db.empty()) {
    if (policy_given || !o.families.empty())
      throw std::invalid_argument("--families and the policy flags need --curriculum DB");
    return nullptr;
  }
  o.service.db_path = o.db;
  o.service.families = parse_families(o.families);
  o.service.config.policy = curriculum::parse_policy(o.policy);
  o.service.config_given = policy_given;
  return std::make_unique<CurriculumService>(o.service);
}

void add_curriculum_routes(httplib::Server& server, CurriculumService& curriculum) {
  server.Post("/curriculum/batch", [&](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      const json body = parse_body(req.body);
      const json n = body.value("n", json(8));
      if (!n.is_number_integer()) throw CurriculumRequestError("n must be an integer");
      std::optional<uint64_t> seed;
      if (body.contains("seed")) {
        if (!body["seed"].is_number_unsigned()) throw CurriculumRequestError("seed must be a non-negative integer");
        seed = body["seed"].get<uint64_t>();
      }
      const CurriculumBatch batch = curriculum.next_batch(n.get<int>(), seed);
      std::string out = "{\"batch\":" + std::to_string(batch.batch) + ",\"seed\":" + std::to_string(batch.seed) +
                        ",\"tasks\":[";
      for (size_t i = 0; i < batch.tasks.size(); ++i) out += (i ? "," : "") + to_json_line(batch.tasks[i]);
      res.set_content(out + "]}", "application/json");
    });
  });
  server.Post("/curriculum/report", [&](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      const json body = parse_body(req.body);
      std::string request_id;
      if (body.contains("request_id")) {
        if (!body["request_id"].is_string()) throw CurriculumRequestError("request_id must be a string");
        request_id = body["request_id"];
      }
      const auto result = curriculum.report(request_id, read_outcomes(body));
      reply(res, 200, {{"accepted", result.accepted}, {"duplicate", result.duplicate}, {"durable", true},
                       {"seq", result.last_seq}, {"level_changes", level_changes_json(result.changes)}});
    });
  });
  server.Get("/curriculum", [&](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] { reply(res, 200, curriculum.state()); });
  });
  server.Get("/curriculum/history", [&](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      int64_t after = 0, limit = 1000;
      try {
        if (req.has_param("after")) after = std::stoll(req.get_param_value("after"));
        if (req.has_param("limit")) limit = std::stoll(req.get_param_value("limit"));
      } catch (...) {
        throw CurriculumRequestError("after and limit must be integers");
      }
      if (limit < 1 || limit > 100'000) throw CurriculumRequestError("limit must be in 1..100000");
      reply(res, 200, {{"reports", reports_json(curriculum.history(after, limit))},
                       {"level_changes", level_changes_json(curriculum.level_changes())}});
    });
  });
}

}  // namespace verity::cli
