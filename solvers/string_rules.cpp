#include "solvers/string_rules.h"

namespace verity::strrules {

const char* kind_name(Kind kind) {
  return kind == Kind::Isl ? "isl" : kind == Kind::LeftOsl ? "l-osl" : "r-osl";
}

bool parse_kind(std::string_view name, Kind& kind) {
  for (Kind k : {Kind::Isl, Kind::LeftOsl, Kind::RightOsl})
    if (name == kind_name(k)) {
      kind = k;
      return true;
    }
  return false;
}

bool context_at(Kind kind, int window, const std::string& input, const std::string& output, size_t i,
                std::string& context) {
  const size_t w = static_cast<size_t>(window - 1);
  if (kind == Kind::RightOsl) {
    if (i + w >= output.size()) return false;
    context.assign(output, i + 1, w);
    return true;
  }
  if (i < w) return false;
  context.assign(kind == Kind::Isl ? input : output, i - w, w);
  return true;
}

namespace {
int find_rule(const Function& f, std::string_view context, char letter) {
  for (size_t r = 0; r < f.rules.size(); ++r)
    if (f.rules[r].from == letter && f.rules[r].context == context) return static_cast<int>(r);
  return -1;
}
}  // namespace

std::string apply(const Function& f, std::string_view input, std::vector<int>* fired) {
  std::string out(input);
  const std::string in(input);
  if (fired) fired->assign(input.size(), -1);
  std::string context;
  const size_t n = input.size();
  for (size_t step = 0; step < n; ++step) {
    const size_t i = f.kind == Kind::RightOsl ? n - 1 - step : step;  // output context is final on that side
    if (!context_at(f.kind, f.window, in, out, i, context)) continue;
    const int r = find_rule(f, context, input[i]);
    if (r < 0) continue;
    out[i] = f.rules[r].to;
    if (fired) (*fired)[i] = r;
  }
  return out;
}

Derivation derive(Kind kind, int window, const std::vector<Example>& examples) {
  Derivation d;
  std::string context;
  for (size_t e = 0; e < examples.size() && d.consistent; ++e) {
    const auto& [in, out] = examples[e];
    if (in.size() != out.size()) {
      d.consistent = false;
      d.conflict = "example " + std::to_string(e + 1) + " changes the length";
      break;
    }
    for (size_t i = 0; i < in.size() && d.consistent; ++i) {
      if (!context_at(kind, window, in, out, i, context)) {
        if (in[i] != out[i]) d.consistent = false, d.conflict = "a letter without a full context changes";
        continue;
      }
      const auto [it, fresh] = d.determined.emplace(std::make_pair(context, in[i]), out[i]);
      if (!fresh && it->second != out[i]) d.consistent = false, d.conflict = "one context, two outputs";
    }
  }
  for (const auto& [key, to] : d.determined)
    if (key.second != to) d.minimal.push_back({key.first, key.second, to});
  return d;
}

}  // namespace verity::strrules
