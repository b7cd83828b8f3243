# End-to-end model test: every case of models/MANIFEST.txt (written by models/author_models.py) is run and its
# outputs compared with the PyTorch-computed expectations by NMSE.
add_executable(onnxc_model_tests ${CMAKE_CURRENT_SOURCE_DIR}/models/test_models.c)
target_compile_options(onnxc_model_tests PRIVATE ${ONNXC_WARN})
target_link_libraries(onnxc_model_tests PRIVATE onnxc_static m)
add_test(NAME models_e2e
  COMMAND onnxc_model_tests ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/models/MANIFEST.txt)
