// Errors and files: quoting of echoed input, the run-directory lock, the repair of a cut-off
// evaluation log, checkpoint formats, and checked appends (atomic writes: test_table.cpp).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "report/table.h"
#include "rundir/run_dir.h"
#include "spaces/errors.h"

namespace zerolm {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Errors, QuotedEscapesControlCharactersAndCutsLongInput) {
  EXPECT_EQ(quoted_input("H128|SA"), "\"H128|SA\"");
  EXPECT_EQ(quoted_input("a\rb\nc\x1b[31m\"\\"), "\"a\\rb\\nc\\x1b[31m\\\"\\\\\"");
  const std::string big(1000000, 'H');
  const std::string q = quoted_input(big);
  EXPECT_EQ(q, "\"" + std::string(200, 'H') + "\"... (1000000 characters)");
  // A multi-byte UTF-8 character is never cut in two.
  const std::string cut = quoted_input(std::string(199, 'a') + "\xc3\xa9" + "tail");
  EXPECT_EQ(cut, "\"" + std::string(199, 'a') + "\"... (205 characters)");
  // The whole-line form keeps quotes and escapes already in a message.
  EXPECT_EQ(printable("x \"a\\n\" \x07"), "x \"a\\n\" \\x07");
}

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "zerolm_files_" + std::to_string(::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  void TearDown() override { fs::remove_all(path_); }
  std::string path_;
};

TEST_F(FilesTest, AppendToAFullDiskThrowsNamingTheFile) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  AppendFile f("/dev/full");
  f.write("a record\n");
  const std::string msg = message_of([&] { f.flush(); });
  EXPECT_NE(msg.find("/dev/full: write failed (No space left on device)"), std::string::npos)
      << msg;
}

TEST_F(FilesTest, LockNamesItsHolderAndIsReleased) {
  const std::string lock_file = path_ + "/lock";
  {
    const RunLock lock = RunLock::acquire(path_);
    EXPECT_TRUE(lock.held());
    EXPECT_EQ(slurp(lock_file), lock_owner() + "\n");
    const std::string msg = message_of([&] { RunLock::acquire(path_); });
    EXPECT_NE(msg.find("in use by zerolm process " + std::to_string(::getpid()) + " on "),
              std::string::npos)
        << msg;
  }
  EXPECT_FALSE(fs::exists(lock_file));  // released on scope exit
  // A lock held on another host cannot be checked: refused, naming that host and the file.
  spit(lock_file, "elsewhere-node 4242\n");
  const std::string msg = message_of([&] { RunLock::acquire(path_); });
  EXPECT_NE(msg.find("in use by zerolm process 4242 on \"elsewhere-node\""), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("delete " + lock_file), std::string::npos) << msg;
  EXPECT_EQ(slurp(lock_file), "elsewhere-node 4242\n");
  // ... until its holder has not refreshed it for kLockStaleSeconds (a crashed node).
  fs::last_write_time(lock_file, fs::last_write_time(lock_file) -
                                     std::chrono::seconds(RunLock::kLockStaleSeconds + 5));
  {
    const RunLock lock = RunLock::acquire(path_);
    EXPECT_EQ(slurp(lock_file), lock_owner() + "\n");
  }
  EXPECT_FALSE(fs::exists(lock_file));
}

TEST_F(FilesTest, StaleLockOfADeadProcessIsTakenOver) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);  // now a pid no process has
  const std::string lock_file = path_ + "/lock";
  const std::string host = lock_owner().substr(0, lock_owner().find(' '));
  spit(lock_file, host + " " + std::to_string(child) + "\n");
  {
    const RunLock lock = RunLock::acquire(path_);
    EXPECT_EQ(slurp(lock_file), lock_owner() + "\n");
  }
  EXPECT_FALSE(fs::exists(lock_file));
}

