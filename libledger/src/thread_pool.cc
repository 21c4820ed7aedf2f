#include "thread_pool.h"

#include <algorithm>

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
  const std::size_t parts =
      std::max<std::size_t>(1, std::min<std::size_t>(workers_.size() + 1, n / std::max<std::size_t>(min_chunk, 1)));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::size_t remaining = parts - 1;
  const std::size_t step = (n + parts - 1) / parts;
  {
    std::lock_guard lk(mu_);
    for (std::size_t p = 1; p < parts; ++p) {
      const std::size_t b = p * step, e = std::min(n, b + step);
      tasks_.emplace_back([&, b, e] {
        if (b < e) fn(b, e);
        std::lock_guard dl(done_mu);
        if (--remaining == 0) done_cv.notify_one();
      });
    }
  }
  cv_.notify_all();
  fn(0, std::min(n, step));
  std::unique_lock dl(done_mu);
  done_cv.wait(dl, [&] { return remaining == 0; });
}

}  // namespace ledger
