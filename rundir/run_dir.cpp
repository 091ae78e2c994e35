#include "rundir/run_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/archive/basic_archive.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "report/table.h"
#include "rundir/log.h"
#include "rundir/serialization.h"
#include "spaces/rng.h"

namespace zerolm {

namespace fs = std::filesystem;

namespace {

// A checkpoint starts "ZEROLM-CHECKPOINT-<version> <format>\n<size> <checksum>\n". The payload is
// a Boost binary archive, readable only by a build with the same archive version, integer sizes
// and byte order: <format> names those, so a checkpoint from another build is named as such
// instead of failing as corrupted. Version 1 (no format named) was written by the builds before
// formats were named, with the same Boost and platform as today's: it is still read.
constexpr char kMagicPrefix[] = "ZEROLM-CHECKPOINT-";
constexpr char kMagicV1[] = "ZEROLM-CHECKPOINT-1\n";

std::string checkpoint_format() {
  const unsigned one = 1;
  const bool little = *reinterpret_cast<const unsigned char*>(&one) == 1;
  return "boost-archive-" +
         std::to_string(static_cast<unsigned>(boost::archive::BOOST_ARCHIVE_VERSION())) +
         (little ? " le" : " be") + (sizeof(long) == 8 ? " lp64" : " ilp32");
}

std::string host_name() {
  char host[HOST_NAME_MAX + 1] = "?";
  gethostname(host, sizeof host - 1);
  host[HOST_NAME_MAX] = '\0';
  return host;
}

// Whether `pid` on this host is still a zerolm process: a dead pid, or one reused by another
// program (after a reboot, say), holds no lock.
bool zerolm_alive(long pid) {
  if (pid <= 0) return false;
  if (pid == long(::getpid())) return true;
  if (::kill(pid_t(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name)) return name.rfind("zerolm", 0) == 0;
  return true;  // no /proc: trust kill()
}

std::string exact(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

std::string lock_owner() {
  return host_name() + " " + std::to_string(::getpid());
}

// A held lock: its file, and the thread that keeps the file's time fresh (so that another host
// can tell a live holder from a crashed one).
struct RunLock::Held {
  std::string path, owner;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread refresher;

  Held(std::string p, std::string o) : path(std::move(p)), owner(std::move(o)) {
    refresher = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex);
      while (
          !wake.wait_for(lock, std::chrono::seconds(kLockRefreshSeconds), [this] { return stop; }))
        (void)::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // best effort
    });
  }
  ~Held() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    refresher.join();
    // Only our own lock is removed (never one another process has taken over).
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    in.close();
    if (text == owner) std::remove(path.c_str());
  }
};

RunLock::RunLock() = default;
RunLock::~RunLock() = default;
RunLock::RunLock(RunLock&& o) noexcept = default;
RunLock& RunLock::operator=(RunLock&& o) noexcept = default;

void RunLock::release() noexcept {
  try {
    held_.reset();
  } catch (...) {
  }
}

RunLock RunLock::acquire(const std::string& dir) {
  const std::string path = dir + "/lock", me = lock_owner();
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string line = me + "\n";
      const bool ok =
          ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
      const int err = errno;
      ::close(fd);
      if (!ok) {
        std::remove(path.c_str());
        errno = err;
        throw io_error(path, "cannot write the lock file");
      }
      RunLock lock;
      lock.held_ = std::make_unique<Held>(path, me);
      return lock;
    }
    if (errno != EEXIST) throw io_error(path, "cannot create the lock file");
    // Held: by whom? A holder writes its line right after creating the file.
    std::string text;
    for (int wait = 0; wait < 20 && text.empty(); ++wait) {
      std::ifstream in(path);
      std::getline(in, text);
      if (text.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    char host[256] = "";
    long pid = 0;
    const bool named = std::sscanf(text.c_str(), "%255s %ld", host, &pid) == 2;
    const bool here = named && host == host_name();
    struct stat st {};
    const double age =
        ::stat(path.c_str(), &st) == 0 ? unix_time() - double(st.st_mtim.tv_sec) : 0.0;
    if (here ? zerolm_alive(pid) : named && age < kLockStaleSeconds)
      throw InputError(dir + ": in use by zerolm process " + std::to_string(pid) + " on " +
                       quoted_input(host, 80) + " (" + path +
                       "); wait for it to finish or stop it first" +
                       (here ? std::string()
                             : ". If that process is gone (a crashed node), delete " + path +
                                   ", or retry once it is " + std::to_string(kLockStaleSeconds) +
                                   " s old (a live holder refreshes it)"));
    log::warn(path + ": taking over the stale lock of " +
              (!named ? "an unnamed holder (" + quoted_input(text, 80) + ")"
               : here ? "process " + std::to_string(pid) + ", no longer running"
                      : "process " + std::to_string(pid) + " on " + quoted_input(host, 80) +
                            ", not refreshed for " + std::to_string(long(age)) + " s"));
    if (std::remove(path.c_str()) != 0 && errno != ENOENT)
      throw io_error(path, "cannot remove the stale lock file");
  }
  throw InputError(path + ": cannot take the lock (other processes keep taking it)");
}

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RunDir::log_file(int rank) const {
  return file("logs/rank-" + std::to_string(rank) + ".log");
}

