// Tests of MetadataStore (src/store): keys (create, list, revoke, lookup by hash, names), usage upserts
// and filters, a second connection on the same file (data_version), reopening, and bad files (not SQLite,
// a newer schema). Each test works in its own fresh directory under the system's temp directory.
#include "store/metadata_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/sha256.h"

namespace lmaas::store {
namespace {

namespace fs = std::filesystem;

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("lmaas-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = metadata_db_path(dir_.string());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<MetadataStore> open_ok() {
    auto db = MetadataStore::open(path_);
    EXPECT_TRUE(db.is_ok()) << db.status().to_string();
    return db.is_ok() ? std::move(db).value() : nullptr;
  }
  fs::path dir_;
  std::string path_;
};

bool is_lower_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(MetadataStorePaths, DbPathInsideDataDir) {
  EXPECT_EQ(metadata_db_path("var"), "var/lmaas.db");
  EXPECT_EQ(metadata_db_path("/srv/lmaas/"), "/srv/lmaas/lmaas.db");
}

TEST(MetadataStoreScopes, NamesRoundTrip) {
  EXPECT_STREQ(scope_name(Scope::kAdmin), "admin");
  EXPECT_STREQ(scope_name(Scope::kInfer), "infer");
  EXPECT_EQ(parse_scope("admin").value(), Scope::kAdmin);
  EXPECT_EQ(parse_scope("infer").value(), Scope::kInfer);
  auto bad = parse_scope("root");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("root"), std::string::npos);
}

TEST(MetadataStoreHashes, HashIsSha256AndComparesCorrectly) {
  const KeyHash abc = hash_key_secret("abc");
  Sha256 sha;
  sha.update("abc");
  const std::string hex = sha.hex_digest();
  static const char* kHex = "0123456789abcdef";
  std::string got;
  for (uint8_t b : abc) got.push_back(kHex[b >> 4]), got.push_back(kHex[b & 0xf]);
  EXPECT_EQ(got, hex);
  EXPECT_EQ(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  EXPECT_TRUE(hashes_equal(abc, hash_key_secret("abc")));
  EXPECT_FALSE(hashes_equal(abc, hash_key_secret("abd")));
  for (size_t i : {size_t{0}, size_t{15}, size_t{31}}) {  // a difference anywhere is seen
    KeyHash other = abc;
    other[i] ^= 0x01;
    EXPECT_FALSE(hashes_equal(abc, other)) << "byte " << i;
  }
  EXPECT_TRUE(hashes_equal(KeyHash{}, KeyHash{}));
}

TEST_F(MetadataStoreTest, CreateListAndFindByHash) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->path(), path_);
  EXPECT_EQ(db->count_keys().value(), 0);
  auto admin = db->create_key("ops.admin", Scope::kAdmin);
  ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
  auto infer = db->create_key("team-a_1", Scope::kInfer, 600, 100000);
  ASSERT_TRUE(infer.is_ok()) << infer.status().to_string();

  const std::string& secret = admin.value().secret;
  ASSERT_EQ(secret.size(), 6u + 48u);
  EXPECT_EQ(secret.substr(0, 6), "lmaas-");
  EXPECT_TRUE(is_lower_hex(secret.substr(6)));
  EXPECT_NE(secret, infer.value().secret);
  EXPECT_EQ(admin.value().key.prefix, secret.substr(0, 12));
  EXPECT_GT(admin.value().key.created_unix, 1600000000);

  auto keys = db->list_keys();
  ASSERT_TRUE(keys.is_ok());
  ASSERT_EQ(keys.value().size(), 2u);
  EXPECT_EQ(keys.value()[0].name, "ops.admin");
  EXPECT_EQ(keys.value()[0].scope, Scope::kAdmin);
  EXPECT_EQ(keys.value()[0].id, admin.value().key.id);
  EXPECT_EQ(keys.value()[1].name, "team-a_1");
  EXPECT_EQ(keys.value()[1].requests_per_minute, 600);
  EXPECT_EQ(keys.value()[1].chars_per_minute, 100000);
  EXPECT_FALSE(keys.value()[1].revoked_unix.has_value());
  EXPECT_EQ(db->count_keys().value(), 2);

  // The server finds a key by hashing the presented secret; the secret itself is not in the file.
  auto stored = db->load_keys();
  ASSERT_TRUE(stored.is_ok());
  const KeyHash wanted = hash_key_secret(infer.value().secret);
  int matches = 0;
  for (const auto& s : stored.value()) {
    if (!hashes_equal(s.hash, wanted)) continue;
    ++matches;
    EXPECT_EQ(s.key.name, "team-a_1");
  }
  EXPECT_EQ(matches, 1);
  db.reset();
  std::ifstream file(path_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(secret.substr(6)), std::string::npos);
}

