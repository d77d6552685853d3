// The whole run: no model sees an event of the period it predicts (poisoning that period
// leaves every prediction unchanged, while a deliberately leaky model is caught), results
// are fixed by the seed, the JSON report has the required shape, and planted truth is read.
#include <catch2/catch.hpp>
#include <cstring>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "evaluation/baselines.hpp"
#include "evaluation/evaluate.hpp"
#include "evaluation/item_knn.hpp"
#include "evaluation/registry.hpp"
#include "evaluation/report.hpp"
#include "evaluation/truth.hpp"
#include "graph/random.hpp"
#include "tests/evaluation/hand_data.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

namespace {

constexpr Index kUsers = 60, kItems = 40, kLabels = 5;
constexpr Index kLate = 50;  // users kLate.. have events only in the last period (5)

// Six periods of 100 s. With poison, the late users also touch the 4 least popular items heavily in
// period 4, the first test period: they have no history before it, so they are not
// evaluated there and no evaluated user's truth changes -- only a model that looks at
// period 4 can notice.
EvaluationData drift_data(std::uint64_t seed, bool poison) {
  graph::Rng rng(seed, 9, 0);
  std::vector<graph::Triplet> labels;
  for (Index i = 0; i < kItems; ++i) {
    labels.push_back({i, i % kLabels, 1});
    if (i % 3 == 0) labels.push_back({i, (i + 1) % kLabels, 1});
  }
  std::vector<graph::Event> ev;
  for (Index i = 0; i < 4; ++i) ev.push_back({1 + i, 0, kItems - 1 - i, 1.0f});  // the poisoned items are candidates
  for (int p = 0; p < 6; ++p)
    for (Index u = 0; u < kLate; ++u) {
      if (rng.below(2) == 0) continue;
      const int n = 1 + static_cast<int>(rng.below(4));
      for (int k = 0; k < n; ++k) {
        const auto item = static_cast<Index>(rng.below(rng.below(kItems) + 1));  // skewed
        ev.push_back({p * 100 + 5 + static_cast<graph::Time>(rng.below(90)), u, item, 1.0f});
      }
    }
  for (Index u = kLate; u < kUsers; ++u) ev.push_back({510, u, static_cast<Index>(u % kItems), 1.0f});
  if (poison)
    for (Index u = kLate; u < kUsers; ++u)
      for (int k = 0; k < 20; ++k) ev.push_back({400 + k, u, kItems - 1 - k % 4, 1.0f});
  graph::sort_events(ev);
  return make_evaluation_data(kUsers, kItems, graph::csr_from_triplets(kItems, kLabels, labels),
                              graph::to_columns(std::move(ev)), graph::Slicing::parse("100s"),
                              graph::Aggregate::count);
}

std::vector<ModelSpec> small_models() {
  LibraryModelOptions o;
  o.window = 3;
  o.als_iterations = 4;
  return default_models(o);
}

// Every row's (defined, value) on the pairs of `period`, with those pairs' users.
struct PeriodValues {
  std::vector<Index> users;
  std::vector<std::vector<std::pair<int, double>>> rows;
};
PeriodValues values_in(const EvaluationReport& r, std::size_t period) {
  PeriodValues v;
  v.rows.resize(r.rows.size());
  for (std::size_t i = 0; i < r.pairs.size(); ++i) {
    if (r.pairs[i].period != period) continue;
    v.users.push_back(r.pairs[i].user);
    for (std::size_t s = 0; s < r.rows.size(); ++s)
      v.rows[s].push_back({r.series[s].defined[i], r.series[s].value[i]});
  }
  return v;
}

}  // namespace

