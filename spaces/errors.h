// The error types every layer throws at a boundary, and how user input is echoed in them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zerolm {

// Error in user input (an encoding, a file's contents, an option); the message names the input.
// The program exits with kInputErrorExit.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A file or directory that cannot be read or written (full disk, no permission, missing folder);
// the message names the path and the system's reason. The program exits with kIoErrorExit, so
// that batch scripts can tell "fix the command" from "fix the file system".
struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr int kFailureExit = 1;     // anything else (a bug, a failed evaluation job)
constexpr int kInputErrorExit = 2;  // bad options, encodings or input files
constexpr int kIoErrorExit = 3;     // I/O failures

// `text` with control characters and bytes that are not well-formed UTF-8 escaped (\n, \r, \t,
// \xHH), cut after `max_chars` bytes with "... (N characters)": safe to print on one terminal
// line (a message that already quotes its input keeps its escapes as they are).
std::string printable(std::string_view text, std::size_t max_chars = 2000);

// `text` as it may appear in a one-line error: in double quotes, with quotes, backslashes, control
// characters and bytes that are not well-formed UTF-8 escaped (\n, \r, \t, \xHH), and cut after
// `max_chars` input characters with "... (N characters)" so that a megabyte of input does not
// become a megabyte of terminal output.
std::string quoted_input(std::string_view text, std::size_t max_chars = 200);

// The items joined by ", ": {"a", "b"} -> "a, b" (lists of names in help texts and messages).
std::string join_list(const std::vector<std::string>& items);

// IoError naming `path`, what failed and the current errno's description.
IoError io_error(const std::string& path, const std::string& what);

}  // namespace zerolm
