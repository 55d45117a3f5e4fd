#include "solvers/zebra_solver.h"

#include <algorithm>
#include <cstdlib>

namespace verity::zebra {
namespace {

using Mask = uint16_t;  // bit h: the value may be in house h

struct State {
  std::array<Mask, kMaxHouses * kMaxAttributes> dom;
};

inline bool single(Mask m) { return m != 0 && (m & (m - 1)) == 0; }
inline int lowest_house(Mask m) { return __builtin_ctz(m); }

constexpr int kOnePerHouse = -1;   // pseudo clue index: the all-different rule of an attribute
constexpr int kContradiction = -2; // pseudo clue index: ruled out by a failed assumption

// Only the explaining pass (deduce) records why masks narrow; the counting search passes nullptr.
struct Recorder {
  std::vector<Deduction>* steps = nullptr;   // where placements are announced (null while probing)
  std::vector<std::vector<int>> reasons;     // per value: clues that narrowed it, in order
  std::vector<int> fired;                    // every clue that narrowed anything
};

// Propagation is event driven: a narrowed value marks itself dirty (values <= 64 fit one word), and
// only the clues and attributes that touch dirty values are applied again.
struct Context {
  const Puzzle& puzzle;
  Mask full;
  Recorder* rec;
  std::vector<uint64_t> clue_values;  // per clue: bits of the values it mentions (0 = skipped)
  uint64_t dirty = 0;

