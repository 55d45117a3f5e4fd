#include "reports/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "tasks/answer_extraction.h"
#include "tasks/dataset.h"

namespace verity {
namespace {

// Answers that decline to answer; honest-deduction families expect them on unanswerable tasks.
bool is_abstention(const std::string& answer) {
  const std::string a = normalize_answer(answer);
  return a == "cannot be determined" || a == "unknown" || a == "undetermined" || a == "no unique solution" ||
         a == "not enough information";
}

std::string fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

std::string interval_text(const ReportRow& r) {
  return "[" + fixed(r.accuracy_low) + ", " + fixed(r.accuracy_high) + "]";
}

}  // namespace

std::pair<double, double> wilson_interval(uint64_t correct, uint64_t n) {
  if (n == 0) return {0, 0};
  const double z = 1.959963984540054, p = static_cast<double>(correct) / n, nn = static_cast<double>(n);
  const double denominator = 1 + z * z / nn;
  const double centre = (p + z * z / (2 * nn)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denominator;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::vector<ReportRow> report_rows(const ScoreReport& report) {
  struct Sums { uint64_t n = 0, correct = 0, format_errors = 0, abstained = 0, with_steps = 0; double reward = 0, process = 0; };
  std::map<std::pair<std::string, int>, Sums> sums;
  for (const auto& s : report.scores) {
    Sums& t = sums[{s.family(), s.level()}];
    ++t.n;
    t.correct += s.correct();
    t.reward += s.reward();
    t.format_errors += !s.format_ok();
    t.abstained += is_abstention(s.extracted_answer());
    if (s.steps_required() > 0) {  // a family with a process score: a completion without steps counts as 0
      ++t.with_steps;
      t.process += process_reward(s);
    }
  }
  std::vector<ReportRow> rows;
  for (const auto& [key, t] : sums) {
    ReportRow r;
    r.family = key.first;
    r.level = key.second;
    r.n = t.n;
    r.accuracy = static_cast<double>(t.correct) / t.n;
    std::tie(r.accuracy_low, r.accuracy_high) = wilson_interval(t.correct, t.n);
    r.mean_reward = t.reward / t.n;
    r.format_error_rate = static_cast<double>(t.format_errors) / t.n;
    r.abstention_rate = static_cast<double>(t.abstained) / t.n;
    if (t.with_steps) r.mean_process = t.process / t.with_steps;
    rows.push_back(r);
  }
  return rows;
}

std::string line_chart_svg(const std::vector<ChartSeries>& series,
                           const std::vector<std::pair<double, std::string>>& x_ticks, const std::string& x_label,
                           const std::string& title, const std::string& y_label) {
  const double width = 640, height = 360, left = 64, right = 170, top = title.empty() ? 20 : 36, bottom = 40;
  double x_min = 0, x_max = 1;
  if (!x_ticks.empty()) {
    x_min = x_max = x_ticks.front().first;
    for (const auto& t : x_ticks) x_min = std::min(x_min, t.first), x_max = std::max(x_max, t.first);
  }
  const double span = x_max > x_min ? x_max - x_min : 1;
  auto x = [&](double v) { return left + (width - left - right) * ((v - x_min) / span); };
  auto y = [&](double accuracy) { return top + (height - top - bottom) * (1 - accuracy); };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(width, 0) + "\" height=\"" +
                    fixed(height, 0) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!title.empty())
    svg += "<text x=\"" + fixed((left + width - right) / 2, 1) + "\" y=\"18\" text-anchor=\"middle\">" + title +
           "</text>\n";
  for (int tick = 0; tick <= 4; ++tick) {  // accuracy grid
    const double a = tick / 4.0;
    svg += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(y(a), 1) + "\" x2=\"" + fixed(width - right, 1) +
           "\" y2=\"" + fixed(y(a), 1) + "\" stroke=\"#ddd\"/><text x=\"" + fixed(left - 8, 1) + "\" y=\"" +
           fixed(y(a) + 4, 1) + "\" text-anchor=\"end\">" + fixed(a, 2) + "</text>\n";
  }
  for (const auto& [value, label] : x_ticks)
    svg += "<text x=\"" + fixed(x(value), 1) + "\" y=\"" + fixed(height - bottom + 16, 1) +
           "\" text-anchor=\"middle\">" + label + "</text>\n";
  svg += "<text x=\"" + fixed((left + width - right) / 2, 1) + "\" y=\"" + fixed(height - 6, 1) +
         "\" text-anchor=\"middle\">" + x_label + "</text>\n";
  const double y_mid = (top + height - bottom) / 2;
  svg += "<text x=\"14\" y=\"" + fixed(y_mid, 1) + "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
         fixed(y_mid, 1) + ")\">" + y_label + "</text>\n";
  int index = 0;
  for (const auto& s : series) {
    const char* colour = kColours[index % 8];
    std::string line;
    for (const auto& [px, py] : s.points) line += fixed(x(px), 1) + "," + fixed(y(py), 1) + " ";
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\" points=\"" + line + "\"/>\n";
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto [px, py] = s.points[i];
      if (i < s.intervals.size()) {  // error bar with caps
        const double cx = x(px), lo = y(s.intervals[i].first), hi = y(s.intervals[i].second);
        svg += "<path d=\"M" + fixed(cx, 1) + " " + fixed(lo, 1) + "V" + fixed(hi, 1) + "M" + fixed(cx - 4, 1) + " " +
               fixed(lo, 1) + "h8M" + fixed(cx - 4, 1) + " " + fixed(hi, 1) + "h8\" stroke=\"" + colour +
               "\" stroke-opacity=\"0.6\" fill=\"none\"/>\n";
      }
      svg += "<circle cx=\"" + fixed(x(px), 1) + "\" cy=\"" + fixed(y(py), 1) + "\" r=\"3\" fill=\"" + colour +
             "\"/>\n";
    }
    svg += "<text x=\"" + fixed(width - right + 10, 1) + "\" y=\"" + fixed(top + 16 * index + 4, 1) + "\" fill=\"" +
           colour + "\">" + s.name + "</text>\n";
    ++index;
  }
  return svg + "</svg>\n";
}

std::string difficulty_curve_svg(const std::vector<ReportRow>& rows) {
  int max_level = 1;
  for (const auto& r : rows) max_level = std::max(max_level, r.level);
  std::vector<std::pair<double, std::string>> ticks;
  for (int level = 0; level <= max_level; ++level)
    ticks.emplace_back(level, level ? std::to_string(level) : std::string("custom"));
  std::map<std::string, ChartSeries> by_family;
  for (const auto& r : rows) {
    by_family[r.family].name = r.family;
    by_family[r.family].points.emplace_back(r.level, r.accuracy);
    by_family[r.family].intervals.emplace_back(r.accuracy_low, r.accuracy_high);
  }
  std::vector<ChartSeries> series;
  for (auto& [family, s] : by_family) series.push_back(std::move(s));
  return line_chart_svg(series, ticks, "level (custom = knobs only)",
                        "Accuracy by family and level (bars: 95% Wilson intervals)", "accuracy (fraction correct)");
}

std::string markdown_report(const std::vector<ReportRow>& rows, const std::string& svg_file) {
  std::string md = "# Verity score report\n\n| family | level | n | accuracy | mean reward | format errors | "
                   "abstentions | mean process reward | accuracy 95% CI |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    md += "| " + r.family + " | " + (r.level ? std::to_string(r.level) : std::string("custom")) + " | " +
          std::to_string(r.n) + " | " + fixed(r.accuracy) + " | " + fixed(r.mean_reward) + " | " +
          fixed(r.format_error_rate) + " | " + fixed(r.abstention_rate) + " | " +
          (r.mean_process < 0 ? std::string("-") : fixed(r.mean_process)) + " | " + interval_text(r) + " |\n";
  if (!svg_file.empty())
    md += "\n## Difficulty curve\n\nAccuracy (fraction correct) against level, one line per family; bars are 95% "
          "Wilson score intervals.\n\n![accuracy against level](" + svg_file + ")\n";
  return md;
}

std::string html_report(const std::vector<ReportRow>& rows) {
  std::string html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Verity score report</title>"
                     "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                     "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>\n"
                     "<h1>Verity score report</h1>\n<table><tr><th>family</th><th>level</th><th>n</th><th>accuracy</th>"
                     "<th>mean reward</th><th>format errors</th><th>abstentions</th><th>mean process reward</th>"
                     "<th>accuracy 95% CI</th></tr>\n";
  for (const auto& r : rows)
    html += "<tr><td>" + r.family + "</td><td>" + (r.level ? std::to_string(r.level) : std::string("custom")) +
            "</td><td>" + std::to_string(r.n) + "</td><td>" + fixed(r.accuracy) + "</td><td>" + fixed(r.mean_reward) +
            "</td><td>" + fixed(r.format_error_rate) + "</td><td>" + fixed(r.abstention_rate) + "</td><td>" +
            (r.mean_process < 0 ? std::string("-") : fixed(r.mean_process)) + "</td><td>" + interval_text(r) +
            "</td></tr>\n";
  return html + "</table>\n<h2>Difficulty curve</h2>\n" + difficulty_curve_svg(rows) + "</body></html>\n";
}

void write_report(const ScoreReport& report, const std::string& path) {
  const auto rows = report_rows(report);
  const std::filesystem::path p(path);
  if (p.extension() == ".html" || p.extension() == ".htm") {
    write_file_atomically(path, html_report(rows));
    return;
  }
  if (p.extension() != ".md")
    throw std::invalid_argument("--report " + path + ": use a .md (Markdown + SVG chart) or .html file name");
  std::filesystem::path svg = p;
  svg.replace_extension(".svg");
  write_file_atomically(svg.string(), difficulty_curve_svg(rows));
  write_file_atomically(path, markdown_report(rows, svg.filename().string()));
}

}  // namespace verity
