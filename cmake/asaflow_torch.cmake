# Finds LibTorch and sets what the rest of the build uses: TORCH_LIBRARIES, TORCH_CUDA_LIBRARIES
# (empty without CUDA) and ASAFLOW_TORCH_VERSION.
#
# By default through LibTorch's own CMake files (find_package(Torch)). Those files also look for
# the CUDA toolkit, NVTX, cuDNN and nvrtc, and fail when one of them is missing or of another
# version than the one LibTorch was built with, although asaflow calls none of them directly.
# ASAFLOW_TORCH_PACKAGE=<dir> skips them and builds against a torch package directory as it is
# laid out by the Python package (<dir>/include, <dir>/lib; `python3 -c 'import torch, os;
# print(os.path.dirname(torch.__file__))'`): the include directories, the libraries, the C++ ABI
# flag LibTorch was built with, and with libtorch_cuda the CUDA runtime's headers.

set(ASAFLOW_TORCH_PACKAGE "" CACHE PATH
  "Build against this torch package directory without LibTorch's CMake files (README: Building on a CUDA machine)")

function(_asaflow_torch_library var name)
  find_library(${var} ${name} HINTS "${ASAFLOW_TORCH_PACKAGE}/lib" NO_DEFAULT_PATH)
  if(NOT ${var})
    find_library(${var} ${name})  # a distribution's layout: the libraries beside the system's
  endif()
endfunction()

# LibTorch 2.13 and later need C++20 of everything that includes ATen; earlier ones build with
# the project's C++17.
macro(_asaflow_torch_standard)
  if(ASAFLOW_TORCH_VERSION VERSION_GREATER_EQUAL 2.13 AND CMAKE_CXX_STANDARD LESS 20)
    message(STATUS "asaflow: LibTorch ${ASAFLOW_TORCH_VERSION} needs C++20: building as C++20")
    set(CMAKE_CXX_STANDARD 20)
  endif()
endmacro()

if(NOT ASAFLOW_TORCH_PACKAGE)
  find_package(Torch REQUIRED)
  set(ASAFLOW_TORCH_VERSION "${Torch_VERSION}")
  _asaflow_torch_standard()
  return()
endif()

set(_pkg "${ASAFLOW_TORCH_PACKAGE}")
set(_api "${_pkg}/include/torch/csrc/api/include")
if(NOT EXISTS "${_api}/torch/torch.h" OR NOT EXISTS "${_api}/torch/version.h")
  message(FATAL_ERROR "ASAFLOW_TORCH_PACKAGE=${_pkg}: no LibTorch headers there "
    "(expected ${_api}/torch/torch.h); give the directory of the torch Python package")
endif()
set(ASAFLOW_TORCH_VERSION "")
foreach(_part MAJOR MINOR PATCH)
  file(STRINGS "${_api}/torch/version.h" _line REGEX "define TORCH_VERSION_${_part} ")
  string(REGEX REPLACE ".*TORCH_VERSION_${_part} +([0-9]+).*" "\\1" _number "${_line}")
  string(APPEND ASAFLOW_TORCH_VERSION "${_number}.")
endforeach()
string(REGEX REPLACE "\\.$" "" ASAFLOW_TORCH_VERSION "${ASAFLOW_TORCH_VERSION}")
_asaflow_torch_standard()

foreach(_lib torch torch_cpu c10)
  _asaflow_torch_library(ASAFLOW_TORCH_LIB_${_lib} ${_lib})
  if(NOT ASAFLOW_TORCH_LIB_${_lib})
    message(FATAL_ERROR "ASAFLOW_TORCH_PACKAGE=${_pkg}: lib${_lib}.so not found in ${_pkg}/lib")
  endif()
endforeach()

# The C++ ABI must match LibTorch's: read from its CMake files, which set it even where they
# cannot be used as a whole; the compiler's default (the new ABI) otherwise.
set(_abi 1)
set(_config "${_pkg}/share/cmake/Torch/TorchConfig.cmake")
if(EXISTS "${_config}")
  file(STRINGS "${_config}" _abi_line REGEX "_GLIBCXX_USE_CXX11_ABI=[01]")
  if(_abi_line)
    string(REGEX REPLACE ".*_GLIBCXX_USE_CXX11_ABI=([01]).*" "\\1" _abi "${_abi_line}")
  endif()
endif()

add_library(asaflow_torch INTERFACE IMPORTED)
set_target_properties(asaflow_torch PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${_pkg}/include;${_api}"
  INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=${_abi}")
target_link_libraries(asaflow_torch INTERFACE
  ${ASAFLOW_TORCH_LIB_torch} ${ASAFLOW_TORCH_LIB_torch_cpu} ${ASAFLOW_TORCH_LIB_c10})

set(TORCH_CUDA_LIBRARIES "")
_asaflow_torch_library(ASAFLOW_TORCH_LIB_torch_cuda torch_cuda)
_asaflow_torch_library(ASAFLOW_TORCH_LIB_c10_cuda c10_cuda)
if(ASAFLOW_TORCH_LIB_torch_cuda AND ASAFLOW_TORCH_LIB_c10_cuda)
  # LibTorch's CUDA headers include the CUDA runtime's: from a CUDA toolkit, else from the
  # nvidia-cuda-runtime Python package installed beside torch.
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(_cuda_include "${CUDAToolkit_INCLUDE_DIRS}")
  else()
    file(GLOB _cuda_include LIST_DIRECTORIES true
      "${_pkg}/../nvidia/cuda_runtime/include" "${_pkg}/../nvidia/cu*/include")
  endif()
  # Nothing of asaflow calls into libtorch_cuda by name: without --no-as-needed the linker
  # would drop it, and LibTorch would then find no CUDA device at run time.
  target_link_libraries(asaflow_torch INTERFACE
    "-Wl,--no-as-needed,${ASAFLOW_TORCH_LIB_torch_cuda},${ASAFLOW_TORCH_LIB_c10_cuda},--as-needed")
  find_path(ASAFLOW_CUDA_RUNTIME_INCLUDE cuda_runtime_api.h HINTS ${_cuda_include})
  if(ASAFLOW_CUDA_RUNTIME_INCLUDE)
    set_property(TARGET asaflow_torch APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${ASAFLOW_CUDA_RUNTIME_INCLUDE}")
    set(TORCH_CUDA_LIBRARIES "${ASAFLOW_TORCH_LIB_torch_cuda};${ASAFLOW_TORCH_LIB_c10_cuda}")
    message(STATUS "asaflow: LibTorch ${ASAFLOW_TORCH_VERSION} with CUDA from ${_pkg} (CUDA runtime headers in ${ASAFLOW_CUDA_RUNTIME_INCLUDE})")
  else()
    message(WARNING "asaflow: ${_pkg} has libtorch_cuda but no CUDA runtime headers were found "
      "(no CUDA toolkit, no nvidia/cuda_runtime package): CUDA runs eagerly, without CUDA graphs "
      "or the allocator's peak memory")
  endif()
endif()
if(NOT TORCH_CUDA_LIBRARIES)
  message(STATUS "asaflow: LibTorch ${ASAFLOW_TORCH_VERSION} (CPU) from ${_pkg}")
endif()
set(TORCH_LIBRARIES asaflow_torch)
