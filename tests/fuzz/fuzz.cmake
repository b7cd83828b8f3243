# libFuzzer targets (-DONNXC_FUZZ=ON with CC=clang, in a build folder of their own: tests/fuzz/run.sh makes one).
foreach(t fuzz_model fuzz_tensor)
  add_executable(${t} ${CMAKE_SOURCE_DIR}/tests/fuzz/${t}.c)
  target_include_directories(${t} PRIVATE ${ONNXC_INTERNAL_INCLUDES})
  target_compile_options(${t} PRIVATE ${ONNXC_WARN})
  target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${t} PRIVATE onnxc_static)
endforeach()
