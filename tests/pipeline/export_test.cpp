// pipeline/export: every user's top k against a dense brute-force reference (including the
// rule for users who went quiet, recomputed here from the events), the same bytes for any
// thread count and chunk size, nothing left behind by a failure, and bad arguments refused
// (CLI exit 2) before anything is written; a train result's rows ranked by the item model
// train chose (the ranker against the evaluator's ranker, the hybrid against brute force).
#include "pipeline/export.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "evaluation/metrics.hpp"
#include "evaluation/ranker_model.hpp"
#include "evaluation/split.hpp"
#include "io/factors_result.hpp"
#include "io/hdf5.hpp"
#include "io/results.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "pipeline/factorize.hpp"
#include "pipeline/recommend.hpp"
#include "pipeline/train.hpp"
#include "propagation/label_propagation.hpp"
#include "temporal/sequence_fit.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using graph::Index;
namespace mf = driftrec::matrix_factorization;

namespace {

constexpr const char* kLog = "--users 150 --items 70 --labels 5 --periods 6 --events-per-period 3 --seed 21";

std::string factorized_store(const test::TempDir& dir) {
  const std::string store = test::generated_store(dir, kLog);
  pipeline::FactorizeRequest f;
  f.store = store;
  f.options.als.factors = 6;
  f.options.als.iterations = 3;
  f.options.eta = 1;
  f.threads = 1;
  pipeline::factorize_store(f);
  return store;
}

struct Row {
  std::string user;
  int rank;
  std::string item;
  float score;
  int period;
};

// The CSV of recommendations (no titles in generated stores, so no quoted fields).
std::vector<Row> read_rows(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "user,rank,item,title,score,period");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    REQUIRE(f.size() == 6);
    rows.push_back({f[0], std::stoi(f[1]), f[2], std::stof(f[4]), std::stoi(f[5])});
  }
  return rows;
}

pipeline::ExportRequest request(const std::string& store, const std::string& out) {
  pipeline::ExportRequest q;
  q.store = store;
  q.out = out;
  q.k = 8;
  q.threads = 2;
  return q;
}

}  // namespace

