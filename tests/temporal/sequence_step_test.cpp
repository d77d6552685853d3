// temporal/sequence_step: stepping a trained model over appended periods from its saved
// state equals feeding the same weights the whole fed sequence computed from scratch with
// the window widened by the new periods (same summed head), bit for bit without new ids and
// within a stated tolerance with them; a state from train equals predict_next's. The same
// for the attention cell (its state: the keys and values of every period fed) and for the
// interest mixture on top (its running values against mixture_steps from scratch).
#include "temporal/sequence_step.hpp"

#include "temporal/mixture_fit.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::temporal;
using graph::Index;

namespace {

struct Log {
  std::vector<std::vector<graph::Event>> periods;  // events of each period
  graph::CsrMatrix item_labels;                    // every item x labels
  Index users = 0, items = 0, labels = 0;
};

// Random events: period p draws `per_period` events among users [0, users_before) and
// items [0, items_before) for p < first_new, among every user and item from first_new on.
Log random_log(std::uint64_t seed, int periods, int first_new, Index users, Index items, Index users_before,
               Index items_before, Index labels, int per_period) {
  std::mt19937_64 rng(seed);
  Log log;
  log.users = users;
  log.items = items;
  log.labels = labels;
  std::vector<graph::Triplet> entries;
  for (Index i = 0; i < items; ++i) {
    const Index first = static_cast<Index>(rng() % static_cast<std::uint64_t>(labels));
    entries.push_back({i, first, 1.0f});
    if (rng() % 2) entries.push_back({i, (first + 1 + static_cast<Index>(rng() % static_cast<std::uint64_t>(labels - 1))) % labels, 1.0f});
  }
  log.item_labels = graph::csr_from_triplets(items, labels, entries);
  for (int p = 0; p < periods; ++p) {
    const Index u_max = p < first_new ? users_before : users, i_max = p < first_new ? items_before : items;
    std::vector<graph::Event> e;
    for (int k = 0; k < per_period; ++k)
      e.push_back({static_cast<graph::Time>(p * 1000 + k), static_cast<Index>(rng() % static_cast<std::uint64_t>(u_max)),
                   static_cast<Index>(rng() % static_cast<std::uint64_t>(i_max)), 1.0f});
    log.periods.push_back(std::move(e));
  }
  return log;
}

// The first `periods` periods of `log` over the first `users` users and `items` items.
History history_of(const Log& log, int periods, Index users, Index items) {
  History h;
  h.n_users = users;
  h.n_items = items;
  h.n_labels = log.labels;
  std::vector<graph::Event> all;
  h.period_first.push_back(0);
  for (int p = 0; p < periods; ++p) {
    all.insert(all.end(), log.periods[static_cast<std::size_t>(p)].begin(), log.periods[static_cast<std::size_t>(p)].end());
    h.period_first.push_back(all.size());
  }
  h.events = graph::to_columns(std::move(all), 1);
  for (int p = 0; p < periods; ++p)
    h.slices.push_back(graph::slice_matrix(h.events, h.period_first[static_cast<std::size_t>(p)],
                                           h.period_first[static_cast<std::size_t>(p) + 1], users, items,
                                           graph::Aggregate::count));
  std::vector<graph::Triplet> entries;
  for (Index i = 0; i < items; ++i)
    for (graph::Offset k = log.item_labels.indptr[i]; k < log.item_labels.indptr[i + 1]; ++k)
      entries.push_back({i, log.item_labels.indices[k], log.item_labels.data[k]});
  h.item_labels = graph::csr_from_triplets(items, log.labels, entries);
  return h;
}

SequenceOptions small_options(CellKind cell, int window) {
  SequenceOptions o;
  o.model.cell = cell;
  o.model.hidden = 5;
  o.model.epochs = 3;
  o.model.batch_users = 16;
  o.model.threads = 2;
  o.als.als.factors = 3;
  o.als.als.threads = 2;
  o.propagation.propagation.threads = 2;
  o.window = window;
  return o;
}

std::vector<std::vector<float>> new_activity(const History& full, std::size_t from) {
  std::vector<std::vector<float>> a;
  for (std::size_t p = from; p < full.slices.size(); ++p)
    a.push_back(period_activity(full.events, full.period_first[p], full.period_first[p + 1], full.n_users));
  return a;
}

// predict_next (and the state it leaves) over sequence_features(full) with `window`.
struct Reference {
  SequenceFeatures features;
  Prediction next;
  RecurrentState state;
};
Reference reference(const SequenceModel& model, const History& full, SequenceOptions o, int window) {
  o.window = window;
  Reference r;
  r.features = sequence_features(full, o);
  const SequenceData data = assemble_sequences(r.features.inputs, o.features);
  r.next = predict_next(model, data, o.model.threads, &r.state);
  return r;
}

}  // namespace

