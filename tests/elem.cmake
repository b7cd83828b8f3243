# Extra node-test folders for the element-wise, reduction and softmax kernels (broadcast combinations, opset-18
# Reduce* axes inputs, ties, casts, large threaded cases), generated with numpy-computed expected outputs and run
# with the node-test runner; every generated case must pass (the generator writes the manifest).
set(ONNXC_ELEM_CASES ${CMAKE_BINARY_DIR}/elem-cases)
add_custom_command(
  OUTPUT ${ONNXC_ELEM_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/elem/gen_elem_cases.py ${ONNXC_ELEM_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/elem/gen_elem_cases.py
  COMMENT "Generating element-wise/reduction kernel cases (numpy)")
add_custom_target(elem_case_data ALL DEPENDS ${ONNXC_ELEM_CASES}/manifest.txt)
add_test(NAME elem_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_ELEM_CASES} --manifest ${ONNXC_ELEM_CASES}/manifest.txt)
