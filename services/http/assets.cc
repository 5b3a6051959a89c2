#include "services/http/assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace annals::http {

absl::string_view ContentTypeOf(absl::string_view path) {
  struct Type {
    absl::string_view extension;
    absl::string_view content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
  };
  for (const Type& type : kTypes) {
    if (absl::EndsWith(path, type.extension)) return type.content_type;
  }
  return "text/plain; charset=utf-8";
}

std::optional<Asset> Assets::Find(absl::string_view path) const {
  if (path == "/") path = "/index.html";
  if (!absl::StartsWith(path, "/") || absl::StrContains(path, "..") ||
      absl::StrContains(path, "//") || absl::StrContains(path, "\\")) {
    return std::nullopt;
  }
  if (directory_.empty()) {
    for (size_t i = 0; i < kBuiltinAssetCount; ++i) {
      const BuiltinAsset& asset = kBuiltinAssets[i];
      if (path == asset.path) {
        return Asset{std::string(ContentTypeOf(path)),
                     std::string(reinterpret_cast<const char*>(asset.data),
                                 asset.size)};
      }
    }
    return std::nullopt;
  }
  const std::string file_path = absl::StrCat(directory_, path);
  std::error_code error;
  if (!std::filesystem::is_regular_file(file_path, error)) return std::nullopt;
  std::ifstream file(file_path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream body;
  body << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return Asset{std::string(ContentTypeOf(path)), std::move(body).str()};
}

}  // namespace annals::http
