# swap-norm (issue 5): tests/swapnorm/test_swapnorm.py drives `onnxc swap-norm` on the models of models/ and on
# models it builds with onnx.helper; one CTest test per group (see the script's docstring). The PyTorch truth
# (nn.GroupNorm outputs) is committed under models/expected/swapnorm_small/ by models/author_models.py.
foreach(group models truth formula opset cli compare)
  add_test(NAME swapnorm_${group}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/swapnorm/test_swapnorm.py ${group} $<TARGET_FILE:onnxc>
            ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/swapnorm-work)
  set_tests_properties(swapnorm_${group} PROPERTIES TIMEOUT 600)
endforeach()

# The swap under allocation failures (every k-th allocation fails in turn): statuses, never crashes, and a graph
# that stays consistent.
add_executable(test_swap_norm_oom ${CMAKE_CURRENT_SOURCE_DIR}/swapnorm/test_swap_norm_oom.c)
target_include_directories(test_swap_norm_oom PRIVATE ${ONNXC_INTERNAL_INCLUDES})
target_compile_options(test_swap_norm_oom PRIVATE ${ONNXC_WARN})
target_link_libraries(test_swap_norm_oom PRIVATE onnxc_static PkgConfig::CMOCKA)
add_test(NAME swapnorm_oom COMMAND test_swap_norm_oom ${CMAKE_SOURCE_DIR}/models)
set_tests_properties(swapnorm_oom PROPERTIES TIMEOUT 600)
