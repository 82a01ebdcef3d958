// Kernel interchange (src/kernel/formats.h): every format written and read
// back gives the same weights; the readers for files made by other tools
// (NumPy .npy of every dtype and order, libvips .mat with scale and
// offset) against matrices written out here.
#include "kernel/formats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace convcorr::kernel {
namespace {

namespace fs = std::filesystem;

class TempFile {
 public:
  explicit TempFile(const std::string& name, const std::string& bytes)
      : path_(fs::temp_directory_path() /
              ("convcorr-formats-" + std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempFile() { fs::remove(path_); }
  std::string spec() const { return "@" + path_.string(); }

 private:
  fs::path path_;
};

std::string SpecError(const std::string& spec) {
  try {
    ParseSpec(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(KernelFormats, EveryFormatReadsBackTheSameWeights) {
  const std::vector<std::string> specs = {
      "emboss",         "sobel-x",
      "gaussian:1.3,5", "1/3,-2.5e-7;7,1e300",
      "motion:7,30",    "3x2+0+1:1,2,3,4,5,6",
      "1,-1",           "box:4",
      "log:1.4"};
  for (const std::string& spec : specs) {
    const Kernel k = ParseSpec(spec);
    for (const KernelFormat f :
         {KernelFormat::kSpec, KernelFormat::kImageMagick, KernelFormat::kGmic,
          KernelFormat::kVips, KernelFormat::kCsv, KernelFormat::kNpy}) {
      SCOPED_TRACE(spec + " as format " + std::to_string(static_cast<int>(f)));
      const bool anchored =
          k.anchor_x() != k.cols() / 2 || k.anchor_y() != k.rows() / 2;
      if (anchored && f != KernelFormat::kImageMagick) {
        EXPECT_THROW(WriteKernel(k, f, spec), Error);
        continue;
      }
      const std::string text = WriteKernel(k, f, spec);
      const auto same = [&](const Kernel& back, const std::string& how) {
        SCOPED_TRACE(how);
        ASSERT_EQ(back.rows(), k.rows());
        ASSERT_EQ(back.cols(), k.cols());
        EXPECT_EQ(back.anchor_x(), k.anchor_x());
        EXPECT_EQ(back.anchor_y(), k.anchor_y());
        for (size_t i = 0; i < k.weights().size(); ++i) {
          // Exact, but for the .mat integer-scale form (w*s/s).
          EXPECT_NEAR(
              back.weights()[i], k.weights()[i],
              f == KernelFormat::kVips ? 1e-15 * std::abs(k.weights()[i]) : 0)
              << i;
        }
      };
      // What `kernel --to` writes reads back through -k @FILE: vips from a
      // file named .mat, NumPy by its name or its magic, CSV and the
      // one-line forms from any file.
      if (f == KernelFormat::kVips) {
        same(ParseSpec(TempFile("k.mat", text).spec()), "@k.mat");
      } else if (f == KernelFormat::kNpy) {
        same(ParseSpec(TempFile("k.npy", text).spec()), "@k.npy");
        same(ParseSpec(TempFile("k.bin", text).spec()), "@k.bin");
      } else if (f == KernelFormat::kCsv) {
        same(ParseSpec(TempFile("k.csv", text).spec()), "@k.csv");
      } else {
        same(ParseSpec(text), "inline");
        same(ParseSpec(TempFile("k.txt", text).spec()), "@k.txt");
        if (f == KernelFormat::kSpec) continue;  // there a line is a row
        // With a comment line and the one-line form broken over lines.
        std::string broken = "# written by convcorr\n" + text;
        for (size_t at = broken.find(','); at != std::string::npos;
             at = broken.find(',', at + 40)) {
          broken.insert(at + 1, "\n");
        }
        same(ParseSpec(TempFile("k2.txt", broken).spec()), "@k2.txt broken");
      }
    }
  }
}

TEST(KernelFormats, WrittenForms) {
  const Kernel emboss = ParseSpec("emboss");
  EXPECT_EQ(WriteKernel(emboss, KernelFormat::kImageMagick, "emboss"),
            "3x3+1+1: -2,-1,0,-1,1,1,0,1,2\n");
  EXPECT_EQ(WriteKernel(emboss, KernelFormat::kGmic, "emboss"),
            "(-2,-1,0;-1,1,1;0,1,2)\n");
  EXPECT_EQ(WriteKernel(emboss, KernelFormat::kCsv, "emboss"),
            "-2,-1,0\n-1,1,1\n0,1,2\n");
  EXPECT_EQ(WriteKernel(emboss, KernelFormat::kSpec, "emboss"),
            "-2,-1,0; -1,1,1; 0,1,2\n");
  // libvips: the smallest whole scale that makes the weights integers.
  EXPECT_EQ(WriteKernel(ParseSpec("box:3"), KernelFormat::kVips, "box:3"),
            "3 3 9 0\n1 1 1\n1 1 1\n1 1 1\n");
  EXPECT_EQ(WriteKernel(ParseSpec("1/16,2/16,1/16"), KernelFormat::kVips, "b"),
            "3 1 16 0\n1 2 1\n");
  // NumPy: magic, version 1.0, a header padded to 64 bytes, float64 LE.
  const std::string npy =
      WriteKernel(ParseSpec("1,-1"), KernelFormat::kNpy, "1,-1");
  ASSERT_EQ(npy.size() % 64, 16u);  // header to a multiple of 64, 2 doubles
  const size_t data = npy.size() - 16;
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(npy[8]) |
                                (static_cast<unsigned char>(npy[9]) << 8)),
            data - 10);
  EXPECT_NE(npy.find("'shape': (1, 2)"), std::string::npos);
  EXPECT_EQ(npy[data - 1], '\n');
  EXPECT_EQ(npy.substr(data, 8),
            std::string("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8));
}

TEST(KernelFormats, VipsMatScaleAndOffset) {
  const Kernel k = ParseSpec(
      TempFile("s.mat", "3 3 8 128\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n").spec());
  EXPECT_EQ(k.weights(), (std::vector<double>{-0.125, -0.125, -0.125, -0.125, 2,
                                              -0.125, -0.125, -0.125, -0.125}));
  EXPECT_EQ(k.offset(), 128);
  EXPECT_EQ(Rotate180(k).offset(), 128);
  EXPECT_EQ(WriteKernel(k, KernelFormat::kVips, "s"),
            "3 3 8 128\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n");
  EXPECT_THROW(WriteKernel(k, KernelFormat::kCsv, "s"), Error);
  const Kernel plain = ParseSpec(TempFile("p.mat", "2 1\n1\t-1\n").spec());
  EXPECT_EQ(plain.weights(), (std::vector<double>{1, -1}));
  EXPECT_EQ(plain.offset(), 0);
  for (const std::string& bad :
       {std::string("3 3 0 0\n1 1 1\n1 1 1\n1 1 1\n"),
        std::string("2 2\n1 1\n"), std::string("2 1\n1 1 1\n"),
        std::string("x 1\n1\n"), std::string(""),
        std::string("2000 1 1 0\n1\n")}) {
    SCOPED_TRACE(bad);
    const TempFile f("bad.mat", bad);
    EXPECT_EQ(SpecError(f.spec()).rfind("kernel spec '@", 0), 0u);
  }
}

// Little-endian helpers for hand-made .npy files.
std::string Npy(const std::string& descr, bool fortran,
                const std::string& shape, const std::string& data,
                int version = 1) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }\n";
  std::string out =
      std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
  const size_t n = header.size();
  out += static_cast<char>(n & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  if (version >= 2) out += std::string(2, '\0');
  return out + header + data;
}

TEST(KernelFormats, NpyOfEveryTypeAndOrder) {
  // int16 big-endian, shape (2, 3), C order: 1 2 3 / -4 5 6.
  const std::string be16 =
      std::string("\x00\x01\x00\x02\x00\x03\xff\xfc\x00\x05\x00\x06", 12);
  EXPECT_EQ(
      ParseSpec(TempFile("a.npy", Npy(">i2", false, "(2, 3)", be16)).spec())
          .weights(),
      (std::vector<double>{1, 2, 3, -4, 5, 6}));
  // The same matrix stored in Fortran order (columns first), float32 LE.
  std::string f32;
  for (float v : {1.f, -4.f, 2.f, 5.f, 3.f, 6.f}) {
    f32.append(reinterpret_cast<const char*>(&v), 4);
  }
  const Kernel fk =
      ParseSpec(TempFile("b.npy", Npy("<f4", true, "(2, 3)", f32)).spec());
  EXPECT_EQ(fk.rows(), 2);
  EXPECT_EQ(fk.weights(), (std::vector<double>{1, 2, 3, -4, 5, 6}));
  // 1-D uint8, version 2 header: a row.
  const Kernel u8 =
      ParseSpec(TempFile("c.npy", Npy("|u1", false, "(3,)",
                                      std::string("\x01\x02\xff", 3), 2))
                    .spec());
  EXPECT_EQ(u8.rows(), 1);
  EXPECT_EQ(u8.weights(), (std::vector<double>{1, 2, 255}));
  // Refused: 3-D, strings, short data, NaN, no magic.
  double nan = std::nan("");
  const std::vector<std::string> bad = {
      Npy("<f8", false, "(1, 1, 1)", std::string(8, '\0')),
      Npy("<U3", false, "(1,)", std::string(12, 'a')),
      Npy("<f8", false, "(2, 2)", std::string(8, '\0')),
      Npy("<f8", false, "(1,)",
          std::string(reinterpret_cast<const char*>(&nan), 8)),
      "not numpy at all",
      Npy("<f8", false, "(0, 3)", "")};
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    const TempFile f("bad" + std::to_string(i) + ".npy", bad[i]);
    const std::string message = SpecError(f.spec());
    EXPECT_EQ(message.rfind("kernel spec '@", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(KernelFormats, GmicMatrixInline) {
  EXPECT_EQ(ParseSpec("(1,2;3,4)").weights(),
            (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(ParseSpec(" ( 1 , -1 ) ").weights(), (std::vector<double>{1, -1}));
  EXPECT_EQ(SpecError("()").rfind("kernel spec '()': ", 0), 0u);
  EXPECT_EQ(KernelFormatFromName("im"), KernelFormat::kImageMagick);
  EXPECT_EQ(KernelFormatFromName("mat"), KernelFormat::kVips);
  EXPECT_FALSE(KernelFormatFromName("json"));
}

}  // namespace
}  // namespace convcorr::kernel
