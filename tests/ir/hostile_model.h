// Building hostile ONNX models in tests, and the checks every hostile model must pass: a
// refusal with a Status naming the problem, and memory bounded while it is found.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_UNDER_ASAN 1
#endif
#endif

namespace supernova::ir::hostile {

// A model under construction: graph inputs, initializers and nodes, one opset.
class HostileModel {
 public:
  explicit HostileModel(int64_t opset = 13) {
    m_.set_ir_version(8);
    m_.add_opset_import()->set_version(opset);
    m_.mutable_graph()->set_name("hostile");
  }
  onnx::GraphProto* graph() { return m_.mutable_graph(); }
  onnx::ModelProto& proto() { return m_; }

  HostileModel& Input(const std::string& name, const std::vector<int64_t>& dims,
                      int32_t dtype = onnx::TensorProto::FLOAT) {
    SetType(graph()->add_input(), name, dims, dtype);
    return *this;
  }
  HostileModel& Output(const std::string& name) {
    graph()->add_output()->set_name(name);
    return *this;
  }
  HostileModel& Int64s(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    onnx::NodeProto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(graph()->node_size()));
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }
  std::string Bytes() const { return m_.SerializeAsString(); }

  static void SetType(onnx::ValueInfoProto* vi, const std::string& name,
                      const std::vector<int64_t>& dims, int32_t dtype) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(dtype);
    auto* shape = tt->mutable_shape();
    for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
  }

 private:
  onnx::ModelProto m_;
};

inline bool Mentions(const Status& s, const std::string& what) {
  return s.message().find(what) != std::string::npos;
}

// The importer and Session::OpenBytes both refuse `bytes` with `code`, naming `what`.
inline void ExpectRefused(const std::string& bytes, Status::Code code, const std::string& what) {
  auto imported = ImportOnnxBytes(bytes);
  ASSERT_FALSE(imported.ok()) << "the importer accepted the model";
  EXPECT_EQ(imported.status().code(), code) << imported.status().ToString();
  EXPECT_TRUE(Mentions(imported.status(), what)) << imported.status().ToString();
  auto session = Session::OpenBytes(bytes);
  ASSERT_FALSE(session.ok()) << "Session::OpenBytes accepted the model";
  EXPECT_EQ(session.status().code(), code) << session.status().ToString();
  EXPECT_TRUE(Mentions(session.status(), what)) << session.status().ToString();
}

// Runs `body` in a child process whose address space is capped at what it has now plus
// `headroom` bytes, so that an allocation of the size a hostile file claims fails there
// instead of swapping the machine; the child's exit status is the body's verdict. ASan
// reserves terabytes of shadow memory up front and cannot run under RLIMIT_AS.
inline void UnderMemoryCap(const std::function<bool()>& body, size_t headroom = size_t{1} << 30) {
#ifdef HOSTILE_UNDER_ASAN
  GTEST_SKIP() << "ASan cannot run under RLIMIT_AS; the release tree runs this bound";
#endif
  size_t mapped = 0;
  {
    std::ifstream statm("/proc/self/statm");
    statm >> mapped;  // pages of virtual memory
  }
  ASSERT_GT(mapped, 0u) << "cannot read /proc/self/statm";
  const rlim_t cap = mapped * static_cast<size_t>(sysconf(_SC_PAGESIZE)) + headroom;
  // Exec'd, not just forked: the child runs OpenMP, whose thread pool does not survive fork.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto capped = [&] {
    const rlimit limit{cap, cap};
    if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(3);
    std::_Exit(body() ? 0 : 1);
  };
  EXPECT_EXIT(capped(), ::testing::ExitedWithCode(0), "");
}

}  // namespace supernova::ir::hostile
