// Structured logs: one JSON object per line on stderr, for a log shipper to parse.
//
//   Log(LogLevel::kInfo, "model_loaded", {{"model", "simple"}, {"version", "1"}});
//   → {"ts":"2026-11-23T17:40:01.123Z","level":"info","event":"model_loaded","model":"simple",...}
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace supernova::server {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Lines below this level are dropped (default kInfo).
void SetLogLevel(LogLevel level);
bool ParseLogLevel(std::string_view name, LogLevel* level);

void Log(LogLevel level, std::string_view event,
         std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

}  // namespace supernova::server
