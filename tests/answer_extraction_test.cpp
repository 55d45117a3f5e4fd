#include "tasks/answer_extraction.h"

#include <gtest/gtest.h>

using verity::extract_answer;
using verity::normalize_answer;

TEST(AnswerExtraction, PrefersLastAnswerTag) {
  auto e = extract_answer("draft <answer>No</answer> then <ANSWER> Yes </Answer> done");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.answer, "Yes");
  EXPECT_EQ(e.method, "answer_tag");
}

TEST(AnswerExtraction, NestedTagsAreRefused) {
  auto e = extract_answer("<answer><answer>No</answer></answer>");
  EXPECT_FALSE(e.found);
  EXPECT_EQ(e.reason, "nested <answer> tags");
  // Sequential pairs are not nesting: the last one counts.
  EXPECT_EQ(extract_answer("<answer>No</answer> <answer>Yes</answer>").answer, "Yes");
  EXPECT_EQ(extract_answer("</answer> stray <answer>Yes</answer>").answer, "Yes");
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
