// The ranker's arithmetic against brute force: the candidate set and its features equal an
// exhaustive computation (every source's whole ranking sorted, every rank counted), the
// listwise loss's gradient and Hessian match finite differences, and the Newton fit lands
// on a stationary point that no random nearby weight beats, for any thread count. And the
// row's fallback: on the validation period its chosen setting's recall@20 is at least that
// of each source it combines, each source scored independently as its own evaluate row;
// and a fit reusing the examples an earlier period's fit made equals a fresh one. The row's
// evaluation and scores are the same bit for bit for 1 and 2 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "evaluation/baselines.hpp"
#include "evaluation/evaluate.hpp"
#include "evaluation/item_knn.hpp"
#include "evaluation/metrics.hpp"
#include "evaluation/ranker.hpp"
#include "evaluation/ranker_model.hpp"
#include "graph/random.hpp"
#include "tests/evaluation/moving_data.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

namespace {

double uniform(graph::Rng& rng) { return static_cast<double>(rng.below(1u << 20)) / static_cast<double>(1u << 20); }

// Random examples of `users` users, 3..12 candidates each, one or more positives.
std::vector<RankingExample> random_examples(graph::Rng& rng, int users) {
  std::vector<RankingExample> out(static_cast<std::size_t>(users));
  for (auto& ex : out) {
    const int n = 3 + static_cast<int>(rng.below(10));
    ex.candidates.features.resize(n, kRankerFeatures);
    for (int j = 0; j < n; ++j) {
      ex.candidates.items.push_back(j);
      for (int f = 0; f < kRankerFeatures; ++f) ex.candidates.features(j, f) = uniform(rng) * 2 - 0.5;
      ex.positive.push_back(rng.below(4) == 0 ? 1 : 0);
    }
    ex.positive[rng.below(static_cast<std::uint64_t>(n))] = 1;
  }
  return out;
}

}  // namespace

TEST_CASE("ranker candidates and features equal an exhaustive computation", "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 31, 0);
  for (int trial = 0; trial < 20; ++trial) {
    CAPTURE(trial);
    const Index n_items = 5 + static_cast<Index>(rng.below(30));
    const int per_source = 1 + static_cast<int>(rng.below(6));
    std::array<std::vector<float>, kRankerSources> scores;
    for (auto& s : scores)
      for (Index i = 0; i < n_items; ++i) s.push_back(static_cast<float>(rng.below(6)) - 2.0f);  // many ties
    std::vector<Index> eligible;
    for (Index i = 0; i < n_items; ++i)
      if (rng.below(4) != 0) eligible.push_back(i);
    std::array<std::vector<float>, kRankerItemFeatures> per_item;
    for (auto& f : per_item)
      for (Index i = 0; i < n_items; ++i) f.push_back(static_cast<float>(uniform(rng) - 0.5));
    const double activity = uniform(rng);
    std::array<std::span<const float>, kRankerSources> views;
    for (int s = 0; s < kRankerSources; ++s) views[s] = scores[s];
    std::array<std::span<const float>, kRankerItemFeatures> item_views;
    for (int f = 0; f < kRankerItemFeatures; ++f) item_views[f] = per_item[f];
    const CandidateSet c = make_candidates(views, eligible, item_views, activity, per_source);

    // Reference: the union of each source's top per_source after a full stable sort.
    std::set<Index> want;
    for (int s = 0; s < kRankerSources; ++s) {
      std::vector<Index> all(eligible);
      std::stable_sort(all.begin(), all.end(), [&](Index a, Index b) { return scores[s][a] > scores[s][b]; });
      for (std::size_t r = 0; r < all.size() && r < static_cast<std::size_t>(per_source); ++r) want.insert(all[r]);
    }
    REQUIRE(c.items == std::vector<Index>(want.begin(), want.end()));
    REQUIRE(c.features.rows() == static_cast<Eigen::Index>(c.items.size()));
    for (std::size_t j = 0; j < c.items.size(); ++j) {
      const Index i = c.items[j];
      for (int s = 0; s < kRankerSources; ++s) {
        float lo = scores[s][i], hi = scores[s][i];
        int rank = 0;  // candidates ahead of i: a higher score, or the same and a lower index
        for (Index k : c.items) {
          lo = std::min(lo, scores[s][k]);
          hi = std::max(hi, scores[s][k]);
          if (scores[s][k] > scores[s][i] || (scores[s][k] == scores[s][i] && k < i)) ++rank;
        }
        const double norm = hi > lo ? (scores[s][i] - lo) / static_cast<double>(hi - lo) : 0.0;
        // Columns: score and rank of each source, the item features, activity x rank of each.
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * s) == Approx(norm).margin(1e-12));
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * s + 1) == Approx(1.0 / std::log2(2.0 + rank)));
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * kRankerSources + kRankerItemFeatures + s) ==
              Approx(activity / std::log2(2.0 + rank)));
      }
      for (int f = 0; f < kRankerItemFeatures; ++f)
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * kRankerSources + f) == Approx(per_item[f][i]));
    }
    // Ranked by one source's rank feature alone, the candidates come in that source's own
    // order of the eligible items, down to rank per_source.
    for (int s = 0; s < kRankerSources; ++s) {
      std::vector<Index> all(eligible);
      std::stable_sort(all.begin(), all.end(), [&](Index a, Index b) { return scores[s][a] > scores[s][b]; });
      std::vector<Index> by_rank(c.items);
      std::stable_sort(by_rank.begin(), by_rank.end(), [&](Index a, Index b) {
        const auto ja = std::lower_bound(c.items.begin(), c.items.end(), a) - c.items.begin();
        const auto jb = std::lower_bound(c.items.begin(), c.items.end(), b) - c.items.begin();
        return c.features(ja, rank_feature(s)) > c.features(jb, rank_feature(s));
      });
      for (std::size_t r = 0; r < all.size() && r < static_cast<std::size_t>(per_source); ++r) CHECK(by_rank[r] == all[r]);
    }
  }
}

