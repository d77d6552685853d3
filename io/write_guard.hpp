// The rules every rewrite of a store follows besides writing the bytes (StoreWriter uses
// them; docs/store.md states them for users):
//  - the output path is resolved: a symbolic link is followed and its target replaced (the
//    link stays); anything that is not a regular file (device, FIFO, socket) is refused;
//  - an output that is one of the job's inputs (same device and inode) is refused;
//  - a store that is read-only for the user, or has no write bit at all (root's access()
//    ignores the mode), is not rewritten; the new file keeps the old one's mode and owner;
//  - writers of one store are serialised by a lock file `.<store>.lock` beside it, held
//    from before the job reads the store to the rename; a second writer waits, saying on
//    stderr which process it waits for;
//  - the temporary file `.<store>.tmp-<pid>` is removed on every failure, on SIGINT,
//    SIGTERM and SIGHUP (when the process has no handler of its own), and, if a process was
//    killed outright, by the next writer of the store once that pid is no longer alive.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace driftrec::io {

// What is at an output path before it is written.
struct OutputTarget {
  std::string shown;     // the path as given (for messages)
  std::string path;      // the file actually replaced: `shown`, or a symbolic link's target
  bool exists = false;   // a regular file is there
  mode_t mode = 0;       // its permission bits
  uid_t uid = 0;
  gid_t gid = 0;
};

// Resolves `shown` (a missing file is fine; a dangling link, a folder, a device, FIFO or
// socket are InputErrors naming the path).
OutputTarget resolve_output(const std::string& shown);

// InputError when the store at `t` may not be changed: the user cannot write it, or its
// mode has no write bit (so root too leaves a 0444 store alone).
void refuse_read_only(const OutputTarget& t);

// InputError when `output` is the same file (device and inode) as one of `inputs`.
void refuse_output_onto_input(const std::string& output, const std::vector<std::string>& inputs);

// "<dir>/.<name>.tmp-<pid>" for "<dir>/<name>".
std::string temp_path_for(const std::string& path, pid_t pid);
// The store a temporary file belongs to ("<dir>/<name>" for "<dir>/.<name>.tmp-<pid>"), or
// `path` itself.
std::string store_of_temp(const std::string& path);

// The message for a write that failed with `err` (errno) on `file` (a temporary file is
// named by its store): "no space left on device" for ENOSPC, EDQUOT and EFBIG (a file size
// limit), else strerror; empty when `err` is none of those.
std::string no_space_message(const std::string& file, int err);

// Holds the writer lock of one store and keeps its temporary file registered for removal
// on a signal; removes the temporary file (unless released after the rename) and the lock
// file when destroyed.
class WriteGuard {
 public:
  // Takes the lock of `path` (waiting, with one line on stderr, while another process
  // holds it), then removes temporary files of `path` left by processes that are gone.
  WriteGuard(const std::string& path, const std::string& shown, const std::string& temp);
  ~WriteGuard();
  WriteGuard(const WriteGuard&) = delete;
  WriteGuard& operator=(const WriteGuard&) = delete;
  // The temporary file was renamed onto the store: nothing to remove any more.
  void renamed();

 private:
  std::string lock_path_, temp_;
  int lock_fd_ = -1;
  int slot_ = -1;
  bool renamed_ = false;
};

}  // namespace driftrec::io
