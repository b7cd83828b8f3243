# swap-norm --calibrate (issue 19): tests/calibrate/test_calibrate.py on models/shapes_cnn.onnx, trained in PyTorch by
# models/author_shapes_cnn.py (held-out accuracy, also on a second truth model models/shapes_plain_cnn.onnx, PyTorch
# nn.GroupNorm truth, the head refit against numpy, bad calibration data, the --report page read by html.parser and
# rendered by headless Chromium).
foreach(group accuracy accuracy_plain torch head act badinput report report_chromium)
  add_test(NAME calibrate_${group}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/calibrate/test_calibrate.py ${group} $<TARGET_FILE:onnxc>
            ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/calibrate-work)
  set_tests_properties(calibrate_${group} PROPERTIES TIMEOUT 600)
endforeach()
# the --report page in headless Chromium (Debian's chromium, installed by .ci/setup); absent, the test skips
set_tests_properties(calibrate_report_chromium PROPERTIES SKIP_RETURN_CODE 77)
