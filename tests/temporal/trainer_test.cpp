// The trainer: it learns a planted deterministic sequence to near-zero loss (GRU and LSTM),
// it is bit-for-bit deterministic for a seed with 1 or 2 threads, early stopping keeps the
// best validation epoch, a cap on the training users trains exactly on the drawn users
// (and changes nothing at or above the data's users), and every option is validated.
#include "temporal/trainer.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <cstdlib>
#include <random>

#include "graph/types.hpp"
#include "temporal/network.hpp"
#include "tests/temporal/planted.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;
using driftrec::InputError;

namespace {

bool identical(const Parameters<float>& a, const Parameters<float>& b) {
  for (std::size_t k = 0; k < kTensorCount; ++k)
    if (a[k].rows() != b[k].rows() || a[k].cols() != b[k].cols() || a[k] != b[k]) return false;
  return true;
}

// Random interests, truths, factors and activity: nothing to learn, so the model overfits.
SequenceInputs noise_inputs(int users, int periods, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u01(0, 1);
  SequenceInputs in;
  for (int t = 0; t < periods; ++t) {
    RowMatrix f(users, 4), truth(users, 4), x(users, 3);
    for (int u = 0; u < users; ++u) {
      for (int l = 0; l < 4; ++l) {
        f(u, l) = u01(rng);
        truth(u, l) = u01(rng) < 0.4f ? u01(rng) : 0.0f;
      }
      for (int k = 0; k < 3; ++k) x(u, k) = u01(rng) - 0.5f;
    }
    in.interests.push_back(f);
    in.interest_truth.push_back(truth);
    in.factors.push_back(x);
    std::vector<float> a(static_cast<std::size_t>(users));
    for (auto& v : a) v = u01(rng) < 0.7f ? static_cast<float>(1 + rng() % 5) : 0.0f;
    in.activity.push_back(a);
  }
  return in;
}

SequenceData noise_data(int users, int periods, std::uint64_t seed) {
  return assemble_sequences(noise_inputs(users, periods, seed));
}

// The rows `users` (ascending) of every period: the data of those users alone.
SequenceInputs select_users(const SequenceInputs& in, const std::vector<int>& users) {
  SequenceInputs out;
  auto rows = [&](const RowMatrix& m) {
    RowMatrix r(static_cast<Eigen::Index>(users.size()), m.cols());
    for (std::size_t j = 0; j < users.size(); ++j) r.row(static_cast<Eigen::Index>(j)) = m.row(users[j]);
    return r;
  };
  for (std::size_t t = 0; t < in.interests.size(); ++t) {
    out.interests.push_back(rows(in.interests[t]));
    out.interest_truth.push_back(rows(in.interest_truth[t]));
    out.factors.push_back(rows(in.factors[t]));
    std::vector<float> a;
    for (int u : users) a.push_back(in.activity[t][static_cast<std::size_t>(u)]);
    out.activity.push_back(a);
  }
  return out;
}

}  // namespace

TEST_CASE("GRU and LSTM learn a planted sequence that needs memory to near-zero loss",
          "[temporal]") {
  constexpr int kUsers = 16;
  for (CellKind cell : {CellKind::gru, CellKind::lstm}) {
    for (bool with_factors : {false, true}) {
      INFO(cell_name(cell) << (with_factors ? " with factors" : " without factors"));
      const SequenceData d = assemble_sequences(planted_inputs(kUsers, 12, with_factors));
      const TrainingResult r = train_sequence_model(d, planted_options(cell, 7));
      REQUIRE(!r.history.empty());
      // At the start the loss is about log 3; at the end every step is near zero.
      CHECK(r.history.front().train_cross_entropy > 0.5);
      for (int step = 0; step < d.steps(); ++step) {
        INFO("step " << step);
        const StepLoss l = step_loss(r.model, d, step, 1);
        CHECK(l.interest_pairs == kUsers);
        CHECK(l.cross_entropy < 0.05);
        if (with_factors) CHECK(l.factor_mse < 0.05);
      }
      CHECK(r.history[r.best_epoch - 1].validation_loss < 0.05);
    }
  }
}

