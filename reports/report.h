// `verity score --report`: accuracy per family x level, format-error and abstention rates, mean
// process reward, and a difficulty curve (accuracy against level, one line per family) as SVG.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "service/scoring.h"

namespace verity {

struct ReportRow {
  std::string family;
  int level = 0;
  uint64_t n = 0;
  double accuracy = 0, mean_reward = 0, format_error_rate = 0, abstention_rate = 0;
  double mean_process = -1;  // mean Score.process (service/scoring.h process_reward) over the scores of
                             // families with a process score, those without steps included; -1 = none
  double accuracy_low = 0, accuracy_high = 0;  // 95% Wilson score interval of the accuracy
};

// The 95% Wilson score interval of a proportion correct / n ({0, 0} when n = 0).
std::pair<double, double> wilson_interval(uint64_t correct, uint64_t n);

std::vector<ReportRow> report_rows(const ScoreReport& report);
// An SVG line chart of accuracy (0..1) against level, one polyline per family, with 95% intervals,
// a title and both axes labelled.
std::string difficulty_curve_svg(const std::vector<ReportRow>& rows);

// The chart behind difficulty_curve_svg, for any x: one polyline (with its legend entry) per series,
// points (x, accuracy in 0..1); the x axis spans the ticks' range and shows their labels. When a
// series has `intervals` (one (low, high) per point), each point gets an error bar.
struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;
  std::vector<std::pair<double, double>> intervals = {};
};
std::string line_chart_svg(const std::vector<ChartSeries>& series,
                           const std::vector<std::pair<double, std::string>>& x_ticks, const std::string& x_label,
                           const std::string& title = "", const std::string& y_label = "accuracy");
std::string markdown_report(const std::vector<ReportRow>& rows, const std::string& svg_file);
std::string html_report(const std::vector<ReportRow>& rows);
// Writes path (.md: Markdown plus path-with-.svg beside it; .html: one self-contained page).
void write_report(const ScoreReport& report, const std::string& path);

}  // namespace verity
