// Item factors quantised to int8 for serving, and the top-k scan that ranks them.
//
// Each row y is stored as int8 codes c with one float scale s (symmetric, per row):
// s = max|y_f| / 127, c_f = round(y_f / s), so |y_f - s c_f| <= s / 2. A float32 query q
// then scores s * (q . c), which differs from q . y by at most (s / 2) * sum_f |q_f| (the
// bound the tests check). Four times less memory than float32 rows, and the scan reads a
// quarter of the bytes, which is what bounds it at 10^6 items.
//
// That bound alone left int8 top-20 recall at 0.98 (bundled MovieLens, i.i.d. Gaussian
// 10^6 x 64): the misses are near-ties that 8 bits cannot separate, and no choice of 8-bit
// scalar code fixes that (centring by the catalogue mean, per-column scales, an MSE-optimal
// scale each gained at most 0.005). So the search has two stages: the int8 scan keeps the
// kRerankFactor * k best, and those few are re-ranked with a 2-bit residual per factor
// (r_f in 0..3, the row read as s * (c_f + (r_f - 1.5) / 4), so within s / 8 of y_f: four
// times tighter). The residuals cost a quarter byte per factor; only the candidates' are
// read, so the scan reads no more bytes than before.
//
// The dot product has a portable kernel (eight independent float lanes, which compilers
// vectorise with the baseline instruction set) and an AVX2+FMA one chosen at run time on
// CPUs that have it; dot_int8_reference is the serial double-precision checker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace driftrec::serve {

// The int8 scan keeps this many times k candidates for the re-ranking.
inline constexpr int kRerankFactor = 4;

struct QuantizedRows {
  std::int64_t rows = 0;
  int cols = 0;
  std::vector<std::int8_t> codes;        // rows x cols, row-major
  std::vector<float> scales;             // one per row; 0 for a zero row
  std::vector<std::uint8_t> residuals;   // rows x residual_stride(): 2-bit r_f, four per byte, f % 4 in bits 2 (f % 4)

  const std::int8_t* row(std::int64_t r) const { return codes.data() + r * cols; }
  int residual_stride() const { return (cols + 3) / 4; }
  const std::uint8_t* residual(std::int64_t r) const { return residuals.data() + r * residual_stride(); }
  // s * (c_f + (r_f - 1.5) / 4): the row as the re-ranking sees it.
  std::vector<float> dequantized(std::int64_t r) const;
  std::size_t bytes() const { return codes.size() + residuals.size() + scales.size() * sizeof(float); }
};

// Quantises a rows x cols row-major float matrix. Non-finite values are the caller's to
// refuse (the factor readers do).
QuantizedRows quantize_rows(const float* data, std::int64_t rows, int cols);

// q . y_r as the re-ranking sees row r: s * sum_f q_f (c_f + (r_f - 1.5) / 4), in double.
double refined_dot(const QuantizedRows& rows, std::int64_t r, const float* q);

// q . c over n entries (no scale applied).
float dot_int8(const float* q, const std::int8_t* c, int n);
double dot_int8_reference(const float* q, const std::int8_t* c, int n);
// Whether dot_int8 runs the AVX2+FMA kernel on this CPU.
bool dot_int8_uses_avx2();

struct Scored {
  std::int32_t index;
  float score;
};

// Keeps the k best of a stream of (index, score) offered in increasing index order: higher
// score first, ties toward the lower index (as matrix_factorization::recommend ranks).
class TopK {
 public:
  explicit TopK(int k) : k_(static_cast<std::size_t>(k)) { heap_.reserve(k_); }
  void offer(std::int32_t index, float score) {
    if (heap_.size() < k_) {
      push(index, score);
    } else if (score > heap_.front().score) {  // an equal score comes later, so loses the tie
      pop_push(index, score);
    }
  }
  // Best first.
  std::vector<Scored> take();

 private:
  void push(std::int32_t index, float score);
  void pop_push(std::int32_t index, float score);
  std::size_t k_;
  std::vector<Scored> heap_;  // min-heap: the worst kept on top
};

// The rows that scores can come from: float32 (exact) or int8 with row scales.
// score(r) = weight(r) * (q . y_r), weight(r) = 1 unless row_weights are given (1 / |y_r|
// turns dots into cosines up to the query's norm).
struct ScoreRows {
  const float* exact = nullptr;           // rows x cols float32, or null
  const QuantizedRows* quantized = nullptr;  // used when exact is null
  std::int64_t rows = 0;
  int cols = 0;
  // Int8 only: the scan keeps rerank * k candidates and ranks them by refined_dot; 0 ranks
  // by the int8 scores alone (the bench's comparison).
  int rerank = kRerankFactor;
};

// The k best rows for query q (cols floats), skipping the rows in `excluded` (sorted
// ascending) and row `skip` (-1: none). row_weights: empty or one per row.
std::vector<Scored> top_k(const ScoreRows& rows, const float* q, int k, std::span<const std::int32_t> excluded,
                          std::int32_t skip, std::span<const float> row_weights);

// The same by brute force: every score into a vector, fully sorted (for int8, the
// rerank * k best int8 scores, then those by refined score). The tests' reference.
std::vector<Scored> top_k_reference(const ScoreRows& rows, const float* q, int k,
                                    std::span<const std::int32_t> excluded, std::int32_t skip,
                                    std::span<const float> row_weights);

}  // namespace driftrec::serve
