#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::io {
namespace fs = std::filesystem;

namespace {
bool sync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}
fs::path folder_of(const fs::path& t) { return t.has_parent_path() ? t.parent_path() : fs::path("."); }
}  // namespace

AtomicFile::AtomicFile(std::string target, bool overwrite) : target_(std::move(target)) {
  if (target_.empty() || target_.back() == '/')
    throw InputError(fmt::format("output '{}': expected a file path such as out/recommendations.csv", target_));
  const fs::path t(target_), dir = folder_of(t);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{}: the folder {} does not exist", target_, dir.string()));
  if (fs::is_directory(t, ec)) throw InputError(fmt::format("{}: is a folder, expected a file path", target_));
  if (fs::exists(t, ec) && !overwrite)
    throw InputError(fmt::format("{}: already exists; pass --force to replace it", target_));
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{}: cannot write in {}: {}", target_, dir.string(), std::strerror(errno)));
  temp_ = (dir / fmt::format(".{}.tmp-{}", t.filename().string(), ::getpid())).string();
}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::commit() {
  if (!sync_path(temp_, false))
    throw std::runtime_error(fmt::format("cannot sync {} to disk: {}", temp_, std::strerror(errno)));
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", temp_, target_, std::strerror(errno)));
  committed_ = true;
  sync_path(folder_of(fs::path(target_)).string(), true);
}

}  // namespace driftrec::io
