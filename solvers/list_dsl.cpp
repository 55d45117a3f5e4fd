#include "solvers/list_dsl.h"

#include "tasks/concat.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace verity::listdsl {

bool is_reducer(StageKind kind) { return kind >= StageKind::Sum; }

namespace {

// ---- text -------------------------------------------------------------------------------------

std::string arith_text(ArithOp op, int32_t arg) {
  const std::string c = std::to_string(arg);
  switch (op) {
    case ArithOp::Add: return "x + " + c;
    case ArithOp::Sub: return "x - " + c;
    case ArithOp::Mul: return "x * " + c;
    case ArithOp::Mod: return "x % " + c;
    case ArithOp::Neg: return "-x";
  }
  return "?";
}

std::string pred_text(PredOp op, int32_t arg) {
  switch (op) {
    case PredOp::Gt: return "x > " + std::to_string(arg);
    case PredOp::Lt: return "x < " + std::to_string(arg);
    case PredOp::Even: return "even";
    case PredOp::Odd: return "odd";
  }
  return "?";
}

}  // namespace

std::string to_text(const Stage& s) {
  const std::string a = std::to_string(s.arg);
  switch (s.kind) {
    case StageKind::Map: return "map(" + arith_text(s.arith, s.arg) + ")";
    case StageKind::MapIf: return "map(if " + pred_text(s.pred, s.pred_arg) + " then " + arith_text(s.arith, s.arg) + " else x)";
    case StageKind::Filter: return "filter(" + pred_text(s.pred, s.pred_arg) + ")";
    case StageKind::Take: return "take(" + a + ")";
    case StageKind::Drop: return "drop(" + a + ")";
    case StageKind::Reverse: return "reverse";
    case StageKind::Sort: return "sort";
    case StageKind::SortDesc: return "sort_desc";
    case StageKind::Unique: return "unique";
    case StageKind::Append: return "append(" + a + ")";
    case StageKind::Prepend: return "prepend(" + a + ")";
    case StageKind::Sum: return "sum";
    case StageKind::Length: return "length";
    case StageKind::Max: return "max";
    case StageKind::Min: return "min";
    case StageKind::Head: return "head";
    case StageKind::Last: return "last";
    case StageKind::Count: return "count(" + pred_text(s.pred, s.pred_arg) + ")";
  }
  return "?";
}

std::string to_text(const Program& program) {
  std::string out;
  for (size_t i = 0; i < program.stages.size(); ++i) out += (i ? " | " : "") + to_text(program.stages[i]);
  return out;
}

std::string to_text(const Value& value) {
  if (value.type == Value::Type::Undefined) return "undefined";
  if (value.type == Value::Type::Number) return std::to_string(value.items.at(0));
  std::string out = "[";
  for (size_t i = 0; i < value.items.size(); ++i) out += (i ? ", " : "") + std::to_string(value.items[i]);
  return out + "]";
}

// ---- semantics on flat values -------------------------------------------------------------------
// A flat value is int32s: a list is [length, items...], a number [kNumberTag, value], undefined
// [kUndefinedTag]. The search keeps tuples of them in one buffer; run() wraps the same code.

namespace {

constexpr int32_t kNumberTag = -1;
constexpr int32_t kUndefinedTag = -2;
constexpr int kFlatCapacity = kMaxLength + 1;  // the most int32s one value needs

inline int flat_size(const int32_t* v) { return v[0] >= 0 ? v[0] + 1 : v[0] == kNumberTag ? 2 : 1; }

inline bool arith(ArithOp op, int32_t arg, int32_t x, int32_t& out) {
  int64_t r = 0;
  switch (op) {
    case ArithOp::Add: r = int64_t{x} + arg; break;
    case ArithOp::Sub: r = int64_t{x} - arg; break;
    case ArithOp::Mul: r = int64_t{x} * arg; break;
    case ArithOp::Mod:
      if (arg <= 0) return false;
      r = int64_t{x} % arg;
      if (r < 0) r += arg;
      break;
    case ArithOp::Neg: r = -int64_t{x}; break;
  }
  if (r < std::numeric_limits<int32_t>::min() || r > std::numeric_limits<int32_t>::max()) return false;
  out = static_cast<int32_t>(r);
  return true;
}

inline bool holds(PredOp op, int32_t arg, int32_t x) {
  switch (op) {
    case PredOp::Gt: return x > arg;
    case PredOp::Lt: return x < arg;
    case PredOp::Even: return (x & 1) == 0;
    case PredOp::Odd: return (x & 1) != 0;
  }
  return false;
}

inline int undefined(int32_t* out) {
  out[0] = kUndefinedTag;
  return 1;
}
inline int number(int64_t v, int32_t* out) {
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) return undefined(out);
  out[0] = kNumberTag;
  out[1] = static_cast<int32_t>(v);
  return 2;
}

