#include "serve/quantized.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DRIFTREC_SERVE_X86 1
#endif

#include "core/error.hpp"

namespace driftrec::serve {

namespace {
// The 2-bit residual of factor f, 0..3.
int residual_code(const std::uint8_t* packed, int f) { return (packed[f / 4] >> (2 * (f % 4))) & 3; }
}  // namespace

std::vector<float> QuantizedRows::dequantized(std::int64_t r) const {
  std::vector<float> out(static_cast<std::size_t>(cols));
  const std::int8_t* c = row(r);
  const std::uint8_t* e = residual(r);
  const float s = scales[static_cast<std::size_t>(r)];
  for (int f = 0; f < cols; ++f) {
    const float r = static_cast<float>(residual_code(e, f));
    out[static_cast<std::size_t>(f)] = s * (static_cast<float>(c[f]) + 0.25f * (r - 1.5f));
  }
  return out;
}

double refined_dot(const QuantizedRows& rows, std::int64_t r, const float* q) {
  const std::int8_t* c = rows.row(r);
  const std::uint8_t* e = rows.residual(r);
  double dot = 0;
  for (int f = 0; f < rows.cols; ++f) dot += static_cast<double>(q[f]) * (c[f] + 0.25 * (residual_code(e, f) - 1.5));
  return rows.scales[static_cast<std::size_t>(r)] * dot;
}

QuantizedRows quantize_rows(const float* data, std::int64_t rows, int cols) {
  DRIFTREC_ASSERT(rows >= 0 && cols >= 0);
  QuantizedRows q;
  q.rows = rows;
  q.cols = cols;
  q.codes.resize(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
  q.scales.resize(static_cast<std::size_t>(rows));
  q.residuals.assign(static_cast<std::size_t>(rows) * static_cast<std::size_t>(q.residual_stride()), 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* y = data + r * cols;
    float m = 0;
    for (int f = 0; f < cols; ++f) m = std::max(m, std::fabs(y[f]));
    const float s = m / 127.0f;
    q.scales[static_cast<std::size_t>(r)] = s;
    std::int8_t* c = q.codes.data() + r * cols;
    std::uint8_t* e = q.residuals.data() + r * q.residual_stride();
    for (int f = 0; f < cols; ++f) {
      if (s == 0) {
        c[f] = 0;
        continue;  // residual code 0 would read -1.5 / 4 of a zero scale: still 0
      }
      const double x = static_cast<double>(y[f]) / s;
      c[f] = static_cast<std::int8_t>(std::clamp(std::lround(x), -127L, 127L));
      // x - c in [-1/2, 1/2] split into four equal bins; each reads as its middle.
      const int bin = static_cast<int>(std::clamp(std::floor((x - c[f] + 0.5) * 4.0), 0.0, 3.0));
      e[f / 4] = static_cast<std::uint8_t>(e[f / 4] | (bin << (2 * (f % 4))));
    }
  }
  return q;
}

namespace {

// Eight independent accumulators: no reassociation is needed to vectorise them.
float dot_int8_portable(const float* q, const std::int8_t* c, int n) {
  float acc[8] = {};
  int f = 0;
  for (; f + 8 <= n; f += 8)
    for (int l = 0; l < 8; ++l) acc[l] += q[f + l] * static_cast<float>(c[f + l]);
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; f < n; ++f) s += q[f] * static_cast<float>(c[f]);
  return s;
}

float dot_float(const float* q, const float* y, int n) {
  float acc[8] = {};
  int f = 0;
  for (; f + 8 <= n; f += 8)
    for (int l = 0; l < 8; ++l) acc[l] += q[f + l] * y[f + l];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; f < n; ++f) s += q[f] * y[f];
  return s;
}

#ifdef DRIFTREC_SERVE_X86
// 16 codes per step: sign-extended to two vectors of eight int32, converted to float and
// fused into two accumulators.
__attribute__((target("avx2,fma"))) inline float dot_int8_avx2(const float* q, const std::int8_t* c, int n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int f = 0;
  for (; f + 16 <= n; f += 16) {
    const __m128i codes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + f));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes));
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)));
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + f), lo, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + f + 8), hi, a1);
  }
  const __m256 a = _mm256_add_ps(a0, a1);
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
  float s = _mm_cvtss_f32(_mm_add_ss(h2, _mm_shuffle_ps(h2, h2, 1)));
  for (; f < n; ++f) s += q[f] * static_cast<float>(c[f]);
  return s;
}

