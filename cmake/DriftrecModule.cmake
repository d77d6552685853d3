# driftrec_module(target): the include directories and install rules every module library
# shares. Sources include headers from the repository root ("graph/csr.hpp"); an installed
# package keeps that layout under <prefix>/include/driftrec, so the same includes work in a
# consumer project. Every module library joins the export set `driftrecTargets`, exported
# as driftrec::<name without the driftrec_ prefix> and gathered by driftrec::driftrec.
function(driftrec_module target)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/driftrec>)
  # A consumer compiles driftrec's headers (Eigen's among them) into its own objects: with
  # another -march, Eigen's alignment (EIGEN_MAX_ALIGN_BYTES: 16 for SSE, 32 for AVX)
  # differs across the boundary and an Eigen object allocated on one side and freed on the
  # other corrupts the heap ("double free or corruption" in the consumer check). So the
  # installed targets carry the instruction set they were built for.
  if(DRIFTREC_ARCH)
    target_compile_options(${target} INTERFACE
      $<INSTALL_INTERFACE:$<$<COMPILE_LANGUAGE:C,CXX>:-march=${DRIFTREC_ARCH}>>)
  endif()
  string(REPLACE "driftrec_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  install(TARGETS ${target} EXPORT driftrecTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set_property(GLOBAL APPEND PROPERTY DRIFTREC_MODULES ${target})
endfunction()
