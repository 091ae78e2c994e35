#include "train/tokenizer.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "spaces/arch.h"

extern char** environ;

namespace zerolm {

namespace {

class ByteLevel : public Tokenizer {
 public:
  std::string name() const override { return "byte"; }
  Vocabulary vocabulary() const override { return Vocabulary{}; }
  std::vector<std::int64_t> encode(const std::string& text) const override {
    std::vector<std::int64_t> ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
};

namespace fs = std::filesystem;

std::string helper_path() {
  if (const char* env = std::getenv("ZEROLM_SPM"); env && *env) return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(self.parent_path() / "zerolm-spm"))
    return (self.parent_path() / "zerolm-spm").string();
#ifdef ZEROLM_SPM_BUILD_PATH
  if (fs::exists(ZEROLM_SPM_BUILD_PATH)) return ZEROLM_SPM_BUILD_PATH;
#endif
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    for (std::string d; std::getline(dirs, d, ':');)
      if (!d.empty() && ::access((fs::path(d) / "zerolm-spm").c_str(), X_OK) == 0)
        return (fs::path(d) / "zerolm-spm").string();
  }
  return "";
}

// A file in the temporary directory, removed with this object.
class TempFile {
 public:
  TempFile() {
    std::string templ = (fs::temp_directory_path() / "zerolm-spm-XXXXXX").string();
    // Close-on-exec: another thread's helper must not inherit it.
    const int fd = ::mkostemp(templ.data(), O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file: " + templ);
    ::close(fd);
    path_ = templ;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_ + ".tmp", ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void write(const std::string& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();  // a full disk shows at the last flush
    if (!out) throw InputError(path_ + ": cannot write a temporary file (disk full?)");
  }
  std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
};

const char* const kMissing =
    "SentencePiece is not available: install libsentencepiece-dev (Debian/Ubuntu) and rebuild "
    "(it builds the helper zerolm-spm), or use --tokenizer byte";

// Runs the helper with `args`; returns its standard output. Its one-line error becomes an
// InputError.
std::string run_helper(const std::vector<std::string>& args) {
  const std::string exe = helper_path();
  if (exe.empty()) throw InputError(kMissing);
  TempFile out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.path().c_str(), O_WRONLY | O_TRUNC, 0);
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw InputError(exe + ": cannot run (" + std::strerror(rc) + ")");
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited < 0)
    throw InputError(exe + ": lost track of the helper (" + std::strerror(errno) + ")");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string msg = err.read();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    if (const auto nl = msg.rfind('\n'); nl != std::string::npos) msg = msg.substr(nl + 1);
    throw InputError(msg.empty() ? exe + " failed" : msg);
  }
  return out.read();
}

class Piece : public Tokenizer {
 public:
  Piece(const std::string& model, const std::string& origin) {
    model_.write(model);
    std::istringstream info(run_helper({"info", model_.path()}));
    if (!(info >> vocab_.size >> vocab_.mask))
      throw InputError(origin + ": zerolm-spm gave no vocabulary for this model");
    vocab_.regular = vocab_.size;
  }
  std::string name() const override { return "sentencepiece-" + std::to_string(vocab_.size); }
  Vocabulary vocabulary() const override { return vocab_; }
  std::vector<std::int64_t> encode(const std::string& text) const override {
    TempFile in, ids;
    in.write(text);
    run_helper({"encode", model_.path(), in.path(), ids.path()});
    const std::string bytes = ids.read();
    std::vector<std::int64_t> out(bytes.size() / 4);
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint32_t v = 0;
      for (int b = 0; b < 4; ++b)
        v |= std::uint32_t(std::uint8_t(bytes[4 * i + std::size_t(b)])) << (8 * b);
      out[i] = std::int64_t(std::int32_t(v));
    }
    return out;
  }

 private:
  TempFile model_;
  Vocabulary vocab_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() {
  return std::make_unique<ByteLevel>();
}

bool sentencepiece_available() {
  return !helper_path().empty();
}

std::string train_sentencepiece(const std::string& text, int vocab_size) {
  TempFile in, model;
  in.write(text);
  run_helper({"train", in.path(), std::to_string(vocab_size), model.path()});
  return model.read();
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model, const std::string& origin) {
  try {
    return std::make_unique<Piece>(model, origin);
  } catch (const InputError& e) {
    throw InputError(origin + ": " + e.what());
  }
}

}  // namespace zerolm
