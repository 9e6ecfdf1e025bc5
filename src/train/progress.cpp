#include "train/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace lmaas::train {
namespace {

std::string clock_text(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

Result<LogFormat> parse_log_format(const std::string& name) {
  if (name == "auto") return LogFormat::kAuto;
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Status(Code::kInvalidArgument, "log format '" + name + "' is not auto, text or json");
}

Progress::Progress(LogFormat format, std::FILE* out)
    : json_(format == LogFormat::kJson || (format == LogFormat::kAuto && !::isatty(::fileno(out)))), out_(out) {}

void Progress::end_line() {
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
}

void Progress::set_validation(const std::string& name, double value) {
  validation_ = fmt::format(" | dev {} {:.4f}", name, value);
}

void Progress::step(const StepInfo& s) {
  const auto now = std::chrono::steady_clock::now();
  const bool last = s.step == s.steps;
  if (json_) {
    if (!last && now - last_draw_ < std::chrono::seconds(5)) return;  // a line every few seconds
    last_draw_ = now;
    nlohmann::json j = {{"event", "step"},  {"epoch", s.epoch}, {"epochs", s.epochs},
                        {"step", s.step},   {"steps", s.steps}, {"loss", s.loss},
                        {"lr", s.lr},       {"samples_per_s", s.samples_per_s}, {"eta_s", s.eta_s}};
    std::fprintf(out_, "%s\n", j.dump().c_str());
  } else {
    if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 20, filled = static_cast<int>(width * s.step / std::max<int64_t>(1, s.steps));
    std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s%s] %lld/%lld loss %.4f%s | %.0f samples/s | ETA %s",
                 static_cast<long long>(s.epoch), static_cast<long long>(s.epochs), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<long long>(s.step),
                 static_cast<long long>(s.steps), s.loss, validation_.c_str(), s.samples_per_s,
                 clock_text(s.eta_s).c_str());
    line_open_ = true;
  }
  std::fflush(out_);
}

void Progress::epoch(const nlohmann::json& summary) {
  if (json_) {
    nlohmann::json j = summary;
    j["event"] = "epoch";
    std::fprintf(out_, "%s\n", j.dump().c_str());
  } else {
    end_line();
    std::fprintf(out_, "epoch %s: %s\n", summary.value("epoch", nlohmann::json()).dump().c_str(),
                 summary.value("text", std::string()).c_str());
  }
  std::fflush(out_);
}

void Progress::message(const std::string& text) {
  if (json_) {
    std::fprintf(out_, "%s\n", nlohmann::json({{"event", "message"}, {"text", text}}).dump().c_str());
  } else {
    end_line();
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

}  // namespace lmaas::train
