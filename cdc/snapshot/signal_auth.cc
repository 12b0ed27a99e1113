#include "cdc/snapshot/signal_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>

#include "absl/strings/escaping.h"

namespace cdc::snapshot {
namespace {

constexpr size_t kMacHexSize = 64;

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t size = 0;
  // The key may be empty only in tests of this function; EVP wants a
  // non-null pointer either way.
  static const unsigned char kNoKey = 0;
  const void* key_data =
      key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_data,
                key.size(), reinterpret_cast<const unsigned char*>(data.data()),
                data.size(), mac, sizeof(mac), &size) == nullptr) {
    // Only an OpenSSL without SHA-256 or out of memory: no MAC matches.
    return std::string();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), size));
}

std::string SignalKeys::Seal(std::string_view json) const {
  std::string out = HmacSha256Hex(keys_.front(), json);
  out += ' ';
  out.append(json);
  return out;
}

absl::StatusOr<std::string_view> SignalKeys::Open(
    std::string_view content) const {
  if (content.size() < kMacHexSize + 1 || content[kMacHexSize] != ' ' ||
      !IsLowerHex(content.substr(0, kMacHexSize))) {
    return absl::UnauthenticatedError(
        "not sealed: a signal starts with the 64 hex digits of its "
        "HMAC-SHA256 and a space");
  }
  const std::string_view mac = content.substr(0, kMacHexSize);
  const std::string_view json = content.substr(kMacHexSize + 1);
  for (const std::string& key : keys_) {
    const std::string expected = HmacSha256Hex(key, json);
    if (expected.size() == kMacHexSize &&
        CRYPTO_memcmp(expected.data(), mac.data(), kMacHexSize) == 0) {
      return json;
    }
  }
  return absl::UnauthenticatedError(
      "its HMAC does not match pgcdc's signal key (signals.secret)");
}

}  // namespace cdc::snapshot
