// The payloads (EdgeX event, JSON lines), the JSON-lines sink, labels and OpenSink's URLs.
#include "stream/sinks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stream/sinks/sink_test_util.h"

namespace supernova::stream {
namespace {

using supernova::testing::MakeResult;
using supernova::testing::TempDir;
using Json = nlohmann::json;

void ExpectBox(const Json& j, const Box& b) {
  EXPECT_NEAR(j["x1"].get<double>(), b.x1, 0.005);
  EXPECT_NEAR(j["y1"].get<double>(), b.y1, 0.005);
  EXPECT_NEAR(j["x2"].get<double>(), b.x2, 0.005);
  EXPECT_NEAR(j["y2"].get<double>(), b.y2, 0.005);
}

// Every field of a JSON-lines record against the result it came from.
void ExpectRecord(const Json& j, const FrameResult& r, const std::vector<std::string>& labels) {
  EXPECT_EQ(j["stream"], r.stream);
  EXPECT_EQ(j["frame"].get<int64_t>(), r.frame->index);
  EXPECT_NEAR(j["pts"].get<double>(), r.frame->pts_s, 1e-6);
  EXPECT_EQ(j["inferred"].get<bool>(), r.inferred);
  EXPECT_NEAR(j["lag_ms"].get<double>(), r.lag_s * 1e3, 1e-3);
  EXPECT_EQ(j["timestamp_ns"].get<int64_t>(), r.timestamp_ns);
  EXPECT_EQ(j["width"].get<int>(), r.frame->width);
  EXPECT_EQ(j["height"].get<int>(), r.frame->height);
  EXPECT_EQ(j["cloud_sent"].get<bool>(), r.cloud_sent);
  ASSERT_EQ(j["detections"].size(), r.detections.size());
  for (size_t k = 0; k < r.detections.size(); ++k) {
    const Json& d = j["detections"][k];
    EXPECT_EQ(d["class_id"].get<int>(), r.detections[k].class_id);
    EXPECT_EQ(d["label"], ClassLabel(r.detections[k].class_id, labels));
    EXPECT_NEAR(d["score"].get<double>(), r.detections[k].score, 1e-4);
    ExpectBox(d["box"], r.detections[k].box);
  }
  ASSERT_EQ(j["tracks"].size(), r.tracks.size());
  for (size_t k = 0; k < r.tracks.size(); ++k) {
    const Json& t = j["tracks"][k];
    EXPECT_EQ(t["id"].get<int64_t>(), r.tracks[k].id);
    EXPECT_EQ(t["class_id"].get<int>(), r.tracks[k].class_id);
    EXPECT_EQ(t["label"], ClassLabel(r.tracks[k].class_id, labels));
    EXPECT_NEAR(t["score"].get<double>(), r.tracks[k].score, 1e-4);
    EXPECT_EQ(t["frames_since_detection"].get<int>(), r.tracks[k].frames_since_detection);
    EXPECT_EQ(t["cloud"].get<bool>(), r.tracks[k].cloud);
    ExpectBox(t["box"], r.tracks[k].box);
    const LearnedLabel& learned = r.tracks[k].learned;
    ASSERT_EQ(t.contains("learned"), !learned.label.empty());
    if (!learned.label.empty()) {
      EXPECT_EQ(t["learned"]["label"], learned.label);
      EXPECT_NEAR(t["learned"]["score"].get<double>(), learned.score, 1e-4);
    }
  }
}

std::vector<Json> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<Json> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(Json::parse(line));
  return lines;
}

TEST(Labels, ReadFromAFileWithFallbackNames) {
  TempDir dir;
  std::ofstream(dir.File("coco.names")) << "person\nbicycle \r\ncar\n";
  auto labels = ReadLabels(dir.File("coco.names"));
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(*labels, (std::vector<std::string>{"person", "bicycle", "car"}));
  EXPECT_EQ(ClassLabel(1, *labels), "bicycle");
  EXPECT_EQ(ClassLabel(3, *labels), "class_3");
  EXPECT_EQ(ClassLabel(-1, *labels), "class_-1");

  auto missing = ReadLabels(dir.File("nope.names"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.names"), std::string::npos);
}

TEST(Labels, ATrackIsCalledByItsLearnedClassWhereItHasOne) {
  Track t;
  t.class_id = 0;
  EXPECT_EQ(TrackLabel(t, {"person"}), "person");
  t.learned.score = 0.4f;  // classified, not recognised
  t.learned.frame = 3;
  EXPECT_EQ(TrackLabel(t, {"person"}), "person");
  t.learned.label = "alice";
  EXPECT_EQ(TrackLabel(t, {"person"}), "alice");
  EXPECT_EQ(TrackLabel(t, {}), "alice");
}

TEST(EdgeXEvent, FreshIdsAndAnOriginEvenWithoutTimestamp) {
  FrameResult r = MakeResult(3);
  const Json a = Json::parse(EdgeXEventJson(r, {}));
  const Json b = Json::parse(EdgeXEventJson(r, {}));
  EXPECT_NE(a["id"], b["id"]);
  EXPECT_NE(a["readings"][0]["id"], b["readings"][0]["id"]);
  EXPECT_NE(a["id"], a["readings"][0]["id"]);
  EXPECT_EQ(a["readings"][0]["objectValue"]["objects"][0]["label"], "class_0");

  r.timestamp_ns = 0;  // EdgeX rejects a zero origin
  const Json c = Json::parse(EdgeXEventJson(r, {}));
  EXPECT_GT(c["origin"].get<int64_t>(), 1600000000000000000LL);
  EXPECT_EQ(c["readings"][0]["origin"], c["origin"]);
}

TEST(JsonLinesSink, WritesOneRecordPerFrameThatReadsBack) {
  TempDir dir;
  SinkOptions options;
  options.labels = {"person"};
  auto sink = OpenSink(dir.File("results.jsonl"), options);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<FrameResult> written;
  for (int64_t i = 0; i < 6; ++i) {
    written.push_back(MakeResult(i));
    ASSERT_TRUE((*sink)->Write(written.back()).ok());
  }
  // Each line is flushed as written: a reader following the file sees whole frames.
  EXPECT_EQ(ReadLines(dir.File("results.jsonl")).size(), 6u);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->stats().frames, 6);

  const std::vector<Json> lines = ReadLines(dir.File("results.jsonl"));
  ASSERT_EQ(lines.size(), written.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i));
    ExpectRecord(lines[i], written[i], options.labels);
    EXPECT_EQ(lines[i], Json::parse(JsonLinesRecord(written[i], options)));
  }
  EXPECT_EQ(lines[0]["tracks"][0]["label"], "person");
  EXPECT_EQ(lines[0]["tracks"][1]["label"], "class_5");
  // The detector's class stays beside the learned one; a track never recognised has none.
  EXPECT_EQ(lines[3]["tracks"][0]["label"], "person");
  EXPECT_EQ(lines[3]["tracks"][0]["learned"]["label"], "alice");
  EXPECT_EQ(lines[3]["tracks"][0]["learned"].size(), 2u);  // label and score
  EXPECT_FALSE(lines[3]["tracks"][1].contains("learned"));