TEST_CASE("training is bit-for-bit deterministic for a seed, with 1 or 2 threads", "[temporal]") {
  const SequenceData d = noise_data(300, 6, 11);  // batches of 40: chunks of 32 and 8; validation chunks of 128, 128, 44
  SequenceModelOptions o;
  o.hidden = 6;
  o.epochs = 4;
  o.batch_users = 40;
  o.seed = 3;
  o.patience = 100;
  for (CellKind cell : {CellKind::gru, CellKind::lstm}) {
    INFO(cell_name(cell));
    o.cell = cell;
    o.threads = 2;
    const TrainingResult a = train_sequence_model(d, o);
    const TrainingResult b = train_sequence_model(d, o);
    o.threads = 1;
    const TrainingResult c = train_sequence_model(d, o);
    CHECK(identical(a.model.parameters, b.model.parameters));
    CHECK(identical(a.model.parameters, c.model.parameters));
    for (std::size_t e = 0; e < a.history.size(); ++e) {
      CHECK(a.history[e].train_loss == c.history[e].train_loss);
      CHECK(a.history[e].validation_loss == c.history[e].validation_loss);
    }
    o.seed = 4;
    const TrainingResult other = train_sequence_model(d, o);
    CHECK(!identical(a.model.parameters, other.model.parameters));
    o.seed = 3;
  }
}

TEST_CASE("early stopping keeps the parameters of the best validation epoch", "[temporal]") {
  const SequenceData d = noise_data(24, 6, 5);
  SequenceModelOptions o;
  o.hidden = 16;
  o.learning_rate = 0.05f;
  o.epochs = 60;
  o.batch_users = 4;
  o.patience = 3;
  o.seed = 9;
  o.threads = 1;
  int reported = 0;
  const TrainingResult r = train_sequence_model(d, o, [&](const EpochReport& e) {
    ++reported;
    CHECK(e.epoch == reported);
  });
  CHECK(reported == static_cast<int>(r.history.size()));
  // Noise cannot be learned: the model overfits and validation stops improving.
  REQUIRE(r.stopped_early);
  CHECK(static_cast<int>(r.history.size()) == r.best_epoch + o.patience);
  double best = r.history[0].validation_loss;
  for (const EpochReport& e : r.history) best = std::min(best, e.validation_loss);
  CHECK(r.history[r.best_epoch - 1].validation_loss == best);
  CHECK(r.history[r.best_epoch - 1].improved);
  // The returned model is the best epoch's: its validation loss is recomputed exactly.
  const StepLoss v = step_loss(r.model, d, d.steps() - 1, 1);
  CHECK(v.cross_entropy + o.factor_weight * v.factor_mse == Approx(best).epsilon(1e-12));
}

TEST_CASE("sequence model options are validated by name", "[temporal]") {
  const auto bad = [](auto change, const char* name) {
    SequenceModelOptions o;
    change(o);
    CHECK_THROWS_WITH(o.validate(), Catch::Contains(name));
    CHECK_THROWS_AS(o.validate(), driftrec::InputError);
  };
  CHECK_NOTHROW(SequenceModelOptions{}.validate());
  bad([](auto& o) { o.hidden = 0; }, "`hidden`");
  bad([](auto& o) { o.bptt = 0; }, "`bptt`");
  bad([](auto& o) { o.learning_rate = 0; }, "`learning_rate`");
  bad([](auto& o) { o.learning_rate = std::numeric_limits<float>::infinity(); }, "`learning_rate`");
  bad([](auto& o) { o.epochs = 0; }, "`epochs`");
  bad([](auto& o) { o.batch_users = 0; }, "`batch_users`");
  bad([](auto& o) { o.factor_weight = -1; }, "`factor_weight`");
  bad([](auto& o) { o.l2 = -0.1f; }, "`l2`");
  bad([](auto& o) { o.patience = 0; }, "`patience`");
  bad([](auto& o) { o.clip_norm = -1; }, "`clip_norm`");
  bad([](auto& o) { o.threads = -1; }, "`threads`");
  bad([](auto& o) { o.train_users = -1; }, "`train_users`");
}