TEST_CASE("export gives every user's exact top k, quiet users from their last active period", "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  const std::string out = (dir / "recs.csv").string();
  pipeline::ExportRequest q = request(store, out);
  q.chunk = 16;
  const pipeline::ExportSummary s = pipeline::export_store(q);

  // The reference: periods and seen items from the events, dense scores in double.
  const io::Store st = io::Store::open(store);
  const io::StoredFactors latest = io::read_factors(st, "als");
  const std::size_t t = latest.period;
  const graph::EventColumns e = st.events();
  const auto n_users = static_cast<std::size_t>(st.n_users());
  std::vector<int> last(n_users, -1);
  std::vector<std::set<Index>> seen(n_users);
  for (std::size_t k = 0; k < e.size(); ++k) {
    if (e.time[k] >= st.periods().end[t]) continue;
    int p = 0;
    while (p + 1 < static_cast<int>(st.n_slices()) && st.periods().begin[static_cast<std::size_t>(p) + 1] <= e.time[k]) ++p;
    last[static_cast<std::size_t>(e.user[k])] = std::max(last[static_cast<std::size_t>(e.user[k])], p);
    seen[static_cast<std::size_t>(e.user[k])].insert(e.item[k]);
  }
  const std::vector<std::string> users = st.users(), items = st.items();
  const std::vector<Row> rows = read_rows(out);
  std::map<std::string, std::vector<Row>> by_user;
  for (const Row& r : rows) by_user[r.user].push_back(r);
  CHECK(s.rows == st.n_users());
  std::int64_t quiet = 0;
  for (std::size_t u = 0; u < n_users; ++u) {
    CAPTURE(u);
    const int p = last[u] >= 0 && last[u] < static_cast<int>(t) ? last[u] : static_cast<int>(t);
    quiet += p != static_cast<int>(t);
    const mf::Factors x = p == static_cast<int>(t) ? latest.model.user : io::read_user_factors(st, "als", static_cast<std::size_t>(p));
    std::vector<std::pair<double, Index>> ref;
    for (Index i = 0; i < st.n_items(); ++i) {
      if (seen[u].contains(i)) continue;
      double d = 0;
      for (Eigen::Index c = 0; c < x.cols(); ++c) d += double(x(static_cast<Eigen::Index>(u), c)) * latest.model.item(i, c);
      ref.push_back({d, i});
    }
    std::sort(ref.begin(), ref.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    const std::vector<Row>& got = by_user[users[u]];
    REQUIRE(got.size() == std::min<std::size_t>(8, ref.size()));
    for (std::size_t j = 0; j < got.size(); ++j) {
      CHECK(got[j].rank == static_cast<int>(j) + 1);
      CHECK(got[j].period == p);
      CHECK(std::abs(got[j].score - ref[j].first) <= 1e-5 * (1 + std::abs(ref[j].first)));
      if (j + 1 < ref.size() && std::abs(ref[j].first - ref[j + 1].first) > 1e-5 && (j == 0 || std::abs(ref[j].first - ref[j - 1].first) > 1e-5))
        CHECK(got[j].item == items[static_cast<std::size_t>(ref[j].second)]);
    }
  }
  CHECK(quiet > 0);  // the generated log has users without events in the last period
  CHECK(s.quiet_users == quiet);

  // recommend reports the same period and items for one quiet user.
  for (std::size_t u = 0; u < n_users; ++u) {
    if (last[u] < 0 || last[u] >= static_cast<int>(t)) continue;
    pipeline::RecommendRequest r;
    r.store = store;
    r.user = users[u];
    r.k = 8;
    const pipeline::Recommendations rec = pipeline::recommend(r);
    CHECK(rec.user_period == static_cast<std::size_t>(last[u]));
    CHECK(rec.period == t);
    REQUIRE(rec.items.size() == by_user[users[u]].size());
    for (std::size_t j = 0; j < rec.items.size(); ++j) CHECK(rec.items[j].item == by_user[users[u]][j].item);
    break;
  }
}

TEST_CASE("export writes the same bytes for 1 and 2 threads and any chunk size", "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  for (const char* format : {"csv", "hdf5"})
    for (const char* what : {"recommendations", "similar-items"}) {
      CAPTURE(format, what);
      pipeline::ExportRequest a = request(store, (dir / "a.out").string());
      a.format = format;
      a.what = what;
      a.force = true;
      a.threads = 1;
      a.chunk = 4096;
      pipeline::ExportRequest b = a;
      b.out = (dir / "b.out").string();
      b.threads = 2;
      b.chunk = 7;
      pipeline::export_store(a);
      pipeline::export_store(b);
      CHECK(test::read_file(a.out) == test::read_file(b.out));
    }
}

TEST_CASE("export to HDF5 holds the CSV's items, scores and periods", "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  pipeline::ExportRequest q = request(store, (dir / "r.csv").string());
  pipeline::export_store(q);
  q.format = "hdf5";
  q.out = (dir / "r.h5").string();
  pipeline::export_store(q);
  const std::vector<Row> rows = read_rows((dir / "r.csv").string());
  io::h5::Handle f = io::h5::open_file(q.out);
  const io::h5::ReadContext cx{q.out, 1u << 30};
  const io::IndexMatrix items = io::read_index_matrix(f, "items", cx);
  const io::Matrix scores = io::read_matrix(f, "scores", cx);
  const std::vector<std::string> user_ids = io::h5::read_strings(f, "user_ids", cx);
  const std::vector<std::string> item_ids = io::h5::read_strings(f, "item_ids", cx);
  const std::vector<std::int32_t> period = io::h5::read_array<std::int32_t>(f, "period", cx);
  REQUIRE(items.cols == 8);
  std::size_t n = 0;
  for (std::size_t r = 0; r < items.rows; ++r)
    for (std::size_t j = 0; j < items.cols && items.data[r * 8 + j] >= 0; ++j, ++n) {
      REQUIRE(n < rows.size());
      CHECK(rows[n].user == user_ids[r]);
      CHECK(rows[n].item == item_ids[static_cast<std::size_t>(items.data[r * 8 + j])]);
      CHECK(rows[n].score == scores.data[r * 8 + j]);
      CHECK(rows[n].period == period[r]);
    }
  CHECK(n == rows.size());
}

TEST_CASE("export leaves nothing when it fails midway and keeps the old file", "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  test::write_file(dir / "old.csv", "before\n");
  const auto before = test::dir_entries(dir.path());
  for (const char* format : {"csv", "hdf5"}) {
    CAPTURE(format);
    pipeline::ExportRequest q = request(store, (dir / "old.csv").string());
    q.format = format;
    q.force = true;
    q.chunk = 10;
    q.progress = [](const char*, std::uint64_t done, std::uint64_t) {
      if (done >= 20) throw std::runtime_error("stopped after two chunks");
    };
    CHECK_THROWS_WITH(pipeline::export_store(q), "stopped after two chunks");
    CHECK(test::read_file(dir / "old.csv") == "before\n");
    CHECK(test::dir_entries(dir.path()) == before);  // no temporary file left
    q.out = (dir / "new.csv").string();
    CHECK_THROWS(pipeline::export_store(q));
    CHECK(test::dir_entries(dir.path()) == before);
  }
}

TEST_CASE("export refuses bad arguments with exit 2 and writes nothing", "[pipeline][export][cli]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  test::write_file(dir / "users.txt", "no-such-user\n");
  const auto before = test::dir_entries(dir.path());
  const std::string out = (dir / "x.csv").string();
  for (const std::string& args :
       {fmt::format("--k 0 --out '{}'", out), fmt::format("--what everything --out '{}'", out),
        fmt::format("--format xml --out '{}'", out), fmt::format("--users '{}' --out '{}'", (dir / "users.txt").string(), out),
        fmt::format("--users missing.txt --out '{}'", out), fmt::format("--model nothing --out '{}'", out),
        fmt::format("--what interests --model als --out '{}'", out), fmt::format("--full --out '{}'", out),
        fmt::format("--what similar-items --include-seen --out '{}'", out), fmt::format("--threads -1 --out '{}'", out),
        fmt::format("--out '{}'", (dir / "missing" / "x.csv").string()), fmt::format("--chunk 0 --out '{}'", out)}) {
    CAPTURE(args);
    const test::RunResult r = test::run_cli(fmt::format("export '{}' {}", store, args));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("error") != std::string::npos);
    CHECK(test::dir_entries(dir.path()) == before);
  }
  const test::RunResult ok = test::run_cli(fmt::format("export '{}' --out '{}' --json", store, out));
  CHECK(ok.exit_code == 0);
  const test::RunResult again = test::run_cli(fmt::format("export '{}' --out '{}'", store, out));
  CHECK(again.exit_code == 2);  // exists: --force to replace
  // Even with --force, an output onto the store it reads is refused and the store kept.
  const std::string bytes = test::read_file(store);
  const test::RunResult onto = test::run_cli(fmt::format("export '{}' --out '{}' --force", store, store));
  CHECK(onto.exit_code == 2);
  CHECK(onto.err.find("input") != std::string::npos);
  CHECK(test::read_file(store) == bytes);
}

