# Run-time shapes and the detection ops (runtime/plan_dynamic.c, runtime/kernels/detect.c): gen_dyn_cases.py
# writes NonZero / Compress / Unique / NonMaxSuppression / RoiAlign cases and detector-style graphs (several
# data sets per model, sizes growing, shrinking and reaching zero) with numpy-computed expected outputs; the
# node-test runner runs each model's data sets on one session. dyn_bad_nms_*: malformed NonMaxSuppression inputs
# are refused with one message naming the node; dyn_bad_if_types: an If whose branches disagree on a type.
set(ONNXC_DYN_CASES ${CMAKE_BINARY_DIR}/dyn-cases)
add_custom_command(
  OUTPUT ${ONNXC_DYN_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/dyn/gen_dyn_cases.py ${ONNXC_DYN_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/dyn/gen_dyn_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating run-time shape and detection op cases (numpy)")
add_custom_target(dyn_case_data ALL DEPENDS ${ONNXC_DYN_CASES}/manifest.txt)
add_test(NAME dyn_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_DYN_CASES} --manifest ${ONNXC_DYN_CASES}/manifest.txt)
foreach(bad
    "boxes_last_dim|boxes must be \\[num_batches, spatial_dimension, 4\\], not 1x6x5"
    "boxes_rank|boxes must be \\[num_batches, spatial_dimension, 4\\], not 6x4"
    "scores_mismatch|scores 1x2x7 do not match boxes 1x6x4"
    "max_out_not_scalar|input 'max_output_boxes_per_class' must hold one value, not 2"
    "iou_out_of_range|iou_threshold 1.5 is outside \\[0, 1\\]")
  string(REPLACE "|" ";" parts "${bad}")
  list(GET parts 0 name)
  list(GET parts 1 msg)
  add_test(NAME dyn_bad_nms_${name}
    COMMAND sh -c "\"$0\" run \"$1\" 2>\"$2\"; rc=$?; [ $rc -eq 2 ] && head -n 1 \"$2\" | grep -q \"^onnxc: node 'nms' (NonMaxSuppression): $3\""
            $<TARGET_FILE:onnxc> ${ONNXC_DYN_CASES}/bad_nms_${name}/model.onnx ${ONNXC_DYN_CASES}/bad_nms_${name}.err
            "${msg}")
endforeach()
add_test(NAME dyn_bad_if_types
  COMMAND sh -c "\"$0\" run \"$1\" 2>\"$2\"; rc=$?; [ $rc -eq 2 ] && head -n 1 \"$2\" | grep -q \"^onnxc: node 'if' (If): output 0 is float in then_branch and int64 in else_branch\""
          $<TARGET_FILE:onnxc> ${ONNXC_DYN_CASES}/bad_if_types/model.onnx ${ONNXC_DYN_CASES}/bad_if_types.err)
