// Logging: spdlog, configured once by the CLI. Library code logs through these macros only.
#pragma once

#include <spdlog/spdlog.h>

#define LMAAS_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LMAAS_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LMAAS_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LMAAS_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
