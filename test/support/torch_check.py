"""The PyTorch side of test/export.test.ts: import a module written by `dlt export
--format torch`, load its snapshot, and run it on IDX images.

    python torch_check.py MODULE.py IMAGES OUT

Writes the logits as little-endian float64 to OUT and prints the module's dtype and
its layer types as JSON.
"""
import importlib.util
import json
import sys

import torch

from idx_images import idx_images

# PyTorch tries NNPACK for some convolutions and, on CPUs NNPACK does not know (seen on
# an AMD EPYC of family 26), prints "Could not initialize NNPACK! Reason: Unsupported
# hardware." to stderr, which the test reads for the module's own complaints. Without
# NNPACK PyTorch computes the same convolutions with its other kernels.
torch.backends.nnpack.set_flags(False)

module_file, images_file, out = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("exported", module_file)
exported = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exported)
model = exported.load()
with torch.no_grad():
    logits = model(torch.from_numpy(idx_images(images_file)))
logits.to(torch.float64).numpy().astype("<f8").tofile(out)
print(
    json.dumps(
        {
            "dtype": str(logits.dtype),
            "torch": torch.__version__,
            "modules": [type(m).__name__ for m in model.children()],
            "training": model.training,
        }
    )
)
