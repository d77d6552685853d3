#include "pipeline/store_jobs.hpp"

#include <filesystem>

#include <fmt/format.h>

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

GenerateSummary generate(const GenerateRequest& q) {
  q.config.validate();  // a bad option is reported before an existing file
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
