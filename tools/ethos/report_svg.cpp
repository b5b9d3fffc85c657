#include "report_svg.hpp"

#include <algorithm>
#include <cstdio>

#include <ethos/base/time.hpp>

namespace ethos::cli {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A round step for an axis from 0 to `max` in about five ticks.
uint64_t tick_step(uint64_t max) {
  uint64_t step = 1;
  while (max / step > 5) {
    if (max / (step * 2) <= 5) return step * 2;
    if (max / (step * 5) <= 5) return step * 5;
    step *= 10;
  }
  return step;
}

}  // namespace

std::string svg_time_lines(const std::vector<int64_t>& times, const std::vector<TimeSeries>& series,
                           const std::string& title) {
  constexpr double kW = 760, kH = 260, kLeft = 56, kRight = 16, kTop = 34, kBottom = 40;
  uint64_t max = 1;
  for (const auto& s : series)
    for (uint64_t v : s.values) max = std::max(max, v);
  uint64_t step = tick_step(max);
  max = (max + step - 1) / step * step;
  double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  int64_t t0 = times.empty() ? 0 : times.front(), t1 = times.empty() ? 1 : times.back();
  auto x = [&](int64_t t) {
    return kLeft +
           (t1 == t0 ? pw / 2 : pw * static_cast<double>(t - t0) / static_cast<double>(t1 - t0));
  };
  auto y = [&](uint64_t v) {
    return kTop + ph - ph * static_cast<double>(v) / static_cast<double>(max);
  };
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    num(kW) + " " + num(kH) + "\" role=\"img\" aria-label=\"" + html_escape(title) +
                    "\">";
  out +=
      "<text x=\"" + num(kLeft) + "\" y=\"18\" class=\"title\">" + html_escape(title) + "</text>";
  for (uint64_t v = 0; v <= max; v += step) {
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" + num(y(v)) +
           "\" y2=\"" + num(y(v)) + "\" class=\"grid\"/>";
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y(v) + 4) + "\" class=\"tick\" " +
           "text-anchor=\"end\">" + std::to_string(v) + "</text>";
  }
  if (!times.empty()) {
    size_t labels = std::min<size_t>(times.size(), 6);
    for (size_t k = 0; k < labels; ++k) {
      size_t i = labels == 1 ? 0 : k * (times.size() - 1) / (labels - 1);
      out += "<text x=\"" + num(x(times[i])) + "\" y=\"" + num(kH - kBottom + 18) +
             "\" class=\"tick\" text-anchor=\"middle\">" +
             html_escape(format_timestamp(times[i]).substr(0, 10)) + "</text>";
    }
  }
  double legend_x = kW - kRight;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    legend_x -= 90;
    out += "<rect x=\"" + num(legend_x) + "\" y=\"10\" width=\"10\" height=\"10\" fill=\"" +
           it->colour + "\"/><text x=\"" + num(legend_x + 14) + "\" y=\"19\" class=\"tick\">" +
           html_escape(it->name) + "</text>";
  }
  for (const auto& s : series) {
    std::string points;
    for (size_t i = 0; i < s.values.size() && i < times.size(); ++i)
      points += num(x(times[i])) + "," + num(y(s.values[i])) + " ";
    out += "<polyline fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"2\" points=\"" +
           points + "\"/>";
    if (s.values.size() == 1)
      out += "<circle cx=\"" + num(x(times[0])) + "\" cy=\"" + num(y(s.values[0])) +
             "\" r=\"4\" fill=\"" + s.colour + "\"/>";
  }
  out += "</svg>";
  return out;
}

std::string svg_rank_bars(const std::vector<std::pair<std::string, uint64_t>>& rows,
                          const std::string& colour, const std::string& title) {
  constexpr double kW = 760, kLabel = 330, kRow = 22, kTop = 30;
  double h = kTop + kRow * static_cast<double>(std::max<size_t>(rows.size(), 1)) + 10;
  uint64_t max = 1;
  for (const auto& r : rows) max = std::max(max, r.second);
  double pw = kW - kLabel - 70;
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    num(kW) + " " + num(h) + "\" role=\"img\" aria-label=\"" + html_escape(title) +
                    "\">";
  out += "<text x=\"0\" y=\"18\" class=\"title\">" + html_escape(title) + "</text>";
  if (rows.empty()) out += "<text x=\"0\" y=\"" + num(kTop + 14) + "\" class=\"tick\">none</text>";
  double yy = kTop;
  // About 50 characters fit left of the bars: keep a long id's end, where its name is.
  auto fitted = [](const std::string& label) {
    constexpr size_t kMax = 50;
    return label.size() <= kMax ? label : "\u2026" + label.substr(label.size() - (kMax - 1));
  };
  for (const auto& [label, v] : rows) {
    double w = pw * static_cast<double>(v) / static_cast<double>(max);
    out += "<text x=\"" + num(kLabel - 8) + "\" y=\"" + num(yy + 15) +
           "\" class=\"tick\" text-anchor=\"end\"><title>" + html_escape(label) + "</title>" +
           html_escape(fitted(label)) + "</text>";
    out += "<rect x=\"" + num(kLabel) + "\" y=\"" + num(yy + 3) + "\" width=\"" +
           num(std::max(w, 1.0)) + "\" height=\"" + num(kRow - 6) + "\" fill=\"" + colour + "\"/>";
    out += "<text x=\"" + num(kLabel + w + 6) + "\" y=\"" + num(yy + 15) + "\" class=\"tick\">" +
           std::to_string(v) + "</text>";
    yy += kRow;
  }
  out += "</svg>";
  return out;
}

}  // namespace ethos::cli