TEST_F(FilesTest, CutOffLastRecordIsDroppedAndTheRestKept) {
  RunDir d(path_);
  const std::string header = "index,encoding,score,params,rank,device,start,end,status,reason\n";
  const std::string r0 = "0,H128|SA-SDP-h2-ff512x1,0.5,42,1,cpu,1.0,2.0,ok,\n";
  const std::string r1 = "1,H128|SA-SDP-h2-ff512x2,0.25,43,1,cpu,1.0,2.0,ok,\n";
  spit(d.file("evaluations.csv"), header + r0 + r1 + "2,H128|SA-SD");
  // As a crash leaves it: readers (zerolm pareto) see the complete records and change nothing.
  const std::string cut = header + r0 + r1 + "2,H128|SA-SD";
  EXPECT_EQ(d.read_log().size(), 2u);
  EXPECT_EQ(slurp(d.file("evaluations.csv")), cut);
  EXPECT_TRUE(d.repair_log());
  EXPECT_EQ(slurp(d.file("evaluations.csv")), header + r0 + r1);
  EXPECT_EQ(d.read_log().size(), 2u);
  EXPECT_FALSE(d.repair_log());  // a complete log is left alone
  // NUL bytes where the last write was going (delayed allocation after a power cut).
  spit(d.file("evaluations.csv"), header + r0 + std::string("1,H128\0\0\0\0", 10));
  EXPECT_TRUE(d.repair_log());
  EXPECT_EQ(slurp(d.file("evaluations.csv")), header + r0);
  EXPECT_EQ(d.read_log().size(), 1u);
}

TEST_F(FilesTest, CheckpointOfAnotherBuildIsNamedAsSuchAndVersion1IsRead) {
  RunDir d(path_);
  Checkpoint c;
  c.config_hash = "abc";
  c.generation = {{5, "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"}};
  c.finished = 5;
  d.write_checkpoint(c);
  const std::string text = slurp(d.file("checkpoint.bin"));
  ASSERT_EQ(text.rfind("ZEROLM-CHECKPOINT-2 boost-archive-", 0), 0u) << text.substr(0, 40);
  const std::string rest = text.substr(text.find('\n') + 1);
  // Today's checkpoints (version 1, no format named) are still read.
  spit(d.file("checkpoint.bin"), "ZEROLM-CHECKPOINT-1\n" + rest);
  EXPECT_EQ(d.read_checkpoint().finished, 5u);
  spit(d.file("checkpoint.bin"), "ZEROLM-CHECKPOINT-2 boost-archive-99 be ilp32\n" + rest);
  const std::string msg = message_of([&] { d.read_checkpoint(); });
  EXPECT_NE(msg.find("a checkpoint of another zerolm build (2 boost-archive-99 be ilp32"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("corrupted"), std::string::npos) << msg;
}

// The one all-or-nothing writer (spaces/files.h), which checkpoints, exports and run files use: a
// committed file has all its bytes, an abandoned one leaves nothing (no temporary either), and
// the old content stays until the commit.
TEST_F(FilesTest, AtomicFileIsAllOrNothing) {
  const std::string path = path_ + "/out.bin";
  write_file_atomic(path, "old");
  {
    AtomicFile f(path);
    f.write("new ");
    f.write(std::string(1 << 20, 'x'));
    EXPECT_EQ(read_text(path), "old");  // not visible before the commit
    f.commit();
  }
  EXPECT_EQ(read_text(path).size(), std::size_t(4 + (1 << 20)));
  EXPECT_EQ(read_text(path).substr(0, 4), "new ");
  try {
    AtomicFile f(path);
    f.write("half");
    throw std::runtime_error("stopped");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_text(path).substr(0, 4), "new ");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path_)) {
    ++files;
    EXPECT_EQ(e.path().filename().string(), "out.bin");
  }
  EXPECT_EQ(files, 1);
  EXPECT_THROW(AtomicFile(path_ + "/missing/out.bin"), IoError);
}

}  // namespace
}  // namespace zerolm
