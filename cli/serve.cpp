// `verity serve`: scores completions over HTTP (cpp-httplib).
//   POST /score     {"items": [{"task": {...} | "task_id": "...", "completion": "..."}, ...],
//                    "process_weight": 0.0}   (optional, see ScoreOptions; or a bare array of items)
//                   -> {"scores": [Score | {"task_id", "error"}, ...], "errors": n} in item order: an item
//                   that cannot be scored (unknown task_id, a record of an unknown family or without
//                   its instance, not a Task record) gets {"error": why} in its place, the rest are
//                   scored; 400 only when the request itself is malformed (not JSON, no items list,
//                   an item that is not an object or names no task, too many items)
//   GET  /families  the families with their knobs;   GET /health  liveness (never needs the token)
// Bounded everywhere: request body size, items per batch, connection workers and their queue (503 when
// full), time per request; SIGTERM / SIGINT stop accepting, finish what is in flight and exit 0 (3 when
// --stop-timeout passes first). A --host other than loopback needs --token: requests then carry
// "Authorization: Bearer <token>" (401 without it).
#include <httplib.h>
#include <oneapi/tbb/parallel_for.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "cli/commands.h"
#include "cli/serve_curriculum.h"
#include "service/family_info.h"
#include "service/records.h"
#include "service/scoring.h"
#include "tasks/dataset.h"
#include "verifiers/label_verifier.h"

namespace verity::cli {
namespace {

using nlohmann::json;

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0 = any free port (printed on the first line)
  int workers = 0;                  // connection workers; 0 = 2 x cores
  size_t queue = 64;                // connections waiting for a worker before 503
  size_t max_body_bytes = 32 << 20;
  size_t max_items = 4096;          // items per /score request
  double request_timeout_s = 30;    // items not started by then score 0 with a reason
  int keep_alive_s = 2;             // an idle keep-alive connection holds its worker this long
  std::string tasks;                // optional dataset: items may name a task_id instead of a task
  std::string token;                // bearer token every request but /health must carry; "" = none
  double stop_timeout_s = 0;        // after SIGTERM, longest wait for requests in flight; 0 = request timeout + 5
  CurriculumServeOptions curriculum;  // --curriculum db.sqlite and its policy (cli/serve_curriculum.h)
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// Same time whatever the first differing byte (the token is a secret).
bool same_secret(const std::string& given, const std::string& expected) {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return diff == 0;
}

// Set on the thread that answers a connection the pool had no room for.
thread_local bool t_reject_connection = false;

// httplib's own pool queues without limit. This one holds at most `capacity` waiting connections;
// beyond that a connection is answered 503 by one rejecting thread (or, when even that is backed up,
// on the accepting thread, which slows accepting down: backpressure instead of memory growth).
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(size_t workers, size_t capacity) : capacity_(capacity) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { run(jobs_); });
    threads_.emplace_back([this] { run(rejects_); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    if (jobs_.size() < capacity_) {
      jobs_.push_back(std::move(fn));
    } else if (rejects_.size() < capacity_) {
      rejects_.push_back(rejecting(std::move(fn)));
    } else {
      lock.unlock();
      rejecting(std::move(fn))();
      return;
    }
    lock.unlock();
    ready_.notify_all();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  static std::function<void()> rejecting(std::function<void()> fn) {
    return [fn = std::move(fn)] {
      t_reject_connection = true;
      fn();
      t_reject_connection = false;
    };
  }

  // Drains `queue` until shutdown; queued connections are still answered (graceful stop).
  void run(std::deque<std::function<void()>>& queue) {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !queue.empty(); });
        if (queue.empty()) return;
        fn = std::move(queue.front());
        queue.pop_front();
      }
      fn();
    }
  }

  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_, rejects_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

void reply_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& what) {
  reply_json(res, status, {{"error", what}});
}

class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Item {
  const pb::Task* task = nullptr;  // into the loaded dataset, or into Batch::parsed once parsed
  size_t text_index = 0;           // else: which of Batch::texts holds its record
  std::string completion;
  std::string problem;             // set when the completion is not text: scored 0 with this reason
  std::string error;               // set when the item cannot be scored at all: {"error": ...} in its place
  std::string task_id;             // as the item named it (for the error entry)
};

