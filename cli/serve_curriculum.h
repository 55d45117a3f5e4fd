// `verity serve --curriculum db.sqlite`: the curriculum's HTTP endpoints (service/curriculum_service.h).
//   POST /curriculum/batch   {"n": 8, "seed": 5 (optional)} -> {"batch", "seed", "tasks": [Task records]}
//   POST /curriculum/report  {"request_id": "w3-17" (optional: a retry with it is a no-op),
//                             "outcomes": [{"task_id", "reward", "family"?, "level"?, "correct"?}, ...]}
//                            or {"task_ids": [...], "rewards": [...]}
//                            -> 200 {"accepted", "duplicate", "durable": true, "seq", "level_changes"} only once
//                            the outcomes are on disk; 400 (nothing recorded) for an unknown task id or
//                            family or a reward outside [0, 1]; 500 if the database cannot be written
//   GET  /curriculum         config, counters, per family its level and per-level statistics
//   GET  /curriculum/history?after=SEQ&limit=N   reported outcomes in commit order, and the level changes
#pragma once
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "service/curriculum_service.h"

namespace verity::cli {

struct CurriculumServeOptions {
  std::string db;                // --curriculum; "" = no curriculum endpoints
  std::string families;          // "f1=2,f2" (weight 1 when not given)
  std::string policy = "band";
  CurriculumServiceOptions service;
  CLI::App* command = nullptr;   // to tell which policy flags were given
};

void add_curriculum_options(CLI::App& cmd, CurriculumServeOptions& o);
// Null without --curriculum.
std::unique_ptr<CurriculumService> open_curriculum(CurriculumServeOptions& o);
void add_curriculum_routes(httplib::Server& server, CurriculumService& curriculum);

}  // namespace verity::cli
