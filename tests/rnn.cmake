# Recurrent ops and losses (runtime/kernels/rnn.c, loss.c).
# models_rnn_e2e: the PyTorch-exported LSTM / GRU / RNN models and the CNN + LSTM head of models/MANIFEST_rnn.txt
# (written by models/author_rnn.py with PyTorch's outputs; no torch needed here) within NMSE 1e-10.
add_test(NAME models_rnn_e2e
  COMMAND onnxc_model_tests ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/models/MANIFEST_rnn.txt)
# the same on 2 threads: the two directions of a bidirectional node run side by side
add_test(NAME models_rnn_e2e_threads2
  COMMAND onnxc_model_tests ${CMAKE_SOURCE_DIR}/models ${CMAKE_SOURCE_DIR}/models/MANIFEST_rnn.txt 2)
# optimize --verify on the CNN + LSTM head (a symbolic time dim set with --shape), then compare both files.
add_test(NAME models_rnn_optimize_verify
  COMMAND sh -c "\"$0\" optimize \"$1\" -o \"$2\" --verify --shape N=2 --shape T=32 -q && \"$0\" compare \"$1\" \"$2\" --shape T=32 -q"
          $<TARGET_FILE:onnxc> ${CMAKE_SOURCE_DIR}/models/cnn_lstm_head.onnx ${CMAKE_BINARY_DIR}/cnn_lstm_head.opt.onnx)
# rnn_kernel_cases: LSTM / GRU / RNN forms the ONNX node tests miss (directions, layout 1, sequence_lens, states,
# peepholes, clip, activations, linear_before_reset, absent outputs, double, opset 7) and the losses and
# TfIdfVectorizer in more types and modes, expected outputs from the numpy reference in gen_rnn_cases.py.
set(ONNXC_RNN_CASES ${CMAKE_BINARY_DIR}/rnn-cases)
add_custom_command(
  OUTPUT ${ONNXC_RNN_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/rnn/gen_rnn_cases.py ${ONNXC_RNN_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/rnn/gen_rnn_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating recurrent and loss kernel cases (numpy)")
add_custom_target(rnn_case_data ALL DEPENDS ${ONNXC_RNN_CASES}/manifest.txt)
add_test(NAME rnn_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_RNN_CASES} --manifest ${ONNXC_RNN_CASES}/manifest.txt)
# Refused: weights that disagree with hidden_size, a sequence length past the sequence; one line naming the node.
foreach(bad
    "bad_lstm_w_hidden|node 'lstm_bad' (LSTM): input 'W' has shape \\[1,12,3\\]; expected \\[num_directions=1, 4\\*hidden_size=20, input_size=3\\]"
    "bad_gru_r_hidden|node 'gru_bad' (GRU): input 'R' has shape \\[1,12,3\\]; expected \\[num_directions=1, 3\\*hidden_size=12, hidden_size=4\\]"
    "bad_rnn_seq_len|node 'rnn_long' (RNN): sequence_lens\\[1\\] = 9 is outside \\[0, 4\\]")
  string(FIND "${bad}" "|" bar)
  string(SUBSTRING "${bad}" 0 ${bar} name)
  math(EXPR from "${bar} + 1")
  string(SUBSTRING "${bad}" ${from} -1 msg)
  add_test(NAME rnn_${name}
    COMMAND sh -c "\"$0\" run \"$1\" 2>\"$2\"; rc=$?; [ $rc -eq 2 ] && [ $(wc -l <\"$2\") -eq 1 ] && grep -q \"$3\" \"$2\""
            $<TARGET_FILE:onnxc> ${ONNXC_RNN_CASES}/${name}/model.onnx ${ONNXC_RNN_CASES}/${name}.err "${msg}")
endforeach()
