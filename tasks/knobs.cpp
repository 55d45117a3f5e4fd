#include "tasks/knobs.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <sstream>

#include "tasks/rng.h"

namespace verity {
namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

bool parse_long(const std::string& text, long& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  try {
    size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && std::isfinite(out);
  } catch (...) {
    return false;
  }
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

}  // namespace

KnobSpec KnobSpec::integer(std::string name, std::string description, long min, long max, long def) {
  return {std::move(name), Kind::Int, std::move(description), double(min), double(max), std::to_string(def), {}};
}
KnobSpec KnobSpec::real(std::string name, std::string description, double min, double max, double def) {
  return {std::move(name), Kind::Real, std::move(description), min, max, format_number(def), {}};
}
KnobSpec KnobSpec::choice(std::string name, std::string description, std::vector<std::string> choices,
                          std::string def) {
  return {std::move(name), Kind::Choice, std::move(description), 0, 0, std::move(def), std::move(choices)};
}

std::string KnobSpec::range_text() const {
  if (kind == Kind::Choice) return join(choices, "|");
  return "[" + format_number(min) + ", " + format_number(max) + "]";
}

Knobs::Knobs(const std::vector<KnobSpec>& specs, const KnobMap& values) {
  for (const auto& [name, value] : values) {
    bool known = false;
    for (const auto& s : specs) known = known || s.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      throw KnobError("unknown knob '" + name + "'; this family's knobs are: " + join(names, ", "));
    }
  }
  for (const auto& spec : specs) {
    auto it = values.find(spec.name);
    std::string value = it == values.end() ? spec.default_value : it->second;
    const std::string bad = "knob " + spec.name + "=" + value + ": ";
    if (spec.kind == KnobSpec::Kind::Int) {
      long v = 0;
      if (!parse_long(value, v)) throw KnobError(bad + "expected an integer in " + spec.range_text());
      if (v < spec.min || v > spec.max) throw KnobError(bad + "out of range, use a value in " + spec.range_text());
      value = std::to_string(v);
    } else if (spec.kind == KnobSpec::Kind::Real) {
      double v = 0;
      if (!parse_double(value, v)) throw KnobError(bad + "expected a number in " + spec.range_text());
      if (v < spec.min || v > spec.max) throw KnobError(bad + "out of range, use a value in " + spec.range_text());
      value = format_number(v);
    } else {
      bool ok = false;
      for (const auto& c : spec.choices) ok = ok || c == value;
      if (!ok) throw KnobError(bad + "expected one of " + spec.range_text());
    }
    values_[spec.name] = value;
  }
  hash_ = fnv1a64(canonical());
  static std::atomic<uint64_t> last_id{0};
  id_ = last_id.fetch_add(1, std::memory_order_relaxed) + 1;
}

const std::string& Knobs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw KnobError("internal: knob '" + name + "' was not declared");
  return it->second;
}

long Knobs::get_int(const std::string& name) const {
  long v = 0;
  parse_long(get(name), v);
  return v;
}

double Knobs::get_real(const std::string& name) const {
  double v = 0;
  parse_double(get(name), v);
  return v;
}

std::string Knobs::canonical() const {
  std::string out;
  for (const auto& [name, value] : values_) out += name + "=" + value + ";";
  return out;
}

void parse_knob_assignment(const std::string& text, KnobMap& into) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw KnobError("bad --knob '" + text + "': write it as name=value, e.g. --knob chain_length=9");
  into[text.substr(0, eq)] = text.substr(eq + 1);
}

}  // namespace verity
