// Job counts: a job's stored ticket (copies, sides, page-ranges, number-up,
// multiple-document-handling) as the analysis module's Ticket, so that
// submission, release (after a printer or policy changed the sides) and
// reports all count impressions and sheets with the same rules
// (docs/accounting.md).
//
// Thread contract: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "spooler/analysis/ticket.h"

namespace pullprint::spooler {

// `sides_override` replaces the job's sides (e.g. what was actually sent).
analysis::Ticket ticketForJob(const Job& job, const std::string& sides_override = "");

}  // namespace pullprint::spooler