TEST_CASE("poisoning a test period changes no prediction for it", "[evaluation]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  const EvaluationData clean = drift_data(seed, false), poisoned = drift_data(seed, true);
  REQUIRE(clean.periods.size() == 6);
  REQUIRE(poisoned.periods.size() == 6);
  EvaluateOptions o;
  o.test_periods = 2;  // tests: periods 4 and 5; validation: 3
  o.ks = {5, 10};
  o.resamples = 50;
  const auto models = small_models();
  const EvaluationReport a = evaluate(clean, models, o);
  const EvaluationReport b = evaluate(poisoned, models, o);
  REQUIRE(a.rows.size() == b.rows.size());
  CHECK(a.hyperparameters == b.hyperparameters);  // chosen on validation, before period 4

  const PeriodValues va = values_in(a, 4), vb = values_in(b, 4);
  REQUIRE(va.users.size() > 10);
  CHECK(va.users == vb.users);
  for (Index u : va.users) CHECK(u < kLate);
  std::set<std::string> models_checked;
  for (std::size_t s = 0; s < a.rows.size(); ++s) {
    INFO(a.rows[s].model << " " << a.rows[s].task << " " << a.rows[s].metric);
    CHECK(va.rows[s] == vb.rows[s]);
    models_checked.insert(a.rows[s].model);
  }
  CHECK(models_checked == std::set<std::string>{"popularity", "recent_popularity", "last_period", "ewma", "item_knn", "rp3beta", "als",
                                        "label_propagation", "temporal_als", "sequence_gru", "sequence_lstm", "sequence_attention",
                                        "hybrid", "mixture", "ranker"});
}

TEST_CASE("the poisoning check catches a model that looks at its test period", "[evaluation]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  const EvaluationData clean = drift_data(seed, false), poisoned = drift_data(seed, true);
  // Popularity (items and labels) counted through the end of the predicted period: a leak.
  auto leaky = [](const EvaluationData* d) {
    ModelSpec m = popularity_model();
    m.name = "leaky";
    m.fit = [d](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
      struct Counts : FittedModel {
        std::vector<float> c, l;
        void items(Index, std::span<float> out) const override { std::copy(c.begin(), c.end(), out.begin()); }
        void interest(Index, std::span<float> out) const override { std::copy(l.begin(), l.end(), out.begin()); }
      };
      auto m = std::make_unique<Counts>();
      m->c.assign(static_cast<std::size_t>(d->n_items), 0.0f);
      const std::size_t end = d->period_first[t.period + 1];
      for (std::size_t k = 0; k < end; ++k) m->c[static_cast<std::size_t>(d->events.item[k])] += 1;
      const auto labels = label_distribution(d->events, 0, end, -1, d->item_labels);
      m->l.assign(labels.begin(), labels.end());
      return m;
    };
    return m;
  };
  EvaluateOptions o;
  o.test_periods = 2;
  o.ks = {1};
  o.resamples = 10;
  const EvaluationReport a = evaluate(clean, {leaky(&clean)}, o);
  const EvaluationReport b = evaluate(poisoned, {leaky(&poisoned)}, o);
  const PeriodValues va = values_in(a, 4), vb = values_in(b, 4);
  bool changed = false;
  for (std::size_t s = 0; s < a.rows.size(); ++s) changed = changed || va.rows[s] != vb.rows[s];
  CHECK(changed);
}

TEST_CASE("evaluate is fixed by the seed, and its JSON has the required shape", "[evaluation]") {
  const EvaluationData d = drift_data(driftrec::test::test_seed(), false);
  EvaluateOptions o;
  o.test_periods = 2;
  o.ks = {3, 7};
  o.seed = 5;
  o.resamples = 100;
  const auto models = small_models();
  const EvaluationReport a = evaluate(d, models, o), b = evaluate(d, models, o);
  REQUIRE(a.rows.size() == b.rows.size());
  for (std::size_t s = 0; s < a.rows.size(); ++s) {
    CHECK(a.rows[s].estimate.value == b.rows[s].estimate.value);
    CHECK(a.rows[s].estimate.lo == b.rows[s].estimate.lo);
    CHECK(a.rows[s].estimate.hi == b.rows[s].estimate.hi);
  }

  ReportContext c;
  c.seed = 5;
  c.resamples = 100;
  const nlohmann::json j = report_json(a, c);
  for (const char* key : {"store", "slicing", "test_periods", "users_evaluated", "results"}) CHECK(j.contains(key));
  CHECK(j["store"].is_string());
  CHECK(j["slicing"] == "100s");
  CHECK(j["test_periods"] == nlohmann::json{"1970-01-01T00:06:40Z/1970-01-01T00:08:20Z",
                                            "1970-01-01T00:08:20Z/1970-01-01T00:10:00Z"});
  CHECK(j["users_evaluated"].is_number_integer());
  CHECK(j["users_evaluated"].get<std::size_t>() == a.pairs.size());
  const std::set<std::string> metrics{"cross_entropy", "kl", "recall@3", "ndcg@3", "new_label_recall@3",
                                      "hr@3", "recall@7", "ndcg@7", "hr@7"};
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& row : j["results"]) {
    CHECK(row.size() == 6);
    CHECK(row["model"].is_string());
    CHECK((row["task"] == "interest" || row["task"] == "item"));
    CHECK(metrics.count(row["metric"].get<std::string>()) == 1);
    CHECK(row["value"].is_number_float());
    REQUIRE(row["ci95"].is_array());
    REQUIRE(row["ci95"].size() == 2);
    CHECK(row["ci95"][0].get<double>() <= row["value"].get<double>() + 1e-12);
    CHECK(row["value"].get<double>() <= row["ci95"][1].get<double>() + 1e-12);
    CHECK(row["users"].is_number_integer());
    CHECK(row["users"].get<std::int64_t>() > 0);
    seen.insert({row["model"].get<std::string>(), row["metric"].get<std::string>()});
  }
  CHECK(seen.count({"popularity", "recall@7"}) == 1);
  CHECK(seen.count({"popularity", "cross_entropy"}) == 1);
  CHECK(seen.count({"ewma", "kl"}) == 1);
  CHECK(seen.count({"item_knn", "hr@3"}) == 1);
  CHECK(seen.count({"temporal_als", "ndcg@3"}) == 1);
  CHECK(seen.count({"label_propagation", "recall@3"}) == 1);
  CHECK(seen.count({"item_knn", "cross_entropy"}) == 0);  // item-only model
  CHECK(j["hyperparameters"]["ewma"].contains("half_life"));
  CHECK(j["hyperparameters"]["als"].contains("regularization"));
}

