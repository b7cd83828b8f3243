# check reports declared types that disagree with inference, duplicate/wrong-typed/missing attributes, and
# conflicts inference finds, each in one run with --json (models built by the script, messages asserted).
add_test(NAME check_infer
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH ${SYSTEM_PYTHON}
    ${CMAKE_CURRENT_SOURCE_DIR}/check_infer/test_check_infer.py $<TARGET_FILE:onnxc> ${CMAKE_BINARY_DIR}/check-infer-models)
