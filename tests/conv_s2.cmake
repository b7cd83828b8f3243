# Strided convolutions whose B blocks are filled from the input (runtime/kernels/conv.c: the stride-2 im2col
# fill, the subsampled 1 x 1 copy, several channel blocks per filled B block): gen_s2_cases.py writes node-test
# folders (ResNet's 3 x 3 stride-2 shape, odd planes and rows, wide rows, 5 x 5 / 1 x 13 kernels, dilation,
# asymmetric padding, strides (1, 2), (2, 1), 3, groups, batch 2, 1 x 1 stride 2 and 3, bias, residual, Relu) with
# numpy float64 expected outputs, run on 1 and on 2 threads.
set(ONNXC_S2_CASES ${CMAKE_BINARY_DIR}/s2-cases)
add_custom_command(
  OUTPUT ${ONNXC_S2_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/conv_s2/gen_s2_cases.py ${ONNXC_S2_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/conv_s2/gen_s2_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating strided convolution cases (numpy)")
add_custom_target(s2_case_data ALL DEPENDS ${ONNXC_S2_CASES}/manifest.txt)
add_test(NAME conv_s2_cases
  COMMAND onnxc_node_tests --data ${ONNXC_S2_CASES} --manifest ${ONNXC_S2_CASES}/manifest.txt)
add_test(NAME conv_s2_cases_threads2
  COMMAND onnxc_node_tests --data ${ONNXC_S2_CASES} --manifest ${ONNXC_S2_CASES}/manifest.txt --threads 2)