bool RunDir::has_run() const {
  return fs::exists(file("config.json"));
}

RunLock RunDir::create(bool force) const {
  std::error_code ec;
  if (fs::exists(path_, ec) && !fs::is_directory(path_, ec))
    throw InputError(path_ + ": exists and is not a directory (--out expects a run directory)");
  const bool existed = fs::exists(path_, ec);
  fs::create_directories(path_, ec);
  if (ec) throw IoError(path_ + ": cannot create the run directory (" + ec.message() + ")");
  // Locked before anything in it is looked at or removed: a --force never deletes a live run.
  RunLock lock;
  try {
    lock = RunLock::acquire(path_);
  } catch (...) {
    if (!existed) fs::remove(path_, ec);
    throw;
  }
  bool empty = true;
  for (const auto& entry : fs::directory_iterator(path_, ec))
    if (entry.path().filename() != "lock") empty = false;
  if (!empty) {
    if (!force) {
      const std::string broken = broken_run_message(false);
      if (!broken.empty()) throw InputError(broken);
      throw InputError(path_ + ": already holds a run; continue it with --resume " + path_ +
                       ", or start over with --force (which deletes it)");
    }
    // Everything a run and the commands working on it write (and nothing else: a user's own
    // files beside them stay), so that no file of the old run is read as the new one's.
    for (const char* f : {"config.json", "evaluations.csv", "top.csv", "checkpoint.bin",
                          "status.json", "pareto.csv", "pareto.png", "pareto.png.dat",
                          "pareto.png.gp", "finetune.csv", "tokenizer.model"})
      fs::remove(file(f), ec);
    fs::remove_all(file("logs"), ec);
    std::vector<fs::path> exports;
    for (const auto& entry : fs::directory_iterator(path_, ec))
      if (entry.path().filename().string().rfind("export-rank-", 0) == 0)
        exports.push_back(entry.path());
    for (const auto& e : exports) fs::remove_all(e, ec);
  }
  fs::create_directories(file("logs"), ec);
  if (ec) throw IoError(path_ + ": cannot create the run directory (" + ec.message() + ")");
  // Probe writability now rather than after the first evaluations.
  write_file_atomic(file(".write-test"), "");
  std::remove(file(".write-test").c_str());
  return lock;
}

std::size_t RunDir::logged_lines() const {
  std::ifstream in(file("evaluations.csv"));
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++n;
  return n > 0 ? n - 1 : 0;
}

std::string RunDir::broken_run_message(bool resuming) const {
  const std::size_t n = logged_lines();
  if (has_run() || n == 0) return "";
  const std::string state = path_ + ": config.json is missing, but evaluations.csv holds " +
                            std::to_string(n) + " evaluations of a run";
  return (resuming ? "--resume " : "") + state +
         ", so it can be neither resumed nor started again as it is. To continue it, restore " +
         file("config.json") + " (from a backup) and run --resume " + path_ +
         "; to start over, run --out " + path_ + " --force (which deletes the evaluations)";
}

namespace {

// The length of the complete records of a log: up to the last newline, and before any NUL (a
// crash can leave a block of zeros where the last write was going).
std::size_t complete_prefix(const std::string& text) {
  std::size_t keep = text.rfind('\n');
  keep = keep == std::string::npos ? 0 : keep + 1;
  const std::size_t nul = text.find('\0');
  if (nul != std::string::npos && nul < keep) {
    const std::size_t nl = text.rfind('\n', nul);
    keep = nl == std::string::npos ? 0 : nl + 1;
  }
  return keep;
}

}  // namespace

