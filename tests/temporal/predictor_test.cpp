// Prediction: the planted model predicts every user's next label, the batched and the
// one-user predictions agree, results do not depend on the thread count, and shape
// mismatches are refused.
#include "temporal/predictor.hpp"

#include <catch2/catch.hpp>

#include "graph/types.hpp"
#include "tests/temporal/planted.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;
using driftrec::InputError;

TEST_CASE("the planted model predicts each user's next label and factor", "[temporal]") {
  const int users = 18, periods = 11;  // 18 users: chunks of 16 and 2
  const SequenceData d = assemble_sequences(planted_inputs(users, periods, true));
  for (CellKind cell : {CellKind::gru, CellKind::lstm}) {
    INFO(cell_name(cell));
    const TrainingResult r = train_sequence_model(d, planted_options(cell, 21));
    const Prediction p = predict_next(r.model, d, 1);
    REQUIRE(p.interests.rows() == users);
    REQUIRE(p.interests.cols() == 3);
    REQUIRE(p.factors.cols() == 2);
    for (int u = 0; u < users; ++u) {
      INFO("user " << u);
      const int next = planted_label(u, periods);  // the period after the last
      CHECK(p.interests.row(u).sum() == Approx(1.0).epsilon(1e-5));
      CHECK(p.interests(u, next) > 0.95);
      CHECK(p.factors(u, 0) == Approx(std::cos(2.0 * next)).margin(0.1));
      CHECK(p.factors(u, 1) == Approx(std::sin(2.0 * next)).margin(0.1));
    }
    // The batched prediction equals one-user prediction and any thread count.
    const Prediction p2 = predict_next(r.model, d, 2);
    CHECK(p2.interests == p.interests);
    CHECK(p2.factors == p.factors);
    for (int u : {0, 5, 17}) {
      Matrix<float> z(d.input_size(), periods);
      for (int t = 0; t < periods; ++t) z.col(t) = d.features(t).col(u);
      const UserPrediction one = predict_user(r.model, z);
      CHECK((one.interests.transpose() - p.interests.row(u)).cwiseAbs().maxCoeff() < 1e-5);
      CHECK((one.factor.transpose() - p.factors.row(u)).cwiseAbs().maxCoeff() < 1e-5);
    }
  }
}

TEST_CASE("prediction refuses data or features of another shape", "[temporal]") {
  SequenceModel m;
  m.parameters = initial_parameters(CellKind::gru, {5, 4, 3, 0}, 1);
  const SequenceData with_factors = assemble_sequences(planted_inputs(3, 4, true));
  CHECK_THROWS_AS(predict_next(m, with_factors), driftrec::InputError);
  CHECK_THROWS_WITH(predict_user(m, Matrix<float>::Zero(7, 2)), Catch::Contains("expected 5 rows"));
  CHECK_THROWS_AS(predict_user(m, Matrix<float>::Zero(5, 0)), driftrec::InputError);
  const SequenceData fits = assemble_sequences(planted_inputs(3, 4, false));
  CHECK(predict_next(m, fits).interests.rows() == 3);
}

TEST_CASE("reading the first periods of the data predicts what the data of those periods does, state included",
          "[temporal]") {
  const int users = 18, periods = 9;
  const SequenceInputs in = planted_inputs(users, periods, true);
  const SequenceData d = assemble_sequences(in);
  for (const int read : {1, 4, periods - 1}) {
    // The reference: the data assembled from the first `read` periods alone.
    SequenceInputs head = in;
    head.interests.resize(read);
    head.factors.resize(read);
    head.activity.resize(read);
    head.interest_truth.resize(read);
    const SequenceData short_d = assemble_sequences(head);
    for (CellKind cell : {CellKind::gru, CellKind::lstm, CellKind::attention}) {
      INFO(cell_name(cell) << ", " << read << " of " << periods << " periods");
      SequenceModel m;
      m.parameters = initial_parameters(cell, {d.input_size(), 6, d.labels, d.factor_size}, 7);
      RecurrentState got_state, want_state;
      const Prediction got = predict_next(m, d, 2, &got_state, read);
      const Prediction want = predict_next(m, short_d, 2, &want_state);
      CHECK(got.interests == want.interests);
      CHECK(got.factors == want.factors);
      CHECK(got_state.hidden == want_state.hidden);
      CHECK(got_state.cell == want_state.cell);
      CHECK(got_state.keys == want_state.keys);
      CHECK(got_state.values == want_state.values);
    }
  }
  SequenceModel m;
  m.parameters = initial_parameters(CellKind::gru, {d.input_size(), 6, d.labels, d.factor_size}, 7);
  CHECK(predict_next(m, d, 1, nullptr, 0).interests == predict_next(m, d, 1).interests);  // 0: every period
  CHECK_THROWS_WITH(predict_next(m, d, 1, nullptr, periods + 1), Catch::Contains("`periods`"));
  CHECK_THROWS_WITH(predict_next(m, d, 1, nullptr, -1), Catch::Contains("`periods`"));
}
