# `cmake --install`: the module libraries, their public headers under include/driftrec (so
# the repository's own include paths, "pipeline/propagate.hpp", work in a consumer), the
# driftrec executable, and a CMake package exporting driftrec::driftrec (every module) and
# driftrec::<module>. Headers that include hdf5.h are internal and not installed: the
# consumer check in examples/cpp compiles every installed header without HDF5's headers.
include(CMakePackageConfigHelpers)

set(DRIFTREC_INTERNAL_HEADERS_REGEX "/(io/hdf5|io/chunk_read|io/results|matrix_factorization/row_kernels|[a-z_]+/cuda/[a-z_]+)\\.(hpp|cuh)$")

get_property(driftrec_modules GLOBAL PROPERTY DRIFTREC_MODULES)
add_library(driftrec_library INTERFACE)
target_link_libraries(driftrec_library INTERFACE ${driftrec_modules})
set_target_properties(driftrec_library PROPERTIES EXPORT_NAME driftrec)
install(TARGETS driftrec_library EXPORT driftrecTargets)

foreach(module IN LISTS driftrec_modules)
  string(REPLACE "driftrec_" "" folder ${module})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/driftrec/${folder}
    FILES_MATCHING PATTERN "*.hpp" REGEX "${DRIFTREC_INTERNAL_HEADERS_REGEX}" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/core/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/driftrec/core)
install(TARGETS driftrec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/driftrec)
install(EXPORT driftrecTargets NAMESPACE driftrec:: DESTINATION ${config_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/driftrecConfig.cmake.in
  ${PROJECT_BINARY_DIR}/driftrecConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/driftrecConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/driftrecConfig.cmake ${PROJECT_BINARY_DIR}/driftrecConfigVersion.cmake
  DESTINATION ${config_dir})