bool RunDir::repair_log() const {
  const std::string p = file("evaluations.csv");
  if (!fs::exists(p)) return false;
  const std::string text = read_text(p);
  const std::size_t keep = complete_prefix(text);
  if (keep == text.size()) return false;
  const std::size_t line =
      std::size_t(std::count(text.begin(), text.begin() + long(keep), '\n')) + 1;
  if (::truncate(p.c_str(), off_t(keep)) != 0)
    throw io_error(p, "cannot drop the incomplete last record");
  log::warn(p + ":" + std::to_string(line) + ": dropped an incomplete last record " +
            quoted_input(text.substr(keep), 60) +
            " (cut off when the run ended); it is evaluated again");
  return true;
}

SearchConfig RunDir::read_config() const {
  return SearchConfig::from_json(read_text(file("config.json")), file("config.json"));
}

void RunDir::write_config(const SearchConfig& c) const {
  write_file_atomic(file("config.json"), c.to_json());
}

void RunDir::open_log(const std::vector<std::string>& part_names,
                      const std::vector<std::string>& value_columns) {
  const std::string p = file("evaluations.csv");
  std::error_code ec;
  const bool fresh = !fs::exists(p) || fs::file_size(p, ec) == 0;
  log_ = AppendFile(p);
  parts_ = part_names.size();
  values_ = value_columns.size();
  if (fresh) {
    std::string h = "index,encoding,score";
    for (const auto& n : part_names) h += "," + n;
    h += ",params";
    for (const auto& n : value_columns) h += "," + n;
    h += ",rank,device,start,end,status,reason\n";
    log_.write(h);
    log_.flush();
  }
}

void RunDir::append(const Record& r) {
  // Values of an over-budget record are kept: they say by how much it missed.
  const bool valued = r.status == Status::Ok || r.status == Status::OverBudget;
  std::string line =
      std::to_string(r.index) + "," + r.encoding + "," + (valued ? exact(r.score) : std::string());
  for (std::size_t i = 0; i < parts_; ++i)
    line +=
        "," + (r.status == Status::Ok && i < r.parts.size() ? exact(r.parts[i]) : std::string());
  char times[80];
  std::snprintf(times, sizeof times, ",%.6f,%.6f,", r.start, r.end);
  line += "," + std::to_string(r.params);
  for (std::size_t i = 0; i < values_; ++i)
    line += "," + (valued && i < r.values.size() ? exact(r.values[i]) : std::string());
  line += "," + std::to_string(r.rank) + "," + csv_escape(r.device) + times +
          status_name(r.status) + "," + csv_escape(r.reason) + "\n";
  log_.write(line);
}

void RunDir::flush_log() {
  log_.flush();
}

void RunDir::close_log() {
  log_.close();
}

std::map<std::uint64_t, Record> RunDir::read_log() const {
  std::map<std::uint64_t, Record> out;
  const std::string p = file("evaluations.csv");
  std::error_code ec;
  if (!fs::exists(p) || fs::file_size(p, ec) == 0) return out;
  // A record cut off at the end (a crash, or a run still writing it) is not read: a reader of a
  // live or crashed run sees the complete records, as --resume does after repair_log().
  std::string text = read_text(p);
  const std::size_t keep = complete_prefix(text);
  if (keep < text.size()) {
    log::warn(p + ": ignoring an incomplete last record " + quoted_input(text.substr(keep), 60) +
              " (cut off; --resume evaluates it again)");
    text.resize(keep);
  }
  if (text.empty()) return out;
  const Csv csv = parse_csv(text, p);
  const int idx = csv.column("index"), enc = csv.column("encoding"), score = csv.column("score"),
            params = csv.column("params"), status = csv.column("status"), rank = csv.column("rank"),
            device = csv.column("device"), start = csv.column("start"), end = csv.column("end"),
            reason = csv.column("reason");
  if (idx < 0 || enc < 0 || score < 0 || params < 0 || status < 0 || rank < 0)
    throw InputError(p + ": not a zerolm evaluation log (missing columns)");
  const int first_part = score + 1, n_parts = params - score - 1;
  const int first_value = params + 1, n_values = rank - params - 1;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& row = csv.rows[i];
    try {
      Record r;
      r.index = std::stoull(row[idx]);
      r.encoding = row[enc];
      const std::string& st = row[status];
      if (st == "preempted") continue;
      if (st != "ok" && st != "failed" && st != "over-budget")
        throw std::invalid_argument("status " + st);
      r.status = st == "ok" ? Status::Ok : st == "failed" ? Status::Failed : Status::OverBudget;
      if (r.status == Status::Ok) {
        r.score = std::stod(row[score]);
        for (int k = 0; k < n_parts; ++k) r.parts.push_back(std::stod(row[first_part + k]));
      }
      if (r.status != Status::Failed) {
        if (r.status == Status::OverBudget && !row[score].empty()) r.score = std::stod(row[score]);
        for (int k = 0; k < n_values; ++k) r.values.push_back(std::stod(row[first_value + k]));
      }
      r.params = std::stoll(row[params]);
      r.rank = std::stoi(row[rank]);
      r.device = row[device];
      r.start = std::stod(row[start]);
      r.end = std::stod(row[end]);
      r.reason = row[reason];
      out[r.index] = r;
    } catch (const std::exception& e) {
      throw InputError(p + ":" + std::to_string(csv.lines[i]) + ": unreadable evaluation record (" +
                       e.what() + ")");
    }
  }
  return out;
}