// Applies one stage to the flat value `in`, writing the result at `out` (room for kFlatCapacity).
// Returns the int32s written. Linear in the list's length (sort and unique: quadratic in at most 64).
int apply_flat(const Stage& s, const int32_t* in, int32_t* out) {
  if (in[0] < 0) return undefined(out);  // undefined stays undefined (a number is never a stage's input)
  const int n = in[0];
  const int32_t* x = in + 1;
  int32_t* y = out + 1;
  int m = 0;
  switch (s.kind) {
    case StageKind::Map:
      for (int i = 0; i < n; ++i)
        if (!arith(s.arith, s.arg, x[i], y[i])) return undefined(out);
      m = n;
      break;
    case StageKind::MapIf:
      for (int i = 0; i < n; ++i) {
        if (!holds(s.pred, s.pred_arg, x[i])) y[i] = x[i];
        else if (!arith(s.arith, s.arg, x[i], y[i])) return undefined(out);
      }
      m = n;
      break;
    case StageKind::Filter:
      for (int i = 0; i < n; ++i)
        if (holds(s.pred, s.pred_arg, x[i])) y[m++] = x[i];
      break;
    case StageKind::Take:
      m = std::clamp(s.arg, 0, n);
      std::memcpy(y, x, sizeof(int32_t) * m);
      break;
    case StageKind::Drop: {
      const int from = std::clamp(s.arg, 0, n);
      m = n - from;
      std::memcpy(y, x + from, sizeof(int32_t) * m);
      break;
    }
    case StageKind::Reverse:
      for (int i = 0; i < n; ++i) y[i] = x[n - 1 - i];
      m = n;
      break;
    case StageKind::Sort:
    case StageKind::SortDesc:
      for (int i = 0; i < n; ++i) {  // insertion sort: lists are short
        int32_t v = x[i];
        int j = i;
        if (s.kind == StageKind::Sort) while (j > 0 && y[j - 1] > v) y[j] = y[j - 1], --j;
        else while (j > 0 && y[j - 1] < v) y[j] = y[j - 1], --j;
        y[j] = v;
      }
      m = n;
      break;
    case StageKind::Unique:
      for (int i = 0; i < n; ++i) {
        bool seen = false;
        for (int j = 0; j < m && !seen; ++j) seen = y[j] == x[i];
        if (!seen) y[m++] = x[i];
      }
      break;
    case StageKind::Append:
    case StageKind::Prepend:
      if (n + 1 > kMaxLength) return undefined(out);
      if (s.kind == StageKind::Append) {
        std::memcpy(y, x, sizeof(int32_t) * n);
        y[n] = s.arg;
      } else {
        y[0] = s.arg;
        std::memcpy(y + 1, x, sizeof(int32_t) * n);
      }
      m = n + 1;
      break;
    case StageKind::Sum: {
      int64_t total = 0;
      for (int i = 0; i < n; ++i) total += x[i];
      return number(total, out);
    }
    case StageKind::Length: return number(n, out);
    case StageKind::Max:
    case StageKind::Min: {
      if (n == 0) return undefined(out);
      int32_t best = x[0];
      for (int i = 1; i < n; ++i) best = s.kind == StageKind::Max ? std::max(best, x[i]) : std::min(best, x[i]);
      return number(best, out);
    }
    case StageKind::Head: return n == 0 ? undefined(out) : number(x[0], out);
    case StageKind::Last: return n == 0 ? undefined(out) : number(x[n - 1], out);
    case StageKind::Count: {
      int c = 0;
      for (int i = 0; i < n; ++i) c += holds(s.pred, s.pred_arg, x[i]);
      return number(c, out);
    }
  }
  out[0] = m;
  return m + 1;
}

