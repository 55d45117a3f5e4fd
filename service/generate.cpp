// Dataset generation: a family's tasks [shard of 0, count) written in parallel, deterministically
// (bytes never depend on the thread count), through a temporary file renamed at the end.
#include "service/generate.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <utility>

#include "service/label_balance.h"
#include "tasks/content_hash.h"
#include "tasks/json_writer.h"
#include "tasks/registry/registry.h"

namespace verity {
namespace fs = std::filesystem;

std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count) {
  if (shard_count == 0 || index >= shard_count)
    throw std::invalid_argument("--shard K/N needs 0 <= K < N (K is the 0-based job-array index)");
  const auto bound = [&](uint64_t k) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(count) * k) / shard_count);
  };
  return {bound(index), bound(index + 1)};
}

namespace {

class ProgressBar {
 public:
  ProgressBar(bool enabled, uint64_t total)
      : enabled_(enabled && total > 0 && ::isatty(STDERR_FILENO)), total_(total),
        start_(std::chrono::steady_clock::now()) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%llu %.0f tasks/s", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(100 * done / total_),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 seconds > 0 ? done / seconds : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
};

// Tasks rendered by one worker in one go, into one reused buffer.
constexpr uint64_t kChunk = 32;

// A chunk's tasks: their records back to back (when serialised), where each ends, and each one's
// question (a hash of the family's question_key) and label. The vectors keep their capacity from
// block to block: no per-task heap churn. A cache line each: threads fill neighbouring chunks at
// once, and a shared line would bounce between them on every write to a string's or vector's size.
struct alignas(64) Chunk {
  std::string bytes;
  std::vector<size_t> ends;
  std::vector<uint64_t> questions;
  std::vector<std::string> labels;
};

void append_record(const pb::Task& task, FileFormat format, std::string& bytes) {
  if (format == FileFormat::Jsonl) {
    append_json(task, bytes);
    bytes.push_back('\n');
    return;
  }
  // Length-delimited, map keys sorted. Not SerializeDelimitedToCodedStream: when its stream has room
  // it serialises to an array without the deterministic flag, in the map's hash order (which depends
  // on the reused Task's history, so on the thread count).
  using google::protobuf::io::CodedOutputStream;
  const size_t size = task.ByteSizeLong();
  uint8_t prefix[10];
  const uint8_t* prefix_end = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), prefix);
  bytes.append(reinterpret_cast<const char*>(prefix), static_cast<size_t>(prefix_end - prefix));
  const size_t at = bytes.size();
  bytes.resize(at + size);
  google::protobuf::io::ArrayOutputStream array(bytes.data() + at, static_cast<int>(size));
  CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  task.SerializeWithCachedSizes(&coded);
}

// The question hashes seen so far: open addressing over a flat table (no allocation per question).
class QuestionSet {
 public:
  // True when `question` is new (and now in the set).
  bool insert(uint64_t question) {
    if (question == 0) return !std::exchange(has_zero_, true);
    if (2 * (size_ + 1) > table_.size()) grow();
    size_t at = slot(question);
    while (table_[at] != 0) {
      if (table_[at] == question) return false;
      at = (at + 1) & (table_.size() - 1);
    }
    table_[at] = question;
    ++size_;
    return true;
  }
  bool contains(uint64_t question) const {
    if (question == 0) return has_zero_;
    if (table_.empty()) return false;
    for (size_t at = slot(question); table_[at] != 0; at = (at + 1) & (table_.size() - 1))
      if (table_[at] == question) return true;
    return false;
  }
  uint64_t size() const { return size_ + (has_zero_ ? 1 : 0); }

 private:
  size_t slot(uint64_t question) const {
    return static_cast<size_t>((question * 0x9e3779b97f4a7c15ULL) >> 17) & (table_.size() - 1);
  }
  void grow() {
    std::vector<uint64_t> old(std::max<size_t>(1024, table_.size() * 2), 0);
    old.swap(table_);
    for (uint64_t q : old) {
      if (q == 0) continue;
      size_t at = slot(q);
      while (table_[at] != 0) at = (at + 1) & (table_.size() - 1);
      table_[at] = q;
    }
  }
  std::vector<uint64_t> table_;
  uint64_t size_ = 0;
  bool has_zero_ = false;
};

