// Decides one request with the installed ethos library and prints the typed
// answer: the outcome, each reason with its citations, the obligations.
//
//   embed <policy dir> <request.json>
//
// Exit 0 on permit, 2 on deny, 3 on escalate (as `ethos eval --exit-code`),
// 1 when the policy or the request is bad.
#include <ethos/api/engine.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: embed <policy dir> <request.json>\n";
    return 64;
  }
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << "embed: cannot read " << argv[2] << "\n";
    return 1;
  }
  std::stringstream request;
  request << in.rdbuf();
  try {
    const auto engine = ethos::api::Engine::load({argv[1]});
    const ethos::api::Decision d = engine.evaluate(request.str());
    std::cout << "outcome: " << ethos::outcome_name(d.outcome) << "\n";
    for (const auto& r : d.reasons) {
      std::cout << "reason: " << r.rule << " [" << ethos::effect_name(r.effect) << "]";
      for (const auto& c : r.citations) std::cout << " cite: " << c << ";";
      std::cout << "\n";
    }
    for (const auto& o : d.obligations) std::cout << "obligation: " << o.id << "\n";
    for (const auto& m : d.missing_facts) std::cout << "missing: " << m << "\n";
    switch (d.outcome) {
      case ethos::Outcome::kPermit:
        return 0;
      case ethos::Outcome::kDeny:
        return 2;
      case ethos::Outcome::kEscalate:
        return 3;
    }
  } catch (const ethos::api::PolicyError& e) {
    std::cerr << e.what();
  } catch (const ethos::api::RequestError& e) {
    std::cerr << "embed: the request does not fit the schema at " << e.path() << ": " << e.what()
              << "\n";
  }
  return 1;
}