// Four rows at a time when cols is a multiple of 8: each query load serves four rows, and
// one transposing reduction (hadd) finishes four dots. One dispatch per block, not per row.
__attribute__((target("avx2,fma"))) inline __m256 codes8(const std::int8_t* c) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c))));
}

__attribute__((target("avx2,fma"))) void score_block_avx2(const QuantizedRows& rows, const float* q, std::int64_t begin,
                                                           std::int64_t end, float* out) {
  const int n = rows.cols;
  std::int64_t r = begin;
  if (n % 8 == 0) {
    for (; r + 4 <= end; r += 4) {
      const std::int8_t* c0 = rows.row(r);
      const std::int8_t *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
      for (int f = 0; f < n; f += 8) {
        const __m256 x = _mm256_loadu_ps(q + f);
        a0 = _mm256_fmadd_ps(x, codes8(c0 + f), a0);
        a1 = _mm256_fmadd_ps(x, codes8(c1 + f), a1);
        a2 = _mm256_fmadd_ps(x, codes8(c2 + f), a2);
        a3 = _mm256_fmadd_ps(x, codes8(c3 + f), a3);
      }
      const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
      const __m128 dots = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
      _mm_storeu_ps(out + (r - begin), _mm_mul_ps(dots, _mm_loadu_ps(rows.scales.data() + r)));
    }
  }
  for (; r < end; ++r)
    out[r - begin] = rows.scales[static_cast<std::size_t>(r)] * dot_int8_avx2(q, rows.row(r), n);
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

}  // namespace

float dot_int8(const float* q, const std::int8_t* c, int n) {
#ifdef DRIFTREC_SERVE_X86
  if (cpu_has_avx2()) return dot_int8_avx2(q, c, n);
#endif
  return dot_int8_portable(q, c, n);
}

bool dot_int8_uses_avx2() {
#ifdef DRIFTREC_SERVE_X86
  return cpu_has_avx2();
#else
  return false;
#endif
}

double dot_int8_reference(const float* q, const std::int8_t* c, int n) {
  double s = 0;
  for (int f = 0; f < n; ++f) s += static_cast<double>(q[f]) * c[f];
  return s;
}

namespace {
bool worse(const Scored& a, const Scored& b) {  // a ranks below b
  return a.score < b.score || (a.score == b.score && a.index > b.index);
}
// std heap with `worse` reversed keeps the worst on top.
bool heap_order(const Scored& a, const Scored& b) { return worse(b, a); }
}  // namespace

void TopK::push(std::int32_t index, float score) {
  heap_.push_back({index, score});
  std::push_heap(heap_.begin(), heap_.end(), heap_order);
}

void TopK::pop_push(std::int32_t index, float score) {
  std::pop_heap(heap_.begin(), heap_.end(), heap_order);
  heap_.back() = {index, score};
  std::push_heap(heap_.begin(), heap_.end(), heap_order);
}

std::vector<Scored> TopK::take() {
  std::vector<Scored> out = std::move(heap_);
  std::sort(out.begin(), out.end(), [](const Scored& a, const Scored& b) { return worse(b, a); });
  heap_.clear();
  return out;
}

namespace {

// out[r - begin] = score of row r, r in [begin, end).
void score_block(const ScoreRows& rows, const float* q, std::int64_t begin, std::int64_t end, float* out) {
  if (rows.exact) {
    for (std::int64_t r = begin; r < end; ++r) out[r - begin] = dot_float(q, rows.exact + r * rows.cols, rows.cols);
    return;
  }
  const QuantizedRows& qr = *rows.quantized;
#ifdef DRIFTREC_SERVE_X86
  if (cpu_has_avx2()) return score_block_avx2(qr, q, begin, end, out);
#endif
  for (std::int64_t r = begin; r < end; ++r)
    out[r - begin] = qr.scales[static_cast<std::size_t>(r)] * dot_int8_portable(q, qr.row(r), rows.cols);
}

}  // namespace

