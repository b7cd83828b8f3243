# ONNX node conformance: generate the backend node tests from Debian's python3-onnx into the build tree, then run
# them all in one process against the checked-in manifest of tests that must pass.
add_custom_command(
  OUTPUT ${ONNXC_NODE_TEST_ROOT}/stamp
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/conformance/generate_node_tests.py ${ONNXC_NODE_TEST_ROOT}
  COMMAND ${CMAKE_COMMAND} -E touch ${ONNXC_NODE_TEST_ROOT}/stamp
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/conformance/generate_node_tests.py
  COMMENT "Generating ONNX backend node tests (python3-onnx)")
add_custom_target(onnx_node_test_data ALL DEPENDS ${ONNXC_NODE_TEST_ROOT}/stamp)

add_executable(onnxc_node_tests ${CMAKE_CURRENT_SOURCE_DIR}/conformance/node_tests.c)
target_compile_options(onnxc_node_tests PRIVATE ${ONNXC_WARN})
target_link_libraries(onnxc_node_tests PRIVATE onnxc_static)
add_test(NAME conformance_node_tests
  COMMAND onnxc_node_tests --data ${ONNXC_NODE_TEST_DIR}
          --manifest ${CMAKE_CURRENT_SOURCE_DIR}/conformance/manifest.txt)
