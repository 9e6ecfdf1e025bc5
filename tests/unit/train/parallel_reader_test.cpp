// read_parallel: both layouts on small files written here (plain and gzip, the gzip ones written with
// zlib), every error and skip path, and the translation sets in ../shared/data (counts from its SOURCES.md).
#include "train/parallel_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace lmaas::train {
namespace {

namespace fs = std::filesystem;
const std::string kShared = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/";

// A file in a folder of its own per test (tests may run in parallel processes).
std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() / ("lmaas_parallel_" + std::string(info->name()));
  fs::create_directories(dir);
  return (dir / name).string();
}

std::string write_plain(const std::string& name, const std::string& content) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string write_gzip(const std::string& name, const std::string& content) {
  const std::string p = temp_path(name);
  gzFile gz = gzopen(p.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  EXPECT_EQ(gzwrite(gz, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  EXPECT_EQ(gzclose(gz), Z_OK);
  return p;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ParallelData read_ok(const ParallelSpec& spec) {
  auto r = read_parallel(spec);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : ParallelData{};
}

// Many distinct lines, so that the compressed stream is long enough to cut.
std::string numbered_lines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "sentence " + std::to_string(i * 7919 % 100003) + " of " + std::to_string(i) + "\n";
  return s;
}

TEST(ParallelReader, TsvColumnsChosenExtraColumnsIgnored) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "Hi.\t嗨。\tCC-BY 2.0 #1\n  Run! \t跑！ \tCC-BY 2.0 #2\n\nOK.\t好。\n")};
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 3u);
  EXPECT_EQ(data.pairs[0].source, "Hi.");
  EXPECT_EQ(data.pairs[0].target, "嗨。");
  EXPECT_EQ(data.pairs[1].source, "Run!");  // ASCII whitespace trimmed at both ends
  EXPECT_EQ(data.pairs[1].target, "跑！");
  EXPECT_EQ(data.pairs[2].line, 4);  // the blank line 3 is passed over, not counted
  EXPECT_EQ(data.n_skipped, 0);
  spec.source_column = 2;  // any two columns
  spec.target_column = 0;
  spec.paths = {write_plain("b.tsv", "x\ty\tz\n")};
  data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 1u);
  EXPECT_EQ(data.pairs[0].source, "z");
  EXPECT_EQ(data.pairs[0].target, "x");
}

TEST(ParallelReader, SwappedColumns) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "Hello.\t你好。\tlicence\n")};
  spec.source_column = 1;
  spec.target_column = 0;
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 1u);
  EXPECT_EQ(data.pairs[0].source, "你好。");
  EXPECT_EQ(data.pairs[0].target, "Hello.");
}

TEST(ParallelReader, OtherDelimiters) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.txt", "a b ||| c d\n")};
  spec.delimiter = " ||| ";  // fast_align / Moses style
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 1u);
  EXPECT_EQ(data.pairs[0].source, "a b");
  EXPECT_EQ(data.pairs[0].target, "c d");
  spec.delimiter = "tab";
  spec.paths = {write_plain("b.txt", "a b\tc d\n")};
  data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 1u);
  EXPECT_EQ(data.pairs[0].target, "c d");
  spec.delimiter = "";
  EXPECT_EQ(read_parallel(spec).status().code(), Code::kInvalidArgument);
}

TEST(ParallelReader, TwoPlainFiles) {
  ParallelSpec spec;
  spec.paths = {write_plain("train.en", "A dog runs.\nTwo men.\n"),
                write_plain("train.de", "Ein Hund läuft.\nZwei Männer.")};
  auto data = read_ok(spec);  // the last line needs no '\n'
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[1].source, "Two men.");
  EXPECT_EQ(data.pairs[1].target, "Zwei Männer.");
  EXPECT_EQ(data.pairs[1].line, 2);
}

TEST(ParallelReader, TwoGzipFiles) {
  ParallelSpec spec;
  spec.paths = {write_gzip("train.en.gz", "A dog runs.\nTwo men.\n"),
                write_gzip("train.de.gz", "Ein Hund läuft.\nZwei Männer.\n")};
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[0].source, "A dog runs.");
  EXPECT_EQ(data.pairs[0].target, "Ein Hund läuft.");
}

TEST(ParallelReader, OneGzipOnePlain) {
  ParallelSpec spec;
  spec.paths = {write_gzip("src.gz", "one\ntwo\n"), write_plain("tgt.txt", "eins\nzwei\n")};
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[1].target, "zwei");
  spec.paths = {write_gzip("a.tsv.gz", "one\teins\n")};  // the one-file form may be gzip too
  data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 1u);
  EXPECT_EQ(data.pairs[0].target, "eins");
}

