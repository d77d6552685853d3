// driftrec info: what a store holds.
#include <cstdint>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pipeline/store_jobs.hpp"

namespace driftrec::cli {

void add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a store: sizes, time span, slices, labels, degrees, components");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto rows = std::make_shared<std::int64_t>(24);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("store", *path, "Store written by `driftrec ingest`")->required();
  cmd->add_flag("--json", *json, "Print everything (every slice) as JSON");
  cmd->add_option("--slice-rows", *rows, "Slice rows to show in the table, 0 or more")->default_val(24);
  add_threads_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    if (*rows < 0) throw InputError(fmt::format("--slice-rows {}: expected 0 or more rows", *rows));
    const io::StoreInfo info = pipeline::describe_store(*path);
    if (*json)
      fmt::print("{}\n", info.to_json().dump(2));
    else
      fmt::print("{}", info.to_text(static_cast<std::size_t>(*rows)));
  });
}

}  // namespace driftrec::cli
