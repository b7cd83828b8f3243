# Convolutions with few input channels (runtime/kernels/conv_stem.c): gen_stem_cases.py writes node-test folders
# for the zoo's stems (3 x 3 stride 2, 7 x 7 stride 2, 3 x 3 stride 1) and edge shapes (output channels not a
# multiple of 8, 1 and 2 input channels, odd and 1 x 1 planes, row tails, asymmetric padding, strides 3 and 4,
# dilation, batch 2, every fused activation, a residual Add) with numpy float64 expected outputs; the node-test
# runner checks them on 1, 2 and 3 threads (items of output rows split over the pool).
set(ONNXC_STEM_CASES ${CMAKE_BINARY_DIR}/stem-cases)
add_custom_command(
  OUTPUT ${ONNXC_STEM_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/stemconv/gen_stem_cases.py ${ONNXC_STEM_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/stemconv/gen_stem_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating few-input-channel convolution cases (numpy)")
add_custom_target(stem_case_data ALL DEPENDS ${ONNXC_STEM_CASES}/manifest.txt)
foreach(t 1 2 3)
  add_test(NAME stemconv_cases_t${t}
    COMMAND onnxc_node_tests --data ${ONNXC_STEM_CASES} --manifest ${ONNXC_STEM_CASES}/manifest.txt --threads ${t})
endforeach()
