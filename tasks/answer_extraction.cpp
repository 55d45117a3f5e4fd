#include "tasks/answer_extraction.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

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

bool from_answer_tag(std::string_view text, const std::string& lowered, Extraction& out) {
  const size_t close = lowered.rfind("</answer>");
  if (close == std::string::npos) return false;
  const size_t open = lowered.rfind("<answer>", close);
  if (open == std::string::npos) return false;
  out.method = "answer_tag";
  // "<answer><answer>X</answer></answer>": the pair found encloses another closing tag. Lenient
  // answer parsers (role lists, grids) would read X through the junk, so nesting is refused outright.
  if (lowered.find("</answer>", open) != close) {
    out.reason = "nested <answer> tags";
    return true;  // found, but with no answer: the caller reports the reason
  }
  out.answer = std::string(trim(text.substr(open + 8, close - open - 8)));
  return true;
}

bool from_boxed(std::string_view text, Extraction& out) {
  const size_t start = text.rfind("\\boxed{");
  if (start == std::string_view::npos) return false;
  int depth = 1;
  size_t i = start + 7;
  for (; i < text.size() && depth > 0; ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}') --depth;
  }
  if (depth != 0) return false;
  out.answer = std::string(trim(text.substr(start + 7, i - 1 - (start + 7))));
  out.method = "boxed";
  return true;
}

bool from_answer_line(std::string_view text, Extraction& out) {
  // Only the last non-empty line counts: an "Answer:" earlier is a draft, not the answer.
  std::string_view rest = trim(text);
  const size_t nl = rest.find_last_of('\n');
  std::string_view line = trim(nl == std::string_view::npos ? rest : rest.substr(nl + 1));
  while (!line.empty() && (line.front() == '*' || line.front() == '#')) line.remove_prefix(1);
  std::string head = to_lower(line.substr(0, std::min<size_t>(line.size(), 16)));
  if (head.rfind("final answer", 0) == 0) line.remove_prefix(6), head = head.substr(6);
  if (head.rfind("answer", 0) != 0) return false;
  line.remove_prefix(6);
  while (!line.empty() && (line.front() == '*' || line.front() == ' ')) line.remove_prefix(1);
  if (line.empty() || (line.front() != ':' && line.front() != '=')) return false;
  line.remove_prefix(1);
  while (!line.empty() && (line.front() == '*' || is_space(line.front()))) line.remove_prefix(1);
  out.answer = std::string(trim(line));
  out.method = "answer_line";
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; code = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; code = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; code = c & 0x07; }
    else return false;
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    static const uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Extraction extract_answer(std::string_view completion) {
  Extraction out;
  if (completion.size() > kMaxCompletionBytes) {
    out.reason = "completion is " + std::to_string(completion.size()) + " bytes, over the " +
                 std::to_string(kMaxCompletionBytes) + "-byte limit";
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
  out.found = from_answer_tag(completion, lowered, out) || from_boxed(completion, out) ||
              from_answer_line(completion, out);
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
  return "Answer with " + what + ". Put your final answer inside answer tags, for example: <answer>" + example +
         "</answer>";
}

}  // namespace verity
