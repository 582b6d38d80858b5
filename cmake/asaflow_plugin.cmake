# asaflow_add_plugin(NAME SOURCES ... ENTRY entry.cpp [LIBS ...] [NO_INSTALL])
#
# Builds two things from one plugin folder, in asaflow's tree or against an installed
# asaflow (find_package(asaflow)):
#   asaflow_<NAME>_static  - the components, linkable into tests (no entry symbol)
#   asaflow_<NAME>         - the loadable module: static part + the one exported entry symbol
# Both use hidden visibility (only asaflow_plugin_entry is exported) and position-independent
# code. The build fingerprint (compiler, ABI, asaflow and LibTorch versions) comes from the
# headers: LibTorch appears in it only when the plugin links asaflow's model library.
# The module lands in <build>/plugins (point ASAFLOW_PLUGIN_PATH there, or --plugin-dir)
# and installs to <prefix>/lib/asaflow/plugins, where an asaflow installed in that prefix
# finds it by itself. NO_INSTALL: built for tests only (the template).
function(asaflow_add_plugin NAME)
  cmake_parse_arguments(P "NO_INSTALL" "ENTRY" "SOURCES;LIBS" ${ARGN})
  if(NOT ASAFLOW_PLUGIN_OUTPUT_DIR)
    set(ASAFLOW_PLUGIN_OUTPUT_DIR "${CMAKE_BINARY_DIR}/plugins")
  endif()
  add_library(asaflow_${NAME}_static STATIC ${P_SOURCES})
  target_compile_options(asaflow_${NAME}_static PRIVATE -Wall -Wextra)  # as asaflow's own targets
  target_link_libraries(asaflow_${NAME}_static PUBLIC asaflow::core ${P_LIBS})
  set_target_properties(asaflow_${NAME}_static PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(asaflow_${NAME}_static PUBLIC cxx_std_17)
  add_library(asaflow_${NAME} MODULE ${P_ENTRY})
  target_link_libraries(asaflow_${NAME} PRIVATE asaflow_${NAME}_static)
  set_target_properties(asaflow_${NAME} PROPERTIES
    PREFIX "lib" CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ASAFLOW_PLUGIN_OUTPUT_DIR}"
    INSTALL_RPATH "$ORIGIN/../..")  # <prefix>/lib, where libasaflow_core.so is
  if(NOT P_NO_INSTALL)
    install(TARGETS asaflow_${NAME} LIBRARY DESTINATION lib/asaflow/plugins)
  endif()
endfunction()
