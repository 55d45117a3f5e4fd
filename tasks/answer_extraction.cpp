#include "tasks/answer_extraction.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace verity {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Every complete <answer>...</answer> pair, in order. `nested` is set when a pair encloses another
// opening tag ("<answer><answer>X</answer></answer>"): lenient answer parsers (role lists, grids)
// would read X through the junk, so nesting is refused outright.
std::vector<std::pair<size_t, size_t>> answer_tags(const std::string& lowered, bool& nested) {
  std::vector<std::pair<size_t, size_t>> spans;  // [content begin, content end)
  size_t at = 0;
  while (true) {
    const size_t open = lowered.find("<answer>", at);
    if (open == std::string::npos) break;
    const size_t close = lowered.find("</answer>", open + 8);
    if (close == std::string::npos) break;
    const size_t inner_open = lowered.find("<answer>", open + 8);
    if (inner_open != std::string::npos && inner_open < close) {
      // "<answer>draft <answer>X</answer>": nested only when the inner pair is itself enclosed.
      const size_t next_close = lowered.find("</answer>", close + 9);
      const size_t next_open = lowered.find("<answer>", close + 9);
      if (next_close != std::string::npos && (next_open == std::string::npos || next_close < next_open)) {
        nested = true;
        return spans;
      }
      at = inner_open;
      continue;
    }
    spans.emplace_back(open + 8, close);
    at = close + 9;
  }
  return spans;
}

// Every \boxed{...} with balanced braces, in order.
std::vector<std::pair<size_t, size_t>> boxed_spans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t at = 0;
  while (true) {
    const size_t start = text.find("\\boxed{", at);
    if (start == std::string_view::npos) break;
    int depth = 1;
    size_t i = start + 7;
    for (; i < text.size() && depth > 0; ++i) {
      if (text[i] == '{') ++depth;
      if (text[i] == '}') --depth;
    }
    if (depth != 0) break;  // unbalanced: no later box can close either
    spans.emplace_back(start + 7, i - 1);
    at = i;
  }
  return spans;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

// The answer of an "Answer: ..." / "Final answer = ..." line, if `line` is one. No allocation.
std::optional<std::string_view> answer_of_line(std::string_view line) {
  line = trim(line);
  while (!line.empty() && (line.front() == '*' || line.front() == '#')) line.remove_prefix(1);
  if (line.empty() || (lower(line.front()) != 'a' && lower(line.front()) != 'f')) return std::nullopt;
  if (starts_with_ci(line, "final answer")) line.remove_prefix(6);
  if (!starts_with_ci(line, "answer")) return std::nullopt;
  line.remove_prefix(6);
  while (!line.empty() && (line.front() == '*' || line.front() == ' ')) line.remove_prefix(1);
  if (line.empty() || (line.front() != ':' && line.front() != '=')) return std::nullopt;
  line.remove_prefix(1);
  while (!line.empty() && (line.front() == '*' || is_space(line.front()))) line.remove_prefix(1);
  return trim(line);
}

// What two answers are compared by: normalised, a surrounding \boxed{} or \text{} unwrapped.
std::string comparable(std::string_view answer) {
  std::string s = normalize_answer(answer);
  for (const char* wrap : {"\\boxed{", "\\text{"})
    if (s.rfind(wrap, 0) == 0 && !s.empty() && s.back() == '}') s = normalize_answer(s.substr(std::string(wrap).size(), s.size() - std::string(wrap).size() - 1));
  return s;
}

}  // namespace

size_t invalid_utf8_at(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else return i;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= text.size()) return i;
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

bool is_valid_utf8(std::string_view text) { return invalid_utf8_at(text) == std::string_view::npos; }

