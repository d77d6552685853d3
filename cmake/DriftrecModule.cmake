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
  string(REPLACE "driftrec_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  install(TARGETS ${target} EXPORT driftrecTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set_property(GLOBAL APPEND PROPERTY DRIFTREC_MODULES ${target})
endfunction()
