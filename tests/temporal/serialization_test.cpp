// Serialisation: serialise -> deserialise gives the same parameters, options and
// predictions bit for bit; corrupted attributes or tensors are refused by name.
#include "temporal/serialization.hpp"

#include <catch2/catch.hpp>

#include "graph/types.hpp"
#include "temporal/predictor.hpp"
#include "tests/temporal/planted.hpp"

using namespace driftrec::temporal;
using namespace driftrec::temporal::testing;
using driftrec::InputError;

namespace {

SequenceModel trained(CellKind cell, const SequenceData& d) {
  SequenceModelOptions o;
  o.cell = cell;
  o.hidden = 5;
  o.epochs = 3;
  o.learning_rate = 0.0137f;
  o.factor_weight = 0.3f;
  o.l2 = 1e-4f;
  o.seed = 0xFFFFFFFFFFFFFFF1ULL;
  o.threads = 1;
  return train_sequence_model(d, o).model;
}

void set_attribute(SerializedModel& s, const std::string& key, const std::string& value) {
  for (auto& [k, v] : s.attributes)
    if (k == key) v = value;
}

}  // namespace

TEST_CASE("serialise -> deserialise round trip gives identical predictions", "[temporal]") {
  const SequenceData d = assemble_sequences(planted_inputs(9, 5, true), FeatureOptions{7});
  for (CellKind cell : {CellKind::gru, CellKind::lstm}) {
    INFO(cell_name(cell));
    const SequenceModel m = trained(cell, d);
    const SerializedModel s = serialize_model(m);
    REQUIRE(s.tensors.size() == kTensorCount);
    CHECK(s.tensors[kCellInput].name == "cell_input");
    CHECK(s.tensors[kCellInput].rows == gate_count(cell) * 5);
    CHECK(s.tensors[kCellInput].cols == d.input_size());
    // Row-major: entry (1, 2) is at 1 * cols + 2.
    CHECK(s.tensors[kCellInput].data[1 * d.input_size() + 2] == m.parameters[kCellInput](1, 2));
    const SequenceModel back = deserialize_model(s);
    CHECK(back.parameters.cell == cell);
    for (std::size_t k = 0; k < kTensorCount; ++k) CHECK(back.parameters[k] == m.parameters[k]);
    CHECK(back.options.learning_rate == m.options.learning_rate);
    CHECK(back.options.factor_weight == m.options.factor_weight);
    CHECK(back.options.l2 == m.options.l2);
    CHECK(back.options.seed == m.options.seed);
    CHECK(back.features.gap_cap == 7);
    const Prediction a = predict_next(m, d, 1), b = predict_next(back, d, 1);
    CHECK(a.interests == b.interests);
    CHECK(a.factors == b.factors);
  }
}

TEST_CASE("deserialisation refuses corrupted models, naming the problem", "[temporal]") {
  const SequenceData d = assemble_sequences(planted_inputs(4, 4, false));
  const SerializedModel good = serialize_model(trained(CellKind::lstm, d));
  CHECK_NOTHROW(deserialize_model(good));
  const auto refuses = [&](auto corrupt, const char* message) {
    SerializedModel s = good;
    corrupt(s);
    CHECK_THROWS_WITH(deserialize_model(s), Catch::Contains(message));
    CHECK_THROWS_AS(deserialize_model(s), driftrec::InputError);
  };
  refuses([](auto& s) { set_attribute(s, "format", "other"); }, "`format`");
  refuses([](auto& s) { set_attribute(s, "version", "2"); }, "`version`");
  refuses([](auto& s) { set_attribute(s, "cell", "rnn"); }, "`cell`");
  refuses([](auto& s) { set_attribute(s, "hidden", "4x"); }, "`hidden`");
  refuses([](auto& s) { set_attribute(s, "hidden", "0"); }, "`hidden`");
  refuses([](auto& s) { set_attribute(s, "labels", "4"); }, "input_size");
  refuses([](auto& s) { s.attributes.erase(s.attributes.begin() + 4); }, "`bptt`");
  refuses([](auto& s) { s.tensors.pop_back(); }, "tensors stored");
  refuses([](auto& s) { std::swap(s.tensors[0], s.tensors[1]); }, "expected `cell_input`");
  refuses([](auto& s) { s.tensors[kInterestWeight].data.pop_back(); }, "`interest_weight`");
  refuses([](auto& s) { s.tensors[kCellHidden].rows += 1; }, "`cell_hidden`");
  refuses([](auto& s) { s.tensors[kCellBias].data[0] = std::numeric_limits<float>::infinity(); },
          "`cell_bias` has inf");
  // A model of 5 hidden units cannot be read as 6.
  refuses([](auto& s) { set_attribute(s, "hidden", "6"); }, "expected 24 x");
}
