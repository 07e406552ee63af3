#include "server/backend.h"

namespace supernova::server {
namespace {

class SessionModel final : public ModelBackend {
 public:
  explicit SessionModel(std::shared_ptr<const Session> session) : session_(std::move(session)) {}
  const std::vector<TensorInfo>& inputs() const override { return session_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return session_->outputs(); }
  Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
             std::vector<Tensor>* outputs) const override {
    return session_->Run(feeds, outputs);
  }
  const PlacementReport* placement() const override { return &session_->placement(); }

 private:
  std::shared_ptr<const Session> session_;
};

}  // namespace

std::shared_ptr<const ModelBackend> SessionBackend(std::shared_ptr<const Session> session) {
  return std::make_shared<SessionModel>(std::move(session));
}

}  // namespace supernova::server
