// supernova learn eval --model M --train DIR --test DIR --shots 1,5,10 [--method both] [--refine]
//                      [--trials N] [--seed S] [--json]
//
// Few-shot accuracy on labelled folders (one subfolder per class): for each shot count K and
// trial, K training images per class drawn at random (seeded), enrolled into a temporary class
// store, and every test image classified by each method. Each image is embedded once, in
// batches, and its embedding reused by every trial: that is what makes 10k test images
// affordable. The times are measured apart, as a user meets them: adding a class of K images
// (read, embed, store write) and classifying one image at batch 1.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "learn/class_store.h"
#include "learn/classifier.h"
#include "learn/refine.h"
#include "supernova/bench_util.h"
#include "supernova/commands.h"
#include "supernova/learn_embed.h"

namespace supernova::tools {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Images timed one at a time for the classify latency.
constexpr size_t kLatencyImages = 8;
// Classes whose enrolment is timed per shot count.
constexpr size_t kTimedAdds = 3;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct EvalArgs {
  LearnModelFlags model;
  std::string train, test;
  std::string shots = "1,5,10";
  std::string method = "both";
  int trials = 5;
  uint32_t seed = 1;
  bool json = false;
  bool refine = false;
  learn::RefineOptions refine_options;
};

// A labelled folder: class names (its subfolders, sorted) and each one's files, sorted.
struct Labelled {
  std::vector<std::string> classes;
  std::vector<std::vector<std::string>> files;
  size_t total() const {
    size_t n = 0;
    for (const auto& f : files) n += f.size();
    return n;
  }
};

bool IsExample(const fs::path& p) {
  const std::string ext = p.extension().string();
  return p.filename().string()[0] != '.' &&
         (LooksLikeImage(p.string()) || ext == ".npy" || ext == ".pb");
}

Result<Labelled> ReadLabelled(const std::string& dir, const char* flag) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::NotFound(std::string(flag) + " " + dir + " is not a folder");
  Labelled out;
  std::vector<fs::path> subdirs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') subdirs.push_back(e.path());
  std::sort(subdirs.begin(), subdirs.end());
  for (const fs::path& sub : subdirs) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(sub, ec))
      if (e.is_regular_file() && IsExample(e.path())) files.push_back(e.path().string());
    if (files.empty()) continue;
    std::sort(files.begin(), files.end());
    const std::string name = sub.filename().string();
    SN_RETURN_IF_ERROR(learn::ValidateClassName(name));
    out.classes.push_back(name);
    out.files.push_back(std::move(files));
  }
  if (out.classes.empty())
    return Status::InvalidArgument(std::string(flag) + " " + dir +
                                   " has no class subfolders with images");
  return out;
}

// A temporary class store, gone when this is.
class ScratchStore {
 public:
  ScratchStore() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           fmt::format("supernova-learn-eval-{}-{}", static_cast<long>(getpid()), counter++);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ~ScratchStore() {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Result<learn::ClassStore*> Open(const learn::Embedder& embedder) {
    SN_ASSIGN_OR_RETURN(
        store_, learn::ClassStore::Open(dir_.string(), embedder.identity(), embedder.dim()));
    return store_.get();
  }

 private:
  fs::path dir_;
  std::unique_ptr<learn::ClassStore> store_;
};

// K distinct indices below n, drawn by a partial Fisher-Yates shuffle.
std::vector<size_t> Draw(size_t n, size_t k, std::mt19937& rng) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + rng() % (n - i)]);
  idx.resize(k);
  return idx;
}

struct Score {
  int shots;
  learn::Method method;
  std::vector<double> accuracy;  // per trial
  std::vector<float> right;      // the score of every right answer, all trials
  double mean() const {
    double sum = 0;
    for (double a : accuracy) sum += a;
    return sum / static_cast<double>(accuracy.size());
  }
  double min() const { return *std::min_element(accuracy.begin(), accuracy.end()); }
  double max() const { return *std::max_element(accuracy.begin(), accuracy.end()); }
  // The --threshold that keeps 95% of the right answers (0 when there are none).
  double keeps95() {
    if (right.empty()) return 0;
    std::sort(right.begin(), right.end());
    return right[static_cast<size_t>(0.05 * static_cast<double>(right.size() - 1))];
  }
};