TEST_CASE("the listwise loss's value, gradient and Hessian match a direct sum and finite differences",
          "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 32, 0);
  const std::vector<RankingExample> ex = random_examples(rng, 40);
  Eigen::VectorXd w(kRankerFeatures);
  for (int f = 0; f < kRankerFeatures; ++f) w(f) = uniform(rng) * 2 - 1;
  const double l2 = 0.05;

  // The definition, term by term.
  double direct = 0;
  for (const auto& e : ex) {
    const Eigen::VectorXd s = e.candidates.features * w;
    double z = 0, pos = 0, sum_pos = 0;
    for (Eigen::Index j = 0; j < s.size(); ++j) z += std::exp(s(j));
    for (std::size_t j = 0; j < e.positive.size(); ++j)
      if (e.positive[j]) {
        pos += 1;
        sum_pos += s(static_cast<Eigen::Index>(j)) - std::log(z);
      }
    direct -= sum_pos / pos;
  }
  direct = direct / static_cast<double>(ex.size()) + 0.5 * l2 * w.squaredNorm();

  Eigen::VectorXd g;
  Eigen::MatrixXd h;
  const double loss = listwise_loss(ex, w, l2, &g, &h, 2);
  CHECK(loss == Approx(direct).epsilon(1e-12));
  const double eps = 1e-5;
  for (int f = 0; f < kRankerFeatures; ++f) {
    CAPTURE(f);
    Eigen::VectorXd up = w, down = w;
    up(f) += eps;
    down(f) -= eps;
    Eigen::VectorXd gu, gd;
    const double lu = listwise_loss(ex, up, l2, &gu), ld = listwise_loss(ex, down, l2, &gd);
    CHECK(g(f) == Approx((lu - ld) / (2 * eps)).margin(1e-7));
    for (int k = 0; k < kRankerFeatures; ++k) CHECK(h(k, f) == Approx((gu(k) - gd(k)) / (2 * eps)).margin(1e-6));
  }
}