namespace {

// A sequence model with its interest mixture, as train fits them, the mixture's state in
// the sequence state. The gate is forced on (only_expert = -1) so that every expert, the
// gate features and h enter the prediction.
struct WithMixture {
  TrainedSequence sequence;
  MixtureParameters mixture;
};
WithMixture train_with_mixture(const History& h, const SequenceOptions& o) {
  WithMixture w;
  w.sequence = train_sequence(h, o);
  TrainedMixture m = train_interest_mixture(h, w.sequence, o);
  w.mixture = m.fit.parameters;
  w.mixture.only_expert = -1;
  w.sequence.state.mixture = std::move(m.state);
  return w;
}

MixtureStepInputs mixture_inputs(const MixtureParameters& p, const History& full, std::size_t from) {
  MixtureStepInputs in;
  in.parameters = &p;
  for (std::size_t t = from; t < full.slices.size(); ++t) {
    in.truth.push_back(period_interest_truth(full.events, full.period_first[t], full.period_first[t + 1],
                                             full.item_labels, full.n_users));
    in.population.push_back(
        population_distribution(full.events, full.period_first[t], full.period_first[t + 1], full.item_labels));
  }
  return in;
}

// The mixture from scratch: mixture_steps over the features of every period of `full` with
// `window`, its last step through `p`; `state` receives the running values after it.
RowMatrix mixture_reference(const SequenceModel& model, const MixtureParameters& p, const History& full,
                            SequenceOptions o, int window, MixtureState& state) {
  o.window = window;
  const SequenceFeatures f = sequence_features(full, o);
  const SequenceData d = assemble_sequences(f.inputs, o.features);
  const std::vector<Matrix<float>> hidden = hidden_states(model, d, o.model.threads);
  const std::vector<MixtureBatch> steps =
      mixture_steps(d, f.inputs, population_distributions(full, window), hidden, nullptr, &state);
  return mixture_distribution(p, steps.back()).transpose().cast<float>();
}

}  // namespace

TEST_CASE("a trained model's saved state is predict_next's last state and its feature recurrences' last values",
          "[temporal][sequence_step]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  const Log log = random_log(seed, 6, 6, 40, 30, 40, 30, 4, 160);
  const History h = history_of(log, 6, 40, 30);
  const SequenceOptions o = small_options(CellKind::lstm, 3);  // 6 periods, window 3: a summed head
  const WithMixture m = train_with_mixture(h, o);
  const TrainedSequence& s = m.sequence;
  const Reference ref = reference(s.training.model, h, o, 3);
  // The interest mixture's running values are mixture_steps' own after the last period.
  MixtureState mixture;
  (void)mixture_reference(s.training.model, m.mixture, h, o, 3, mixture);
  REQUIRE(s.state.mixture);
  CHECK(s.state.mixture->ewma_short == mixture.ewma_short);
  CHECK(s.state.mixture->ewma_long == mixture.ewma_long);
  CHECK(s.state.mixture->labelled == mixture.labelled);
  CHECK(s.state.mixture->population == mixture.population);
  CHECK(s.state.fed_periods == 4);
  CHECK(s.state.periods == 6);
  CHECK(s.state.recurrent.hidden == ref.state.hidden);
  CHECK(s.state.recurrent.cell == ref.state.cell);
  CHECK(s.state.recurrent.cell.rows() == 40);
  CHECK(s.state.user_scores == ref.features.last_user_scores);
  CHECK(s.state.user_factors == ref.features.inputs.factors.back());
  CHECK(s.next.interests == ref.next.interests);
  // last_active: the last fed period with an event, by a direct scan of the fed periods.
  for (Index u = 0; u < h.n_users; ++u) {
    int last = -1;
    for (int p = 0; p < 6; ++p)
      for (const graph::Event& e : log.periods[static_cast<std::size_t>(p)])
        if (e.user == u) last = std::max(0, p - 2);  // periods 0..2 are summed into fed period 0
    CHECK(s.state.last_active[static_cast<std::size_t>(u)] == last);
  }
}