// Candidates [begin, end) of the index stream rendered in parallel into chunks of kChunk tasks, in
// index order, so what is kept and written never depends on the thread count. After the (serial,
// cheap) decision, `kept` lists the tasks of the shard to write, as (chunk, task in chunk).
struct Block {
  uint64_t begin = 0, end = 0;
  bool serialize = true;  // false while a shard walks the questions before its own
  std::vector<Chunk> chunks;
  std::vector<std::pair<uint32_t, uint32_t>> kept;

  size_t chunk_count() const { return static_cast<size_t>((end - begin + kChunk - 1) / kChunk); }
  uint64_t bytes() const {
    uint64_t n = 0;
    for (size_t c = 0; c < chunk_count(); ++c) n += chunks[c].bytes.size();
    return n;
  }
  // A candidate whose question an earlier block holds (`seen`, unchanged while a block renders) is a
  // repeat for sure: it is not serialised.
  void render(const TaskMaker& maker, const Generator& family, FileFormat format, const QuestionSet& seen,
              tbb::enumerable_thread_specific<pb::Task>& scratch) {
    if (chunks.size() < chunk_count()) chunks.resize(chunk_count());
    tbb::parallel_for(size_t{0}, chunk_count(), [&](size_t c) {
      Chunk& chunk = chunks[c];
      const uint64_t first = begin + c * kChunk, last = std::min(end, first + kChunk);
      const size_t n = static_cast<size_t>(last - first);
      chunk.bytes.clear();
      chunk.ends.resize(n);
      chunk.questions.resize(n);
      chunk.labels.resize(n);
      pb::Task& task = scratch.local();
      for (size_t j = 0; j < n; ++j) {
        maker.make(first + j, task);
        chunk.questions[j] = xxh64(family.question_key(task));
        chunk.labels[j] = task.label();
        if (serialize && !seen.contains(chunk.questions[j])) append_record(task, format, chunk.bytes);
        chunk.ends[j] = chunk.bytes.size();
      }
    }, tbb::simple_partitioner());
  }
  // Hands the kept records to `sink` (a run of consecutive ones at a time) and hashes them.
  void write(const RecordSink& sink, ContentHash& hash, pb::DatasetManifest& manifest) const {
    for (size_t k = 0; k < kept.size();) {
      const auto [c, first] = kept[k];
      const Chunk& chunk = chunks[c];
      uint32_t last = first;
      while (++k < kept.size() && kept[k].first == c && kept[k].second == last + 1) ++last;
      for (uint32_t j = first; j <= last; ++j) ++(*manifest.mutable_label_counts())[chunk.labels[j]];
      const size_t start = first == 0 ? 0 : chunk.ends[first - 1];
      const std::string_view run(chunk.bytes.data() + start, chunk.ends[last] - start);
      sink(run);
      hash.update(run);
    }
  }
};

// Candidates per block: at most kBlockBytes of output and kMaxBlock tasks (the progress bar moves per
// block), at least a few chunks per thread so the threads stay busy. The two blocks' chunks keep their
// memory, so kBlockBytes bounds the pages a run touches: at 16 MiB, syllogism level 1 -n 11808 (23 MB
// out) faulted in 3,700 more fresh pages than at 1 MiB, 2.2 us each on the development VM.
constexpr uint64_t kBlockBytes = uint64_t{1} << 20, kMaxBlock = 4096;
uint64_t next_block_size(uint64_t bytes_so_far, uint64_t tasks_so_far, int threads) {
  const uint64_t floor = kChunk * 4 * static_cast<uint64_t>(threads);
  if (tasks_so_far == 0) return floor;
  const uint64_t per_task = std::max<uint64_t>(1, bytes_so_far / tasks_so_far);
  return std::max(floor, std::min(kMaxBlock, kBlockBytes / per_task / kChunk * kChunk));
}

// Drawn in a row without a new question, the knobs' questions count as exhausted.
uint64_t exhausted_after(uint64_t distinct) { return 20000 + distinct; }

