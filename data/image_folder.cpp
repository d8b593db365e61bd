#include "data/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/file_io.h"
#include "data/image_decode.h"
#include "data/transforms/random_resized_crop.h"

namespace selfsup::data {
namespace fs = std::filesystem;
namespace {

/// Supported image files under `dir`, recursively, sorted by (folder, file name) like
/// torchvision's sorted(os.walk(...)) with sorted(fnames).
std::vector<std::string> list_images(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const auto& p = it->path();
    if (is_supported_image_extension(p.filename().string())) found.emplace_back(p.parent_path().string(), p.filename().string());
  }
  if (ec) throw core::IoError("ImageFolder: cannot list " + dir.string() + " (" + ec.message() + ")");
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const auto& [folder, name] : found) out.push_back((fs::path(folder) / name).string());
  return out;
}

/// Width and height from the header; throws IoError naming the path when unreadable.
std::pair<std::int64_t, std::int64_t> read_header(const std::string& path) {
  const auto bytes = read_file(path, kMaxImageFileBytes);
  int w = 0, h = 0, c = 0;
  if (bytes.empty() || bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &c) == 0)
    throw core::IoError("ImageFolder: cannot read the image header of " + path + " (stb_image: " +
                        (bytes.empty() ? "empty file" : stbi_failure_reason()) + ")");
  return {h, w};
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, ImageFolderOptions options) : options_(options) {
  core::check(options.channels == 1 || options.channels == 3,
              "ImageFolder: channels must be 1 or 3, got " + std::to_string(options.channels));
  core::check(options.height >= 0 && options.width >= 0 && (options.height == 0) == (options.width == 0),
              "ImageFolder: height and width must both be positive or both be 0");
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw core::IoError("ImageFolder: root " + root + " is not a directory");
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) classes_.push_back(entry.path().filename().string());
  }
  if (ec) throw core::IoError("ImageFolder: cannot list " + root + " (" + ec.message() + ")");
  std::sort(classes_.begin(), classes_.end());
  if (classes_.empty()) throw core::IoError("ImageFolder: no class folders in " + root);
  height_ = options.height, width_ = options.width;
  for (std::size_t label = 0; label < classes_.size(); ++label) {
    const fs::path dir = fs::path(root) / classes_[label];
    const auto files = list_images(dir);
    std::int64_t kept = 0;
    for (const auto& file : files) {
      try {
        if (options.preload) {
          ByteImage image = load_image(file, options.channels);
          if (height_ == 0) height_ = image.height, width_ = image.width;
          images_.push_back(std::move(image));
        } else {
          const auto [h, w] = read_header(file);
          if (height_ == 0) height_ = h, width_ = w;
        }
      } catch (const core::IoError& e) {
        if (!options.skip_corrupt) throw;
        skipped_.push_back(file + ": " + e.what());
        continue;
      }
      paths_.push_back(file);
      labels_.push_back(static_cast<std::int64_t>(label));
      ++kept;
    }
    if (kept == 0)
      throw core::IoError("ImageFolder: class folder " + dir.string() + " has no " + (files.empty() ? "" : "readable ") +
                          "images (supported extensions: .png .jpg .jpeg .bmp" +
                          (files.empty() ? std::string(")") : "; " + std::to_string(files.size()) + " skipped as corrupt)"));
  }
}

const std::string& ImageFolder::path(std::int64_t index) const {
  check_index("ImageFolder::path", index, size());
  return paths_[static_cast<std::size_t>(index)];
}

std::int64_t ImageFolder::label(std::int64_t index) const {
  check_index("ImageFolder::label", index, size());
  return labels_[static_cast<std::size_t>(index)];
}

Sample ImageFolder::get(std::int64_t index) const {
  check_index("ImageFolder::get", index, size());
  const auto i = static_cast<std::size_t>(index);
  Image image = options_.preload ? to_float(images_[i]) : to_float(load_image(paths_[i], options_.channels));
  if (image.height != height_ || image.width != width_) image = resize(std::move(image), height_, width_);
  return Sample{std::move(image), labels_[i]};
}

}  // namespace selfsup::data
