# The layer rule on the sources (with a self-test that the check can fail) and the shared library's exports.
add_test(NAME layers_includes
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/layers/check_layers.py ${CMAKE_SOURCE_DIR})
add_test(NAME layers_selftest COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/layers/check_layers.py --self-test)
add_test(NAME layers_exports
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/layers/check_exports.py $<TARGET_FILE:onnxc_shared>
          ${CMAKE_SOURCE_DIR}/include/onnxc/onnxc.h)
