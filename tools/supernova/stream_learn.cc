#include "supernova/stream_learn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace supernova::tools {
namespace {

Result<std::shared_ptr<const learn::Classifier>> LoadClassifier(const learn::ClassStore& store,
                                                                const LearnLabellerOptions& o) {
  SN_ASSIGN_OR_RETURN(std::vector<learn::ClassRecord> classes, store.List());
  if (classes.empty())
    return Status::FailedPrecondition("the class store " + store.dir() +
                                      " has no classes: enrol some with `supernova learn add`");
  return std::shared_ptr<const learn::Classifier>(
      std::make_shared<learn::Classifier>(classes, store.dim(), o.method, o.threshold));
}

// `n` single-image tensors ([1, ...] each) as one batch of `rows` rows ([rows, ...]); rows past
// `n` repeat the last image (a model with a fixed batch larger than what a frame has).
Tensor Stack(const std::vector<Tensor>& images, size_t first, size_t n, int64_t rows) {
  Shape shape = images[first].shape();
  shape[0] = rows;
  Tensor batch(images[first].dtype(), shape);
  const size_t bytes = images[first].nbytes();
  auto* dst = static_cast<char*>(batch.raw_data());
  for (int64_t r = 0; r < rows; ++r) {
    const size_t i = first + std::min(static_cast<size_t>(r), n - 1);
    std::memcpy(dst + static_cast<size_t>(r) * bytes, images[i].raw_data(), bytes);
  }
  return batch;
}

}  // namespace

std::vector<size_t> DueTracks(const std::vector<stream::Track>& tracks, int64_t frame_index,
                              int every, const std::vector<int>& classes, int max) {
  std::vector<size_t> due;
  for (size_t i = 0; i < tracks.size(); ++i) {
    const stream::Track& t = tracks[i];
    if (t.frames_since_detection != 0) continue;  // a predicted box may be beside the object
    if (!classes.empty() && std::find(classes.begin(), classes.end(), t.class_id) == classes.end())
      continue;
    if (t.learned.frame >= 0 && frame_index - t.learned.frame < every) continue;
    due.push_back(i);
  }
  if (max > 0 && due.size() > static_cast<size_t>(max)) {
    // Never looked at (frame -1) first, then the oldest looks.
    std::stable_sort(due.begin(), due.end(), [&](size_t a, size_t b) {
      return tracks[a].learned.frame < tracks[b].learned.frame;
    });
    due.resize(static_cast<size_t>(max));
  }
  return due;
}

Result<RgbImage> CropRgb(const stream::Frame& frame, const stream::Box& box, float margin) {
  if (frame.width <= 0 || frame.height <= 0 ||
      frame.bgr.size() != static_cast<size_t>(frame.width) * frame.height * 3)
    return Status::InvalidArgument(
        fmt::format("frame {} has no {}x{} BGR pixels", frame.index, frame.width, frame.height));
  const float mx = box.width() * margin, my = box.height() * margin;
  auto clamp = [](float v, int hi) {
    return std::isfinite(v) ? std::clamp(static_cast<int>(std::lround(v)), 0, hi) : 0;
  };
  const int x1 = clamp(box.x1 - mx, frame.width), x2 = clamp(box.x2 + mx, frame.width);
  const int y1 = clamp(box.y1 - my, frame.height), y2 = clamp(box.y2 + my, frame.height);
  if (x2 - x1 < 2 || y2 - y1 < 2)
    return Status::InvalidArgument(fmt::format("box ({}, {}, {}, {}) leaves no crop of frame {}",
                                               box.x1, box.y1, box.x2, box.y2, frame.index));
  RgbImage crop;
  crop.width = x2 - x1;
  crop.height = y2 - y1;
  crop.pixels.resize(static_cast<size_t>(crop.width) * crop.height * 3);
  uint8_t* out = crop.pixels.data();
  for (int y = y1; y < y2; ++y) {
    const uint8_t* in = &frame.bgr[(static_cast<size_t>(y) * frame.width + x1) * 3];
    for (int x = x1; x < x2; ++x, in += 3, out += 3) {
      out[0] = in[2];
      out[1] = in[1];
      out[2] = in[0];
    }
  }
  return crop;
}

