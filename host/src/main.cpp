// cw: the executable. Everything lives in cw_core; main only hands over the arguments and
// returns the exit code the CLI chose (the codes are listed in README.md).
#include <cw/cli/app.hpp>

int main(int argc, char** argv) { return cw::cli::main(argc, argv); }