void write_flat(const Value& v, std::vector<int32_t>& buffer) {
  if (v.type == Value::Type::Undefined) buffer.push_back(kUndefinedTag);
  else if (v.type == Value::Type::Number) buffer.insert(buffer.end(), {kNumberTag, v.items.at(0)});
  else {
    buffer.push_back(static_cast<int32_t>(v.items.size()));
    buffer.insert(buffer.end(), v.items.begin(), v.items.end());
  }
}

Value read_flat(const int32_t* v) {
  if (v[0] == kUndefinedTag) return Value::undefined();
  if (v[0] == kNumberTag) return Value::number(v[1]);
  return Value::list(std::vector<int32_t>(v + 1, v + 1 + v[0]));
}

inline bool flat_equal(const int32_t* a, const int32_t* b) {
  const int n = flat_size(a);
  return n == flat_size(b) && std::memcmp(a, b, sizeof(int32_t) * n) == 0;
}

}  // namespace

Value run_stage(const Stage& stage, const Value& input) {
  if (input.type != Value::Type::List || input.items.size() > static_cast<size_t>(kMaxLength)) return Value::undefined();
  std::vector<int32_t> in;
  write_flat(input, in);
  int32_t out[kFlatCapacity];
  apply_flat(stage, in.data(), out);
  return read_flat(out);
}

Value run(const Program& program, const std::vector<int32_t>& input) {
  if (input.size() > static_cast<size_t>(kMaxLength)) return Value::undefined();
  int32_t a[kFlatCapacity], b[kFlatCapacity];
  a[0] = static_cast<int32_t>(input.size());
  std::copy(input.begin(), input.end(), a + 1);
  int32_t* cur = a;
  int32_t* next = b;
  for (const Stage& s : program.stages) {
    apply_flat(s, cur, next);
    std::swap(cur, next);
  }
  return read_flat(cur);
}

// ---- parsing untrusted rules --------------------------------------------------------------------

namespace {

class RuleParser {
 public:
  explicit RuleParser(std::string_view text) : text_(text) {}

  ParsedProgram parse() {
    ParsedProgram out;
    if (text_.size() > kMaxProgramBytes) return fail(out, "the rule is longer than " + std::to_string(kMaxProgramBytes) + " bytes");
    while (true) {
      if (static_cast<int>(out.program.stages.size()) == kMaxStages)
        return fail(out, "more than " + std::to_string(kMaxStages) + " stages");
      Stage stage;
      if (!parse_stage(stage)) return fail(out, error_);
      if (!out.program.stages.empty() && out.program.returns_number())
        return fail(out, "'" + to_text(out.program.stages.back()) + "' gives a number, so it must be the last stage");
      out.program.stages.push_back(stage);
      skip_space();
      if (at_ >= text_.size()) break;
      if (text_[at_] != '|') return fail(out, "expected '|' between stages at " + where());
      ++at_;
    }
    return out;
  }