void RunDir::write_top(const std::vector<Outcome>& top) const {
  std::string s = "rank,encoding,score,params\n";
  for (std::size_t i = 0; i < top.size(); ++i)
    s += std::to_string(i + 1) + "," + top[i].encoding + "," + format_number(top[i].score) + "," +
         std::to_string(top[i].params) + "\n";
  write_file_atomic(file("top.csv"), s);
}

void RunDir::write_checkpoint(const Checkpoint& c) const {
  std::ostringstream payload;
  {
    boost::archive::binary_oarchive ar(payload, boost::archive::no_header);
    ar << c.config_hash << c.strategy_state << c.generation << c.finished;
  }
  const std::string body = payload.str();
  char head[64];
  std::snprintf(head, sizeof head, "%zu %016llx\n", body.size(),
                static_cast<unsigned long long>(fnv1a(body)));
  write_file_atomic(file("checkpoint.bin"),
                    kMagicPrefix + std::string("2 ") + checkpoint_format() + "\n" + head + body);
}

bool RunDir::has_checkpoint() const {
  return fs::exists(file("checkpoint.bin"));
}

Checkpoint RunDir::read_checkpoint() const {
  const std::string p = file("checkpoint.bin");
  const std::string text = read_text(p);
  auto corrupted = [&](const std::string& why) {
    return InputError(p + ": corrupted checkpoint (" + why +
                      "); restore it, or delete it to resume by replaying evaluations.csv");
  };
  const std::string prefix = kMagicPrefix;
  if (text.compare(0, prefix.size(), prefix) != 0) throw corrupted("no zerolm checkpoint header");
  const auto first_nl = text.find('\n');
  if (first_nl == std::string::npos) throw corrupted("truncated header");
  const std::string version = text.substr(0, first_nl + 1);
  const std::string mine = prefix + "2 " + checkpoint_format() + "\n";
  if (version != mine && version != kMagicV1)
    throw InputError(
        p + ": a checkpoint of another zerolm build (" +
        printable(version.substr(prefix.size(), version.size() - prefix.size() - 1), 80) +
        "; this build writes " + mine.substr(prefix.size(), mine.size() - prefix.size() - 1) +
        "); resume with that build, or delete the checkpoint to resume by replaying "
        "evaluations.csv");
  const auto nl = text.find('\n', first_nl + 1);
  if (nl == std::string::npos) throw corrupted("truncated header");
  std::size_t size = 0;
  unsigned long long sum = 0;
  if (std::sscanf(text.c_str() + first_nl + 1, "%zu %llx", &size, &sum) != 2)
    throw corrupted("bad header");
  const std::string body = text.substr(nl + 1);
  if (body.size() != size)
    throw corrupted("size " + std::to_string(body.size()) + ", expected " + std::to_string(size));
  if (fnv1a(body) != sum) throw corrupted("checksum mismatch");
  Checkpoint c;
  try {
    std::istringstream in(body);
    boost::archive::binary_iarchive ar(in, boost::archive::no_header);
    ar >> c.config_hash >> c.strategy_state >> c.generation >> c.finished;
  } catch (const std::exception& e) {
    throw corrupted(e.what());
  }
  return c;
}

}  // namespace zerolm
