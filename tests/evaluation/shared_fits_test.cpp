// The ranker's sources served from the other rows' fits (shared_fits.hpp): an evaluation of
// item_knn, rp3beta, als, label_propagation, temporal_als and the ranker gives bit for bit
// the same series, validation values and choices with the shared fits as with every fit
// made afresh, and the ranker is actually served (fits reused, not recomputed).
#include <catch2/catch.hpp>

#include <memory>

#include "evaluation/evaluate.hpp"
#include "evaluation/item_knn.hpp"
#include "evaluation/library_models.hpp"
#include "evaluation/ranker_model.hpp"
#include "tests/evaluation/moving_data.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
namespace {

std::vector<ModelSpec> rows(const LibraryModelOptions& o) {
  return {item_knn_model(default_item_knn_neighbours(), o.shared_fits), rp3beta_model(o.shared_fits), als_model(o),
          label_propagation_model(o), temporal_als_model(o), ranker_model(o)};
}

}  // namespace

TEST_CASE("the ranker's sources shared with the other rows' fits give the same evaluation bit for bit",
          "[evaluation][ranker][shared_fits]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const EvaluationData d = driftrec::test::moving_popularity_data(seed);
  const LibraryModelOptions o = driftrec::test::small_library_options(seed);
  EvaluateOptions e;
  e.test_periods = 2;
  e.threads = 2;

  const ModelOutcomes fresh = evaluate_models(d, rows(o), e);
  LibraryModelOptions shared = o;
  shared.shared_fits = std::make_shared<SharedFits>();
  const ModelOutcomes reused = evaluate_models(d, rows(shared), e);

  // Validation (the ranker's five sources at V) and both test periods: temporal ALS, ALS
  // and item-KNN whenever the rows chose the ranker's settings; at least the validation's.
  CHECK(shared.shared_fits->served() >= 4);
  REQUIRE(fresh.models.size() == reused.models.size());
  CHECK(fresh.pairs.size() == reused.pairs.size());
  for (std::size_t m = 0; m < fresh.models.size(); ++m) {
    CAPTURE(m);
    const ModelOutcome &a = fresh.models[m], &b = reused.models[m];
    CHECK(a.chosen == b.chosen);
    CHECK(a.validation == b.validation);
    CHECK(a.period_notes == b.period_notes);
    REQUIRE(a.series.size() == b.series.size());
    for (std::size_t s = 0; s < a.series.size(); ++s) {
      CAPTURE(s);
      CHECK(a.series[s].value == b.series[s].value);
      CHECK(a.series[s].defined == b.series[s].defined);
    }
  }
}
