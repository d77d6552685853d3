#include "pipeline/store_jobs.hpp"

#include <algorithm>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "core/memory.hpp"
#include "core/parallel.hpp"
#include "io/store.hpp"
#include "io/write_guard.hpp"

namespace driftrec::pipeline {

ResliceSummary reslice_store(const ResliceRequest& q) {
  const io::ResliceReport r = io::reslice(q.store, graph::Slicing::parse(q.slicing), q.aggregate, q.progress, q.threads);
  return {q.store, r.slicing, r.slices, r.dropped_results, r.seconds};
}

nlohmann::json ResliceSummary::to_json() const {
  return {{"store", store}, {"slicing", slicing}, {"slices", slices}, {"dropped_results", dropped_results},
          {"seconds", seconds}};
}

io::StoreInfo describe_store(const std::string& store) { return io::store_info(io::Store::open(store)); }

namespace {

std::size_t decimal_digits(std::int64_t n) { return std::to_string(n).size(); }

// Refuses, before writing anything, a log the machine cannot hold or store. Memory: each
// thread holds one block of users' events (about kBlockEvents, or one user's whole history
// when that is larger: the events, their times and their text). Disk: the events file.
void check_generate_size(const graph::DriftConfig& c, const std::string& out, int threads) {
  const double per_user = c.events_per_period * static_cast<double>(c.periods);
  const double total = per_user * static_cast<double>(c.users);
  const double line = static_cast<double>(decimal_digits(c.users) + decimal_digits(c.items)) + 16;
  const double per_event = 2 * sizeof(graph::Event) + sizeof(graph::Time) + line;  // vectors grow by doubling
  const double team = core::thread_count(threads);
  const std::string option =
      fmt::format("--events {:.0f} (--events-per-period {:g} for {} users x {} periods)", total,
                  c.events_per_period, c.users, c.periods);
  const double memory = team * std::max(per_user, double{1 << 17}) * per_event + 2.0 * c.items * team;
  core::check_memory(memory, option, "generate",
                     fmt::format("{} threads x {:.3g} events of one user's history x {:.0f} bytes", team, per_user,
                                 per_event),
                     "ask for fewer events per user (--events, --events-per-period) or more --users");
  // The directory may not exist yet: its nearest existing parent holds it.
  std::filesystem::path dir = std::filesystem::absolute(out);
  std::error_code ec;
  while (!std::filesystem::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path()) dir = dir.parent_path();
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  const double bytes = total * line;
  if (!ec && bytes > static_cast<double>(space.available))
    throw InputError(fmt::format("{}: events.csv would take about {} but {} has {} free; ask for fewer events",
                                 option, core::format_bytes(bytes), dir.string(),
                                 core::format_bytes(static_cast<double>(space.available))));
}

}  // namespace

GenerateSummary generate(const GenerateRequest& q) {
  q.config.validate();  // a bad option is reported before an existing file
  check_generate_size(q.config, q.out, q.threads);
  if (!q.force)
    for (const char* name : {graph::kSyntheticEventsFile, graph::kSyntheticLabelsFile, graph::kSyntheticTruthFile,
                             graph::kSyntheticMetaFile}) {
      const std::filesystem::path path = std::filesystem::path(q.out) / name;
      std::error_code ec;
      if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found && !ec)
        throw InputError(fmt::format("{}: already exists; pass --force to replace it", path.string()));
    }
  // The files are renamed into place: a device, FIFO or socket of that name would be
  // replaced by a regular file, a symbolic link by a file (not its target). Refuse both.
  for (const char* name : {graph::kSyntheticEventsFile, graph::kSyntheticLabelsFile, graph::kSyntheticTruthFile,
                           graph::kSyntheticMetaFile}) {
    const std::string path = (std::filesystem::path(q.out) / name).string();
    if (io::resolve_output(path).path != path)
      throw InputError(fmt::format("{}: a symbolic link; generate writes its files in --out itself and will not "
                                   "replace a link",
                                   path));
  }
  graph::SyntheticProgressFn progress;
  if (q.progress)
    progress = [&q](const graph::SyntheticProgress& p) {
      q.progress("generate", static_cast<std::uint64_t>(p.users_done), static_cast<std::uint64_t>(p.users_total));
    };
  GenerateSummary s;
  s.config = q.config;
  s.files = graph::write_synthetic(q.config, q.out, progress, q.threads);  // checks q.threads
  s.threads = core::thread_count(q.threads);
  return s;
}

nlohmann::json GenerateSummary::to_json() const {
  nlohmann::json j = graph::synthetic_meta(config, files);
  j["run"] = {{"seconds", files.seconds},
              {"events_per_second", files.events_per_second()},
              {"megabytes_per_second", files.megabytes_per_second()},
              {"threads", threads}};
  return j;
}

}  // namespace driftrec::pipeline
