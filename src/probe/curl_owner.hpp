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

/// Hands every transfer `multi` reports finished back to its CurlOwner (CURLOPT_PRIVATE).
inline void hand_back_done(CURLM* multi) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    CurlOwner* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    if (owner) owner->on_done(easy, code);
  }
}

} // namespace certdoctor::probe
