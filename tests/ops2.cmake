# Cases of our own for the kernels of runtime/kernels/{einsum,sample,signal,misc2}.c (Einsum equations the node
# tests miss, GridSample's every mode x padding x align_corners, windows in float64, DFT/STFT options, OneHot
# axes and indices, LRN, MVN, ReverseSequence, Det, MaxUnpool), generated with numpy-computed expected outputs
# and run with the node-test runner; every case must pass (the generator writes the manifest). The bad_* models
# must be refused with a message naming the node.
set(ONNXC_OPS2_CASES ${CMAKE_BINARY_DIR}/ops2-cases)
add_custom_command(
  OUTPUT ${ONNXC_OPS2_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ops2/gen_ops2_cases.py ${ONNXC_OPS2_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ops2/gen_ops2_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating einsum/sample/signal/misc2 kernel cases (numpy)")
add_custom_target(ops2_case_data ALL DEPENDS ${ONNXC_OPS2_CASES}/manifest.txt)
add_test(NAME ops2_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_OPS2_CASES} --manifest ${ONNXC_OPS2_CASES}/manifest.txt)
add_test(NAME ops2_einsum_bad_sizes
  COMMAND sh -c "! \"$0\" run \"$1\" 2>\"$2\" && grep -q \"node 'ein_bad' (Einsum): label 'j' has sizes 3 and 4\" \"$2\""
          $<TARGET_FILE:onnxc> ${ONNXC_OPS2_CASES}/bad_einsum_sizes/model.onnx ${ONNXC_OPS2_CASES}/bad_einsum.err)
add_test(NAME ops2_maxunpool_bad_index
  COMMAND sh -c "! \"$0\" run \"$1\" 2>\"$2\" && grep -q \"node 'unpool_bad' (MaxUnpool): index I\\[3\\] = 99 is outside\" \"$2\""
          $<TARGET_FILE:onnxc> ${ONNXC_OPS2_CASES}/bad_maxunpool_index/model.onnx ${ONNXC_OPS2_CASES}/bad_unpool.err)
foreach(bad "bad_einsum_syntax|node 'ein_bad' (Einsum): cannot parse equation 'ij-k'"
            "bad_einsum_dots|node 'ein_bad' (Einsum): cannot parse equation"
            "bad_einsum_terms|node 'ein_bad' (Einsum): equation 'ij->ij' has fewer terms than the 2 operands"
            "bad_einsum_out_letter|node 'ein_bad' (Einsum): output of 'ij,jk->iz' has a letter no operand has"
            "bad_gridsample_grid|node 'gs_bad' (GridSample): grid must be"
            "bad_reversesequence_len|node 'rs_bad' (ReverseSequence): sequence_lens[1] = 9 is outside"
            "bad_dft_axis|node 'dft_bad' (DFT): axis 2 is not a signal dim")
  string(REPLACE "|" ";" parts "${bad}")
  list(GET parts 0 dir)
  list(GET parts 1 msg)
  add_test(NAME ops2_${dir}
    COMMAND sh -c "\"$0\" run \"$1\" 2>\"$2\"; rc=$?; [ $rc -eq 2 ] && [ $(wc -l < \"$2\") -eq 1 ] && grep -qF \"$3\" \"$2\""
            $<TARGET_FILE:onnxc> ${ONNXC_OPS2_CASES}/${dir}/model.onnx ${ONNXC_OPS2_CASES}/${dir}.err "${msg}")
endforeach()