// When the knobs' questions count as exhausted: no new one (of a label below its share) among the last
// exhausted_after(distinct) candidates, or new ones so rare that at the rate of the last window of that
// many candidates the tasks still missing would need more than kWindows more windows. The tail of
// the questions comes ever slower (a few dozen new ones per window after hundreds of thousands of
// candidates, causal_induction level 1): waiting for a whole window without any cost minutes where
// the rate had long told the answer. A rate that would finish within kWindows windows never stops a
// run. Decided on the serial keep / skip sequence alone, so the same for any thread count. The rate is
// weighed against the shard's own end: a shard can finish where the whole dataset (its last shard)
// would stop, never the other way round.
class Exhaustion {
 public:
  static constexpr uint64_t kWindows = 10;
  void keep() { since_new_ = 0; }
  // One more candidate skipped, `drawn` so far, `kept` of the `end` positions filled: true when the
  // questions count as exhausted (why() says how).
  bool skip(uint64_t drawn, uint64_t kept, uint64_t end, uint64_t distinct) {
    const uint64_t window = exhausted_after(distinct);
    if (++since_new_ >= window) return true;
    if (drawn - window_start_ < window) return false;
    fresh_ = kept - window_kept_, window_ = drawn - window_start_, missing_ = end - kept;
    if (missing_ > kWindows * fresh_) return slow_ = true;
    window_start_ = drawn, window_kept_ = kept;
    return false;
  }
  bool stopped_by_rate() const { return slow_; }
  std::string why() const {
    if (!slow_) return "no new one among the last " + std::to_string(since_new_) + " drawn";
    return "more may exist, but only " + std::to_string(fresh_) + " new ones came among the last " +
           std::to_string(window_) + " drawn, at which rate the " + std::to_string(missing_) +
           " tasks still missing need more than " + std::to_string(kWindows * window_) + " more draws";
  }

 private:
  uint64_t since_new_ = 0, window_start_ = 0, window_kept_ = 0;
  uint64_t fresh_ = 0, window_ = 0, missing_ = 0;  // the last window closed
  bool slow_ = false;                             // the rate stopped the run
};

// Every candidate's question, by label, to estimate how many distinct questions the knobs hold when
// the rate rule stops a run before the questions ran out: Chao1, S_obs + f1 (f1 - 1) / (2 (f2 + 1))
// with f1 and f2 the questions drawn once and twice, which errs low when questions have unequal odds
// but is far closer than the count seen so far (syllogism 5 stopped with 17,036 'Yes' questions seen,
// where -n 150,000 succeeds). The first kCap candidates are the sample; unbalanced families count all
// labels as one (their labels are answers, as many as the tasks).
const std::string kOneLabel;  // DrawnQuestions' bucket for a family without label shares

class DrawnQuestions {
 public:
  static constexpr uint64_t kCap = uint64_t{8} << 20;
  void add(uint64_t question, const std::string& label) {
    if (total_ == kCap) return;
    ++total_;
    size_t at = 0;
    while (at < labels_.size() && labels_[at] != label) ++at;
    if (at == labels_.size()) labels_.push_back(label), questions_.emplace_back();
    questions_[at].push_back(question);
  }
  struct Count {
    uint64_t drawn = 0, seen = 0, estimate = 0;
  };
  Count count(const std::string& label) const {
    Count out;
    const auto it = std::find(labels_.begin(), labels_.end(), label);
    if (it == labels_.end()) return out;
    std::vector<uint64_t> sorted = questions_[static_cast<size_t>(it - labels_.begin())];
    std::sort(sorted.begin(), sorted.end());
    uint64_t once = 0, twice = 0;
    for (size_t i = 0, j; i < sorted.size(); i = j) {
      for (j = i + 1; j < sorted.size() && sorted[j] == sorted[i];) ++j;
      ++out.seen;
      once += j - i == 1, twice += j - i == 2;
    }
    out.drawn = sorted.size();
    out.estimate = out.seen + once * (once == 0 ? 0 : once - 1) / (2 * (twice + 1));
    return out;
  }

 private:
  uint64_t total_ = 0;
  std::vector<std::string> labels_;
  std::vector<std::vector<uint64_t>> questions_;
};

