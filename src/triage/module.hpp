#pragma once
// The parts of triage that need GMime and GLib (reading mails, the data's patterns, the MIME form
// of a reply) are built as a module of their own, certdoctor-triage.so, which the program loads
// the first time a command needs them (triage, the service's triage, rules lint). Every other
// command starts without GMime, GLib and GObject and the libraries they bring (12 shared
// objects, about a third of what the dynamic loader does before main).
//
// Programs that link the triage code in themselves (the unit tests, the benchmarks) link the
// module's entry point too (triage_impl_dep), and module() uses it without loading anything.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "triage/acme.hpp"
#include "triage/triage.hpp"

namespace certdoctor::triage {

/// An answer to a mail: the fields of its MIME form.
struct Reply {
  std::string from;        // as given (--from)
  std::string to;          // may be ""
  std::string subject;     // decoded, UTF-8
  std::string in_reply_to; // the original's Message-ID without angle brackets, or ""
  std::string references;  // the original's References header, or ""
  std::string text;        // the body, UTF-8
};

/// The message as RFC 5322 text (GMime): UTF-8 subject and body, a new Message-ID in the sender's
/// domain, In-Reply-To and References, Auto-Submitted: auto-replied. Throws UsageError for an
/// address that is not one.
std::string compose_reply(const Reply& reply);

/// What the module offers. The program and the module are built together from one tree, so the
/// table has no version of its own beyond the entry point's name.
struct Module {
  AcmeCatalogue (*load_acme)(const std::vector<std::filesystem::path>& dirs);
  Triage (*triage)(std::string_view bytes, const TriageData& data);
  std::string (*compose_reply)(const Reply& reply);
};

/// The module, loaded at the first call (thread-safe) and kept for the rest of the process.
/// Throws ConfigError naming the file and the fix when it cannot be loaded.
const Module& module();

/// Where the program looks for the module, in order: next to the executable (the build tree),
/// then the library directory it was installed for (fixed at build time).
std::vector<std::string> module_paths();

} // namespace certdoctor::triage
