// The replaced global allocation functions of alloc_countdown.hpp. They allocate with
// malloc / aligned_alloc and free with free, so under AddressSanitizer every block still
// goes through ASan's allocator (overflows and leaks are still found; only new/free
// mismatches are not, as every form is freed alike).
#include "tests/fault/alloc_countdown.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace driftrec::test::alloc {
namespace {

std::atomic<std::int64_t> g_count{0};
std::atomic<std::int64_t> g_fail_at{0};  // 0: never
std::atomic<bool> g_triggered{false};

// Whether this call must fail.
bool fail_now() {
  const std::int64_t n = g_count.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t k = g_fail_at.load(std::memory_order_relaxed);
  if (k > 0 && n >= k) {
    g_triggered.store(true, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void* plain(std::size_t size) {
  if (fail_now()) return nullptr;
  return std::malloc(size ? size : 1);
}

void* aligned(std::size_t size, std::align_val_t al) {
  if (fail_now()) return nullptr;
  const std::size_t a = static_cast<std::size_t>(al);
  const std::size_t rounded = (size + a - 1) / a * a;  // aligned_alloc wants a multiple
  return std::aligned_alloc(a, rounded ? rounded : a);
}

}  // namespace

void start_counting() {
  g_fail_at = 0;
  g_triggered = false;
  g_count = 0;
}
void arm(std::int64_t k) {
  g_triggered = false;
  g_count = 0;
  g_fail_at = k;
}
void disarm() { g_fail_at = 0; }
std::int64_t count() { return g_count.load(); }
bool triggered() { return g_triggered.load(); }

}  // namespace driftrec::test::alloc

using driftrec::test::alloc::aligned;
using driftrec::test::alloc::plain;

void* operator new(std::size_t n) {
  if (void* p = plain(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = plain(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return plain(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return plain(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return aligned(n, a); }

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
