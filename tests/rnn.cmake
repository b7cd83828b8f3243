# Recurrent ops and losses (runtime/kernels/rnn.c, loss.c).
# models_rnn_e2e: the PyTorch-exported LSTM / GRU / RNN models and the CNN + LSTM head of models/MANIFEST_rnn.txt
# (written by models/author_rnn.py with PyTorch's outputs; no torch needed here) within NMSE 1e-10.
add_test(NAME models_rnn_e2e
  COMMAND onnxc_model_tests ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/models/MANIFEST_rnn.txt)
# optimize --verify on the CNN + LSTM head (a symbolic time dim set with --shape), then compare both files.
add_test(NAME models_rnn_optimize_verify
  COMMAND sh -c "\"$0\" optimize \"$1\" -o \"$2\" --verify --shape N=2 --shape T=32 -q && \"$0\" compare \"$1\" \"$2\" --shape T=32 -q"
          $<TARGET_FILE:onnxc> ${CMAKE_SOURCE_DIR}/models/cnn_lstm_head.onnx ${CMAKE_BINARY_DIR}/cnn_lstm_head.opt.onnx)
