// libFuzzer harness of io::read_labels (the item-label reader of `driftrec ingest
// --labels`). Input: one option byte (format, on_error), then the file. The items that
// "have events" are "1".."60" and a few names, so MovieLens-like seeds match some rows.
// The reader must throw driftrec::Error or return entries whose items and labels are in
// range and whose titles (when present) are one per item; anything else is a bug.
#include <array>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "fuzz/fuzz_util.hpp"
#include "io/label_reader.hpp"

namespace {

constexpr std::array<const char*, 4> kFormats = {"auto", "movielens", "ml100k", "long"};

const driftrec::io::IdMap& known_items() {
  static const driftrec::io::IdMap items = [] {
    driftrec::io::IdMap m;
    for (int i = 1; i <= 60; ++i) m.find_or_add(std::to_string(i));
    for (const char* s : {"i1", "i2", "i3", "i4", "i5", "a", "b"}) m.find_or_add(s);
    return m;
  }();
  return items;
}

// MovieLens 100K's u.genre, for the ml100k format (its u.item rows carry 19 genre flags).
const std::string& genre_file() {
  static const std::string path = [] {
    const std::string g =
        "unknown|0\nAction|1\nAdventure|2\nAnimation|3\nChildren's|4\nComedy|5\nCrime|6\n"
        "Documentary|7\nDrama|8\nFantasy|9\nFilm-Noir|10\nHorror|11\nMusical|12\nMystery|13\n"
        "Romance|14\nSci-Fi|15\nThriller|16\nWar|17\nWestern|18\n";
    return driftrec::fuzz::write_scratch("u.genre", reinterpret_cast<const std::uint8_t*>(g.data()), g.size());
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  driftrec::io::LabelReadOptions o;
  o.format = kFormats[data[0] % 4];
  o.on_error = (data[0] / 4) % 2 ? driftrec::io::OnError::skip : driftrec::io::OnError::fail;
  if (o.format == std::string("ml100k")) o.genre_names = genre_file();
  const std::string path = driftrec::fuzz::write_scratch("labels.csv", data + 1, size - 1);
  const auto& items = known_items();
  driftrec::io::ItemLabels out;
  try {
    driftrec::io::validate_label_options(o);
    driftrec::io::read_labels(path, o, items, out);
  } catch (const driftrec::Error&) {
    return 0;
  }
  for (const auto& t : out.entries)
    if (t.row < 0 || t.row >= items.size() || t.col < 0 || t.col >= out.labels.size()) std::abort();
  if (!out.titles.empty() && out.titles.size() != static_cast<std::size_t>(items.size())) std::abort();
  for (const auto& t : out.titles)
    if (t.size() > driftrec::io::kMaxTitleBytes) std::abort();
  return 0;
}
