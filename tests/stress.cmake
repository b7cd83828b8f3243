# The concurrency stress test (tests/stress/concurrency_stress.c): one session shared by 4 threads and 4 sessions
# of one model, outputs compared bit for bit with a single-threaded run. CI also builds this target alone with
# -DONNXC_SANITIZE_THREAD=ON and runs it under ThreadSanitizer (.ci/run).
add_executable(concurrency_stress ${CMAKE_CURRENT_SOURCE_DIR}/stress/concurrency_stress.c)
target_compile_options(concurrency_stress PRIVATE ${ONNXC_WARN})
target_link_libraries(concurrency_stress PRIVATE onnxc_static Threads::Threads)
add_test(NAME concurrency_stress
         COMMAND concurrency_stress 50 ${CMAKE_SOURCE_DIR}/models/detector_small.onnx
                 ${CMAKE_SOURCE_DIR}/models/mobilenet_blocked.onnx)
set_tests_properties(concurrency_stress PROPERTIES TIMEOUT 600
                     ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
