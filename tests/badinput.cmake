# Bad-input corpus: make_bad_models.py writes broken models into the build folder at test time (fixture), then
# test_badinput loads each and checks for a refusal with a one-line message naming the file and tensor or node.
add_executable(test_badinput ${CMAKE_CURRENT_SOURCE_DIR}/badinput/test_badinput.c)
target_include_directories(test_badinput PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/proto)
target_compile_options(test_badinput PRIVATE ${ONNXC_WARN})
target_link_libraries(test_badinput PRIVATE onnxc_static PkgConfig::CMOCKA)

set(BADINPUT_DIR ${CMAKE_BINARY_DIR}/badinput-corpus)
add_test(NAME badinput_corpus_generate
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    sh -c "rm -rf '${BADINPUT_DIR}' && '${SYSTEM_PYTHON}' '${CMAKE_CURRENT_SOURCE_DIR}/badinput/make_bad_models.py' '${BADINPUT_DIR}'")
set_tests_properties(badinput_corpus_generate PROPERTIES FIXTURES_SETUP badinput_corpus)

add_test(NAME badinput COMMAND test_badinput ${BADINPUT_DIR})
set_tests_properties(badinput PROPERTIES FIXTURES_REQUIRED badinput_corpus TIMEOUT 300)