 private:
  ParsedProgram& fail(ParsedProgram& out, const std::string& why) {
    out.program.stages.clear();
    out.error = why;
    return out;
  }
  std::string where() const {
    if (at_ >= text_.size()) return "the end";
    return concat("'", text_.substr(at_, 12), "'");
  }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  std::string word() {  // lower-cased identifier
    skip_space();
    std::string w;
    while (at_ < text_.size() && w.size() < 16 &&
           (std::isalpha(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_'))
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(text_[at_++])));
    return w;
  }
  bool symbol(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
    return false;
  }
  bool expect(char c) {
    if (symbol(c)) return true;
    error_ = std::string("expected '") + c + "' at " + where();
    return false;
  }
  bool integer(int32_t& v) {
    skip_space();
    bool negative = symbol('-');
    skip_space();
    int64_t r = 0;
    size_t digits = 0;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
      if (++digits > 10) break;
      r = r * 10 + (text_[at_++] - '0');
    }
    if (digits == 0) return error_ = "expected a number at " + where(), false;
    if (negative) r = -r;
    if (digits > 10 || r < std::numeric_limits<int32_t>::min() || r > std::numeric_limits<int32_t>::max())
      return error_ = "a constant out of range at " + where(), false;
    v = static_cast<int32_t>(r);
    return true;
  }
  bool variable() {
    if (word() == "x") return true;
    error_ = "expected 'x' at " + where();
    return false;
  }
  // x > c | x < c | even | odd
  bool predicate(Stage& s) {
    const size_t start = at_;
    const std::string w = word();
    if (w == "even" || w == "odd") return s.pred = w == "even" ? PredOp::Even : PredOp::Odd, true;
    if (w != "x") return at_ = start, error_ = "expected a condition (x > c, x < c, even, odd) at " + where(), false;
    if (symbol('>')) s.pred = PredOp::Gt;
    else if (symbol('<')) s.pred = PredOp::Lt;
    else return error_ = "expected '>' or '<' at " + where(), false;
    return integer(s.pred_arg);
  }
  // x + c | x - c | x * c | x % c | -x
  bool arithmetic(Stage& s) {
    if (symbol('-')) return s.arith = ArithOp::Neg, variable();
    if (!variable()) return false;
    if (symbol('+')) s.arith = ArithOp::Add;
    else if (symbol('-')) s.arith = ArithOp::Sub;
    else if (symbol('*')) s.arith = ArithOp::Mul;
    else if (symbol('%')) s.arith = ArithOp::Mod;
    else return error_ = "expected '+', '-', '*' or '%' at " + where(), false;
    return integer(s.arg);
  }
  bool map_body(Stage& s) {
    const size_t start = at_;
    if (word() != "if") {
      at_ = start;
      s.kind = StageKind::Map;
      return arithmetic(s);
    }
    s.kind = StageKind::MapIf;
    if (!predicate(s)) return false;
    if (word() != "then") return error_ = "expected 'then' at " + where(), false;
    if (!arithmetic(s)) return false;
    if (word() != "else") return error_ = "expected 'else' at " + where(), false;
    return variable();
  }
  bool argument(Stage& s, bool non_negative) {
    if (!expect('(') || !integer(s.arg) || !expect(')')) return false;
    if (non_negative && s.arg < 0) return error_ = "take / drop need a count of 0 or more", false;
    return true;
  }
  bool parse_stage(Stage& s) {
    const std::string w = word();
    static const std::pair<const char*, StageKind> kPlain[] = {
        {"reverse", StageKind::Reverse}, {"sort", StageKind::Sort},   {"sort_desc", StageKind::SortDesc},
        {"unique", StageKind::Unique},   {"sum", StageKind::Sum},     {"length", StageKind::Length},
        {"max", StageKind::Max},         {"min", StageKind::Min},     {"head", StageKind::Head},
        {"last", StageKind::Last}};
    for (const auto& [name, kind] : kPlain)
      if (w == name) {
        s.kind = kind;
        if (symbol('(')) return expect(')');  // "reverse()" reads as "reverse"
        return true;
      }
    if (w == "map") return expect('(') && map_body(s) && expect(')');
    if (w == "filter" || w == "count") {
      s.kind = w == "filter" ? StageKind::Filter : StageKind::Count;
      return expect('(') && predicate(s) && expect(')');
    }
    if (w == "take") return s.kind = StageKind::Take, argument(s, true);
    if (w == "drop") return s.kind = StageKind::Drop, argument(s, true);
    if (w == "append") return s.kind = StageKind::Append, argument(s, false);
    if (w == "prepend") return s.kind = StageKind::Prepend, argument(s, false);
    error_ = w.empty() ? "expected a stage at " + where() : "unknown stage '" + w + "'";
    return false;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

ParsedProgram parse_program(std::string_view text) { return RuleParser(text).parse(); }

// ---- the hypothesis space -----------------------------------------------------------------------

PrimitiveSet primitive_set(Tier tier, int constants) {
  PrimitiveSet set;
  auto stage = [](StageKind kind, int32_t arg = 0, ArithOp arith = ArithOp::Add, PredOp pred = PredOp::Gt,
                  int32_t pred_arg = 0) {
    Stage s;
    s.kind = kind, s.arg = arg, s.arith = arith, s.pred = pred, s.pred_arg = pred_arg;
    return s;
  };
  std::vector<std::pair<PredOp, int32_t>> preds = {{PredOp::Even, 0}, {PredOp::Odd, 0}};
  for (int c = 1; c <= constants; ++c) preds.push_back({PredOp::Gt, c}), preds.push_back({PredOp::Lt, c});
  auto& L = set.lists;
  for (int c = 1; c <= constants; ++c) {
    L.push_back(stage(StageKind::Map, c, ArithOp::Add));
    L.push_back(stage(StageKind::Map, c, ArithOp::Sub));
    L.push_back(stage(StageKind::Map, c + 1, ArithOp::Mul));
  }
  for (const auto& [p, c] : preds) L.push_back(stage(StageKind::Filter, 0, ArithOp::Add, p, c));
  for (int c = 1; c <= constants; ++c) L.push_back(stage(StageKind::Take, c)), L.push_back(stage(StageKind::Drop, c));
  L.push_back(stage(StageKind::Reverse));
  L.push_back(stage(StageKind::Sort));
  set.numbers = {stage(StageKind::Sum), stage(StageKind::Length)};
  if (tier == Tier::Basic) return set;
  L.push_back(stage(StageKind::Map, 0, ArithOp::Neg));
  for (int c = 1; c <= constants; ++c) {
    L.push_back(stage(StageKind::Map, c + 1, ArithOp::Mod));
    L.push_back(stage(StageKind::Append, c));
    L.push_back(stage(StageKind::Prepend, c));
  }
  L.push_back(stage(StageKind::SortDesc));
  L.push_back(stage(StageKind::Unique));
  for (StageKind k : {StageKind::Max, StageKind::Min, StageKind::Head, StageKind::Last}) set.numbers.push_back(stage(k));
  for (const auto& [p, c] : preds) set.numbers.push_back(stage(StageKind::Count, 0, ArithOp::Add, p, c));
  if (tier == Tier::Extended) return set;
  // conditional maps: on even or odd elements only, x + c, x * c or -x
  for (PredOp p : {PredOp::Even, PredOp::Odd}) {
    for (int c = 1; c <= constants; ++c) {
      L.push_back(stage(StageKind::MapIf, c, ArithOp::Add, p));
      L.push_back(stage(StageKind::MapIf, c + 1, ArithOp::Mul, p));
    }
    L.push_back(stage(StageKind::MapIf, 0, ArithOp::Neg, p));
  }
  return set;
}

double hypothesis_space(const PrimitiveSet& set, int depth) {
  const double l = static_cast<double>(set.lists.size());
  const double all = l + static_cast<double>(set.numbers.size());
  double total = 0, prefixes = 1;  // list-valued programs of t - 1 stages
  for (int t = 1; t <= depth; ++t) total += prefixes * all, prefixes *= l;
  return total;
}

double search_states_bound(const PrimitiveSet& set, int depth) {
  return std::pow(static_cast<double>(set.lists.size()), std::max(0, depth - 1));
}

std::string describe_language(Tier tier, int constants) {
  const std::string c = "c is a whole number from 1 to " + std::to_string(constants);
  const std::string k = "k from 2 to " + std::to_string(constants + 1);
  std::string text =
      "Write the rule as a program: stages separated by \"|\", applied from left to right, each stage one of\n"
      "- map(x + c), map(x - c), map(x * k)" + std::string(tier == Tier::Basic ? "" : ", map(x % k), map(-x)") +
      ": change every element;\n";
  if (tier == Tier::Full)
    text += "- map(if even then E else x), map(if odd then E else x), where E is x + c, x * k or -x: change only "
            "the even (odd) elements;\n";
  text += "- filter(P): keep the elements for which P holds, where P is x > c, x < c, even or odd;\n"
          "- take(c), drop(c): keep the first c elements, or remove them;\n"
          "- reverse, sort (ascending)" +
          std::string(tier == Tier::Basic ? ";\n" : ", sort_desc (descending), unique (drop repeated values, keeping the first);\n");
  if (tier != Tier::Basic) text += "- append(c), prepend(c): add c at the end, or at the start;\n";
  text += "- last stage only, turning the list into a number: sum, length" +
          std::string(tier == Tier::Basic ? "" : ", max, min, head (the first element), last, count(P)") + ";\n";
  text += "where " + c + " and " + k + ".";
  return text;
}

// ---- the identifiability search -----------------------------------------------------------------

namespace {

// One layer of the breadth-first search: distinct tuples (flat values of every input, concatenated)
// with how many programs reach each, in an open-addressing table.
class Layer {
 public:
  void clear() {
    used_ = 0;
    records_.clear();
    std::fill(table_.begin(), table_.end(), 0u);
  }
  // Room for one more tuple of `values` values at the arena's end (good until the next tail()).
  int32_t* tail(int values) {
    const size_t need = used_ + static_cast<size_t>(values) * kFlatCapacity;
    if (need > capacity_) {
      const size_t bigger = std::max(need, capacity_ * 2);
      std::unique_ptr<int32_t[]> grown(new int32_t[bigger]);
      if (used_) std::memcpy(grown.get(), arena_.get(), used_ * sizeof(int32_t));
      arena_ = std::move(grown);
      capacity_ = bigger;
    }
    return arena_.get() + used_;
  }
  // Adds the tuple just written at tail() (`size` int32s), or adds `count` to its twin.
  void insert(size_t size, uint64_t count) {
    const size_t at = used_;
    const int32_t* t = arena_.get() + at;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < size; ++i) h = (h ^ static_cast<uint32_t>(t[i])) * 0xff51afd7ed558ccdull, h ^= h >> 29;
    if (records_.size() * 2 + 2 > table_.size()) grow();
    const size_t mask = table_.size() - 1;
    for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
      const uint32_t r = table_[slot];
      if (r == 0) {
        table_[slot] = static_cast<uint32_t>(records_.size() + 1);
        records_.push_back({at, size, count, h});
        used_ = at + size;
        return;
      }
      Record& rec = records_[r - 1];
      if (rec.hash == h && rec.size == size && std::memcmp(arena_.get() + rec.offset, t, size * sizeof(int32_t)) == 0) {
        rec.count += count;
        return;
      }
    }
  }
  size_t size() const { return records_.size(); }
  const int32_t* tuple(size_t i) const { return arena_.get() + records_[i].offset; }
  uint64_t count(size_t i) const { return records_[i].count; }

 private:
  struct Record {
    size_t offset, size;
    uint64_t count, hash;
  };
  void grow() {
    std::vector<uint32_t> bigger(std::max<size_t>(64, table_.size() * 2), 0u);
    const size_t mask = bigger.size() - 1;
    for (size_t i = 0; i < records_.size(); ++i) {
      size_t slot = records_[i].hash & mask;
      while (bigger[slot]) slot = (slot + 1) & mask;
      bigger[slot] = static_cast<uint32_t>(i + 1);
    }
    table_.swap(bigger);
  }
  std::unique_ptr<int32_t[]> arena_;
  size_t used_ = 0, capacity_ = 0;
  std::vector<Record> records_;
  std::vector<uint32_t> table_;
};

// What the fitting programs do on the extra inputs: agreement per input, distinct behaviours.
class FitRecorder {
 public:
  FitRecorder(int extras, SearchResult& result) : extras_(extras), result_(result) {
    result_.determined.assign(extras, 0);
  }
  // `count` programs of `stages` stages fit the examples; `outputs` are their extras' flat values.
  void record(uint64_t count, int stages, const int32_t* outputs) {
    result_.fitting_programs += count;
    if (result_.shortest == 0) result_.shortest = stages;
    std::vector<int32_t> tuple;
    const int32_t* v = outputs;
    for (int j = 0; j < extras_; ++j) v += flat_size(v);
    tuple.assign(outputs, v);
    if (seen_.empty()) {
      reference_ = tuple;
      const int32_t* r = reference_.data();
      for (int j = 0; j < extras_; ++j, r += flat_size(r)) result_.determined[j] = r[0] != kUndefinedTag;
    } else {
      const int32_t* r = reference_.data();
      const int32_t* o = tuple.data();
      for (int j = 0; j < extras_; ++j, r += flat_size(r), o += flat_size(o))
        if (!flat_equal(r, o)) result_.determined[j] = 0;
    }
    if (std::find(seen_.begin(), seen_.end(), tuple) == seen_.end()) {
      seen_.push_back(std::move(tuple));
      result_.fitting_behaviours = seen_.size();
    }
  }