// The integer knobs still below their maximum ("people (now 3, up to 10)"): the ones to raise.
std::string knobs_to_raise(const Generator& family, const Knobs& knobs) {
  std::string out;
  for (const auto& spec : family.knob_specs()) {
    if (spec.kind != KnobSpec::Kind::Int || knobs.get_int(spec.name) >= static_cast<long>(spec.max)) continue;
    out += (out.empty() ? "" : ", ") + spec.name + " (now " + knobs.get(spec.name) + ", up to " +
           std::to_string(static_cast<long>(spec.max)) + ")";
  }
  return out;
}

// "raise the level or one of people (now 3, up to 10), ..." ("raise the level" when every knob is at its
// maximum): the fix an error about too few questions suggests.
std::string what_to_raise(const Generator& family, const Knobs& knobs) {
  const std::string knobs_below_max = knobs_to_raise(family, knobs);
  return "raise " + (knobs_below_max.empty() ? std::string("the level") : "the level or one of " + knobs_below_max);
}

// The error when the new questions (of labels still below their share) ran out (`exhaustion` says how).
// Stopped by the rate, the count this run found is only a floor: the repeats among the draws give a
// (low) estimate of how many exist, and "lower -n to at most" stays the count found, sure to finish.
std::string too_few_questions(const Generator& family, const Knobs& knobs, const LabelBalance& balance,
                              uint64_t distinct, const Exhaustion& exhaustion, const DrawnQuestions& drawn,
                              uint64_t count) {
  const std::string raise = what_to_raise(family, knobs);
  const std::string head = family.name() + " with knobs " + knobs.canonical() + " ";
  const std::string ignored = " (names and statement order ignored)";
  const std::string asked = std::to_string(count) + " asked for (-n)";
  const bool floor_only = exhaustion.stopped_by_rate();
  // ", likely more than E (how E was found; why the run stopped)" for the questions of `label`, or
  // " (why the run stopped)" when it did not stop on the rate; `dataset` becomes E / share
  auto estimate = [&](const std::string& label, double share, uint64_t& dataset) -> std::string {
    if (!floor_only) return " (" + exhaustion.why() + ")";
    const auto c = drawn.count(label);
    dataset = static_cast<uint64_t>(static_cast<double>(c.estimate) / share);
    return ", likely more than " + std::to_string(c.estimate) + " (a low estimate from the repeats among the " +
           std::to_string(c.drawn) + " candidates drawn; " + exhaustion.why() + ")";
  };
  const std::string sure = floor_only ? " (sure to finish; more may, ever more slowly)" : "";
  // Balancing blocks every label but one that ran out: say which, and how far -n may go.
  const std::string scarce = balance.scarcest();
  if (!scarce.empty()) {
    const double share = balance.shares().at(scarce);
    if (static_cast<double>(balance.kept(scarce)) + 0.5 < share * static_cast<double>(distinct)) {
      const std::string found = std::to_string(balance.most_tasks(scarce));
      std::string most = "about " + found + " tasks, fewer than the " + asked;
      uint64_t likely = 0;
      const std::string about = estimate(scarce, share, likely);
      if (floor_only)
        most = "at least " + found + " tasks, likely more than " + std::to_string(likely) + "; the " + asked +
               " would come too slowly";
      return head + "cannot keep its labels balanced: " + balance.shortage(scarce, floor_only) + ignored + about +
             ", so a balanced dataset holds " + most + ": " + raise + ", or lower -n to at most " + found + sure;
    }
  }
  uint64_t likely = 0;
  const std::string about = estimate(balance.active() ? scarce : kOneLabel, 1.0, likely);
  return head + "has " + (floor_only ? "at least " : "only ") + std::to_string(distinct) + " distinct questions" +
         ignored + about + (floor_only ? ", so the " + asked + " would come too slowly" : ", fewer than the " + asked) +
         ": " + raise + ", or lower -n to at most " + std::to_string(distinct) + sure;
}

