# Loop and Scan (runtime/kernels/loop.c): gen_loop_cases.py writes exporter-style Loops (Mask R-CNN paste_masks,
# Keypoint R-CNN heatmaps: a trip count from a Shape, 0 detections giving an empty stack), a carried value that
# grows, a while loop, nested Loops reading values two graphs up, Scan-16 axes/directions and Scan-8, the sequence ops the node tests miss, with
# numpy-computed expected outputs and several data sets per model (one session runs them all). loop_bad_*:
# malformed Loops and Scans are refused with exit 2 and one line naming the node.
set(ONNXC_LOOP_CASES ${CMAKE_BINARY_DIR}/loop-cases)
add_custom_command(
  OUTPUT ${ONNXC_LOOP_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/loop/gen_loop_cases.py ${ONNXC_LOOP_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/loop/gen_loop_cases.py
  COMMENT "Generating Loop and Scan cases (numpy)")
add_custom_target(loop_case_data ALL DEPENDS ${ONNXC_LOOP_CASES}/manifest.txt)
add_test(NAME loop_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_LOOP_CASES} --manifest ${ONNXC_LOOP_CASES}/manifest.txt)
foreach(bad
    "loop_no_trip_no_cond|loop|Loop|has neither a trip count M nor a condition: it would never end"
    "loop_negative_trip|loop|Loop|trip count M is -3: it must not be negative"
    "loop_trip_not_scalar|loop|Loop|trip count M must be one int64, not 2 elements of int64"
    "loop_body_outputs|loop|Loop|body has 1 outputs, the Loop needs 2 (cond, 1 carried, 0 scan)"
    "loop_body_inputs|loop|Loop|body has 1 inputs, the Loop needs 3 (iteration, cond and 1 carried)"
    "loop_type_change|loop|Loop|body output 1 (loop-carried) is int64 in iteration 0, float before"
    "loop_scan_shape_change|loop|Loop|body output 2 (a scan output) is float [8] in iteration 1, float [4] before"
    "scan_lengths|scan|Scan|scan input 1 has 4 entries along axis 0, scan input 0 has 3"
    "sequence_at_range|at|SequenceAt|position 5 is out of range for a sequence of 3")
  string(REPLACE "|" ";" parts "${bad}")
  list(GET parts 0 name)
  list(GET parts 1 node)
  list(GET parts 2 op)
  list(GET parts 3 msg)
  add_test(NAME loop_bad_${name}
    COMMAND sh -c "\"$0\" run \"$1\" 2>\"$2\"; rc=$?; [ $rc -eq 2 ] && [ $(wc -l < \"$2\") -eq 1 ] && grep -qF \"onnxc: node '$3' ($4): $5\" \"$2\""
            $<TARGET_FILE:onnxc> ${ONNXC_LOOP_CASES}/bad_${name}/model.onnx ${ONNXC_LOOP_CASES}/bad_${name}.err
            "${node}" "${op}" "${msg}")
  set_tests_properties(loop_bad_${name} PROPERTIES TIMEOUT 30)
endforeach()
# onnxc run on a sequence output: the items described on its line and written one .npy file each
add_test(NAME loop_cli_sequence_output
  COMMAND sh -c "rm -rf \"$2\" && \"$0\" run \"$1/model.onnx\" --shape x=6x4 --input split=\"$1/test_data_set_0/input_1.pb\" --output-dir \"$2\" | grep -qF 'output rest_out: sequence of 2 items: float [2x4], float [3x4]' && [ -f \"$2/rest_out_0.npy\" ] && [ -f \"$2/rest_out_1.npy\" ]"
          $<TARGET_FILE:onnxc> ${ONNXC_LOOP_CASES}/test_sequence_split_erase_concat ${CMAKE_BINARY_DIR}/loop-cli-seq-out)
