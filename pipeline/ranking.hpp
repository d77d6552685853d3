// Ranking items for many users from one result of a store: what `recommend` (one user)
// and `export` (every user, a chunk at a time) share, so both rank the same way.
//
// By the result's kind:
//   temporal_als          x_u . y_i, items of the scoring period (the latest with user and
//                         item factors, or the one asked for), by the batch kernel
//                         (matrix_factorization/batch_top_k.hpp);
//   sequence_model        the item model train chose for it (io/sequence_result.hpp `items`),
//                         for the period after the store's last: "hybrid", the blend of the
//                         predicted factor and interests (temporal/sequence_fit.hpp), or
//                         "ranker", the learned item ranker (below) with the setting train chose;
//   "ranker"              (not a stored result) the learned item ranker with its setting chosen
//                         here on the store's last period, as `recommend --model ranker`;
//   p3alpha|rp3beta|ppr   the users x top table the walk saved (already without the items
//                         each user had; k may not exceed its width).
// Items the user had before the scoring period ends are excluded unless include_seen, and
// the items of filter_items always.
//
// The learned item ranker (evaluation/ranker_model.hpp) keeps no model in the store: its
// sources (temporal and static ALS, RP3beta, item-KNN, recent popularity, the label match)
// are fitted again on every period of the store when a UserRanking is made, with the
// setting train chose (the same fit `driftrec evaluate` makes), so what it ranks by always
// describes the store as it is now, `update`d periods included; that costs a few seconds on
// the bundled data, once per recommend, export or serve load. It ranks the items seen
// before the period after the last that the user did not have (include_seen is refused),
// its candidates first (score w . features), then the other items by index.
//
// Users who went quiet (temporal_als). With decay and the drift penalty a user without
// events keeps being pulled toward zero, so after many empty periods x_u(t) is ~1e-11 and
// its ranking is noise. The rule: a user is QUIET when their last event before the end of
// the scoring period t lies in an earlier period a < t; a quiet user is scored with the
// user factors of period a (their last active state; if a's user factors were not kept,
// the earliest kept period after a) against the items of period t. The drift penalty keeps
// consecutive periods' factors in one space, so x_u(a) . y_i(t) ranks today's items by
// the taste the user last showed. The period used is reported per user.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "evaluation/model.hpp"
#include "evaluation/ranker_model.hpp"
#include "evaluation/split.hpp"
#include "graph/csr.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "io/walk_result.hpp"
#include "matrix_factorization/batch_top_k.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace driftrec::pipeline {

struct RankingOptions {
  std::string result = "als";          // a temporal_als, sequence_model or walk result, or "ranker"
  std::optional<std::size_t> period;   // temporal_als only; default: the latest with both factors
  bool include_seen = false;
  std::string filter_items;            // a file of item ids, one per line; "": none
  int threads = 0;                     // 0: OpenMP's default (also the ranker's fit)
};

// The items each user had before `end` (users x items, any value) and the period of each
// user's last event before `end` (-1: none).
struct History {
  graph::CsrMatrix seen;
  std::vector<std::int32_t> last_active;
};
History user_history(const io::Store& store, graph::Time end);

// The items named in a filter file (one id per line; ids the store lacks are ignored), as
// one flag per item of the store.
std::vector<std::uint8_t> read_item_filter(const std::string& path, const io::Store& store);

// The labels of the items in `items` (one CSR row of seen items), as flags per label.
std::vector<std::uint8_t> labels_had(std::span<const graph::Index> items, const graph::CsrMatrix& item_labels);

class UserRanking {
 public:
  // Reads what the result's kind needs. InputError naming the result, the period, the
  // filter file, or include_seen with a walk result.
  UserRanking(const io::Store& store, const RankingOptions& options);

  // The result's kind, or "ranker" for the result name "ranker".
  const std::string& kind() const { return kind_; }
  // What ranks the items: "factors" (temporal_als), "hybrid" or "ranker" (a train result's
  // choice, or "ranker"), or the walk's kind.
  const std::string& ranked_by() const { return ranked_by_; }
  // The ranker's setting and its recall@20 on the last period (ranked_by() "ranker" only):
  // as chosen here for "ranker", as train stored it for a train result (pairs 0: not kept).
  const std::optional<evaluation::RankerChoice>& ranker_choice() const { return ranker_choice_; }
  // The train result read (sequence_model only).
  const std::optional<io::SequenceResult>& sequence() const { return sequence_; }
  // Whether rank() may keep the items users had (not for the ranker or a walk result).
  bool can_include_seen() const { return !ranker_ && !walk_; }
  std::size_t period() const { return period_; }  // the period whose items are ranked
  const History& history() const { return history_; }
  // The period whose user state scores user u (period() unless u is quiet).
  std::int32_t user_period(graph::Index u) const;
  std::int64_t quiet_users() const { return quiet_count_; }
  // The k best items for each of `users` (store indices): rows of k in out_items and
  // out_scores (item -1, score -inf past the candidates), best first, and each user's
  // period in out_periods. The same for any thread count.
  void rank(std::span<const graph::Index> users, int k, graph::Index* out_items, float* out_scores,
            std::int32_t* out_periods) const;
  // The same with the items users had excluded or not, whatever the options said (serve
  // answers both); keeping them needs can_include_seen().
  void rank(std::span<const graph::Index> users, int k, graph::Index* out_items, float* out_scores,
            std::int32_t* out_periods, bool exclude_seen) const;
  // InputError when k is below 1 or above what the result can rank (a walk's top width).
  void check_k(int k) const;
  // How many items are excluded for u (had, or filtered).
  std::size_t excluded(graph::Index u) const;

 private:
  void fit_ranker(const io::Store& store, const std::optional<evaluation::Params>& setting);

  std::string kind_, ranked_by_;
  std::size_t period_ = 0;
  int threads_ = 0;
  History history_;
  bool use_seen_ = true;
  std::vector<std::uint8_t> blocked_;  // empty: no filter
  // temporal_als
  matrix_factorization::Factors users_;             // x_u(period_)
  matrix_factorization::PackedItems items_;
  std::vector<std::int32_t> state_period_;          // per user
  std::vector<std::int32_t> quiet_row_;             // per user: row in quiet_factors_, -1 not quiet
  matrix_factorization::Factors quiet_factors_;
  std::int64_t quiet_count_ = 0;
  // sequence_model
  std::optional<io::SequenceResult> sequence_;
  propagation::DenseMatrix item_label_seeds_;
  // the learned item ranker, fitted on ranker_training_ (every period of the store)
  std::optional<evaluation::RankerChoice> ranker_choice_;
  evaluation::Training ranker_training_;
  std::shared_ptr<const evaluation::FittedModel> ranker_;
  // walk results
  std::optional<io::WalkResult> walk_;
};

}  // namespace driftrec::pipeline