TEST_CASE("stepping forward equals predict_next over the whole sequence with the window widened, bit for bit",
          "[temporal][sequence_step]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  // cell, window, periods trained on, periods appended: with and without a summed head.
  struct Case {
    CellKind cell;
    int window, trained, added;
  };
  for (const Case c : {Case{CellKind::gru, 3, 7, 1}, Case{CellKind::lstm, 4, 7, 1}, Case{CellKind::gru, 24, 5, 2},
                       Case{CellKind::lstm, 2, 6, 3}, Case{CellKind::attention, 3, 7, 1},
                       Case{CellKind::attention, 24, 5, 2}, Case{CellKind::attention, 2, 6, 3}}) {
    CAPTURE(std::string(cell_name(c.cell)), c.window, c.trained, c.added);
    const int total = c.trained + c.added;
    // 53 users: the last chunk of 16 is partial, as in a real store.
    const Log log = random_log(seed + static_cast<std::uint64_t>(c.window), total, total, 53, 30, 53, 30, 4, 170);
    const History old = history_of(log, c.trained, 53, 30), full = history_of(log, total, 53, 30);
    const SequenceOptions o = small_options(c.cell, c.window);
    const WithMixture m = train_with_mixture(old, o);  // the interest mixture stepped too
    const TrainedSequence& s = m.sequence;
    const MixtureStepInputs in = mixture_inputs(m.mixture, full, static_cast<std::size_t>(c.trained));
    const SteppedSequence got = step_sequence(s.training.model, o, full.slices, full.item_labels,
                                              new_activity(full, static_cast<std::size_t>(c.trained)), s.state,
                                              s.item_factors, &in);
    const Reference want = reference(s.training.model, full, o, s.state.fed_periods - 1 + c.added);
    // The mixture: mixture_steps over the same widened features, its last step, bit for bit.
    MixtureState want_mixture;
    const RowMatrix want_next =
        mixture_reference(s.training.model, m.mixture, full, o, s.state.fed_periods - 1 + c.added, want_mixture);
    REQUIRE(got.mixture_next.rows() == 53);
    CHECK(got.mixture_next == want_next);
    CHECK(got.state.mixture->ewma_short == want_mixture.ewma_short);
    CHECK(got.state.mixture->ewma_long == want_mixture.ewma_long);
    CHECK(got.state.mixture->labelled == want_mixture.labelled);
    CHECK(got.state.mixture->population == want_mixture.population);
    CHECK(got.state.mixture->ewma_short != s.state.mixture->ewma_short);
    CHECK(got.state.fed_periods == s.state.fed_periods + c.added);
    CHECK(got.state.periods == total);
    CHECK(got.next.interests == want.next.interests);
    CHECK(got.next.factors == want.next.factors);
    CHECK(got.state.recurrent.hidden == want.state.hidden);
    CHECK(got.state.recurrent.cell == want.state.cell);
    // The attention cell's memory: the keys and values of every period fed, the new ones last.
    CHECK(got.state.recurrent.keys.size() == (c.cell == CellKind::attention ? static_cast<std::size_t>(got.state.fed_periods) : 0));
    CHECK(got.state.recurrent.keys == want.state.keys);
    CHECK(got.state.recurrent.values == want.state.values);
    CHECK(got.item_factors == want.features.item_factors);
    CHECK(got.state.user_factors == want.features.inputs.factors.back());
    CHECK(got.state.user_scores == want.features.last_user_scores);
    // The prediction moved: the new period was read.
    CHECK(got.next.interests != s.next.interests);
  }
}

