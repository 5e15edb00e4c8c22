#include <catch2/catch.hpp>

#include "core/password.h"

using namespace pullprint;

TEST_CASE("password hashes verify and are salted") {
  std::string h1 = hashPassword("correct horse", 1000);
  std::string h2 = hashPassword("correct horse", 1000);
  CHECK(h1 != h2);  // different salts
  CHECK(h1.rfind("pbkdf2-sha256$1000$", 0) == 0);
  CHECK(verifyPassword("correct horse", h1));
  CHECK(verifyPassword("correct horse", h2));
  CHECK_FALSE(verifyPassword("correct horsE", h1));
  CHECK_FALSE(verifyPassword("", h1));
}

TEST_CASE("malformed stored hashes never verify") {
  for (const char* bad : {"", "plain", "pbkdf2-sha256$", "pbkdf2-sha256$x$00$00",
                          "pbkdf2-sha256$1000$zz$00", "md5$1$00$00"}) {
    INFO(bad);
    CHECK_FALSE(verifyPassword("x", bad));
  }
}

TEST_CASE("sha256Hex") {
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
