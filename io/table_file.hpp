// An HDF5 file of 2-d tables written a block of rows at a time, for outputs too large to
// hold (`driftrec export --format hdf5`): each table's shape is fixed when it is added,
// rows arrive in order, chunks are compressed by HDF5's own shuffle + deflate. No object
// records a modification time, so the same content gives the same bytes. Readable by
// h5py (f["items"][:]) and from there by pandas.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/h5_handle.hpp"

namespace driftrec::io {

class TableFile {
 public:
  enum class Type { int8, int32, float32 };
  explicit TableFile(const std::string& path);  // creates or truncates
  // A rows x cols table (cols 0: a 1-d array of rows).
  void add(const std::string& name, Type type, std::uint64_t rows, std::uint64_t cols);
  // Rows [first, first + count) of table `name` from row-major `data`.
  void write_rows(const std::string& name, std::uint64_t first, std::uint64_t count, const void* data);
  // A whole 1-d array of UTF-8 strings (fixed length, null-padded, as the store's ids;
  // h5py reads them as bytes: .asstr() or .astype(str) decodes).
  void add_strings(const std::string& name, const std::vector<std::string>& values);
  void attr(const std::string& name, const std::string& value);
  void attr(const std::string& name, std::int64_t value);
  // Flushes and closes; std::runtime_error when the bytes cannot be written.
  void close();

 private:
  struct Table {
    std::string name;
    Type type;
    std::uint64_t rows, cols;
    h5::Handle dataset;
  };
  Table& find(const std::string& name);
  std::string path_;
  h5::Handle file_;
  std::vector<Table> tables_;
};

}  // namespace driftrec::io
