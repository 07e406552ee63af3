// On-device learning's classes on the stream's tracks (docs/stream.md, "Learned labels"): the
// TrackLabeller (stream/labeller.h) that crops the box of each track it looks at, with a margin,
// from the frame, embeds the crops in one model run (learn/embedder.h), names them by the class
// store's prototypes (learn/classifier.h) and, when asked, lets a track that kept one label over
// several looks refine its class (learn/refine.h).
//
//   LearnLabellerOptions o;
//   o.model = "face.onnx";
//   o.store = "classes/";                     // enrolled with `supernova learn add`
//   o.crop.input.preprocess = "raw";
//   SN_ASSIGN_OR_RETURN(std::unique_ptr<LearnLabeller> labeller, LearnLabeller::Open(o));
//   pipeline_options.labeller = labeller.get();
//
// Cost: a track is looked at when it is new and then every `every` frames, only on frames the
// detector ran on (its box is measured, not predicted), only if its detector class is one of
// `classes`; one frame's crops go through the model together where its batch axis allows.
// A layer of its own above the stream and the learning layer: a stream without --learn-model
// loads the model of neither.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "learn/class_store.h"
#include "learn/classifier.h"
#include "learn/embedder.h"
#include "learn/refine.h"
#include "stream/labeller.h"
#include "supernova/refine_queue.h"
#include "supernova/status.h"
#include "supernova/tensor_io.h"

namespace supernova::tools {

// How boxes of a frame become embeddings.
struct CropOptions {
  std::string layer;    // the model's tensor that embeds; "" = the embedder's default
  InputOptions input;   // --preprocess, --size, --bgr, as `supernova learn` reads images
  float margin = 0.1f;  // the crop grows by this fraction of the box on each side
  SessionOptions session;
};

struct LearnLabellerOptions {
  std::string model;  // the embedding model (.onnx)
  std::string store;  // the class store's directory; it must exist and hold classes
  CropOptions crop;   // crop.layer "" = the layer the store was enrolled with
  learn::Method method = learn::kDefaultMethod;
  float threshold = learn::kDefaultThreshold;  // below: not recognised (no learned class)
  int every = 10;                              // frames between two looks at one track
  // Looks per frame at most (0: no bound): a crowd of new tracks is looked at over several
  // frames, never-seen tracks first, rather than in one long stall of the worker.
  int max_per_frame = 4;
  std::vector<int> classes;  // detector class ids to look at; empty: all
  // Online refinement: a track whose last `confirm` looks all gave one class with a score of
  // at least refine_options.min_score offers each further look's embedding to the Refiner, on
  // a thread of its own (RefineQueue) that holds at most `refine_queue` offers.
  bool refine = false;
  int confirm = 3;
  learn::RefineOptions refine_options;
  size_t refine_queue = 64;
};

// The tracks of `tracks` due for a look at frame `frame_index` (indices into `tracks`): measured
// this frame, of one of `classes` (empty: any), and never looked at or last looked at `every`
// or more frames ago; at most `max` of them (0: all), those never looked at first, then those
// looked at longest ago.
std::vector<size_t> DueTracks(const std::vector<stream::Track>& tracks, int64_t frame_index,
                              int every, const std::vector<int>& classes, int max = 0);

// `box` grown by `margin` times its width and height on each side, clipped to the frame, as
// packed RGB. Fails on a frame without pixels and a box that leaves less than 2 x 2 pixels.
Result<RgbImage> CropRgb(const stream::Frame& frame, const stream::Box& box, float margin);

// Boxes of frames as unit embeddings: each cropped (CropRgb), made the model's input as an
// image file would be (ImageToTensor), and all of a frame's run together where the model's
// batch axis is free (in runs of its batch, the last one padded, where it is fixed). What a
// class is enrolled from, so that it matches what the stream sees.
class CropEmbedder {
 public:
  // Opens the model and runs it once on a grey crop (kernel set-up, and a model the crops
  // cannot feed fails here).
  static Result<std::unique_ptr<CropEmbedder>> Open(const std::string& model,
                                                    const CropOptions& options);
  // [boxes.size() * dim], unit rows in the order of `boxes`. Thread-safe.
  Result<std::vector<float>> Embed(const stream::Frame& frame,
                                   const std::vector<stream::Box>& boxes) const;
  const learn::Embedder& embedder() const { return *embedder_; }
  float margin() const { return margin_; }

 private:
  CropEmbedder() = default;
  std::unique_ptr<learn::Embedder> embedder_;
  ImageOptions image_;  // how a crop becomes the model's input
  int64_t batch_ = 0;   // the model's fixed batch; 0 where it is free
  float margin_ = 0;
};

class LearnLabeller : public stream::TrackLabeller {
 public:
  // Opens the store (it must exist and hold a class) and the model on the store's layer (or
  // `layer`); fails, naming both, when the store was enrolled by another model or layer.
  static Result<std::unique_ptr<LearnLabeller>> Open(const LearnLabellerOptions& options);

  Result<stream::LabelStats> Label(const std::string& stream, const stream::Frame& frame,
                                   std::vector<stream::Track>* tracks) override;

  const CropEmbedder& crops() const { return *crops_; }
  // Refinement: until every offer made so far is decided; what was decided.
  void Flush();
  RefineQueue::Counts refinements() const;
  // "14 classes, prototype, threshold 0.5, every 10 frames, refine after 3"
  std::string Describe() const;

 private:
  LearnLabeller() = default;
  std::shared_ptr<const learn::Classifier> classifier() const;
  // After a refinement: the classifier from the store's prototypes as they are now.
  Status Reload();

  LearnLabellerOptions options_;
  std::unique_ptr<CropEmbedder> crops_;
  std::unique_ptr<learn::ClassStore> store_;

  mutable std::mutex mu_;
  std::shared_ptr<const learn::Classifier> classifier_;  // guarded by mu_
  std::unique_ptr<learn::Refiner> refiner_;              // null without refinement
  // Last: its thread reloads the classifier, so it goes before what Reload touches.
  std::unique_ptr<RefineQueue> queue_;
};

}  // namespace supernova::tools
