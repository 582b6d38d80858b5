# asaflow_add_plugin(NAME SOURCES ... ENTRY entry.cpp [LIBS ...])
#
# Builds two things from one plugin folder:
#   asaflow_<NAME>_static  - the components, linkable into tests (no entry symbol)
#   asaflow_<NAME>         - the loadable module: static part + the one exported entry symbol
# Both use hidden visibility; only asaflow_plugin_entry is exported.
function(asaflow_add_plugin NAME)
  cmake_parse_arguments(P "" "ENTRY" "SOURCES;LIBS" ${ARGN})
  add_library(asaflow_${NAME}_static STATIC ${P_SOURCES})
  target_link_libraries(asaflow_${NAME}_static PUBLIC asaflow_core ${P_LIBS})
  set_target_properties(asaflow_${NAME}_static PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  add_library(asaflow_${NAME} MODULE ${P_ENTRY})
  target_link_libraries(asaflow_${NAME} PRIVATE asaflow_${NAME}_static)
  set_target_properties(asaflow_${NAME} PROPERTIES
    PREFIX "lib" CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ASAFLOW_PLUGIN_OUTPUT_DIR}")
  install(TARGETS asaflow_${NAME} LIBRARY DESTINATION lib/asaflow/plugins)
endfunction()
