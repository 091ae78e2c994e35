#include "spaces/errors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zerolm {

namespace {

std::string escape(std::string_view text, std::size_t max_chars, bool in_quotes) {
  std::string out;
  std::size_t n = std::min(text.size(), max_chars);
  // Never cut a UTF-8 character in two.
  while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += in_quotes ? "\\\"" : "\"";
        break;
      case '\\':
        out += in_quotes ? "\\\\" : "\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += char(c);  // UTF-8 bytes pass through
        }
    }
  }
  return out;
}

std::string cut_note(std::string_view text, std::size_t max_chars) {
  return text.size() > max_chars ? "... (" + std::to_string(text.size()) + " characters)" : "";
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_chars) {
  return escape(text, max_chars, false) + cut_note(text, max_chars);
}

std::string quoted_input(std::string_view text, std::size_t max_chars) {
  return "\"" + escape(text, max_chars, true) + "\"" + cut_note(text, max_chars);
}

IoError io_error(const std::string& path, const std::string& what) {
  const int err = errno;
  return IoError(path + ": " + what + " (" + std::strerror(err) + ")");
}

}  // namespace zerolm
