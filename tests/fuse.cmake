# Models for test_plan_fuse (the activation fusions of the plan) are committed in tests/fuse/cases/: written by
# tests/fuse/gen_fuse_cases.py (PyTorch float64 expected outputs) at authoring time, since CI has no PyTorch.
# Regenerate with: /usr/bin/python3 tests/fuse/gen_fuse_cases.py tests/fuse/cases
