#include "asaflow/file_io.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <variant>

#include "asaflow/error.hpp"

namespace fs = std::filesystem;

namespace asaflow {

FileStamp file_stamp(const fs::path& file) {
  struct stat st {};
  FileStamp s;
  if (::stat(file.c_str(), &st) != 0) return s;
  s.size = st.st_size;
  s.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  s.inode = std::uint64_t(st.st_ino);
  return s;
}

void replace_file_atomically(const fs::path& file, const std::function<void(const fs::path&)>& write) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = file;
  tmp += ".tmp" + std::to_string(::getpid()) + "." + std::to_string(counter++);
  std::error_code ec;
  try {
    write(tmp);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw StageError("cannot replace '" + file.string() + "': " + ec.message());
  }
}

void write_file_atomically(const fs::path& file, std::string_view text) {
  replace_file_atomically(file, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(text.data(), std::streamsize(text.size()));
    out.flush();
    if (!out) throw StageError("cannot write '" + file.string() + "' (disk full or read-only?)");
  });
}

nlohmann::json param_to_json(const ParamValue& value) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, value);
}

}  // namespace asaflow
