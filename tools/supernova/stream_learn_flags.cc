#include "stream_learn_flags.h"

#include <cstdlib>

namespace supernova::tools {
namespace {

// A class id written out: "3" or "class_3" (what the sinks call a class without a name).
bool ParseClassId(const std::string& text, int* id) {
  std::string digits = text.rfind("class_", 0) == 0 ? text.substr(6) : text;
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *id = std::atoi(digits.c_str());
  return true;
}

}  // namespace

void AddLearnFlags(CLI::App* cmd, LearnFlags* flags) {
  LearnLabellerOptions& o = flags->options;
  cmd->add_option("--learn-model", o.model,
                  "On-device learning: the embedding model that names tracks by the classes of "
                  "--learn-store");
  cmd->add_option("--learn-store", o.store, "The class store (from `supernova learn add`)");
  cmd->add_option(
      "--learn-layer", o.crop.layer,
      "The model's tensor that embeds (default: the layer the store was enrolled with)");
  cmd->add_option("--learn-preprocess", o.crop.input.preprocess,
                  "How crops become the model's input: raw, unit, signed, imagenet or paddle");
  cmd->add_option("--learn-size", o.crop.input.size, "HxW, for a model whose input size is free");
  cmd->add_flag("--learn-bgr", o.crop.input.bgr, "The embedding model takes BGR (default RGB)");
  cmd->add_option("--learn-method", flags->method, "prototype or imprint")->capture_default_str();
  cmd->add_option("--learn-threshold", o.threshold,
                  "Lowest cosine similarity to a class for a track to take its name")
      ->capture_default_str();
  cmd->add_option("--learn-every", o.every, "Frames between two looks at one track")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--learn-max-per-frame", o.max_per_frame,
                  "Looks per frame at most, new tracks first (0: no bound)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--learn-classes", flags->classes,
                  "Detector classes whose tracks are looked at, by name (--labels) or id "
                  "(default: all)")
      ->delimiter(',');
  cmd->add_option("--learn-margin", o.crop.margin,
                  "The crop grows by this fraction of the box on each side")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 2.0));
  cmd->add_flag("--learn-refine", o.refine,
                "Tracks that keep one class over --learn-confirm looks refine its prototype");
  cmd->add_option("--learn-confirm", o.confirm,
                  "Looks in a row with one class and --learn-min-score before a track refines")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--learn-min-score", o.refine_options.min_score,
                  "Lowest score of a look that counts toward --learn-confirm")
      ->capture_default_str()
      ->check(CLI::Range(-1.0, 1.0));
}

Result<std::vector<int>> ResolveClasses(const std::vector<std::string>& names,
                                        const std::vector<std::string>& labels) {
  std::vector<int> ids;
  for (const std::string& name : names) {
    int id = -1;
    for (size_t i = 0; i < labels.size() && id < 0; ++i)
      if (labels[i] == name) id = static_cast<int>(i);
    if (id < 0 && !ParseClassId(name, &id))
      return Status::InvalidArgument(
          "--learn-classes: '" + name + "' is no class of the detector" +
          (labels.empty() ? std::string(" (give --labels to name classes)") : std::string()));
    ids.push_back(id);
  }
  return ids;
}

Result<std::unique_ptr<LearnLabeller>> OpenLearn(const LearnFlags& flags,
                                                 const std::vector<std::string>& labels,
                                                 const SessionOptions& session) {
  const LearnLabellerOptions& o = flags.options;
  if (o.model.empty()) {
    if (!o.store.empty() || !flags.classes.empty() || o.refine)
      return Status::InvalidArgument(
          "--learn-store, --learn-classes and --learn-refine need --learn-model");
    return std::unique_ptr<LearnLabeller>();
  }
  if (o.store.empty()) return Status::InvalidArgument("--learn-model needs --learn-store DIR");
  if (o.crop.input.preprocess.empty())
    return Status::InvalidArgument(
        "--learn-model needs --learn-preprocess (raw, unit, signed, imagenet or paddle)");
  LearnLabellerOptions options = o;
  SN_ASSIGN_OR_RETURN(options.method, learn::ParseMethod(flags.method));
  SN_ASSIGN_OR_RETURN(options.classes, ResolveClasses(flags.classes, labels));
  options.crop.session = session;
  return LearnLabeller::Open(options);
}

}  // namespace supernova::tools
