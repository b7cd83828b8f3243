# Command-line tests: tests/cli/test_cli.py drives the onnxc binary (usage errors, info --json against counts
# from python's onnx, check on good and broken models, convert round trips, run against node test outputs).

foreach(group usage info check convert run bench details)
  add_test(NAME cli_${group}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli.py ${group})
  set_tests_properties(cli_${group} PROPERTIES
    ENVIRONMENT "ONNXC=$<TARGET_FILE:onnxc>;ONNXC_NODE_TEST_DIR=${ONNXC_NODE_TEST_DIR};ONNXC_MODELS_DIR=${CMAKE_SOURCE_DIR}/models;ONNXC_VERSION=${PROJECT_VERSION}"
    SKIP_RETURN_CODE 77
    TIMEOUT 900)
endforeach()
