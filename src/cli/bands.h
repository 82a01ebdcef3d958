// A streaming run's two ends on the codecs: an opened image's rows as the
// engine's RowSource, and an encoder writing into a staged output file as
// its RowSink (core/pipeline.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/pipeline.h"
#include "io/atomic_write.h"
#include "io/codec.h"
#include "io/image_io.h"

namespace convcorr::cli {

// The rows of an opened image (io::RasterReader::Streams()).
class ReaderRows final : public core::RowSource {
 public:
  explicit ReaderRows(io::RasterReader& reader) : reader_(reader) {}
  void Read(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    reader_.ReadRows(dst, stride, rows);
  }
  void Finish() override { reader_.Finish(); }

 private:
  io::RasterReader& reader_;
};

// Bytes appended to a staged file: small writes gathered into writes of
// 256 KiB, large ones passed through.
class StagedSink final : public io::Sink {
 public:
  explicit StagedSink(io::StagedFile& file) : file_(file) {}
  void Write(const void* data, size_t n) override;
  bool Seekable() const override { return true; }
  void WriteAt(uint64_t offset, const void* data, size_t n) override;
  // Writes what is buffered.
  void Flush();
  // After the last write: what is buffered written and the file flushed
  // to disk in the background (io::StagedFile::StartSync).
  void Finish() {
    Flush();
    file_.StartSync();
  }

 private:
  io::StagedFile& file_;
  std::vector<uint8_t> buffer_;
};

// Rows encoded into a staged file as they come.
class EncoderRows final : public core::RowSink {
 public:
  EncoderRows(std::unique_ptr<io::Encoder> encoder, StagedSink& sink)
      : encoder_(std::move(encoder)), sink_(sink) {}
  void Write(const std::byte* src, std::ptrdiff_t stride, int rows) override {
    encoder_->WriteRows(src, stride, rows);
  }
  void Finish() override {
    encoder_->Finish();
    sink_.Finish();
  }

 private:
  std::unique_ptr<io::Encoder> encoder_;
  StagedSink& sink_;
};

}  // namespace convcorr::cli
