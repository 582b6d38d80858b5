#include "asaflow/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace asaflow {
namespace {

struct Console {
  std::mutex mutex;
  std::string status;
  bool tty = ::isatty(STDERR_FILENO) != 0;

  void clear_status_locked() {
    if (tty && !status.empty()) std::fputs("\r\033[K", stderr);
  }
  void draw_status_locked() {
    if (tty && !status.empty()) std::fputs(status.c_str(), stderr);
    std::fflush(stderr);
  }
};

Console& console() {
  static auto* c = new Console();
  return *c;
}

// base_sink<std::mutex>: base_sink holds its mutex around sink_it_, and the formatter must
// be called under it (it caches the formatted second; two workers logging at once raced on
// that cache: found by ThreadSanitizer). The console's own mutex orders lines against the
// progress line, which other threads redraw.
class ConsoleSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    Console& c = console();
    std::lock_guard<std::mutex> guard(c.mutex);
    c.clear_status_locked();
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
    c.draw_status_locked();
  }
  void flush_() override { std::fflush(stderr); }
};

std::shared_ptr<spdlog::sinks::sink>& shared_sink() {
  static auto* sink = new std::shared_ptr<spdlog::sinks::sink>(std::make_shared<ConsoleSink>());
  return *sink;
}

spdlog::level::level_enum& level() {
  static spdlog::level::level_enum l = spdlog::level::info;
  return l;
}

std::mutex& registry_mutex() {
  static auto* m = new std::mutex();
  return *m;
}

}  // namespace

void init_logging(const LogOptions& options) {
  level() = options.quiet ? spdlog::level::warn : (options.verbose ? spdlog::level::debug : spdlog::level::info);
  shared_sink()->set_pattern("[%H:%M:%S] [%n] %^%l%$: %v");
  shared_sink()->set_level(level());  // for cell loggers, whose own level lets info through to their file
  spdlog::set_default_logger(named_logger("asaflow"));
  spdlog::apply_all([](std::shared_ptr<spdlog::logger> l) { l->set_level(level()); });
}

std::shared_ptr<spdlog::logger> named_logger(const std::string& name) {
  std::lock_guard<std::mutex> guard(registry_mutex());
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(level());
  spdlog::register_logger(logger);
  return logger;
}

std::shared_ptr<spdlog::logger> cell_logger(const std::string& name, const std::filesystem::path& file) {
  std::shared_ptr<spdlog::sinks::sink> file_sink;
  try {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), true);
    file_sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] %l: %v");
    file_sink->set_level(std::min(level(), spdlog::level::info));
  } catch (const spdlog::spdlog_ex&) {
    return named_logger(name);
  }
  // Not registered: each run of a cell gets its own file, and the registry keeps one
  // logger per name. The console sink's level is the logger's; the file's is its own.
  auto logger = std::make_shared<spdlog::logger>(name, spdlog::sinks_init_list{shared_sink(), file_sink});
  logger->set_level(std::min(level(), spdlog::level::info));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

void console_set_status(const std::string& line) {
  Console& c = console();
  std::lock_guard<std::mutex> guard(c.mutex);
  if (!c.tty) return;
  c.clear_status_locked();
  c.status = line;
  c.draw_status_locked();
}

bool console_is_tty() { return console().tty; }

}  // namespace asaflow
