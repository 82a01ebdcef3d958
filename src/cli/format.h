// Number and matrix formatting shared by the commands' text and JSON output.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel.h"

namespace convcorr::cli {

// Shortest text that reads back as the same float ("-1", "0.25"); -0 is "0".
std::string FormatFloat(float v);
// Shortest round-trip text of a double; -0 is "0".
std::string FormatDouble(double v);
// The float's shortest decimal as a JSON number (so 0.1f is 0.1, not
// 0.10000000149011612).
nlohmann::json FloatJson(float v);
// A double as JSON, null for inf/nan (JSON has neither).
nlohmann::json DoubleJson(double v);

// A message made one line: control characters (a newline in a file name
// or an option value) become '?', as ls shows them. Every error and note
// goes through it on its way to stderr.
std::string OneLine(std::string_view message);

// The kernel's rows, right-aligned columns, each line indented by `indent`.
std::string FormatMatrix(const kernel::Kernel& k, const std::string& indent);
// The kernel's weights as JSON rows.
nlohmann::json MatrixJson(const kernel::Kernel& k);

}  // namespace convcorr::cli
