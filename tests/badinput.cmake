# Bad-input corpus: make_bad_models.py writes broken models into the build folder at test time (fixture), then
# test_badinput loads each and checks for a refusal with a one-line message naming the file and tensor or node.
add_executable(test_badinput ${CMAKE_CURRENT_SOURCE_DIR}/badinput/test_badinput.c)
target_include_directories(test_badinput PRIVATE ${ONNXC_INTERNAL_INCLUDES})
target_compile_options(test_badinput PRIVATE ${ONNXC_WARN})
target_link_libraries(test_badinput PRIVATE onnxc_static PkgConfig::CMOCKA)

set(BADINPUT_DIR ${CMAKE_BINARY_DIR}/badinput-corpus)
add_test(NAME badinput_corpus_generate
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    sh -c "rm -rf '${BADINPUT_DIR}' && '${SYSTEM_PYTHON}' '${CMAKE_CURRENT_SOURCE_DIR}/badinput/make_bad_models.py' '${BADINPUT_DIR}'")
set_tests_properties(badinput_corpus_generate PROPERTIES FIXTURES_SETUP badinput_corpus)

add_test(NAME badinput COMMAND test_badinput ${BADINPUT_DIR})
set_tests_properties(badinput PROPERTIES FIXTURES_REQUIRED badinput_corpus TIMEOUT 300)

# Mutation test: seeded random damage to real models (hand-built edge cases and a few node tests with subgraphs,
# strings and many attribute kinds); no crash, no leak, every refusal a one-line message.
add_executable(mutate_load ${CMAKE_CURRENT_SOURCE_DIR}/badinput/mutate_load.c)
target_include_directories(mutate_load PRIVATE ${ONNXC_INTERNAL_INCLUDES})
target_compile_options(mutate_load PRIVATE ${ONNXC_WARN})
target_link_libraries(mutate_load PRIVATE onnxc_static)
set(MUTATE_SRC ${CMAKE_BINARY_DIR}/badinput-mutate-src)
set(MUTATE_NODE_MODELS "")
foreach(t test_if test_loop11 test_scan9_sum test_conv_with_strides_padding test_batchnorm_example
          test_resize_upsample_scales_linear test_strnormalizer_export_monday_casesensintive_lower test_constant
          test_cast_FLOAT_to_FLOAT16 test_gather_0 test_reshape_negative_dim)
  string(APPEND MUTATE_NODE_MODELS " '${ONNXC_NODE_TEST_DIR}/${t}/model.onnx'")
endforeach()
add_test(NAME badinput_mutations
  COMMAND sh -c "rm -rf '${MUTATE_SRC}' && '${SYSTEM_PYTHON}' '${CMAKE_CURRENT_SOURCE_DIR}/roundtrip/make_edge_models.py' '${MUTATE_SRC}' && exec '$<TARGET_FILE:mutate_load>' 50000 20240601 '${MUTATE_SRC}'/*.onnx ${MUTATE_NODE_MODELS}")
set_tests_properties(badinput_mutations PROPERTIES TIMEOUT 600)
