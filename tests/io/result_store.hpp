// A small labelled store for the tests of the result layouts: 4 users, 5 items, 3 labels,
// two monthly periods.
#pragma once
#include <random>
#include <string>

#include "io/ingest.hpp"
#include "io/store.hpp"
#include "tests/test_util.hpp"

namespace driftrec::test {

inline std::string result_store(const TempDir& dir) {
  write_file(dir / "events.csv",
             "user,item,time\nu1,i1,1000\nu2,i2,2000\nu3,i3,3000\nu4,i4,4000\n"
             "u1,i5,2700000\nu2,i1,2800000\nu3,i2,2900000\n");
  write_file(dir / "labels.csv", "item,label\ni1,a\ni2,b\ni3,c\ni4,a\ni4,b\ni5,c\n");
  io::IngestOptions o;
  o.event_files = {(dir / "events.csv").string()};
  o.labels_file = (dir / "labels.csv").string();
  o.slicing = graph::Slicing::parse("month");
  o.output = (dir / "store.h5").string();
  io::ingest(o);
  return o.output;
}

// A rows x cols row-major float matrix of normal draws.
template <class M>
M random_rows(std::mt19937_64& rng, long rows, long cols) {
  std::normal_distribution<float> normal;
  M m(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = normal(rng);
  return m;
}

}  // namespace driftrec::test
