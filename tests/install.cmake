# The installable library: install into a fresh prefix, build a C program against it with pkg-config and with
# find_package(onnxc), run it (tests/install/test_install.sh). Not on sanitizer builds: the consumer is built
# without the sanitizer runtime.
if(NOT ONNXC_SANITIZE)
  add_test(NAME install_consumer
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/install-test)
  set_tests_properties(install_consumer PROPERTIES TIMEOUT 600)
endif()

# A portable build (-DONNXC_NATIVE=OFF) holds no instruction beyond baseline x86-64 (SSE2).
if(NOT ONNXC_NATIVE AND NOT CMAKE_C_FLAGS MATCHES "-march" AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_test(NAME isa_baseline COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install/check_isa.sh $<TARGET_FILE:onnxc_shared>)
endif()