namespace {

// The `keep` best rows by the scan's scores (float32 or int8).
std::vector<Scored> scan(const ScoreRows& rows, const float* q, int keep, std::span<const std::int32_t> excluded,
                         std::int32_t skip, std::span<const float> row_weights) {
  TopK best(keep);
  auto next_excluded = excluded.begin();
  constexpr std::int64_t kBlock = 512;
  float scores[kBlock];
  for (std::int64_t begin = 0; begin < rows.rows; begin += kBlock) {
    const std::int64_t end = std::min(rows.rows, begin + kBlock);
    score_block(rows, q, begin, end, scores);
    for (std::int64_t r = begin; r < end; ++r) {
      const auto index = static_cast<std::int32_t>(r);
      if (next_excluded != excluded.end() && *next_excluded == index) {
        ++next_excluded;
        continue;
      }
      if (index == skip) continue;
      float s = scores[r - begin];
      if (!row_weights.empty()) s *= row_weights[static_cast<std::size_t>(r)];
      best.offer(index, s);
    }
  }
  return best.take();
}

bool by_index(const Scored& a, const Scored& b) { return a.index < b.index; }

}  // namespace

std::vector<Scored> top_k(const ScoreRows& rows, const float* q, int k, std::span<const std::int32_t> excluded,
                          std::int32_t skip, std::span<const float> row_weights) {
  DRIFTREC_ASSERT(k >= 1);
  DRIFTREC_ASSERT(rows.exact || rows.quantized);
  DRIFTREC_ASSERT(row_weights.empty() || static_cast<std::int64_t>(row_weights.size()) == rows.rows);
  DRIFTREC_ASSERT(rows.rerank >= 0);
  if (rows.exact || rows.rerank == 0) return scan(rows, q, k, excluded, skip, row_weights);
  std::vector<Scored> candidates = scan(rows, q, k * rows.rerank, excluded, skip, row_weights);
  std::sort(candidates.begin(), candidates.end(), by_index);  // TopK breaks ties by offer order
  TopK best(k);
  for (const Scored& c : candidates) {
    double s = refined_dot(*rows.quantized, c.index, q);
    if (!row_weights.empty()) s *= row_weights[static_cast<std::size_t>(c.index)];
    best.offer(c.index, static_cast<float>(s));
  }
  return best.take();
}

std::vector<Scored> top_k_reference(const ScoreRows& rows, const float* q, int k,
                                    std::span<const std::int32_t> excluded, std::int32_t skip,
                                    std::span<const float> row_weights) {
  std::vector<Scored> all;
  for (std::int64_t r = 0; r < rows.rows; ++r) {
    const auto index = static_cast<std::int32_t>(r);
    if (index == skip || std::find(excluded.begin(), excluded.end(), index) != excluded.end()) continue;
    double s = 0;
    if (rows.exact) {
      for (int f = 0; f < rows.cols; ++f) s += static_cast<double>(q[f]) * rows.exact[r * rows.cols + f];
    } else {
      s = rows.quantized->scales[static_cast<std::size_t>(r)] * dot_int8_reference(q, rows.quantized->row(r), rows.cols);
    }
    if (!row_weights.empty()) s *= row_weights[static_cast<std::size_t>(r)];
    all.push_back({index, static_cast<float>(s)});
  }
  const auto higher = [](const Scored& a, const Scored& b) { return a.score > b.score; };
  std::stable_sort(all.begin(), all.end(), higher);
  if (!rows.exact && rows.rerank > 0) {
    all.resize(std::min(all.size(), static_cast<std::size_t>(k) * static_cast<std::size_t>(rows.rerank)));
    std::sort(all.begin(), all.end(), by_index);
    for (Scored& c : all) {
      double s = 0;
      const std::vector<float> y = rows.quantized->dequantized(c.index);
      for (int f = 0; f < rows.cols; ++f) s += static_cast<double>(q[f]) * y[static_cast<std::size_t>(f)];
      if (!row_weights.empty()) s *= row_weights[static_cast<std::size_t>(c.index)];
      c.score = static_cast<float>(s);
    }
    std::stable_sort(all.begin(), all.end(), higher);
  }
  all.resize(std::min(all.size(), static_cast<std::size_t>(k)));
  return all;
}

}  // namespace driftrec::serve
