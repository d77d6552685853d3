# The optional CUDA backends (propagation/cuda, matrix_factorization/cuda).
# DRIFTREC_CUDA: AUTO (the default) builds them when the CUDA toolkit is found, ON requires
# it, OFF never builds them. Without them every target builds as before, the "cuda"
# backends are still registered and report "this build has no CUDA", and the CUDA tests
# are reported as skipped.
#
# The toolkit is looked for where find_package(CUDAToolkit) looks (nvcc on PATH,
# CUDAToolkit_ROOT) and then in /usr/local/cuda, where our machine image and CI keep it
# without putting it on PATH. nvcc compiles only the kernel files (*.cu, no project
# headers), with the C++ compiler as its host compiler (g++ 12 with nvcc 13 here), for
# sm_90 (H200) plus compute_80 PTX that the driver compiles for any newer GPU: two targets
# keep the compile time of CI modest. Override with -DCMAKE_CUDA_ARCHITECTURES=...
# The sanitizer and fuzzer builds leave CUDA out under AUTO (ASan and the CUDA runtime
# need special settings to share an address space).
set(DRIFTREC_CUDA AUTO CACHE STRING "Build the CUDA backends: AUTO (when the toolkit is found), ON (required) or OFF")
set_property(CACHE DRIFTREC_CUDA PROPERTY STRINGS AUTO ON OFF)
set(DRIFTREC_HAVE_CUDA OFF)
string(TOUPPER "${DRIFTREC_CUDA}" driftrec_cuda_mode)
if(driftrec_cuda_mode STREQUAL "AUTO" AND (DRIFTREC_SANITIZE OR DRIFTREC_BUILD_FUZZERS))
  message(STATUS "driftrec: CUDA left out of the sanitizer/fuzzer build (DRIFTREC_CUDA=ON forces it)")
elseif(NOT driftrec_cuda_mode STREQUAL "OFF")
  if(NOT DEFINED CUDAToolkit_ROOT AND NOT DEFINED ENV{CUDAToolkit_ROOT} AND EXISTS /usr/local/cuda/bin/nvcc)
    find_program(driftrec_nvcc_on_path nvcc)
    if(NOT driftrec_nvcc_on_path)
      set(CUDAToolkit_ROOT /usr/local/cuda)
    endif()
  endif()
  find_package(CUDAToolkit)
  if(CUDAToolkit_FOUND)
    if(NOT CMAKE_CUDA_COMPILER)
      set(CMAKE_CUDA_COMPILER ${CUDAToolkit_NVCC_EXECUTABLE})
    endif()
    if(NOT CMAKE_CUDA_HOST_COMPILER)
      set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
    endif()
    if(NOT CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "90-real;80-virtual")
    endif()
    if(NOT CMAKE_CUDA_COMPILER_LAUNCHER AND CMAKE_CXX_COMPILER_LAUNCHER)
      set(CMAKE_CUDA_COMPILER_LAUNCHER ${CMAKE_CXX_COMPILER_LAUNCHER})
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(DRIFTREC_HAVE_CUDA ON)
    # Installed programs (and the Python module) find libcudart where it was linked, outside
    # the loader's default paths. cuSPARSE, cuBLAS and cuSOLVER are not linked but dlopen'd
    # by their full paths at first use (core/cuda/shared_library.hpp says why).
    set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)
    message(STATUS "driftrec: CUDA backends ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(driftrec_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "DRIFTREC_CUDA=ON but no CUDA toolkit was found; set CUDAToolkit_ROOT or put nvcc on PATH")
  else()
    message(STATUS "driftrec: no CUDA toolkit found; CUDA backends OFF")
  endif()
endif()

# driftrec_cuda_dlopen(target lib...): `target` loads the CUDA libraries `lib` (cusparse,
# cublas, ...) with dlopen at first use instead of linking them (core/cuda/shared_library.hpp):
# it gets their headers, and DRIFTREC_<LIB>_LIBRARY (the file found here, a full path) and
# DRIFTREC_<LIB>_SONAME (libcusparse.so.12, tried when that file is gone) to open.
function(driftrec_cuda_dlopen target)
  target_link_libraries(${target} PUBLIC CUDA::toolkit ${CMAKE_DL_LIBS})
  foreach(lib IN LISTS ARGN)
    file(REAL_PATH "${CUDA_${lib}_LIBRARY}" real)
    get_filename_component(file "${real}" NAME)
    string(REGEX REPLACE "^(lib${lib}\\.so\\.[0-9]+).*$" "\\1" soname "${file}")
    string(TOUPPER ${lib} upper)
    target_compile_definitions(${target} PRIVATE DRIFTREC_${upper}_LIBRARY="${real}" DRIFTREC_${upper}_SONAME="${soname}")
  endforeach()
endfunction()