// Online refinement measured (--refine): per shot count, means over the trials.
struct RefineScore {
  int shots;
  double before = 0, after = 0;  // imprint accuracy on the measured half
  double offered = 0, accepted = 0, accepted_right = 0;
};

// The test images split for --refine: per class, the first half (in file order, which for
// frames of a video is time order) is offered to the refiner unlabelled, in file-name order
// across classes; the second half is measured before and after.
struct RefineSplit {
  std::vector<size_t> adapt, measure;
};
RefineSplit SplitForRefine(const std::vector<std::string>& files, const std::vector<size_t>& truth,
                           size_t num_classes) {
  RefineSplit split;
  std::vector<std::vector<size_t>> of_class(num_classes);
  for (size_t i = 0; i < files.size(); ++i) of_class[truth[i]].push_back(i);
  for (const auto& idx : of_class) {
    const size_t half = idx.size() / 2;
    split.adapt.insert(split.adapt.end(), idx.begin(), idx.begin() + half);
    split.measure.insert(split.measure.end(), idx.begin() + half, idx.end());
  }
  std::sort(split.adapt.begin(), split.adapt.end(), [&](size_t a, size_t b) {
    return fs::path(files[a]).filename() < fs::path(files[b]).filename();
  });
  return split;
}

// One trial of --refine on an enrolled store: imprint accuracy on split.measure, the adapt half
// offered to a Refiner with the predictions as their only labels (the classifier rebuilt after
// each accepted update), then the accuracy again. Adds this trial's share to `out`.
Status RefineTrial(learn::ClassStore* store, int64_t dim, const std::vector<float>& rows,
                   const std::vector<size_t>& truth, const std::vector<std::string>& classes,
                   const std::vector<std::string>& files, const RefineSplit& split,
                   const learn::RefineOptions& options, double weight, RefineScore* out) {
  const size_t d = static_cast<size_t>(dim);
  auto accuracy = [&](const learn::Classifier& c) {
    size_t right = 0;
    for (size_t i : split.measure)
      if (c.Classify(rows.data() + i * d).label == classes[truth[i]]) ++right;
    return static_cast<double>(right) /
           static_cast<double>(std::max<size_t>(1, split.measure.size()));
  };
  SN_ASSIGN_OR_RETURN(std::vector<learn::ClassRecord> records, store->List());
  learn::Classifier current(records, dim, learn::Method::kImprint, 0);
  out->before += weight * accuracy(current);
  learn::Refiner refiner(store, options);
  for (size_t i : split.adapt) {
    const float* row = rows.data() + i * d;
    const learn::Prediction p = current.Classify(row);
    SN_ASSIGN_OR_RETURN(learn::RefineResult r,
                        refiner.Offer(std::vector<float>(row, row + d), p, "eval " + files[i]));
    out->offered += weight;
    if (!r.accepted) continue;
    out->accepted += weight;
    if (p.label == classes[truth[i]]) out->accepted_right += weight;
    SN_ASSIGN_OR_RETURN(records, store->List());
    current = learn::Classifier(records, dim, learn::Method::kImprint, 0);
  }
  out->after += weight * accuracy(current);
  return Status::Ok();
}