TEST_CASE("export of similar items matches similar_items item by item", "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir);
  pipeline::ExportRequest q = request(store, (dir / "s.csv").string());
  q.what = "similar-items";
  q.k = 5;
  pipeline::export_store(q);
  std::istringstream in(test::read_file(dir / "s.csv"));
  std::string line;
  std::getline(in, line);
  CHECK(line == "item,rank,similar_item,title,cosine");
  const io::Store st = io::Store::open(store);
  const std::vector<std::string> items = st.items();
  for (Index i = 0; i < st.n_items(); i += 9) {
    pipeline::SimilarItemsRequest r;
    r.store = store;
    r.item = items[static_cast<std::size_t>(i)];
    r.k = 5;
    const pipeline::SimilarItems want = pipeline::similar_items(r);
    std::vector<std::string> got;
    for (const std::string& l : [&] {
           std::vector<std::string> ls;
           std::istringstream again(test::read_file(dir / "s.csv"));
           for (std::string x; std::getline(again, x);) ls.push_back(x);
           return ls;
         }())
      if (l.starts_with(r.item + ",")) got.push_back(l.substr(l.find(',', l.find(',') + 1) + 1));
    REQUIRE(got.size() == want.items.size());
    for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j].substr(0, got[j].find(',')) == want.items[j].item);
  }
}

