#include "spaces/errors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zerolm {

namespace {

// The length of the well-formed UTF-8 character that starts `s` (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), 0 when none does: a corrupt file's stray bytes must not
// reach a terminal as they are.
std::size_t utf8_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  return n;
}

void append_hex(std::string& out, unsigned char c) {
  char b[8];
  std::snprintf(b, sizeof b, "\\x%02x", c);
  out += b;
}

std::string escape(std::string_view text, std::size_t max_chars, bool in_quotes) {
  std::string out;
  const std::size_t n = std::min(text.size(), max_chars);
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::size_t len = utf8_length(text.substr(i));
    if (len > 1) {
      if (i + len > n) break;  // never cut a UTF-8 character in two
      // C1 controls (U+0080 to U+009F) act on terminals like the ASCII ones.
      const bool control = c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
      for (std::size_t k = 0; k < len; ++k) {
        if (control)
          append_hex(out, static_cast<unsigned char>(text[i + k]));
        else
          out += text[i + k];
      }
      i += len;
      continue;
    }
    ++i;
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
        if (c < 0x20 || c >= 0x7f)  // controls, and bytes that are no UTF-8 character
          append_hex(out, c);
        else
          out += char(c);
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

std::string join_list(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& x : items) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace zerolm
