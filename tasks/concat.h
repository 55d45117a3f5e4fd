// concat(a, b, ...): the parts (strings, string_views, literals) joined in one allocation.
// Also what to write instead of `"literal" + std::string&&`: g++ 12 at -O3 inlines that operator's
// insert and warns about it wrongly (-Wstringop-overflow, GCC bug 105651, fixed in GCC 13), thirty
// times across the build.
#pragma once
#include <string>
#include <string_view>

namespace verity {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ...));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace verity