TEST_CASE("export of interests gives predict's labels, probabilities and new flags for every user",
          "[pipeline][export]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  pipeline::TrainRequest t;
  t.store = store;
  t.options.model.epochs = 2;
  t.options.model.hidden = 4;
  t.options.model.seed = 1;
  t.threads = 2;
  pipeline::train_store(t);
  {  // A large boost on never-had labels, so that the order is not p's alone.
    io::SequenceResult r = io::read_sequence_result(io::Store::open(store), "sequence");
    r.new_label_boost = 50;
    io::StoreWriter w(store, io::StoreWriter::Amend{});
    io::write_sequence_result(w, "sequence", r);
    w.commit();
  }
  pipeline::ExportRequest q = request(store, (dir / "i.csv").string());
  q.what = "interests";
  q.model = "sequence";
  q.k = 3;
  pipeline::export_store(q);
  std::istringstream in(test::read_file(dir / "i.csv"));
  std::string line;
  std::getline(in, line);
  CHECK(line == "user,rank,label,probability,new");
  std::map<std::string, std::vector<std::vector<std::string>>> by_user;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    REQUIRE(f.size() == 5);
    by_user[f[0]].push_back(f);
  }
  const std::vector<std::string> users = io::Store::open(store).users();
  CHECK(by_user.size() == users.size());
  int promoted = 0;  // a new label ranked above a more probable one
  for (std::size_t u = 0; u < users.size(); u += 11) {
    pipeline::PredictRequest p;
    p.store = store;
    p.user = users[u];
    p.top = 3;
    const pipeline::Prediction want = pipeline::predict(p);
    const auto& got = by_user[users[u]];
    REQUIRE(got.size() == want.labels.size());
    for (std::size_t j = 0; j < got.size(); ++j) {
      CHECK(got[j][2] == want.labels[j].label);
      CHECK(std::stof(got[j][3]) == want.labels[j].probability);
      CHECK(got[j][4] == (want.labels[j].is_new ? "1" : "0"));
      if (j > 0 && want.labels[j - 1].probability < want.labels[j].probability) ++promoted;
    }
  }
  CHECK(promoted > 0);
  q.full = true;
  q.out = (dir / "full.csv").string();
  const pipeline::ExportSummary full = pipeline::export_store(q);
  CHECK(full.k == io::Store::open(store).n_labels());
  CHECK(full.lines == full.rows * full.k);
}

namespace {

// Every user's items of an export CSV, in rank order.
std::map<std::string, std::vector<std::string>> items_by_user(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  for (const Row& r : read_rows(path)) out[r.user].push_back(r.item);
  return out;
}

// The ranker's top k for user u straight from the evaluator (evaluation/ranker_model.hpp):
// fitted on every period with the setting the train result stored, the user's eligible
// items ranked by its scores (what train measured its recall@20 with).
std::vector<std::string> ranker_reference(const std::string& store, const io::SequenceResult& r, Index u, int k) {
  const io::Store st = io::Store::open(store);
  const evaluation::EvaluationData data = evaluation::load_evaluation_data(st);
  evaluation::LibraryModelOptions lo;
  lo.threads = 2;
  const evaluation::ModelSpec spec = evaluation::ranker_model(lo);
  const evaluation::Training t = evaluation::make_training(data, data.slices.size());
  const auto fitted = spec.fit(t, {{"source", r.ranker_source}, {"l2", r.ranker_l2}});
  std::vector<float> scores(static_cast<std::size_t>(t.n_items), 0.0f);
  fitted->items(u, scores);
  std::vector<std::string> out;
  for (Index i : evaluation::top_k_of(scores, evaluation::eligible_items(t, u), k)) out.push_back(st.items()[i]);
  return out;
}

// The hybrid's top k for user u by brute force: every item scored by hybrid_scores, the
// items u had left out, sorted by score (ties toward the lower index).
std::vector<std::string> hybrid_reference(const std::string& store, const io::SequenceResult& r, Index u, int k) {
  const io::Store st = io::Store::open(store);
  std::vector<float> scores(static_cast<std::size_t>(st.n_items()));
  temporal::hybrid_scores(r.item_factors, propagation::item_seed_labels(st.item_labels()),
                          r.next_factors.row(u).transpose(), r.next_interests.row(u).transpose(), r.interest_weight,
                          scores);
  std::set<Index> had;
  const graph::EventColumns e = st.events();
  for (std::size_t j = 0; j < e.size(); ++j)
    if (e.user[j] == u) had.insert(e.item[j]);
  std::vector<Index> order;
  for (Index i = 0; i < st.n_items(); ++i)
    if (!had.contains(i)) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return scores[a] > scores[b]; });
  std::vector<std::string> out;
  for (std::size_t j = 0; j < order.size() && j < static_cast<std::size_t>(k); ++j) out.push_back(st.items()[order[j]]);
  return out;
}

}  // namespace

