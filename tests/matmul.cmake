# Float MatMul / Gemm as the thread pool splits them (runtime/kernels/sgemm_packed.c, oc_sgemm_pool_ep: by rows
# of the output when it has more rows than columns, else by columns): gen_mm_cases.py writes node-test folders
# (ConvNeXt's MLP shapes, sizes either side of the rule, batched A, the fused bias / residual / GELU epilogue,
# Gemm transposes and C) with numpy float64 expected outputs, run on 1 and on 2 threads.
set(ONNXC_MM_CASES ${CMAKE_BINARY_DIR}/mm-cases)
add_custom_command(
  OUTPUT ${ONNXC_MM_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/matmul/gen_mm_cases.py ${ONNXC_MM_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/matmul/gen_mm_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating MatMul / Gemm split cases (numpy)")
add_custom_target(mm_case_data ALL DEPENDS ${ONNXC_MM_CASES}/manifest.txt)
add_test(NAME matmul_split_cases
  COMMAND onnxc_node_tests --data ${ONNXC_MM_CASES} --manifest ${ONNXC_MM_CASES}/manifest.txt)
add_test(NAME matmul_split_cases_threads2
  COMMAND onnxc_node_tests --data ${ONNXC_MM_CASES} --manifest ${ONNXC_MM_CASES}/manifest.txt --threads 2)
