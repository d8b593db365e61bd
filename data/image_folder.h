// ImageFolder: root/<class>/**/<file>.{png,jpg,jpeg,bmp} (torchvision ImageFolder convention).
// Classes are the sorted sub-directory names (byte order = Python's sorted on str for UTF-8), the
// label is the index in that order, files are walked recursively and sorted within each folder.
// Images are decoded with our hardened stb_image build and converted to RGB (3) or PIL-style
// grayscale (1). Images whose size differs from the dataset size (given, or that of the first
// image) are resized bilinearly (antialias off) when fetched. Other extensions (tif, webp, ppm,
// ...) are ignored: stb cannot decode them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace selfsup::data {

struct ImageFolderOptions {
  int channels = 3;             // 3 = RGB, 1 = grayscale
  std::int64_t height = 0;      // 0: use the first image's height
  std::int64_t width = 0;       // 0: use the first image's width
  bool skip_corrupt = false;    // skip undecodable files (count in num_skipped()) instead of throwing
  bool preload = true;          // decode everything up front (else decode in get(); headers still checked)
};

class ImageFolder : public Dataset {
 public:
  /// Throws IoError for a missing root, a root without class folders, a class folder without
  /// supported images, or (unless skip_corrupt) an unreadable or corrupt image, naming the path.
  ImageFolder(const std::string& root, ImageFolderOptions options = {});
  std::int64_t size() const override { return static_cast<std::int64_t>(paths_.size()); }
  Sample get(std::int64_t index) const override;
  std::int64_t num_classes() const override { return static_cast<std::int64_t>(classes_.size()); }
  std::vector<std::string> class_names() const override { return classes_; }
  std::int64_t label(std::int64_t index) const override;

  const std::string& path(std::int64_t index) const;
  /// Files skipped as corrupt, each "path: reason".
  const std::vector<std::string>& skipped() const { return skipped_; }
  std::int64_t num_skipped() const { return static_cast<std::int64_t>(skipped_.size()); }
  std::int64_t height() const { return height_; }
  std::int64_t width() const { return width_; }

 private:
  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<std::string> paths_;
  std::vector<std::int64_t> labels_;
  std::vector<ByteImage> images_;  // when preloaded
  std::vector<std::string> skipped_;
  std::int64_t height_ = 0, width_ = 0;
};

}  // namespace selfsup::data
