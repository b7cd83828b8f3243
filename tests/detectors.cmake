# Complete torchvision detectors (models/author_detectors.py: the small ones in models/det_*.onnx with PyTorch's
# detections in models/expected/det_*): `onnxc run` matched against PyTorch by label and box IoU, then
# `optimize --verify` (node count must not grow, every BatchNormalization folded) and its result matched again,
# then `swap-norm --to group` and a run of the swapped model. numpy only. Mask R-CNN and Keypoint R-CNN hold a
# Loop (mask pasting, keypoint decoding), run by runtime/kernels/loop.c; an op `onnxc check` lists as unsupported
# fails the test.
foreach(det fasterrcnn retinanet fcos ssdlite maskrcnn keypointrcnn)
  add_test(NAME detectors_${det}
    COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/detectors/test_detectors.py $<TARGET_FILE:onnxc>
            ${CMAKE_SOURCE_DIR}/models/MANIFEST_detectors.json --only det_${det})
  set_tests_properties(detectors_${det} PROPERTIES TIMEOUT 600)
endforeach()
