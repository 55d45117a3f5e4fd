#include "reports/report.h"

#include <gtest/gtest.h>

namespace {

using namespace verity;

pb::Score make_score(const std::string& family, int level, bool correct, bool format_ok, const std::string& answer,
                     int steps_checked = 0, int steps_valid = 0, int steps_required = 0, double process = 0) {
  pb::Score s;
  s.set_family(family);
  s.set_level(level);
  s.set_correct(correct);
  s.set_reward(correct ? 1.0 : 0.0);
  s.set_format_ok(format_ok);
  s.set_extracted_answer(answer);
  s.set_steps_checked(steps_checked);
  s.set_steps_valid(steps_valid);
  s.set_steps_required(steps_required);
  s.set_process(process);
  return s;
}

TEST(Report, RowsCountAccuracyFormatAbstentionAndProcess) {
  ScoreReport report;
  report.scores = {make_score("a", 1, true, true, "Yes"), make_score("a", 1, false, false, ""),
                   make_score("a", 1, false, true, "Cannot be determined."), make_score("a", 1, true, true, "No"),
                   // the process score, not the share of valid steps: 2 of 2 valid steps covering 1 of 4
                   // required results is 0.25; a completion with no steps is 0
                   make_score("b", 2, true, true, "4", 2, 2, 4, 0.25), make_score("b", 2, false, true, "5", 0, 0, 4, 0.0),
                   make_score("b", 5, false, true, "unknown")};
  const auto rows = report_rows(report);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].family, "a");
  EXPECT_EQ(rows[0].n, 4u);
  EXPECT_DOUBLE_EQ(rows[0].accuracy, 0.5);
  EXPECT_DOUBLE_EQ(rows[0].format_error_rate, 0.25);
  EXPECT_DOUBLE_EQ(rows[0].abstention_rate, 0.25);
  EXPECT_LT(rows[0].mean_process, 0);  // a family without a process score
  EXPECT_DOUBLE_EQ(rows[1].mean_process, (0.25 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(rows[2].abstention_rate, 1.0);

  const std::string svg = difficulty_curve_svg(rows);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 2u);  // one line per family
  const std::string md = markdown_report(rows, "r.svg");
  EXPECT_NE(md.find("| a | 1 | 4 | 0.500 | 0.500 | 0.250 | 0.250 | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("| b | 2 | 2 | 0.500 | 0.500 | 0.000 | 0.000 | 0.125 |"), std::string::npos) << md;
  EXPECT_NE(html_report(rows).find("<svg"), std::string::npos);  // self-contained page
}

}  // namespace