Extraction extract_answer(std::string_view completion, size_t cap) {
  Extraction out;
  if (completion.size() > cap) {
    out.reason = "completion is " + std::to_string(completion.size()) + " bytes, over the " +
                 std::to_string(cap) + "-byte limit";
    return out;
  }
  if (completion.find('\0') != std::string_view::npos) {
    out.reason = "completion contains NUL bytes";
    return out;
  }
  if (!is_valid_utf8(completion)) {
    out.reason = "completion is not valid UTF-8";
    return out;
  }
  const std::string lowered = to_lower(completion);
  // Every answer the completion states: answer tags, boxes outside them, "Answer:" lines outside them.
  // One reading: they must all agree; the preferred one (tags, then boxes, then a last-line "Answer:")
  // is the answer.
  bool nested = false;
  const auto tags = answer_tags(lowered, nested);
  if (nested) {
    out.method = "answer_tag";
    out.reason = "nested <answer> tags";
    return out;
  }
  auto inside_tag = [&](size_t pos) {  // tags are in order and disjoint: binary search
    auto it = std::upper_bound(tags.begin(), tags.end(), pos,
                               [](size_t p, const std::pair<size_t, size_t>& t) { return p < t.first - 8; });
    if (it == tags.begin()) return false;
    --it;
    return pos < it->second + 9;
  };
  std::vector<std::string_view> stated;
  for (const auto& [b, e] : tags) stated.push_back(trim(completion.substr(b, e - b)));
  std::vector<std::string_view> boxes;
  for (const auto& [b, e] : boxed_spans(completion))
    if (!inside_tag(b)) boxes.push_back(trim(completion.substr(b, e - b)));
  std::vector<std::string_view> lines;
  bool last_line_answers = false;
  for (size_t start = 0; start < completion.size();) {
    size_t nl = completion.find('\n', start);
    if (nl == std::string_view::npos) nl = completion.size();
    const std::string_view line = completion.substr(start, nl - start);
    if (!trim(line).empty()) last_line_answers = false;
    if (auto a = answer_of_line(line);
        a && !inside_tag(start) && std::string_view(lowered).substr(start, nl - start).find("<answer>") == std::string_view::npos) {
      lines.push_back(*a);
      last_line_answers = true;
    }
    start = nl + 1;
  }
  if (!tags.empty()) {
    out.found = true, out.method = "answer_tag", out.answer = std::string(stated.back());
  } else if (!boxes.empty()) {
    out.found = true, out.method = "boxed", out.answer = std::string(boxes.back());
  } else if (last_line_answers) {
    out.found = true, out.method = "answer_line", out.answer = std::string(lines.back());
  }
  if (out.found) {
    // Every other statement of an answer (an earlier "Answer:" draft included) must say the same.
    stated.insert(stated.end(), boxes.begin(), boxes.end());
    stated.insert(stated.end(), lines.begin(), lines.end());
    const std::string reading = stated.size() > 1 ? comparable(out.answer) : std::string();
    for (std::string_view other : stated) {
      if (stated.size() == 1) break;  // one statement: nothing to disagree with
      if (comparable(other) == reading) continue;
      out.found = false;
      out.answer.clear();
      out.reason = "conflicting answers: '" + std::string(other.substr(0, 60)) + "' and '" +
                   std::string(reading.substr(0, 60)) + "'";
      return out;
    }
  }
  if (!out.found) {
    out.reason = "no answer found: expected <answer>...</answer>, \\boxed{...} or a last line 'Answer: ...'";
  } else if (out.answer.size() > kMaxAnswerBytes) {
    out.found = false;
    out.reason = "answer is longer than " + std::to_string(kMaxAnswerBytes) + " bytes";
    out.answer.clear();
  } else if (out.answer.empty()) {
    out.found = false;
    if (out.reason.empty()) out.reason = "the answer (" + out.method + ") is empty";
  }
  return out;
}

std::string normalize_answer(std::string_view text) {
  std::string_view s = trim(text);
  auto strip = [](char c) { return c == '"' || c == '\'' || c == '*' || c == '`' || c == '.' || c == '!'; };
  while (!s.empty() && (strip(s.front()) || is_space(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (strip(s.back()) || is_space(s.back()))) s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(lower(c));
  }
  return out;
}

std::string answer_instruction(const std::string& what, const std::string& example) {
  // The one-answer rule (answers that disagree score 0, tasks/answer_extraction.h) in the fewest words:
  // every word lengthens every prompt a small model trains on. The longer "Give exactly one answer:
  // several answers that disagree score 0." slowed the demo's learning test from 1.00 / 0.95 / 0.98 to
  // 0.76 / 0.97 / 0.86 at 3,000 steps; "exactly one" in place of "your" adds one word (0.98 / 0.99 / 0.99).
  return "Answer with " + what + ". Put exactly one final answer inside answer tags, for example: <answer>" +
         example + "</answer>";
}

}  // namespace verity
