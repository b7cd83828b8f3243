# onnxc compare: tests/compare/test_compare.py drives the CLI on models it builds with python's onnx (a weight
# scaled on purpose, a BatchNormalization swapped for the InstanceNormalization decomposition, mismatched
# inputs/outputs) and checks the reported figures against numpy; --reference against PyTorch's saved outputs; the
# --report page with html.parser and in headless Chromium. The metrics' unit test is tests/unit/test_compare.c.
foreach(group optimize weight swap badinput options rounding reference report report_chromium)
  add_test(NAME compare_${group}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/compare/test_compare.py ${group})
  set_tests_properties(compare_${group} PROPERTIES
    ENVIRONMENT "ONNXC=$<TARGET_FILE:onnxc>;ONNXC_MODELS_DIR=${CMAKE_SOURCE_DIR}/models"
    TIMEOUT 900)
endforeach()
# headless Chromium (Debian's chromium, installed by .ci/setup) renders the --report page; absent, the test skips
set_tests_properties(compare_report_chromium PROPERTIES SKIP_RETURN_CODE 77)