TEST_CASE("the listwise Newton fit reaches the minimum, the same for 1 and 2 threads", "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 33, 0);
  const std::vector<RankingExample> ex = random_examples(rng, 200);
  const ListwiseFit a = fit_listwise(ex, 0.01, 50, 1), b = fit_listwise(ex, 0.01, 50, 2);
  CHECK(a.weights == b.weights);
  CHECK(a.gradient_norm < 1e-7);
  CHECK(a.iterations < 50);
  CHECK(a.loss < listwise_loss(ex, Eigen::VectorXd::Zero(kRankerFeatures), 0.01));
  for (int trial = 0; trial < 20; ++trial) {  // convex: no nearby point is lower
    Eigen::VectorXd w = a.weights;
    for (int f = 0; f < kRankerFeatures; ++f) w(f) += (uniform(rng) - 0.5) * 0.1;
    CHECK(listwise_loss(ex, w, 0.01) >= a.loss);
  }
  // A positive always on top of a feature: the fit learns a positive weight for it.
  std::vector<RankingExample> easy = random_examples(rng, 100);
  for (auto& e : easy)
    for (std::size_t j = 0; j < e.positive.size(); ++j) e.candidates.features(static_cast<Eigen::Index>(j), 3) = e.positive[j];
  CHECK(fit_listwise(easy, 0.01).weights(3) > 1.0);
}

