// A scratch directory for the running test: named by its suite, test and process, since ctest runs the tests
// of a binary (and the instances of a parameterized suite) as separate processes at once.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace lmaas::testing_util {

// temp/<prefix>_<suite>.<test>_<pid> ('/' of parameterized names as '_'), empty on return.
inline std::filesystem::path test_scratch_dir(const std::string& prefix) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = prefix + "_" + info->test_suite_name() + "." + info->name() + "_" + std::to_string(::getpid());
  std::replace(name.begin(), name.end(), '/', '_');
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lmaas::testing_util
