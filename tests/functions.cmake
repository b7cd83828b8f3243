# Model-local functions (FunctionProto): tests/functions/test_functions.py builds models that call them and checks
# that check, run, optimize and compare see the functions' bodies, against numpy.

add_test(NAME functions_inline
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/functions/test_functions.py)
set_tests_properties(functions_inline PROPERTIES
  ENVIRONMENT "ONNXC=$<TARGET_FILE:onnxc>"
  TIMEOUT 300)
