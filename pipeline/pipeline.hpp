// Every store-level job of driftrec (see pipeline/common.hpp for what they share):
//   io::ingest                          logs + labels -> a store        (store_jobs.hpp)
//   reslice_store, describe_store       new slices; what a store holds  (store_jobs.hpp)
//   generate                            synthetic logs with planted drift (store_jobs.hpp)
//   propagate_store                     label | p3alpha | rp3beta | ppr  (propagate.hpp)
//   factorize_store                     temporal ALS                      (factorize.hpp)
//   train_store, predict                the sequence model                (train.hpp)
//   recommend, similar_items            ranked items                      (recommend.hpp)
//   evaluate_store                      the temporal evaluation           (evaluate.hpp)
//   export_store                        every user's top items / interests to a file (export.hpp)
//   update_store                        append events, carry results on   (update.hpp)
#pragma once
#include "pipeline/evaluate.hpp"
#include "pipeline/export.hpp"
#include "pipeline/factorize.hpp"
#include "pipeline/propagate.hpp"
#include "pipeline/recommend.hpp"
#include "pipeline/store_jobs.hpp"
#include "pipeline/train.hpp"
#include "pipeline/update.hpp"
