// Kernel interchange (formats.h): writing a kernel in each format, and the
// .npy and libvips .mat readers behind ParseSpec's @FILE.
#include "kernel/formats.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/kernel.h"
#include "kernel/text.h"

namespace convcorr::kernel {

namespace {

using internal::Printable;
using internal::ThrowSpecError;

// Shortest form that reads back to the same double.
std::string Number(double v) {
  if (v == 0) return "0";  // also -0
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string Rows(const Kernel& k, std::string_view value_sep,
                 std::string_view row_sep) {
  std::string out;
  for (int r = 0; r < k.rows(); ++r) {
    if (r > 0) out += row_sep;
    for (int c = 0; c < k.cols(); ++c) {
      if (c > 0) out += value_sep;
      out += Number(k.at(r, c));
    }
  }
  return out;
}

const char* Name(KernelFormat f) {
  switch (f) {
    case KernelFormat::kSpec:
      return "spec";
    case KernelFormat::kImageMagick:
      return "imagemagick";
    case KernelFormat::kGmic:
      return "gmic";
    case KernelFormat::kVips:
      return "vips";
    case KernelFormat::kCsv:
      return "csv";
    case KernelFormat::kNpy:
      return "npy";
  }
  return "?";
}

// The smallest whole scale (up to 65536) that makes every weight an
// integer that gives the weight back when divided by it (to within the
// last bits of a double), as libvips .mat files usually carry them; 1 if
// there is none.
double IntegerScale(const Kernel& k) {
  // At most about 2^26 weight checks: a 1025 x 1025 kernel that no scale
  // fits gives up early instead of taking minutes.
  int64_t budget = int64_t{1} << 26;
  for (int s = 1; s <= 65536; ++s) {
    bool all = true;
    for (double w : k.weights()) {
      if (--budget < 0) return 1;
      const double v = std::round(w * s);
      if (std::abs(v) > 1e15 ||
          std::abs(v / s - w) >
              4 * std::numeric_limits<double>::epsilon() * std::abs(w)) {
        all = false;
        break;
      }
    }
    if (all) return s;
  }
  return 1;
}

std::string Npy(const Kernel& k) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" +
                       std::to_string(k.rows()) + ", " +
                       std::to_string(k.cols()) + "), }";
  // Magic (6), version (2), header length (2), header: a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (double w : k.weights()) {
    uint64_t bits = std::bit_cast<uint64_t>(w);
    for (int i = 0; i < 8; ++i)
      out += static_cast<char>((bits >> (8 * i)) & 0xFF);
  }
  return out;
}

}  // namespace

std::optional<KernelFormat> KernelFormatFromName(std::string_view name) {
  for (const KernelFormatName& n : kKernelFormatNames) {
    if (n.name == name) return n.format;
  }
  return std::nullopt;
}

std::string WriteKernel(const Kernel& k, KernelFormat format,
                        std::string_view spec) {
  const bool default_anchor =
      k.anchor_x() == k.cols() / 2 && k.anchor_y() == k.rows() / 2;
  if (!default_anchor && format != KernelFormat::kImageMagick) {
    throw Error(ErrorKind::kUsage,
                "kernel '" + Printable(spec) + "': its anchor " +
                    std::to_string(k.anchor_x()) + "," +
                    std::to_string(k.anchor_y()) + " is not the centre, and " +
                    Name(format) +
                    " has no anchor: use --to imagemagick, or give --anchor " +
                    std::to_string(k.anchor_x()) + "," +
                    std::to_string(k.anchor_y()) + " when filtering");
  }
  if (k.offset() != 0 && format != KernelFormat::kVips) {
    throw Error(ErrorKind::kUsage, "kernel '" + Printable(spec) +
                                       "': its offset " + Number(k.offset()) +
                                       " cannot be written as " + Name(format) +
                                       ": use --to vips, or --bias " +
                                       Number(k.offset()) + " when filtering");
  }
  switch (format) {
    case KernelFormat::kSpec:
      return Rows(k, ",", "; ") + "\n";
    case KernelFormat::kImageMagick:
      return std::to_string(k.cols()) + "x" + std::to_string(k.rows()) + "+" +
             std::to_string(k.anchor_x()) + "+" + std::to_string(k.anchor_y()) +
             ": " + Rows(k, ",", ",") + "\n";
    case KernelFormat::kGmic:
      return "(" + Rows(k, ",", ";") + ")\n";
    case KernelFormat::kCsv:
      return Rows(k, ",", "\n") + "\n";
    case KernelFormat::kVips: {
      const double scale = IntegerScale(k);
      std::string out = std::to_string(k.cols()) + " " +
                        std::to_string(k.rows()) + " " + Number(scale) + " " +
                        Number(k.offset()) + "\n";
      for (int r = 0; r < k.rows(); ++r) {
        for (int c = 0; c < k.cols(); ++c) {
          if (c > 0) out += ' ';
          const double v = k.at(r, c) * scale;
          out += Number(scale == 1 ? v : std::round(v));
        }
        out += '\n';
      }
      return out;
    }
    case KernelFormat::kNpy:
      return Npy(k);
  }
  return {};
}