TEST_CASE("the training user sample: every user up to the cap, else cap distinct users drawn by the seed",
          "[temporal][train_users]") {
  std::vector<int> all(50);
  for (int u = 0; u < 50; ++u) all[static_cast<std::size_t>(u)] = u;
  CHECK(training_user_sample(50, 0, 1) == all);
  CHECK(training_user_sample(50, 50, 1) == all);
  CHECK(training_user_sample(50, 80, 1) == all);
  CHECK(training_user_sample(0, 5, 1).empty());
  const std::vector<int> a = training_user_sample(50, 20, 7);
  REQUIRE(a.size() == 20);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::adjacent_find(a.begin(), a.end()) == a.end());  // distinct
  CHECK(a.front() >= 0);
  CHECK(a.back() < 50);
  CHECK(training_user_sample(50, 20, 7) == a);
  CHECK(training_user_sample(50, 20, 8) != a);
  // Uniform: over 4000 seeds each user is drawn 4000 * 20 / 50 = 1600 times on average
  // (binomial, standard deviation 31); every count within 6 deviations.
  std::vector<int> drawn(50, 0);
  for (std::uint64_t seed = 0; seed < 4000; ++seed)
    for (int u : training_user_sample(50, 20, seed)) ++drawn[static_cast<std::size_t>(u)];
  for (int u = 0; u < 50; ++u) {
    INFO("user " << u);
    CHECK(std::abs(drawn[static_cast<std::size_t>(u)] - 1600) < 6 * 31);
  }
}

TEST_CASE("a training cap trains exactly on the drawn users, and changes nothing at or above the data's users",
          "[temporal][train_users]") {
  constexpr int kUsers = 60, kCap = 25;
  const SequenceInputs in = noise_inputs(kUsers, 6, 21);
  const SequenceData d = assemble_sequences(in);
  SequenceModelOptions o;
  o.hidden = 6;
  o.epochs = 5;
  o.batch_users = 8;
  o.patience = 2;
  o.threads = 2;
  for (CellKind cell : {CellKind::gru, CellKind::lstm, CellKind::attention}) {
    for (std::uint64_t seed : {3u, 4u}) {
      INFO(cell_name(cell) << ", seed " << seed);
      o.cell = cell;
      o.seed = seed;
      o.train_users = 0;
      const TrainingResult full = train_sequence_model(d, o);
      for (int cap : {kUsers, kUsers + 1, 1000}) {
        o.train_users = cap;
        const TrainingResult same = train_sequence_model(d, o);
        CHECK(identical(same.model.parameters, full.model.parameters));
        CHECK(same.history.size() == full.history.size());
      }
      // Capped: the same as training without a cap on the drawn users' data alone, so the
      // other users take no part in training or in early stopping.
      o.train_users = kCap;
      const std::vector<int> drawn = training_user_sample(kUsers, kCap, seed);
      const TrainingResult capped = train_sequence_model(d, o);
      const TrainingResult again = train_sequence_model(d, o);
      o.train_users = 0;
      const TrainingResult reference = train_sequence_model(assemble_sequences(select_users(in, drawn)), o);
      CHECK(identical(capped.model.parameters, again.model.parameters));
      CHECK(identical(capped.model.parameters, reference.model.parameters));
      REQUIRE(capped.history.size() == reference.history.size());
      for (std::size_t e = 0; e < capped.history.size(); ++e) {
        CHECK(capped.history[e].train_loss == reference.history[e].train_loss);
        CHECK(capped.history[e].validation_loss == reference.history[e].validation_loss);
      }
      CHECK(!identical(capped.model.parameters, full.model.parameters));
    }
  }
}

TEST_CASE("training refuses too few periods and data without targets", "[temporal]") {
  SequenceModelOptions o;
  o.epochs = 1;
  CHECK_THROWS_WITH(train_sequence_model(assemble_sequences(planted_inputs(4, 2, false)), o),
                    Catch::Contains("at least 3 periods"));
  SequenceInputs in = planted_inputs(4, 5, false);
  for (auto& t : in.interest_truth) t.setZero();
  CHECK_THROWS_WITH(train_sequence_model(assemble_sequences(in), o),
                    Catch::Contains("no user has a target"));
}

