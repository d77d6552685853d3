// Shared by the libFuzzer harnesses: the readers under test take paths, so each input is
// written to a scratch file of this process (in $TMPDIR, removed at exit) and read back
// through the same call the CLI makes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace driftrec::fuzz {

// A scratch directory of this process, removed when the process exits normally; `name`
// inside it is where inputs are written.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("driftrec-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

inline std::string write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness cannot do its job; never report a pass
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace driftrec::fuzz
