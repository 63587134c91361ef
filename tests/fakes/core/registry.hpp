// Every fake service the sandbox knows, by name, for cw-sandbox and the tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/fake_service.hpp"

namespace cw::fakes {

struct FakeFactory {
  std::string name;
  std::function<std::unique_ptr<FakeService>()> make;
};

// In the order cw-sandbox starts them: servers first, then trackers.
const std::vector<FakeFactory>& all_fakes();
// nullptr when no fake has that name.
std::unique_ptr<FakeService> make_fake(std::string_view name);
std::vector<std::string> fake_names();

}  // namespace cw::fakes
