#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/write_guard.hpp"

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

AtomicFile::AtomicFile(std::string target, bool overwrite, const std::vector<std::string>& inputs)
    : target_(std::move(target)) {
  if (target_.empty() || target_.back() == '/')
    throw InputError(fmt::format("output '{}': expected a file path such as out/recommendations.csv", target_));
  const std::string shown = target_;
  const OutputTarget resolved = resolve_output(shown);
  refuse_output_onto_input(resolved.path, inputs);
  target_ = resolved.path;
  const fs::path t(target_), dir = folder_of(t);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{}: the folder {} does not exist", shown, dir.string()));
  if (resolved.exists && !overwrite)
    throw InputError(fmt::format("{}: already exists; pass --force to replace it", shown));
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{}: cannot write in {}: {}", shown, dir.string(), std::strerror(errno)));
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
