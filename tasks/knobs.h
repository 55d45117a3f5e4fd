// Knobs: a family's difficulty and format parameters, declared with ranges and defaults,
// resolved from (defaults <- level ladder <- user overrides) and validated with clear errors.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace verity {

struct KnobSpec {
  enum class Kind { Int, Real, Choice };
  std::string name;
  Kind kind = Kind::Int;
  std::string description;
  double min = 0;                    // Int / Real bounds (inclusive)
  double max = 0;
  std::string default_value;
  std::vector<std::string> choices;  // Choice only

  static KnobSpec integer(std::string name, std::string description, long min, long max, long def);
  static KnobSpec real(std::string name, std::string description, double min, double max, double def);
  static KnobSpec choice(std::string name, std::string description, std::vector<std::string> choices,
                         std::string def);
  std::string range_text() const;  // "[2, 200]" or "natural|symbolic"
};

class KnobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using KnobMap = std::map<std::string, std::string>;  // name -> textual value, sorted = canonical

// Resolved and validated knob values with typed accessors.
class Knobs {
 public:
  Knobs() = default;
  // Validates every value in `values` against `specs`; unknown names and bad values throw KnobError.
  Knobs(const std::vector<KnobSpec>& specs, const KnobMap& values);
  long get_int(const std::string& name) const;
  double get_real(const std::string& name) const;
  const std::string& get(const std::string& name) const;
  const KnobMap& values() const { return values_; }
  std::string canonical() const;  // "a=1;b=x" in name order: part of the item seed
  // fnv1a64(canonical()), worked out once (the values never change after construction): generators
  // key their per-knobs caches and streams with it on every task.
  uint64_t hash() const { return hash_; }
  // Names these values for per-knobs caches (read_once_per_knobs): copies share it and every Knobs
  // validated anew gets its own, so one id always means the same values (equal values built twice
  // just have two ids). Copied on a move too: a moved-from Knobs keeps its values.
  uint64_t id() const { return id_; }

  Knobs(const Knobs&) = default;
  Knobs& operator=(const Knobs&) = default;

 private:
  KnobMap values_;
  uint64_t hash_ = 14695981039346656037ull;  // fnv1a64 of the empty canonical()
  uint64_t id_ = 0;                          // 0: no values
};

// What a generator reads off its knobs on every task (typed values, a cached listing), worked out by
// `read` once per distinct Knobs and thread: a dataset's tasks all share one Knobs, and checking its
// id costs less than comparing the values or reading them again. Each call site (its `read` lambda)
// has its own cache. The reference holds until this thread next calls the same site.
template <class Settings, class Read>
const Settings& read_once_per_knobs(const Knobs& knobs, const Read& read) {
  thread_local Settings settings;
  thread_local uint64_t id = ~uint64_t{0};  // no Knobs has this id
  if (id != knobs.id()) {
    id = ~uint64_t{0};  // a throwing read leaves no stale match
    settings = read(knobs);
    id = knobs.id();
  }
  return settings;
}

// Parses "name=value" (from --knob) into the map; throws KnobError with the fix on bad syntax.
void parse_knob_assignment(const std::string& text, KnobMap& into);

}  // namespace verity