TEST_F(MetadataStoreTest, DuplicateNamesAreRefusedEvenWhenRevoked) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->create_key("ci", Scope::kInfer).is_ok());
  auto again = db->create_key("ci", Scope::kAdmin);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_NE(again.status().message().find("'ci'"), std::string::npos);
  EXPECT_NE(again.status().message().find(path_), std::string::npos);
  ASSERT_TRUE(db->revoke_key("ci").is_ok());
  EXPECT_EQ(db->create_key("ci", Scope::kInfer).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(db->count_keys().value(), 1);
}

TEST_F(MetadataStoreTest, BadNamesAndLimitsAreInvalidArguments) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  for (const std::string& name :
       {std::string(""), std::string(65, 'a'), std::string("has space"), std::string("slash/name"),
        std::string("quote'"), std::string("é"), std::string("nul\0x", 5)}) {
    auto created = db->create_key(name, Scope::kInfer);
    ASSERT_FALSE(created.is_ok()) << name;
    EXPECT_EQ(created.status().code(), Code::kInvalidArgument) << name;
    EXPECT_NE(created.status().message().find("key name"), std::string::npos) << created.status().message();
  }
  EXPECT_TRUE(db->create_key(std::string(64, 'z'), Scope::kInfer).is_ok());
  EXPECT_EQ(db->create_key("negative", Scope::kInfer, -1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(db->create_key("negative", Scope::kInfer, 0, -5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(db->count_keys().value(), 1);
}

TEST_F(MetadataStoreTest, RevokeByNameOrIdKeepsTheKey) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  auto a = db->create_key("alpha", Scope::kInfer);
  auto b = db->create_key("beta", Scope::kInfer);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  ASSERT_TRUE(db->revoke_key("alpha").is_ok());
  ASSERT_TRUE(db->revoke_key(std::to_string(b.value().key.id)).is_ok());
  auto keys = db->list_keys().value();
  ASSERT_EQ(keys.size(), 2u);
  ASSERT_TRUE(keys[0].revoked_unix.has_value());
  ASSERT_TRUE(keys[1].revoked_unix.has_value());
  const int64_t first_revoked = *keys[0].revoked_unix;
  EXPECT_TRUE(db->revoke_key("alpha").is_ok());  // twice is fine and keeps the first time
  EXPECT_EQ(*db->list_keys().value()[0].revoked_unix, first_revoked);

  for (const char* missing : {"gamma", "999", "-1", "0", "99999999999999999999999"}) {
    Status status = db->revoke_key(missing);
    EXPECT_EQ(status.code(), Code::kNotFound) << missing;
    EXPECT_NE(status.message().find(missing), std::string::npos) << status.message();
  }
}

TEST_F(MetadataStoreTest, RevokeByNamePrefersTheNameOverAnEqualId) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->create_key("first", Scope::kInfer).is_ok());  // id 1
  ASSERT_TRUE(db->create_key("1", Scope::kInfer).is_ok());      // name "1"
  ASSERT_TRUE(db->revoke_key("1").is_ok());
  auto keys = db->list_keys().value();
  EXPECT_FALSE(keys[0].revoked_unix.has_value());
  EXPECT_TRUE(keys[1].revoked_unix.has_value());
}

TEST_F(MetadataStoreTest, UsageUpsertsAccumulateAndFilter) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  const int64_t a = db->create_key("a", Scope::kInfer).value().key.id;
  const int64_t b = db->create_key("b", Scope::kInfer).value().key.id;
  ASSERT_TRUE(db->add_usage({{a, "", "sentiment", "2024-05-01", 1, 10},
                             {a, "", "sentiment", "2024-05-01", 2, 20},  // same row twice in one batch
                             {b, "", "sentiment", "2024-05-01", 1, 5},
                             {a, "", "topics", "2024-05-02", 4, 40}})
                  .is_ok());
  ASSERT_TRUE(db->add_usage({{a, "", "sentiment", "2024-05-01", 10, 100}}).is_ok());
  ASSERT_TRUE(db->add_usage({}).is_ok());

  auto all = db->usage();
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  ASSERT_EQ(all.value().size(), 3u);
  EXPECT_EQ(all.value()[0].key_name, "a");
  EXPECT_EQ(all.value()[0].model, "sentiment");
  EXPECT_EQ(all.value()[0].requests, 13);
  EXPECT_EQ(all.value()[0].characters, 130);
  EXPECT_EQ(all.value()[1].key_name, "b");
  EXPECT_EQ(all.value()[1].requests, 1);
  EXPECT_EQ(all.value()[2].day, "2024-05-02");
  EXPECT_EQ(all.value()[2].key_id, a);

  auto only_b = db->usage(b);
  ASSERT_EQ(only_b.value().size(), 1u);
  EXPECT_EQ(only_b.value()[0].characters, 5);
  auto since = db->usage(std::nullopt, "2024-05-02");
  ASSERT_EQ(since.value().size(), 1u);
  EXPECT_EQ(since.value()[0].model, "topics");
  EXPECT_EQ(db->usage(a, "2024-05-03").value().size(), 0u);
  EXPECT_EQ(db->usage(std::nullopt, "May 1").status().code(), Code::kInvalidArgument);
}

