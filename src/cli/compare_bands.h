// compare band by band: the two results of each band quantized and
// encoded, their difference summed into the statistics and kept as the
// signed difference (one float per pixel, in an unnamed temporary file
// beside the outputs: the heat map's colour range is known only once
// every row is in), the raw difference encoded; then the heat map drawn
// from that record and encoded (docs/cli.md, "Streaming").
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/image.h"
#include "core/pipeline.h"
#include "diff/diff.h"
#include "diff/rows.h"
#include "io/spill_file.h"

namespace convcorr::cli {

class CompareBands final : public core::PairSink {
 public:
  // Results of width x height x channels, written at `depth` to
  // `convolve` and `correlate`; their first `colour` channels are compared
  // (alpha, the last of 2 or 4, never is) and written as float
  // differences to `raw` when not null. The sinks must outlive the run.
  // The record of the difference goes to a temporary file in
  // `scratch_dir` (io::SpillFile).
  CompareBands(int width, int height, int channels, int colour,
               core::Depth depth, double threshold,
               const diff::DiffRange& range, core::RowSink& convolve,
               core::RowSink& correlate, core::RowSink* raw,
               const std::filesystem::path& scratch_dir);

  void Rows(const core::ImageView& correlate, const core::ImageView& convolve,
            int y0, int y1) override;
  void Finish() override;

  // After the run: the statistics, with the heat map's range chosen.
  diff::DiffStats Stats(double peak);
  // The heat map of the recorded difference on [-range, range], to
  // `heat` (8-bit B, G, R rows).
  void WriteHeatMap(core::RowSink& heat, double range);

  uint64_t convolve_saturated() const { return saturated_[0]; }
  uint64_t correlate_saturated() const { return saturated_[1]; }

 private:
  // The rows of one output being made: the band of interleaved samples,
  // and QuantizeInterleave's scratch.
  struct EmitBuffers {
    std::vector<std::byte> band;
    std::vector<std::byte> scratch;
  };
  // Rows [y0, y1) of `v` quantized to depth_ and interleaved into `buf`,
  // then written to `sink`.
  uint64_t Emit(const core::ImageView& v, int y0, int y1, core::RowSink& sink,
                EmitBuffers& buf) const;

  int width_, height_, channels_, colour_;
  core::Depth depth_;
  diff::DiffRange range_choice_;
  core::RowSink& convolve_;
  core::RowSink& correlate_;
  core::RowSink* raw_;
  diff::DiffAccumulator stats_;
  diff::RangeChooser range_;
  // Rows [y0, y0 + rows) of the record into record_band_.
  void ReadRecord(int y0, int rows);

  io::SpillFile record_;  // the signed difference: width x height floats
  std::vector<float> record_band_;  // rows of it, written or read back
  std::vector<float> raw_band_;     // rows of the raw difference
  EmitBuffers emit_[2];             // convolve's, correlate's
  uint64_t saturated_[2] = {0, 0};
};

}  // namespace convcorr::cli
