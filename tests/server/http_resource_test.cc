// A backend's sub-resources over HTTP (ModelBackend::Resource, http_server.h): the front end
// routes /v2/models/NAME[/versions/V]/RESOURCE[/...] to the handler with the method, the
// decoded path and the body, maps its errors as any other, guards it with the admin token, and
// answers 404 for a model whose backend offers no such resource. The handler keeps its backend
// alive past an unload.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using namespace http_test;  // NOLINT: the test helpers

std::atomic<int> g_live_backends{0};

// A backend that runs nothing useful and offers one resource, "notes", answering with what
// it was given.
class NotesBackend final : public ModelBackend {
 public:
  NotesBackend() {
    ++g_live_backends;
    io_.push_back({"X", DataType::kFloat32, ValueKind::kTensor, true, {1}, {""}});
  }
  ~NotesBackend() override { --g_live_backends; }
  const std::vector<TensorInfo>& inputs() const override { return io_; }
  const std::vector<TensorInfo>& outputs() const override { return io_; }
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    outputs->clear();
    outputs->push_back(feeds.front().second);
    return Status::Ok();
  }
  ResourceHandler Resource(const std::string& name) const override {
    if (name != "notes") return nullptr;
    return [](const ResourceRequest& r) -> Result<ResourceResponse> {
      if (r.body == "bad") return Status::InvalidArgument("the body says bad");
      if (r.method == "DELETE") return ResourceResponse{405, R"({"error":"no"})", "GET, POST"};
      const json answer = {{"method", r.method}, {"path", r.path}, {"body", r.body}};
      return ResourceResponse{r.method == "POST" ? 201 : 200, answer.dump(), ""};
    };
  }

 private:
  std::vector<TensorInfo> io_;
};

ServerOptions WithNotes() {
  ServerOptions so;
  so.backends["test_notes"] =
      [](const BackendContext&) -> Result<std::shared_ptr<const ModelBackend>> {
    return std::shared_ptr<const ModelBackend>(std::make_shared<NotesBackend>());
  };
  return so;
}

void AddNotesModel(TempRepository& repo) {
  repo.WriteFile("notes/config.pbtxt", "platform: \"test_notes\"\nmax_batch_size: 0\n");
  repo.WriteFile("notes/1/unused", "");
}

TEST(HttpResource, RoutesMethodPathAndBodyToTheBackendsHandler) {
  Server s;
  s.repo.AddBundled("simple");
  AddNotesModel(s.repo);
  s.StartAdmin(WithNotes());
  auto cli = s.Client();

  auto res = cli.Get("/v2/models/notes/notes");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"method":"GET","path":[],"body":""})"));

  // The version form, segments percent-decoded one by one: "%2F" stays inside its segment.
  res = cli.Post("/v2/models/notes/versions/1/notes/a%20b/c%2Fd", "hello", "text/plain");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"({"method":"POST","path":["a b","c/d"],"body":"hello"})"));

  // The handler's errors are statuses, mapped as the core's are; its own answers keep theirs.
  res = cli.Post("/v2/models/notes/notes", "bad", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"], "the body says bad");
  res = cli.Delete("/v2/models/notes/notes/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, POST");

  // No such resource, no such model, no such version, a malformed segment.
  res = cli.Get("/v2/models/simple/notes");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"],
            "model 'simple' (platform onnxruntime_onnx) has no resource 'notes'");
  res = cli.Get("/v2/models/notes/classes/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"],
            "model 'notes' (platform test_notes) has no resource 'classes'");
  EXPECT_EQ(cli.Get("/v2/models/nope/notes")->status, 404);
  EXPECT_EQ(cli.Get("/v2/models/notes/versions/7/notes")->status, 404);
  EXPECT_EQ(cli.Get("/v2/models/notes/notes/%zz")->status, 400);

  // The protocol's own endpoints keep their shape: nothing after them.
  res = cli.Get("/v2/models/simple/ready/more");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("no such endpoint"), std::string::npos) << res->body;
  ExpectSimpleOk(cli, 5);
}

TEST(HttpResource, NeedsTheAdminToken) {
  Server s;
  AddNotesModel(s.repo);
  ServerOptions so = WithNotes();
  so.infer_token = "infer-secret";
  so.admin_token = "admin-secret";
  s.Start(so);
  auto cli = s.Client();
  for (const char* path : {"/v2/models/notes/notes", "/v2/models/notes/nothing-here"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(cli.Get(path, {{"Authorization", "Bearer nope"}})->status, 403) << path;
    EXPECT_EQ(cli.Get(path, {{"Authorization", "Bearer infer-secret"}})->status, 403) << path;
  }
  const httplib::Headers admin = {{"Authorization", "Bearer admin-secret"}};
  EXPECT_EQ(cli.Get("/v2/models/notes/notes", admin)->status, 200);
  EXPECT_EQ(cli.Get("/v2/models/notes/nothing-here", admin)->status, 404);
}

// A server with no token at all still serves inference but no sub-resource: a learned
// classifier's class store is administration.
TEST(HttpResource, IsOffWithoutAnyToken) {
  Server s;
  AddNotesModel(s.repo);
  s.Start(WithNotes());
  auto cli = s.Client();
  for (const char* method : {"GET", "POST", "DELETE"}) {
    httplib::Request req;
    req.method = method;
    req.path = "/v2/models/notes/notes";
    auto res = cli.send(req);
    ASSERT_TRUE(res) << method;
    EXPECT_EQ(res->status, 403) << method;
    EXPECT_NE(res->body.find("--admin-token-file"), std::string::npos) << res->body;
  }
}

TEST(HttpResource, AHandlerKeepsItsBackendAlivePastAnUnload) {
  Server s;
  AddNotesModel(s.repo);
  const int before = g_live_backends.load();
  s.StartCore(WithNotes());
  ASSERT_TRUE(s.core);
  ASSERT_EQ(g_live_backends.load(), before + 1);
  Result<ResourceHandler> handler = s.core->ModelResource("notes", "", "notes");
  ASSERT_TRUE(handler.ok()) << handler.status().ToString();
  ASSERT_TRUE(s.core->UnloadModel("notes").ok());
  ASSERT_TRUE(s.core->WaitIdle(std::chrono::seconds(30)));
  EXPECT_EQ(g_live_backends.load(), before + 1) << "the handler still holds the backend";
  Result<ResourceResponse> answer = (*handler)(ResourceRequest{"GET", {"x"}, ""});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(json::parse(answer->body)["path"], json::array({"x"}));
  *handler = nullptr;
  EXPECT_EQ(g_live_backends.load(), before);
  EXPECT_EQ(s.core->ModelResource("notes", "", "notes").status().code(),
            Status::Code::kUnavailable);
}

}  // namespace
}  // namespace supernova::server
