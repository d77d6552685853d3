// Writes the seed stores of the store-reader fuzzer into the folder given as argument
// (scripts/fuzz.sh runs it before fuzzing, so no binary store is committed): a bare store
// (events only, daily slices, counts), a labelled store with titles (monthly slices, sums)
// and that store with one result of each kind the readers know: label propagation,
// random-walk similarity, personalised PageRank and ALS factors.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/factors_result.hpp"
#include "io/ingest.hpp"
#include "io/label_result.hpp"
#include "io/walk_result.hpp"

namespace fs = std::filesystem;
using namespace driftrec;

namespace {

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::string ingest_store(const fs::path& dir, const std::string& name, const std::string& events,
                         const std::string& labels, const std::string& slicing) {
  write(dir / (name + ".events.csv"), events);
  io::IngestOptions o;
  o.event_files = {(dir / (name + ".events.csv")).string()};
  if (!labels.empty()) {
    write(dir / (name + ".movies.csv"), labels);
    o.labels_file = (dir / (name + ".movies.csv")).string();
  }
  o.slicing = graph::Slicing::parse(slicing);
  o.output = (dir / (name + ".h5")).string();
  o.overwrite = true;
  o.threads = 1;
  io::ingest(o);
  fs::remove(dir / (name + ".events.csv"));
  if (!labels.empty()) fs::remove(dir / (name + ".movies.csv"));
  return o.output;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  ingest_store(dir, "bare", "user,item,time\nu1,i1,1000\nu2,i2,90000\nu1,i2,180000\nu3,i1,200000\n", "", "day");
  const std::string events =
      "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,3.5,967000000\n"
      "2,2,5.0,969700000\n3,3,1.0,970000000\n3,4,2.5,972000000\n4,4,3.0,974000000\n4,1,4.5,975000000\n";
  const std::string movies =
      "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n2,Jumanji (1995),Adventure\n"
      "3,\"Heat, The (1995)\",Action|Crime\n4,Sabrina (1995),(no genres listed)\n";
  ingest_store(dir, "labelled", events, movies, "month");
  const std::string path = ingest_store(dir, "results", events, movies, "month");

  const io::Store store = io::Store::open(path);
  const auto users = store.n_users(), items = store.n_items(), labels = store.n_labels();
  const std::size_t periods = store.n_slices();
  io::StoreWriter w(path, io::StoreWriter::Amend{}, 1);
  {
    io::LabelResultWriter lp(w, "label");
    io::LabelResultInfo info;
    for (std::size_t p = 0; p < periods; ++p) {
      lp.write_period(p, propagation::DenseMatrix::Constant(users, labels, 1.0f / static_cast<float>(labels)),
                      propagation::DenseMatrix::Constant(items, labels, 0.5f));
      info.iterations.push_back(3);
      info.residual.push_back(1e-7);
      info.converged.push_back(true);
    }
    info.slicing = store.slicing();
    lp.finish(info);
  }
  io::WalkResult sim;
  sim.method = "rp3beta";
  sim.slicing = store.slicing();
  sim.periods = static_cast<std::int64_t>(periods);
  sim.gamma = 0.5;
  sim.top.users = users;
  sim.top.k = 2;
  for (graph::Index u = 0; u < users; ++u)
    for (int k = 0; k < 2; ++k) {
      sim.top.items.push_back((u + k) % items);
      sim.top.scores.push_back(1.0f / static_cast<float>(k + 1));
    }
  const std::vector<graph::Triplet> similar{{0, 1, 0.5f}, {1, 0, 0.5f}, {2, 3, 0.25f}};
  sim.similarity = graph::csr_from_triplets(items, items, similar);
  sim.alpha = 1;
  sim.beta = 0.5;
  sim.neighbours = 2;
  io::write_walk_result(w, "rp3beta", sim);
  io::WalkResult ppr = sim;
  ppr.method = "ppr";
  ppr.similarity = {};
  ppr.restart_probability = 0.15;
  ppr.tolerance = 1e-6;
  ppr.max_iterations = 40;
  ppr.iterations = 12;
  ppr.residual = 1e-7;
  io::write_walk_result(w, "ppr", ppr);
  {
    io::FactorsResultWriter f(w, "als");
    for (std::size_t p = 0; p < periods; ++p) {
      f.write_user(p, matrix_factorization::Factors::Constant(users, 3, 0.25f));
      f.write_item(p, matrix_factorization::Factors::Constant(items, 3, 0.5f));
    }
    matrix_factorization::TemporalAlsOptions o;
    o.als.factors = 3;
    f.finish(o, store.slicing(), periods);
  }
  w.commit();
  return 0;
}
