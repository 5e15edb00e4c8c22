#include "core/job.h"

namespace pullprint {

const char* jobStateName(JobState s) {
  switch (s) {
    case JobState::kReceiving:
      return "receiving";
    case JobState::kHeld:
      return "held";
    case JobState::kPending:
      return "pending";
    case JobState::kSending:
      return "sending";
    case JobState::kPrinting:
      return "printing";
    case JobState::kCompleted:
      return "completed";
    case JobState::kCanceled:
      return "canceled";
    case JobState::kAborted:
      return "aborted";
    case JobState::kExpired:
      return "expired";
  }
  return "unknown";
}

std::optional<JobState> parseJobState(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(JobState::kExpired); ++i) {
    auto s = static_cast<JobState>(i);
    if (name == jobStateName(s)) return s;
  }
  return std::nullopt;
}

bool isTerminal(JobState s) {
  return s == JobState::kCompleted || s == JobState::kCanceled || s == JobState::kAborted ||
         s == JobState::kExpired;
}

bool canTransition(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::kReceiving:
      return to == S::kHeld || to == S::kPending || to == S::kAborted || to == S::kCanceled;
    case S::kHeld:
      return to == S::kPending || to == S::kCanceled || to == S::kExpired || to == S::kAborted;
    case S::kPending:
      return to == S::kSending || to == S::kHeld || to == S::kCanceled || to == S::kExpired;
    case S::kSending:
      return to == S::kPrinting || to == S::kHeld || to == S::kAborted || to == S::kCanceled;
    case S::kPrinting:
      return to == S::kCompleted || to == S::kHeld || to == S::kAborted || to == S::kCanceled;
    case S::kCompleted:
    case S::kCanceled:
    case S::kAborted:
    case S::kExpired:
      return false;
  }
  return false;
}

int ippJobState(JobState s) {
  switch (s) {
    case JobState::kReceiving:
      return 4;
    case JobState::kHeld:
      return 4;
    case JobState::kPending:
      return 3;
    case JobState::kSending:
      return 5;
    case JobState::kPrinting:
      return 5;
    case JobState::kCompleted:
      return 9;
    case JobState::kCanceled:
      return 7;
    case JobState::kAborted:
      return 8;
    case JobState::kExpired:
      return 7;
  }
  return 8;
}

}  // namespace pullprint
