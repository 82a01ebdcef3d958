// EXIF blocks as photos carry them: a small TIFF structure (byte order,
// IFD0 with a link to the Exif IFD, IFD1 with the thumbnail). convcorr
// reads the orientation, writes it back as 1 once the pixels are upright,
// drops the thumbnail (it shows the unfiltered photo), and moves the text
// tags between EXIF and TIFF's own tags. Every offset is bounds-checked:
// EXIF comes from untrusted files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace convcorr::io {

// The Orientation tag (0x0112) of IFD0: 1 to 8; 0 when absent or invalid.
int ExifOrientation(std::span<const uint8_t> exif);

// The EXIF to write with a filtered image: the thumbnail (IFD1 and the data
// it points to) removed, and, if `reset_orientation`, Orientation set to 1.
// Empty if `exif` is not a readable TIFF structure.
std::vector<uint8_t> ExifForOutput(std::span<const uint8_t> exif,
                                   bool reset_orientation);

// An ASCII tag: where it lives (IFD0 or the Exif IFD), its number, its
// text (without the terminating NUL).
struct ExifText {
  bool exif_ifd = false;  // false: IFD0 (Make, Model, DateTime, ...)
  uint16_t tag = 0;
  std::string text;
};

// The ASCII tags of IFD0 and of the Exif IFD (e.g. Make 0x010F, Model
// 0x0110, DateTime 0x0132, DateTimeOriginal 0x9003).
std::vector<ExifText> ExifTexts(std::span<const uint8_t> exif);

// A little-endian EXIF block holding `texts` (IFD0, and an Exif IFD if any
// is in it); empty if `texts` is empty.
std::vector<uint8_t> MakeExif(const std::vector<ExifText>& texts);

}  // namespace convcorr::io
