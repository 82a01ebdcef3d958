// Extensions and formats (src/io/format.cc).
#include "io/format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/exif.h"
#include "io/files.h"
#include "io/image_io.h"
#include "io/image_test_util.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

// fs, the core types and the test helpers come with image_test.
using namespace image_test;  // NOLINT: the shared helpers

// --- Extensions ------------------------------------------------------------

TEST(FormatOf, Aliases) {
  for (const auto& [ext, format] :
       std::vector<std::pair<std::string, std::string>>{{"jpg", "jpeg"},
                                                        {"jpeg", "jpeg"},
                                                        {"jpe", "jpeg"},
                                                        {"tif", "tiff"},
                                                        {"tiff", "tiff"},
                                                        {"pbm", "pnm"},
                                                        {"pgm", "pnm"},
                                                        {"ppm", "pnm"},
                                                        {"pnm", "pnm"},
                                                        {"png", "png"},
                                                        {"pfm", "pfm"},
                                                        {"webp", "webp"},
                                                        {"bmp", "bmp"},
                                                        {"xyz", "xyz"},
                                                        {"", ""}}) {
    EXPECT_EQ(FormatOf(ext), format) << ext;
  }
}

TEST(ExtensionOf, LowercaseWithoutDot) {
  for (const auto& [path, ext] :
       std::vector<std::pair<std::string, std::string>>{
           {"a.png", "png"},
           {"A.PNG", "png"},
           {"dir/photo.JpEg", "jpeg"},
           {"/abs/dir.d/x.Tiff", "tiff"},
           {"./a.TIF", "tif"},
           {"archive.tar.gz", "gz"},
           {"noext", ""},
           {"dir.d/file", ""},
           {".bashrc", ""},
           {".hidden.png", "png"},
           {"dir/.hidden.JPG", "jpg"},
           {"file.", ""},
           {"..", ""},
           {"", ""}}) {
    EXPECT_EQ(ExtensionOf(path), ext) << "'" << path << "'";
  }
}

TEST(IsWritableExtension, DocumentedFormats) {
  for (const std::string ext : {"png", "jpg", "jpeg", "jpe", "tif", "tiff",
                                "bmp", "pgm", "ppm", "pnm", "pfm", "webp"}) {
    EXPECT_TRUE(IsWritableExtension(ext)) << ext;
  }
  // PBM is bilevel, so not written (docs/io.md); read-only formats neither.
  for (const std::string ext :
       {"pbm", "gif", "txt", "", "xyz", "png.", ".png", "dib", "pxm"}) {
    EXPECT_FALSE(IsWritableExtension(ext)) << ext;
  }
}

TEST(IsImageExtension, DocumentedList) {
  // docs/io.md: the extensions a directory input takes.
  for (const std::string ext :
       {"png", "jpg",  "jpeg", "jpe", "tif", "tiff", "bmp",
        "dib", "pbm",  "pgm",  "ppm", "pnm", "pam",  "pfm",
        "pxm", "webp", "sr",   "ras", "hdr", "pic"}) {
    EXPECT_TRUE(IsImageExtension(ext)) << ext;
  }
  // JPEG 2000 is recognised by its bytes only to be refused: a directory
  // scan does not take .jp2 files.
  for (const std::string ext :
       {"gif", "txt", "", "exr", "md", "json", "svg", "heic", "xyz", "jp2"}) {
    EXPECT_FALSE(IsImageExtension(ext)) << ext;
  }
}

}  // namespace
}  // namespace convcorr::io
