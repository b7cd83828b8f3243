# The Python package: built with pip from python/ against this build's libonnxc.a into build/python-site (not
# the system's site-packages), then its pytest suite (python/tests) with the CLI of this build. A failure, a
# skip or no test collected fails the test. Not on sanitizer builds (the extension would need the ASan runtime
# preloaded into Python).
if(NOT ONNXC_SANITIZE)
  set(ONNXC_PY_SITE ${CMAKE_BINARY_DIR}/python-site)
  add_test(NAME python_package
           COMMAND ${CMAKE_COMMAND} -E env ONNXC_BUILD_DIR=${CMAKE_BINARY_DIR}
                   ${SYSTEM_PYTHON} -m pip install -q --no-build-isolation --no-index --no-deps --upgrade
                   --target ${ONNXC_PY_SITE} ${CMAKE_SOURCE_DIR}/python)
  set_tests_properties(python_package PROPERTIES TIMEOUT 600 FIXTURES_SETUP python_site)
  add_test(NAME python_pytest
           COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${ONNXC_PY_SITE} ONNXC_CLI=$<TARGET_FILE:onnxc>
                   ${SYSTEM_PYTHON} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/python/tests)
  set_tests_properties(python_pytest PROPERTIES TIMEOUT 900 FIXTURES_REQUIRED python_site)
endif()
