// TLS on both front ends with certificates made for the test by the `openssl` command: a CA, a
// server and a client certificate it signed, and a second CA with its own client. The server
// takes TLS 1.2 and 1.3 only and, on 1.2, ECDHE key exchange with AEAD ciphers only; with a
// client CA (--tls-client-ca) a client must show a certificate that CA signed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "server/grpc_fixture.h"
#include "server/http_fixture.h"

namespace supernova::server {
namespace {

using http_test::ExpectSimpleJson;
using http_test::MakeSimple;
using http_test::SimpleJson;

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// <dir>/{ca,other_ca}.pem, server.{pem,key} signed by ca (RSA, so that the server could offer
// RSA key exchange if it allowed it), client.{pem,key} signed by ca and stranger.{pem,key} by
// other_ca.
void MakeCertificates(const std::string& dir) {
  auto ca = [&](const std::string& name) {
    ASSERT_TRUE(Run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                    " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name + ".pem"))
        << "openssl (scripts/setup.sh installs it) could not make a CA";
  };
  auto leaf = [&](const std::string& name, const std::string& signer, const std::string& ext) {
    const std::string d = dir + "/";
    std::ofstream(d + name + ".ext") << ext << "\n";
    ASSERT_TRUE(Run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + d +
                    name + ".key -out " + d + name + ".csr"));
    ASSERT_TRUE(Run("openssl x509 -req -days 1 -in " + d + name + ".csr -CA " + d + signer +
                    ".pem -CAkey " + d + signer + ".key -CAcreateserial -extfile " + d + name +
                    ".ext -out " + d + name + ".pem"));
  };
  ca("ca");
  ca("other_ca");
  leaf("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  leaf("client", "ca", "extendedKeyUsage=clientAuth");
  leaf("stranger", "other_ca", "extendedKeyUsage=clientAuth");
}

// Whether `openssl s_client` with `flags` completes a handshake with 127.0.0.1:port.
bool Handshakes(int port, const std::string& flags) {
  return Run("openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " " + flags +
             " </dev/null");
}

// What each front end must refuse and accept at the TLS layer, whatever the HTTP or gRPC on top.
void ExpectModernTlsOnly(int port, const std::string& alpn) {
  // SECLEVEL=0 lets this client offer what OpenSSL's own defaults no longer would: the refusal
  // must come from the server.
  EXPECT_FALSE(Handshakes(port, "-tls1_1 -cipher DEFAULT@SECLEVEL=0" + alpn)) << "TLS 1.1";
  EXPECT_FALSE(Handshakes(port, "-tls1 -cipher DEFAULT@SECLEVEL=0" + alpn)) << "TLS 1.0";
  EXPECT_FALSE(Handshakes(port, "-tls1_2 -cipher AES128-SHA" + alpn)) << "RSA key exchange, CBC";
  EXPECT_FALSE(Handshakes(port, "-tls1_2 -cipher AES256-GCM-SHA384" + alpn)) << "no ECDHE";
  EXPECT_FALSE(Handshakes(port, "-tls1_2 -cipher ECDHE-RSA-AES128-SHA" + alpn)) << "ECDHE, CBC";
  EXPECT_TRUE(Handshakes(port, "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" + alpn));
  EXPECT_TRUE(Handshakes(port, "-tls1_3" + alpn));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.repo.AddBundled("simple");
    dir_ = s_.repo.path() + "/pki";
    std::filesystem::create_directories(dir_);
    MakeCertificates(dir_);
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

  void StartHttp(bool client_ca) {
    HttpOptions ho;
    ho.tls_cert_file = File("server.pem");
    ho.tls_key_file = File("server.key");
    if (client_ca) ho.tls_client_ca_file = File("ca.pem");
    s_.Start({}, ho);
  }
  void StartGrpc(bool client_ca) {
    s_.StartCore();
    ASSERT_TRUE(s_.core);
    GrpcOptions go;
    go.address = "127.0.0.1";
    go.port = 0;
    go.tls_cert_file = File("server.pem");
    go.tls_key_file = File("server.key");
    if (client_ca) go.tls_client_ca_file = File("ca.pem");
    auto g = GrpcServer::Start(s_.core.get(), go);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    grpc_ = std::move(*g);
  }

  // An HTTPS client that checks the server against ca.pem and shows `client` (none: "").
  std::unique_ptr<httplib::SSLClient> Https(const std::string& client) const {
    auto cli = client.empty()
                   ? std::make_unique<httplib::SSLClient>("127.0.0.1", s_.port())
                   : std::make_unique<httplib::SSLClient>(
                         "127.0.0.1", s_.port(), File(client + ".pem"), File(client + ".key"));
    cli->set_ca_cert_path(File("ca.pem").c_str());
    cli->enable_server_certificate_verification(true);
    cli->set_read_timeout(30, 0);
    return cli;
  }
  grpc::Status GrpcInfer(const std::string& client, int seed) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Slurp(File("ca.pem"));
    if (!client.empty()) {
      ssl.pem_private_key = Slurp(File(client + ".key"));
      ssl.pem_cert_chain = Slurp(File(client + ".pem"));
    }
    auto stub = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(grpc_->port()), grpc::SslCredentials(ssl)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    inference::ModelInferResponse resp;
    grpc::Status s = stub->ModelInfer(&ctx, grpc_test::SimpleRequest(1, seed), &resp);
    if (s.ok()) grpc_test::ExpectSimpleAnswer(resp, 1, seed);
    return s;
  }

  http_test::Server s_;
  std::unique_ptr<GrpcServer> grpc_;
  std::string dir_;
};

TEST_F(TlsTest, HttpTakesOnlyTls12WithEcdheAeadAndTls13) {
  StartHttp(false);
  ExpectModernTlsOnly(s_.port(), "");
  const http_test::SimpleCase c = MakeSimple(1, 3);
  ExpectSimpleJson(Https("")->Post("/v2/models/simple/infer", SimpleJson(c), "application/json"),
                   c);
}

TEST_F(TlsTest, GrpcTakesOnlyTls12WithEcdheAeadAndTls13) {
  StartGrpc(false);
  ExpectModernTlsOnly(grpc_->port(), " -alpn h2");
  grpc::Status s = GrpcInfer("", 4);
  EXPECT_TRUE(s.ok()) << grpc_test::CodeText(s);
}

TEST_F(TlsTest, HttpWithAClientCaServesOnlyClientsItSigned) {
  StartHttp(true);
  const http_test::SimpleCase c = MakeSimple(1, 5);
  ExpectSimpleJson(
      Https("client")->Post("/v2/models/simple/infer", SimpleJson(c), "application/json"), c);
  for (const char* client : {"", "stranger"}) {
    auto res = Https(client)->Get("/v2/health/live");
    EXPECT_FALSE(res) << (*client ? client : "no certificate") << " was served";
  }
  // Over TLS 1.2 the refusal is in the handshake itself.
  EXPECT_FALSE(Handshakes(s_.port(), "-tls1_2"));
  EXPECT_TRUE(
      Handshakes(s_.port(), "-tls1_2 -cert " + File("client.pem") + " -key " + File("client.key")));
}

TEST_F(TlsTest, GrpcWithAClientCaServesOnlyClientsItSigned) {
  StartGrpc(true);
  grpc::Status s = GrpcInfer("client", 6);
  EXPECT_TRUE(s.ok()) << grpc_test::CodeText(s);
  for (const char* client : {"", "stranger"}) {
    s = GrpcInfer(client, 7);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << (*client ? client : "no certificate") << ": " << grpc_test::CodeText(s);
  }
}

TEST_F(TlsTest, AClientCaWithoutTlsOrUnreadableFailsToStart) {
  s_.StartCore();
  ASSERT_TRUE(s_.core);
  // The same two refusals from either front end's options.
  auto expect_refused = [&](auto options, auto start) {
    options.address = "127.0.0.1";
    options.port = 0;
    options.tls_client_ca_file = File("ca.pem");
    EXPECT_EQ(start(options).status().code(), Status::Code::kInvalidArgument) << "without TLS";
    options.tls_cert_file = File("server.pem");
    options.tls_key_file = File("server.key");
    options.tls_client_ca_file = File("missing.pem");
    EXPECT_EQ(start(options).status().code(), Status::Code::kInvalidArgument) << "unreadable";
  };
  expect_refused(HttpOptions{},
                 [&](const HttpOptions& o) { return HttpServer::Start(s_.core.get(), o); });
  expect_refused(GrpcOptions{},
                 [&](const GrpcOptions& o) { return GrpcServer::Start(s_.core.get(), o); });
}

}  // namespace
}  // namespace supernova::server
