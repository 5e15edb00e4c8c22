// docs/openapi.json describes exactly the routes the server dispatches:
// Api::routes() (the table Api::handle uses) and the document's
// paths/methods are compared both ways, with each operation's access
// (x-pullprint-access) and its path parameters.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/admin-api/api_fixture.h"

using namespace pullprint;
using namespace pullprint::apitest;
using nlohmann::json;

namespace {

json loadOpenApi() {
  std::ifstream in(PULLPRINT_OPENAPI_PATH);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE("docs/openapi.json matches the route table both ways", "[api][openapi]") {
  ApiFixture fx;
  json doc = loadOpenApi();
  REQUIRE(doc["openapi"].is_string());
  CHECK(doc["openapi"].get<std::string>().rfind("3.0", 0) == 0);
  REQUIRE(doc["paths"].is_object());

  std::map<std::string, std::string> routes;  // "METHOD path" -> access
  for (const auto& r : fx.api->routes()) {
    auto [it, fresh] = routes.emplace(r.method + " " + r.path, r.access);
    CHECK(fresh);  // no route twice
  }
  REQUIRE(routes.size() > 40);

  std::map<std::string, std::string> documented;
  const std::set<std::string> verbs = {"get", "post", "put", "delete", "patch"};
  for (auto& [path, item] : doc["paths"].items()) {
    for (auto& [verb, op] : item.items()) {
      if (!verbs.count(verb)) continue;
      std::string key = upper(verb) + " " + path;
      INFO(key);
      CHECK(op.contains("summary"));
      CHECK(op.contains("responses"));
      REQUIRE(op.contains("x-pullprint-access"));
      documented[key] = op["x-pullprint-access"].get<std::string>();
      // Every {param} of the template is a declared path parameter.
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array()))
        if (p["in"] == "path") declared.insert(p["name"].get<std::string>());
      for (const auto& p : item.value("parameters", json::array()))
        if (p["in"] == "path") declared.insert(p["name"].get<std::string>());
      std::regex param("\\{([a-z_]+)\\}");
      std::set<std::string> inPath;
      for (std::sregex_iterator m(path.begin(), path.end(), param), e; m != e; ++m)
        inPath.insert((*m)[1]);
      CHECK(declared == inPath);
      // Authenticated operations document 401; restricted ones 403.
      const std::string access = op["x-pullprint-access"];
      if (access != "public" && access != "station") CHECK(op["responses"].contains("401"));
      if (access == "admin" || access == "admin,sustainability")
        CHECK(op["responses"].contains("403"));
    }
  }

  for (const auto& [key, access] : routes) {
    INFO("route not in docs/openapi.json: " << key);
    REQUIRE(documented.count(key));
    CHECK(documented[key] == access);
  }
  for (const auto& [key, access] : documented) {
    INFO("documented but not served: " << key);
    CHECK(routes.count(key));
  }
}

TEST_CASE("every route answers: no route in the table falls through to 404", "[api][openapi]") {
  ApiFixture fx;
  for (const auto& r : fx.api->routes()) {
    std::string target = std::regex_replace(r.path, std::regex("\\{[a-z_]+\\}"), "x1");
    INFO(r.method << " " << target);
    Reply rep = fx.call(r.method, target, As::none());
    if (r.access == "public" || r.access == "station" || r.access == "metrics") continue;
    CHECK(rep.status == 401);  // authentication comes first for every other route
  }
}

TEST_CASE("every route: wrong role 403, malformed JSON body 400 with a message", "[api][openapi]") {
  ApiFixture fx;
  json doc = loadOpenApi();
  int roleChecks = 0, bodyChecks = 0;
  for (const auto& r : fx.api->routes()) {
    std::string target = std::regex_replace(r.path, std::regex("\\{[a-z_]+\\}"), "x1");
    std::string verb = r.method;
    for (auto& c : verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    INFO(r.method << " " << target);
    // Wrong role: a plain user on admin routes, a plain user on report routes.
    if (r.access == "admin" || r.access == "admin,sustainability" || r.access == "metrics") {
      Reply rep = fx.call(r.method, target, As::basic("alice"), "", true, "192.0.2.10");
      CHECK(rep.status == 403);
      CHECK_FALSE(rep.error().empty());
      ++roleChecks;
    }
    if (r.access == "admin") {  // a sustainability viewer is not an admin either
      CHECK(fx.call(r.method, target, As::basic("eco")).status == 403);
    }
    // A JSON request body that does not parse: 400 with a message.
    const json& op = doc["paths"][r.path][verb];
    if (r.access != "station" && op.contains("requestBody") &&
        op["requestBody"]["content"].contains("application/json")) {
      Reply rep = fx.call(r.method, target, As::basic("root"), "{\"unterminated\": ");
      CHECK(rep.status == 400);
      CHECK_FALSE(rep.error().empty());
      ++bodyChecks;
    }
  }
  CHECK(roleChecks >= 20);
  CHECK(bodyChecks > 10);
}
