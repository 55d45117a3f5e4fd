#include "tasks/answer_extraction.h"

#include <gtest/gtest.h>

#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

using verity::extract_answer;
using verity::normalize_answer;

TEST(AnswerExtraction, AgreeingTagsAreOneAnswer) {
  auto e = extract_answer("draft <answer>yes</answer> then <ANSWER> Yes. </Answer> done");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.answer, "Yes.");
  EXPECT_EQ(e.method, "answer_tag");
}

// Issue 14: several answers that disagree score 0 with reason "conflicting answers", for tags, boxes
// and Answer: lines alike, and across them.
TEST(AnswerExtraction, ConflictingAnswersAreNoAnswer) {
  for (const char* text :
       {"<answer>No</answer> or <answer>Yes</answer>", "draft <answer>No</answer> then <ANSWER> Yes </Answer> done",
        "\\boxed{3} or maybe \\boxed{4}", "Answer: 3\nAnswer: 4", "Answer: No\n<answer>Yes</answer>",
        "\\boxed{No} <answer>Yes</answer>", "<answer>Yes</answer>\nFinal answer: No"}) {
    auto e = extract_answer(text);
    EXPECT_FALSE(e.found) << text;
    EXPECT_EQ(e.reason.rfind("conflicting answers", 0), 0u) << text << ": " << e.reason;
  }
  // The same answer stated several ways is one reading.
  EXPECT_EQ(extract_answer("\\boxed{4}\nAnswer: 4").answer, "4");
  EXPECT_EQ(extract_answer("<answer>\\boxed{4}</answer> so \\boxed{4}").answer, "\\boxed{4}");
  EXPECT_EQ(extract_answer("Answer: <answer>Yes</answer>").answer, "Yes");
  EXPECT_EQ(extract_answer("<answer>Yes</answer>\nAnswer: yes.").answer, "Yes");
}

TEST(AnswerExtraction, InstructionShowsTheAnswerTags) {
  const std::string text = verity::answer_instruction("Yes or No", "Yes");
  EXPECT_NE(text.find("<answer>Yes</answer>"), std::string::npos);
}

// Issue 14: the one-answer rule is stated in every prompt that carries an answer instruction (all of
// them except the axiomatic paper's terse format, which has no instruction at all).
TEST(AnswerExtraction, EveryPromptStatesTheOneAnswerRule) {
  for (const auto& family : verity::all_families()) {
    for (int level = 1; level <= 10; ++level) {
      const verity::Knobs knobs = verity::resolve_knobs(family.generator, level, {});
      const auto format = knobs.values().find("format");
      if (format != knobs.values().end() && format->second == "axiomatic") continue;
      for (uint64_t i = 0; i < 5; ++i) {
        const auto task = verity::make_task(family.generator, knobs, level, 3, i);
        EXPECT_NE(task.prompt().find("Put exactly one final answer inside answer tags"), std::string::npos)
            << family.name() << " level " << level << ":\n" << task.prompt();
      }
    }
  }
}

TEST(AnswerExtraction, NestedTagsAreRefused) {
  auto e = extract_answer("<answer><answer>No</answer></answer>");
  EXPECT_FALSE(e.found);
  EXPECT_EQ(e.reason, "nested <answer> tags");
  // Sequential pairs are not nesting (but they must agree); a stray close or open tag is no answer.
  EXPECT_EQ(extract_answer("<answer>Yes</answer> <answer>yes</answer>").answer, "yes");
  EXPECT_EQ(extract_answer("</answer> stray <answer>Yes</answer>").answer, "Yes");
  EXPECT_EQ(extract_answer("<answer>draft <answer>Yes</answer>").answer, "Yes");
}

TEST(AnswerExtraction, BoxedWithNestedBraces) {
  auto e = extract_answer("so the value is \\boxed{\\frac{1}{2}} indeed");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.answer, "\\frac{1}{2}");
  EXPECT_EQ(e.method, "boxed");
}

TEST(AnswerExtraction, UnbalancedBoxedIsNotAnAnswer) {
  EXPECT_FALSE(extract_answer("\\boxed{yes").found);
}

TEST(AnswerExtraction, AnswerLineOnlyWhenLast) {
  auto e = extract_answer("thinking...\n**Answer:** Yes\n");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.answer, "Yes");
  EXPECT_EQ(e.method, "answer_line");
  EXPECT_FALSE(extract_answer("Answer: yes\nbut wait, maybe not").found);
  EXPECT_EQ(extract_answer("Answer: yes\nchecking again\nAnswer: Yes").answer, "Yes");
  auto f = extract_answer("Final answer: No");
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.answer, "No");
}

TEST(AnswerExtraction, RejectsOversizeEmptyAndBinary) {
  EXPECT_FALSE(extract_answer(std::string(verity::kMaxCompletionBytes + 1, 'a')).found);
  EXPECT_FALSE(extract_answer("<answer>   </answer>").found);
  EXPECT_FALSE(extract_answer(std::string("<answer>yes\0</answer>", 20)).found);
  EXPECT_FALSE(extract_answer("").found);
  auto e = extract_answer("no format here");
  EXPECT_FALSE(e.found);
  EXPECT_NE(e.reason.find("expected <answer>"), std::string::npos);
}

TEST(AnswerExtraction, RepeatedTagsOn64KiBStayFast) {
  std::string text;
  while (text.size() + 8 < verity::kMaxCompletionBytes) text += "<answer>";
  auto e = extract_answer(text);  // only opens: nothing to extract, and no blow-up
  EXPECT_FALSE(e.found);
  std::string braces = "\\boxed{";
  while (braces.size() + 1 < verity::kMaxCompletionBytes) braces += "{";
  EXPECT_FALSE(extract_answer(braces).found);
}

TEST(NormalizeAnswer, StripsDecorationAndCase) {
  EXPECT_EQ(normalize_answer("  **Yes.** "), "yes");
  EXPECT_EQ(normalize_answer("\"Cannot   be\n determined\""), "cannot be determined");
  EXPECT_EQ(normalize_answer(""), "");
}

TEST(AnswerExtraction, InvalidUtf8IsRejectedValidIsKept) {
  EXPECT_TRUE(verity::is_valid_utf8("plain ascii, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80"));
  for (const char* bad : {"\xff", "\xc3", "\xc0\xaf" /* overlong */, "\xed\xa0\x80" /* surrogate */,
                          "\xf4\x90\x80\x80" /* > U+10FFFF */, "\xe2\x82"}) {
    EXPECT_FALSE(verity::is_valid_utf8(bad)) << bad;
    auto e = extract_answer(std::string("<answer>Yes</answer>") + bad);
    EXPECT_FALSE(e.found);
    EXPECT_EQ(e.reason, "completion is not valid UTF-8");
  }
  EXPECT_TRUE(extract_answer("<answer>caf\xc3\xa9</answer>").found);
}

TEST(AnswerExtraction, ManyAnswerLinesAndTagsStayFast) {
  std::string lines, tags;
  while (lines.size() + 12 < verity::kMaxCompletionBytes) lines += "Answer: 7\n";
  EXPECT_EQ(extract_answer(lines).answer, "7");
  while (tags.size() + 40 < verity::kMaxCompletionBytes) tags += "<answer>7</answer>\nAnswer: 7\n";
  EXPECT_EQ(extract_answer(tags).answer, "7");
}