// For a family that enumerates its questions (Generator::question_counts, by label): true when no
// later candidate can be kept. A label counts as done when all its questions are kept, or when it is
// above its share: it comes back below only when another label is kept, and none can be. So the
// `kept` tasks so far are exactly as many as these knobs hold, balanced.
bool space_used_up(const std::map<std::string, uint64_t>& counts, const LabelBalance& balance, uint64_t kept) {
  if (counts.empty()) return false;
  if (!balance.active()) {
    uint64_t total = 0;
    for (const auto& [label, n] : counts) total += n;
    return kept >= total;
  }
  // A label without a count is drawn at random (inference_chains' No): never used up, done only above
  // its share.
  for (const auto& [label, share] : balance.shares()) {
    const auto n = counts.find(label);
    if ((n == counts.end() || balance.kept(label) < n->second) && balance.admits(label)) return false;
  }
  return true;
}

// The error when an enumerated space (counts by label) is used up after `kept` tasks: exact figures.
std::string space_too_small(const Generator& family, const Knobs& knobs, const std::map<std::string, uint64_t>& counts,
                            bool balanced, uint64_t kept, uint64_t count) {
  const std::string raise = what_to_raise(family, knobs);
  uint64_t total = 0;
  std::string by_label;
  for (const auto& [label, n] : counts) {
    total += n;
    by_label += (by_label.empty() ? "" : ", ") + label + " " + std::to_string(n);
  }
  std::string random;  // labels without a count: drawn at random, never used up
  for (const auto& [label, share] : family.label_shares(knobs))
    if (!counts.count(label)) random += (random.empty() ? "" : ", ") + label;
  const std::string how = random.empty() ? "all " + std::to_string(total) + " of them enumerated: " + by_label
                                         : "enumerated, all of them: " + by_label + "; drawn at random: " + random;
  return family.name() + " with knobs " + knobs.canonical() + " has only " + std::to_string(kept) +
         " distinct questions" + (balanced ? " with balanced labels" : "") + " (names and statement order ignored; " +
         how + "), fewer than the " + std::to_string(count) + " asked for (-n): " + raise + ", or lower -n to at most " +
         std::to_string(kept);
}

// The dataset is the first `count` candidates of the index stream 0, 1, 2, ... whose question is new
// (no two tasks are the same question, family.question_key) and whose label is not above its share
// (LabelBalance); positions [begin, end) of it go to `sink`, so a shard first walks the questions before
// it (without serialising them).
pb::DatasetManifest stream_tasks(const Generator& family, const Knobs& knobs, const GenerateRequest& request,
                                 uint64_t begin, uint64_t end, FileFormat format, const RecordSink& sink) {
  if (begin > end || end > request.count)
    throw std::invalid_argument("positions [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") are not within a dataset of " + std::to_string(request.count) + " tasks");
  const int threads = request.threads > 0 ? request.threads : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);
  pb::DatasetManifest manifest;
  ContentHash hash;
  ProgressBar progress(request.progress, end - begin);
  const TaskMaker maker(family, knobs, request.level, request.seed);
  tbb::enumerable_thread_specific<pb::Task> scratch;
  QuestionSet seen;  // the kept questions
  LabelBalance balance(family, knobs);
  std::map<std::string, uint64_t> enumerated;  // listed inside the arena: a family may list in parallel
  uint64_t position = 0, next = 0, rendered_bytes = 0, rendered_tasks = 0;
  Exhaustion exhaustion;
  DrawnQuestions drawn;  // the sample for the estimate in too_few_questions
  // Two blocks: one is written (a task of the arena) while the next one renders, so only the decision
  // of what to keep is serial. Blocks are written in order, one at a time.
  Block blocks[2];
  tbb::task_group writing;
  arena.execute([&] {
    try {
      enumerated = family.question_counts(knobs);
      for (int turn = 0; position < end; turn ^= 1) {
        Block& block = blocks[turn];
        // What is still missing, plus the share of repeats seen so far (none: no candidate made in vain).
        const uint64_t missing = end - position, repeats = next - seen.size();
        const uint64_t extra = repeats == 0 ? 0 : missing * repeats / next + 8;
        block.begin = next;
        block.end = next + std::min(next_block_size(rendered_bytes, rendered_tasks, threads), missing + extra);
        block.serialize = position + (block.end - block.begin) > begin;
        block.render(maker, family, format, seen, scratch);
        if (block.serialize) rendered_bytes += block.bytes(), rendered_tasks += block.end - block.begin;
        writing.wait();  // the previous block is written: the progress bar may show it
        if (position > begin) progress.update(position - begin);
        // Keep, in index order, each candidate whose question is new; the range's own are written.
        block.kept.clear();
        for (size_t c = 0; c < block.chunk_count() && position < end; ++c) {
          const Chunk& chunk = block.chunks[c];
          for (size_t j = 0; j < chunk.questions.size() && position < end; ++j) {
            next = block.begin + c * kChunk + j + 1;
            drawn.add(chunk.questions[j], balance.active() ? chunk.labels[j] : kOneLabel);
            // A repeat, or a label above its share (kept later if it comes again when its label is due).
            if (seen.contains(chunk.questions[j]) || !balance.admits(chunk.labels[j])) {
              if (space_used_up(enumerated, balance, position))
                throw std::invalid_argument(
                    space_too_small(family, knobs, enumerated, balance.active(), position, request.count));
              if (exhaustion.skip(next, position, end, seen.size()))
                throw std::invalid_argument(
                    too_few_questions(family, knobs, balance, seen.size(), exhaustion, drawn, request.count));
              continue;
            }
            seen.insert(chunk.questions[j]);
            balance.keep(chunk.labels[j]);
            exhaustion.keep();
            if (position++ >= begin) block.kept.emplace_back(static_cast<uint32_t>(c), static_cast<uint32_t>(j));
          }
        }
        if (!block.kept.empty()) writing.run([&] { block.write(sink, hash, manifest); });
      }
      writing.wait();
    } catch (...) {
      writing.wait();  // never leave a writer running on buffers about to go
      throw;
    }
  });
  if (position > begin) progress.update(position - begin);

  manifest.set_recipe(request.recipe);
  manifest.set_family(family.name());
  manifest.set_level(request.level);
  for (const auto& [k, v] : knobs.values()) (*manifest.mutable_knobs())[k] = v;
  manifest.set_seed(request.seed);
  manifest.set_count(end - begin);
  manifest.set_total(request.count);
  manifest.set_version(kVersion);
  manifest.set_format(format == FileFormat::Jsonl ? "jsonl" : "binpb");
  manifest.set_content_hash(hash.text());
  return manifest;
}

}  // namespace

