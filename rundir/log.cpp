#include "rundir/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <vector>

#include "spaces/errors.h"

namespace zerolm::log {

namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("[%H:%M:%S] %^%l%$ %v");
    auto lg = std::make_shared<spdlog::logger>("zerolm", sink);
    lg->set_level(spdlog::level::info);
    return lg;
  }();
  return l;
}

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::Trace:
      return spdlog::level::trace;
    case Level::Debug:
      return spdlog::level::debug;
    case Level::Info:
      return spdlog::level::info;
    case Level::Warn:
      return spdlog::level::warn;
    case Level::Error:
      return spdlog::level::err;
    case Level::Off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

Level parse_level(std::string_view name) {
  if (name == "trace") return Level::Trace;
  if (name == "debug") return Level::Debug;
  if (name == "info") return Level::Info;
  if (name == "warn") return Level::Warn;
  if (name == "error") return Level::Error;
  if (name == "off") return Level::Off;
  throw InputError("unknown log level " + quoted_input(name) +
                   ": expected trace, debug, info, warn, error or off");
}

void init(Level level, const std::string& file, int rank, bool console) {
  std::vector<spdlog::sink_ptr> sinks;
  if (console) {
    auto c = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    c->set_pattern("[%H:%M:%S] %^%l%$ %v");
    sinks.push_back(c);
  }
  if (!file.empty()) {
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    auto f = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    f->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + " " + host + "] %l %v");
    sinks.push_back(f);
  }
  auto lg = std::make_shared<spdlog::logger>("zerolm", sinks.begin(), sinks.end());
  lg->set_level(to_spd(level));
  lg->flush_on(spdlog::level::warn);
  logger() = lg;
  // Flushed periodically too, so a killed rank's log still has its last lines. spdlog's periodic
  // flusher only visits registered loggers: register this one (replacing an earlier init's).
  spdlog::drop("zerolm");
  spdlog::register_logger(lg);
  spdlog::flush_every(std::chrono::seconds(2));
}

void flush() {
  logger()->flush();
}
void debug(const std::string& msg) {
  logger()->debug(msg);
}
void info(const std::string& msg) {
  logger()->info(msg);
}
void warn(const std::string& msg) {
  logger()->warn(msg);
}
void error(const std::string& msg) {
  logger()->error(msg);
}

}  // namespace zerolm::log