TEST_CASE("planted truth is matched by user, label and period begin", "[evaluation]") {
  const EvaluationData d = test::hand_data();  // users "0".."4", labels "0".."2"
  test::TempDir dir;
  const auto path = (dir / "truth.csv").string();
  test::write_file(path,
                   "user,period,begin,label,weight\n"
                   "3,3,30,1,0.6\n"
                   "3,3,30,g99,0.4\n"    // a label the store does not know: dropped
                   "0,3,30,0,0.25\n"
                   "0,3,30,2,0.75\n"
                   "ghost,3,30,0,1\n"    // a user the store does not know: ignored
                   "0,0,0,1,1\n");       // not a test period: ignored
  const std::vector<std::size_t> periods{3};
  const PlantedTruth t = read_planted_truth(path, d, periods);
  REQUIRE(t.interests.size() == 2);
  CHECK(t.interests.at({3, 3}) == std::vector<double>{0, 1, 0});  // renormalised
  CHECK(t.interests.at({3, 0}) == std::vector<double>{0.25, 0, 0.75});
  CHECK_THAT(t.description, Catch::Contains("1 rows of users the store does not know"));

  test::write_file(path, "user,period,begin,label,weight\n3,3,30,1,heavy\n");
  CHECK_THROWS_WITH(read_planted_truth(path, d, periods), Catch::Contains(":2") && Catch::Contains("weight"));
  test::write_file(path, "user,period,begin,label,weight\n3,3,31,1,1\n");
  CHECK_THROWS_WITH(read_planted_truth(path, d, periods), Catch::Contains("no row begins at a test period"));

  // With the truth, interest models get interest_truth rows: popularity at P3 predicts
  // {0.4, 0.3, 0.3} for everyone; pairs (u0, P3) and (u3, P3) are evaluated.
  test::write_file(path, "user,period,begin,label,weight\n3,3,30,1,1\n0,3,30,0,1\n");
  const PlantedTruth t2 = read_planted_truth(path, d, periods);
  EvaluateOptions o;
  o.test_periods = 2;  // periods 3 and 4; validation 2
  o.truth = &t2;
  o.resamples = 20;
  const EvaluationReport r = evaluate(d, {popularity_model(), last_period_model()}, o);
  const ResultRow* ce = nullptr;
  for (const auto& row : r.rows)
    if (row.model == "popularity" && row.task == "interest_truth" && row.metric == "cross_entropy") ce = &row;
  REQUIRE(ce != nullptr);
  CHECK(ce->estimate.n == 2);
  const double z = 1.0;  // no entry below the floor
  CHECK(ce->estimate.value == Approx((-std::log(0.3 / z) - std::log(0.4 / z)) / 2).epsilon(1e-6));
}