pb::DatasetManifest stream_dataset(const GenerateRequest& request, uint64_t begin, uint64_t end, FileFormat format,
                                   const RecordSink& sink) {
  const Generator& family = find_family(request.family).generator;
  return stream_tasks(family, resolve_knobs(family, request.level, request.knobs), request, begin, end, format, sink);
}

std::vector<std::string> dataset_json_lines(const GenerateRequest& request, uint64_t begin, uint64_t end) {
  std::vector<std::string> lines;
  lines.reserve(static_cast<size_t>(end - begin));
  stream_dataset(request, begin, end, FileFormat::Jsonl, [&lines](std::string_view records) {
    // Whole records, each ending in a newline (JSON escapes its own).
    for (size_t at = 0, newline; at < records.size(); at = newline + 1) {
      newline = records.find('\n', at);
      lines.emplace_back(records.substr(at, newline - at));
    }
  });
  return lines;
}

pb::DatasetManifest generate_dataset(const GenerateRequest& request) {
  // Knobs and shard are checked before the output file is opened.
  const Generator& family = find_family(request.family).generator;
  const Knobs knobs = resolve_knobs(family, request.level, request.knobs);
  const auto range = shard_range(request.count, request.shard_index, request.shard_count);
  const FileFormat format = format_for_path(request.output);
  pb::DatasetManifest manifest;
  write_stream_atomically(request.output, [&](std::ostream& out) {
    const RecordSink to_file = [&out](std::string_view records) {
      out.write(records.data(), static_cast<std::streamsize>(records.size()));
    };
    manifest = stream_tasks(family, knobs, request, range.first, range.second, format, to_file);
  });
  manifest.set_shard(std::to_string(request.shard_index) + "/" + std::to_string(request.shard_count));
  manifest.set_output(fs::path(request.output).filename().string());
  // Standard output carries the tasks alone: no manifest (its figures are the return value).
  if (!is_standard_output(request.output))
    write_file_atomically(request.output + ".manifest.json", to_json_line(manifest) + "\n");
  return manifest;
}

}  // namespace verity