TEST(ParallelReader, LinesLongerThanAnyBuffer) {
  const std::string long_line(300000, 'x');
  ParallelSpec spec;
  spec.paths = {write_gzip("long.gz", "a\n" + long_line + "\nb\n"),
                write_plain("long.txt", "A\nB\n" + long_line + "\n")};
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 3u);
  EXPECT_EQ(data.pairs[1].source, long_line);
  EXPECT_EQ(data.pairs[2].target, long_line);
}

TEST(ParallelReader, MisalignedFilesReportBothCounts) {
  ParallelSpec spec;
  const std::string en = write_gzip("train.en.gz", "a\nb\nc\n");
  const std::string de = write_gzip("train.de.gz", "a\nb\n");
  spec.paths = {en, de};
  auto r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "parallel data: " + en + " has 3 lines but " + de +
                                      " has 2: the files must be aligned line by line");
  spec.paths = {de, en};
  EXPECT_NE(read_parallel(spec).status().message().find(de + " has 2 lines but " + en + " has 3"),
            std::string::npos);
}

TEST(ParallelReader, MissingColumnNamesFileLine) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "a\tb\nonly one column\n")};
  auto r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(
      r.status().message().find(spec.paths[0] + ":2: expected at least 2 tab-separated columns, found 1"),
      std::string::npos)
      << r.status().message();
  spec.paths = {write_plain("b.tsv", "a\t \n")};  // an empty side is malformed too
  EXPECT_NE(read_parallel(spec).status().message().find(":1: empty target sentence (column 1)"),
            std::string::npos);
  spec.paths = {write_plain("c.en", "a\n\n"), write_plain("c.de", "b\nc\n")};
  r = read_parallel(spec);
  EXPECT_NE(r.status().message().find(spec.paths[0] + ":2: empty source sentence"), std::string::npos)
      << r.status().message();
}

TEST(ParallelReader, SkipModeCountsAndReports) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "a\tb\nbad\n\t x\nc\td\n")};
  spec.bad_lines = BadLines::kSkip;
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[1].line, 4);
  EXPECT_EQ(data.n_skipped, 2);
  ASSERT_EQ(data.skip_reports.size(), 2u);
  EXPECT_EQ(data.skip_reports[0], spec.paths[0] + ":2: expected at least 2 tab-separated columns, found 1");
  EXPECT_EQ(data.skip_reports[1], spec.paths[0] + ":3: empty source sentence (column 0)");
  std::string many;
  for (int i = 0; i < 30; ++i) many += "bad\n";
  spec.paths = {write_plain("b.tsv", many + "x\ty\n")};
  data = read_ok(spec);
  EXPECT_EQ(data.n_skipped, 30);
  EXPECT_EQ(data.skip_reports.size(), ParallelData::kMaxSkipReports);
  spec.paths = {write_plain("c.tsv", "bad\n")};  // nothing left: an error that says why
  auto r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(
      r.status().message().find("no sentence pairs in " + spec.paths[0] + " (1 malformed lines skipped"),
      std::string::npos)
      << r.status().message();
}

TEST(ParallelReader, InvalidUtf8ErrorOrReplacement) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.en", "ok\nbad \xC3\x28 byte\n"), write_plain("a.de", "gut\nschlecht\n")};
  auto r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(spec.paths[0] + ":2: invalid UTF-8 at byte 5"), std::string::npos)
      << r.status().message();
  spec.invalid_utf8 = InvalidUtf8::kReplace;
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[1].source, "bad \xEF\xBF\xBD( byte");
}

TEST(ParallelReader, CrlfAndBom) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "\xEF\xBB\xBFHi.\t嗨。\r\nRun.\t跑。\r\n")};
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[0].source, "Hi.");
  EXPECT_EQ(data.pairs[1].target, "跑。");
  spec.paths = {write_plain("b.en",
                            "\xEF\xBB\xBF"
                            "one\r\ntwo\r\n"),
                write_gzip("b.de.gz",
                           "\xEF\xBB\xBF"
                           "eins\r\nzwei")};
  data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[0].source, "one");
  EXPECT_EQ(data.pairs[0].target, "eins");
  EXPECT_EQ(data.pairs[1].target, "zwei");
}