namespace {

// Mean recall@k over the period's users with new items, of a row fitted on the data before it.
double validation_recall(const EvaluationData& d, std::size_t period, const ModelSpec& m, const Params& p, int k) {
  const Training t = make_training(d, period);
  const auto fitted = m.fit(t, p);
  double sum = 0;
  std::size_t n = 0;
  for (const EvaluatedPair& e : evaluated_pairs(d, t)) {
    if (e.items.empty()) continue;
    std::vector<float> scores(static_cast<std::size_t>(t.n_items), 0.0f);
    fitted->items(e.user, scores);
    sum += recall_at(top_k_of(scores, eligible_items(t, e.user), k), e.items, k);
    ++n;
  }
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

}  // namespace

TEST_CASE("on validation the ranker's recall@20 is never below the best of the sources it was given",
          "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const EvaluationData d = driftrec::test::moving_popularity_data(seed);
  REQUIRE(d.periods.size() == 7);
  LibraryModelOptions o;
  o.window = 3;
  o.als_iterations = 4;
  o.threads = 2;
  const ModelSpec ranker = ranker_model(o);
  CHECK(ranker.select_by_recall);
  const std::size_t validation = 5;
  const RankerChoice c = choose_ranker_setting(d, ranker, validation, 20, 2);
  REQUIRE(c.pairs > 20);
  REQUIRE(c.tried.size() == ranker.grid.size());

  // Each source alone, as the ranker fits it, ranks as the evaluate row of that source with
  // the ranker's fixed settings, scored independently here.
  const std::vector<std::pair<ModelSpec, Params>> rows{
      {temporal_als_model(o), {{"gamma", 0.9}, {"eta", 0.1}}},
      {als_model(o), {{"factors", 32}, {"regularization", 10}}},
      {rp3beta_model(), {{"alpha", 1}, {"beta", 0.3}}},
      {item_knn_model({200}), {{"neighbours", 200}}},
      {recent_popularity_model(), {}}};
  double best_source = 0;
  for (std::size_t s = 0; s < rows.size(); ++s) {
    CAPTURE(s);
    const double want = validation_recall(d, validation, rows[s].first, rows[s].second, 20);
    const auto it = std::find_if(c.tried.begin(), c.tried.end(), [&](const auto& x) {
      return param(x.first, "source") == static_cast<double>(s);
    });
    REQUIRE(it != c.tried.end());
    CHECK(it->second == Approx(want).margin(1e-12));
    best_source = std::max(best_source, want);
  }
  for (const auto& [p, recall] : c.tried)
    if (param(p, "source") >= 0) best_source = std::max(best_source, recall);  // label_match too
  CHECK(c.recall >= best_source - 1e-12);
  CHECK(c.recall == Approx(validation_recall(d, validation, ranker, c.params, 20)).margin(1e-12));

  // evaluate() makes the same choice on its validation period, by recall@20 (the largest K).
  EvaluateOptions eo;
  eo.test_periods = 1;  // test: period 6; validation: 5
  eo.ks = {10, 20};
  eo.resamples = 20;
  eo.threads = 2;
  const EvaluationReport r = evaluate(d, {ranker}, eo);
  REQUIRE(r.validation_period == validation);
  double chosen = -1;
  for (const auto& t : r.validation["ranker"]) {
    CHECK(t["metric"] == "recall@20");
    chosen = std::max(chosen, t["value"].get<double>());
  }
  CHECK(chosen == Approx(c.recall).margin(1e-12));
  CHECK(r.hyperparameters["ranker"]["source"].get<double>() == param(c.params, "source"));
  // evaluate() scores the grid in one pass (each user's settings in a row on one thread, the
  // candidates kept between them): every setting's recall is the one scored setting by
  // setting above.
  REQUIRE(r.validation["ranker"].size() == c.tried.size());
  for (std::size_t g = 0; g < c.tried.size(); ++g) {
    CAPTURE(g);
    CHECK(r.validation["ranker"][g]["value"].get<double>() == Approx(c.tried[g].second).margin(1e-12));
  }
}

TEST_CASE("the ranker fitted after the period before it, reusing that fit's examples, equals a fresh fit",
          "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const EvaluationData d = driftrec::test::moving_popularity_data(seed);
  const LibraryModelOptions o = driftrec::test::small_library_options();
  const Params learned{{"source", -1}, {"l2", 0.01}};
  const ModelSpec warm = ranker_model(o);
  const Training before = make_training(d, 5), t = make_training(d, 6);
  (void)warm.fit(before, learned);  // makes the examples of period 4, which t's fit uses too
  const auto reused = warm.fit(t, learned);
  const auto fresh = ranker_model(o).fit(t, learned);
  CHECK(reused->note() == fresh->note());
  for (Index u = 0; u < t.n_users; ++u) {
    CAPTURE(u);
    std::vector<float> a(static_cast<std::size_t>(t.n_items)), b(a.size());
    reused->items(u, a);
    fresh->items(u, b);
    REQUIRE(a == b);
  }
}

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("the ranker row gives the same evaluation and scores bit for bit for 1 and 2 threads",
          "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const EvaluationData d = driftrec::test::moving_popularity_data(seed);
  std::vector<EvaluationReport> reports;
  std::vector<std::vector<std::vector<float>>> scores;  // per thread count: every user's item scores
  const Params learned{{"source", -1}, {"l2", 0.01}};
  for (int threads : {1, 2}) {
    LibraryModelOptions o = driftrec::test::small_library_options();
    o.threads = threads;
    EvaluateOptions eo;
    eo.test_periods = 2;  // the second test period's fit reuses the first's examples
    eo.ks = {10, 20};
    eo.resamples = 20;
    eo.threads = threads;
    reports.push_back(evaluate(d, {ranker_model(o)}, eo));
    const Training t = make_training(d, 6);
    const auto fitted = ranker_model(o).fit(t, learned);
    auto& per_user = scores.emplace_back();
    for (Index u = 0; u < t.n_users; ++u) {
      std::vector<float> out(static_cast<std::size_t>(t.n_items), 0.0f);
      fitted->items(u, out);
      per_user.push_back(std::move(out));
    }
  }
  const EvaluationReport& a = reports[0];
  const EvaluationReport& b = reports[1];
  CHECK(a.hyperparameters == b.hyperparameters);
  CHECK(a.notes == b.notes);
  REQUIRE(a.validation["ranker"].size() == b.validation["ranker"].size());
  for (std::size_t g = 0; g < a.validation["ranker"].size(); ++g) {
    CAPTURE(g);
    CHECK(same_bits(a.validation["ranker"][g]["value"].get<double>(), b.validation["ranker"][g]["value"].get<double>()));
  }
  REQUIRE(a.series.size() == b.series.size());
  for (std::size_t r = 0; r < a.series.size(); ++r) {
    CAPTURE(r);
    REQUIRE(a.series[r].value.size() == b.series[r].value.size());
    CHECK(a.series[r].defined == b.series[r].defined);
    CHECK(std::memcmp(a.series[r].value.data(), b.series[r].value.data(), a.series[r].value.size() * sizeof(double)) ==
          0);
  }
  for (std::size_t u = 0; u < scores[0].size(); ++u) {
    CAPTURE(u);
    REQUIRE(std::memcmp(scores[0][u].data(), scores[1][u].data(), scores[0][u].size() * sizeof(float)) == 0);
  }
}