 private:
  int extras_;
  SearchResult& result_;
  std::vector<int32_t> reference_;
  std::vector<std::vector<int32_t>> seen_;
};

}  // namespace

SearchResult search(const PrimitiveSet& set, int depth, const std::vector<std::vector<int32_t>>& example_inputs,
                    const std::vector<Value>& example_outputs, const std::vector<std::vector<int32_t>>& extra_inputs) {
  SearchResult result;
  const int k = static_cast<int>(example_inputs.size());
  const int values = k + static_cast<int>(extra_inputs.size());
  FitRecorder fits(static_cast<int>(extra_inputs.size()), result);
  if (k == 0 || example_outputs.size() != example_inputs.size()) return result;
  const bool want_number = example_outputs[0].type == Value::Type::Number;
  std::vector<int32_t> targets;
  for (const Value& v : example_outputs) write_flat(v, targets);

  thread_local Layer layers[2];
  Layer* current = &layers[0];
  Layer* next = &layers[1];
  current->clear();
  {
    std::vector<int32_t> root;
    for (const auto& in : example_inputs) write_flat(Value::list(in), root);
    for (const auto& in : extra_inputs) write_flat(Value::list(in), root);
    std::copy(root.begin(), root.end(), current->tail(values));
    current->insert(root.size(), 1);
  }
  std::vector<const int32_t*> parts(values);
  std::vector<int32_t> scratch(static_cast<size_t>(values) * kFlatCapacity);
  // Whether the first k values at `v` equal the targets; `end` gets where the k-th one ends.
  auto examples_fit = [&](const int32_t* v, const int32_t** end) {
    const int32_t* t = targets.data();
    for (int e = 0; e < k; ++e) {
      if (!flat_equal(v, t)) return false;
      t += flat_size(t), v += flat_size(v);
    }
    *end = v;
    return true;
  };
  for (int stages = 1; stages <= depth; ++stages) {
    next->clear();
    result.states += current->size();
    for (size_t i = 0; i < current->size(); ++i) {
      const int32_t* v = current->tuple(i);
      for (int p = 0; p < values; ++p) parts[p] = v, v += flat_size(v);
      const uint64_t count = current->count(i);
      if (stages < depth) {  // every list stage: the whole tuple, kept for the next layer
        for (const Stage& g : set.lists) {
          int32_t* out = next->tail(values);
          int32_t* w = out;
          bool dead = false;
          for (int p = 0; p < values && !dead; ++p) {
            int32_t* start = w;
            w += apply_flat(g, parts[p], w);
            dead = p < k && start[0] == kUndefinedTag;
          }
          if (dead) continue;  // undefined on an example: no extension can fit it
          const int32_t* extras = nullptr;
          if (!want_number && examples_fit(out, &extras)) fits.record(count, stages, extras);
          next->insert(static_cast<size_t>(w - out), count);
        }
      }
      // the last stage of a program: only the examples first, the extras when they fit
      if (want_number || stages == depth) {
        const auto& finals = want_number ? set.numbers : set.lists;
        for (const Stage& g : finals) {
          const int32_t* t = targets.data();
          bool fit = true;
          for (int e = 0; e < k && fit; ++e, t += flat_size(t)) {
            apply_flat(g, parts[e], scratch.data());
            fit = flat_equal(scratch.data(), t);
          }
          if (!fit) continue;
          int32_t* w = scratch.data();
          for (int p = k; p < values; ++p) w += apply_flat(g, parts[p], w);
          fits.record(count, stages, scratch.data());
        }
      }
    }
    std::swap(current, next);
  }
  return result;
}

}  // namespace verity::listdsl
