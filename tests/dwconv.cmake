# Depthwise convolutions of every size (runtime/kernels/conv.c): gen_dw_cases.py writes node-test folders for
# 3 x 3, 5 x 5 and 7 x 7 kernels at strides 1 and 2 (row tails of 1 to 4 vectors, 1 x 1 and odd planes, channel
# counts not a multiple of 8, asymmetric padding, channel multiplier 2, batch 2, a fused Relu; 5 x 5 on plain planes
# through blocked rows with partial channel blocks and the fused activations; the AVX-512 3 x 3 kernels of dwconv3.c:
# rows of 7 and 13 to 56, every last-tile height, strides (1, 2) and (2, 1), residual Add and Clip) with numpy float64
# expected outputs; the node-test runner checks them.
set(ONNXC_DW_CASES ${CMAKE_BINARY_DIR}/dw-cases)
add_custom_command(
  OUTPUT ${ONNXC_DW_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/dwconv/gen_dw_cases.py ${ONNXC_DW_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/dwconv/gen_dw_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating depthwise convolution cases (numpy)")
add_custom_target(dw_case_data ALL DEPENDS ${ONNXC_DW_CASES}/manifest.txt)
add_test(NAME dwconv_cases
  COMMAND onnxc_node_tests --data ${ONNXC_DW_CASES} --manifest ${ONNXC_DW_CASES}/manifest.txt)
