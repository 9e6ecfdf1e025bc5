#include "serve/job_wait.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lmaas::serve {

namespace asio = boost::asio;

asio::awaitable<Status> run_job(scheduler::BatchQueue& queue, const std::shared_ptr<scheduler::Job>& job) {
  auto executor = co_await asio::this_coro::executor;
  // The timer is the wake-up: it expires at the deadline, and the queue cancels it (on this coroutine's
  // executor, where the timer lives) when the job is done.
  auto timer = std::make_shared<asio::steady_timer>(executor);
  timer->expires_at(job->deadline == scheduler::Clock::time_point::max() ? asio::steady_timer::time_point::max()
                                                                         : job->deadline);
  auto done = std::make_shared<std::atomic<bool>>(false);
  job->on_done = [timer, done, executor] {
    done->store(true);
    asio::post(executor, [timer] { timer->cancel(); });
  };
  Status submitted = queue.submit(job);
  if (!submitted.is_ok()) co_return submitted;
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!done->load()) {
    job->cancelled.store(true);
    co_return Status(Code::kDeadlineExceeded, "the request did not finish within its deadline");
  }
  co_return job->status;
}

}  // namespace lmaas::serve
