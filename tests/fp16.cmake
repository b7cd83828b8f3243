# float16 / bfloat16: the CNN of models/fp16 (models/author_fp16.py) against PyTorch's outputs within a stated
# bound, with 1 and 2 threads, optimize --verify and compare on it, fold-bn refusals (overflow, underflow), bad
# input (a short float16 initializer, an Add of float16 and float), and ONNX Runtime on what we write when
# node and onnxruntime-node are present (tests/fp16/test_fp16_models.py).
add_test(NAME fp16_models
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/fp16/test_fp16_models.py $<TARGET_FILE:onnxc>
    ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/fp16-models)

# fp16_node_ops: ONNX node tests of the CNN path's kernels (Conv, ConvTranspose, Gemm, MatMul, pools, norms,
# Softmax, reductions, elementwise, Resize, shape ops) converted to float16 and bfloat16, against the float32
# expected outputs within 8 units of the type's rounding (tests/fp16/test_fp16_node_ops.py).
add_test(NAME fp16_node_ops
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/fp16/test_fp16_node_ops.py $<TARGET_FILE:onnxc>
    ${ONNXC_NODE_TEST_DIR} ${CMAKE_BINARY_DIR}/fp16-node-ops)
