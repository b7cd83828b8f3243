# Models for test_plan_fuse (the activation fusions of the plan), written by tests/fuse/gen_fuse_cases.py with
# PyTorch-computed expected outputs into the build tree.
set(ONNXC_FUSE_CASES ${CMAKE_BINARY_DIR}/fuse-cases)
add_custom_command(
  OUTPUT ${ONNXC_FUSE_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/fuse/gen_fuse_cases.py ${ONNXC_FUSE_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuse/gen_fuse_cases.py
  COMMENT "Generating the plan-fusion cases (PyTorch)")
add_custom_target(fuse_case_data ALL DEPENDS ${ONNXC_FUSE_CASES}/manifest.txt)
add_dependencies(test_plan_fuse fuse_case_data)