TEST(ParallelReader, TruncatedOrCorruptGzipIsAnError) {
  const std::string text = numbered_lines(5000);
  const std::string full = read_bytes(write_gzip("full.gz", text));
  ParallelSpec spec;
  const std::string cut = write_plain("cut.gz", full.substr(0, full.size() / 2));
  spec.paths = {cut, write_plain("other.txt", text)};
  auto r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find(cut + ": corrupt or truncated gzip data"), std::string::npos)
      << r.status().message();
  const std::string no_trailer = write_plain("no_trailer.gz", full.substr(0, full.size() - 4));
  spec.paths = {no_trailer, spec.paths[1]};
  EXPECT_EQ(read_parallel(spec).status().code(), Code::kDataLoss);
  std::string flipped = full;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  spec.paths = {write_plain("flipped.gz", flipped), spec.paths[1]};
  spec.invalid_utf8 = InvalidUtf8::kReplace;  // whatever the damaged stream decodes to, the end must fail
  spec.bad_lines = BadLines::kSkip;
  r = read_parallel(spec);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("flipped.gz"), std::string::npos) << r.status().message();
}

TEST(ParallelReader, MaxPairs) {
  ParallelSpec spec;
  spec.paths = {write_plain("a.tsv", "bad\na\tb\nc\td\ne\tf\n")};
  spec.bad_lines = BadLines::kSkip;
  spec.max_pairs = 2;  // skipped lines do not count
  auto data = read_ok(spec);
  ASSERT_EQ(data.pairs.size(), 2u);
  EXPECT_EQ(data.pairs[1].source, "c");
  EXPECT_EQ(data.n_skipped, 1);
  spec.max_pairs = 0;
  EXPECT_EQ(read_parallel(spec).status().code(), Code::kInvalidArgument);
}

TEST(ParallelReader, BadSpecMissingFileAndEmptyData) {
  ParallelSpec spec;
  EXPECT_EQ(read_parallel(spec).status().code(), Code::kInvalidArgument);  // no paths
  spec.paths = {temp_path("absent.tsv")};
  auto r = read_parallel(spec);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find(spec.paths[0]), std::string::npos);
  spec.paths = {write_plain("ok.en", "a\n"), temp_path("absent.de")};
  EXPECT_NE(read_parallel(spec).status().message().find("absent.de"), std::string::npos);
  spec.paths = {write_plain("a.tsv", "a\tb\n")};
  spec.target_column = 0;
  EXPECT_EQ(read_parallel(spec).status().code(), Code::kInvalidArgument);  // the same column twice
  spec.target_column = 1;
  spec.paths = {write_plain("empty.tsv", "\n \n")};
  EXPECT_EQ(read_parallel(spec).status().message(), "no sentence pairs in " + spec.paths[0]);
  spec.paths = {write_gzip("empty.en.gz", ""), write_plain("empty.de", "")};
  EXPECT_NE(read_parallel(spec).status().message().find("no sentence pairs in "), std::string::npos);
}

TEST(ParallelReader, SharedTatoebaChineseEnglish) {
  ParallelSpec spec;
  spec.paths = {kShared + "translation/cmn-eng/train.txt"};
  auto data = read_ok(spec);
  EXPECT_EQ(data.pairs.size(), 26309u);
  EXPECT_EQ(data.n_skipped, 0);
  ASSERT_FALSE(data.pairs.empty());
  EXPECT_EQ(data.pairs[0].source, "Hi.");
  EXPECT_EQ(data.pairs[0].target, "嗨。");
  spec.paths = {kShared + "translation/cmn-eng/dev.txt"};
  EXPECT_EQ(read_ok(spec).pairs.size(), 1387u);
}

TEST(ParallelReader, SharedMulti30kGzip) {
  ParallelSpec spec;
  const std::string dir = kShared + "translation/multi30k/";
  spec.paths = {dir + "train.en.gz", dir + "train.de.gz"};
  auto data = read_ok(spec);
  EXPECT_EQ(data.pairs.size(), 29000u);
  EXPECT_EQ(data.n_skipped, 0);
  spec.paths = {dir + "val.en.gz", dir + "val.de.gz"};
  EXPECT_EQ(read_ok(spec).pairs.size(), 1014u);
  spec.paths = {dir + "train.en.gz", dir + "val.de.gz"};
  EXPECT_NE(read_parallel(spec).status().message().find("train.en.gz has 29000 lines but " + dir +
                                                        "val.de.gz has 1014"),
            std::string::npos);
}

}  // namespace
}  // namespace lmaas::train
