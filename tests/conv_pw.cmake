# Pointwise (1 x 1) convolutions on small planes (runtime/kernels/conv.c, conv_pw_small_run: output positions as
# the rows of sgemm_packb.c's product): gen_pw_cases.py writes node-test folders (7 x 7, 14 x 14, odd and 1-D
# planes, the largest plane of the path and one past it, channels not multiples of 8 / 32, depths past one and two
# blocks, bias, residual, clamp, LeakyRelu / per-channel PRelu, the squeeze-excite gate, NCHW8c in and out, batch
# 2) with numpy float64 expected outputs, run on 1 and on 2 threads.
set(ONNXC_PW_CASES ${CMAKE_BINARY_DIR}/pw-cases)
add_custom_command(
  OUTPUT ${ONNXC_PW_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/conv_pw/gen_pw_cases.py ${ONNXC_PW_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/conv_pw/gen_pw_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating small-plane pointwise convolution cases (numpy)")
add_custom_target(pw_case_data ALL DEPENDS ${ONNXC_PW_CASES}/manifest.txt)
add_test(NAME conv_pw_cases
  COMMAND onnxc_node_tests --data ${ONNXC_PW_CASES} --manifest ${ONNXC_PW_CASES}/manifest.txt)
add_test(NAME conv_pw_cases_threads2
  COMMAND onnxc_node_tests --data ${ONNXC_PW_CASES} --manifest ${ONNXC_PW_CASES}/manifest.txt --threads 2)
