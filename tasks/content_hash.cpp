// XXH64 as specified in xxHash's doc/xxhash_spec.md (little-endian reads; x86-64 and arm64 are).
#include "tasks/content_hash.h"

#include <cstdio>
#include <cstring>

namespace verity {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t round(uint64_t acc, uint64_t input) { return rotl(acc + input * kPrime2, 31) * kPrime1; }
uint64_t merge(uint64_t acc, uint64_t lane) { return (acc ^ round(0, lane)) * kPrime1 + kPrime4; }

// Consumes whole 32-byte stripes of [p, p + n); returns how many bytes it consumed.
size_t consume_stripes(uint64_t lanes[4], const unsigned char* p, size_t n) {
  size_t done = 0;
  uint64_t a = lanes[0], b = lanes[1], c = lanes[2], d = lanes[3];
  for (; done + 32 <= n; done += 32) {
    a = round(a, read64(p + done));
    b = round(b, read64(p + done + 8));
    c = round(c, read64(p + done + 16));
    d = round(d, read64(p + done + 24));
  }
  lanes[0] = a, lanes[1] = b, lanes[2] = c, lanes[3] = d;
  return done;
}

}  // namespace

ContentHash::ContentHash(uint64_t seed)
    : lanes_{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1}, seed_(seed) {}

void ContentHash::update(std::string_view bytes) {
  auto p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  total_ += n;
  if (buffered_ > 0) {  // top up the partial stripe first
    const size_t take = std::min(n, sizeof buffer_ - buffered_);
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take, p += take, n -= take;
    if (buffered_ < sizeof buffer_) return;
    consume_stripes(lanes_, buffer_, sizeof buffer_);
    buffered_ = 0;
  }
  const size_t done = consume_stripes(lanes_, p, n);
  std::memcpy(buffer_, p + done, n - done);
  buffered_ = n - done;
}

uint64_t ContentHash::digest() const {
  uint64_t h;
  if (total_ >= 32) {
    h = rotl(lanes_[0], 1) + rotl(lanes_[1], 7) + rotl(lanes_[2], 12) + rotl(lanes_[3], 18);
    for (const uint64_t lane : lanes_) h = merge(h, lane);
  } else {
    h = seed_ + kPrime5;
  }
  h += total_;
  const unsigned char* p = buffer_;
  size_t n = buffered_;
  for (; n >= 8; p += 8, n -= 8) h = rotl(h ^ round(0, read64(p)), 27) * kPrime1 + kPrime4;
  if (n >= 4) {
    h = rotl(h ^ (uint64_t{read32(p)} * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4, n -= 4;
  }
  for (; n > 0; ++p, --n) h = rotl(h ^ (*p * kPrime5), 11) * kPrime1;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

std::string ContentHash::text() const {
  char hex[32];
  std::snprintf(hex, sizeof hex, "xxh64:%016llx", static_cast<unsigned long long>(digest()));
  return hex;
}

uint64_t xxh64(std::string_view bytes, uint64_t seed) {
  ContentHash hash(seed);
  hash.update(bytes);
  return hash.digest();
}

}  // namespace verity
