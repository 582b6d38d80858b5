// asaflow: the command-line host. Parses the command line, prepares the environment
// (BLAS kernel selection must happen before the process starts, so main re-executes
// itself once with it set), and turns errors into exit codes; nothing else does.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "asaflow/error.hpp"
#include "commands.hpp"

namespace {

// OpenBLAS 0.3.21 does not recognise this CPU and falls back to slow generic kernels;
// OPENBLAS_CORETYPE fixes that, but is read only when the library loads. So, once, set it
// and re-execute ourselves. ASAFLOW_NO_REEXEC=1 disables this.
void ensure_blas_environment(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("ASAFLOW_NO_REEXEC")) return;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool avx512 = false, avx2 = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      avx512 = line.find(" avx512f") != std::string::npos;
      avx2 = line.find(" avx2") != std::string::npos;
      break;
    }
  }
  if (!avx512 && !avx2) return;
  ::setenv("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", 1);
  ::setenv("ASAFLOW_NO_REEXEC", "1", 1);
  ::execv("/proc/self/exe", argv);
  // execv failed: carry on with the default kernels.
}

}  // namespace

int main(int argc, char** argv) {
  ensure_blas_environment(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return asaflow::app::dispatch(args);
  } catch (const asaflow::ConfigError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "error: " << d << "\n";
    return int(e.exit_code());
  } catch (const asaflow::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return int(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
