# float16 / bfloat16: the CNN of models/fp16 (models/author_fp16.py) against PyTorch's outputs within a stated
# bound, with 1 and 2 threads, optimize --verify and compare on it, fold-bn refusals (overflow, underflow), bad
# input (a short float16 initializer, an Add of float16 and float), and ONNX Runtime on what we write when
# node and onnxruntime-node are present (tests/fp16/test_fp16_models.py).
add_test(NAME fp16_models
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/fp16/test_fp16_models.py $<TARGET_FILE:onnxc>
    ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/fp16-models)
