// Online refinement off the stream's worker thread (docs/stream.md, "Learned labels"): a
// refinement writes the class store durably (fsync of the file and of its directory, tens of ms
// on a quiet SSD, far more on an SD card), which the worker must not wait for while frames pile
// up. The labeller hands its offers to this queue and goes on; one thread decides them in
// order through the Refiner and calls back after each update, so that later looks use the
// refined prototypes. Refinement is best effort: past `capacity` waiting offers, an offer is
// dropped and counted.
//
//   RefineQueue queue(&refiner, 64, [&] { return labeller.Reload(); });
//   queue.Offer(embedding, prediction, "stream cam1 track 7 frame 120");
//   queue.Flush();   // every offer so far decided (tests, and the end of a stream)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "learn/refine.h"
#include "supernova/status.h"

namespace supernova::tools {

class RefineQueue {
 public:
  // `refiner` must outlive the queue. `on_update` runs on the queue's thread after each
  // accepted update; an error it returns is kept as the Refiner's are (TakeError).
  RefineQueue(learn::Refiner* refiner, size_t capacity, std::function<Status()> on_update);
  ~RefineQueue();  // decides the offers waiting, then stops

  // Any thread. False when `capacity` offers wait already: this one is dropped.
  bool Offer(std::vector<float> embedding, learn::Prediction prediction, std::string source);
  // Until every offer made before the call is decided.
  void Flush();

  struct Counts {
    int64_t accepted = 0, refused = 0, dropped = 0, failed = 0;
  };
  Counts counts() const;
  // The first error since the last call (an offer the Refiner could not decide, a failed
  // `on_update`), or OK.
  Status TakeError();

 private:
  struct Item {
    std::vector<float> embedding;
    learn::Prediction prediction;
    std::string source;
  };
  void Loop();

  learn::Refiner* const refiner_;
  const size_t capacity_;
  const std::function<Status()> on_update_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;  // guarded by mu_
  bool busy_ = false;       // an item is being decided; guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  Counts counts_;           // guarded by mu_
  Status error_;            // guarded by mu_
  std::thread thread_;      // last: starts once the members above exist
};

}  // namespace supernova::tools