TEST_CASE("stepping twice one period at a time equals stepping both periods at once", "[temporal][sequence_step]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  const CellKind cell = GENERATE(CellKind::gru, CellKind::attention);
  CAPTURE(std::string(cell_name(cell)));
  const Log log = random_log(seed, 8, 8, 37, 25, 37, 25, 3, 140);
  const History old = history_of(log, 6, 37, 25), mid = history_of(log, 7, 37, 25), full = history_of(log, 8, 37, 25);
  const SequenceOptions o = small_options(cell, 3);
  const WithMixture m = train_with_mixture(old, o);  // the interest mixture stepped too
  const TrainedSequence& s = m.sequence;
  const MixtureStepInputs in_both = mixture_inputs(m.mixture, full, 6), in_one = mixture_inputs(m.mixture, mid, 6),
                          in_two = mixture_inputs(m.mixture, full, 7);
  const SteppedSequence both = step_sequence(s.training.model, o, full.slices, full.item_labels, new_activity(full, 6),
                                             s.state, s.item_factors, &in_both);
  const SteppedSequence one = step_sequence(s.training.model, o, mid.slices, mid.item_labels, new_activity(mid, 6),
                                            s.state, s.item_factors, &in_one);
  const SteppedSequence two = step_sequence(s.training.model, o, full.slices, full.item_labels, new_activity(full, 7),
                                            one.state, one.item_factors, &in_two);
  CHECK(two.mixture_next == both.mixture_next);
  CHECK(two.state.mixture->ewma_long == both.state.mixture->ewma_long);
  CHECK(two.state.mixture->labelled == both.state.mixture->labelled);
  CHECK(two.state.mixture->population == both.state.mixture->population);
  CHECK(two.next.interests == both.next.interests);
  CHECK(two.next.factors == both.next.factors);
  CHECK(two.state.recurrent.hidden == both.state.recurrent.hidden);
  CHECK(two.state.recurrent.keys == both.state.recurrent.keys);
  CHECK(two.state.recurrent.values == both.state.recurrent.values);
  CHECK(two.state.last_active == both.state.last_active);
}

TEST_CASE("stepping with new users and items matches the recompute within the stated tolerance",
          "[temporal][sequence_step]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  const CellKind cell = GENERATE(CellKind::gru, CellKind::attention);
  CAPTURE(std::string(cell_name(cell)));
  // 6 new users and 5 new items that appear only in the appended period.
  const Log log = random_log(seed, 7, 6, 46, 35, 40, 30, 4, 160);
  const History old = history_of(log, 6, 40, 30), full = history_of(log, 7, 46, 35);
  const SequenceOptions o = small_options(cell, 3);
  const WithMixture m = train_with_mixture(old, o);
  const TrainedSequence& s = m.sequence;
  const MixtureStepInputs in = mixture_inputs(m.mixture, full, 6);
  const SteppedSequence got = step_sequence(s.training.model, o, full.slices, full.item_labels, new_activity(full, 6),
                                            s.state, s.item_factors, &in);
  const Reference want = reference(s.training.model, full, o, s.state.fed_periods);
  MixtureState want_mixture;
  const RowMatrix want_next =
      mixture_reference(s.training.model, m.mixture, full, o, s.state.fed_periods, want_mixture);
  REQUIRE(got.next.interests.rows() == 46);
  REQUIRE(got.state.recurrent.hidden.rows() == 46);
  // The recompute differs only through temporal ALS: there the seeded initial rows of the
  // new ids enter period 0's solves, and users and items without events come near 0, not
  // to it (sequence_step.hpp). The predicted distributions stay within kTolerance.
  constexpr float kTolerance = 5e-3f;
  const float interests = (got.next.interests - want.next.interests).cwiseAbs().maxCoeff();
  const float factors = (got.next.factors - want.next.factors).cwiseAbs().maxCoeff();
  const float scale = want.next.factors.cwiseAbs().maxCoeff();
  INFO("max |interests difference| " << interests << ", max |factor difference| " << factors << " of max |factor| "
                                     << scale);
  CHECK(interests <= kTolerance);
  CHECK(factors <= kTolerance * std::max(1.0f, scale));
  // The mixture's running values of new users are exact (no labelled period before they
  // came, as in the recompute); its prediction differs through h alone.
  CHECK(got.state.mixture->ewma_short == want_mixture.ewma_short);
  CHECK(got.state.mixture->labelled == want_mixture.labelled);
  const float mixture = (got.mixture_next - want_next).cwiseAbs().maxCoeff();
  INFO("max |mixture difference| " << mixture);
  CHECK(mixture <= kTolerance);
  // The attention cell's memory holds every period fed, new users' never-active rows too.
  if (cell == CellKind::attention) CHECK(got.state.recurrent.keys.size() == static_cast<std::size_t>(got.state.fed_periods));
  for (const RowMatrix& k : got.state.recurrent.keys) CHECK(k.rows() == 46);
  // Every row a distribution, new users included; a new user with events moved off the
  // never-active state every new user started from.
  for (Index u = 0; u < 46; ++u) CHECK(got.next.interests.row(u).sum() == Approx(1.0f).epsilon(1e-5));
  for (Index u = 40; u < 46; ++u) CHECK(got.state.last_active[static_cast<std::size_t>(u)] == (full.slices[6].row_length(u) > 0 ? 4 : -1));
}

