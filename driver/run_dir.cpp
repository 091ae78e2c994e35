#include "driver/run_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "driver/serialization.h"

#include "driver/table.h"
#include "spaces/rng.h"

namespace zerolm {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "ZEROLM-CHECKPOINT-1\n";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string exact(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RunDir::log_file(int rank) const {
  return file("logs/rank-" + std::to_string(rank) + ".log");
}

bool RunDir::has_run() const {
  return fs::exists(file("config.json"));
}

void RunDir::create(bool force) const {
  std::error_code ec;
  if (fs::exists(path_, ec) && !fs::is_directory(path_, ec))
    throw InputError(path_ + ": exists and is not a directory (--out expects a run directory)");
  if (fs::exists(path_, ec) && !fs::is_empty(path_, ec)) {
    if (!force)
      throw InputError(path_ + ": already holds a run; continue it with --resume " + path_ +
                       ", or start over with --force (which deletes it)");
    for (const char* f : {"config.json", "evaluations.csv", "top.csv", "checkpoint.bin"})
      fs::remove(file(f), ec);
    fs::remove_all(file("logs"), ec);
  }
  fs::create_directories(file("logs"), ec);
  if (ec) throw InputError(path_ + ": cannot create the run directory (" + ec.message() + ")");
  // Probe writability now rather than after the first evaluations.
  const std::string probe = file(".write-test");
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (!f)
    throw InputError(path_ + ": cannot write in the run directory (" + std::strerror(errno) + ")");
  std::fclose(f);
  std::remove(probe.c_str());
}

SearchConfig RunDir::read_config() const {
  return SearchConfig::from_json(read_text(file("config.json")), file("config.json"));
}

void RunDir::write_config(const SearchConfig& c) const {
  write_file_atomic(file("config.json"), c.to_json());
}

void RunDir::open_log(const std::vector<std::string>& part_names) {
  const std::string p = file("evaluations.csv");
  const bool fresh = !fs::exists(p);
  log_ = std::fopen(p.c_str(), "a");
  if (!log_) throw InputError(p + ": cannot open for appending (" + std::strerror(errno) + ")");
  parts_ = part_names.size();
  if (fresh) {
    std::string h = "index,encoding,score";
    for (const auto& n : part_names) h += "," + n;
    h += ",params,rank,device,start,end,status,reason\n";
    std::fputs(h.c_str(), log_);
    std::fflush(log_);
  }
}

void RunDir::append(const Record& r) {
  std::string line = std::to_string(r.index) + "," + r.encoding + "," +
                     (r.status == Status::Ok ? exact(r.score) : std::string());
  for (std::size_t i = 0; i < parts_; ++i)
    line +=
        "," + (r.status == Status::Ok && i < r.parts.size() ? exact(r.parts[i]) : std::string());
  char times[80];
  std::snprintf(times, sizeof times, ",%.6f,%.6f,", r.start, r.end);
  line += "," + std::to_string(r.params) + "," + std::to_string(r.rank) + "," + r.device + times +
          status_name(r.status) + "," + csv_escape(r.reason) + "\n";
  std::fputs(line.c_str(), log_);
}

void RunDir::flush_log() {
  if (log_ && std::fflush(log_) != 0)
    throw std::runtime_error(file("evaluations.csv") + ": write failed (" + std::strerror(errno) +
                             ")");
}

void RunDir::close_log() {
  if (log_) flush_log();
  if (log_) std::fclose(log_);
  log_ = nullptr;
}

std::map<std::uint64_t, Record> RunDir::read_log() const {
  std::map<std::uint64_t, Record> out;
  const std::string p = file("evaluations.csv");
  if (!fs::exists(p)) return out;
  const Csv csv = read_csv(p);
  const int idx = csv.column("index"), enc = csv.column("encoding"), score = csv.column("score"),
            params = csv.column("params"), status = csv.column("status"), rank = csv.column("rank"),
            device = csv.column("device"), start = csv.column("start"), end = csv.column("end"),
            reason = csv.column("reason");
  if (idx < 0 || enc < 0 || score < 0 || params < 0 || status < 0)
    throw InputError(p + ": not a zerolm evaluation log (missing columns)");
  const int first_part = score + 1, n_parts = params - score - 1;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& row = csv.rows[i];
    try {
      Record r;
      r.index = std::stoull(row[idx]);
      r.encoding = row[enc];
      const std::string& st = row[status];
      if (st == "preempted") continue;
      if (st != "ok" && st != "failed") throw std::invalid_argument("status " + st);
      r.status = st == "ok" ? Status::Ok : Status::Failed;
      if (r.status == Status::Ok) {
        r.score = std::stod(row[score]);
        for (int k = 0; k < n_parts; ++k) r.parts.push_back(std::stod(row[first_part + k]));
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
  write_file_atomic(file("checkpoint.bin"), std::string(kMagic) + head + body);
}

bool RunDir::has_checkpoint() const {
  return fs::exists(file("checkpoint.bin"));
}

Checkpoint RunDir::read_checkpoint() const {
  const std::string p = file("checkpoint.bin");
  const std::string text = read_text(p);
  const std::string magic = kMagic;
  auto corrupted = [&](const std::string& why) {
    return InputError(p + ": corrupted checkpoint (" + why +
                      "); restore it, or delete it to resume by replaying evaluations.csv");
  };
  if (text.compare(0, magic.size(), magic) != 0) throw corrupted("no zerolm checkpoint header");
  const auto nl = text.find('\n', magic.size());
  if (nl == std::string::npos) throw corrupted("truncated header");
  std::size_t size = 0;
  unsigned long long sum = 0;
  if (std::sscanf(text.c_str() + magic.size(), "%zu %llx", &size, &sum) != 2)
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
