// DatasetReader: every format on small files written here, the error and skip paths, and every labelled
// set in ../shared/data loading with flags alone (example counts from its SOURCES.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "train/dataset_reader.h"

namespace lmaas::train {
namespace {

namespace fs = std::filesystem;
const std::string kShared = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/";

std::string write_temp(const std::string& name, const std::string& content) {
  const fs::path p = fs::temp_directory_path() / ("lmaas_reader_" + name);
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

std::vector<Example> read_all(const DataSpec& spec) {
  auto r = DatasetReader::open(spec);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  std::vector<Example> out;
  if (!r.is_ok()) return out;
  Example e;
  while (true) {
    auto got = r.value()->next(e);
    EXPECT_TRUE(got.is_ok()) << got.status().message();
    if (!got.is_ok() || !got.value()) break;
    out.push_back(e);
  }
  return out;
}

Status first_error(const DataSpec& spec) {
  auto r = DatasetReader::open(spec);
  if (!r.is_ok()) return r.status();
  Example e;
  while (true) {
    auto got = r.value()->next(e);
    if (!got.is_ok()) return got.status();
    if (!got.value()) return Status();
  }
}

TEST(DatasetReader, TsvWithHeaderByNameIndexAndRestOfLine) {
  DataSpec spec;
  spec.path = write_temp("a.tsv", "id\tlabel\ttext\r\n7\tpos\tgood\tfilm\n\n8\tneg\tbad\n");
  auto rows = read_all(spec);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "good\tfilm");  // the last column takes the rest of the line
  EXPECT_EQ(rows[0].label, "pos");
  EXPECT_EQ(rows[1].line, 4);
  spec.path = write_temp("a2.tsv", "id\tlabel\ttext\n8\tneg\tbad\n");
  spec.text_column = "0";  // by index; the text is no longer last, so every tab splits
  spec.label_column = "label";
  rows = read_all(spec);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "8");
  spec.path = write_temp("b.tsv", "text\tlabel\tdomain\nnice\t1\tyelp\n");
  spec.text_column = spec.label_column = "";
  rows = read_all(spec);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "nice");
  EXPECT_EQ(rows[0].label, "1");
}

TEST(DatasetReader, HeaderlessSpaceDelimitedAndLabelPattern) {
  DataSpec spec;
  spec.path = write_temp("sst.txt", "1 a stirring , funny film\n0 dull .\n");
  spec.header = false, spec.delimiter = "space";
  auto rows = read_all(spec);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[0].text, "a stirring , funny film");
  spec.path = write_temp("trec.txt", "DESC:manner How did serfdom develop ?\nNUM:date When ?\n");
  spec.label_pattern = "^([^:]+)";
  rows = read_all(spec);
  EXPECT_EQ(rows[0].label, "DESC");
  EXPECT_EQ(rows[1].label, "NUM");
  EXPECT_EQ(rows[1].text, "When ?");
}

TEST(DatasetReader, CsvQuotingJsonlAndFastText) {
  DataSpec csv;
  csv.path = write_temp("c.csv", "label,text\n1,\"a, \"\"quoted\"\"\nline\"\n0,plain\n");
  auto rows = read_all(csv);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "a, \"quoted\"\nline");
  EXPECT_EQ(rows[1].line, 4);
  DataSpec jsonl;
  jsonl.path = write_temp("d.jsonl", "{\"text\": \"我爱你\", \"label\": 1}\n{\"text\": \"x\", \"label\": \"neg\"}\n");
  rows = read_all(jsonl);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[0].text, "我爱你");
  DataSpec ft;
  ft.path = write_temp("e.ft", "__label__pos great movie\n__label__neg  awful\n");
  rows = read_all(ft);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "pos");
  EXPECT_EQ(rows[1].text, "awful");
}

