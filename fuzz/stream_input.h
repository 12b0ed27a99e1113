// The input format of stream_fuzz: a replication session as one byte string,
// so that the fuzzer mutates whole sequences of frames.
//
//   byte 0       options (StreamOptions bits)
//   then, repeated:
//     uint32     frame length, big-endian
//     bytes      one CopyData payload ('w' XLogData, 'k' keepalive)
//
// A length running past the end takes what is left, so every input is some
// sequence of frames. capture_frames writes this format from a live session.
//
// Header-only; pure functions.
#ifndef FUZZ_STREAM_INPUT_H_
#define FUZZ_STREAM_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdc::fuzz {

enum StreamOptions : uint8_t {
  // Load a few built-in type names before the first frame.
  kBuiltinTypes = 1,
  // Give each table seen a primary key: the columns its Relation flags.
  kPrimaryKeyFromFlags = 2,
  // Give each table seen a primary key naming a column it does not have.
  kPrimaryKeyMissingColumn = 4,
};

inline std::vector<std::string_view> SplitStreamInput(std::string_view input) {
  std::vector<std::string_view> frames;
  size_t pos = 1;
  while (pos < input.size()) {
    size_t length = 0;
    for (int i = 0; i < 4; ++i) {
      length <<= 8;
      if (pos < input.size()) {
        length |= static_cast<unsigned char>(input[pos]);
        ++pos;
      }
    }
    if (length > input.size() - pos) length = input.size() - pos;
    frames.push_back(input.substr(pos, length));
    pos += length;
  }
  return frames;
}

inline void AppendStreamFrame(std::string_view frame, std::string* out) {
  const uint32_t n = static_cast<uint32_t>(frame.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out->append(frame.data(), frame.size());
}

}  // namespace cdc::fuzz

#endif  // FUZZ_STREAM_INPUT_H_
