// `verity serve`: scores completions over HTTP (cpp-httplib).
//   POST /score     {"items": [{"task": {...} | "task_id": "...", "completion": "..."}, ...],
//                    "process_weight": 0.0}   (optional, see ScoreOptions; or a bare array of items)
//                   -> {"scores": [Score, ...]} in item order
//   GET  /families  the families with their knobs;   GET /health  liveness
// Bounded everywhere: request body size, items per batch, connection workers and their queue (503 when
// full), time per request; SIGTERM / SIGINT stop accepting, finish what is in flight and exit 0.
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
};

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
    for (auto& t : read_tasks(o.tasks)) dataset_.emplace(t.id(), std::move(t));
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
      scores[i] = to_json_line(score_item(batch.items[i], batch.options, deadline));
    });
    std::string out = "{\"scores\":[";
    for (size_t i = 0; i < scores.size(); ++i) out += (i ? "," : "") + scores[i];
    return out + "]}";
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
      const auto it = dataset_.find(j["task_id"].get<std::string>());
      if (it == dataset_.end())
        throw BadRequest(where + "task_id not in the dataset" + (dataset_.empty() ? " (none loaded: --tasks)" : ""));
      item.task = &it->second;
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
      if (item.task) continue;
      if (const std::string& error = records.errors[item.text_index]; !error.empty())
        throw BadRequest("item " + std::to_string(i) + ": " + error);
      item.task = &batch.parsed[item.text_index];
    }
  }

  ServeOptions options_;
  std::unordered_map<std::string, pb::Task> dataset_;
};

void add_routes(httplib::Server& server, const Scorer& scorer, std::atomic<uint64_t>& served) {
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (!t_reject_connection) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Retry-After", "1");
    res.set_header("Connection", "close");
    reply_error(res, 503, "server busy: every worker is taken and the queue is full; retry later");
    return httplib::Server::HandlerResponse::Handled;
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
// the server: it stops accepting, then answers the connections already taken.
std::thread stop_on_signal(httplib::Server& server, const sigset_t& signals, std::atomic<bool>& signalled) {
  return std::thread([&server, &signalled, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    signalled = true;
    server.stop();
  });
}

void serve(const ServeOptions& o) {
  const Scorer scorer(o);
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
  add_routes(server, scorer, served);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so all inherit it

  const int port = o.port == 0 ? server.bind_to_any_port(o.host) : (server.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port));
  std::cout << "listening on http://" << o.host << ":" << port << " (" << workers << " workers, queue " << o.queue
            << (o.tasks.empty() ? "" : ", " + std::to_string(scorer.dataset_size()) + " tasks loaded") << ")"
            << std::endl;
  std::atomic<bool> signalled{false};
  std::thread watcher = stop_on_signal(server, signals, signalled);
  server.listen_after_bind();
  if (!signalled) pthread_kill(watcher.native_handle(), SIGTERM);  // the server stopped on its own: wake the watcher
  watcher.join();
  std::cout << "stopped after " << served.load() << " scoring requests" << std::endl;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "score completions over HTTP (POST /score, GET /families, /health)");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--host", o->host, "address to bind (default loopback only)");
  cmd->add_option("--port,-p", o->port, "port (0 = any free port; the first line says which)");
  cmd->add_option("--workers", o->workers, "connection workers (0 = 2 x cores)");
  cmd->add_option("--queue", o->queue, "connections waiting for a worker before 503")->check(CLI::PositiveNumber);
  cmd->add_option("--max-body", o->max_body_bytes, "largest request body in bytes (413 above)");
  cmd->add_option("--max-items", o->max_items, "most items in one /score request");
  cmd->add_option("--request-timeout", o->request_timeout_s, "seconds per request; later items score 0");
  cmd->add_option("--keep-alive", o->keep_alive_s, "seconds an idle connection keeps its worker")
      ->check(CLI::Range(0, 600));
  cmd->add_option("--tasks,-t", o->tasks, "dataset to load, so items can give a task_id instead of a task");
  cmd->callback([o] { serve(*o); });
}

}  // namespace verity::cli