TEST_CASE("stepping refuses a state that does not fit", "[temporal][sequence_step]") {
  const Log log = random_log(3, 6, 6, 30, 20, 30, 20, 3, 120);
  const History old = history_of(log, 5, 30, 20), full = history_of(log, 6, 30, 20);
  const SequenceOptions o = small_options(CellKind::gru, 3);
  const TrainedSequence s = train_sequence(old, o);
  // No new period.
  CHECK_THROWS_AS(step_sequence(s.training.model, o, old.slices, old.item_labels, {}, s.state, s.item_factors),
                  InputError);
  // A label the model has never read.
  graph::CsrMatrix more_labels = full.item_labels;
  more_labels.n_cols += 1;
  CHECK_THROWS_WITH(step_sequence(s.training.model, o, full.slices, more_labels, new_activity(full, 5), s.state,
                                  s.item_factors),
                    Catch::Contains("cannot take new labels"));
  // Activity missing for the new period.
  CHECK_THROWS_AS(step_sequence(s.training.model, o, full.slices, full.item_labels, {}, s.state, s.item_factors),
                  InputError);
}

TEST_CASE("stepping refuses mixture inputs that do not match the state", "[temporal][sequence_step][mixture]") {
  const Log log = random_log(5, 7, 7, 30, 20, 30, 20, 3, 120);
  const History old = history_of(log, 6, 30, 20), full = history_of(log, 7, 30, 20);
  const SequenceOptions o = small_options(CellKind::gru, 3);
  const WithMixture m = train_with_mixture(old, o);
  const MixtureStepInputs in = mixture_inputs(m.mixture, full, 6);
  // A state with the mixture's running values needs its inputs, and one without refuses them.
  CHECK_THROWS_WITH(step_sequence(m.sequence.training.model, o, full.slices, full.item_labels, new_activity(full, 6),
                                  m.sequence.state, m.sequence.item_factors),
                    Catch::Contains("no mixture inputs"));
  SequenceState bare = m.sequence.state;
  bare.mixture.reset();
  CHECK_THROWS_WITH(step_sequence(m.sequence.training.model, o, full.slices, full.item_labels, new_activity(full, 6),
                                  bare, m.sequence.item_factors, &in),
                    Catch::Contains("holds no interest mixture"));
  MixtureStepInputs short_in = in;
  short_in.population.clear();
  CHECK_THROWS_AS(step_sequence(m.sequence.training.model, o, full.slices, full.item_labels, new_activity(full, 6),
                                m.sequence.state, m.sequence.item_factors, &short_in),
                  InputError);
  // An attention state without its keys and values (a result saved before they were kept).
  const TrainedSequence a = train_sequence(old, small_options(CellKind::attention, 3));
  SequenceState no_memory = a.state;
  no_memory.recurrent.keys.clear();
  no_memory.recurrent.values.clear();
  CHECK_THROWS_WITH(step_sequence(a.training.model, small_options(CellKind::attention, 3), full.slices,
                                  full.item_labels, new_activity(full, 6), no_memory, a.item_factors),
                    Catch::Contains("keys of 0"));
}
