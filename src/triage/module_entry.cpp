// The triage module's entry point: the table of its functions (module.hpp).
#include "triage/module.hpp"

extern "C" __attribute__((visibility("default"))) const certdoctor::triage::Module* certdoctor_triage_module_v1() {
  static const certdoctor::triage::Module table{&certdoctor::triage::AcmeCatalogue::load, &certdoctor::triage::triage,
                                                &certdoctor::triage::compose_reply};
  return &table;
}
