# One-pass normalization statistics (runtime/kernels/norm.c): gen_norm_cases.py writes InstanceNormalization,
# GroupNormalization and LayerNormalization cases (data far from zero with a tiny epsilon, constant planes,
# lengths off the 8 lanes) with numpy float64 expected outputs; the node-test runner checks them.
set(ONNXC_NORM1_CASES ${CMAKE_BINARY_DIR}/norm1-cases)
add_custom_command(
  OUTPUT ${ONNXC_NORM1_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/norm1/gen_norm_cases.py ${ONNXC_NORM1_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/norm1/gen_norm_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating one-pass normalization cases (numpy)")
add_custom_target(norm1_case_data ALL DEPENDS ${ONNXC_NORM1_CASES}/manifest.txt)
add_test(NAME norm_one_pass_cases
  COMMAND onnxc_node_tests --data ${ONNXC_NORM1_CASES} --manifest ${ONNXC_NORM1_CASES}/manifest.txt)
