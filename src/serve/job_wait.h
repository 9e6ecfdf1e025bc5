// Running a scheduler Job from a request coroutine: submit it to the model's queue, then wait — without
// blocking the I/O thread — until the queue completes it or its deadline passes. On the deadline the job
// is marked cancelled (the queue drops it unrun if it has not started) and the wait ends with
// kDeadlineExceeded.
#pragma once

#include <utility>  // before asio (Boost 1.74)

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "base/status.h"
#include "scheduler/batch_queue.h"

namespace lmaas::serve {

// The job's status once it is over: its own (set by the queue), or the queue's refusal (429/503), or
// kDeadlineExceeded. Outputs are in job->outputs when OK.
// `job` is taken by reference: the caller keeps it (GCC 12 mishandles by-value coroutine parameters).
boost::asio::awaitable<Status> run_job(scheduler::BatchQueue& queue, const std::shared_ptr<scheduler::Job>& job);

}  // namespace lmaas::serve
