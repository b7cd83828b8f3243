# Compressed .npz inputs (src/inflate.c): archives numpy, zipfile and zlib write (stored, fixed and dynamic
# Huffman blocks) read by `onnxc run` bit for bit, and corrupted / truncated / lying archives refused by name.
add_test(NAME npz_deflate
  COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/npz/test_npz_deflate.py)
set_tests_properties(npz_deflate PROPERTIES ENVIRONMENT "ONNXC=$<TARGET_FILE:onnxc>" TIMEOUT 300)
