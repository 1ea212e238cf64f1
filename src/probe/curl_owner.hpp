#pragma once
// Who a transfer on the engine's libcurl multi handle belongs to: every easy handle added to it
// carries its owner in CURLOPT_PRIVATE, and the engine hands each finished transfer back there.
#include <curl/curl.h>

namespace certdoctor::probe {

class CurlOwner {
 public:
  virtual ~CurlOwner() = default;
  /// `easy` ended with `code`; the owner removes it from the multi handle and frees it.
  virtual void on_done(CURL* easy, CURLcode code) = 0;
};

} // namespace certdoctor::probe