TEST_F(MetadataStoreTest, BadUsageRowsChangeNothing) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  const int64_t a = db->create_key("a", Scope::kInfer).value().key.id;
  for (const UsageRow& bad :
       {UsageRow{a, "", "m", "2024-13-01", 1, 1}, UsageRow{a, "", "m", "2024-5-1", 1, 1},
        UsageRow{a, "", "", "2024-05-01", 1, 1}, UsageRow{a, "", "m", "2024-05-01", -1, 1},
        UsageRow{-3, "", "m", "2024-05-01", 1, 1}}) {
    Status status = db->add_usage({{a, "", "m", "2024-05-01", 1, 1}, bad});
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << bad.day << " " << bad.model;
  }
  EXPECT_EQ(db->usage().value().size(), 0u);  // the valid row in each batch was not written either
}

TEST_F(MetadataStoreTest, ConcurrentUsageFromManyThreadsAddsUp) {
  auto db = open_ok();
  ASSERT_TRUE(db);
  const int64_t a = db->create_key("a", Scope::kInfer).value().key.id;
  constexpr int kThreads = 4, kBatches = 50;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < kBatches; ++i)
          EXPECT_TRUE(db->add_usage({{a, "", "m", "2024-05-01", 1, 3}}).is_ok());
      });
  }
  auto rows = db->usage(a).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].requests, kThreads * kBatches);
  EXPECT_EQ(rows[0].characters, 3 * kThreads * kBatches);
}

TEST_F(MetadataStoreTest, SecondConnectionSeesCommitsAndDataVersionMoves) {
  auto server = open_ok();
  auto cli = open_ok();
  ASSERT_TRUE(server && cli);
  const int64_t before = server->data_version().value();
  EXPECT_EQ(server->data_version().value(), before);  // nothing committed elsewhere
  auto created = cli->create_key("from-cli", Scope::kAdmin);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  const int64_t after_create = server->data_version().value();
  EXPECT_NE(after_create, before);
  auto stored = server->load_keys().value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(hashes_equal(stored[0].hash, hash_key_secret(created.value().secret)));

  ASSERT_TRUE(cli->revoke_key("from-cli").is_ok());
  EXPECT_NE(server->data_version().value(), after_create);
  EXPECT_TRUE(server->list_keys().value()[0].revoked_unix.has_value());
}

TEST_F(MetadataStoreTest, ReopenPersistsKeysAndUsage) {
  std::string secret;
  {
    auto db = open_ok();
    ASSERT_TRUE(db);
    secret = db->create_key("persist", Scope::kAdmin, 7, 8).value().secret;
    ASSERT_TRUE(db->add_usage({{1, "", "m", "2024-05-01", 2, 3}}).is_ok());
  }
  auto db = open_ok();
  ASSERT_TRUE(db);
  auto stored = db->load_keys().value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].key.name, "persist");
  EXPECT_EQ(stored[0].key.scope, Scope::kAdmin);
  EXPECT_EQ(stored[0].key.requests_per_minute, 7);
  EXPECT_EQ(stored[0].key.chars_per_minute, 8);
  EXPECT_TRUE(hashes_equal(stored[0].hash, hash_key_secret(secret)));
  auto usage = db->usage().value();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].key_name, "persist");
  EXPECT_EQ(usage[0].characters, 3);
}

TEST_F(MetadataStoreTest, FileThatIsNotSqliteGivesAClearError) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "this is not a database, just some text\n";
  }
  auto db = MetadataStore::open(path_);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), Code::kDataLoss);
  EXPECT_NE(db.status().message().find(path_), std::string::npos) << db.status().message();
  EXPECT_NE(db.status().message().find("not a database"), std::string::npos) << db.status().message();
}

TEST_F(MetadataStoreTest, MissingDirectoryGivesAClearError) {
  const std::string path = (dir_ / "no-such-dir" / "lmaas.db").string();
  auto db = MetadataStore::open(path);
  ASSERT_FALSE(db.is_ok());
  EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().message();
}

TEST_F(MetadataStoreTest, NewerSchemaVersionIsRefused) {
  { ASSERT_TRUE(open_ok()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto db = MetadataStore::open(path_);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("99"), std::string::npos) << db.status().message();
  EXPECT_NE(db.status().message().find(path_), std::string::npos) << db.status().message();
}

TEST_F(MetadataStoreTest, UsesWalJournalMode) {
  { ASSERT_TRUE(open_ok()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

}  // namespace
}  // namespace lmaas::store
