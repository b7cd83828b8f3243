# Passes inside subgraphs (If / Loop / Scan bodies, nested ones), `info` per subgraph and `check` on nested
# problems: models built with onnx.helper by the script, the resulting graphs asserted, outputs before and after
# compared in onnxc's executor (If) and, in subgraph_passes_ort, in ONNX Runtime (bench/ort_run.js; Loop too;
# skipped where node or bench/node_modules is missing, as in CI).
add_test(NAME subgraph_passes
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/subgraphs/test_subgraph_passes.py $<TARGET_FILE:onnxc>
          ${CMAKE_BINARY_DIR}/subgraph-passes)
add_test(NAME subgraph_passes_ort
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/subgraphs/test_subgraph_passes.py $<TARGET_FILE:onnxc>
          ${CMAKE_BINARY_DIR}/subgraph-passes-ort --ort ${CMAKE_SOURCE_DIR})
set_tests_properties(subgraph_passes_ort PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME subgraph_models
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/subgraphs/test_subgraph_passes.py $<TARGET_FILE:onnxc>
          ${CMAKE_BINARY_DIR}/subgraph-models --models-only)
set_tests_properties(subgraph_models PROPERTIES FIXTURES_SETUP subgraph_models)
