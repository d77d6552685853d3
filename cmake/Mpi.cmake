# The optional MPI build (mpi/, the driftrec-mpi executable): OpenMPI and the parallel
# HDF5 that Debian installs beside the serial one (libhdf5-openmpi-dev). DRIFTREC_MPI is
# AUTO (build it when both are found), ON (fail without them) or OFF. The serial build does
# not change either way: the parallel HDF5 is only ever seen by the driftrec_mpi_* targets,
# since one binary cannot link two HDF5 libraries.
set(DRIFTREC_MPI AUTO CACHE STRING "Build driftrec-mpi (MPI + parallel HDF5): AUTO, ON or OFF")
set_property(CACHE DRIFTREC_MPI PROPERTY STRINGS AUTO ON OFF)
set(DRIFTREC_HAVE_MPI OFF)
# The sanitizer and fuzzing builds leave it out: OpenMPI's own allocations would be
# reported as leaks, and the fuzzers never reach it.
set(driftrec_mpi_wanted ${DRIFTREC_MPI})
if(DRIFTREC_MPI STREQUAL "AUTO" AND (DRIFTREC_SANITIZE OR DRIFTREC_BUILD_FUZZERS))
  set(driftrec_mpi_wanted OFF)
  message(STATUS "driftrec-mpi: not built in a sanitizer or fuzzing build (DRIFTREC_MPI=ON to force)")
endif()
if(NOT driftrec_mpi_wanted STREQUAL "OFF")
  find_package(MPI COMPONENTS C QUIET)
  find_path(DRIFTREC_PHDF5_INCLUDE_DIR hdf5.h
    PATHS /usr/include/hdf5/openmpi ${DRIFTREC_PHDF5_ROOT}/include NO_DEFAULT_PATH)
  find_library(DRIFTREC_PHDF5_LIBRARY NAMES hdf5
    PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/hdf5/openmpi ${DRIFTREC_PHDF5_ROOT}/lib NO_DEFAULT_PATH)
  set(phdf5_parallel OFF)
  if(DRIFTREC_PHDF5_INCLUDE_DIR AND EXISTS ${DRIFTREC_PHDF5_INCLUDE_DIR}/H5pubconf.h)
    file(STRINGS ${DRIFTREC_PHDF5_INCLUDE_DIR}/H5pubconf.h phdf5_flag REGEX "#define H5_HAVE_PARALLEL 1")
    if(phdf5_flag)
      set(phdf5_parallel ON)
    endif()
  endif()
  if(MPI_C_FOUND AND DRIFTREC_PHDF5_LIBRARY AND phdf5_parallel)
    set(DRIFTREC_HAVE_MPI ON)
    find_program(DRIFTREC_MPIEXEC NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE})
    message(STATUS "driftrec-mpi: MPI ${MPI_C_VERSION}, parallel HDF5 ${DRIFTREC_PHDF5_LIBRARY}")
  elseif(DRIFTREC_MPI STREQUAL "ON")
    message(FATAL_ERROR "DRIFTREC_MPI=ON needs MPI and a parallel HDF5 (Debian: libopenmpi-dev libhdf5-openmpi-dev)")
  else()
    message(STATUS "driftrec-mpi: not built (MPI or a parallel HDF5 not found)")
  endif()
endif()