Status Eval(const EvalArgs& args) {
  std::vector<int> shots;
  for (const std::string& s : SplitCommaList(args.shots)) {
    const int k = std::atoi(s.c_str());
    if (k <= 0 || std::to_string(k) != s)
      return Status::InvalidArgument("--shots " + args.shots +
                                     ": give positive counts, e.g. 1,5,10");
    shots.push_back(k);
  }
  if (shots.empty()) return Status::InvalidArgument("--shots names no count");
  std::vector<learn::Method> methods;
  if (args.method == "both") {
    methods = {learn::Method::kPrototype, learn::Method::kImprint};
  } else {
    SN_ASSIGN_OR_RETURN(learn::Method m, learn::ParseMethod(args.method));
    methods = {m};
  }
  if (args.trials < 1) return Status::InvalidArgument("--trials must be at least 1");
  SN_ASSIGN_OR_RETURN(Labelled train, ReadLabelled(args.train, "--train"));
  SN_ASSIGN_OR_RETURN(Labelled test, ReadLabelled(args.test, "--test"));
  std::vector<size_t> truth;  // each test image's class, an index into train.classes
  std::vector<std::string> test_files;
  for (size_t c = 0; c < test.classes.size(); ++c) {
    const auto it = std::find(train.classes.begin(), train.classes.end(), test.classes[c]);
    if (it == train.classes.end())
      return Status::InvalidArgument("test class " + test.classes[c] + " has no folder in " +
                                     args.train);
    for (const std::string& f : test.files[c]) {
      test_files.push_back(f);
      truth.push_back(static_cast<size_t>(it - train.classes.begin()));
    }
  }
  const size_t most = static_cast<size_t>(*std::max_element(shots.begin(), shots.end()));
  for (size_t c = 0; c < train.classes.size(); ++c)
    if (train.files[c].size() < most)
      return Status::InvalidArgument(
          fmt::format("train class {} has {} images: --shots {} needs {}", train.classes[c],
                      train.files[c].size(), most, most));

  // Every draw first, so the training images embedded are exactly those some trial uses.
  const size_t num_classes = train.classes.size();
  std::vector<std::vector<std::vector<std::vector<size_t>>>> picks(shots.size());  // [s][t][c]
  std::vector<std::vector<int64_t>> row_of(num_classes);  // [c][file] -> row, -1 unused
  std::vector<std::string> train_files;
  for (size_t c = 0; c < num_classes; ++c) row_of[c].assign(train.files[c].size(), -1);
  for (size_t s = 0; s < shots.size(); ++s)
    for (int t = 0; t < args.trials; ++t) {
      std::seed_seq seq{args.seed, static_cast<uint32_t>(shots[s]), static_cast<uint32_t>(t)};
      std::mt19937 rng(seq);
      auto& trial = picks[s].emplace_back();
      for (size_t c = 0; c < num_classes; ++c) {
        trial.push_back(Draw(train.files[c].size(), static_cast<size_t>(shots[s]), rng));
        for (size_t i : trial.back())
          if (row_of[c][i] < 0) {
            row_of[c][i] = static_cast<int64_t>(train_files.size());
            train_files.push_back(train.files[c][i]);
          }
      }
    }

  if (!args.json)
    fmt::print(stderr, "embedding {} training and {} test images...\n", train_files.size(),
               test_files.size());
  SN_ASSIGN_OR_RETURN(auto embedder, OpenEmbedder(args.model, ""));
  const size_t dim = static_cast<size_t>(embedder->dim());
  std::vector<double> batched_ms;
  SN_ASSIGN_OR_RETURN(std::vector<float> train_rows,
                      EmbedFiles(*embedder, train_files, args.model, &batched_ms));
  SN_ASSIGN_OR_RETURN(std::vector<float> test_rows,
                      EmbedFiles(*embedder, test_files, args.model, &batched_ms));

  std::vector<Score> scores;
  for (size_t s = 0; s < shots.size(); ++s)
    for (learn::Method m : methods) scores.push_back({shots[s], m, {}});
  std::vector<RefineScore> refined;
  const RefineSplit split = SplitForRefine(test_files, truth, num_classes);
  for (size_t s = 0; s < shots.size(); ++s)
    for (int t = 0; t < args.trials; ++t) {
      ScratchStore scratch;
      SN_ASSIGN_OR_RETURN(learn::ClassStore * store, scratch.Open(*embedder));
      for (size_t c = 0; c < num_classes; ++c) {
        std::vector<float> rows;
        for (size_t i : picks[s][static_cast<size_t>(t)][c]) {
          const float* r = train_rows.data() + static_cast<size_t>(row_of[c][i]) * dim;
          rows.insert(rows.end(), r, r + dim);
        }
        SN_RETURN_IF_ERROR(store->Add(train.classes[c], rows).status());
      }
      SN_ASSIGN_OR_RETURN(std::vector<learn::ClassRecord> classes, store->List());
      for (Score& score : scores) {
        if (score.shots != shots[s]) continue;
        const learn::Classifier classifier(classes, embedder->dim(), score.method, 0);
        size_t right = 0;
        for (size_t i = 0; i < test_files.size(); ++i) {
          const learn::Prediction p = classifier.Classify(test_rows.data() + i * dim);
          if (p.label != train.classes[truth[i]]) continue;
          ++right;
          score.right.push_back(p.score);
        }
        score.accuracy.push_back(static_cast<double>(right) / static_cast<double>(truth.size()));
      }
      if (!args.refine) continue;
      if (t == 0) refined.push_back({shots[s]});
      SN_RETURN_IF_ERROR(RefineTrial(store, embedder->dim(), test_rows, truth, train.classes,
                                     test_files, split, args.refine_options, 1.0 / args.trials,
                                     &refined.back()));
    }

  // Adding a class as `learn add` does: read, embed in batches, write, per shot count. The
  // first add of each count is not timed: the model's first run at a batch size prepares it.
  std::vector<double> add_ms;
  for (int k : shots) {
    ScratchStore scratch;
    SN_ASSIGN_OR_RETURN(learn::ClassStore * store, scratch.Open(*embedder));
    std::vector<double> times;
    for (size_t i = 0; i <= kTimedAdds; ++i) {
      const size_t c = i % num_classes;
      const std::vector<std::string> files(train.files[c].begin(), train.files[c].begin() + k);
      const auto t0 = Clock::now();
      SN_ASSIGN_OR_RETURN(std::vector<float> rows, EmbedFiles(*embedder, files, args.model));
      SN_RETURN_IF_ERROR(store->Add(train.classes[c], rows).status());
      if (i > 0) times.push_back(MsSince(t0));
    }
    add_ms.push_back(bench::Summarize(times).median_ms);
  }
  // Classifying one image as `learn classify` does, at batch 1, after one untimed warm-up.
  std::vector<double> classify_ms;
  {
    ScratchStore scratch;
    SN_ASSIGN_OR_RETURN(learn::ClassStore * store, scratch.Open(*embedder));
    for (size_t c = 0; c < num_classes; ++c) {
      const auto& pick = picks.back().front()[c];
      std::vector<float> rows;
      for (size_t i : pick) {
        const float* r = train_rows.data() + static_cast<size_t>(row_of[c][i]) * dim;
        rows.insert(rows.end(), r, r + dim);
      }
      SN_RETURN_IF_ERROR(store->Add(train.classes[c], rows).status());
    }
    SN_ASSIGN_OR_RETURN(std::vector<learn::ClassRecord> classes, store->List());
    const learn::Classifier classifier(classes, embedder->dim(), methods.back(), 0);
    LearnModelFlags one = args.model;
    one.batch = 1;
    for (size_t i = 0; i <= std::min(test_files.size(), kLatencyImages); ++i) {
      const std::vector<std::string> file{test_files[std::min(i, test_files.size() - 1)]};
      const auto t0 = Clock::now();
      SN_ASSIGN_OR_RETURN(std::vector<float> row, EmbedFiles(*embedder, file, one));
      const learn::Prediction p = classifier.Classify(row.data());
      if (i > 0 && p.index >= 0) classify_ms.push_back(MsSince(t0));
    }
  }
  const double classify_median = bench::Summarize(classify_ms).median_ms;
  const double batched_median = bench::Summarize(batched_ms).median_ms;

  if (args.json) {
    nlohmann::json out = {{"model", args.model.model},
                          {"layer", embedder->layer().tensor},
                          {"dim", embedder->dim()},
                          {"classes", num_classes},
                          {"train_images_embedded", train_files.size()},
                          {"test_images", test_files.size()},
                          {"trials", args.trials},
                          {"seed", args.seed},
                          {"results", nlohmann::json::array()},
                          {"add_class_ms", nlohmann::json::object()},
                          {"classify_ms", classify_median},
                          {"embed_ms_per_image_batched", batched_median}};
    for (Score& s : scores)
      out["results"].push_back(
          {{"shots", s.shots},
           {"method", learn::MethodName(s.method)},
           {"accuracy",
            {{"mean", s.mean()}, {"min", s.min()}, {"max", s.max()}, {"trials", s.accuracy}}},
           {"threshold_keeping_95", s.keeps95()}});
    for (size_t s = 0; s < shots.size(); ++s)
      out["add_class_ms"][std::to_string(shots[s])] = add_ms[s];
    if (args.refine) {
      out["refine"] = nlohmann::json::array();
      for (const RefineScore& r : refined)
        out["refine"].push_back({{"shots", r.shots},
                                 {"before", r.before},
                                 {"after", r.after},
                                 {"offered", r.offered},
                                 {"accepted", r.accepted},
                                 {"accepted_right", r.accepted_right},
                                 {"adapt_images", split.adapt.size()},
                                 {"measured_images", split.measure.size()}});
    }
    fmt::print("{}\n", out.dump(2));
    return Status::Ok();
  }
  fmt::print("{}, layer {} (dim {}): {} classes, {} test images, {} trials (seed {})\n",
             fs::path(args.model.model).filename().string(), embedder->layer().tensor, dim,
             num_classes, test_files.size(), args.trials, args.seed);
  // The last column is the --threshold below which 5% of the right answers would be unknown.
  fmt::print("{:>5}  {:<9}  {:>8}  {:>6}  {:>6}  {:>9}\n", "shots", "method", "accuracy", "min",
             "max", "keeps 95%");
  for (Score& s : scores)
    fmt::print("{:>5}  {:<9}  {:>8.4f}  {:>6.4f}  {:>6.4f}  {:>9.4f}\n", s.shots,
               learn::MethodName(s.method), s.mean(), s.min(), s.max(), s.keeps95());
  for (const RefineScore& r : refined)
    fmt::print(
        "refine, {} shot{}: imprint accuracy on {} images {:.4f} before, {:.4f} after {} images "
        "offered unlabelled ({:.1f} updates accepted, {:.1f} of them right)\n",
        r.shots, r.shots > 1 ? "s" : "", split.measure.size(), r.before, r.after,
        split.adapt.size(), r.accepted, r.accepted_right);
  std::string adds;
  for (size_t s = 0; s < shots.size(); ++s)
    adds += fmt::format("{}{} shot{} {:.1f} ms", s ? ", " : "", shots[s], shots[s] > 1 ? "s" : "",
                        add_ms[s]);
  fmt::print("add a class (read, embed, store write; median of {}): {}\n", kTimedAdds, adds);
  fmt::print(
      "classify: {:.2f} ms per image (median of {} at batch 1: read, embed, classify); "
      "{:.2f} ms per image embedded in batches\n",
      classify_median, classify_ms.size(), batched_median);
  return Status::Ok();
}

}  // namespace

void AddLearnEvalCommand(CLI::App* learn, int* exit_code) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = learn->add_subcommand(
      "eval", "Few-shot accuracy on labelled folders, with the time to add a class and classify");
  AddLearnModelFlags(cmd, &args->model);
  cmd->add_option("--train", args->train, "folder of class subfolders to enrol from")->required();
  cmd->add_option("--test", args->test, "folder of class subfolders to classify")->required();
  cmd->add_option("--shots", args->shots, "examples per class, comma-separated (default 1,5,10)");
  cmd->add_option("--method", args->method, "prototype, imprint or both (default)");
  cmd->add_option("--trials", args->trials, "random draws per shot count (default 5)");
  cmd->add_option("--seed", args->seed, "seed of the draws (default 1)");
  cmd->add_flag("--refine", args->refine,
                "also measure online refinement: imprint accuracy on the second half of each "
                "test class before and after the first halves are offered unlabelled");
  AddRefineFlags(cmd, &args->refine_options);
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->final_callback([args, exit_code] {
    const Status s = Eval(*args);
    *exit_code = s.ok() ? 0 : Fail(s.message());
  });
}

}  // namespace supernova::tools
