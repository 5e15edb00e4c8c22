#include "spooler/job_counts.h"

#include <nlohmann/json.hpp>

namespace pullprint::spooler {

analysis::Ticket ticketForJob(const Job& job, const std::string& sides_override) {
  analysis::Ticket t;
  t.copies = job.copies;
  t.sides = analysis::parseSides(sides_override.empty() ? job.sides : sides_override)
                .value_or(analysis::Sides::kOneSided);
  auto extra = nlohmann::json::parse(job.ticket_json, nullptr, false);
  if (extra.is_object()) {
    if (extra.contains("number-up") && extra["number-up"].is_number_integer())
      t.number_up = extra["number-up"].get<std::int64_t>();
    if (extra.contains("multiple-document-handling") &&
        extra["multiple-document-handling"].is_string())
      if (auto m = analysis::parseMultipleDocumentHandling(
              extra["multiple-document-handling"].get<std::string>()))
        t.multiple_document_handling = *m;
    if (extra.contains("page-ranges") && extra["page-ranges"].is_array()) {
      for (auto& r : extra["page-ranges"]) {
        if (r.is_array() && r.size() == 2 && r[0].is_number_integer() && r[1].is_number_integer())
          t.page_ranges.push_back({r[0].get<std::int64_t>(), r[1].get<std::int64_t>()});
      }
    }
  }
  return t;
}

}  // namespace pullprint::spooler