namespace internal {

namespace {

Kernel FromValues(std::string_view spec, int rows, int cols,
                  std::vector<double> w) {
  for (double v : w) {
    if (!std::isfinite(v))
      ThrowSpecError(spec, "weights must be finite numbers");
  }
  CheckAbsSumFinite(spec, w);
  return Kernel(rows, cols, std::move(w));
}

}  // namespace

Kernel ReadNpy(std::string_view spec, std::string_view path,
               std::string_view b) {
  const auto bad = [&](const std::string& why) {
    ThrowSpecError(spec,
                   "file " + Quoted(path) + " is not a NumPy kernel: " + why);
  };
  if (b.size() < 10 || b.substr(0, 6) != "\x93NUMPY") bad("no .npy magic");
  const unsigned major = static_cast<unsigned char>(b[6]);
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) |
                 (static_cast<unsigned char>(b[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) {
      header_len |= size_t{static_cast<unsigned char>(b[8 + i])} << (8 * i);
    }
    offset = 12;
  } else {
    bad("unknown .npy version " + std::to_string(major));
  }
  if (header_len > b.size() - offset) bad("truncated header");
  const std::string_view header = b.substr(offset, header_len);
  const std::string_view data = b.substr(offset + header_len);
  // descr, fortran_order and shape from the header's Python dict.
  const auto field = [&](std::string_view key) -> std::string_view {
    const size_t k = header.find("'" + std::string(key) + "'");
    if (k == std::string_view::npos)
      bad("no '" + std::string(key) + "' in the header");
    size_t v = header.find(':', k);
    if (v == std::string_view::npos) bad("bad header");
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    size_t e = v;
    if (e < header.size() && header[e] == '(') {
      e = header.find(')', e);
      if (e == std::string_view::npos) bad("bad shape");
      ++e;
    } else if (e < header.size() && header[e] == '\'') {
      e = header.find('\'', e + 1);
      if (e == std::string_view::npos) bad("bad descr");
      ++e;
    } else {
      while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
    }
    return header.substr(v, e - v);
  };
  std::string_view descr = field("descr");
  if (descr.size() < 4 || descr.front() != '\'' || descr.back() != '\'') {
    bad("bad descr");
  }
  descr = descr.substr(1, descr.size() - 2);  // quotes
  const bool fortran = field("fortran_order") == "True";
  const std::string_view shape_text = field("shape");
  if (shape_text.size() < 2 || shape_text.front() != '(' ||
      shape_text.back() != ')') {
    bad("bad shape '" + Printable(shape_text) + "'");
  }
  std::vector<int64_t> shape;
  {
    std::string_view s = shape_text.substr(1, shape_text.size() - 2);
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
      if (i == s.size()) break;
      int64_t v = 0;
      const auto [p, ec] =
          std::from_chars(s.data() + i, s.data() + s.size(), v);
      if (ec != std::errc()) bad("bad shape " + Printable(shape_text));
      shape.push_back(v);
      i = static_cast<size_t>(p - s.data());
    }
  }
  int64_t rows = 1;
  int64_t cols = 1;
  if (shape.size() == 1) {
    cols = shape[0];
  } else if (shape.size() == 2) {
    rows = shape[0];
    cols = shape[1];
  } else {
    bad("shape " + Printable(shape_text) + " is not 1-D or 2-D");
  }
  if (rows < 1 || cols < 1 || rows > kMaxKernelSide || cols > kMaxKernelSide) {
    ThrowSpecError(
        spec, "file " + Quoted(path) + " has shape " + Printable(shape_text) +
                  ": each side must be 1 to " + std::to_string(kMaxKernelSide));
  }
  // Type: byte order, kind, size.
  const char order = descr[0];
  const char kind = descr[1];
  int size = 0;
  std::from_chars(descr.data() + 2, descr.data() + descr.size(), size);
  const bool known = (kind == 'f' && (size == 4 || size == 8)) ||
                     ((kind == 'i' || kind == 'u') &&
                      (size == 1 || size == 2 || size == 4 || size == 8));
  if (!known ||
      (order != '<' && order != '>' && order != '|' && order != '=')) {
    bad("element type '" + Printable(descr) + "' (float or integer expected)");
  }
  const size_t n = static_cast<size_t>(rows * cols);
  if (data.size() < n * size) bad("the data is shorter than its shape");
  const bool swap = order == '>';
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits = 0;
    for (int j = 0; j < size; ++j) {
      const uint64_t byte = static_cast<unsigned char>(
          data[i * size + (swap ? size - 1 - j : j)]);
      bits |= byte << (8 * j);
    }
    double v = 0;
    if (kind == 'f') {
      v = size == 8 ? std::bit_cast<double>(bits)
                    : double{std::bit_cast<float>(static_cast<uint32_t>(bits))};
    } else if (kind == 'u') {
      v = static_cast<double>(bits);
    } else {
      const int shift = 64 - 8 * size;
      v = static_cast<double>(static_cast<int64_t>(bits << shift) >> shift);
    }
    // Fortran order stores columns first.
    const size_t r = fortran ? i % rows : i / cols;
    const size_t c = fortran ? i / rows : i % cols;
    w[r * cols + c] = v;
  }
  return FromValues(spec, static_cast<int>(rows), static_cast<int>(cols),
                    std::move(w));
}

