// Inside the sinks: each kind's factory (OpenSink in sinks.cc picks one by URL) and what
// they share. Not part of the sinks' API; include sinks.h instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "stream/sinks.h"

namespace supernova::stream {

// mqtt://HOST[:PORT]/TOPIC (mqtt_sink.cc).
Result<std::unique_ptr<Sink>> OpenMqttSink(const std::string& url, const SinkOptions& options);
// An annotated video at `path`; its container from the file name (video_sink.cc).
Result<std::unique_ptr<Sink>> OpenVideoSink(const std::string& path, const SinkOptions& options);

// FileError (a file's errno as a Status) is in stream/labels.h, which sinks.h includes.

}  // namespace supernova::stream
