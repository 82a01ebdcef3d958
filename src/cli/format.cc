#include "cli/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace convcorr::cli {

std::string FormatFloat(float v) {
  if (v == 0.0f) return "0";
  return fmt::format("{}", v);
}

std::string FormatDouble(double v) {
  if (v == 0.0) return "0";
  return fmt::format("{}", v);
}

nlohmann::json FloatJson(float v) {
  if (!std::isfinite(v)) return nullptr;
  // The shortest decimal of the float, read back as a double.
  return std::strtod(FormatFloat(v).c_str(), nullptr);
}

nlohmann::json DoubleJson(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v == 0.0 ? 0.0 : v;
}

std::string FormatMatrix(const kernel::Kernel& k, const std::string& indent) {
  // Six significant digits keep Gaussian weights readable; exact values are
  // in --json.
  std::vector<std::string> cells;
  size_t width = 1;
  for (double w : k.weights()) {
    cells.push_back(w == 0.0 ? "0" : fmt::format("{:.6g}", w));
    width = std::max(width, cells.back().size());
  }
  std::string out;
  for (int r = 0; r < k.rows(); ++r) {
    out += indent;
    for (int c = 0; c < k.cols(); ++c) {
      if (c > 0) out += "  ";
      out += fmt::format("{:>{}}", cells[r * k.cols() + c], width);
    }
    out += '\n';
  }
  return out;
}

nlohmann::json MatrixJson(const kernel::Kernel& k) {
  nlohmann::json rows = nlohmann::json::array();
  for (int r = 0; r < k.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (int c = 0; c < k.cols(); ++c) row.push_back(DoubleJson(k.at(r, c)));
    rows.push_back(row);
  }
  return rows;
}

std::string OneLine(std::string_view message) {
  std::string out(message);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return out;
}

}  // namespace convcorr::cli