Result<std::unique_ptr<CropEmbedder>> CropEmbedder::Open(const std::string& model,
                                                         const CropOptions& options) {
  if (!(options.margin >= 0 && options.margin <= 2))
    return Status::InvalidArgument("--learn-margin must be in [0, 2]");
  std::unique_ptr<CropEmbedder> c(new CropEmbedder());
  c->margin_ = options.margin;
  learn::EmbedderOptions eo;
  eo.layer = options.layer;
  eo.session = options.session;
  SN_ASSIGN_OR_RETURN(c->embedder_, learn::Embedder::Open(model, eo));
  auto image = ImageOptionsFor(c->embedder_->input(), options.input);
  if (!image.ok())  // its flags are `run`'s; here they are --learn-preprocess and --learn-size
    return Status(image.status().code(),
                  "--learn-model " + model + ": " + image.status().message());
  c->image_ = *image;
  const TensorInfo& in = c->embedder_->input();
  c->batch_ = in.rank_known && !in.dims.empty() && in.dims[0] > 0 ? in.dims[0] : 0;
  // One run on a grey crop now, as the detector does: the first track's look would otherwise
  // pay for the kernels' set-up (300 ms of lag on the face model's first frame), and a model
  // the crops cannot feed fails here rather than on every frame.
  stream::Frame grey;
  grey.width = grey.height = 8;
  grey.bgr.assign(8 * 8 * 3, 128);
  SN_RETURN_IF_ERROR(c->Embed(grey, {{0, 0, 8, 8}}).status());
  return c;
}

Result<std::vector<float>> CropEmbedder::Embed(const stream::Frame& frame,
                                               const std::vector<stream::Box>& boxes) const {
  std::vector<Tensor> images;
  for (const stream::Box& box : boxes) {
    SN_ASSIGN_OR_RETURN(RgbImage crop, CropRgb(frame, box, margin_));
    SN_ASSIGN_OR_RETURN(Tensor image, ImageToTensor(crop.pixels.data(), crop.width, crop.height,
                                                    static_cast<size_t>(crop.width) * 3, image_));
    images.push_back(std::move(image));
  }
  const int64_t dim = embedder_->dim();
  std::vector<float> out;
  out.reserve(images.size() * static_cast<size_t>(dim));
  const size_t step = batch_ > 0 ? static_cast<size_t>(batch_) : std::max<size_t>(images.size(), 1);
  for (size_t first = 0; first < images.size(); first += step) {
    const size_t n = std::min(step, images.size() - first);
    const int64_t rows = batch_ > 0 ? batch_ : static_cast<int64_t>(n);
    SN_ASSIGN_OR_RETURN(Tensor e, embedder_->Embed(Stack(images, first, n, rows)));
    if (e.dtype() != DataType::kFloat32 || e.numel() != rows * dim)
      return Status::Internal("the embedder gave " + std::to_string(e.numel()) + " values for " +
                              std::to_string(rows) + " crops of dimension " + std::to_string(dim));
    const float* p = e.data<float>();
    out.insert(out.end(), p, p + n * static_cast<size_t>(dim));
  }
  return out;
}

Result<std::unique_ptr<LearnLabeller>> LearnLabeller::Open(const LearnLabellerOptions& options) {
  if (options.every < 1) return Status::InvalidArgument("--learn-every must be at least 1");
  if (options.confirm < 1) return Status::InvalidArgument("--learn-confirm must be at least 1");
  if (options.max_per_frame < 0)
    return Status::InvalidArgument("--learn-max-per-frame must be 0 (no bound) or more");
  std::unique_ptr<LearnLabeller> l(new LearnLabeller());
  l->options_ = options;
  // The store first: it says which layer it was enrolled with.
  auto existing = learn::ClassStore::OpenExisting(options.store);
  if (!existing.ok())
    return Status(existing.status().code(),
                  "--learn-store " + options.store + ": " + existing.status().message());
  CropOptions crop = options.crop;
  if (crop.layer.empty()) crop.layer = learn::SplitIdentity((*existing)->embedder()).layer;
  auto crops = CropEmbedder::Open(options.model, crop);
  // Another model need not have the store's layer; on its default layer it opens, and the
  // store's Open below says what is wrong: the store is another model's.
  if (!crops.ok() && options.crop.layer.empty() && !crop.layer.empty())
    crops = CropEmbedder::Open(options.model, options.crop);
  if (!crops.ok()) return crops.status();
  l->crops_ = std::move(*crops);
  const learn::Embedder& embedder = l->crops_->embedder();
  // Open (not OpenExisting) checks that this model and layer made the store's embeddings.
  SN_ASSIGN_OR_RETURN(l->store_,
                      learn::ClassStore::Open(options.store, embedder.identity(), embedder.dim()));
  SN_ASSIGN_OR_RETURN(l->classifier_, LoadClassifier(*l->store_, options));
  if (options.refine) {
    l->refiner_ = std::make_unique<learn::Refiner>(l->store_.get(), options.refine_options);
    l->queue_ = std::make_unique<RefineQueue>(l->refiner_.get(), options.refine_queue,
                                              [raw = l.get()] { return raw->Reload(); });
  }
  return l;
}

