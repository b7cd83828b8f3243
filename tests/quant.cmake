# Cases of our own for the quantized kernels (runtime/kernels/quant.c, qgemm.c): QuantizeLinear /
# DequantizeLinear per tensor and per axis, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger and
# QLinearConv over geometries, zero point and scale layouts and types, with numpy-computed expected outputs,
# run with the node-test runner (exact compare of integer outputs); every case must pass. quant_bad_*: models
# refused with a one-line message naming the node (or the tensor, for a zero point the type cannot hold).
set(ONNXC_QUANT_CASES ${CMAKE_BINARY_DIR}/quant-cases)
add_custom_command(
  OUTPUT ${ONNXC_QUANT_CASES}/manifest.txt
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/quant/gen_quant_cases.py ${ONNXC_QUANT_CASES}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/quant/gen_quant_cases.py ${CMAKE_CURRENT_SOURCE_DIR}/casegen.py
  COMMENT "Generating quantized kernel cases (numpy)")
add_custom_target(quant_case_data ALL DEPENDS ${ONNXC_QUANT_CASES}/manifest.txt)
add_test(NAME quant_kernel_cases
  COMMAND onnxc_node_tests --data ${ONNXC_QUANT_CASES} --manifest ${ONNXC_QUANT_CASES}/manifest.txt)
foreach(pair
    "bad_zero_scale|node 'q_zero' (QuantizeLinear): y_scale\\[0\\] is 0; a scale must be finite and non-zero"
    "bad_zp_type|node 'dq_type' (DequantizeLinear): x_zero_point is int8; expected uint8"
    "bad_zp_range|initializer 'zp': int32_data\\[0\\] = 300 is outside the range of uint8"
    "bad_conv_type|node 'ci_float' (ConvInteger): input x is float; expected int8 or uint8"
    "bad_dq_int32_zp|node 'dq_i32' (DequantizeLinear): x_zero_point\\[0\\] is 2; an int32 zero point must be 0"
    "bad_axis_len|node 'q_axis' (QuantizeLinear): y_scale of shape .* must be a scalar or 1-D of 3 values")
  string(REPLACE "|" ";" parts "${pair}")
  list(GET parts 0 case)
  list(GET parts 1 msg)
  add_test(NAME quant_${case}
    COMMAND sh -c "! \"$0\" run \"$1\" >/dev/null 2>\"$2\" && test $(wc -l <\"$2\") -eq 1 && grep -q \"$3\" \"$2\""
            $<TARGET_FILE:onnxc> ${ONNXC_QUANT_CASES}/${case}/model.onnx ${ONNXC_QUANT_CASES}/${case}.err "${msg}")
endforeach()
# The quantized models of models/quant against ONNX Runtime's saved outputs (bit for bit where the ops are
# integer-exact), compare --reference, optimize --verify, BN folding on the QDQ model skipped with the reason, and
# the larger kernel cases on 2 threads.
add_test(NAME quant_models
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH
    ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/quant/test_quant_models.py $<TARGET_FILE:onnxc>
    ${CMAKE_SOURCE_DIR}/models ${CMAKE_BINARY_DIR}/quant-models ${ONNXC_QUANT_CASES})
