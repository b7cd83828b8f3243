# Cases of our own for the kernels of runtime/kernels/misc.c (TopK ties and axes, CumSum modes, DepthToSpace /
# SpaceToDepth, Trilu, EyeLike, IsNaN, IsInf, Shrink),
# generated with numpy-computed expected outputs and run with the node-test runner; every case must
# pass (the generator writes the manifest). ops_topk_k_too_large: a TopK whose K exceeds its axis is refused with
# a message naming the node.
set(ONNXC_OPS_CASES ${CMAKE_BINARY_DIR}/ops-cases)
add_custom_command(
  OUTPUT ${ONNXC_OPS_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ops/gen_ops_cases.py ${ONNXC_OPS_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ops/gen_ops_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating misc.c kernel cases (numpy)")
add_custom_target(ops_case_data ALL DEPENDS ${ONNXC_OPS_CASES}/manifest.txt)
add_test(NAME ops_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_OPS_CASES} --manifest ${ONNXC_OPS_CASES}/manifest.txt)
add_test(NAME ops_topk_k_too_large
  COMMAND sh -c "! \"$0\" run \"$1\" 2>\"$2\" && grep -q \"node 'topk_big' (TopK): K = 7 is out of range for axis 1 of size 5\" \"$2\""
          $<TARGET_FILE:onnxc> ${ONNXC_OPS_CASES}/bad_topk_k/model.onnx ${CMAKE_BINARY_DIR}/ops-cases/bad_topk_k.err)
