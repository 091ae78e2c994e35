// Logging facade: the one place that includes spdlog, so no LibTorch translation unit sees it
// (LibTorch 2.x ships an fmt that clashes with the system fmt spdlog is built against).
#pragma once

#include <string>
#include <string_view>

namespace zerolm::log {

enum class Level { Trace, Debug, Info, Warn, Error, Off };
Level parse_level(std::string_view name);  // throws InputError

// Console logger on stderr; with `file`, also a per-rank file whose lines carry rank and host.
void init(Level level, const std::string& file = "", int rank = 0, bool console = true);
void flush();

void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace zerolm::log