TEST_CASE("export of a train result ranks by the item model train chose, as recommend --model does",
          "[pipeline][export][ranker]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  // Named apart from the item models: "ranker" as a model name is the ranker itself.
  const std::map<std::string, std::string> result_of = {{"ranker", "rk"}, {"hybrid", "hy"}};
  for (const auto& [items, name] : result_of) test::train_with_items(store, name, items, 4);
  const io::Store st = io::Store::open(store);
  const std::vector<std::string> users = st.users();
  std::map<std::string, std::map<std::string, std::vector<std::string>>> exported;
  for (const char* items : {"ranker", "hybrid"}) {
    CAPTURE(items);
    pipeline::ExportRequest q = request(store, (dir / fmt::format("{}.csv", items)).string());
    q.model = result_of.at(items);
    const pipeline::ExportSummary s = pipeline::export_store(q);
    CHECK(s.kind == "sequence_model");
    CHECK(s.ranked_by == items);
    exported[items] = items_by_user(q.out);
    const io::SequenceResult r = io::read_sequence_result(st, q.model);
    REQUIRE(r.items == items);
    for (std::size_t u = 0; u < users.size(); u += 37) {
      CAPTURE(users[u]);
      pipeline::RecommendRequest rq;
      rq.store = store;
      rq.user = users[u];
      rq.k = q.k;
      rq.model = q.model;
      rq.threads = 2;
      const pipeline::Recommendations want = pipeline::recommend(rq);
      CHECK(want.ranked_by == items);
      CHECK(want.ranker.has_value() == (std::string(items) == "ranker"));
      std::vector<std::string> recommended;
      for (const pipeline::RankedItem& i : want.items) recommended.push_back(i.item);
      CHECK(exported[items][users[u]] == recommended);
      const auto reference = std::string(items) == "ranker" ? ranker_reference(store, r, static_cast<Index>(u), q.k)
                                                            : hybrid_reference(store, r, static_cast<Index>(u), q.k);
      CHECK(exported[items][users[u]] == reference);
    }
  }
  CHECK(exported["ranker"] != exported["hybrid"]);  // the two models rank differently here

  pipeline::ExportRequest h = request(store, (dir / "rk.h5").string());
  h.model = "rk";
  h.format = "hdf5";
  pipeline::export_store(h);
  const io::h5::Handle f = io::h5::open_file(h.out);
  const io::h5::ReadContext cx{h.out, 1u << 30};
  CHECK(io::h5::read_attr_string(f, "ranked_by", cx) == "ranker");
  CHECK(io::h5::read_attr_string(f, "kind", cx) == "sequence_model");

  pipeline::ExportRequest seen = request(store, (dir / "seen.csv").string());
  seen.model = "rk";
  seen.include_seen = true;
  CHECK_THAT(test::input_error_of([&] { pipeline::export_store(seen); }),
             Catch::Contains("include_seen") && Catch::Contains("ranker"));
}