TEST(DatasetReader, ErrorsNameFileAndLine) {
  DataSpec spec;
  spec.path = write_temp("bad.tsv", "label\ttext\n1\tok\n\tno label\n1\tbad \xff byte\n");
  Status s = first_error(spec);
  EXPECT_NE(s.message().find("bad.tsv:3: empty label"), std::string::npos) << s.message();
  spec.bad_lines = BadLines::kSkip;
  s = first_error(spec);
  EXPECT_NE(s.message().find("bad.tsv:4: invalid UTF-8 at byte 7"), std::string::npos) << s.message();
  spec.invalid_utf8 = InvalidUtf8::kReplace;
  auto r = DatasetReader::open(spec);
  ASSERT_TRUE(r.is_ok());
  Example e;
  int n = 0;
  while (r.value()->next(e).value()) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(e.text, "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(r.value()->n_skipped(), 1);
  ASSERT_EQ(r.value()->skip_reports().size(), 1u);
  EXPECT_NE(r.value()->skip_reports()[0].find(":3: empty label"), std::string::npos);
  // rewind: a second epoch sees the same examples
  ASSERT_TRUE(r.value()->rewind().is_ok());
  n = 0;
  while (r.value()->next(e).value()) ++n;
  EXPECT_EQ(n, 2);

  DataSpec missing;
  missing.path = write_temp("cols.tsv", "label\ttext_a\n1\tx\n");
  s = DatasetReader::open(missing).status();
  EXPECT_NE(s.message().find("no column named 'text'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("label, text_a"), std::string::npos) << s.message();
  missing.path = "/nonexistent/file.tsv";
  EXPECT_EQ(DatasetReader::open(missing).status().code(), Code::kNotFound);
  DataSpec fields;
  fields.path = write_temp("f.tsv", "text\tlabel\tdomain\nx\t1\n");
  s = first_error(fields);
  EXPECT_NE(s.message().find("f.tsv:2: 2 fields where the header has 3"), std::string::npos) << s.message();
  DataSpec json;
  json.path = write_temp("g.jsonl", "{\"text\": 3, \"label\": 1}\n");
  EXPECT_NE(first_error(json).message().find("g.jsonl:1: no string field 'text'"), std::string::npos);
  DataSpec quote;
  quote.path = write_temp("h.csv", "label,text\n1,\"never closed\n");
  EXPECT_NE(first_error(quote).message().find("h.csv:2: quoted field is never closed"), std::string::npos);
}

struct SharedSet {
  std::string path;
  std::function<void(DataSpec&)> flags;
  size_t examples;
  std::map<std::string, size_t> label_counts;  // a few, from SOURCES.md
};

TEST(DatasetReader, EverySharedSetLoadsWithFlagsAlone) {
  auto none = [](DataSpec&) {};
  auto sst = [](DataSpec& s) { s.header = false, s.delimiter = "space"; };
  const std::vector<SharedSet> sets = {
      {"sentiment/en/sst/stsa.binary.train", sst, 6920, {{"0", 3310}, {"1", 3610}}},
      {"sentiment/en/sst/stsa.binary.dev", sst, 872, {{"0", 428}, {"1", 444}}},
      {"sentiment/en/sst/stsa.fine.train", sst, 8544, {{"0", 1092}, {"4", 1288}}},
      {"sentiment/en/mr/train.tsv", none, 7647, {{"0", 3812}, {"1", 3835}}},
      {"sentiment/en/mr/dev.tsv", none, 1008, {{"0", 506}}},
      {"sentiment/en/cr/train.tsv", none, 3031, {{"0", 1094}}},
      {"sentiment/en/uci-labelled-sentences/train.tsv", none, 2417, {{"0", 1212}}},
      {"sentiment/zh/chnsenticorp/train.tsv", [](DataSpec& s) { s.text_column = "text_a"; }, 9600, {{"0", 4802}}},
      {"sentiment/zh/waimai_10k/train.tsv", none, 9580, {{"0", 6380}, {"1", 3200}}},
      {"classification/en/trec/TREC.train",
       [](DataSpec& s) {
         s.header = false, s.delimiter = "space", s.label_pattern = "^([^:]+)", s.encoding = TextEncoding::kLatin1;
       },
       5452, {{"ABBR", 86}, {"DESC", 1162}, {"NUM", 896}}},
      {"classification/en/trec/TREC.test",
       [](DataSpec& s) {
         s.header = false, s.delimiter = "space", s.label_pattern = "^([^:]+)", s.encoding = TextEncoding::kLatin1;
       },
       500, {{"ABBR", 9}, {"NUM", 113}}},
      {"classification/zh/tnews/train.tsv", [](DataSpec& s) { s.header = false, s.text_column = "0", s.label_column = "1"; },
       53360, {{"news_tech", 5955}, {"news_stock", 257}}},
  };
  for (const SharedSet& set : sets) {
    DataSpec spec;
    spec.path = kShared + set.path;
    set.flags(spec);
    auto rows = read_all(spec);
    EXPECT_EQ(rows.size(), set.examples) << set.path;
    std::map<std::string, size_t> counts;
    for (const auto& r : rows) ++counts[r.label];
    for (const auto& [label, n] : set.label_counts) EXPECT_EQ(counts[label], n) << set.path << " label " << label;
  }
}

}  // namespace
}  // namespace lmaas::train