// One request's items. Identical task records (a GRPO group sends one task per completion) are
// parsed once: parsing a record costs far more than scoring a label.
struct Batch {
  std::vector<Item> items;
  std::vector<std::string> texts;  // distinct task records as JSON text
  std::vector<pb::Task> parsed;    // same order as texts
  ScoreOptions options;
};

class Scorer {
 public:
  explicit Scorer(const ServeOptions& o) : options_(o) {
    if (o.tasks.empty()) return;
    for (auto& t : read_tasks(o.tasks)) {
      if (const std::string problem = task_record_problem(t); !problem.empty())
        throw FileError(o.tasks + ": task '" + t.id() + "': " + problem);
      dataset_.emplace(t.id(), std::move(t));
    }
    if (dataset_.empty()) throw FileError(o.tasks + ": holds no tasks (the file is empty)");
  }
  size_t dataset_size() const { return dataset_.size(); }

  // The body as {"items": [...]} or a bare array; a malformed request throws BadRequest.
  std::string score(const std::string& body) const {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(options_.request_timeout_s));
    Batch batch = read_batch(body);
    parse_records(batch);
    std::vector<std::string> scores(batch.items.size());
    tbb::parallel_for(size_t{0}, batch.items.size(), [&](size_t i) {
      const Item& item = batch.items[i];
      scores[i] = item.error.empty()
                      ? to_json_line(score_item(item, batch.options, deadline))
                      : json{{"task_id", item.task_id}, {"error", "item " + std::to_string(i) + ": " + item.error}}.dump(
                            -1, ' ', false, json::error_handler_t::replace);
    });
    size_t errors = 0;
    for (const Item& item : batch.items) errors += !item.error.empty();
    std::string out = "{\"scores\":[";
    for (size_t i = 0; i < scores.size(); ++i) out += (i ? "," : "") + scores[i];
    return out + "],\"errors\":" + std::to_string(errors) + "}";
  }

 private:
  static pb::Score score_item(const Item& item, const ScoreOptions& options,
                              std::chrono::steady_clock::time_point deadline) {
    if (!item.problem.empty() || std::chrono::steady_clock::now() > deadline) {
      pb::Score s = score_for(*item.task);
      s.set_reason(item.problem.empty() ? "request time limit reached before this item was scored" : item.problem);
      return s;
    }
    return score_completion(*item.task, item.completion, options);
  }

  Batch read_batch(const std::string& body) const {
    const json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) throw BadRequest("body is not JSON (invalid UTF-8 must be \\u-escaped)");
    const json& list = request.is_object() && request.contains("items") ? request["items"] : request;
    if (!list.is_array()) throw BadRequest("expected {\"items\": [{\"task\": ..., \"completion\": ...}, ...]}");
    if (list.size() > options_.max_items)
      throw BadRequest(std::to_string(list.size()) + " items, over the limit of " +
                       std::to_string(options_.max_items) + " per request (--max-items)");
    Batch batch;
    if (request.is_object() && request.contains("process_weight")) {
      const json& w = request["process_weight"];
      if (!w.is_number() || w.get<double>() < 0 || w.get<double>() > 1)
        throw BadRequest("process_weight must be a number in [0, 1]");
      batch.options.process_weight = w.get<double>();
    }
    batch.items.resize(list.size());
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < list.size(); ++i) read_item(list[i], i, batch, seen);
    return batch;
  }

  void read_item(const json& j, size_t i, Batch& batch, std::unordered_map<std::string, size_t>& seen) const {
    const std::string where = "item " + std::to_string(i) + ": ";
    Item& item = batch.items[i];
    if (!j.is_object()) throw BadRequest(where + "not an object");
    if (j.contains("task")) {
      const json& task = j["task"];
      std::string text = task.is_string() ? task.get<std::string>() : task.dump();
      const auto [it, added] = seen.emplace(std::move(text), batch.texts.size());
      if (added) batch.texts.push_back(it->first);
      item.text_index = it->second;
    } else if (j.contains("task_id") && j["task_id"].is_string()) {
      item.task_id = j["task_id"].get<std::string>();
      const auto it = dataset_.find(item.task_id);
      if (it != dataset_.end())
        item.task = &it->second;
      else
        item.error = "task_id '" + item.task_id.substr(0, 80) + "' is not in the dataset" +
                     (dataset_.empty() ? " (none is loaded: start the server with --tasks FILE)"
                                       : " loaded from " + options_.tasks);
    } else {
      throw BadRequest(where + "needs a 'task' (record) or a 'task_id'");
    }
    const auto completion = j.find("completion");
    if (completion != j.end() && completion->is_string())
      item.completion = completion->get<std::string>();
    else
      item.problem = "completion is missing or not a string";
  }

  // Parses the distinct records in parallel and points the items at them.
  static void parse_records(Batch& batch) {
    ParsedRecords records = parse_task_records(batch.texts);
    batch.parsed = std::move(records.tasks);
    for (size_t i = 0; i < batch.items.size(); ++i) {
      Item& item = batch.items[i];
      if (item.task || !item.error.empty()) continue;
      if (const std::string& error = records.errors[item.text_index]; !error.empty()) {
        item.error = error;
        item.task_id = batch.parsed[item.text_index].id();
      } else {
        item.task = &batch.parsed[item.text_index];
      }
    }
  }

  ServeOptions options_;
  std::unordered_map<std::string, pb::Task> dataset_;
};

