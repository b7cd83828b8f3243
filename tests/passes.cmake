# Graph passes: regression models built with onnx.helper at test time, optimized with the CLI, asserted on the
# resulting graph and on outputs against the original.
add_test(NAME passes_make_models
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/passes/make_models.py ${CMAKE_BINARY_DIR}/pass-models)
set_tests_properties(passes_make_models PROPERTIES FIXTURES_SETUP pass_models)
add_test(NAME passes_regressions
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/passes/test_passes.py $<TARGET_FILE:onnxc>
          ${CMAKE_BINARY_DIR}/pass-models ${CMAKE_BINARY_DIR}/pass-work)
set_tests_properties(passes_regressions PROPERTIES FIXTURES_REQUIRED pass_models)
