# The train/eval switch (issue 19): tests/evalmode/test_eval_mode.py on models/train_mode_cnn.onnx, exported by
# PyTorch in TrainingMode.TRAINING (models/author_train_mode.py); truth: PyTorch model.eval() outputs.
add_test(NAME eval_mode
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/evalmode/test_eval_mode.py $<TARGET_FILE:onnxc>
          ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/evalmode-work)
set_tests_properties(eval_mode PROPERTIES TIMEOUT 300)