  const Status again = (*sink)->Write(written[0]);
  EXPECT_EQ(again.code(), Status::Code::kFailedPrecondition) << again.ToString();
  EXPECT_TRUE((*sink)->Close().ok());
}

TEST(JsonLinesSink, SchemeAndStdout) {
  TempDir dir;
  auto file = OpenSink("jsonl:" + dir.File("results.txt"), {});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Write(MakeResult(0)).ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadLines(dir.File("results.txt")).size(), 1u);

  for (const std::string url : {"-", "stdout:"}) {
    ::testing::internal::CaptureStdout();
    auto out = OpenSink(url, {});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE((*out)->Write(MakeResult(4)).ok());
    ASSERT_TRUE((*out)->Close().ok());
    const std::string text = ::testing::internal::GetCapturedStdout();
    ASSERT_FALSE(text.empty()) << url;
    EXPECT_EQ(text.back(), '\n');
    ExpectRecord(Json::parse(text), MakeResult(4), {});
  }
}

TEST(JsonLinesSink, WriteNeedsAFrame) {
  TempDir dir;
  auto sink = OpenSink(dir.File("r.jsonl"), {});
  ASSERT_TRUE(sink.ok());
  FrameResult r = MakeResult(0);
  r.frame = nullptr;
  EXPECT_EQ((*sink)->Write(r).code(), Status::Code::kInvalidArgument);
}

TEST(OpenSink, UnknownFormsAndUnwritablePathsAreClearErrors) {
  struct Case {
    std::string url;
    Status::Code code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", Status::Code::kInvalidArgument, "empty sink URL"},
      {"ftp://host/results", Status::Code::kInvalidArgument, "unknown scheme 'ftp:'"},
      {"kafka:topic", Status::Code::kInvalidArgument, "unknown scheme 'kafka:'"},
      {"results.txt", Status::Code::kInvalidArgument, "not a known form"},
      {"jsonl:", Status::Code::kInvalidArgument, "no path"},
      {"video:", Status::Code::kInvalidArgument, "no path"},
      {"/no/such/dir/results.jsonl", Status::Code::kNotFound, "/no/such/dir/results.jsonl"},
      {"/etc/passwd/results.jsonl", Status::Code::kNotFound, "Not a directory"},
      {"jsonl:/tmp", Status::Code::kInvalidArgument, "Is a directory"},
      {"/no/such/dir/annotated.mp4", Status::Code::kNotFound, "/no/such/dir/annotated.mp4"},
      {"video:/tmp/annotated.unknown-container", Status::Code::kInvalidArgument,
       "no container format"},
  };
  for (const Case& c : cases) {
    auto sink = OpenSink(c.url, {});
    ASSERT_FALSE(sink.ok()) << c.url;
    EXPECT_EQ(sink.status().code(), c.code) << c.url << ": " << sink.status().ToString();
    EXPECT_NE(sink.status().message().find(c.says), std::string::npos)
        << c.url << ": " << sink.status().ToString();
  }
}

}  // namespace
}  // namespace supernova::stream
