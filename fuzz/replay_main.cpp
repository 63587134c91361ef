// cw_fuzz_replay: runs the fuzz targets without libFuzzer, for `make test` (fuzz_target.hpp).
//
//   cw_fuzz_replay TARGET [--mutations N] [--seed S] PATH...
//
// Every file of every PATH (a file or a folder) is given to TARGET as it is, then N inputs
// made from them by seeded mutations (bytes flipped, set to JSON/YAML syntax characters,
// deleted, repeated, spliced from another seed, cut short). The same seed gives the same
// inputs, so a failure in CI reproduces; the input that failed is written to
// cw-fuzz-failure-<TARGET> in the working folder before the target runs it.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace fs = std::filesystem;

namespace cw::fuzz {

std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> all;
  return all;
}

bool register_target(const char* name, Target target) {
  targets()[name] = target;
  return true;
}

}  // namespace cw::fuzz

namespace {

using Bytes = std::string;

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<Bytes> read_seeds(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(p);
    }
  }
  std::sort(files.begin(), files.end());  // the same order on every machine
  std::vector<Bytes> seeds;
  for (const auto& f : files) seeds.push_back(read_file(f));
  return seeds;
}

// Characters that change what a JSON or YAML parser does next.
constexpr char k_syntax[] = "{}[]\":,'\\-0e.\n\t #&*!|>%@`\x00\xff";

Bytes mutate(const std::vector<Bytes>& seeds, std::mt19937_64& rng) {
  const auto pick = [&rng](std::size_t n) {
    return n == 0 ? std::size_t{0} : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  Bytes b = seeds[pick(seeds.size())];
  const std::size_t rounds = 1 + pick(4);
  for (std::size_t r = 0; r < rounds; ++r) {
    switch (pick(6)) {
      case 0:  // flip a bit
        if (!b.empty()) b[pick(b.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:  // a syntax character in place of a byte
        if (!b.empty()) b[pick(b.size())] = k_syntax[pick(sizeof k_syntax - 1)];
        break;
      case 2: {  // delete a run
        if (b.empty()) break;
        const std::size_t at = pick(b.size());
        b.erase(at, 1 + pick(std::min<std::size_t>(b.size() - at, 64)));
        break;
      }
      case 3: {  // repeat a run (deep nesting, long strings)
        if (b.empty()) break;
        const std::size_t at = pick(b.size());
        const Bytes run = b.substr(at, 1 + pick(16));
        const std::size_t times = 1 + pick(200);
        Bytes more;
        for (std::size_t i = 0; i < times; ++i) more += run;
        b.insert(at, more);
        break;
      }
      case 4: {  // splice a run of another seed
        const Bytes& other = seeds[pick(seeds.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        b.insert(pick(b.size() + 1), other.substr(from, 1 + pick(128)));
        break;
      }
      default:  // cut short
        b.resize(pick(b.size() + 1));
        break;
    }
  }
  return b;
}

int usage() {
  std::cerr << "usage: cw_fuzz_replay TARGET [--mutations N] [--seed S] PATH...\ntargets:";
  for (const auto& [name, target] : cw::fuzz::targets()) std::cerr << ' ' << name;
  std::cerr << '\n';
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string name = argv[1];
  const auto it = cw::fuzz::targets().find(name);
  if (it == cw::fuzz::targets().end()) return usage();
  std::size_t mutations = 1000;
  std::uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--mutations" || a == "--seed") && i + 1 < argc) {
      const auto v = std::strtoull(argv[++i], nullptr, 10);
      (a == "--mutations" ? mutations : seed) = static_cast<std::size_t>(v);
    } else {
      paths.push_back(a);
    }
  }
  const std::vector<Bytes> seeds = read_seeds(paths);
  if (seeds.empty()) {
    std::cerr << "cw_fuzz_replay: no seed files in the paths given\n";
    return 2;
  }
  const fs::path failure = "cw-fuzz-failure-" + name;
  const auto run = [&](const Bytes& input) {
    std::ofstream(failure, std::ios::binary | std::ios::trunc) << input;
    it->second(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  };
  for (const auto& s : seeds) run(s);
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < mutations; ++i) run(mutate(seeds, rng));
  std::error_code ec;
  fs::remove(failure, ec);
  std::cout << "cw_fuzz_replay " << name << ": " << seeds.size() << " seeds and " << mutations
            << " mutations (seed " << seed << "), no failure\n";
  return 0;
}
