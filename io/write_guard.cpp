// Path checks, the writer lock, and temporary-file removal for StoreWriter (rules in
// write_guard.hpp). The lock is flock(2) on `.<store>.lock`, not on the store: the store's
// inode is replaced by every commit, so a lock on it would guard a file nobody opens next.
// The lock file is unlinked before it is unlocked; a waiter that then gets the lock on an
// unlinked inode sees that the path no longer names it and starts over.
#include "io/write_guard.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::io {
namespace fs = std::filesystem;

namespace {

std::string folder_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

std::string name_of(const std::string& path) { return fs::path(path).filename().string(); }

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

// A file beside `path`: "<dir>/<name>", or "<name>" for a path without a folder.
std::string beside(const std::string& path, const std::string& name) {
  return (fs::path(path).parent_path() / name).string();
}

}  // namespace

OutputTarget resolve_output(const std::string& shown) {
  OutputTarget t;
  t.shown = t.path = shown;
  struct stat st {};
  if (::lstat(shown.c_str(), &st) != 0) return t;  // nothing there: a new file
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path real = fs::canonical(shown, ec);
    if (ec)
      throw InputError(fmt::format("{}: a symbolic link to a missing file; give the path of the file to write", shown));
    t.path = real.string();
    if (::stat(t.path.c_str(), &st) != 0)
      throw InputError(fmt::format("{}: cannot inspect {}: {}", shown, t.path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: is a folder, expected a file path", shown));
  if (!S_ISREG(st.st_mode))
    throw InputError(fmt::format("{}: not a regular file ({}); driftrec writes only regular files and will not "
                                 "replace it, even with --force",
                                 shown,
                                 S_ISFIFO(st.st_mode) ? "a FIFO"
                                 : S_ISSOCK(st.st_mode) ? "a socket"
                                 : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                              : "a special file"));
  t.exists = true;
  t.mode = st.st_mode & 07777;
  t.uid = st.st_uid;
  t.gid = st.st_gid;
  return t;
}

void refuse_read_only(const OutputTarget& t) {
  if (!t.exists) return;
  if (::access(t.path.c_str(), W_OK) != 0 || (t.mode & 0222) == 0)
    throw InputError(fmt::format("{}: the store is read-only (mode {:04o}, owner uid {}); make it writable "
                                 "(chmod u+w) to change it",
                                 t.shown, static_cast<unsigned>(t.mode), static_cast<unsigned>(t.uid)));
}

void refuse_output_onto_input(const std::string& output, const std::vector<std::string>& inputs) {
  struct stat out {};
  if (::stat(output.c_str(), &out) != 0) return;
  for (const std::string& in : inputs) {
    struct stat st {};
    if (!in.empty() && ::stat(in.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
      throw InputError(fmt::format("{}: is the input file {}; writing the store there would destroy the input "
                                   "(choose another output path)",
                                   output, in));
  }
}

std::string temp_path_for(const std::string& path, pid_t pid) {
  return beside(path, fmt::format(".{}.tmp-{}", name_of(path), pid));
}

std::string store_of_temp(const std::string& path) {
  const std::string name = name_of(path);
  const auto tmp = name.rfind(".tmp-");
  if (name.size() < 2 || name[0] != '.' || tmp == std::string::npos || tmp < 2) return path;
  const std::string pid = name.substr(tmp + 5);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return path;
  const std::string dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path().string() : "";
  return dir.empty() ? name.substr(1, tmp - 1) : join(dir, name.substr(1, tmp - 1));
}

std::string no_space_message(const std::string& file, int err) {
  const char* why = err == ENOSPC   ? "no space left on device"
                    : err == EDQUOT ? "no space left on device (disk quota exceeded)"
                    : err == EFBIG  ? "no space left on device (the file size limit was reached)"
                                    : nullptr;
  if (!why) return {};
  return fmt::format("{}: {}; the store is unchanged", store_of_temp(file), why);
}

// --- signals -----------------------------------------------------------------------
namespace {

// What the handler needs, in fixed storage: it may call only async-signal-safe functions.
struct Slot {
  std::atomic<bool> used{false};
  char temp[PATH_MAX + 1];
  char lock[PATH_MAX + 1];
  char message[PATH_MAX + 64];
  std::size_t message_len = 0;
};
constexpr int kSlots = 16;
std::array<Slot, kSlots> g_slots;
constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};
std::array<struct sigaction, 3> g_previous;
std::array<bool, 3> g_installed{};
int g_registered = 0;
std::mutex g_mutex;

extern "C" void driftrec_write_guard_on_signal(int sig) {
  const int saved = errno;
  for (Slot& s : g_slots) {
    if (!s.used.load()) continue;
    ::unlink(s.temp);
    ::unlink(s.lock);
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, s.message, s.message_len);
  }
  // Die of the signal as if it had not been caught (the parent sees the real cause).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::raise(sig);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  errno = saved;
}

void copy_bounded(char* dst, std::size_t cap, const std::string& src) {
  const std::size_t n = std::min(src.size(), cap - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Registers a write; installs the handler for the signals the process leaves at their
// default (a host with its own handler, Python's SIGINT say, keeps it: the writer's
// destructor then removes the file when that handler's exception unwinds the stack).
int register_write(const std::string& temp, const std::string& lock, const std::string& shown) {
  std::lock_guard<std::mutex> hold(g_mutex);
  for (int k = 0; k < kSlots; ++k) {
    Slot& s = g_slots[static_cast<std::size_t>(k)];
    if (s.used.load()) continue;
    copy_bounded(s.temp, sizeof s.temp, temp);
    copy_bounded(s.lock, sizeof s.lock, lock);
    const std::string msg = fmt::format("driftrec: interrupted; {} is unchanged\n", shown);
    copy_bounded(s.message, sizeof s.message, msg);
    s.message_len = std::strlen(s.message);
    s.used.store(true);
    if (g_registered++ == 0) {
      for (std::size_t i = 0; i < kSignals.size(); ++i) {
        struct sigaction old {};
        g_installed[i] = false;
        if (::sigaction(kSignals[i], nullptr, &old) != 0) continue;
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
        struct sigaction sa {};
        sa.sa_handler = driftrec_write_guard_on_signal;
        sigemptyset(&sa.sa_mask);
        for (int other : kSignals) sigaddset(&sa.sa_mask, other);
        if (::sigaction(kSignals[i], &sa, &g_previous[i]) == 0) g_installed[i] = true;
      }
    }
    return k;
  }
  return -1;  // more simultaneous writes than slots: only the destructor removes the file
}

void unregister_write(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> hold(g_mutex);
  g_slots[static_cast<std::size_t>(slot)].used.store(false);
  if (--g_registered == 0)
    for (std::size_t i = 0; i < kSignals.size(); ++i)
      if (g_installed[i]) {
        ::sigaction(kSignals[i], &g_previous[i], nullptr);
        g_installed[i] = false;
      }
}

// --- the lock ----------------------------------------------------------------------

std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ? std::string() : pid;
}

int take_lock(const std::string& lock_path, const std::string& shown) {
  bool told = false;
  while (true) {
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw InputError(fmt::format("{}: cannot create the lock file {}: {}", shown, lock_path, std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        const int err = errno;
        ::close(fd);
        throw InternalError(fmt::format("{}: cannot lock {}: {}", shown, lock_path, std::strerror(err)));
      }
      if (!told) {
        const std::string pid = holder_of(fd);
        std::fprintf(stderr, "driftrec: waiting for %s, which is writing %s\n",
                     pid.empty() ? "another process" : ("process " + pid).c_str(), shown.c_str());
        std::fflush(stderr);
        told = true;
      }
      while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
    // The holder unlinks the file before unlocking: a lock on an inode the path no longer
    // names guards nothing.
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      // Written without allocating: a failure here would leave the lock file behind.
      char pid[32];
      const int len = std::snprintf(pid, sizeof pid, "%d\n", static_cast<int>(::getpid()));
      if (::ftruncate(fd, 0) == 0 && len > 0) [[maybe_unused]] ssize_t n = ::pwrite(fd, pid, static_cast<std::size_t>(len), 0);
      return fd;
    }
    ::close(fd);
  }
}

// Removes `.<name>.tmp-<pid>` files beside `path` whose pid is not a live process (a
// writer killed outright). A live pid's file is left alone, whoever it belongs to.
void remove_stale_temps(const std::string& path) {
  const std::string dir = folder_of(path);
  const std::string prefix = fmt::format(".{}.tmp-", name_of(path));
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (!name.starts_with(prefix)) continue;
    const std::string_view digits = name.substr(prefix.size());
    long long pid = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    ::unlink(join(dir, std::string(name)).c_str());
  }
  ::closedir(d);
}

}  // namespace

WriteGuard::WriteGuard(const std::string& path, const std::string& shown, const std::string& temp)
    : lock_path_(beside(path, fmt::format(".{}.lock", name_of(path)))), temp_(temp) {
  lock_fd_ = take_lock(lock_path_, shown);
  // A constructor that throws runs no destructor: release what is held here (an
  // allocation can fail in either call; tests/fault fails every one in turn).
  try {
    slot_ = register_write(temp_, lock_path_, shown);
    remove_stale_temps(path);
  } catch (...) {
    unregister_write(slot_);
    ::unlink(lock_path_.c_str());
    ::close(lock_fd_);
    throw;
  }
}

WriteGuard::~WriteGuard() {
  if (!renamed_) ::unlink(temp_.c_str());
  unregister_write(slot_);
  ::unlink(lock_path_.c_str());
  ::close(lock_fd_);
}

void WriteGuard::renamed() { renamed_ = true; }

}  // namespace driftrec::io
