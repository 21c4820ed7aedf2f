#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace ledger {

ThreadPool::ThreadPool(int threads) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(std::size_t n, std::size_t min_chunk,
                             const std::function<void(std::size_t, std::size_t)>& fn) {
  const std::size_t chunk = std::max<std::size_t>(1, min_chunk);
  const std::size_t chunks = (n + chunk - 1) / chunk;
  if (chunks <= 1 || workers_.empty()) {
    if (n > 0) fn(0, n);
    return;
  }
  // Chunks are claimed from a shared counter by the caller and by pool workers alike, so a
  // caller never waits for a worker that is busy with someone else's job: whatever the
  // workers have not started, the caller does itself. `job` outlives late helpers.
  struct Job {
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
  };
  auto job = std::make_shared<Job>();
  auto run = [job, n, chunk, chunks, &fn] {
    for (std::size_t c; (c = job->next.fetch_add(1)) < chunks;) {
      fn(c * chunk, std::min(n, (c + 1) * chunk));
      if (job->done.fetch_add(1) + 1 == chunks) {
        std::lock_guard lk(job->mu);
        job->cv.notify_all();
      }
    }
  };
  const std::size_t helpers = std::min(workers_.size(), chunks - 1);
  {
    std::lock_guard lk(mu_);
    for (std::size_t i = 0; i < helpers; ++i)
      tasks_.emplace_back([job, n, chunk, chunks, run]() mutable {
        // A helper that starts after the caller claimed every chunk has nothing to do and
        // must not touch `fn` (the caller may have returned).
        if (job->next.load() >= chunks) return;
        run();
      });
  }
  cv_.notify_all();
  run();
  std::unique_lock lk(job->mu);
  job->cv.wait(lk, [&] { return job->done.load() == chunks; });
}

}  // namespace ledger