void add_routes(httplib::Server& server, const Scorer& scorer, std::atomic<uint64_t>& served,
                const std::string& token) {
  server.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    if (t_reject_connection) {
      res.set_header("Retry-After", "1");
      res.set_header("Connection", "close");
      reply_error(res, 503, "server busy: every worker is taken and the queue is full; retry later");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!token.empty() && req.path != "/health" &&
        !same_secret(req.get_header_value("Authorization"), "Bearer " + token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply_error(res, 401, "this server needs \"Authorization: Bearer <token>\" (the --token it was started with)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, {{"status", "ok"}, {"version", kVersion}});
  });
  server.Get("/families", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, families_json());
  });
  server.Post("/score", [&](const httplib::Request& req, httplib::Response& res) {
    try {
      res.set_content(scorer.score(req.body), "application/json");
      ++served;
    } catch (const BadRequest& e) {
      reply_error(res, 400, e.what());
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    reply_error(res, 500, "internal error");
  });
}

// Waits for SIGTERM / SIGINT (blocked in every thread, so only this one receives them) and stops
// the server: it stops accepting, then answers the connections already taken. Requests still in
// flight after `deadline` are given up: the process exits with 3.
struct Stopper {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
};

std::thread stop_on_signal(httplib::Server& server, const sigset_t& signals, std::atomic<bool>& signalled,
                           Stopper& stopper, double deadline_s, const std::atomic<uint64_t>& served) {
  return std::thread([&server, &signalled, &stopper, &served, signals, deadline_s] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signalled.exchange(true)) return;
    server.stop();
    std::unique_lock lock(stopper.mutex);
    if (!stopper.done_cv.wait_for(lock, std::chrono::duration<double>(deadline_s), [&] { return stopper.done; })) {
      std::cout << "stopped after " << served.load() << " scoring requests; requests still in flight after "
                << deadline_s << " s (--stop-timeout) were dropped" << std::endl;
      std::_Exit(3);
    }
  });
}

