# Float MaxPool / AveragePool fast paths (runtime/kernels/pool.c): gen_pool_cases.py writes node-test folders for
# the zoo's windows, every tail of a vector of outputs at strides 1 and 2, 1 x 1 and odd planes, asymmetric pads,
# stride 3, count_include_pad, ceil_mode windows past the end, -inf data and batch 2, with numpy float64 expected
# outputs; run on 1 and on 2 threads.
set(ONNXC_POOL_CASES ${CMAKE_BINARY_DIR}/pool-cases)
add_custom_command(
  OUTPUT ${ONNXC_POOL_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/pool/gen_pool_cases.py ${ONNXC_POOL_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/pool/gen_pool_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating pooling cases (numpy)")
add_custom_target(pool_case_data ALL DEPENDS ${ONNXC_POOL_CASES}/manifest.txt)
add_test(NAME pool_fast_cases
  COMMAND onnxc_node_tests --data ${ONNXC_POOL_CASES} --manifest ${ONNXC_POOL_CASES}/manifest.txt)
add_test(NAME pool_fast_cases_threads2
  COMMAND onnxc_node_tests --data ${ONNXC_POOL_CASES} --manifest ${ONNXC_POOL_CASES}/manifest.txt --threads 2)
