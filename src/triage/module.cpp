#include "triage/module.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <mutex>

#include "util/error.hpp"

// Defined by the module, and by programs that link the triage code in (triage_impl_dep); absent
// (null) in the certdoctor program itself, which loads the module instead.
extern "C" const certdoctor::triage::Module* certdoctor_triage_module_v1() __attribute__((weak));

namespace certdoctor::triage {

namespace {

constexpr const char* module_file = "certdoctor-triage.so";
constexpr const char* entry_point = "certdoctor_triage_module_v1";

std::string executable_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  const std::string path(buf, static_cast<std::size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

} // namespace

std::vector<std::string> module_paths() {
  std::vector<std::string> out;
  if (const std::string dir = executable_dir(); !dir.empty()) out.push_back(dir + "/" + module_file);
  out.push_back(std::string(CERTDOCTOR_MODULE_DIR) + "/" + module_file);
  return out;
}

const Module& module() {
  static std::once_flag once;
  static const Module* loaded = nullptr;
  static std::string file, reason;
  std::call_once(once, [] {
    if (certdoctor_triage_module_v1) {
      loaded = certdoctor_triage_module_v1();
      return;
    }
    const auto paths = module_paths();
    for (const auto& path : paths) file += (file.empty() ? "" : " or ") + path;
    reason = "no such file";
    for (const auto& path : paths) {
      if (access(path.c_str(), F_OK) != 0) continue;
      file = path;
      // RTLD_LOCAL: the module's symbols (its own copy of the code it needs) stay its own.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* why = dlerror();
        reason = why ? why : "dlopen failed";
        return;
      }
      auto entry = reinterpret_cast<const Module* (*)()>(dlsym(handle, entry_point));
      if (!entry) {
        reason = std::string("no ") + entry_point + " in it (a module of another certdoctor build?)";
        return;
      }
      loaded = entry();
      return;
    }
  });
  if (!loaded) throw ConfigError(Message{"triage-module", {{"file", file}, {"reason", reason}}});
  return *loaded;
}

} // namespace certdoctor::triage