TEST_CASE("evaluate gives the same series and intervals for 1 and 2 threads", "[evaluation]") {
  const EvaluationData d = drift_data(driftrec::test::test_seed(), false);
  const std::vector<ModelSpec> models{popularity_model(), last_period_model(), item_knn_model(), rp3beta_model()};
  EvaluateOptions o;
  o.test_periods = 2;
  o.ks = {3};
  o.resamples = 100;
  o.threads = 1;
  const EvaluationReport one = evaluate(d, models, o);
  o.threads = 2;
  const EvaluationReport two = evaluate(d, models, o);
  REQUIRE(one.rows.size() == two.rows.size());
  REQUIRE(!one.pairs.empty());
  for (std::size_t s = 0; s < one.rows.size(); ++s) {
    INFO(one.rows[s].model << " " << one.rows[s].metric);
    CHECK(one.series[s].value == two.series[s].value);
    CHECK(one.series[s].defined == two.series[s].defined);
    CHECK(one.rows[s].estimate.value == two.rows[s].estimate.value);
    CHECK(one.rows[s].estimate.lo == two.rows[s].estimate.lo);
    CHECK(one.rows[s].estimate.hi == two.rows[s].estimate.hi);
  }
  CHECK(one.fallbacks == two.fallbacks);
  o.threads = -1;
  REQUIRE_THROWS_MATCHES(evaluate(d, models, o), InputError,
                         Catch::Matchers::Message("threads: expected 0 (OpenMP's default) or a positive count, got -1"));
}

TEST_CASE("an error a model throws while scoring a pair comes out of evaluate with its type",
          "[evaluation]") {
  const EvaluationData d = drift_data(driftrec::test::test_seed(), false);
  ModelSpec failing = popularity_model();
  failing.name = "failing";
  failing.fit = [](const Training&, const Params&) -> std::unique_ptr<FittedModel> {
    struct Failing : FittedModel {
      void items(Index user, std::span<float>) const override {
        // Every user: a condition on the id could miss every pair a random seed evaluates.
        throw NumericalError(fmt::format("user {}: scores are not finite", user));
      }
      void interest(Index, std::span<float> out) const override { std::fill(out.begin(), out.end(), 1.0f); }
    };
    return std::make_unique<Failing>();
  };
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    EvaluateOptions o;
    o.test_periods = 2;
    o.ks = {3};
    o.resamples = 10;
    o.threads = threads;
    REQUIRE_THROWS_MATCHES(evaluate(d, {failing}, o), NumericalError,
                           Catch::Matchers::Predicate<std::exception>(
                               [](const std::exception& e) {
                                 return std::string_view(e.what()).find(": scores are not finite") !=
                                        std::string_view::npos;
                               },
                               "names the user and the failure"));
  }
}

