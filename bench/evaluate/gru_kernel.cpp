// The sequence model's training kernel at the shapes of the issue-18 evaluation (GRU forward
// and backward with both heads on one chunk of B = 16 users, D = 48, H = 32, L = 30, f = 16,
// T = 21 steps), repeated; prints microseconds per user-step. gru_kernel.sh compiles it twice,
// for baseline x86-64 and for x86-64-v3 (AVX2/FMA), to measure what DRIFTREC_ARCH=x86-64-v3
// (the default build) gains.
// The library sources are compiled into this file so that each build takes its own flags.
#include "temporal/gru.cpp"    // NOLINT(bugprone-suspicious-include)
#include "temporal/heads.cpp"  // NOLINT(bugprone-suspicious-include)
#include <chrono>
#include <cstdio>
#include <random>
using namespace driftrec::temporal;
int main() {
  const int D = 48, H = 32, L = 30, F = 16, B = 16, T = 21;
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 0.3f);
  auto rnd = [&](int r, int c) { Matrix<float> m(r, c); for (int i = 0; i < m.size(); ++i) m.data()[i] = n(rng); return m; };
  Parameters<float> p;
  p.cell = CellKind::gru;
  p[kCellInput] = rnd(3 * H, D); p[kCellHidden] = rnd(3 * H, H); p[kCellBias] = rnd(3 * H, 1);
  p[kInterestWeight] = rnd(L, H); p[kInterestBias] = rnd(L, 1); p[kFactorWeight] = rnd(F, H); p[kFactorBias] = rnd(F, 1);
  std::vector<Matrix<float>> in, tgt, mask, ft;
  for (int t = 0; t < T; ++t) { in.push_back(rnd(D, B)); Matrix<float> y = rnd(L, B).cwiseAbs(); tgt.push_back(y); mask.push_back(Matrix<float>::Ones(1, B)); ft.push_back(rnd(F, B)); }
  double sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  const int reps = 3000;
  for (int r = 0; r < reps; ++r) {
    Parameters<float> g = p;
    for (auto& m : g.tensor) m.setZero();
    GruTrace<float> tr;
    const Matrix<float> h0 = Matrix<float>::Zero(H, B); gru_forward(p, in, h0, tr);
    std::vector<Matrix<float>> dh(T);
    for (int t = 0; t < T; ++t) {
      dh[t] = Matrix<float>::Zero(H, B);
      sink += interest_loss(p, tr.h[t + 1], tgt[t], mask[t], 0.001f, &g, &dh[t]);
      sink += factor_loss(p, tr.h[t + 1], ft[t], mask[t], 0.001f, &g, &dh[t]);
    }
    gru_backward(p, in, tr, dh, 8, g);
    sink += g[kCellInput](0, 0);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.3f us per user-step (sink %g)\n", 1e6 * s / (reps * double(B) * T), sink);
}
