// driftrec demo: the pipeline on the bundled MovieLens data.
#include <filesystem>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "io/ingest.hpp"
#include "io/store_info.hpp"

namespace driftrec::cli {

void print_ingest_report(const io::IngestReport& r);  // cmd_ingest.cpp

void add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the pipeline on the bundled MovieLens data (ml-latest-small)");
  auto data = std::make_shared<std::string>(DRIFTREC_DATA_DIR "/movielens-latest-small");
  auto out = std::make_shared<std::string>("driftrec-demo");
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("--data", *data, "Folder with ratings.csv and movies.csv")->default_val(*data);
  cmd->add_option("--out", *out, "Folder for the demo's store (created; its store is replaced)")->default_val(*out);
  add_threads_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(*out, ec);
    if (ec || !fs::is_directory(*out))
      throw graph::InputError(fmt::format("--out {}: cannot use it as a folder{}{}", *out, ec ? ": " : "", ec.message()));
    io::IngestOptions o;
    o.event_files = {(fs::path(*data) / "ratings.csv").string()};
    o.labels_file = (fs::path(*data) / "movies.csv").string();
    o.slicing = graph::Slicing::parse("month");
    o.output = (fs::path(*out) / "movielens.h5").string();
    o.overwrite = true;
    o.progress = make_progress();
    fmt::print("== ingest {} + movies.csv, monthly slices\n", o.event_files[0]);
    io::IngestReport r = io::ingest(o);
    end_progress();
    print_ingest_report(r);
    fmt::print("\n== driftrec info {}\n", o.output);
    fmt::print("{}", io::store_info(io::Store::open(o.output)).to_text());
  });
}

}  // namespace driftrec::cli