TEST_CASE("models evaluated apart and assembled give evaluate's report", "[evaluation]") {
  // driftrec-mpi evaluate's split: each "rank" builds its own model list (no cache shared
  // across ranks) and evaluates its rows; the outcomes assembled equal one evaluate().
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const EvaluationData d = drift_data(seed, false);
  EvaluateOptions o;
  o.test_periods = 2;
  o.ks = {3, 7};
  o.seed = 11;
  o.resamples = 200;
  const std::vector<ModelSpec> models = small_models();
  const EvaluationReport whole = evaluate(d, models, o);

  // Rank r takes the rows m with m % 3 == r, except that the sequence rows (sharing one
  // GRU fit) go together to rank 2.
  const int ranks = 3;
  std::vector<int> owner(models.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    const std::string& n = models[m].name;
    const bool sequence = n.starts_with("sequence_") || n == "hybrid" || n == "mixture";
    owner[m] = sequence ? 2 : static_cast<int>(m % 3);
  }
  ModelOutcomes merged;
  merged.models.resize(models.size());
  for (int r = 0; r < ranks; ++r) {
    std::vector<bool> mine(models.size());
    for (std::size_t m = 0; m < models.size(); ++m) mine[m] = owner[m] == r;
    ModelOutcomes part = evaluate_models(d, small_models(), o, mine);
    REQUIRE(part.models.size() == models.size());
    for (std::size_t m = 0; m < models.size(); ++m) {
      CHECK(part.models[m].evaluated == mine[m]);
      if (mine[m]) merged.models[m] = std::move(part.models[m]);
    }
    if (r == 0) merged.pairs = std::move(part.pairs);
  }
  const EvaluationReport apart = assemble_report(d, models, o, std::move(merged));

  REQUIRE(apart.rows.size() == whole.rows.size());
  REQUIRE(apart.pairs.size() == whole.pairs.size());
  for (std::size_t i = 0; i < whole.pairs.size(); ++i) {
    CHECK(apart.pairs[i].user == whole.pairs[i].user);
    CHECK(apart.pairs[i].period == whole.pairs[i].period);
  }
  for (std::size_t s = 0; s < whole.rows.size(); ++s) {
    INFO(whole.rows[s].model << " " << whole.rows[s].task << " " << whole.rows[s].metric);
    CHECK(apart.rows[s].model == whole.rows[s].model);
    CHECK(apart.rows[s].metric == whole.rows[s].metric);
    CHECK(apart.series[s].value == whole.series[s].value);
    CHECK(apart.series[s].defined == whole.series[s].defined);
    const Estimate &a = apart.rows[s].estimate, &w = whole.rows[s].estimate;
    CHECK(a.n == w.n);
    // Bitwise, NaN included (rows no pair defines).
    CHECK(std::memcmp(&a.value, &w.value, sizeof(double)) == 0);
    CHECK(std::memcmp(&a.lo, &w.lo, sizeof(double)) == 0);
    CHECK(std::memcmp(&a.hi, &w.hi, sizeof(double)) == 0);
  }
  CHECK(apart.notes == whole.notes);
  CHECK(apart.hyperparameters == whole.hyperparameters);
  CHECK(apart.validation == whole.validation);
  CHECK(apart.fallbacks == whole.fallbacks);
  CHECK(apart.seconds.size() == whole.seconds.size());

  // A model left out of every part cannot be assembled.
  ModelOutcomes missing = evaluate_models(d, models, o, std::vector<bool>(models.size(), false));
  CHECK(missing.pairs.size() == whole.pairs.size());
  CHECK_THROWS_AS(assemble_report(d, models, o, std::move(missing)), std::invalid_argument);
}

TEST_CASE("a row's label ranking orders its label metrics; its distribution keeps the cross-entropy",
          "[evaluation]") {
  const EvaluationData d = drift_data(driftrec::test::test_seed(), false);
  // Scores rising with the label index (p's order: 4, 3, 2) or falling (0, 1, 2).
  auto model = [](std::string name, bool falling_p, bool ranking) {
    ModelSpec m = popularity_model();
    m.name = std::move(name);
    m.item = false;
    m.fit = [falling_p, ranking](const Training&, const Params&) -> std::unique_ptr<FittedModel> {
      struct Fixed : FittedModel {
        bool falling_p = false, ranking = false;
        void interest(Index, std::span<float> out) const override {
          for (std::size_t l = 0; l < out.size(); ++l)
            out[l] = static_cast<float>(falling_p ? out.size() - l : 1 + l);
        }
        bool label_ranking(Index, std::span<float> out) const override {
          for (std::size_t l = 0; l < out.size(); ++l) out[l] = static_cast<float>(out.size() - l);
          return ranking;
        }
      };
      auto f = std::make_unique<Fixed>();
      f->falling_p = falling_p;
      f->ranking = ranking;
      return f;
    };
    return m;
  };
  EvaluateOptions o;
  o.test_periods = 2;
  o.ks = {3};
  o.resamples = 10;
  const EvaluationReport r =
      evaluate(d, {model("rising", false, false), model("falling", true, false), model("ranked", false, true)}, o);
  auto series = [&](const std::string& name, const std::string& metric) {
    for (std::size_t s = 0; s < r.rows.size(); ++s)
      if (r.rows[s].model == name && r.rows[s].task == "interest" && r.rows[s].metric == metric) return r.series[s];
    FAIL("no row " << name << " " << metric);
    return Series{};
  };
  for (const char* metric : {"cross_entropy", "kl"}) {
    INFO(metric);
    CHECK(series("ranked", metric).value == series("rising", metric).value);
  }
  for (const char* metric : {"recall@3", "ndcg@3", "new_label_recall@3"}) {
    INFO(metric);
    CHECK(series("ranked", metric).value == series("falling", metric).value);
    CHECK(series("ranked", metric).defined == series("falling", metric).defined);
    CHECK(series("ranked", metric).value != series("rising", metric).value);
  }
}
