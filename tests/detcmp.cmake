# Detection-aware compare / optimize --verify: tests/detcmp/test_detcmp.py builds detection models with onnx.helper
# (constants kept by a score threshold through Compress, so K depends on the data) and checks the CLI's JSON
# against a numpy matcher written from the rule in onnxc.h; verify on models/detect_post_op*.onnx.
foreach(group matching grouping verify)
  add_test(NAME detcmp_${group}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/detcmp/test_detcmp.py ${group})
  set_tests_properties(detcmp_${group} PROPERTIES
    ENVIRONMENT "ONNXC=$<TARGET_FILE:onnxc>;ONNXC_MODELS_DIR=${CMAKE_SOURCE_DIR}/models"
    TIMEOUT 600)
endforeach()
