# Shape inference (src/infer.c) against onnx.shape_inference.infer_shapes on every node-test model, models/*.onnx,
# the pass regression models, the run-time shape cases and the subgraph models, subgraphs included. By hand, the
# torchvision zoo too: add --extra bench/models-gen.
add_executable(infer_dump ${CMAKE_CURRENT_SOURCE_DIR}/infer/infer_dump.c)
target_include_directories(infer_dump PRIVATE ${ONNXC_INTERNAL_INCLUDES})
target_compile_options(infer_dump PRIVATE ${ONNXC_WARN})
target_link_libraries(infer_dump PRIVATE onnxc_static)
add_test(NAME infer_vs_onnx
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH ${SYSTEM_PYTHON}
    ${CMAKE_CURRENT_SOURCE_DIR}/infer/compare_onnx_infer.py $<TARGET_FILE:infer_dump> ${ONNXC_NODE_TEST_DIR}
    ${CMAKE_SOURCE_DIR}/models --extra ${CMAKE_BINARY_DIR}/pass-models --extra ${CMAKE_BINARY_DIR}/dyn-cases
    --extra ${CMAKE_BINARY_DIR}/subgraph-models --min-compared 1000)
set_tests_properties(infer_vs_onnx PROPERTIES TIMEOUT 600 FIXTURES_REQUIRED "pass_models;subgraph_models")
