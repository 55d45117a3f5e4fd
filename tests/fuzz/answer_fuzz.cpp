// libFuzzer target: answer extraction, normalisation and the formula parser on arbitrary bytes.
// Built and run for a bounded time by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "solvers/logic.h"
#include "tasks/answer_extraction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const verity::Extraction e = verity::extract_answer(text);
  if (e.found && e.answer.size() > verity::kMaxAnswerBytes) __builtin_trap();
  const std::string normal = verity::normalize_answer(e.found ? e.answer : text.substr(0, 4096));
  if (normal.size() > size) __builtin_trap();  // normalising never grows the text
  static const std::vector<std::string> names = {"A", "B", "C", "D", "E", "F"};
  const auto parsed = verity::logic::parse(text, names);
  if (parsed.formula) {
    // Whatever parses must print and re-parse to the same formula.
    const std::string printed = verity::logic::to_symbolic(*parsed.formula, names);
    const auto again = verity::logic::parse(printed, names);
    if (!again.formula || verity::logic::to_symbolic(*again.formula, names) != printed) __builtin_trap();
  } else if (parsed.error.empty()) {
    __builtin_trap();
  }
  return 0;
}
