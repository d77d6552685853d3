// An output file that appears whole or not at all: it is written under a temporary name
// beside the target (same folder, so the rename stays on one file system) and renamed
// onto the target by commit() after its bytes reach the disk. Destroyed uncommitted (an
// exception, a refused argument), it removes the temporary file and leaves the target as
// it was. For outputs that are not stores (`driftrec export`); stores use StoreWriter.
#pragma once
#include <string>
#include <vector>

namespace driftrec::io {

class AtomicFile {
 public:
  // Checks the target before anything is written, by the rules stores follow
  // (io/write_guard.hpp): InputError when its folder is missing or not writable, when it is
  // a folder, a device, FIFO or socket, when it is one of `inputs`, or when it exists and
  // overwrite is false. A symbolic link is followed: its target is replaced.
  AtomicFile(std::string target, bool overwrite, const std::vector<std::string>& inputs = {});
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& target() const { return target_; }
  // Where to write; nothing is created there until the caller opens it.
  const std::string& temp_path() const { return temp_; }
  // Syncs the temporary file (closed by the caller) and renames it onto the target.
  // std::runtime_error when a step fails; the target is then untouched.
  void commit();

 private:
  std::string target_, temp_;
  bool committed_ = false;
};

}  // namespace driftrec::io