std::shared_ptr<const learn::Classifier> LearnLabeller::classifier() const {
  std::lock_guard lock(mu_);
  return classifier_;
}

Status LearnLabeller::Reload() {
  SN_ASSIGN_OR_RETURN(std::shared_ptr<const learn::Classifier> fresh,
                      LoadClassifier(*store_, options_));
  std::lock_guard lock(mu_);
  classifier_ = std::move(fresh);
  return Status::Ok();
}

void LearnLabeller::Flush() {
  if (queue_) queue_->Flush();
}

RefineQueue::Counts LearnLabeller::refinements() const {
  return queue_ ? queue_->counts() : RefineQueue::Counts{};
}

std::string LearnLabeller::Describe() const {
  const auto c = classifier();
  std::string s =
      fmt::format("{} classes, {}, threshold {}, every {} frames", c->size(),
                  learn::MethodName(options_.method), options_.threshold, options_.every);
  if (options_.refine) s += fmt::format(", refine after {}", options_.confirm);
  return s;
}

Result<stream::LabelStats> LearnLabeller::Label(const std::string& stream,
                                                const stream::Frame& frame,
                                                std::vector<stream::Track>* tracks) {
  // A refinement that failed since the last call is this call's error: the store is in
  // trouble, which the stream's metrics should say.
  if (queue_) {
    if (Status e = queue_->TakeError(); !e.ok())
      return Status(e.code(), "online refinement: " + e.message());
  }
  stream::LabelStats stats;
  std::vector<size_t> due =
      DueTracks(*tracks, frame.index, options_.every, options_.classes, options_.max_per_frame);
  std::vector<stream::Box> boxes;
  std::vector<size_t> looked;
  for (size_t i : due) {
    // A box all but outside the frame has nothing to crop: looked at again on the next frame.
    if (!CropRgb(frame, (*tracks)[i].box, crops_->margin()).ok()) continue;
    boxes.push_back((*tracks)[i].box);
    looked.push_back(i);
  }
  if (looked.empty()) return stats;
  SN_ASSIGN_OR_RETURN(std::vector<float> embeddings, crops_->Embed(frame, boxes));
  const auto classifier = this->classifier();
  const int64_t dim = crops_->embedder().dim();
  // Labels are written to the tracks only once every look succeeded (TrackLabeller's
  // contract: an error costs the frame its new labels).
  std::vector<stream::LearnedLabel> labels;
  for (size_t k = 0; k < looked.size(); ++k) {
    const float* e = embeddings.data() + k * static_cast<size_t>(dim);
    const learn::Prediction p = classifier->Classify(e);
    stream::LearnedLabel l = (*tracks)[looked[k]].learned;
    const bool confident = p.known && p.score >= options_.refine_options.min_score;
    l.streak = !confident ? 0 : (l.streak > 0 && l.label == p.label ? l.streak + 1 : 1);
    l.label = p.known ? p.label : std::string();
    l.score = p.score;
    l.frame = frame.index;
    labels.push_back(l);
    if (!queue_ || l.streak < options_.confirm) continue;
    const std::string source =
        fmt::format("stream {} track {} frame {}", stream, (*tracks)[looked[k]].id, frame.index);
    if (queue_->Offer(std::vector<float>(e, e + dim), p, source)) ++stats.offered;
  }
  for (size_t k = 0; k < looked.size(); ++k) (*tracks)[looked[k]].learned = labels[k];
  stats.classified = static_cast<int>(looked.size());
  return stats;
}

}  // namespace supernova::tools