Kernel ReadVipsMat(std::string_view spec, std::string_view path,
                   std::string_view text) {
  // Whitespace- (or comma-) separated numbers, line by line.
  std::vector<std::vector<double>> lines;
  size_t start = 0;
  int line_number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_number;
    std::string_view line = text.substr(start, end - start);
    std::vector<double> values;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' ||
                                 line[i] == ',' || line[i] == '\r'))
        ++i;
      if (i == line.size()) break;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' &&
             line[j] != ',' && line[j] != '\r')
        ++j;
      values.push_back(
          ParseNumberOrThrow(spec, "line " + std::to_string(line_number) + ": ",
                             line.substr(i, j - i)));
      i = j;
    }
    if (!values.empty()) lines.push_back(std::move(values));
    start = end + 1;
  }
  const std::string where = "file " + Quoted(path) + " (libvips matrix)";
  if (lines.empty()) ThrowSpecError(spec, where + " is empty");
  const std::vector<double>& head = lines[0];
  if (head.size() < 2 || head.size() > 4) {
    ThrowSpecError(
        spec,
        where + ": the first line must be 'WIDTH HEIGHT [SCALE [OFFSET]]'");
  }
  const double width = head[0];
  const double height = head[1];
  if (width != std::floor(width) || height != std::floor(height) || width < 1 ||
      height < 1 || width > kMaxKernelSide || height > kMaxKernelSide) {
    ThrowSpecError(
        spec, where + ": width and height must be whole numbers from 1 to " +
                  std::to_string(kMaxKernelSide));
  }
  const double scale = head.size() > 2 ? head[2] : 1.0;
  const double offset = head.size() > 3 ? head[3] : 0.0;
  if (scale == 0 || !std::isfinite(scale) || !std::isfinite(offset)) {
    ThrowSpecError(
        spec,
        where + ": the scale must be a non-zero number and the offset finite");
  }
  const int w = static_cast<int>(width);
  const int h = static_cast<int>(height);
  if (static_cast<int>(lines.size()) - 1 != h) {
    ThrowSpecError(spec, where + " says " + std::to_string(h) +
                             " rows but has " +
                             std::to_string(lines.size() - 1));
  }
  std::vector<double> weights;
  for (int r = 0; r < h; ++r) {
    if (static_cast<int>(lines[r + 1].size()) != w) {
      ThrowSpecError(spec, where + ": row " + std::to_string(r + 1) + " has " +
                               std::to_string(lines[r + 1].size()) +
                               " values, not " + std::to_string(w));
    }
    for (double v : lines[r + 1]) weights.push_back(v / scale);
  }
  return FromValues(spec, h, w, std::move(weights)).WithOffset(offset);
}

}  // namespace internal

}  // namespace convcorr::kernel