// The validation loss runs in chunks of kValidationChunkUsers, wider than the training's
// chunks: against a reference that runs every user alone (one-column batches, the losses
// summed in double), it agrees to float rounding, with several chunks and a partial last one.
TEST_CASE("step_loss in validation chunks equals the per-user losses averaged over the pairs", "[temporal]") {
  const int users = 2 * kValidationChunkUsers + 37;
  const std::uint64_t seed = GENERATE(21u, 22u);
  CAPTURE(seed, users);
  const SequenceData d = noise_data(users, 6, seed);
  for (CellKind cell : {CellKind::gru, CellKind::lstm, CellKind::attention}) {
    INFO(cell_name(cell));
    SequenceModelOptions o;
    o.cell = cell;
    o.hidden = 5;
    o.epochs = 2;
    o.seed = seed;
    o.threads = 2;
    const TrainingResult r = train_sequence_model(d, o);
    const int step = d.steps() - 1;
    double interest = 0, factor = 0;
    long long ni = 0, nf = 0;
    for (int u = 0; u < users; ++u) {
      const std::array<int, 1> one{u};
      const Batch<float> b = gather_batch(d, one, step + 1, step);
      const LossSums<float> s = batch_loss<float>(r.model.parameters, b, 1.0f, 1.0f, o.bptt, nullptr);
      interest += s.interest;
      factor += s.factor;
      ni += d.interest_mask(step)(0, u) != 0;
      nf += d.factor_mask(step)(0, u) != 0;
    }
    REQUIRE(ni > 0);
    REQUIRE(nf > 0);
    const StepLoss v = step_loss(r.model, d, step, 2);
    CHECK(v.interest_pairs == ni);
    CHECK(v.factor_pairs == nf);
    CHECK(v.cross_entropy == Approx(interest / static_cast<double>(ni)).epsilon(1e-5));
    CHECK(v.factor_mse == Approx(factor / static_cast<double>(nf)).epsilon(1e-5));
    CHECK(step_loss(r.model, d, step, 1).cross_entropy == v.cross_entropy);
  }
}

// The validation pass runs the cell only for the users with a target at the step; its
// losses are batch_loss over the whole validation chunks, users without a target included,
// to 1e-6 relative (docs/evaluation.md, "Validation loss over the users with a target": bit
// for bit in the optimised x86-64-v3 build at hidden 16 and 32, but the -O1 sanitizer build
// of scripts/test.sh differed by 1.4e-8 relative for the attention cell at hidden 32).
TEST_CASE("step_loss skipping the users without a target equals batch_loss over whole chunks to float rounding",
          "[temporal]") {
  const int users = 2 * kValidationChunkUsers + 37;
  const int periods = 6, step = periods - 2;
  SequenceInputs in = noise_inputs(users, periods, 31);
  // Every third user has no target at the validation step (no event in the last period), and
  // the whole second chunk's users from 140 to 200 neither.
  for (int u = 0; u < users; ++u)
    if (u % 3 == 0 || (u >= 140 && u < 200)) {
      in.interest_truth.back().row(u).setZero();
      in.activity.back()[static_cast<std::size_t>(u)] = 0;
    }
  const SequenceData d = assemble_sequences(in);
  for (CellKind cell : {CellKind::gru, CellKind::lstm, CellKind::attention}) {
    for (int hidden : {16, 32}) {
      INFO(cell_name(cell) << ", hidden " << hidden);
      SequenceModelOptions o;
      o.cell = cell;
      o.hidden = hidden;
      o.epochs = 2;
      o.seed = 5;
      o.threads = 2;
      const TrainingResult r = train_sequence_model(d, o);
      double interest = 0, factor = 0;
      long long ni = 0, nf = 0, skipped = 0;
      for (int begin = 0; begin < users; begin += kValidationChunkUsers) {
        std::vector<int> chunk;
        for (int u = begin; u < std::min(users, begin + kValidationChunkUsers); ++u) chunk.push_back(u);
        const Batch<float> b = gather_batch(d, chunk, step + 1, step);
        const LossSums<float> s = batch_loss<float>(r.model.parameters, b, 1.0f, 1.0f, o.bptt, nullptr);
        interest += s.interest;
        factor += s.factor;
      }
      for (int u = 0; u < users; ++u) {
        const bool i = d.interest_mask(step)(0, u) != 0;
        const bool f = d.factor_mask(step)(0, u) != 0;
        ni += i;
        nf += f;
        skipped += !i && !f;
      }
      REQUIRE(skipped >= users / 3);
      for (int threads : {1, 2}) {
        const StepLoss v = step_loss(r.model, d, step, threads);
        CHECK(v.interest_pairs == ni);
        CHECK(v.factor_pairs == nf);
        CHECK(v.cross_entropy == Approx(interest / static_cast<double>(ni)).epsilon(1e-6).margin(0));
        CHECK(v.factor_mse == Approx(factor / static_cast<double>(nf)).epsilon(1e-6).margin(0));
      }
    }
  }
}
