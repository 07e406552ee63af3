// supernova learn add|classify|list|remove|rename|reset|export|eval (docs/learn.md)
//
// New classes from a few images, without retraining: `add` embeds the images with a layer of
// the model and enrols them in a class store (a directory, class_store.h); `classify` finds
// each image's class by its prototype or by weight imprinting, with "unknown" below a
// threshold and optional online refinement; `export` writes the imprinted model as plain ONNX;
// `eval` (cmd_learn_eval.cc) measures few-shot accuracy on labelled folders.
//
// Every command that fails leaves the store as it was: names, images and the store's model
// are checked and every image is embedded before the one write.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ir/onnx_import.h"
#include "learn/class_store.h"
#include "learn/classifier.h"
#include "learn/imprint.h"
#include "learn/refine.h"
#include "supernova/commands.h"
#include "supernova/learn_embed.h"
#include "supernova/output_file.h"

namespace supernova::tools {

void AddLearnEvalCommand(CLI::App* learn, int* exit_code);  // cmd_learn_eval.cc

namespace {

using learn::ClassRecord;
using learn::ClassStore;

Status NoStore(const std::string& dir) {
  return Status::NotFound("no class store at " + dir + " (`supernova learn add` makes one)");
}

// Opens the store at `dir` for `embedder`, which must be the store's: --store of a model
// `add` has not made one for yet fails here rather than creating an empty store.
Result<std::unique_ptr<ClassStore>> OpenStoreOf(const std::string& dir,
                                                const learn::Embedder& embedder) {
  if (!StoreExists(dir)) return NoStore(dir);
  return ClassStore::Open(dir, embedder.identity(), embedder.dim());
}

Result<std::unique_ptr<ClassStore>> OpenAnyStore(const std::string& dir) {
  if (!StoreExists(dir)) return NoStore(dir);
  return ClassStore::OpenExisting(dir);
}

// 1 - cos(a, b): how far refinement has moved a prototype from its anchor.
double CosineDistance(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  return aa > 0 && bb > 0 ? 1 - ab / std::sqrt(aa * bb) : 0;
}

// ---- add ----

struct AddArgs {
  LearnModelFlags model;
  std::string store, name;
  std::vector<std::string> meta;
  std::vector<std::string> images;
};

Result<std::map<std::string, std::string>> ParseMetadata(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> meta;
  for (const std::string& kv : pairs) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--meta " + kv + ": give KEY=VALUE");
    meta[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return meta;
}

Status Add(const AddArgs& args) {
  SN_RETURN_IF_ERROR(learn::ValidateClassName(args.name));
  SN_ASSIGN_OR_RETURN(auto meta, ParseMetadata(args.meta));
  const bool existed = StoreExists(args.store);
  SN_ASSIGN_OR_RETURN(auto embedder, OpenEmbedder(args.model, StoredIdentity(args.store)));
  // An existing store of another model fails before the images are embedded; a new one is
  // made only once they all have been.
  std::unique_ptr<ClassStore> store;
  if (existed) {
    SN_ASSIGN_OR_RETURN(store, ClassStore::Open(args.store, embedder->identity(), embedder->dim()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  SN_ASSIGN_OR_RETURN(std::vector<float> rows, EmbedFiles(*embedder, args.images, args.model));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!store) {
    SN_ASSIGN_OR_RETURN(store, ClassStore::Open(args.store, embedder->identity(), embedder->dim()));
  }
  SN_ASSIGN_OR_RETURN(ClassRecord record, store->Add(args.name, rows, meta));
  const int64_t kept = record.num_examples(store->dim());
  fmt::print(
      "{}: {} example{}{} ({} added), {:.1f} ms per image, layer {}\n", record.name, kept,
      kept == 1 ? "" : "s", record.count != kept ? fmt::format(" kept of {}", record.count) : "",
      args.images.size(), ms / static_cast<double>(args.images.size()), embedder->layer().tensor);
  return Status::Ok();
}

// ---- classify ----

struct ClassifyArgs {
  LearnModelFlags model;
  std::string store;
  std::string method = learn::MethodName(learn::kDefaultMethod);
  float threshold = learn::kDefaultThreshold;
  bool refine = false;
  learn::RefineOptions refine_options;
  bool json = false;
  std::vector<std::string> images;
};

Status Classify(const ClassifyArgs& args) {
  SN_ASSIGN_OR_RETURN(learn::Method method, learn::ParseMethod(args.method));
  if (!StoreExists(args.store)) return NoStore(args.store);
  SN_ASSIGN_OR_RETURN(auto embedder, OpenEmbedder(args.model, StoredIdentity(args.store)));
  SN_ASSIGN_OR_RETURN(auto store, OpenStoreOf(args.store, *embedder));
  SN_ASSIGN_OR_RETURN(std::vector<ClassRecord> classes, store->List());
  if (classes.empty())
    return Status::FailedPrecondition("the store at " + args.store + " has no classes yet");
  SN_ASSIGN_OR_RETURN(std::vector<float> rows, EmbedFiles(*embedder, args.images, args.model));

  const size_t dim = static_cast<size_t>(embedder->dim());
  auto classifier =
      std::make_unique<learn::Classifier>(classes, embedder->dim(), method, args.threshold);
  std::unique_ptr<learn::Refiner> refiner;
  if (args.refine) refiner = std::make_unique<learn::Refiner>(store.get(), args.refine_options);
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < args.images.size(); ++i) {
    const float* row = rows.data() + i * dim;
    const learn::Prediction p = classifier->Classify(row);
    const std::vector<float> scores = classifier->Scores(row);
    int second = -1;
    for (size_t c = 0; c < scores.size(); ++c)
      if (static_cast<int>(c) != p.index && (second < 0 || scores[c] > scores[second]))
        second = static_cast<int>(c);
    nlohmann::json r = {{"image", args.images[i]}, {"label", p.known ? p.label : "unknown"},
                        {"class", p.label},        {"index", p.index},
                        {"score", p.score},        {"known", p.known}};
    r["runner_up"] =
        second < 0 ? nlohmann::json(nullptr)
                   : nlohmann::json{{"class", classifier->names()[second]}, {"score", p.runner_up}};
    std::string line =
        fmt::format("{}: {}{} score {:.4f}", args.images[i], p.known ? p.label : "unknown",
                    p.known ? "" : " (nearest " + p.label + ")", p.score);
    if (second >= 0)
      line += fmt::format(", runner-up {} {:.4f}", classifier->names()[second], p.runner_up);
    if (refiner && p.known) {
      SN_ASSIGN_OR_RETURN(learn::RefineResult refined,
                          refiner->Offer(std::vector<float>(row, row + dim), p,
                                         "learn classify " + args.images[i]));
      r["refine"] = {{"accepted", refined.accepted},
                     {"why", refined.why},
                     {"drift_before", refined.drift_before},
                     {"drift_after", refined.drift_after}};
      line += fmt::format("; refine: {} (drift {:.4f})", refined.why, refined.drift_after);
      if (refined.accepted) {  // the next image meets the refined prototype
        SN_ASSIGN_OR_RETURN(classes, store->List());
        classifier =
            std::make_unique<learn::Classifier>(classes, embedder->dim(), method, args.threshold);
      }
    }
    results.push_back(std::move(r));
    if (!args.json) fmt::print("{}\n", line);
  }
  if (args.json) fmt::print("{}\n", results.dump(2));
  return Status::Ok();
}

// ---- list, remove, rename, reset ----

struct StoreArgs {
  std::string store, name, to;
  bool json = false;
};

Status List(const StoreArgs& args) {
  SN_ASSIGN_OR_RETURN(auto store, OpenAnyStore(args.store));
  SN_ASSIGN_OR_RETURN(std::vector<ClassRecord> classes, store->List());
  nlohmann::json out = {{"store", args.store},
                        {"embedder", store->embedder()},
                        {"dim", store->dim()},
                        {"classes", nlohmann::json::array()}};
  if (!args.json)
    fmt::print("{}: {} classes, embedder {}, dimension {}\n", args.store, classes.size(),
               store->embedder(), store->dim());
  for (const ClassRecord& c : classes) {
    const double drift = CosineDistance(c.prototype, c.anchor);
    out["classes"].push_back({{"name", c.name},
                              {"examples", c.num_examples(store->dim())},
                              {"count", c.count},
                              {"version", c.version},
                              {"refinements", c.refinements},
                              {"drift", drift},
                              {"metadata", c.metadata},
                              {"created_unix", c.created_unix},
                              {"updated_unix", c.updated_unix}});
    if (args.json) continue;
    std::string meta;
    for (const auto& [k, v] : c.metadata) meta += fmt::format(" {}={}", k, v);
    fmt::print("  {}: {} examples (count {}), {} refinements, drift {:.4f}{}\n", c.name,
               c.num_examples(store->dim()), c.count, c.refinements, drift, meta);
  }
  if (args.json) fmt::print("{}\n", out.dump(2));
  return Status::Ok();
}

Status Remove(const StoreArgs& args) {
  SN_RETURN_IF_ERROR(learn::ValidateClassName(args.name));
  SN_ASSIGN_OR_RETURN(auto store, OpenAnyStore(args.store));
  SN_RETURN_IF_ERROR(store->Remove(args.name));
  fmt::print("removed {}\n", args.name);
  return Status::Ok();
}

Status Rename(const StoreArgs& args) {
  SN_RETURN_IF_ERROR(learn::ValidateClassName(args.name));
  SN_RETURN_IF_ERROR(learn::ValidateClassName(args.to));
  SN_ASSIGN_OR_RETURN(auto store, OpenAnyStore(args.store));
  SN_RETURN_IF_ERROR(store->Rename(args.name, args.to));
  fmt::print("renamed {} to {}\n", args.name, args.to);
  return Status::Ok();
}

Status Reset(const StoreArgs& args) {
  SN_RETURN_IF_ERROR(learn::ValidateClassName(args.name));
  SN_ASSIGN_OR_RETURN(auto store, OpenAnyStore(args.store));
  SN_ASSIGN_OR_RETURN(ClassRecord before, store->Get(args.name));
  SN_RETURN_IF_ERROR(store->Reset(args.name).status());
  fmt::print("reset {} to its enrolled prototype ({} refinements undone, drift was {:.4f})\n",
             args.name, before.refinements, CosineDistance(before.prototype, before.anchor));
  return Status::Ok();
}

// ---- export ----

struct ExportArgs {
  LearnModelFlags model;
  std::string store, output;
  bool keep_original = false;
};

Status Export(const ExportArgs& args) {
  if (SameFile(args.model.model, args.output))
    return Status::InvalidArgument("--output " + args.output +
                                   " is the model: write the imprinted one to another file");
  if (!StoreExists(args.store)) return NoStore(args.store);
  ir::Model source;
  SN_ASSIGN_OR_RETURN(auto embedder, OpenEmbedder(args.model, StoredIdentity(args.store), &source));
  SN_ASSIGN_OR_RETURN(auto store, OpenStoreOf(args.store, *embedder));
  SN_ASSIGN_OR_RETURN(std::vector<ClassRecord> classes, store->List());
  if (classes.empty() && !args.keep_original)
    return Status::FailedPrecondition("the store at " + args.store + " has no classes to export");
  const learn::Classifier classifier(classes, embedder->dim(), learn::Method::kImprint, 0);
  learn::ImprintOptions options;
  options.keep_original = args.keep_original;
  SN_ASSIGN_OR_RETURN(
      ir::Model imprinted,
      learn::BuildImprintedModel(source, embedder->embedding_model(), embedder->layer().tensor,
                                 classifier, embedder->identity(), options));
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(imprinted));
  SN_RETURN_IF_ERROR(WriteFileAtomically(args.output, bytes));
  size_t total = classifier.size();
  for (const auto& [key, value] : imprinted.metadata.props)
    if (key == "supernova.classes") {
      const auto names = nlohmann::json::parse(value, nullptr, false);
      if (names.is_array()) total = names.size();
    }
  fmt::print("{}: {} classes ({} imprinted{}), outputs {} [N,{}] and {} [N], {:.1f} MiB\n",
             args.output, total, classifier.size(),
             args.keep_original ? fmt::format(", {} original", total - classifier.size()) : "",
             learn::kScoresOutput, total, learn::kClassIndexOutput,
             static_cast<double>(bytes.size()) / (1 << 20));
  return Status::Ok();
}

// Runs `command` when its subcommand is chosen; a failure is one line and exit 1.
template <typename Args>
void OnRun(CLI::App* cmd, std::shared_ptr<Args> args, Status (*command)(const Args&),
           int* exit_code) {
  cmd->final_callback([args, command, exit_code] {
    const Status s = command(*args);
    *exit_code = s.ok() ? 0 : Fail(s.message());
  });
}

// `learn NAME --store DIR --class CLASS` (and `--to NEW` for a rename).
void AddClassCommand(CLI::App* learn, const char* name, const char* help,
                     Status (*command)(const StoreArgs&), int* exit_code, bool rename = false) {
  auto args = std::make_shared<StoreArgs>();
  auto* cmd = learn->add_subcommand(name, help);
  cmd->add_option("--store", args->store, "class store directory")->required();
  cmd->add_option("--class", args->name, "the class")->required();
  if (rename) cmd->add_option("--to", args->to, "its new name (not taken)")->required();
  OnRun(cmd, args, command, exit_code);
}

}  // namespace

void AddLearnCommand(CLI::App& app, int* exit_code) {
  auto* learn = app.add_subcommand(
      "learn", "Learn new classes from a few images: enrol, classify, export, evaluate");
  learn->require_subcommand(1);

  auto add = std::make_shared<AddArgs>();
  auto* cmd = learn->add_subcommand("add", "Enrol images as examples of a class");
  AddLearnModelFlags(cmd, &add->model);
  cmd->add_option("--store", add->store, "class store directory (made if absent)")->required();
  cmd->add_option("--class", add->name, "the class's name")->required();
  // One value per --meta, so that the images after it are not taken for more.
  cmd->add_option("--meta", add->meta, "KEY=VALUE kept with the class (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("images", add->images, "image files, one example each")->required();
  OnRun(cmd, add, &Add, exit_code);

  auto classify = std::make_shared<ClassifyArgs>();
  cmd = learn->add_subcommand("classify", "Name the class of each image");
  AddLearnModelFlags(cmd, &classify->model);
  cmd->add_option("--store", classify->store, "class store directory")->required();
  cmd->add_option("--method", classify->method,
                  "imprint (cosine to each normalised prototype; the exported model's rule; "
                  "default) or prototype (nearest class mean)");
  cmd->add_option("--threshold", classify->threshold,
                  fmt::format("cosine similarity below which the answer is unknown (default {})",
                              learn::kDefaultThreshold));
  cmd->add_flag("--refine", classify->refine,
                "move a class's prototype toward confident predictions (logged in the store's "
                "refine.log)");
  AddRefineFlags(cmd, &classify->refine_options);
  cmd->add_flag("--json", classify->json, "print a JSON array, one object per image");
  cmd->add_option("images", classify->images, "image files")->required();
  OnRun(cmd, classify, &Classify, exit_code);

  auto list = std::make_shared<StoreArgs>();
  cmd = learn->add_subcommand("list", "List a store's classes");
  cmd->add_option("--store", list->store, "class store directory")->required();
  cmd->add_flag("--json", list->json, "print JSON");
  OnRun(cmd, list, &List, exit_code);

  AddClassCommand(learn, "remove", "Remove a class", &Remove, exit_code);
  AddClassCommand(learn, "rename", "Rename a class", &Rename, exit_code, /*rename=*/true);
  AddClassCommand(learn, "reset", "Undo a class's online refinement", &Reset, exit_code);

  auto exp = std::make_shared<ExportArgs>();
  cmd = learn->add_subcommand("export",
                              "Write the model with the store's classes imprinted, as ONNX");
  AddLearnModelFlags(cmd, &exp->model);
  cmd->add_option("--store", exp->store, "class store directory")->required();
  cmd->add_option("--output,-o", exp->output, "the ONNX file to write")->required();
  cmd->add_flag("--keep-original", exp->keep_original,
                "keep the model's own classes before the imprinted ones");
  OnRun(cmd, exp, &Export, exit_code);

  AddLearnEvalCommand(learn, exit_code);
}

}  // namespace supernova::tools