  Context(const Puzzle& p, int skip, Recorder* recorder)
      : puzzle(p), full(static_cast<Mask>((1u << p.houses) - 1)), rec(recorder), clue_values(p.clues.size()) {
    for (size_t i = 0; i < p.clues.size(); ++i) {
      const Clue& c = p.clues[i];
      const bool two = c.kind != ClueKind::Position && c.kind != ClueKind::NotPosition;
      clue_values[i] = static_cast<int>(i) == skip ? 0 : (uint64_t{1} << c.x) | (two ? uint64_t{1} << c.y : 0);
    }
  }
};

// Popcount of a house mask (houses <= 8): a table, since the build targets no popcnt instruction.
constexpr std::array<uint8_t, 256> kPopcount = [] {
  std::array<uint8_t, 256> t{};
  for (int m = 0; m < 256; ++m) t[m] = static_cast<uint8_t>((m & 1) + t[m >> 1]);
  return t;
}();

void record(Context& ctx, int value, Mask now, int source) {
  Recorder& rec = *ctx.rec;
  if (source >= 0) {
    auto& why = rec.reasons[value];
    if (std::find(why.begin(), why.end(), source) == why.end()) why.push_back(source);
    if (std::find(rec.fired.begin(), rec.fired.end(), source) == rec.fired.end()) rec.fired.push_back(source);
  }
  if (rec.steps && single(now)) {
    const char* rule = source >= 0 ? kind_name(ctx.puzzle.clues[source].kind)
                       : source == kOnePerHouse ? "one_per_house" : "only_house_left";
    rec.steps->push_back({value, lowest_house(now), true, rule, rec.reasons[value]});
  }
}

// Intersects a value's mask with `allowed`; false when it becomes empty (a contradiction).
inline bool narrow(Context& ctx, State& s, int value, Mask allowed, int source) {
  const Mask old = s.dom[value];
  const Mask now = old & allowed;
  if (now == old) return true;
  s.dom[value] = now;
  ctx.dirty |= uint64_t{1} << value;
  if (ctx.rec && now) record(ctx, value, now, source);
  return now != 0;
}

// Narrows the two values of a clue by what the clue allows given the other's mask.
bool apply_clue(Context& ctx, State& s, int index) {
  const Clue& c = ctx.puzzle.clues[index];
  const Mask dx = s.dom[c.x], dy = s.dom[c.y], full = ctx.full;
  switch (c.kind) {
    case ClueKind::Same:
      return narrow(ctx, s, c.x, dy, index) && narrow(ctx, s, c.y, dx, index);
    case ClueKind::NotSame:
      if (single(dx) && !narrow(ctx, s, c.y, static_cast<Mask>(~dx), index)) return false;
      if (single(dy) && !narrow(ctx, s, c.x, static_cast<Mask>(~dy), index)) return false;
      return true;
    case ClueKind::NextTo:
      return narrow(ctx, s, c.y, static_cast<Mask>(((dx << 1) | (dx >> 1)) & full), index) &&
             narrow(ctx, s, c.x, static_cast<Mask>(((dy << 1) | (dy >> 1)) & full), index);
    case ClueKind::ImmediatelyLeft:  // house(x) + 1 == house(y)
      return narrow(ctx, s, c.y, static_cast<Mask>((dx << 1) & full), index) &&
             narrow(ctx, s, c.x, static_cast<Mask>(dy >> 1), index);
    case ClueKind::LeftOf: {  // house(x) < house(y): y above x's lowest option, x below y's highest
      if (!dx || !dy) return false;
      const Mask lo = dx & static_cast<Mask>(-dx);
      const Mask hi = static_cast<Mask>(1u << (31 - __builtin_clz(dy)));
      return narrow(ctx, s, c.y, static_cast<Mask>(full & ~(lo | (lo - 1))), index) &&
             narrow(ctx, s, c.x, static_cast<Mask>(hi - 1), index);
    }
    case ClueKind::Position:
      return narrow(ctx, s, c.x, static_cast<Mask>(1u << c.house), index);
    case ClueKind::NotPosition:
      return narrow(ctx, s, c.x, static_cast<Mask>(~(1u << c.house)), index);
  }
  return false;
}

// Each attribute is a permutation: a placed value leaves the other values' masks, and a house that
// only one value can still take goes to that value ("hidden single").
bool apply_all_different(Context& ctx, State& s, int attribute) {
  const int n = ctx.puzzle.houses;
  const int base = attribute * n;
  Mask placed = 0;
  for (int v = base; v < base + n; ++v) {
    if (!single(s.dom[v])) continue;
    if (placed & s.dom[v]) return false;
    placed |= s.dom[v];
  }
  for (int v = base; v < base + n; ++v)
    if (!single(s.dom[v]) && !narrow(ctx, s, v, static_cast<Mask>(~placed), kOnePerHouse)) return false;
  Mask once = 0, twice = 0;
  for (int v = base; v < base + n; ++v) {
    twice |= once & s.dom[v];
    once |= s.dom[v];
  }
  if (once != ctx.full) return false;  // some house can take no value of this attribute
  const Mask only = once & static_cast<Mask>(~twice);
  for (int v = base; v < base + n; ++v) {
    const Mask m = s.dom[v] & only;
    if (!m) continue;
    if (!single(m)) return false;  // one value would need two houses
    if (!narrow(ctx, s, v, m, kOnePerHouse)) return false;
  }
  return true;
}

// Applies the clues and attributes touching `dirty` values until nothing changes.
bool propagate(Context& ctx, State& s, uint64_t dirty) {
  const int clues = static_cast<int>(ctx.puzzle.clues.size());
  const int n = ctx.puzzle.houses;
  const uint64_t column = (uint64_t{1} << n) - 1;  // the value bits of one attribute
  ctx.dirty = dirty;
  while (ctx.dirty) {
    const uint64_t now = ctx.dirty;
    ctx.dirty = 0;
    for (int i = 0; i < clues; ++i)
      if ((ctx.clue_values[i] & now) && !apply_clue(ctx, s, i)) return false;
    for (int a = 0; a < ctx.puzzle.attributes; ++a)
      if (((now >> (a * n)) & column) && !apply_all_different(ctx, s, a)) return false;
  }
  return true;
}

uint64_t all_values(const Puzzle& p) {
  return p.values() >= 64 ? ~uint64_t{0} : (uint64_t{1} << p.values()) - 1;
}

State initial_state(const Puzzle& p, Mask full) {
  State s;
  s.dom.fill(0);
  for (int v = 0; v < p.values(); ++v) s.dom[v] = full;
  return s;
}

// Depth-first search on the value with the fewest houses left.
void search(Context& ctx, State& s, uint64_t dirty, int limit, SolveResult& out) {
  if (!propagate(ctx, s, dirty)) return;
  int best = -1, best_count = 99;
  for (int v = 0; v < ctx.puzzle.values(); ++v) {
    const int count = kPopcount[s.dom[v] & 0xFF];
    if (count > 1 && count < best_count) best = v, best_count = count;
  }
  if (best < 0) {
    if (out.solutions++ == 0) {
      out.first.resize(ctx.puzzle.values());
      for (int v = 0; v < ctx.puzzle.values(); ++v) out.first[v] = lowest_house(s.dom[v]);
    }
    return;
  }
  ++out.nodes;
  for (Mask rest = s.dom[best]; rest && out.solutions < limit; rest &= rest - 1) {
    State next = s;
    next.dom[best] = rest & static_cast<Mask>(-rest);
    search(ctx, next, uint64_t{1} << best, limit, out);
  }
}

}  // namespace

const char* kind_name(ClueKind kind) {
  switch (kind) {
    case ClueKind::Same: return "same";
    case ClueKind::NotSame: return "not_same";
    case ClueKind::NextTo: return "next_to";
    case ClueKind::LeftOf: return "left_of";
    case ClueKind::ImmediatelyLeft: return "immediately_left";
    case ClueKind::Position: return "position";
    case ClueKind::NotPosition: return "not_position";
  }
  return "?";
}

bool parse_kind(const std::string& name, ClueKind& kind) {
  for (int k = 0; k <= static_cast<int>(ClueKind::NotPosition); ++k)
    if (name == kind_name(static_cast<ClueKind>(k))) {
      kind = static_cast<ClueKind>(k);
      return true;
    }
  return false;
}

bool holds(const Clue& c, const Solution& s) {
  const int hx = s[c.x], hy = s[c.y];
  switch (c.kind) {
    case ClueKind::Same: return hx == hy;
    case ClueKind::NotSame: return hx != hy;
    case ClueKind::NextTo: return std::abs(hx - hy) == 1;
    case ClueKind::LeftOf: return hx < hy;
    case ClueKind::ImmediatelyLeft: return hx + 1 == hy;
    case ClueKind::Position: return hx == c.house;
    case ClueKind::NotPosition: return hx != c.house;
  }
  return false;
}

SolveResult solve(const Puzzle& puzzle, int limit, int skip) {
  Context ctx(puzzle, skip, nullptr);
  State s = initial_state(puzzle, ctx.full);
  SolveResult out;
  search(ctx, s, all_values(puzzle), limit, out);
  return out;
}

bool deduce(const Puzzle& puzzle, std::vector<Deduction>& steps) {
  Recorder rec;
  rec.steps = &steps;
  rec.reasons.resize(puzzle.values());
  Context ctx(puzzle, -1, &rec);
  State s = initial_state(puzzle, ctx.full);
  uint64_t dirty = all_values(puzzle);
  while (true) {
    if (!propagate(ctx, s, dirty)) return false;
    if (std::all_of(s.dom.begin(), s.dom.begin() + puzzle.values(), single)) return true;
    // Stalled: find the first placement whose assumption propagates to a contradiction, rule it out.
    bool progressed = false;
    for (int v = 0; v < puzzle.values() && !progressed; ++v) {
      if (single(s.dom[v])) continue;
      for (Mask rest = s.dom[v]; rest && !progressed; rest &= rest - 1) {
        const Mask bit = rest & static_cast<Mask>(-rest);
        Recorder probe;
        probe.reasons.resize(puzzle.values());
        Context probe_ctx(puzzle, -1, &probe);
        State trial = s;
        trial.dom[v] = bit;
        if (propagate(probe_ctx, trial, uint64_t{1} << v)) continue;
        std::sort(probe.fired.begin(), probe.fired.end());
        steps.push_back({v, lowest_house(bit), false, "contradiction", probe.fired});
        rec.reasons[v].insert(rec.reasons[v].end(), probe.fired.begin(), probe.fired.end());
        narrow(ctx, s, v, static_cast<Mask>(~bit), kContradiction);
        dirty = uint64_t{1} << v;
        progressed = true;
      }
    }
    if (!progressed) return false;
  }
}

}  // namespace verity::zebra

namespace verity {

std::string zebra_grid_answer(const pb::ZebraInstance& inst) {
  std::string out;
  for (int h = 1; h <= inst.houses(); ++h) {
    out += (h > 1 ? "; House " : "House ") + std::to_string(h) + ":";
    for (int a = 0; a < inst.attributes_size(); ++a) {
      const auto& attr = inst.attributes(a);
      for (int v = 0; v < attr.solution_size() && v < attr.values_size(); ++v)
        if (attr.solution(v) == h) out += (a ? ", " : " ") + attr.values(v);
    }
  }
  return out;
}

}  // namespace verity
