# Round-trip suite: every ONNX node-test model (and models/*.onnx) is loaded and saved by onnxc, plainly and with
# external data, and python's onnx checks that the result passes the checker and equals the original proto.
# Edge models with fields newer than onnx 1.12 must come back byte for byte, also through `onnxc convert`; a model
# with a sparse initializer must pass `onnxc check` and be refused by `onnxc run` with a one-line message.

add_executable(roundtrip_tool ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/roundtrip_tool.c)
target_compile_options(roundtrip_tool PRIVATE ${ONNXC_WARN})
target_link_libraries(roundtrip_tool PRIVATE onnxc_static)

add_test(NAME roundtrip_node_models
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/check_roundtrip.py
    --tool $<TARGET_FILE:roundtrip_tool>
    --work ${CMAKE_BINARY_DIR}/roundtrip-work
    --node-dir ${ONNXC_NODE_TEST_DIR}
    --models-dir ${CMAKE_SOURCE_DIR}/models
    --edge-generator ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/make_edge_models.py
    --onnxc $<TARGET_FILE:onnxc>)
set_tests_properties(roundtrip_node_models PROPERTIES TIMEOUT 900)

# Tensor files: every node-test input/output .pb read by onnxc and written back as .npy and .pb, checked by numpy/onnx.
add_executable(tensor_files_tool ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/tensor_files_tool.c)
target_compile_options(tensor_files_tool PRIVATE ${ONNXC_WARN})
target_link_libraries(tensor_files_tool PRIVATE onnxc_static)
add_test(NAME roundtrip_tensor_files
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/check_tensor_files.py
    --tool $<TARGET_FILE:tensor_files_tool>
    --work ${CMAKE_BINARY_DIR}/tensor-files-work
    --node-dir ${ONNXC_NODE_TEST_DIR})
set_tests_properties(roundtrip_tensor_files PROPERTIES TIMEOUT 900)
