# The warnings every target of the project compiles with (core, app, plugins, tests,
# fixtures, benchmarks, fuzz targets): included once from the top-level CMakeLists before
# any target, so no target can be added without them. The build is kept free of them
# (`cmake --build build 2>&1 | grep warning:` prints nothing); -Werror is left off so that a
# newer compiler's new warning does not break a user's build. Out-of-tree plugins get the
# same flags from asaflow_add_plugin.
set(ASAFLOW_WARNING_FLAGS -Wall -Wextra)
add_compile_options(${ASAFLOW_WARNING_FLAGS})
