#pragma once
// Objects a one-shot command keeps to the end of the process, never destroyed.
#include <memory>
#include <vector>

namespace certdoctor {

/// Keeps `object` alive until the process ends and never destroys it: for the large results of
/// a command that ends once it has printed them (a check's rules data and diagnosis), whose
/// destruction would only free memory that the end of the process frees anyway (about 5M
/// instructions of one check's 88M). Still reachable at exit, so leak checkers do not count it.
/// Not for anything whose destructor does more than free memory (files, connections).
template <class T>
T& keep_until_exit(std::unique_ptr<T> object) {
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never destroyed either
  T& ref = *object;
  kept->push_back(std::shared_ptr<T>(std::move(object)));
  return ref;
}

} // namespace certdoctor