void serve(ServeOptions& o) {
  if (!is_loopback(o.host) && o.token.empty())
    throw std::invalid_argument("--host " + o.host +
                                " accepts connections from other machines: give --token SECRET (or set "
                                "VERITY_SERVE_TOKEN) so requests must carry \"Authorization: Bearer SECRET\"");
  // Blocked before any thread starts (loading --tasks starts oneTBB's workers), so every thread
  // inherits the mask and only the watcher below receives SIGTERM / SIGINT.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const Scorer scorer(o);
  const std::unique_ptr<CurriculumService> curriculum = open_curriculum(o.curriculum);  // outlives the server
  httplib::Server server;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t workers = o.workers > 0 ? size_t(o.workers) : 2 * cores;
  server.new_task_queue = [workers, &o] { return new BoundedPool(workers, o.queue); };
  server.set_payload_max_length(o.max_body_bytes);  // larger bodies get 413
  server.set_read_timeout(10);
  server.set_write_timeout(10);
  server.set_keep_alive_timeout(o.keep_alive_s);
  server.set_tcp_nodelay(true);      // headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms
  std::atomic<uint64_t> served{0};
  add_routes(server, scorer, served, o.token);
  if (curriculum) add_curriculum_routes(server, *curriculum);

  const int port = o.port == 0 ? server.bind_to_any_port(o.host) : (server.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port));
  std::cout << "listening on http://" << o.host << ":" << port << " (" << workers << " workers, queue " << o.queue
            << (o.tasks.empty() ? "" : ", " + std::to_string(scorer.dataset_size()) + " tasks loaded")
            << (o.token.empty() ? "" : ", bearer token required") << ")" << std::endl;
  if (curriculum) {
    const auto state = curriculum->state();
    std::cout << "curriculum " << o.curriculum.db << ": policy " << state["policy"].get<std::string>() << ", "
              << state["families"].size() << " families, " << state["reports"] << " outcomes reported so far"
              << std::endl;
  }
  std::atomic<bool> signalled{false};
  Stopper stopper;
  const double deadline_s = o.stop_timeout_s > 0 ? o.stop_timeout_s : o.request_timeout_s + 5;
  std::thread watcher = stop_on_signal(server, signals, signalled, stopper, deadline_s, served);
  server.listen_after_bind();
  {
    std::lock_guard lock(stopper.mutex);
    stopper.done = true;
  }
  stopper.done_cv.notify_all();
  if (!signalled) pthread_kill(watcher.native_handle(), SIGTERM);  // the server stopped on its own: wake the watcher
  watcher.join();
  std::cout << "stopped after " << served.load() << " scoring requests" << std::endl;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "score completions over HTTP (POST /score, GET /families, /health) and "
                                          "serve a curriculum (--curriculum db.sqlite: /curriculum/...)");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--host", o->host, "address to bind (default loopback only; any other address needs --token)");
  cmd->add_option("--port,-p", o->port, "port (0 = any free port; the first line says which)")
      ->check(integer_in(0, 65535));
  cmd->add_option("--workers", o->workers, "connection workers (0 = 2 x cores)")->check(integer_in(0, 4096));
  cmd->add_option("--queue", o->queue, "connections waiting for a worker before 503")->check(integer_in(1, 1'000'000));
  cmd->add_option("--max-body", o->max_body_bytes, "largest request body in bytes (413 above)")
      ->check(integer_in(1, uint64_t{1} << 31));
  cmd->add_option("--max-items", o->max_items, "most items in one /score request")->check(integer_in(1, 1'000'000));
  cmd->add_option("--request-timeout", o->request_timeout_s, "seconds per request; later items score 0")
      ->check(positive_up_to(3600));
  cmd->add_option("--keep-alive", o->keep_alive_s, "seconds an idle connection keeps its worker")
      ->check(integer_in(0, 600));
  cmd->add_option("--stop-timeout", o->stop_timeout_s,
                  "after SIGTERM / SIGINT, seconds to finish requests in flight (default: --request-timeout + 5); "
                  "exit 0 when they finish, 3 when this passes first")
      ->check(positive_up_to(3600));
  cmd->add_option("--token", o->token,
                  "require \"Authorization: Bearer TOKEN\" on every request but /health (needed with a "
                  "non-loopback --host)")
      ->envname("VERITY_SERVE_TOKEN");
  cmd->add_option("--tasks,-t", o->tasks, "dataset to load, so items can give a task_id instead of a task");
  add_curriculum_options(*cmd, o->curriculum);
  cmd->callback([o] { serve(*o); });
}

}  // namespace verity::cli
