// thread_pool.h — a fixed set of worker threads for parallel signature checks (internal).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ledger {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }

  // Runs fn(begin, end) over [0, n) split into chunks of at least `min_chunk`, on the pool
  // and on the calling thread; returns when every chunk is done.
  void ParallelFor(std::size_t n, std::size_t min_chunk,
                   const std::function<void(std::size_t, std::size_t)>& fn);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ledger
