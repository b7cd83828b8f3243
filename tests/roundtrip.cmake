# Round-trip suite: every ONNX node-test model (and models/*.onnx) is loaded and saved by onnxc, plainly and with
# external data, and python's onnx checks that the result passes the checker and equals the original proto.
set(ONNXC_NODE_TEST_DIR "${CMAKE_BINARY_DIR}/onnx-node-tests/node" CACHE PATH
    "Folder of ONNX node tests (test_*/model.onnx) for the round-trip and conformance suites")

add_executable(roundtrip_tool ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/roundtrip_tool.c)
target_compile_options(roundtrip_tool PRIVATE ${ONNXC_WARN})
target_link_libraries(roundtrip_tool PRIVATE onnxc_static)

add_test(NAME roundtrip_node_models
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/check_roundtrip.py
    --tool $<TARGET_FILE:roundtrip_tool>
    --work ${CMAKE_BINARY_DIR}/roundtrip-work
    --node-dir ${ONNXC_NODE_TEST_DIR}
    --models-dir ${CMAKE_SOURCE_DIR}/models
    --edge-generator ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/make_edge_models.py)
set_tests_properties(roundtrip_node_models PROPERTIES TIMEOUT 900)
