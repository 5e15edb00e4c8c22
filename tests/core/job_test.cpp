#include <catch2/catch.hpp>

#include "core/job.h"

using namespace pullprint;

TEST_CASE("job state names round-trip") {
  for (int i = 0; i <= static_cast<int>(JobState::kExpired); ++i) {
    auto s = static_cast<JobState>(i);
    CHECK(parseJobState(jobStateName(s)) == s);
  }
  CHECK_FALSE(parseJobState("nonsense").has_value());
}

TEST_CASE("transition table") {
  using S = JobState;
  CHECK(canTransition(S::kReceiving, S::kHeld));
  CHECK(canTransition(S::kHeld, S::kPending));
  CHECK(canTransition(S::kHeld, S::kCanceled));
  CHECK(canTransition(S::kHeld, S::kExpired));
  CHECK(canTransition(S::kPrinting, S::kHeld));  // printer failed: back on hold
  CHECK_FALSE(canTransition(S::kHeld, S::kCompleted));
  CHECK_FALSE(canTransition(S::kReceiving, S::kPrinting));
  for (S terminal : {S::kCompleted, S::kCanceled, S::kAborted, S::kExpired}) {
    CHECK(isTerminal(terminal));
    for (int i = 0; i <= static_cast<int>(S::kExpired); ++i)
      CHECK_FALSE(canTransition(terminal, static_cast<S>(i)));
  }
}

TEST_CASE("IPP job-state values (RFC 8011 5.3.7)") {
  CHECK(ippJobState(JobState::kHeld) == 4);
  CHECK(ippJobState(JobState::kPending) == 3);
  CHECK(ippJobState(JobState::kPrinting) == 5);
  CHECK(ippJobState(JobState::kCanceled) == 7);
  CHECK(ippJobState(JobState::kAborted) == 8);
  CHECK(ippJobState(JobState::kCompleted) == 9);
}
